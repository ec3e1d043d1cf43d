//! scamper's tools read hoptrace's warts (`--warts=FILE`, written beside `--json` in the same run) and find in it
//! every hop, responder and RTT of the JSON: `sc_warts2json`, `sc_analysis_dump` and `sc_tracediff` (Debian's
//! scamper 20211212), for a trace, a multipath discovery (scamper's tracelb) and `bulk --targets`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use netlab::{Family, LabSpec, NodeId};
use serde_json::Value as Json;

use crate::support::*;

/// Per TTL, the (responder, RTT to the microsecond) of each answer, in order.
type Answers = BTreeMap<u64, Vec<(String, String)>>;

/// A file of this test's own under the temporary directory, removed first.
fn scratch(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("hoptrace-warts-{}-{name}.warts", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// The stdout of scamper's `tool` run on `args`.
fn sc(tool: &str, args: &[&Path]) -> String {
    stdout_of(Command::new(tool).args(args), tool)
}

/// The records `sc_warts2json` reads in `file`.
fn warts2json(file: &Path) -> Vec<Json> {
    let stdout = sc("sc_warts2json", &[file]);
    stdout.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect()
}

fn ms(rtt: f64) -> String {
    format!("{rtt:.3}")
}

/// The answers of one of our RIPE Atlas documents.
fn json_answers(document: &Json) -> Answers {
    let mut answers = Answers::new();
    for hop in document["result"].as_array().expect("hops") {
        let replies = hop["result"].as_array().expect("replies").iter();
        let found = replies.filter_map(|r| Some((r["from"].as_str()?.to_owned(), ms(r["rtt"].as_f64()?))));
        answers.entry(hop["hop"].as_u64().expect("hop")).or_default().extend(found);
    }
    answers.retain(|_, found| !found.is_empty());
    answers
}

/// The answers of a trace record as `sc_warts2json` writes it.
fn warts_answers(trace: &Json) -> Answers {
    let mut answers = Answers::new();
    for hop in trace["hops"].as_array().expect("hops") {
        let found = (hop["addr"].as_str().expect("addr").to_owned(), ms(hop["rtt"].as_f64().expect("rtt")));
        answers.entry(hop["probe_ttl"].as_u64().expect("probe_ttl")).or_default().push(found);
    }
    answers
}

/// Checks the `T` line `sc_analysis_dump` makes of a trace against our document: the destination, whether it
/// replied and its first answer's RTT, and per hop every other answer as `address,RTT,try`.
fn check_dump(line: &str, document: &Json, what: &str) {
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!((fields[0], fields[2]), ("T", document["dst_addr"].as_str().unwrap()), "{what}: {line}");
    let reached = document["hoptrace"]["outcome"] == "reached";
    assert_eq!(fields[6], if reached { "R" } else { "N" }, "{what}: {line}");
    let mut hops: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for hop in document["result"].as_array().expect("hops") {
        let replies = hop["result"].as_array().expect("replies").iter().enumerate();
        let found =
            replies.filter_map(|(i, r)| Some(format!("{},{},{}", r["from"].as_str()?, ms(r["rtt"].as_f64()?), i + 1)));
        hops.insert(hop["hop"].as_u64().expect("hop"), found.collect());
    }
    if reached {
        let last = hops.values_mut().last().expect("hops");
        let first = last.remove(0);
        assert_eq!(fields[7], first.split(',').nth(1).unwrap(), "{what}: the destination's RTT: {line}");
    }
    let mut expected: Vec<String> =
        hops.values().map(|found| if found.is_empty() { "q".to_owned() } else { found.join(";") }).collect();
    while expected.last().is_some_and(|hop| hop == "q") {
        expected.pop();
    }
    assert_eq!(fields[13..], expected, "{what}: {line}");
}

#[test]
fn scamper_reads_a_trace_hop_for_hop_and_tracediff_finds_scampers_own_path() {
    let _machine = shared_machine();
    let (lab, client, _routers, dst) = crate::chain(3, |_, _, _| {});
    for (family, method) in [(Family::V4, "udp-paris"), (Family::V6, "icmp-paris"), (Family::V4, "tcp")] {
        let what = format!("{family:?} {method}");
        let target = lab.addr(dst, family).to_string();
        let file = scratch(&format!("trace-{method}"));
        let warts = format!("--warts={}", file.display());
        let flag = match method {
            "icmp-paris" => Some("-I"),
            "tcp" => Some("-T"),
            _ => None,
        };
        let mut command = hoptrace_command(&lab, client);
        command.args(["-n", "--json", "-q", "2"]).args(flag).args([&warts, &target]);
        let stdout = stdout_of(&mut command, &what);
        let document: Json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{what}: {e}: {stdout}"));
        let records = warts2json(&file);
        let kinds: Vec<&str> = records.iter().map(|r| r["type"].as_str().unwrap_or("?")).collect();
        assert_eq!(kinds, ["cycle-start", "trace", "cycle-stop"], "{what}");
        let trace = &records[1];
        eprintln!("{what}\nhoptrace: {stdout}warts: {trace}");
        assert_eq!((&trace["dst"], &trace["src"].is_string()), (&document["dst_addr"], &true), "{what}");
        assert_eq!(warts_answers(trace), json_answers(&document), "{what}: sc_warts2json");
        assert_eq!(trace["stop_reason"], "COMPLETED", "{what}");
        let text = sc("sc_warts2text", &[&file]);
        assert!(text.starts_with(&format!("traceroute from {} to {target}\n", trace["src"].as_str().unwrap())));
        let dump = sc("sc_analysis_dump", &[&file]);
        let lines: Vec<&str> = dump.lines().filter(|line| !line.starts_with('#')).collect();
        assert_eq!(lines.len(), 1, "{what}: {dump}");
        check_dump(lines[0], &document, &what);

        // scamper's own trace of the same path: sc_tracediff finds no difference, and shows both with -a.
        let theirs = scratch(&format!("scamper-{method}"));
        let command = format!("trace -P {method} -q 1 -w 1");
        stdout_of(
            lab.command(client, "scamper")
                .args(["-O", "warts", "-o"])
                .arg(&theirs)
                .args(["-c", &command, "-i", &target]),
            "scamper",
        );
        let diff = sc("sc_tracediff", &[&file, &theirs]);
        assert_eq!(diff, "", "{what}: sc_tracediff sees another path than scamper's");
        let all = stdout_of(Command::new("sc_tracediff").arg("-a").arg(&file).arg(&theirs), "sc_tracediff -a");
        assert!(all.contains(&target), "{what}: {all}");
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_file(&theirs);
    }
}

#[test]
fn scamper_reads_an_mda_run_as_tracelb_with_every_link_and_rtt() {
    let _machine = shared_machine();
    // client — r1 — {r2a, r2b} — r3 — dst.
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let r1 = spec.router("r1");
    let r2: Vec<NodeId> = ["r2a", "r2b"].map(|name| spec.router(name)).to_vec();
    let r3 = spec.router("r3");
    let dst = spec.node("dst");
    spec.link(client, r1);
    for &branch in &r2 {
        spec.link(r1, branch);
        spec.link(branch, r3);
    }
    spec.link(r3, dst);
    let lab = netlab::Lab::build(&spec).expect("the lab builds (this test needs root)");
    let target = lab.addr(dst, Family::V4).to_string();
    let file = scratch("mda");
    let warts = format!("--warts={}", file.display());
    let stdout =
        stdout_of(hoptrace_command(&lab, client).args(["-n", "--mda", "--json", &warts, &target]), "hoptrace --mda");
    let document: Json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let records = warts2json(&file);
    let kinds: Vec<&str> = records.iter().map(|r| r["type"].as_str().unwrap_or("?")).collect();
    assert_eq!(kinds, ["cycle-start", "tracelb", "cycle-stop"]);
    let lb = &records[1];
    eprintln!("hoptrace: {stdout}warts: {lb}");
    assert_eq!(lb["dst"], document["dst_addr"]);
    assert_eq!(lb["probec"], document["probes_sent"]);
    assert_eq!(lb["confidence"], 95);
    let addrs = |list: &Json, key: &str| -> BTreeSet<String> {
        list.as_array().expect("list").iter().map(|item| item[key].as_str().expect("addr").to_owned()).collect()
    };
    assert_eq!(lb["nodec"].as_u64(), document["nodes"].as_array().map(|nodes| nodes.len() as u64));
    let mut nodes = addrs(&lb["nodes"], "addr");
    let mut links = BTreeSet::new();
    let mut answers = Answers::new();
    for node in lb["nodes"].as_array().expect("nodes") {
        // Each link one probe set (no silent hop between its ends); sc_warts2json writes a node's links in one
        // list, so each entry there is a link.
        let sets =
            node["links"].as_array().into_iter().flatten().flat_map(|sets| sets.as_array().into_iter().flatten());
        for hop in sets {
            links.insert((node["addr"].as_str().unwrap().to_owned(), hop["addr"].as_str().unwrap().to_owned()));
            nodes.insert(hop["addr"].as_str().unwrap().to_owned());
            for probe in hop["probes"].as_array().expect("probes") {
                for reply in probe["replies"].as_array().expect("replies") {
                    let found = (hop["addr"].as_str().unwrap().to_owned(), ms(reply["rtt"].as_f64().unwrap()));
                    answers.entry(probe["ttl"].as_u64().unwrap()).or_default().push(found);
                }
            }
        }
    }
    let ours: BTreeSet<(String, String)> = document["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|link| (link["from"].as_str().unwrap().to_owned(), link["to"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(links, ours, "every link");
    assert_eq!(nodes, addrs(&document["nodes"], "addr"), "every interface a node");
    // Every answer past the first hop is on a link (the first hop's are on none, as in scamper's records).
    let mut expected = json_answers(&document);
    expected.remove(&1);
    for found in answers.values_mut().chain(expected.values_mut()) {
        found.sort();
    }
    assert_eq!(answers, expected, "every probe's responder and RTT");
    let text = sc("sc_warts2text", &[&file]);
    assert!(text.starts_with(&format!("tracelb from {} to {target}", lb["src"].as_str().unwrap())), "{text}");
    // sc_analysis_dump and sc_tracediff read traces only: they pass over a tracelb record, as over scamper's own.
    let dump = sc("sc_analysis_dump", &[&file]);
    assert!(dump.lines().all(|line| line.starts_with('#')), "{dump}");
    assert_eq!(sc("sc_tracediff", &[&file, &file]), "");
    let theirs = scratch("scamper-tracelb");
    let mut scamper = lab.command(client, "scamper");
    scamper.args(["-O", "warts", "-o"]).arg(&theirs).args(["-c", "tracelb -P udp-dport", "-i", &target]);
    stdout_of(&mut scamper, "scamper tracelb");
    let kinds: Vec<Json> = warts2json(&theirs).iter().map(|record| record["type"].clone()).collect();
    assert_eq!(kinds, ["cycle-start", "tracelb", "cycle-stop"]);
    let dump = sc("sc_analysis_dump", &[&theirs]);
    assert!(dump.lines().all(|line| line.starts_with('#')), "scamper's own tracelb: {dump}");
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&theirs);
}

#[test]
fn scamper_reads_a_bulk_targets_run_trace_by_trace() {
    let _machine = shared_machine();
    let net = crate::bulk::bulk_lab();
    let targets: Vec<IpAddr> = vec![crate::bulk::v4_dst(1), crate::bulk::v4_dst(2), crate::bulk::v6_dst(1)];
    let input: String = targets.iter().map(|t| format!("{t}\n")).collect();
    let file = scratch("bulk");
    let warts = format!("--warts={}", file.display());
    let mut command = hoptrace_command(&net.lab, net.client);
    command.args(["bulk", "--targets", "-", &warts, "-r", "5000", "-W", "0.3", "-m", "10"]);
    let output = crate::bulk::run_with_input(command, &input);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let documents: Vec<Json> = stdout.lines().map(|line| serde_json::from_str(line).expect("JSON")).collect();
    assert_eq!(documents.len(), targets.len(), "{stdout}");
    let records = warts2json(&file);
    let kinds: Vec<&str> = records.iter().map(|r| r["type"].as_str().unwrap_or("?")).collect();
    assert_eq!(kinds, ["cycle-start", "trace", "trace", "trace", "cycle-stop"]);
    let dump = sc("sc_analysis_dump", &[&file]);
    let lines: Vec<&str> = dump.lines().filter(|line| !line.starts_with('#')).collect();
    assert_eq!(lines.len(), targets.len(), "{dump}");
    for ((document, trace), line) in documents.iter().zip(&records[1..]).zip(&lines) {
        let what = document["dst_addr"].to_string();
        assert_eq!(trace["dst"], document["dst_addr"]);
        assert_eq!(warts_answers(trace), json_answers(document), "{what}: sc_warts2json");
        assert!(warts_answers(trace).len() >= 5, "{what}: {trace}");
        check_dump(line, document, &what);
    }
    // The same file against itself: sc_tracediff matches every trace to its own and finds no difference.
    assert_eq!(sc("sc_tracediff", &[&file, &file]), "");
    let all = stdout_of(Command::new("sc_tracediff").arg("-a").arg(&file).arg(&file), "sc_tracediff -a");
    assert!(targets.iter().all(|target| all.contains(&target.to_string())), "{all}");
    let _ = std::fs::remove_file(&file);
}
