//! The Prometheus metrics of `hoptrace monitor`: per target, the few numbers its series show, written straight
//! into the page by [`super::page`]. Labels stay bounded: per target and TTL, never per probe; a hop's address,
//! name and AS only on `hoptrace_hop_info`. A target's hop series are replaced whole after each of its rounds, so
//! a hop that left the path leaves the metrics too.
//!
//! Kept by hand rather than in a prometheus-client registry: at 10,000 targets the registry held a second copy of
//! some 400,000 series (a label set and a metric object each) and could only encode them all at once, under the
//! lock probing needs, before a sort and a rewrite into the classic format. Here a page takes the lock only to
//! copy one pointer a target (a target updated meanwhile is copied on write), then streams.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use hoptrace_core::Report;

use super::exposition::Format;
use super::page;
use super::series::{observe, HopSeries, InfoSeries, Label, Target};
pub use super::series::{smokeping_buckets, Detail};

/// How a round ended, for `hoptrace_runs_total{result}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunResult {
    /// The destination answered.
    Reached,
    /// Traced, but the destination did not answer.
    Unreached,
    /// Not traced: the name did not resolve or the sockets could not be opened.
    Failed,
}

impl RunResult {
    /// Its place among `result`'s values in the page's order (failed, reached, unreached).
    fn index(self) -> usize {
        match self {
            RunResult::Failed => 0,
            RunResult::Reached => 1,
            RunResult::Unreached => 2,
        }
    }
}

/// A hop's address as labelled on `hoptrace_hop_info`, with its name and AS numbers when looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopInfo {
    /// The TTL.
    pub ttl: u8,
    /// The address.
    pub address: String,
    /// Its name, empty if none.
    pub name: String,
    /// Its AS numbers, space-separated, empty if unknown.
    pub asn: String,
}

/// Every metric of the monitor.
pub struct Metrics {
    detail: Detail,
    /// Bumped at every change, so that an unchanged page is not built again.
    version: AtomicU64,
    /// The targets in the page's order; held only to change one or to copy the pointers.
    targets: Mutex<BTreeMap<Label, Arc<Target>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(Detail::default())
    }
}

impl Metrics {
    /// No targets yet; hops given series as `detail` says, unless a target says otherwise.
    pub fn new(detail: Detail) -> Self {
        Metrics { detail, version: AtomicU64::new(0), targets: Mutex::default() }
    }

    /// A number that changes whenever the exposition may have.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Changes `target`'s numbers with `change` (the target made if it was not there), and marks the change.
    fn update(&self, target: &str, change: impl FnOnce(&mut Target)) {
        let label = Label::new(target);
        let mut targets = self.targets.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = targets.entry(label.clone()).or_insert_with(|| Arc::new(Target { label, ..Target::default() }));
        change(Arc::make_mut(entry));
        drop(targets);
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Makes `target`'s always-present series exist (zero), so that a silent target shows from the start.
    pub fn add_target(&self, target: &str) {
        self.update(target, |t| {
            t.path_changes.get_or_insert(0);
            t.reached.get_or_insert(false);
            t.backoff.get_or_insert(0.0);
            t.runs.iter_mut().for_each(|runs| _ = runs.get_or_insert(0));
        });
    }

    /// Gives `target` its own detail (`None`: the monitor's), from its next round on.
    pub fn set_detail(&self, target: &str, detail: Option<Detail>) {
        self.update(target, |t| t.detail = detail);
    }

    /// Forgets every series of `target` (it left the targets file).
    pub fn remove_target(&self, target: &str) {
        self.targets.lock().unwrap_or_else(PoisonError::into_inner).remove(&Label::new(target));
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts a round of `target` that ended as `result` after `seconds`.
    pub fn record_run(&self, target: &str, result: RunResult, seconds: f64) {
        self.update(target, |t| {
            *t.runs[result.index()].get_or_insert(0) += 1;
            if result != RunResult::Failed {
                t.duration = Some(seconds);
            }
            t.reached = Some(result == RunResult::Reached);
        });
    }

    /// Counts probes sent to `target`.
    pub fn count_probes(&self, target: &str, sent: u32) {
        self.update(target, |t| *t.probes.get_or_insert(0) += u64::from(sent));
    }

    /// Counts a round of `target` that could not run: `error` is `resolve` or `network`.
    pub fn record_error(&self, target: &str, error: &'static str) {
        self.update(target, |t| match t.errors.binary_search_by(|(cause, _)| cause.cmp(&error)) {
            Ok(index) => t.errors[index].1 += 1,
            Err(index) => t.errors.insert(index, (error, 1)),
        });
    }

    /// The extra wait now in force before `target`'s next round.
    pub fn set_backoff(&self, target: &str, seconds: f64) {
        self.update(target, |t| t.backoff = Some(seconds));
    }

    /// One answer of the destination.
    pub fn observe_destination_rtt(&self, target: &str, seconds: f64) {
        self.update(target, |t| observe(t.rtt.get_or_insert_with(Box::default), seconds));
    }

    /// The established path's identity, and whether this round confirmed a change to it.
    pub fn set_path(&self, target: &str, id: Option<u64>, changed: bool) {
        self.update(target, |t| {
            t.path_id = id;
            if changed {
                *t.path_changes.get_or_insert(0) += 1;
            }
        });
    }

    /// Replaces `target`'s per-hop series with those of `report` (none when `None`) and `info`, for the hops the
    /// detail keeps, and its path's summary.
    pub fn set_hops(&self, target: &str, report: Option<&Report>, info: &[HopInfo]) {
        let default = self.detail;
        self.update(target, |t| {
            t.kept.clear();
            t.info.clear();
            let Some(report) = report else {
                t.path_loss = None;
                return;
            };
            let hops = report.hops();
            t.hops = Some(hops.len());
            let answered = hops.iter().filter(|hop| hop.received > 0 && !hop.is_rate_limited());
            t.path_loss = Some(answered.map(|hop| hop.loss_percent() / 100.0).fold(0.0, f64::max));
            let kept = match t.detail.unwrap_or(default) {
                Detail::Hops => hops,
                Detail::Path => hops.last().map_or(&[][..], core::slice::from_ref),
                Detail::None => &[],
            };
            t.kept.extend(kept.iter().map(|hop| {
                let rtt = &hop.rtt;
                let seconds = [rtt.mean(), rtt.best(), rtt.last(), rtt.stdev(), rtt.worst()].map(|ms| ms / 1000.0);
                HopSeries {
                    ttl: hop.ttl,
                    loss: hop.loss_percent() / 100.0,
                    rate_limited: hop.is_rate_limited(),
                    rtt: (hop.received > 0).then_some(seconds),
                }
            }));
            let shown = info.iter().filter(|hop| kept.iter().any(|kept| kept.ttl == hop.ttl));
            t.info.extend(shown.map(|hop| InfoSeries {
                ttl: hop.ttl,
                address: Label::new(&hop.address),
                name: Label::new(&hop.name),
                asn: Label::new(&hop.asn),
            }));
            t.info.sort_by(|a, b| {
                (a.ttl.cmp(&b.ttl))
                    .then_with(|| a.address.cmp(&b.address))
                    .then_with(|| a.name.cmp(&b.name))
                    .then_with(|| a.asn.cmp(&b.asn))
            });
        });
    }

    /// Writes the whole exposition in `format` to `out`, the targets' numbers as they were when it began.
    pub fn write(&self, format: Format, out: &mut dyn io::Write) -> io::Result<()> {
        let targets: Vec<Arc<Target>> =
            self.targets.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        page::write(&targets, format, out)
    }

    /// The whole exposition in OpenMetrics, as a string.
    pub fn encode(&self) -> String {
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = self.write(Format::OpenMetrics, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(text: &str, target: &str) -> Vec<String> {
        let label = format!("target=\"{target}\"");
        text.lines().filter(|line| !line.starts_with('#') && line.contains(&label)).map(str::to_owned).collect()
    }

    #[test]
    fn smokeping_buckets_are_smokeping_probers() {
        let buckets: Vec<f64> = smokeping_buckets().collect();
        assert_eq!(buckets.len(), 20);
        assert_eq!(buckets[0], 5e-5);
        assert!((buckets[19] - 26.2144).abs() < 1e-9, "{}", buckets[19]);
    }

    #[test]
    fn a_target_from_first_series_to_removal() {
        let metrics = Metrics::default();
        metrics.add_target("a");
        metrics.add_target("b");
        let text = metrics.encode();
        assert!(text.contains("hoptrace_path_changes_total{target=\"a\"} 0\n"), "{text}");
        assert!(text.contains("hoptrace_runs_total{target=\"a\",result=\"failed\"} 0\n"), "{text}");

        metrics.record_run("a", RunResult::Reached, 0.25);
        metrics.count_probes("a", 12);
        metrics.observe_destination_rtt("a", 0.0003);
        metrics.set_path("a", Some(0xabc), false);
        metrics.set_path("a", Some(0xdef), true);
        metrics.record_error("b", "resolve");
        let text = metrics.encode();
        for line in [
            "hoptrace_runs_total{target=\"a\",result=\"reached\"} 1",
            "hoptrace_probes_sent_total{target=\"a\"} 12",
            "hoptrace_run_duration_seconds{target=\"a\"} 0.25",
            "hoptrace_destination_reached{target=\"a\"} 1",
            "hoptrace_path_id{target=\"a\"} 3567",
            "hoptrace_path_changes_total{target=\"a\"} 1",
            "hoptrace_destination_rtt_seconds_bucket{le=\"0.0002\",target=\"a\"} 0",
            "hoptrace_destination_rtt_seconds_bucket{le=\"0.0004\",target=\"a\"} 1",
            "hoptrace_target_errors_total{target=\"b\",error=\"resolve\"} 1",
            "hoptrace_path_changes_total{target=\"b\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
        metrics.remove_target("a");
        let text = metrics.encode();
        assert_eq!(series(&text, "a"), Vec::<String>::new(), "{text}");
        assert!(!series(&text, "b").is_empty());
    }
}
