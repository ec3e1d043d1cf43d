//! Delayed links (and MPLS tunnels): two TUN devices, one in each namespace, joined by forwarder threads.
//!
//! The kernel here has no netem, so delay comes from userspace. Each end of the link is a layer-3
//! TUN device (`IFF_TUN | IFF_NO_PI`) created inside its namespace; whatever the kernel routes
//! out of one end is read by this process and written into the other end, where the kernel
//! receives it as if it had come over a wire.
//!
//! Each direction has a reader thread, which blocks on the device and stamps every packet with
//! its due time (arrival + delay), and a writer thread, which sleeps until a packet is due and
//! writes it. The delay is the same for every packet, so packets leave in the order they came,
//! and every due time is computed from the packet's own arrival, so errors do not accumulate.

use std::fs::File;
use std::io::ErrorKind;
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};
use tun_rs::{DeviceBuilder, InterruptEvent, SyncDevice};

use crate::error::{Error, Result};
use crate::mpls::{Crossing, Tunnel};

/// The largest packet a TUN device can hand over.
const MAX_PACKET: usize = 65535;

/// A running delayed link; dropping it stops the forwarders and removes both TUN devices.
pub(crate) struct DelayLink {
    stop: Arc<InterruptEvent>,
    threads: Vec<JoinHandle<()>>,
}

impl DelayLink {
    /// Creates TUN device `names[i]` in namespace `namespaces[i]` for both ends and starts
    /// forwarding between them with `delay` each way. The devices still need addresses.
    /// With a `tunnel`, packets cross its label-switching routers too (see [`crate::mpls`]); the routers'
    /// answers go back at once, ahead of the delay. With `short_quotes`, ICMPv4 errors crossing quote 8 bytes.
    pub(crate) fn start(
        namespaces: [&str; 2],
        names: [&str; 2],
        delay: Duration,
        tunnel: Option<Tunnel>,
        short_quotes: bool,
    ) -> Result<Self> {
        let a = Arc::new(open_tun_in(namespaces[0], names[0])?);
        let b = Arc::new(open_tun_in(namespaces[1], names[1])?);
        let stop = Arc::new(InterruptEvent::new().map_err(|e| Error::io("creating an interrupt event", e))?);
        let mut link = Self { stop, threads: Vec::new() };
        link.forward(a.clone(), b.clone(), delay, tunnel.clone().map(|tunnel| (tunnel, false)), short_quotes)?;
        link.forward(b, a, delay, tunnel.map(|tunnel| (tunnel, true)), short_quotes)?;
        Ok(link)
    }

    /// Starts the reader and writer threads of one direction (through `tunnel` the other way when its flag is
    /// set).
    fn forward(
        &mut self,
        from: Arc<SyncDevice>,
        to: Arc<SyncDevice>,
        delay: Duration,
        tunnel: Option<(Tunnel, bool)>,
        short_quotes: bool,
    ) -> Result<()> {
        let (queue, due_packets) = mpsc::channel::<(Instant, Vec<u8>)>();
        let stop = self.stop.clone();
        let reader = move || {
            let mut buffer = vec![0; MAX_PACKET];
            loop {
                match from.recv_intr(&mut buffer, &stop) {
                    Ok(len) => {
                        let due = Instant::now() + delay;
                        let mut packet = match &tunnel {
                            None => buffer[..len].to_vec(),
                            Some((tunnel, reverse)) => match tunnel.cross(buffer[..len].to_vec(), *reverse) {
                                Crossing::Forward(packet) => packet,
                                Crossing::Expired(answer) => {
                                    let _ = from.send(&answer); // lost like any packet if the end is gone
                                    continue;
                                }
                                Crossing::Drop => continue,
                            },
                        };
                        if short_quotes {
                            crate::short_quote::shorten(&mut packet);
                        }
                        if queue.send((due, packet)).is_err() {
                            return;
                        }
                    }
                    Err(error) if error.kind() == ErrorKind::Interrupted && !stop.is_trigger() => {}
                    Err(_) => return,
                }
            }
        };
        let writer = move || {
            // Wake at the due time, not up to the default timer slack of 50 µs after it.
            let _ = nix::sys::prctl::set_timerslack(1);
            for (due, packet) in due_packets {
                thread::sleep(due.saturating_duration_since(Instant::now()));
                // A write fails only if the receiving end is gone or overloaded: the packet is lost.
                let _ = to.send(&packet);
            }
        };
        self.threads.push(spawn("netlab-delay-rx", reader)?);
        self.threads.push(spawn("netlab-delay-tx", writer)?);
        Ok(())
    }
}

impl Drop for DelayLink {
    fn drop(&mut self) {
        if let Err(error) = self.stop.trigger() {
            eprintln!("netlab: stopping a delayed link: {error}");
            return; // The readers would never return; leak them rather than hang.
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Creates TUN device `name` inside namespace `ns`, from a short-lived thread that enters it.
fn open_tun_in(ns: &str, name: &str) -> Result<SyncDevice> {
    let context = || format!("creating TUN device {name} in namespace {ns}");
    let namespace = File::open(format!("/run/netns/{ns}")).map_err(|e| Error::io(context(), e))?;
    let name = name.to_string();
    let device = thread::scope(|scope| {
        scope
            .spawn(|| {
                setns(&namespace, CloneFlags::CLONE_NEWNET)?;
                let device = DeviceBuilder::new().name(&name).build_sync()?;
                device.set_nonblocking(true)?;
                Ok(device)
            })
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the thread panicked")))
    });
    device.map_err(|e| Error::io(context(), e))
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(name.to_string())
        .spawn(body)
        .map_err(|e| Error::io("starting a delay forwarder thread", e))
}
