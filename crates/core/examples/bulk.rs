//! Traces many targets at once, as `hoptrace bulk --targets` does, and prints each trace: `TARGET OUTCOME`, then one
//! line per hop, `TTL ADDRESS RTT_MS` or `TTL *`. Needs raw sockets (root or CAP_NET_RAW).
//!
//! `cargo run --example bulk -- [-r RATE] TARGET...`: RATE probes a second (default 100).

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use hoptrace_core::bulk::{BulkOptions, BulkProber, Counters, PlanConfig, Planner};

fn main() -> ExitCode {
    let mut options = BulkOptions { wait: Duration::from_millis(500), ..BulkOptions::new() };
    let (mut targets, mut args) = (Vec::new(), std::env::args().skip(1));
    while let Some(arg) = args.next() {
        let parsed = match arg.as_str() {
            "-r" => args.next().and_then(|rate| rate.parse().ok()).map(|rate| options.rate = rate),
            _ => arg.parse().ok().map(|target| targets.push(target)),
        };
        if parsed.is_none() {
            eprintln!("usage: bulk [-r RATE] TARGET...");
            return ExitCode::from(2);
        }
    }
    let config = PlanConfig { wait: options.wait, ..PlanConfig::new() };
    let mut planner = Planner::new(targets, config, Instant::now());
    let traced = BulkProber::open(options).and_then(|mut prober| {
        let run = prober.trace(&mut planner, &Counters::default(), &AtomicBool::new(false), &mut || {})?;
        run.replies
    });
    if let Err(error) = traced {
        eprintln!("bulk: {error}");
        return ExitCode::FAILURE;
    }
    for (index, target) in planner.targets().iter().enumerate() {
        println!("{target} {:?}", planner.outcome(index));
        for hop in planner.hops(index) {
            match hop.probes.iter().find_map(|probe| probe.status.answer()) {
                Some(answer) => println!("{} {} {:.3}", hop.ttl, answer.reply.from, answer.rtt.as_secs_f64() * 1e3),
                None => println!("{} *", hop.ttl),
            }
        }
    }
    ExitCode::SUCCESS
}
