//! Running `ip`, `sysctl` and `iptables`, with errors that say which command failed and why.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Fails unless the process runs as root.
pub(crate) fn require_root() -> Result<()> {
    let euid = nix::unistd::geteuid();
    if euid.is_root() {
        Ok(())
    } else {
        Err(Error::NotRoot { euid: euid.as_raw() })
    }
}

/// A command that runs `program` inside namespace `ns`.
pub(crate) fn in_ns(ns: &str, program: &str) -> Command {
    let mut command = Command::new("ip");
    command.args(["netns", "exec", ns, program]);
    command
}

/// Runs `ip -batch -` (inside `ns` if given) with one command per line; does nothing for no lines.
pub(crate) fn ip_batch(ns: Option<&str>, lines: &[String]) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut command = Command::new("ip");
    if let Some(ns) = ns {
        command.args(["-n", ns]);
    }
    command.args(["-batch", "-"]);
    let mut script = lines.join("\n");
    script.push('\n');
    run(command, Some(&script))
}

/// Runs `program args...` inside `ns`.
pub(crate) fn run_in_ns<S: AsRef<str>>(ns: &str, program: &str, args: &[S]) -> Result<()> {
    let mut command = in_ns(ns, program);
    command.args(args.iter().map(AsRef::as_ref));
    run(command, None)
}

/// Runs `command` to completion, feeding it `stdin`, and fails with its stderr unless it succeeds.
pub(crate) fn run(mut command: Command, stdin: Option<&str>) -> Result<()> {
    let description = describe(&command, stdin);
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|error| Error::io(format!("starting `{description}`"), error))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A command that stops reading has failed: its status and stderr below say why.
        let _ = pipe.write_all(text.as_bytes());
    }
    let output = child.wait_with_output().map_err(|error| Error::io(format!("waiting for `{description}`"), error))?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::Command {
        command: description,
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
    })
}

fn describe(command: &Command, stdin: Option<&str>) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|arg| arg.to_string_lossy().into_owned()));
    let mut description = words.join(" ");
    if let Some(text) = stdin {
        description.push_str(&format!(" <<< '{}'", text.trim_end().replace('\n', "; ")));
    }
    description
}

/// Fails with [`Error::MissingTool`] unless every program the lab runs is on the `PATH`.
pub(crate) fn require_tools() -> Result<()> {
    const TOOLS: [(&str, &str); 4] =
        [("ip", "iproute2"), ("sysctl", "procps"), ("iptables", "iptables"), ("ip6tables", "iptables")];
    let path = std::env::var_os("PATH").unwrap_or_default();
    for (program, package) in TOOLS {
        if !std::env::split_paths(&path).any(|dir| dir.join(program).is_file()) {
            return Err(Error::MissingTool { program: program.to_string(), package });
        }
    }
    Ok(())
}
