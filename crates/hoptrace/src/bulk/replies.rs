//! The receiving side: ICMP messages into caracal's rows on stdout, and the counts of what was dropped.

use std::cell::RefCell;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use engine::bulk::{decode, Check, Rejection, Row};
use net::bulk::{BulkReceiver, Capture};

/// What the receiver has seen, read by the sender's progress line and the summary.
#[derive(Debug, Default)]
pub(super) struct Counters {
    /// ICMP messages read.
    pub received: AtomicU64,
    /// Replies matched to probes and written.
    pub matched: AtomicU64,
    /// Replies dropped by the integrity check (the untagged among them).
    pub integrity: AtomicU64,
    /// Replies dropped by the integrity check because too short to carry the tag.
    pub untagged: AtomicU64,
    /// Messages that were no reply to a probe (other ICMP, malformed).
    pub unrelated: AtomicU64,
    /// Messages the kernel dropped because the receive ring was full, known when the receiver stops.
    pub lost: AtomicU64,
    /// Standard output was closed: nothing more can be written.
    pub closed: AtomicBool,
}

/// Where matched replies go. Each method says whether the output can still be used (`false`: it is closed).
pub(super) trait Sink {
    /// One matched reply.
    fn row(&mut self, row: Row) -> bool;
    /// No reply is waiting now.
    fn drained(&mut self) -> bool {
        true
    }
}

/// Reads replies until `stop`, handing each matched one to `sink`.
pub(super) fn receive(
    receiver: &mut BulkReceiver,
    stop: &AtomicBool,
    check: Check,
    counters: &Counters,
    sink: &mut impl Sink,
) -> io::Result<()> {
    // This thread alone writes the counts: a load and a store, not a locked read-modify-write per reply.
    let count = |counter: &AtomicU64| counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    // Both callbacks write to the sink, never at once.
    let sink = RefCell::new(sink);
    let open = |usable: bool| {
        if !usable {
            counters.closed.store(true, Ordering::Relaxed);
        }
    };
    let on_message = |capture: Capture<'_>| {
        count(&counters.received);
        match decode(capture.arrival, capture.micros, check) {
            Ok(row) => {
                count(&counters.matched);
                if !counters.closed.load(Ordering::Relaxed) {
                    open(sink.borrow_mut().row(row));
                }
            }
            Err(Rejection::Integrity) => {
                count(&counters.integrity);
            }
            Err(Rejection::Untagged) => {
                count(&counters.integrity);
                count(&counters.untagged);
            }
            Err(Rejection::Unrelated | Rejection::Malformed) => {
                count(&counters.unrelated);
            }
        }
    };
    let on_drained = || {
        if !counters.closed.load(Ordering::Relaxed) {
            open(sink.borrow_mut().drained());
        }
    };
    let result = receiver.run(stop, on_message, on_drained);
    counters.lost.store(receiver.lost(), Ordering::Relaxed);
    result
}

/// Caracal's CSV on stdout: flushed whenever the replies waiting are written, so that a reader sees them within
/// milliseconds and a closed stdout is noticed as soon.
struct Csv<'a> {
    out: BufWriter<io::StdoutLock<'a>>,
    round: &'a str,
}

impl Sink for Csv<'_> {
    fn row(&mut self, row: Row) -> bool {
        row.write_csv(&mut self.out, self.round).is_ok()
    }

    fn drained(&mut self) -> bool {
        self.out.flush().is_ok()
    }
}

/// [`receive`] writing caracal's CSV to stdout, its header first, `round` in the last column.
pub(super) fn write_csv(
    receiver: &mut BulkReceiver,
    stop: &AtomicBool,
    check: Check,
    round: &str,
    counters: &Counters,
) -> io::Result<()> {
    let mut csv = Csv { out: BufWriter::with_capacity(1 << 16, io::stdout().lock()), round };
    if writeln!(csv.out, "{}", Row::HEADER).and_then(|()| csv.out.flush()).is_err() {
        counters.closed.store(true, Ordering::Relaxed);
    }
    receive(receiver, stop, check, counters, &mut csv)?;
    if !csv.drained() {
        counters.closed.store(true, Ordering::Relaxed);
    }
    Ok(())
}
