//! `hoptrace bulk` (or `caracal`): caracal's contract — probe specifications on stdin, its reply CSV on stdout —
//! over `engine::bulk`'s stateless codec and `net::bulk`'s batched raw sockets. The sender paces batches on this
//! thread; a receiver thread decodes and writes rows as replies come. Memory does not grow with the probes sent.

mod args;
mod prefixes;
mod replies;
mod send;
mod summary;
mod targets;
mod traces;

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use engine::bulk::{Check, Protocol, Row};
use net::bulk::{BulkReceiver, BulkSender};
use net::Privilege;

pub use args::BulkArgs;
pub use prefixes::PrefixSet;

use crate::error::{CliError, Error};
use crate::output::{DnsDirectory, Renderer, RipeJson, TracerouteText};
use crate::settings::Naming;

/// Runs `hoptrace bulk`: probe specifications from stdin to caracal's CSV, or with `--targets`, traces.
pub fn run(args: &BulkArgs) -> Result<(), Error> {
    if Privilege::detect() != Privilege::Raw {
        return Err(Error::Failed("bulk probing needs raw sockets: run it as root or with CAP_NET_RAW".into()));
    }
    let filters = send::Filters::load(args).map_err(|why| Error::Usage(CliError::new(why)))?;
    let caracal_id = args.caracal_id.unwrap_or_else(random_id);
    let check = Check { caracal_id, integrity: !args.no_integrity_check };
    let batch = args.batch_size as usize;
    let mut sender = BulkSender::open(true, true, args.interface.as_deref(), batch)
        .map_err(|error| Error::Trace(hoptrace_core::Error::Net(error)))?;
    let mut receiver =
        BulkReceiver::open(true, true).map_err(|error| Error::Trace(hoptrace_core::Error::Net(error)))?;

    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(signal, Arc::clone(&interrupted));
    }
    let counters = Arc::new(replies::Counters::default());
    let source_v6 = Arc::new(OnceLock::new());
    if let Some(source) = args.source_v6 {
        let _ = source_v6.set(source);
    }
    let targets = match &args.targets {
        Some(path) => {
            let mut targets = targets::load(path).map_err(|why| Error::Usage(CliError::new(why)))?;
            targets.retain(|target| filters.allow_addr(target.addr));
            Some(targets)
        }
        None => None,
    };
    let protocol = if args.protocol == "icmp" { Protocol::Icmp } else { Protocol::Udp };
    let progress = Arc::new(targets::Progress::new(targets.as_deref().unwrap_or_default()));
    let stop = Arc::new(AtomicBool::new(false));
    let listener = {
        let (stop, counters, source_v6, progress) =
            (Arc::clone(&stop), Arc::clone(&counters), Arc::clone(&source_v6), Arc::clone(&progress));
        let (round, csv) = (args.meta_round.clone(), targets.is_none());
        thread::spawn(move || -> io::Result<HashMap<(u32, u8), Row>> {
            let mut rows = HashMap::new();
            if csv {
                replies::write_csv(&mut receiver, &stop, check, &round, &source_v6, &counters)?;
            } else {
                replies::receive(&mut receiver, &stop, check, &source_v6, &counters, |row| {
                    if let Some(key) = progress.record(&row, protocol) {
                        rows.insert(key, row);
                    }
                    true
                })?;
            }
            Ok(rows)
        })
    };

    let start = Instant::now();
    let started = SystemTime::now();
    let mut sending = send::Sending::new(args, caracal_id, &filters, &source_v6, &counters, io::stderr().is_terminal());
    let wait = Duration::from_secs(args.sniffer_wait_time);
    let passes = targets.as_deref().map(|targets| targets::Passes {
        targets,
        progress: &progress,
        max_ttl: args.max_ttl,
        gap_limit: args.gap_limit,
        protocol,
        wait,
    });
    match &passes {
        Some(passes) => passes.run(&mut sending, &mut sender, &interrupted),
        None => sending.run(io::stdin().lock(), &mut sender, &interrupted),
    }
    let sent_for = start.elapsed();

    // Replies still on their way: wait as caracal does, unless interrupted again or stdout closed.
    let wait_until = Instant::now() + wait;
    while Instant::now() < wait_until && !counters.closed.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(20).min(wait_until.saturating_duration_since(Instant::now())));
    }
    stop.store(true, Ordering::Release);
    let received = listener.join();
    summary::print(&sending.stats, &counters, sent_for);
    let rows = match received {
        Ok(Ok(rows)) => rows,
        Ok(Err(error)) => return Err(Error::Failed(format!("reading replies: {error}"))),
        Err(_) => return Err(Error::Failed("the reply reader stopped".into())),
    };
    if let Some(passes) = &passes {
        let mut renderer: Box<dyn Renderer> = if args.text {
            Box::new(TracerouteText::new(Naming::Numeric, false, false, false, false))
        } else {
            Box::new(RipeJson::new(false))
        };
        let directory = DnsDirectory::new(true, false);
        let mut out = io::BufWriter::new(io::stdout().lock());
        let written = traces::write(&mut out, renderer.as_mut(), &directory, passes, &rows, sending.sources(), started);
        // A closed stdout ends the output quietly, as a pipe's reader intends.
        let _ = written.and_then(|()| out.flush());
    }
    Ok(())
}

/// A caracal id of this run, when none is given: random, as caracal's.
fn random_id() -> u16 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id()) as u16
}
