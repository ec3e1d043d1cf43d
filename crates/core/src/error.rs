//! Why a trace could not be run.

use core::fmt;

/// What stops a [`crate::Tracer`] from being built or from tracing.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The host name does not resolve (in the requested family).
    UnknownHost(String),
    /// The options make no trace the engine can run.
    Config(engine::ConfigError),
    /// The system refused: privileges, routes, sockets.
    Net(net::NetError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownHost(host) => write!(f, "unknown host {host}"),
            Error::Config(error) => write!(f, "{error}"),
            Error::Net(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::UnknownHost(_) => None,
            Error::Config(error) => Some(error),
            Error::Net(error) => Some(error),
        }
    }
}
