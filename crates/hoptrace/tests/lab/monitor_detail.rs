//! `hoptrace monitor --detail`: how many series a target has at each level, counted on live monitors in the lab
//! (three hops: two routers and the destination), and the page gzipped to a scraper that takes it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::monitor::{monitor, sample, wait_for, Running, Scratch};
use crate::support::*;

/// Series per target whatever the detail: runs (3), probes, backoff, duration, reached, hops, path id, path
/// changes, path loss, and the destination's RTT histogram (20 buckets, `+Inf`, sum and count).
const PER_TARGET: usize = 3 + 8 + 23;
/// Series per hop kept: five RTT statistics, loss, rate limiting, info (one address a hop here).
const PER_HOP: usize = 8;
/// Hops to the target.
const HOPS: usize = 3;

/// `/metrics` at `addr` from inside `client`, asking for gzip: whether it came gzipped, and the text.
fn scrape_gzip(lab: &netlab::Lab, client: netlab::NodeId, addr: &str) -> Option<(bool, String)> {
    let script = "import gzip, sys, urllib.request\n\
                  request = urllib.request.Request(sys.argv[1], headers={'Accept-Encoding': 'gzip'})\n\
                  answer = urllib.request.urlopen(request, timeout=5)\n\
                  body = answer.read()\n\
                  zipped = answer.headers.get('Content-Encoding') == 'gzip'\n\
                  sys.stdout.write(str(zipped) + '\\n' + (gzip.decompress(body) if zipped else body).decode())";
    let url = format!("http://{addr}/metrics");
    let output = lab.command(client, "python3").args(["-c", script, &url]).output().expect("python3 runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (zipped, page) = text.split_once('\n')?;
    output.status.success().then(|| (zipped == "True", page.to_owned()))
}

/// The samples of `target`, by family (the name before `{`, `_bucket`/`_sum`/`_count` kept).
fn series(page: &str, target: &str) -> BTreeMap<String, usize> {
    let label = format!("target=\"{target}\"");
    let mut counts = BTreeMap::new();
    for line in page.lines().filter(|line| !line.starts_with('#') && line.contains(&label)) {
        let name = line.split(['{', ' ']).next().unwrap_or_default().to_owned();
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

#[test]
fn each_detail_gives_its_series_count() {
    let _machine = shared_machine();
    let range = IpAddr::from([198, 19, 224, 0]);
    let (lab, client, _, _) = crate::chain(2, |spec, _, dst| spec.anyip(dst, range, 24));
    let scratch = Scratch::new("monitor-detail");
    let target = "198.19.224.7".to_owned();
    let levels = [("hops", 9121, HOPS), ("path", 9122, 1), ("none", 9123, 0)];
    let _monitors: Vec<Running> = levels
        .iter()
        .map(|(detail, port, _)| {
            let listen = format!("127.0.0.1:{port}");
            let args = [&target, "--every", "0.3", "-q", "1", "-w", "1", "-n", "--detail", detail, "--prometheus"]
                .map(String::from);
            let mut args = args.to_vec();
            args.push(listen);
            monitor(&lab, client, &args, &scratch.0.join(format!("events-{detail}")))
        })
        .collect();
    for (detail, port, hops) in levels {
        let addr = format!("127.0.0.1:{port}");
        let page = wait_for(Duration::from_secs(30), "the path established, every hop answered", || {
            let (zipped, page) = scrape_gzip(&lab, client, &addr)?;
            assert!(zipped, "{detail}: not gzipped");
            let established = sample(&page, &format!("hoptrace_path_id{{target=\"{target}\"}}")).is_some()
                && sample(&page, &format!("hoptrace_hops{{target=\"{target}\"}}")) == Some(HOPS as f64);
            let rtt = series(&page, &target).get("hoptrace_hop_rtt_seconds").copied().unwrap_or(0);
            (established && rtt == 5 * hops).then_some(page)
        });
        let counts = series(&page, &target);
        let total: usize = counts.values().sum();
        println!("--detail {detail}: {total} series a target: {counts:?}");
        assert_eq!(total, PER_TARGET + PER_HOP * hops, "--detail {detail}: {counts:?}");
        for family in ["hoptrace_hop_loss_ratio", "hoptrace_hop_rate_limited", "hoptrace_hop_info"] {
            assert_eq!(counts.get(family).copied().unwrap_or(0), hops, "--detail {detail}: {family}");
        }
        assert_eq!(counts.get("hoptrace_path_loss_ratio"), Some(&1), "--detail {detail}");
        if detail == "path" {
            // The destination's hop: the last TTL.
            let loss = format!("hoptrace_hop_loss_ratio{{target=\"{target}\",ttl=\"{HOPS}\"}}");
            assert!(sample(&page, &loss).is_some(), "{page}");
        }
    }
}
