//! Unprivileged TCP probes: one non-blocking `connect()` per probe with its TTL set. A Time Exceeded lands on that
//! socket's error queue; a completed connection means a SYN-ACK, a refused one a RST, both from the destination.

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::VecDeque;
use std::io;
use std::os::fd::AsFd;

use std::time::Instant;

use engine::{Probe, ProbeTransport, QuotedProbe, Reply, ReplyKind, TcpAnswer, TraceConfig};
use socket2::{Domain, Protocol, Socket, Type};

use crate::{errqueue, recv, sockopt, Descriptor, NetError, Prober, Route, SocketOptions};

/// The first source port of TCP probes, which take consecutive ports from there: a random one in the upper
/// range, with room for the ports a trace moves through.
pub(crate) fn first_source_port() -> Result<u16, NetError> {
    crate::random::in_range(32_768, (65_535 - engine::probe::PORT_WINDOW) as u16)
}

/// How many pending connections are looked at after each connect.
const LOOK_AT: usize = 64;

/// Whether a connection attempt has come to an end.
enum Outcome {
    /// Still waiting for an answer.
    Pending,
    /// Over, with the reply it stands for (and when it came) if any.
    Done(Option<(Reply, Instant)>),
}

/// A connection attempt that is one probe.
struct Attempt {
    socket: Socket,
    local: SocketAddr,
    remote: SocketAddr,
    sent_at: Instant,
}

/// Sends TCP SYNs through ordinary sockets: a socket per probe, so these are never shared between traces.
pub(crate) struct TcpProber {
    ipv6: bool,
    options: SocketOptions,
    /// How long an unanswered attempt is kept: the engine has given its probe up by then.
    give_up_after: Duration,
    /// In the order their SYNs left.
    attempts: VecDeque<Attempt>,
    /// Answers found while sending, for the next [`Prober::receive`].
    answered: Vec<(Reply, Instant)>,
    /// Where the attempts that ended are noted while sending (kept for its allocation).
    ended: Vec<usize>,
    buf: Vec<u8>,
}

impl TcpProber {
    /// Prepares TCP probing for `config`; returns it with the first source port.
    pub(crate) fn open(config: &TraceConfig, options: &SocketOptions) -> Result<(Self, u16), NetError> {
        // Every attempt gets its own socket with the user's options: try them once here, so that one the system
        // refuses is reported now rather than losing every probe.
        let domain = if config.target.is_ipv6() { Domain::IPV6 } else { Domain::IPV4 };
        let socket =
            Socket::new(domain, Type::STREAM, Some(Protocol::TCP)).map_err(NetError::io("opening a TCP socket"))?;
        sockopt::apply(&socket, config.target.is_ipv6(), options)?;
        let prober = TcpProber {
            ipv6: config.target.is_ipv6(),
            options: options.clone(),
            give_up_after: config.wait.max + Duration::from_secs(1),
            attempts: VecDeque::new(),
            answered: Vec::new(),
            ended: Vec::new(),
            buf: vec![0; 512],
        };
        let port = match options.source_port {
            Some(port) => port,
            None => first_source_port()?,
        };
        Ok((prober, port))
    }

    /// Starts the connection attempt that is `probe` along `route`, returning it and when the SYN left.
    fn connect(&self, probe: &Probe, route: Route) -> io::Result<(Attempt, Instant)> {
        let ProbeTransport::Tcp { src_port, dst_port, .. } = probe.transport else {
            return Err(io::ErrorKind::InvalidInput.into());
        };
        let domain = if self.ipv6 { Domain::IPV6 } else { Domain::IPV4 };
        let socket = Socket::new(domain, Type::STREAM.nonblocking(), Some(Protocol::TCP))?;
        sockopt::apply(&socket, self.ipv6, &self.options).map_err(io::Error::other)?;
        sockopt::enable_error_queue(&socket, self.ipv6)?;
        sockopt::set_ttl(&socket, self.ipv6, probe.ttl)?;
        // Close with a reset, not a FIN handshake, once the answer is known.
        socket.set_linger(Some(Duration::ZERO))?;
        socket.set_reuse_address(true)?;
        let local = SocketAddr::new(route.source, src_port);
        socket.bind(&local.into())?;
        let remote = sockopt::destination(route.target, dst_port, self.options.flow_label);
        let sent_at = Instant::now();
        match socket.connect(&remote.into()) {
            Ok(()) => {}
            Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(error) => return Err(error),
        }
        Ok((Attempt { socket, local, remote, sent_at }, sent_at))
    }

    /// Takes the answers of attempts that ended by now (their time is when they are found: a connection's end
    /// carries no kernel timestamp).
    fn collect_ended(&mut self) -> io::Result<()> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        // The oldest at most (those whose answers are due): a look per connect stays cheap however many are in
        // flight; the rest are looked at by `receive`.
        let mut fds: Vec<PollFd<'_>> = self
            .attempts
            .iter()
            .take(LOOK_AT)
            .map(|attempt| PollFd::new(attempt.socket.as_fd(), PollFlags::POLLOUT))
            .collect();
        poll(&mut fds, PollTimeout::ZERO).map_err(io::Error::from)?;
        self.ended.clear();
        self.ended.extend(
            fds.iter().enumerate().filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty())).map(|(i, _)| i),
        );
        drop(fds);
        // From the last, so that removing one leaves the indices still to visit in place; near the front, each
        // removal moves few others.
        for &index in self.ended.iter().rev() {
            if let Outcome::Done(reply) = self.attempts[index].outcome(&mut self.buf)? {
                self.answered.extend(reply);
                self.attempts.remove(index);
            }
        }
        Ok(())
    }
}

impl Attempt {
    /// What became of this attempt, if anything yet.
    fn outcome(&self, buf: &mut [u8]) -> io::Result<Outcome> {
        if let Some(received) = recv::receive(&self.socket, buf, true)? {
            // The kernel returns the quoted TCP header: ports, then the sequence number.
            let seq = buf[..received.len].get(4..8).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            let quoted = QuotedProbe::Tcp { src_port: self.local.port(), dst_port: self.remote.port(), seq };
            let received = recv::Received { from: Some(self.remote), ..received };
            let reply = errqueue::reply(&received, &buf[..received.len], self.local, quoted);
            return Ok(Outcome::Done(reply.map(|reply| (reply, received.at))));
        }
        let answer = |reset| {
            let kind = ReplyKind::Tcp(TcpAnswer {
                src_port: self.remote.port(),
                dst_port: self.local.port(),
                reset,
                ack: None,
            });
            Some((Reply { from: self.remote.ip(), ttl: None, size: None, kind }, Instant::now()))
        };
        Ok(match self.socket.take_error()? {
            Some(error) if error.raw_os_error() == Some(libc::ECONNREFUSED) => Outcome::Done(answer(true)),
            // A failure without an ICMP error to show for it (a local one): the probe will time out.
            Some(_) => Outcome::Done(None),
            None if self.socket.peer_addr().is_ok() => Outcome::Done(answer(false)),
            None => Outcome::Pending,
        })
    }
}

impl Prober for TcpProber {
    fn send(&mut self, probe: &Probe, route: Route) -> io::Result<Instant> {
        let (attempt, sent_at) = self.connect(probe, route)?;
        self.attempts.push_back(attempt);
        // Setting up a connection takes long enough that answers to a burst's first probes come while its last
        // are sent: look now, so that their RTTs do not include the rest of the burst. The SYN is out whatever this
        // finds (a signal interrupting the look, say): what it misses, the next `receive` finds.
        let _ = self.collect_ended();
        Ok(sent_at)
    }

    fn descriptors(&self) -> Vec<Descriptor<'_>> {
        self.attempts.iter().map(|attempt| Descriptor::writable(attempt.socket.as_fd())).collect()
    }

    fn receive(&mut self, replies: &mut Vec<(Reply, Instant)>) -> io::Result<()> {
        replies.append(&mut self.answered);
        let (buf, give_up_after) = (&mut self.buf, self.give_up_after);
        // After a failure, the attempts not looked at yet stay as they are.
        let mut failed = None;
        self.attempts.retain(|attempt| {
            if failed.is_some() {
                return true;
            }
            match attempt.outcome(buf) {
                // Closing it stops the kernel's SYN retransmissions and frees the descriptor.
                Ok(Outcome::Pending) => attempt.sent_at.elapsed() <= give_up_after,
                Ok(Outcome::Done(reply)) => {
                    replies.extend(reply);
                    false
                }
                Err(error) => {
                    failed = Some(error);
                    true
                }
            }
        });
        failed.map_or(Ok(()), Err)
    }
}
