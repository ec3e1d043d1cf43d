//! Team Cymru's IP-to-ASN DNS service: query names and TXT answers.
//!
//! An origin query asks for the TXT record of the reversed address under
//! `origin.asn.cymru.com` (IPv4) or of its reversed nibbles under
//! `origin6.asn.cymru.com` (IPv6). Each answer reads
//! `"13335 | 192.0.2.0/24 | US | arin | 2010-07-14"`: origin AS numbers
//! (several when the prefix is announced by more than one AS), the announced
//! prefix, country, registry and allocation date.

use std::fmt::Write as _;
use std::net::IpAddr;

/// The name whose TXT record holds `addr`'s origin, without the trailing dot:
/// `4.2.0.192.origin.asn.cymru.com` for `192.0.2.4`. IPv4-mapped IPv6 addresses
/// are asked for as IPv4.
pub fn origin_query_name(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.origin.asn.cymru.com")
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return origin_query_name(IpAddr::V4(v4));
            }
            let mut name = String::with_capacity(32 * 2 + 22);
            for octet in v6.octets().iter().rev() {
                let _ = write!(name, "{:x}.{:x}.", octet & 0xf, octet >> 4);
            }
            name.push_str("origin6.asn.cymru.com");
            name
        }
    }
}

/// The origin AS numbers in one TXT answer, or `None` if it is malformed.
///
/// The first `|`-separated field must hold one or more AS numbers separated by
/// spaces (an `AS` prefix is tolerated).
pub fn parse_origin_txt(txt: &str) -> Option<Vec<u32>> {
    OriginRecord::parse(txt).map(|record| record.asns)
}

/// The origin AS numbers from a set of TXT answers: those of the most specific
/// prefix (the first such answer on a tie), or `None` if none parses.
pub fn best_origin<'a>(answers: impl IntoIterator<Item = &'a str>) -> Option<Vec<u32>> {
    let mut best: Option<OriginRecord> = None;
    for record in answers.into_iter().filter_map(OriginRecord::parse) {
        if best.as_ref().is_none_or(|best| record.prefix_len > best.prefix_len) {
            best = Some(record);
        }
    }
    best.map(|record| record.asns)
}

/// AS numbers the way `traceroute -A` prints them: `[AS13335]`,
/// `[AS1/AS2]`, or `[*]` when there are none.
pub fn format_asns(asns: &[u32]) -> String {
    if asns.is_empty() {
        return "[*]".to_owned();
    }
    let listed: Vec<String> = asns.iter().map(|asn| format!("AS{asn}")).collect();
    format!("[{}]", listed.join("/"))
}

/// One parsed origin answer.
struct OriginRecord {
    asns: Vec<u32>,
    /// Length of the announced prefix, when the answer gives a valid one.
    prefix_len: Option<u8>,
}

impl OriginRecord {
    fn parse(txt: &str) -> Option<Self> {
        let mut fields = txt.trim().trim_matches('"').split('|').map(str::trim);
        let asns = fields.next()?.split_whitespace().map(parse_asn).collect::<Option<Vec<u32>>>()?;
        if asns.is_empty() {
            return None;
        }
        let prefix_len = fields.next().and_then(|prefix| prefix.split_once('/')).and_then(|(_, len)| len.parse().ok());
        Some(OriginRecord { asns, prefix_len })
    }
}

fn parse_asn(token: &str) -> Option<u32> {
    let digits = token.strip_prefix("AS").or_else(|| token.strip_prefix("as")).unwrap_or(token);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_query_name_reverses_octets() {
        let addr = "192.0.2.4".parse().unwrap();
        assert_eq!(origin_query_name(addr), "4.2.0.192.origin.asn.cymru.com");
        let addr = "198.18.0.254".parse().unwrap();
        assert_eq!(origin_query_name(addr), "254.0.18.198.origin.asn.cymru.com");
    }

    #[test]
    fn ipv6_query_name_reverses_nibbles() {
        let addr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            origin_query_name(addr),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.origin6.asn.cymru.com"
        );
        let addr = "2001:db8:4700::1111".parse().unwrap();
        assert_eq!(
            origin_query_name(addr),
            "1.1.1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.4.8.b.d.0.1.0.0.2.origin6.asn.cymru.com"
        );
    }

    #[test]
    fn ipv4_mapped_query_name_is_ipv4() {
        let addr = "::ffff:192.0.2.4".parse().unwrap();
        assert_eq!(origin_query_name(addr), "4.2.0.192.origin.asn.cymru.com");
    }

    #[test]
    fn parses_single_origin() {
        let txt = "13335 | 192.0.2.0/24 | US | arin | 2010-07-14";
        assert_eq!(parse_origin_txt(txt), Some(vec![13335]));
    }

    #[test]
    fn parses_multiple_origins_and_loose_spacing() {
        let txt = "\"  3356 174   1299|198.51.100.0/24|US|arin|1992-12-01\"";
        assert_eq!(parse_origin_txt(txt), Some(vec![3356, 174, 1299]));
        assert_eq!(parse_origin_txt("64500"), Some(vec![64500]));
        assert_eq!(parse_origin_txt("AS64500 | 198.18.0.0/15"), Some(vec![64500]));
        assert_eq!(parse_origin_txt("4200000000 | ::/0"), Some(vec![4_200_000_000]));
    }

    #[test]
    fn rejects_garbage() {
        for txt in [
            "",
            "   ",
            " | 192.0.2.0/24 | US",
            "NA | 192.0.2.0/24",
            "13335x | 192.0.2.0/24",
            "13335 abc | 192.0.2.0/24",
            "-1 | 192.0.2.0/24",
            "+5 | 192.0.2.0/24",
            "99999999999 | 192.0.2.0/24",
            "v=spf1 include:example.com ~all",
        ] {
            assert_eq!(parse_origin_txt(txt), None, "{txt:?}");
        }
    }

    #[test]
    fn best_origin_prefers_most_specific_prefix() {
        let answers = [
            "garbage",
            "701 | 198.18.0.0/15 | US | arin | 1992-12-01",
            "15169 | 198.18.1.0/24 | US | arin | 2023-12-28",
            "64500 | 198.18.0.0/16 | US | arin | 2023-12-28",
        ];
        assert_eq!(best_origin(answers), Some(vec![15169]));
        assert_eq!(best_origin(["1 | x", "2 | y"]), Some(vec![1]));
        assert_eq!(best_origin(["nope"]), None);
        assert_eq!(best_origin([]), None);
    }

    #[test]
    fn formats_like_traceroute() {
        assert_eq!(format_asns(&[13335]), "[AS13335]");
        assert_eq!(format_asns(&[1, 2]), "[AS1/AS2]");
        assert_eq!(format_asns(&[]), "[*]");
    }
}
