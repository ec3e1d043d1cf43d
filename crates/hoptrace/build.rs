//! Names the git commit hoptrace is built from, for `--version`: `HOPTRACE_VERSION` is the package version and,
//! in a git checkout, ` (commit 0123456789ab)`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    output.status.success().then(|| text.trim().to_owned())
}

fn main() {
    let mut version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    if let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) {
        version.push_str(&format!(" (commit {commit})"));
    }
    println!("cargo:rustc-env=HOPTRACE_VERSION={version}");
    // A commit, a checkout or a merge moves HEAD and writes its log: build again then.
    for path in ["HEAD", "logs/HEAD"] {
        if let Some(path) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
