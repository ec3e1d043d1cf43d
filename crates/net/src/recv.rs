//! One `recvmsg(2)` with the ancillary data traceroute needs: the sender, the TTL, and extended errors.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrStorage};

/// What one `recvmsg` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Received {
    /// Bytes read into the buffer.
    pub len: usize,
    /// The sender; for the error queue, the destination of the packet that caused the error.
    pub from: Option<SocketAddr>,
    /// TTL or hop limit of the arriving packet (for the error queue: of the ICMP error).
    pub ttl: Option<u8>,
    /// The arriving packet's destination, where the socket asked for it (`IPV6_RECVPKTINFO`).
    pub to: Option<IpAddr>,
    /// The extended error, when reading the error queue.
    pub error: Option<ExtendedError>,
    /// When it arrived: the kernel's receive timestamp where there is one, else when it was read.
    pub at: Instant,
    /// For a transmit timestamp ([`ExtendedError::is_departure`]), when the packet it returns left, if the
    /// kernel said.
    pub departed: Option<Instant>,
    /// Packets the kernel dropped on this socket (its receive buffer full) before this one was queued, since the
    /// socket was opened (`SO_RXQ_OVFL`; 0 when it said nothing).
    pub dropped: u32,
}

/// Linux's `sock_extended_err` and its offender address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExtendedError {
    /// Where it came from: `SO_EE_ORIGIN_ICMP`, `SO_EE_ORIGIN_ICMP6`, `SO_EE_ORIGIN_LOCAL`…
    pub origin: u8,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub icmp_code: u8,
    /// Extra information: the MTU for Fragmentation Needed and Packet Too Big.
    pub info: u32,
    /// The node that sent the ICMP error.
    pub offender: Option<IpAddr>,
    /// Where the error's RFC 4884 extensions start in the data returned, when it had valid ones.
    pub extensions_at: Option<usize>,
}

impl ExtendedError {
    /// Whether it reports an ICMP or ICMPv6 message (rather than a local error).
    pub(crate) fn is_icmp(&self) -> bool {
        self.origin == libc::SO_EE_ORIGIN_ICMP || self.origin == libc::SO_EE_ORIGIN_ICMP6
    }

    /// Whether it is a transmit timestamp (see [`crate::departure`]) rather than an error.
    pub(crate) fn is_departure(&self) -> bool {
        self.origin == libc::SO_EE_ORIGIN_TIMESTAMPING
    }
}

/// Reads one message, or `None` when nothing is waiting. `error_queue` reads the socket's error queue instead.
pub(crate) fn receive(socket: &impl AsRawFd, buf: &mut [u8], error_queue: bool) -> io::Result<Option<Received>> {
    let mut control = nix::cmsg_space!(
        libc::sock_extended_err,
        libc::sockaddr_in6,
        libc::c_int,
        libc::c_int,
        libc::timespec,
        [libc::timespec; 3],
        u32,
        libc::in6_pktinfo
    );
    let mut iov = [IoSliceMut::new(buf)];
    let mut flags = MsgFlags::MSG_DONTWAIT;
    if error_queue {
        flags |= MsgFlags::MSG_ERRQUEUE;
    }
    let mut result = recvmsg::<SockaddrStorage>(socket.as_raw_fd(), &mut iov, Some(&mut control), flags);
    if !error_queue && matches!(result, Err(errno) if is_latched_icmp_error(errno)) {
        // With IP_RECVERR an ICMP error is also latched as the socket's pending error, which this read just
        // reported and cleared; the error itself waits on the error queue. Read again for data.
        result = recvmsg::<SockaddrStorage>(socket.as_raw_fd(), &mut iov, Some(&mut control), flags);
    }
    let message = match result {
        Ok(message) => message,
        Err(Errno::EAGAIN) => return Ok(None),
        Err(errno) if !error_queue && is_latched_icmp_error(errno) => return Ok(None),
        Err(errno) => return Err(errno.into()),
    };
    let from = message.address.as_ref().and_then(socket_addr);
    let (read_at, wall_now) = clocks_now();
    // The kernel's wall-clock stamp as an Instant, by its age.
    let instant_of = |stamp: nix::sys::time::TimeSpec| {
        let stamp = UNIX_EPOCH + Duration::new(stamp.tv_sec() as u64, stamp.tv_nsec() as u32);
        let age = wall_now.duration_since(stamp).unwrap_or_default();
        read_at.checked_sub(age).unwrap_or(read_at)
    };
    let mut received = Received {
        len: message.bytes,
        from,
        ttl: None,
        to: None,
        error: None,
        at: read_at,
        departed: None,
        dropped: 0,
    };
    for cmsg in message.cmsgs().map_err(io::Error::from)? {
        match cmsg {
            ControlMessageOwned::ScmTimestampns(stamp) => received.at = instant_of(stamp),
            ControlMessageOwned::ScmTimestampsns(stamps) if stamps.system.tv_sec() != 0 => {
                received.departed = Some(instant_of(stamps.system));
            }
            ControlMessageOwned::Ipv4Ttl(ttl) | ControlMessageOwned::Ipv6HopLimit(ttl) => {
                received.ttl = u8::try_from(ttl).ok();
            }
            ControlMessageOwned::Ipv4RecvErr(error, offender) => {
                let offender = offender.map(|sin| IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr))));
                received.error = Some(extended(&error, offender));
            }
            ControlMessageOwned::Ipv6RecvErr(error, offender) => {
                let offender = offender.map(|sin6| IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
                received.error = Some(extended(&error, offender));
            }
            ControlMessageOwned::RxqOvfl(dropped) => received.dropped = dropped,
            ControlMessageOwned::Ipv6PacketInfo(info) => received.to = Some(IpAddr::V6(info.ipi6_addr.s6_addr.into())),
            _ => {}
        }
    }
    if !received.error.is_some_and(|error| error.is_departure()) {
        received.departed = None;
    }
    Ok(Some(received))
}

/// The longest gap between the two monotonic readings around the wall-clock one for the pair to be taken.
const CLOCK_PAIR_GAP: Duration = Duration::from_micros(5);

/// The monotonic and the wall-clock time, read as one moment. The kernel's timestamp is wall-clock time, turned
/// into an [`Instant`] by its age; a preemption between two plain readings would count as age and could place a
/// reply before its probe left. So the wall clock is read between two monotonic readings, again (a few times at
/// most) until they lie close, and paired with their midpoint.
fn clocks_now() -> (Instant, SystemTime) {
    let mut tries = 0;
    loop {
        let before = Instant::now();
        let wall = SystemTime::now();
        let gap = before.elapsed();
        tries += 1;
        if gap <= CLOCK_PAIR_GAP || tries == 4 {
            return (before + gap / 2, wall);
        }
    }
}

/// The errors an ICMP message latches on a socket (see `icmp_err_convert` in Linux).
fn is_latched_icmp_error(errno: Errno) -> bool {
    matches!(
        errno,
        Errno::ECONNREFUSED
            | Errno::EHOSTUNREACH
            | Errno::ENETUNREACH
            | Errno::EPROTO
            | Errno::EMSGSIZE
            | Errno::EHOSTDOWN
            | Errno::ENONET
            | Errno::ENOPROTOOPT
            | Errno::EACCES
            | Errno::EOPNOTSUPP
    )
}

fn extended(error: &libc::sock_extended_err, offender: Option<IpAddr>) -> ExtendedError {
    // With IP_RECVERR_RFC4884, `ee_data` is `struct sock_ee_data_rfc4884 { __u16 len; __u8 flags; __u8 reserved; }`:
    // the offset of the extensions in the data returned (0: none) and SO_EE_RFC4884_FLAG_INVALID (1).
    let [len_0, len_1, flags, _] = error.ee_data.to_ne_bytes();
    let extensions_at = usize::from(u16::from_ne_bytes([len_0, len_1]));
    ExtendedError {
        origin: error.ee_origin,
        icmp_type: error.ee_type,
        icmp_code: error.ee_code,
        info: error.ee_info,
        offender: offender.filter(|addr| !addr.is_unspecified()),
        extensions_at: (extensions_at != 0 && flags & 1 == 0).then_some(extensions_at),
    }
}

/// A socket address from nix's storage, IPv4-mapped IPv6 addresses unmapped.
pub(crate) fn socket_addr(storage: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        return Some(SocketAddr::new(IpAddr::V4(v4.ip()), v4.port()));
    }
    storage.as_sockaddr_in6().map(|v6| SocketAddr::new(IpAddr::V6(v6.ip()), v6.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_with_data(ee_data: u32) -> libc::sock_extended_err {
        libc::sock_extended_err {
            ee_errno: libc::EHOSTUNREACH as u32,
            ee_origin: libc::SO_EE_ORIGIN_ICMP,
            ee_type: 11,
            ee_code: 0,
            ee_pad: 0,
            ee_info: 0,
            ee_data,
        }
    }

    /// `ee_data` as the kernel lays out `struct sock_ee_data_rfc4884` in memory.
    fn rfc4884(len: u16, flags: u8) -> u32 {
        let [a, b] = len.to_ne_bytes();
        u32::from_ne_bytes([a, b, flags, 0])
    }

    #[test]
    fn the_rfc4884_offset_is_read_unless_absent_or_invalid() {
        let at = |ee_data| extended(&error_with_data(ee_data), None).extensions_at;
        assert_eq!(at(rfc4884(100, 0)), Some(100));
        assert_eq!(at(rfc4884(300, 0)), Some(300));
        assert_eq!(at(rfc4884(0, 0)), None);
        assert_eq!(at(rfc4884(100, 1)), None); // SO_EE_RFC4884_FLAG_INVALID
    }

    #[test]
    fn paired_clocks_keep_step_with_each_other() {
        // Two pairs a moment apart: the monotonic and the wall-clock differences agree to well under a
        // millisecond (a pair read across a preemption would not).
        let (instant_a, wall_a) = clocks_now();
        std::thread::sleep(Duration::from_millis(2));
        let (instant_b, wall_b) = clocks_now();
        let monotonic = instant_b - instant_a;
        let wall = wall_b.duration_since(wall_a).expect("the wall clock went on");
        let skew = monotonic.abs_diff(wall);
        assert!(skew < Duration::from_micros(200), "{monotonic:?} against {wall:?}");
    }
}
