//! The loop that drives a trace: send what the engine schedules, sleep in `poll(2)` until a reply or the next
//! deadline, push replies and timeouts in, report events.

use core::time::Duration;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use engine::{Event, Probe, Reply, Trace};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::{Departure, Descriptor, NetError, Prober, Route};

/// The longest single sleep, so that a stop request is noticed even if no signal interrupts the wait.
pub(crate) const MAX_SLEEP: Duration = Duration::from_millis(250);

/// Replies are read after this many probes sent in a row, so that a long burst does not fill the receive buffer
/// with replies to its first probes while the last ones are sent.
pub(crate) const SENDS_BETWEEN_READS: usize = 64;

/// The MTU of the route out, after a send was refused as too big.
fn local_mtu(trace: &Trace) -> Option<u32> {
    let config = trace.config();
    crate::sockopt::path_mtu(config.source?, config.target).ok()
}

/// Runs `trace` over `prober` until it finishes or `stop` is set, calling `on_event` for every event.
pub fn run(
    trace: &mut Trace,
    prober: &mut dyn Prober,
    stop: &AtomicBool,
    on_event: impl FnMut(&Trace, Event),
) -> Result<(), NetError> {
    run_telling_failures(trace, prober, stop, on_event, |_| {})
}

/// [`run`], calling `on_send_failure` with the error of every probe the system refused to send (the trace
/// records it as [`engine::ProbeStatus::SendFailed`]).
pub fn run_telling_failures(
    trace: &mut Trace,
    prober: &mut dyn Prober,
    stop: &AtomicBool,
    mut on_event: impl FnMut(&Trace, Event),
    mut on_send_failure: impl FnMut(&std::io::Error),
) -> Result<(), NetError> {
    let mut buffers = ReadBuffers::default();
    let route = Route::of(trace.config());
    loop {
        let mut sent = 0;
        while let Some(probe) = trace.poll_probe(Instant::now()) {
            sent += 1;
            if sent % SENDS_BETWEEN_READS == 0 {
                read(trace, prober, &mut buffers)?;
            }
            let result = send(trace, prober, &probe, route);
            settle_send(trace, &probe, result, &mut on_send_failure);
        }
        while let Some(event) = trace.poll_event() {
            on_event(trace, event);
        }
        if trace.is_finished() || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let sleep = trace.poll_timeout().map_or(MAX_SLEEP, |at| at.saturating_duration_since(Instant::now()));
        wait(prober, sleep)?;
        read(trace, prober, &mut buffers)?;
        trace.handle_timeout(Instant::now());
    }
}

/// Sends `probe` over `prober`, unless it stands for a packet larger than any probe ([`Trace::oversized`]) and
/// than the local link's MTU: the kernel would refuse that packet as too big, and so does this.
pub(crate) fn send(trace: &Trace, prober: &mut dyn Prober, probe: &Probe, route: Route) -> std::io::Result<Instant> {
    match trace.oversized() {
        Some(asked) if local_mtu(trace).is_some_and(|mtu| mtu < asked) => {
            Err(std::io::Error::from_raw_os_error(libc::EMSGSIZE))
        }
        _ => prober.send(probe, route),
    }
}

/// Tells `trace` how sending `probe` went: when it left, or that it was too big for the local link, or that it
/// failed (then `on_send_failure` hears why).
pub(crate) fn settle_send(
    trace: &mut Trace,
    probe: &Probe,
    result: std::io::Result<Instant>,
    on_send_failure: &mut impl FnMut(&std::io::Error),
) {
    match result {
        Ok(sent_at) => trace.on_sent(probe.id, sent_at),
        Err(error) if error.raw_os_error() == Some(libc::EMSGSIZE) => match local_mtu(trace) {
            Some(mtu) => trace.send_too_big(probe.id, mtu),
            None => {
                on_send_failure(&error);
                trace.send_failed(probe.id);
            }
        },
        Err(error) => {
            on_send_failure(&error);
            trace.send_failed(probe.id);
        }
    }
}

/// Sleeps until a reply may be there or `sleep` (at most [`MAX_SLEEP`]) has passed.
fn wait(prober: &dyn Prober, sleep: Duration) -> Result<(), NetError> {
    wait_on(prober.descriptors(), sleep)
}

/// Sleeps until one of `descriptors` is ready or `sleep` (at most [`MAX_SLEEP`]) has passed.
pub(crate) fn wait_on(descriptors: Vec<Descriptor<'_>>, sleep: Duration) -> Result<(), NetError> {
    // poll(2) counts whole milliseconds: round up so a deadline is never missed by waking early.
    let millis = sleep.min(MAX_SLEEP).as_micros().div_ceil(1000) as u16;
    let mut descriptors: Vec<PollFd<'_>> = descriptors
        .into_iter()
        .map(|wait| PollFd::new(wait.fd, if wait.writable { PollFlags::POLLOUT } else { PollFlags::POLLIN }))
        .collect();
    match poll(&mut descriptors, PollTimeout::from(millis)) {
        Ok(_) | Err(Errno::EINTR) => Ok(()),
        Err(errno) => Err(NetError::io("waiting for replies")(errno.into())),
    }
}

/// Buffers for what a read brings.
#[derive(Default)]
pub(crate) struct ReadBuffers {
    pub(crate) replies: Vec<(Reply, Instant)>,
    pub(crate) departures: Vec<Departure>,
}

/// Reads what replies are waiting into `trace`, after the kernel's word on when probes left.
pub(crate) fn read(trace: &mut Trace, prober: &mut dyn Prober, buffers: &mut ReadBuffers) -> Result<(), NetError> {
    prober.receive(&mut buffers.replies).map_err(NetError::io("receiving replies"))?;
    prober.departures(&mut buffers.departures);
    for departure in buffers.departures.drain(..) {
        trace.on_sent(departure.probe, departure.at);
    }
    for (reply, at) in buffers.replies.drain(..) {
        trace.handle_reply(reply, at);
    }
    Ok(())
}

/// Waits `interval` (or until `stop` is set) between traces over `prober`, reading and dropping what arrives
/// meanwhile (late replies, strays) so that it does not fill the receive buffers before the next trace. Returns
/// whether to go on.
pub fn idle(prober: &mut dyn Prober, interval: Duration, stop: &AtomicBool) -> Result<bool, NetError> {
    let until = Instant::now() + interval;
    let mut replies = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(true);
        }
        wait(prober, left)?;
        prober.receive(&mut replies).map_err(NetError::io("receiving replies"))?;
        replies.clear();
    }
    Ok(false)
}
