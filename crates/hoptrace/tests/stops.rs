//! How a run ends early: a write error, a reader that went away, a signal, the gap limit — each with its one line
//! (or none) and its exit status, in every output mode; and the run that may not start: rounds too close together
//! for a user other than root.

mod isolated;

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use isolated::*;

/// The output modes, each with the arguments that make it.
const MODES: &[&[&str]] = &[
    &[],
    &["--json"],
    &["-c", "2", "--interval", "0"],
    &["--report", "--json", "-c", "2", "--interval", "0"],
    &["--csv"],
    &["--dot"],
    &["--mda"],
    &["--mda", "--json"],
    &["--tracepath"],
    &["--events"],
];

/// `hoptrace monitor` writing an event a round (every tenth of a second), and, separately, in text mode (a line
/// per path change: none here).
const MONITOR_EVENTS: &[&str] = &["monitor", "-n", "--events", "--every", "0.1", "-q", "1", "127.0.0.1"];
const MONITOR_TEXT: &[&str] = &["monitor", "-n", "--every", "0.1", "-q", "1", "127.0.0.1"];

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_write_error_ends_with_one_line_and_status_1_in_every_mode() {
    let mut cases: Vec<Vec<&str>> = MODES.iter().map(|mode| [&["-n"], *mode, &["127.0.0.1"]].concat()).collect();
    cases.extend([vec!["--help"], vec!["-V"], MONITOR_EVENTS.to_vec()]);
    for args in cases {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let output = within(LIMIT, isolated_command(BINARY, "", &args).stdout(full));
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", stderr(&output));
        assert_eq!(past_start(&output), "hoptrace: write error: No space left on device\n", "{args:?}");
    }
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_closed_pipe_stops_probing_at_once_and_quietly_in_every_mode() {
    // Long traces: six rounds a second apart, or a destination that never answers (5 s per probe): 5 s or more
    // unless the closed pipe stops them.
    let long: &[&[&str]] = &[
        &["-n", SILENT],
        &["-n", "--json", "-c", "6", "127.0.0.1"],
        &["-n", "-c", "6", "127.0.0.1"],
        &["-n", "--report", "--json", "-c", "6", "127.0.0.1"],
        &["-n", "--csv", SILENT],
        &["-n", "--dot", SILENT],
        &["-n", "--mda", SILENT],
        &["-n", "--mda", "--json", SILENT],
        &["-n", "--tracepath", SILENT],
        &["-n", "--events", SILENT],
        &["--help"],
        // The monitor never ends by itself, even when it writes nothing.
        MONITOR_EVENTS,
        MONITOR_TEXT,
    ];
    for &args in long {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let started = Instant::now();
        let output = within(LIMIT, with_silent_destination(args).stdout(writer));
        let took = started.elapsed();
        // As a program that SIGPIPE kills: 128 + 13, and no word on stderr.
        assert_eq!(output.status.code(), Some(141), "{args:?}: {}", stderr(&output));
        assert_eq!(past_start(&output), "", "{args:?}");
        assert!(took < Duration::from_millis(2500), "{args:?}: took {took:?}");
    }
    // A reader that goes away after the first line: the trace (or monitor) stops then, not at its end.
    let first_lines: [(&[&str], &[u8]); 3] = [
        (&["-n", "--json", "-c", "6", "127.0.0.1"], b"{\"af\":4,"),
        (&["-n", "--events", "-c", "6", "127.0.0.1"], b"{\"event\":\"round_started\""),
        (MONITOR_EVENTS, b"{\"event\":\"target_round\""),
    ];
    for (args, start) in first_lines {
        let mut child = with_silent_destination(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut first = [0; 20];
        child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
        assert!(first.starts_with(&start[..start.len().min(20)]), "{args:?}: {}", String::from_utf8_lossy(&first));
        drop(child.stdout.take());
        let closed = Instant::now();
        let output = finished_within(LIMIT, child);
        let took = closed.elapsed();
        assert!(took < Duration::from_millis(1000), "{args:?}: took {took:?} after the pipe closed");
        assert_eq!((output.status.code(), past_start(&output)), (Some(141), String::new()), "{args:?}");
    }
}

/// stderr without the monitor's start line (what it watches, where it listens), the one line it writes at start.
fn past_start(output: &Output) -> String {
    let text = stderr(output);
    match text.strip_prefix("hoptrace: watching ") {
        Some(rest) => rest.split_once('\n').map_or_else(String::new, |(_, after)| after.to_owned()),
        None => text,
    }
}

/// How long any run here may take before it counts as hung (a monitor runs until stopped).
const LIMIT: Duration = Duration::from_secs(10);

/// The output of `command` (its stderr captured), which must end within `limit`: killed and failed otherwise.
fn within(limit: Duration, command: &mut Command) -> Output {
    finished_within(limit, command.stderr(Stdio::piped()).spawn().unwrap())
}

/// The output of `child`, which must end within `limit`: killed and failed otherwise.
fn finished_within(limit: Duration, mut child: Child) -> Output {
    let until = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}: {}", stderr(&output));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Runs hoptrace with `args` toward [`SILENT`], sends `signal` after `after`, and returns what it printed.
fn interrupted(args: &[&str], signal: &str, after: Duration) -> Output {
    let child = with_silent_destination(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(after);
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    child.wait_with_output().unwrap()
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn an_interrupted_report_shows_no_unprobed_hop_and_exits_with_the_signal() {
    // Interrupted in its first round, while every probe is still in flight: nothing was lost, nothing is shown.
    let output = interrupted(&["-n", "-c", "3", SILENT], "-INT", Duration::from_millis(500));
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert!(lines[0].starts_with("Start: ") && lines[1].starts_with("HOST: 198.18.0.1 "), "{lines:?}");
    assert_eq!(lines.len(), 2, "{lines:?}");
    // Interrupted in its second round (probes given up after 0.2 s): the first round's losses, each hop sent 1.
    let args = ["-n", "-c", "100", "-w", "0.2", "--interval", "0.5", SILENT];
    let output = interrupted(&args, "-TERM", Duration::from_millis(1500));
    assert_eq!(output.status.code(), Some(143), "{}", stderr(&output));
    let text = stdout(&output);
    let rows: Vec<&str> = text.lines().skip(2).collect();
    assert!(!rows.is_empty(), "{text}");
    for row in rows {
        let sent: u32 = row.split_whitespace().nth(3).and_then(|sent| sent.parse().ok()).unwrap();
        assert!(row.contains("100.0") && sent >= 1, "{text}");
    }
    // A text trace: the hops found so far, then the status — 130, as a shell reports traceroute(8), which SIGINT
    // kills.
    let output = interrupted(&["-n", SILENT], "-INT", Duration::from_millis(300));
    assert_eq!(output.status.code(), Some(130));
    let child = isolated_command("traceroute", SILENT_SETUP, &["-n", SILENT]).stdout(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let theirs = child.wait_with_output().unwrap().status;
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&theirs), Some(2), "traceroute: {theirs}");
    assert!(stdout(&output).starts_with("traceroute to 198.18.0.2 (198.18.0.2), 64 hops max, 60 byte packets\n"));
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn signals_reach_the_programs_tested_whatever_the_caller_ignores() {
    // The test above, run by a caller that ignores SIGINT and SIGQUIT, as a shell's background job does.
    let name = "an_interrupted_report_shows_no_unprobed_hop_and_exits_with_the_signal";
    let output = Command::new("sh")
        .args(["-c", r#"trap '' INT QUIT && exec "$@""#, "sh"])
        .arg(std::env::current_exe().expect("the test binary"))
        .args(["--exact", name, "--test-threads", "1"])
        .output()
        .expect("sh runs");
    assert!(output.status.success(), "{}", stdout(&output));
    assert!(stdout(&output).contains("1 passed"), "{}", stdout(&output));
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn the_gap_limit_says_why_the_trace_stopped_on_stderr() {
    let output = with_silent_destination(&["-n", "-w", "0.2", SILENT]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let mut expected = vec!["traceroute to 198.18.0.2 (198.18.0.2), 64 hops max, 60 byte packets".to_owned()];
    expected.extend((1..=5).map(|ttl| format!("{ttl:2}  * * *")));
    assert_eq!(stdout(&output).lines().collect::<Vec<_>>(), expected);
    assert_eq!(
        stderr(&output),
        "hoptrace: stopped after hop 5: 5 silent hops past the last answer (--gap-limit 0 probes on to hop 64)\n"
    );
    // Without the gap limit, probing goes on to the maximum and nothing is said.
    let output = with_silent_destination(&["-n", "-w", "0.2", "--gap-limit", "0", "-m", "7", SILENT]).output().unwrap();
    assert_eq!((stdout(&output).lines().count(), stderr(&output)), (8, String::new()));
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn users_other_than_root_cannot_ask_for_rounds_less_than_a_second_apart() {
    let output = isolated_as(Some("65534"), &["-n", "-c", "2", "--interval", "0.5", "127.0.0.1"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(stderr(&output), "hoptrace: --interval below 1 s needs root, as in mtr: it protects shared networks\n");
    assert_eq!(stdout(&output), "");
    let output = isolated_as(Some("65534"), &["-n", "-c", "2", "--interval", "1", "127.0.0.1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("  1.|-- 127.0.0.1 "), "{}", stdout(&output));
    // Root may, and one trace has no interval to speak of.
    assert!(isolated(&["-n", "-c", "2", "--interval", "0.1", "127.0.0.1"]).status.success());
    assert!(isolated_as(Some("65534"), &["-n", "--interval", "0.1", "127.0.0.1"]).status.success());
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_reader_that_stalls_holds_the_probing_back_instead_of_filling_memory() {
    // Rounds as fast as loopback answers, their events into a pipe that nobody reads (and nobody closes).
    let (reader, writer) = std::io::pipe().unwrap();
    let args = ["--events", "-c", "1000000", "--interval", "0", "-q", "1", "-n", "127.0.0.1"];
    let mut child = isolated_command(BINARY, "", &args).stdout(writer).stderr(Stdio::null()).spawn().unwrap();
    let rss_kib = |pid: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    std::thread::sleep(Duration::from_secs(1));
    let before = rss_kib(child.id());
    std::thread::sleep(Duration::from_secs(2));
    let after = rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    drop(reader);
    // Unbounded, the events waiting for the writer grew by some 7 MB a second here.
    assert!(after < before + 4096, "RSS {before} KiB, then {after} KiB 2 s later");
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_monitor_stops_at_once_even_while_a_name_lookup_hangs() {
    // The resolver is the silent destination (in a mount namespace of its own): looking up a name waits for the
    // resolver's timeouts, some ten seconds.
    let setup = format!(
        "{SILENT_SETUP} echo 'nameserver {SILENT}' > /tmp/hoptrace-silent-resolv.conf && \
         mount --bind /tmp/hoptrace-silent-resolv.conf /etc/resolv.conf &&"
    );
    let script = format!(r#"ip link set lo up && {setup} exec "$@""#);
    let args = ["monitor", "-n", "--events", "--every", "0.1", "-q", "1", "127.0.0.1", "lookup.invalid"];
    let child = Command::new("unshare")
        .args(["--net", "--mount", "sh", "-c", &script, "sh", BINARY])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let interrupted = Instant::now();
    let output = finished_within(LIMIT * 2, child);
    let took = interrupted.elapsed();
    let _ = std::fs::remove_file("/tmp/hoptrace-silent-resolv.conf");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(took < Duration::from_secs(4), "took {took:?} to stop");
    // The good target was traced meanwhile.
    assert!(stdout(&output).contains(r#""event":"target_round","target":"127.0.0.1""#), "{}", stdout(&output));
}
