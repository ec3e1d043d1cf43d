//! The report's rate-limit rule against the kernel: a router with Linux's default ICMP rate limit is labelled
//! rate-limited (and shows no loss), while the hops behind a lossy link are labelled loss.

use std::time::Duration;

use netlab::{Family, Link, RouterOpts};
use serde_json::Value as Json;

use crate::support::*;

#[test]
fn a_rate_limited_router_is_not_loss_and_a_lossy_link_is() {
    let _machine = shared_machine();
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
