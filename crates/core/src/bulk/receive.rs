//! The receiving side: ICMP messages into caracal's rows, and the counts of what was dropped.

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use engine::bulk::{decode, Check, Rejection, Row};
use net::bulk::{BulkReceiver, Capture};

/// What the receiver has seen, read by the sender's progress line and the summary.
#[derive(Debug, Default)]
pub struct Counters {
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
    /// Set from outside when nothing more is worth probing (the command line: writing its output failed, or its
    /// reader went away).
    pub closed: Arc<AtomicBool>,
}

/// Where matched replies go.
pub trait Sink {
    /// One matched reply.
    fn row(&mut self, row: Row);
    /// No reply is waiting now.
    fn drained(&mut self) {}
}

/// Reads replies until `stop`, handing each matched one to `sink`.
pub fn receive(
    receiver: &mut BulkReceiver,
    stop: &AtomicBool,
    check: Check,
    counters: &Counters,
    sink: &mut impl Sink,
) -> io::Result<()> {
    // This thread alone writes the counts: a load and a store, not a locked read-modify-write per reply.
    let count = |counter: &AtomicU64| counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    // Both callbacks use the sink, never at once.
    let sink = RefCell::new(sink);
    let on_message = |capture: Capture<'_>| {
        count(&counters.received);
        match decode(capture.arrival, capture.micros, check) {
            Ok(row) => {
                count(&counters.matched);
                sink.borrow_mut().row(row);
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
    let on_drained = || sink.borrow_mut().drained();
    let result = receiver.run(stop, on_message, on_drained);
    counters.lost.store(receiver.lost(), Ordering::Relaxed);
    result
}
