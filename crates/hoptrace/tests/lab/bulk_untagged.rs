//! `hoptrace bulk` against replies too short to carry a probe's integrity tag, forged on the path.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use netlab::{Family, ShortReplies};

use super::bulk::{parse_csv, run_with_input, summary};
use super::support::*;

/// The count in "(N too short to carry the tag)" of the summary line.
fn untagged(stderr: &str) -> u64 {
    let (_, after) = stderr.split_once(" dropped by the integrity check (").unwrap_or_else(|| panic!("{stderr}"));
    after.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{stderr}"))
}

/// A forger in r1 sprays, while bulk probes through it, Echo Replies of 0–2 payload bytes (IPv4 and IPv6) and
/// ICMPv6 Time Exceeded messages quoting a UDP probe's headers only: replies to probes never sent. Checked, none
/// gives a row; each is counted in the summary as too short to carry the tag. With `--no-integrity-check` they
/// give rows, as caracal's do. The genuine probes are all matched either way.
#[test]
fn replies_too_short_to_carry_the_tag_give_no_rows_and_are_counted() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = crate::chain(2, |_, _, _| {});
    let (IpAddr::V4(client_v4), IpAddr::V6(client_v6), IpAddr::V6(dst_v6)) = (
        lab.hop_addr(client, routers[0], Family::V4),
        lab.hop_addr(client, routers[0], Family::V6),
        lab.addr(dst, Family::V6),
    ) else {
        panic!("addresses of each family")
    };
    let mut lines = Vec::new();
    for family in [Family::V4, Family::V6] {
        let (target, icmp) = (lab.addr(dst, family), if family == Family::V4 { "icmp" } else { "icmp6" });
        for ttl in 1..=4u8 {
            for protocol in [icmp, "udp"] {
                lines.push(format!("{target},{},33434,{ttl},{protocol}", 24000 + u16::from(ttl)));
            }
        }
    }
    let input = lines.join("\n") + "\n";
    let sent: HashSet<(IpAddr, u16, u8)> = lines
        .iter()
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[3].parse().unwrap())
        })
        .collect();
    let replies = ShortReplies {
        client_v4,
        client_v6,
        quoted_dst: dst_v6,
        src_port: 40000,
        quoted_ttl: 5,
        sprays: 50,
        every: Duration::from_millis(40),
    };
    // Rows for probes never sent, genuine rows, the summary's untagged and integrity counts, forgeries sent.
    let run = |extra: &[&str]| {
        let forging = lab.send_short_replies(routers[0], replies).expect("the forger starts");
        let mut command = hoptrace_command(&lab, client);
        command.args(["bulk", "-r", "100", "-W", "2.5", "--caracal-id", "9"]).args(extra);
        let output = run_with_input(command, &input);
        let forged = forging.join().expect("the forger ran");
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "{stderr}");
        let rows = parse_csv(&stdout);
        let never_sent = rows.iter().filter(|r| !sent.contains(&(r.probe_dst_addr, r.probe_src_port, r.probe_ttl)));
        let genuine = rows.len() - never_sent.clone().count();
        let [probes, _, _, _, _, _, integrity, _] = summary(&stderr);
        assert_eq!(probes, lines.len() as u64, "{stderr}");
        eprintln!("{extra:?}: {forged} forged; {}", stderr.lines().last().unwrap_or_default());
        (never_sent.count(), genuine, untagged(&stderr), integrity, forged)
    };
    let (never_sent, genuine, untagged, integrity, forged) = run(&[]);
    assert_eq!(never_sent, 0, "rows for probes never sent");
    assert_eq!(genuine, lines.len(), "every probe matched");
    // Most sprays land while the receiver runs; every one that does is counted.
    assert!(untagged >= forged / 2 && untagged <= forged, "{untagged} counted of {forged}");
    assert_eq!(integrity, untagged);
    let (never_sent, genuine, untagged, integrity, forged) = run(&["--no-integrity-check"]);
    assert!(never_sent as u64 >= forged / 2, "{never_sent} rows of {forged} forgeries unchecked");
    assert_eq!((genuine, untagged, integrity), (lines.len(), 0, 0));
}
