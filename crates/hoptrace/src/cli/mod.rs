//! Command lines: `traceroute(8)`'s, or `tracepath(8)`'s when run as `tracepath` or with `--tracepath` first.

mod monitor;
mod tracepath;
mod traceroute;

use core::fmt;
use std::ffi::OsString;
use std::path::Path;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

pub use monitor::MonitorArgs;
pub use tracepath::TracepathArgs;
pub use traceroute::TracerouteArgs;

use crate::monitor::MonitorSettings;
use crate::settings::Settings;

/// What the command line asks for.
#[derive(Debug)]
pub enum Request {
    /// A trace.
    Trace(Box<Settings>),
    /// `hoptrace monitor`.
    Monitor(Box<MonitorSettings>),
    /// Stateless bulk probing: `hoptrace bulk`, or hoptrace run as `caracal`.
    Bulk(Box<crate::bulk::BulkArgs>),
    /// Text to print before exiting successfully (help, version).
    Print(String),
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

/// `traceroute(8)`'s complaint about an option value.
pub(crate) fn bad_arg(flag: &str, value: &str) -> CliError {
    CliError(format!("cannot handle `{flag}' option with arg `{value}'"))
}

/// Parses a whole command line, program name first.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Request, CliError> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|arg| arg == "monitor") {
        args.remove(0);
        return help_or(MonitorArgs::try_parse_from(args).map(MonitorArgs::into_settings), |settings| {
            Request::Monitor(Box::new(settings))
        });
    }
    let invoked_as = args.first().and_then(|name| Path::new(name).file_name()).map(|name| name.to_owned());
    if invoked_as.as_ref().is_some_and(|name| name == "caracal") || args.get(1).is_some_and(|arg| arg == "bulk") {
        if invoked_as.as_ref().is_none_or(|name| name != "caracal") {
            args.remove(0);
            args[0] = "hoptrace bulk".into();
        }
        return help_or(crate::bulk::BulkArgs::try_parse_from(args).map(Ok), |args| Request::Bulk(Box::new(args)));
    }
    let tracepath = if args.get(1).is_some_and(|arg| arg == "--tracepath") {
        args.remove(1);
        true
    } else {
        invoked_as.is_some_and(|name| name == "tracepath")
    };
    let parsed = if tracepath {
        TracepathArgs::try_parse_from(args).map(TracepathArgs::into_settings)
    } else {
        TracerouteArgs::try_parse_from(args).map(TracerouteArgs::into_settings)
    };
    help_or(parsed, |settings| Request::Trace(Box::new(settings)))
}

/// The request a parsed command line makes, or clap's help and version text to print, or its one-line complaint.
fn help_or<T>(
    parsed: Result<Result<T, CliError>, clap::Error>,
    request: impl FnOnce(T) -> Request,
) -> Result<Request, CliError> {
    match parsed {
        Ok(settings) => Ok(request(settings?)),
        Err(error) => match error.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Ok(Request::Print(error.render().to_string())),
            _ => Err(one_line(&error)),
        },
    }
}

/// The first line of clap's message, without its `error: ` prefix.
fn one_line(error: &clap::Error) -> CliError {
    let text = error.render().to_string();
    let line = text.lines().next().unwrap_or_default();
    CliError(line.strip_prefix("error: ").unwrap_or(line).to_owned())
}

/// The `traceroute`-style command definition, for the man page and shell completions.
pub fn command() -> clap::Command {
    TracerouteArgs::command()
}
