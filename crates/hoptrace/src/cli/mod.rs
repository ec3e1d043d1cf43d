//! Command lines: `traceroute(8)`'s, or `tracepath(8)`'s when run as `tracepath` or with `--tracepath` first.

mod tracepath;
mod traceroute;

use core::fmt;
use std::ffi::OsString;
use std::path::Path;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

pub use tracepath::TracepathArgs;
pub use traceroute::TracerouteArgs;

use crate::settings::Settings;

/// What the command line asks for.
#[derive(Debug)]
pub enum Request {
    /// A trace.
    Trace(Box<Settings>),
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
    let invoked_as = args.first().and_then(|name| Path::new(name).file_name()).map(|name| name.to_owned());
    if invoked_as.as_ref().is_some_and(|name| name == "caracal") || args.get(1).is_some_and(|arg| arg == "bulk") {
        if invoked_as.as_ref().is_none_or(|name| name != "caracal") {
            args.remove(0);
            args[0] = "hoptrace bulk".into();
        }
        return answer(crate::bulk::BulkArgs::try_parse_from(args).map(|args| Ok(Request::Bulk(Box::new(args)))));
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
    answer(parsed.map(|settings| settings.map(|settings| Request::Trace(Box::new(settings)))))
}

/// The request of a parsed command line, or what clap has to say (help and version are printed, not errors).
fn answer(parsed: Result<Result<Request, CliError>, clap::Error>) -> Result<Request, CliError> {
    match parsed {
        Ok(request) => request,
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
