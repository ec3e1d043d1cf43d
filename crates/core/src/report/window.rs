//! A report over a sliding window: the report statistics (`--report`'s, rate-limit rule included) of the last
//! few rounds only, so that the numbers follow the path as it is now.

use core::net::IpAddr;
use std::collections::VecDeque;

use engine::Hop;

use super::Report;

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
        // The report keeps running sums (Welford, best, worst), which cannot forget a round: rebuilt from the
        // window (a few rounds of a few dozen hops).
        self.report = Report::new();
        for round in &self.rounds {
            self.report.add_round(round, target);
        }
    }

    /// Rounds in the window.
    pub fn len(&self) -> usize {
        self.rounds.len()
    }

    /// Whether no round was added yet.
    pub fn is_empty(&self) -> bool {
        self.rounds.is_empty()
    }

    /// The report over the rounds in the window.
    pub fn report(&self) -> &Report {
        &self.report
    }
}
