//! The report's rate-limit rule against the kernel: a router or a destination with Linux's default ICMP rate limit
//! is labelled rate-limited (and shows no loss), while the hops behind a lossy link are labelled loss.

use std::time::Duration;

use netlab::{Family, Link, RouterOpts};
use serde_json::Value as Json;

use crate::support::*;

#[test]
fn a_rate_limited_router_is_not_loss_and_a_lossy_link_is() {
    // Alone, as the destination's test below: beside the other lab tests, a reply that both busy cores delay past
    // its wait reads as loss (hop 3 read 1 % in one CI run of the full suite).
    let _machine = quiet_machine();
    // client — r1 — r2 (1 error/s after a burst) — r3 ~lossy~ r4 — dst
    let link = |n| Link { loss: (n == 3).then_some(0.3), ..Link::default() };
    let limited = RouterOpts { icmp_ratelimit_ms: Some(1000), ..RouterOpts::default() };
    let (lab, client, _, dst) = crate::chain_with_links(4, link, |spec, routers, _| {
        spec.router_opts(routers[1], limited);
    });
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family).to_string();
        let args = ["-n", "--report", "--json", "-c", "100", "--interval", "0.02", &target];
        let started = std::time::Instant::now();
        let stdout = stdout_of(hoptrace_command(&lab, client).args(args), "hoptrace --report");
        let json: Json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        let hubs = json["report"]["hubs"].as_array().expect("hubs");
        let view: Vec<(u64, f64, bool)> = hubs
            .iter()
            .map(|hub| {
                let rate_limited = hub["hoptrace"]["rate_limited"].as_bool().unwrap();
                (hub["count"].as_u64().unwrap(), hub["Loss%"].as_f64().unwrap(), rate_limited)
            })
            .collect();
        eprintln!("{family:?} in {:?}: {view:?}", started.elapsed());
        assert_eq!(view.len(), 5, "{family:?}: {stdout}");
        assert_eq!(view[0], (1, 0.0, false), "{family:?}: {view:?}");
        assert_eq!(view[1], (2, 0.0, true), "{family:?}: {view:?}");
        let answered = hubs[1]["hoptrace"]["received"].as_u64().unwrap();
        assert!(answered < 30, "{family:?}: the rate-limited router answered {answered} of 100");
        assert_eq!(view[2], (3, 0.0, false), "{family:?}: {view:?}");
        for &(ttl, loss, rate_limited) in &view[3..] {
            assert!(loss >= 10.0 && !rate_limited, "{family:?}: hop {ttl}: {view:?}");
        }
    }
    // The text report says the same, once the router's bucket (6 tokens, one a second) is full again.
    std::thread::sleep(Duration::from_secs(7));
    let target = lab.addr(dst, Family::V4).to_string();
    let text =
        stdout_of(hoptrace_command(&lab, client).args(["-n", "-c", "100", "--interval", "0.02", &target]), "text");
    eprintln!("{text}");
    let labelled: Vec<&str> = text.lines().filter(|line| line.ends_with(" rate-limited")).collect();
    assert!(labelled.len() == 1 && labelled[0].starts_with("  2.|-- "), "{text}");
}

/// Per hop of a JSON report: TTL, loss and whether it is labelled rate-limited.
fn report_view(lab: &netlab::Lab, client: netlab::NodeId, target: &str) -> (Vec<(u64, f64, bool)>, String) {
    let args = ["-n", "--report", "--json", "-c", "40", "--interval", "0.05", target];
    let stdout = stdout_of(hoptrace_command(lab, client).args(args), "hoptrace --report");
    let json: Json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let view = json["report"]["hubs"]
        .as_array()
        .expect("hubs")
        .iter()
        .map(|hub| {
            let rate_limited = hub["hoptrace"]["rate_limited"].as_bool().unwrap();
            (hub["count"].as_u64().unwrap(), hub["Loss%"].as_f64().unwrap(), rate_limited)
        })
        .collect();
    (view, stdout)
}

#[test]
fn a_rate_limited_destination_is_not_loss_and_a_lossy_one_is() {
    // Alone among the lab tests: the rule reads the limiter's pace from the probes' times, which both cores busy
    // with other lab tests stretch (IPv6's destination then read 50 % loss in 1 of 3 runs beside a bulk bench).
    let _machine = quiet_machine();
    // Every router and the destination at the kernel's default limit (a burst of 6, then one error a second):
    // nothing lies past the destination to vouch for it, so its own pace tells its limiter.
    let limited = RouterOpts { icmp_ratelimit_ms: Some(1000), ..RouterOpts::default() };
    let (lab, client, _, dst) = crate::chain_with_links(
        3,
        |_| Link::default(),
        |spec, routers, dst| {
            for &node in routers.iter().chain([&dst]) {
                spec.router_opts(node, limited);
            }
        },
    );
    for family in [Family::V4, Family::V6] {
        let (view, stdout) = report_view(&lab, client, &lab.addr(dst, family).to_string());
        eprintln!("{family:?} limited: {view:?}");
        assert_eq!(view.len(), 4, "{family:?}: {stdout}");
        // The destination shows no loss and is labelled. (The routers fall silent together now and then, once
        // their buckets run dry: with nothing answering in those rounds, their silences may read as loss.)
        assert_eq!(view[3], (4, 0.0, true), "{family:?}: {view:?}");
    }
    // No limit, but 30 % loss on the link into the destination: its silences are loss.
    let lossy = |n| Link { loss: (n == 2).then_some(0.3), ..Link::default() };
    let (lab, client, _, dst) = crate::chain_with_links(2, lossy, |_, _, _| {});
    for family in [Family::V4, Family::V6] {
        let (view, stdout) = report_view(&lab, client, &lab.addr(dst, family).to_string());
        eprintln!("{family:?} lossy: {view:?}");
        assert_eq!(view.len(), 3, "{family:?}: {stdout}");
        assert_eq!(view[..2], [(1, 0.0, false), (2, 0.0, false)], "{family:?}: {view:?}");
        let (_, loss, limited) = view[2];
        assert!(loss >= 10.0 && !limited, "{family:?}: the lossy destination: {view:?}");
    }
}
