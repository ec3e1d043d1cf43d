//! The Prometheus metrics of `hoptrace monitor`, kept in a `prometheus-client` registry and written in
//! OpenMetrics (served in either text format by [`super::exposition`]). Labels stay bounded: per target and TTL, never per probe; a hop's address, name and AS only
//! on `hoptrace_hop_info`. A target's hop series are replaced whole after each of its rounds, so a hop that left
//! the path leaves the metrics too.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use prometheus_client::encoding::{text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Metric, Registry};

use hoptrace_core::Report;

/// A gauge holding a float.
type FloatGauge = Gauge<f64, AtomicU64>;

/// SmokePing's (smokeping_prober's) RTT buckets: 50 µs doubling up to 26.2 s.
pub fn smokeping_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(5e-5, 2.0, 20)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    target: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    target: String,
    error: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HopLabels {
    target: String,
    ttl: u8,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatLabels {
    target: String,
    ttl: u8,
    stat: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InfoLabels {
    target: String,
    ttl: u8,
    address: String,
    name: String,
    asn: String,
}

/// The `stat` label values of `hoptrace_hop_rtt_seconds`.
const STATS: [&str; 5] = ["last", "avg", "best", "worst", "stdev"];

#[derive(Clone)]
struct SmokePing;

impl MetricConstructor<Histogram> for SmokePing {
    fn new_metric(&self) -> Histogram {
        Histogram::new(smokeping_buckets())
    }
}

/// Which hops have series of their own (`--detail`): the exposition's size is mostly this.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Detail {
    /// Every hop: `hoptrace_hop_*` for every TTL (about 8 series a hop).
    Hops,
    /// The destination (the report's last TTL) and the path's summary only.
    #[default]
    Path,
    /// No `hoptrace_hop_*` series at all; the path's summary stays.
    None,
}

impl Detail {
    /// The names `--detail` takes.
    pub const NAMES: [&'static str; 3] = ["hops", "path", "none"];
}

impl FromStr for Detail {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "hops" => Ok(Detail::Hops),
            "path" => Ok(Detail::Path),
            "none" => Ok(Detail::None),
            _ => Err(format!("--detail {name}: one of {}", Detail::NAMES.join(", "))),
        }
    }
}

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
    fn label(self) -> &'static str {
        match self {
            RunResult::Reached => "reached",
            RunResult::Unreached => "unreached",
            RunResult::Failed => "failed",
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

/// The per-hop series a target has now, to remove when its next round replaces them.
#[derive(Debug, Default)]
struct Shown {
    hops: Vec<u8>,
    rtt: Vec<u8>,
    info: Vec<InfoLabels>,
}

/// Registers `metric` under `name` with `help`, and gives it back (a handle on the same series).
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// Every metric of the monitor.
pub struct Metrics {
    registry: Registry,
    detail: Detail,
    /// Bumped at every change, so that an unchanged page is not built again.
    version: AtomicU64,
    /// Per target, its hop series; held for writing while they are replaced and for reading while encoding, so that
    /// a scrape never sees a target half-updated.
    shown: RwLock<HashMap<String, Shown>>,
    runs: Family<RunLabels, Counter>,
    probes: Family<TargetLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    backoff: Family<TargetLabels, FloatGauge>,
    duration: Family<TargetLabels, FloatGauge>,
    reached: Family<TargetLabels, Gauge>,
    hops: Family<TargetLabels, Gauge>,
    rtt: Family<StatLabels, FloatGauge>,
    loss: Family<HopLabels, FloatGauge>,
    rate_limited: Family<HopLabels, Gauge>,
    info: Family<InfoLabels, Gauge>,
    path_loss: Family<TargetLabels, FloatGauge>,
    path_id: Family<TargetLabels, Gauge>,
    path_changes: Family<TargetLabels, Counter>,
    destination_rtt: Family<TargetLabels, Histogram, SmokePing>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(Detail::default())
    }
}

impl Metrics {
    /// Every family registered, no series yet; hops given series as `detail` says.
    pub fn new(detail: Detail) -> Self {
        let mut registry = Registry::default();
        let r = &mut registry;
        Metrics {
            runs: registered(r, "hoptrace_runs", "Rounds traced, by how they ended", Family::default()),
            probes: registered(r, "hoptrace_probes_sent", "Probes sent", Family::default()),
            errors: registered(r, "hoptrace_target_errors", "Rounds that could not run, by cause", Family::default()),
            backoff: registered(
                r,
                "hoptrace_target_backoff_seconds",
                "Extra wait before the target's next round after failures or silence",
                Family::default(),
            ),
            duration: registered(
                r,
                "hoptrace_run_duration_seconds",
                "How long the latest round took",
                Family::default(),
            ),
            reached: registered(
                r,
                "hoptrace_destination_reached",
                "Whether the latest round reached the target",
                Family::default(),
            ),
            hops: registered(r, "hoptrace_hops", "Hops on the path in the window's report", Family::default()),
            rtt: registered(
                r,
                "hoptrace_hop_rtt_seconds",
                "Round-trip time per hop over the window",
                Family::default(),
            ),
            loss: registered(
                r,
                "hoptrace_hop_loss_ratio",
                "Unanswered probes per hop over the window, rate limiting excepted",
                Family::default(),
            ),
            rate_limited: registered(
                r,
                "hoptrace_hop_rate_limited",
                "Whether the hop's silences are ICMP rate limiting",
                Family::default(),
            ),
            info: registered(r, "hoptrace_hop_info", "Who answers at each hop", Family::default()),
            path_loss: registered(
                r,
                "hoptrace_path_loss_ratio",
                "The largest loss over the window at a hop that answered, rate limiting excepted",
                Family::default(),
            ),
            path_id: registered(
                r,
                "hoptrace_path_id",
                "Hash of the established path (address per TTL)",
                Family::default(),
            ),
            path_changes: registered(r, "hoptrace_path_changes", "Path changes confirmed", Family::default()),
            destination_rtt: registered(
                r,
                "hoptrace_destination_rtt_seconds",
                "Round-trip times of the destination's answers",
                Family::new_with_constructor(SmokePing),
            ),
            registry,
            detail,
            version: AtomicU64::new(0),
            shown: RwLock::default(),
        }
    }

    /// A number that changes whenever the exposition may have.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Marks a change (after it was made).
    fn changed(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    fn target(target: &str) -> TargetLabels {
        TargetLabels { target: target.to_owned() }
    }

    /// Makes `target`'s always-present series exist (zero), so that a silent target shows from the start.
    pub fn add_target(&self, target: &str) {
        let labels = Self::target(target);
        let _ = self.path_changes.get_or_create(&labels);
        let _ = self.reached.get_or_create(&labels);
        let _ = self.backoff.get_or_create(&labels);
        for result in [RunResult::Reached, RunResult::Unreached, RunResult::Failed] {
            let _ = self.runs.get_or_create(&RunLabels { target: target.to_owned(), result: result.label() });
        }
        self.changed();
    }

    /// Forgets every series of `target` (it left the targets file).
    pub fn remove_target(&self, target: &str) {
        let labels = Self::target(target);
        for family in [&self.duration, &self.backoff] {
            family.remove(&labels);
        }
        self.path_loss.remove(&labels);
        for family in [&self.reached, &self.hops, &self.path_id] {
            family.remove(&labels);
        }
        self.path_changes.remove(&labels);
        self.probes.remove(&labels);
        self.destination_rtt.remove(&labels);
        for result in [RunResult::Reached, RunResult::Unreached, RunResult::Failed] {
            self.runs.remove(&RunLabels { target: target.to_owned(), result: result.label() });
        }
        for error in ["resolve", "network"] {
            self.errors.remove(&ErrorLabels { target: target.to_owned(), error });
        }
        self.set_hops(target, None, &[]);
    }

    /// Counts a round of `target` that ended as `result` after `seconds`.
    pub fn record_run(&self, target: &str, result: RunResult, seconds: f64) {
        self.runs.get_or_create(&RunLabels { target: target.to_owned(), result: result.label() }).inc();
        let labels = Self::target(target);
        if result != RunResult::Failed {
            self.duration.get_or_create(&labels).set(seconds);
        }
        self.reached.get_or_create(&labels).set(i64::from(result == RunResult::Reached));
        self.changed();
    }

    /// Counts probes sent to `target`.
    pub fn count_probes(&self, target: &str, sent: u32) {
        self.probes.get_or_create(&Self::target(target)).inc_by(u64::from(sent));
        self.changed();
    }

    /// Counts a round of `target` that could not run: `error` is `resolve` or `network`.
    pub fn record_error(&self, target: &str, error: &'static str) {
        self.errors.get_or_create(&ErrorLabels { target: target.to_owned(), error }).inc();
        self.changed();
    }

    /// The extra wait now in force before `target`'s next round.
    pub fn set_backoff(&self, target: &str, seconds: f64) {
        self.backoff.get_or_create(&Self::target(target)).set(seconds);
        self.changed();
    }

    /// One answer of the destination.
    pub fn observe_destination_rtt(&self, target: &str, seconds: f64) {
        self.destination_rtt.get_or_create(&Self::target(target)).observe(seconds);
        self.changed();
    }

    /// The established path's identity, and whether this round confirmed a change to it.
    pub fn set_path(&self, target: &str, id: Option<u64>, changed: bool) {
        let labels = Self::target(target);
        match id {
            Some(id) => {
                self.path_id.get_or_create(&labels).set(id as i64);
            }
            None => {
                self.path_id.remove(&labels);
            }
        }
        if changed {
            self.path_changes.get_or_create(&labels).inc();
        }
        self.changed();
    }

    /// Replaces `target`'s per-hop series with those of `report` (none when `None`) and `info`, for the hops the
    /// detail keeps, and its path's summary.
    pub fn set_hops(&self, target: &str, report: Option<&Report>, info: &[HopInfo]) {
        let owned = || target.to_owned();
        let mut shown = self.shown.write().unwrap_or_else(PoisonError::into_inner);
        self.changed();
        let previous = shown.remove(target).unwrap_or_default();
        for ttl in previous.hops {
            let labels = HopLabels { target: owned(), ttl };
            self.loss.remove(&labels);
            self.rate_limited.remove(&labels);
        }
        for ttl in previous.rtt {
            for stat in STATS {
                self.rtt.remove(&StatLabels { target: owned(), ttl, stat });
            }
        }
        for labels in previous.info {
            self.info.remove(&labels);
        }
        let Some(report) = report else {
            self.path_loss.remove(&Self::target(target));
            return;
        };
        let now = shown.entry(owned()).or_default();
        self.hops.get_or_create(&Self::target(target)).set(report.hops().len() as i64);
        let answered = report.hops().iter().filter(|hop| hop.received > 0 && !hop.is_rate_limited());
        let worst = answered.map(|hop| hop.loss_percent() / 100.0).fold(0.0, f64::max);
        self.path_loss.get_or_create(&Self::target(target)).set(worst);
        let kept = match self.detail {
            Detail::Hops => report.hops(),
            Detail::Path => report.hops().last().map_or(&[][..], core::slice::from_ref),
            Detail::None => &[],
        };
        for hop in kept {
            let ttl = hop.ttl;
            now.hops.push(ttl);
            let labels = HopLabels { target: owned(), ttl };
            self.loss.get_or_create(&labels).set(hop.loss_percent() / 100.0);
            self.rate_limited.get_or_create(&labels).set(i64::from(hop.is_rate_limited()));
            if hop.received == 0 {
                continue;
            }
            now.rtt.push(ttl);
            let rtt = &hop.rtt;
            let values = [rtt.last(), rtt.mean(), rtt.best(), rtt.worst(), rtt.stdev()];
            for (stat, ms) in STATS.into_iter().zip(values) {
                self.rtt.get_or_create(&StatLabels { target: owned(), ttl, stat }).set(ms / 1000.0);
            }
        }
        for hop in info.iter().filter(|hop| kept.iter().any(|kept| kept.ttl == hop.ttl)) {
            let labels = InfoLabels {
                target: owned(),
                ttl: hop.ttl,
                address: hop.address.clone(),
                name: hop.name.clone(),
                asn: hop.asn.clone(),
            };
            self.info.get_or_create(&labels).set(1);
            now.info.push(labels);
        }
    }

    /// The whole exposition in OpenMetrics, each family's series in order (`/metrics` serves it so, or in the
    /// classic format: [`super::exposition`]).
    pub fn encode(&self) -> String {
        let shown = self.shown.read().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = text::encode(&mut out, &self.registry);
        drop(shown);
        super::exposition::sorted(&out)
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
