//! Runs a trace over a simulated network on a virtual clock.

use core::time::Duration;
use std::time::Instant;

use super::network::SimNetwork;
use crate::result::Event;
use crate::trace::Trace;

/// What happened during a simulated run.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Virtual time from the first probe to the end of the trace.
    pub elapsed: Duration,
    /// Every event the trace reported, in order.
    pub events: Vec<Event>,
    /// Replies that did not decode (never shown to the trace).
    pub undecodable: u32,
}

/// Drives `trace` over `network` from virtual time `start` until it finishes, or `limit` of virtual time passes.
pub fn run(trace: &mut Trace, network: &mut SimNetwork, start: Instant, limit: Duration) -> Run {
    let mut now = start;
    let mut events = Vec::new();
    let mut undecodable = 0;
    // Bounded in steps as well as in virtual time.
    for _ in 0..1_000_000 {
        for (bytes, at) in network.deliver(now) {
            match network.decode(&bytes) {
                Some(reply) => _ = trace.handle_reply(reply, at),
                None => undecodable += 1,
            }
        }
        trace.handle_timeout(now);
        while let Some(probe) = trace.poll_probe(now) {
            network.send(&probe, now);
        }
        events.extend(std::iter::from_fn(|| trace.poll_event()));
        let next = [trace.poll_timeout(), network.next_delivery()].into_iter().flatten().min();
        match next {
            Some(at) if !trace.is_finished() && at <= start + limit => now = at.max(now),
            _ => break,
        }
    }
    Run { elapsed: now - start, events, undecodable }
}
