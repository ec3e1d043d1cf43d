//! `-O warts` and `--warts` from the command line: what scamper's `sc_warts2json` reads of a trace on loopback,
//! and the bad uses, each one line. Runs that may send anything are inside a namespace with nothing but loopback.

mod isolated;

use std::process::Command;

use isolated::*;

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn warts_on_loopback_is_what_scamper_reads() {
    for args in [&["-n", "-q", "2", "-O", "warts", "127.0.0.1"][..], &["-n", "-q", "2", "--warts", "::1"]] {
        let output = isolated(args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let file = std::env::temp_dir().join(format!("hoptrace-cli-{}.warts", std::process::id()));
        std::fs::write(&file, &output.stdout).unwrap();
        let json = Command::new("sc_warts2json").arg(&file).output().expect("sc_warts2json runs");
        let _ = std::fs::remove_file(&file);
        let lines: Vec<serde_json::Value> =
            String::from_utf8_lossy(&json.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        let kinds: Vec<&str> = lines.iter().map(|line| line["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["cycle-start", "trace", "cycle-stop"], "{args:?}");
        let target = args.last().unwrap();
        let hops: Vec<(&str, u64)> = lines[1]["hops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hop| (hop["addr"].as_str().unwrap(), hop["probe_ttl"].as_u64().unwrap()))
            .collect();
        assert_eq!(hops, [(*target, 1), (*target, 1)], "{args:?}: {}", lines[1]);
        assert_eq!((lines[1]["dst"].as_str(), lines[1]["stop_reason"].as_str()), (Some(*target), Some("COMPLETED")));
    }
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_warts_file_beside_rounds_of_json_has_a_trace_per_round() {
    let file = std::env::temp_dir().join(format!("hoptrace-cli-rounds-{}.warts", std::process::id()));
    let warts = format!("--warts={}", file.display());
    let output = isolated(&["-n", "-q", "1", "--json", "-c", "3", "--interval", "0", &warts, "127.0.0.1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 3, "{}", stdout(&output));
    let json = Command::new("sc_warts2json").arg(&file).output().expect("sc_warts2json runs");
    let _ = std::fs::remove_file(&file);
    let kinds: Vec<String> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["cycle-start", "trace", "trace", "trace", "cycle-stop"]);
}

#[test]
fn warts_on_stdout_with_another_output_gets_one_line_and_status_2() {
    let message = "hoptrace: warts on stdout goes alone: --warts=FILE for both\n";
    for args in [&["--warts", "--json", "127.0.0.1"][..], &["-O", "warts", "-c", "2", "127.0.0.1"]] {
        let output = isolated(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert_eq!(stderr(&output), message, "{args:?}");
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
    let output = isolated(&["-O", "info", "127.0.0.1"]);
    assert_eq!(stderr(&output), "hoptrace: -O (module options) is not supported\n");
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_warts_file_that_cannot_be_written_gets_one_line_and_status_1() {
    let output = isolated(&["-n", "--warts=/nonexistent/x.warts", "127.0.0.1"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let expected = "hoptrace: write error: cannot write /nonexistent/x.warts: No such file or directory\n";
    assert_eq!(stderr(&output), expected);
}

#[test]
fn warts_on_a_terminal_is_refused_before_anything_is_sent() {
    // `script` gives the run a terminal; the refusal comes before any socket is opened.
    let hoptrace = env!("CARGO_BIN_EXE_hoptrace");
    let output = Command::new("script")
        .args(["-qec", &format!("{hoptrace} -n -q 1 -O warts 127.0.0.1"), "/dev/null"])
        .output()
        .expect("script runs");
    assert_eq!(output.status.code(), Some(1));
    let seen = String::from_utf8_lossy(&output.stdout).replace('\r', "");
    assert_eq!(seen, "hoptrace: warts is binary: redirect stdout, or give --warts=FILE\n");
}
