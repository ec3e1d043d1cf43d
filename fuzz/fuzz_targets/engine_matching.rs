//! Engine matching: a live trace of every method (raw and not, IPv4 and IPv6) over a simulated chain gets its
//! genuine replies with bytes changed by the fuzzer, in any order and at any time: nothing panics and every reply
//! the decoder accepts is accounted for (matched, duplicate, late or unmatched).
#![no_main]

use core::time::Duration;
use std::time::Instant;

use engine::sim::SimNetwork;
use engine::{Disposition, Method, Protocol, Trace, TraceConfig};
use libfuzzer_sys::fuzz_target;

const METHODS: [(Method, bool); 7] = [
    (Method::classic(Protocol::Udp), false),
    (Method::classic(Protocol::Udp), true),
    (Method::paris(Protocol::Udp), true),
    (Method::classic(Protocol::Icmp), false),
    (Method::paris(Protocol::Icmp), true),
    (Method::classic(Protocol::Tcp), true),
    (Method::paris(Protocol::Tcp), true),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, changes)) = data.split_first() else { return };
    let ipv6 = selector & 0x80 != 0;
    let (method, raw_send) = METHODS[usize::from(selector & 0x7f) % METHODS.len()];
    let mut network = SimNetwork::chain(ipv6, 3, Duration::from_millis(10));
    let mut config = TraceConfig::new(network.destination.addr, method);
    config.source = Some(network.source);
    config.raw_send = raw_send;
    config.secret = [selector; 16];
    let Ok(mut trace) = Trace::new(config) else { return };
    let start = Instant::now();
    while let Some(probe) = trace.poll_probe(start) {
        network.send(&probe, start);
    }
    let replies: Vec<_> = network.deliver(start + Duration::from_secs(1)).into_iter().map(|(wire, _)| wire).collect();
    if replies.is_empty() {
        return;
    }
    // Each 4 bytes: which reply, where to change it, how, and when it arrives.
    for change in changes.chunks_exact(4) {
        let mut wire = replies[usize::from(change[0]) % replies.len()].clone();
        if !wire.bytes.is_empty() {
            let at = usize::from(change[1]) % wire.bytes.len();
            wire.bytes[at] ^= change[2];
        }
        let Some(reply) = network.decode(&wire) else { continue };
        let before = trace.stats();
        let disposition = trace.handle_reply(reply, start + Duration::from_millis(u64::from(change[3])));
        let after = trace.stats();
        let counted = match disposition {
            Disposition::Accepted(_) => after.matched == before.matched + 1,
            Disposition::Duplicate(_) => after.duplicates == before.duplicates + 1,
            Disposition::Late(_) => after.late == before.late + 1,
            Disposition::Unmatched => after.unmatched == before.unmatched + 1,
            // A disposition this target does not know yet: a new rule to account for here.
            _ => false,
        };
        assert!(counted, "{disposition:?}: {before:?} -> {after:?}");
    }
    trace.handle_timeout(start + Duration::from_secs(60));
    while trace.poll_event().is_some() {}
    let _ = (trace.poll_timeout(), trace.outcome(), trace.hops().len());
});
