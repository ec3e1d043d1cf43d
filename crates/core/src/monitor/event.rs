//! What the monitor reports as it goes, as serde events (`hoptrace monitor --events` prints them one per line).

use core::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::path::{changed_ttls, Observation};

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

impl MonitorEvent {
    /// The target it concerns.
    pub fn target(&self) -> &str {
        match self {
            MonitorEvent::TargetRound { target, .. }
            | MonitorEvent::PathChanged { target, .. }
            | MonitorEvent::TargetFailed { target, .. } => target,
        }
    }
}

/// `at` in seconds since the Unix epoch, to the millisecond.
pub fn epoch_seconds(at: SystemTime) -> f64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    (since.as_millis() as f64) / 1000.0
}

/// A path identity as printed: 12 hex digits.
pub fn hex_id(id: u64) -> String {
    format!("{id:012x}")
}

/// The `path_changed` event for a change of `target` from `old` to `new`, confirmed at `at`.
pub fn path_changed(target: &str, old: &Observation, new: &Observation, at: SystemTime) -> MonitorEvent {
    MonitorEvent::PathChanged {
        target: target.to_owned(),
        old: old.hops.clone(),
        new: new.hops.clone(),
        ttls: changed_ttls(old, new),
        old_id: hex_id(old.id()),
        new_id: hex_id(new.id()),
        at: epoch_seconds(at),
    }
}
