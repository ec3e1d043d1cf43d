//! traceroute's marks: what an answer that is not a plain Time Exceeded or the destination's port unreachable
//! says, in two or three characters.

use engine::{Answer, ErrorClass, ReplyKind, Unreachable};

/// traceroute's annotation of an answer: `!H`, `!N`, `!X`, `!F-1480`…; none for Time Exceeded and the
/// destination's Port Unreachable.
pub fn mark(answer: &Answer) -> Option<String> {
    let ReplyKind::IcmpError(error) = &answer.reply.kind else { return None };
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
        ErrorClass::Unreachable(_) => return Some(format!("!<{}>", error.icmp_code)),
        _ => return None,
    };
    Some(mark.to_owned())
}
