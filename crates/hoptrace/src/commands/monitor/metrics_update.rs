//! What each [`Notice`] of the library's monitor does here: the exporter's metrics updated, events printed.

use hoptrace_core::monitor::{Monitor, Notice};

use crate::commands::monitor::events::EventSink;
use crate::exporter::metrics::{HopInfo, Metrics, RunResult};
use crate::render::Directory;

/// Applies `notice` to `metrics` (the window's report and hop names from `monitor` and `directory`) and prints
/// its event to `events`.
pub fn apply(notice: &Notice, monitor: &Monitor, metrics: &Metrics, directory: &dyn Directory, events: &EventSink) {
    match notice {
        Notice::Round(round) => {
            let target = round.target.as_str();
            let result = if round.reached { RunResult::Reached } else { RunResult::Unreached };
            metrics.record_run(target, result, round.seconds);
            metrics.count_probes(target, round.sent);
            for &rtt in &round.destination_rtts {
                metrics.observe_destination_rtt(target, rtt);
            }
            metrics.set_path(target, round.path_id, round.changed);
            let report = monitor.report(target);
            metrics.set_hops(target, report, &report.map(|report| hop_info(report, directory)).unwrap_or_default());
        }
        Notice::Failed { target, cause } => {
            metrics.record_error(target, cause.as_str());
            metrics.record_run(target, RunResult::Failed, 0.0);
        }
        Notice::Backoff { target, seconds } => metrics.set_backoff(target, *seconds),
        Notice::Event(event) => events.emit(event),
    }
}

/// `hoptrace_hop_info`'s label values: every responder of the window's hops, with its name and AS numbers when
/// those are looked up and known by now (the directory does not wait: this is the probing loop).
fn hop_info(report: &hoptrace_core::Report, directory: &dyn Directory) -> Vec<HopInfo> {
    report
        .hops()
        .iter()
        .flat_map(|hop| hop.responders.iter().map(move |responder| (hop.ttl, responder.addr)))
        .map(|(ttl, addr)| HopInfo {
            ttl,
            address: addr.to_string(),
            name: directory.name(addr).unwrap_or_default(),
            asn: directory.asns(addr).unwrap_or_default().iter().map(u32::to_string).collect::<Vec<_>>().join(" "),
        })
        .collect()
}
