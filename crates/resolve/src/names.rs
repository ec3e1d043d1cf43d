//! Reverse DNS on a pool of worker threads.

use std::net::IpAddr;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use dns_lookup::LookupErrorKind;

use crate::table::ResultTable;
use crate::Lookup;

/// A blocking address-to-name function, run on the worker threads: `Ok(None)` when the address has no name,
/// `Err` when the lookup failed.
type ReverseLookupFn = dyn Fn(IpAddr) -> Result<Option<String>, LookupFailed> + Send + Sync;

/// A reverse lookup that could not be made (no resolver answered, or it failed): unlike an address without a
/// name, nothing is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupFailed;

/// How a [`Names`] service runs its lookups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamesConfig {
    /// Worker threads doing lookups in parallel (at least one is started).
    pub workers: usize,
    /// How long callers wait for one address's name before taking it as
    /// missing.
    pub timeout: Duration,
}

impl Default for NamesConfig {
    /// Four workers and a two-second timeout.
    fn default() -> Self {
        NamesConfig { workers: 4, timeout: Duration::from_secs(2) }
    }
}

/// Resolves addresses to host names in the background, caching every outcome.
///
/// Requests never block; lookups run on the service's worker threads, each
/// address at most once. Dropping the service closes its job queue: idle
/// workers exit at once, busy ones after their current lookup, and queued
/// lookups are abandoned.
pub struct Names {
    /// `Some(None)`: the resolver said the address has no name.
    results: Arc<ResultTable<Option<String>>>,
    jobs: Sender<IpAddr>,
}

impl Names {
    /// A service using the system resolver ([`system_reverse_lookup`]).
    pub fn new(config: NamesConfig) -> Self {
        Self::with_fallible_lookup(config, system_reverse_lookup)
    }

    /// A service using `lookup` to resolve one address; it runs on the worker
    /// threads and may block. Returning `None` (or an empty name) means the
    /// address has no name.
    ///
    /// Should the system refuse to start worker threads, requests simply time
    /// out as missing.
    pub fn with_lookup<F>(config: NamesConfig, lookup: F) -> Self
    where
        F: Fn(IpAddr) -> Option<String> + Send + Sync + 'static,
    {
        Self::with_fallible_lookup(config, move |addr| Ok(lookup(addr)))
    }

    /// Like [`Names::with_lookup`], with a `lookup` that may fail (`Err`), which [`Names::wait_answer`] tells apart
    /// from an address without a name (`Ok(None)`).
    pub fn with_fallible_lookup<F>(config: NamesConfig, lookup: F) -> Self
    where
        F: Fn(IpAddr) -> Result<Option<String>, LookupFailed> + Send + Sync + 'static,
    {
        let results = Arc::new(ResultTable::new(config.timeout));
        let (jobs, queue) = mpsc::channel();
        let queue = Arc::new(Mutex::new(queue));
        let lookup: Arc<ReverseLookupFn> = Arc::new(lookup);
        for index in 0..config.workers.max(1) {
            let worker =
                Worker { queue: Arc::clone(&queue), results: Arc::downgrade(&results), lookup: Arc::clone(&lookup) };
            // A worker that fails to start only costs parallelism.
            let _ = thread::Builder::new().name(format!("hoptrace-rdns-{index}")).spawn(move || worker.run());
        }
        Names { results, jobs }
    }

    /// Starts looking up `addr` unless it is already cached or under way.
    pub fn request(&self, addr: IpAddr) {
        if self.results.claim(addr) {
            // Only fails when every worker is gone; the entry then times out.
            let _ = self.jobs.send(addr);
        }
    }

    /// What is known about `addr`'s name now; requests it if it is unknown.
    pub fn get(&self, addr: IpAddr) -> Lookup<String> {
        self.request(addr);
        match self.results.status(addr) {
            None | Some(Lookup::Pending) => Lookup::Pending,
            Some(Lookup::Found(Some(name))) => Lookup::Found(name),
            Some(Lookup::Found(None) | Lookup::Missing) => Lookup::Missing,
        }
    }

    /// Waits until `addr`'s name is known, its lookup times out, or
    /// `deadline` passes; requests it if it is unknown.
    pub fn wait(&self, addr: IpAddr, deadline: Instant) -> Option<String> {
        self.wait_answer(addr, deadline).flatten()
    }

    /// Like [`Names::wait`], telling apart an address the resolver says has no name (`Some(None)`) from a lookup
    /// that failed or timed out (`None`), as tracepath(8) does (its address, or `???`).
    pub fn wait_answer(&self, addr: IpAddr, deadline: Instant) -> Option<Option<String>> {
        self.request(addr);
        self.results.wait(addr, deadline)
    }
}

/// One pool thread: takes addresses off the shared queue and resolves them.
struct Worker {
    queue: Arc<Mutex<Receiver<IpAddr>>>,
    results: Weak<ResultTable<Option<String>>>,
    lookup: Arc<ReverseLookupFn>,
}

impl Worker {
    fn run(self) {
        loop {
            let next = self.queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
            // The queue closes, or the table goes, when the service is dropped.
            let Ok(addr) = next else { return };
            if self.results.strong_count() == 0 {
                return;
            }
            let name = (self.lookup)(addr).ok().map(|name| name.filter(|name| !name.is_empty()));
            let Some(results) = self.results.upgrade() else {
                return;
            };
            results.settle(addr, name);
        }
    }
}

/// Resolves `addr` through the system resolver (`getnameinfo` with
/// `NI_NAMEREQD`), honouring `/etc/hosts` and nsswitch. Blocks; returns
/// `Ok(None)` when the address has no name, `Err` when the lookup fails (no
/// resolver answered, or one failed).
pub fn system_reverse_lookup(addr: IpAddr) -> Result<Option<String>, LookupFailed> {
    match dns_lookup::lookup_addr(&addr) {
        Ok(name) => Ok(Some(name)),
        Err(error) if matches!(error.kind(), LookupErrorKind::NoName | LookupErrorKind::NoData) => Ok(None),
        Err(_) => Err(LookupFailed),
    }
}
