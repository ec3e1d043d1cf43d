//! `hoptrace bulk` in a user's first hour: MDA's text counts each target's probes, and special destinations
//! (broadcast, unspecified, loopback, multicast) are never probed unless asked.

use std::net::IpAddr;

use netlab::{Lab, LabSpec, NodeId};

use crate::bulk::{run_with_input, summary, v4_dst, v6_dst, V4_RANGE, V6_RANGE};
use crate::support::*;

/// client — r1 — r2 — dst, `dst` answering for the bulk ranges.
fn chain_lab() -> (Lab, NodeId, NodeId) {
    let mut spec = LabSpec::new();
    let (client, routers, dst) = spec.chain(2, |_| netlab::Link::default());
    spec.anyip(dst, IpAddr::V4(V4_RANGE.0), V4_RANGE.1);
    spec.anyip(dst, IpAddr::V6(V6_RANGE.0), V6_RANGE.1);
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    (lab, client, routers[0])
}

#[test]
fn mda_text_counts_the_probes_of_each_target_alone() {
    let _machine = shared_machine();
    let (lab, client, _) = chain_lab();
    let input: String = (1..=3).map(|n| format!("{}\n", v4_dst(n))).collect();
    let mut command = hoptrace_command(&lab, client);
    command.args(["bulk", "--targets", "-", "--mda", "--text", "-r", "2000", "-W", "0.3", "-m", "6"]);
    let output = run_with_input(command, &input);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    // Per target: the probes its hop lines show, and the count its last line gives.
    let mut targets: Vec<(usize, usize)> = Vec::new();
    for line in stdout.lines() {
        if line.starts_with("traceroute to ") {
            targets.push((0, 0));
        } else if let Some((spent, _)) = line.split_once(" probes sent;") {
            targets.last_mut().expect("a header first").1 = spent.parse().expect("a count");
        } else if let Some((_, probes)) = line.rsplit_once('/') {
            let probes = probes.trim_end_matches(" probes)").parse::<usize>().expect("a hop's probes");
            targets.last_mut().expect("a header first").0 += probes;
        }
    }
    assert_eq!(targets.len(), 3, "{stdout}");
    for (shown, said) in &targets {
        assert!(*shown > 0 && shown == said, "{targets:?}\n{stdout}");
    }
}

/// The special destinations of one probe each (UDP to port 33434), IPv4 and IPv6.
const SPECIAL: [&str; 8] =
    ["255.255.255.255", "0.0.0.0", "127.0.0.1", "224.0.0.1", "::ffff:127.0.0.1", "::1", "::", "ff02::1"];

/// Counts, in `node`, UDP datagrams to port 33434 for special destinations: arriving on `iface` (before any
/// routing, so that even those the kernel would drop are seen) and, with `output`, leaving through the routing.
fn count_special(lab: &Lab, node: NodeId, iface: &str, output: bool) {
    let sets = "ip daddr { 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4, 255.255.255.255 } udp dport 33434 counter\n\
                ip6 daddr { ::, ::1, ::ffff:0:0/96, ff00::/8 } udp dport 33434 counter";
    let mut script = format!(
        "table netdev special {{\n chain in {{\n type filter hook ingress device {iface} priority 0;\n{sets}\n }}\n}}\n"
    );
    if output {
        script.push_str(&format!(
            "table inet special {{\n chain out {{\n type filter hook output priority 0;\n{sets}\n }}\n}}\n"
        ));
    }
    let path = std::env::temp_dir().join(format!("hoptrace-special-{}-{iface}.nft", std::process::id()));
    std::fs::write(&path, script).unwrap();
    stdout_of(lab.command(node, "nft").arg("-f").arg(&path), "nft -f");
    let _ = std::fs::remove_file(path);
}

/// The packets the counters of [`count_special`] in `node` counted.
fn special_counted(lab: &Lab, node: NodeId) -> u64 {
    let rules = stdout_of(lab.command(node, "nft").args(["list", "ruleset"]), "nft list ruleset");
    let words: Vec<&str> = rules.split_whitespace().collect();
    words.windows(2).filter(|w| w[0] == "packets").map(|w| w[1].parse::<u64>().expect("a count")).sum()
}

#[test]
fn special_destinations_are_skipped_and_counted_unless_asked_for() {
    let _machine = shared_machine();
    let (lab, client, r1) = chain_lab();
    count_special(&lab, client, "lo", true);
    count_special(&lab, r1, &lab.iface(r1, client), false);
    // A lab destination of each family first: its way out (the gateway's Ethernet address) would carry the rest.
    let mut lines = vec![format!("{},24000,33434,8,udp", v4_dst(1)), format!("{},24000,33434,8,udp", v6_dst(1))];
    lines.extend(SPECIAL.iter().map(|dst| format!("{dst},24000,33434,8,udp")));
    let input = lines.join("\n") + "\n";
    let mut command = hoptrace_command(&lab, client);
    command.args(["bulk", "-r", "1000", "-W", "0.5"]);
    let output = run_with_input(command, &input);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let [sent, refused, ..] = summary(&stderr);
    assert_eq!((sent, refused), (2, 0), "{stderr}");
    let line = stderr.lines().find(|l| l.contains("probes sent")).unwrap();
    assert!(line.contains(", 8 to special destinations skipped,"), "{line}");
    assert!(stderr.contains("hoptrace bulk: line 3: 255.255.255.255 is a broadcast address: not probed"), "{stderr}");
    assert_eq!((special_counted(&lab, client), special_counted(&lab, r1)), (0, 0), "{stderr}");
    // Asked for, they go: the counters see them (so they would have seen any before).
    let mut command = hoptrace_command(&lab, client);
    command.args(["bulk", "-r", "1000", "-W", "0.5", "--allow-special-destinations"]);
    let output = run_with_input(command, &input);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let [sent, refused, ..] = summary(&stderr);
    assert_eq!(sent + refused, 10, "{stderr}");
    assert!(special_counted(&lab, client) + special_counted(&lab, r1) > 0, "{stderr}");
}
