//! What a monitored target's window holds on the heap: 10 rounds of a 4-hop path, one probe per hop in a single
//! flow (Paris, as the monitor's rounds are), counted by a global allocator that tracks the bytes allocated and
//! freed. Bounded by what the window cost when it kept the rounds' hops and rebuilt its report from
//! them (a `Report` and 10 rounds of `Vec<Hop>`): forgetting rounds by subtraction must not cost more.

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;
use std::alloc::System;
use std::collections::VecDeque;
use std::time::Instant;

use hoptrace_core::report::Window;
use hoptrace_core::{
    Answer, ErrorClass, Hop, IcmpError, ProbeId, ProbeRecord, ProbeStatus, Quote, QuotedProbe, Reply, ReplyKind, Report,
};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The heap bytes allocated and not freed since `region` began (every thread's: this file has one test).
fn live(region: &Region<System>) -> isize {
    let change = region.change();
    // A reallocation's difference is counted in these too (`bytes_reallocated` is that difference again).
    change.bytes_allocated as isize - change.bytes_deallocated as isize
}

const TARGET: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 9, 9));
const HOPS: u8 = 4;
const ROUNDS: u32 = 10;

/// Round `n`: 4 hops of one probe in flow 0, the routers' Time Exceeded then the target's echo reply.
fn round(n: u32, start: Instant) -> Vec<Hop> {
    (1..=HOPS)
        .map(|ttl| {
            let sent_at = start + Duration::from_secs(60) * n + Duration::from_millis(u64::from(ttl));
            let from = if ttl == HOPS { TARGET } else { IpAddr::V4(Ipv4Addr::new(198, 18, ttl, 1)) };
            let kind = if ttl == HOPS {
                ReplyKind::EchoReply { ident: 1, seq: 1, tag: None }
            } else {
                let probe = QuotedProbe::Udp { src_port: 1, dst_port: 2, checksum: None, tag: None };
                let quote = Quote { src: None, dst: TARGET, ttl: Some(1), ip_id: None, probe };
                let class = ErrorClass::TimeExceeded;
                ReplyKind::IcmpError(IcmpError {
                    class,
                    icmp_type: 11,
                    icmp_code: 0,
                    mtu: None,
                    quote,
                    mpls: Vec::new(),
                })
            };
            let rtt = Duration::from_micros(u64::from(ttl) * 1000 + u64::from(n * 7919 % 1013));
            let reply = Reply { from, ttl: None, size: None, kind };
            let answer = Answer { rtt, reply, quote_rewritten: false, unverified: false };
            let status = ProbeStatus::Answered(answer);
            let id = ProbeId(n * u32::from(HOPS) + u32::from(ttl));
            ProbeRecord { id, sent_at, size: 60, flow: 0, status, resent: None }
        })
        .zip(1..)
        .map(|(probe, ttl)| Hop { ttl, probes: vec![probe] })
        .collect()
}

/// The heap bytes the old window held: its rounds' hops, and the report rebuilt from them.
fn old_design(rounds: &[Vec<Hop>]) -> isize {
    let region = Region::new(GLOBAL);
    let mut kept: VecDeque<Vec<Hop>> = VecDeque::new();
    let mut report = Report::new();
    for hops in rounds {
        kept.push_back(hops.clone());
        report = Report::new();
        for round in &kept {
            report.add_round(round, TARGET);
        }
    }
    let bytes = live(&region);
    drop((kept, report));
    bytes
}

/// The heap bytes a `Window` holds.
fn window(rounds: &[Vec<Hop>], size: usize) -> isize {
    let region = Region::new(GLOBAL);
    let mut window = Window::new(size);
    for hops in rounds {
        // Cloned in the region: what the window does not keep of it is freed in it.
        window.push(hops.clone(), TARGET);
    }
    let bytes = live(&region);
    assert_eq!(window.len(), size);
    drop(window);
    bytes
}

#[test]
fn a_monitored_targets_window_costs_no_more_than_keeping_its_rounds() {
    let start = Instant::now();
    let rounds: Vec<Vec<Hop>> = (0..ROUNDS).map(|n| round(n, start)).collect();
    let old = old_design(&rounds);
    let full = window(&rounds, ROUNDS as usize);
    // Also once rounds were forgotten: 25 rounds through a window of 10.
    let more: Vec<Vec<Hop>> = (0..25).map(|n| round(n, start)).collect();
    let steady = window(&more, ROUNDS as usize);
    println!("old design {old} B, window {full} B, after forgetting {steady} B");
    assert!(full <= old, "a window of {ROUNDS} rounds holds {full} B, the old design {old} B");
    assert!(steady <= old, "a window past {ROUNDS} rounds holds {steady} B, the old design {old} B");
}
