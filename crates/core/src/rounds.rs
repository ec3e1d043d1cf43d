//! The rounds driver: one trace after another over the same network, each numbering its probes past the last's,
//! every step reported as an [`Event`] and every round folded into a [`Report`].

use core::time::Duration;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use engine::{Trace, TraceConfig};
use net::Prober;

use crate::error::Error;
use crate::event::{Event, TraceInfo};
use crate::report::Report;

/// The longest single sleep between rounds, so that a stop request is noticed soon.
const PAUSE_STEP: Duration = Duration::from_millis(100);

/// How many traces to run, how far apart, in which flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rounds {
    /// Traces run one after another (`-c`); `None` for as many as run until stopped ([`Rounds::forever`]).
    pub count: Option<u32>,
    /// Pause between two rounds (`--interval`).
    pub interval: Duration,
    /// Flows the rounds cycle through (`--flows`): round r probes in flow r mod this, so that a report follows each
    /// of them across per-flow load balancers (Paris probes).
    pub flows: u16,
}

impl Rounds {
    /// `count` rounds a second apart, all in flow 0: mtr's defaults.
    pub fn new(count: u32) -> Self {
        Rounds { count: Some(count), interval: Duration::from_secs(1), flows: 1 }
    }

    /// Rounds a second apart until stopped ([`crate::StopHandle`]), all in flow 0.
    pub fn forever() -> Self {
        Rounds { count: None, ..Rounds::new(1) }
    }

    /// Whether round `round` (from 0) is one of these.
    pub fn includes(&self, round: u32) -> bool {
        self.count.is_none_or(|count| round < count)
    }

    /// The flow round `round` probes in.
    pub fn flow_of(&self, round: u32) -> u16 {
        (round % u32::from(self.flows.max(1))) as u16
    }
}

/// Where traces run: real sockets ([`Sockets`]), or anything else that can drive a [`Trace`] — a simulated
/// network in tests.
pub trait Network {
    /// Runs `trace` until it finishes or `stop` is set, handing every engine event to `on_event`.
    fn run(
        &mut self,
        trace: &mut Trace,
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(&Trace, engine::Event),
    ) -> Result<(), Error>;

    /// Waits `interval` before the next round, or until `stop` is set; whether to go on.
    fn pause(&mut self, interval: Duration, stop: &AtomicBool) -> bool {
        let until = Instant::now() + interval;
        while !stop.load(Ordering::Relaxed) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(PAUSE_STEP));
        }
        false
    }

    /// What went wrong in the last trace that its hops do not show (see [`Event::Warning`]), each once.
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// The wall-clock time, for when a round started.
    fn wall_clock(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The sockets a [`crate::Tracer`] opened, driven by net's event loop.
pub struct Sockets {
    prober: Box<dyn Prober>,
    /// Each distinct reason a send failed in the last trace, with the probes it cost.
    send_failures: Vec<(String, u32)>,
    /// Replies the kernel dropped up to the last report of them.
    dropped: u64,
}

impl Sockets {
    /// Drives `prober`.
    pub(crate) fn new(prober: Box<dyn Prober>) -> Self {
        Sockets { prober, send_failures: Vec::new(), dropped: 0 }
    }
}

impl Network for Sockets {
    fn run(
        &mut self,
        trace: &mut Trace,
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(&Trace, engine::Event),
    ) -> Result<(), Error> {
        let failures = &mut self.send_failures;
        net::run_telling_failures(trace, self.prober.as_mut(), stop, on_event, |error| {
            let reason = error.to_string();
            match failures.iter_mut().find(|(known, _)| *known == reason) {
                Some((_, count)) => *count += 1,
                None => failures.push((reason, 1)),
            }
        })
        .map_err(Error::Net)
    }

    /// Reads (and drops) what arrives meanwhile, so that late replies and strays do not fill the receive buffers
    /// before the next round.
    fn pause(&mut self, interval: Duration, stop: &AtomicBool) -> bool {
        net::idle(self.prober.as_mut(), interval, stop).unwrap_or(false)
    }

    fn take_warnings(&mut self) -> Vec<String> {
        let mut warnings: Vec<String> = self
            .send_failures
            .drain(..)
            .map(|(reason, count)| format!("{count} probe(s) not sent (shown !E): {reason}"))
            .collect();
        let dropped = self.prober.dropped();
        if dropped > self.dropped {
            let lost = dropped - self.dropped;
            warnings.push(format!("{lost} replies dropped here (receive buffer full): some * may be lost here"));
            self.dropped = dropped;
        }
        warnings
    }
}

/// Said when errors came that quote too little to tell Paris UDP probes apart over an ordinary socket.
const SHORT_QUOTES: &str = "errors quoting 8 bytes of their probe (the UDP header alone) cannot tell Paris UDP probes \
    apart without raw sockets: trace with --raw, -I or classic UDP (no -U or --paris) here";

/// Runs round `round` of `config` to `host` over `network`, reporting it to `on_event` (from `RoundStarted` to
/// `RoundDone`), and moves `config`'s probe numbering past it. Returns the finished (or interrupted) trace.
pub(crate) fn run_round(
    network: &mut dyn Network,
    host: &str,
    config: &mut TraceConfig,
    round: u32,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Trace, Error> {
    let mut trace = Trace::new(config.clone()).map_err(Error::Config)?;
    on_event(&Event::RoundStarted { round, info: TraceInfo::new(host, config, network.wall_clock()) });
    let mut hops_done = 0;
    let result = network.run(&mut trace, stop, &mut |trace, event| {
        let probe = |id| trace.probe(id).cloned();
        let event = match event {
            engine::Event::ProbeSent { id, ttl } => probe(id).map(|probe| Event::ProbeSent { round, probe, ttl }),
            engine::Event::Answered { id, ttl } => probe(id).map(|probe| Event::Reply { round, probe, ttl }),
            engine::Event::HopComplete { ttl } => {
                hops_done += 1;
                let hop = trace.hops().iter().find(|hop| hop.ttl == ttl).cloned();
                hop.map(|hop| Event::HopComplete { round, hop, complete: true })
            }
            _ => None, // the end: the caller reports the round done
        };
        if let Some(event) = event {
            on_event(&event);
        }
    });
    // Interrupted: what is known of the hops not yet complete.
    for hop in trace.hops().iter().skip(hops_done) {
        on_event(&Event::HopComplete { round, hop: hop.clone(), complete: false });
    }
    for message in network.take_warnings() {
        on_event(&Event::Warning { round, message });
    }
    if trace.stats().short_quotes > 0 {
        on_event(&Event::Warning { round, message: SHORT_QUOTES.to_owned() });
    }
    on_event(&Event::RoundDone { round, outcome: trace.outcome(), stats: trace.stats() });
    // The next round's probes are numbered past this one's, so that its late replies match nothing.
    config.sequence_start = config.sequence_start.wrapping_add(trace.stats().sent);
    result.map(|()| trace)
}

/// Runs the rounds `plan` asks for (fewer if `stop` is set or one fails), reporting every step to `on_event` and
/// ending with [`Event::TraceDone`]; returns the report over them.
pub(crate) fn run_rounds(
    network: &mut dyn Network,
    host: &str,
    config: &mut TraceConfig,
    plan: &Rounds,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Report, Error> {
    let mut report = Report::new();
    let mut result = Ok(());
    let mut rounds = 0;
    while plan.includes(rounds) {
        if rounds > 0 && !network.pause(plan.interval, stop) {
            break;
        }
        config.flow = plan.flow_of(rounds);
        let round = run_round(network, host, config, rounds, stop, on_event);
        rounds = rounds.saturating_add(1);
        match round {
            Ok(trace) => report.add_round(trace.hops(), config.target),
            Err(error) => result = Err(error),
        }
        if result.is_err() || stop.load(Ordering::Relaxed) {
            break;
        }
    }
    on_event(&Event::TraceDone { rounds });
    result.map(|()| report)
}
