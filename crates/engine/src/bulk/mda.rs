//! `--targets --mda`: after the first passes, rounds of new flows until every hop of every target has MDA's
//! stopping point (`crate::mda`), as diamond-miner plans Iris's rounds; flows a hop left unanswered while it
//! answered others are probed again in the next round.

use crate::mda::{stopping_points, MAX_FLOWS};

use super::order::Permutation;
use super::planner::{Phase, Planner};

/// Rounds at most: each adds the flows the replies so far call for; a lossless lab settles in three or four.
const MAX_ROUNDS: usize = 10;
/// Rounds after those that only probe again the flows left unanswered (the last ones' losses).
const RETRY_ROUNDS: usize = 3;

impl Planner {
    /// Round `round`: the probes (target, TTL, flow) every hop still needs, the flows of each hop grown with them,
    /// and the flows it left unanswered while answering others; after [`MAX_ROUNDS`], only those, for
    /// [`RETRY_ROUNDS`]; done when nothing is needed.
    pub(super) fn round(&mut self, round: usize) -> Phase {
        let Some(confidence) = self.config.mda.filter(|_| round < MAX_ROUNDS + RETRY_ROUNDS) else {
            return Phase::Done;
        };
        let mut planned = Vec::new();
        for target in 0..self.targets.len() {
            let hops = self.hops(target);
            for (hop, needed) in hops.iter().zip(stopping_points(confidence, &hops)) {
                let at = self.slot(target, hop.ttl);
                let needed = needed.min(MAX_FLOWS) as u16;
                // MDA counts answered flows: one a hop left unanswered while answering others (a rate limiter's
                // doing, most likely) is probed again, a round (`wait`) later.
                if hop.is_answered() {
                    let lost = hop.probes.iter().filter(|probe| probe.flow < needed && probe.status.answer().is_none());
                    planned.extend(lost.map(|probe| (target as u32, hop.ttl, probe.flow)));
                }
                if round < MAX_ROUNDS {
                    planned.extend((self.flows[at]..needed).map(|flow| (target as u32, hop.ttl, flow)));
                    self.flows[at] = self.flows[at].max(needed);
                }
            }
        }
        if planned.is_empty() {
            return Phase::Done;
        }
        let order = Permutation::new(planned.len() as u64, self.config.seed.wrapping_add(2 + round as u64));
        Phase::Round { round, planned, order }
    }
}
