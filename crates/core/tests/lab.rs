//! The library over real sockets: `examples/trace.rs`, `examples/monitor.rs` and `examples/bulk.rs` run in a lab
//! of network namespaces (needs root: feature `lab`, which `scripts/test.sh` turns on; without root the lab fails
//! to build and the test fails, never skips).

use std::net::IpAddr;
use std::process::Command;

use netlab::{Family, Lab, LabSpec, Link, NodeId, RouterOpts};

/// Builds example `name` (it may be stale or missing: `cargo test --test lab` builds no examples) and returns its
/// path.
fn example(name: &str) -> String {
    let cargo = env!("CARGO");
    let output = Command::new(cargo)
        .args(["build", "--quiet", "--example", name, "-p", "hoptrace-core", "--message-format", "json"])
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "building the example: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let artifact = stdout
        .lines()
        .filter(|line| {
            line.contains(r#""reason":"compiler-artifact""#) && line.contains(&format!(r#""name":"{name}""#))
        })
        .find_map(|line| line.split(r#""executable":""#).nth(1)?.split('"').next().map(str::to_owned));
    artifact.expect("cargo names the example's executable")
}

/// Runs the example in `node`'s namespace, as root or as `nobody`, and returns its lines.
fn trace(lab: &Lab, node: NodeId, example: &str, nobody: bool, args: &[&str], target: IpAddr) -> Vec<String> {
    let mut command = lab.command(node, "setpriv");
    if nobody {
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
    }
    let output = command.arg(example).args(args).arg(target.to_string()).output().expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{args:?}: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    stdout.lines().map(str::to_owned).collect()
}

#[test]
fn the_example_traces_a_lab_path_with_each_protocol() {
    let example = example("trace");
    // client — r1 — r2 (silent) — r3 — dst
    let mut spec = LabSpec::new();
    let (client, routers, dst) = spec.chain(3, |_| Link::default());
    spec.router_opts(routers[1], RouterOpts { silent: true, ..RouterOpts::default() });
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    let status = lab.command(client, "sysctl").args(["-qw", "net.ipv4.ping_group_range=0 2147483647"]).status();
    assert!(status.expect("sysctl runs").success());
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family);
        let hop = |index: usize| lab.hop_addr(routers[index], client, family);
        let expected = [(1, Some(hop(0))), (2, None), (3, Some(hop(2))), (4, Some(target))];
        for (args, nobody) in [(&[][..], false), (&["-I"], false), (&["-T"], false), (&[], true), (&["-I"], true)] {
            let lines = trace(&lab, client, &example, nobody, args, target);
            let case = format!("{family:?} {args:?} as {}", if nobody { "nobody" } else { "root" });
            eprintln!("{case}:\n{}", lines.join("\n"));
            assert_eq!(lines.len(), expected.len(), "{case}: {lines:?}");
            for (line, (ttl, addr)) in lines.iter().zip(expected) {
                let words: Vec<&str> = line.split(' ').collect();
                match addr {
                    None => assert_eq!(words, [ttl.to_string(), "*".to_owned()], "{case}"),
                    Some(addr) => {
                        assert_eq!(words.len(), 3, "{case}: {line}");
                        assert_eq!(
                            (words[0], words[1]),
                            (ttl.to_string().as_str(), addr.to_string().as_str()),
                            "{case}"
                        );
                        let rtt: f64 = words[2].parse().unwrap_or_else(|_| panic!("{case}: RTT in {line}"));
                        assert!(rtt > 0.0 && rtt < 1000.0, "{case}: {line}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_monitor_example_watches_two_lab_targets_and_confirms_their_paths() {
    let example = example("monitor");
    // client — r1 — r2 — dst, traced over IPv4 and IPv6 at once.
    let mut spec = LabSpec::new();
    let (client, _, dst) = spec.chain(2, |_| Link::default());
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    let targets = [lab.addr(dst, Family::V4).to_string(), lab.addr(dst, Family::V6).to_string()];
    let output = lab.command(client, &example).arg("4").args(&targets).output().expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    for target in &targets {
        let ids: Vec<&str> = stdout
            .lines()
            .filter_map(|line| line.strip_prefix("round ")?.strip_prefix(target.as_str())?.strip_prefix(' '))
            .collect();
        // The first round cannot confirm a path (2 rounds needed); from the second on, one identity.
        assert_eq!(ids.len(), 4, "{target}: {stdout}");
        assert_eq!(ids[0], "-", "{target}: {stdout}");
        assert!(ids[1].len() == 12 && ids[1..].iter().all(|id| *id == ids[1]), "{target}: {stdout}");
    }
    assert!(!stdout.contains("change "), "{stdout}");
}

#[test]
fn the_bulk_example_traces_its_targets_at_once() {
    let example = example("bulk");
    // client — r1 — r2 (silent) — r3 — dst
    let mut spec = LabSpec::new();
    let (client, routers, dst) = spec.chain(3, |_| Link::default());
    spec.router_opts(routers[1], RouterOpts { silent: true, ..RouterOpts::default() });
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    let targets = [lab.addr(dst, Family::V4), lab.addr(dst, Family::V6)];
    let mut command = lab.command(client, &example);
    let output = command.args(["-r", "1000"]).args(targets.map(|t| t.to_string())).output().expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    eprintln!("{stdout}");
    let mut lines = stdout.lines();
    for (target, family) in targets.iter().zip([Family::V4, Family::V6]) {
        assert_eq!(lines.next(), Some(format!("{target} Reached {{ ttl: 4 }}").as_str()));
        let hop = |index: usize| Some(lab.hop_addr(routers[index], client, family));
        for (ttl, addr) in [(1, hop(0)), (2, None), (3, hop(2)), (4, Some(*target))] {
            let line = lines.next().unwrap_or_default();
            let words: Vec<&str> = line.split(' ').collect();
            match addr {
                None => assert_eq!(words, [ttl.to_string(), "*".to_owned()], "{target}"),
                Some(addr) => {
                    assert_eq!((words[0], words[1]), (ttl.to_string().as_str(), addr.to_string().as_str()), "{line}");
                    let rtt: f64 = words[2].parse().unwrap_or_else(|_| panic!("RTT in {line}"));
                    assert!(rtt > 0.0 && rtt < 1000.0, "{line}");
                }
            }
        }
    }
    assert_eq!(lines.next(), None);
}

#[test]
fn the_monitors_sockets_are_the_ones_asked_for() {
    use hoptrace_core::monitor::{FleetTraces, Traces};
    use hoptrace_core::{Family, Options, Privilege, Protocol};
    // Only sockets opened (as root), nothing sent: UDP, whose ordinary sockets open anywhere.
    let opened = |privilege, raw| {
        let mut probing = Options::new(Protocol::Udp);
        (probing.family, probing.privilege) = (Family::V4, privilege);
        let (traces, _) = FleetTraces::open(&probing, raw).expect("sockets open as root");
        traces.is_raw(false)
    };
    // Ordinary sockets first when left to the monitor; raw ones when asked for, by `--raw` or by the options.
    assert!(!opened(Privilege::Auto, false));
    assert!(!opened(Privilege::Unprivileged, false));
    assert!(opened(Privilege::Auto, true));
    assert!(opened(Privilege::Raw, false));
}
