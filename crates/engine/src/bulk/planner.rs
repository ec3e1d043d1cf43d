//! `bulk --targets`' plan, sans IO: every (target, TTL) in a random permutation, skipping a target's TTLs past its
//! destination or its gap limit as the replies tell; the losses below each target's end once more after `wait`;
//! with MDA, rounds of new flows (`super::mda`). The caller pulls probes ([`Planner::poll_probe`]) at the rate it
//! chooses, pushes the rows its replies decode to ([`Planner::handle_row`]) and comes back at
//! [`Planner::poll_timeout`]; time is always passed in. Each target keeps one flow (Paris) outside MDA.

use core::net::IpAddr;
use core::time::Duration;
use std::collections::HashMap;
use std::time::Instant;

use super::order::Permutation;
use super::row::Row;
use super::spec::{ProbeSpec, Protocol};
use crate::mda::{Confidence, MAX_FLOWS};

/// The source port (or ICMP flow identifier) of every target's first flow (flow `f` adds `f`), and the destination
/// port.
pub const FLOW: (u16, u16) = (24000, 33434);

/// How the targets are probed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanConfig {
    /// The highest TTL probed (at most 64).
    pub max_ttl: u8,
    /// A target stops after this many silent TTLs past its farthest answer.
    pub gap_limit: u8,
    /// [`Protocol::Udp`], or [`Protocol::Icmp`] (ICMPv6 for IPv6 targets).
    pub protocol: Protocol,
    /// How long a probe is awaited: before the gap limit counts it silent, and before each later pass or round.
    pub wait: Duration,
    /// MDA at this confidence: every hop probed in new flows until its stopping point (`None`: one flow).
    pub mda: Option<Confidence>,
    /// Seeds the order of the probes.
    pub seed: u64,
}

impl PlanConfig {
    /// `bulk --targets`' defaults: UDP, 30 TTLs, a gap limit of 5, one second's wait, one flow.
    pub fn new() -> PlanConfig {
        PlanConfig {
            max_ttl: 30,
            gap_limit: 5,
            protocol: Protocol::Udp,
            wait: Duration::from_secs(1),
            mda: None,
            seed: 0,
        }
    }
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig::new()
    }
}

/// Where the plan is.
#[derive(Debug)]
pub(super) enum Phase {
    /// The first pass over every (target, TTL), in this order.
    First(Permutation),
    /// Replies are awaited until `until`; then `next`.
    Waiting { until: Instant, next: Next },
    /// The second pass: the losses again.
    Second(Permutation),
    /// MDA round `round`: these (target, TTL, flow), in this order.
    Round { round: usize, planned: Vec<(u32, u8, u16)>, order: Permutation },
    /// Nothing more to send.
    Done,
}

/// What comes after a wait.
#[derive(Debug, Clone, Copy)]
pub(super) enum Next {
    Second,
    Round(usize),
}

/// The plan of a `--targets` run and what the replies told it.
#[derive(Debug)]
pub struct Planner {
    pub(super) targets: Vec<IpAddr>,
    pub(super) config: PlanConfig,
    /// Each address's first target.
    index: HashMap<IpAddr, u32>,
    /// Per target, the TTLs answered (a bit each).
    answered: Vec<u64>,
    /// Per target, the TTL at which the destination (or an unreachable) answered (0: not yet).
    reached: Vec<u8>,
    /// The first reply per (target, TTL, flow).
    pub(super) rows: HashMap<(u32, u8, u16), Row>,
    /// Per (target, TTL) (`target * max_ttl + ttl - 1`): when the first pass sent it.
    sent_at: Vec<Option<Instant>>,
    /// Per (target, TTL): the flows sent.
    pub(super) flows: Vec<u16>,
    pub(super) phase: Phase,
    pub(super) created: Instant,
}

impl Planner {
    /// A plan for `targets` made at `now`. The TTL is bounded to 1..=64.
    pub fn new(targets: Vec<IpAddr>, mut config: PlanConfig, now: Instant) -> Planner {
        config.max_ttl = config.max_ttl.clamp(1, 64);
        let mut index = HashMap::with_capacity(targets.len());
        for (i, target) in targets.iter().enumerate() {
            index.entry(*target).or_insert(i as u32);
        }
        let slots = targets.len() * usize::from(config.max_ttl);
        Planner {
            index,
            answered: vec![0; targets.len()],
            reached: vec![0; targets.len()],
            rows: HashMap::new(),
            sent_at: vec![None; slots],
            flows: vec![0; slots],
            phase: Phase::First(Permutation::new(slots as u64, config.seed)),
            created: now,
            targets,
            config,
        }
    }

    /// The targets, in the order given.
    pub fn targets(&self) -> &[IpAddr] {
        &self.targets
    }

    /// How the targets are probed.
    pub fn config(&self) -> &PlanConfig {
        &self.config
    }

    /// The next probe to send at `now`, or `None` when nothing is due before [`Planner::poll_timeout`] (or ever,
    /// once [`Planner::is_finished`]).
    pub fn poll_probe(&mut self, now: Instant) -> Option<ProbeSpec> {
        let ttls = u64::from(self.config.max_ttl);
        let at = |k: u64| ((k / ttls) as usize, (k % ttls) as u8 + 1);
        loop {
            match &mut self.phase {
                Phase::First(order) => match order.next() {
                    Some(k) => {
                        let (target, ttl) = at(k);
                        if self.worth(target, ttl, now) {
                            self.sent_at[k as usize] = Some(now);
                            self.flows[k as usize] = 1;
                            return Some(self.spec(target, ttl, 0));
                        }
                    }
                    None => self.phase = Phase::Waiting { until: now + self.config.wait, next: Next::Second },
                },
                Phase::Waiting { until, .. } if now < *until => return None,
                Phase::Waiting { next: Next::Second, .. } => {
                    let slots = self.sent_at.len() as u64;
                    self.phase = Phase::Second(Permutation::new(slots, self.config.seed.wrapping_add(1)));
                }
                Phase::Waiting { next: Next::Round(round), .. } => {
                    let round = *round;
                    self.phase = self.round(round);
                }
                Phase::Second(order) => match order.next() {
                    Some(k) => {
                        let (target, ttl) = at(k);
                        let lost = !self.is_answered(target, ttl);
                        if self.sent_at[k as usize].is_some() && ttl <= self.end(target) && lost {
                            return Some(self.spec(target, ttl, 0));
                        }
                    }
                    None if self.config.mda.is_some() => {
                        self.phase = Phase::Waiting { until: now + self.config.wait, next: Next::Round(0) };
                    }
                    None => self.phase = Phase::Done,
                },
                Phase::Round { round, planned, order } => match order.next() {
                    Some(k) => {
                        let (target, ttl, flow) = planned[k as usize];
                        return Some(self.spec(target as usize, ttl, flow));
                    }
                    None => {
                        let next = Next::Round(*round + 1);
                        self.phase = Phase::Waiting { until: now + self.config.wait, next };
                    }
                },
                Phase::Done => return None,
            }
        }
    }

    /// When [`Planner::poll_probe`] may have a probe again: the end of the wait before the next pass or round, a
    /// time already past while probes are left, `None` once finished.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Waiting { until, .. } => Some(until),
            Phase::Done => None,
            _ => Some(self.created),
        }
    }

    /// Whether every probe of the plan went: what replies are still on their way is the caller's to wait for.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Records `row`, received at `_now`, if it answers a probe of a target's flows (the first answer to each).
    pub fn handle_row(&mut self, _now: Instant, row: Row) {
        let dst = IpAddr::V6(row.probe_dst_addr).to_canonical();
        let Some(&target) = self.index.get(&dst) else { return };
        let udp = self.config.protocol == Protocol::Udp;
        let flow = row.probe_src_port.wrapping_sub(FLOW.0);
        let dst_port = if udp { row.probe_dst_port } else { FLOW.1 };
        let ttl = row.probe_ttl;
        if usize::from(flow) >= MAX_FLOWS
            || dst_port != FLOW.1
            || !(1..=self.config.max_ttl).contains(&ttl)
            || (row.probe_protocol == 17) != udp
        {
            return;
        }
        let terminal = !row.is_time_exceeded();
        if self.rows.contains_key(&(target, ttl, flow)) {
            return;
        }
        self.rows.insert((target, ttl, flow), row);
        let target = target as usize;
        self.answered[target] |= 1 << (ttl - 1);
        if terminal && (self.reached[target] == 0 || ttl < self.reached[target]) {
            self.reached[target] = ttl;
        }
    }

    /// The farthest answered TTL of `target` (0: none).
    pub fn farthest(&self, target: usize) -> u8 {
        (64 - self.answered[target].leading_zeros()) as u8
    }

    /// Whether `ttl` of `target` was answered.
    pub fn is_answered(&self, target: usize, ttl: u8) -> bool {
        self.answered[target] & 1 << (ttl - 1) != 0
    }

    /// The TTL at which `target`'s trace ended with its destination or an unreachable, if it did.
    pub fn reached(&self, target: usize) -> Option<u8> {
        Some(self.reached[target]).filter(|&r| r != 0)
    }

    /// The last TTL of `target`'s trace: where it ended, else the gap limit past its farthest answer.
    pub fn end(&self, target: usize) -> u8 {
        let farthest = self.farthest(target);
        self.reached(target).unwrap_or_else(|| farthest.saturating_add(self.config.gap_limit).min(self.config.max_ttl))
    }

    /// The first reply to `target`'s probe of `ttl` in `flow`.
    pub fn row(&self, target: usize, ttl: u8, flow: u16) -> Option<&Row> {
        self.rows.get(&(target as u32, ttl, flow))
    }

    /// The flows `ttl` of `target` was probed in.
    pub fn flows(&self, target: usize, ttl: u8) -> u16 {
        self.flows.get(self.slot(target, ttl)).copied().unwrap_or(0)
    }

    /// When the first pass sent `ttl` of `target`, if it did.
    pub fn sent_at(&self, target: usize, ttl: u8) -> Option<Instant> {
        self.sent_at.get(self.slot(target, ttl)).copied().flatten()
    }

    pub(super) fn slot(&self, target: usize, ttl: u8) -> usize {
        target * usize::from(self.config.max_ttl) + usize::from(ttl).saturating_sub(1)
    }

    /// The probe of `target` at `ttl` in `flow`.
    pub fn spec(&self, target: usize, ttl: u8, flow: u16) -> ProbeSpec {
        let dst = self.targets[target];
        ProbeSpec {
            dst,
            src_port: FLOW.0 + flow,
            dst_port: FLOW.1,
            ttl,
            protocol: match (self.config.protocol, dst.is_ipv6()) {
                (Protocol::Udp, _) => Protocol::Udp,
                (_, false) => Protocol::Icmp,
                (_, true) => Protocol::Icmp6,
            },
            flow_label: 0,
        }
    }

    /// Whether `ttl` of `target` is worth probing at `now`: not past the destination, not past the gap limit (the
    /// TTLs just past the farthest answer all sent at least `wait` ago and silent).
    fn worth(&self, target: usize, ttl: u8, now: Instant) -> bool {
        if self.reached(target).is_some_and(|reached| ttl > reached) {
            return false;
        }
        let (farthest, gap_limit) = (self.farthest(target), self.config.gap_limit);
        if ttl <= farthest.saturating_add(gap_limit) {
            return true;
        }
        let silent =
            |t: u8| self.sent_at(target, t).is_some_and(|at| now.saturating_duration_since(at) >= self.config.wait);
        !(farthest + 1..=farthest + gap_limit).all(silent)
    }
}
