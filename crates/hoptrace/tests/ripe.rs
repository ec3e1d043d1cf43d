//! `--json` over the simulated network: RIPE Atlas traceroute results, field by field — errors, silent hops,
//! MPLS extensions, IPv6 — and one document per round.

mod sim;

use std::time::Duration;

use engine::sim::SimNetwork;
use engine::MplsLabel;
use serde_json::{json, Value as Json};
use sim::{render, Table};

const MS: Duration = Duration::from_millis(1);

fn documents(args: &[&str], network: &mut SimNetwork) -> Vec<Json> {
    let text = render(args, network, &Table::default());
    text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect()
}

#[test]
fn ipv4_result_with_mpls_a_silent_hop_and_a_rejecting_router() {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    network.routers[0].mpls = vec![MplsLabel { label: 24001, tc: 5, bottom: true, ttl: 1 }];
    network.routers[1].silent = true;
    network.routers[2].reject = Some(10);
    let [doc] = <[Json; 1]>::try_from(documents(&["--json", "-q", "2"], &mut network)).unwrap();
    let header: Vec<&Json> =
        ["af", "dst_addr", "dst_name", "src_addr", "proto", "type", "msm_id", "prb_id", "timestamp", "size"]
            .iter()
            .map(|key| &doc[key])
            .collect();
    assert_eq!(
        header,
        [
            &json!(4),
            &json!("198.18.1.1"),
            &json!("198.18.1.1"),
            &json!("198.18.100.1"),
            &json!("UDP"),
            &json!("traceroute"),
            &json!(0),
            &json!(0),
            &json!(1_700_000_000u64),
            &json!(32), // RIPE counts the payload: 60 bytes less 20 of IP and 8 of UDP
        ]
    );
    assert!(doc["fw"].as_u64().unwrap() >= 5000 && doc["endtime"].as_u64() >= doc["timestamp"].as_u64());
    let hops = doc["result"].as_array().unwrap();
    assert_eq!(hops.len(), 4, "{doc}");
    let first = &hops[0]["result"][0];
    assert_eq!((first["from"].as_str(), first["rtt"].as_f64()), (Some("198.18.0.1"), Some(10.0)));
    assert_eq!(first["ttl"], json!(64));
    assert_eq!(
        first["icmpext"],
        json!({"version": 2, "rfc4884": 1, "obj": [{"class": 1, "type": 1, "mpls": [
            {"exp": 5, "label": 24001, "s": 1, "ttl": 1}
        ]}]})
    );
    assert_eq!(first["hoptrace"]["kind"], json!("time-exceeded"));
    assert_eq!(hops[1], json!({"hop": 2, "result": [{"x": "*"}, {"x": "*"}]}));
    assert!(hops[2]["result"][0].get("err").is_none(), "{doc}");
    let rejected = &hops[3]["result"][0];
    // Host prohibited (code 10): RIPE's probes write the code, `A` being code 13 (communication prohibited).
    assert_eq!((rejected["from"].as_str(), &rejected["err"]), (Some("198.18.0.3"), &json!(10)));
    assert_eq!(rejected["hoptrace"]["mark"], json!("!X"));
    assert_eq!(doc["hoptrace"]["outcome"], json!("unreachable"));
}

#[test]
fn ipv6_addresses_read_alike_and_the_destination_has_no_error() {
    let mut network = SimNetwork::chain(true, 2, 10 * MS);
    let [doc] = <[Json; 1]>::try_from(documents(&["--json", "-q", "1"], &mut network)).unwrap();
    assert_eq!((doc["af"].as_u64(), doc["dst_addr"].as_str()), (Some(6), Some("2001:db8:1::1")));
    let last = &doc["result"][2]["result"][0];
    assert_eq!(last["from"], doc["dst_addr"]);
    assert!(last.get("err").is_none(), "{doc}");
    assert_eq!(doc["result"][0]["result"][0]["from"], json!("2001:db8::1"));
    assert_eq!(doc["hoptrace"]["outcome"], json!("reached"));
}

#[test]
fn one_document_per_round() {
    let docs = documents(&["--json", "-c", "3", "--interval", "2"], &mut SimNetwork::chain(false, 2, 10 * MS));
    let starts: Vec<u64> = docs.iter().map(|doc| doc["timestamp"].as_u64().unwrap()).collect();
    // Each trace takes 30 ms of virtual time, then 2 s pass.
    assert_eq!(starts, [1_700_000_000, 1_700_000_002, 1_700_000_004]);
    assert!(docs.iter().all(|doc| doc["result"].as_array().unwrap().len() == 3));
}
