//! Command lines: `traceroute(8)`'s, or `tracepath(8)`'s when run as `tracepath` or with `--tracepath`, or mtr's
//! when run as `mtr` or with `--mtr`.

mod monitor;
mod mtr;
mod tracepath;
mod traceroute;
mod values;

use std::ffi::OsString;
use std::path::Path;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches, Parser, ValueHint};
use hoptrace_core::Family;

pub use monitor::MonitorArgs;
pub use mtr::MtrArgs;
pub use tracepath::TracepathArgs;
pub use traceroute::TracerouteArgs;

use crate::commands::monitor::MonitorSettings;
use crate::settings::Settings;

/// What the command line asks for.
#[derive(Debug)]
pub enum Request {
    /// A trace.
    Trace(Box<Settings>),
    /// `hoptrace monitor`.
    Monitor(Box<MonitorSettings>),
    /// Stateless bulk probing: `hoptrace bulk`, or hoptrace run as `caracal`.
    Bulk(Box<crate::commands::bulk::BulkArgs>),
    /// Text to print before exiting successfully (help, version).
    Print(String),
}

pub use crate::error::CliError;

/// `traceroute(8)`'s complaint about an option value.
pub(crate) fn bad_arg(flag: &str, value: &str) -> CliError {
    CliError::new(format!("cannot handle `{flag}' option with arg `{value}'"))
}

/// Parses a whole command line, program name first.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Request, CliError> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|arg| arg == "monitor") {
        args.remove(0);
        return help_or(
            MonitorArgs::try_parse_from(args).map(MonitorArgs::into_settings),
            "hoptrace monitor",
            |settings| Request::Monitor(Box::new(settings)),
        );
    }
    let invoked_as = args.first().and_then(|name| Path::new(name).file_name()).map(|name| name.to_owned());
    if invoked_as.as_ref().is_some_and(|name| name == "caracal") || args.get(1).is_some_and(|arg| arg == "bulk") {
        if invoked_as.as_ref().is_none_or(|name| name != "caracal") {
            args.remove(0);
            args[0] = "hoptrace bulk".into();
        }
        let program = if args[0] == "hoptrace bulk" { "hoptrace bulk" } else { "caracal" };
        // `-V` and `--version` as in every other command line, with the same version text.
        let command =
            crate::commands::bulk::BulkArgs::command().version(env!("HOPTRACE_VERSION")).disable_version_flag(false);
        let parsed = command
            .try_get_matches_from(args)
            .and_then(|matches| crate::commands::bulk::BulkArgs::from_arg_matches(&matches));
        return help_or(parsed.map(Ok), program, |args| Request::Bulk(Box::new(args)));
    }
    // `--tracepath` or `--mtr` anywhere before a `--` switches command lines.
    let end = args.iter().position(|arg| arg == "--").unwrap_or(args.len());
    if invoked_as.as_ref().is_some_and(|name| name == "mtr") || args[..end].iter().skip(1).any(|arg| arg == "--mtr") {
        let program = if invoked_as.as_ref().is_some_and(|name| name == "mtr") { "mtr" } else { "hoptrace --mtr" };
        // As mtr: options in MTR_OPTIONS come before those on the command line.
        if let Some(options) = std::env::var_os("MTR_OPTIONS") {
            let words = options.to_string_lossy().split_whitespace().map(OsString::from).collect::<Vec<_>>();
            args.splice(1..1, words);
        }
        let parsed = MtrArgs::command()
            .bin_name(program)
            .try_get_matches_from(args)
            .and_then(|matches| MtrArgs::from_arg_matches(&matches).map(|args| args.display_from(&matches)));
        if let Ok(MtrArgs { version: true, .. }) = parsed {
            return Ok(Request::Print(format!("{}\n", mtr::version())));
        }
        return help_or(parsed.map(MtrArgs::into_settings), program, |settings| Request::Trace(Box::new(settings)));
    }
    let tracepath = match args[..end].iter().skip(1).position(|arg| arg == "--tracepath") {
        Some(index) => {
            args.remove(index + 1);
            true
        }
        None => invoked_as.as_ref().is_some_and(|name| name == "tracepath"),
    };
    let as_tracepath = invoked_as.is_some_and(|name| name == "tracepath");
    // The usage line and the pointer to the help name the command line as it was typed.
    let program = match (tracepath, as_tracepath) {
        (true, true) => "tracepath",
        (true, false) => "hoptrace --tracepath",
        (false, _) => "hoptrace",
    };
    let parsed = if tracepath {
        TracepathArgs::command()
            .bin_name(program)
            .try_get_matches_from(args)
            .and_then(|matches| TracepathArgs::from_arg_matches(&matches))
            .map(TracepathArgs::into_settings)
    } else {
        TracerouteArgs::try_parse_from(args).map(TracerouteArgs::into_settings)
    };
    help_or(parsed, program, |settings| Request::Trace(Box::new(settings)))
}

/// The request a parsed command line makes, or clap's help and version text to print, or its one-line complaint
/// (pointing to `program --help`).
fn help_or<T>(
    parsed: Result<Result<T, CliError>, clap::Error>,
    program: &str,
    request: impl FnOnce(T) -> Request,
) -> Result<Request, CliError> {
    match parsed {
        Ok(settings) => Ok(request(settings?)),
        Err(error) => match error.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Ok(Request::Print(error.render().to_string())),
            _ => Err(one_line(&error, program)),
        },
    }
}

/// clap's message on one line, without its `error: ` prefix; for an unknown option, the option meant (if clap has a
/// guess) and a pointer to `--help`.
fn one_line(error: &clap::Error, program: &str) -> CliError {
    let text = error.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next().unwrap_or_default();
    let mut message = first.strip_prefix("error: ").unwrap_or(first).to_owned();
    if message.ends_with(':') {
        // "the following required arguments were not provided:" lists them on the lines after.
        let listed: Vec<&str> = lines.take_while(|line| !line.starts_with("Usage:")).collect();
        message = format!("{message} {}", listed.join(" "));
    }
    if error.kind() == ErrorKind::UnknownArgument {
        if let Some(ContextValue::String(meant)) = error.get(ContextKind::SuggestedArg) {
            message.push_str(&format!(" (did you mean '{meant}'?)"));
        }
        message.push_str(&format!("; see {program} --help"));
    }
    CliError::new(message)
}

/// The `traceroute`-style command definition, for the man page and shell completions.
pub fn command() -> clap::Command {
    // Every value is a number, an address or a name: completion offers no file names.
    TracerouteArgs::command().mut_args(|arg| {
        if arg.get_action().takes_values() && arg.get_value_hint() == ValueHint::Unknown {
            arg.value_hint(ValueHint::Other)
        } else {
            arg
        }
    })
}

/// The `tracepath`-style command definition, for the man page.
pub fn tracepath_command() -> clap::Command {
    TracepathArgs::command()
}

/// `hoptrace monitor`'s command definition, for its man page.
pub fn monitor_command() -> clap::Command {
    MonitorArgs::command()
}

/// `hoptrace bulk`'s command definition, for its man page.
pub fn bulk_command() -> clap::Command {
    crate::commands::bulk::BulkArgs::command()
}

/// Every command line in one definition, for shell completion: traceroute's options with `monitor` and `bulk` as
/// subcommands, and without the options that exist only to be refused.
pub fn completion_command() -> clap::Command {
    visible("hoptrace", command())
        .subcommand(visible("monitor", monitor_command()))
        .subcommand(visible("bulk", bulk_command()).bin_name("hoptrace bulk"))
        .disable_help_subcommand(true)
}

/// `command`, named `name`, without its hidden arguments (clap cannot remove one: the rest go into a new definition).
fn visible(name: &'static str, command: clap::Command) -> clap::Command {
    let mut shown = clap::Command::new(name)
        .version(env!("HOPTRACE_VERSION"))
        .disable_help_flag(command.is_disable_help_flag_set())
        .disable_version_flag(command.is_disable_version_flag_set())
        .args(command.get_arguments().filter(|arg| !arg.is_hide_set()).cloned());
    if let Some(about) = command.get_about() {
        shown = shown.about(about.clone());
    }
    if let Some(bin_name) = command.get_bin_name() {
        shown = shown.bin_name(bin_name.to_owned());
    }
    shown
}

/// The family `-4` and `-6` ask for.
fn family(ipv4: bool, ipv6: bool) -> Family {
    match (ipv4, ipv6) {
        (_, true) => Family::V6,
        (true, false) => Family::V4,
        (false, false) => Family::Any,
    }
}

#[cfg(test)]
mod options_tests {
    use super::*;
    use crate::settings::Flows;
    use hoptrace_core::{Method, Options, Protocol};

    fn options(args: &[&str]) -> Options {
        let argv = ["hoptrace"].iter().chain(args).map(Into::into);
        let Ok(Request::Trace(settings)) = parse(argv) else { panic!("{args:?}") };
        settings.probing
    }

    #[test]
    fn the_library_defaults_are_the_command_lines() {
        assert_eq!(options(&["198.18.0.1"]), Options::default());
        assert_eq!(options(&["-I", "198.18.0.1"]), Options::new(Protocol::Icmp));
        assert_eq!(options(&["-T", "198.18.0.1"]), Options::new(Protocol::Tcp));
    }

    #[test]
    fn dash_u_is_paris_udp_to_port_53() {
        let options = options(&["-U", "--classic", "198.18.0.1"]);
        assert_eq!((options.protocol, options.flows, options.port), (Protocol::Udp, Flows::Paris, Some(53)));
        assert_eq!(options.method(false), Method::paris(Protocol::Udp));
    }
}
