//! Where hoptrace writes what its peers write, checked against the peers themselves on the same lab paths:
//! traceroute's `--mtu` mark (`F=N`, after the RTT of the first probe sent at the new size) and mtr's MPLS lines
//! under a hop of `--report -e`.

use std::time::Duration;

use netlab::{Family, Lab, Link, NodeId};

use crate::support::*;

/// `text` with every RTT (`0.123 ms`) written `X ms`, and the header line left out.
fn without_times(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            let masked: Vec<&str> = words
                .iter()
                .enumerate()
                .map(|(i, word)| {
                    let timed = words.get(i + 1) == Some(&"ms") && word.parse::<f64>().is_ok();
                    if timed {
                        "X"
                    } else {
                        word
                    }
                })
                .collect();
            masked.join(" ")
        })
        .collect()
}

fn run(lab: &Lab, client: NodeId, program: &str, args: &[&str]) -> String {
    let output = lab.command(client, program).args(args).output().expect("the program runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{program} {args:?}: {}{stdout}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[test]
fn the_mtu_mark_is_where_traceroute_writes_it() {
    let _machine = shared_machine();
    // The link from r2 to r3 carries 1400 bytes.
    let link = |n| Link { mtu: (n == 2).then_some(1400), ..Link::default() };
    let (lab, client, _, dst) = crate::chain_with_links(3, link, |_, _, _| {});
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family).to_string();
        let args = ["-n", "--mtu", "-q", "2", &target];
        // Each starts from the interface's MTU: the path MTU the other found is forgotten.
        flush_route_cache(&lab, client);
        let theirs = run(&lab, client, "traceroute", &args);
        flush_route_cache(&lab, client);
        let ours = run(&lab, client, env!("CARGO_BIN_EXE_hoptrace"), &args);
        eprintln!("traceroute:\n{theirs}hoptrace:\n{ours}");
        assert!(theirs.contains(" F=1400"), "{family:?}: the path has an MTU to find: {theirs}");
        assert_eq!(without_times(&ours), without_times(&theirs), "{family:?}");
    }
}

/// The MPLS labels an mtr-style screen or report shows: (hop, label, TC, S, TTL), the hop being the row above.
fn mpls_labels(lines: &[String]) -> Vec<[u32; 5]> {
    let mut hop = 0;
    let mut labels = Vec::new();
    for line in lines {
        let trimmed = line.trim_start();
        let digits = trimmed.len() - trimmed.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && trimmed[digits..].starts_with('.') {
            hop = trimmed[..digits].parse().unwrap();
        } else if let Some((_, entry)) = line.split_once("[MPLS: ") {
            let words: Vec<&str> = entry.trim_end_matches(']').split(' ').collect();
            let number = |key: &str| -> u32 {
                let at = words.iter().position(|word| *word == key).unwrap_or_else(|| panic!("{key} in {line}"));
                words[at + 1].parse().unwrap_or_else(|_| panic!("{key} in {line}"))
            };
            labels.push([hop, number("Lbl"), number("TC"), number("S"), number("TTL")]);
        }
    }
    labels
}

#[test]
fn report_e_shows_mpls_labels_as_mtr_does() {
    let _machine = shared_machine();
    // client — r1 — [two label-switching routers] — r2 — dst (as in mpls.rs).
    let link = |n| Link { mpls_routers: if n == 1 { 2 } else { 0 }, ..Link::default() };
    let (lab, client, _, dst) = crate::chain_with_links(2, link, |_, _, _| {});
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family).to_string();
        // mtr's screen with `-e` (Debian's mtr writes labels in its report only beside AS lookups, `-z`).
        let command = format!("ip netns exec {} mtr -n -e -i 0.2 {target}", lab.ns(client));
        let pane = crate::tmux::Pane::start(&command, 120, 30);
        let screen = pane.wait_for("mtr's MPLS lines", Duration::from_secs(20), |screen| {
            screen.iter().filter(|line| line.contains("[MPLS: ")).count() >= 2
        });
        drop(pane);
        let ours = run(&lab, client, env!("CARGO_BIN_EXE_hoptrace"), &["-n", "--report", "-e", "-c", "2", &target]);
        eprintln!("mtr:\n{}\nhoptrace:\n{ours}", screen.join("\n"));
        let expected = mpls_labels(&screen);
        assert_eq!(
            expected,
            [[2, 24000, 0, 1, 1], [3, 24001, 0, 1, 1]],
            "{family:?}: the lab's labels, as mtr sees them"
        );
        let ours: Vec<String> = ours.lines().map(str::to_owned).collect();
        assert_eq!(mpls_labels(&ours), expected, "{family:?}");
    }
}
