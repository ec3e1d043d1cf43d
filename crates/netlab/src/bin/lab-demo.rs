//! Builds a small lab network and traces through it with hoptrace: a real multi-hop trace on an offline machine.
//!
//! `lab-demo [HOPTRACE_BINARY] [HOPTRACE_ARGS…]` — needs root. The path is
//! client — r1 — r2 —(15 ms each way)— r3 — r4 (silent) — r5 — server, over IPv4 and IPv6.
//!
//! It says on stderr which network namespace is the lab's client; with `LAB_DEMO_STATE=FILE` it also writes that
//! name to FILE (removed at the end), for `scripts/demo-exec.sh`. With `LAB_DEMO_HOLD=1` the lab stays up after
//! the traces until a line (Enter) on stdin, end of input, SIGINT or SIGTERM. The lab is removed however it ends.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use hoptrace_netlab::{Family, Lab, LabSpec, Link, RouterOpts};

/// How often a held lab looks whether it was told to stop.
const STOP_CHECK: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let binary = args.next().unwrap_or_else(|| "target/release/hoptrace".to_owned());
    let extra: Vec<String> = args.collect();
    // Ctrl+C stops hoptrace (it gets the signal too), then ends the demo here, the lab removed.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration only fails for forbidden signals; these are not.
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }

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
    let namespace = lab.ns(client).to_owned();
    let state = std::env::var_os("LAB_DEMO_STATE").filter(|path| !path.is_empty());
    if let Some(path) = &state {
        if let Err(error) = std::fs::write(path, format!("{namespace}\n")) {
            eprintln!("lab-demo: cannot write {}: {error}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    }
    let targets = [Family::V4, Family::V6].map(|family| lab.addr(server, family).to_string());
    eprintln!("lab-demo: lab up; its client is network namespace {namespace}; the server is {}", targets.join(" and "));
    let status = traces(&lab, client, &binary, &extra, &targets, &stop);
    if status == ExitCode::SUCCESS && std::env::var_os("LAB_DEMO_HOLD").is_some_and(|hold| hold == "1") {
        hold(&targets[0], &stop);
    }
    if let Some(path) = &state {
        let _ = std::fs::remove_file(path);
    }
    eprintln!("lab-demo: lab removed");
    status
}

/// Traces each of `targets` from the lab's client with hoptrace.
fn traces(
    lab: &Lab,
    client: hoptrace_netlab::NodeId,
    binary: &str,
    extra: &[String],
    targets: &[String],
    stop: &AtomicBool,
) -> ExitCode {
    for target in targets {
        let shown: Vec<&str> = extra.iter().map(String::as_str).chain([target.as_str()]).collect();
        // A closed stdout (`| head`) is no reason to panic.
        let _ = writeln!(std::io::stdout(), "$ hoptrace {}", shown.join(" "));
        let status = lab.command(client, binary).args(extra).arg(target).status();
        match status {
            Ok(_) if stop.load(Ordering::Relaxed) => return ExitCode::from(130),
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

/// Keeps the lab up until Enter, the end of stdin, SIGINT or SIGTERM, saying how to use it meanwhile.
fn hold(target: &str, stop: &AtomicBool) {
    eprintln!(
        "lab-demo: the lab stays up until you press Enter (or Ctrl+C). Meanwhile, in another terminal, run any \
         command in its client with scripts/demo-exec.sh, e.g.:\n  \
         scripts/demo-exec.sh target/release/hoptrace --live {target}\n  \
         scripts/demo-exec.sh target/release/hoptrace monitor -n --every 1 --prometheus 127.0.0.1:9120 {target} &\n  \
         scripts/demo-exec.sh curl -s http://127.0.0.1:9120/metrics"
    );
    let (line, read) = mpsc::channel();
    // Left behind, blocked in read, if a signal ends the hold: the process ends right after.
    std::thread::spawn(move || {
        let _ = std::io::stdin().lock().read_line(&mut String::new());
        let _ = line.send(());
    });
    while !stop.load(Ordering::Relaxed) {
        if read.recv_timeout(STOP_CHECK) != Err(mpsc::RecvTimeoutError::Timeout) {
            break;
        }
    }
}
