//! RTTs measured by hoptrace agree with traceroute(8)'s on the same lab path.

use std::net::IpAddr;
use std::process::Command;

use netlab::{Family, Link};

use crate::support::*;

/// The RTTs (ms) of every answer per hop in numeric traceroute-layout output.
fn rtts_per_hop(stdout: &str) -> Vec<Vec<f64>> {
    stdout
        .lines()
        .skip(1)
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.windows(2).filter(|w| w[1] == "ms").filter_map(|w| w[0].parse().ok()).collect()
        })
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The fastest and the median RTT (ms) per hop of one run: `hops` hops of at least `probes` answers each.
fn fastest_and_median(stdout: &[u8], hops: usize, probes: usize, what: &str) -> Vec<(f64, f64)> {
    let mut rtts = rtts_per_hop(&String::from_utf8_lossy(stdout));
    assert!(rtts.len() >= hops, "{what}: {}", String::from_utf8_lossy(stdout));
    rtts[..hops]
        .iter_mut()
        .enumerate()
        .map(|(hop, rtts)| {
            assert!(rtts.len() >= probes, "{what}: hop {}: {rtts:?}", hop + 1);
            let median = median(rtts);
            (rtts[0], median)
        })
        .collect()
}

#[test]
fn rtts_agree_with_traceroute_within_the_noise_of_the_run() {
    // Alone among the lab tests: their load would show as noise in the delay link's timing.
    let _machine = quiet_machine();
    // client — r1 —(5 ms each way)— r2 — dst
    let link = |n| {
        if n == 1 {
            Link { delay: Some(std::time::Duration::from_millis(5)), ..Link::default() }
        } else {
            Link::default()
        }
    };
    let (lab, client, _, dst) = crate::chain_with_links(2, link, |_, _, _| {});
    let target: IpAddr = lab.addr(dst, Family::V4);
    // Unprivileged, as traceroute 2.1 runs by default: both read the router's error from the socket error queue.
    let case = Case { method: Method::Udp, family: Family::V4, unprivileged: true };
    let target_text = target.to_string();
    // A late answer is still an answer (a busy machine delays the delay link): wait up to 2 s for each.
    let args = ["-n", "-q", "10", "-N", "1", "-z", "0.005", "-w", "2,0,0"];
    let traceroute = || {
        let mut command: Command = lab.command(client, "traceroute");
        let output = command.args(args).arg(&target_text).output().expect("traceroute runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        fastest_and_median(&output.stdout, 3, 8, "traceroute")
    };
    // Rounds of traceroute, hoptrace, traceroute: the delay link's timing drifts over seconds (by milliseconds when
    // the machine is busy), so each round compares hoptrace with the mean of the traceroute runs around it, and the
    // two traceroute runs measure the noise of the same conditions. A tool's added latency shows in every answer,
    // the fastest of a run's ten too, while a busy machine's delays mostly miss the fastest: the assertion is on
    // the fastest, the medians are shown.
    let (mut fastest, mut noise, mut medians) = (vec![Vec::new(); 3], vec![Vec::new(); 3], vec![Vec::new(); 3]);
    for _ in 0..24 {
        let before = traceroute();
        let output = hoptrace(&lab, client, case, target, &args[1..]);
        assert!(output.status.success());
        let ours = fastest_and_median(&output.stdout, 3, 8, "hoptrace");
        let after = traceroute();
        for hop in 0..3 {
            fastest[hop].push(ours[hop].0 - (before[hop].0 + after[hop].0) / 2.0);
            noise[hop].push((before[hop].0 - after[hop].0).abs());
            medians[hop].push(ours[hop].1 - (before[hop].1 + after[hop].1) / 2.0);
        }
    }
    for hop in 0..3 {
        let difference = median(&mut fastest[hop]);
        let noise = median(&mut noise[hop]);
        // The median of 24 paired differences wanders by about a quarter of one difference's spread, and the
        // median gap between two traceroute runs is about that spread: twice the run's noise, and at least 50 µs.
        // (hoptrace's RTTs run from the kernel's transmit stamp; traceroute's from before its send call, a few
        // microseconds earlier.)
        let bound = (2.0 * noise).max(0.050);
        eprintln!(
            "hop {}: hoptrace - traceroute, fastest {:+.1} µs, median {:+.1} µs; traceroute - traceroute, fastest \
             {:.1} µs; bound {:.1} µs",
            hop + 1,
            difference * 1e3,
            median(&mut medians[hop]) * 1e3,
            noise * 1e3,
            bound * 1e3
        );
        assert!(difference.abs() <= bound, "hop {}: hoptrace - traceroute = {difference} ms > {bound} ms", hop + 1);
    }
}

#[test]
fn an_undelayed_path_answers_in_microseconds_whatever_the_method() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = crate::chain(2, |_, _, _| {});
    for case in all_cases() {
        let target = lab.addr(dst, case.family);
        // 30 probes in one burst: an answer read only once the burst is sent (unprivileged TCP's connections
        // took 1.3 ms for 10 probes) would show the burst's length instead of the path's.
        let output = hoptrace(&lab, client, case, target, &["-q", "10"]);
        assert!(output.status.success(), "{case:?}: {}", String::from_utf8_lossy(&output.stderr));
        for (hop, (_, median)) in fastest_and_median(&output.stdout, 3, 8, &format!("{case:?}")).into_iter().enumerate()
        {
            assert!(median < 0.5, "{case:?}: hop {}: median RTT {median} ms", hop + 1);
        }
    }
}
