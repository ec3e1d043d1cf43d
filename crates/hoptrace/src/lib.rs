//! hoptrace: trace the path packets take to a host — the command line, the renderers, and the glue that runs a
//! trace with the [`engine`] over [`net`]'s sockets.

pub mod cli;
pub mod error;
pub mod output;
pub mod report;
pub mod run;
pub mod settings;

use std::ffi::OsString;
use std::process::ExitCode;

use cli::Request;
pub use error::Error;

/// The whole program: parse `args` (program name first), trace, and say how it went.
pub fn main_with(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let program = if std::env::args_os().next().is_some_and(|name| name.to_string_lossy().ends_with("tracepath")) {
        "tracepath"
    } else {
        "hoptrace"
    };
    match execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

fn execute(args: impl IntoIterator<Item = OsString>) -> Result<(), Error> {
    match cli::parse(args)? {
        Request::Print(text) => {
            print!("{text}");
            Ok(())
        }
        Request::Trace(settings) => {
            let numeric = settings.naming == settings::Naming::Numeric;
            let as_lookups = settings.as_lookups;
            run::run(&settings, move || Box::new(output::Resolver::new(numeric, as_lookups)))
        }
    }
}
