//! hoptrace as a library: trace the path packets take to a host — traceroute's job — over UDP, ICMP or TCP,
//! IPv4 or IPv6, without root on Linux (raw sockets when allowed).
//!
//! # The API
//! - [`Tracer`] — built from a host with the command line's defaults ([`Tracer::new`]) or with [`Options`]
//!   ([`Tracer::with_options`]); it resolves the host, opens the sockets once and decides Paris or classic
//!   probing for the protocol and privilege ([`Options::method`]: the one place that policy lives).
//! - [`Tracer::trace`] runs one trace and returns a [`TraceResult`]: hops with every probe and answer, the
//!   outcome, counters. [`Tracer::trace_with`] does the same and hands each [`Event`] to a closure as it happens.
//! - [`Tracer::rounds`] runs traces one after another as mtr does ([`Rounds`]: count, interval, flows), handing
//!   over events, and returns a [`Report`] (loss, Welford RTT statistics, the ICMP rate-limit rule, per-flow rows).
//! - [`Tracer::stop_handle`] gives a [`StopHandle`] to end a trace or run of rounds from another thread.
//! - [`Event`] — round started, probe sent, reply, hop complete, round done, trace done — is `serde::Serialize`:
//!   one flat JSON object tagged `"event"` each (`hoptrace --events` prints them one per line). A consumer that
//!   wants a report of its own folds events in with [`Report::apply`].
//! - [`Tracer::watch`] gives a [`Watch`] another thread reads a [`Snapshot`] of the run under way from (the round
//!   in progress, the report so far), besides the callback. [`Rounds::forever`] runs until stopped.
//! - [`Report`] is `serde::Serialize` too: the rounds and, per hop, responders, loss and RTT statistics.
//! - [`Tracer::over`] runs a complete engine configuration over any [`Network`] (a simulated one in tests).
//! - [`monitor::Monitor`] traces many targets in rounds on their schedules over shared sockets
//!   ([`monitor::FleetTraces`]) or a simulated network, with windowed reports, path identities and changes, and
//!   serde [`monitor::MonitorEvent`]s.
//! - [`bulk`] — many targets at once with raw sockets, as caracal probes: [`bulk::BulkProber`] runs the engine's
//!   bulk planner (passes, gap limit, MDA rounds) and gives per-target hops and outcomes.
//!
//! Every type in these signatures is named from this crate: an embedder depends on `hoptrace-core` alone.
//!
//! ```no_run
//! let mut tracer = hoptrace_core::Tracer::new("198.18.0.9")?;
//! let result = tracer.trace()?;
//! for hop in &result.hops {
//!     println!("{} {:?}", hop.ttl, hop.responders());
//! }
//! # Ok::<(), hoptrace_core::Error>(())
//! ```
//!
//! Below it: `engine` (the sans-IO state machine: probes out, replies in, timers), `net` (sockets and the
//! event loop), `packet` (wire formats). Names and AS numbers are `resolve`'s business.

pub mod bulk;
mod error;
mod event;
mod mark;
pub mod monitor;
mod options;
pub mod report;
mod rounds;
#[cfg(feature = "sim")]
pub mod sim;
mod snapshot;
mod tracer;

/// Multipath discovery's arithmetic: how many probes a hop needs, where each hop's stopping points lie.
pub use engine::mda;
/// What the engine reports as a trace runs, for a [`Network`] to pass on.
pub use engine::Event as EngineEvent;
pub use engine::{
    Answer, Claim, Confidence, ConfigError, Disposition, ErrorClass, Hop, IcmpError, Method, MplsLabel, Outcome, Probe,
    ProbeId, ProbeRecord, ProbeStatus, ProbeTransport, Quote, QuotedProbe, Reply, ReplyKind, Resend, RetryScope, Stats,
    TcpAnswer, Trace, TraceConfig, Unreachable, Verdict, WaitPolicy,
};
pub use error::Error;
/// What the process may do, for a program around the tracer: privileges kept only as long as opening sockets
/// needs them, and whether a pipe's reader is still there.
pub mod process {
    pub use net::bulk::process_usage;
    pub use net::{drop_privileges, lent_by_setuid, narrow_setuid, reader_gone, run_by_root};
}
pub use event::{Event, TraceInfo};
pub use mark::mark;
pub use net::{NetError, SocketOptions};
pub use options::{Family, Flows, Options, Privilege, Protocol, Want};
pub use report::Report;
pub use rounds::{Network, Rounds, Sockets};
pub use snapshot::{Snapshot, Watch};
pub use tracer::{resolve_host, StopHandle, TraceResult, Tracer};
