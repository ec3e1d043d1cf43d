//! `hoptrace bulk`: caracal's contract over thousands of lab destinations behind ECMP diamonds (AnyIP).

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::{Child, Command, Output, Stdio};

use netlab::{Family, Lab, LabSpec, NodeId};

use crate::support::*;

/// The destinations' IPv4 range (8,192 addresses) and IPv6 range, both answered by `dst`.
pub const V4_RANGE: (Ipv4Addr, u8) = (Ipv4Addr::new(198, 19, 224, 0), 19);
pub const V6_RANGE: (Ipv6Addr, u8) = (Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0), 48);

/// client — r1 — {r2a, r2b} — r3 — {r4a, r4b, r4c} — r5 — dst, `dst` answering for both ranges.
pub struct BulkLab {
    pub lab: Lab,
    pub client: NodeId,
    /// Per TTL 1..=5, the addresses that may answer there (any interface of the routers at that distance).
    pub hops: Vec<HashSet<IpAddr>>,
    /// The destination's IPv6 address on its link: where its ICMPv6 errors come from (an AnyIP address is no
    /// interface's, so the kernel picks this one).
    pub dst_v6: IpAddr,
    /// The routers at each distance from the client (1..=5), for the links between them.
    pub levels: Vec<Vec<NodeId>>,
    /// The links, as node pairs.
    pub links: Vec<(NodeId, NodeId)>,
}

pub fn bulk_lab() -> BulkLab {
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let r1 = spec.router("r1");
    let r2: Vec<NodeId> = ["r2a", "r2b"].map(|name| spec.router(name)).to_vec();
    let r3 = spec.router("r3");
    let r4: Vec<NodeId> = ["r4a", "r4b", "r4c"].map(|name| spec.router(name)).to_vec();
    let r5 = spec.router("r5");
    let dst = spec.node("dst");
    let mut links = vec![(client, r1)];
    for &branch in &r2 {
        links.extend([(r1, branch), (branch, r3)]);
    }
    for &branch in &r4 {
        links.extend([(r3, branch), (branch, r5)]);
    }
    links.push((r5, dst));
    for &(a, b) in &links {
        spec.link(a, b);
    }
    spec.anyip(dst, IpAddr::V4(V4_RANGE.0), V4_RANGE.1);
    spec.anyip(dst, IpAddr::V6(V6_RANGE.0), V6_RANGE.1);
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    let levels = [vec![r1], r2, vec![r3], r4, vec![r5]];
    let hops = levels
        .iter()
        .map(|routers| {
            let mut addrs = HashSet::new();
            for &(a, b) in &links {
                for (node, peer) in [(a, b), (b, a)] {
                    if routers.contains(&node) {
                        for family in [Family::V4, Family::V6] {
                            addrs.insert(lab.iface_addr(node, peer, family));
                        }
                    }
                }
            }
            addrs
        })
        .collect();
    let dst_v6 = lab.addr(dst, Family::V6);
    BulkLab { lab, client, hops, dst_v6, levels: levels.to_vec(), links }
}

/// The `n`-th address of a destination range.
pub fn v4_dst(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from(V4_RANGE.0) + n))
}

pub fn v6_dst(n: u32) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(u128::from(V6_RANGE.0) + u128::from(n)))
}

/// One row of caracal's CSV, the fields this test reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub probe_protocol: u8,
    pub probe_src_addr: IpAddr,
    pub probe_dst_addr: IpAddr,
    pub probe_src_port: u16,
    pub probe_dst_port: u16,
    pub probe_ttl: u8,
    pub quoted_ttl: u8,
    pub reply_src_addr: IpAddr,
    pub reply_icmp_type: u8,
    pub reply_icmp_code: u8,
    pub rtt: u16,
    pub round: String,
}

/// IPv4-mapped addresses as IPv4.
fn unmap(text: &str) -> IpAddr {
    let addr: Ipv6Addr = text.parse().unwrap_or_else(|_| panic!("an IPv6 address: {text}"));
    addr.to_ipv4_mapped().map_or(IpAddr::V6(addr), IpAddr::V4)
}

pub fn parse_csv(stdout: &str) -> Vec<CsvRow> {
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some(hoptrace::commands::bulk::CSV_HEADER), "the header first:\n{stdout}");
    lines
        .map(|line| {
            let (head, tail) = line.split_once(",\"[").unwrap_or_else(|| panic!("MPLS column in {line}"));
            let f: Vec<&str> = head.split(',').collect();
            let (_, tail) = tail.split_once("]\",").unwrap_or_else(|| panic!("MPLS column in {line}"));
            let (rtt, round) = tail.split_once(',').unwrap_or_else(|| panic!("rtt and round in {line}"));
            assert_eq!(f.len(), 14, "{line}");
            let n = |i: usize| f[i].parse::<u64>().unwrap_or_else(|_| panic!("column {i} of {line}"));
            CsvRow {
                probe_protocol: n(1) as u8,
                probe_src_addr: unmap(f[2]),
                probe_dst_addr: unmap(f[3]),
                probe_src_port: n(4) as u16,
                probe_dst_port: n(5) as u16,
                probe_ttl: n(6) as u8,
                quoted_ttl: n(7) as u8,
                reply_src_addr: unmap(f[8]),
                reply_icmp_type: n(10) as u8,
                reply_icmp_code: n(11) as u8,
                rtt: rtt.parse().unwrap_or_else(|_| panic!("rtt of {line}")),
                round: round.to_owned(),
            }
        })
        .collect()
}

/// Runs `command` with `input` on its stdin; returns its output (not yet checked).
pub fn run_with_input(mut command: Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hoptrace bulk starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("hoptrace bulk ends");
    writer.join().expect("the writer").expect("the input is written");
    output
}

/// `hoptrace bulk ARGS` started in `node`, its standard streams piped.
pub fn spawn_bulk(lab: &Lab, node: NodeId, args: &[&str]) -> Child {
    let mut command = hoptrace_command(lab, node);
    command.arg("bulk").args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command.spawn().expect("hoptrace bulk starts")
}

/// The numbers of the summary line: sent, refused, filtered, invalid, received, matched, integrity, unrelated.
pub fn summary(stderr: &str) -> [u64; 8] {
    let line =
        stderr.lines().find(|l| l.starts_with("hoptrace bulk: ") && l.contains("probes sent")).unwrap_or_else(|| {
            panic!("no summary in:\n{stderr}");
        });
    let words: Vec<&str> = line.split_whitespace().collect();
    let before = |word: &str| -> u64 {
        let at = words
            .iter()
            .position(|w| w.trim_end_matches([',', ';']) == word)
            .unwrap_or_else(|| panic!("{word} in {line}"));
        words[at - 1].parse().unwrap_or_else(|_| panic!("a number before {word} in {line}"))
    };
    let sent: u64 = words[2].parse().expect("sent");
    let integrity = {
        let at = words.iter().position(|w| *w == "dropped").expect("dropped");
        words[at - 1].parse().expect("integrity")
    };
    [
        sent,
        before("refused"),
        before("filtered"),
        before("invalid"),
        before("ICMP"),
        before("replies"),
        integrity,
        before("unrelated"),
    ]
}

/// Probes: every destination `0..count` of a range, at one TTL below the destination (1..=5, by its number) and
/// one past it (8); ICMP and UDP alternately.
fn probes(count: u32, ipv6: bool, port_base: u16) -> Vec<String> {
    let mut lines = Vec::new();
    for n in 0..count {
        let (dst, icmp) = if ipv6 { (v6_dst(n), "icmp6") } else { (v4_dst(n), "icmp") };
        let protocol = if n % 2 == 0 { icmp } else { "udp" };
        let port = port_base + (n % 64) as u16;
        for ttl in [1 + n % 5, 8] {
            lines.push(format!("{dst},{port},33434,{ttl},{protocol}"));
        }
    }
    lines
}

#[test]
fn bulk_answers_thousands_of_destinations_behind_ecmp() {
    let _machine = shared_machine();
    let net = bulk_lab();
    let mut lines = probes(5000, false, 24000);
    lines.extend(probes(500, true, 24000));
    let input = lines.join("\n") + "\n";
    let mut command = hoptrace_command(&net.lab, net.client);
    command.args(["bulk", "-r", "20000", "-W", "1", "--caracal-id", "7", "--meta-round", "3"]);
    let output = run_with_input(command, &input);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    let [sent, refused, _, invalid, _, matched, integrity, _] = summary(&stderr);
    assert_eq!((sent, refused, invalid, integrity), (lines.len() as u64, 0, 0, 0), "{stderr}");
    let rows = parse_csv(&stdout);
    assert_eq!(rows.len() as u64, matched, "{stderr}");
    let sent: HashSet<(IpAddr, u16, u8, u8)> = lines
        .iter()
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let protocol = match f[4] {
                "icmp" => 1,
                "icmp6" => 58,
                _ => 17,
            };
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[3].parse().unwrap(), protocol)
        })
        .collect();
    let mut answered = HashSet::new();
    for row in &rows {
        let key = (row.probe_dst_addr, row.probe_src_port, row.probe_ttl, row.probe_protocol);
        assert!(sent.contains(&key), "a row for no probe sent: {row:?}");
        assert!(answered.insert(key), "two rows for one probe: {row:?}");
        assert_eq!(row.round, "3");
        assert_eq!(row.probe_dst_port, if row.probe_protocol == 17 { 33434 } else { 0 }, "{row:?}");
        assert!(row.rtt < 10_000, "{row:?}");
        if row.probe_ttl <= 5 {
            assert!(net.hops[usize::from(row.probe_ttl) - 1].contains(&row.reply_src_addr), "{row:?}");
            assert_eq!(row.quoted_ttl, 1, "{row:?}");
            let time_exceeded = if row.probe_dst_addr.is_ipv4() { (11, 0) } else { (3, 0) };
            assert_eq!((row.reply_icmp_type, row.reply_icmp_code), time_exceeded, "{row:?}");
        } else {
            let unreachable_v6 = row.probe_protocol == 17 && row.probe_dst_addr.is_ipv6();
            let from = if unreachable_v6 { net.dst_v6 } else { row.probe_dst_addr };
            assert_eq!(row.reply_src_addr, from, "{row:?}");
            let expected = match (row.probe_protocol, row.probe_dst_addr.is_ipv4()) {
                (1, _) => (0, 0),
                (58, _) => (129, 0),
                (_, true) => (3, 3),
                (_, false) => (1, 4),
            };
            assert_eq!((row.reply_icmp_type, row.reply_icmp_code), expected, "{row:?}");
        }
    }
    let ratio = answered.len() as f64 / lines.len() as f64;
    assert!(ratio >= 0.99, "{} of {} probes answered\n{stderr}", answered.len(), lines.len());
    eprintln!("{stderr}");
}

#[test]
fn replies_to_another_probers_probes_fail_the_integrity_check_and_are_counted() {
    let _machine = shared_machine();
    let net = bulk_lab();
    let ours = probes(1000, false, 30000);
    let theirs: Vec<String> = probes(2000, false, 30000).into_iter().skip(2000).collect();
    let start = |id: &str, wait: &str, lines: &[String]| {
        let mut command = hoptrace_command(&net.lab, net.client);
        command.args(["bulk", "-r", "10000", "-W", wait, "--caracal-id", id]);
        let input = lines.join("\n") + "\n";
        std::thread::spawn(move || run_with_input(command, &input))
    };
    // The other prober starts once this one listens (its sockets open before it reads a probe).
    let a = start("1", "3", &ours);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let b = start("2", "1", &theirs);
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let stderr_a = String::from_utf8_lossy(&a.stderr);
    let stderr_b = String::from_utf8_lossy(&b.stderr);
    let [_, _, _, _, _, matched_a, integrity_a, _] = summary(&stderr_a);
    let [sent_b, _, _, _, _, matched_b, _, _] = summary(&stderr_b);
    assert!(matched_b as f64 >= 0.99 * sent_b as f64, "{stderr_b}");
    // Every reply to the other's probes reached this prober's socket too and was dropped, counted.
    assert!(integrity_a >= matched_b * 99 / 100, "{stderr_a}\n{stderr_b}");
    let ours: HashSet<IpAddr> = ours.iter().map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    let rows = parse_csv(&String::from_utf8_lossy(&a.stdout));
    assert_eq!(rows.len() as u64, matched_a);
    assert!(rows.iter().all(|row| ours.contains(&row.probe_dst_addr)), "a row for the other prober's probe");
}

#[test]
fn run_as_caracal_with_its_flags() {
    let _machine = shared_machine();
    let net = bulk_lab();
    let dir = std::env::temp_dir().join(format!("hoptrace-caracal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let caracal = dir.join("caracal");
    let _ = std::fs::remove_file(&caracal);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_hoptrace"), &caracal).unwrap();
    let exclude = dir.join("exclude.txt");
    std::fs::write(&exclude, "# deny list\n198.19.224.8/29\n").unwrap();
    let mut lines: Vec<String> = (0..16).map(|n| format!("{},24000,33434,{},icmp", v4_dst(n), 1 + n % 8)).collect();
    lines.push("not a probe".into());
    lines.push(format!("::ffff:{},24000,33434,8,icmp", v4_dst(20)));
    let mut command = net.lab.command(net.client, caracal.to_str().unwrap());
    command.args(["-r", "1000", "-W", "2", "--filter-max-ttl", "6", "--meta-round", "2"]);
    command.arg("--filter-from-prefix-file-excl").arg(&exclude);
    let output = run_with_input(command, &(lines.join("\n") + "\n"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("line 17: invalid probe `not a probe'"), "{stderr}");
    // 16 probes: 8..=15 excluded, of 0..=7 the TTLs 7 and 8 filtered; the mapped one at TTL 8 filtered.
    let [sent, _, filtered, invalid, _, matched, _, _] = summary(&stderr);
    assert_eq!((sent, filtered, invalid), (6, 11, 1), "{stderr}");
    let rows = parse_csv(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(rows.len() as u64, matched);
    assert_eq!(rows.len(), 6, "{stderr}");
    assert!(rows.iter().all(|row| row.round == "2" && row.probe_ttl <= 6));
    let ttls: BTreeSet<u8> = rows.iter().map(|row| row.probe_ttl).collect();
    assert_eq!(ttls, (1..=6).collect());
    // A bad flag: one line, status 2.
    let output = net.lab.command(net.client, caracal.to_str().unwrap()).arg("--probing-rate=fast").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&output.stderr).lines().count(), 1, "{:?}", output);
    let _ = std::fs::remove_dir_all(&dir);
    // The per-destination cap: 25 probes to one address at 10 a second go out over three seconds, all answered.
    let input: String = (0..25).map(|n| format!("{},{},33434,8,udp\n", v4_dst(3), 24000 + n)).collect();
    let mut command = hoptrace_command(&net.lab, net.client);
    command.args(["bulk", "-r", "10000", "-W", "0.5", "--max-per-destination", "10"]);
    let output = run_with_input(command, &input);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let [sent, _, _, _, _, matched, ..] = summary(&stderr);
    assert_eq!((sent, matched), (25, 25), "{stderr}");
    let seconds: f64 =
        stderr.split(" probes sent in ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap().parse().unwrap();
    assert!((2.0..4.0).contains(&seconds), "{stderr}");
}

/// Per hop of a `--json` trace, the addresses that answered.
fn json_hops(trace: &serde_json::Value) -> Vec<BTreeSet<IpAddr>> {
    trace["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|hop| {
            let replies = hop["result"].as_array().expect("replies");
            replies.iter().filter_map(|reply| reply["from"].as_str()).map(|from| from.parse().unwrap()).collect()
        })
        .collect()
}

#[test]
fn targets_give_one_trace_each_with_the_hops_of_a_single_trace() {
    let _machine = shared_machine();
    let mut spec = LabSpec::new();
    let (client, routers, dst) = spec.chain(3, |_| netlab::Link::default());
    spec.anyip(dst, IpAddr::V4(V4_RANGE.0), V4_RANGE.1);
    spec.anyip(dst, IpAddr::V6(V6_RANGE.0), V6_RANGE.1);
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    let mut targets: Vec<IpAddr> = (1..=1000).map(v4_dst).collect();
    targets.extend((1..=50).map(v6_dst));
    let mut input = String::from("# targets\n");
    input.extend(targets.iter().map(|t| format!("{t}\n")));
    input.push_str("198.19.240.0/23\n"); // two /24s: 198.19.240.1 and 198.19.241.1
    let mut command = hoptrace_command(&lab, client);
    command.args(["bulk", "--targets", "-", "-r", "20000", "-W", "1", "-m", "10"]);
    let output = run_with_input(command, &input);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    targets.extend(["198.19.240.1", "198.19.241.1"].map(|t| t.parse::<IpAddr>().unwrap()));
    let traces: Vec<serde_json::Value> =
        stdout.lines().map(|line| serde_json::from_str(line).expect("one JSON document per line")).collect();
    assert_eq!(traces.len(), targets.len(), "{stderr}");
    let mut compared = 0;
    for (trace, &target) in traces.iter().zip(&targets) {
        assert_eq!(trace["dst_addr"], target.to_string());
        let family = if target.is_ipv4() { Family::V4 } else { Family::V6 };
        let mut expected: Vec<BTreeSet<IpAddr>> =
            routers.iter().map(|&r| BTreeSet::from([lab.hop_addr(r, client, family)])).collect();
        expected.push(BTreeSet::from([if target.is_ipv4() { target } else { lab.addr(dst, Family::V6) }]));
        assert_eq!(json_hops(trace), expected, "{target}: {trace}");
        assert_eq!(trace["hoptrace"]["outcome"], "reached", "{target}: {trace}");
        // A sample compared with hoptrace's own single traces.
        if target == targets[0] || target == targets[999] || target == targets[1000] || target == targets[1049] {
            let single = hoptrace_command(&lab, client).args(["-n", "--json", &target.to_string()]).output().unwrap();
            let single: serde_json::Value = serde_json::from_slice(&single.stdout).expect("hoptrace --json");
            assert_eq!(json_hops(trace), json_hops(&single), "{target}: bulk {trace}\nsingle {single}");
            compared += 1;
        }
    }
    assert_eq!(compared, 4);
    // --text: traceroute's layout, a header and four hop lines per target.
    let mut command = hoptrace_command(&lab, client);
    command.args(["bulk", "--targets", "-", "--text", "-r", "5000", "-W", "0.3", "-m", "10"]);
    let text = run_with_input(command, &format!("{}\n{}\n", targets[0], targets[1000]));
    let text = String::from_utf8_lossy(&text.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10, "{text}");
    assert!(lines[0].starts_with(&format!("traceroute to {} ({})", targets[0], targets[0])), "{text}");
    assert!(lines[4].starts_with(" 4  ") && lines[4].contains(&targets[0].to_string()), "{text}");
    assert!(lines[5].starts_with(&format!("traceroute to {}", targets[1000])), "{text}");
    let [sent, _, _, _, _, matched, _, _] = summary(&stderr);
    // Four TTLs a target, and none past the destination once it answered: at most ten, most of the time four.
    assert!(sent >= 4 * targets.len() as u64 && sent <= 10 * targets.len() as u64, "{stderr}");
    assert!(matched >= 4 * targets.len() as u64, "{stderr}");
    eprintln!("{stderr}");
}

#[test]
fn a_closed_stdout_or_a_signal_ends_the_run_and_no_raw_sockets_is_one_line() {
    use std::io::{BufRead, BufReader};
    let _machine = shared_machine();
    let net = bulk_lab();
    // 20,000 probes at 2,000 a second would take 10 s; the reader leaves after the first row.
    let input: String = (0..20_000).map(|n| format!("{},24000,33434,8,icmp\n", v4_dst(n % 8000))).collect();
    let mut child = spawn_bulk(&net.lab, net.client, &["-r", "2000", "-W", "1"]);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for _ in 0..2 {
        line.clear();
        stdout.read_line(&mut line).unwrap();
    }
    assert!(line.contains(",::ffff:198.19.2"), "a row: {line}");
    let closed = std::time::Instant::now();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Quietly, as a program SIGPIPE ends: 128 + 13.
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert!(
        closed.elapsed() < std::time::Duration::from_secs(5),
        "still probing {:?} after stdout closed",
        closed.elapsed()
    );
    let [sent, ..] = summary(&stderr);
    assert!(sent < 20_000, "{stderr}");
    eprintln!("{stderr}");
    // Without raw sockets: one line, status 1.
    let output = net
        .lab
        .command(net.client, "setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_hoptrace"), "bulk"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim(), "hoptrace: bulk probing needs raw sockets: run it as root or with CAP_NET_RAW");
    // Interrupted: the probing stops, the replies on their way are awaited, the summary is written, status 130.
    let input: String = (0..20_000).map(|n| format!("{},24000,33434,8,icmp\n", v4_dst(n % 8000))).collect();
    let child = spawn_bulk(&net.lab, net.client, &["-r", "2000", "-W", "0.5"]);
    let pid = child.id().to_string();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        Command::new("kill").args(["-INT", &pid]).status().expect("kill runs")
    });
    let mut child = child;
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output().unwrap();
    assert!(interrupter.join().unwrap().success());
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let [sent, _, _, _, _, matched, ..] = summary(&stderr);
    assert!(sent > 0 && sent < 20_000 && matched == sent, "{stderr}");
    assert_eq!(parse_csv(&String::from_utf8_lossy(&output.stdout)).len() as u64, matched);
    // Interrupted while its input stays open and idle: the run ends all the same (a watchdog kills it at 10 s).
    let mut child = spawn_bulk(&net.lab, net.client, &["-r", "2000", "-W", "0.2"]);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{},24000,33434,8,icmp", v4_dst(1)).unwrap();
    let pid = child.id().to_string();
    let (ended, end) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        if end.recv_timeout(std::time::Duration::from_secs(10)) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
    });
    let output = child.wait_with_output().unwrap();
    drop((ended, stdin));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let [sent, _, _, _, _, matched, ..] = summary(&stderr);
    assert_eq!((sent, matched), (1, 1), "{stderr}");
}
