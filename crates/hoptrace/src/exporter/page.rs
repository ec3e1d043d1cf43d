//! The exposition written by hand, in one pass over the targets' numbers, streamed to its writer a chunk at a time:
//! families in a fixed order, within each the series in the order of their labels (numbers as numbers, as promtool
//! and the former sort wanted), the same at every scrape. Numbers are written as prometheus-client wrote them
//! (`dtoa`, `itoa`), so the page is byte for byte what its registry gave (`golden` checks it).
//!
//! In OpenMetrics a counter family `x` has the sample `x_total` and the page ends with `# EOF`; in Prometheus'
//! classic text format the family is named as its samples (`# TYPE x_total counter`) and there is no `# EOF`.

use std::io;
use std::sync::Arc;

use super::exposition::Format;
use super::series::{smokeping_buckets, Target};

/// What a family's samples are.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// A family: its name, help, kind, and how one target's samples of it are written (after `name` and `{target="…"`).
struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: fn(&mut Out, &Target),
}

/// The families in the page's order.
const FAMILIES: [Family; 15] = [
    Family { name: "hoptrace_runs", help: "Rounds traced, by how they ended", kind: Kind::Counter, samples: runs },
    Family { name: "hoptrace_probes_sent", help: "Probes sent", kind: Kind::Counter, samples: probes },
    Family {
        name: "hoptrace_target_errors",
        help: "Rounds that could not run, by cause",
        kind: Kind::Counter,
        samples: errors,
    },
    Family {
        name: "hoptrace_target_backoff_seconds",
        help: "Extra wait before the target's next round after failures or silence",
        kind: Kind::Gauge,
        samples: |out, t| out.float(t, t.backoff),
    },
    Family {
        name: "hoptrace_run_duration_seconds",
        help: "How long the latest round took",
        kind: Kind::Gauge,
        samples: |out, t| out.float(t, t.duration),
    },
    Family {
        name: "hoptrace_destination_reached",
        help: "Whether the latest round reached the target",
        kind: Kind::Gauge,
        samples: |out, t| out.int(t, t.reached.map(u64::from)),
    },
    Family {
        name: "hoptrace_hops",
        help: "Hops on the path in the window's report",
        kind: Kind::Gauge,
        samples: |out, t| out.int(t, t.hops.map(|hops| hops as u64)),
    },
    Family {
        name: "hoptrace_hop_rtt_seconds",
        help: "Round-trip time per hop over the window",
        kind: Kind::Gauge,
        samples: hop_rtt,
    },
    Family {
        name: "hoptrace_hop_loss_ratio",
        help: "Unanswered probes per hop over the window, rate limiting excepted",
        kind: Kind::Gauge,
        samples: |out, t| t.kept.iter().for_each(|hop| out.per_hop(t, hop.ttl, Value::Float(hop.loss))),
    },
    Family {
        name: "hoptrace_hop_rate_limited",
        help: "Whether the hop's silences are ICMP rate limiting",
        kind: Kind::Gauge,
        samples: |out, t| {
            t.kept.iter().for_each(|hop| out.per_hop(t, hop.ttl, Value::Int(i64::from(hop.rate_limited))))
        },
    },
    Family { name: "hoptrace_hop_info", help: "Who answers at each hop", kind: Kind::Gauge, samples: hop_info },
    Family {
        name: "hoptrace_path_loss_ratio",
        help: "The largest loss over the window at a hop that answered, rate limiting excepted",
        kind: Kind::Gauge,
        samples: |out, t| out.float(t, t.path_loss),
    },
    Family {
        name: "hoptrace_path_id",
        help: "Hash of the established path (address per TTL)",
        kind: Kind::Gauge,
        // A gauge holds an i64: the hash's bits, as the registry showed them.
        samples: |out, t| {
            if let Some(id) = t.path_id {
                out.sample(t, "", Value::Int(id as i64));
            }
        },
    },
    Family {
        name: "hoptrace_path_changes",
        help: "Path changes confirmed",
        kind: Kind::Counter,
        samples: |out, t| out.int(t, t.path_changes),
    },
    Family {
        name: "hoptrace_destination_rtt_seconds",
        help: "Round-trip times of the destination's answers",
        kind: Kind::Histogram,
        samples: destination_rtt,
    },
];

/// A sample's value.
enum Value {
    Float(f64),
    Int(i64),
}

/// The page being written: a chunk in memory, handed to the writer when it is big enough.
struct Out<'a> {
    text: String,
    /// The current family's sample name (`x_total` for a counter).
    name: String,
    /// `le="…"` of each bucket, `+Inf` last.
    bounds: Vec<String>,
    writer: &'a mut dyn io::Write,
}

/// How much is written at once.
const CHUNK: usize = 64 * 1024;

impl Out<'_> {
    fn flush(&mut self, at_least: usize) -> io::Result<()> {
        if self.text.len() >= at_least {
            self.writer.write_all(self.text.as_bytes())?;
            self.text.clear();
        }
        Ok(())
    }

    /// `name{target="…"` then `more` (`,label="…"`), `}`, the value.
    fn sample(&mut self, t: &Target, more: &str, value: Value) {
        self.sample_as("", t, more, value);
    }

    /// A sample whose name has `suffix` and whose labels start with `first` (`le="…",`).
    fn sample_as(&mut self, suffix: &str, t: &Target, more: &str, value: Value) {
        self.labelled(suffix, "", t, more);
        self.value(value);
    }

    fn labelled(&mut self, suffix: &str, first: &str, t: &Target, more: &str) {
        let text = &mut self.text;
        text.push_str(&self.name);
        text.push_str(suffix);
        text.push('{');
        text.push_str(first);
        text.push_str("target=\"");
        text.push_str(&t.label.0);
        text.push('"');
        text.push_str(more);
        text.push('}');
    }

    fn value(&mut self, value: Value) {
        self.text.push(' ');
        match value {
            Value::Float(v) => self.text.push_str(dtoa::Buffer::new().format(v)),
            Value::Int(v) => self.text.push_str(itoa::Buffer::new().format(v)),
        }
        self.text.push('\n');
    }

    fn float(&mut self, t: &Target, value: Option<f64>) {
        if let Some(value) = value {
            self.sample(t, "", Value::Float(value));
        }
    }

    fn int(&mut self, t: &Target, value: Option<u64>) {
        if let Some(value) = value {
            self.sample(t, "", Value::Int(value as i64));
        }
    }

    fn per_hop(&mut self, t: &Target, ttl: u8, value: Value) {
        self.sample(t, &format!(",ttl=\"{ttl}\""), value);
    }
}

fn runs(out: &mut Out, t: &Target) {
    for (result, runs) in ["failed", "reached", "unreached"].into_iter().zip(t.runs) {
        if let Some(runs) = runs {
            out.sample(t, &format!(",result=\"{result}\""), Value::Int(runs as i64));
        }
    }
}

fn probes(out: &mut Out, t: &Target) {
    out.int(t, t.probes);
}

fn errors(out: &mut Out, t: &Target) {
    for &(error, count) in &t.errors {
        out.sample(t, &format!(",error=\"{error}\""), Value::Int(count as i64));
    }
}

fn hop_rtt(out: &mut Out, t: &Target) {
    for hop in &t.kept {
        let Some(rtt) = hop.rtt else { continue };
        for (stat, seconds) in ["avg", "best", "last", "stdev", "worst"].into_iter().zip(rtt) {
            out.sample(t, &format!(",ttl=\"{}\",stat=\"{stat}\"", hop.ttl), Value::Float(seconds));
        }
    }
}

fn hop_info(out: &mut Out, t: &Target) {
    for info in &t.info {
        let more = format!(
            ",ttl=\"{}\",address=\"{}\",name=\"{}\",asn=\"{}\"",
            info.ttl, info.address.0, info.name.0, info.asn.0
        );
        out.sample(t, &more, Value::Int(1));
    }
}

fn destination_rtt(out: &mut Out, t: &Target) {
    let Some(rtt) = &t.rtt else { return };
    out.sample_as("_sum", t, "", Value::Float(rtt.sum));
    out.sample_as("_count", t, "", Value::Int(rtt.count as i64));
    let mut cumulated = 0;
    for (index, count) in rtt.buckets.iter().enumerate() {
        cumulated += count;
        let first = core::mem::take(&mut out.bounds[index]);
        out.labelled("_bucket", &first, t, "");
        out.bounds[index] = first;
        out.value(Value::Int(cumulated as i64));
    }
}

/// Writes the page of `targets` (in the page's order) in `format` to `writer`.
pub(super) fn write(targets: &[Arc<Target>], format: Format, writer: &mut dyn io::Write) -> io::Result<()> {
    let bounds = smokeping_buckets().map(|bound| dtoa::Buffer::new().format(bound).to_owned());
    let bounds = bounds.chain(["+Inf".to_owned()]).map(|bound| format!("le=\"{bound}\",")).collect();
    let mut out = Out { text: String::with_capacity(CHUNK + 4096), name: String::new(), bounds, writer };
    for family in &FAMILIES {
        let counter = family.kind == Kind::Counter;
        out.name = if counter { format!("{}_total", family.name) } else { family.name.to_owned() };
        let named = if counter && format == Format::Classic { out.name.as_str() } else { family.name };
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        // A family without samples is left out, as the registry did.
        let start = out.text.len();
        out.text.push_str(&format!("# HELP {named} {}.\n# TYPE {named} {kind}\n", family.help));
        let header_end = out.text.len();
        let mut any = false;
        for target in targets {
            (family.samples)(&mut out, target);
            any = any || out.text.len() > header_end;
            if any {
                out.flush(CHUNK)?;
            }
        }
        if !any {
            out.text.truncate(start);
        }
    }
    if format == Format::OpenMetrics {
        out.text.push_str("# EOF\n");
    }
    out.flush(0)
}
