//! The event stream: what a trace is doing, as it does it — for renderers, live screens and monitors — each event
//! serialisable (serde) as one flat JSON object tagged by `"event"`.

use core::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use engine::{Answer, ErrorClass, Hop, Method, Outcome, ProbeRecord, ProbeStatus, ReplyKind, Stats, TraceConfig};
use serde::ser::{Serialize, Serializer};

use crate::mark::mark;
use crate::options::Protocol;

/// What a trace is, for a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceInfo {
    /// The host as the user gave it.
    pub host: String,
    /// Its address.
    pub target: IpAddr,
    /// The address probes leave from, when known.
    pub source: Option<IpAddr>,
    /// How probes are built.
    pub method: Method,
    /// The flow of its probes (Paris methods).
    pub flow: u16,
    /// The last TTL.
    pub max_ttl: u8,
    /// The size of the probes sent (first, with path MTU discovery), IP header included.
    pub packet_len: u16,
    /// When the trace started (wall clock).
    pub started: SystemTime,
}

impl TraceInfo {
    /// The facts about a trace of `config` to `host` (as the user gave it) that started at `started`.
    pub fn new(host: &str, config: &TraceConfig, started: SystemTime) -> Self {
        TraceInfo {
            host: host.to_owned(),
            target: config.target,
            source: config.source,
            method: config.method,
            flow: config.flow,
            max_ttl: config.max_ttl,
            packet_len: config.probe_len(),
            started,
        }
    }

    /// The protocol probes are carried in.
    pub fn protocol(&self) -> Protocol {
        self.method.protocol
    }
}

/// The protocol's name in JSON.
fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Udp => "udp",
        Protocol::Icmp => "icmp",
        Protocol::Tcp => "tcp",
    }
}

/// One step of a run of traces. A run is: per round, `RoundStarted`, then `ProbeSent` and `Reply` as they
/// happen and `HopComplete` for each hop in TTL order, any `Warning`, then `RoundDone`; after the last round,
/// `TraceDone`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A round (one trace) begins.
    RoundStarted {
        /// Rounds are numbered from 0.
        round: u32,
        /// What is traced, how, and when it started.
        info: TraceInfo,
    },
    /// A probe left.
    ProbeSent {
        /// The round.
        round: u32,
        /// The probe as recorded (number, flow, size, send time).
        probe: ProbeRecord,
        /// Its TTL.
        ttl: u8,
    },
    /// A reply was matched to a probe: the probe record now holds the answer.
    Reply {
        /// The round.
        round: u32,
        /// The probe answered.
        probe: ProbeRecord,
        /// Its TTL.
        ttl: u8,
    },
    /// Every probe of a hop (and of those before it) has an outcome; or, when the round was interrupted
    /// (`complete` false), what is known of it.
    HopComplete {
        /// The round.
        round: u32,
        /// The hop and its probes.
        hop: Hop,
        /// Whether the hop was complete (false: the round was interrupted first).
        complete: bool,
    },
    /// A round ended: how (`None` when interrupted), and what the engine counted.
    RoundDone {
        /// The round.
        round: u32,
        /// How the trace ended.
        outcome: Option<Outcome>,
        /// Probes sent, replies matched and not.
        stats: Stats,
    },
    /// Something went wrong that the hops alone do not show: probes the system refused to send (and why), replies
    /// the kernel dropped for want of buffer room. Told after the round's hops, before `RoundDone`.
    Warning {
        /// The round.
        round: u32,
        /// What happened, in one line.
        message: String,
    },
    /// The run is over (also when interrupted or failed).
    TraceDone {
        /// Rounds run.
        rounds: u32,
    },
}

/// Milliseconds, rounded to microseconds.
fn millis(duration: core::time::Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// The JSON form of a probe record.
#[derive(serde::Serialize)]
struct ProbeJson {
    probe: u32,
    flow: u16,
    size: u16,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rtt_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mark: Option<String>,
    /// Present (true) when nothing but one 16-bit field vouches for the reply ([`Answer::unverified`]).
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    unverified: bool,
}

impl ProbeJson {
    fn new(record: &ProbeRecord) -> Self {
        let answer = record.status.answer();
        ProbeJson {
            probe: record.id.0,
            flow: record.flow,
            size: record.size,
            status: match record.status {
                ProbeStatus::InFlight => "in_flight",
                ProbeStatus::Answered(_) => "answered",
                ProbeStatus::TimedOut => "timed_out",
                ProbeStatus::SendFailed => "send_failed",
                ProbeStatus::TooBigLocally { .. } => "too_big_locally",
                ProbeStatus::Cancelled => "cancelled",
                _ => "other",
            },
            from: answer.map(Answer::from),
            rtt_ms: answer.map(|answer| millis(answer.rtt)),
            reply: answer.map(reply_kind),
            mark: answer.and_then(mark),
            unverified: answer.is_some_and(|answer| answer.unverified),
        }
    }
}

/// What kind of reply an answer was.
fn reply_kind(answer: &Answer) -> &'static str {
    match &answer.reply.kind {
        ReplyKind::EchoReply { .. } => "echo_reply",
        ReplyKind::Tcp(_) => "tcp",
        ReplyKind::IcmpError(error) => match error.class {
            ErrorClass::TimeExceeded => "time_exceeded",
            ErrorClass::Unreachable(_) => "unreachable",
            ErrorClass::PacketTooBig => "packet_too_big",
            _ => "icmp_error",
        },
        _ => "other",
    }
}

/// The JSON form of an outcome.
#[derive(serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum OutcomeJson {
    Reached { ttl: u8 },
    Unreachable { ttl: u8 },
    MaxTtl,
    GapLimit { ttl: u8 },
    Other,
}

impl From<Outcome> for OutcomeJson {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Reached { ttl } => OutcomeJson::Reached { ttl },
            Outcome::Unreachable { ttl } => OutcomeJson::Unreachable { ttl },
            Outcome::MaxTtl => OutcomeJson::MaxTtl,
            Outcome::GapLimit { ttl } => OutcomeJson::GapLimit { ttl },
            _ => OutcomeJson::Other,
        }
    }
}

/// The JSON form of an event.
#[derive(serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum EventJson<'a> {
    RoundStarted {
        round: u32,
        host: &'a str,
        target: IpAddr,
        source: Option<IpAddr>,
        protocol: &'static str,
        paris: bool,
        flow: u16,
        max_ttl: u8,
        packet_len: u16,
        /// Seconds since the Unix epoch.
        started: f64,
    },
    ProbeSent {
        round: u32,
        ttl: u8,
        probe: u32,
        flow: u16,
        size: u16,
    },
    Reply {
        round: u32,
        ttl: u8,
        #[serde(flatten)]
        probe: ProbeJson,
    },
    HopComplete {
        round: u32,
        ttl: u8,
        complete: bool,
        probes: Vec<ProbeJson>,
    },
    RoundDone {
        round: u32,
        outcome: Option<OutcomeJson>,
        sent: u32,
        matched: u32,
        unmatched: u32,
        late: u32,
        duplicates: u32,
    },
    Warning {
        round: u32,
        message: &'a str,
    },
    TraceDone {
        rounds: u32,
    },
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let json = match self {
            Event::RoundStarted { round, info } => EventJson::RoundStarted {
                round: *round,
                host: &info.host,
                target: info.target,
                source: info.source,
                protocol: protocol_name(info.protocol()),
                paris: info.method.is_paris(),
                flow: info.flow,
                max_ttl: info.max_ttl,
                packet_len: info.packet_len,
                started: info.started.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64(),
            },
            Event::ProbeSent { round, probe, ttl } => {
                EventJson::ProbeSent { round: *round, ttl: *ttl, probe: probe.id.0, flow: probe.flow, size: probe.size }
            }
            Event::Reply { round, probe, ttl } => {
                EventJson::Reply { round: *round, ttl: *ttl, probe: ProbeJson::new(probe) }
            }
            Event::HopComplete { round, hop, complete } => EventJson::HopComplete {
                round: *round,
                ttl: hop.ttl,
                complete: *complete,
                probes: hop.probes.iter().map(ProbeJson::new).collect(),
            },
            Event::RoundDone { round, outcome, stats } => EventJson::RoundDone {
                round: *round,
                outcome: outcome.map(OutcomeJson::from),
                sent: stats.sent,
                matched: stats.matched,
                unmatched: stats.unmatched,
                late: stats.late,
                duplicates: stats.duplicates,
            },
            Event::Warning { round, message } => EventJson::Warning { round: *round, message },
            Event::TraceDone { rounds } => EventJson::TraceDone { rounds: *rounds },
        };
        json.serialize(serializer)
    }
}
