//! Many traces at once over shared sockets, the way quinn's `Endpoint` drives many connections: one socket set per
//! address family, opened once (before privileges are dropped), carries the probes of every trace, each sent to
//! its own target and from its own source; each reply read from it goes to the trace whose probe it answers (see
//! [`deliver`]). One `poll(2)` waits on all of them, until the earliest deadline of any trace.
//!
//! Unprivileged UDP (the error queue) and ICMP (a ping socket: the kernel hands it every reply carrying its
//! identifier) share, and so do raw sockets. Unprivileged TCP cannot — it takes a socket per probe — so each of
//! its traces gets sockets of its own, waited on in the same loop.

use std::time::Instant;

use engine::{Protocol, Reply, Trace, TraceConfig};

use crate::event_loop::{self, settle_send, wait_on, ReadBuffers, MAX_SLEEP, SENDS_BETWEEN_READS};
use crate::{
    icmp, random, raw, sockopt, source_for, udp, Departure, Endpoint, NetError, Privilege, Prober, Route, SocketOptions,
};

/// Replies in flight the shared sockets' receive buffers are sized for: many traces' worth.
const SHARED_IN_FLIGHT: usize = 4096;

/// Sockets that traces to any number of targets of one address family share.
pub struct SharedSockets {
    prober: Box<dyn Prober>,
    ipv6: bool,
    /// The UDP source port or ICMP identifier of every probe through them.
    identifier: u16,
    raw: bool,
    options: SocketOptions,
}

impl SharedSockets {
    /// Opens the sockets for traces like `config` (its method, port and address family; not its target) — or
    /// `None` for unprivileged TCP, which cannot share.
    pub fn open(
        config: &TraceConfig,
        privilege: Privilege,
        options: &SocketOptions,
    ) -> Result<Option<SharedSockets>, NetError> {
        let ipv6 = config.target.is_ipv6();
        let mut any = config.clone();
        // The unspecified target: the sockets serve any (bound to no address unless `-s` names one).
        any.target = sockopt::unspecified(ipv6);
        any.max_in_flight = SHARED_IN_FLIGHT;
        let source = options.source.unwrap_or(any.target);
        fn boxed<P: Prober + 'static>((prober, identifier): (P, u16)) -> (Box<dyn Prober>, u16) {
            (Box::new(prober), identifier)
        }
        let (prober, identifier) = match (privilege, config.method.protocol) {
            (Privilege::Raw, _) => boxed(raw::RawProber::open(&any, source, options)?),
            (Privilege::Unprivileged, Protocol::Udp) => boxed(udp::UdpProber::open(&any, source, options)?),
            (Privilege::Unprivileged, Protocol::Icmp) => boxed(icmp::IcmpProber::open(&any, source, options)?),
            (Privilege::Unprivileged, Protocol::Tcp) => return Ok(None),
        };
        let raw = privilege == Privilege::Raw;
        Ok(Some(SharedSockets { prober, ipv6, identifier, raw, options: options.clone() }))
    }

    /// What a trace to `target` through these sockets carries: the source the kernel would send from, the shared
    /// port or identifier, and a secret of its own (which tells apart traces to one target).
    fn endpoint(&self, target: core::net::IpAddr) -> Result<Endpoint, NetError> {
        let source = source_for(target, &self.options)?;
        Ok(Endpoint { source, identifier: self.identifier, raw: self.raw, secret: random::bytes()? })
    }
}

/// What a trace's probes go through.
enum Sockets {
    /// The shared sockets at this index.
    Shared(usize),
    /// Its own (unprivileged TCP).
    Own(Box<dyn Prober>),
}

/// One trace under way, known to its owner as `key`.
struct Member<K> {
    key: K,
    trace: Trace,
    route: Route,
    sockets: Sockets,
}

/// Traces driven together over shared sockets.
pub struct Fleet<K> {
    shared: Vec<SharedSockets>,
    members: Vec<Member<K>>,
    /// For the traces that need sockets of their own.
    privilege: Privilege,
    options: SocketOptions,
    buffers: ReadBuffers,
}

impl<K> Fleet<K> {
    /// A fleet over `shared` (a set per address family at most); traces of a family without one get sockets of
    /// their own, opened with `privilege` and `options`.
    pub fn new(shared: Vec<SharedSockets>, privilege: Privilege, options: &SocketOptions) -> Self {
        Fleet { shared, members: Vec::new(), privilege, options: options.clone(), buffers: ReadBuffers::default() }
    }

    /// Whether traces to addresses of this family (`ipv6`) go out through raw sockets.
    pub fn is_raw(&self, ipv6: bool) -> bool {
        match self.shared.iter().find(|shared| shared.ipv6 == ipv6) {
            Some(shared) => shared.raw,
            None => self.privilege == Privilege::Raw,
        }
    }

    /// Starts a trace of `config`, its source, identifiers and secret filled in for the sockets it goes through;
    /// it is `key`'s until [`Fleet::take_finished`] hands it back.
    pub fn start(&mut self, key: K, config: &TraceConfig) -> Result<(), NetError> {
        let ipv6 = config.target.is_ipv6();
        let (endpoint, sockets) = match self.shared.iter().position(|shared| shared.ipv6 == ipv6) {
            Some(index) => (self.shared[index].endpoint(config.target)?, Sockets::Shared(index)),
            None => {
                let (prober, endpoint) = crate::open(config, self.privilege, &self.options)?;
                (endpoint, Sockets::Own(prober))
            }
        };
        let trace = Trace::new(endpoint.configure(config)).map_err(NetError::Config)?;
        let route = Route::of(trace.config());
        self.members.push(Member { key, trace, route, sockets });
        Ok(())
    }

    /// Drops the traces whose key `gone` says, unfinished.
    pub fn cancel(&mut self, mut gone: impl FnMut(&K) -> bool) {
        self.members.retain(|member| !gone(&member.key));
    }

    /// One turn of the loop: sends what every trace has due, sleeps until a reply, the earliest deadline of any
    /// trace, or `until` (at most a quarter second), then hands the replies read to their traces and the time to
    /// all. A probe the system refused to send is recorded as such in its trace.
    pub fn turn(&mut self, until: Option<Instant>) -> Result<(), NetError> {
        self.send_due()?;
        let now = Instant::now();
        let deadline = self.members.iter().filter_map(|member| member.trace.poll_timeout()).chain(until).min();
        let sleep = deadline.map_or(MAX_SLEEP, |at| at.saturating_duration_since(now));
        if !sleep.is_zero() {
            let shared = self.shared.iter().flat_map(|shared| shared.prober.descriptors());
            let own = self.members.iter().flat_map(|member| match &member.sockets {
                Sockets::Own(prober) => prober.descriptors(),
                Sockets::Shared(_) => Vec::new(),
            });
            wait_on(shared.chain(own).collect(), sleep)?;
        }
        self.read()?;
        let now = Instant::now();
        for member in &mut self.members {
            member.trace.handle_timeout(now);
        }
        Ok(())
    }

    /// Hands back the traces that finished, with their keys.
    pub fn take_finished(&mut self) -> Vec<(K, Trace)> {
        let (done, going): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.members).into_iter().partition(|member| member.trace.is_finished());
        self.members = going;
        done.into_iter().map(|member| (member.key, member.trace)).collect()
    }

    /// Sends every probe due now, reading replies every so often in between.
    fn send_due(&mut self) -> Result<(), NetError> {
        let mut sent = 0;
        for index in 0..self.members.len() {
            loop {
                let member = &mut self.members[index];
                let Some(probe) = member.trace.poll_probe(Instant::now()) else { break };
                let prober = match &mut member.sockets {
                    Sockets::Shared(shared) => self.shared[*shared].prober.as_mut(),
                    Sockets::Own(prober) => prober.as_mut(),
                };
                let result = event_loop::send(&member.trace, prober, &probe, member.route);
                settle_send(&mut member.trace, &probe, result, &mut |_| {});
                sent += 1;
                if sent % SENDS_BETWEEN_READS == 0 {
                    self.read()?;
                }
            }
            // Events are not reported here: the owner looks at the finished trace.
            while self.members[index].trace.poll_event().is_some() {}
        }
        Ok(())
    }

    /// Reads every socket's waiting replies into the traces they answer, after the kernel's word on when probes
    /// left.
    fn read(&mut self) -> Result<(), NetError> {
        for (index, shared) in self.shared.iter_mut().enumerate() {
            let buffers = &mut self.buffers;
            shared.prober.receive(&mut buffers.replies).map_err(NetError::io("receiving replies"))?;
            shared.prober.departures(&mut buffers.departures);
            for departure in buffers.departures.drain(..) {
                departed(&mut self.members, index, departure);
            }
            for (reply, at) in buffers.replies.drain(..) {
                deliver(&mut self.members, |member| &mut member.trace, reply, at);
            }
        }
        for member in &mut self.members {
            if let Sockets::Own(prober) = &mut member.sockets {
                event_loop::read(&mut member.trace, prober.as_mut(), &mut self.buffers)?;
            }
        }
        Ok(())
    }
}

/// Gives `departure`, read from the shared sockets at `shared`, to the trace whose probe it is: the one through
/// them to its target with that probe in flight since before it left. Two such traces (to one target, both at
/// that probe number) leave it unclaimed, and their probes keep the time taken just before the send call.
fn departed<K>(members: &mut [Member<K>], shared: usize, departure: Departure) {
    let mut candidates = members.iter_mut().filter(|member| {
        matches!(member.sockets, Sockets::Shared(index) if index == shared)
            && member.route.target == departure.target
            && member
                .trace
                .probe(departure.probe)
                .is_some_and(|record| record.status == engine::ProbeStatus::InFlight && record.sent_at <= departure.at)
    });
    if let (Some(member), None) = (candidates.next(), candidates.next()) {
        member.trace.on_sent(departure.probe, departure.at);
    }
}

/// Gives a reply read from shared sockets at `at` to the first trace of `members` (`trace` of each) to the target
/// of the probe it answers whose own matching claims it (two traces to one target tell their probes apart by their
/// secrets), and returns that member's position. `None`: a stray, a late reply to a trace already over, or a quote
/// a middlebox rewrote past matching — which each trace to that target learns from as from a reply it could not
/// match.
pub(crate) fn deliver<M>(
    members: &mut [M],
    trace: impl Fn(&mut M) -> &mut Trace,
    reply: Reply,
    at: Instant,
) -> Option<usize> {
    let target = reply.probe_target();
    for (index, member) in members.iter_mut().enumerate() {
        let trace = trace(member);
        if trace.config().target == target {
            if let Some(claim) = trace.claim(&reply) {
                trace.handle_claimed(claim, reply, at);
                return Some(index);
            }
        }
    }
    for member in members {
        let trace = trace(member);
        if trace.config().target == target {
            trace.handle_unclaimed(&reply);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use core::time::Duration;
    use std::time::Instant;

    use engine::sim::SimNetwork;
    use engine::{Method, Protocol, Trace, TraceConfig};

    use super::deliver;

    /// A trace to `target` from the simulated network's source, with `secret`.
    fn trace(network: &SimNetwork, target: core::net::IpAddr, secret: u8, method: Method) -> Trace {
        let mut config = TraceConfig::new(target, method);
        config.source = Some(network.source);
        config.secret = [secret; 16];
        Trace::new(config).unwrap()
    }

    /// The reply the simulated network sends to `trace`'s next probe.
    fn reply_to_next(network: &mut SimNetwork, trace: &mut Trace, now: Instant) -> engine::Reply {
        let probe = trace.poll_probe(now).expect("a probe to send");
        network.send(&probe, now);
        let (wire, _) = network.deliver(now + Duration::from_secs(1)).pop().expect("an answer");
        network.decode(&wire).expect("a reply")
    }

    #[test]
    fn a_reply_goes_to_the_trace_that_sent_its_probe_even_beside_another_to_the_same_target() {
        for method in [Method::paris(Protocol::Icmp), Method::paris(Protocol::Udp), Method::classic(Protocol::Udp)] {
            let mut network = SimNetwork::chain(false, 2, Duration::from_millis(1));
            let (destination, elsewhere) = (network.destination.addr, network.router_addr(1));
            let now = Instant::now();
            // Two traces to one target, told apart only by their secrets (and one to another target, first).
            let mut traces = [
                trace(&network, elsewhere, 1, method),
                trace(&network, destination, 2, method),
                trace(&network, destination, 3, method),
            ];
            let (_, [first, second]) = traces.split_at_mut(1) else { unreachable!() };
            let to_first = reply_to_next(&mut network, first, now);
            let to_second = reply_to_next(&mut network, second, now);
            assert_eq!(to_first.probe_target(), destination, "{method:?}");
            let at = now + Duration::from_secs(1);
            let recipient = |traces: &mut [Trace], reply: &engine::Reply| deliver(traces, |t| t, reply.clone(), at);
            assert_eq!(recipient(&mut traces, &to_first), Some(1), "{method:?}");
            assert_eq!(recipient(&mut traces, &to_second), Some(2), "{method:?}");
            // A reply to a trace that is over (no longer among them) goes nowhere.
            assert_eq!(recipient(&mut traces[..2], &to_second), None, "{method:?}");
            // An answer concerns its sender: not the trace to another target, which has sent nothing anyway.
            let mut other = trace(&network, destination, 4, method);
            let to_other = reply_to_next(&mut network, &mut other, now);
            assert_eq!(recipient(&mut traces, &to_other), None, "{method:?}");
            // Each claimed reply was matched once, by its own trace; the strays count as unmatched at the target.
            let stats: Vec<_> = traces.iter().map(|trace| (trace.stats().matched, trace.stats().unmatched)).collect();
            assert_eq!(stats, [(0, 0), (1, 2), (1, 1)], "{method:?}");
        }
    }

    #[test]
    fn a_quote_with_the_address_restored_but_not_the_checksum_is_matched_through_shared_sockets() {
        // As in the engine's test of the name: router 2's quotes carry the checksum shifted by a NAT's address.
        // Through shared sockets the first such quote is claimed by no trace, yet teaches its own trace the shift,
        // so that the second is matched by IP ID.
        use engine::sim::Forgery;
        let mut network = SimNetwork::chain(false, 3, Duration::from_millis(10));
        let destination = network.destination.addr;
        let router = network.routers[1].addrs[0];
        network.routers[1].silent = true;
        let nat_shift = |q: &mut Vec<u8>| {
            let sum = u32::from(u16::from_be_bytes([q[26], q[27]])) + 0x1234;
            let sum = ((sum & 0xffff) + (sum >> 16)) as u16;
            q[26..28].copy_from_slice(&sum.to_be_bytes());
        };
        network.forgeries = vec![Forgery { from: router, ttl: 2, mutate: nat_shift }];
        let method = Method::paris(Protocol::Udp);
        let raw = |secret| {
            let mut config = trace(&network, destination, secret, method).config().clone();
            config.raw_send = true;
            config.first_ttl = 2;
            config.max_ttl = 2;
            Trace::new(config).unwrap()
        };
        // Two traces to the destination: the replies to the second's probes are offered to the first before it.
        let mut traces = [raw(1), raw(2)];
        let now = Instant::now();
        let mut claimed = Vec::new();
        while let Some(probe) = traces[1].poll_probe(now) {
            network.send(&probe, now);
        }
        for (wire, at) in network.deliver(now + Duration::from_secs(1)) {
            let reply = network.decode(&wire).expect("a reply");
            claimed.push(deliver(&mut traces, |t| t, reply, at));
        }
        assert_eq!(claimed, [None, Some(1), Some(1)]);
        let answers: Vec<_> =
            traces[1].hops()[0].answers().map(|answer| (answer.from(), answer.quote_rewritten)).collect();
        assert_eq!(answers, [(router, true); 2]);
        assert_eq!(traces.each_ref().map(|trace| trace.stats().unmatched), [1, 1]);
    }

    #[test]
    fn a_departure_goes_to_the_one_trace_through_those_sockets_that_has_that_probe_in_flight() {
        use super::{departed, Member, Sockets};
        use crate::{Departure, Route};
        let network = SimNetwork::chain(false, 2, Duration::from_millis(1));
        let (destination, elsewhere) = (network.destination.addr, network.router_addr(1));
        let now = Instant::now();
        let method = Method::paris(Protocol::Udp);
        let member = |target, secret| {
            let mut trace = trace(&network, target, secret, method);
            trace.poll_probe(now).expect("a probe to send");
            Member { key: secret, route: Route::of(trace.config()), trace, sockets: Sockets::Shared(0) }
        };
        // Two traces to the destination and one elsewhere, each with probe 0 in flight since `now`.
        let mut members = [member(destination, 1), member(destination, 2), member(elsewhere, 3)];
        let probe = engine::ProbeId(0);
        let later = now + Duration::from_micros(5);
        let sent_at = |members: &[Member<u8>], n: usize| members[n].trace.probe(probe).unwrap().sent_at;
        departed(&mut members, 0, Departure { target: elsewhere, probe, at: later });
        assert_eq!(sent_at(&members, 2), later);
        // Through other sockets, or before the probe was sent: not these traces' probe.
        departed(&mut members, 1, Departure { target: elsewhere, probe, at: later + later.duration_since(now) });
        departed(&mut members, 0, Departure { target: elsewhere, probe, at: now - Duration::from_micros(1) });
        assert_eq!(sent_at(&members, 2), later);
        // Two traces to one target at the same probe number: which one's is unknown, so neither's changes.
        departed(&mut members, 0, Departure { target: destination, probe, at: later });
        assert_eq!((sent_at(&members, 0), sent_at(&members, 1)), (now, now));
    }
}
