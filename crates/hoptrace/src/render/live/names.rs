//! Names and AS numbers for the live screen, never waited for: what is known when a frame is drawn, the lookup
//! started otherwise (the next frames show it). Each service starts the first time it is asked, so that `-n`
//! looks nothing up until `n` asks for names.

use core::net::IpAddr;
use core::time::Duration;
use std::cell::OnceCell;

use resolve::{AsLookup, Names, NamesConfig};

use crate::render::directory::worth_an_as_lookup;
use crate::render::Directory;

/// How long a lookup may take before the address counts as nameless.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Lookups that never block.
#[derive(Default)]
pub struct LiveNames {
    names: OnceCell<Names>,
    asns: OnceCell<Option<AsLookup>>,
}

impl Directory for LiveNames {
    fn name(&self, addr: IpAddr) -> Option<String> {
        let names =
            self.names.get_or_init(|| Names::new(NamesConfig { timeout: LOOKUP_TIMEOUT, ..NamesConfig::default() }));
        names.get(addr).found()
    }

    fn asns(&self, addr: IpAddr) -> Option<Vec<u32>> {
        let asns = self.asns.get_or_init(|| AsLookup::system_with_timeout(LOOKUP_TIMEOUT).ok());
        asns.as_ref().filter(|_| worth_an_as_lookup(addr))?.get(addr).found()
    }
}
