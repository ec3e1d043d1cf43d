//! A simulated network for deterministic tests: a path of routers with per-hop RTT, silence, loss, ICMP rate
//! limits, rejection, MTU, ECMP branches, duplicated, late and forged replies — and a driver that runs a
//! [`Trace`](crate::Trace) over it on a virtual clock.
//!
//! Probes are turned into real packet bytes and replies are real ICMP/TCP bytes, decoded by
//! [`crate::decode`] exactly as replies from a raw socket would be.

mod driver;
mod network;
mod rng;
mod topology;
mod wire;

pub use driver::{run, Run};
pub use network::SimNetwork;
pub use topology::{Destination, Forgery, RateLimit, Router, Wire};
