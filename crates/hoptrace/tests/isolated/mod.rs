//! Runs the real binary inside a new network namespace that has nothing but loopback (and, for a silent
//! destination, a veth pair whose far end drops everything), so that no probe and no name lookup can leave it.
#![allow(dead_code)] // each test crate uses its own few of these

use std::process::{Command, Output};

pub const BINARY: &str = env!("CARGO_BIN_EXE_hoptrace");

pub fn hoptrace(args: &[&str]) -> Output {
    isolated(args)
}

/// Runs hoptrace (as `user`, when given) in a new network namespace that has nothing but loopback.
pub fn isolated_as(user: Option<&str>, args: &[&str]) -> Output {
    run_isolated(BINARY, user, args)
}

/// Runs `program` like [`isolated_as`].
pub fn run_isolated(program: &str, user: Option<&str>, args: &[&str]) -> Output {
    let mut command = match user {
        None => isolated_command(program, "", args),
        Some(user) => {
            let ids = [format!("--reuid={user}"), format!("--regid={user}")];
            let mut command = isolated_command("setpriv", "", &[&ids[0], &ids[1], "--clear-groups"]);
            command.arg(program).args(args);
            command
        }
    };
    command.output().expect("unshare runs (needs root)")
}

/// `program` with `args` in a new network namespace with loopback up, after the shell commands `setup`. (`env`,
/// `unshare` and the shell exec it: its process id is the program's.) Every signal has its default action there,
/// whatever the tests' caller ignores (a background job ignores SIGINT, and a shell cannot undo that).
pub fn isolated_command(program: &str, setup: &str, args: &[&str]) -> Command {
    let mut command = Command::new("env");
    command.args(["--default-signal", "unshare"]);
    command.args(["--net", "sh", "-c", &format!(r#"ip link set lo up && {setup} exec "$@""#), "sh", program]);
    command.args(args);
    command
}

/// A destination that never answers: 198.18.0.2, on a veth pair whose other end (in the same namespace, with no
/// address) drops what it gets.
pub const SILENT: &str = "198.18.0.2";
pub const SILENT_SETUP: &str = "ip link add v0 type veth peer name v1 && ip addr add 198.18.0.1/24 dev v0 && \
    ip link set v0 up && ip link set v1 up && ip neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev v0 &&";

/// hoptrace with `args` in a namespace where [`SILENT`] exists.
pub fn with_silent_destination(args: &[&str]) -> Command {
    isolated_command(BINARY, SILENT_SETUP, args)
}

pub fn isolated(args: &[&str]) -> Output {
    isolated_as(None, args)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Traces loopback with `args` and returns the output lines, after checking the run succeeded.
pub fn loopback(args: &[&str], target: &str) -> Vec<String> {
    let mut all = args.to_vec();
    all.push(target);
    let output = hoptrace(&all);
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    stdout(&output).lines().map(str::to_owned).collect()
}
