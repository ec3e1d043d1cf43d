//! From settings to a finished trace on stdout: probing on this thread, rendering (and the name lookups it may
//! wait for) on another, so that a slow resolver never delays a probe.

use core::net::IpAddr;
use std::io::Write;
use std::net::ToSocketAddrs;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;

use engine::{Event, Hop, Outcome, Trace};
use net::Privilege;

use crate::error::Error;
use crate::output::{renderer, Directory, Renderer, TraceInfo};
use crate::settings::Settings;

/// What the probing side tells the rendering side.
enum Update {
    Hop(Hop),
    Done(Option<Outcome>),
}

/// Runs the trace `settings` describe, writing it to stdout as it goes.
pub fn run(settings: &Settings, directory: Box<dyn Directory + Send>) -> Result<(), Error> {
    let target = resolve_host(&settings.host, settings.ipv6)?;
    let privilege = if settings.unprivileged { Privilege::Unprivileged } else { Privilege::detect() };
    let mut config = settings.trace_config(target, privilege == Privilege::Raw);
    let mut prober = net::open(&mut config, privilege, &settings.sockets).map_err(Error::Net)?;
    let mut trace = Trace::new(config.clone()).map_err(Error::Config)?;

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration only fails for forbidden signals; these two are not.
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }

    let info =
        TraceInfo { host: settings.host.clone(), target, max_ttl: config.max_ttl, packet_len: config.packet_len };
    let renderer = renderer(settings);
    let (updates, received) = mpsc::channel();
    let printer = thread::spawn(move || render(renderer, &info, directory.as_ref(), received));

    let mut hops_rendered = 0;
    let result = net::run(&mut trace, prober.as_mut(), &stop, |trace, event| {
        if let Event::HopComplete { ttl } = event {
            if let Some(hop) = trace.hops().iter().find(|hop| hop.ttl == ttl) {
                let _ = updates.send(Update::Hop(hop.clone()));
                hops_rendered += 1;
            }
        }
    });
    // Interrupted: show what is known of the hops not yet complete.
    for hop in trace.hops().iter().skip(hops_rendered) {
        let _ = updates.send(Update::Hop(hop.clone()));
    }
    let _ = updates.send(Update::Done(trace.outcome()));
    drop(updates);
    let _ = printer.join();
    result.map_err(Error::Net)
}

/// The rendering thread: prints each hop as it arrives, looking its names up first.
fn render(
    mut renderer: Box<dyn Renderer>,
    info: &TraceInfo,
    directory: &dyn Directory,
    updates: mpsc::Receiver<Update>,
) {
    let mut out = std::io::stdout().lock();
    let _ = renderer.header(&mut out, info);
    for update in updates {
        match update {
            Update::Hop(hop) => {
                for answer in hop.answers() {
                    directory.prefetch(answer.from());
                }
                let _ = renderer.hop(&mut out, &hop, directory);
            }
            Update::Done(outcome) => {
                let _ = renderer.finish(&mut out, outcome);
            }
        }
    }
    let _ = out.flush();
}

/// The target address: a literal, or the first address of the name in the requested family.
pub fn resolve_host(host: &str, ipv6: Option<bool>) -> Result<IpAddr, Error> {
    let wanted = |addr: &IpAddr| ipv6.is_none_or(|ipv6| addr.is_ipv6() == ipv6);
    let unknown = || Error::UnknownHost(host.to_owned());
    if let Ok(addr) = host.parse::<IpAddr>() {
        return if wanted(&addr) { Ok(addr) } else { Err(unknown()) };
    }
    let addrs = (host, 0).to_socket_addrs().map_err(|_| unknown())?;
    addrs.map(|addr| addr.ip()).find(wanted).ok_or_else(unknown)
}
