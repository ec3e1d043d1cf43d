//! The page of a fixed history of metrics, byte for byte: `testdata/page.txt` was written by the
//! prometheus-client registry this exporter used before its page was written by hand.

use core::net::IpAddr;
use core::time::Duration;
use std::time::Instant;

use engine::{
    Answer, ErrorClass, Hop, IcmpError, ProbeId, ProbeRecord, ProbeStatus, Quote, QuotedProbe, Reply, ReplyKind,
};
use hoptrace_core::Report;

use super::exposition::Format;
use super::metrics::{Detail, HopInfo, Metrics, RunResult};

/// An echo reply from `target`, Time Exceeded from a router.
fn kind(from: IpAddr, target: IpAddr) -> ReplyKind {
    if from == target {
        return ReplyKind::EchoReply { ident: 1, seq: 1, tag: None };
    }
    let probe = QuotedProbe::Icmp { ident: 1, seq: 1, checksum: None, tag: None };
    let quote = Quote { src: None, dst: target, ttl: Some(1), ip_id: None, probe };
    let class = ErrorClass::TimeExceeded;
    ReplyKind::IcmpError(IcmpError { class, icmp_type: 11, icmp_code: 0, mtu: None, quote, mpls: Vec::new() })
}

/// A round: per TTL, who answered each probe (`None`: no one) and after how many ms.
fn round(target: IpAddr, hops: &[&[Option<(IpAddr, u64)>]]) -> Vec<Hop> {
    let hops = hops.iter().zip(1..);
    hops.map(|(probes, ttl)| {
        let probes = probes.iter().map(|probe| {
            let status = match probe {
                None => ProbeStatus::TimedOut,
                Some((from, ms)) => ProbeStatus::Answered(Answer {
                    rtt: Duration::from_millis(*ms),
                    reply: Reply { from: *from, ttl: None, size: None, kind: kind(*from, target) },
                    quote_rewritten: false,
                    unverified: false,
                }),
            };
            ProbeRecord { id: ProbeId(0), sent_at: Instant::now(), size: 60, flow: 0, status, resent: None }
        });
        Hop { ttl, probes: probes.collect() }
    })
    .collect()
}

fn info(ttl: u8, address: &str, name: &str, asn: &str) -> HopInfo {
    HopInfo { ttl, address: address.to_owned(), name: name.to_owned(), asn: asn.to_owned() }
}

/// Every kind of update, on targets whose names sort as numbers and as text, one with characters to escape.
pub fn history(metrics: &Metrics) {
    let targets = ["198.18.0.10", "198.18.0.9", "10", "9", "host.test", "we\"ird\\name", "gone"];
    for target in targets {
        metrics.add_target(target);
    }
    let dst: IpAddr = "198.18.0.10".parse().expect("address");
    let r1: IpAddr = "198.18.1.1".parse().expect("address");
    let r2: IpAddr = "198.18.2.1".parse().expect("address");
    let r2b: IpAddr = "198.18.2.2".parse().expect("address");
    let mut report = Report::new();
    for ms in [1, 7, 3] {
        let hops = round(
            dst,
            &[&[Some((r1, ms)), None], &[Some((r2, ms + 1)), Some((r2b, 2))], &[None, None], &[Some((dst, ms + 4))]],
        );
        report.add_round(&hops, dst);
    }
    for (target, result, seconds) in [
        ("198.18.0.10", RunResult::Reached, 0.25),
        ("198.18.0.10", RunResult::Reached, 1.5),
        ("10", RunResult::Unreached, 3.0),
        ("9", RunResult::Failed, 0.0),
        ("we\"ird\\name", RunResult::Reached, 0.125),
    ] {
        metrics.record_run(target, result, seconds);
    }
    metrics.count_probes("198.18.0.10", 32);
    metrics.count_probes("10", 7);
    metrics.record_error("9", "resolve");
    metrics.record_error("9", "network");
    metrics.record_error("host.test", "resolve");
    metrics.set_backoff("9", 2.5);
    for rtt in [0.0, 0.00005, 0.0003, 0.01, 1.0, 26.2144, 30.0, 0.0123456789] {
        metrics.observe_destination_rtt("198.18.0.10", rtt);
    }
    metrics.observe_destination_rtt("we\"ird\\name", 0.002);
    metrics.set_path("198.18.0.10", Some(0xabc), false);
    metrics.set_path("198.18.0.10", Some(0xdef), true);
    metrics.set_path("10", Some(u64::MAX - 5), true);
    metrics.set_path("we\"ird\\name", Some(1), false);
    metrics.set_path("we\"ird\\name", None, true);
    let named = [
        info(1, "198.18.1.1", "r1.lab", "64500"),
        info(2, "198.18.2.1", "", ""),
        info(2, "198.18.2.2", "b\"ad\nname", "64500 64501"),
        info(4, "198.18.0.10", "dst.lab", ""),
    ];
    metrics.set_hops("198.18.0.10", Some(&report), &named);
    metrics.set_hops("10", Some(&report), &named[..1]);
    metrics.set_hops("we\"ird\\name", Some(&report), &named);
    metrics.set_hops("we\"ird\\name", None, &[]);
    metrics.set_hops("gone", Some(&report), &named);
    metrics.record_run("gone", RunResult::Reached, 1.0);
    metrics.remove_target("gone");
}

#[test]
fn the_page_of_a_history_is_the_registrys() {
    let mut page = String::new();
    for detail in [Detail::Hops, Detail::Path, Detail::None] {
        let metrics = Metrics::new(detail);
        history(&metrics);
        page.push_str(&format!("--- {detail:?}\n"));
        let openmetrics = metrics.encode();
        page.push_str(&openmetrics);
        let mut classic = Vec::new();
        metrics.write(Format::Classic, &mut classic).expect("written");
        assert_eq!(String::from_utf8(classic).expect("UTF-8"), Format::Classic.render(openmetrics), "{detail:?}");
    }
    if std::env::var_os("HOPTRACE_WRITE_GOLDEN").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/src/exporter/testdata/page.txt"), &page).expect("written");
    }
    assert_eq!(page, include_str!("testdata/page.txt"));
}

#[test]
fn a_targets_own_detail_wins_over_the_monitors() {
    let metrics = Metrics::new(Detail::Path);
    history(&metrics);
    metrics.set_detail("198.18.0.10", Some(Detail::None));
    metrics.set_detail("10", Some(Detail::Hops));
    let report = {
        let dst: IpAddr = "198.18.0.10".parse().expect("address");
        let r1: IpAddr = "198.18.1.1".parse().expect("address");
        let mut report = Report::new();
        report.add_round(&round(dst, &[&[Some((r1, 1))], &[Some((dst, 2))]]), dst);
        report
    };
    let hops = |page: &str, target: &str| {
        let prefix = format!("hoptrace_hop_loss_ratio{{target=\"{target}\",");
        page.lines().filter(|line| line.starts_with(&prefix)).count()
    };
    // Until their next round, the targets keep the hops their last one gave.
    let page = metrics.encode();
    assert_eq!([hops(&page, "198.18.0.10"), hops(&page, "10")], [1, 1]);
    for target in ["198.18.0.10", "10", "we\"ird\\name"] {
        metrics.set_hops(target, Some(&report), &[]);
    }
    let page = metrics.encode();
    assert_eq!([hops(&page, "198.18.0.10"), hops(&page, "10"), hops(&page, "we\\\"ird\\\\name")], [0, 2, 1]);
    metrics.set_detail("10", None);
    metrics.set_hops("10", Some(&report), &[]);
    assert_eq!(hops(&metrics.encode(), "10"), 1);
}
