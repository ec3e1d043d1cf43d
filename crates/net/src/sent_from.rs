//! The source address each destination's probes left from. The error queue returns a probe's destination, not
//! its source: a socket bound to the wildcard address, which many traces share, remembers it here to rebuild
//! the quote (and a UDP checksum, which covers it).

use core::net::IpAddr;
use std::collections::HashMap;

use crate::Route;

/// The sources probes left from, by destination.
#[derive(Debug, Default)]
pub(crate) struct SentFrom(HashMap<IpAddr, IpAddr>);

impl SentFrom {
    /// Remembers that probes to `route.target` leave from `route.source`.
    pub(crate) fn note(&mut self, route: Route) {
        if self.0.get(&route.target) != Some(&route.source) {
            self.0.insert(route.target, route.source);
        }
    }

    /// The source of the probes sent to `target`, or `otherwise` if none was.
    pub(crate) fn of(&self, target: IpAddr, otherwise: IpAddr) -> IpAddr {
        self.0.get(&target).copied().unwrap_or(otherwise)
    }
}
