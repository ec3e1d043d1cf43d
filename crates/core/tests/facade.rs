//! An embedder's view: every type in the public signatures named through `hoptrace_core` alone (this file names
//! no other crate of the workspace), so that code like this compiles against the façade.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hoptrace_core::sim::{SimNetwork, Simulated};
use hoptrace_core::{
    Answer, Confidence, ConfigError, EngineEvent, Error, Event, Family, Hop, Network, Options, Outcome, Privilege,
    Protocol, Reply, ReplyKind, Report, Rounds, Snapshot, Trace, Tracer, Watch,
};

/// A network of the embedder's own, over the simulated one: the [`Network`] trait's signature in façade types.
struct Counting<'a> {
    inner: Simulated<'a>,
    traces: u32,
}

impl Network for Counting<'_> {
    fn run(
        &mut self,
        trace: &mut Trace,
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(&Trace, EngineEvent),
    ) -> Result<(), Error> {
        self.traces += 1;
        self.inner.run(trace, stop, on_event)
    }

    fn pause(&mut self, interval: Duration, stop: &AtomicBool) -> bool {
        self.inner.pause(interval, stop)
    }

    fn wall_clock(&self) -> SystemTime {
        self.inner.wall_clock()
    }
}

fn tracer(network: &mut SimNetwork) -> Tracer<Counting<'_>> {
    let mut config = Options::default().trace_config(network.destination.addr, false);
    config.source = Some(network.source);
    let inner = Simulated::new(network, UNIX_EPOCH);
    Tracer::over("lab", config, Counting { inner, traces: 0 }).expect("a valid configuration")
}

/// The reply behind each answer of a hop, named as the façade's [`Reply`].
fn replies(hop: &Hop) -> Vec<&Reply> {
    hop.answers().map(|answer: &Answer| &answer.reply).collect()
}

#[test]
fn an_embedder_names_every_type_through_the_facade() {
    let mut network = SimNetwork::chain(false, 2, Duration::from_millis(10));
    let mut tracer = tracer(&mut network);
    let result = tracer.trace().expect("traced");
    assert_eq!(result.outcome, Some(Outcome::Reached { ttl: 3 }));
    let kinds: Vec<bool> =
        result.hops.iter().map(|hop| replies(hop).iter().all(|r| matches!(r.kind, ReplyKind::IcmpError(_)))).collect();
    assert_eq!(kinds, [true, true, true]);

    let mut options = Options::new(Protocol::Icmp);
    (options.family, options.privilege) = (Family::V6, Privilege::Unprivileged);
    assert_eq!([Family::Any, Family::V4, Family::V6].map(Family::ipv6), [None, Some(false), Some(true)]);
    assert_eq!(
        (options.confidence, options.family.admits("198.18.0.1".parse().unwrap())),
        (Confidence::default(), false)
    );
    let mut config = options.trace_config("2001:db8::1".parse().unwrap(), false);
    config.first_ttl = 0;
    let error = Tracer::over("lab", config, tracer_network()).err().expect("refused");
    assert!(matches!(error, Error::Config(ConfigError::FirstTtlZero)), "{error:?}");
    if let Error::Net(error) = error {
        let _: &hoptrace_core::NetError = &error;
    }
}

fn tracer_network() -> Counting<'static> {
    let network = Box::leak(Box::new(SimNetwork::chain(true, 1, Duration::from_millis(1))));
    Counting { inner: Simulated::new(network, UNIX_EPOCH), traces: 0 }
}

#[test]
fn rounds_run_forever_until_stopped_and_a_watch_sees_them() {
    let mut network = SimNetwork::chain(false, 2, Duration::from_millis(10));
    network.routers[1].silent = true;
    let mut tracer = tracer(&mut network);
    let (stop, watch): (_, Watch) = (tracer.stop_handle(), tracer.watch());
    let mut seen: Vec<Snapshot> = Vec::new();
    let report: Report = tracer
        .rounds(&Rounds::forever(), |event| {
            if let Event::RoundDone { round: 6, .. } = event {
                stop.stop();
            }
            if let Event::RoundStarted { .. } = event {
                seen.push(watch.snapshot());
            }
        })
        .expect("rounds");
    assert_eq!(report.rounds(), 7);
    let started: Vec<(u32, u32)> = seen.iter().map(|s| (s.rounds_started, s.report.rounds())).collect();
    assert_eq!(started, (1..=7).map(|n| (n, n - 1)).collect::<Vec<_>>());
    let last = watch.snapshot();
    assert!(last.done);
    assert_eq!((last.rounds_started, last.report.rounds(), last.hops.len()), (7, 7, 3));

    let json = serde_json::to_value(&report).expect("a report serialises");
    assert_eq!(json["rounds"], 7);
    let loss: Vec<f64> =
        json["hops"].as_array().unwrap().iter().map(|hop| hop["loss_percent"].as_f64().unwrap()).collect();
    assert_eq!(loss, [0.0, 100.0, 0.0]);
    assert_eq!(json["hops"][0]["responders"][0]["addr"], "198.18.0.1");
    assert_eq!(json["hops"][2]["rtt"]["count"], 21);
}
