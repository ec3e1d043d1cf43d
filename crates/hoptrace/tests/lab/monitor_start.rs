//! `hoptrace monitor`'s first minute: one line on stderr saying what it watches and where it listens, a
//! `--prometheus` address given by name, and failing targets saying when they are tried next.

use std::time::Duration;

use netlab::Family;

use crate::monitor::{http_get, monitor, signal, wait_for, Scratch};
use crate::support::*;

#[test]
fn the_monitor_says_what_it_watches_listens_by_name_and_says_when_it_retries() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = crate::chain(1, |_, _, _| {});
    let dst = lab.addr(dst, Family::V4).to_string();
    // No resolver is reachable from the lab: the name never resolves, and no query leaves.
    let unknown = "no-such-host.invalid";
    let scratch = Scratch::new("monitor-start");
    let out = scratch.0.join("out");
    let args = [&dst, unknown, "--every", "0.4", "--jitter", "0", "-n", "-q", "1", "--prometheus", "localhost:9121"];
    let mut hoptrace = monitor(&lab, client, &args.map(String::from), &out);
    let metrics = wait_for(Duration::from_secs(10), "the metrics at localhost", || {
        http_get(&lab, client, "http://127.0.0.1:9121/metrics")
    });
    assert!(metrics.contains(&format!("target=\"{unknown}\"")), "{metrics}");
    // Four failed rounds, said on stderr after the start line: the first two at the period, then backing off
    // (--every 0.4 with no jitter: 0.4, 0.4, 0.8, 1.2 s after each start, a lookup's time less from now).
    let stderr = out.with_extension("stderr");
    let lines = wait_for(Duration::from_secs(15), "four failures", || {
        let text = std::fs::read_to_string(&stderr).ok()?;
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        (lines.len() >= 5).then_some(lines)
    });
    signal(&hoptrace.0, "TERM");
    let status = wait_for(Duration::from_secs(10), "the monitor to stop", || hoptrace.0.try_wait().unwrap());
    assert!(status.success(), "{status}");
    let start = format!(
        "hoptrace: watching 2 targets ({dst}, {unknown}) every 0.4 s over ICMP; metrics at \
         http://127.0.0.1:9121/metrics; path changes on stdout, failures on stderr"
    );
    assert_eq!(lines[0], start, "{lines:#?}");
    for (line, next) in lines[1..5].iter().zip([0.4, 0.4, 0.8, 1.2]) {
        assert!(line.starts_with(&format!("hoptrace: {unknown}: ")), "{lines:#?}");
        let said = line.rsplit_once("; next try in ").and_then(|(_, after)| after.strip_suffix(" s"));
        let said: f64 = said.and_then(|said| said.parse().ok()).unwrap_or_else(|| panic!("{lines:#?}"));
        assert!(said <= next && said >= next - 0.15, "{next}: {lines:#?}");
    }
    // Nothing else on stdout: the destination answers, its path does not change.
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "");
}
