//! `--prometheus`'s address, as every exporter's `--web.listen-address` takes it: `HOST:PORT` with HOST an
//! address (`[…]` around IPv6), a name, or nothing for every address (`:9120`).

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::net::ToSocketAddrs;

/// Where to serve `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddress {
    /// An address, a name, or empty for every address.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl ListenAddress {
    /// `HOST:PORT`, `[IPV6]:PORT` or `:PORT`; `None` when it is none of these.
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Some(ListenAddress { host: addr.ip().to_string(), port: addr.port() });
        }
        let (host, port) = text.rsplit_once(':')?;
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
        if !host.chars().all(valid) {
            return None;
        }
        Some(ListenAddress { host: host.to_owned(), port: port.parse().ok()? })
    }

    /// The addresses to try binding, in order: the one given, the name's (IPv4 first, as Go's exporters take the
    /// first), or every IPv6 and IPv4 address (IPv4's alone where a host has no IPv6).
    pub fn addresses(&self) -> Result<Vec<SocketAddr>, String> {
        if self.host.is_empty() {
            return Ok(vec![(Ipv6Addr::UNSPECIFIED, self.port).into(), (Ipv4Addr::UNSPECIFIED, self.port).into()]);
        }
        let found = (self.host.as_str(), self.port).to_socket_addrs().map_err(|error| format!("{self}: {error}"))?;
        let mut addrs: Vec<SocketAddr> = found.collect();
        addrs.sort_by_key(SocketAddr::is_ipv6);
        addrs.dedup();
        if addrs.is_empty() {
            return Err(format!("{self}: no address"));
        }
        Ok(addrs)
    }
}

impl fmt::Display for ListenAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_names_and_every_address() {
        let parse =
            |text: &str| ListenAddress::parse(text).map(|addr| (addr.host.clone(), addr.port, addr.to_string()));
        assert_eq!(parse("127.0.0.1:9120"), Some(("127.0.0.1".into(), 9120, "127.0.0.1:9120".into())));
        assert_eq!(parse("[::1]:9120"), Some(("::1".into(), 9120, "[::1]:9120".into())));
        assert_eq!(parse("localhost:9120"), Some(("localhost".into(), 9120, "localhost:9120".into())));
        assert_eq!(parse(":9120"), Some(("".into(), 9120, ":9120".into())));
        for bad in ["nonsense", "localhost", "localhost:", "localhost:70000", "::1:9120", "a b:1", "[::1]:x"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        // Every address: IPv6's (dual stack) first, IPv4's where that fails. No lookup.
        let every = ListenAddress::parse(":9120").unwrap().addresses().unwrap();
        assert_eq!(every, ["[::]:9120".parse().unwrap(), "0.0.0.0:9120".parse().unwrap()]);
    }
}
