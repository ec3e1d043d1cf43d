//! `hoptrace bulk` (or `caracal`): caracal's contract — probe specifications on stdin, its reply CSV on stdout —
//! over `engine::bulk`'s stateless codec and `net::bulk`'s batched raw sockets. The sender paces batches on this
//! thread; a receiver thread decodes and writes rows as replies come. Memory does not grow with the probes sent.

mod args;
mod prefixes;
mod replies;
mod send;
mod summary;

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use engine::bulk::Check;
use net::bulk::{BulkReceiver, BulkSender};
use net::Privilege;

pub use args::BulkArgs;
pub use prefixes::PrefixSet;

use crate::cli::CliError;
use crate::error::Error;

/// Runs `hoptrace bulk` with probe specifications from stdin.
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
    let stop = Arc::new(AtomicBool::new(false));
    let listener = {
        let (stop, counters, source_v6, round) =
            (Arc::clone(&stop), Arc::clone(&counters), Arc::clone(&source_v6), args.meta_round.clone());
        thread::spawn(move || replies::receive(&mut receiver, &stop, check, &round, &source_v6, &counters))
    };

    let start = Instant::now();
    let progress = io::stderr().is_terminal();
    let mut sending = send::Sending::new(args, caracal_id, &filters, &source_v6, &counters, progress);
    let input = io::stdin().lock();
    sending.run(input, &mut sender, &interrupted);
    let sent_for = start.elapsed();

    // Replies still on their way: wait as caracal does, unless interrupted again or stdout closed.
    let wait_until = Instant::now() + Duration::from_secs(args.sniffer_wait_time);
    while Instant::now() < wait_until && !counters.closed.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(20).min(wait_until.saturating_duration_since(Instant::now())));
    }
    stop.store(true, Ordering::Release);
    let received = listener.join();
    summary::print(&sending.stats, &counters, sent_for);
    match received {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Error::Failed(format!("reading replies: {error}"))),
        Err(_) => Err(Error::Failed("the reply reader stopped".into())),
    }
}

/// A caracal id of this run, when none is given: random, as caracal's.
fn random_id() -> u16 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id()) as u16
}
