//! RIPE Atlas's own parser, `ripe.atlas.sagan` (PyPI), reads hoptrace's `--json` from lab traces — a complete
//! path with a silent router, and a router that rejects — in both families, and finds what hoptrace measured.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use netlab::{Family, RejectWith, RouterOpts};
use serde_json::Value as Json;

use crate::support::*;

/// Prints what sagan makes of the result on stdin, as JSON.
const SAGAN_VIEW: &str = r#"
import json, sys
from ripe.atlas.sagan import TracerouteResult
r = TracerouteResult(sys.stdin.read(), on_malformation=TracerouteResult.ACTION_FAIL)
print(json.dumps({
    "af": r.af, "destination": r.destination_address, "protocol": r.protocol,
    "total_hops": r.total_hops, "destination_ip_responded": r.destination_ip_responded,
    "last_hop_errors": r.last_hop_errors,
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
fn sagan(result: &str) -> Json {
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
    let reject = RouterOpts { reject: Some(RejectWith::HostProhibited), ..RouterOpts::default() };
    let (lab, client, routers, dst) = crate::chain(4, |spec, routers, _| spec.router_opts(routers[2], reject));
    for family in [Family::V4, Family::V6] {
        let mut expected = crate::router_addrs(&lab, &routers[..3], client, family);
        expected.push(expected[2]);
        let target = lab.addr(dst, family).to_string();
        check(&lab, client, &[&target], &expected, false);
    }
}
