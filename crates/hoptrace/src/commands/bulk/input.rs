//! Probe specifications read and parsed on a thread of their own, so that neither a slow input nor the parsing
//! holds up the paced sender (whose core, at full rate, also carries the kernel's work for every probe). They come
//! in chunks through a bounded channel: memory stays flat however long the input, and the reader stops when the
//! sender no longer takes them.

use core::net::IpAddr;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use hoptrace_core::bulk::ProbeSpec;
use hoptrace_core::bulk::Sending;

use super::prefixes::PrefixSet;
use super::BulkArgs;

/// How often an idle input's wait looks at the signals and stdout.
const IDLE_CHECK: Duration = Duration::from_millis(50);
/// The most specifications in a chunk.
const CHUNK: usize = 512;
/// Chunks parsed ahead of the sender.
const AHEAD: usize = 8;
/// The longest line read (a probe specification takes at most about 70 bytes; a target, a name of at most 253).
pub(super) const MAX_LINE: u64 = 1024;

/// Consecutive lines of the input, parsed.
#[derive(Debug, Default)]
pub(super) struct Chunk {
    /// The specifications the filters let through, in input order.
    pub specs: Vec<ProbeSpec>,
    /// Lines that were no specification: what is wrong with each, with its line number.
    pub invalid: Vec<String>,
    /// Specifications the filters left out.
    pub filtered: u64,
    /// Specifications to special destinations, not sent (`--allow-special-destinations` sends them).
    pub special: u64,
    /// What the first of them was, with its line number.
    pub special_note: Option<String>,
}

/// Reads `input` on a new thread until its end (or until the returned receiver is dropped), parsing each line
/// and applying `filters`. A chunk goes as soon as it is full or the input has nothing more buffered, so probes
/// from a slow stream are not held back. The thread is not joined: one blocked on an input that never ends goes
/// with the process.
pub(super) fn spawn<R: Read + Send + 'static>(input: R, filters: Arc<Filters>) -> io::Result<Receiver<Chunk>> {
    let (chunks, received) = sync_channel(AHEAD);
    // Reads of 64 KiB rather than 8 (each returns what is there: a slow writer is not waited for).
    let read = move || parse(BufReader::with_capacity(1 << 16, input), &filters, &chunks);
    thread::Builder::new().name("input".into()).spawn(read)?;
    Ok(received)
}

fn parse<R: Read>(mut input: BufReader<R>, filters: &Filters, chunks: &SyncSender<Chunk>) {
    let mut chunk = Chunk { specs: Vec::with_capacity(CHUNK), ..Chunk::default() };
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        // A read error ends the input as its end does.
        let end = !matches!(input.by_ref().take(MAX_LINE).read_until(b'\n', &mut line), Ok(1..));
        if !end {
            number += 1;
            if line.len() as u64 == MAX_LINE && line.last() != Some(&b'\n') {
                // The rest of it goes unread: memory stays bounded whatever the input.
                let _ = input.skip_until(b'\n');
                chunk.invalid.push(format!("line {number}: longer than {MAX_LINE} bytes"));
            } else if !line.trim_ascii().is_empty() {
                match ProbeSpec::parse_bytes(&line) {
                    Ok(spec) if !filters.allow(&spec) => chunk.filtered += 1,
                    Ok(spec) => match filters.special(spec.dst) {
                        None => chunk.specs.push(spec),
                        Some(kind) => {
                            chunk.special += 1;
                            let note = || format!("line {number}: {} is {kind}", spec.dst);
                            chunk.special_note.get_or_insert_with(note);
                        }
                    },
                    Err(error) => chunk.invalid.push(format!("line {number}: {error}")),
                }
            }
        }
        let due = end || chunk.specs.len() >= CHUNK || input.buffer().is_empty();
        let something = !chunk.specs.is_empty() || !chunk.invalid.is_empty() || chunk.filtered > 0 || chunk.special > 0;
        let fresh = || Chunk { specs: Vec::with_capacity(CHUNK), ..Chunk::default() };
        if due && something && chunks.send(std::mem::replace(&mut chunk, fresh())).is_err() {
            return;
        }
        if end {
            return;
        }
    }
}

/// What became of the input's lines before any was sent.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct InputStats {
    /// Lines that were no probe specification (or target).
    pub invalid: u64,
    /// Probes left out by the filters.
    pub filtered: u64,
    /// Probes to special destinations (broadcast, unspecified, loopback, multicast), not sent.
    pub special: u64,
}

impl InputStats {
    /// Counts `count` probes to special destinations as not sent, saying why the first time (`first`: what the
    /// first was).
    pub(super) fn refuse_special(&mut self, count: u64, first: &str) {
        if self.special == 0 && count > 0 {
            eprintln!(
                "hoptrace bulk: {first}: not probed, nor any other broadcast, unspecified, loopback or multicast \
                 destination (--allow-special-destinations probes them)"
            );
        }
        self.special += count;
    }
}

/// Sends the probes of every chunk of the input (each `n_packets` times), until its end, `max_probes`, an
/// interruption or a closed stdout. When the input has nothing ready, what is queued goes first rather than wait
/// for a full batch.
pub(super) fn send(
    sending: &mut Sending<'_>,
    chunks: &Receiver<Chunk>,
    (n_packets, max_probes): (u64, Option<u64>),
    interrupted: &AtomicBool,
    stats: &mut InputStats,
) {
    let max = max_probes.unwrap_or(u64::MAX);
    let mut queued = 0u64;
    'chunks: loop {
        let chunk = match chunks.try_recv() {
            Ok(chunk) => chunk,
            Err(TryRecvError::Empty) => {
                sending.flush_queued();
                // An input that stays open and idle: a signal or a closed stdout still ends the run.
                match chunks.recv_timeout(IDLE_CHECK) {
                    Ok(chunk) => chunk,
                    Err(RecvTimeoutError::Timeout) if !sending.ended(interrupted) => continue,
                    Err(_) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        for why in &chunk.invalid {
            eprintln!("hoptrace bulk: {}", crate::escape::escape(why));
        }
        stats.invalid += chunk.invalid.len() as u64;
        stats.filtered += chunk.filtered;
        if let Some(note) = &chunk.special_note {
            stats.refuse_special(chunk.special, note);
        }
        for spec in &chunk.specs {
            for _ in 0..n_packets {
                if queued >= max || sending.ended(interrupted) {
                    break 'chunks;
                }
                sending.send(spec);
                queued += 1;
            }
        }
    }
    sending.finish();
}

/// The filters of caracal's command line.
#[derive(Debug, Default)]
pub(super) struct Filters {
    min_ttl: Option<u8>,
    max_ttl: Option<u8>,
    exclude: Option<PrefixSet>,
    include: Option<PrefixSet>,
    /// `--allow-special-destinations`.
    allow_special: bool,
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
            allow_special: args.allow_special,
        })
    }

    /// What makes `dst` no destination to probe — broadcast, unspecified, loopback, multicast — unless
    /// `--allow-special-destinations`.
    pub(super) fn special(&self, dst: IpAddr) -> Option<&'static str> {
        if self.allow_special {
            return None;
        }
        match dst.to_canonical() {
            IpAddr::V4(v4) if v4.is_broadcast() => Some("a broadcast address"),
            // 0.0.0.0/8: "this network", which Linux delivers to itself.
            IpAddr::V4(v4) if v4.octets()[0] == 0 => Some("an unspecified address"),
            addr if addr.is_unspecified() => Some("an unspecified address"),
            addr if addr.is_loopback() => Some("a loopback address"),
            addr if addr.is_multicast() => Some("a multicast address"),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &'static str, filters: Filters) -> Vec<Chunk> {
        spawn(text.as_bytes(), Arc::new(filters)).expect("a thread").into_iter().collect()
    }

    #[test]
    fn every_line_is_accounted_for_in_order() {
        let text = "198.18.0.1,24000,33434,1,icmp\n\nnot a probe\n198.18.0.2,24000,33434,9,udp\n198.18.0.3,1,2,3,udp";
        let filters = Filters { max_ttl: Some(8), ..Filters::default() };
        let chunks = all(text, filters);
        let specs: Vec<String> = chunks.iter().flat_map(|c| &c.specs).map(|s| s.dst.to_string()).collect();
        assert_eq!(specs, ["198.18.0.1", "198.18.0.3"]);
        let invalid: Vec<&String> = chunks.iter().flat_map(|c| &c.invalid).collect();
        assert_eq!(invalid.len(), 1);
        assert!(invalid[0].starts_with("line 3: "), "{}", invalid[0]);
        assert_eq!(chunks.iter().map(|c| c.filtered).sum::<u64>(), 1);
    }

    #[test]
    fn an_overlong_line_is_one_invalid_line() {
        let text = format!("{}\n198.18.0.1,24000,33434,1,icmp\n", "9".repeat(100_000)).leak();
        let chunks = all(text, Filters::default());
        let invalid: Vec<&String> = chunks.iter().flat_map(|c| &c.invalid).collect();
        assert_eq!(invalid, ["line 1: longer than 1024 bytes"]);
        assert_eq!(chunks.iter().map(|c| c.specs.len()).sum::<usize>(), 1);
    }

    #[test]
    fn special_destinations_are_known_unless_allowed() {
        let filters = Filters::default();
        let kind = |addr: &str| filters.special(addr.parse().unwrap());
        for (addr, expected) in [
            ("255.255.255.255", Some("a broadcast address")),
            ("0.0.0.0", Some("an unspecified address")),
            ("0.1.2.3", Some("an unspecified address")),
            ("::", Some("an unspecified address")),
            ("127.0.0.1", Some("a loopback address")),
            ("::ffff:127.0.0.2", Some("a loopback address")),
            ("::1", Some("a loopback address")),
            ("224.0.0.1", Some("a multicast address")),
            ("ff02::1", Some("a multicast address")),
            ("198.18.0.1", None),
            ("198.19.255.255", None),
            ("2001:db8::1", None),
        ] {
            assert_eq!(kind(addr), expected, "{addr}");
        }
        let allowed = Filters { allow_special: true, ..Filters::default() };
        assert_eq!(allowed.special("255.255.255.255".parse().unwrap()), None);
    }

    #[test]
    fn chunks_are_bounded() {
        let text: String = (0..CHUNK * 2 + 1).map(|i| format!("198.18.{}.{},1,2,3,icmp\n", i / 256, i % 256)).collect();
        let chunks = all(text.leak(), Filters::default());
        assert!(chunks.iter().all(|c| c.specs.len() <= CHUNK));
        assert_eq!(chunks.iter().map(|c| c.specs.len()).sum::<usize>(), CHUNK * 2 + 1);
    }
}
