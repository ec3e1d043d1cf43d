//! Why hoptrace stops early, and with which exit status.

use core::fmt;

use crate::cli::CliError;

/// Everything that ends hoptrace with an error: one line on stderr and `traceroute(8)`'s exit status.
#[derive(Debug)]
pub enum Error {
    /// The command line cannot be used.
    Usage(CliError),
    /// The host name does not resolve (or is empty).
    UnknownHost(String),
    /// The host is an address, or has addresses only, of the other family than `-4` or `-6` asked for.
    WrongFamily(String),
    /// The trace configuration is inconsistent.
    Config(engine::ConfigError),
    /// The system refused: privileges, routes, sockets.
    Net(net::NetError),
    /// `--live` with standard output not a terminal.
    NotATerminal,
    /// Writing the output failed (a full disk, …).
    Write(std::io::Error),
    /// The reader of the output (a pipe) went away: ended quietly, as a program that SIGPIPE kills.
    ClosedPipe,
    /// A signal (SIGINT, SIGTERM) cut the trace short: what was found is printed, and the exit status says so.
    Interrupted(u8),
}

impl Error {
    /// 2 for bad input, as `traceroute(8)`; 1 for failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_)
            | Error::UnknownHost(_)
            | Error::WrongFamily(_)
            | Error::Config(_)
            | Error::NotATerminal => 2,
            Error::Net(_) | Error::Write(_) => 1,
            // As a shell reports a program a signal killed: 128 + the signal (SIGPIPE is 13).
            Error::ClosedPipe => 128 + 13,
            Error::Interrupted(signal) => 128 + signal,
        }
    }

    /// Whether the error ends hoptrace without a word: a closed pipe, or a signal the user sent.
    pub fn is_quiet(&self) -> bool {
        matches!(self, Error::ClosedPipe | Error::Interrupted(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(error) => write!(f, "{error}"),
            Error::UnknownHost(host) if host.is_empty() => write!(f, "empty host name"),
            Error::UnknownHost(host) => write!(f, "unknown host {host}"),
            // traceroute(8)'s words (getaddrinfo's EAI_ADDRFAMILY).
            Error::WrongFamily(host) => write!(f, "{host}: Address family for hostname not supported"),
            Error::Config(error) => write!(f, "{error}"),
            Error::Net(error) => write!(f, "{error}"),
            Error::NotATerminal => write!(f, "--live needs a terminal: use --report for a report on a pipe or file"),
            Error::Write(error) => {
                let text = error.to_string();
                write!(f, "write error: {}", text.split(" (os error").next().unwrap_or(&text))
            }
            Error::ClosedPipe => write!(f, "output closed"),
            Error::Interrupted(signal) => write!(f, "interrupted by signal {signal}"),
        }
    }
}

impl From<std::io::Error> for Error {
    /// A failed write: quiet when the reader went away.
    fn from(error: std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            Error::ClosedPipe
        } else {
            Error::Write(error)
        }
    }
}

impl From<CliError> for Error {
    fn from(error: CliError) -> Self {
        Error::Usage(error)
    }
}
