//! The speed benchmark: builds lab networks with delay links and traces them with hoptrace, traceroute(8),
//! tracepath(8) and mtr, printing wall time, CPU time, peak RSS and hops found per scenario and tool, with
//! hoptrace's ratio to each peer and the targets it is held to.
//!
//! `lab-bench HOPTRACE_BINARY` — needs root and the Debian packages `traceroute`, `iputils-tracepath`, `mtr-tiny`
//! and `time` (scripts/bench.sh installs them).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hoptrace_netlab::{Family, Lab, LabSpec, Link, NodeId, RouterOpts};

/// A lab network to trace and what a complete trace of it finds.
struct Scenario {
    name: &'static str,
    what: &'static str,
    lab: Lab,
    client: NodeId,
    target: IpAddr,
    /// Hops that answer, with the destination.
    answering: usize,
    /// Runs per tool, back to back (two for the rate-limit scenario).
    runs: usize,
}

/// One run of one tool.
#[derive(Debug, Clone, Default)]
struct Measure {
    wall: f64,
    cpu: f64,
    rss_kib: u64,
    hops: usize,
    /// The median RTT (s) of the last hop, from traceroute-style output.
    dest_rtt: f64,
}

/// The tools compared, with the arguments they get besides the target.
const TOOLS: [(&str, &[&str]); 4] =
    [("hoptrace", &["-n"]), ("traceroute", &["-n"]), ("tracepath", &["-n"]), ("mtr", &["-n", "--report", "-c", "3"])];

fn main() -> ExitCode {
    let Some(hoptrace) = std::env::args().nth(1) else {
        eprintln!("usage: lab-bench HOPTRACE_BINARY");
        return ExitCode::from(2);
    };
    let scenarios = match build_scenarios() {
        Ok(scenarios) => scenarios,
        Err(error) => {
            eprintln!("lab-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{:<4} {:<13} {:>9} {:>8} {:>8} {:>6}  hoptrace/peer wall",
        "", "tool", "wall ms", "cpu ms", "rss MiB", "hops"
    );
    let mut results = Vec::new();
    for scenario in &scenarios {
        println!("({}) {}", scenario.name, scenario.what);
        let mut ours: Vec<Measure> = Vec::new();
        let mut peers = Vec::new();
        for (tool, args) in TOOLS {
            let program = if tool == "hoptrace" { hoptrace.as_str() } else { tool };
            let runs: Vec<Measure> = (0..scenario.runs).map(|_| measure(scenario, tool, program, args)).collect();
            if tool == "hoptrace" {
                ours = runs.clone();
            }
            for (index, run) in runs.iter().enumerate() {
                let ratio =
                    if tool == "hoptrace" { String::new() } else { format!("{:.2}×", ours[index].wall / run.wall) };
                let label = if scenario.runs > 1 { format!("{tool} #{}", index + 1) } else { tool.to_owned() };
                println!(
                    "     {label:<13} {:>9.1} {:>8.1} {:>8.1} {:>3}/{:<2}  {ratio}",
                    run.wall * 1000.0,
                    run.cpu * 1000.0,
                    run.rss_kib as f64 / 1024.0,
                    run.hops,
                    scenario.answering
                );
            }
            peers.push((tool, runs));
        }
        results.push((scenario, peers));
    }
    println!();
    println!("targets (hoptrace):");
    let mut all_met = true;
    let mut check = |met: bool, text: String| {
        all_met &= met;
        println!("  {} {text}", if met { "met   " } else { "MISSED" });
    };
    let runs = |name: &str, tool: &str| -> Vec<Measure> {
        results
            .iter()
            .filter(|(scenario, _)| scenario.name == name)
            .flat_map(|(_, peers)| peers.iter().filter(|(t, _)| *t == tool).flat_map(|(_, runs)| runs.clone()))
            .collect()
    };
    // One round trip per trace: the destination's RTT, 5 % and 10 ms for starting the process and `ip netns exec`.
    let a = &runs("a", "hoptrace")[0];
    let limit = 1.05 * a.dest_rtt + 0.010;
    check(
        a.wall <= limit && a.hops == 8,
        format!(
            "(a) wall {:.1} ms = {:.2} x the destination RTT {:.1} ms <= 1.05 x RTT + 10 ms = {:.1} ms; hops {}/8",
            a.wall * 1e3,
            a.wall / a.dest_rtt,
            a.dest_rtt * 1e3,
            limit * 1e3,
            a.hops
        ),
    );
    let (b, b_peer) = (&runs("b", "hoptrace")[0], &runs("b", "traceroute")[0]);
    check(
        b.wall <= 0.5 * b_peer.wall && b.hops == b_peer.hops,
        format!(
            "(b) wall {:.2} x traceroute's <= 0.5; hops {} = traceroute's {}",
            b.wall / b_peer.wall,
            b.hops,
            b_peer.hops
        ),
    );
    let c = &runs("c", "hoptrace")[0];
    check(c.wall <= 1.5 && c.hops == 7, format!("(c) wall {:.0} ms <= 1500 ms; hops {}/7", c.wall * 1e3, c.hops));
    let d = runs("d", "hoptrace");
    check(d.iter().all(|run| run.hops == 6), format!("(d) hops {}/6 then {}/6", d[0].hops, d[1].hops));
    let ours: Vec<Measure> = ["a", "b", "c", "d"].iter().flat_map(|name| runs(name, "hoptrace")).collect();
    let cpu = ours.iter().map(|run| run.cpu).fold(0.0, f64::max);
    check(
        cpu <= 0.020,
        format!("CPU <= 20 ms per trace: at most {:.1} ms (ip netns exec and time included)", cpu * 1e3),
    );
    let rss = ours.iter().map(|run| run.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
    check(rss <= 16.0, format!("peak RSS <= 16 MiB: at most {rss:.1} MiB"));
    if all_met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// CPU time (user + system) of every child waited for so far.
fn children_cpu() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_CHILDREN).map_or(Duration::ZERO, |usage| {
        let time = |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
        time(usage.user_time()) + time(usage.system_time())
    })
}

/// Runs `program` once in the scenario's client namespace: wall time from here, CPU time from the kernel's
/// accounting of children, peak RSS from GNU time.
fn measure(scenario: &Scenario, tool: &str, program: &str, args: &[&str]) -> Measure {
    let stats = std::env::temp_dir().join(format!("lab-bench-{}-{tool}", std::process::id()));
    let cpu_before = children_cpu();
    let started = Instant::now();
    let output = scenario
        .lab
        .command(scenario.client, "/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&stats)
        .arg(program)
        .args(args)
        .arg(scenario.target.to_string())
        .output();
    let wall = started.elapsed().as_secs_f64();
    let cpu = (children_cpu() - cpu_before).as_secs_f64();
    let rss_kib = std::fs::read_to_string(&stats).ok().and_then(|text| text.trim().parse().ok()).unwrap_or(0);
    let _ = std::fs::remove_file(&stats);
    let stdout = output.map(|output| String::from_utf8_lossy(&output.stdout).into_owned()).unwrap_or_default();
    Measure { wall, cpu, rss_kib, hops: hops_found(tool, &stdout), dest_rtt: last_hop_rtt(&stdout) }
}

/// The median RTT of the last hop line of traceroute-style output, in seconds (0 when there is none).
fn last_hop_rtt(stdout: &str) -> f64 {
    let Some(line) = stdout.lines().last() else { return 0.0 };
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut rtts: Vec<f64> = words.windows(2).filter(|w| w[1] == "ms").filter_map(|w| w[0].parse().ok()).collect();
    rtts.sort_by(f64::total_cmp);
    rtts.get(rtts.len() / 2).map_or(0.0, |ms| ms / 1000.0)
}

/// How many TTLs got at least one answer, read from each tool's own output.
fn hops_found(tool: &str, stdout: &str) -> usize {
    let mut ttls = BTreeSet::new();
    for line in stdout.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (ttl, rest) = match tool {
            "mtr" => {
                let Some(ttl) = words.first().and_then(|w| w.strip_suffix(".|--")) else { continue };
                // `  3.|-- 198.18.2.2   0.0%   3 …`: answered unless the address is `???` or loss is 100%.
                let lost = words.get(2).is_some_and(|loss| loss.starts_with("100.0"));
                (ttl, if lost { &[][..] } else { &words[1..2] })
            }
            "tracepath" => {
                let Some(ttl) = words.first().and_then(|w| w.strip_suffix(':')) else { continue };
                (ttl, &words[1..])
            }
            _ => match words.first() {
                Some(ttl) => (*ttl, &words[1..]),
                None => continue,
            },
        };
        let Ok(ttl) = ttl.parse::<u8>() else { continue };
        if rest.iter().any(|word| word.parse::<IpAddr>().is_ok()) {
            ttls.insert(ttl);
        }
    }
    ttls.len()
}

/// A chain client — r1 … rN — dst; `delays[i]` is the one-way delay of link i (0: client — r1).
fn chain(
    routers: usize,
    delays: &[(usize, u64)],
    tweak: impl FnOnce(&mut LabSpec, &[NodeId], NodeId),
) -> hoptrace_netlab::Result<(Lab, NodeId, NodeId)> {
    let mut spec = LabSpec::new();
    let delayed = |index| {
        let delay = delays.iter().find(|(link, _)| *link == index).map(|&(_, us)| Duration::from_micros(us));
        Link { delay, ..Link::default() }
    };
    let (client, nodes, dst) = spec.chain(routers, delayed);
    tweak(&mut spec, &nodes, dst);
    let lab = Lab::build(&spec)?;
    Ok((lab, client, dst))
}

fn build_scenarios() -> hoptrace_netlab::Result<Vec<Scenario>> {
    let silent = RouterOpts { silent: true, ..RouterOpts::default() };
    // (a) 8 hops, 90 ms: four links of 11.25 ms each way.
    let (a, a_client, a_dst) = chain(7, &[(1, 11_250), (3, 11_250), (5, 11_250), (7, 11_250)], |_, _, _| {})?;
    // (b) 12 hops, 85 ms, three silent routers.
    let (b, b_client, b_dst) = chain(11, &[(1, 14_000), (5, 14_000), (9, 14_500)], |spec, routers, _| {
        for index in [2, 5, 8] {
            spec.router_opts(routers[index], silent);
        }
    })?;
    // (c) a destination that drops UDP and ICMP, behind 7 routers and 90 ms.
    let (c, c_client, c_dst) = chain(7, &[(1, 11_250), (3, 11_250), (5, 11_250), (7, 11_250)], |spec, _, dst| {
        spec.firewall(dst, &["-A INPUT -p udp -j DROP", "-A INPUT -p icmp --icmp-type echo-request -j DROP"]);
    })?;
    // (d) the kernel's default ICMP rate limits everywhere, 6 hops, 20 ms.
    let limited = RouterOpts { icmp_ratelimit_ms: Some(1000), ..RouterOpts::default() };
    let (d, d_client, d_dst) = chain(5, &[(2, 10_000)], |spec, routers, dst| {
        for &node in routers.iter().chain([&dst]) {
            spec.router_opts(node, limited);
        }
    })?;
    let scenario = |name, what, lab: Lab, client, dst, answering, runs| {
        let target = lab.addr(dst, Family::V4);
        Scenario { name, what, lab, client, target, answering, runs }
    };
    Ok(vec![
        scenario("a", "8 hops, destination RTT 90 ms, all answer", a, a_client, a_dst, 8, 1),
        scenario("b", "12 hops, RTT 85 ms, 3 silent routers", b, b_client, b_dst, 9, 1),
        scenario("c", "destination drops UDP and ICMP (7 routers answer)", c, c_client, c_dst, 7, 1),
        scenario("d", "default ICMP rate limits, two traces back to back", d, d_client, d_dst, 6, 2),
    ])
}
