//! Origin AS lookups through Team Cymru's DNS service.
//!
//! hickory's resolver is asynchronous; this file keeps it on one internal
//! single-threaded tokio runtime owned by the service, so callers see a plain
//! thread-safe, non-blocking API.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{Name, RData};
use hickory_resolver::{ResolverBuilder, TokioResolver};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::cymru::{best_origin, origin_query_name};
use crate::table::ResultTable;
use crate::Lookup;

/// How long one AS query may take unless told otherwise.
pub const DEFAULT_AS_TIMEOUT: Duration = Duration::from_secs(2);

/// Looks up the origin AS numbers of addresses in the background, caching
/// every outcome.
///
/// An answer without a usable origin record (NXDOMAIN, no TXT record, a
/// malformed one) reads as found with no AS numbers (`[*]`); a lookup that
/// failed (no network, no server answered, timeout) quietly reads as
/// [`Lookup::Missing`], so that offline nothing is shown. Addresses are not
/// filtered: a lab's own DNS server may answer for any of them. Dropping the
/// service stops its thread and abandons queries in flight.
pub struct AsLookup {
    results: Arc<ResultTable<Vec<u32>>>,
    queries: UnboundedSender<IpAddr>,
}

impl AsLookup {
    /// A service using the system's resolver configuration
    /// (`/etc/resolv.conf`) and [`DEFAULT_AS_TIMEOUT`].
    pub fn system() -> io::Result<Self> {
        Self::system_with_timeout(DEFAULT_AS_TIMEOUT)
    }

    /// A service using the system's resolver configuration, giving each
    /// query `timeout`.
    pub fn system_with_timeout(timeout: Duration) -> io::Result<Self> {
        Self::start(timeout, |provider| TokioResolver::builder(provider).map_err(io::Error::other))
    }

    /// A service asking exactly `servers` (over UDP), giving each query
    /// `timeout`.
    pub fn with_servers(servers: &[SocketAddr], timeout: Duration) -> io::Result<Self> {
        let name_servers = servers
            .iter()
            .map(|server| {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                NameServerConfig::new(server.ip(), true, vec![udp])
            })
            .collect();
        let config = ResolverConfig::from_parts(None, Vec::new(), name_servers);
        Self::start(timeout, |provider| Ok(TokioResolver::builder_with_config(config, provider)))
    }

    /// Starts looking up `addr` unless it is already cached or under way.
    pub fn request(&self, addr: IpAddr) {
        if self.results.claim(addr) {
            // Only fails if the service thread is gone; the entry then times out.
            let _ = self.queries.send(addr);
        }
    }

    /// What is known about `addr`'s origin now; requests it if it is unknown.
    pub fn get(&self, addr: IpAddr) -> Lookup<Vec<u32>> {
        self.request(addr);
        self.results.status(addr).unwrap_or(Lookup::Pending)
    }

    /// Waits until `addr`'s origin is known, its query times out, or
    /// `deadline` passes; requests it if it is unknown.
    pub fn wait(&self, addr: IpAddr, deadline: Instant) -> Option<Vec<u32>> {
        self.request(addr);
        self.results.wait(addr, deadline)
    }

    fn start(
        timeout: Duration,
        builder: impl FnOnce(TokioRuntimeProvider) -> io::Result<ResolverBuilder<TokioRuntimeProvider>>,
    ) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let resolver = {
            let _context = runtime.enter();
            let mut builder = builder(TokioRuntimeProvider::default())?;
            let options: &mut ResolverOpts = builder.options_mut();
            options.timeout = timeout;
            options.attempts = 1;
            builder.build().map_err(io::Error::other)?
        };
        let results = Arc::new(ResultTable::new(timeout));
        let (queries, incoming) = mpsc::unbounded_channel();
        let service = QueryService { resolver, results: Arc::clone(&results), timeout };
        thread::Builder::new()
            .name("hoptrace-asn".to_owned())
            .spawn(move || runtime.block_on(service.run(incoming)))?;
        Ok(AsLookup { results, queries })
    }
}

/// The runtime side: one task per requested address.
struct QueryService {
    resolver: TokioResolver,
    results: Arc<ResultTable<Vec<u32>>>,
    timeout: Duration,
}

impl QueryService {
    /// Serves queries until the [`AsLookup`] is dropped; returning drops the
    /// runtime, which cancels the queries still in flight.
    async fn run(self, mut incoming: UnboundedReceiver<IpAddr>) {
        let service = Arc::new(self);
        while let Some(addr) = incoming.recv().await {
            let service = Arc::clone(&service);
            tokio::spawn(async move {
                let origin = service.query(addr).await;
                service.results.settle(addr, origin);
            });
        }
    }

    /// The origin of `addr`: empty when the service has no record of it, `None` when it could not be asked.
    async fn query(&self, addr: IpAddr) -> Option<Vec<u32>> {
        let name = Name::from_ascii(origin_query_name(addr) + ".").ok()?;
        let lookup = match tokio::time::timeout(self.timeout, self.resolver.txt_lookup(name)).await.ok()? {
            Ok(lookup) => lookup,
            Err(error) if error.is_no_records_found() => return Some(Vec::new()),
            Err(_) => return None,
        };
        let texts: Vec<String> = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::TXT(txt) => Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part)).collect()),
                _ => None,
            })
            .collect();
        Some(best_origin(texts.iter().map(String::as_str)).unwrap_or_default())
    }
}
