//! The sending side: probe specifications encoded into batches and sent at the rate asked, each family by its way
//! out (`super::way`), no destination over its cap.

use core::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use engine::bulk::{encode, tenth_ms, timestamp, DestinationCap, Pacer, ProbeSpec, MAX_PROBE_LEN};
use net::bulk::{Batch, BulkSender};
use net::SocketOptions;

use super::receive::Counters;
use super::way::Ways;
use super::{BulkOptions, Note};

/// The shortest wait worth a sleep.
const MIN_SLEEP: Duration = Duration::from_micros(200);

/// What the sender did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendStats {
    /// Packets the kernel took.
    pub sent: u64,
    /// Packets refused (no route, no source, a firewall).
    pub failed: u64,
}

/// One run of the sender: probes in, batches out at the rate asked.
pub struct Sending<'a> {
    /// What it did so far.
    pub stats: SendStats,
    options: &'a BulkOptions,
    sender: &'a mut BulkSender,
    counters: &'a Counters,
    /// The source of each family (IPv4, IPv6): given, or the route's towards the first destination.
    sources: [Option<Option<IpAddr>>; 2],
    ways: Ways,
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
    pub(super) fn new(options: &'a BulkOptions, sender: &'a mut BulkSender, counters: &'a Counters) -> Sending<'a> {
        let batch = options.batch.max(1);
        let start = Instant::now();
        Sending {
            stats: SendStats::default(),
            options,
            sender,
            counters,
            sources: [options.source_v4.map(|a| Some(IpAddr::V4(a))), options.source_v6.map(|a| Some(IpAddr::V6(a)))],
            ways: Ways::new(options.routed, options.notes),
            pacer: Pacer::new(options.rate, batch),
            cap: DestinationCap::new(options.max_per_destination),
            queued: [Vec::with_capacity(batch), Vec::with_capacity(batch)],
            batches: [Batch::new(batch, MAX_PROBE_LEN), Batch::new(batch, MAX_PROBE_LEN)],
            start,
            progress: options.progress.then_some(start),
            warned: false,
        }
    }

    /// Probes in one batch.
    pub fn batch(&self) -> usize {
        self.pacer.batch()
    }

    /// Whether the run was interrupted or its output failed.
    pub fn ended(&self, interrupted: &AtomicBool) -> bool {
        interrupted.load(Ordering::Relaxed) || self.counters.closed.load(Ordering::Relaxed)
    }

    /// Queues `spec` for sending (sending its batch when full, waiting as the rate and the per-destination cap
    /// say); counted as refused if its family has no source address.
    pub fn send(&mut self, spec: &ProbeSpec) {
        let Some(src) = self.source(spec.dst) else {
            self.stats.failed += 1;
            return;
        };
        self.admit(spec.dst);
        let family = usize::from(spec.dst.is_ipv6());
        self.queued[family].push((*spec, src));
        if self.queued[family].len() >= self.pacer.batch() {
            self.flush(family);
        }
    }

    /// Sends what is queued now, rather than wait for full batches.
    pub fn flush_queued(&mut self) {
        self.flush(0);
        self.flush(1);
    }

    /// Sends what is queued; ends the progress line.
    pub fn finish(&mut self) {
        self.flush_queued();
        if self.progress.is_some() {
            (self.options.notes)(Note::Progress(None));
        }
    }

    /// The source address of each family (IPv4, IPv6), where one was found.
    pub fn sources(&self) -> [Option<IpAddr>; 2] {
        self.sources.map(Option::flatten)
    }

    /// The source towards `dst`'s family, found once per family; `None` if there is no route (warned once).
    fn source(&mut self, dst: IpAddr) -> Option<IpAddr> {
        let family = usize::from(dst.is_ipv6());
        let options = self.options;
        *self.sources[family].get_or_insert_with(|| {
            let socket_options = SocketOptions { interface: options.interface.clone(), ..SocketOptions::default() };
            match net::source_for(dst, &socket_options) {
                Ok(source) => Some(source),
                Err(error) => {
                    (options.notes)(Note::Line(&format!("no source address for {dst}'s family: {error}")));
                    None
                }
            }
        })
    }

    /// Waits, sending what is queued first, until `dst` may receive one more probe this second.
    fn admit(&mut self, dst: IpAddr) {
        if self.options.max_per_destination == 0 {
            return;
        }
        while !self.cap.admit(dst, self.start.elapsed().as_secs()) {
            self.flush_queued();
            let next = Duration::from_secs(self.start.elapsed().as_secs() + 1);
            std::thread::sleep(next.saturating_sub(self.start.elapsed()));
        }
    }

    /// Sends the probes queued for `family` (0: IPv4, 1: IPv6) and waits as the pacer says. They are encoded
    /// here, all stamped with one reading of the clock: the time they leave, however long the input took.
    fn flush(&mut self, family: usize) {
        let queued = &mut self.queued[family];
        let Some(&(spec, src)) = queued.first() else { return };
        let options = self.options;
        let matched = self.counters.matched.load(Ordering::Relaxed);
        self.ways.find(spec.dst, src, options.interface.as_deref(), self.sender, matched);
        let (id, stamp) = (options.caracal_id, timestamp(tenth_ms(now_micros())));
        let batch = &mut self.batches[family];
        for (spec, src) in queued.drain(..) {
            batch.push(spec.dst, |buf| encode(&spec, src, id, stamp, buf));
        }
        let outcome = self.sender.send(family == 1, batch);
        let count = batch.len();
        batch.clear();
        self.stats.sent += outcome.sent as u64;
        self.stats.failed += outcome.failed as u64;
        if let (Some(error), false) = (outcome.error, self.warned) {
            self.warned = true;
            let note = format!("the system refused a probe: {error} (further refusals are only counted)");
            (options.notes)(Note::Line(&note));
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
        let line =
            format!("{:.0} s: {} probes sent ({rate:.0}/s), {matched} replies matched ", elapsed, self.stats.sent);
        (self.options.notes)(Note::Progress(Some(&line)));
    }
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}
