//! A real DNS server in a lab node (dnsmasq) and a lab node's resolver pointed at it.

use std::io::Read as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use netlab::{Lab, NodeId};

/// The domains the server answers for with authority: every name, PTR and AS lookup of the lab, so that what it
/// has no record for is a quick NXDOMAIN rather than a query to nowhere.
const LOCAL_DOMAINS: [&str; 4] = ["lab", "in-addr.arpa", "ip6.arpa", "asn.cymru.com"];

/// dnsmasq (Debian `dnsmasq-base`) running in a lab node with the records it was given, and `/etc/netns/<ns>/
/// resolv.conf` of a client node naming it. Dropping it stops the server and removes the files it created.
pub struct DnsServer {
    server: Child,
    /// Files and then directories created for the client's resolver configuration, removed in this order.
    created_files: Vec<PathBuf>,
    created_dirs: Vec<PathBuf>,
}

impl DnsServer {
    /// Starts dnsmasq in `node`, listening on `listen`, with extra options such as `--host-record=NAME,IP` and
    /// `--txt-record=NAME,"TEXT"`; makes `client`'s resolver use it, and waits until `client` resolves
    /// `probe_addr` (which the records must name).
    pub fn start(
        lab: &Lab,
        node: NodeId,
        listen: IpAddr,
        records: &[String],
        client: NodeId,
        probe_addr: IpAddr,
    ) -> Self {
        let mut command = lab.command(node, "dnsmasq");
        command.args(["--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file="]);
        command.args(["--user=root", "--bind-interfaces", "--log-facility=-"]);
        command.arg(format!("--listen-address={listen}"));
        command.args(LOCAL_DOMAINS.map(|domain| format!("--local=/{domain}/")));
        command.args(records);
        let server = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dnsmasq starts (Debian package dnsmasq-base; scripts/test.sh installs it)");
        let mut dns = DnsServer { server, created_files: Vec::new(), created_dirs: Vec::new() };
        dns.write_resolv_conf(lab.ns(client), listen);
        dns.wait_until_client_resolves(lab, client, probe_addr);
        dns
    }

    /// The server's process id and the files made for the client's resolver, to check that they are gone.
    pub fn leftovers(&self) -> (u32, Vec<PathBuf>) {
        (self.server.id(), self.created_files.iter().chain(&self.created_dirs).cloned().collect())
    }

    /// Writes `/etc/netns/<ns>/resolv.conf`, which `ip netns exec` mounts over `/etc/resolv.conf`.
    fn write_resolv_conf(&mut self, ns: &str, server: IpAddr) {
        let dir = PathBuf::from("/etc/netns").join(ns);
        for dir in [dir.parent().expect("/etc/netns").to_path_buf(), dir.clone()] {
            if !dir.exists() {
                std::fs::create_dir(&dir).unwrap_or_else(|error| panic!("creating {}: {error}", dir.display()));
                self.created_dirs.insert(0, dir);
            }
        }
        let file = dir.join("resolv.conf");
        assert!(!file.exists(), "{} exists already", file.display());
        self.created_files.push(file.clone());
        std::fs::write(&file, format!("nameserver {server}\noptions timeout:1 attempts:2\n"))
            .unwrap_or_else(|error| panic!("writing {}: {error}", file.display()));
    }

    /// Polls `getent hosts ADDR` in `client` (the system resolver) for at most 5 s.
    fn wait_until_client_resolves(&mut self, lab: &Lab, client: NodeId, addr: IpAddr) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(status)) = self.server.try_wait() {
                panic!("dnsmasq (Debian package dnsmasq-base) exited ({status}): {}", self.stderr());
            }
            let output = lab.command(client, "getent").args(["hosts", &addr.to_string()]).output().expect("getent");
            if output.status.success() && !output.stdout.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "the client does not resolve {addr} through dnsmasq: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What dnsmasq wrote to stderr, once it has stopped (kills it first).
    fn stderr(&mut self) -> String {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let mut text = String::new();
        if let Some(mut pipe) = self.server.stderr.take() {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        for file in &self.created_files {
            let _ = std::fs::remove_file(file);
        }
        for dir in &self.created_dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}
