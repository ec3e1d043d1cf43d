//! The sending side: probe specifications read, filtered, encoded into batches and sent at the rate asked.

use core::net::IpAddr;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use engine::bulk::{encode, tenth_ms, timestamp, DestinationCap, Pacer, ProbeSpec, MAX_PROBE_LEN};
use net::bulk::{Batch, BulkSender};
use net::SocketOptions;

use super::prefixes::PrefixSet;
use super::replies::Counters;
use super::BulkArgs;

/// The shortest wait worth a sleep.
const MIN_SLEEP: Duration = Duration::from_micros(200);

/// The filters of caracal's command line.
#[derive(Debug, Default)]
pub(super) struct Filters {
    min_ttl: Option<u8>,
    max_ttl: Option<u8>,
    exclude: Option<PrefixSet>,
    include: Option<PrefixSet>,
}

impl Filters {
    /// The filters `args` ask for, their prefix files read.
    pub(super) fn load(args: &BulkArgs) -> Result<Filters, String> {
        let load = |path: &Option<std::path::PathBuf>| path.as_deref().map(PrefixSet::load).transpose();
        Ok(Filters {
            min_ttl: args.filter_min_ttl,
            max_ttl: args.filter_max_ttl,
            exclude: load(&args.prefix_excl)?,
            include: load(&args.prefix_incl)?,
        })
    }

    /// Whether the prefix lists allow probing `dst`.
    pub(super) fn allow_addr(&self, dst: IpAddr) -> bool {
        !self.exclude.as_ref().is_some_and(|set| set.contains(dst))
            && self.include.as_ref().is_none_or(|set| set.contains(dst))
    }

    /// Whether `spec` may be sent.
    pub(super) fn allow(&self, spec: &ProbeSpec) -> bool {
        self.min_ttl.is_none_or(|min| spec.ttl >= min)
            && self.max_ttl.is_none_or(|max| spec.ttl <= max)
            && self.allow_addr(spec.dst)
    }
}

/// What the sender did.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct SendStats {
    /// Lines read.
    pub read: u64,
    /// Lines that were no probe specification.
    pub invalid: u64,
    /// Probes left out by the filters.
    pub filtered: u64,
    /// Packets the kernel took.
    pub sent: u64,
    /// Packets refused (no route, no source, a firewall).
    pub failed: u64,
}

/// One run of the sender.
pub(super) struct Sending<'a> {
    pub stats: SendStats,
    args: &'a BulkArgs,
    caracal_id: u16,
    filters: &'a Filters,
    counters: &'a Counters,
    /// The source of each family (IPv4, IPv6): given, or the route's towards the first destination.
    sources: [Option<Option<IpAddr>>; 2],
    pacer: Pacer,
    cap: DestinationCap,
    /// Per family, the probes waiting for their batch, with their source.
    queued: [Vec<(ProbeSpec, IpAddr)>; 2],
    batches: [Batch; 2],
    start: Instant,
    progress: Option<Instant>,
    warned: bool,
}

impl<'a> Sending<'a> {
    pub(super) fn new(
        args: &'a BulkArgs,
        caracal_id: u16,
        filters: &'a Filters,
        counters: &'a Counters,
        progress: bool,
    ) -> Sending<'a> {
        let batch = args.batch_size as usize;
        let start = Instant::now();
        Sending {
            stats: SendStats::default(),
            args,
            caracal_id,
            filters,
            counters,
            sources: [args.source_v4.map(|a| Some(IpAddr::V4(a))), args.source_v6.map(|a| Some(IpAddr::V6(a)))],
            pacer: Pacer::new(args.probing_rate, batch),
            cap: DestinationCap::new(args.max_per_destination),
            queued: [Vec::with_capacity(batch), Vec::with_capacity(batch)],
            batches: [Batch::new(batch, MAX_PROBE_LEN), Batch::new(batch, MAX_PROBE_LEN)],
            start,
            progress: progress.then_some(start),
            warned: false,
        }
    }

    /// Sends the probes of every line of `input`, until its end, `--max-probes`, an interruption or a closed
    /// stdout.
    pub(super) fn run(&mut self, mut input: impl BufRead, sender: &mut BulkSender, interrupted: &AtomicBool) {
        let max = self.args.max_probes.unwrap_or(u64::MAX);
        let mut queued = 0u64;
        let mut line = Vec::new();
        'lines: loop {
            line.clear();
            if !matches!(input.read_until(b'\n', &mut line), Ok(1..)) {
                break;
            }
            if interrupted.load(Ordering::Relaxed) || self.counters.closed.load(Ordering::Relaxed) {
                break;
            }
            self.stats.read += 1;
            if line.trim_ascii().is_empty() {
                continue;
            }
            let spec = match ProbeSpec::parse_bytes(&line) {
                Ok(spec) => spec,
                Err(error) => {
                    self.stats.invalid += 1;
                    eprintln!("hoptrace bulk: line {}: {error}", self.stats.read);
                    continue;
                }
            };
            if !self.filters.allow(&spec) {
                self.stats.filtered += 1;
                continue;
            }
            for _ in 0..self.args.n_packets {
                if queued >= max {
                    break 'lines;
                }
                self.send(&spec, sender);
                queued += 1;
            }
        }
        self.finish(sender);
    }

    /// Queues `spec` for sending (sending its batch when full, waiting as the rate and the per-destination cap
    /// say); counted as refused if its family has no source address.
    pub(super) fn send(&mut self, spec: &ProbeSpec, sender: &mut BulkSender) {
        let Some(src) = self.source(spec.dst) else {
            self.stats.failed += 1;
            return;
        };
        self.admit(spec.dst, sender);
        let family = usize::from(spec.dst.is_ipv6());
        self.queued[family].push((*spec, src));
        if self.queued[family].len() >= self.pacer.batch() {
            self.flush(family, sender);
        }
    }

    /// Sends what is queued; ends the progress line.
    pub(super) fn finish(&mut self, sender: &mut BulkSender) {
        self.flush(0, sender);
        self.flush(1, sender);
        if self.progress.is_some() {
            eprintln!();
        }
    }

    /// The source address of each family (IPv4, IPv6), where one was found.
    pub(super) fn sources(&self) -> [Option<IpAddr>; 2] {
        self.sources.map(Option::flatten)
    }

    /// The source towards `dst`'s family, found once per family; `None` if there is no route (warned once).
    fn source(&mut self, dst: IpAddr) -> Option<IpAddr> {
        let family = usize::from(dst.is_ipv6());
        let args = self.args;
        *self.sources[family].get_or_insert_with(|| {
            let options = SocketOptions { interface: args.interface.clone(), ..SocketOptions::default() };
            match net::source_for(dst, &options) {
                Ok(source) => Some(source),
                Err(error) => {
                    eprintln!("hoptrace bulk: no source address for {dst}'s family: {error}");
                    None
                }
            }
        })
    }

    /// Waits, sending what is queued first, until `dst` may receive one more probe this second.
    fn admit(&mut self, dst: IpAddr, sender: &mut BulkSender) {
        if self.args.max_per_destination == 0 {
            return;
        }
        while !self.cap.admit(dst, self.start.elapsed().as_secs()) {
            self.flush(0, sender);
            self.flush(1, sender);
            let next = Duration::from_secs(self.start.elapsed().as_secs() + 1);
            std::thread::sleep(next.saturating_sub(self.start.elapsed()));
        }
    }

    /// Sends the probes queued for `family` (0: IPv4, 1: IPv6) and waits as the pacer says. They are encoded
    /// here, all stamped with one reading of the clock: the time they leave, however long the input took.
    fn flush(&mut self, family: usize, sender: &mut BulkSender) {
        let queued = &mut self.queued[family];
        if queued.is_empty() {
            return;
        }
        let (id, stamp) = (self.caracal_id, timestamp(tenth_ms(now_micros())));
        let batch = &mut self.batches[family];
        for (spec, src) in queued.drain(..) {
            batch.push(spec.dst, |buf| encode(&spec, src, id, stamp, buf));
        }
        let outcome = sender.send(family == 1, batch);
        let count = batch.len();
        batch.clear();
        self.stats.sent += outcome.sent as u64;
        self.stats.failed += outcome.failed as u64;
        if let (Some(error), false) = (outcome.error, self.warned) {
            self.warned = true;
            eprintln!("hoptrace bulk: the system refused a probe: {error} (further refusals are only counted)");
        }
        // A sleep costs tens of microseconds whatever it asks: short waits are left owing (the pacer keeps the
        // account, so the rate holds) until they add up to one worth sleeping.
        let now = Instant::now();
        if let Some(wait) = self.pacer.sent(now, count).map(|until| until.saturating_duration_since(now)) {
            if wait >= MIN_SLEEP {
                std::thread::sleep(wait);
            }
        }
        self.show_progress();
    }

    /// Rewrites the progress line on stderr, at most once a second.
    fn show_progress(&mut self) {
        let Some(last) = self.progress else { return };
        if last.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.progress = Some(Instant::now());
        let elapsed = self.start.elapsed().as_secs_f64();
        let matched = self.counters.matched.load(Ordering::Relaxed);
        let rate = self.stats.sent as f64 / elapsed.max(1e-9);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{:.0} s: {} probes sent ({rate:.0}/s), {matched} replies matched ",
            elapsed, self.stats.sent
        );
    }
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}
