//! `--targets --mda`: after the first passes, rounds of new flows until every hop of every target has MDA's
//! stopping point (`crate::mda`), as diamond-miner plans Iris's rounds.

use crate::mda::{stopping_points, MAX_FLOWS};

use super::order::Permutation;
use super::planner::{Phase, Planner};

/// Rounds at most: each adds the flows the replies so far call for; a lossless lab settles in three or four.
const MAX_ROUNDS: usize = 10;

impl Planner {
    /// Round `round`: the probes (target, TTL, flow) every hop still needs, the flows of each hop grown with them;
    /// done when none is needed, or after [`MAX_ROUNDS`].
    pub(super) fn round(&mut self, round: usize) -> Phase {
        let Some(confidence) = self.config.mda.filter(|_| round < MAX_ROUNDS) else { return Phase::Done };
        let mut planned = Vec::new();
        for target in 0..self.targets.len() {
            let hops = self.hops(target);
            for (hop, needed) in hops.iter().zip(stopping_points(confidence, &hops)) {
                let at = self.slot(target, hop.ttl);
                let needed = needed.min(MAX_FLOWS) as u16;
                planned.extend((self.flows[at]..needed).map(|flow| (target as u32, hop.ttl, flow)));
                self.flows[at] = self.flows[at].max(needed);
            }
        }
        if planned.is_empty() {
            return Phase::Done;
        }
        let order = Permutation::new(planned.len() as u64, self.config.seed.wrapping_add(2 + round as u64));
        Phase::Round { round, planned, order }
    }
}
