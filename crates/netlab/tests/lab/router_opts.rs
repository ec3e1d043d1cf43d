//! Router options and firewall rules: silent and rejecting routers, ICMP rate limits, loss.

use hoptrace_netlab::{Family, LabSpec, Link, RejectWith, RouterOpts};

use crate::support::{build, run, text};

#[test]
fn silent_router_is_silent_and_rejecting_router_rejects() {
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let r1 = spec.router("r1");
    let r2 = spec.router("r2");
    let dst = spec.node("dst");
    spec.link(client, r1);
    spec.link(r1, r2);
    spec.link(r2, dst);
    spec.router_opts(r1, RouterOpts { silent: true, ..RouterOpts::default() });
    spec.router_opts(r2, RouterOpts { reject: Some(RejectWith::HostProhibited), ..RouterOpts::default() });
    let lab = build(&spec);

    let expected = [
        (Family::V4, "Time to live exceeded", "Destination Host Prohibited"),
        (Family::V6, "Time exceeded: Hop limit", "Destination unreachable: Administratively prohibited"),
    ];
    for (family, expired, rejected) in expected {
        let target = lab.addr(dst, family).to_string();
        let ping = |ttl: &str| text(&run(&lab, client, "ping", &["-c1", "-W0.3", "-t", ttl, &target]));
        let at_r1 = ping("1");
        assert!(at_r1.contains("1 packets transmitted") && !at_r1.contains("From"), "{at_r1}");
        let hop = lab.hop_addr(r2, client, family);
        let at_r2 = ping("2");
        assert!(at_r2.contains(&format!("From {hop} icmp_seq=1 {expired}")), "{at_r2}");
        let through_r2 = ping("64");
        assert!(through_r2.contains(&format!("From {hop} icmp_seq=1 {rejected}")), "{through_r2}");
    }
}

#[test]
fn icmp_errors_are_rate_limited_only_on_request() {
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let strict = spec.router("strict");
    let free = spec.router("free");
    let dst = spec.node("dst");
    spec.link(client, strict);
    spec.link(client, free);
    spec.link(strict, dst);
    spec.link(free, dst);
    spec.router_opts(strict, RouterOpts { icmp_ratelimit_ms: Some(1000), ..RouterOpts::default() });
    let lab = build(&spec);

    // Twenty expiring probes 5 ms apart, once through each router.
    let expired = |router| {
        let target = lab.iface_addr(dst, router, Family::V4).to_string();
        let output = run(&lab, client, "ping", &["-c20", "-i0.005", "-W0.3", "-t1", &target]);
        text(&output).matches("Time to live exceeded").count()
    };
    assert_eq!(expired(free), 20);
    let limited = expired(strict);
    assert!((1..20).contains(&limited), "{limited} answers from the rate-limited router");
}

#[test]
fn lossy_link_and_raw_rules() {
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let r1 = spec.router("r1");
    let dst = spec.node("dst");
    spec.link_with(client, r1, Link { loss: Some(0.5), ..Link::default() });
    spec.link(r1, dst);
    spec.firewall(dst, &["-A INPUT -p icmp --icmp-type echo-request -j DROP"]);
    spec.firewall6(dst, &["-A INPUT -p ipv6-icmp --icmpv6-type echo-request -j DROP"]);
    let lab = build(&spec);

    // Each echo and each reply is lost with probability 0.5: a quarter of 100 get through.
    let target = lab.iface_addr(r1, client, Family::V4).to_string();
    let output = run(&lab, client, "ping", &["-c100", "-i0.002", "-W0.3", "-q", &target]);
    let received = text(&output)
        .split(", ")
        .find_map(|part| part.strip_suffix(" received")?.parse::<u32>().ok())
        .expect("ping's summary");
    assert!((5..=50).contains(&received), "{received} of 100 echoes came back:\n{}", text(&output));

    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family).to_string();
        let reaches_r1 = lab.iface_addr(r1, dst, family).to_string();
        let output = run(&lab, r1, "ping", &["-c1", "-W0.3", &target]);
        assert!(!output.status.success(), "dst answered despite its firewall");
        let output = run(&lab, dst, "ping", &["-c1", "-W1", &reaches_r1]);
        assert!(output.status.success(), "{}", text(&output));
    }
}
