//! `lab-demo` as `scripts/demo.sh` runs it from a terminal: it names the lab's client, keeps the lab up after the
//! traces until Enter, and `scripts/demo-exec.sh` runs commands in that client meanwhile.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `scripts/demo-exec.sh` with `args`, finding the lab through `state`.
fn demo_exec(state: &Path, args: &[&str]) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Command::new(root.join("scripts/demo-exec.sh")).env("LAB_DEMO_STATE", state).args(args).output().unwrap()
}

#[test]
fn the_demo_lab_stays_up_until_enter_and_runs_any_command_in_its_client() {
    let state = std::env::temp_dir().join(format!("hoptrace-demo-state-{}", std::process::id()));
    let _ = std::fs::remove_file(&state);
    // `true` stands in for hoptrace: the traces succeed at once.
    let mut demo = Command::new(env!("CARGO_BIN_EXE_lab-demo"))
        .arg("true")
        .env("LAB_DEMO_STATE", &state)
        .env("LAB_DEMO_HOLD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lab-demo starts");
    let mut said = BufReader::new(demo.stderr.take().unwrap()).lines().map_while(Result::ok);
    let first = said.next().unwrap_or_default();
    let namespace = first
        .strip_prefix("lab-demo: lab up; its client is network namespace ")
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let hint = said.next().unwrap_or_default();
    assert!(hint.contains("until you press Enter") && hint.contains("scripts/demo-exec.sh"), "{hint}");
    let until = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&state).unwrap_or_default().trim() != namespace {
        assert!(Instant::now() < until, "no state file naming {namespace}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A command in the client: its namespace, the lab's client's.
    let output = demo_exec(&state, &["ip", "netns", "identify"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), namespace);
    // Enter: the lab goes, and with it the state.
    demo.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
    let status = demo.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(said.any(|line| line == "lab-demo: lab removed"));
    assert!(!Path::new(&format!("/run/netns/{namespace}")).exists());
    assert!(!state.exists());
    let output = demo_exec(&state, &["true"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("scripts/demo-exec.sh: no demo lab is up"));
}
