//! What the user asked for, whichever command line it came from.

use core::time::Duration;
use std::path::PathBuf;

pub use hoptrace_core::Flows;
use hoptrace_core::{Options, Rounds};

/// Which tool's behaviour and layout to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `traceroute(8)`.
    Traceroute,
    /// iputils `tracepath(8)`.
    Tracepath,
}

/// How hop addresses are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// The address only (`-n`).
    Numeric,
    /// `name (address)`, the address standing in for a missing name (traceroute's default).
    NameAndAddress,
    /// The name only: the address when it has none, `???` when the lookup failed (tracepath's default).
    NameOnly,
    /// `name (address)`, the name as [`Naming::NameOnly`] shows it (tracepath `-b`).
    Both,
}

/// What is written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The text layout of the [`Mode`], hop by hop.
    Text,
    /// One RIPE Atlas traceroute result (JSON) per trace (`--json`).
    Ripe,
    /// mtr's report over the rounds (`--report`, `--csv`, `--dot`).
    Report(ReportFormat),
    /// mtr's report redrawn on the terminal after every round (`--live`), printed at the end.
    Live,
    /// The event stream, one JSON object per line (`--events`).
    Events,
}

/// Where warts goes: standard output, or a file beside the other output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WartsTo {
    /// Instead of the text or JSON (`-O warts`, `--warts`).
    Stdout,
    /// To this file, the usual output going on to stdout (`--warts=FILE`).
    File(PathBuf),
}

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// mtr's text report (`--report`).
    Text,
    /// mtr's JSON report (`--report --json`).
    Json,
    /// mtr's CSV (`--csv`).
    Csv,
    /// A Graphviz graph (`--dot`).
    Dot,
}

/// A complete request: one trace or several rounds, and how to show them.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Layout and defaults.
    pub mode: Mode,
    /// The host as given.
    pub host: String,
    /// More hosts, traced side by side with the first (`--live A B C`).
    pub more_hosts: Vec<String>,
    /// The probing half: what the library is asked to do.
    pub probing: Options,
    /// How addresses are shown.
    pub naming: Naming,
    /// Show the number of hops back when it differs (`--back`).
    pub back: bool,
    /// Show AS numbers (`-A`).
    pub as_lookups: bool,
    /// Show ICMP extensions (`-e`).
    pub extensions: bool,
    /// What is written.
    pub output: Output,
    /// Traces run one after another (`-c`).
    pub rounds: u32,
    /// Flows the rounds cycle through (`--flows`): round r probes in flow r mod this, so a report follows each of
    /// them across per-flow load balancers (Paris methods).
    pub flow_count: u16,
    /// Pause between two rounds (`--interval`).
    pub round_interval: Duration,
    /// Colours on the live screen (`--no-color` clears it).
    pub color: bool,
    /// scamper's warts too (`-O warts`, `--warts[=FILE]`).
    pub warts: Option<WartsTo>,
}

impl Settings {
    /// Every host to trace, the first one first.
    pub fn hosts(&self) -> Vec<String> {
        [&self.host].into_iter().chain(&self.more_hosts).cloned().collect()
    }

    /// The rounds asked for.
    pub fn rounds(&self) -> Rounds {
        Rounds { count: self.rounds, interval: self.round_interval, flows: self.flow_count }
    }
}
