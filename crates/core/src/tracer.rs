//! The façade: a [`Tracer`] to one host, with the command line's defaults, that traces once or in rounds.

use core::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use engine::{Hop, Outcome, Stats, TraceConfig};

use crate::error::Error;
use crate::event::{Event, TraceInfo};
use crate::options::{Family, Options};
use crate::report::Report;
use crate::rounds::{self, Network, Rounds, Sockets};
use crate::snapshot::Watch;

/// Stops a running trace (or run of rounds) from elsewhere: another thread, a signal handler, a key press. The
/// trace in progress ends at its next wake-up (within a quarter second), its hops as far as known.
#[derive(Debug, Clone, Default)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Asks the trace to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// The flag itself, for code that sets one (such as `signal_hook::flag::register`).
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}

/// One finished (or stopped) trace.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TraceResult {
    /// What was traced, how, and when.
    pub info: TraceInfo,
    /// The hops, by TTL, each with its probes and their answers.
    pub hops: Vec<Hop>,
    /// How it ended; `None` when stopped first.
    pub outcome: Option<Outcome>,
    /// Probes sent, replies matched and not.
    pub stats: Stats,
}

/// Traces the path to one host. Its sockets are opened once, by [`Tracer::new`], and serve every trace it runs;
/// another [`Network`] (a simulated one) may stand in for them ([`Tracer::over`]).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use hoptrace_core::sim::{SimNetwork, Simulated};
/// use hoptrace_core::{Event, Options, Outcome, Rounds, Tracer};
///
/// // Two routers, 10 and 20 ms away, then the destination at 30 ms; the second router never answers.
/// let mut network = SimNetwork::chain(false, 2, Duration::from_millis(10));
/// network.routers[1].silent = true;
/// let mut config = Options::default().trace_config(network.destination.addr, false);
/// config.source = Some(network.source); // what opening real sockets would tell
/// let mut tracer = Tracer::over("lab", config, Simulated::new(&mut network, UNIX_EPOCH))?;
///
/// let result = tracer.trace()?;
/// assert_eq!(result.outcome, Some(Outcome::Reached { ttl: 3 }));
/// let responders: Vec<String> = result.hops.iter().map(|hop| format!("{:?}", hop.responders())).collect();
/// assert_eq!(responders, ["[198.18.0.1]", "[]", "[198.18.1.1]"]);
///
/// // Five rounds as mtr: the silent router is 100% loss, the others none; one line of JSON per event.
/// let mut lines = Vec::new();
/// let report = tracer.rounds(&Rounds::new(5), |event| lines.push(serde_json::to_string(event).unwrap()))?;
/// let loss: Vec<f64> = report.hops().iter().map(|hop| hop.loss_percent()).collect();
/// assert_eq!(loss, [0.0, 100.0, 0.0]);
/// assert_eq!(lines.last().unwrap(), r#"{"event":"trace_done","rounds":5}"#);
/// # Ok::<(), hoptrace_core::Error>(())
/// ```
pub struct Tracer<N = Sockets> {
    host: String,
    config: TraceConfig,
    network: N,
    stop: StopHandle,
    watch: Option<Watch>,
}

impl Tracer {
    /// A tracer to `host` (a name or an address) with the command line's defaults.
    pub fn new(host: &str) -> Result<Self, Error> {
        Tracer::with_options(host, &Options::default())
    }

    /// A tracer to `host` with `options`: resolves it, opens the sockets ([`Options::privilege`] decides which)
    /// and checks the configuration. Tracers may run side by side: raw sockets see every reply, so net draws each
    /// its ICMP identifier and TCP source ports, reserves it its UDP port, filters on them, and keys the other
    /// fields with a secret of its own.
    pub fn with_options(host: &str, options: &Options) -> Result<Self, Error> {
        let target = resolve_host(host, options.family)?;
        let privilege = options.privilege.for_trace();
        let config = options.trace_config(target, privilege == net::Privilege::Raw);
        let (prober, endpoint) = net::open(&config, privilege, &options.sockets).map_err(Error::Net)?;
        Tracer::over(host, endpoint.configure(&config), Sockets::new(prober))
    }
}

impl<N: Network> Tracer<N> {
    /// A tracer running the complete engine configuration `config` over `network`: for other transports and
    /// simulated networks.
    pub fn over(host: &str, config: TraceConfig, network: N) -> Result<Self, Error> {
        config.validate().map_err(Error::Config)?;
        Ok(Tracer { host: host.to_owned(), config, network, stop: StopHandle::default(), watch: None })
    }

    /// The engine configuration every trace runs with (the flow and probe numbering aside, which move on).
    pub fn config(&self) -> &TraceConfig {
        &self.config
    }

    /// The host's address.
    pub fn target(&self) -> IpAddr {
        self.config.target
    }

    /// A handle that stops the trace in progress, and the rounds after it.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// A [`Watch`] on the runs of this tracer: another thread reads a [`crate::Snapshot`] of the run under way
    /// from it while [`Tracer::trace`] or [`Tracer::rounds`] runs here.
    pub fn watch(&mut self) -> Watch {
        self.watch.get_or_insert_with(Watch::default).clone()
    }

    /// Traces once.
    pub fn trace(&mut self) -> Result<TraceResult, Error> {
        self.trace_with(|_| {})
    }

    /// Traces once, handing every [`Event`] to `on_event` as it happens.
    pub fn trace_with(&mut self, mut on_event: impl FnMut(&Event)) -> Result<TraceResult, Error> {
        let mut info = None;
        let watch = self.watch.clone();
        let mut on_event = |event: &Event| {
            if let Event::RoundStarted { info: started, .. } = event {
                info = Some(started.clone());
            }
            if let Some(watch) = &watch {
                watch.apply(event);
            }
            on_event(event);
        };
        let stop = self.stop.0.as_ref();
        let trace = rounds::run_round(&mut self.network, &self.host, &mut self.config, 0, stop, &mut on_event);
        on_event(&Event::TraceDone { rounds: 1 });
        let trace = trace?;
        let info = info.unwrap_or_else(|| TraceInfo::new(&self.host, trace.config(), std::time::SystemTime::now()));
        Ok(TraceResult { info, hops: trace.hops().to_vec(), outcome: trace.outcome(), stats: trace.stats() })
    }

    /// Traces in rounds, as mtr does, handing every [`Event`] to `on_event`; returns the report over them.
    pub fn rounds(&mut self, plan: &Rounds, mut on_event: impl FnMut(&Event)) -> Result<Report, Error> {
        let stop = self.stop.0.as_ref();
        let watch = self.watch.clone();
        let mut on_event = |event: &Event| {
            if let Some(watch) = &watch {
                watch.apply(event);
            }
            on_event(event);
        };
        rounds::run_rounds(&mut self.network, &self.host, &mut self.config, plan, stop, &mut on_event)
    }
}

/// The address of `host`: a literal, or the first address of the name, in the family asked for.
pub fn resolve_host(host: &str, family: Family) -> Result<IpAddr, Error> {
    resolve::lookup_host(host, family.ipv6()).map_err(Error::from)
}
