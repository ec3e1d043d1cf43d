//! Hostile replies: genuine replies with bytes flipped, cut or added, decoded as a raw socket's reader does and
//! pushed into live traces of every method — nothing panics, and a reply the decoder accepts is either matched to
//! a probe in flight or counted as unmatched, duplicate or late.

mod common;

use std::time::Instant;

use common::*;
use hoptrace_engine::sim::{SimNetwork, Wire};
use hoptrace_engine::{Disposition, Method, Protocol, Trace};
use proptest::prelude::*;

/// The methods, with whether they send through raw sockets (Paris TCP only can).
const CASES: [(Method, bool); 7] = [
    (Method::classic(Protocol::Udp), false),
    (Method::classic(Protocol::Udp), true),
    (Method::paris(Protocol::Udp), true),
    (Method::classic(Protocol::Icmp), false),
    (Method::paris(Protocol::Icmp), true),
    (Method::classic(Protocol::Tcp), false),
    (Method::paris(Protocol::Tcp), true),
];

/// A trace of `case` over a 3-router chain with its first round of probes sent, and the genuine replies to them.
fn live_trace(case: usize, ipv6: bool) -> (Trace, SimNetwork, Vec<Wire>, Instant) {
    let mut network = SimNetwork::chain(ipv6, 3, 10 * MS);
    let (method, raw_send) = CASES[case];
    let mut config = config(&network, method);
    config.raw_send = raw_send;
    config.mda = case == 2 && ipv6; // one MDA trace among them
    let mut trace = Trace::new(config).expect("a valid configuration");
    let start = Instant::now();
    while let Some(probe) = trace.poll_probe(start) {
        network.send(&probe, start);
    }
    let replies = network.deliver(start + 10 * MS * 10).into_iter().map(|(wire, _)| wire).collect();
    (trace, network, replies, start)
}

/// One change to a reply's bytes.
#[derive(Debug, Clone)]
enum Change {
    Flip { at: usize, bits: u8 },
    Cut { len: usize },
    Append { bytes: Vec<u8> },
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0usize..200, 1u8..=255).prop_map(|(at, bits)| Change::Flip { at, bits }),
        (0usize..200).prop_map(|len| Change::Cut { len }),
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(|bytes| Change::Append { bytes }),
    ]
}

fn apply(bytes: &mut Vec<u8>, change: &Change) {
    match change {
        Change::Flip { at, bits } => {
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] ^= bits;
            }
        }
        Change::Cut { len } => bytes.truncate(*len),
        Change::Append { bytes: more } => bytes.extend_from_slice(more),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn altered_replies_never_panic_and_are_always_accounted_for(
        case in 0..CASES.len(),
        ipv6 in any::<bool>(),
        pick in any::<proptest::sample::Index>(),
        changes in proptest::collection::vec(change(), 1..4),
    ) {
        let (mut trace, network, replies, start) = live_trace(case, ipv6);
        prop_assume!(!replies.is_empty());
        let mut wire = replies[pick.index(replies.len())].clone();
        for change in &changes {
            apply(&mut wire.bytes, change);
        }
        let before = trace.stats();
        if let Some(reply) = network.decode(&wire) {
            let disposition = trace.handle_reply(reply, start + 15 * MS);
            let after = trace.stats();
            let counted = match disposition {
                Disposition::Accepted(_) => after.matched == before.matched + 1,
                Disposition::Duplicate(_) => after.duplicates == before.duplicates + 1,
                Disposition::Late(_) => after.late == before.late + 1,
                Disposition::Unmatched => after.unmatched == before.unmatched + 1,
                _ => false, // a disposition this test does not know of yet: not accounted for
            };
            prop_assert!(counted, "{disposition:?}: {before:?} -> {after:?}");
        }
        // The trace goes on: timers, events and results stay usable.
        let _ = trace.poll_timeout();
        trace.handle_timeout(start + 60 * 1000 * MS);
        while trace.poll_event().is_some() {}
        prop_assert!(trace.hops().iter().all(|hop| hop.probes.len() <= 256));
    }
}
