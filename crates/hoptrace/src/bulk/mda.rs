//! `--targets --mda`: after the first passes, rounds of new flows until every hop of every target has MDA's
//! stopping point (`engine::mda`), as diamond-miner plans Iris's rounds; flows a hop left unanswered while it
//! answered others are probed again in the next round.

use std::sync::atomic::AtomicBool;

use engine::mda::{stopping_points, Confidence, MAX_FLOWS};
use net::bulk::BulkSender;

use super::send::Sending;
use super::targets::{permutation, Passes};
use super::traces::hops;

/// Rounds at most: each adds the flows the replies so far call for; a lossless lab settles in three or four.
const MAX_ROUNDS: usize = 10;
/// Rounds after those that only probe again the flows left unanswered (the last ones' losses).
const RETRY_ROUNDS: usize = 3;

/// Probes new flows, round after round, until no hop needs more; `flows` (per target and TTL) grows with them.
pub(super) fn rounds(
    passes: &Passes<'_>,
    confidence: Confidence,
    flows: &mut [u16],
    sending: &mut Sending<'_>,
    sender: &mut BulkSender,
    stop: &AtomicBool,
) {
    let max_ttl = usize::from(passes.max_ttl);
    for round in 0..MAX_ROUNDS + RETRY_ROUNDS {
        super::pause(passes.wait, || sending.ended(stop));
        // The probes this round: (target, TTL, flow), planned under the lock, sent after.
        let mut planned = Vec::new();
        {
            let rows = passes.progress.rows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            for target in 0..passes.targets.len() {
                let hops = hops(passes, &rows, flows, target, passes.end(target));
                for (hop, needed) in hops.iter().zip(stopping_points(confidence, &hops)) {
                    let at = target * max_ttl + usize::from(hop.ttl) - 1;
                    let needed = needed.min(MAX_FLOWS) as u16;
                    // MDA counts answered flows: one a hop left unanswered while answering others (a rate limiter's
                    // doing, most likely) is probed again, a round (`--wait`) later.
                    if hop.is_answered() {
                        let lost =
                            hop.probes.iter().filter(|probe| probe.flow < needed && probe.status.answer().is_none());
                        planned.extend(lost.map(|probe| (target, hop.ttl, probe.flow)));
                    }
                    if round < MAX_ROUNDS {
                        planned.extend((flows[at]..needed).map(|flow| (target, hop.ttl, flow)));
                        flows[at] = flows[at].max(needed);
                    }
                }
            }
        }
        if planned.is_empty() || sending.ended(stop) {
            return;
        }
        for k in permutation(planned.len() as u64) {
            let (target, ttl, flow) = planned[k as usize];
            sending.send(&passes.spec(target, ttl, flow), sender);
        }
        sending.finish(sender);
    }
}
