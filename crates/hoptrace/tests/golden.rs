//! The exact text of both layouts, for traces run over the engine's simulated network on a virtual clock (so RTTs
//! are exact too), from a command line through settings, engine and renderer.

mod sim;

use std::net::IpAddr;
use std::time::Duration;

use engine::sim::SimNetwork;
use engine::MplsLabel;
use sim::{render, render_as, Table};

const MS: Duration = Duration::from_millis(1);

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn traceroute_layout_with_names_silence_and_a_mark() {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    network.routers[1].silent = true;
    network.routers[3].reject = Some(10);
    let mut table = Table::default();
    table.names.insert(addr("198.18.0.1"), "gw.lab".into());
    let text = render(&["-q", "2"], &mut network, &table);
    assert_eq!(
        text,
        [
            "traceroute to 198.18.1.1 (198.18.1.1), 64 hops max, 60 byte packets",
            " 1  gw.lab (198.18.0.1)  10.000 ms  10.000 ms",
            " 2  * *",
            " 3  198.18.0.3 (198.18.0.3)  30.000 ms  30.000 ms",
            " 4  198.18.0.4 (198.18.0.4)  40.000 ms  40.000 ms",
            " 5  198.18.0.4 (198.18.0.4)  40.000 ms !X  40.000 ms !X",
        ]
        .map(|line| format!("{line}\n"))
        .concat()
    );
}

#[test]
fn traceroute_layout_repeats_a_changing_responder_with_as_numbers() {
    let mut network = SimNetwork::chain(false, 2, 10 * MS);
    network.routers[0].addrs = vec![addr("198.18.10.1"), addr("198.18.11.1")];
    network.routers[0].ecmp_group = 1;
    let mut table = Table::default();
    table.asns.insert(addr("198.18.10.1"), vec![64500]);
    table.asns.insert(addr("198.18.11.1"), vec![64501, 64502]);
    // One TTL at a time, so that hop 1's probes are in consecutive flows.
    let text = render(&["-n", "-A", "-q", "4", "-N", "4"], &mut network, &table);
    // Classic UDP changes the flow per probe: the branches alternate as the hash falls (the simulation's hash is
    // seeded, so the same way every run), and each change of responder prints the address again, with its AS
    // numbers; an unannounced address shows `[*]`.
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "traceroute to 198.18.1.1 (198.18.1.1), 64 hops max, 60 byte packets",
            " 1  198.18.11.1 [AS64501/AS64502]  10.000 ms 198.18.10.1 [AS64500]  10.000 ms \
             198.18.11.1 [AS64501/AS64502]  10.000 ms 198.18.10.1 [AS64500]  10.000 ms",
            " 2  198.18.0.2 [*]  20.000 ms  20.000 ms  20.000 ms  20.000 ms",
            " 3  198.18.1.1 [*]  30.000 ms  30.000 ms  30.000 ms  30.000 ms",
        ]
    );
}

#[test]
fn traceroute_layout_extensions_back_and_mtu() {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    network.routers[0].mpls = vec![
        MplsLabel { label: 24001, tc: 0, bottom: false, ttl: 1 },
        MplsLabel { label: 16, tc: 5, bottom: true, ttl: 1 },
    ];
    network.routers[1].hops_back = Some(4);
    network.routers[1].mtu = Some(1400);
    let text = render(&["-n", "-e", "--back", "--mtu", "-q", "2", "-N", "1"], &mut network, &Table::default());
    assert_eq!(
        text,
        "traceroute to 198.18.1.1 (198.18.1.1), 64 hops max, 65000 byte packets\n \
         1  198.18.0.1 <MPLS:L=24001,E=0,S=0,T=1/L=16,E=5,S=1,T=1>  10.000 ms  10.000 ms\n \
         2  198.18.0.2 '-4'  20.000 ms  20.000 ms\n \
         3  198.18.0.3  30.000 ms F=1400  30.000 ms\n \
         4  198.18.1.1  40.000 ms  40.000 ms\n"
    );
}

#[test]
fn tracepath_layout() {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    network.routers[1].mtu = Some(1400);
    network.routers[2].mtu = Some(1280);
    network.routers[3].silent = true;
    network.routers[0].hops_back = Some(3);
    let mut table = Table::default();
    table.names.insert(addr("198.18.0.1"), "gw.lab".into());
    let text = render(&["--tracepath", "-b", "-l", "1500"], &mut network, &table);
    let expected = [
        format!(" 1:  {:<52}{} asymm  3 ", "gw.lab (198.18.0.1)", " 10.000ms"),
        format!(" 2:  {:<52}{} ", "??? (198.18.0.2)", " 20.000ms"),
        format!(" 3:  {:<52}{} pmtu 1400", "??? (198.18.0.2)", " 20.000ms"),
        format!(" 3:  {:<52}{} ", "??? (198.18.0.3)", " 30.000ms"),
        format!(" 4:  {:<52}{} pmtu 1280", "??? (198.18.0.3)", " 30.000ms"),
        " 4:  no reply".to_owned(),
        format!(" 5:  {:<52}{} reached", "??? (198.18.1.1)", " 50.000ms"),
        "     Resume: pmtu 1280 hops 5 back 5 ".to_owned(),
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn traceroute_layout_marks_the_first_hop_past_a_nat() {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    network.routers[0].nat = true;
    let text = render_as(true, &["-n", "-q", "2"], &mut network, &Table::default());
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "traceroute to 198.18.1.1 (198.18.1.1), 64 hops max, 60 byte packets",
            " 1  198.18.0.1  10.000 ms  10.000 ms",
            " 2  198.18.0.2  20.000 ms !NAT  20.000 ms",
            " 3  198.18.0.3  30.000 ms  30.000 ms",
            " 4  198.18.1.1  40.000 ms  40.000 ms",
        ]
    );
}
