//! Stateless bulk probing: a raw-socket sender of whole IP packets in batches (`sendmmsg`) and a receiver of ICMP
//! messages through a packet ring (`TPACKET_V3`), meant for a thread of its own. Pacing and matching are the
//! caller's (see `engine::bulk`): nothing here keeps state per probe.

mod link;
mod receive;
mod ring;
mod send;

pub use link::interface_name;
pub use receive::{BulkReceiver, Capture};
pub use send::{Batch, BulkSender, SendOutcome};

use core::time::Duration;

/// What this process has cost so far: user CPU, system CPU, and its peak resident memory in bytes.
pub fn process_usage() -> (Duration, Duration, u64) {
    use nix::sys::resource::{getrusage, UsageWho};
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(usage) => {
            let time = |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
            (time(usage.user_time()), time(usage.system_time()), usage.max_rss() as u64 * 1024)
        }
        Err(_) => Default::default(),
    }
}
