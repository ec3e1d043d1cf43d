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
    /// How long a question waits for a lookup under way.
    patience: Duration,
}

impl DnsDirectory {
    /// Names unless `numeric`; AS numbers if `as_lookups` (quietly none when no resolver can be set up).
    pub fn new(numeric: bool, as_lookups: bool) -> Self {
        let names = (!numeric).then(|| Names::new(NamesConfig { timeout: LOOKUP_TIMEOUT, ..NamesConfig::default() }));
        let asns = as_lookups.then(|| AsLookup::system_with_timeout(LOOKUP_TIMEOUT).ok()).flatten();
        DnsDirectory { names, asns, patience: LOOKUP_TIMEOUT }
    }

    /// The same lookups, never waited for: what is known now, the lookup started otherwise (a later question
    /// gets its answer). For callers on a probing thread.
    pub fn never_waiting(self) -> Self {
        DnsDirectory { patience: Duration::ZERO, ..self }
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

    /// The name, escaped: whoever runs the reverse zone chooses it, control characters included.
    fn name(&self, addr: IpAddr) -> Option<String> {
        let name = self.names.as_ref()?.wait(addr, Instant::now() + self.patience)?;
        Some(crate::escape::escape(&name).into_owned())
    }

    fn name_answer(&self, addr: IpAddr) -> Option<Option<String>> {
        self.names.as_ref()?.wait_answer(addr, Instant::now() + self.patience)
    }

    fn asns(&self, addr: IpAddr) -> Option<Vec<u32>> {
        let asns = self.asns.as_ref().filter(|_| worth_an_as_lookup(addr))?;
        asns.wait(addr, Instant::now() + self.patience)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_waiting_answers_at_once_and_later_with_the_name() {
        let slow = |_| {
            std::thread::sleep(Duration::from_millis(300));
            Some("r1.lab".to_owned())
        };
        let names = Names::with_lookup(NamesConfig { timeout: LOOKUP_TIMEOUT, workers: 1 }, slow);
        let directory = DnsDirectory { names: Some(names), asns: None, patience: LOOKUP_TIMEOUT }.never_waiting();
        let addr = IpAddr::from([198, 18, 0, 1]);
        let asked = Instant::now();
        assert_eq!(directory.name(addr), None);
        assert!(asked.elapsed() < Duration::from_millis(200), "waited {:?}", asked.elapsed());
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(directory.name(addr).as_deref(), Some("r1.lab"));
    }

    #[test]
    fn a_hostile_reverse_name_comes_escaped() {
        let hostile = |_| Some("r1\u{1b}]0;owned\u{7}.lab\r".to_owned());
        let names = Names::with_lookup(NamesConfig { timeout: LOOKUP_TIMEOUT, workers: 1 }, hostile);
        let directory = DnsDirectory { names: Some(names), asns: None, patience: LOOKUP_TIMEOUT };
        let name = directory.name(IpAddr::from([198, 18, 0, 1]));
        assert_eq!(name.as_deref(), Some("r1\\u{1b}]0;owned\\u{7}.lab\\r"));
    }
}
