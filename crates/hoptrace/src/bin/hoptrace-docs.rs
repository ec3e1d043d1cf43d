//! Writes hoptrace's man page or shell completions, generated from the command-line definition.
//!
//! `hoptrace-docs man > hoptrace.1`, `hoptrace-docs completions bash|zsh|fish|elvish|powershell`.

use std::io::Write;
use std::process::ExitCode;

use clap_complete::Shell;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut command = hoptrace::cli::command();
    let mut out = std::io::stdout().lock();
    let written = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["man"] => clap_mangen::Man::new(command).render(&mut out),
        ["completions", shell] => match shell.parse::<Shell>() {
            Ok(shell) => {
                clap_complete::generate(shell, &mut command, "hoptrace", &mut out);
                Ok(())
            }
            Err(_) => {
                eprintln!("hoptrace-docs: unknown shell {shell}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: hoptrace-docs man | completions <bash|zsh|fish|elvish|powershell>");
            return ExitCode::from(2);
        }
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hoptrace-docs: {error}");
            ExitCode::FAILURE
        }
    }
}
