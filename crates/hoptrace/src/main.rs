//! hoptrace: trace the path packets take to a host.

mod cli;
mod run;
mod text;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::parse();
    match run::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hoptrace: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
