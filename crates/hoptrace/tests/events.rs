//! `--events`: the library's event stream, one JSON object per line, over the simulated network.

mod sim;

use std::time::Duration;

use engine::sim::SimNetwork;
use sim::{render, Table};

#[test]
fn every_step_of_a_trace_is_one_line_of_json() {
    // 198.18.0.1 answers in 10 ms, 198.18.0.2 is silent, the destination answers in 30 ms.
    let mut network = SimNetwork::chain(false, 2, Duration::from_millis(10));
    network.routers[1].silent = true;
    let text = render(&["--events", "-q", "1", "-m", "3"], &mut network, &Table::default());
    let answer = |probe, from, rtt, reply| {
        format!(
            r#""probe":{probe},"flow":0,"size":60,"status":"answered","from":"{from}","rtt_ms":{rtt},"reply":"{reply}""#
        )
    };
    let first = answer(0, "198.18.0.1", "10.0", "time_exceeded");
    let last = answer(2, "198.18.1.1", "30.0", "unreachable");
    let expected = [
        r#"{"event":"round_started","round":0,"host":"198.18.1.1","target":"198.18.1.1","source":"198.18.100.1","protocol":"udp","paris":false,"flow":0,"max_ttl":3,"packet_len":60,"started":1700000000.0}"#.to_owned(),
        r#"{"event":"probe_sent","round":0,"ttl":1,"probe":0,"flow":0,"size":60}"#.to_owned(),
        r#"{"event":"probe_sent","round":0,"ttl":2,"probe":1,"flow":0,"size":60}"#.to_owned(),
        r#"{"event":"probe_sent","round":0,"ttl":3,"probe":2,"flow":0,"size":60}"#.to_owned(),
        format!(r#"{{"event":"reply","round":0,"ttl":1,{first}}}"#),
        format!(r#"{{"event":"hop_complete","round":0,"ttl":1,"complete":true,"probes":[{{{first}}}]}}"#),
        format!(r#"{{"event":"reply","round":0,"ttl":3,{last}}}"#),
        r#"{"event":"hop_complete","round":0,"ttl":2,"complete":true,"probes":[{"probe":1,"flow":0,"size":60,"status":"timed_out"}]}"#.to_owned(),
        format!(r#"{{"event":"hop_complete","round":0,"ttl":3,"complete":true,"probes":[{{{last}}}]}}"#),
        r#"{"event":"round_done","round":0,"outcome":{"kind":"reached","ttl":3},"sent":3,"matched":2,"unmatched":0,"late":0,"duplicates":0}"#.to_owned(),
        r#"{"event":"trace_done","rounds":1}"#.to_owned(),
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), expected);
}
