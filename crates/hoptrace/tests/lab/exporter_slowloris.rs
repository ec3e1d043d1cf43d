//! The monitor's exporter against clients that hold its connections (slowloris): a polite scraper keeps being
//! answered, whether the 64 idle and slow clients come from several lab addresses or from one, its own or another.

use std::net::SocketAddr;
use std::time::Duration;

use netlab::{Family, NodeId, Slowloris};

use crate::monitor::{http_get, monitor, wait_for, Scratch};

/// A polite scraper, in python3: `TRIES` GETs of the URL, one at a time, 0.1 s apart, each given 3 s; prints how
/// many were answered 200 with metrics (the failures on stderr).
const SCRAPER: &str = r#"
import sys, time, urllib.request
url, tries, ok = sys.argv[1], int(sys.argv[2]), 0
for _ in range(tries):
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            ok += answer.status == 200 and b"hoptrace_" in answer.read()
    except Exception as error:
        print(error, file=sys.stderr)
    time.sleep(0.1)
print(ok)
"#;

const TRIES: usize = 60;

#[test]
fn a_polite_scraper_is_answered_beside_64_idle_and_slow_clients() {
    let _machine = crate::support::shared_machine();
    let (lab, client, routers, dst) = crate::chain(3, |_, _, _| {});
    let target = lab.addr(dst, Family::V4).to_string();
    let listen = SocketAddr::new(lab.addr(client, Family::V4), 9120);
    let scratch = Scratch::new("monitor-slowloris");
    let args: Vec<String> =
        [&target, "--every", "0.5", "-q", "1", "-n", "--prometheus", &listen.to_string()].map(String::from).to_vec();
    let _hoptrace = monitor(&lab, client, &args, &scratch.0.join("stdout"));
    let url = format!("http://{listen}/metrics");
    let scraper = routers[0];
    wait_for(Duration::from_secs(20), "/metrics", || http_get(&lab, scraper, &url));

    // Attackers: 16 from each of four addresses (the scraper's among them); 64 from another; 64 from the scraper's.
    let cases: [(&str, Vec<(NodeId, usize)>); 3] = [
        ("several addresses", vec![(routers[0], 16), (routers[1], 16), (routers[2], 16), (dst, 16)]),
        ("one other address", vec![(dst, 64)]),
        ("the scraper's address", vec![(scraper, 64)]),
    ];
    let mut failed = Vec::new();
    for (name, attackers) in cases {
        let attacks: Vec<_> = attackers
            .iter()
            .map(|&(node, connections)| {
                let slowloris = Slowloris { to: listen, connections, duration: Duration::from_secs(30) };
                lab.slowloris(node, slowloris).expect("the attack starts")
            })
            .collect();
        // Time for the attackers to take every connection they can.
        std::thread::sleep(Duration::from_secs(1));
        let output = lab
            .command(scraper, "python3")
            .args(["-c", SCRAPER, &url, &TRIES.to_string()])
            .output()
            .expect("python3 runs");
        let opened: u64 = attacks.into_iter().map(|attack| attack.stop().expect("the attack ran")).sum();
        let answered: usize = String::from_utf8_lossy(&output.stdout).trim().parse().expect("a count");
        eprintln!("{name}: {answered} of {TRIES} scrapes answered; the attackers opened {opened} connections");
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        assert!(opened >= 64, "{name}: the attackers opened {opened} connections");
        if answered * 100 < TRIES * 95 {
            failed.push(format!("{name}: {answered} of {TRIES}"));
        }
    }
    assert!(failed.is_empty(), "scrapes answered: {failed:?}");
}
