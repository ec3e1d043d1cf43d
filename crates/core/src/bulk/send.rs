//! The sending side: probe specifications read, filtered, encoded into batches and sent at the rate asked.

use core::net::IpAddr;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use engine::bulk::{encode, tenth_ms, timestamp, DestinationCap, Pacer, ProbeSpec, MAX_PROBE_LEN};
use net::bulk::{Batch, BulkSender};
use net::SocketOptions;

use super::input::Chunk;
use super::replies::Counters;
use super::way::Ways;
use super::BulkArgs;

/// How often an idle input's wait looks at the signals and stdout.
const IDLE_CHECK: Duration = Duration::from_millis(50);
/// The shortest wait worth a sleep.
const MIN_SLEEP: Duration = Duration::from_micros(200);

/// What the sender did.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct SendStats {
    /// Lines that were no probe specification.
    pub invalid: u64,
    /// Probes left out by the filters.
    pub filtered: u64,
    /// Probes to special destinations (broadcast, unspecified, loopback, multicast), not sent.
    pub special: u64,
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
    pub(super) fn new(args: &'a BulkArgs, caracal_id: u16, counters: &'a Counters, progress: bool) -> Sending<'a> {
        let batch = args.batch_size as usize;
        let start = Instant::now();
        Sending {
            stats: SendStats::default(),
            args,
            caracal_id,
            counters,
            sources: [args.source_v4.map(|a| Some(IpAddr::V4(a))), args.source_v6.map(|a| Some(IpAddr::V6(a)))],
            ways: Ways::new(args.routed),
            pacer: Pacer::new(args.probing_rate, batch),
            cap: DestinationCap::new(args.max_per_destination),
            queued: [Vec::with_capacity(batch), Vec::with_capacity(batch)],
            batches: [Batch::new(batch, MAX_PROBE_LEN), Batch::new(batch, MAX_PROBE_LEN)],
            start,
            progress: progress.then_some(start),
            warned: false,
        }
    }

    /// Sends the probes of every chunk of the input, until its end, `--max-probes`, an interruption or a closed
    /// stdout. When the input has nothing ready, what is queued goes first rather than wait for a full batch.
    pub(super) fn run(&mut self, chunks: &Receiver<Chunk>, sender: &mut BulkSender, interrupted: &AtomicBool) {
        let max = self.args.max_probes.unwrap_or(u64::MAX);
        let mut queued = 0u64;
        'chunks: loop {
            let chunk = match chunks.try_recv() {
                Ok(chunk) => chunk,
                Err(TryRecvError::Empty) => {
                    self.flush(0, sender);
                    self.flush(1, sender);
                    // An input that stays open and idle: a signal or a closed stdout still ends the run.
                    match chunks.recv_timeout(IDLE_CHECK) {
                        Ok(chunk) => chunk,
                        Err(RecvTimeoutError::Timeout) if !self.ended(interrupted) => continue,
                        Err(_) => break,
                    }
                }
                Err(TryRecvError::Disconnected) => break,
            };
            for why in &chunk.invalid {
                eprintln!("hoptrace bulk: {}", super::printable(why));
            }
            self.stats.invalid += chunk.invalid.len() as u64;
            self.stats.filtered += chunk.filtered;
            if let Some(note) = &chunk.special_note {
                self.refuse_special(chunk.special, note);
            }
            for spec in &chunk.specs {
                for _ in 0..self.args.n_packets {
                    if queued >= max || self.ended(interrupted) {
                        break 'chunks;
                    }
                    self.send(spec, sender);
                    queued += 1;
                }
            }
        }
        self.finish(sender);
    }

    /// Counts `count` probes to special destinations as not sent, saying why the first time (`first`: what the
    /// first was).
    pub(super) fn refuse_special(&mut self, count: u64, first: &str) {
        if self.stats.special == 0 && count > 0 {
            eprintln!(
                "hoptrace bulk: {first}: not probed, nor any other broadcast, unspecified, loopback or multicast \
                 destination (--allow-special-destinations probes them)"
            );
        }
        self.stats.special += count;
    }

    /// Whether the run was interrupted or its output failed.
    pub(super) fn ended(&self, interrupted: &AtomicBool) -> bool {
        interrupted.load(Ordering::Relaxed) || self.counters.closed.load(Ordering::Relaxed)
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
        let Some(&(spec, src)) = queued.first() else { return };
        self.ways.find(spec.dst, src, self.args.interface.as_deref(), sender);
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
