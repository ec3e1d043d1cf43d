//! Names and AS numbers from the `resolve` crate: the system resolver for names, Team Cymru's DNS for ASes.

use core::net::IpAddr;
use core::time::Duration;
use std::time::Instant;

use resolve::{AsLookup, Names, NamesConfig};

use super::Directory;

/// How long a hop line waits for a name or an AS number before printing without it.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// The [`Directory`] of the `resolve` crate: reverse DNS, and AS numbers when asked for; lookups run on worker
/// threads, cached.
pub struct DnsDirectory {
    names: Option<Names>,
    asns: Option<AsLookup>,
}

impl DnsDirectory {
    /// Names unless `numeric`; AS numbers if `as_lookups` (quietly none when no resolver can be set up).
    pub fn new(numeric: bool, as_lookups: bool) -> Self {
        let names = (!numeric).then(|| Names::new(NamesConfig { timeout: LOOKUP_TIMEOUT, ..NamesConfig::default() }));
        let asns = as_lookups.then(|| AsLookup::system_with_timeout(LOOKUP_TIMEOUT).ok()).flatten();
        DnsDirectory { names, asns }
    }
}

/// Addresses no registry knows: asking about them only costs time.
pub(super) fn worth_an_as_lookup(addr: IpAddr) -> bool {
    !(addr.is_loopback() || addr.is_unspecified() || addr.is_multicast())
}

impl Directory for DnsDirectory {
    fn prefetch(&self, addr: IpAddr) {
        if let Some(names) = &self.names {
            names.request(addr);
        }
        if let Some(asns) = self.asns.as_ref().filter(|_| worth_an_as_lookup(addr)) {
            asns.request(addr);
        }
    }

    fn name(&self, addr: IpAddr) -> Option<String> {
        self.names.as_ref()?.wait(addr, Instant::now() + LOOKUP_TIMEOUT)
    }

    fn asns(&self, addr: IpAddr) -> Option<Vec<u32>> {
        let asns = self.asns.as_ref().filter(|_| worth_an_as_lookup(addr))?;
        asns.wait(addr, Instant::now() + LOOKUP_TIMEOUT)
    }
}
