//! The rounds driver (report and live modes) on the simulated network.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hoptrace_core::sim::{SimNetwork, Simulated};
use hoptrace_core::{EngineEvent, Error, Event, Network, Options, Outcome, Protocol, Rounds, Trace, Tracer};

/// The simulated network, which grows by a router (a new one at TTL 2, the old one moved to 3) after `grow_after`
/// rounds.
struct Growing<'a> {
    inner: Simulated<'a>,
    grow_after: u32,
}

impl Network for Growing<'_> {
    fn run(
        &mut self,
        trace: &mut Trace,
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(&Trace, EngineEvent),
    ) -> Result<(), Error> {
        self.inner.run(trace, stop, on_event)
    }

    fn pause(&mut self, interval: Duration, stop: &AtomicBool) -> bool {
        self.grow_after = self.grow_after.saturating_sub(1);
        if self.grow_after == 0 {
            let routers = &mut self.inner.network.routers;
            let moved = routers[1].clone();
            routers[1].addrs = vec!["198.18.0.77".parse().unwrap()];
            routers.push(moved);
            self.grow_after = u32::MAX;
        }
        self.inner.pause(interval, stop)
    }

    fn wall_clock(&self) -> SystemTime {
        self.inner.wall_clock()
    }
}

/// What [`mtr_rounds`] saw.
struct Seen {
    /// Each round's probes and outcome.
    rounds: Vec<(u32, Option<Outcome>)>,
    /// The report's hops: TTL, probes sent, answers.
    hops: Vec<(u8, u32, u32)>,
    /// Probes that reached the destination.
    delivered: u32,
}

/// mtr's probing (one probe a hop and round, `-m 30`, every TTL in flight at once) for `count` rounds over a path
/// of 2 routers that grows by one after `grow_after` rounds.
fn mtr_rounds(count: u32, grow_after: u32) -> Seen {
    let mut network = SimNetwork::chain(false, 2, Duration::from_millis(10));
    let mut options = Options::new(Protocol::Udp);
    (options.probes_per_hop, options.max_ttl) = (1, 30);
    let mut config = options.trace_config(network.destination.addr, false);
    config.source = Some(network.source);
    let growing = Growing { inner: Simulated::new(&mut network, UNIX_EPOCH), grow_after };
    let mut tracer = Tracer::over("lab", config, growing).expect("a configuration");
    let mut rounds = Vec::new();
    let report = tracer
        .rounds(&Rounds::new(count), |event| {
            if let Event::RoundDone { stats, outcome, .. } = event {
                rounds.push((stats.sent, *outcome));
            }
        })
        .expect("rounds");
    let hops = report.hops().iter().map(|hop| (hop.ttl, hop.sent, hop.received)).collect();
    drop(tracer);
    Seen { rounds, hops, delivered: network.delivered_to_destination }
}

#[test]
fn rounds_after_the_first_probe_no_farther_than_the_destination() {
    let Seen { rounds: sent, hops, delivered } = mtr_rounds(4, u32::MAX);
    // The first round sends every TTL up to 30 at once; the next ones stop one past the destination's TTL 3.
    assert_eq!(sent, [30, 4, 4, 4].map(|sent| (sent, Some(Outcome::Reached { ttl: 3 }))));
    assert_eq!(hops, [(1, 4, 4), (2, 4, 4), (3, 4, 4)]);
    assert_eq!(delivered, 28 + 2 + 2 + 2);
}

#[test]
fn a_path_that_grows_between_rounds_is_followed() {
    let Seen { rounds: sent, hops, .. } = mtr_rounds(6, 2);
    // Round 3 finds a router where the destination was, and probes on to -m; the rounds after stop at TTL 5.
    let reached = |ttl| Some(Outcome::Reached { ttl });
    assert_eq!(
        sent,
        [(30, reached(3)), (4, reached(3)), (30, reached(4)), (5, reached(4)), (5, reached(4)), (5, reached(4))]
    );
    // The report stops where the destination first answered, as mtr's does.
    assert_eq!(hops, [(1, 6, 6), (2, 6, 6), (3, 6, 6)]);
}
