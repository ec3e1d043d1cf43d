//! What the page shows of each target: its numbers, and its label values escaped. Kept apart from [`super::metrics`]
//! (which changes them) and [`super::page`] (which writes them).

use core::cmp::Ordering;
use std::str::FromStr;
use std::sync::Arc;

/// SmokePing's (smokeping_prober's) RTT buckets: 50 µs doubling up to 26.2 s.
pub fn smokeping_buckets() -> impl Iterator<Item = f64> {
    (0..20).map(|i| 5e-5 * 2f64.powf(f64::from(i)))
}

/// Which hops have series of their own (`--detail`, or a target's `detail=`): the exposition's size is mostly this.
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

/// A label value as written (escaped), ordered as the page orders series: as numbers when both are, numbers
/// first, else as text. Its number is read once (a lookup compares it a dozen times).
#[derive(Debug, Clone, Default)]
pub struct Label(pub(super) Arc<str>, Option<f64>);

impl Label {
    /// `value` escaped for a label (`\\`, `\"`, `\n`).
    pub fn new(value: &str) -> Self {
        if !value.contains(['\\', '"', '\n']) {
            return Label(value.into(), number(value));
        }
        let escaped: String = value
            .chars()
            .map(|c| match c {
                '\\' => "\\\\".to_owned(),
                '"' => "\\\"".to_owned(),
                '\n' => "\\n".to_owned(),
                c => c.to_string(),
            })
            .collect();
        let number = number(&escaped);
        Label(escaped.into(), number)
    }
}

/// `text` as a finite number, if it is one.
fn number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

impl PartialEq for Label {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Label {}

impl Ord for Label {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_value = match (self.1, other.1) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_value.then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Label {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The destination's RTT histogram: a count per bucket (`+Inf` last), not cumulated.
#[derive(Debug, Clone, Default)]
pub(super) struct Histogram {
    pub buckets: [u64; 21],
    pub sum: f64,
    pub count: u64,
}

/// A kept hop's numbers; `rtt` (avg, best, last, stdev, worst in seconds) when it answered.
#[derive(Debug, Clone)]
pub(super) struct HopSeries {
    pub ttl: u8,
    pub loss: f64,
    pub rate_limited: bool,
    pub rtt: Option<[f64; 5]>,
}

/// A `hoptrace_hop_info` series: its label values, escaped.
#[derive(Debug, Clone)]
pub(super) struct InfoSeries {
    pub ttl: u8,
    pub address: Label,
    pub name: Label,
    pub asn: Label,
}

/// Everything one target's series show; `None` where the series does not exist (yet).
#[derive(Debug, Clone, Default)]
pub(super) struct Target {
    pub label: Label,
    /// Its own detail (the targets file's), else the monitor's.
    pub detail: Option<Detail>,
    /// By result: failed, reached, unreached.
    pub runs: [Option<u64>; 3],
    pub probes: Option<u64>,
    /// By cause, in order of the cause's name.
    pub errors: Vec<(&'static str, u64)>,
    pub backoff: Option<f64>,
    pub duration: Option<f64>,
    pub reached: Option<bool>,
    pub hops: Option<usize>,
    pub path_loss: Option<f64>,
    pub path_id: Option<u64>,
    pub path_changes: Option<u64>,
    pub rtt: Option<Box<Histogram>>,
    /// The hops the detail keeps, by TTL.
    pub kept: Vec<HopSeries>,
    /// By TTL, then label values.
    pub info: Vec<InfoSeries>,
}

/// Counts `seconds` in the first bucket whose bound is at least it (`+Inf` for a NaN), as prometheus-client does.
pub(super) fn observe(histogram: &mut Histogram, seconds: f64) {
    histogram.sum += seconds;
    histogram.count += 1;
    let bucket = smokeping_buckets().position(|bound| bound >= seconds).unwrap_or(20);
    histogram.buckets[bucket] += 1;
}
