//! What a new user meets in the first hour, beside traceroute(8) and tracepath(8) on the same lab paths: probes
//! too big for the local link, IPv6 unreachables that end a trace, large IPv6 probes, `-A` offline, tracepath on
//! loopback.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use netlab::{Family, Lab, LabSpec, NodeId};

use crate::dns::DnsServer;
use crate::support::*;

/// The words of traceroute-layout hop lines, the RTTs (`0.123 ms`) left out.
fn hop_words(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip(1)
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut kept = Vec::new();
            for (index, word) in words.iter().enumerate() {
                let rtt = words.get(index + 1) == Some(&"ms") && word.parse::<f64>().is_ok();
                if !rtt && *word != "ms" {
                    kept.push((*word).to_owned());
                }
            }
            kept
        })
        .collect()
}

/// `-F` with probes bigger than the local link: traceroute marks each probe `!F-1500` at hop 1 and stops there.
#[test]
fn probes_too_big_for_the_local_link_end_the_trace_with_the_mtu() {
    let _machine = shared_machine();
    let (lab, client, _routers, dst) = crate::chain(2, |_, _, _| {});
    for case in all_cases().into_iter().filter(|case| case.method != Method::Tcp) {
        let target = lab.addr(dst, case.family);
        let output = hoptrace_len(&lab, client, case, target, &["-F", "-w", "1"], Some(1600));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{case:?}: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
        let expected = ["1", "*", "!F-1500", "*", "!F-1500", "*", "!F-1500"].map(String::from).to_vec();
        assert_eq!(hop_words(&stdout), std::slice::from_ref(&expected), "{case:?}:\n{stdout}");
        if !case.unprivileged && case.method == Method::Udp {
            let target = target.to_string();
            let theirs = stdout_of(lab.command(client, "traceroute").args(["-n", "-F", &target, "1600"]), "traceroute");
            assert_eq!(hop_words(&theirs), [expected], "{case:?}: traceroute(8) prints\n{theirs}");
        }
    }
}

/// ICMPv6 Destination Unreachable codes 5 (source address failed policy) and 6 (reject route) end the trace where
/// they come from, as traceroute's `!<5>` and `!<6>` do.
#[test]
fn policy_and_reject_route_unreachables_end_an_ipv6_trace() {
    for (code, reject_with) in [(5, "icmp6-policy-fail"), (6, "icmp6-reject-route")] {
        let _machine = shared_machine();
        let rule = format!("-A FORWARD -j REJECT --reject-with {reject_with}");
        let (lab, client, routers, dst) = crate::chain(3, |spec, routers, _| spec.firewall6(routers[2], &[&rule]));
        for case in all_cases().into_iter().filter(|case| case.family == Family::V6) {
            let target = lab.addr(dst, case.family);
            let path = hops(&hoptrace(&lab, client, case, target, &["-q", "1"]), case);
            let mut expected = crate::router_addrs(&lab, &routers, client, case.family);
            expected.push(expected[2]);
            assert_path(&path, &expected, case);
            assert!(path[3].text.ends_with(&format!(" !<{code}>")), "{case:?}: {}", path[3].text);
        }
        let target = lab.addr(dst, Family::V6).to_string();
        let theirs = stdout_of(lab.command(client, "traceroute").args(["-n", "-q", "1", &target]), "traceroute");
        let ours = stdout_of(hoptrace_command(&lab, client).args(["-n", "-q", "1", &target]), "hoptrace");
        assert_eq!(hop_words(&ours), hop_words(&theirs), "traceroute(8):\n{theirs}\nhoptrace:\n{ours}");
    }
}

/// `/etc/netns/<ns>/resolv.conf` naming a server that is not there (nothing listens on the client's loopback):
/// the client is offline for names. Removed when dropped.
struct OfflineResolver {
    file: PathBuf,
    dir: PathBuf,
}

impl OfflineResolver {
    fn new(lab: &Lab, node: NodeId) -> Self {
        let dir = Path::new("/etc/netns").join(lab.ns(node));
        std::fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("creating {}: {error}", dir.display()));
        let file = dir.join("resolv.conf");
        std::fs::write(&file, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
            .unwrap_or_else(|error| panic!("writing {}: {error}", file.display()));
        OfflineResolver { file, dir }
    }
}

impl Drop for OfflineResolver {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The responders of tracepath-layout lines (`N:  NAME …`), the `N?: [LOCALHOST]` lines left out.
fn tracepath_responders(stdout: &str) -> BTreeSet<String> {
    let responder = |line: &str| {
        let rest = line.trim_start().split_once(":  ")?.1;
        let host = rest.split("  ").next()?.trim();
        (!line.contains("[LOCALHOST]") && !host.is_empty()).then(|| host.to_owned())
    };
    stdout.lines().filter_map(responder).filter(|host| host != "no reply").collect()
}

/// tracepath's names on loopback: the address where the resolver says there is no name, `???` where it cannot be
/// asked (here a lab DNS server answers NXDOMAIN for `::1`; then a resolver that is not there).
#[test]
fn tracepath_names_loopback_like_iputils_online_and_offline() {
    let _machine = shared_machine();
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let dns = spec.node("dns");
    spec.link(dns, client);
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    let listen = lab.iface_addr(dns, client, Family::V4);
    let named = lab.iface_addr(client, dns, Family::V4);
    let record = format!("--host-record=client.lab,{named}");
    let tracepath = |args: &[&str]| stdout_of(lab.command(client, "tracepath").args(args), "tracepath");
    let ours = |args: &[&str]| stdout_of(hoptrace_command(&lab, client).arg("--tracepath").args(args), "hoptrace");
    let expectations = [(vec!["::1"], "::1"), (vec!["-b", "::1"], "::1 (::1)"), (vec!["127.0.0.1"], "localhost")];
    {
        let _server = DnsServer::start(&lab, dns, listen, &[record], client, named);
        for (args, expected) in &expectations {
            let (theirs, ours) = (tracepath(args), ours(args));
            assert_eq!(tracepath_responders(&theirs), BTreeSet::from([expected.to_string()]), "tracepath:\n{theirs}");
            assert_eq!(tracepath_responders(&ours), tracepath_responders(&theirs), "{args:?}:\n{ours}\n{theirs}");
        }
    }
    let _offline = OfflineResolver::new(&lab, client);
    for (args, online) in &expectations {
        let expected = match *online {
            "::1" => "???",
            "::1 (::1)" => "??? (::1)",
            named => named, // /etc/hosts
        };
        let (theirs, ours) = (tracepath(args), ours(args));
        assert_eq!(tracepath_responders(&theirs), BTreeSet::from([expected.to_owned()]), "tracepath:\n{theirs}");
        assert_eq!(tracepath_responders(&ours), tracepath_responders(&theirs), "{args:?}:\n{ours}\n{theirs}");
    }
}

/// A tracepath line without its RTT (`0.123ms`), its words joined by one space.
fn without_rtt(line: &str) -> String {
    let rtt = |word: &&str| word.strip_suffix("ms").is_some_and(|number| number.parse::<f64>().is_ok());
    line.split_whitespace().filter(|word| !rtt(word)).collect::<Vec<_>>().join(" ")
}

/// tracepath on loopback: IPv6 asks for more than loopback's 65536-byte MTU (more than a probe's 65535 bytes), is
/// refused locally (`1?: [LOCALHOST] pmtu 65536`) and reports that MTU; IPv4 probes at 65535 bytes, its largest
/// packet, which fits. Line for line as iputils, but for RTTs and iputils' second probe of a TTL after the MTU
/// changed (even answered: it repeats the line).
#[test]
fn tracepath_on_loopback_reports_its_mtu_like_iputils() {
    let _machine = shared_machine();
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    let lo_mtu: u32 = stdout_of(lab.command(client, "cat").arg("/sys/class/net/lo/mtu"), "cat").trim().parse().unwrap();
    let lines = |stdout: &str| {
        let mut lines: Vec<String> = stdout.lines().map(without_rtt).collect();
        lines.dedup();
        lines
    };
    for (target, pmtu) in [("::1", lo_mtu), ("127.0.0.1", lo_mtu.min(65_535))] {
        let theirs = stdout_of(lab.command(client, "tracepath").args(["-n", target]), "tracepath");
        let ours = stdout_of(hoptrace_command(&lab, client).args(["--tracepath", "-n", target]), "hoptrace");
        let mut expected = vec![format!("1: {target} reached"), format!("Resume: pmtu {pmtu} hops 1 back 1")];
        if target == "::1" {
            expected.insert(0, format!("1?: [LOCALHOST] pmtu {pmtu}"));
        }
        assert_eq!(lines(&theirs), expected, "tracepath:\n{theirs}");
        assert_eq!(lines(&ours), expected, "hoptrace --tracepath:\n{ours}\ntracepath:\n{theirs}");
    }
}

/// `-A` offline prints nothing after the hops (the README's promise), where a registry that has no record of an
/// address gives `[*]` (lab test `names`).
#[test]
fn as_lookups_offline_add_nothing() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = crate::chain(2, |_, _, _| {});
    let _offline = OfflineResolver::new(&lab, client);
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family).to_string();
        let out = stdout_of(hoptrace_command(&lab, client).args(["-A", "-n", "-q", "1", &target]), "hoptrace -A");
        let mut expected: Vec<Vec<String>> = routers
            .iter()
            .enumerate()
            .map(|(index, &router)| vec![(index + 1).to_string(), lab.hop_addr(router, client, family).to_string()])
            .collect();
        expected.push(vec![(routers.len() + 1).to_string(), target.clone()]);
        assert_eq!(hop_words(&out), expected, "{family:?}:\n{out}");
    }
}

/// IPv6 routers quote at most 1280 bytes: the quote of a bigger probe is cut short. What it still holds identifies
/// the probe, with every method and privilege (the error queue returns only the quoted payload, so a Paris UDP
/// probe's checksum cannot be read back from a cut quote: its payload tag stands in), as traceroute -6 finds them.
#[test]
fn ipv6_probes_bigger_than_1280_bytes_find_every_hop() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = crate::chain(3, |_, _, _| {});
    let target = lab.addr(dst, Family::V6);
    let mut expected = crate::router_addrs(&lab, &routers, client, Family::V6);
    expected.push(Some(target));
    for case in all_cases().into_iter().filter(|case| case.family == Family::V6 && case.method != Method::Tcp) {
        for len in [1281, 1500] {
            let path = hops(&hoptrace_len(&lab, client, case, target, &["-q", "2", "-w", "1"], Some(len)), case);
            assert_path(&path, &expected, case);
        }
    }
    let t = target.to_string();
    let theirs = stdout_of(lab.command(client, "traceroute").args(["-n", "-q", "1", &t, "1500"]), "traceroute");
    let theirs: Vec<Option<IpAddr>> =
        hop_words(&theirs).iter().map(|words| words.get(1).and_then(|w| w.parse().ok())).collect();
    assert_eq!(theirs, expected, "traceroute -6 finds every hop");
}

/// A probe bigger than a known path MTU leaves in fragments (without `-F`), and routers quote the first fragment,
/// its Fragment header before the transport header: raw sockets took none of those errors and lost every router
/// hop, where traceroute -6 finds them.
#[test]
fn ipv6_probes_sent_in_fragments_find_every_hop() {
    let _machine = shared_machine();
    let link = |n| netlab::Link { mtu: (n == 2).then_some(1280), ..netlab::Link::default() };
    let (lab, client, routers, dst) = crate::chain_with_links(4, link, |_, _, _| {});
    let target = lab.addr(dst, Family::V6);
    let t = target.to_string();
    // The first big probes teach the client the path MTU (1280): from then on the kernel fragments.
    let theirs = stdout_of(lab.command(client, "traceroute").args(["-n", "-q", "1", &t, "1500"]), "traceroute");
    let route = stdout_of(lab.command(client, "ip").args(["-6", "route", "get", &t]), "ip route get");
    assert!(route.contains("mtu 1280"), "the path MTU is known: {route}\n{theirs}");
    let mut expected = crate::router_addrs(&lab, &routers, client, Family::V6);
    expected.push(Some(target));
    let theirs = stdout_of(lab.command(client, "traceroute").args(["-n", "-q", "1", &t, "1500"]), "traceroute");
    let theirs: Vec<Option<IpAddr>> =
        hop_words(&theirs).iter().map(|words| words.get(1).and_then(|w| w.parse().ok())).collect();
    assert_eq!(theirs, expected, "traceroute -6 finds every hop");
    for case in all_cases().into_iter().filter(|case| case.family == Family::V6 && case.method != Method::Tcp) {
        for len in [1281, 1500] {
            let path = hops(&hoptrace_len(&lab, client, case, target, &["-q", "2", "-w", "1"], Some(len)), case);
            assert_path(&path, &expected, case);
        }
    }
}
