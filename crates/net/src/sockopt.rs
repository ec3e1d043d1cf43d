//! The few socket options neither socket2 nor nix wraps, and shared socket set-up.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Instant;

use nix::sys::socket::{setsockopt, sockopt};
use socket2::Socket;

use crate::{NetError, SocketOptions};

/// Sets an integer socket option.
fn set_int(socket: &Socket, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    set_option(socket, level, name, &value)
}

/// Sets a socket option whose value is an integer or a plain C structure (`unsafe`, as `get_option` and the packet
/// ring's mapping in `bulk::ring::sys`).
#[allow(unsafe_code)]
pub(crate) fn set_option<T: Copy>(socket: &Socket, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` is a live `T` for the duration of the call and its exact size is passed; the fd is open
    // (borrowed from `socket`). setsockopt only reads those bytes.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            core::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A value the kernel may fill in whole when a socket option is read: an integer or a C structure of integers.
///
/// # Safety
/// Every bit pattern of `Self`'s size is a valid `Self` (no references, enums, `bool`s or padding).
#[allow(unsafe_code)]
pub(crate) unsafe trait Plain: Copy {}

// SAFETY: an integer.
#[allow(unsafe_code)]
unsafe impl Plain for libc::c_int {}

// SAFETY: three `u32`s, no padding.
#[allow(unsafe_code)]
unsafe impl Plain for libc::tpacket_stats_v3 {}

/// Reads a socket option whose value is an integer or a plain C structure (`unsafe`).
#[allow(unsafe_code)]
pub(crate) fn get_option<T: Plain>(socket: &Socket, level: libc::c_int, name: libc::c_int) -> io::Result<T> {
    let mut value = core::mem::MaybeUninit::<T>::zeroed();
    let mut len = core::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` and `len` are live locals; the kernel writes at most `len` bytes into `value` and the
    // actual length into `len`. The fd is open (borrowed from `socket`).
    let rc = unsafe { libc::getsockopt(socket.as_raw_fd(), level, name, value.as_mut_ptr().cast(), &mut len) };
    if rc == 0 {
        // SAFETY: `value` was zeroed and the kernel wrote bytes into it at most; any bytes are a valid `T` (`Plain`).
        Ok(unsafe { value.assume_init() })
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The path MTU the kernel knows from `source` to `target` (the route's MTU when nothing was learned).
pub(crate) fn path_mtu(source: core::net::IpAddr, target: core::net::IpAddr) -> io::Result<u32> {
    let domain = if target.is_ipv6() { socket2::Domain::IPV6 } else { socket2::Domain::IPV4 };
    let socket = Socket::new(domain, socket2::Type::DGRAM, None)?;
    socket.bind(&core::net::SocketAddr::new(source, 0).into())?;
    socket.connect(&core::net::SocketAddr::new(target, 9).into())?;
    let mtu = if target.is_ipv6() {
        get_option::<libc::c_int>(&socket, libc::IPPROTO_IPV6, libc::IPV6_MTU)?
    } else {
        get_option::<libc::c_int>(&socket, libc::IPPROTO_IP, libc::IP_MTU)?
    };
    u32::try_from(mtu).map_err(|_| io::ErrorKind::InvalidData.into())
}

/// Don't Fragment on (and ignore the path MTU cache: probe) or off (let routers fragment), as traceroute(8) does.
pub(crate) fn set_dont_fragment(socket: &Socket, ipv6: bool, on: bool) -> io::Result<()> {
    if ipv6 {
        let value = if on { libc::IPV6_PMTUDISC_PROBE } else { libc::IPV6_PMTUDISC_DONT };
        set_int(socket, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER, value)
    } else {
        let value = if on { libc::IP_PMTUDISC_PROBE } else { libc::IP_PMTUDISC_DONT };
        set_int(socket, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, value)
    }
}

/// Asks for ICMP errors on the error queue and for the TTL (hop limit) of what arrives.
pub(crate) fn enable_error_queue(socket: &Socket, ipv6: bool) -> io::Result<()> {
    if ipv6 {
        setsockopt(socket, sockopt::Ipv6RecvErr, &true)?;
        setsockopt(socket, sockopt::Ipv6RecvHopLimit, &true)?;
    } else {
        setsockopt(socket, sockopt::Ipv4RecvErr, &true)?;
        setsockopt(socket, sockopt::Ipv4RecvTtl, &true)?;
    }
    // Where the error's RFC 4884 extensions (MPLS labels) start in what the error queue returns (Linux 5.9; an
    // older kernel refuses the option and the extensions stay unknown, as before).
    let (level, name) =
        if ipv6 { (libc::IPPROTO_IPV6, IPV6_RECVERR_RFC4884) } else { (libc::IPPROTO_IP, IP_RECVERR_RFC4884) };
    let _ = set_int(socket, level, name, 1);
    enable_timestamps(socket)
}

/// `IP_RECVERR_RFC4884` and `IPV6_RECVERR_RFC4884` from `<linux/in.h>` and `<linux/in6.h>` (not in libc).
const IP_RECVERR_RFC4884: libc::c_int = 26;
const IPV6_RECVERR_RFC4884: libc::c_int = 31;

/// Asks for the kernel's receive timestamps, so that RTTs do not include the time to wake up and read.
pub(crate) fn enable_timestamps(socket: &Socket) -> io::Result<()> {
    Ok(setsockopt(socket, sockopt::ReceiveTimestampns, &true)?)
}

/// The receive buffer for up to `in_flight` probes' replies and as many strays besides — the kernel counts a
/// packet's whole buffer (4 KiB is generous for a reply), not its bytes — and no less than 2 MiB, room for a
/// few thousand packets under a flood while the loop is busy. (Memory is taken only as packets wait.)
pub(crate) fn receive_buffer_for(in_flight: usize) -> usize {
    in_flight.saturating_mul(2 * 4096).max(2 << 20)
}

/// Readies a socket to receive replies: the kernel's timestamps, its drop counter on every packet
/// (`SO_RXQ_OVFL`), and a receive buffer of at least `buffer` bytes — past the system's limit
/// (`net.core.rmem_max`) where allowed (`SO_RCVBUFFORCE`, `CAP_NET_ADMIN`), else up to it.
pub(crate) fn prepare_receiving(socket: &Socket, buffer: usize) -> io::Result<()> {
    enable_timestamps(socket)?;
    setsockopt(socket, sockopt::RxqOvfl, &1)?;
    if socket.recv_buffer_size()? < buffer {
        // The kernel doubles what it is given (room for its bookkeeping) and caps SO_RCVBUF silently.
        let asked = buffer / 2;
        if setsockopt(socket, sockopt::RcvBufForce, &asked).is_err() {
            socket.set_recv_buffer_size(asked)?;
        }
    }
    Ok(())
}

/// Sends only to hosts on an attached network (`-r`, `SO_DONTROUTE`).
pub(crate) fn set_dont_route(socket: &Socket) -> io::Result<()> {
    set_int(socket, libc::SOL_SOCKET, libc::SO_DONTROUTE, 1)
}

/// Sets the TTL (hop limit) for the next send.
pub(crate) fn set_ttl(socket: &Socket, ipv6: bool, ttl: u8) -> io::Result<()> {
    if ipv6 {
        socket.set_unicast_hops_v6(u32::from(ttl))
    } else {
        socket.set_ttl_v4(u32::from(ttl))
    }
}

/// Applies the user's options that concern every sending socket: interface, TOS, mark, flow label, routing,
/// fragmentation.
pub(crate) fn apply(socket: &Socket, ipv6: bool, options: &SocketOptions) -> Result<(), NetError> {
    if let Some(mark) = options.fwmark {
        if crate::lent_by_setuid() {
            // CAP_NET_RAW would be enough for the kernel; the user who ran the setuid copy has neither.
            let refused = io::Error::from(io::ErrorKind::PermissionDenied);
            return Err(NetError::io("--fwmark needs CAP_NET_ADMIN, which a setuid install does not lend")(refused));
        }
        socket.set_mark(mark).map_err(NetError::io("setting the firewall mark (--fwmark needs CAP_NET_ADMIN)"))?;
    }
    if ipv6 && options.flow_label.is_some() {
        // The label then comes from each destination address (see `destination`).
        set_int(socket, libc::IPPROTO_IPV6, libc::IPV6_FLOWINFO_SEND, 1)
            .map_err(NetError::io("setting the flow label"))?;
    }
    if options.dont_route {
        set_dont_route(socket).map_err(NetError::io("bypassing routing"))?;
    }
    if let Some(interface) = &options.interface {
        socket
            .bind_device(Some(interface.as_bytes()))
            .map_err(|error| NetError::BadInterface(interface.clone(), error))?;
    }
    if let Some(tos) = options.tos {
        let result = if ipv6 { socket.set_tclass_v6(u32::from(tos)) } else { socket.set_tos_v4(u32::from(tos)) };
        result.map_err(NetError::io("setting the type of service"))?;
    }
    set_dont_fragment(socket, ipv6, options.dont_fragment).map_err(NetError::io("setting Don't Fragment"))
}

/// The address probes to `target` and `port` are sent to: for IPv6 with the user's flow label (`-l`), which the
/// kernel takes from there.
pub(crate) fn destination(target: core::net::IpAddr, port: u16, flow_label: Option<u32>) -> core::net::SocketAddr {
    match (target, flow_label) {
        // `sin6_flowinfo` is in network byte order; the address carries its bytes as they are.
        (core::net::IpAddr::V6(ip), Some(label)) => core::net::SocketAddrV6::new(ip, port, label.to_be(), 0).into(),
        _ => core::net::SocketAddr::new(target, port),
    }
}

/// Sends a datagram. With `IP_RECVERR`, an ICMP error that arrived for an earlier probe is also latched as the
/// socket's pending error, and the next send fails with it (on loopback even within the previous send): the error
/// itself is read from the error queue, so the send is simply tried once more.
/// Returns when the probe left.
pub(crate) fn send_to(socket: &Socket, bytes: &[u8], to: &socket2::SockAddr) -> io::Result<Instant> {
    send_retrying(|| socket.send_to(bytes, to))
}

/// Like [`send_to`], from address `from` (`IP_PKTINFO` / `IPV6_PKTINFO`), for a socket bound to the wildcard
/// address: every probe leaves from the source the trace was set up for, whatever the routing says per packet.
pub(crate) fn send_from(
    socket: &Socket,
    bytes: &[u8],
    to: core::net::SocketAddr,
    from: core::net::IpAddr,
) -> io::Result<Instant> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrIn, SockaddrIn6};
    let payload = [io::IoSlice::new(bytes)];
    let fd = socket.as_raw_fd();
    match (to, from) {
        (core::net::SocketAddr::V4(to), core::net::IpAddr::V4(from)) => {
            let info = libc::in_pktinfo {
                ipi_ifindex: 0,
                ipi_spec_dst: libc::in_addr { s_addr: u32::from(from).to_be() },
                ipi_addr: libc::in_addr { s_addr: 0 },
            };
            let to = SockaddrIn::from(to);
            send_retrying(|| {
                sendmsg(fd, &payload, &[ControlMessage::Ipv4PacketInfo(&info)], MsgFlags::empty(), Some(&to))
                    .map_err(io::Error::from)
            })
        }
        (core::net::SocketAddr::V6(to), core::net::IpAddr::V6(from)) => {
            // A link-local target names its interface; the source must leave by it too.
            let info =
                libc::in6_pktinfo { ipi6_addr: libc::in6_addr { s6_addr: from.octets() }, ipi6_ifindex: to.scope_id() };
            let to = SockaddrIn6::from(to);
            send_retrying(|| {
                sendmsg(fd, &payload, &[ControlMessage::Ipv6PacketInfo(&info)], MsgFlags::empty(), Some(&to))
                    .map_err(io::Error::from)
            })
        }
        _ => Err(io::ErrorKind::InvalidInput.into()),
    }
}

/// How many times a send is tried again after a failure that may be a latched ICMP error: each failure clears one,
/// but the replies to earlier probes keep latching new ones (a lab test lost a probe as `* !E` to two in a row).
const SEND_RETRIES: usize = 3;

/// Runs `send`, and again (up to [`SEND_RETRIES`] times) while it fails with anything but "would block" (a latched
/// ICMP error).
fn send_retrying(mut send: impl FnMut() -> io::Result<usize>) -> io::Result<Instant> {
    let mut tries = 0;
    loop {
        let at = Instant::now();
        match send() {
            Ok(_) => return Ok(at),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock || tries == SEND_RETRIES => return Err(error),
            Err(_) => tries += 1,
        }
    }
}

/// The wildcard address of a family.
pub(crate) fn unspecified(ipv6: bool) -> core::net::IpAddr {
    if ipv6 {
        core::net::Ipv6Addr::UNSPECIFIED.into()
    } else {
        core::net::Ipv4Addr::UNSPECIFIED.into()
    }
}

/// The socket's bound address.
pub(crate) fn local_addr(socket: &Socket) -> Result<core::net::SocketAddr, NetError> {
    socket.local_addr().map_err(NetError::io("reading the local address"))?.as_socket().ok_or(NetError::io(
        "reading the local address",
    )(
        io::ErrorKind::InvalidData.into(),
    ))
}

/// Which address a datagram socket is bound to when the user named no source (`-s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bind {
    /// The trace's source address.
    Source,
    /// The wildcard address: the kernel hands an ICMP error about a UDP probe to the socket bound to the quoted
    /// source address and port, and a NAT that does not translate quotes back leaves its own address there.
    /// (Ping sockets are found by identifier and the error's own destination, so they need not.)
    Wildcard,
}

/// Readies a datagram socket (UDP or ping) for probing: the user's options, the error queue, non-blocking, bound
/// as `bind` says (to the user's `-s` address, if any) on the user's `--sport` or a port of the kernel's choosing.
/// Returns `source` with that port: the address probes leave from.
pub(crate) fn prepare_datagram(
    socket: &Socket,
    source: Option<core::net::IpAddr>,
    options: &SocketOptions,
    bind: Bind,
) -> Result<core::net::SocketAddr, NetError> {
    let ipv6 = source.is_some_and(|source| source.is_ipv6());
    apply(socket, ipv6, options)?;
    enable_error_queue(socket, ipv6).map_err(NetError::io("enabling the error queue"))?;
    socket.set_nonblocking(true).map_err(NetError::io("making the socket non-blocking"))?;
    let source = source.ok_or(NetError::io("binding")(io::ErrorKind::InvalidInput.into()))?;
    let port = options.source_port.unwrap_or(0);
    match (options.source, bind) {
        (None, Bind::Wildcard) => socket
            .bind(&core::net::SocketAddr::new(unspecified(ipv6), port).into())
            .map_err(NetError::io("binding a UDP port"))?,
        _ => socket
            .bind(&core::net::SocketAddr::new(source, port).into())
            .map_err(|error| NetError::BadSource(source, error))?,
    }
    Ok(core::net::SocketAddr::new(source, local_addr(socket)?.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A send that fails with a latched error `failures` times, then succeeds: how many calls, and the result.
    fn latched(failures: usize) -> (usize, io::Result<Instant>) {
        let mut calls = 0;
        let result = send_retrying(|| {
            calls += 1;
            if calls <= failures {
                Err(io::Error::from_raw_os_error(libc::ECONNREFUSED))
            } else {
                Ok(60)
            }
        });
        (calls, result)
    }

    #[test]
    fn latched_errors_in_a_row_do_not_lose_the_probe() {
        assert_eq!(latched(0).0, 1);
        let (calls, result) = latched(2);
        assert!(result.is_ok() && calls == 3, "{calls} {result:?}");
        let (calls, result) = latched(SEND_RETRIES + 1);
        assert!(result.is_err() && calls == SEND_RETRIES + 1, "a send that keeps failing is given up");
    }

    #[test]
    fn would_block_is_not_tried_again() {
        let mut calls = 0;
        let result = send_retrying(|| {
            calls += 1;
            Err(io::ErrorKind::WouldBlock.into())
        });
        assert!(result.is_err() && calls == 1);
    }
}
