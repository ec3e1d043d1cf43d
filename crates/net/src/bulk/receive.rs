//! ICMP and ICMPv6 messages in through raw sockets, a batch per system call, each with the kernel's capture time.

use core::net::IpAddr;
use std::io::{self, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{recvmmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, MultiHeaders, SockaddrStorage};
use socket2::{Domain, Protocol, Socket, Type};

use crate::{recv, sockopt as options, NetError};

/// Messages read per system call.
const BATCH: usize = 256;
/// The pause between reads when the sockets were drained.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(1);
/// Room for one message: more than any ICMP error quoting a probe, with extensions.
const MESSAGE: usize = 1500;
/// The receive buffer asked for (as caracal's 64 MiB capture buffer), so that a burst of replies is not dropped.
const RECEIVE_BUFFER: usize = 64 << 20;

/// One message as read.
#[derive(Debug, Clone, Copy)]
pub struct Capture<'a> {
    /// IPv4: the whole packet, header included. IPv6: the ICMPv6 message.
    pub bytes: &'a [u8],
    /// Whether it came through the IPv6 socket.
    pub ipv6: bool,
    /// Its sender.
    pub from: IpAddr,
    /// Its hop limit (IPv6; for IPv4 it is in the header).
    pub hop_limit: Option<u8>,
    /// When the kernel received it, in microseconds since the Unix epoch.
    pub micros: u64,
}

/// Raw ICMP (and ICMPv6) sockets that read every ICMP message this host receives.
#[derive(Debug)]
pub struct BulkReceiver {
    sockets: Vec<(Socket, bool)>,
}

impl BulkReceiver {
    /// Opens the listening sockets for the families wanted.
    pub fn open(v4: bool, v6: bool) -> Result<BulkReceiver, NetError> {
        let mut sockets = Vec::new();
        for (wanted, ipv6) in [(v4, false), (v6, true)] {
            if !wanted {
                continue;
            }
            let (domain, protocol) =
                if ipv6 { (Domain::IPV6, libc::IPPROTO_ICMPV6) } else { (Domain::IPV4, libc::IPPROTO_ICMP) };
            let socket = raw_socket(domain, protocol)?;
            socket.set_nonblocking(true).map_err(NetError::io("making the socket non-blocking"))?;
            options::enable_timestamps(&socket).map_err(NetError::io("asking for timestamps"))?;
            if ipv6 {
                setsockopt(&socket, sockopt::Ipv6RecvHopLimit, &true)
                    .map_err(|errno| NetError::io("asking for hop limits")(errno.into()))?;
            }
            // Above net.core.rmem_max only with the privilege raw sockets already need; else the kernel's cap.
            if setsockopt(&socket, sockopt::RcvBufForce, &RECEIVE_BUFFER).is_err() {
                let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
            }
            sockets.push((socket, ipv6));
        }
        Ok(BulkReceiver { sockets })
    }

    /// Reads messages, handing each to `on_message`, until `stop` is set; then reads what is left and returns.
    /// `on_drained` is called whenever the sockets were read empty (to flush what was written of them, say).
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        mut on_message: impl FnMut(Capture<'_>),
        mut on_drained: impl FnMut(),
    ) -> io::Result<()> {
        let mut buffers = vec![[0u8; MESSAGE]; BATCH];
        // Headers per socket: the kernel shortens each header's address length to what it wrote, and nix never
        // restores it, so an IPv6 read through headers an IPv4 read used would get its addresses cut.
        let mut headers: Vec<MultiHeaders<SockaddrStorage>> = self
            .sockets
            .iter()
            .map(|_| MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(libc::timespec, libc::c_int))))
            .collect();
        loop {
            let stopping = stop.load(Ordering::Acquire);
            let mut read = 0;
            for ((socket, ipv6), headers) in
                self.sockets.iter().zip(&mut headers).filter(|((socket, _), _)| readable(socket))
            {
                read += drain(socket, *ipv6, &mut buffers, headers, &mut on_message)?;
            }
            if read < BATCH {
                on_drained();
            }
            if stopping {
                return Ok(());
            }
            // Batched like caracal's capture (pcap's buffer timeout): rather than wake for every reply, read what
            // gathered in the meantime. The kernel's timestamps keep the RTTs exact; the buffer holds the backlog.
            if read < BATCH {
                std::thread::sleep(PAUSE);
            }
        }
    }
}

/// Whether `socket` has a message waiting (or an error to report): a `poll` is cheaper than a read that finds
/// nothing, which sets up a whole batch of headers first.
fn readable(socket: &Socket) -> bool {
    let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::ZERO).is_err() || fds[0].revents().is_none_or(|events| !events.is_empty())
}

/// Reads every message waiting on `socket`; returns how many.
fn drain(
    socket: &Socket,
    ipv6: bool,
    buffers: &mut [[u8; MESSAGE]],
    headers: &mut MultiHeaders<SockaddrStorage>,
    on_message: &mut impl FnMut(Capture<'_>),
) -> io::Result<usize> {
    let mut total = 0;
    loop {
        let mut slices: Vec<[IoSliceMut<'_>; 1]> = buffers.iter_mut().map(|b| [IoSliceMut::new(&mut b[..])]).collect();
        let results = match recvmmsg(socket.as_raw_fd(), headers, slices.iter_mut(), MsgFlags::MSG_DONTWAIT, None) {
            Ok(results) => results,
            Err(Errno::EAGAIN | Errno::EINTR) => return Ok(total),
            Err(errno) => return Err(errno.into()),
        };
        let mut count = 0;
        for message in results {
            count += 1;
            let Some(from) = message.address.as_ref().and_then(recv::socket_addr).map(|a| a.ip()) else { continue };
            let mut micros = None;
            let mut hop_limit = None;
            if let Ok(cmsgs) = message.cmsgs() {
                for cmsg in cmsgs {
                    match cmsg {
                        ControlMessageOwned::ScmTimestampns(t) => {
                            micros = Some(t.tv_sec() as u64 * 1_000_000 + t.tv_nsec() as u64 / 1_000);
                        }
                        ControlMessageOwned::Ipv6HopLimit(h) => hop_limit = u8::try_from(h).ok(),
                        _ => {}
                    }
                }
            }
            let micros = micros.unwrap_or_else(now_micros);
            if let Some(bytes) = message.iovs().next() {
                on_message(Capture { bytes, ipv6, from, hop_limit, micros });
            }
        }
        total += count;
        if count < BATCH {
            return Ok(total);
        }
    }
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// A raw socket, or the error that says raw sockets need privileges.
pub(super) fn raw_socket(domain: Domain, protocol: i32) -> Result<Socket, NetError> {
    Socket::new(domain, Type::RAW, Some(Protocol::from(protocol))).map_err(|error| match error.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => NetError::RawNotPermitted,
        _ => NetError::io("opening a raw socket")(error),
    })
}
