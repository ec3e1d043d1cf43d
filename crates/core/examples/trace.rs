//! Traces a host and prints one line per hop: `TTL ADDRESS RTT_MS`, or `TTL *` for a silent hop.
//!
//! `cargo run --example trace -- [-I | -T] HOST`: UDP by default, ICMP echo with `-I`, TCP SYN with `-T`.

use std::process::ExitCode;

use hoptrace_core::{Options, Protocol, Tracer};

fn main() -> ExitCode {
    let mut protocol = Protocol::Udp;
    let mut host = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "-I" => protocol = Protocol::Icmp,
            "-T" => protocol = Protocol::Tcp,
            _ => host = Some(arg),
        }
    }
    let Some(host) = host else {
        eprintln!("usage: trace [-I | -T] HOST");
        return ExitCode::from(2);
    };
    let result = Tracer::with_options(&host, &Options::new(protocol)).and_then(|mut tracer| tracer.trace());
    let result = match result {
        Ok(result) => result,
        Err(error) => {
            eprintln!("trace: {error}");
            return ExitCode::FAILURE;
        }
    };
    for hop in &result.hops {
        match hop.answers().next() {
            Some(answer) => println!("{} {} {:.3}", hop.ttl, answer.from(), answer.rtt.as_secs_f64() * 1e3),
            None => println!("{} *", hop.ttl),
        }
    }
    ExitCode::SUCCESS
}
