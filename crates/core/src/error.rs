//! Why a trace could not be run.

use core::fmt;

/// What stops a [`crate::Tracer`] from being built or from tracing.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The host name does not resolve (or is empty).
    UnknownHost(String),
    /// The host is an address, or has addresses only, of the other family than the one asked for.
    WrongFamily(String),
    /// The options make no trace the engine can run.
    Config(engine::ConfigError),
    /// The system refused: privileges, routes, sockets.
    Net(net::NetError),
    /// This (the name of what) needs raw sockets, and this process may not open them.
    NeedsRaw(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownHost(host) if host.is_empty() => write!(f, "empty host name"),
            Error::UnknownHost(host) => write!(f, "unknown host {host}"),
            // traceroute(8)'s words (getaddrinfo's EAI_ADDRFAMILY).
            Error::WrongFamily(host) => write!(f, "{host}: Address family for hostname not supported"),
            Error::Config(error) => write!(f, "{error}"),
            Error::Net(error) => write!(f, "{error}"),
            Error::NeedsRaw(what) => write!(f, "{what} needs raw sockets: run it as root or with CAP_NET_RAW"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::UnknownHost(_) | Error::WrongFamily(_) | Error::NeedsRaw(_) => None,
            Error::Config(error) => Some(error),
            Error::Net(error) => Some(error),
        }
    }
}

impl From<resolve::HostError> for Error {
    fn from(error: resolve::HostError) -> Self {
        match error {
            resolve::HostError::Unknown(host) => Error::UnknownHost(host),
            resolve::HostError::WrongFamily(host) => Error::WrongFamily(host),
        }
    }
}
