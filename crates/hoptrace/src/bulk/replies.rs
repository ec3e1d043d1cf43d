//! The receiving side: ICMP messages into caracal's rows on stdout, and the counts of what was dropped.

use core::net::{IpAddr, Ipv6Addr};
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;

use engine::bulk::{decode, Arrival, Check, Rejection, Row};
use net::bulk::BulkReceiver;

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
    /// Standard output was closed: nothing more can be written.
    pub closed: AtomicBool,
}

/// Reads replies until `stop`, handing each matched one to `on_row`, which says whether it could be used (`false`:
/// the output is closed).
pub(super) fn receive(
    receiver: &mut BulkReceiver,
    stop: &AtomicBool,
    check: Check,
    source_v6: &OnceLock<Ipv6Addr>,
    counters: &Counters,
    mut on_row: impl FnMut(Row) -> bool,
) -> io::Result<()> {
    let count = |counter: &AtomicU64| counter.fetch_add(1, Ordering::Relaxed);
    receiver.run(stop, |capture| {
        count(&counters.received);
        let arrival = match (capture.ipv6, capture.from) {
            (false, _) => Arrival::V4(capture.bytes),
            (true, IpAddr::V6(from)) => {
                let Some(&to) = source_v6.get() else {
                    count(&counters.unrelated);
                    return;
                };
                Arrival::V6 { message: capture.bytes, from, to, hop_limit: capture.hop_limit.unwrap_or(0) }
            }
            (true, IpAddr::V4(_)) => {
                count(&counters.unrelated);
                return;
            }
        };
        match decode(arrival, capture.micros, check) {
            Ok(row) => {
                count(&counters.matched);
                if !counters.closed.load(Ordering::Relaxed) && !on_row(row) {
                    counters.closed.store(true, Ordering::Relaxed);
                }
            }
            Err(Rejection::Integrity) => {
                count(&counters.integrity);
            }
            Err(Rejection::Unrelated | Rejection::Malformed) => {
                count(&counters.unrelated);
            }
        }
    })
}

/// [`receive`] writing caracal's CSV to stdout, its header first, `round` in the last column.
pub(super) fn write_csv(
    receiver: &mut BulkReceiver,
    stop: &AtomicBool,
    check: Check,
    round: &str,
    source_v6: &OnceLock<Ipv6Addr>,
    counters: &Counters,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    if writeln!(out, "{}", Row::HEADER).is_err() {
        counters.closed.store(true, Ordering::Relaxed);
    }
    receive(receiver, stop, check, source_v6, counters, |row| row.write_csv(&mut out, round).is_ok())?;
    if out.flush().is_err() {
        counters.closed.store(true, Ordering::Relaxed);
    }
    Ok(())
}
