//! The monitor over real sockets: [`net::Fleet`]'s shared sockets as [`Traces`], and the `resolve` crate's lookup
//! thread as a [`Lookup`].

use core::net::IpAddr;
use std::time::Instant;

use engine::{Trace, TraceConfig};
use net::{Fleet, Privilege, SharedSockets};

use super::{Lookup, Traces};
use crate::error::Error;
use crate::options::{Options, Want};

/// Every target's traces over one [`Fleet`]: a socket set per address family, opened once (before privileges are
/// dropped) and shared by all targets (unprivileged TCP excepted: it takes a socket per probe).
pub struct FleetTraces {
    fleet: Fleet<String>,
}

impl FleetTraces {
    /// Opens, for each address family `probing` asks for, sockets all its targets share: ordinary ones where they
    /// work, else raw, unless `raw` or `probing.privilege` decided ([`Want::PreferOrdinary`]). A family whose sockets cannot be opened is
    /// an error, unless it is IPv6 beside IPv4 (a host without IPv6): that error comes back beside the traces,
    /// and IPv6 targets then fail round by round.
    pub fn open(probing: &Options, raw: bool) -> Result<(Self, Option<Error>), Error> {
        let asked = if raw { crate::Privilege::Raw } else { probing.privilege };
        let tries: Vec<Privilege> =
            asked.decide(Want::PreferOrdinary).unwrap_or_default().iter().map(|privilege| privilege.to_net()).collect();
        let families = match probing.family.ipv6() {
            Some(ipv6) => vec![ipv6],
            None => vec![false, true],
        };
        let mut shared = Vec::new();
        let mut no_ipv6 = None;
        for ipv6 in families {
            let unspecified: IpAddr =
                if ipv6 { core::net::Ipv6Addr::UNSPECIFIED.into() } else { core::net::Ipv4Addr::UNSPECIFIED.into() };
            let mut failure = None;
            for &privilege in &tries {
                // The method must be one these sockets can send (Paris TCP needs raw ones); the source is each
                // round's.
                let mut config = probing.trace_config(unspecified, privilege == Privilege::Raw);
                config.source = Some(unspecified);
                let opened = config
                    .validate()
                    .map_err(Error::Config)
                    .and_then(|()| SharedSockets::open(&config, privilege, &probing.sockets).map_err(Error::Net));
                match opened {
                    Ok(sockets) => {
                        shared.extend(sockets); // none: unprivileged TCP, a socket per probe
                        failure = None;
                        break;
                    }
                    Err(error) => failure = failure.or(Some(error)),
                }
            }
            match failure {
                Some(error) if !ipv6 || probing.family.ipv6().is_some() => return Err(error),
                Some(error) => no_ipv6 = Some(error),
                None => {}
            }
        }
        let own = if tries == [Privilege::Raw] { Privilege::Raw } else { Privilege::Unprivileged };
        Ok((FleetTraces { fleet: Fleet::new(shared, own, &probing.sockets) }, no_ipv6))
    }
}

impl Traces for FleetTraces {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn is_raw(&self, ipv6: bool) -> bool {
        self.fleet.is_raw(ipv6)
    }

    fn start(&mut self, key: String, config: &TraceConfig) -> Result<(), Error> {
        self.fleet.start(key, config).map_err(Error::Net)
    }

    fn cancel(&mut self, gone: &mut dyn FnMut(&str) -> bool) {
        self.fleet.cancel(|key| gone(key));
    }

    fn turn(&mut self, until: Option<Instant>) -> Result<(), Error> {
        self.fleet.turn(until).map_err(Error::Net)
    }

    fn take_finished(&mut self) -> Vec<(String, Trace)> {
        self.fleet.take_finished()
    }
}

/// Names looked up on a thread of their own (`resolve`'s [`Resolver`](resolve::Resolver)).
pub struct ResolverLookup(resolve::Resolver);

impl ResolverLookup {
    /// Starts the lookup thread, answering in the family `ipv6` asks for (`None`: either). A lookup under way when
    /// it is dropped cannot be interrupted: its thread is left behind.
    pub fn start(ipv6: Option<bool>) -> std::io::Result<Self> {
        resolve::Resolver::start(ipv6).map(ResolverLookup)
    }
}

impl Lookup for ResolverLookup {
    fn ask(&mut self, name: &str) {
        self.0.ask(name);
    }

    fn answers(&mut self) -> Vec<(String, Result<IpAddr, Error>)> {
        self.0.answers().into_iter().map(|(name, answer)| (name, answer.map_err(Error::from))).collect()
    }
}
