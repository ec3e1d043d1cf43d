//! Ctrl+C stops a trace at once and prints what was found.

use std::process::Stdio;
use std::time::{Duration, Instant};

use netlab::{Family, RouterOpts};

use crate::support::*;

#[test]
fn sigint_stops_at_once_and_prints_the_hops_found() {
    let _machine = shared_machine();
    let silent = RouterOpts { silent: true, ..RouterOpts::default() };
    let (lab, client, routers, dst) = crate::chain(3, |spec, routers, dst| {
        spec.router_opts(routers[2], silent);
        spec.firewall(dst, &["-A INPUT -p udp -j DROP"]);
    });
    let target = lab.addr(dst, Family::V4).to_string();
    // Without adaptive waits or a gap limit this would take 5 s per silent hop.
    let child = hoptrace_command(&lab, client)
        .args(["-n", "-q", "1", "-w", "5,0,0", "--gap-limit", "0", "-m", "8", &target])
        .stdout(Stdio::piped())
        .spawn()
        .expect("hoptrace starts");
    std::thread::sleep(Duration::from_millis(500));
    let interrupted = Instant::now();
    // `ip netns exec` executes hoptrace in its own process: the child's pid is hoptrace's.
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stopped_after = interrupted.elapsed();
    assert!(stopped_after < Duration::from_millis(500), "took {stopped_after:?} to stop");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("traceroute to "), "{stdout}");
    for (index, &router) in routers[..2].iter().enumerate() {
        let expected = format!("{:2}  {}  ", index + 1, lab.hop_addr(router, client, Family::V4));
        assert!(lines[index + 1].starts_with(&expected), "{stdout}");
    }
    assert!(lines[3].starts_with(" 3  *"), "the silent hop in progress shows as unanswered: {stdout}");
}
