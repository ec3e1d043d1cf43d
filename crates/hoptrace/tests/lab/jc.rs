//! hoptrace's output parses, with `jc --traceroute`, into the same trace as traceroute(8)'s on the same lab path.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use netlab::{Family, Link, RouterOpts};

use crate::support::*;
use serde_json::Value as Json;

/// The `jc` that scripts/test.sh installs into a virtualenv: `$HOPTRACE_JC`, else `target/venv/bin/jc`.
fn jc_path() -> PathBuf {
    let path = match std::env::var_os("HOPTRACE_JC") {
        Some(path) => PathBuf::from(path),
        None => workspace_root().join("target/venv/bin/jc"),
    };
    assert!(
        path.is_file(),
        "jc (PyPI) is not at {}: run scripts/test.sh, which makes the virtualenv target/venv with jc and sets \
         HOPTRACE_JC, or point HOPTRACE_JC at a jc",
        path.display()
    );
    path
}

/// `jc --traceroute` applied to `stdout`.
fn parse_with_jc(stdout: &str, what: &str) -> Json {
    let mut child = Command::new(jc_path())
        .arg("--traceroute")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jc starts");
    child.stdin.take().expect("jc's stdin").write_all(stdout.as_bytes()).expect("jc reads its input");
    let output = child.wait_with_output().expect("jc finishes");
    let json = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "jc failed on {what}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&json).unwrap_or_else(|error| panic!("jc printed invalid JSON for {what} ({error}): {json}"))
}

/// What jc found in one hop line, RTTs left out.
#[derive(Debug, PartialEq)]
struct ParsedHop {
    ttl: f64,
    /// The responders, with the name printed for each (`None` with `-n`).
    responders: BTreeSet<(IpAddr, Option<String>)>,
    /// How many probes were answered (`*` is not listed by jc).
    answers: usize,
}

/// What jc found in a whole trace.
#[derive(Debug, PartialEq)]
struct ParsedTrace {
    destination_ip: String,
    /// `max_hops` and `data_bytes` from the header line.
    limits: (Option<f64>, Option<f64>),
    hops: Vec<ParsedHop>,
}

/// Reads jc's JSON, checking that every listed probe has an address and an RTT that is a number.
fn parsed_trace(json: &Json, what: &str, output: &str) -> ParsedTrace {
    let context = format!("{what}:\n{output}");
    let hops = json["hops"].as_array().unwrap_or_else(|| panic!("no hops from {context}"));
    let hops = hops
        .iter()
        .map(|hop| {
            let probes = hop["probes"].as_array().unwrap_or_else(|| panic!("hop without probes: {context}"));
            let mut responders = BTreeSet::new();
            for probe in probes {
                let rtt = probe["rtt"].as_f64();
                assert!(rtt.is_some_and(|rtt| rtt >= 0.0), "RTT {:?} is not a number: {context}", probe["rtt"]);
                let ip = probe["ip"].as_str().and_then(|ip| ip.parse().ok());
                let ip = ip.unwrap_or_else(|| panic!("probe without an address {probe:?}: {context}"));
                responders.insert((ip, probe["name"].as_str().map(str::to_owned)));
            }
            let ttl = hop["hop"].as_f64().unwrap_or_else(|| panic!("hop without a number: {context}"));
            ParsedHop { ttl, responders, answers: probes.len() }
        })
        .collect();
    let destination_ip = json["destination_ip"].as_str().unwrap_or_default().to_owned();
    let limits = (json["max_hops"].as_f64(), json["data_bytes"].as_f64());
    ParsedTrace { destination_ip, limits, hops }
}

#[test]
fn jc_reads_the_same_trace_from_hoptrace_as_from_traceroute() {
    let _machine = shared_machine();
    // client — r1 — r2 —(3 ms each way)— r3 — r4 (silent) — r5 — dst
    let link = |n| Link { delay: (n == 2).then_some(Duration::from_millis(3)), ..Link::default() };
    let silent = RouterOpts { silent: true, ..RouterOpts::default() };
    let (lab, client, routers, dst) = crate::chain_with_links(5, link, |spec, routers, _| {
        spec.router_opts(routers[3], silent);
    });
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family);
        let mut expected: Vec<Option<IpAddr>> =
            routers.iter().map(|&r| Some(lab.hop_addr(r, client, family))).collect();
        expected[3] = None;
        expected.push(Some(target));
        for numeric in [true, false] {
            let mut args = vec!["-q", "2"];
            args.extend(numeric.then_some("-n"));
            args.extend((family == Family::V6).then_some("-6"));
            let target = target.to_string();
            args.push(&target);

            let theirs = stdout_of(lab.command(client, "traceroute").args(&args), "traceroute");
            let ours = stdout_of(hoptrace_command(&lab, client).args(&args), "hoptrace");
            let what = format!("{family:?} {args:?}");
            let theirs_parsed = parsed_trace(&parse_with_jc(&theirs, "traceroute"), "traceroute", &theirs);
            let ours_parsed = parsed_trace(&parse_with_jc(&ours, "hoptrace"), "hoptrace", &ours);
            eprintln!("{what}\ntraceroute:\n{theirs}hoptrace:\n{ours}");

            // The headers differ in the default maximum TTL only: hoptrace's 64, traceroute's 30.
            let packet_len = if family == Family::V4 { 60.0 } else { 80.0 };
            assert_eq!(ours_parsed.limits, (Some(64.0), Some(packet_len)), "{what}");
            assert_eq!(theirs_parsed.limits, (Some(30.0), Some(packet_len)), "{what}");
            assert_eq!(
                (&ours_parsed.destination_ip, &ours_parsed.hops),
                (&theirs_parsed.destination_ip, &theirs_parsed.hops),
                "{what}: jc reads them differently\ntraceroute:\n{theirs}\nhoptrace:\n{ours}"
            );
            // Both agree; check that they agree on the lab's real path (no names: the lab has no DNS).
            assert_eq!(ours_parsed.destination_ip, target, "{what}");
            let seen: Vec<Option<IpAddr>> = ours_parsed
                .hops
                .iter()
                .map(|hop| {
                    assert!(hop.responders.len() <= 1, "{what}: several responders in {hop:?}");
                    assert!(hop.answers == 0 || hop.answers == 2, "{what}: {hop:?}");
                    let (ip, name) = hop.responders.first()?;
                    // The lab has no DNS: without -n, the name printed is the address.
                    assert_eq!(name.as_deref(), (!numeric).then(|| ip.to_string()).as_deref(), "{what}: {hop:?}");
                    Some(*ip)
                })
                .collect();
            assert_eq!(seen, expected, "{what}:\n{ours}");
            // Every `*` in the text is a probe jc leaves out, and nothing else is.
            let hop_lines = ours.lines().skip(1);
            for (hop, line) in ours_parsed.hops.iter().zip(hop_lines) {
                let stars = line.split_whitespace().filter(|&word| word == "*").count();
                assert_eq!(stars + hop.answers, 2, "{what}: {line:?} read as {hop:?}");
            }
            let ttls: Vec<f64> = ours_parsed.hops.iter().map(|hop| hop.ttl).collect();
            assert_eq!(ttls, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "{what}");
        }
    }
}

#[test]
fn a_36_hop_destination_is_found_with_default_flags_and_the_header_still_parses() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = crate::chain(35, |_, _, _| {});
    let target = lab.addr(dst, Family::V4).to_string();
    let ours = stdout_of(hoptrace_command(&lab, client).args(["-n", &target]), "hoptrace");
    let parsed = parse_with_jc(&ours, "hoptrace");
    assert_eq!((parsed["max_hops"].as_f64(), parsed["destination_ip"].as_str()), (Some(64.0), Some(&*target)));
    let mut expected: Vec<String> = routers.iter().map(|&r| lab.hop_addr(r, client, Family::V4).to_string()).collect();
    expected.push(target.clone());
    let seen: Vec<String> = parsed["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hop| hop["probes"][0]["ip"].as_str().unwrap_or("*").to_owned())
        .collect();
    assert_eq!(seen, expected, "{ours}");
    // traceroute(8), with its default of 30, stops short.
    let theirs = stdout_of(lab.command(client, "traceroute").args(["-n", &target]), "traceroute");
    let theirs = parse_with_jc(&theirs, "traceroute");
    assert_eq!(theirs["hops"].as_array().map(Vec::len), Some(30));
}
