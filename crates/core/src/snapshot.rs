//! What a running trace knows so far, for another thread to read: trippy-core's `snapshot()`, beside the callback.

use std::sync::{Arc, Mutex, PoisonError};

use engine::Hop;

use crate::event::Event;
use crate::report::Report;

/// A run as of its latest event: the round under way and the report over the rounds before it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Snapshot {
    /// Rounds started (the one under way included).
    pub rounds_started: u32,
    /// The hops of the round under way (or of the last round) known so far, by TTL; complete or not.
    pub hops: Vec<Hop>,
    /// The report over the rounds done.
    pub report: Report,
    /// Whether the run is over.
    pub done: bool,
}

impl Snapshot {
    /// Folds in one event; round 0 starting starts afresh.
    fn apply(&mut self, event: &Event) {
        match event {
            Event::RoundStarted { round: 0, .. } => *self = Snapshot::default(),
            Event::TraceDone { .. } => self.done = true,
            _ => {}
        }
        match event {
            Event::RoundStarted { .. } => {
                self.rounds_started += 1;
                self.hops.clear();
            }
            Event::HopComplete { hop, .. } => match self.hops.binary_search_by_key(&hop.ttl, |known| known.ttl) {
                Ok(index) => self.hops[index] = hop.clone(),
                Err(index) => self.hops.insert(index, hop.clone()),
            },
            _ => {}
        }
        self.report.apply(event);
    }
}

/// A window onto a [`crate::Tracer`]'s runs ([`crate::Tracer::watch`]): clone it, hand it to another thread (a
/// screen, an exporter) and read [`Watch::snapshot`] whenever it suits while the tracer runs.
#[derive(Debug, Clone, Default)]
pub struct Watch(Arc<Mutex<Snapshot>>);

impl Watch {
    /// The run as of now.
    pub fn snapshot(&self) -> Snapshot {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Folds in one event of the run.
    pub(crate) fn apply(&self, event: &Event) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).apply(event);
    }
}
