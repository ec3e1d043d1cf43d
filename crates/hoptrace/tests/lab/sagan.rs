//! RIPE Atlas's own parser, `ripe.atlas.sagan` (PyPI), reads hoptrace's `--json` from lab traces — a complete
//! path with a silent router, and a router that rejects — in both families, and finds what hoptrace measured.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use netlab::{Family, RejectWith, RouterOpts};
use serde_json::{json, Value as Json};

use crate::support::*;

/// Prints what sagan makes of the result on stdin, as JSON.
const SAGAN_VIEW: &str = r#"
import json, sys
from ripe.atlas.sagan import TracerouteResult
r = TracerouteResult(sys.stdin.read(), on_malformation=TracerouteResult.ACTION_FAIL)
print(json.dumps({
    "af": r.af, "destination": r.destination_address, "protocol": r.protocol,
    "total_hops": r.total_hops, "destination_ip_responded": r.destination_ip_responded,
    "last_hop_errors": r.last_hop_errors, "is_success": r.is_success,
    "hops": [[[p.origin, p.rtt] for p in hop.packets if p.origin] for hop in r.hops],
}))
"#;

/// The virtualenv's python that scripts/test.sh installs sagan into: `$HOPTRACE_PYTHON`, else
/// `target/venv/bin/python`.
pub fn python() -> PathBuf {
    let path = std::env::var_os("HOPTRACE_PYTHON")
        .map_or_else(|| workspace_root().join("target/venv/bin/python"), PathBuf::from);
    assert!(
        path.is_file(),
        "no python with ripe.atlas.sagan, chdb and diamond-miner at {}: run scripts/test.sh",
        path.display()
    );
    path
}

/// sagan's view of `result`.
pub(crate) fn sagan(result: &str) -> Json {
    let mut child = Command::new(python())
        .args(["-c", SAGAN_VIEW])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child.stdin.take().expect("stdin").write_all(result.as_bytes()).expect("python reads");
    let output = child.wait_with_output().expect("python finishes");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "sagan failed on {result}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

/// Per hop, the (address, RTT) of each answer in hoptrace's own document.
fn our_answers(result: &Json) -> Vec<Vec<(String, f64)>> {
    let hops = result["result"].as_array().expect("result is a list of hops");
    hops.iter()
        .map(|hop| {
            let packets = hop["result"].as_array().expect("hop results");
            packets
                .iter()
                .filter_map(|packet| Some((packet["from"].as_str()?.to_owned(), packet["rtt"].as_f64()?)))
                .collect()
        })
        .collect()
}

/// Runs `hoptrace --json` from `client` with `args` and checks sagan against it and against `expected` (the
/// responder per hop, `None` for silence), `reached`, and the last hop's error.
fn check(lab: &netlab::Lab, client: netlab::NodeId, args: &[&str], expected: &[Option<IpAddr>], reached: bool) {
    let what = format!("{args:?}");
    let stdout = stdout_of(hoptrace_command(lab, client).args(["-n", "--json", "-q", "2"]).args(args), &what);
    let ours: Json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{what}: {e}: {stdout}"));
    let theirs = sagan(&stdout);
    eprintln!("{what}\nhoptrace: {stdout}sagan: {theirs}");
    let answers = our_answers(&ours);
    let sagan_hops: Vec<Vec<(String, f64)>> = serde_json::from_value(theirs["hops"].clone()).unwrap();
    assert_eq!(sagan_hops, answers, "{what}: sagan reads other answers than hoptrace measured");
    assert_eq!(theirs["total_hops"].as_u64(), Some(expected.len() as u64), "{what}");
    assert_eq!(theirs["destination_ip_responded"].as_bool(), Some(reached), "{what}");
    assert_eq!(theirs["destination"], ours["dst_addr"], "{what}");
    assert_eq!(theirs["af"], ours["af"], "{what}");
    for (hop, (answers, expected)) in answers.iter().zip(expected).enumerate() {
        let expected: Vec<String> = expected.iter().flat_map(|addr| [addr.to_string(), addr.to_string()]).collect();
        let seen: Vec<&String> = answers.iter().map(|(from, _)| from).collect();
        assert_eq!(seen, expected.iter().collect::<Vec<_>>(), "{what}: hop {}", hop + 1);
        assert!(answers.iter().all(|&(_, rtt)| rtt > 0.0 && rtt < 1000.0), "{what}: {answers:?}");
    }
    let errors = theirs["last_hop_errors"].as_array().unwrap();
    if reached {
        assert!(errors.is_empty(), "{what}: {errors:?}");
    } else {
        assert_eq!(errors.len(), 2, "{what}: {errors:?}");
        assert!(errors.iter().all(|error| error == "Administratively prohibited"), "{what}: {errors:?}");
    }
}

#[test]
fn sagan_reads_a_complete_path_with_a_silent_router() {
    let _machine = shared_machine();
    let silent = RouterOpts { silent: true, ..RouterOpts::default() };
    let (lab, client, routers, dst) = crate::chain(4, |spec, routers, _| spec.router_opts(routers[1], silent));
    for (family, method) in [(Family::V4, None), (Family::V4, Some("-I")), (Family::V6, None), (Family::V6, Some("-T"))]
    {
        let target = lab.addr(dst, family);
        let mut expected = crate::router_addrs(&lab, &routers, client, family);
        expected[1] = None;
        expected.push(Some(target));
        let target = target.to_string();
        let mut args: Vec<&str> = method.into_iter().collect();
        args.push(&target);
        check(&lab, client, &args, &expected, true);
    }
}

#[test]
fn sagan_reads_an_unreachable_path() {
    let _machine = shared_machine();
    let reject = RouterOpts { reject: Some(RejectWith::AdminProhibited), ..RouterOpts::default() };
    let (lab, client, routers, dst) = crate::chain(4, |spec, routers, _| spec.router_opts(routers[2], reject));
    for family in [Family::V4, Family::V6] {
        let mut expected = crate::router_addrs(&lab, &routers[..3], client, family);
        expected.push(expected[2]);
        let target = lab.addr(dst, family).to_string();
        check(&lab, client, &[&target], &expected, false);
    }
}

/// One reply kind: the probe method (`""`: UDP), the node and chain where `iptables` rejects, with what, and the
/// `err` RIPE Atlas probes write for it (their `eperd/traceroute.c`): `None` for none.
struct Kind {
    family: Family,
    method: &'static str,
    at_destination: bool,
    reject_with: &'static str,
    err: Option<Json>,
}

/// hoptrace's `--json` for `method` to `target`: the last hop's replies, and what sagan makes of the document.
fn last_hop(lab: &netlab::Lab, client: netlab::NodeId, method: &str, target: &str) -> (Vec<Json>, Json) {
    let mut command = hoptrace_command(lab, client);
    command.args(["-n", "--json", "-q", "2", "-m", "4"]).args((!method.is_empty()).then_some(method)).arg(target);
    let stdout = stdout_of(&mut command, "hoptrace --json");
    let ours: Json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let hops = ours["result"].as_array().expect("hops");
    let last = hops.last().expect("a hop")["result"].as_array().expect("replies").clone();
    (last, sagan(&stdout))
}

#[test]
fn err_and_is_success_are_what_ripe_probes_write_for_each_reply_kind() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = crate::chain(2, |_, _, _| {});
    // The destination reached: UDP's port unreachable, TCP's reset, ICMP's echo reply carry no `err`.
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family).to_string();
        for method in ["", "-T", "-I"] {
            let what = format!("{family:?} {method:?} to the destination");
            let (replies, sagan) = last_hop(&lab, client, method, &target);
            eprintln!("{what}: {replies:?}\nsagan: {sagan}");
            assert_eq!(replies.len(), 2, "{what}");
            for reply in &replies {
                assert_eq!(reply["from"], target.as_str(), "{what}");
                assert_eq!(reply.get("err"), None, "{what}");
                let flags = if method == "-T" { Some(&Json::from("RA")) } else { None };
                assert_eq!(reply.get("flags"), flags, "{what}: a reset answers a SYN with RST and ACK");
            }
            assert_eq!((&sagan["is_success"], &sagan["last_hop_errors"]), (&Json::from(true), &json!([])), "{what}");
        }
    }
    let kind =
        |family, method, at_destination, reject_with, err| Kind { family, method, at_destination, reject_with, err };
    let (v4, v6) = (Family::V4, Family::V6);
    let kinds = [
        kind(v4, "", false, "icmp-net-unreachable", Some(json!("N"))),
        kind(v4, "", false, "icmp-host-unreachable", Some(json!("H"))),
        kind(v4, "", false, "icmp-port-unreachable", None),
        kind(v4, "-I", false, "icmp-port-unreachable", Some(json!("p"))),
        kind(v4, "", false, "icmp-net-prohibited", Some(json!(9))),
        kind(v4, "", false, "icmp-host-prohibited", Some(json!(10))),
        kind(v4, "", false, "icmp-admin-prohibited", Some(json!("A"))),
        kind(v4, "-T", true, "icmp-port-unreachable", None),
        kind(v6, "", false, "icmp6-no-route", Some(json!("N"))),
        kind(v6, "", false, "icmp6-addr-unreachable", Some(json!("H"))),
        kind(v6, "", false, "icmp6-adm-prohibited", Some(json!("A"))),
        kind(v6, "-I", false, "icmp6-port-unreachable", None),
        kind(v6, "-T", true, "icmp6-port-unreachable", None),
    ];
    for kind in kinds {
        let (node, chain) = if kind.at_destination { (dst, "INPUT") } else { (routers[1], "FORWARD") };
        let iptables = if kind.family == Family::V6 { "ip6tables" } else { "iptables" };
        let rule = ["-A", chain, "-j", "REJECT", "--reject-with", kind.reject_with];
        stdout_of(lab.command(node, iptables).args(["-F", chain]), "iptables -F");
        stdout_of(lab.command(node, iptables).args(rule), "iptables -A");
        let target = lab.addr(dst, kind.family).to_string();
        let what = format!("{:?} {:?} rejected by {}", kind.family, kind.method, kind.reject_with);
        let (replies, sagan) = last_hop(&lab, client, kind.method, &target);
        stdout_of(lab.command(node, iptables).args(["-F", chain]), "iptables -F");
        eprintln!("{what}: {replies:?}\nsagan: {sagan}");
        let expected_from = if kind.at_destination {
            target.clone()
        } else {
            lab.hop_addr(routers[1], client, kind.family).to_string()
        };
        assert_eq!(replies.len(), 2, "{what}");
        for reply in &replies {
            assert_eq!(reply["from"], expected_from.as_str(), "{what}");
            assert_eq!(reply.get("err"), kind.err.as_ref(), "{what}");
        }
        // sagan: a success unless the last hop has an `err`, which it then names (its own words, or the code).
        let errors: Vec<Json> = match &kind.err {
            None => Vec::new(),
            Some(Json::String(letter)) => {
                let words = match letter.as_str() {
                    "N" => "Network unreachable",
                    "H" => "Destination unreachable",
                    "A" => "Administratively prohibited",
                    _ => "Port unreachable",
                };
                vec![json!(words); 2]
            }
            Some(code) => vec![json!(code.to_string()); 2],
        };
        assert_eq!(sagan["is_success"], Json::from(kind.err.is_none()), "{what}: {sagan}");
        assert_eq!(sagan["last_hop_errors"], Json::from(errors), "{what}: {sagan}");
    }
}
