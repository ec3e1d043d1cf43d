//! Whole frames, drawn on ratatui's test backend and compared character for character.

use core::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use hoptrace_core::{ErrorClass, Unreachable};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

use super::screen::{Key, Naming, Screen};
use super::target::tests::{answered, done, hop, hop_with, started};
use crate::render::Directory;

/// Names for the first router only.
struct LabNames;

impl Directory for LabNames {
    fn name(&self, addr: IpAddr) -> Option<String> {
        (addr.to_string() == "198.18.0.1").then(|| "r1.lab".to_owned())
    }
    fn asns(&self, _addr: IpAddr) -> Option<Vec<u32>> {
        Some(vec![64500])
    }
}

const NOW: Duration = Duration::from_secs(1_795_405_454);

/// Two rounds to 198.18.1.2 over r1.lab: the second lost at hop 1.
fn two_rounds(hosts: &[&str]) -> Screen {
    let hosts: Vec<String> = hosts.iter().map(|&host| host.to_owned()).collect();
    let mut screen = Screen::new(&hosts, Naming::NameOnly);
    let reached = ErrorClass::Unreachable(Unreachable::Port);
    for (first, second) in [(Some(1.5), 3.0), (None, 4.0)] {
        screen.feed(0, started("198.18.1.2"));
        feed(&mut screen, answered(hop(1, first.map(|ms| ("198.18.0.1", ms)))));
        feed(&mut screen, answered(hop_with(2, Some(("198.18.1.2", second)), reached)));
        screen.feed(0, done());
    }
    screen
}

/// Feeds `events` of the first target.
fn feed(screen: &mut Screen, events: Vec<hoptrace_core::Event>) {
    for event in events {
        screen.feed(0, event);
    }
}

/// The frame `screen` draws on a `width` × `height` terminal, line by line, and the terminal.
fn frame(screen: &Screen, width: u16, height: u16) -> (Vec<String>, Terminal<TestBackend>) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal.draw(|frame| super::draw::draw(frame, screen, &LabNames, UNIX_EPOCH + NOW)).expect("drawn");
    let buffer = terminal.backend().buffer();
    let lines = (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect::<String>().trim_end().to_owned())
        .collect();
    (lines, terminal)
}

/// The first `count` characters of `line`.
fn cut(line: &str, count: usize) -> String {
    line.chars().take(count).collect()
}

#[test]
fn the_table_in_80_columns() {
    let (lines, _) = frame(&two_rounds(&["lab"]), 80, 8);
    let expected = [
        "hoptrace to 198.18.1.2 (198.18.1.2)   2026-11-23T03:44:14+0000",
        "localhost → 198.18.1.2   UDP Paris, flow 0   rounds: 2",
        "Keys: h:help p:pause r:reset n:names d:display j:jitter e:MPLS z:AS q:quit",
        " Host                             Loss%   Snt   Last    Avg   Best   Wrst  StDev",
        " 1. r1.lab                        50.0%     2    1.5    1.5    1.5    1.5    0.0",
        " 2. 198.18.1.2                     0.0%     2    4.0    3.5    3.0    4.0    0.7",
        "",
        "",
    ];
    assert_eq!(lines, expected);
}

#[test]
fn n_names_then_addresses_then_both_and_z_adds_as_numbers() {
    let mut screen = two_rounds(&["lab"]);
    let host_of_hop_1 = |screen: &Screen| cut(&frame(screen, 80, 5).0[4], 32).trim_end().to_owned();
    assert_eq!(host_of_hop_1(&screen), " 1. r1.lab");
    screen.key(Key::Char('n'));
    assert_eq!(host_of_hop_1(&screen), " 1. 198.18.0.1");
    screen.key(Key::Char('n'));
    assert_eq!(host_of_hop_1(&screen), " 1. r1.lab (198.18.0.1)");
    // No room for both: the name.
    assert_eq!(frame(&screen, 60, 5).0[4].split_whitespace().nth(1), Some("r1.lab"));
    screen.key(Key::Char('z'));
    assert_eq!(host_of_hop_1(&screen), " 1. r1.lab (198.18.0.1) [AS6450…");
    let (lines, _) = frame(&screen, 100, 5);
    assert_eq!(cut(&lines[4], 52).trim_end(), " 1. r1.lab (198.18.0.1) [AS64500]");
}

#[test]
fn j_adds_the_jitter_columns() {
    let mut screen = two_rounds(&["lab"]);
    screen.key(Key::Char('j'));
    let (lines, _) = frame(&screen, 100, 7);
    assert_eq!(
        lines[3],
        format!("{:<38}{}", " Host", "  Loss%   Snt   Last    Avg   Best   Wrst  StDev   Javg   Jmax")
    );
    assert!(lines[5].ends_with("0.7    1.0    1.0"), "{}", lines[5]);
}

#[test]
fn the_host_column_takes_the_width_the_numbers_leave() {
    let screen = two_rounds(&["lab"]);
    for width in [60u16, 120, 200] {
        let (lines, _) = frame(&screen, width, 6);
        let header = &lines[3];
        assert_eq!(header.chars().count(), usize::from(width).max(12 + 48), "{header}");
        assert_eq!(header.find("Loss%"), Some(usize::from(width) - 48 + 2), "{header}");
    }
}

#[test]
fn d_shows_the_last_probes_with_a_legend_then_a_chart() {
    let mut screen = two_rounds(&["lab"]);
    let displays = [
        ("Last 2 probes", ["1?", "22"], "Scale (ms): .<1 1<2 2<5 3<10 4<20 5<50 6<100 7<200 8<500 >mo"),
        ("Latency chart, last 2 probes", ["▃?", "▆█"], "Scale: █ = 4.000 ms, bars in proportion, ? lost"),
    ];
    for (title, [hop1, hop2], legend) in displays {
        screen.key(Key::Char('d'));
        let (lines, _) = frame(&screen, 60, 8);
        assert_eq!(lines[3], format!("{:<20} {title}", " Host"));
        assert_eq!(lines[4], format!("{:<20} {hop1}", " 1. r1.lab"));
        assert_eq!(lines[5], format!("{:<20} {hop2}", " 2. 198.18.1.2"));
        assert_eq!(lines[7], legend);
    }
}

#[test]
fn tiny_terminals_draw_without_a_panic_in_every_display() {
    let mut screen = two_rounds(&["lab", "second"]);
    for key in ['d', 'd', 'd', 'j', 'e', 'z', 'n', 'h'] {
        screen.key(Key::Char(key));
        for (width, height) in [(0, 0), (1, 1), (5, 3), (12, 4), (20, 2), (200, 1), (1, 60)] {
            let (lines, _) = frame(&screen, width, height);
            assert_eq!(lines.len(), usize::from(height));
        }
    }
}

#[test]
fn h_shows_the_help_over_the_screen() {
    let mut screen = two_rounds(&["lab"]);
    screen.key(Key::Char('h'));
    let (lines, _) = frame(&screen, 80, 20);
    assert!(lines.iter().any(|line| line.contains("┌ hoptrace keys ─")), "{lines:#?}");
    assert!(
        lines.iter().any(|line| line.contains("│p        pause: no new rounds (p or space resumes)")),
        "{lines:#?}"
    );
}

#[test]
fn several_targets_have_tabs_and_tab_switches() {
    let mut screen = two_rounds(&["lab", "198.18.9.9"]);
    let (lines, _) = frame(&screen, 80, 6);
    assert_eq!(lines[3], "[1 lab]│ 2 198.18.9.9");
    screen.key(Key::Tab);
    let (lines, _) = frame(&screen, 80, 6);
    assert_eq!(lines[0], "hoptrace to 198.18.9.9");
    assert_eq!(lines[3], " 1 lab │[2 198.18.9.9]");
}

#[test]
fn loss_and_latency_bands_are_coloured_unless_told_not_to() {
    let mut screen = two_rounds(&["lab"]);
    let colour_at = |screen: &Screen, text: &str| {
        let (lines, terminal) = frame(screen, 80, 6);
        let y = lines.iter().position(|line| line.contains(text)).expect("on screen");
        let x = lines[y].find(text).expect("on the line");
        terminal.backend().buffer()[(x as u16 + 1, y as u16)].fg
    };
    assert_eq!(colour_at(&screen, "50.0%"), Color::Red);
    assert_eq!(colour_at(&screen, "   3.5"), Color::Green);
    screen.color = false;
    assert_eq!(colour_at(&screen, "50.0%"), Color::Reset);
}

#[test]
fn marks_show_after_the_host() {
    let hosts = ["lab".to_owned()];
    let mut screen = Screen::new(&hosts, Naming::Numeric);
    screen.feed(0, started("198.18.1.2"));
    let prohibited = ErrorClass::Unreachable(Unreachable::Prohibited);
    let mut first = hop(1, Some(("198.18.0.1", 1.0)));
    first.probes.extend(hop(1, Some(("198.18.0.5", 2.0))).probes);
    feed(&mut screen, answered(first));
    feed(&mut screen, answered(hop_with(2, Some(("198.18.0.2", 1.0)), prohibited)));
    screen.feed(0, done());
    let (lines, _) = frame(&screen, 80, 9);
    assert_eq!(cut(&lines[4], 32), " 1. 198.18.0.1                  ");
    assert_eq!(lines[5], "    198.18.0.5");
    // Paris probes of one flow answered from two addresses: the flow's row.
    assert_eq!(cut(&lines[6], 32), "    flow 0 → 198.18.0.1, 198.18…");
    assert_eq!(cut(&lines[7], 32), format!("{:<29} !X", " 2. 198.18.0.2"));
}

#[test]
fn a_rewritten_quote_shows_nat_and_e_the_mpls_labels() {
    let hosts = ["lab".to_owned()];
    let mut screen = Screen::new(&hosts, Naming::Numeric);
    screen.feed(0, started("198.18.1.2"));
    let mut first = hop(1, Some(("198.18.0.1", 1.0)));
    let mut second = hop(2, Some(("198.18.0.2", 1.0)));
    if let hoptrace_core::ProbeStatus::Answered(answer) = &mut first.probes[0].status {
        answer.quote_rewritten = true;
    }
    if let hoptrace_core::ProbeStatus::Answered(answer) = &mut second.probes[0].status {
        if let hoptrace_core::ReplyKind::IcmpError(error) = &mut answer.reply.kind {
            error.mpls = vec![hoptrace_core::MplsLabel { label: 24001, tc: 0, bottom: true, ttl: 1 }];
        }
    }
    feed(&mut screen, answered(first));
    feed(&mut screen, answered(second));
    screen.feed(0, done());
    let (lines, _) = frame(&screen, 100, 7);
    assert_eq!(cut(&lines[4], 52), format!("{:<47} !NAT", " 1. 198.18.0.1"));
    assert_eq!(cut(&lines[5], 52).trim_end(), " 2. 198.18.0.2");
    screen.key(Key::Char('e'));
    let (lines, _) = frame(&screen, 100, 7);
    assert_eq!(cut(&lines[5], 52), format!("{:<25} <MPLS:L=24001,E=0,S=1,T=1>", " 2. 198.18.0.2"));
}

#[test]
fn several_targets_reports_each_name_their_destination() {
    let mut screen = two_rounds(&["lab", "second"]);
    screen.feed(1, started("198.18.2.2"));
    screen.feed(1, done());
    let mut out = Vec::new();
    super::reports(&mut out, &screen, &LabNames, false).expect("written");
    let text = String::from_utf8(out).expect("text");
    let lines: Vec<&str> = text.lines().collect();
    let titles: Vec<&str> = lines.iter().copied().filter(|line| line.starts_with("hoptrace to ")).collect();
    assert_eq!(titles, ["hoptrace to lab (198.18.1.2)", "hoptrace to second (198.18.2.2)"], "{text}");
    // Each title comes right before its report's `Start:` line, the second after an empty line.
    for (index, title) in titles.iter().enumerate() {
        let at = lines.iter().position(|line| line == title).expect("the title");
        assert!(lines[at + 1].starts_with("Start: "), "{text}");
        assert_eq!(index == 1, at > 0 && lines[at - 1].is_empty(), "{text}");
        assert_eq!(index == 0, at == 0, "{text}");
    }
    // One target: mtr's report as it is, nothing before it.
    let mut out = Vec::new();
    super::reports(&mut out, &two_rounds(&["lab"]), &LabNames, false).expect("written");
    assert!(String::from_utf8(out).expect("text").starts_with("Start: "));
}

#[test]
fn the_last_probes_header_counts_the_probes_shown() {
    let mut screen = two_rounds(&["lab"]);
    screen.key(Key::Char('d'));
    let (lines, _) = frame(&screen, 120, 8);
    assert_eq!(lines[3], format!("{:<40} Last 2 probes", " Host"));
    screen.key(Key::Char('d'));
    let (lines, _) = frame(&screen, 120, 8);
    assert_eq!(lines[3], format!("{:<40} Latency chart, last 2 probes", " Host"));
}
