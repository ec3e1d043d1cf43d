//! Errors, worded to name the fix.

use core::net::IpAddr;
use std::io;

/// Why a trace could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// Datagram ICMP sockets are not allowed for this user.
    #[error(
        "ICMP needs root, CAP_NET_RAW, or a net.ipv4.ping_group_range that includes your group — or use UDP (the default), which needs none"
    )]
    IcmpNotPermitted,
    /// Raw sockets are not allowed for this user.
    #[error("raw sockets need root or CAP_NET_RAW — or leave out the option that needs them")]
    RawNotPermitted,
    /// No route to the target.
    #[error("{0}: Network is unreachable")]
    NoRoute(IpAddr),
    /// A flow label (`-l`) for ICMP probes without raw sockets: ping sockets send none.
    #[error("-l (flow label) on ICMP probes needs raw sockets (root or CAP_NET_RAW): ping sockets send none")]
    FlowLabelNeedsRaw,
    /// The source address cannot be used.
    #[error("cannot use source address {0}: {1}")]
    BadSource(IpAddr, io::Error),
    /// The interface cannot be used.
    #[error("cannot bind to interface {0}: {1}")]
    BadInterface(String, io::Error),
    /// The configuration makes no trace the engine can run.
    #[error("{0}")]
    Config(engine::ConfigError),
    /// Any other system call failure.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The system's error.
        source: io::Error,
    },
}

impl NetError {
    /// Wraps an I/O error with what was being done.
    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> NetError {
        move |source| NetError::Io { what, source }
    }
}
