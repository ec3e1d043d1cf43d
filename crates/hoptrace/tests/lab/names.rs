//! Names and AS numbers from a real DNS server (dnsmasq) in the lab, through the system resolver configuration.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

use netlab::{Family, Lab, LabSpec, NodeId};

use crate::dns::DnsServer;
use crate::support::*;

/// The TXT answer Team Cymru's origin service would give for a lab address.
const LAB_ORIGIN: &str = "64500 | 198.18.0.0/15 | ZZ | lab | 2026-01-01";

/// The router whose addresses have names but no AS record.
const ROUTER_WITHOUT_AS: usize = 1;

/// A router or the destination, as the client sees it.
struct NamedHop {
    name: &'static str,
    /// The IPv4 and IPv6 addresses it answers the client's probes from.
    addrs: [IpAddr; 2],
}

impl NamedHop {
    fn addr(&self, family: Family) -> IpAddr {
        self.addrs[usize::from(family == Family::V6)]
    }
}

/// A lab `client — r1 — r2 — r3 — dst`, with a `dns` node beside the client running dnsmasq.
struct NamedLab {
    // Fields drop in order: the server and its files go before the lab.
    dns: DnsServer,
    lab: Lab,
    client: NodeId,
    path: Vec<NamedHop>,
}

impl NamedLab {
    fn build() -> Self {
        let mut spec = LabSpec::new();
        let client = spec.node("client");
        let routers: Vec<NodeId> = (1..=3).map(|n| spec.router(&format!("r{n}"))).collect();
        let dst = spec.node("dst");
        let dns = spec.node("dns");
        let mut previous = client;
        for &node in routers.iter().chain([&dst]) {
            spec.link(previous, node);
            previous = node;
        }
        spec.link(dns, client);
        let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");

        let mut path: Vec<NamedHop> = routers
            .iter()
            .zip(["r1.lab", "r2.lab", "r3.lab"])
            .map(|(&router, name)| NamedHop {
                name,
                addrs: FAMILIES.map(|family| lab.hop_addr(router, client, family)),
            })
            .collect();
        path.push(NamedHop { name: "dst.lab", addrs: FAMILIES.map(|family| lab.addr(dst, family)) });

        let mut records = Vec::new();
        for (index, hop) in path.iter().enumerate() {
            let [v4, v6] = hop.addrs;
            records.push(format!("--host-record={},{v4},{v6}", hop.name));
            if index != ROUTER_WITHOUT_AS {
                for addr in hop.addrs {
                    records.push(format!("--txt-record={},\"{LAB_ORIGIN}\"", origin_query_name(addr)));
                }
            }
        }
        let listen = lab.iface_addr(dns, client, Family::V4);
        let dns = DnsServer::start(&lab, dns, listen, &records, client, path[0].addrs[0]);
        NamedLab { dns, lab, client, path }
    }
}

const FAMILIES: [Family; 2] = [Family::V4, Family::V6];

/// The name Team Cymru's origin service answers TXT queries for: reversed octets or nibbles.
fn origin_query_name(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.origin.asn.cymru.com")
        }
        IpAddr::V6(v6) => {
            let hex: String = v6.octets().iter().map(|octet| format!("{octet:02x}")).collect();
            let nibbles: Vec<String> = hex.chars().rev().map(String::from).collect();
            format!("{}.origin6.asn.cymru.com", nibbles.join("."))
        }
    }
}

/// Hop lines of an output in traceroute's or tracepath's layout, each split into words, without the header and
/// the summary lines.
fn hop_words(stdout: &str) -> Vec<Vec<String>> {
    let is_hop = |line: &&str| line.trim_start().starts_with(|c: char| c.is_ascii_digit()) && !line.contains("?:");
    stdout.lines().filter(is_hop).map(|line| line.split_whitespace().map(str::to_owned).collect()).collect()
}

/// The first `count` words of each hop line.
fn leading_words(stdout: &str, count: usize) -> Vec<Vec<String>> {
    hop_words(stdout).into_iter().map(|words| words.into_iter().take(count).collect()).collect()
}

#[test]
fn hop_names_and_as_numbers_come_from_dns() {
    let _machine = shared_machine();
    let lab = NamedLab::build();
    let in_client = |program: &str, args: &[&str]| {
        let mut command = match program {
            "hoptrace" => hoptrace_command(&lab.lab, lab.client),
            _ => lab.lab.command(lab.client, program),
        };
        let out = stdout_of(command.args(args), &format!("{program} {args:?}"));
        eprintln!("{program} {args:?}\n{out}");
        out
    };
    for family in FAMILIES {
        let target = lab.path[lab.path.len() - 1].addr(family).to_string();
        let addr = |index: usize| lab.path[index].addr(family).to_string();
        let hops = lab.path.len();

        // Names: `name (ip)`, like traceroute(8) prints them.
        let out = in_client("hoptrace", &["-q", "1", &target]);
        let expected: Vec<Vec<String>> = (0..hops)
            .map(|index| vec![(index + 1).to_string(), lab.path[index].name.into(), format!("({})", addr(index))])
            .collect();
        assert_eq!(leading_words(&out, 3), expected, "{family:?}:\n{out}");
        let theirs = in_client("traceroute", &["-q", "1", &target]);
        assert_eq!(leading_words(&theirs, 3), expected, "{family:?}: traceroute(8) prints\n{theirs}");

        // A destination given by name.
        let family_flag = if family == Family::V4 { "-4" } else { "-6" };
        let out = in_client("hoptrace", &["-n", "-q", "1", family_flag, "dst.lab"]);
        assert!(out.starts_with(&format!("traceroute to dst.lab ({target}), ")), "{family:?}:\n{out}");
        assert_eq!(leading_words(&out, 2).last(), Some(&vec![hops.to_string(), target.clone()]), "{out}");

        // -n: addresses only.
        let out = in_client("hoptrace", &["-n", "-q", "1", &target]);
        let expected: Vec<Vec<String>> = (0..hops).map(|index| vec![(index + 1).to_string(), addr(index)]).collect();
        assert_eq!(leading_words(&out, 2), expected, "{family:?}:\n{out}");
        let named = hop_words(&out).concat().into_iter().any(|word| word.contains(".lab") || word.starts_with('('));
        assert!(!named, "{family:?}: a name with -n:\n{out}");

        // -A -n: the AS of every address, `[*]` for the one without a record.
        let out = in_client("hoptrace", &["-A", "-n", "-q", "1", &target]);
        let as_of = |index| if index == ROUTER_WITHOUT_AS { "[*]" } else { "[AS64500]" };
        let expected: Vec<Vec<String>> =
            (0..hops).map(|index| vec![(index + 1).to_string(), addr(index), as_of(index).into()]).collect();
        assert_eq!(leading_words(&out, 3), expected, "{family:?}:\n{out}");

        // tracepath layout: names only, and `name (ip)` with -b, like tracepath(8) (which repeats TTL 1).
        let out = in_client("hoptrace", &["--tracepath", &target]);
        let expected: Vec<Vec<String>> =
            (0..hops).map(|index| vec![format!("{}:", index + 1), lab.path[index].name.into()]).collect();
        assert_eq!(leading_words(&out, 2), expected, "{family:?}:\n{out}");
        let out = in_client("hoptrace", &["--tracepath", "-b", &target]);
        let expected: BTreeSet<Vec<String>> = expected
            .into_iter()
            .enumerate()
            .map(|(index, mut words)| {
                words.push(format!("({})", addr(index)));
                words
            })
            .collect();
        assert_eq!(leading_words(&out, 3).len(), hops, "{family:?}:\n{out}");
        assert_eq!(leading_words(&out, 3).into_iter().collect::<BTreeSet<_>>(), expected, "{family:?}:\n{out}");
        let theirs = in_client("tracepath", &["-b", &target]);
        let theirs: BTreeSet<Vec<String>> = leading_words(&theirs, 3).into_iter().collect();
        assert_eq!(theirs, expected, "{family:?}: tracepath(8) prints\n{theirs:?}");
    }

    let (server, files) = lab.dns.leftovers();
    drop(lab);
    assert!(!Path::new(&format!("/proc/{server}")).exists(), "dnsmasq (pid {server}) still runs");
    for file in files {
        assert!(!file.exists(), "{} is left behind", file.display());
    }
}
