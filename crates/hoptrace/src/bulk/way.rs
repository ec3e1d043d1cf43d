//! How each family's probes leave. As caracal's, they are handed to the interface for the gateway of the route
//! towards the family's first destination, all of them, once that gateway's Ethernet address is known: the kernel
//! then neither routes nor filters each probe, a tenth of its work per probe in the lab. They are routed one by
//! one before it is known (the first ones make the kernel resolve it), with `--routed`, and where that route has no
//! gateway on an Ethernet link (loopback, a tunnel, a destination on the link).

use core::net::IpAddr;
use std::time::{Duration, Instant};

use net::bulk::BulkSender;
use net::NextHop;

/// How long the gateway's Ethernet address is waited for, probes routed meanwhile.
const RESOLVE_FOR: Duration = Duration::from_secs(3);
/// How often the neighbour table is looked at again meanwhile.
const LOOK_AGAIN: Duration = Duration::from_millis(10);

/// The way out of each family (IPv4, IPv6).
#[derive(Debug)]
pub(super) struct Ways {
    ways: [Way; 2],
    interface: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Way {
    /// Not looked for yet.
    Unknown,
    /// Routed while the gateway's address is not known; looked for again at `next`, until `until`.
    Resolving { next: Instant, until: Instant },
    /// Found for good: injected, or routed.
    Settled,
}

impl Ways {
    /// Ways to be found (out of `interface` if given), or, with `routed`, every probe routed.
    pub(super) fn new(routed: bool, interface: Option<String>) -> Ways {
        let way = if routed { Way::Settled } else { Way::Unknown };
        Ways { ways: [way; 2], interface }
    }

    /// Before a batch of `dst`'s family goes from `source`: looks for the way out, when due, and sets it on `sender`.
    pub(super) fn find(&mut self, dst: IpAddr, source: IpAddr, sender: &mut BulkSender) {
        let family = usize::from(dst.is_ipv6());
        let now = Instant::now();
        let until = match self.ways[family] {
            Way::Settled => return,
            Way::Resolving { next, .. } if now < next => return,
            Way::Resolving { until, .. } => until,
            Way::Unknown => now + RESOLVE_FOR,
        };
        let name = if dst.is_ipv6() { "IPv6" } else { "IPv4" };
        self.ways[family] = match net::next_hop(dst, Some(source), self.interface.as_deref()) {
            Ok(NextHop { ifindex, gateway: Some(gateway), mac: Some(mac) }) => {
                match sender.inject(dst.is_ipv6(), ifindex, mac) {
                    Ok(()) => eprintln!(
                        "hoptrace bulk: {name} probes leave by {} for the gateway {gateway} at {}",
                        net::bulk::interface_name(ifindex).unwrap_or_else(|| format!("interface {ifindex}")),
                        mac.map(|byte| format!("{byte:02x}")).join(":")
                    ),
                    Err(error) => eprintln!("hoptrace bulk: {name} probes are routed: {error}"),
                }
                Way::Settled
            }
            Ok(NextHop { gateway: Some(_), mac: None, .. }) if now < until => {
                Way::Resolving { next: now + LOOK_AGAIN, until }
            }
            Ok(NextHop { gateway: Some(gateway), mac: None, .. }) => {
                eprintln!("hoptrace bulk: {name} probes are routed: the gateway {gateway}'s link address did not come");
                Way::Settled
            }
            // No gateway on an Ethernet link, or no route (the probes' own sending says so): routed.
            Ok(_) | Err(_) => Way::Settled,
        };
    }
}
