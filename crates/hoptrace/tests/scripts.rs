//! The project's scripts, run with stand-ins for the long programs they call: `scripts/test.sh` runs every step
//! whatever fails, and ends saying which failed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes an executable shell script.
fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "scripts/test.sh needs root: --features lab")]
fn test_sh_runs_every_step_and_lists_the_failures() {
    let scratch = Scratch(std::env::temp_dir().join(format!("hoptrace-test-sh-{}", std::process::id())));
    let (bin, venv) = (scratch.0.join("bin"), scratch.0.join("venv/bin"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&venv).unwrap();
    let log = scratch.0.join("cargo.log");
    // cargo as a stand-in: it notes what it was asked, and fails formatting and the tests.
    let body = format!(
        r#"echo "$*" >> '{}'
case "$1" in fmt|test) exit 1 ;; esac
exit 0"#,
        log.display()
    );
    script(&bin.join("cargo"), &body);
    script(&venv.join("jc"), "exit 0");
    script(&venv.join("python"), "exit 0");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let output = Command::new(root.join("scripts/test.sh"))
        .env("PATH", path)
        .env("HOPTRACE_VENV", venv.parent().unwrap())
        .stdin(Stdio::null())
        .output()
        .expect("scripts/test.sh runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let asked = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // Every step ran, after the failures too; the tests, all of them.
    for call in ["fmt --all --check", "clippy ", "doc ", "+nightly check ", "test --workspace", "+nightly fuzz run "] {
        assert!(asked.lines().any(|line| line.starts_with(call)), "{call}: {asked}\n{stderr}");
    }
    assert!(asked.lines().any(|line| line.starts_with("test ") && line.contains("--no-fail-fast")), "{asked}");
    // Every fuzz target of fuzz/Cargo.toml, whichever failed.
    let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    let targets = manifest.matches("[[bin]]").count();
    assert!(targets >= 3, "{manifest}");
    assert_eq!(asked.lines().filter(|line| line.starts_with("+nightly fuzz run ")).count(), targets, "{asked}");
    let summary: Vec<&str> = stderr.lines().skip_while(|line| !line.contains("step(s) failed")).collect();
    assert_eq!(summary, ["scripts/test.sh: 2 step(s) failed:", "  cargo fmt", "  cargo test"], "{stderr}");
}
