//! How each family's probes leave. As caracal's, all of them are handed to the interface for one gateway — that of
//! the route towards the first of the family's destinations that has one — once its Ethernet address is known: the
//! kernel then neither routes nor filters each probe, a tenth of its work per probe in the lab. They are routed one
//! by one before (the first ones make the kernel resolve the gateway), with `--routed`, and where no destination
//! looked at has a gateway on an Ethernet link (loopback, a tunnel, destinations on the link). Injected probes pass
//! no `OUTPUT` firewall rule and no reject route: only the prefix files (`--filter-from-prefix-file-excl`) hold
//! them back.
//!
//! The gateway may change mid-run (VRRP, a replaced router: a new Ethernet address, or a new route): the way is
//! looked at again every [`LOOK_AGAIN_INJECTED`], and when no reply has come for [`SILENCE`] while probes left,
//! that is said, and the probes are routed until the neighbour table has another address or replies come back.

use core::net::IpAddr;
use std::time::{Duration, Instant};

use net::bulk::BulkSender;
use net::{LinkAddress, NextHop};

use super::Note;

/// How long the gateway's Ethernet address is waited for, probes routed meanwhile.
const RESOLVE_FOR: Duration = Duration::from_secs(3);
/// How often the neighbour table is looked at again meanwhile.
const LOOK_AGAIN: Duration = Duration::from_millis(10);
/// How often the way of injected probes is looked at again.
const LOOK_AGAIN_INJECTED: Duration = Duration::from_millis(100);
/// How long without a reply, probes leaving, before the silence is said.
const SILENCE: Duration = Duration::from_secs(1);

/// The way out of each family (IPv4, IPv6).
#[derive(Debug)]
pub(super) struct Ways {
    ways: [Way; 2],
    /// The replies matched when their count last moved, and when.
    replies: (u64, Instant),
    /// Whether the current silence was said.
    silent: bool,
    /// Where what is settled or changed is said.
    notes: fn(Note<'_>),
}

#[derive(Debug, Clone, Copy)]
enum Way {
    /// Not looked for yet.
    Unknown,
    /// Routed while the gateway's address is not known (or is `avoid`, which stopped answering); looked for again
    /// at `next`, until `until`.
    Resolving { next: Instant, until: Instant, avoid: Option<[u8; 6]> },
    /// Handed to `mac` out of `ifindex`; looked at again at `next`.
    Injected { ifindex: u32, mac: [u8; 6], next: Instant },
    /// Routed for good.
    Routed,
}

impl Ways {
    /// Ways to be found, or, with `routed`, every probe routed; what is settled or changed is said to `notes`.
    pub(super) fn new(routed: bool, notes: fn(Note<'_>)) -> Ways {
        let way = if routed { Way::Routed } else { Way::Unknown };
        Ways { ways: [way; 2], replies: (0, Instant::now()), silent: false, notes }
    }

    /// Before a batch of `dst`'s family goes from `source` (out of `interface` if given), `matched` replies matched
    /// so far: looks for the way out, when due, and sets it on `sender`. Until the gateway's Ethernet address is
    /// known — or while the destinations looked at have no gateway or no route — the destination of each later
    /// batch is looked at, until [`RESOLVE_FOR`] has passed. Whatever is settled or changed is said in a note.
    pub(super) fn find(
        &mut self,
        dst: IpAddr,
        source: IpAddr,
        interface: Option<&str>,
        sender: &mut BulkSender,
        matched: u64,
    ) {
        let family = usize::from(dst.is_ipv6());
        let now = Instant::now();
        let name = if dst.is_ipv6() { "IPv6" } else { "IPv4" };
        let notes = self.notes;
        if self.silence(matched, now) {
            // Routed, the kernel checks the neighbour again; injected, the probes would go on to the same address.
            for (family, way) in self.ways.iter_mut().enumerate() {
                if let Way::Injected { mac, .. } = *way {
                    let name = if family == 1 { "IPv6" } else { "IPv4" };
                    notes(Note::Line(&format!("{name} probes are routed until the gateway answers again")));
                    sender.route(family == 1);
                    *way = Way::Resolving { next: now, until: now + RESOLVE_FOR, avoid: Some(mac) };
                }
            }
        }
        let (until, avoid) = match self.ways[family] {
            Way::Routed => return,
            Way::Injected { next, .. } if now < next => return,
            Way::Injected { ifindex, mac, .. } => {
                self.look_again(dst, source, interface, sender, (ifindex, mac), now);
                return;
            }
            Way::Resolving { next, .. } if now < next => return,
            Way::Resolving { until, avoid, .. } => (until, avoid),
            Way::Unknown => (now + RESOLVE_FOR, None),
        };
        let routed = |why: String| {
            notes(Note::Line(&format!("{name} probes are routed: {why}")));
            Way::Routed
        };
        // A gateway that stopped answering is taken back once replies come again.
        let avoid = avoid.filter(|_| self.silent);
        self.ways[family] = match net::next_hop(dst, Some(source), interface) {
            Ok(NextHop { ifindex, gateway: Some(gateway), link: LinkAddress::Ethernet(mac) }) if Some(mac) != avoid => {
                self.inject(dst.is_ipv6(), (ifindex, gateway, mac), sender, now, "")
                    .unwrap_or_else(|error| routed(error.to_string()))
            }
            Ok(NextHop { ifindex, gateway: Some(_), link: LinkAddress::NotEthernet }) => {
                routed(format!("{} is not an Ethernet link", name_of(ifindex)))
            }
            _ if now < until || avoid.is_some() => Way::Resolving { next: now + LOOK_AGAIN, until, avoid },
            Ok(NextHop { gateway: Some(gateway), .. }) => {
                routed(format!("the gateway {gateway}'s Ethernet address did not come"))
            }
            Ok(NextHop { ifindex, gateway: None, .. }) => {
                routed(format!("no gateway towards {dst} (out of {})", name_of(ifindex)))
            }
            Err(error) => routed(error.to_string()),
        };
    }

    /// Whether replies have just been found to have stopped: none for [`SILENCE`] after some came, said once in a
    /// note; their coming back is said too.
    fn silence(&mut self, matched: u64, now: Instant) -> bool {
        if matched != self.replies.0 {
            if std::mem::take(&mut self.silent) {
                (self.notes)(Note::Line("replies come again"));
            }
            self.replies = (matched, now);
            return false;
        }
        if self.silent || matched == 0 || now.duration_since(self.replies.1) < SILENCE {
            return false;
        }
        self.silent = true;
        let note = format!("no reply for {} s while probes left", now.duration_since(self.replies.1).as_secs());
        (self.notes)(Note::Line(&note));
        true
    }

    /// Looks again at the way of probes injected for `(ifindex, mac)`: a new gateway, interface or Ethernet address
    /// is taken and said. One the neighbour table lost is kept (the silence of replies tells whether it still works).
    fn look_again(
        &mut self,
        dst: IpAddr,
        source: IpAddr,
        interface: Option<&str>,
        sender: &mut BulkSender,
        (ifindex, mac): (u32, [u8; 6]),
        now: Instant,
    ) {
        let family = usize::from(dst.is_ipv6());
        let kept = Way::Injected { ifindex, mac, next: now + LOOK_AGAIN_INJECTED };
        self.ways[family] = match net::next_hop(dst, Some(source), interface) {
            Ok(NextHop { ifindex: new_ifindex, gateway: Some(gateway), link: LinkAddress::Ethernet(new_mac) })
                if (new_ifindex, new_mac) != (ifindex, mac) =>
            {
                let changed = "the way out changed: ";
                self.inject(dst.is_ipv6(), (new_ifindex, gateway, new_mac), sender, now, changed).unwrap_or(kept)
            }
            _ => kept,
        };
    }

    /// Hands the probes of family `ipv6` to `gateway` at `mac` out of `ifindex`, saying so after `why`.
    fn inject(
        &mut self,
        ipv6: bool,
        (ifindex, gateway, mac): (u32, IpAddr, [u8; 6]),
        sender: &mut BulkSender,
        now: Instant,
        why: &str,
    ) -> Result<Way, net::NetError> {
        sender.inject(ipv6, ifindex, mac)?;
        let name = if ipv6 { "IPv6" } else { "IPv4" };
        let text = mac.map(|byte| format!("{byte:02x}")).join(":");
        let note = format!("{why}{name} probes leave by {} for the gateway {gateway} at {text}", name_of(ifindex));
        (self.notes)(Note::Line(&note));
        Ok(Way::Injected { ifindex, mac, next: now + LOOK_AGAIN_INJECTED })
    }
}

/// Interface `ifindex`'s name, for people.
fn name_of(ifindex: u32) -> String {
    net::bulk::interface_name(ifindex).unwrap_or_else(|| format!("interface {ifindex}"))
}
