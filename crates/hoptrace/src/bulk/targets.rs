//! `hoptrace bulk --targets`: traces of many targets at once, for people. Every (target, TTL) is probed in a
//! random permutation at the rate asked, skipping a target's TTLs past its destination or its gap limit as the
//! replies tell; losses are probed again in a second pass; then one trace per target is written, in `--json`'s
//! schema (or traceroute's text). Each target keeps one flow (Paris).

use core::net::IpAddr;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::ToSocketAddrs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use engine::bulk::{ProbeSpec, Protocol, Row};
use engine::mda::{Confidence, MAX_FLOWS};
use net::bulk::BulkSender;

use super::input::MAX_LINE;
use super::send::Sending;
use crate::escape::escape;
use crate::files::{read_bounded, read_file, BULK_LIMIT};

/// The source port (or ICMP flow identifier) of every target's first flow (flow `f` adds `f`), and the destination
/// port.
pub(super) const FLOW: (u16, u16) = (24000, 33434);

/// Addresses in one prefix at most (one per /24 or /64).
const MAX_PER_PREFIX: u64 = 1 << 20;

/// One target: as the user gave it, and its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub host: String,
    pub addr: IpAddr,
}

/// Reads the targets of `path` (`-`: stdin): addresses, names (resolved here), prefixes (an address in each /24
/// or /64: the network's first host). A file must be a regular one, and the input at most [`BULK_LIMIT`] bytes. A
/// line that gives no target is said on stderr, with its number, and skipped, as the probe specifications are;
/// returns the targets and the count of such lines. Failing to read is an error.
pub(super) fn load(path: &Path) -> Result<(Vec<Target>, u64), String> {
    let bytes = if path == Path::new("-") {
        read_bounded(std::io::stdin().lock(), BULK_LIMIT).map_err(|why| format!("{}: {why}", path.display()))?
    } else {
        read_file(path, BULK_LIMIT)?
    };
    let (mut targets, mut invalid) = (Vec::new(), 0);
    let lines = bytes.strip_suffix(b"\n").unwrap_or(&bytes).split(|&byte| byte == b'\n');
    for (number, line) in (1..).zip(lines) {
        let parsed = if line.len() as u64 > MAX_LINE {
            Err(format!("longer than {MAX_LINE} bytes"))
        } else {
            match std::str::from_utf8(line) {
                Ok(text) => parse(text.trim(), &mut targets),
                Err(_) => Err("not UTF-8".to_owned()),
            }
        };
        if let Err(why) = parsed {
            invalid += 1;
            eprintln!("hoptrace bulk: {}", escape(&format!("{}:{number}: {why}", path.display())));
        }
    }
    Ok((targets, invalid))
}

/// Adds the targets of one line (none for a blank line or a comment).
fn parse(line: &str, targets: &mut Vec<Target>) -> Result<(), String> {
    if line.is_empty() || line.starts_with('#') {
        return Ok(());
    }
    if let Some((network, len)) = line.split_once('/') {
        let network: IpAddr = network.parse().map_err(|_| format!("`{line}' is not a prefix"))?;
        let len: u32 = len.parse().map_err(|_| format!("`{line}' has a bad length"))?;
        targets.extend(prefix_addresses(network, len)?.into_iter().map(|addr| Target { host: addr.to_string(), addr }));
    } else if let Ok(addr) = line.parse() {
        targets.push(Target { host: line.to_owned(), addr });
    } else {
        let addr = (line, 0)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| format!("unknown host {line}"))?;
        targets.push(Target { host: line.to_owned(), addr: addr.ip() });
    }
    Ok(())
}

/// One address in each /24 (IPv4) or /64 (IPv6) of `network`/`len`: the first host of each.
fn prefix_addresses(network: IpAddr, len: u32) -> Result<Vec<IpAddr>, String> {
    let (bits, unit) = if network.is_ipv4() { (32, 24) } else { (128, 64) };
    if len > bits {
        return Err(format!("{network}/{len}: the length is over {bits}"));
    }
    let count = if len >= unit { 1 } else { 1u64.checked_shl(unit - len).unwrap_or(u64::MAX) };
    if count > MAX_PER_PREFIX {
        return Err(format!("{network}/{len}: more than {MAX_PER_PREFIX} targets"));
    }
    let base = match network {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    };
    let host_bits = bits - len.min(unit);
    let first = base >> host_bits << host_bits;
    let step = 1u128 << (bits - unit);
    Ok((0..u128::from(count))
        .map(|i| {
            let n = first + i * step + if len >= unit { base - first } else { 1 };
            if network.is_ipv4() {
                IpAddr::V4((n as u32).into())
            } else {
                IpAddr::V6(n.into())
            }
        })
        .collect())
}

/// What the receiver tells the sender, per target: which TTLs were answered (a bit each), the TTL at which the
/// destination (or an unreachable) answered (0: not yet), and the replies, per (target, TTL, flow): the first each.
#[derive(Debug)]
pub(super) struct Progress {
    pub index: HashMap<IpAddr, u32>,
    pub answered: Vec<AtomicU64>,
    pub reached: Vec<AtomicU8>,
    pub protocol: Protocol,
    pub rows: Mutex<Rows>,
}

/// Replies per (target, TTL, flow).
pub(super) type Rows = HashMap<(u32, u8, u16), Row>;

impl Progress {
    pub(super) fn new(targets: &[Target], protocol: Protocol) -> Progress {
        let mut index = HashMap::with_capacity(targets.len());
        for (i, target) in targets.iter().enumerate() {
            index.entry(target.addr).or_insert(i as u32);
        }
        Progress {
            index,
            answered: targets.iter().map(|_| AtomicU64::new(0)).collect(),
            reached: targets.iter().map(|_| AtomicU8::new(0)).collect(),
            protocol,
            rows: Mutex::new(HashMap::new()),
        }
    }

    /// Records `row` if it answers a probe of a target's flows (the first answer to each).
    pub(super) fn record(&self, row: Row) {
        let dst = IpAddr::V6(row.probe_dst_addr).to_canonical();
        let Some(&target) = self.index.get(&dst) else { return };
        let udp = self.protocol == Protocol::Udp;
        let flow = row.probe_src_port.wrapping_sub(FLOW.0);
        let dst_port = if udp { row.probe_dst_port } else { FLOW.1 };
        let ttl = row.probe_ttl;
        if usize::from(flow) >= MAX_FLOWS
            || dst_port != FLOW.1
            || !(1..=64).contains(&ttl)
            || (row.probe_protocol == 17) != udp
        {
            return;
        }
        let terminal = !row.is_time_exceeded();
        let mut rows = self.rows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if rows.contains_key(&(target, ttl, flow)) {
            return;
        }
        rows.insert((target, ttl, flow), row);
        drop(rows);
        self.answered[target as usize].fetch_or(1 << (ttl - 1), Ordering::Relaxed);
        if terminal {
            let reached = &self.reached[target as usize];
            let _ = reached.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| (r == 0 || ttl < r).then_some(ttl));
        }
    }

    /// The farthest answered TTL of `target` (0: none).
    pub(super) fn farthest(&self, target: usize) -> u8 {
        (64 - self.answered[target].load(Ordering::Relaxed).leading_zeros()) as u8
    }

    /// Whether `ttl` of `target` was answered.
    pub(super) fn is_answered(&self, target: usize, ttl: u8) -> bool {
        self.answered[target].load(Ordering::Relaxed) & 1 << (ttl - 1) != 0
    }

    /// The TTL at which `target`'s trace ended with its destination or an unreachable, if it did.
    pub(super) fn reached(&self, target: usize) -> Option<u8> {
        Some(self.reached[target].load(Ordering::Relaxed)).filter(|&r| r != 0)
    }
}

impl super::replies::Sink for &Progress {
    fn row(&mut self, row: Row, _out: &mut crate::output::Sink) {
        self.record(row);
    }
}

/// A random permutation of `0..n` (a full-period linear congruential walk over the next power of two, skipping
/// what is past `n`): spreads each target's TTLs over the run so that no router sees them in a burst.
pub(super) fn permutation(n: u64) -> impl Iterator<Item = u64> {
    let size = n.next_power_of_two().max(4);
    let random = std::collections::hash_map::RandomState::new();
    let a = (random.hash_one(1u8) & (size - 1)) | 1;
    let a = (a & !3) | 1; // a ≡ 1 (mod 4)
    let c = random.hash_one(2u8) | 1;
    let start = random.hash_one(3u8) & (size - 1);
    let mut x = start;
    (0..size)
        .map(move |_| {
            x = a.wrapping_mul(x).wrapping_add(c) & (size - 1);
            x
        })
        .filter(move |&x| x < n)
}

/// The sender's passes over every (target, TTL), and with MDA its rounds of new flows.
pub(super) struct Passes<'a> {
    pub targets: &'a [Target],
    pub progress: &'a Progress,
    pub max_ttl: u8,
    pub gap_limit: u8,
    pub protocol: Protocol,
    /// How long a probe is awaited before the gap limit counts it silent.
    pub wait: Duration,
    /// MDA at this confidence: every hop probed in flows until its stopping point (`None`: one flow).
    pub mda: Option<Confidence>,
}

impl Passes<'_> {
    pub(super) fn spec(&self, target: usize, ttl: u8, flow: u16) -> ProbeSpec {
        ProbeSpec {
            dst: self.targets[target].addr,
            src_port: FLOW.0 + flow,
            dst_port: FLOW.1,
            ttl,
            protocol: match (self.protocol, self.targets[target].addr.is_ipv6()) {
                (Protocol::Udp, _) => Protocol::Udp,
                (_, false) => Protocol::Icmp,
                (_, true) => Protocol::Icmp6,
            },
            flow_label: 0,
        }
    }

    /// Whether `ttl` of `target` is worth probing: not past the destination, not past the gap limit (the TTLs
    /// just past the farthest answer all sent long enough ago and silent).
    fn worth(&self, target: usize, ttl: u8, sent_at: &[Option<Instant>]) -> bool {
        if self.progress.reached(target).is_some_and(|reached| ttl > reached) {
            return false;
        }
        let farthest = self.progress.farthest(target);
        if ttl <= farthest.saturating_add(self.gap_limit) {
            return true;
        }
        let row = &sent_at[target * usize::from(self.max_ttl)..];
        let gap = (farthest + 1..=farthest + self.gap_limit).map(|t| row[usize::from(t) - 1]);
        !gap.into_iter().all(|sent| sent.is_some_and(|at| at.elapsed() >= self.wait))
    }

    /// Probes every (target, TTL) worth it, then, after `wait`, the losses below each target's end once more.
    /// Returns the flows sent per (target, TTL), `target * max_ttl + ttl - 1` (MDA's rounds, `bulk::mda`, add
    /// more).
    pub(super) fn run(&self, sending: &mut Sending<'_>, sender: &mut BulkSender, stop: &AtomicBool) -> Vec<u16> {
        let ttls = u64::from(self.max_ttl);
        let mut sent_at: Vec<Option<Instant>> = vec![None; self.targets.len() * usize::from(self.max_ttl)];
        for k in permutation(self.targets.len() as u64 * ttls) {
            if sending.ended(stop) {
                break;
            }
            let (target, ttl) = ((k / ttls) as usize, (k % ttls) as u8 + 1);
            if self.worth(target, ttl, &sent_at) {
                sending.send(&self.spec(target, ttl, 0), sender);
                sent_at[k as usize] = Some(Instant::now());
            }
        }
        sending.finish(sender);
        super::pause(self.wait, || sending.ended(stop));
        for k in permutation(self.targets.len() as u64 * ttls) {
            if sending.ended(stop) {
                break;
            }
            let (target, ttl) = ((k / ttls) as usize, (k % ttls) as u8 + 1);
            let end = self.end(target);
            if sent_at[k as usize].is_some() && ttl <= end && !self.progress.is_answered(target, ttl) {
                sending.send(&self.spec(target, ttl, 0), sender);
            }
        }
        sending.finish(sender);
        sent_at.iter().map(|sent| u16::from(sent.is_some())).collect()
    }

    /// The last TTL of `target`'s trace: where it ended, else the gap limit past its farthest answer.
    pub(super) fn end(&self, target: usize) -> u8 {
        let farthest = self.progress.farthest(target);
        self.progress.reached(target).unwrap_or_else(|| farthest.saturating_add(self.gap_limit).min(self.max_ttl))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permutation_visits_everything_once() {
        for n in [1, 5, 1000, 4096] {
            let mut seen: Vec<u64> = permutation(n).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }
        // Not the identity.
        assert_ne!(permutation(1000).take(10).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn prefixes_give_an_address_per_slash_24_or_64() {
        let addrs = |text: &str, len| prefix_addresses(text.parse().unwrap(), len).unwrap();
        let v4: Vec<String> = addrs("198.19.224.77", 22).iter().map(|a| a.to_string()).collect();
        assert_eq!(v4, ["198.19.224.1", "198.19.225.1", "198.19.226.1", "198.19.227.1"]);
        assert_eq!(addrs("198.19.224.77", 28), ["198.19.224.77".parse::<IpAddr>().unwrap()]);
        let v6 = addrs("2001:db8:1::", 63);
        assert_eq!(v6, ["2001:db8:1::1".parse::<IpAddr>().unwrap(), "2001:db8:1:1::1".parse().unwrap()]);
        assert!(prefix_addresses("2001:db8::".parse().unwrap(), 32).is_err());
    }
}
