//! hoptrace: trace the path packets take to a host — the command line, the renderers, and the glue that runs a
//! trace, watch or map with [`hoptrace_core`], the library it is built on like any other program.

pub mod cli;
pub mod commands;
pub mod error;
pub mod escape;
pub mod exporter;
pub mod files;
pub mod render;
pub mod settings;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use cli::Request;
pub use error::Error;
/// mtr's report: the library's accumulator (loss, RTT statistics, the rate-limit rule, per-flow rows).
pub use hoptrace_core::report;

/// The whole program: parse `args` (program name first), trace, and say how it went.
pub fn main_with(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let invoked_as = std::env::args_os().next().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let program = if invoked_as.ends_with("tracepath") {
        "tracepath"
    } else if invoked_as.ends_with("caracal") {
        "caracal"
    } else {
        "hoptrace"
    };
    match execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if !error.is_quiet() {
                // Not eprintln!, which panics when stderr is closed too.
                let _ = writeln!(std::io::stderr(), "{program}: {}", escape::escape(&error.to_string()));
            }
            ExitCode::from(error.exit_code())
        }
    }
}

fn execute(args: impl IntoIterator<Item = OsString>) -> Result<(), Error> {
    // A setuid install acts with the rights of the user who ran it, CAP_NET_RAW aside, from the start.
    hoptrace_core::process::narrow_setuid().map_err(|error| Error::Trace(hoptrace_core::Error::Net(error)))?;
    match cli::parse(args)? {
        Request::Print(text) => {
            // Not print!, which panics on a closed pipe (`hoptrace --help | true`).
            let mut out = std::io::stdout().lock();
            Ok(out.write_all(text.as_bytes()).and_then(|()| out.flush())?)
        }
        Request::Bulk(args) => commands::bulk::run(&args),
        Request::Trace(settings) => {
            let numeric = settings.naming == settings::Naming::Numeric;
            let as_lookups = settings.as_lookups;
            commands::trace::run(&settings, move || Box::new(render::DnsDirectory::new(numeric, as_lookups)))
        }
        Request::Monitor(settings) => {
            // Asked by the probing loop after each round: a name not known yet shows from a later round on.
            let numeric = settings.trace.naming == settings::Naming::Numeric;
            let as_lookups = settings.trace.as_lookups;
            commands::monitor::run(*settings, move || {
                Box::new(render::DnsDirectory::new(numeric, as_lookups).never_waiting())
            })
        }
    }
}
