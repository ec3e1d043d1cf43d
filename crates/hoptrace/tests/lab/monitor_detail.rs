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

#[test]
fn a_target_has_the_detail_its_line_in_the_targets_file_gives() {
    let _machine = shared_machine();
    let range = IpAddr::from([198, 19, 224, 0]);
    let (lab, client, _, _) = crate::chain(2, |spec, _, dst| spec.anyip(dst, range, 24));
    let scratch = Scratch::new("monitor-detail-file");
    let file = scratch.0.join("targets");
    let file_name = file.display().to_string();

    // A setting that is not one, or a detail that is not one: one line, status 2, before any probe.
    for (text, why) in [
        ("198.19.224.7\n198.19.224.8 colour=blue\n", "line 2: colour=blue: not a setting (detail=hops|path|none is)"),
        ("198.19.224.7 detail=all\x1b[2J\n", "line 1: detail=all\\u{1b}[2J: the detail is hops, path or none"),
    ] {
        std::fs::write(&file, text).expect("the targets file");
        let line = crate::monitor::start_failure(&lab, client, &["--targets", &file_name], 2);
        assert_eq!(line, format!("hoptrace: --targets {file_name}: {why}"));
    }

    // Per line, the targets' own detail; the others have --detail's (path by default).
    let targets = [("198.19.224.7", HOPS), ("198.19.224.8", 0), ("198.19.224.9", 1), ("198.19.224.10", HOPS)];
    let text = "# per target\n198.19.224.7 detail=hops\ndetail=none 198.19.224.8 # none\n198.19.224.9\n\
                198.19.224.10 198.19.224.8 detail=hops\n";
    std::fs::write(&file, text).expect("the targets file");
    let args =
        ["--targets", &file_name, "--every", "0.3", "-q", "1", "-w", "1", "-n", "--prometheus", "127.0.0.1:9124"]
            .map(String::from);
    let _running = monitor(&lab, client, &args, &scratch.0.join("events"));
    let page = wait_for(Duration::from_secs(30), "every path established, every kept hop answered", || {
        let (_, page) = scrape_gzip(&lab, client, "127.0.0.1:9124")?;
        let all = targets.iter().all(|(target, hops)| {
            let rtt = series(&page, target).get("hoptrace_hop_rtt_seconds").copied().unwrap_or(0);
            let established = sample(&page, &format!("hoptrace_path_id{{target=\"{target}\"}}")).is_some();
            established
                && sample(&page, &format!("hoptrace_hops{{target=\"{target}\"}}")) == Some(HOPS as f64)
                && rtt == 5 * hops
        });
        all.then_some(page)
    });
    for (target, hops) in targets {
        let counts = series(&page, target);
        let total: usize = counts.values().sum();
        assert_eq!(total, PER_TARGET + PER_HOP * hops, "{target}: {counts:?}");
        assert_eq!(counts.get("hoptrace_hop_loss_ratio").copied().unwrap_or(0), hops, "{target}: {counts:?}");
    }
}
