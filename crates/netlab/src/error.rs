//! Why a lab could not be built.

/// Why a lab could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Namespaces need root (`CAP_SYS_ADMIN` and `CAP_NET_ADMIN`).
    #[error("netlab needs root to create network namespaces (euid is {euid})")]
    NotRoot {
        /// The effective user id the process runs as.
        euid: u32,
    },
    /// A program the lab runs is not installed.
    #[error("`{program}` is missing: install {package} (apt-get install -y {package})")]
    MissingTool {
        /// The program, e.g. `ip`.
        program: String,
        /// The Debian package that has it.
        package: &'static str,
    },
    /// The spec describes a lab that cannot be built.
    #[error("invalid lab spec: {0}")]
    InvalidSpec(String),
    /// A command exited with a failure status.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it wrote to stderr, trimmed.
        stderr: String,
    },
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// A lab result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with what was being done.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}
