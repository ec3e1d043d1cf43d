//! Scheduling, waits and streaming against the simulated network.

mod common;

use core::time::Duration;

use common::*;
use hoptrace_engine::sim::{RateLimit, SimNetwork};
use hoptrace_engine::{Event, Method, Outcome, Protocol, WaitPolicy};

#[test]
fn max_ttl_reached_before_the_destination() {
    let mut network = SimNetwork::chain(false, 10, 5 * MS);
    let mut config = config(&network, Method::classic(Protocol::Icmp));
    config.max_ttl = 5;
    let (trace, _) = run(&mut network, config);
    assert_eq!(trace.outcome(), Some(Outcome::MaxTtl));
    assert_eq!(responders(&trace), expected_path(&network, 3)[..5].to_vec());
    assert_eq!(trace.stats().sent, 15);
}

#[test]
fn first_ttl_skips_the_nearest_hops() {
    let mut network = SimNetwork::chain(false, 5, 5 * MS);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.first_ttl = 4;
    let (trace, _) = run(&mut network, config);
    assert_eq!(trace.hops().iter().map(|hop| hop.ttl).collect::<Vec<_>>(), [4, 5, 6]);
    assert_eq!(responders(&trace), expected_path(&network, 3)[3..].to_vec());
}

#[test]
fn a_silent_hop_between_answering_hops_costs_a_few_neighbour_rtts() {
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    network.routers[2].silent = true;
    let (trace, run) = trace(&mut network, Method::classic(Protocol::Udp));
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 7 }));
    // NEAR rule: 3 × (RTT of hop 4 + 1 ms) = 123 ms after the probes of hop 3 left, not 5 s.
    assert_eq!(run.elapsed, Duration::from_millis(123));
}

#[test]
fn without_adaptive_waits_a_silent_hop_costs_the_full_wait() {
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    network.routers[2].silent = true;
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.wait = WaitPolicy::traceroute(Duration::from_secs(2), 0.0, 0.0);
    let (_, run) = run(&mut network, config);
    assert_eq!(run.elapsed, Duration::from_secs(2));
}

#[test]
fn here_rule_gives_up_a_lost_probe_after_a_few_same_hop_rtts() {
    let mut network = SimNetwork::chain(false, 3, 100 * MS);
    network.routers[2].loss = 0.5;
    network.seed(3);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.max_ttl = 3;
    config.wait.near = 0.0;
    let (trace, run) = run(&mut network, config);
    let answered = trace.hops()[2].answers().count();
    assert!((1..3).contains(&answered), "seed 3 loses some of hop 3's probes: {answered}");
    // HERE rule: 3 × (300 ms + 1 ms) after the lost probes were sent.
    assert_eq!(run.elapsed, Duration::from_millis(903));
}

#[test]
fn send_interval_paces_probes() {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.send_interval = 50 * MS;
    let (trace, _) = run(&mut network, config);
    let mut sent: Vec<_> = trace.hops().iter().flat_map(|hop| hop.probes.iter().map(|p| p.sent_at)).collect();
    sent.sort();
    assert_eq!(sent.len(), 12);
    assert!(sent.windows(2).all(|pair| pair[1] - pair[0] == 50 * MS));
}

#[test]
fn one_probe_in_flight_makes_the_trace_sequential() {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    let mut config = config(&network, Method::classic(Protocol::Icmp));
    config.max_in_flight = 1;
    let (trace, run) = run(&mut network, config);
    assert_eq!(responders(&trace), expected_path(&network, 3));
    // 3 probes each at 10, 20, 30 and 40 ms round trips.
    assert_eq!(run.elapsed, Duration::from_millis(300));
}

#[test]
fn hops_complete_in_order_and_stream_before_the_end() {
    let mut network = SimNetwork::chain(false, 5, 10 * MS);
    network.routers[1].silent = true; // hop 2 completes late, holding back the report of hops 3 to 6
    let (trace, run) = trace(&mut network, Method::classic(Protocol::Udp));
    let expected: Vec<Event> =
        (1..=6).map(|ttl| Event::HopComplete { ttl }).chain([Event::Finished(Outcome::Reached { ttl: 6 })]).collect();
    let milestones: Vec<Event> = run
        .events
        .iter()
        .copied()
        .filter(|event| matches!(event, Event::HopComplete { .. } | Event::Finished(_)))
        .collect();
    assert_eq!(milestones, expected);
    // Every probe was announced once when handed out (the ones past the destination too, later cancelled), every answered one once when its reply was recorded, each
    // before its hop completed.
    let mut probes: Vec<_> =
        trace.hops().iter().flat_map(|hop| hop.probes.iter().map(|probe| (probe.id, hop.ttl))).collect();
    probes.sort();
    let sent: Vec<_> = run
        .events
        .iter()
        .filter_map(|event| if let Event::ProbeSent { id, ttl } = *event { Some((id, ttl)) } else { None })
        .collect();
    assert_eq!(sent.len() as u32, trace.stats().sent);
    let shown: Vec<_> = sent.iter().copied().filter(|probe| probes.contains(probe)).collect();
    assert_eq!(shown, probes, "every probe of the hops shown (up to the destination) was announced, in order");
    let mut answered: Vec<_> = trace
        .hops()
        .iter()
        .flat_map(|hop| {
            hop.probes.iter().filter(|probe| probe.status.answer().is_some()).map(|probe| (probe.id, hop.ttl))
        })
        .collect();
    answered.sort();
    let mut announced: Vec<_> = run
        .events
        .iter()
        .filter_map(|event| if let Event::Answered { id, ttl } = *event { Some((id, ttl)) } else { None })
        .collect();
    announced.sort();
    assert_eq!(announced, answered);
    for (index, event) in run.events.iter().enumerate() {
        if let Event::Answered { ttl, .. } = event {
            assert!(!run.events[..index].contains(&Event::HopComplete { ttl: *ttl }), "{event:?} after its hop");
        }
    }
}

#[test]
fn a_failed_send_is_recorded_and_the_trace_goes_on() {
    use hoptrace_engine::{ProbeStatus, Trace};
    let network = SimNetwork::chain(false, 1, 10 * MS);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.max_ttl = 1;
    config.probes_per_hop = 2;
    let mut trace = Trace::new(config).unwrap();
    let now = std::time::Instant::now();
    let first = trace.poll_probe(now).unwrap();
    let second = trace.poll_probe(now).unwrap();
    trace.send_failed(first.id);
    trace.send_failed(second.id);
    assert_eq!(trace.outcome(), Some(Outcome::MaxTtl));
    assert!(trace.hops()[0].probes.iter().all(|p| p.status == ProbeStatus::SendFailed));
}

#[test]
fn bad_configurations_are_refused() {
    use hoptrace_engine::{ConfigError, Trace};
    let network = SimNetwork::chain(false, 1, 10 * MS);
    let base = config(&network, Method::classic(Protocol::Udp));
    let cases = [
        (hoptrace_engine::TraceConfig { first_ttl: 0, ..base.clone() }, ConfigError::FirstTtlZero),
        (hoptrace_engine::TraceConfig { first_ttl: 9, max_ttl: 8, ..base.clone() }, ConfigError::FirstTtlAboveMax),
        (hoptrace_engine::TraceConfig { probes_per_hop: 0, ..base.clone() }, ConfigError::NoProbes),
        (hoptrace_engine::TraceConfig { max_in_flight: 0, ..base.clone() }, ConfigError::NothingInFlight),
        (
            hoptrace_engine::TraceConfig { method: Method::paris(Protocol::Udp), source: None, ..base.clone() },
            ConfigError::ParisNeedsSource,
        ),
        (
            hoptrace_engine::TraceConfig {
                wait: WaitPolicy { here: f64::NAN, ..WaitPolicy::default() },
                ..base.clone()
            },
            ConfigError::BadWaitFactor,
        ),
    ];
    for (config, error) in cases {
        assert_eq!(Trace::new(config).err(), Some(error));
    }
}

#[test]
fn the_gap_limit_stops_after_silent_ttls_past_the_farthest_answer() {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    network.destination.answers_udp = false;
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.gap_limit = Some(5);
    let (trace, run) = run(&mut network, config);
    assert_eq!(trace.outcome(), Some(Outcome::GapLimit { ttl: 8 }));
    let responders = responders(&trace);
    assert_eq!(responders.len(), 8, "TTLs 4 to 8 are listed as silent");
    assert!(responders[3..].iter().flatten().all(Option::is_none));
    // Past the farthest answer (30 ms away) the silent TTLs wait 3 × 31 ms, raised to the 1.1 s floor; all of
    // them left at once.
    assert_eq!(run.elapsed, Duration::from_millis(1100));
}

#[test]
fn the_gap_limit_does_not_cut_silent_stretches_shorter_than_it() {
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    for router in &mut network.routers[1..5] {
        router.silent = true;
    }
    let mut config = config(&network, Method::classic(Protocol::Icmp));
    config.gap_limit = Some(5);
    let (trace, _) = run(&mut network, config);
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 7 }));
}

#[test]
fn a_silent_path_stops_at_the_gap_limit_from_the_first_ttl() {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    for router in &mut network.routers {
        router.silent = true;
    }
    network.destination.answers_icmp = false;
    let mut config = config(&network, Method::classic(Protocol::Icmp));
    config.gap_limit = Some(3);
    let (trace, _) = run(&mut network, config);
    assert_eq!(trace.outcome(), Some(Outcome::GapLimit { ttl: 3 }));
    assert_eq!(trace.hops().len(), 3);
}

/// The bench's path (a): 7 routers and the destination, one-way delays of 11.25 ms on every other link.
fn bench_path() -> SimNetwork {
    let mut network = SimNetwork::chain(false, 7, 10 * MS);
    for (index, router) in network.routers.iter_mut().enumerate() {
        router.rtt = Duration::from_micros(22_500 * (index as u64).div_ceil(2)).max(Duration::from_micros(100));
    }
    network.destination.rtt = Duration::from_millis(90);
    network
}

/// The TTLs of `trace`'s probes in the order they were sent.
fn send_order(trace: &hoptrace_engine::Trace) -> Vec<u8> {
    let mut sent: Vec<_> =
        trace.hops().iter().flat_map(|hop| hop.probes.iter().map(move |probe| (probe.id, hop.ttl))).collect();
    sent.sort();
    sent.into_iter().map(|(_, ttl)| ttl).collect()
}

#[test]
fn an_eight_hop_path_takes_one_destination_rtt() {
    let mut network = bench_path();
    let (trace, run) = trace(&mut network, Method::classic(Protocol::Udp));
    assert_eq!(responders(&trace), expected_path(&network, 3));
    assert_eq!(run.elapsed, Duration::from_millis(90));
    // TTLs 1 to 16, three probes each: 48 at once, the default limit (the probes past the destination are not
    // listed). Each hop reported complete moves the window one TTL on: hops 1 to 7 complete before the destination
    // answers, so TTLs 17 to 23 get their three probes too.
    let ttls: Vec<u8> = (1..=8).flat_map(|ttl| [ttl; 3]).collect();
    assert_eq!(send_order(&trace), ttls);
    assert_eq!(trace.stats().sent, 48 + 7 * 3);
}

#[test]
fn the_in_flight_limit_caps_the_ttls_probed_at_once() {
    let mut network = bench_path();
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.max_in_flight = 16;
    let (trace, run) = run(&mut network, config);
    assert_eq!(responders(&trace), expected_path(&network, 3));
    // 16 probes hold 6 TTLs (16 / 3, rounded up): TTLs 1 to 6, 16 probes at first; hop 1's quick answers free
    // the slots for TTL 6's last two.
    assert_eq!(send_order(&trace)[..18], [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6]);
    // Later TTLs wait for slots: TTL 8 leaves at 22.5 ms, when hops 2 and 3 answer.
    assert_eq!(run.elapsed, Duration::from_micros(112_500));
}

#[test]
fn one_probe_per_hop_and_a_limit_of_one_is_sequential() {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.max_in_flight = 1;
    config.probes_per_hop = 1;
    let (trace, run) = run(&mut network, config);
    assert_eq!(send_order(&trace), [1, 2, 3, 4]);
    assert_eq!(run.elapsed, Duration::from_millis(100));
}

#[test]
fn a_rate_limited_destination_answers_every_probe_of_its_ttl() {
    // Linux's limit at the destination: a burst of 6 Port Unreachables, then one a second. The probes of TTLs
    // past it reach it too; its own TTL's three go first, so they get three of the six.
    let mut network = bench_path();
    network.destination.rate_limit = Some(RateLimit { burst: 6, interval: Duration::from_secs(1) });
    let (trace, run) = trace(&mut network, Method::classic(Protocol::Udp));
    assert_eq!(responders(&trace), expected_path(&network, 3));
    assert_eq!(run.elapsed, Duration::from_millis(90));
}
