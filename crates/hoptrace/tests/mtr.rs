//! hoptrace run as mtr (`--mtr`) over the simulated network, 20 rounds on a virtual clock: each of mtr 0.95's
//! outputs, laid out as mtr writes it.

mod sim;

use std::net::IpAddr;
use std::time::Duration;

use engine::sim::SimNetwork;
use sim::{render, Table};

const MS: Duration = Duration::from_millis(1);

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Hop 1 is two routers (UDP flows spread over both), hop 2 is silent, hop 3 is named, then the destination.
fn network() -> SimNetwork {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    network.routers[0].addrs = vec![addr("198.18.0.1"), addr("198.18.10.1")];
    network.routers[0].ecmp_group = 1;
    network.routers[1].silent = true;
    network
}

/// `mtr ARGS -c 20 -u TARGET` over [`network`].
fn mtr(args: &[&str]) -> String {
    let mut table = Table::default();
    table.names.insert(addr("198.18.0.3"), "core.lab".into());
    let mut argv = vec!["--mtr", "-u", "-c", "20"];
    argv.extend(args);
    render(&argv, &mut network(), &table)
}

/// The local host's name, as mtr reports it.
fn local() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    Some(name.trim().to_owned()).filter(|name| !name.is_empty()).unwrap_or_else(|| "UNKNOWNHOST".to_owned())
}

#[test]
fn report_lists_further_responders_on_lines_of_their_own() {
    let text = mtr(&["-r"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].starts_with("HOST: ") && lines[1].chars().count() == 76, "{text}");
    assert!(lines[1].ends_with("  Loss%   Snt   Last   Avg  Best  Wrst StDev"), "{text}");
    assert_eq!(
        lines[2..],
        [
            "  1.|-- 198.18.10.1                0.0%    20   10.0  10.0  10.0  10.0   0.0",
            "        198.18.0.1                       ",
            "  2.|-- ???                       100.0    20    0.0   0.0   0.0   0.0   0.0",
            "  3.|-- core.lab                   0.0%    20   30.0  30.0  30.0  30.0   0.0",
            "  4.|-- 198.18.1.1                 0.0%    20   40.0  40.0  40.0  40.0   0.0",
        ]
    );
    assert!(lines[0].starts_with("Start: 2023-11-14T22:13:"), "{text}");
}

#[test]
fn wide_report_in_the_order_asked() {
    let text = mtr(&["-n", "-o LSDR NBAW JMXI", "-w"]);
    // mtrext's order starts with a space: a column of its own. The host column is as wide as the longest name: the local host's, or the longest hop's.
    let width = local().chars().count().max("198.18.10.1".len());
    let row = |hop: &str, name: &str, rest: &str| format!("{hop}.|-- {name:<width$}{rest}");
    let titles = "  Loss%   Snt Drop   Rcv   Last  Best   Avg  Wrst  Jttr Javg Jmax Jint";
    assert_eq!(
        text.lines().skip(1).collect::<Vec<_>>(),
        [
            format!("HOST: {:<width$}{titles}", local()),
            row("  1", "198.18.10.1", "   0.0%    20    0    20   10.0  10.0  10.0  10.0   0.0  0.0  0.0  0.0"),
            format!("        {:<width$}", "198.18.0.1"),
            row("  2", "???", "  100.0    20   20     0    0.0   0.0   0.0   0.0   0.0  0.0  0.0  0.0"),
            row("  3", "198.18.0.3", "   0.0%    20    0    20   30.0  30.0  30.0  30.0   0.0  0.0  0.0  0.0"),
            row("  4", "198.18.1.1", "   0.0%    20    0    20   40.0  40.0  40.0  40.0   0.0  0.0  0.0  0.0"),
        ]
    );
}

#[test]
fn json_as_jansson_writes_it() {
    let text = mtr(&["-n", "-j", "-Q", "16", "-o", "LDRS"]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["report"]["mtr"]["tos"], 16);
    assert_eq!(json["report"]["mtr"]["bitpattern"], "0x00");
    assert_eq!(json["report"]["mtr"]["src"], local().as_str());
    assert!(text.starts_with("{\n    \"report\": {\n        \"mtr\": {\n            \"src\": "), "{text}");
    assert!(
        text.contains(
            "            {\n                \"count\": 2,\n                \"host\": \"???\",\n                \"Loss%\": \
             100.0,\n                \"Drop\": 20,\n                \"Rcv\": 0,\n                \"Snt\": 20\n            }"
        ),
        "{text}"
    );
}

#[test]
fn csv_xml_raw_and_split() {
    let csv = mtr(&["-n", "-C"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,");
    assert_eq!(lines[2], "MTR.0.95,1700000000,OK,198.18.1.1,2,???,100.00,20,20,0.00,0.00,0.00,0.00,0.00");
    assert_eq!(lines.len(), 5, "{csv}");

    let xml = mtr(&["-n", "-x", "-o", "LS"]);
    let head = format!("<?xml version=\"1.0\"?>\n<MTR SRC=\"{}\" DST=\"198.18.1.1\" TOS=\"0x0\"", local());
    assert!(xml.starts_with(&head), "{xml}");
    assert!(
        xml.contains("    <HUB COUNT=\"2\" HOST=\"???\">\n        <Loss> 100.0%</Loss>\n        <Snt>    20</Snt>\n"),
        "{xml}"
    );

    let raw = mtr(&["-n", "-l", "-c", "2"]);
    let lines: Vec<&str> = raw.lines().collect();
    assert_eq!(lines.iter().filter(|line| line.starts_with("x ")).count(), 8, "{raw}");
    assert!(lines.contains(&"h 3 198.18.1.1") && lines.contains(&"p 3 40000 3"), "{raw}");
    assert!(lines.iter().all(|line| !line.starts_with("x 4 ")), "no probe past the destination: {raw}");

    let split = mtr(&["-n", "-p", "-c", "2"]);
    assert_eq!(split.lines().next(), Some("1 198.18.10.1 0 1 1 10 10 10"), "{split}");
    assert!(split.contains("\n2 ???\n"), "{split}");
}

/// `hoptrace --mtr ARGS`: exit status, stdout, stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hoptrace")).arg("--mtr").args(args).output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn bad_values_get_mtr_s_one_line_complaints() {
    for (args, message) in [
        (&["-o", "LSQ", "198.18.0.1"][..], "Unknown field identifier: Q"),
        (&["-u", "-T", "198.18.0.1"], "-u , -T and -S are mutually exclusive"),
        (&["-P", "0", "198.18.0.1"], "Illegal port number: 0"),
        (&["-c", "x", "198.18.0.1"], "invalid argument: 'x'"),
        (&["-i", "0", "198.18.0.1"], "wait time must be positive"),
        (&["-F", "hosts.txt"], "-F (hosts from a file) is not supported"),
    ] {
        let (code, stdout, stderr) = run(args);
        assert_eq!((code, stdout.as_str(), stderr.as_str()), (Some(2), "", format!("hoptrace: {message}\n").as_str()));
    }
    let (code, stdout, _) = run(&["-v"]);
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("mtr 0.95 (hoptrace "), "{stdout}");
}

#[test]
fn the_display_flag_given_last_wins() {
    assert!(mtr(&["-n", "--json", "-r"]).starts_with("Start: "));
    assert!(mtr(&["-n", "-r", "--json"]).starts_with("{\n"));
    assert!(mtr(&["-n", "-x", "-C"]).starts_with("Mtr_Version,"));
}
