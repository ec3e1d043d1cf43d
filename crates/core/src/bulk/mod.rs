//! Bulk probing: caracal's stateless prober, and `bulk --targets`' traces of many targets at once.
//!
//! A [`BulkProber`] holds the raw sockets (root or `CAP_NET_RAW`): a batched sender and a packet ring. Its
//! [`BulkProber::trace`] runs an [`engine::bulk::Planner`] over them — the probes it asks for sent at the rate
//! asked, the replies it gets decoded on a thread of their own — and hands the planner back with what the replies
//! told it: per target, [`Planner::hops`] and [`Planner::outcome`]. [`BulkProber::run`] is the lower level: probes of
//! the caller's choosing ([`Sending::send`]), every matched reply to a [`Sink`] (caracal's CSV, say).
//!
//! ```no_run
//! use hoptrace_core::bulk::{BulkOptions, BulkProber, Counters, PlanConfig, Planner};
//! use std::sync::atomic::AtomicBool;
//!
//! let mut prober = BulkProber::open(BulkOptions::new())?;
//! let targets = vec!["198.18.1.1".parse().unwrap(), "198.18.2.1".parse().unwrap()];
//! let mut planner = Planner::new(targets, PlanConfig::new(), std::time::Instant::now());
//! prober.trace(&mut planner, &Counters::default(), &AtomicBool::new(false), &mut || {})?;
//! for target in 0..planner.targets().len() {
//!     println!("{}: {:?}, {} hops", planner.targets()[target], planner.outcome(target), planner.hops(target).len());
//! }
//! # Ok::<(), hoptrace_core::Error>(())
//! ```

mod receive;
mod send;
mod way;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

pub use engine::bulk::{probe_len, Check, PlanConfig, Planner, ProbeSpec, Protocol, Row};
use net::bulk::{BulkReceiver, BulkSender};
use net::NetError;
pub use receive::{receive, Counters, Sink};
pub use send::{SendStats, Sending};

use crate::options::{Privilege, Want};
use crate::Error;

/// What the prober says as it goes, for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note<'a> {
    /// A line: how probes leave, a refusal…
    Line(&'a str),
    /// The progress line, rewritten in place (`None`: it ends).
    Progress(Option<&'a str>),
}

/// How bulk probes go out and how their replies are matched: caracal's knobs.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    /// Probes per second.
    pub rate: u64,
    /// Probes per batch (per system call).
    pub batch: usize,
    /// The interface probes leave by, if not the routes'.
    pub interface: Option<String>,
    /// Every probe routed, rather than handed to the interface for one gateway as caracal does.
    pub routed: bool,
    /// The IPv4 source (default: the route's).
    pub source_v4: Option<Ipv4Addr>,
    /// The IPv6 source (default: the route's).
    pub source_v6: Option<Ipv6Addr>,
    /// At most this many probes per destination per second (0: no cap).
    pub max_per_destination: u32,
    /// The identifier in every probe's integrity tag.
    pub caracal_id: u16,
    /// Whether replies whose tag does not match are dropped.
    pub integrity: bool,
    /// How long replies are awaited after the last probe.
    pub wait: Duration,
    /// Whether a progress line is kept up to date (through `notes`).
    pub progress: bool,
    /// Where notes go.
    pub notes: fn(Note<'_>),
}

impl BulkOptions {
    /// caracal's defaults: 100 probes a second in batches of 128, a random id, replies checked and awaited 1 s,
    /// 100 probes a second per destination at most; no notes.
    pub fn new() -> BulkOptions {
        use std::hash::BuildHasher;
        let caracal_id = std::collections::hash_map::RandomState::new().hash_one(std::process::id()) as u16;
        BulkOptions {
            rate: 100,
            batch: 128,
            interface: None,
            routed: false,
            source_v4: None,
            source_v6: None,
            max_per_destination: 100,
            caracal_id,
            integrity: true,
            wait: Duration::from_secs(1),
            progress: false,
            notes: |_| {},
        }
    }

    /// How replies are checked.
    pub fn check(&self) -> Check {
        Check { caracal_id: self.caracal_id, integrity: self.integrity }
    }
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions::new()
    }
}

/// What a run did.
#[derive(Debug)]
pub struct Run {
    /// What was sent.
    pub stats: SendStats,
    /// The source address of each family (IPv4, IPv6), where one was found.
    pub sources: [Option<IpAddr>; 2],
    /// From the first probe to the last.
    pub sent_for: Duration,
    /// How reading the replies ended.
    pub replies: Result<(), Error>,
}

/// The raw sockets of bulk probing, and how they are used.
#[derive(Debug)]
pub struct BulkProber {
    options: BulkOptions,
    sender: BulkSender,
    receiver: BulkReceiver,
}

impl BulkProber {
    /// Opens the sockets for IPv4 and IPv6, or IPv4 alone where the system has no IPv6 (its probes are then
    /// counted as refused). Needs root or `CAP_NET_RAW`; nothing later does.
    pub fn open(options: BulkOptions) -> Result<BulkProber, Error> {
        BulkProber::allowed()?;
        let (interface, batch) = (options.interface.as_deref(), options.batch.max(1));
        let sender = BulkSender::open(true, true, interface, batch)
            .or_else(|_| BulkSender::open(true, false, interface, batch))
            .map_err(Error::Net)?;
        let receiver =
            BulkReceiver::open(true, true).or_else(|_| BulkReceiver::open(true, false)).map_err(Error::Net)?;
        Ok(BulkProber { options, sender, receiver })
    }

    /// Whether this process may probe in bulk: it needs raw sockets ([`Want::RawOnly`]).
    pub fn allowed() -> Result<(), Error> {
        match Privilege::Auto.decide(Want::RawOnly) {
            Some(_) => Ok(()),
            None => Err(Error::NeedsRaw("bulk probing")),
        }
    }

    /// The options it was opened with.
    pub fn options(&self) -> &BulkOptions {
        &self.options
    }

    /// Runs `send` on this thread, while a thread of its own hands every matched reply to `sink`; then waits
    /// `wait` for the replies still on their way (less if `counters.closed` is set meanwhile).
    pub fn run<S: Sink + Send>(
        &mut self,
        counters: &Counters,
        sink: &mut S,
        send: impl FnOnce(&mut Sending<'_>),
    ) -> Result<Run, Error> {
        let check = self.options.check();
        let stop = AtomicBool::new(false);
        let (options, sender, receiver) = (&self.options, &mut self.sender, &mut self.receiver);
        thread::scope(|scope| {
            let read = || receive(receiver, &stop, check, counters, sink);
            let listener = thread::Builder::new()
                .name("replies".into())
                .spawn_scoped(scope, read)
                .map_err(|error| io_error("starting the reply reader", error))?;
            let start = Instant::now();
            let mut sending = Sending::new(options, sender, counters);
            send(&mut sending);
            let sent_for = start.elapsed();
            // Replies still on their way: wait as caracal does, unless the output failed.
            pause(options.wait, || counters.closed.load(Ordering::Relaxed));
            stop.store(true, Ordering::Release);
            let replies = match listener.join() {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(io_error("reading replies", error)),
                Err(_) => Err(io_error("reading replies", std::io::ErrorKind::Other.into())),
            };
            Ok(Run { stats: sending.stats, sources: sending.sources(), sent_for, replies })
        })
    }

    /// Sends the probes `planner` asks for, as its replies come, until it has no more (or `interrupted`, or
    /// `counters.closed`); `watch` runs on the reply reader's thread whenever no reply is waiting.
    pub fn trace(
        &mut self,
        planner: &mut Planner,
        counters: &Counters,
        interrupted: &AtomicBool,
        watch: &mut (dyn FnMut() + Send),
    ) -> Result<Run, Error> {
        let planner = Mutex::new(planner);
        let mut sink = Plan { planner: &planner, watch };
        self.run(counters, &mut sink, |sending| {
            let batch = sending.batch();
            let mut specs = Vec::with_capacity(batch);
            loop {
                if sending.ended(interrupted) {
                    // What is queued still goes, and the progress line ends.
                    sending.finish();
                    break;
                }
                let mut planner = lock(&planner);
                let now = Instant::now();
                specs.clear();
                specs.extend(std::iter::from_fn(|| planner.poll_probe(now)).take(batch));
                let (finished, timeout) = (planner.is_finished(), planner.poll_timeout());
                drop(planner);
                for spec in &specs {
                    sending.send(spec);
                }
                if specs.len() < batch {
                    // The end of a pass or round: what is queued goes, and the replies are awaited.
                    sending.finish();
                    if finished {
                        break;
                    }
                    let until = timeout.unwrap_or(now);
                    pause(until.saturating_duration_since(Instant::now()), || sending.ended(interrupted));
                }
            }
        })
    }
}

/// The reply reader's sink of a trace: rows to the planner.
struct Plan<'a, 'p> {
    planner: &'a Mutex<&'p mut Planner>,
    watch: &'a mut (dyn FnMut() + Send),
}

impl Sink for Plan<'_, '_> {
    fn row(&mut self, row: Row) {
        lock(self.planner).handle_row(Instant::now(), row);
    }

    fn drained(&mut self) {
        (self.watch)();
    }
}

fn io_error(what: &'static str, source: std::io::Error) -> Error {
    Error::Net(NetError::Io { what, source })
}

fn lock<'a, T>(mutex: &'a Mutex<T>) -> std::sync::MutexGuard<'a, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sleeps for `duration`, or less if `stop` says so meanwhile.
pub fn pause(duration: Duration, stop: impl Fn() -> bool) {
    let until = Instant::now() + duration;
    while Instant::now() < until && !stop() {
        thread::sleep(Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())));
    }
}
