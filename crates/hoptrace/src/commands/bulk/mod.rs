//! `hoptrace bulk` (or `caracal`): caracal's contract — probe specifications on stdin, its reply CSV on stdout —
//! over `engine::bulk`'s stateless codec, `net::bulk`'s batched raw sockets and its packet ring. The sender paces
//! batches on this thread; a receiver thread decodes and writes rows as replies come. Memory does not grow with the
//! probes sent.

mod args;
mod csv;
mod input;
pub mod prefixes;
mod summary;
mod targets;
mod traces;

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hoptrace_core::bulk::{BulkOptions, BulkProber, Counters, Note, Sending};
use hoptrace_core::bulk::{PlanConfig, Planner, Protocol};
use hoptrace_core::StopHandle;

pub use args::BulkArgs;
pub use csv::HEADER as CSV_HEADER;

use crate::error::{CliError, Error};
use crate::render::{Control, Sink as Output};

/// Runs `hoptrace bulk`: probe specifications from stdin to caracal's CSV, or with `--targets`, traces.
pub fn run(args: &BulkArgs) -> Result<(), Error> {
    if hoptrace_core::process::lent_by_setuid() {
        // Its probes leave by a packet socket, below the firewall's OUTPUT rules, from any source address.
        return Err(Error::Failed(
            "bulk probing is not lent by a setuid install (its packets pass below the firewall): run it as root \
             or from a copy with cap_net_raw"
                .into(),
        ));
    }
    BulkProber::allowed().map_err(|why| Error::Failed(why.to_string()))?;
    let filters = Arc::new(input::Filters::load(args).map_err(|why| Error::Usage(CliError::new(why)))?);
    let wait = Duration::from_secs_f64(args.sniffer_wait_time);
    let options = BulkOptions {
        rate: args.probing_rate,
        batch: args.batch_size as usize,
        interface: args.interface.clone(),
        routed: args.routed,
        source_v4: args.source_v4,
        source_v6: args.source_v6,
        max_per_destination: args.max_per_destination,
        caracal_id: args.caracal_id.unwrap_or_else(|| BulkOptions::new().caracal_id),
        integrity: !args.no_integrity_check,
        wait,
        progress: io::stderr().is_terminal(),
        notes: say,
    };
    let mut prober = BulkProber::open(options).map_err(Error::Trace)?;

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
    let counters = Counters { closed: closed.flag(), ..Counters::default() };
    let mut stats = input::InputStats::default();
    let targets = match &args.targets {
        Some(path) => {
            let (targets, invalid) = targets::load(path).map_err(|why| Error::Usage(CliError::new(why)))?;
            let (targets, special) = keep_probed(targets, &filters);
            stats.invalid = invalid;
            if let Some((count, first)) = &special {
                stats.refuse_special(*count, first);
            }
            Some(targets)
        }
        None => None,
    };
    // The sockets are open and the files read: nothing from here on needs a privilege, and no probe is sent with
    // one. (Capabilities are each thread's: this comes before the threads.)
    hoptrace_core::process::drop_privileges().map_err(|error| Error::Trace(hoptrace_core::Error::Net(error)))?;
    let protocol = if args.protocol == "icmp" { Protocol::Icmp } else { Protocol::Udp };
    let started = SystemTime::now();
    let mut printer = traces::Printer::new(args.text, args.mda.then_some(args.confidence), args.warts.as_deref());
    let (run, planner) = match &targets {
        Some(targets) => {
            let head = traces::Head { targets, max_ttl: args.max_ttl, protocol, started };
            // The first line goes before the first probe.
            printer.start(&head, &mut out);
            let config = PlanConfig {
                max_ttl: args.max_ttl,
                gap_limit: args.gap_limit,
                protocol,
                wait,
                mda: args.mda.then_some(args.confidence),
                seed: random_seed(),
            };
            let mut planner = Planner::new(targets.iter().map(|target| target.addr).collect(), config, Instant::now());
            // Between replies, whether the reader of standard output went away.
            let mut checked = Instant::now();
            let mut watch = || {
                if checked.elapsed() >= csv::READER_CHECK {
                    checked = Instant::now();
                    out.check_reader();
                }
            };
            let run = prober.trace(&mut planner, &counters, &interrupted, &mut watch).map_err(Error::Trace)?;
            (run, Some(planner))
        }
        None => {
            csv::write_header(&mut out);
            let chunks = input::spawn(io::stdin(), Arc::clone(&filters)).map_err(thread_error)?;
            let mut csv = csv::Csv::new(&args.meta_round, &mut out);
            let repeat = (args.n_packets, args.max_probes);
            let send = |sending: &mut Sending<'_>| input::send(sending, &chunks, repeat, &interrupted, &mut stats);
            let run = prober.run(&counters, &mut csv, send).map_err(Error::Trace)?;
            csv.write();
            (run, None)
        }
    };
    summary::print(&run.stats, &stats, &counters, run.sent_for);
    if let Err(error) = run.replies {
        return Err(Error::Failed(error.to_string()));
    }
    if let (Some(planner), Some(targets)) = (&planner, &targets) {
        let head = traces::Head { targets, max_ttl: args.max_ttl, protocol, started };
        printer.print(&head, planner, run.sources, &mut out);
    }
    // As the main command ends: a write error is said (status 1), a closed pipe ends quietly (141), a signal is
    // said in the exit status.
    out.finish()?;
    match caught.load(Ordering::Relaxed) {
        0 => Ok(()),
        signal => Err(Error::Interrupted(signal as u8)),
    }
}

/// Writes the prober's notes on stderr.
fn say(note: Note<'_>) {
    let mut err = io::stderr().lock();
    let _ = match note {
        Note::Line(line) => writeln!(err, "hoptrace bulk: {line}"),
        Note::Progress(Some(line)) => write!(err, "\r{line}"),
        Note::Progress(None) => writeln!(err),
    };
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

fn thread_error(error: io::Error) -> Error {
    Error::Failed(format!("cannot start a thread: {error}"))
}

/// The seed of the probes' order: random.
fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id())
}
