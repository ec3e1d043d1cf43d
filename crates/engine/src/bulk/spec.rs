//! One probe specification: a line of caracal's input.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The probe's protocol, spelled as caracal spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// ICMP Echo Request over IPv4 (`icmp`).
    Icmp,
    /// ICMPv6 Echo Request (`icmp6`).
    Icmp6,
    /// UDP over either family (`udp`).
    Udp,
}

impl Protocol {
    /// The IP protocol number (1, 58 or 17).
    pub fn number(self) -> u8 {
        match self {
            Protocol::Icmp => 1,
            Protocol::Icmp6 => 58,
            Protocol::Udp => 17,
        }
    }
}

/// What one probe is: caracal's `dst_addr,src_port,dst_port,ttl,protocol[,flow_label]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProbeSpec {
    /// The destination; IPv4-mapped IPv6 addresses are unmapped to IPv4.
    pub dst: IpAddr,
    /// UDP source port, or for ICMP the flow identifier (the Echo checksum and identifier).
    pub src_port: u16,
    /// UDP destination port (unused by ICMP).
    pub dst_port: u16,
    /// TTL or hop limit.
    pub ttl: u8,
    /// Protocol.
    pub protocol: Protocol,
    /// IPv6 flow label (caracal's optional sixth column; 0 by default, ignored for IPv4).
    pub flow_label: u32,
}

/// A line that is no probe specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

impl ProbeSpec {
    /// Parses one CSV line. The address may be dotted IPv4, IPv4-mapped IPv6, IPv6, or an IPv4 address as one
    /// decimal integer (as caracal accepts); `icmp` needs an IPv4 destination and `icmp6` an IPv6 one. A seventh
    /// column (caracal's per-probe wait) is accepted and ignored.
    pub fn parse(line: &str) -> Result<ProbeSpec, SpecError> {
        let bad = |what: &str| SpecError(format!("invalid probe `{line}': {what}"));
        let mut fields = line.trim_end_matches(['\r', '\n']).split(',');
        let mut next = |name: &str| fields.next().ok_or_else(|| bad(&format!("no {name}")));
        let dst = address(next("dst_addr")?).ok_or_else(|| bad("bad dst_addr"))?;
        let src_port = next("src_port")?.trim().parse().map_err(|_| bad("bad src_port"))?;
        let dst_port = next("dst_port")?.trim().parse().map_err(|_| bad("bad dst_port"))?;
        let ttl = next("ttl")?.trim().parse().map_err(|_| bad("bad ttl"))?;
        let protocol = match next("protocol")?.trim() {
            "icmp" if dst.is_ipv4() => Protocol::Icmp,
            "icmp6" if dst.is_ipv6() => Protocol::Icmp6,
            "udp" => Protocol::Udp,
            "icmp" | "icmp6" => return Err(bad("protocol does not match the address family")),
            _ => return Err(bad("protocol is not icmp, icmp6 or udp")),
        };
        let flow_label = match fields.next() {
            Some(label) => {
                label.trim().parse().ok().filter(|&l: &u32| l < 1 << 20).ok_or_else(|| bad("bad flow label"))?
            }
            None => 0,
        };
        if fields.nth(1).is_some() {
            return Err(bad("more than 7 columns"));
        }
        Ok(ProbeSpec { dst, src_port, dst_port, ttl, protocol, flow_label })
    }

    /// Parses one line as read, its newline included or not: the common form (dotted IPv4, plain decimal numbers,
    /// `icmp` or `udp`) straight from the bytes, anything else through [`ProbeSpec::parse`], so that both accept,
    /// reject and explain alike.
    pub fn parse_bytes(line: &[u8]) -> Result<ProbeSpec, SpecError> {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(spec) = common(line) {
            return Ok(spec);
        }
        match core::str::from_utf8(line) {
            Ok(text) => ProbeSpec::parse(text),
            Err(_) => Err(SpecError(format!("invalid probe `{}': not UTF-8", String::from_utf8_lossy(line)))),
        }
    }
}

/// The common form of a line, or `None` for anything else (which may still be valid), read in one pass.
fn common(line: &[u8]) -> Option<ProbeSpec> {
    let mut cursor = Cursor { bytes: line, at: 0 };
    let mut octets = [0u8; 4];
    for (i, octet) in octets.iter_mut().enumerate() {
        *octet = u8::try_from(cursor.number(if i < 3 { b'.' } else { b',' }, 3, false)?).ok()?;
    }
    let src_port = u16::try_from(cursor.number(b',', 5, true)?).ok()?;
    let dst_port = u16::try_from(cursor.number(b',', 5, true)?).ok()?;
    let ttl = u8::try_from(cursor.number(b',', 3, true)?).ok()?;
    let rest = &line[cursor.at..];
    let (protocol, rest) = if let Some(rest) = rest.strip_prefix(b"icmp") {
        (Protocol::Icmp, rest)
    } else {
        (Protocol::Udp, rest.strip_prefix(b"udp")?)
    };
    let flow_label = match rest {
        [] => 0,
        [b',', columns @ ..] => {
            // The flow label, then perhaps a seventh column (ignored); an eighth is an error, said by `parse`.
            let mut cursor = Cursor { bytes: columns, at: 0 };
            let label = cursor.number(b',', 7, true).filter(|&l| l < 1 << 20)?;
            if columns[cursor.at..].contains(&b',') {
                return None;
            }
            label as u32
        }
        _ => return None,
    };
    Some(ProbeSpec { dst: IpAddr::V4(Ipv4Addr::from(octets)), src_port, dst_port, ttl, protocol, flow_label })
}

/// Reads decimal numbers off a line, each followed by a separator or the line's end.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    /// One to `max` digits (leading zeros only if `zeros`, as `Ipv4Addr`'s parser refuses them in octets), then
    /// `separator` (skipped) or the end.
    fn number(&mut self, separator: u8, max: usize, zeros: bool) -> Option<u64> {
        let start = self.at;
        let mut n = 0u64;
        while let Some(&byte) = self.bytes.get(self.at) {
            if byte == separator {
                break;
            }
            if !byte.is_ascii_digit() || self.at - start == max {
                return None;
            }
            n = n * 10 + u64::from(byte - b'0');
            self.at += 1;
        }
        let len = self.at - start;
        if len == 0 || (!zeros && len > 1 && self.bytes[start] == b'0') {
            return None;
        }
        if self.at < self.bytes.len() {
            self.at += 1;
        }
        Some(n)
    }
}

fn address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    if let Ok(v6) = text.parse::<Ipv6Addr>() {
        return Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4));
    }
    text.parse::<u32>().ok().map(|n| IpAddr::V4(Ipv4Addr::from(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caracals_examples_parse() {
        let p = ProbeSpec::parse("8.8.8.8,24000,33434,32,icmp").unwrap();
        assert_eq!(
            (p.dst, p.src_port, p.dst_port, p.ttl, p.protocol),
            ("8.8.8.8".parse().unwrap(), 24000, 33434, 32, Protocol::Icmp)
        );
        let mapped = ProbeSpec::parse("::ffff:8.8.8.8,24000,33434,1,icmp").unwrap();
        assert_eq!(mapped.dst, p.dst);
        let v6 = ProbeSpec::parse("2001:db8::1,24000,33434,3,icmp6\n").unwrap();
        assert_eq!(v6.dst, "2001:db8::1".parse::<IpAddr>().unwrap());
        let integer = ProbeSpec::parse("134744072,1,2,3,udp,0,10").unwrap();
        assert_eq!(integer.dst, p.dst);
        assert_eq!(ProbeSpec::parse("2001:db8::1,1,2,3,udp,77").unwrap().flow_label, 77);
    }

    #[test]
    fn bytes_parse_as_text_does() {
        for line in [
            "198.18.0.1,24000,33434,32,icmp\n",
            "198.18.0.1,24000,33434,32,udp,77,9\r\n",
            "0.0.0.0,0,0,0,udp",
            "255.255.255.255,65535,65535,255,icmp,1048575",
            "198.18.0.1,024000,033434,032,icmp",
            " 198.18.0.1, 1 ,2,3, udp",
            "134744072,1,2,3,udp,0,10",
            "::ffff:198.18.0.1,1,2,3,icmp",
            "2001:db8::1,1,2,3,icmp6",
            "0198.18.3.4,1,2,3,udp",
            "198.18.3,1,2,3,udp",
            "198.18.3.4.5,1,2,3,udp",
            "198.18.3.256,1,2,3,udp",
            "198.18.3.4,65536,2,3,udp",
            "198.18.3.4,1,2,256,udp",
            "198.18.3.4,+1,2,3,udp",
            "198.18.3.4,1,2,3,icmp6",
            "198.18.3.4,1,2,3,udp,1048576",
            "198.18.3.4,1,2,3,udp,0,0,0",
            "198.18.3.4,00000000001,2,3,udp",
            "198.18.3.4,1,2,3",
            "198.18.3.4,1,2,3,",
            "198.18.3.4,1,2,3,udp,5,",
            "198.18.3.4,1,2,3,udp,00000005",
            "198.18.3.4,1,2,3,udp,,",
            "198.18.3.4,1,2,3,icmpx",
            "198.18.3.4,1,2,3,icmp,",
            "198.18.3.4,,2,3,udp",
            "198.18.3.4.,1,2,3,udp",
            "198.18..4,1,2,3,udp",
            "198.18.3.4",
            "",
        ] {
            let text = ProbeSpec::parse(line.trim_end_matches(['\n', '\r']));
            assert_eq!(ProbeSpec::parse_bytes(line.as_bytes()), text, "{line:?}");
        }
        let error = ProbeSpec::parse_bytes(b"198.18.3.4,\xff,2,3,udp").unwrap_err().to_string();
        assert!(error.contains("not UTF-8"), "{error}");
    }

    proptest::proptest! {
        #[test]
        fn bytes_parse_as_text_does_on_lines_of_every_shape(
            line in "[0-9]{1,4}(\\.[0-9]{0,4}){0,4}(,[0-9+]{0,6}){0,4}(,(icmp|udp|icmp6|x))?(,[0-9]{0,8}){0,3}",
        ) {
            proptest::prop_assert_eq!(ProbeSpec::parse_bytes(line.as_bytes()), ProbeSpec::parse(&line));
        }
    }

    #[test]
    fn bad_lines_say_why() {
        for (line, why) in [
            ("8.8.8.8,24000,33434,32", "no protocol"),
            ("8.8.8.8,24000,33434,256,icmp", "bad ttl"),
            ("8.8.8.8,70000,33434,2,icmp", "bad src_port"),
            ("2001:db8::1,1,2,3,icmp", "protocol does not match"),
            ("8.8.8.8,1,2,3,tcp", "not icmp"),
            ("nowhere,1,2,3,udp", "bad dst_addr"),
            ("8.8.8.8,1,2,3,udp,0,0,0", "more than 7"),
        ] {
            let error = ProbeSpec::parse(line).unwrap_err().to_string();
            assert!(error.contains(why), "{line}: {error}");
        }
    }
}
