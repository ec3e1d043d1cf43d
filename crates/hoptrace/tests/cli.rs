//! The real binary, flag by flag, on loopback; and every bad input.

mod isolated;

use std::process::Command;

use isolated::*;

#[test]
fn every_flag_traces_loopback() {
    let cases: &[&[&str]] = &[
        &[],
        &["-4"],
        &["-I"],
        &["--icmp"],
        &["-T"],
        &["--tcp", "-p", "1"],
        &["-U"],
        &["--udp"],
        &["-M", "default"],
        &["-M", "udp"],
        &["-M", "icmp"],
        &["-M", "tcp"],
        &["--module", "tcpconn"],
        &["-f", "1"],
        &["--first", "1", "--max-hops", "5"],
        &["-m", "1"],
        &["-q", "1"],
        &["--queries", "10"],
        &["-w", "2"],
        &["-w", "5,3,10"],
        &["--wait", "1.5/2/4"],
        &["-N", "1"],
        &["--sim-queries", "32"],
        &["-z", "0.01"],
        &["--sendwait", "20"],
        &["-p", "40000"],
        &["--port", "40000"],
        &["-s", "127.0.0.1"],
        &["--source", "127.0.0.1"],
        &["-i", "lo"],
        &["--interface", "lo"],
        &["-t", "16"],
        &["--tos", "16"],
        &["-F"],
        &["--dont-fragment"],
        &["--back"],
        &["-e"],
        &["--extensions"],
        &["--unprivileged"],
        &["--unprivileged", "-T"],
        &["-n"],
        &["-q", "2", "-q", "1"],
        &["--sport", "40000"],
        &["--sport", "40000", "-T"],
        &["--unprivileged", "--sport", "40000"],
        &["--fwmark", "7"],
        &["--fwmark", "0x2a", "-I"],
        &["-l", "5"],
        &["--flowlabel", "0x12345"],
        &["-r"],
        &["-r", "-I"],
        &["-d"],
        &["--debug"],
    ];
    for &args in cases {
        let mut with_numeric = vec!["-n"];
        with_numeric.extend_from_slice(args);
        let lines = loopback(&with_numeric, "127.0.0.1");
        let max_hops = if args.contains(&"--max-hops") {
            5
        } else if args.contains(&"-m") {
            1
        } else {
            64
        };
        // A TCP SYN is 44 bytes whatever the length asked for; UDP and ICMP probes are 60 by default.
        let tcp = args.iter().any(|arg| ["-T", "--tcp", "tcp", "tcpconn"].contains(arg));
        let size = if tcp { 44 } else { 60 };
        assert_eq!(
            lines[0],
            format!("traceroute to 127.0.0.1 (127.0.0.1), {max_hops} hops max, {size} byte packets"),
            "{args:?}"
        );
        assert!(lines[1].starts_with(" 1  127.0.0.1  "), "{args:?}: {lines:?}");
        let probes = lines[1].matches(" ms").count();
        let expected = if args.contains(&"-q") {
            1
        } else if args.contains(&"--queries") {
            10
        } else {
            3
        };
        assert_eq!(probes, expected, "{args:?}: {lines:?}");
        assert_eq!(lines.len(), 2, "{args:?}: {lines:?}");
    }
}

#[test]
fn output_formats_on_loopback() {
    let json = loopback(&["-n", "--json", "-c", "2", "--interval", "0"], "127.0.0.1");
    assert_eq!(json.len(), 2, "{json:?}");
    for line in &json {
        let result: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!((result["type"].as_str(), result["dst_addr"].as_str()), (Some("traceroute"), Some("127.0.0.1")));
        assert_eq!(result["result"][0]["result"][0]["from"].as_str(), Some("127.0.0.1"), "{line}");
    }
    let v6: serde_json::Value = serde_json::from_str(&loopback(&["-n", "-6", "--json"], "::1")[0]).unwrap();
    assert_eq!((v6["af"].as_u64(), v6["result"][0]["result"][0]["from"].as_str()), (Some(6), Some("::1")));

    let report = loopback(&["-n", "-c", "3", "--interval", "0.01"], "127.0.0.1");
    assert!(report[0].starts_with("Start: ") && report[1].starts_with("HOST: 127.0.0.1 "), "{report:?}");
    assert!(report[2].starts_with("  1.|-- 127.0.0.1                  0.0%     3 "), "{report:?}");
    assert_eq!(report.len(), 3, "{report:?}");

    let mtr_json = loopback(&["-n", "--report", "--json", "-c", "2", "--interval", "0"], "127.0.0.1").join("\n");
    let mtr_json: serde_json::Value = serde_json::from_str(&mtr_json).unwrap();
    assert_eq!(mtr_json["report"]["hubs"][0]["Snt"].as_u64(), Some(2), "{mtr_json}");

    let csv = loopback(&["-n", "--csv"], "127.0.0.1");
    assert!(csv[0].starts_with("Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,"), "{csv:?}");
    assert!(csv[1].contains(",OK,127.0.0.1,1,127.0.0.1,0.00,1,0,"), "{csv:?}");

    let dot = loopback(&["-n", "--dot"], "127.0.0.1");
    assert_eq!((dot[0].as_str(), dot.last().map(String::as_str)), ("digraph hoptrace {", Some("}")));
    assert!(dot.iter().any(|line| line == r#"  "source" -> "127.0.0.1";"#), "{dot:?}");
}

#[test]
fn ipv6_loopback() {
    for args in [
        &["-n", "-6"][..],
        &["-n", "--ipv6", "-I"],
        &["-n", "-6", "-T"],
        &["-n", "-6", "--unprivileged"],
        &["-n", "-6", "-l", "0x12345"],
        &["-n", "-6", "-l", "7", "--unprivileged", "-T"],
        &["-n", "-6", "--sport", "40001", "--unprivileged"],
    ] {
        let lines = loopback(args, "::1");
        let size = if args.contains(&"-T") { 64 } else { 80 };
        assert_eq!(lines[0], format!("traceroute to ::1 (::1), 64 hops max, {size} byte packets"), "{args:?}");
        assert!(lines[1].starts_with(" 1  ::1  "), "{args:?}: {lines:?}");
    }
}

#[test]
fn names_and_numbers() {
    let lines = loopback(&[], "127.0.0.1");
    assert!(lines[1].starts_with(" 1  ") && lines[1].contains(" (127.0.0.1)  "), "{lines:?}");
    let lines = loopback(&["-n"], "127.0.0.1");
    assert!(!lines[1].contains('('), "{lines:?}");
}

#[test]
fn trailing_packet_length() {
    let header = |size| format!("traceroute to 127.0.0.1 (127.0.0.1), 64 hops max, {size} byte packets\n");
    let output = hoptrace(&["-n", "127.0.0.1", "1000"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with(&header(1000)), "{}", stdout(&output));
    let output = hoptrace(&["-n", "--mtu", "127.0.0.1"]);
    assert!(stdout(&output).starts_with(&header(65000)), "{}", stdout(&output));
    // Too short a length is raised to the least the method sends, and the header says so: the IP and UDP headers
    // (28 bytes, as traceroute prints), and 2 more for the checksum a Paris probe (raw sockets, as root) carries.
    let output = isolated_as(Some("65534"), &["-n", "127.0.0.1", "10"]);
    assert!(stdout(&output).starts_with(&header(28)), "{}", stdout(&output));
    let output = hoptrace(&["-n", "127.0.0.1", "10"]);
    assert!(stdout(&output).starts_with(&header(30)), "{}", stdout(&output));
    let output = hoptrace(&["-n", "-T", "127.0.0.1", "1000"]);
    assert!(stdout(&output).starts_with(&header(44)), "{}", stdout(&output));
}

#[test]
fn json_size_is_the_payload_of_the_probe_the_header_names() {
    // RIPE Atlas's `size` is the probe's payload, past the IP and UDP/ICMP/TCP headers.
    let cases: &[(&[&str], &str, u64)] = &[
        (&["-n"], "127.0.0.1", 32),
        (&["-n", "-I"], "127.0.0.1", 32),
        (&["-n", "-T"], "127.0.0.1", 0),
        (&["-n", "-6"], "::1", 32),
        (&["-n"], "127.0.0.1 10", 2),
        (&["-n"], "127.0.0.1 100", 72),
    ];
    for &(args, target, size) in cases {
        let mut all = args.to_vec();
        all.push("--json");
        all.extend(target.split(' '));
        let output = hoptrace(&all);
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["size"].as_u64(), Some(size), "{all:?}");
        let mut all = args.to_vec();
        all.extend(target.split(' '));
        let text = stdout(&hoptrace(&all));
        let header = if target.contains(':') { 48 } else { 28 } + if args.contains(&"-T") { 16 } else { 0 };
        assert!(text.contains(&format!(" {} byte packets\n", header + size)), "{all:?}: {text}");
    }
}

#[test]
fn help_and_version() {
    let output = hoptrace(&["--help"]);
    assert!(output.status.success());
    for flag in ["--max-hops", "--queries", "--wait", "--sim-queries", "--sendwait", "--as-path-lookups", "--mtu"] {
        assert!(stdout(&output).contains(flag), "help lacks {flag}");
    }
    // --version names the commit built from (when built in a git checkout, as here).
    let commit = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| format!(" (commit {})", String::from_utf8_lossy(&output.stdout).trim()))
        .unwrap_or_default();
    for args in [&["-V"][..], &["--version"], &["--tracepath", "-V"]] {
        let output = hoptrace(args);
        assert!(output.status.success());
        let name = if args.contains(&"--tracepath") { "tracepath" } else { "hoptrace" };
        assert_eq!(stdout(&output), format!("{name} {}{commit}\n", env!("CARGO_PKG_VERSION")), "{args:?}");
    }
}

#[test]
fn bad_input_gets_one_line_and_status_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["-m", "0", "127.0.0.1"], "hoptrace: first hop out of range"),
        (&["-m", "256", "127.0.0.1"], "hoptrace: max hops cannot be more than 255"),
        (&["-q", "11", "127.0.0.1"], "hoptrace: no more than 10 probes per hop"),
        (&["-q", "0", "127.0.0.1"], "hoptrace: no more than 10 probes per hop"),
        (&["-f", "5", "-m", "3", "127.0.0.1"], "hoptrace: first hop out of range"),
        (&["-f", "0", "127.0.0.1"], "hoptrace: first hop out of range"),
        (&["-m", "abc", "127.0.0.1"], "hoptrace: cannot handle `-m' option with arg `abc'"),
        (&["-w", "abc", "127.0.0.1"], "hoptrace: cannot handle `-w' option with arg `abc'"),
        (&["-w", "-1", "127.0.0.1"], "hoptrace: bad wait specifications `-1' used"),
        (&["-z", "x", "127.0.0.1"], "hoptrace: cannot handle `-z' option with arg `x'"),
        (&["-z", "1e300", "127.0.0.1"], "hoptrace: cannot handle `-z' option with arg `1e300'"),
        (&["-w", "1e20", "127.0.0.1"], "hoptrace: cannot handle `-w' option with arg `1e20'"),
        (&["-t", "300", "127.0.0.1"], "hoptrace: cannot handle `-t' option with arg `300'"),
        (&["-p", "70000", "127.0.0.1"], "hoptrace: cannot handle `-p' option with arg `70000'"),
        (&["-s", "not-an-address", "127.0.0.1"], "hoptrace: cannot handle `-s' option with arg `not-an-address'"),
        (&["-M", "foo", "127.0.0.1"], "hoptrace: unknown traceroute module foo"),
        (&["127.0.0.1", "70000"], "hoptrace: too big packetlen 70000 specified"),
        (&["127.0.0.1", "x"], "hoptrace: cannot handle packetlen `x'"),
        (&["-Q", "127.0.0.1"], "hoptrace: unexpected argument '-Q' found; see hoptrace --help"),
        (
            &["--icmpp", "127.0.0.1"],
            "hoptrace: unexpected argument '--icmpp' found (did you mean '--icmp'?); see hoptrace --help",
        ),
        (&["--tracepath", "-q", "1", "127.0.0.1"], "hoptrace: unexpected argument '-q' found; see tracepath --help"),
        (&["-n"], "hoptrace: the following required arguments were not provided: <HOST>"),
        (&[""], "hoptrace: empty host name"),
        (&["-g", "198.18.0.1", "127.0.0.1"], "hoptrace: -g (source routing through gateways) is not supported"),
        (&["-D", "127.0.0.1"], "hoptrace: -D (DCCP probes) is not supported"),
        (&["-P", "47", "127.0.0.1"], "hoptrace: -P (raw probes of another protocol) is not supported"),
        (&["-UL", "127.0.0.1"], "hoptrace: -UL (UDP-Lite probes) is not supported"),
        (&["-O", "info", "127.0.0.1"], "hoptrace: -O (module options) is not supported"),
        (
            &["-M", "udplite", "127.0.0.1"],
            "hoptrace: -M udplite is not supported (default, udp, icmp, tcp, tcpconn are)",
        ),
        (&["-M", "raw", "127.0.0.1"], "hoptrace: -M raw is not supported (default, udp, icmp, tcp, tcpconn are)"),
        (&["-l", "0x100000", "127.0.0.1"], "hoptrace: cannot handle `-l' option with arg `0x100000'"),
        (&["--fwmark", "x", "127.0.0.1"], "hoptrace: cannot handle `--fwmark' option with arg `x'"),
        (&["--sport", "70000", "127.0.0.1"], "hoptrace: cannot handle `--sport' option with arg `70000'"),
        (&["-I", "-T", "127.0.0.1"], "hoptrace: the argument '--icmp' cannot be used with '--tcp'"),
        (&["-4", "::1"], "hoptrace: ::1: Address family for hostname not supported"),
        (&["-6", "127.0.0.1"], "hoptrace: 127.0.0.1: Address family for hostname not supported"),
        (&["no-such-host.invalid"], "hoptrace: unknown host no-such-host.invalid"),
        (
            &["--mda", "-c", "3", "127.0.0.1"],
            "hoptrace: --mda is a single trace: use it alone, with --json or with --dot",
        ),
        (
            &["--mda", "--report", "127.0.0.1"],
            "hoptrace: --mda is a single trace: use it alone, with --json or with --dot",
        ),
        (&["--flows", "2", "127.0.0.1"], "hoptrace: --flows goes with a report (--report, -c, --csv, --dot, --live)"),
        (&["--confidence", "99", "127.0.0.1"], "hoptrace: --confidence goes with --mda"),
        (&["--mda", "--confidence", "90", "127.0.0.1"], "hoptrace: cannot handle `--confidence' option with arg `90'"),
        (&["--live", "127.0.0.1"], "hoptrace: --live needs a terminal: use --report for a report on a pipe or file"),
        (&["--live", "--json", "127.0.0.1"], "hoptrace: the argument '--live' cannot be used with '--json'"),
        (
            &["-T", "--paris", "--unprivileged", "127.0.0.1"],
            "hoptrace: Paris TCP needs raw sockets (root or CAP_NET_RAW)",
        ),
        (&["--classic", "-p", "65000", "127.0.0.1"], "hoptrace: port too high: probes would run past 65535"),
        (&["-c", "0", "127.0.0.1"], "hoptrace: cannot handle `-c' option with arg `0'"),
        (&["--report", "-c", "x", "127.0.0.1"], "hoptrace: cannot handle `-c' option with arg `x'"),
        (&["--report", "--interval", "-1", "127.0.0.1"], "hoptrace: cannot handle `--interval' option with arg `-1'"),
        (&["--json", "--csv", "127.0.0.1"], "hoptrace: the argument '--json' cannot be used with '--csv'"),
    ];
    for (args, message) in cases {
        let output = isolated(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert_eq!(stderr(&output), format!("{message}\n"), "{args:?}");
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
}

#[test]
fn system_refusals_get_one_line_and_status_1() {
    let cases: &[(&[&str], &str)] = &[
        (&["-n", "-s", "198.18.0.1", "127.0.0.1"], "hoptrace: cannot use source address 198.18.0.1: "),
        (&["-n", "-i", "nosuchif0", "127.0.0.1"], "hoptrace: cannot bind to interface nosuchif0: "),
        (&["-n", "198.18.0.1"], "hoptrace: 198.18.0.1: Network is unreachable"),
    ];
    for (args, message) in cases {
        // In an empty namespace: nothing is routable, so nothing is sent.
        let output = isolated(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).starts_with(message), "{args:?}: {}", stderr(&output));
        assert_eq!(stderr(&output).lines().count(), 1, "{args:?}");
    }
}

#[test]
fn missing_privileges_name_the_fix() {
    let output = isolated_as(Some("65534"), &["-I", "127.0.0.1"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "hoptrace: ICMP needs root, CAP_NET_RAW, or a net.ipv4.ping_group_range that includes your group — or use \
         UDP (the default), which needs none\n"
    );
}

#[test]
fn tracepath_mode() {
    let lines = loopback(&["--tracepath", "-n"], "127.0.0.1");
    assert_eq!(lines[0], format!(" 1:  {:<52}", "127.0.0.1")[..57].to_owned() + &lines[0][57..]);
    assert!(lines[0].ends_with("ms reached"), "{lines:?}");
    assert_eq!(lines[1], "     Resume: pmtu 65535 hops 1 back 1 ");
    for args in [
        &["--tracepath", "-4", "-n"][..],
        &["--tracepath", "-b"],
        &["--tracepath", "-l", "1000", "-n"],
        &["--tracepath", "-m", "3", "-p", "4000", "-n"],
    ] {
        let lines = loopback(args, "127.0.0.1");
        assert!(lines[0].starts_with(" 1:  "), "{args:?}: {lines:?}");
        assert!(lines[0].ends_with("reached"), "{args:?}: {lines:?}");
    }
    let lines = loopback(&["--tracepath", "-6", "-n"], "::1");
    assert!(lines[0].starts_with(" 1:  ::1 "), "{lines:?}");
    // --tracepath anywhere, and repeated flags as traceroute and tracepath take them.
    for args in [&["-n", "--tracepath"][..], &["-n", "-n", "--tracepath", "-m", "9", "-m", "3"]] {
        let lines = loopback(args, "127.0.0.1");
        assert!(lines[0].starts_with(" 1:  127.0.0.1 ") && lines[0].ends_with("reached"), "{args:?}: {lines:?}");
    }
}

#[test]
fn invoked_as_tracepath() {
    let dir = std::env::temp_dir().join(format!("hoptrace-as-tracepath-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("tracepath");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(BINARY, &link).unwrap();
    let output = run_isolated(link.to_str().unwrap(), None, &["-n", "127.0.0.1"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with(" 1:  127.0.0.1 "), "{}", stdout(&output));
    let output = isolated(&["--tracepath", "-m", "0", "127.0.0.1"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), "hoptrace: cannot handle `-m' option with arg `0'\n");
}

#[test]
fn family_messages_and_repeated_flags_as_traceroute_has_them() {
    for args in [&["-6", "127.0.0.1"][..], &["-4", "::1"]] {
        let theirs = run_isolated("traceroute", None, args);
        let ours = hoptrace(args);
        assert_eq!((ours.status.code(), theirs.status.code()), (Some(2), Some(2)), "{args:?}");
        let theirs = stderr(&theirs);
        let theirs = theirs.lines().find(|line| line.contains("Address family")).unwrap_or_default().to_owned();
        assert_eq!(stderr(&ours), format!("hoptrace: {theirs}\n"), "{args:?}");
    }
    let args = ["-n", "-n", "-q", "1", "127.0.0.1"];
    let (theirs, ours) = (run_isolated("traceroute", None, &args), hoptrace(&args));
    assert!(theirs.status.success() && ours.status.success(), "{}", stderr(&ours));
    assert_eq!(stdout(&ours).lines().nth(1).map(|line| &line[..14]), Some(" 1  127.0.0.1 "));
}
