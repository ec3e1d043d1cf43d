//! Where the kernel sends packets for a destination — the outgoing interface, the gateway and the next hop's
//! Ethernet address — as a sender at the link layer needs it. Asked over rtnetlink, which needs no privilege.

use core::net::{IpAddr, SocketAddr};
use std::io;
use std::time::Duration;

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_REQUEST};
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::neighbour::NeighbourState::{Delay, Permanent, Probe, Reachable, Stale};
use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteType, RouteVia};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use socket2::{Domain, Type};

use crate::NetError;

/// Where the kernel sends packets for a destination: its interface and next hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// The outgoing interface's index.
    pub ifindex: u32,
    /// The gateway, or `None` when the destination is on the link (or local).
    pub gateway: Option<IpAddr>,
    /// The next hop's (the gateway's, else the destination's) link-layer address.
    pub link: LinkAddress,
}

/// What is known of a next hop's link-layer address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAddress {
    /// The interface is not Ethernet (`ARPHRD_ETHER`): loopback, TUN, a tunnel.
    NotEthernet,
    /// The neighbour table has no usable entry for it (yet): none, or one neither REACHABLE, STALE, DELAY, PROBE
    /// nor PERMANENT.
    Unresolved,
    /// Its Ethernet address.
    Ethernet([u8; 6]),
}

/// Asks the kernel (rtnetlink: RTM_GETROUTE for `dst`, from `source` if given, out of `interface` if given; then
/// RTM_GETNEIGH for the next hop on that interface) where packets for `dst` go. Sends nothing on the network.
///
/// Fails with [`NetError::NoRoute`] when the routing table has no way to `dst` (or an unreachable or prohibit
/// route; a blackhole route is an I/O error, `EINVAL`), [`NetError::BadSource`] when `source` is not an address of this host of `dst`'s IP version,
/// and [`NetError::BadInterface`] when there is no such interface.
pub fn next_hop(dst: IpAddr, source: Option<IpAddr>, interface: Option<&str>) -> Result<NextHop, NetError> {
    if let Some(source) = source {
        check_source(source, dst).map_err(|error| NetError::BadSource(source, error))?;
    }
    let oif = interface
        .map(|name| {
            nix::net::if_::if_nametoindex(name).map_err(|errno| NetError::BadInterface(name.to_owned(), errno.into()))
        })
        .transpose()?;
    let mut rtnetlink = Rtnetlink::open().map_err(NetError::io("opening a netlink socket (NETLINK_ROUTE)"))?;
    let (ifindex, gateway) = rtnetlink.route(dst, source, oif)?;
    let ethernet = rtnetlink.ethernet(ifindex).map_err(NetError::io("asking the kernel for the interface's type"))?;
    let link = if ethernet {
        let what = "asking the kernel for the next hop's Ethernet address (RTM_GETNEIGH)";
        match rtnetlink.neighbour(gateway.unwrap_or(dst), ifindex).map_err(NetError::io(what))? {
            Some(mac) => LinkAddress::Ethernet(mac),
            None => LinkAddress::Unresolved,
        }
    } else {
        LinkAddress::NotEthernet
    };
    Ok(NextHop { ifindex, gateway, link })
}

/// Whether `source` can send to `dst`: of its IP version, and an address of this host (the kernel's route from a
/// foreign address is no route at all for IPv4, and a route nothing can use for IPv6).
fn check_source(source: IpAddr, dst: IpAddr) -> io::Result<()> {
    if source.is_ipv6() != dst.is_ipv6() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{dst} is of the other IP version")));
    }
    let address = SocketAddr::new(source, 0);
    socket2::Socket::new(Domain::for_address(address), Type::DGRAM, None)?.bind(&address.into())
}

/// How long the kernel may take to answer (it answers at once: this only bounds the unexpected).
const TIMEOUT: Duration = Duration::from_secs(2);

/// The largest answer read: a link's attributes are the longest, a few kilobytes.
const ANSWER_LEN: usize = 64 * 1024;

/// A netlink socket that asks the routing subsystem one question at a time.
struct Rtnetlink {
    socket: Socket,
    sequence: u32,
    answer: Vec<u8>,
}

impl Rtnetlink {
    fn open() -> io::Result<Rtnetlink> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&netlink_sys::SocketAddr::new(0, 0))?;
        socket2::SockRef::from(&socket).set_read_timeout(Some(TIMEOUT))?;
        Ok(Rtnetlink { socket, sequence: 0, answer: Vec::with_capacity(ANSWER_LEN) })
    }

    /// The outgoing interface and the gateway of the route to `dst`.
    fn route(
        &mut self,
        dst: IpAddr,
        source: Option<IpAddr>,
        oif: Option<u32>,
    ) -> Result<(u32, Option<IpAddr>), NetError> {
        const WHAT: &str = "asking the kernel for the route (RTM_GETROUTE)";
        let mut request = RouteMessage::default();
        request.header.address_family = family(dst);
        request.header.destination_prefix_length = bits(dst);
        request.attributes.push(RouteAttribute::Destination(dst.into()));
        if let Some(source) = source {
            request.header.source_prefix_length = bits(source);
            request.attributes.push(RouteAttribute::Source(source.into()));
        }
        request.attributes.extend(oif.map(RouteAttribute::Oif));
        let route = match self.ask(RouteNetlinkMessage::GetRoute(request)) {
            Ok(RouteNetlinkMessage::NewRoute(route)) => route,
            Ok(_) => return Err(NetError::io(WHAT)(unexpected())),
            Err(error) => {
                return Err(match error.raw_os_error() {
                    // EACCES: a prohibit route.
                    Some(libc::ENETUNREACH | libc::EHOSTUNREACH | libc::EACCES) => NetError::NoRoute(dst),
                    _ => NetError::io(WHAT)(error),
                });
            }
        };
        if matches!(route.header.kind, RouteType::Unreachable | RouteType::Prohibit | RouteType::BlackHole) {
            return Err(NetError::NoRoute(dst));
        }
        let (mut ifindex, mut gateway) = (None, None);
        for attribute in route.attributes {
            match attribute {
                RouteAttribute::Oif(index) => ifindex = Some(index),
                RouteAttribute::Gateway(RouteAddress::Inet(addr)) | RouteAttribute::Via(RouteVia::Inet(addr)) => {
                    gateway = Some(addr.into())
                }
                RouteAttribute::Gateway(RouteAddress::Inet6(addr)) | RouteAttribute::Via(RouteVia::Inet6(addr)) => {
                    gateway = Some(addr.into())
                }
                _ => {}
            }
        }
        let ifindex = ifindex.ok_or_else(|| NetError::io(WHAT)(invalid("the route names no outgoing interface")))?;
        Ok((ifindex, gateway))
    }

    /// Whether interface `ifindex` is Ethernet (ARPHRD_ETHER). Only the answer's fixed header is read (`ifinfomsg`'s
    /// `ifi_type`): what a link's attributes hold does not matter here, and is the part decoders trip on.
    fn ethernet(&mut self, ifindex: u32) -> io::Result<bool> {
        let mut request = LinkMessage::default();
        request.header.index = ifindex;
        let answer = self.exchange(RouteNetlinkMessage::GetLink(request))?;
        let field = |at: usize| answer.get(at..at + 2).map(|bytes| u16::from_ne_bytes([bytes[0], bytes[1]]));
        // nlmsghdr: nlmsg_type at 4; ifinfomsg after its 16 bytes: ifi_type at 2.
        match field(4) {
            Some(libc::RTM_NEWLINK) => field(16 + 2).map(|kind| kind == libc::ARPHRD_ETHER).ok_or_else(unexpected),
            _ => Err(self.decode().err().unwrap_or_else(unexpected)),
        }
    }

    /// The Ethernet address of neighbour `addr` on interface `ifindex`, if the table has a usable one. (A single
    /// entry is asked for, which Linux answers since 5.0; an older kernel's refusal is an error.)
    fn neighbour(&mut self, addr: IpAddr, ifindex: u32) -> io::Result<Option<[u8; 6]>> {
        let mut request = NeighbourMessage::default();
        request.header.family = family(addr);
        request.header.ifindex = ifindex;
        request.attributes.push(NeighbourAttribute::Destination(match addr {
            IpAddr::V4(addr) => NeighbourAddress::Inet(addr),
            IpAddr::V6(addr) => NeighbourAddress::Inet6(addr),
        }));
        let neighbour = match self.ask(RouteNetlinkMessage::GetNeighbour(request)) {
            Ok(RouteNetlinkMessage::NewNeighbour(neighbour)) => neighbour,
            Ok(_) => return Err(unexpected()),
            Err(error) if error.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            Err(error) => return Err(error),
        };
        if !matches!(neighbour.header.state, Reachable | Stale | Delay | Probe | Permanent) {
            return Ok(None);
        }
        Ok(neighbour.attributes.into_iter().find_map(|attribute| match attribute {
            NeighbourAttribute::LinkLayerAddress(mac) => mac.try_into().ok(),
            _ => None,
        }))
    }

    /// Sends `request` and returns the kernel's answer to it, or the error it answered with.
    fn ask(&mut self, request: RouteNetlinkMessage) -> io::Result<RouteNetlinkMessage> {
        self.exchange(request)?;
        self.decode()
    }

    /// Sends `request` and receives the answer (this socket's own: it joined no group; questions go one at a time,
    /// and one unanswered ends the socket's use), whose bytes it returns.
    fn exchange(&mut self, request: RouteNetlinkMessage) -> io::Result<&[u8]> {
        self.sequence += 1;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST;
        header.sequence_number = self.sequence;
        let mut message = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(request));
        message.finalize();
        let mut bytes = vec![0; message.buffer_len()];
        message.serialize(&mut bytes);
        self.socket.send(&bytes, 0)?;
        self.answer.clear();
        let len = self.socket.recv(&mut self.answer, libc::MSG_TRUNC)?;
        if len > self.answer.len() {
            return Err(invalid("the kernel's answer is too long"));
        }
        Ok(&self.answer)
    }

    /// The answer received last, decoded: its message, or the error it carries.
    fn decode(&self) -> io::Result<RouteNetlinkMessage> {
        let answer = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.answer)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        if answer.header.sequence_number != self.sequence {
            return Err(unexpected());
        }
        match answer.payload {
            NetlinkPayload::InnerMessage(message) => Ok(message),
            NetlinkPayload::Error(error) if error.code.is_some() => Err(error.to_io()),
            _ => Err(unexpected()),
        }
    }
}

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn unexpected() -> io::Error {
    invalid("the kernel answered something else")
}

fn family(addr: IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// The length of `addr` in bits: a host route's prefix length.
fn bits(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}
