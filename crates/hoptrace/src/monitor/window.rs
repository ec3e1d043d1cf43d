//! One target's rounds over a sliding window: the report statistics (`--report`'s, rate-limit rule included) of the
//! last few rounds only, so that the numbers follow the path as it is now.

use core::net::IpAddr;
use std::collections::VecDeque;

use engine::{Hop, Verdict};

use crate::monitor::path::Observation;
use hoptrace_core::Report;

/// The last rounds of one target, and their report.
#[derive(Debug, Clone)]
pub struct Window {
    rounds: VecDeque<Vec<Hop>>,
    size: usize,
    report: Report,
}

impl Window {
    /// A window of `size` rounds (at least 1).
    pub fn new(size: usize) -> Self {
        Window { rounds: VecDeque::new(), size: size.max(1), report: Report::new() }
    }

    /// Adds a round's hops (a trace to `target`), forgetting the oldest round beyond the window's size.
    pub fn push(&mut self, hops: Vec<Hop>, target: IpAddr) {
        if self.rounds.len() == self.size {
            self.rounds.pop_front();
        }
        self.rounds.push_back(hops);
        // The report keeps running sums, which cannot forget a round: rebuilt from the window (a few rounds of a
        // few dozen hops).
        self.report = Report::new();
        for round in &self.rounds {
            self.report.add_round(round, target);
        }
    }

    /// The report over the rounds in the window.
    pub fn report(&self) -> &Report {
        &self.report
    }
}

/// What a round's hops say about the path on its flow: the first address that answered at each TTL, and the TTL
/// at which the destination answered.
pub fn observe(hops: &[Hop], target: IpAddr) -> Observation {
    let mut seen = Observation::default();
    for hop in hops {
        let index = usize::from(hop.ttl.max(1)) - 1;
        if seen.hops.len() <= index {
            seen.hops.resize(index + 1, None);
        }
        // An answer only a 16-bit field vouches for may be a forger's sweep: no evidence of the path.
        let Some(answer) = hop.answers().find(|answer| !answer.unverified) else { continue };
        seen.hops[index] = Some(answer.from());
        if answer.verdict(target) == Verdict::Reached {
            seen.reached = Some(seen.reached.map_or(hop.ttl, |ttl| ttl.min(hop.ttl)));
        }
    }
    if let Some(reached) = seen.reached {
        seen.hops.truncate(usize::from(reached));
    }
    seen
}
