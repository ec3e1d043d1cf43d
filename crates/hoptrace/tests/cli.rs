//! The real binary, flag by flag, on loopback; and every bad input. Every run that may send or look up anything is
//! inside a new network namespace that has nothing but loopback, so that no probe and no name lookup can leave it:
//! those need root, and run with `--features lab` (as `scripts/test.sh` does).

mod isolated;

use std::process::Command;

use isolated::*;

/// What the probes of a run look like on the wire: how many left, how many of them matched an nftables expression,
/// and how long the run took.
struct Wire {
    lines: Vec<String>,
    probes: u64,
    matching: u64,
    elapsed: std::time::Duration,
}

/// Runs hoptrace with `args` towards `target` in a namespace with nothing but loopback, counting (nftables, output
/// hook) the probes it sent — `probe` selects them — and those of them that also match `rule`.
fn on_the_wire(args: &[&str], target: &str, probe: &str, rule: &str) -> Wire {
    const COUNTERS: &str = "--- counters";
    // The probe selector and the rule are the script's first two arguments (nft joins its arguments into one rule).
    let script = format!(
        r#"probe=$1 rule=$2 && shift 2 && ip link set lo up && nft add table inet wire && nft add chain inet wire out '{{ type filter hook output priority 0; }}' && nft add rule inet wire out "$probe" counter && nft add rule inet wire out "$probe" "$rule" counter && "$@" && echo '{COUNTERS}' && nft list chain inet wire out"#
    );
    let started = std::time::Instant::now();
    let output = Command::new("unshare")
        .args(["--net", "sh", "-c", &script, "sh", probe, rule, BINARY])
        .args(args)
        .arg(target)
        .output()
        .expect("unshare runs (needs root)");
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    let text = stdout(&output);
    let (trace, counters) = text.split_once(COUNTERS).unwrap_or_else(|| panic!("{args:?}: no counters in {text}"));
    let counts: Vec<u64> = counters
        .lines()
        .filter_map(|line| line.split(" counter packets ").nth(1)?.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(counts.len(), 2, "{args:?}: {counters}");
    Wire { lines: trace.lines().map(str::to_owned).collect(), probes: counts[0], matching: counts[1], elapsed }
}

/// What a flag does to the probes on the wire.
#[derive(Debug, Clone, Copy)]
enum Effect {
    /// Every probe matches this nftables expression.
    All(&'static str),
    /// Exactly this many probes match it.
    Exactly(&'static str, u64),
    /// This many probes, exactly, left.
    Probes(u64),
    /// At least this many probes left (all that may be in flight go before the first reply is read).
    AtLeast(u64),
    /// The run took at least this long (a pause between probes).
    Slower(std::time::Duration),
    /// Nothing to see on loopback's wire: the output check alone (`-e` and `--back` show only with MPLS labels or
    /// an asymmetric path, which `golden.rs` covers exactly).
    Output,
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn every_flag_traces_loopback() {
    use std::time::Duration;
    use Effect::*;
    // As root: raw sockets, so UDP is Paris (one destination port) unless --unprivileged.
    let paris_udp = "udp dport 33434";
    let raw_syn = "tcp dport 80 tcp option timestamp missing"; // our own SYN, not the kernel's
    let kernel_syn = "tcp dport 80 tcp option timestamp exists"; // connect()'s
    let cases: &[(&[&str], Effect)] = &[
        (&[], All(paris_udp)),
        (&[], All("ip frag-off & 0x4000 == 0")), // no Don't Fragment unless asked for
        (&["-4"], All(paris_udp)),
        (&["-I"], All("icmp type echo-request icmp id != 0")),
        (&["--icmp"], All("icmp type echo-request")),
        (&["-T"], All(raw_syn)),
        (&["--tcp", "-p", "1"], All("tcp dport 1")),
        (&["-U"], All("udp dport 53")),
        (&["--udp"], All("udp dport 53")),
        (&["-M", "default"], All(paris_udp)),
        (&["-M", "udp"], All("udp dport 53")),
        (&["-M", "icmp"], All("icmp type echo-request")),
        (&["-M", "tcp"], All(raw_syn)),
        (&["--module", "tcpconn"], All(kernel_syn)),
        (&["-f", "1"], All("ip ttl >= 1")),
        (&["--first", "1", "--max-hops", "5"], All("ip ttl 1-5")),
        (&["-m", "1"], All("ip ttl 1")),
        (&["-q", "1"], Output),
        (&["--queries", "10"], Output),
        (&["-w", "2"], Output),
        (&["-w", "5,3,10"], Output),
        (&["--wait", "1.5/2/4"], Output),
        (&["-N", "1"], Probes(3)), // one at a time: the destination answers the first, two more follow
        (&["--sim-queries", "32"], AtLeast(32)),
        (&["-z", "0.01"], Slower(Duration::from_millis(20))), // 3 probes, 10 ms apart
        (&["--sendwait", "20"], Slower(Duration::from_millis(40))), // above 10: milliseconds
        (&["-p", "40000"], All("udp dport 40000")),
        (&["--port", "40000"], All("udp dport 40000")),
        (&["-s", "127.0.0.2"], All("ip saddr 127.0.0.2")),
        (&["--source", "127.0.0.2"], All("ip saddr 127.0.0.2")),
        (&["-i", "lo"], All("oifname lo")),
        (&["--interface", "lo"], All("oifname lo")),
        (&["-t", "16"], All("ip dscp 4")), // TOS 16: DSCP 4
        (&["--tos", "16"], All("ip dscp 4")),
        (&["-F"], All("ip frag-off & 0x4000 != 0")),
        (&["--dont-fragment"], All("ip frag-off & 0x4000 != 0")),
        (&["--back"], Output),
        (&["-e"], Output),
        (&["--extensions"], Output),
        (&["--unprivileged"], Exactly("udp dport 33434", 1)), // classic: a port per probe
        (&["--unprivileged", "-T"], All(kernel_syn)),
        (&["-n"], Output),
        (&["-q", "2", "-q", "1"], Output), // the last one counts, as in traceroute
        (&["--sport", "40000"], All("udp sport 40000")),
        (&["--sport", "40000", "-T"], All("tcp sport 40000")),
        (&["--unprivileged", "--sport", "40000"], All("udp sport 40000")),
        (&["--fwmark", "7"], All("meta mark 7")),
        (&["--fwmark", "0x2a", "-I"], All("meta mark 0x2a")),
        (&["-l", "5"], Output), // flow labels are IPv6's (the lab checks them there)
        (&["--flowlabel", "0x12345"], Output),
        (&["-r"], Output), // SO_DONTROUTE: nothing on the wire; the lab checks the refusal off the attached networks
        (&["-r", "-I"], Output),
        (&["-d"], Output), // SO_DEBUG
        (&["--debug"], Output),
    ];
    for &(args, effect) in cases {
        let mut with_numeric = vec!["-n"];
        with_numeric.extend_from_slice(args);
        let protocol = |flags: &[&str]| args.windows(flags.len()).any(|pair| pair == flags);
        let probe = if protocol(&["-I"]) || protocol(&["--icmp"]) || protocol(&["-M", "icmp"]) {
            "icmp type echo-request"
        } else if ["-T", "--tcp", "tcp", "tcpconn"].iter().any(|flag| args.contains(flag)) {
            "tcp flags & (syn | ack) == syn"
        } else {
            "meta l4proto udp"
        };
        let rule = match effect {
            All(rule) | Exactly(rule, _) => rule,
            _ => "ip version 4",
        };
        let wire = on_the_wire(&with_numeric, "127.0.0.1", &format!("ip daddr 127.0.0.1 {probe}"), rule);
        let lines = &wire.lines;
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
        assert!(wire.probes >= expected as u64, "{args:?}: {} probes on the wire", wire.probes);
        match effect {
            All(rule) => assert_eq!(wire.matching, wire.probes, "{args:?}: probes matching {rule}"),
            Exactly(rule, count) => assert_eq!(wire.matching, count, "{args:?}: probes matching {rule}"),
            Probes(count) => assert_eq!(wire.probes, count, "{args:?}"),
            AtLeast(count) => assert!(wire.probes >= count, "{args:?}: {} probes", wire.probes),
            Slower(least) => assert!(wire.elapsed >= least, "{args:?}: {:?}", wire.elapsed),
            Output => {}
        }
    }
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
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
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
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
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn names_and_numbers() {
    let lines = loopback(&[], "127.0.0.1");
    assert!(lines[1].starts_with(" 1  ") && lines[1].contains(" (127.0.0.1)  "), "{lines:?}");
    let lines = loopback(&["-n"], "127.0.0.1");
    assert!(!lines[1].contains('('), "{lines:?}");
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
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
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
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
    // Nothing is sent or looked up: no namespace needed.
    let run = |args: &[&str]| Command::new(BINARY).args(args).output().expect("hoptrace runs");
    let output = run(&["--help"]);
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
        let output = run(args);
        assert!(output.status.success());
        let name = if args.contains(&"--tracepath") { "tracepath" } else { "hoptrace" };
        assert_eq!(stdout(&output), format!("{name} {}{commit}\n", env!("CARGO_PKG_VERSION")), "{args:?}");
    }
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
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
        (&["--mda-wait", "5", "127.0.0.1"], "hoptrace: --mda-wait goes with --mda"),
        (&["--mda", "--mda-wait", "soon", "127.0.0.1"], "hoptrace: cannot handle `--mda-wait' option with arg `soon'"),
        (&["--live", "127.0.0.1"], "hoptrace: --live needs a terminal: use --report for a report on a pipe or file"),
        (&["--live", "--json", "127.0.0.1"], "hoptrace: the argument '--live' cannot be used with '--json'"),
        (&["127.0.0.1", "60", "127.0.0.3"], "hoptrace: several hosts go with --live only (`127.0.0.3')"),
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
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
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
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
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
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
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

#[test]
fn live_takes_several_hosts_and_one_number_for_the_packet_length() {
    let settings = |args: &[&str]| match hoptrace::cli::parse(args.iter().map(Into::into)) {
        Ok(hoptrace::cli::Request::Trace(settings)) => settings,
        other => panic!("{args:?}: {other:?}"),
    };
    let live = settings(&["hoptrace", "--live", "--no-color", "a", "b", "c"]);
    assert_eq!(
        (live.hosts(), live.probing.packet_len, live.color),
        (vec!["a".into(), "b".into(), "c".into()], None, false)
    );
    let live = settings(&["hoptrace", "--live", "a", "100"]);
    assert_eq!((live.hosts(), live.probing.packet_len, live.color), (vec!["a".to_owned()], Some(100), true));
    let live = settings(&["hoptrace", "--live", "a", "b"]);
    assert_eq!(live.hosts(), ["a", "b"]);
}
