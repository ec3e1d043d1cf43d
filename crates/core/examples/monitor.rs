//! Watches two or more hosts, a round each second: prints every round's path identity and every path change.
//!
//! `cargo run --example monitor -- ROUNDS HOST HOST...`: stops once every host had ROUNDS rounds. Lines:
//! `round HOST PATH_ID` (`-` until a path is confirmed, over 2 rounds) and `change HOST OLD_ID -> NEW_ID TTLS`.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use hoptrace_core::monitor::{hex_id, FleetTraces, Monitor, MonitorEvent, MonitorOptions, Notice, ResolverLookup};
use hoptrace_core::{Flows, Options, Protocol};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(Ok(rounds)), hosts) = (args.first().map(|n| n.parse::<usize>()), args.get(1..).unwrap_or_default())
    else {
        eprintln!("usage: monitor ROUNDS HOST HOST...");
        return ExitCode::from(2);
    };
    let mut probing = Options::new(Protocol::Udp);
    probing.flows = Flows::Paris; // one flow per target: a path with an identity
    let options =
        MonitorOptions { every: Duration::from_secs(1), jitter: 0.1, window: 10, confirm: 2, probing, seed: None };
    let opened = FleetTraces::open(&options.probing, false);
    let (Ok((mut traces, _)), Ok(mut lookup)) = (opened, ResolverLookup::start(None)) else {
        eprintln!("monitor: cannot open sockets or start the lookup thread");
        return ExitCode::FAILURE;
    };
    let mut monitor = Monitor::new(options);
    monitor.set_targets(hosts, &mut traces);
    let mut done: HashMap<String, usize> = HashMap::new();
    while hosts.iter().any(|host| done.get(host).copied().unwrap_or(0) < rounds) {
        let notices = match monitor.step(&mut traces, &mut lookup) {
            Ok(notices) => notices,
            Err(error) => {
                eprintln!("monitor: {error}");
                return ExitCode::FAILURE;
            }
        };
        for notice in notices {
            match notice {
                Notice::Round(round) => {
                    *done.entry(round.target.clone()).or_default() += 1;
                    println!("round {} {}", round.target, round.path_id.map_or("-".to_owned(), hex_id));
                }
                Notice::Event(MonitorEvent::PathChanged { target, old_id, new_id, ttls, .. }) => {
                    println!("change {target} {old_id} -> {new_id} {ttls:?}");
                }
                Notice::Event(MonitorEvent::TargetFailed { target, error, .. }) => eprintln!("{target}: {error}"),
                _ => {}
            }
        }
    }
    ExitCode::SUCCESS
}
