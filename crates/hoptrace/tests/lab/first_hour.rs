//! What a new user meets in the first hour, beside traceroute(8) and tracepath(8) on the same lab paths: probes
//! too big for the local link, IPv6 unreachables that end a trace, large IPv6 probes, `-A` offline, tracepath on
//! loopback.

use netlab::Family;

use crate::support::*;

/// The words of traceroute-layout hop lines, the RTTs (`0.123 ms`) left out.
fn hop_words(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip(1)
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut kept = Vec::new();
            for (index, word) in words.iter().enumerate() {
                let rtt = words.get(index + 1) == Some(&"ms") && word.parse::<f64>().is_ok();
                if !rtt && *word != "ms" {
                    kept.push((*word).to_owned());
                }
            }
            kept
        })
        .collect()
}

/// `-F` with probes bigger than the local link: traceroute marks each probe `!F-1500` at hop 1 and stops there.
#[test]
fn probes_too_big_for_the_local_link_end_the_trace_with_the_mtu() {
    let _machine = shared_machine();
    let (lab, client, _routers, dst) = crate::chain(2, |_, _, _| {});
    for case in all_cases().into_iter().filter(|case| case.method != Method::Tcp) {
        let target = lab.addr(dst, case.family);
        let output = hoptrace_len(&lab, client, case, target, &["-F", "-w", "1"], Some(1600));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{case:?}: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
        let expected = ["1", "*", "!F-1500", "*", "!F-1500", "*", "!F-1500"].map(String::from).to_vec();
        assert_eq!(hop_words(&stdout), [expected.clone()], "{case:?}:\n{stdout}");
        if !case.unprivileged && case.method == Method::Udp {
            let target = target.to_string();
            let theirs = stdout_of(lab.command(client, "traceroute").args(["-n", "-F", &target, "1600"]), "traceroute");
            assert_eq!(hop_words(&theirs), [expected], "{case:?}: traceroute(8) prints\n{theirs}");
        }
    }
}

/// ICMPv6 Destination Unreachable codes 5 (source address failed policy) and 6 (reject route) end the trace where
/// they come from, as traceroute's `!<5>` and `!<6>` do.
#[test]
fn policy_and_reject_route_unreachables_end_an_ipv6_trace() {
    for (code, reject_with) in [(5, "icmp6-policy-fail"), (6, "icmp6-reject-route")] {
        let _machine = shared_machine();
        let rule = format!("-A FORWARD -j REJECT --reject-with {reject_with}");
        let (lab, client, routers, dst) = crate::chain(3, |spec, routers, _| spec.firewall6(routers[2], &[&rule]));
        for case in all_cases().into_iter().filter(|case| case.family == Family::V6) {
            let target = lab.addr(dst, case.family);
            let path = hops(&hoptrace(&lab, client, case, target, &["-q", "1"]), case);
            let mut expected = crate::router_addrs(&lab, &routers, client, case.family);
            expected.push(expected[2]);
            assert_path(&path, &expected, case);
            assert!(path[3].text.ends_with(&format!(" !<{code}>")), "{case:?}: {}", path[3].text);
        }
        let target = lab.addr(dst, Family::V6).to_string();
        let theirs = stdout_of(lab.command(client, "traceroute").args(["-n", "-q", "1", &target]), "traceroute");
        let ours = stdout_of(hoptrace_command(&lab, client).args(["-n", "-q", "1", &target]), "hoptrace");
        assert_eq!(hop_words(&ours), hop_words(&theirs), "traceroute(8):\n{theirs}\nhoptrace:\n{ours}");
    }
}
