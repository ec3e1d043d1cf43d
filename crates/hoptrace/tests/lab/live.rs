//! `--live`, mtr's live view, on a real pseudo-terminal: `script` (util-linux) for the whole output, tmux for
//! the screen and keys.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use netlab::{Family, Lab, NodeId};

use crate::support::*;
use crate::tmux::Pane;

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
    // On the live screen: the title (its address may come in a later frame, drawn apart), and the table's header.
    let screen = &text[entered.unwrap_or_default()..left.unwrap_or_default()];
    assert!(screen.contains(&format!("hoptrace to {target}")), "no title on screen: {screen:?}");
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

/// `hoptrace --live ARGS` in `client`'s namespace, in a tmux pane of 120 × 35.
fn live_pane(lab: &Lab, client: NodeId, args: &str) -> Pane {
    live_pane_with(lab, client, "", args)
}

/// Like [`live_pane`], with `environment` (`NAME=VALUE …`) set.
fn live_pane_with(lab: &Lab, client: NodeId, environment: &str, args: &str) -> Pane {
    let hoptrace = env!("CARGO_BIN_EXE_hoptrace");
    Pane::start(&format!("{environment} ip netns exec {} {hoptrace} --live {args}", lab.ns(client)), 120, 35)
}

/// The `Snt` of the table's row for `ttl`, if shown: the number after the loss percentage.
fn sent(screen: &[String], ttl: u8) -> Option<u32> {
    let row = screen.iter().find(|line| line.starts_with(&format!("{ttl:>2}. ")))?;
    let mut words = row.split_whitespace().skip_while(|word| !word.ends_with('%'));
    words.nth(1)?.parse().ok()
}

/// The line of the table's header, ` Host … StDev`.
fn table_header(screen: &[String]) -> Option<&String> {
    screen.iter().find(|line| line.starts_with(" Host") && line.ends_with("StDev"))
}

/// A lab `client — r1 … rN — dst` and the destination's IPv4 address.
struct Path {
    lab: Lab,
    client: NodeId,
    routers: Vec<NodeId>,
    target: String,
}

fn path(routers: usize) -> Path {
    let (lab, client, routers, dst) = crate::chain(routers, |_, _, _| {});
    let target = lab.addr(dst, Family::V4).to_string();
    Path { lab, client, routers, target }
}

#[test]
fn first_frame_at_once_then_q_gives_the_terminal_back_and_prints_the_report() {
    let _machine = shared_machine();
    let Path { lab, client, routers, target } = path(2);
    let hop1 = lab.hop_addr(routers[0], client, Family::V4).to_string();
    let started = Instant::now();
    let pane = live_pane(&lab, client, &format!("-n {target}"));
    let screen = pane.wait_for("hop 1 on screen", Duration::from_secs(5), |screen| {
        screen.iter().any(|line| line.starts_with(&format!(" 1. {hop1} ")))
    });
    let first = started.elapsed();
    eprintln!("hop 1 on screen {first:?} after the start");
    assert!(first < Duration::from_millis(500), "hop 1 shown after {first:?}");
    // mtr's header: what is traced, from where, how, the time and the keys.
    assert!(screen[0].starts_with(&format!("hoptrace to {target} ({target})   20")), "{screen:#?}");
    let source = lab.iface_addr(client, routers[0], Family::V4);
    assert!(screen[1].starts_with(&format!("{source} → {target}   UDP Paris, flow 0   rounds: ")), "{screen:#?}");
    assert!(screen[2].starts_with("Keys: h:help p:pause"), "{screen:#?}");

    pane.keys(&["q"]);
    assert_eq!(pane.exit_status(), 0);
    // The normal screen is back (the live one was an alternate screen) and holds the report.
    let screen = pane.screen();
    assert!(!screen.iter().any(|line| line.starts_with("Keys:")), "the live screen stayed: {screen:#?}");
    let header = screen.iter().position(|line| line.starts_with("HOST: ")).expect("the report");
    assert!(screen[header + 1].starts_with(&format!("  1.|-- {hop1} ")), "{screen:#?}");
    assert!(screen[header + 3].starts_with(&format!("  3.|-- {target} ")), "{screen:#?}");
}

#[test]
fn p_pauses_and_resumes_the_rounds_and_r_resets_the_statistics() {
    let _machine = shared_machine();
    let Path { lab, client, target, .. } = path(1);
    // mtr's pace, a round a second: the checks below have a second or more to see each state.
    let pane = live_pane(&lab, client, &format!("-n {target}"));
    pane.wait_for("3 rounds", Duration::from_secs(5), |screen| sent(screen, 1) >= Some(3));
    pane.keys(&["p"]);
    pane.wait_for("paused", Duration::from_secs(1), |screen| screen[1].contains("paused"));
    // A round under way when p was typed ends; then nothing more is sent.
    thread::sleep(Duration::from_millis(300));
    let before = sent(&pane.screen(), 1);
    thread::sleep(Duration::from_secs(2));
    let screen = pane.screen();
    assert_eq!(sent(&screen, 1), before, "Snt moved while paused: {screen:#?}");
    pane.keys(&["p"]);
    pane.wait_for("rounds again", Duration::from_secs(3), |screen| sent(screen, 1) > before);
    pane.keys(&["r"]);
    let screen = pane
        .wait_for("Snt back to 1 at most", Duration::from_secs(1), |screen| sent(screen, 1).is_none_or(|snt| snt <= 1));
    assert!(!screen[1].contains("paused"), "{screen:#?}");
    pane.keys(&["q"]);
    assert_eq!(pane.exit_status(), 0);
}

#[test]
fn d_shows_the_last_probes_then_the_chart_and_h_the_help() {
    let _machine = shared_machine();
    let Path { lab, client, routers, target } = path(1);
    let hop1 = lab.hop_addr(routers[0], client, Family::V4).to_string();
    let pane = live_pane(&lab, client, &format!("-n --interval 0.1 {target}"));
    pane.wait_for("3 rounds", Duration::from_secs(5), |screen| sent(screen, 1) >= Some(3));
    pane.keys(&["d"]);
    // One band character a probe (a lab hop answers within a millisecond: `.`, more under load).
    let screen = pane.wait_for("the last probes", Duration::from_secs(1), |screen| {
        screen.iter().any(|line| line.starts_with(" Host") && probes_in_title(line, "Last ").is_some_and(|n| n >= 3))
    });
    let row = screen.iter().find(|line| line.starts_with(&format!(" 1. {hop1} "))).expect("hop 1");
    let strip = &row[41..];
    assert!(strip.len() >= 3 && strip.chars().all(|c| ".12345678>".contains(c)), "{row:?}");
    assert!(screen[34].starts_with("Scale (ms): .<1 1<2 2<5"), "{screen:#?}");
    pane.keys(&["d"]);
    let screen = pane.wait_for("the chart", Duration::from_secs(1), |screen| {
        screen.iter().any(|line| probes_in_title(line, "Latency chart, last ").is_some_and(|n| n >= 3))
    });
    let row = screen.iter().find(|line| line.starts_with(&format!(" 1. {hop1} "))).expect("hop 1");
    let bars: Vec<char> = row.chars().skip(41).collect();
    assert!(bars.len() >= 3 && bars.iter().all(|&c| "▁▂▃▄▅▆▇█".contains(c)), "{row:?}");
    assert!(screen[34].starts_with("Scale: █ = "), "{screen:#?}");
    pane.keys(&["h"]);
    pane.wait_for("the help", Duration::from_secs(1), |screen| {
        screen.iter().any(|line| line.contains("│q, Esc   quit and print the report"))
    });
    // Esc closes the help, as the help says any key but q does; a second one quits.
    pane.keys(&["Escape"]);
    pane.wait_for("the help closed", Duration::from_secs(1), |screen| {
        !screen.iter().any(|line| line.contains("hoptrace keys"))
    });
    pane.keys(&["Escape"]);
    assert_eq!(pane.exit_status(), 0);
}

/// The number of probes a history title (`… Last N probes`) says the strips show, at most the strip's width.
fn probes_in_title(line: &str, title: &str) -> Option<usize> {
    let (_, after) = line.split_once(title)?;
    let count: usize = after.strip_suffix(" probes")?.parse().ok()?;
    (count <= 79).then_some(count)
}

#[test]
fn n_cycles_names_addresses_and_both() {
    let _machine = shared_machine();
    let Path { lab, client, routers, target } = path(1);
    let hop1 = lab.hop_addr(routers[0], client, Family::V4);
    let _names = HostsFile::write(&lab, client, &[(hop1, "r1.lab")]);
    let pane = live_pane(&lab, client, &format!("--interval 0.2 {target}"));
    let row = |name: String| move |screen: &[String]| screen.iter().any(|line| line.starts_with(&name));
    pane.wait_for("the name", Duration::from_secs(3), row(" 1. r1.lab ".to_owned()));
    pane.keys(&["n"]);
    pane.wait_for("the address", Duration::from_secs(1), row(format!(" 1. {hop1} ")));
    pane.keys(&["n"]);
    pane.wait_for("both", Duration::from_secs(1), row(format!(" 1. r1.lab ({hop1}) ")));
    pane.keys(&["n"]);
    pane.wait_for("the name again", Duration::from_secs(1), row(" 1. r1.lab ".to_owned()));
    pane.keys(&["C-c"]);
    assert_eq!(pane.exit_status(), 0);
}

#[test]
fn tab_switches_between_two_targets_both_probed_all_along() {
    let _machine = shared_machine();
    let Path { lab, client, routers, target } = path(2);
    let router = lab.addr(routers[1], Family::V4).to_string();
    let pane = live_pane(&lab, client, &format!("-n --interval 0.1 {target} {router}"));
    let screen = pane.wait_for("3 rounds", Duration::from_secs(5), |screen| sent(screen, 1) >= Some(3));
    assert_eq!(screen[3], format!("[1 {target}]│ 2 {router}"));
    pane.keys(&["Tab"]);
    let screen = pane.wait_for("the second target", Duration::from_secs(1), |screen| {
        screen[0].starts_with(&format!("hoptrace to {router} ({router})"))
    });
    assert_eq!(screen[3], format!(" 1 {target} │[2 {router}]"));
    assert!(sent(&screen, 1) >= Some(3), "the second target was not probed meanwhile: {screen:#?}");
    pane.keys(&["1"]);
    pane.wait_for("the first target", Duration::from_secs(1), |screen| {
        screen[0].starts_with(&format!("hoptrace to {target} ({target})"))
    });
    pane.keys(&["q"]);
    assert_eq!(pane.exit_status(), 0);
    // A report per target.
    let screen = pane.screen();
    assert_eq!(screen.iter().filter(|line| line.starts_with("HOST: ")).count(), 2, "{screen:#?}");
    // Each after its destination's name.
    for destination in [&target, &router] {
        let title = format!("hoptrace to {destination} ({destination})");
        let at = screen.iter().position(|line| *line == title).unwrap_or_else(|| panic!("{title}: {screen:#?}"));
        assert!(screen[at + 1].starts_with("Start: "), "{screen:#?}");
    }
}

#[test]
fn resizing_redraws_to_the_new_width() {
    let _machine = shared_machine();
    let Path { lab, client, target, .. } = path(2);
    let pane = live_pane(&lab, client, &format!("-n --interval 0.2 {target}"));
    pane.wait_for("hop 3", Duration::from_secs(5), |screen| sent(screen, 3).is_some());
    for width in [60usize, 200, 120] {
        pane.resize(width as u16, 35);
        // The host column takes what the 48 columns of numbers leave (12 at least).
        let host = width.saturating_sub(48).max(12);
        let screen = pane.wait_for("the new width", Duration::from_secs(1), |screen| {
            table_header(screen).is_some_and(|header| header.chars().count() == host + 48)
        });
        let header = table_header(&screen).expect("the table");
        assert_eq!(header.find("Loss%"), Some(host + 2), "{screen:#?}");
        let rows: Vec<&String> = screen.iter().skip_while(|line| !line.starts_with(" Host")).skip(1).collect();
        for (index, row) in rows.iter().enumerate() {
            if index < 3 {
                // Every row ends where the header does: no piece of a wider frame left behind.
                assert_eq!(row.chars().count(), host + 48, "row {index} at {width}: {screen:#?}");
                assert!(row.starts_with(&format!("{:>2}. ", index + 1)), "{screen:#?}");
            } else {
                assert!(row.is_empty(), "leftover at {width}: {screen:#?}");
            }
        }
    }
    pane.keys(&["q"]);
    assert_eq!(pane.exit_status(), 0);
}

#[test]
fn colours_unless_no_color_or_the_no_color_variable() {
    let _machine = shared_machine();
    let Path { lab, client, target, .. } = path(1);
    // SGR foreground colours as tmux writes them (`38;5;N`), or in their short form; bold (`1`) is no colour.
    let colours = ["\u{1b}[38;5;", "\u{1b}[31m", "\u{1b}[32m", "\u{1b}[33m", "\u{1b}[35m"];
    for (environment, args, coloured) in [("", "", true), ("", "--no-color", false), ("NO_COLOR=1", "", false)] {
        let pane = live_pane_with(&lab, client, environment, &format!("-n {args} {target}"));
        pane.wait_for("hop 1", Duration::from_secs(5), |screen| sent(screen, 1).is_some());
        let styled = pane.styled_screen();
        // A lab hop is fast: its times are green.
        assert_eq!(colours.iter().any(|colour| styled.contains(colour)), coloured, "{environment} {args}: {styled:?}");
        pane.keys(&["q"]);
        assert_eq!(pane.exit_status(), 0);
    }
}

/// `/etc/netns/<ns>/hosts`, which `ip netns exec` mounts over `/etc/hosts`: names for a node's lookups. Removed
/// on drop.
struct HostsFile {
    dir: std::path::PathBuf,
    created_dir: bool,
}

impl HostsFile {
    fn write(lab: &Lab, node: NodeId, names: &[(std::net::IpAddr, &str)]) -> Self {
        let dir = std::path::Path::new("/etc/netns").join(lab.ns(node));
        let created_dir = !dir.exists();
        std::fs::create_dir_all(&dir).expect("/etc/netns/<ns> made");
        let text: String = names.iter().map(|(addr, name)| format!("{addr} {name}\n")).collect();
        std::fs::write(dir.join("hosts"), text).expect("hosts written");
        HostsFile { dir, created_dir }
    }
}

impl Drop for HostsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.dir.join("hosts"));
        if self.created_dir {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}
