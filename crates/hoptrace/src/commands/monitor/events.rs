//! How the monitor's events ([`MonitorEvent`], the library's) are printed: with `--events`, one JSON object per
//! line (NDJSON); otherwise one text line per path change and per failing target.

use core::net::IpAddr;
use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};

pub use hoptrace_core::monitor::MonitorEvent;

use crate::render::{Control, Sink};

/// Seconds as people write them: to the tenth, without a trailing `.0` (`0.4`, `60`).
pub fn seconds(value: f64) -> String {
    let text = format!("{:.1}", value.max(0.0));
    text.strip_suffix(".0").map_or_else(|| text.clone(), str::to_owned)
}

/// Where events go: NDJSON, or text lines (path changes on stdout, failures on stderr); each line flushed. Standard
/// output is the renderers' [`Sink`]: the first write error, or a reader gone, stops the monitor.
pub struct EventSink {
    json: bool,
    out: Mutex<Option<Sink>>,
}

impl EventSink {
    /// Events to standard output, as NDJSON if `json`; a failure to write them stops `control`.
    pub fn new(json: bool, control: Control) -> Self {
        EventSink { json, out: Mutex::new(Some(Sink::new(control))) }
    }

    /// Writes `event` (text mode shows path changes and failures only).
    pub fn emit(&self, event: &MonitorEvent) {
        let line = if self.json { serde_json::to_string(event).ok() } else { text(event) };
        let Some(line) = line else { return };
        if !self.json && matches!(event, MonitorEvent::TargetFailed { .. }) {
            warn(&line);
            return;
        }
        if let Some(sink) = self.sink().as_mut() {
            sink.write(|out| writeln!(out, "{line}").and_then(|()| out.flush()));
        }
    }

    /// Fails as a write would if the reader of standard output has gone (a text monitor may write nothing for
    /// days).
    pub fn check_reader(&self) {
        if let Some(sink) = self.sink().as_mut() {
            sink.check_reader();
        }
    }

    /// Flushes what is left; the first error, if writing failed. Events emitted after this are dropped.
    pub fn finish(&self) -> io::Result<()> {
        self.sink().take().map_or(Ok(()), Sink::finish)
    }

    /// The sink, unless finished.
    fn sink(&self) -> MutexGuard<'_, Option<Sink>> {
        self.out.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Writes `line` to stderr after `hoptrace: `, escaped (it may carry a targets file's text); a closed stderr is not worth a panic (as `eprintln!` would).
pub fn warn(line: &str) {
    let _ = writeln!(io::stderr(), "hoptrace: {}", crate::escape::escape(line));
}

/// The text line of an event, if it has one.
fn text(event: &MonitorEvent) -> Option<String> {
    let show = |hop: Option<&Option<IpAddr>>| match hop.copied().flatten() {
        Some(addr) => addr.to_string(),
        None => "*".to_owned(),
    };
    match event {
        MonitorEvent::TargetRound { .. } => None,
        MonitorEvent::PathChanged { target, old, new, ttls, old_id, new_id, .. } => {
            let changes: Vec<String> = ttls
                .iter()
                .map(|&ttl| {
                    let index = usize::from(ttl) - 1;
                    format!("TTL {ttl} {} -> {}", show(old.get(index)), show(new.get(index)))
                })
                .collect();
            let target = crate::escape::escape(target);
            Some(format!("{target}: path changed ({old_id} -> {new_id}): {}", changes.join(", ")))
        }
        MonitorEvent::TargetFailed { target, error, retry_in, .. } => {
            Some(format!("{target}: {error}; next try in {} s", seconds(*retry_in)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoptrace_core::monitor::{hex_id, path_changed, Observation};
    use std::time::SystemTime;

    #[test]
    fn path_change_as_json_and_text() {
        let a = |n: u8| Some(IpAddr::from([198, 18, n, 2]));
        let old = Observation { hops: vec![a(1), a(2), a(3)], reached: Some(3), ..Observation::default() };
        let new = Observation { hops: vec![a(1), a(7), a(3)], reached: Some(3), ..Observation::default() };
        let event = path_changed("dst", &old, &new, SystemTime::now());
        let json: serde_json::Value = serde_json::to_value(&event).unwrap();
        assert_eq!(json["event"], "path_changed");
        assert_eq!(json["old"][1], "198.18.2.2");
        assert_eq!(json["new"][1], "198.18.7.2");
        assert_eq!(json["ttls"], serde_json::json!([2]));
        assert!(json["at"].as_f64().unwrap() > 1.7e9);
        let line = text(&event).unwrap();
        let expected =
            format!("dst: path changed ({} -> {}): TTL 2 198.18.2.2 -> 198.18.7.2", hex_id(old.id()), hex_id(new.id()));
        assert_eq!(line, expected);
    }

    #[test]
    fn a_failure_says_when_the_next_try_is() {
        let failed = |retry_in| MonitorEvent::TargetFailed {
            target: "dst".into(),
            error: "unknown host dst".into(),
            backoff: 0.0,
            retry_in,
            at: 0.0,
        };
        assert_eq!(text(&failed(59.96)).unwrap(), "dst: unknown host dst; next try in 60 s");
        assert_eq!(text(&failed(0.4)).unwrap(), "dst: unknown host dst; next try in 0.4 s");
        assert_eq!(serde_json::to_value(failed(0.4)).unwrap()["retry_in"], 0.4);
    }
}
