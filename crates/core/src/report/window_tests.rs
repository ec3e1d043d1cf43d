//! The window's report against one rebuilt from the rounds in the window, over random rounds.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::time::Duration;
use std::time::Instant;

use engine::{
    Answer, ErrorClass, Hop, IcmpError, ProbeId, ProbeRecord, ProbeStatus, Quote, QuotedProbe, Reply, ReplyKind,
    Unreachable,
};
use proptest::prelude::*;

use super::Window;
use crate::report::{HopSummary, Report, RttStats};

const TARGET_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9));
const TARGET_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9));

/// A probe: (what became of it, who answered — 0 the target —, RTT in 100 µs, flow).
type ProbeSpec = (u8, u8, u16, u16);

fn error(class: ErrorClass, target: IpAddr) -> ReplyKind {
    let probe = QuotedProbe::Udp { src_port: 1, dst_port: 2, checksum: None, tag: None };
    let quote = Quote { src: None, dst: target, ttl: Some(1), ip_id: None, probe };
    ReplyKind::IcmpError(IcmpError { class, icmp_type: 3, icmp_code: 1, mtu: None, quote, mpls: Vec::new() })
}

fn probe(spec: ProbeSpec, target: IpAddr, sent_at: Instant, many_flows: bool) -> ProbeRecord {
    let (status, from, rtt, flow) = spec;
    let from_router = |ttl_like: u8| match target {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::new(198, 18, 1, ttl_like)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, u16::from(ttl_like))),
    };
    let answer = |from: IpAddr, kind: ReplyKind| {
        let reply = Reply { from, ttl: None, size: None, kind };
        let rtt = Duration::from_micros(u64::from(rtt) * 100 + 7);
        ProbeStatus::Answered(Answer { rtt, reply, quote_rewritten: false, unverified: false })
    };
    let status = match (status, from) {
        (0..=5, 0) => answer(target, ReplyKind::EchoReply { ident: 1, seq: 1, tag: None }),
        (0..=5, _) => answer(from_router(from), error(ErrorClass::TimeExceeded, target)),
        (6, _) => answer(from_router(from), error(ErrorClass::Unreachable(Unreachable::Host), target)),
        (7, _) => ProbeStatus::InFlight,
        (8, _) => ProbeStatus::Cancelled,
        _ => ProbeStatus::TimedOut,
    };
    let flow = if many_flows { flow % 24 } else { flow % 3 };
    ProbeRecord { id: ProbeId(0), sent_at, size: 60, flow, status, resent: None }
}

/// Round `n`: hops at TTLs 1 to 6 where `present`, probes 150 ms apart, rounds 400 ms apart.
fn round(n: u32, spec: &(bool, Vec<(bool, Vec<ProbeSpec>)>), start: Instant, many_flows: bool) -> (Vec<Hop>, IpAddr) {
    let target = if spec.0 { TARGET_V6 } else { TARGET_V4 };
    let hops = spec
        .1
        .iter()
        .enumerate()
        .filter(|(_, (present, _))| *present)
        .map(|(index, (_, probes))| {
            let ttl = index as u8 + 1;
            let probes = probes
                .iter()
                .enumerate()
                .map(|(k, &spec)| {
                    let at = Duration::from_millis(400) * n + Duration::from_millis(150) * k as u32;
                    probe(spec, target, start + at + Duration::from_micros(u64::from(ttl)), many_flows)
                })
                .collect();
            Hop { ttl, probes }
        })
        .collect();
    (hops, target)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn same_rtt(a: &RttStats, b: &RttStats) -> bool {
    a.count() == b.count()
        && [
            (a.last(), b.last()),
            (a.mean(), b.mean()),
            (a.best(), b.best()),
            (a.worst(), b.worst()),
            (a.stdev(), b.stdev()),
            (a.jitter_mean(), b.jitter_mean()),
            (a.jitter_worst(), b.jitter_worst()),
        ]
        .iter()
        .all(|&(x, y)| close(x, y))
}

/// The summary without its round-trip times (compared apart, to 1e-9) and the rate-limit verdicts of the hops
/// beyond it (set for the hops shown only: compared through [`HopSummary::is_rate_limited`]).
fn without_rtt(hop: &HopSummary) -> HopSummary {
    let mut hop = hop.clone();
    hop.rtt = RttStats::default();
    hop.limiters_beyond = false;
    hop.flows.iter_mut().for_each(|flow| flow.rtt = RttStats::default());
    hop
}

fn assert_same(window: &Report, rebuilt: &Report) -> Result<(), TestCaseError> {
    prop_assert_eq!(window.rounds(), rebuilt.rounds());
    prop_assert_eq!(window.hops().len(), rebuilt.hops().len());
    prop_assert_eq!(window.hops.len(), rebuilt.hops.len());
    for (a, b) in window.hops.iter().zip(&rebuilt.hops) {
        prop_assert_eq!(without_rtt(a), without_rtt(b));
        prop_assert!(same_rtt(&a.rtt, &b.rtt), "ttl {}: {:?} vs {:?}", a.ttl, a.rtt, b.rtt);
        for (x, y) in a.flows.iter().zip(&b.flows) {
            prop_assert!(same_rtt(&x.rtt, &y.rtt), "ttl {} flow {}: {:?} vs {:?}", a.ttl, x.flow, x.rtt, y.rtt);
        }
    }
    for (a, b) in window.hops().iter().zip(rebuilt.hops()) {
        prop_assert_eq!(a.is_rate_limited(), b.is_rate_limited(), "ttl {}", a.ttl);
    }
    Ok(())
}

fn probe_spec() -> impl Strategy<Value = ProbeSpec> {
    // Mostly answered, by the target or one of three routers.
    (prop_oneof![6 => 0u8..6, 1 => 6u8..7, 1 => 7u8..9, 2 => 9u8..10], 0u8..4, 1u16..400, 0u16..64)
}

fn round_spec() -> impl Strategy<Value = (bool, Vec<(bool, Vec<ProbeSpec>)>)> {
    (
        prop::bool::weighted(0.2),
        prop::collection::vec((prop::bool::weighted(0.85), prop::collection::vec(probe_spec(), 1..4)), 6),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_window_is_the_report_of_its_rounds(
        size in 1usize..9,
        rounds in prop::collection::vec(round_spec(), 0..24),
        many_flows in prop::bool::weighted(0.2),
    ) {
        let start = Instant::now();
        let rounds: Vec<(Vec<Hop>, IpAddr)> =
            rounds.iter().enumerate().map(|(n, spec)| round(n as u32, spec, start, many_flows)).collect();
        let mut window = Window::new(size);
        for (pushed, (hops, target)) in rounds.iter().enumerate() {
            window.push(hops.clone(), *target);
            let mut rebuilt = Report::new();
            for (hops, target) in &rounds[(pushed + 1).saturating_sub(size)..=pushed] {
                rebuilt.add_round(hops, *target);
            }
            assert_same(window.report(), &rebuilt)?;
        }
    }
}

/// A steady path (every probe answered by the same routers): rounds leave by subtraction, never worked out again.
#[test]
fn a_steady_path_is_forgotten_by_subtraction() {
    let start = Instant::now();
    let spec: (bool, Vec<(bool, Vec<ProbeSpec>)>) =
        (false, (1..=6u8).map(|ttl| (true, vec![(0, if ttl == 6 { 0 } else { ttl }, 10, 1); 3])).collect());
    let mut window = Window::new(4);
    for n in 0..20 {
        let (hops, target) = round(n, &spec, start, false);
        window.push(hops, target);
    }
    let report = window.report();
    assert_eq!(report.rounds(), 4);
    let rows: Vec<(u8, u32, u32, u64)> =
        report.hops().iter().map(|hop| (hop.ttl, hop.sent, hop.received, hop.rtt.count())).collect();
    assert_eq!(rows, (1..=6).map(|ttl| (ttl, 12, 12, 12)).collect::<Vec<_>>());
    assert_eq!(window.replayed, 0);
}
