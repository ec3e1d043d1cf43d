//! Builds a small lab network and traces through it with hoptrace: a real multi-hop trace on an offline machine.
//!
//! `lab-demo [HOPTRACE_BINARY] [HOPTRACE_ARGS…]` — needs root. The path is
//! client — r1 — r2 —(15 ms each way)— r3 — r4 (silent) — r5 — server, over IPv4 and IPv6.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use hoptrace_netlab::{Family, Lab, LabSpec, Link, RouterOpts};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let binary = args.next().unwrap_or_else(|| "target/release/hoptrace".to_owned());
    let extra: Vec<String> = args.collect();

    let mut spec = LabSpec::new();
    let delayed = |n| Link { delay: (n == 2).then_some(Duration::from_millis(15)), ..Link::default() };
    let (client, routers, server) = spec.chain(5, delayed);
    spec.router_opts(routers[3], RouterOpts { silent: true, ..RouterOpts::default() });
    let lab = match Lab::build(&spec) {
        Ok(lab) => lab,
        Err(error) => {
            eprintln!("lab-demo: {error}");
            return ExitCode::FAILURE;
        }
    };
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(server, family).to_string();
        let shown: Vec<&str> = extra.iter().map(String::as_str).chain([target.as_str()]).collect();
        // A closed stdout (`| head`) is no reason to panic.
        let _ = writeln!(std::io::stdout(), "$ hoptrace {}", shown.join(" "));
        let status = lab.command(client, &binary).args(&extra).arg(&target).status();
        match status {
            Ok(status) if status.success() => {
                let _ = writeln!(std::io::stdout());
            }
            Ok(status) => {
                eprintln!("lab-demo: hoptrace exited with {status}");
                return ExitCode::FAILURE;
            }
            Err(error) => {
                eprintln!("lab-demo: cannot run {binary}: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
