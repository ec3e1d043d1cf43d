//! Running the real hoptrace binary inside a lab namespace and reading its output.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use netlab::{Family, Lab, NodeId};

/// The probe method, as the command line selects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Udp,
    /// `-U`: Paris UDP to one port, probes told apart by their checksum.
    UdpParis,
    Icmp,
    Tcp,
}

impl Method {
    fn flag(self) -> Option<&'static str> {
        match self {
            Method::Udp => None,
            Method::UdpParis => Some("-U"),
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
    for method in [Method::Udp, Method::UdpParis, Method::Icmp, Method::Tcp] {
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

/// A command that runs the hoptrace binary as root (raw sockets) in `node`'s namespace; add the arguments.
pub fn hoptrace_command(lab: &Lab, node: NodeId) -> Command {
    lab.command(node, env!("CARGO_BIN_EXE_hoptrace"))
}

/// Runs `command` to completion and returns its stdout, failing the test (with `what` and stderr) unless it succeeds.
pub fn stdout_of(command: &mut Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|error| panic!("{what}: cannot start: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what}: {}\nstderr: {stderr}\nstdout:\n{stdout}", output.status);
    stdout
}

/// Forgets the path MTUs and other route exceptions `node` has learnt (IPv4 and IPv6), so that the next trace
/// discovers the path MTU afresh instead of starting from what an earlier trace found.
pub fn flush_route_cache(lab: &Lab, node: NodeId) {
    for family in ["-4", "-6"] {
        stdout_of(lab.command(node, "ip").args([family, "route", "flush", "cache"]), "ip route flush cache");
    }
}

/// The root of the Cargo workspace.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Lab tests run in parallel; a test that measures time runs alone.
static MACHINE: RwLock<()> = RwLock::new(());

/// Taken by every lab test for its whole run: shares the machine with the others.
pub fn shared_machine() -> RwLockReadGuard<'static, ()> {
    MACHINE.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Taken by a test that measures time: waits for the others and keeps them out.
pub fn quiet_machine() -> RwLockWriteGuard<'static, ()> {
    MACHINE.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}
