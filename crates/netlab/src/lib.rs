//! Lab networks for end-to-end tests of hoptrace: every node a Linux network namespace, every
//! router a real kernel router.
//!
//! Describe the network with a [`LabSpec`], build it with [`Lab::build`] (as root), run programs
//! in its nodes with [`Lab::command`], and drop the [`Lab`] to remove it:
//!
//! ```no_run
//! use std::time::Duration;
//! use hoptrace_netlab::{Family, Lab, LabSpec, Link, RouterOpts};
//!
//! let mut spec = LabSpec::new();
//! let client = spec.node("client");
//! let r1 = spec.router("r1");
//! let r2 = spec.router("r2");
//! let dst = spec.node("dst");
//! spec.link(client, r1);
//! spec.link_with(r1, r2, Link { delay: Some(Duration::from_millis(20)), ..Link::default() });
//! spec.link(r2, dst);
//! spec.router_opts(r2, RouterOpts { silent: true, ..RouterOpts::default() });
//! spec.firewall(dst, &["-A INPUT -p udp --dport 9 -j DROP"]);
//!
//! let lab = Lab::build(&spec)?;
//! let target = lab.addr(dst, Family::V4).to_string();
//! let status = lab.command(client, "ping").args(["-c1", &target]).status()?;
//! assert!(status.success());
//! assert_eq!(lab.hop_addr(r1, client, Family::V4), lab.iface_addr(r1, client, Family::V4));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What a built lab looks like:
//! - Link `i` is the subnet 198.18.`i`.0/24 (198.19.x.0/24 from link 256 on) and
//!   2001:db8:0:`i`::/64; the first node given to [`LabSpec::link`] is `.1`/`::1`, the second
//!   `.2`/`::2`. No other addresses are used, and nothing connects to the host's namespace.
//! - Every node routes to every subnet over shortest paths (in hops, only through routers);
//!   equal-cost next hops become one multipath route, hashed on ports.
//! - Routers forward, answer from the interface a probe came in on (unless
//!   [`RouterOpts::errors_from_route_back`]), and have `rp_filter` off.
//!   Every node sends ICMP errors without rate limit unless [`RouterOpts::icmp_ratelimit_ms`]
//!   says otherwise, accepts unprivileged ICMP sockets (`ping_group_range`), and has IPv6
//!   duplicate address detection off and permanent neighbour entries, so the first probe is as
//!   fast as the next.
//! - A delayed link is two TUN devices joined by threads of this process (see [`Link::delay`]);
//!   so is a link with MPLS label-switching routers inside (see [`Link::mpls_routers`]).
//! - The router zoo, routers as the Internet has them: [`RouterOpts::kernel_limits`], [`Link::short_quotes`],
//!   [`RouterOpts::errors_from_route_back`] and [`Lab::answer_from_loopback`].
//! - Namespaces are named `htlab-<pid>-<lab>-<node>`; labs built concurrently never collide,
//!   and each build removes the namespaces left by processes that died.

mod addressing;
mod attack;
mod build;
mod cmd;
mod delay;
mod error;
mod firewall;
mod forge;
mod lab;
mod mpls;
mod namespace;
mod quote8;
mod routing;
mod short_quote;
mod slowloris;
mod spec;
mod sweep;
mod untagged;
mod zoo;

pub use attack::{Attack, Flood};
pub use error::{Error, Result};
pub use forge::Forgery;
pub use lab::Lab;
pub use quote8::ShortQuotes;
pub use slowloris::Slowloris;
pub use spec::{Family, LabSpec, Link, LinkId, NodeId, RejectWith, RouterOpts};
pub use sweep::Sweep;
pub use untagged::ShortReplies;
