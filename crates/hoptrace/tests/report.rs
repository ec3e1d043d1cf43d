//! The report formats — mtr's text, JSON and CSV, and Graphviz — over the simulated network, several rounds on a
//! virtual clock; and the rate-limit rule against a simulated Linux-like ICMP rate limit.

mod sim;

use std::net::IpAddr;
use std::time::Duration;

use engine::sim::{RateLimit, SimNetwork};
use serde_json::Value as Json;
use sim::{render, Table};

const MS: Duration = Duration::from_millis(1);

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// 198.18.0.1 is two routers (classic UDP flows spread over both), 198.18.0.2 is silent, the link into
/// 198.18.0.3 drops 30% of what crosses it, and 198.18.0.4 rejects with host prohibited.
fn network() -> SimNetwork {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    network.routers[0].addrs = vec![addr("198.18.0.1"), addr("198.18.10.1")];
    network.routers[0].ecmp_group = 1;
    network.routers[1].silent = true;
    network.routers[2].loss = 0.3;
    network.routers[3].reject = Some(10);
    network
}

fn names() -> Table {
    let mut table = Table::default();
    table.names.insert(addr("198.18.0.3"), "core.lab".into());
    table
}

/// Runs `args` and `-c 20` over [`network`].
fn twenty_rounds(args: &[&str]) -> String {
    let mut args = args.to_vec();
    args.extend(["-c", "20"]);
    render(&args, &mut network(), &names())
}

/// The lines of `text`, for comparing with a golden list.
fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn text_report_layout() {
    assert_eq!(
        lines(&twenty_rounds(&["--report"])),
        [
            "Start: 2023-11-14T22:13:20+0000",
            "HOST: 198.18.100.1                Loss%   Snt   Last   Avg  Best  Wrst StDev Javg",
            "  1.|-- 198.18.10.1                0.0%    20   10.0  10.0  10.0  10.0   0.0  0.0",
            "        198.18.0.1                       ",
            "  2.|-- ???                       100.0    20    0.0   0.0   0.0   0.0   0.0  0.0",
            "  3.|-- core.lab                  35.0%    20   30.0  30.0  30.0  30.0   0.0  0.0",
            "  4.|-- 198.18.0.4                35.0%    20   40.0  40.0  40.0  40.0   0.0  0.0",
            "  5.|-- 198.18.0.4 !X             25.0%    20   40.0  40.0  40.0  40.0   0.0  0.0",
        ]
    );
}

#[test]
fn csv_layout() {
    let version = env!("CARGO_PKG_VERSION");
    let row = |rest: &str| format!("HOPTRACE.{version},1700000000,OK,198.18.1.1,{rest}");
    assert_eq!(
        lines(&twenty_rounds(&["--csv"])),
        [
            "Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,Javg,Rate_Limited,Other_Ips,"
                .to_owned(),
            row("1,198.18.10.1,0.00,20,0,10.00,10.00,10.00,10.00,0.00,0.00,0,198.18.0.1"),
            row("2,???,100.00,20,0,0.00,0.00,0.00,0.00,0.00,0.00,0,"),
            row("3,core.lab,35.00,20,0,30.00,30.00,30.00,30.00,0.00,0.00,0,"),
            row("4,198.18.0.4,35.00,20,0,40.00,40.00,40.00,40.00,0.00,0.00,0,"),
            row("5,198.18.0.4,25.00,20,0,40.00,40.00,40.00,40.00,0.00,0.00,0,"),
        ]
    );
}

#[test]
fn dot_layout() {
    assert_eq!(
        lines(&twenty_rounds(&["--dot"])),
        [
            r#"digraph hoptrace {"#,
            r#"  label="hoptrace to 198.18.1.1 (198.18.1.1)";"#,
            r#"  rankdir=TB;"#,
            r#"  node [shape=box];"#,
            r#"  "source" [label="198.18.100.1\nsource", shape=ellipse];"#,
            r#"  "198.18.10.1" [label="198.18.10.1\nhop 1"];"#,
            r#"  "198.18.0.1" [label="198.18.0.1\nhop 1"];"#,
            r#"  "hop 2 ???" [label="???\nhop 2", style=dashed];"#,
            r#"  "198.18.0.3" [label="core.lab\n198.18.0.3\nhop 3"];"#,
            r#"  "198.18.0.4" [label="198.18.0.4\nhops 4, 5"];"#,
            r#"  "source" -> "198.18.10.1";"#,
            r#"  "source" -> "198.18.0.1";"#,
            r#"  "198.18.10.1" -> "hop 2 ???";"#,
            r#"  "198.18.0.1" -> "hop 2 ???";"#,
            r#"  "hop 2 ???" -> "198.18.0.3";"#,
            r#"  "198.18.0.3" -> "198.18.0.4";"#,
            r#"}"#,
        ]
    );
}

#[test]
fn json_report_uses_mtr_names() {
    let json: Json = serde_json::from_str(&twenty_rounds(&["--report", "--json"])).unwrap();
    let mtr = &json["report"]["mtr"];
    assert_eq!(
        (mtr["src"].as_str(), mtr["dst"].as_str(), mtr["tests"].as_u64()),
        (Some("198.18.100.1"), Some("198.18.1.1"), Some(20))
    );
    let hubs = json["report"]["hubs"].as_array().unwrap();
    let counts: Vec<u64> = hubs.iter().map(|hub| hub["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, [1, 2, 3, 4, 5]);
    for hub in hubs {
        for field in ["host", "Loss%", "Snt", "Last", "Avg", "Best", "Wrst", "StDev", "Javg"] {
            assert!(!hub[field].is_null(), "{field} missing in {hub}");
        }
    }
    let first = &hubs[0];
    assert_eq!(
        (first["host"].as_str(), first["Snt"].as_u64(), first["Avg"].as_f64()),
        (Some("198.18.10.1"), Some(20), Some(10.0))
    );
    let responders: Vec<&str> =
        first["hoptrace"]["responders"].as_array().unwrap().iter().map(|r| r["address"].as_str().unwrap()).collect();
    assert_eq!(responders, ["198.18.10.1", "198.18.0.1"]);
    assert_eq!((hubs[1]["host"].as_str(), hubs[1]["Loss%"].as_f64()), (Some("???"), Some(100.0)));
    assert_eq!(hubs[2]["hoptrace"]["responders"][0]["name"].as_str(), Some("core.lab"));
    assert_eq!(hubs[4]["hoptrace"]["responders"][0]["mark"].as_str(), Some("!X"));
}

/// Hop 2 limits its ICMP errors as Linux does (6 at once, then one a second); the link into hop 4 loses 30%.
fn rate_limited_and_lossy() -> SimNetwork {
    let mut network = SimNetwork::chain(false, 5, MS);
    network.routers[1].rate_limit = Some(RateLimit { burst: 6, interval: Duration::from_secs(1) });
    network.routers[3].loss = 0.3;
    network
}

#[test]
fn rate_limiting_is_told_apart_from_loss() {
    let args = ["--report", "--json", "-n", "-c", "60", "--interval", "0.05"];
    let json: Json = serde_json::from_str(&render(&args, &mut rate_limited_and_lossy(), &Table::default())).unwrap();
    let hubs = json["report"]["hubs"].as_array().unwrap();
    let view: Vec<(u64, f64, bool)> = hubs
        .iter()
        .map(|hub| {
            let rate_limited = hub["hoptrace"]["rate_limited"].as_bool().unwrap();
            (hub["count"].as_u64().unwrap(), hub["Loss%"].as_f64().unwrap(), rate_limited)
        })
        .collect();
    // Hop 2 answered 6, then about one in 20: rate-limited, no loss. Hops 4 on lose at random: loss.
    assert_eq!(view[0], (1, 0.0, false), "{view:?}");
    assert_eq!(view[1], (2, 0.0, true), "{view:?}");
    assert!(hubs[1]["hoptrace"]["received"].as_u64().unwrap() < 15, "{view:?}");
    assert_eq!(view[2], (3, 0.0, false), "{view:?}");
    for &(ttl, loss, rate_limited) in &view[3..] {
        assert!(loss > 10.0 && !rate_limited, "hop {ttl}: {view:?}");
    }
    // The text says so too.
    let text =
        render(&["--report", "-n", "-c", "60", "--interval", "0.05"], &mut rate_limited_and_lossy(), &Table::default());
    let limited: Vec<&str> = text.lines().filter(|line| line.ends_with(" rate-limited")).collect();
    assert_eq!(limited.len(), 1, "{text}");
    assert!(limited[0].starts_with("  2.|-- 198.18.0.2 "), "{text}");
}

#[test]
fn paris_report_follows_each_flow_through_a_load_balancer() {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    network.routers[0].addrs = vec![addr("198.18.0.1"), addr("198.18.10.1")];
    network.routers[0].ecmp_group = 1;
    let text = render(&["-n", "--paris", "--report", "-c", "8", "--flows", "4"], &mut network, &Table::default());
    let flow_rows: Vec<&str> = text.lines().filter(|line| line.contains("   flow ")).collect();
    assert_eq!(flow_rows.len(), 4, "{text}");
    for (flow, row) in flow_rows.iter().enumerate() {
        // Each flow keeps to one branch, every round: one responder, two probes (rounds flow and flow + 4), no loss.
        assert!(row.starts_with(&format!("    |   flow {flow} -> 198.18.")), "{text}");
        assert!(!row.contains(','), "flow {flow} took both branches:\n{text}");
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!((cells[5], cells[6]), ("0.0%", "2"), "{text}");
    }
    let branches: std::collections::BTreeSet<&str> =
        flow_rows.iter().map(|row| row.split_whitespace().nth(4).unwrap()).collect();
    assert_eq!(branches.len(), 2, "the 4 flows did not cover both branches:\n{text}");
}

#[test]
fn flows_out_of_range_are_refused() {
    for bad in ["0", "17", "x"] {
        let argv = ["hoptrace", "--report", "--flows", bad, "198.18.1.1"].map(std::ffi::OsString::from);
        let error = hoptrace::cli::parse(argv).expect_err("refused");
        assert_eq!(error.to_string(), format!("cannot handle `--flows' option with arg `{bad}'"));
    }
}

#[test]
fn paris_json_report_gives_each_flow() {
    let mut network = SimNetwork::chain(false, 2, 10 * MS);
    network.routers[0].addrs = vec![addr("198.18.0.1"), addr("198.18.10.1")];
    network.routers[0].ecmp_group = 1;
    let text =
        render(&["-n", "--paris", "--report", "--json", "-c", "6", "--flows", "3"], &mut network, &Table::default());
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let flows = json["report"]["hubs"][0]["hoptrace"]["flows"].as_array().expect("flows at the balanced hop");
    assert_eq!(flows.len(), 3);
    for (index, flow) in flows.iter().enumerate() {
        assert_eq!(flow["flow"], index);
        assert_eq!((flow["sent"].as_u64(), flow["received"].as_u64()), (Some(2), Some(2)));
        assert_eq!(flow["responders"].as_array().map(Vec::len), Some(1));
    }
    assert!(json["report"]["hubs"][1]["hoptrace"].get("flows").is_none(), "one responder: no flows");
}

#[test]
fn live_runs_until_stopped_unless_counted_and_measures_like_a_report() {
    let settings = |args: &[&str]| {
        let argv = ["hoptrace"].iter().chain(args).chain(&["198.18.1.1"]).map(std::ffi::OsString::from);
        let Ok(hoptrace::cli::Request::Trace(settings)) = hoptrace::cli::parse(argv) else { panic!("{args:?}") };
        settings
    };
    let live = settings(&["--live"]);
    assert_eq!(
        (live.output, live.rounds.count, live.probing.probes_per_hop, live.probing.retries),
        (hoptrace::settings::Output::Live, None, 1, 0)
    );
    assert_eq!(settings(&["--live", "-c", "3"]).rounds.count, Some(3));
    assert_eq!(settings(&["--live", "--flows", "2"]).rounds.flows, 2);
}
