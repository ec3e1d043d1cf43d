//! Helpers shared by the scenario tests.
#![allow(dead_code)]

use core::net::IpAddr;
use core::time::Duration;
use std::time::Instant;

use hoptrace_engine::sim::{self, Run, SimNetwork};
use hoptrace_engine::{Method, ProbeStatus, Trace, TraceConfig};

/// One millisecond.
pub const MS: Duration = Duration::from_millis(1);

/// A configuration tracing `network`'s destination from its source.
pub fn config(network: &SimNetwork, method: Method) -> TraceConfig {
    TraceConfig { source: Some(network.source), ..TraceConfig::new(network.destination.addr, method) }
}

/// Runs `config` over `network` until it finishes (at most 10 minutes of virtual time).
pub fn run(network: &mut SimNetwork, config: TraceConfig) -> (Trace, Run) {
    let mut trace = Trace::new(config).expect("valid configuration");
    let run = sim::run(&mut trace, network, Instant::now(), Duration::from_secs(600));
    assert!(trace.is_finished(), "trace did not finish: {:?}", trace.hops());
    (trace, run)
}

/// Traces `network` with `method` and the default configuration.
pub fn trace(network: &mut SimNetwork, method: Method) -> (Trace, Run) {
    let config = config(network, method);
    run(network, config)
}

/// Per hop, per probe standing for it (not resent): who answered (`None` for no answer).
pub fn responders(trace: &Trace) -> Vec<Vec<Option<IpAddr>>> {
    trace.hops().iter().map(|hop| hop.current().map(|p| p.responder()).collect()).collect()
}

/// Per hop, per probe: whether the probe timed out.
pub fn timed_out(trace: &Trace) -> Vec<Vec<bool>> {
    trace.hops().iter().map(|hop| hop.probes.iter().map(|p| p.status == ProbeStatus::TimedOut).collect()).collect()
}

/// The path a fully answering network should show: router n at TTL n, then the destination.
pub fn expected_path(network: &SimNetwork, probes: usize) -> Vec<Vec<Option<IpAddr>>> {
    let mut hops: Vec<_> =
        (1..=network.routers.len() as u8).map(|ttl| vec![Some(network.router_addr(ttl)); probes]).collect();
    hops.push(vec![Some(network.destination.addr); probes]);
    hops
}
