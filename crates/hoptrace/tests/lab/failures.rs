//! Failures shown, not hidden: probes the system refused to send are marked in the text, the JSON and on stderr.

use netlab::Family;

use super::*;

/// Unprivileged TCP opens a socket per probe: with 100 in flight under a 40-descriptor limit, the system refuses
/// some (EMFILE). Those probes are marked `!E`, the JSON says `send_failed`, stderr says why.
#[test]
fn probes_that_could_not_be_sent_are_marked() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = chain(2, |spec, routers, _| spec.firewall(routers[1], &["-A FORWARD -j DROP"]));
    let target = lab.addr(dst, Family::V4).to_string();
    let run = |json: bool| {
        let mut command = lab.command(client, "prlimit");
        command.args(["--nofile=40", "--", env!("CARGO_BIN_EXE_hoptrace")]);
        command.args(["-n", "-T", "--unprivileged", "-N", "100", "-q", "5", "-m", "20", "-w", "1"]);
        command.args(json.then_some("--json")).arg(&target);
        command.output().expect("hoptrace runs")
    };
    let output = run(false);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let marked = stdout.matches(" * !E").count();
    assert!(marked > 0, "no probe marked as not sent:\n{stdout}");
    let line = stderr.lines().find(|line| line.contains("not sent")).unwrap_or_else(|| panic!("stderr: {stderr}"));
    let (count, reason) = line
        .strip_prefix("hoptrace: ")
        .and_then(|rest| rest.split_once(" probe(s) not sent (shown !E): "))
        .unwrap_or_else(|| panic!("{line}"));
    assert_eq!(count.parse::<usize>().ok(), Some(marked), "{stderr}\n{stdout}");
    assert_eq!(reason, "Too many open files (os error 24)");
    // Hop 1 answers before the limit is reached: it is shown as found.
    assert!(stdout.lines().nth(1).is_some_and(|hop| hop.starts_with(" 1  198.18.")), "{stdout}");

    let json: serde_json::Value = serde_json::from_slice(&run(true).stdout).expect("JSON");
    let failed = json["result"]
        .as_array()
        .expect("hops")
        .iter()
        .flat_map(|hop| hop["result"].as_array().expect("replies").iter())
        .filter(|reply| reply["hoptrace"]["send_failed"] == true && reply["x"] == "*")
        .count();
    assert!(failed > 0, "{json}");
}
