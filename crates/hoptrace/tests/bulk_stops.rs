//! How `hoptrace bulk` ends early and what it says: a write error, a reader that goes away, lines that give no
//! target, the gap limit, a run with nothing to send. Each run is in a namespace of its own with nothing but
//! loopback and a silent destination, so that no probe can leave it.

mod isolated;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use isolated::*;

/// A file of this test's with `text` in it.
fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hoptrace-bulk-stops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `hoptrace bulk ARGS` in a namespace where [`SILENT`] exists.
fn bulk(args: &[&str]) -> Command {
    let mut all = vec!["bulk"];
    all.extend_from_slice(args);
    with_silent_destination(&all)
}

/// The summary line's number just before `word`.
fn summary_count(stderr: &str, word: &str) -> u64 {
    let line = stderr.lines().find(|line| line.contains(" probes sent in ")).unwrap_or_else(|| panic!("{stderr}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| w.trim_end_matches([',', ';']) == word).unwrap_or_else(|| panic!("{line}"));
    words[at - 1].parse().unwrap_or_else(|_| panic!("a number before {word}: {line}"))
}

fn run(mut command: Command) -> Output {
    command.stderr(Stdio::piped()).output().expect("unshare runs (needs root)")
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_write_error_is_one_line_and_status_1_in_every_mode() {
    let probes = file("probes.csv", &format!("{SILENT},24000,33434,1,udp\n").repeat(3));
    let targets = file("targets.txt", &format!("{SILENT}\n"));
    let targets = targets.to_str().unwrap();
    for args in [&[][..], &["--targets", targets, "-W", "0.1"], &["--targets", targets, "-W", "0.1", "--text"]] {
        let mut command = bulk(args);
        command.stdin(File::open(&probes).unwrap());
        command.stdout(File::options().write(true).open("/dev/full").unwrap());
        let output = run(command);
        let errors = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {errors}");
        assert_eq!(errors.lines().last(), Some("hoptrace: write error: No space left on device"), "{args:?}");
        assert_eq!(errors.matches("write error").count(), 1, "{args:?}: {errors}");
        if args.is_empty() || args.contains(&"--text") {
            // The first line could not be written: nothing was probed.
            assert_eq!(summary_count(&errors, "probes"), 0, "{args:?}: {errors}");
        }
    }
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_reader_that_goes_stops_the_probing_at_once_with_141() {
    // 30 targets of 10 TTLs, one probe at a time at 20 a second: 15 s of probing and more.
    let targets = file("many.txt", &format!("{SILENT}\n").repeat(30));
    let targets = targets.to_str().unwrap();
    for text in [false, true] {
        let mut args = vec!["--targets", targets, "-m", "10", "-r", "20", "-B", "1", "-W", "0.5"];
        if text {
            args.push("--text");
        }
        let mut command = bulk(&args);
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("unshare runs (needs root)");
        let stdout = child.stdout.take().unwrap();
        if text {
            // As `| head -1`: the first header comes before the probing; the reader takes it and goes.
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).unwrap();
            assert_eq!(line, format!("traceroute to {SILENT} ({SILENT}), 10 hops max, 31 byte packets\n"));
        } else {
            drop(stdout);
        }
        let closed = Instant::now();
        let output = child.wait_with_output().unwrap();
        let errors = stderr(&output);
        assert_eq!(output.status.code(), Some(141), "--text {text}: {errors}");
        assert!(!errors.contains("hoptrace: "), "quietly: {errors}");
        assert!(closed.elapsed() < Duration::from_secs(3), "still probing {:?} after", closed.elapsed());
        assert!(summary_count(&errors, "probes") < 60, "{errors}");
    }
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn lines_of_a_targets_file_that_give_no_target_are_said_and_skipped_as_bad_probe_lines() {
    let targets = file(
        "mixed.txt",
        &format!("{SILENT}\nno-such-host.invalid\n198.18.0.0/99\n\x1b[2J/24\n# a comment\n\n{SILENT}\n127.0.0.1\n"),
    );
    let path = targets.to_str().unwrap();
    let output = run(bulk(&["--targets", path, "--json", "-m", "3", "-W", "0.1"]));
    let errors = stderr(&output);
    assert!(output.status.success(), "{errors}");
    let said: Vec<&str> = errors.lines().filter(|line| line.contains(".txt:")).collect();
    assert_eq!(
        said,
        [
            format!("hoptrace bulk: {path}:2: unknown host no-such-host.invalid"),
            format!("hoptrace bulk: {path}:3: 198.18.0.0/99: the length is over 32"),
            format!("hoptrace bulk: {path}:4: `\\u{{1b}}[2J/24' is not a prefix"),
        ]
    );
    assert_eq!(summary_count(&errors, "invalid"), 3, "{errors}");
    // A special destination is no bad line: it is skipped (and counted) as one of the probe specifications.
    assert_eq!(summary_count(&errors, "to"), 1, "{errors}");
    assert!(errors.contains("hoptrace bulk: 127.0.0.1 is a loopback address: not probed"), "{errors}");
    let traces: Vec<serde_json::Value> =
        stdout(&output).lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    assert_eq!(traces.len(), 2, "{}", stdout(&output));
    assert!(traces.iter().all(|trace| trace["dst_addr"] == SILENT));
    // --json is the default's name; with --text it is refused, in one line.
    let output = run(bulk(&["--targets", path, "--json", "--text"]));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn the_gap_limit_note_names_its_target_and_no_probe_costs_nothing_per_probe() {
    let targets = file("silent.txt", &format!("{SILENT}\n"));
    let output =
        run(bulk(&["--targets", targets.to_str().unwrap(), "--text", "-m", "10", "--gap-limit", "2", "-W", "0.1"]));
    let errors = stderr(&output);
    assert!(output.status.success(), "{errors}");
    let notes: Vec<&str> = errors.lines().filter(|line| line.contains("stopped after")).collect();
    assert_eq!(
        notes,
        [format!(
            "hoptrace bulk: {SILENT}: stopped after hop 2: 2 silent hops past the last answer (a higher --gap-limit \
             probes on, up to hop 10)"
        )]
    );
    assert_eq!(stdout(&output).lines().count(), 3, "{}", stdout(&output));
    // Nothing to send: the summary has no cost per probe to give.
    let mut command = bulk(&[]);
    command.stdin(Stdio::null());
    let output = run(command);
    let errors = stderr(&output);
    assert!(output.status.success(), "{errors}");
    assert_eq!(summary_count(&errors, "probes"), 0, "{errors}");
    assert!(!errors.contains("per probe"), "{errors}");
}
