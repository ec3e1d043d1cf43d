//! hoptrace: trace the path packets take to a host.

fn main() -> std::process::ExitCode {
    hoptrace::main_with(std::env::args_os())
}
