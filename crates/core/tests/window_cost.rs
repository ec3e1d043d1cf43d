//! What a round costs a sliding-window report: `cargo test --release -p hoptrace-core --test window_cost -- --ignored
//! --nocapture` prints nanoseconds per push at windows of 10 and 100 rounds of 30 hops, with and without loss.

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;
use std::time::Instant;

use hoptrace_core::report::Window;
use hoptrace_core::{
    Answer, ErrorClass, Hop, IcmpError, ProbeId, ProbeRecord, ProbeStatus, Quote, QuotedProbe, Reply, ReplyKind,
};

const TARGET: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 9, 9));
const HOPS: u8 = 30;

/// Round `n`: 30 hops of 3 probes, the routers' Time Exceeded then the target's echo reply, one probe in `lossy`
/// lost (none if 0).
fn round(n: u32, start: Instant, lossy: u32) -> Vec<Hop> {
    (1..=HOPS)
        .map(|ttl| {
            let probes = (0..3u32)
                .map(|index| {
                    let seq = n * 90 + u32::from(ttl) * 3 + index;
                    let sent_at = start + Duration::from_millis(500) * n + Duration::from_micros(u64::from(seq % 997));
                    let from = if ttl == HOPS { TARGET } else { IpAddr::V4(Ipv4Addr::new(198, 18, ttl, 1)) };
                    let kind = if ttl == HOPS {
                        ReplyKind::EchoReply { ident: 1, seq: 1, tag: None }
                    } else {
                        let probe = QuotedProbe::Udp { src_port: 1, dst_port: 2, checksum: None, tag: None };
                        let quote = Quote { src: None, dst: TARGET, ttl: Some(1), ip_id: None, probe };
                        let error = IcmpError {
                            class: ErrorClass::TimeExceeded,
                            icmp_type: 11,
                            icmp_code: 0,
                            mtu: None,
                            quote,
                            mpls: Vec::new(),
                        };
                        ReplyKind::IcmpError(error)
                    };
                    let rtt = Duration::from_micros(u64::from(ttl) * 1000 + u64::from(seq * 7919 % 1013));
                    let reply = Reply { from, ttl: None, size: None, kind };
                    let answer = Answer { rtt, reply, quote_rewritten: false, unverified: false };
                    let status = if lossy > 0 && seq % lossy == 7 % lossy {
                        ProbeStatus::TimedOut
                    } else {
                        ProbeStatus::Answered(answer)
                    };
                    ProbeRecord { id: ProbeId(seq), sent_at, size: 60, flow: index as u16, status, resent: None }
                })
                .collect();
            Hop { ttl, probes }
        })
        .collect()
}

#[test]
#[ignore = "a measurement: run in release with --ignored --nocapture"]
fn cost_per_push() {
    let start = Instant::now();
    for (lossy, size) in [(0, 10), (0, 100), (20, 10), (20, 100)] {
        let rounds: Vec<Vec<Hop>> = (0..1100).map(|n| round(n, start, lossy)).collect();
        let mut window = Window::new(size);
        for hops in &rounds[..size] {
            window.push(hops.clone(), TARGET);
        }
        let mut clones: Vec<Vec<Hop>> = rounds[size..].to_vec();
        let timer = Instant::now();
        for hops in clones.drain(..) {
            window.push(hops, TARGET);
        }
        let per_push = timer.elapsed().as_nanos() / (rounds.len() - size) as u128;
        assert_eq!(window.len(), size);
        let loss = if lossy == 0 { "no loss".to_owned() } else { format!("1 probe in {lossy} lost") };
        println!("window {size:>3}, {HOPS} hops, {loss}: {per_push} ns per push");
    }
}
