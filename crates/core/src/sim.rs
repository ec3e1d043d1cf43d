//! The engine's simulated network as a [`Network`], on a virtual clock: for deterministic tests of everything
//! above the engine (feature `sim`).

use core::time::Duration;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

use engine::sim;
pub use engine::sim::SimNetwork;
use engine::{Trace, TraceConfig};

use crate::error::Error;
use crate::monitor::Traces;
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

/// Many traces over a [`SimNetwork`] on a virtual clock, for the [`Monitor`](crate::monitor::Monitor): a trace
/// runs whole when it starts (the network's replies decided then) and is handed back once virtual time reaches its
/// end; a turn moves the clock to the next such end, or to its deadline. No real time passes.
pub struct SimTraces {
    /// The network.
    pub network: SimNetwork,
    /// The wall-clock time of virtual time `origin`.
    pub started: SystemTime,
    origin: Instant,
    now: Instant,
    /// Traces under way, with the virtual time they end at.
    running: Vec<(String, Trace, Instant)>,
    /// Traces started so far, by key, with the virtual time each started at.
    pub log: Vec<(String, Instant)>,
}

impl SimTraces {
    /// `network`, its virtual clock starting now at wall-clock time `started`.
    pub fn new(network: SimNetwork, started: SystemTime) -> Self {
        let origin = Instant::now();
        SimTraces { network, started, origin, now: origin, running: Vec::new(), log: Vec::new() }
    }

    /// Virtual time elapsed since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.origin
    }
}

impl Traces for SimTraces {
    fn now(&self) -> Instant {
        self.now
    }

    fn wall_clock(&self) -> SystemTime {
        self.started + (self.now - self.origin)
    }

    fn is_raw(&self, _ipv6: bool) -> bool {
        false
    }

    fn start(&mut self, key: String, config: &TraceConfig) -> Result<(), Error> {
        let mut config = config.clone();
        config.source = config.source.or(Some(self.network.source));
        let mut trace = Trace::new(config).map_err(Error::Config)?;
        let run = sim::run(&mut trace, &mut self.network, self.now, LIMIT);
        self.log.push((key.clone(), self.now));
        self.running.push((key, trace, self.now + run.elapsed));
        Ok(())
    }

    fn cancel(&mut self, gone: &mut dyn FnMut(&str) -> bool) {
        self.running.retain(|(key, _, _)| !gone(key));
    }

    fn turn(&mut self, until: Option<Instant>) -> Result<(), Error> {
        let next = self.running.iter().map(|&(_, _, end)| end).chain(until).min();
        self.now = next.map_or(self.now, |next| next.max(self.now));
        Ok(())
    }

    fn take_finished(&mut self) -> Vec<(String, Trace)> {
        let now = self.now;
        let (done, going): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.running).into_iter().partition(|&(_, _, end)| end <= now);
        self.running = going;
        done.into_iter().map(|(key, trace, _)| (key, trace)).collect()
    }
}
