//! Prefix lists for caracal's allow and deny filters: one prefix (or address) per line, `#` comments.

use core::net::IpAddr;
use std::collections::HashSet;
use std::path::Path;

/// A set of IPv4 and IPv6 prefixes, looked up by longest match (any match, here).
#[derive(Debug, Default)]
pub struct PrefixSet {
    /// Per prefix length present: the masked networks, as IPv6 numbers (IPv4 mapped; lengths counted in IPv6).
    by_len: Vec<(u8, HashSet<u128>)>,
}

fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

fn number(addr: IpAddr) -> u128 {
    u128::from(packet_v6(addr))
}

fn packet_v6(addr: IpAddr) -> core::net::Ipv6Addr {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

impl PrefixSet {
    /// Reads `path` (a regular file, at most [`BULK_LIMIT`](crate::files::BULK_LIMIT) bytes); errors name the
    /// file and the line.
    pub fn load(path: &Path) -> Result<PrefixSet, String> {
        let text = crate::files::read_text(path, crate::files::BULK_LIMIT)?;
        Self::parse(&text, &crate::escape::escape(&path.display().to_string()))
    }

    /// The prefixes of `text`, a file called `name` in errors.
    pub fn parse(text: &str, name: &str) -> Result<PrefixSet, String> {
        let mut set = PrefixSet::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            set.insert(line).map_err(|why| format!("{name}:{}: {why}", i + 1))?;
        }
        Ok(set)
    }

    /// Adds `a.b.c.d/n`, `x::/n`, or one address.
    pub fn insert(&mut self, text: &str) -> Result<(), String> {
        let (addr, len) = text.split_once('/').map_or((text, None), |(a, l)| (a, Some(l)));
        let addr: IpAddr = addr.trim().parse().map_err(|_| format!("`{text}' is not a prefix"))?;
        // Lengths in IPv6 terms: an IPv4 prefix is one of IPv4-mapped addresses.
        let (max, offset) = if addr.is_ipv4() { (32, 96) } else { (128, 0) };
        let len: u8 = match len {
            Some(len) => {
                len.trim().parse().ok().filter(|&l| l <= max).ok_or_else(|| format!("`{text}' has a bad length"))?
            }
            None => max,
        } + offset;
        let network = number(addr) & mask(len);
        match self.by_len.iter_mut().find(|(l, _)| *l == len) {
            Some((_, set)) => {
                set.insert(network);
            }
            None => self.by_len.push((len, HashSet::from([network]))),
        }
        Ok(())
    }

    /// Whether `addr` is in one of the prefixes.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let n = number(addr);
        self.by_len.iter().any(|(len, set)| set.contains(&(n & mask(*len))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_of_both_families_match_what_they_cover() {
        let mut set = PrefixSet::default();
        for prefix in ["198.18.0.0/24", "198.19.1.7", "2001:db8:1::/48", "::ffff:198.18.9.0/120"] {
            set.insert(prefix).unwrap();
        }
        let has = |a: &str| set.contains(a.parse().unwrap());
        assert!(has("198.18.0.255") && has("198.19.1.7") && has("2001:db8:1:ffff::1") && has("198.18.9.4"));
        assert!(!has("198.18.1.0") && !has("198.19.1.8") && !has("2001:db8:2::1") && !has("198.18.10.4"));
        assert!(set.insert("198.18.0.0/33").is_err() && set.insert("nowhere/8").is_err());
    }
}
