//! Namespace names, creation and removal, including namespaces left by labs of dead processes.
//!
//! A lab's namespaces are named `htlab-<pid>-<lab>-<node>`: the creating process's id, a counter
//! of labs in that process, and the node name. The pid lets any later lab find and remove the
//! namespaces of a process that died without cleaning up.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cmd;
use crate::error::Result;

const PREFIX: &str = "htlab-";
const NETNS_DIR: &str = "/run/netns";

/// The name prefix of a new lab of this process: `htlab-<pid>-<lab>-`.
pub(crate) fn new_lab_prefix() -> String {
    static LABS: AtomicU32 = AtomicU32::new(0);
    let lab = LABS.fetch_add(1, Ordering::Relaxed);
    format!("{PREFIX}{}-{lab}-", std::process::id())
}

/// Creates the namespaces `names`.
pub(crate) fn add(names: &[String]) -> Result<()> {
    let lines: Vec<String> = names.iter().map(|name| format!("netns add {name}")).collect();
    cmd::ip_batch(None, &lines)
}

/// Kills every process inside the namespaces `names`, then deletes the namespaces (their
/// interfaces go with them). Best effort: what is already gone is skipped.
pub(crate) fn remove(names: &[String]) {
    kill_processes_inside(names);
    let lines: Vec<String> = names
        .iter()
        .filter(|name| Path::new(NETNS_DIR).join(name).exists())
        .map(|name| format!("netns delete {name}"))
        .collect();
    if let Err(error) = cmd::ip_batch(None, &lines) {
        eprintln!("netlab: removing namespaces: {error}");
    }
}

/// Removes the namespaces of labs whose creating process no longer exists. Best effort: another
/// process may be removing the same ones.
pub(crate) fn remove_stale() {
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return;
    };
    let stale: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| creator_pid(name).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()))
        .collect();
    kill_processes_inside(&stale);
    let lines: Vec<String> = stale.iter().map(|name| format!("netns delete {name}")).collect();
    let _ = cmd::ip_batch(None, &lines);
}

/// The pid in a lab namespace name `htlab-<pid>-...`.
fn creator_pid(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

/// Sends SIGKILL to every process whose network namespace is one of `names`.
fn kill_processes_inside(names: &[String]) {
    let namespaces: Vec<(u64, u64)> = names
        .iter()
        .filter_map(|name| std::fs::metadata(Path::new(NETNS_DIR).join(name)).ok())
        .map(|meta| (meta.dev(), meta.ino()))
        .collect();
    if namespaces.is_empty() {
        return;
    }
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return;
    };
    for process in processes.filter_map(|entry| entry.ok()) {
        let Some(pid) = process.file_name().to_str().and_then(|pid| pid.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(meta) = std::fs::metadata(process.path().join("ns/net")) else {
            continue;
        };
        if namespaces.contains(&(meta.dev(), meta.ino())) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_creator_pid() {
        let prefix = new_lab_prefix();
        assert_eq!(creator_pid(&format!("{prefix}r1")), Some(std::process::id()));
        assert_ne!(new_lab_prefix(), prefix);
        assert_eq!(creator_pid("htlab-x-1-r1"), None);
        assert_eq!(creator_pid("other-12-1-r1"), None);
    }
}
