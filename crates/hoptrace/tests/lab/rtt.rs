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

#[test]
fn median_rtts_agree_with_traceroute_within_50_microseconds() {
    // Alone on the machine: the other lab tests' load would show as noise in the delay link's timing.
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
    let case = Case { method: Method::Udp, family: Family::V4, unprivileged: false };
    let mut ours: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut theirs: Vec<Vec<f64>> = vec![Vec::new(); 3];
    // Interleave the two tools so that both see the same conditions.
    for _ in 0..5 {
        let output = hoptrace(&lab, client, case, target, &["-q", "10", "-N", "1"]);
        assert!(output.status.success());
        for (hop, rtts) in rtts_per_hop(&String::from_utf8_lossy(&output.stdout)).into_iter().enumerate() {
            ours[hop].extend(rtts);
        }
        let output: std::process::Output = {
            let mut command: Command = lab.command(client, "traceroute");
            command.args(["-n", "-q", "10", "-N", "1", &target.to_string()]).output().expect("traceroute runs")
        };
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        for (hop, rtts) in rtts_per_hop(&String::from_utf8_lossy(&output.stdout)).into_iter().enumerate() {
            theirs[hop].extend(rtts);
        }
    }
    for hop in 0..3 {
        assert_eq!(ours[hop].len(), 50, "hop {}: {:?}", hop + 1, ours[hop]);
        assert_eq!(theirs[hop].len(), 50, "hop {}: {:?}", hop + 1, theirs[hop]);
        let (ours, theirs) = (median(&mut ours[hop]), median(&mut theirs[hop]));
        eprintln!("hop {}: median RTT hoptrace {ours:.3} ms, traceroute {theirs:.3} ms", hop + 1);
        assert!((ours - theirs).abs() <= 0.050, "hop {}: hoptrace {ours} ms, traceroute {theirs} ms", hop + 1);
    }
}
