//! The link-layer way out, as caracal's: whole IP packets handed to an interface's driver through a packet socket,
//! addressed to the next hop's Ethernet address. The kernel neither routes them nor filters them (`OUTPUT` rules):
//! in the lab this takes a tenth off the kernel's work per probe. They still pass the interface's queueing
//! discipline and its taps (`tcpdump` sees them; bypassing the qdisc gained nothing measurable). The next hop is
//! the caller's to find (`crate::next_hop`).

#![allow(unsafe_code)]

use nix::sys::socket::{LinkAddr, SockaddrLike};
use socket2::{Domain, Socket, Type};

use crate::NetError;

/// Opens the packet socket both families' packets leave by once they have a next hop. With protocol 0 it receives
/// nothing (with one, it would be handed every packet of it).
pub(super) fn socket() -> Result<Socket, NetError> {
    let socket = crate::raw::privileged_socket(Domain::PACKET, Type::DGRAM, 0)?;
    // A deep send buffer, as the raw sockets'.
    let _ = socket.set_send_buffer_size(4 << 20);
    Ok(socket)
}

/// The address of IPv4 (or `ipv6`) packets for `mac` out of interface `ifindex`.
pub(super) fn address(ipv6: bool, ifindex: u32, mac: [u8; 6]) -> Result<LinkAddr, NetError> {
    let bad = || NetError::io("addressing the next hop")(std::io::ErrorKind::InvalidInput.into());
    let protocol = if ipv6 { libc::ETH_P_IPV6 } else { libc::ETH_P_IP } as u16;
    let mut sll_addr = [0; 8];
    sll_addr[..6].copy_from_slice(&mac);
    let raw = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: protocol.to_be(),
        sll_ifindex: i32::try_from(ifindex).map_err(|_| bad())?,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 6,
        sll_addr,
    };
    let len = core::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `raw` is a whole, initialised `sockaddr_ll` of `len` bytes, alive for the call.
    unsafe { LinkAddr::from_raw((&raw as *const libc::sockaddr_ll).cast(), Some(len)) }.ok_or_else(bad)
}

/// The name of interface `ifindex`, if it has one.
pub fn interface_name(ifindex: u32) -> Option<String> {
    nix::net::if_::if_indextoname(ifindex).ok().map(|name| name.to_string_lossy().into_owned())
}
