//! `hoptrace bulk` (or `caracal`): caracal's contract — probe specifications on stdin, its reply CSV on stdout —
//! over `engine::bulk`'s stateless codec, `net::bulk`'s batched raw sockets and its packet ring. The sender paces
//! batches on this thread; a receiver thread decodes and writes rows as replies come. Memory does not grow with the
//! probes sent.

mod args;
mod input;
mod mda;
pub mod prefixes;
mod replies;
mod send;
mod summary;
mod targets;
mod traces;
mod way;

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use engine::bulk::{Check, Protocol};
use hoptrace_core::StopHandle;
use net::bulk::{BulkReceiver, BulkSender};
use net::Privilege;

pub use args::BulkArgs;

use crate::error::{CliError, Error};
use crate::output::{Control, Sink as Output};

/// Runs `hoptrace bulk`: probe specifications from stdin to caracal's CSV, or with `--targets`, traces.
pub fn run(args: &BulkArgs) -> Result<(), Error> {
    if net::lent_by_setuid() {
        // Its probes leave by a packet socket, below the firewall's OUTPUT rules, from any source address.
        return Err(Error::Failed(
            "bulk probing is not lent by a setuid install (its packets pass below the firewall): run it as root \
             or from a copy with cap_net_raw"
                .into(),
        ));
    }
    if Privilege::detect() != Privilege::Raw {
        return Err(Error::Failed("bulk probing needs raw sockets: run it as root or with CAP_NET_RAW".into()));
    }
    let filters = Arc::new(input::Filters::load(args).map_err(|why| Error::Usage(CliError::new(why)))?);
    let caracal_id = args.caracal_id.unwrap_or_else(random_id);
    let check = Check { caracal_id, integrity: !args.no_integrity_check };
    let batch = args.batch_size as usize;
    let net_error = |error| Error::Trace(hoptrace_core::Error::Net(error));
    // IPv4 and IPv6, or IPv4 alone where the system has no IPv6 (its probes are then counted as refused).
    let interface = args.interface.as_deref();
    let mut sender = BulkSender::open(true, true, interface, batch)
        .or_else(|_| BulkSender::open(true, false, interface, batch))
        .map_err(net_error)?;
    let mut receiver =
        BulkReceiver::open(true, true).or_else(|_| BulkReceiver::open(true, false)).map_err(net_error)?;

    let interrupted = Arc::new(AtomicBool::new(false));
    let caught = Arc::new(AtomicUsize::new(0));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(signal, Arc::clone(&interrupted));
        let _ = signal_hook::flag::register_usize(signal, Arc::clone(&caught), signal as usize);
    }
    // Standard output as the main command writes it: its first write error, or its reader going away, stops the
    // probing (through `counters.closed`) and ends the run with that error.
    let closed = StopHandle::default();
    let mut out = Output::new(Control { stops: vec![closed.clone()], ..Control::default() });
    let counters = Arc::new(replies::Counters { closed: closed.flag(), ..replies::Counters::default() });
    let (targets, invalid, special) = match &args.targets {
        Some(path) => {
            let (targets, invalid) = targets::load(path).map_err(|why| Error::Usage(CliError::new(why)))?;
            let (targets, special) = keep_probed(targets, &filters);
            (Some(targets), invalid, special)
        }
        None => (None, 0, None),
    };
    // The sockets are open and the files read: nothing from here on needs a privilege, and no probe is sent with
    // one. (Capabilities are each thread's: this comes before the threads.)
    net::drop_privileges().map_err(net_error)?;
    let protocol = if args.protocol == "icmp" { Protocol::Icmp } else { Protocol::Udp };
    let started = SystemTime::now();
    let mut printer = traces::Printer::new(args.text, args.mda.then_some(args.confidence), args.warts.as_deref());
    // The first line goes before the first probe.
    match &targets {
        Some(targets) => printer.start(&traces::Head { targets, max_ttl: args.max_ttl, protocol, started }, &mut out),
        None => replies::write_header(&mut out),
    }
    let progress = Arc::new(targets::Progress::new(targets.as_deref().unwrap_or_default(), protocol));
    let stop = Arc::new(AtomicBool::new(false));
    let listener = {
        let (stop, counters, progress) = (Arc::clone(&stop), Arc::clone(&counters), Arc::clone(&progress));
        let (round, csv) = (args.meta_round.clone(), targets.is_none());
        let read = move || -> (io::Result<()>, Output) {
            let result = if csv {
                replies::write_csv(&mut receiver, &stop, check, &round, &counters, &mut out)
            } else {
                replies::receive(&mut receiver, &stop, check, &counters, &mut &*progress, &mut out)
            };
            (result, out)
        };
        thread::Builder::new().name("replies".into()).spawn(read).map_err(thread_error)?
    };

    let start = Instant::now();
    let mut sending = send::Sending::new(args, caracal_id, &counters, io::stderr().is_terminal());
    sending.stats.invalid = invalid;
    if let Some((count, first)) = &special {
        sending.refuse_special(*count, first);
    }
    let wait = Duration::from_secs_f64(args.sniffer_wait_time);
    let passes = targets.as_deref().map(|targets| targets::Passes {
        targets,
        progress: &progress,
        max_ttl: args.max_ttl,
        gap_limit: args.gap_limit,
        protocol,
        wait,
        mda: args.mda.then_some(args.confidence),
    });
    let flows = match &passes {
        Some(passes) => {
            let mut flows = passes.run(&mut sending, &mut sender, &interrupted);
            // With MDA, more flows in rounds until every hop has its stopping point.
            if let Some(confidence) = passes.mda {
                mda::rounds(passes, confidence, &mut flows, &mut sending, &mut sender, &interrupted);
            }
            flows
        }
        None => {
            let chunks = input::spawn(io::stdin(), Arc::clone(&filters)).map_err(thread_error)?;
            sending.run(&chunks, &mut sender, &interrupted);
            Vec::new()
        }
    };
    let sent_for = start.elapsed();

    // Replies still on their way: wait as caracal does, unless the output failed.
    pause(wait, || counters.closed.load(Ordering::Relaxed));
    stop.store(true, Ordering::Release);
    let received = listener.join();
    summary::print(&sending.stats, &counters, sent_for);
    let mut out = match received {
        Ok((Ok(()), out)) => out,
        Ok((Err(error), _)) => return Err(Error::Failed(format!("reading replies: {error}"))),
        Err(_) => return Err(Error::Failed("the reply reader stopped".into())),
    };
    if let Some(passes) = &passes {
        let rows = std::mem::take(&mut *progress.rows.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        printer.print(passes, &rows, &flows, sending.sources(), started, &mut out);
    }
    // As the main command ends: a write error is said (status 1), a closed pipe ends quietly (141), a signal is
    // said in the exit status.
    out.finish()?;
    match caught.load(Ordering::Relaxed) {
        0 => Ok(()),
        signal => Err(Error::Interrupted(signal as u8)),
    }
}

/// The targets the prefix filters let through, without the special destinations (unless allowed): how many
/// of those, and what the first was.
fn keep_probed(
    mut targets: Vec<targets::Target>,
    filters: &input::Filters,
) -> (Vec<targets::Target>, Option<(u64, String)>) {
    targets.retain(|target| filters.allow_addr(target.addr));
    let mut special: Option<(u64, String)> = None;
    targets.retain(|target| match filters.special(target.addr) {
        None => true,
        Some(kind) => {
            let (count, _) =
                special.get_or_insert_with(|| (0, format!("{} is {kind}", crate::escape::escape(&target.host))));
            *count += 1;
            false
        }
    });
    (targets, special)
}

/// Sleeps for `duration`, or less if `stop` says so meanwhile.
fn pause(duration: Duration, stop: impl Fn() -> bool) {
    let until = Instant::now() + duration;
    while Instant::now() < until && !stop() {
        thread::sleep(Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())));
    }
}

fn thread_error(error: io::Error) -> Error {
    Error::Failed(format!("cannot start a thread: {error}"))
}

/// A caracal id of this run, when none is given: random, as caracal's.
fn random_id() -> u16 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id()) as u16
}
