//! Why hoptrace stops early, and with which exit status.

use core::fmt;

/// Everything that ends hoptrace with an error: one line on stderr and `traceroute(8)`'s exit status.
#[derive(Debug)]
pub enum Error {
    /// The command line cannot be used.
    Usage(CliError),
    /// The library could not trace: an unknown host, an inconsistent configuration, a refusal of the system's.
    Trace(hoptrace_core::Error),
    /// `--live` with standard output not a terminal.
    NotATerminal,
    /// A pause between rounds below the floor for users other than root.
    IntervalNeedsRoot(core::time::Duration),
    /// Anything else that stopped the run, said in one line.
    Failed(String),
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
        use hoptrace_core::Error as Trace;
        match self {
            Error::Usage(_)
            | Error::Trace(Trace::UnknownHost(_) | Trace::WrongFamily(_) | Trace::Config(_))
            | Error::NotATerminal
            | Error::IntervalNeedsRoot(_) => 2,
            Error::Trace(_) | Error::Failed(_) | Error::Write(_) => 1,
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
            Error::Trace(error) => write!(f, "{error}"),
            Error::NotATerminal => write!(f, "--live needs a terminal: use --report for a report on a pipe or file"),
            Error::IntervalNeedsRoot(floor) => {
                write!(
                    f,
                    "--interval below {} s needs root, as in mtr: it protects shared networks",
                    floor.as_secs_f64()
                )
            }
            Error::Failed(why) => f.write_str(why),
            Error::Write(error) => {
                let text = error.to_string();
                write!(f, "write error: {}", text.split(" (os error").next().unwrap_or(&text))
            }
            Error::ClosedPipe => write!(f, "output closed"),
            Error::Interrupted(signal) => write!(f, "interrupted by signal {signal}"),
        }
    }
}

impl From<hoptrace_core::Error> for Error {
    fn from(error: hoptrace_core::Error) -> Self {
        Error::Trace(error)
    }
}

/// A command line that cannot be used: one line for stderr, exit status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(String);

impl CliError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        CliError(message.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
