//! Running the real hoptrace binary inside a lab namespace and reading its output.

use std::net::IpAddr;
use std::process::Output;

use netlab::{Family, Lab, NodeId};

/// The probe method, as the command line selects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Udp,
    Icmp,
    Tcp,
}

impl Method {
    fn flag(self) -> Option<&'static str> {
        match self {
            Method::Udp => None,
            Method::Icmp => Some("-I"),
            Method::Tcp => Some("-T"),
        }
    }
}

/// One combination of method, family and privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub method: Method,
    pub family: Family,
    /// Run as `nobody` (ordinary sockets) rather than root (raw sockets).
    pub unprivileged: bool,
}

/// Every method × family × privilege combination.
pub fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for method in [Method::Udp, Method::Icmp, Method::Tcp] {
        for family in [Family::V4, Family::V6] {
            for unprivileged in [false, true] {
                cases.push(Case { method, family, unprivileged });
            }
        }
    }
    cases
}

/// Lets `nobody` use ICMP datagram sockets in the client's namespace (`ping_group_range` is per namespace).
pub fn allow_ping_sockets(lab: &Lab, client: NodeId) {
    let status = lab
        .command(client, "sysctl")
        .args(["-qw", "net.ipv4.ping_group_range=0 2147483647"])
        .status()
        .expect("sysctl runs");
    assert!(status.success(), "setting ping_group_range failed");
}

/// Runs hoptrace from `client` towards `target` with `args` (numeric output is always on).
pub fn hoptrace(lab: &Lab, client: NodeId, case: Case, target: IpAddr, args: &[&str]) -> Output {
    hoptrace_len(lab, client, case, target, args, None)
}

/// Like [`hoptrace`], with the trailing `packet_len` argument.
pub fn hoptrace_len(
    lab: &Lab,
    client: NodeId,
    case: Case,
    target: IpAddr,
    args: &[&str],
    packet_len: Option<u16>,
) -> Output {
    let binary = env!("CARGO_BIN_EXE_hoptrace");
    let mut command = if case.unprivileged {
        let mut command = lab.command(client, "setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", binary]);
        command
    } else {
        lab.command(client, binary)
    };
    command.arg("-n").args(case.method.flag()).args(args).arg(target.to_string());
    command.args(packet_len.map(|len| len.to_string()));
    command.output().expect("hoptrace runs")
}

/// A hop line of the text output.
#[derive(Debug, Clone, PartialEq)]
pub struct HopLine {
    pub ttl: u8,
    /// The responders in order of appearance; empty for `* * *`.
    pub addrs: Vec<IpAddr>,
    /// The whole line.
    pub text: String,
}

/// The hop lines of hoptrace's (numeric) output, after checking its header.
pub fn hops(output: &Output, case: Case) -> Vec<HopLine> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{case:?}: hoptrace failed: {stderr}\n{stdout}");
    let mut lines = stdout.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with("traceroute to "), "{case:?}: header {header:?}");
    lines
        .map(|line| {
            let mut words = line.split_whitespace();
            let ttl = words.next().and_then(|w| w.parse().ok()).unwrap_or_else(|| panic!("hop line {line:?}"));
            let addrs = words.filter_map(|w| w.parse().ok()).collect();
            HopLine { ttl, addrs, text: line.to_owned() }
        })
        .collect()
}

/// Asserts that hop n answered from `expected[n - 1]` (`None`: a silent hop), and nothing more.
pub fn assert_path(hops: &[HopLine], expected: &[Option<IpAddr>], case: Case) {
    let seen: Vec<Option<IpAddr>> = hops
        .iter()
        .map(|hop| {
            assert!(hop.addrs.len() <= 1, "{case:?}: several responders at hop {}: {}", hop.ttl, hop.text);
            hop.addrs.first().copied()
        })
        .collect();
    assert_eq!(seen, expected, "{case:?}:\n{}", hops.iter().map(|h| h.text.as_str()).collect::<Vec<_>>().join("\n"));
    for (index, hop) in hops.iter().enumerate() {
        assert_eq!(usize::from(hop.ttl), index + 1, "{case:?}: {}", hop.text);
    }
}
