//! The receiving side: ICMP messages into caracal's rows on stdout, and the counts of what was dropped. Standard
//! output is the main command's [`Output`]: its first write error, or its reader going away, stops the probing.

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::bulk::{decode, Check, Rejection, Row};
use net::bulk::{BulkReceiver, Capture};

use crate::output::Sink as Output;

/// How often the receiver looks whether the reader of standard output went away.
const READER_CHECK: Duration = Duration::from_millis(100);
/// Caracal's CSV waiting to be written, at most (bytes).
const CSV_BUFFER: usize = 1 << 16;

/// What the receiver has seen, read by the sender's progress line and the summary.
#[derive(Debug, Default)]
pub(super) struct Counters {
    /// ICMP messages read.
    pub received: AtomicU64,
    /// Replies matched to probes and written.
    pub matched: AtomicU64,
    /// Replies dropped by the integrity check.
    pub integrity: AtomicU64,
    /// Messages that were no reply to a probe (other ICMP, malformed).
    pub unrelated: AtomicU64,
    /// Messages the kernel dropped because the receive ring was full, known when the receiver stops.
    pub lost: AtomicU64,
    /// Writing standard output failed, or its reader went away (the flag of the [`Output`]'s stop handle): nothing
    /// more is worth probing.
    pub closed: Arc<AtomicBool>,
}

/// Where matched replies go, written to `out` if they are written at all.
pub(super) trait Sink {
    /// One matched reply.
    fn row(&mut self, row: Row, out: &mut Output);
    /// No reply is waiting now.
    fn drained(&mut self, _out: &mut Output) {}
}

/// Reads replies until `stop`, handing each matched one to `sink`; between them, looks whether the reader of `out`
/// went away (which, as a failed write, sets `counters.closed`).
pub(super) fn receive(
    receiver: &mut BulkReceiver,
    stop: &AtomicBool,
    check: Check,
    counters: &Counters,
    sink: &mut impl Sink,
    out: &mut Output,
) -> io::Result<()> {
    // This thread alone writes the counts: a load and a store, not a locked read-modify-write per reply.
    let count = |counter: &AtomicU64| counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    // Both callbacks write to the sink and the output, never at once.
    let both = RefCell::new((sink, out));
    let mut checked = Instant::now();
    let on_message = |capture: Capture<'_>| {
        count(&counters.received);
        match decode(capture.arrival, capture.micros, check) {
            Ok(row) => {
                count(&counters.matched);
                let (sink, out) = &mut *both.borrow_mut();
                sink.row(row, out);
            }
            Err(Rejection::Integrity) => {
                count(&counters.integrity);
            }
            Err(Rejection::Unrelated | Rejection::Malformed) => {
                count(&counters.unrelated);
            }
        }
    };
    let on_drained = || {
        let (sink, out) = &mut *both.borrow_mut();
        sink.drained(out);
        if checked.elapsed() >= READER_CHECK {
            checked = Instant::now();
            out.check_reader();
        }
    };
    let result = receiver.run(stop, on_message, on_drained);
    counters.lost.store(receiver.lost(), Ordering::Relaxed);
    result
}

/// Caracal's CSV: rows gathered, and written whenever the replies waiting are (or the buffer is full), so that a
/// reader sees them within milliseconds and a closed stdout is noticed as soon.
struct Csv<'a> {
    rows: Vec<u8>,
    round: &'a str,
}

impl Csv<'_> {
    fn write(&mut self, out: &mut Output) {
        if !self.rows.is_empty() {
            out.write(|out| out.write_all(&self.rows).and_then(|()| out.flush()));
            self.rows.clear();
        }
    }
}

impl Sink for Csv<'_> {
    fn row(&mut self, row: Row, out: &mut Output) {
        // Writing to memory does not fail.
        let _ = row.write_csv(&mut self.rows, self.round);
        if self.rows.len() >= CSV_BUFFER {
            self.write(out);
        }
    }

    fn drained(&mut self, out: &mut Output) {
        self.write(out);
    }
}

/// Writes caracal's CSV header to `out`: before the first probe, so that an output that cannot be written stops
/// the run before it starts.
pub(super) fn write_header(out: &mut Output) {
    out.write(|out| writeln!(out, "{}", Row::HEADER).and_then(|()| out.flush()));
}

/// [`receive`] writing caracal's CSV rows to `out` (after [`write_header`]), `round` in the last column.
pub(super) fn write_csv(
    receiver: &mut BulkReceiver,
    stop: &AtomicBool,
    check: Check,
    round: &str,
    counters: &Counters,
    out: &mut Output,
) -> io::Result<()> {
    let mut csv = Csv { rows: Vec::with_capacity(CSV_BUFFER + 1024), round };
    receive(receiver, stop, check, counters, &mut csv, out)?;
    csv.write(out);
    Ok(())
}
