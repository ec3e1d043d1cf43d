//! The two text formats `/metrics` speaks. OpenMetrics has a counter family `x` with the sample `x_total`, `# EOF`
//! at the end; Prometheus' classic text format names the family as its samples (`# TYPE x_total counter`), and
//! classic parsers (promtool, Prometheus' metadata, prometheus_client's parser) take a counter written the
//! OpenMetrics way for an untyped metric with no help. The classic format is served unless the scraper's `Accept`
//! asks for OpenMetrics, as Prometheus' own exporters do. [`super::page`] writes either.

/// The classic text format's content type.
pub const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";

/// OpenMetrics' content type.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The format of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus' text format 0.0.4.
    Classic,
    /// OpenMetrics 1.0.
    OpenMetrics,
}

impl Format {
    /// The format an `Accept` header asks for: OpenMetrics when it names it with a weight above zero and at least
    /// that of `text/plain` (or `text/*`); the classic format otherwise, and without the header.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let (mut openmetrics, mut classic) = (0.0_f64, 0.0_f64);
        for range in accept.unwrap_or_default().split(',') {
            let mut params = range.split(';');
            let media = params.next().unwrap_or_default().trim().to_ascii_lowercase();
            let weight = params
                .filter_map(|param| param.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, q)| q.trim().parse::<f64>().unwrap_or(0.0));
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(weight),
                "text/plain" | "text/*" => classic = classic.max(weight),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= classic {
            Format::OpenMetrics
        } else {
            Format::Classic
        }
    }

    /// The content type of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Classic => CLASSIC,
            Format::OpenMetrics => OPENMETRICS,
        }
    }

    /// `page`, an OpenMetrics exposition, in this format.
    #[cfg(test)]
    pub fn render(self, page: String) -> String {
        match self {
            Format::Classic => classic(&page),
            Format::OpenMetrics => page,
        }
    }
}

/// One family of an exposition: its metadata lines, then its samples.
#[cfg(test)]
#[derive(Debug, Default)]
struct Block<'a> {
    name: &'a str,
    kind: &'a str,
    meta: Vec<&'a str>,
    samples: Vec<&'a str>,
}

/// The families of an OpenMetrics `page`, in order; `# EOF` and empty lines left out.
#[cfg(test)]
fn blocks(page: &str) -> Vec<Block<'_>> {
    let mut blocks: Vec<Block<'_>> = Vec::new();
    for line in page.lines() {
        if line.is_empty() || line == "# EOF" {
            continue;
        }
        let meta = ["# HELP ", "# TYPE ", "# UNIT "].iter().find_map(|prefix| line.strip_prefix(prefix));
        match meta {
            Some(rest) => {
                let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
                if blocks.last().is_none_or(|block| block.name != name) {
                    blocks.push(Block { name, ..Block::default() });
                }
                let block = blocks.last_mut().expect("pushed");
                if line.starts_with("# TYPE ") {
                    block.kind = value;
                }
                block.meta.push(line);
            }
            None => match blocks.last_mut() {
                Some(block) => block.samples.push(line),
                None => blocks.push(Block { samples: vec![line], ..Block::default() }),
            },
        }
    }
    blocks
}

/// `out`, its last line left unterminated if `page`'s was.
#[cfg(test)]
fn unterminated_as(page: &str, mut out: String) -> String {
    if !page.ends_with('\n') && out.ends_with('\n') {
        out.pop();
    }
    out
}

/// An OpenMetrics `page` (as prometheus-client writes it) in the classic text format: a counter's `HELP` and
/// `TYPE` name its samples (`x_total`), no `# UNIT`, no `# EOF`, help text with the classic escapes.
#[cfg(test)]
pub fn classic(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    for block in blocks(page) {
        let name = if block.kind == "counter" { format!("{}_total", block.name) } else { block.name.to_owned() };
        for line in &block.meta {
            if let Some(help) = line.strip_prefix("# HELP ").and_then(|rest| rest.split_once(' ')).map(|(_, h)| h) {
                // OpenMetrics escapes `"` in help text; the classic format knows `\\` and `\n` only.
                out.push_str(&format!("# HELP {name} {}\n", help.replace("\\\"", "\"")));
            } else if line.starts_with("# TYPE ") {
                // The classic format has no `info` nor `stateset`: those are gauges there.
                let kind = match block.kind {
                    "counter" | "gauge" | "histogram" | "summary" => block.kind,
                    "info" | "stateset" => "gauge",
                    _ => "untyped",
                };
                out.push_str(&format!("# TYPE {name} {kind}\n"));
            }
        }
        for line in &block.samples {
            out.push_str(line);
            out.push('\n');
        }
    }
    unterminated_as(page, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_named_as_their_samples() {
        let expected = "# HELP runs Rounds.\n# TYPE runs counter\nruns_total{target=\"a\"} 2\n\
            runs_total{target=\"b\"} 1\n# HELP hops Hops, \\\"all\\\".\n# TYPE hops gauge\n\
            hops{target=\"a\",ttl=\"9\"} 1\nhops{target=\"a\",ttl=\"10\"} 1\nhops{target=\"a\\\"}\",ttl=\"1\"} 1\n\
            # HELP rtt RTT.\n# TYPE rtt histogram\nrtt_sum{target=\"a\"} 1\nrtt_count{target=\"a\"} 1\n\
            rtt_bucket{le=\"1.0\",target=\"a\"} 1\nrtt_bucket{le=\"+Inf\",target=\"a\"} 1\nrtt_sum{target=\"b\"} 0\n\
            rtt_count{target=\"b\"} 0\nrtt_bucket{le=\"1.0\",target=\"b\"} 0\nrtt_bucket{le=\"+Inf\",target=\"b\"} 0\n\
            # EOF\n";
        let classic = classic(expected);
        let expected = expected
            .replace("# HELP runs ", "# HELP runs_total ")
            .replace("# TYPE runs counter", "# TYPE runs_total counter")
            .replace("Hops, \\\"all\\\".", "Hops, \"all\".")
            .replace("# EOF\n", "");
        assert_eq!(classic, expected);
        // Lines that are no exposition pass as they are.
        assert_eq!(super::classic("up 1\n"), "up 1\n");
    }

    #[test]
    fn accept_headers() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;\
                          q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        for (accept, format) in [
            (None, Format::Classic),
            (Some(""), Format::Classic),
            (Some("*/*"), Format::Classic),
            (Some("text/plain"), Format::Classic),
            (Some(prometheus), Format::OpenMetrics),
            (Some("Application/OpenMetrics-Text; version=1.0.0"), Format::OpenMetrics),
            (Some("application/openmetrics-text;q=0.2, text/plain"), Format::Classic),
            (Some("application/openmetrics-text;q=0"), Format::Classic),
            (Some("text/plain;version=0.0.4;q=0.3,application/openmetrics-text;q=0.5"), Format::OpenMetrics),
        ] {
            assert_eq!(Format::negotiate(accept), format, "{accept:?}");
        }
    }
}
