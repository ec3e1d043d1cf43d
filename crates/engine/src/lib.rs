//! The tracing logic of hoptrace as a sans-IO state machine.
//!
//! No sockets, no clock, no threads: the caller passes time in, pulls probes out, pushes replies in and polls
//! timers, in the manner of `quinn-proto`. That keeps every decision — scheduling, matching, adaptive waits, stop
//! rules — deterministic and testable against a simulated network (feature `sim`).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use hoptrace_engine::{Method, Outcome, Protocol, Trace, TraceConfig};
//!
//! let target = "198.18.0.9".parse().unwrap();
//! let mut trace = Trace::new(TraceConfig { max_ttl: 2, ..TraceConfig::new(target, Method::classic(Protocol::Udp)) }).unwrap();
//! let start = Instant::now();
//! while let Some(probe) = trace.poll_probe(start) {
//!     // A real caller sends `probe` here; this one's network drops everything.
//!     assert!(probe.ttl <= 2);
//! }
//! // Nothing answers: after the longest wait every probe is given up and the trace ends at the TTL limit.
//! let deadline = trace.poll_timeout().unwrap();
//! assert_eq!(deadline, start + Duration::from_secs(5));
//! trace.handle_timeout(deadline);
//! assert_eq!(trace.outcome(), Some(Outcome::MaxTtl));
//! assert_eq!(trace.hops().len(), 2);
//! ```

pub mod bulk;
pub mod config;
mod craft;
pub mod decode;
mod emit;
mod identity;
mod log;
mod matching;
pub mod mda;
mod pace;
pub mod probe;
pub mod reply;
mod resend;
pub mod result;
#[cfg(feature = "sim")]
pub mod sim;
mod stop;
mod trace;
mod waits;

pub use config::{Confidence, ConfigError, Method, Protocol, RetryScope, TraceConfig, WaitPolicy};
pub use probe::{Probe, ProbeId, ProbeTransport};
pub use reply::{ErrorClass, IcmpError, MplsLabel, Quote, QuotedProbe, Reply, ReplyKind, TcpAnswer, Unreachable};
pub use result::{Answer, Event, Hop, Outcome, ProbeRecord, ProbeStatus, Resend, Stats, Verdict};
pub use trace::{Claim, Disposition, Trace};
