//! Reverse DNS and AS-number lookups that never block tracing.
//!
//! Both services take requests from the probing side without blocking, run the
//! lookups on their own threads, and cache every outcome (positive and
//! negative) per address, so a printer thread can ask for a hop's name or
//! origin AS whenever it is ready to print:
//!
//! - [`Names`] resolves addresses to host names through the system resolver
//!   (`getnameinfo` with `NI_NAMEREQD`, so `/etc/hosts` and nsswitch apply) on a
//!   small pool of worker threads.
//! - [`AsLookup`] asks Team Cymru's DNS TXT service for the AS numbers that
//!   originate an address's prefix, like `traceroute -A`.
//!
//! A lookup that has not finished within its timeout reads as
//! [`Lookup::Missing`]; if it completes later, the late result replaces that in
//! the cache.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use hoptrace_resolve::{Names, NamesConfig};
//!
//! // A stand-in for the system resolver, which `Names::new` uses.
//! let names = Names::with_lookup(NamesConfig::default(), |addr| {
//!     addr.is_loopback().then(|| "localhost".to_owned())
//! });
//! let hop = "127.0.0.1".parse().unwrap();
//! names.request(hop); // from the probing thread: returns at once
//! // ...later, from the printing thread:
//! let deadline = Instant::now() + Duration::from_secs(1);
//! assert_eq!(names.wait(hop, deadline).as_deref(), Some("localhost"));
//! ```

mod asn;
mod cymru;
mod names;
mod table;

pub use asn::{AsLookup, DEFAULT_AS_TIMEOUT};
pub use cymru::{best_origin, format_asns, origin_query_name, parse_origin_txt};
pub use names::{system_reverse_lookup, LookupFailed, Names, NamesConfig};

/// What is known about one address's lookup at a given moment.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lookup<T> {
    /// The lookup is under way and still within its timeout.
    Pending,
    /// The lookup succeeded.
    Found(T),
    /// There is no answer: none exists, the lookup failed, or it timed out.
    Missing,
}

impl<T> Lookup<T> {
    /// Whether the answer is still to come.
    pub fn is_pending(&self) -> bool {
        matches!(self, Lookup::Pending)
    }

    /// The found value, or `None` while pending or when missing.
    pub fn found(self) -> Option<T> {
        match self {
            Lookup::Found(value) => Some(value),
            Lookup::Pending | Lookup::Missing => None,
        }
    }
}
