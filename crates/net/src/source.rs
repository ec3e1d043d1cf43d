//! Which local address probes leave from.

use core::net::{IpAddr, SocketAddr};
use std::io;

use socket2::{Domain, Socket, Type};

use crate::{NetError, SocketOptions};

/// The address the kernel would send from towards `target` (or the `-s` address, checked to be usable).
///
/// Connecting a UDP socket sends nothing; it only asks the routing table.
pub fn source_for(target: IpAddr, options: &SocketOptions) -> Result<IpAddr, NetError> {
    let domain = if target.is_ipv6() { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::DGRAM, None).map_err(NetError::io("opening a socket"))?;
    if let Some(interface) = &options.interface {
        socket
            .bind_device(Some(interface.as_bytes()))
            .map_err(|error| NetError::BadInterface(interface.clone(), error))?;
    }
    if options.dont_route {
        // Then only a target on an attached network has a route (`-r`).
        crate::sockopt::set_dont_route(&socket).map_err(NetError::io("bypassing routing"))?;
    }
    if let Some(source) = options.source {
        socket.bind(&SocketAddr::new(source, 0).into()).map_err(|error| NetError::BadSource(source, error))?;
    }
    match socket.connect(&SocketAddr::new(target, 33434).into()) {
        Ok(()) => {}
        Err(error) if error.raw_os_error() == Some(libc::ENETUNREACH) => return Err(NetError::NoRoute(target)),
        Err(error) => return Err(NetError::io("finding a route")(error)),
    }
    let local = socket.local_addr().map_err(NetError::io("finding the source address"))?;
    local
        .as_socket()
        .map(|addr| addr.ip())
        .ok_or_else(|| NetError::io("finding the source address")(io::ErrorKind::Other.into()))
}
