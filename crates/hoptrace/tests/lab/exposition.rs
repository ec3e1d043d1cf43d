//! `/metrics` in both text formats, checked by Prometheus' own tools on a live monitor in the lab: the classic
//! page (the default) passes `promtool check metrics`, OpenMetrics is served to a scraper that asks for it, and a
//! real Prometheus scraping the monitor types every family in its metadata API.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use netlab::{Family, Lab, NodeId};
use serde_json::Value;

use crate::monitor::{http_get, monitor, prometheus, signal, wait_for, Scratch, METRICS};
use crate::support::*;

/// Where the test's Prometheus listens (as in `monitor.rs`).
const PROMETHEUS: &str = "127.0.0.1:9090";

/// GETs `/metrics` with `accept` (none if empty) from inside `client`: the content type, then the body.
fn scrape(lab: &Lab, client: NodeId, accept: &str) -> Option<(String, String)> {
    let script = "import sys, urllib.request\n\
                  request = urllib.request.Request(sys.argv[1])\n\
                  if sys.argv[2]: request.add_header('Accept', sys.argv[2])\n\
                  answer = urllib.request.urlopen(request, timeout=5)\n\
                  sys.stdout.write(answer.headers['Content-Type'] + '\\n' + answer.read().decode())";
    let url = format!("http://{METRICS}/metrics");
    let output = lab.command(client, "python3").args(["-c", script, &url, accept]).output().expect("python3 runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (content_type, body) = text.split_once('\n')?;
    output.status.success().then(|| (content_type.to_owned(), body.to_owned()))
}

/// The families a page declares (`# TYPE name kind`), with how many samples each has.
fn families(page: &str) -> BTreeMap<String, (String, usize)> {
    let mut families: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut current = String::new();
    for line in page.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            current = name.to_owned();
            families.insert(current.clone(), (kind.to_owned(), 0));
        } else if !line.starts_with('#') && line.starts_with(current.as_str()) {
            families.get_mut(&current).expect("declared").1 += 1;
        }
    }
    families
}

/// `promtool check metrics` on `page`: its exit code and what it said.
fn promtool(page: &str) -> (Option<i32>, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (Debian package `prometheus`)");
    child.stdin.take().expect("stdin").write_all(page.as_bytes()).expect("promtool reads");
    let output = child.wait_with_output().expect("promtool finishes");
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.code(), said)
}

#[test]
fn promtool_and_prometheus_read_every_family() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = crate::chain(2, |_, _, _| {});
    let scratch = Scratch::new("exposition");
    // A target that is reached, and a name that never resolves (no resolver is reachable from the lab): between
    // them, every family has series.
    let reached = lab.addr(dst, Family::V4).to_string();
    let unknown = "no-such-host.invalid";
    let args: Vec<String> = [&reached, unknown, "--every", "0.5", "-q", "1", "-w", "1", "-n", "--prometheus", METRICS]
        .map(String::from)
        .to_vec();
    let mut hoptrace = monitor(&lab, client, &args, &scratch.0.join("stdout"));
    let (content_type, page) = wait_for(Duration::from_secs(30), "a series in every family", || {
        let (content_type, page) = scrape(&lab, client, "")?;
        let families = families(&page);
        // All 15: `hoptrace_path_id` comes last, once the path is established (`--confirm` rounds).
        (families.len() >= 15 && families.values().all(|(_, samples)| *samples > 0)).then_some((content_type, page))
    });
    println!("{content_type}\n{page}");
    assert_eq!(promtool(&page), (Some(0), String::new()), "promtool check metrics");
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let counters: Vec<String> =
        families(&page).into_iter().filter(|(_, (kind, _))| kind == "counter").map(|(name, _)| name).collect();
    assert!(counters.len() == 4 && counters.iter().all(|name| name.ends_with("_total")), "{counters:?}");

    let openmetrics = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let (content_type, om_page) = scrape(&lab, client, openmetrics).expect("an OpenMetrics scrape");
    assert_eq!(content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert!(om_page.ends_with("# EOF\n"), "{om_page}");
    let om_families = families(&om_page);
    assert!(om_families.contains_key("hoptrace_runs") && om_families["hoptrace_runs"].0 == "counter", "{om_page}");

    // A real Prometheus (it asks for OpenMetrics first): every family typed in its metadata, as the page has it.
    let _prometheus = prometheus(&lab, client, &scratch);
    let metadata = wait_for(Duration::from_secs(40), "every family in Prometheus' metadata", || {
        let body = http_get(&lab, client, &format!("http://{PROMETHEUS}/api/v1/metadata"))?;
        let answer: Value = serde_json::from_str(&body).ok()?;
        let data = answer["data"].as_object()?.clone();
        let hoptrace: BTreeMap<String, String> = data
            .into_iter()
            .filter(|(name, _)| name.starts_with("hoptrace_"))
            .map(|(name, entries)| (name, entries[0]["type"].as_str().unwrap_or_default().to_owned()))
            .collect();
        (hoptrace.len() >= om_families.len()).then_some(hoptrace)
    });
    let declared: BTreeMap<String, String> = om_families.into_iter().map(|(name, (kind, _))| (name, kind)).collect();
    assert_eq!(metadata, declared);
    signal(&hoptrace.0, "INT");
    let status = wait_for(Duration::from_secs(10), "the monitor to stop", || hoptrace.0.try_wait().unwrap());
    assert!(status.success(), "{status}");
}
