//! How each family's probes leave. As caracal's, all of them are handed to the interface for one gateway — that of
//! the route towards the first of the family's destinations that has one — once its Ethernet address is known: the
//! kernel then neither routes nor filters each probe, a tenth of its work per probe in the lab. They are routed one
//! by one before (the first ones make the kernel resolve the gateway), with `--routed`, and where no destination
//! looked at has a gateway on an Ethernet link (loopback, a tunnel, destinations on the link). Injected probes pass
//! no `OUTPUT` firewall rule and no reject route: only the prefix files (`--filter-from-prefix-file-excl`) hold
//! them back.

use core::net::IpAddr;
use std::time::{Duration, Instant};

use net::bulk::BulkSender;
use net::{LinkAddress, NextHop};

use super::Note;

/// How long the gateway's Ethernet address is waited for, probes routed meanwhile.
const RESOLVE_FOR: Duration = Duration::from_secs(3);
/// How often the neighbour table is looked at again meanwhile.
const LOOK_AGAIN: Duration = Duration::from_millis(10);

/// The way out of each family (IPv4, IPv6).
#[derive(Debug)]
pub(super) struct Ways {
    ways: [Way; 2],
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
    /// Ways to be found, or, with `routed`, every probe routed.
    pub(super) fn new(routed: bool) -> Ways {
        let way = if routed { Way::Settled } else { Way::Unknown };
        Ways { ways: [way; 2] }
    }

    /// Before a batch of `dst`'s family goes from `source` (out of `interface` if given): looks for the way out, when
    /// due, and sets it on `sender`. Until the gateway's Ethernet address is known — or while the destinations looked at have no gateway or no
    /// route — the destination of each later batch is looked at, until [`RESOLVE_FOR`] has passed. Whatever is
    /// settled is said in a note.
    pub(super) fn find(
        &mut self,
        dst: IpAddr,
        source: IpAddr,
        interface: Option<&str>,
        sender: &mut BulkSender,
        notes: fn(Note<'_>),
    ) {
        let family = usize::from(dst.is_ipv6());
        if matches!(self.ways[family], Way::Settled) {
            return;
        }
        let now = Instant::now();
        let until = match self.ways[family] {
            Way::Resolving { next, .. } if now < next => return,
            Way::Resolving { until, .. } => until,
            _ => now + RESOLVE_FOR,
        };
        let name = if dst.is_ipv6() { "IPv6" } else { "IPv4" };
        let routed = |why: String| {
            notes(Note::Line(&format!("{name} probes are routed: {why}")));
            Way::Settled
        };
        self.ways[family] = match net::next_hop(dst, Some(source), interface) {
            Ok(NextHop { ifindex, gateway: Some(gateway), link: LinkAddress::Ethernet(mac) }) => {
                match sender.inject(dst.is_ipv6(), ifindex, mac) {
                    Ok(()) => {
                        let mac = mac.map(|byte| format!("{byte:02x}")).join(":");
                        let note =
                            format!("{name} probes leave by {} for the gateway {gateway} at {mac}", name_of(ifindex));
                        notes(Note::Line(&note));
                        Way::Settled
                    }
                    Err(error) => routed(error.to_string()),
                }
            }
            Ok(NextHop { ifindex, gateway: Some(_), link: LinkAddress::NotEthernet }) => {
                routed(format!("{} is not an Ethernet link", name_of(ifindex)))
            }
            _ if now < until => Way::Resolving { next: now + LOOK_AGAIN, until },
            Ok(NextHop { gateway: Some(gateway), .. }) => {
                routed(format!("the gateway {gateway}'s Ethernet address did not come"))
            }
            Ok(NextHop { ifindex, gateway: None, .. }) => {
                routed(format!("no gateway towards {dst} (out of {})", name_of(ifindex)))
            }
            Err(error) => routed(error.to_string()),
        };
    }
}

/// Interface `ifindex`'s name, for people.
fn name_of(ifindex: u32) -> String {
    net::bulk::interface_name(ifindex).unwrap_or_else(|| format!("interface {ifindex}"))
}
