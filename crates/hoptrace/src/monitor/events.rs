//! What the monitor reports as it goes: with `--events`, one JSON object per line (NDJSON); otherwise one text line
//! per path change and per failing target.

use core::net::IpAddr;
use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::monitor::path::{changed_ttls, Observation};
use crate::output::{Control, Sink};

/// One event of the monitor.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum MonitorEvent {
    /// A target's round finished.
    TargetRound {
        /// The target as given.
        target: String,
        /// Its address.
        address: IpAddr,
        /// Whether the destination answered.
        reached: bool,
        /// Hops in the window's report.
        hops: usize,
        /// How long the round took, in seconds.
        duration: f64,
        /// The established path's identity (hex), once there is one.
        path_id: Option<String>,
        /// When it finished (seconds since the Unix epoch).
        at: f64,
    },
    /// A new path was seen stably over the confirmation rounds.
    PathChanged {
        /// The target as given.
        target: String,
        /// The path before: the address per TTL from 1 (`null` where nothing answered).
        old: Vec<Option<IpAddr>>,
        /// The path now.
        new: Vec<Option<IpAddr>>,
        /// The TTLs at which they differ.
        ttls: Vec<u8>,
        /// The old and new path identities (hex).
        old_id: String,
        /// The new path's identity.
        new_id: String,
        /// When the change was confirmed (seconds since the Unix epoch).
        at: f64,
    },
    /// A round could not run; the target is retried after `backoff` seconds more than its period.
    TargetFailed {
        /// The target as given.
        target: String,
        /// Why, in one line.
        error: String,
        /// The extra wait before the next try, in seconds.
        backoff: f64,
        /// The time until the next try, in seconds: the period (jittered) and the back-off, from now.
        retry_in: f64,
        /// When (seconds since the Unix epoch).
        at: f64,
    },
}

/// Seconds since the Unix epoch, to the millisecond.
pub fn now() -> f64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (since.as_millis() as f64) / 1000.0
}

/// Seconds as people write them: to the tenth, without a trailing `.0` (`0.4`, `60`).
pub fn seconds(value: f64) -> String {
    let text = format!("{:.1}", value.max(0.0));
    text.strip_suffix(".0").map_or_else(|| text.clone(), str::to_owned)
}

/// A path identity as printed: 12 hex digits.
pub fn hex_id(id: u64) -> String {
    format!("{id:012x}")
}

/// The `path_changed` event for a change of `target` from `old` to `new`.
pub fn path_changed(target: &str, old: &Observation, new: &Observation) -> MonitorEvent {
    MonitorEvent::PathChanged {
        target: target.to_owned(),
        old: old.hops.clone(),
        new: new.hops.clone(),
        ttls: changed_ttls(old, new),
        old_id: hex_id(old.id()),
        new_id: hex_id(new.id()),
        at: now(),
    }
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

    #[test]
    fn path_change_as_json_and_text() {
        let a = |n: u8| Some(IpAddr::from([198, 18, n, 2]));
        let old = Observation { hops: vec![a(1), a(2), a(3)], reached: Some(3) };
        let new = Observation { hops: vec![a(1), a(7), a(3)], reached: Some(3) };
        let event = path_changed("dst", &old, &new);
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
