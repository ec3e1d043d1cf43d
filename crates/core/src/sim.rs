//! The engine's simulated network as a [`Network`], on a virtual clock: for deterministic tests of everything
//! above the engine (feature `sim`).

use core::time::Duration;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

use engine::sim;
pub use engine::sim::SimNetwork;
use engine::Trace;

use crate::error::Error;
use crate::rounds::Network;

/// The longest a simulated trace may run, in virtual time.
const LIMIT: Duration = Duration::from_secs(600);

/// Runs traces over a [`SimNetwork`] in virtual time: a trace takes no real time, the pause between rounds
/// neither, and the wall clock starts at `started`. Events reach the caller when a trace is over.
pub struct Simulated<'a> {
    /// The network.
    pub network: &'a mut SimNetwork,
    /// The wall-clock time of virtual time `origin`.
    pub started: SystemTime,
    origin: Instant,
    now: Instant,
}

impl<'a> Simulated<'a> {
    /// `network`, its virtual clock starting now at wall-clock time `started`.
    pub fn new(network: &'a mut SimNetwork, started: SystemTime) -> Self {
        let origin = Instant::now();
        Simulated { network, started, origin, now: origin }
    }
}

impl Network for Simulated<'_> {
    fn run(
        &mut self,
        trace: &mut Trace,
        _stop: &AtomicBool,
        on_event: &mut dyn FnMut(&Trace, engine::Event),
    ) -> Result<(), Error> {
        let run = sim::run(trace, self.network, self.now, LIMIT);
        for event in run.events {
            on_event(trace, event);
        }
        self.now += run.elapsed;
        Ok(())
    }

    fn pause(&mut self, interval: Duration, _stop: &AtomicBool) -> bool {
        self.now += interval;
        true
    }

    fn wall_clock(&self) -> SystemTime {
        self.started + (self.now - self.origin)
    }
}
