//! Privileges dropped before the first probe: as root, as root with `--unprivileged`, from a setuid copy and
//! from a copy with `cap_net_raw+ep` run by `nobody`, a running trace has no capability and no root identity; nor
//! has any thread of a running `hoptrace bulk`.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use netlab::Family;

use super::*;

/// How hoptrace is started.
#[derive(Debug, Clone, Copy)]
enum Start {
    Root,
    RootUnprivileged,
    Setuid,
    FileCapability,
}

/// A copy of the hoptrace binary that `nobody` may run, in a directory of its own.
fn copy_of_binary(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("a directory for the copy");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let copy = dir.join("hoptrace");
    std::fs::copy(env!("CARGO_BIN_EXE_hoptrace"), &copy).expect("the binary copies");
    copy
}

/// `status`'s value for `field` (`Uid:`, `CapEff:`…), whitespace-separated.
pub(crate) fn field<'a>(status: &'a str, name: &str) -> Vec<&'a str> {
    let line = status.lines().find(|line| line.starts_with(name)).unwrap_or_else(|| panic!("{name} in {status}"));
    line[name.len()..].split_whitespace().collect()
}

#[test]
fn a_running_trace_has_no_capability_and_no_root_identity() {
    let _machine = shared_machine();
    // r2 drops everything: probes past r1 wait out their 3 s, which keeps the trace running.
    let (lab, client, _, dst) = chain(2, |spec, routers, _| {
        spec.firewall(routers[1], &["-A FORWARD -j DROP", "-A INPUT -j DROP"]);
    });
    let target = lab.addr(dst, Family::V4).to_string();
    let dir = std::env::temp_dir().join(format!("hoptrace-privileges-{}", std::process::id()));
    let setuid = copy_of_binary(&dir.join("setuid"));
    std::fs::set_permissions(&setuid, std::fs::Permissions::from_mode(0o4755)).expect("chmod u+s");
    let capable = copy_of_binary(&dir.join("cap"));
    let status = Command::new("setcap").arg("cap_net_raw+ep").arg(&capable).status().expect("setcap runs");
    assert!(status.success(), "setcap cap_net_raw+ep failed");

    for start in [Start::Root, Start::RootUnprivileged, Start::Setuid, Start::FileCapability] {
        let as_nobody = |binary: &Path| {
            let mut command = lab.command(client, "setpriv");
            command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(binary);
            command
        };
        let mut command = match start {
            Start::Root => lab.command(client, env!("CARGO_BIN_EXE_hoptrace")),
            Start::RootUnprivileged => {
                let mut command = lab.command(client, env!("CARGO_BIN_EXE_hoptrace"));
                command.arg("--unprivileged");
                command
            }
            Start::Setuid => as_nobody(&setuid),
            Start::FileCapability => as_nobody(&capable),
        };
        // ICMP: raw where allowed (the setuid and capable copies included), a ping socket otherwise.
        command.args(["-n", "-I", "-q", "1", "-N", "1", "-m", "3", "-w", "3", &target]);
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("hoptrace starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let header = lines.next().and_then(Result::ok).unwrap_or_default();
        let hop = lines.next().and_then(Result::ok).unwrap_or_default();
        // Hop 1 answered: probing is under way, the probe to TTL 2 in flight.
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).expect("the trace runs");
        let output = child.wait_with_output().expect("hoptrace ends");
        assert!(output.status.success(), "{start:?}: {}", String::from_utf8_lossy(&output.stderr));
        assert!(header.starts_with("traceroute to ") && hop.starts_with(" 1  198.18."), "{start:?}: {header}\n{hop}");
        assert_eq!(field(&status, "CapEff:"), ["0000000000000000"], "{start:?}");
        assert_eq!(field(&status, "CapPrm:"), ["0000000000000000"], "{start:?}");
        assert_eq!(field(&status, "NoNewPrivs:"), ["1"], "{start:?}");
        for ids in ["Uid:", "Gid:"] {
            let ids = field(&status, ids);
            assert!(ids.iter().all(|id| *id != "0"), "{start:?}: {ids:?} in\n{status}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_running_bulk_prober_has_no_capability_and_no_root_identity_in_any_thread() {
    use std::io::Write;
    let _machine = shared_machine();
    let (lab, client, _, dst) = chain(1, |_, _, _| {});
    let target = lab.addr(dst, Family::V4);
    let mut child = super::bulk::spawn_bulk(&lab, client, &["-r", "1000", "-W", "0.2"]);
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{target},24000,33434,8,icmp").expect("a probe is written");
    // Its reply's row: probing is under way, the input still open.
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (header, row) = (lines.next().and_then(Result::ok), lines.next().and_then(Result::ok).unwrap_or_default());
    assert_eq!(header.as_deref(), Some(hoptrace::commands::bulk::CSV_HEADER));
    assert!(row.contains(&format!(",::ffff:{target},")), "{row}");
    let tasks = std::fs::read_dir(format!("/proc/{}/task", child.id())).expect("the run goes on");
    let statuses: Vec<String> = tasks
        .map(|task| std::fs::read_to_string(task.expect("a task").path().join("status")).expect("its status"))
        .collect();
    drop(stdin);
    let output = child.wait_with_output().expect("hoptrace bulk ends at the end of its input");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // The sockets opened before the drop still send: at the link layer, and the reply came.
    assert!(stderr.contains("IPv4 probes leave by "), "{stderr}");
    assert!(statuses.len() >= 3, "the sender, the input and the reply threads: {}", statuses.len());
    for status in &statuses {
        assert_eq!(field(status, "CapEff:"), ["0000000000000000"], "{status}");
        assert_eq!(field(status, "CapPrm:"), ["0000000000000000"], "{status}");
        assert_eq!(field(status, "NoNewPrivs:"), ["1"], "{status}");
        for ids in ["Uid:", "Gid:"] {
            assert!(field(status, ids).iter().all(|id| *id != "0"), "{status}");
        }
    }
}
