//! `hoptrace --tracepath` finds the same path MTU, at the same hops, as iputils tracepath(8) on the same lab path.

use std::collections::BTreeSet;
use std::net::IpAddr;

use netlab::{Family, Link};

use crate::support::*;

/// What a tracepath-layout output says, timings left out.
#[derive(Debug, PartialEq)]
struct TracepathReport {
    /// Every (TTL, responder) line; tracepath repeats some TTLs, so a set.
    responders: BTreeSet<(u8, IpAddr)>,
    /// The lines that report a new path MTU: (TTL, responder, MTU).
    pmtu_changes: BTreeSet<(u8, IpAddr, u32)>,
    /// The last hop line, timings left out (`reached` is its last word when the destination answered).
    last_hop: String,
    /// `Resume: pmtu P hops H back B`.
    resume: (u32, u8, u8),
}

/// The number after `word` in `words`.
fn number_after<T: std::str::FromStr>(words: &[&str], word: &str) -> Option<T> {
    words.windows(2).find(|pair| pair[0] == word).and_then(|pair| pair[1].parse().ok())
}

/// Parses tracepath's numeric (`-n`) layout.
fn parse_tracepath(stdout: &str, what: &str) -> TracepathReport {
    let mut report = TracepathReport {
        responders: BTreeSet::new(),
        pmtu_changes: BTreeSet::new(),
        last_hop: String::new(),
        resume: (0, 0, 0),
    };
    let mut resumed = false;
    for line in stdout.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(&first) = words.first() else { continue };
        if first == "Resume:" {
            let resume = (number_after(&words, "pmtu"), number_after(&words, "hops"), number_after(&words, "back"));
            let (Some(pmtu), Some(hops), Some(back)) = resume else { panic!("{what}: {line:?}\n{stdout}") };
            report.resume = (pmtu, hops, back);
            resumed = true;
            continue;
        }
        let Some(ttl) = first.strip_suffix(':').and_then(|ttl| ttl.parse::<u8>().ok()) else {
            assert!(first.ends_with("?:"), "{what}: unexpected line {line:?}\n{stdout}");
            continue;
        };
        let without_times: Vec<&str> = words.iter().copied().filter(|word| !word.ends_with("ms")).collect();
        report.last_hop = without_times.join(" ");
        if words[1..] == ["no", "reply"] {
            continue;
        }
        let addr: IpAddr = words[1].parse().unwrap_or_else(|_| panic!("{what}: no address in {line:?}\n{stdout}"));
        report.responders.insert((ttl, addr));
        if let Some(pmtu) = number_after(&words, "pmtu") {
            report.pmtu_changes.insert((ttl, addr, pmtu));
        }
    }
    assert!(resumed, "{what}: no Resume line\n{stdout}");
    report
}

#[test]
fn path_mtu_changes_agree_with_tracepath() {
    let _machine = shared_machine();
    // client — r1 —(MTU 1400)— r2 — r3 —(MTU 1280)— r4 — dst
    let mtus = [None, Some(1400), None, Some(1280), None];
    let link = |n: usize| Link { mtu: mtus[n], ..Link::default() };
    let (lab, client, routers, dst) = crate::chain_with_links(4, link, |_, _, _| {});
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family).to_string();
        // Each tool must discover the MTUs itself: forget what the other one taught the kernel.
        flush_route_cache(&lab, client);
        let theirs = stdout_of(lab.command(client, "tracepath").args(["-n", &target]), "tracepath");
        flush_route_cache(&lab, client);
        let ours = stdout_of(hoptrace_command(&lab, client).args(["--tracepath", "-n", &target]), "hoptrace");
        eprintln!("{family:?}\ntracepath:\n{theirs}hoptrace --tracepath:\n{ours}");
        let theirs_report = parse_tracepath(&theirs, "tracepath");
        let ours_report = parse_tracepath(&ours, "hoptrace --tracepath");
        assert_eq!(ours_report, theirs_report, "{family:?}\ntracepath:\n{theirs}\nhoptrace --tracepath:\n{ours}");

        // Both agree; check that they agree with the lab. A probe of TTL n + 1 passes router n's TTL check and
        // then does not fit the narrow link after it: router n answers Fragmentation Needed / Packet Too Big.
        let hop = |index: usize| lab.hop_addr(routers[index], client, family);
        let expected_changes = BTreeSet::from([(2, hop(0), 1400), (4, hop(2), 1280)]);
        assert_eq!(ours_report.pmtu_changes, expected_changes, "{family:?}:\n{ours}");
        assert_eq!(ours_report.last_hop, format!("5: {target} reached"), "{family:?}:\n{ours}");
        assert_eq!(ours_report.resume, (1280, 5, 5), "{family:?}:\n{ours}");
        assert!(ours.starts_with(" 1?: [LOCALHOST]"), "{family:?}:\n{ours}");
        let first_line: Vec<&str> = ours.lines().next().unwrap_or_default().split_whitespace().collect();
        assert_eq!(number_after::<u32>(&first_line, "pmtu"), Some(1500), "{family:?}: the first MTU is the client's");
    }
}
