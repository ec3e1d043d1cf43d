//! `hoptrace bulk --targets`' targets: the file read, names resolved, prefixes spread over their /24s or /64s. The
//! plan of their probing is the engine's (`engine::bulk::Planner`), driven by `hoptrace_core::bulk`.

use core::net::IpAddr;
use std::net::ToSocketAddrs;
use std::path::Path;

use super::input::MAX_LINE;
use crate::escape::escape;
use crate::files::{read_bounded, read_file, BULK_LIMIT};

/// Addresses in one prefix at most (one per /24 or /64).
const MAX_PER_PREFIX: u64 = 1 << 20;

/// One target: as the user gave it, and its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub host: String,
    pub addr: IpAddr,
}

/// Reads the targets of `path` (`-`: stdin): addresses, names (resolved here), prefixes (an address in each /24
/// or /64: the network's first host). A file must be a regular one, and the input at most [`BULK_LIMIT`] bytes. A
/// line that gives no target is said on stderr, with its number, and skipped, as the probe specifications are;
/// returns the targets and the count of such lines. Failing to read is an error.
pub(super) fn load(path: &Path) -> Result<(Vec<Target>, u64), String> {
    let bytes = if path == Path::new("-") {
        read_bounded(std::io::stdin().lock(), BULK_LIMIT).map_err(|why| format!("{}: {why}", path.display()))?
    } else {
        read_file(path, BULK_LIMIT)?
    };
    let (mut targets, mut invalid) = (Vec::new(), 0);
    let lines = bytes.strip_suffix(b"\n").unwrap_or(&bytes).split(|&byte| byte == b'\n');
    for (number, line) in (1..).zip(lines) {
        let parsed = if line.len() as u64 > MAX_LINE {
            Err(format!("longer than {MAX_LINE} bytes"))
        } else {
            match std::str::from_utf8(line) {
                Ok(text) => parse(text.trim(), &mut targets),
                Err(_) => Err("not UTF-8".to_owned()),
            }
        };
        if let Err(why) = parsed {
            invalid += 1;
            eprintln!("hoptrace bulk: {}", escape(&format!("{}:{number}: {why}", path.display())));
        }
    }
    Ok((targets, invalid))
}

/// Adds the targets of one line (none for a blank line or a comment).
fn parse(line: &str, targets: &mut Vec<Target>) -> Result<(), String> {
    if line.is_empty() || line.starts_with('#') {
        return Ok(());
    }
    if let Some((network, len)) = line.split_once('/') {
        let network: IpAddr = network.parse().map_err(|_| format!("`{line}' is not a prefix"))?;
        let len: u32 = len.parse().map_err(|_| format!("`{line}' has a bad length"))?;
        targets.extend(prefix_addresses(network, len)?.into_iter().map(|addr| Target { host: addr.to_string(), addr }));
    } else if let Ok(addr) = line.parse() {
        targets.push(Target { host: line.to_owned(), addr });
    } else {
        let addr = (line, 0)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| format!("unknown host {line}"))?;
        targets.push(Target { host: line.to_owned(), addr: addr.ip() });
    }
    Ok(())
}

/// One address in each /24 (IPv4) or /64 (IPv6) of `network`/`len`: the first host of each.
fn prefix_addresses(network: IpAddr, len: u32) -> Result<Vec<IpAddr>, String> {
    let (bits, unit) = if network.is_ipv4() { (32, 24) } else { (128, 64) };
    if len > bits {
        return Err(format!("{network}/{len}: the length is over {bits}"));
    }
    let count = if len >= unit { 1 } else { 1u64.checked_shl(unit - len).unwrap_or(u64::MAX) };
    if count > MAX_PER_PREFIX {
        return Err(format!("{network}/{len}: more than {MAX_PER_PREFIX} targets"));
    }
    let base = match network {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    };
    let host_bits = bits - len.min(unit);
    let first = base >> host_bits << host_bits;
    let step = 1u128 << (bits - unit);
    Ok((0..u128::from(count))
        .map(|i| {
            let n = first + i * step + if len >= unit { base - first } else { 1 };
            if network.is_ipv4() {
                IpAddr::V4((n as u32).into())
            } else {
                IpAddr::V6(n.into())
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_give_an_address_per_slash_24_or_64() {
        let addrs = |text: &str, len| prefix_addresses(text.parse().unwrap(), len).unwrap();
        let v4: Vec<String> = addrs("198.19.224.77", 22).iter().map(|a| a.to_string()).collect();
        assert_eq!(v4, ["198.19.224.1", "198.19.225.1", "198.19.226.1", "198.19.227.1"]);
        assert_eq!(addrs("198.19.224.77", 28), ["198.19.224.77".parse::<IpAddr>().unwrap()]);
        let v6 = addrs("2001:db8:1::", 63);
        assert_eq!(v6, ["2001:db8:1::1".parse::<IpAddr>().unwrap(), "2001:db8:1:1::1".parse().unwrap()]);
        assert!(prefix_addresses("2001:db8::".parse().unwrap(), 32).is_err());
    }
}
