//! `traceroute(8)`'s text layout.

use core::fmt::Write;
use core::net::IpAddr;

use engine::{Answer, ErrorClass, Hop, ProbeStatus, ReplyKind, Unreachable};

/// `traceroute to NAME (IP), N hops max, M byte packets`
pub fn header(name: &str, target: IpAddr, max_ttl: u8, packet_len: u16) -> String {
    format!("traceroute to {name} ({target}), {max_ttl} hops max, {packet_len} byte packets")
}

/// One hop's line: the TTL, then per probe the responder (printed again only when it changes), the RTT and any
/// annotation, or `*`.
pub fn hop_line(hop: &Hop, numeric: bool) -> String {
    let mut line = format!("{:2} ", hop.ttl);
    let mut previous: Option<IpAddr> = None;
    for probe in &hop.probes {
        match &probe.status {
            ProbeStatus::Answered(answer) => {
                let from = answer.from();
                if previous != Some(from) {
                    if numeric {
                        let _ = write!(line, " {from}");
                    } else {
                        let _ = write!(line, " {from} ({from})");
                    }
                    previous = Some(from);
                }
                let _ = write!(line, "  {:.3} ms", answer.rtt.as_secs_f64() * 1000.0);
                if let Some(annotation) = annotation(answer) {
                    let _ = write!(line, " {annotation}");
                }
            }
            _ => line.push_str(" *"),
        }
    }
    line
}

/// traceroute's mark for an answer that is not plain Time Exceeded or the destination's normal answer.
fn annotation(answer: &Answer) -> Option<String> {
    let ReplyKind::IcmpError(error) = &answer.reply.kind else {
        return None;
    };
    let mark = match error.class {
        ErrorClass::TimeExceeded | ErrorClass::Unreachable(Unreachable::Port) => return None,
        ErrorClass::PacketTooBig => return Some(format!("!F-{}", error.mtu.unwrap_or(0))),
        ErrorClass::Unreachable(Unreachable::Network) => "!N",
        ErrorClass::Unreachable(Unreachable::Host) => "!H",
        ErrorClass::Unreachable(Unreachable::Protocol) => "!P",
        ErrorClass::Unreachable(Unreachable::SourceRoute) => "!S",
        ErrorClass::Unreachable(Unreachable::Prohibited) => "!X",
        ErrorClass::Unreachable(Unreachable::Precedence) => "!V",
        ErrorClass::Unreachable(Unreachable::PrecedenceCutoff) => "!C",
        ErrorClass::Unreachable(Unreachable::Other) => return Some(format!("!<{}>", error.icmp_code)),
    };
    Some(mark.to_owned())
}
