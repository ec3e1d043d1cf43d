//! What the user asked for, whichever command line it came from.

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
    /// One of mtr's outputs, as `mtr` writes it (run as `mtr`, or with `--mtr`).
    Mtr(MtrFormat),
}

/// mtr's non-interactive outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtrFormat {
    /// `-r`, `-w`: the text report.
    Report,
    /// `-j`: the JSON report.
    Json,
    /// `-C`: CSV.
    Csv,
    /// `-x`: XML.
    Xml,
    /// `-l`, `--raw`: a line per probe sent, responder found and reply.
    Raw,
    /// `-p`, `--split`: the hops whose line changed, after every round.
    Split,
}

/// How mtr's outputs are laid out and what they say about the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtrStyle {
    /// `-o`: the field letters, in order (`LS NABWV` by default).
    pub fields: String,
    /// `-w`: host names not cut, further responders as rows in CSV.
    pub wide: bool,
    /// `-b`: names and addresses both.
    pub show_ips: bool,
    /// `-Q`: the TOS value, as reported.
    pub tos: u8,
    /// `-B`: the bit pattern, as reported (`None`: random).
    pub bitpattern: Option<u8>,
    /// `-s`: the packet size, as reported.
    pub psize: i32,
}

impl Default for MtrStyle {
    fn default() -> Self {
        MtrStyle { fields: "LS NABWV".to_owned(), wide: false, show_ips: false, tos: 0, bitpattern: Some(0), psize: 64 }
    }
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
    /// Traces run one after another (`-c`), how far apart (`--interval`), in which flows (`--flows`).
    pub rounds: Rounds,
    /// Colours on the live screen (`--no-color` clears it).
    pub color: bool,
    /// scamper's warts too (`-O warts`, `--warts[=FILE]`).
    pub warts: Option<WartsTo>,
    /// mtr's layout, when run as `mtr`.
    pub mtr: Option<MtrStyle>,
}

impl Settings {
    /// Every host to trace, the first one first.
    pub fn hosts(&self) -> Vec<String> {
        [&self.host].into_iter().chain(&self.more_hosts).cloned().collect()
    }
}
