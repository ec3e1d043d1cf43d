//! Whole IP packets out, a batch per system call: routed through `IPPROTO_RAW` sockets (header included, IPv4 and
//! IPv6), or handed to an interface for a next hop (`super::link`) once the caller has found one.

use core::net::{IpAddr, SocketAddr};
use std::io::IoSlice;

use nix::errno::Errno;
use nix::sys::socket::{sendmmsg, LinkAddr, MsgFlags, MultiHeaders, SockaddrLike, SockaddrStorage};
use socket2::{Domain, Socket, Type};
use std::os::fd::AsRawFd;

use crate::NetError;

/// Packets of one family, each with its destination, written in place.
#[derive(Debug)]
pub struct Batch {
    data: Vec<u8>,
    stride: usize,
    lens: Vec<usize>,
    addrs: Vec<Option<SockaddrStorage>>,
}

impl Batch {
    /// Room for `capacity` packets of at most `stride` bytes.
    pub fn new(capacity: usize, stride: usize) -> Batch {
        Batch { data: vec![0; capacity * stride], stride, lens: Vec::new(), addrs: Vec::new() }
    }

    /// Adds a packet to `dst`, written by `write` into a buffer of `stride` bytes; it returns the length.
    /// Returns `false` (and adds nothing) when the batch is full.
    pub fn push(&mut self, dst: IpAddr, write: impl FnOnce(&mut [u8]) -> usize) -> bool {
        let at = self.lens.len() * self.stride;
        let Some(buf) = self.data.get_mut(at..at + self.stride) else { return false };
        self.lens.push(write(buf));
        self.addrs.push(Some(SockaddrStorage::from(SocketAddr::new(dst, 0))));
        true
    }

    /// Packets in the batch.
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    /// Whether the batch holds no packet.
    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// Empties the batch.
    pub fn clear(&mut self) {
        self.lens.clear();
        self.addrs.clear();
    }

    fn packet(&self, i: usize) -> &[u8] {
        &self.data[i * self.stride..i * self.stride + self.lens[i]]
    }
}

/// What sending a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendOutcome {
    /// Packets the kernel took.
    pub sent: usize,
    /// Packets it refused (no route, a firewall…); the first error is kept.
    pub failed: usize,
    /// The first refusal's error.
    pub error: Option<Errno>,
}

/// Sends whole IPv4 and IPv6 packets, built by the caller, header included.
#[derive(Debug)]
pub struct BulkSender {
    v4: Option<Socket>,
    v6: Option<Socket>,
    headers: MultiHeaders<SockaddrStorage>,
    /// The link-layer way out (see `super::link`), for a family once the caller gave its next hop.
    link: Socket,
    /// Per family (IPv4, IPv6), the next hop's address once given, once per message of the longest batch yet
    /// (`sendmmsg` takes one per message).
    next_hops: [Option<Vec<Option<LinkAddr>>>; 2],
    link_headers: MultiHeaders<LinkAddr>,
}

impl BulkSender {
    /// Opens a header-including raw socket per family wanted, bound to `interface` if given, for batches of up to
    /// `batch` packets.
    pub fn open(v4: bool, v6: bool, interface: Option<&str>, batch: usize) -> Result<BulkSender, NetError> {
        let open = |domain| -> Result<Socket, NetError> {
            let socket = crate::raw::privileged_socket(domain, Type::RAW, libc::IPPROTO_RAW)?;
            if let Some(interface) = interface {
                socket
                    .bind_device(Some(interface.as_bytes()))
                    .map_err(|error| NetError::BadInterface(interface.to_owned(), error))?;
            }
            // A deep send buffer: a batch goes in one call, and the queue absorbs the pacer's bursts.
            let _ = socket.set_send_buffer_size(4 << 20);
            Ok(socket)
        };
        Ok(BulkSender {
            v4: v4.then(|| open(Domain::IPV4)).transpose()?,
            v6: v6.then(|| open(Domain::IPV6)).transpose()?,
            headers: MultiHeaders::preallocate(batch.max(1), None),
            link: super::link::socket()?,
            next_hops: [None, None],
            link_headers: MultiHeaders::preallocate(batch.max(1), None),
        })
    }

    /// From now on, hands the packets of the family `ipv6` says to interface `ifindex`, addressed to the next hop
    /// `mac`, rather than routing each (see `super::link`: as caracal, every packet goes to that next hop).
    pub fn inject(&mut self, ipv6: bool, ifindex: u32, mac: [u8; 6]) -> Result<(), NetError> {
        self.next_hops[usize::from(ipv6)] = Some(vec![Some(super::link::address(ipv6, ifindex, mac)?)]);
        Ok(())
    }

    /// From now on, routes the packets of the family `ipv6` says one by one again (undoes [`BulkSender::inject`]).
    pub fn route(&mut self, ipv6: bool) {
        self.next_hops[usize::from(ipv6)] = None;
    }

    /// Sends every packet of `batch` (all of the family `ipv6` says), as few system calls as the kernel allows.
    pub fn send(&mut self, ipv6: bool, batch: &Batch) -> SendOutcome {
        let slices: Vec<[IoSlice<'_>; 1]> = (0..batch.len()).map(|i| [IoSlice::new(batch.packet(i))]).collect();
        if let Some(to) = &mut self.next_hops[usize::from(ipv6)] {
            if let (Some(&first), true) = (to.first(), to.len() < slices.len()) {
                to.resize(slices.len(), first);
            }
            return send_all(&self.link, &mut self.link_headers, &slices, to);
        }
        match if ipv6 { self.v6.as_ref() } else { self.v4.as_ref() } {
            Some(socket) => send_all(socket, &mut self.headers, &slices, &batch.addrs),
            None => SendOutcome { sent: 0, failed: batch.len(), error: Some(Errno::EAFNOSUPPORT) },
        }
    }
}

/// Sends `slices` on `socket`, each to its address in `to`, in as few calls as the kernel takes them.
fn send_all<S: SockaddrLike + Copy>(
    socket: &Socket,
    headers: &mut MultiHeaders<S>,
    slices: &[[IoSlice<'_>; 1]],
    to: &[Option<S>],
) -> SendOutcome {
    let mut outcome = SendOutcome::default();
    let mut start = 0;
    while start < slices.len() {
        // sendmmsg takes as many as the preallocated headers hold; the loop sends the rest.
        let result = sendmmsg(socket.as_raw_fd(), headers, &slices[start..], &to[start..], [], MsgFlags::empty())
            .map(|results| results.count());
        match result {
            Ok(0) => {}
            Ok(sent) => {
                outcome.sent += sent;
                start += sent;
                continue;
            }
            Err(Errno::EINTR) => continue,
            Err(Errno::ENOBUFS | Errno::EAGAIN) => {
                // The device queue is full: give it a moment rather than spin.
                std::thread::sleep(std::time::Duration::from_micros(50));
                continue;
            }
            Err(errno) => {
                outcome.error.get_or_insert(errno);
            }
        }
        // The message at `start` was refused: count it and go on with the next.
        outcome.failed += 1;
        start += 1;
    }
    outcome
}
