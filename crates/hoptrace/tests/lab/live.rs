//! `--live`, mtr's live view, on a real pseudo-terminal (`script` from util-linux provides one).

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use netlab::{Family, Lab, NodeId};

use crate::support::*;

/// `script` running `hoptrace --live ARGS TARGET` in `client`'s namespace on a pseudo-terminal.
fn live_command(lab: &Lab, client: NodeId, args: &str, target: &str) -> Command {
    let hoptrace = env!("CARGO_BIN_EXE_hoptrace");
    let mut command = lab.command(client, "script");
    // The pseudo-terminal starts 0 × 0 when the test has no terminal itself: give it a size to draw on.
    let shell = format!("stty rows 30 cols 100 && {hoptrace} --live -n {args} {target}");
    command.args(["-q", "-e", "-c", &shell, "/dev/null"]);
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// Waits for `child` to end (at most 20 s, else kills it and fails), keeping its input open until then unless `keys`
/// are to be typed first, `after` the start.
fn finish(mut child: Child, keys: Option<(&[u8], Duration)>) -> (Output, Duration) {
    let mut stdin = child.stdin.take().expect("stdin");
    let started = Instant::now();
    if let Some((keys, after)) = keys {
        thread::sleep(after);
        stdin.write_all(keys).expect("keys typed");
    }
    let typed = Instant::now();
    let pid = child.id();
    let (done, output) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let Ok(output) = output.recv_timeout(Duration::from_secs(20)) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("the live view did not end within 20 s of its start at {started:?}");
    };
    drop(stdin);
    (output.expect("hoptrace ran"), typed.elapsed())
}

/// The screen was taken over (alternate screen entered and left), then the report printed.
fn assert_live_then_report(output: &Output, routers: &[std::net::IpAddr], target: &str) {
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}\n{text}", String::from_utf8_lossy(&output.stderr));
    let (entered, left) = (text.find("\u{1b}[?1049h"), text.rfind("\u{1b}[?1049l"));
    assert!(entered.is_some() && left > entered, "no alternate screen: {text:?}");
    // On the live screen: the title, and the report's header row.
    let screen = &text[entered.unwrap_or_default()..left.unwrap_or_default()];
    assert!(screen.contains(&format!("hoptrace to {target} ({target})")), "no title on screen: {screen:?}");
    assert!(screen.contains("Loss%"), "no report on screen: {screen:?}");
    let report = &text[left.unwrap_or_default()..];
    assert!(report.contains("HOST: ") && report.contains("Loss%"), "{report}");
    for (ttl, addr) in routers.iter().enumerate() {
        assert!(report.contains(&format!("{:2}.|-- {addr}", ttl + 1)), "hop {} missing: {report}", ttl + 1);
    }
    assert!(report.contains(target), "{report}");
}

#[test]
fn live_view_draws_each_round_and_prints_the_report_after_count_rounds() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = crate::chain(2, |_, _, _| {});
    let target = lab.addr(dst, Family::V4).to_string();
    let child = live_command(&lab, client, "-c 3 --interval 0.1", &target).spawn().expect("script runs");
    let (output, _) = finish(child, None);
    let hops: Vec<_> = routers.iter().map(|&r| lab.hop_addr(r, client, Family::V4)).collect();
    assert_live_then_report(&output, &hops, &target);
    // Three rounds: the report's Snt column says 3 for every hop.
    let text = String::from_utf8_lossy(&output.stdout);
    let report = &text[text.rfind("HOST: ").unwrap_or_default()..];
    let sent: Vec<&str> = report.lines().skip(1).filter_map(|line| line.split_whitespace().nth(3)).collect();
    assert!(!sent.is_empty() && sent.iter().all(|&snt| snt == "3"), "{report}");
}

#[test]
fn q_leaves_the_live_view() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = crate::chain(2, |_, _, _| {});
    let target = lab.addr(dst, Family::V4).to_string();
    let child = live_command(&lab, client, "--interval 0.1", &target).spawn().expect("script runs");
    let (output, took) = finish(child, Some((b"q", Duration::from_millis(800))));
    let hops: Vec<_> = routers.iter().map(|&r| lab.hop_addr(r, client, Family::V4)).collect();
    assert_live_then_report(&output, &hops, &target);
    assert!(took < Duration::from_secs(2), "q took {took:?} to stop the live view");
}
