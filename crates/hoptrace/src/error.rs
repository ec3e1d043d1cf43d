//! Why hoptrace stops early, and with which exit status.

use core::fmt;

use crate::cli::CliError;

/// Everything that ends hoptrace with an error: one line on stderr and `traceroute(8)`'s exit status.
#[derive(Debug)]
pub enum Error {
    /// The command line cannot be used.
    Usage(CliError),
    /// The host name does not resolve (in the requested family).
    UnknownHost(String),
    /// The trace configuration is inconsistent.
    Config(engine::ConfigError),
    /// The system refused: privileges, routes, sockets.
    Net(net::NetError),
    /// `--live` with standard output not a terminal.
    NotATerminal,
    /// A pause between rounds below the floor for users other than root.
    IntervalNeedsRoot(core::time::Duration),
}

impl Error {
    /// 2 for bad input, as `traceroute(8)`; 1 for failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_)
            | Error::UnknownHost(_)
            | Error::Config(_)
            | Error::NotATerminal
            | Error::IntervalNeedsRoot(_) => 2,
            Error::Net(_) => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(error) => write!(f, "{error}"),
            Error::UnknownHost(host) => write!(f, "unknown host {host}"),
            Error::Config(error) => write!(f, "{error}"),
            Error::Net(error) => write!(f, "{error}"),
            Error::NotATerminal => write!(f, "--live needs a terminal: use --report for a report on a pipe or file"),
            Error::IntervalNeedsRoot(floor) => {
                write!(
                    f,
                    "--interval below {} s needs root, as in mtr: it protects shared networks",
                    floor.as_secs_f64()
                )
            }
        }
    }
}

impl From<CliError> for Error {
    fn from(error: CliError) -> Self {
        Error::Usage(error)
    }
}
