//! The Debian package `scripts/deb.sh` builds with cargo-deb, installed into this machine's root with `dpkg -i`
//! (the lab machine is root and throwaway) and purged at the end, whatever happens: its files in place, its unit
//! verified as installed, a trace by an ordinary user, and the monitor run as the unit runs it.

use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use netlab::{Family, Lab, NodeId};

use crate::monitor::{http_get, signal, wait_for, Running, METRICS};
use crate::service::unit_values;
use crate::support::*;

const UNIT: &str = "/usr/lib/systemd/system/hoptrace-monitor.service";
const TARGETS: &str = "/etc/hoptrace/targets";

/// The files the package must install.
const FILES: [&str; 12] = [
    "/usr/bin/hoptrace",
    "/usr/share/man/man1/hoptrace.1.gz",
    "/usr/share/man/man1/hoptrace-monitor.1.gz",
    "/usr/share/man/man1/hoptrace-bulk.1.gz",
    "/usr/share/bash-completion/completions/hoptrace",
    "/usr/share/zsh/vendor-completions/_hoptrace",
    "/usr/share/fish/vendor_completions.d/hoptrace.fish",
    UNIT,
    TARGETS,
    "/usr/share/hoptrace/prometheus/hoptrace.rules.yml",
    "/usr/share/hoptrace/prometheus/hoptrace.rules.test.yml",
    "/usr/share/hoptrace/grafana/hoptrace-monitor.json",
];

/// The installed package, purged (its conffile too) when dropped.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let status = Command::new("dpkg").args(["--purge", "hoptrace"]).stdout(Stdio::null()).status();
        assert!(status.is_ok_and(|s| s.success()), "dpkg --purge hoptrace");
    }
}

/// `setpriv` as the unit's identity: a user of its own (nobody here) with CAP_NET_RAW as ambient and bounding
/// capability and no new privileges, as DynamicUser=, AmbientCapabilities=, CapabilityBoundingSet= and
/// NoNewPrivileges= make it.
fn as_the_unit(lab: &Lab, node: NodeId) -> Command {
    let mut command = lab.command(node, "setpriv");
    command.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+net_raw"]);
    command.args(["--ambient-caps=+net_raw", "--bounding-set=-all,+net_raw", "--no-new-privs", "--"]);
    command
}

#[test]
fn the_debian_package_installs_traces_as_a_user_and_runs_the_monitor_as_its_unit_does() {
    let _machine = shared_machine();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The dev binaries this test was built with: a release build would take the machine for minutes.
    let built = stdout_of(
        Command::new(root.join("scripts/deb.sh")).args(["--profile", "dev", "--no-build", "--fast"]),
        "scripts/deb.sh",
    );
    let deb = built.lines().last().expect("the package's path").trim().to_owned();
    assert!(deb.ends_with(".deb"), "{built}");

    let installed = Installed;
    stdout_of(Command::new("dpkg").args(["-i", &deb]), "dpkg -i");
    for file in FILES {
        assert!(Path::new(file).is_file(), "{file} is not installed");
    }
    let listed = stdout_of(Command::new("dpkg").args(["-L", "hoptrace"]), "dpkg -L");
    assert!(FILES.iter().all(|file| listed.lines().any(|line| line == *file)), "{listed}");
    let conffiles = stdout_of(Command::new("dpkg-query").args(["-W", "-f=${Conffiles}", "hoptrace"]), "dpkg-query");
    assert!(conffiles.contains(TARGETS), "{conffiles}");
    // The installed unit as is: its binary and its man page are there now.
    stdout_of(Command::new("systemd-analyze").args(["verify", UNIT]), "systemd-analyze verify");

    let (lab, client, routers, dst) = crate::chain(1, |_, _, _| {});
    let [v4, v6]: [IpAddr; 2] = [Family::V4, Family::V6].map(|family| lab.addr(dst, family));
    let r1 = lab.hop_addr(routers[0], client, Family::V4);

    // A trace by an ordinary user, no capability at all.
    let mut trace = lab.command(client, "setpriv");
    trace.args(["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/hoptrace", "-n", "-q", "1"]);
    let output = trace.arg(v4.to_string()).output().expect("setpriv runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}{stdout}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with(&format!("traceroute to {v4} ")), "{stdout}");
    assert!(lines[1].starts_with(&format!(" 1  {r1}  ")), "{stdout}");
    assert!(lines[2].starts_with(&format!(" 2  {v4}  ")), "{stdout}");
    assert_eq!(lines.len(), 3, "{stdout}");

    // The monitor, with the unit's command line and identity, the targets in the package's targets file.
    std::fs::write(TARGETS, format!("# the lab\n{v4}\n")).unwrap();
    let unit = std::fs::read_to_string(UNIT).unwrap();
    let exec = unit_values(&unit, "ExecStart").pop().expect("ExecStart");
    let words: Vec<&str> = exec.split_whitespace().collect();
    let stderr = std::env::temp_dir().join(format!("hoptrace-package-{}.stderr", std::process::id()));
    let mut monitor = as_the_unit(&lab, client);
    let monitor = monitor.args(&words).stdout(Stdio::null()).stderr(std::fs::File::create(&stderr).unwrap());
    let mut monitor = Running(monitor.spawn().expect("the monitor starts"));
    let series = |target: IpAddr| format!("hoptrace_runs_total{{target=\"{target}\",result=\"reached\"}}");
    let scrape = || http_get(&lab, client, &format!("http://{METRICS}/metrics"));
    wait_for(Duration::from_secs(10), "the target's series", || scrape().filter(|m| m.contains(&series(v4))));

    // ExecReload, $MAINPID being the monitor.
    std::fs::write(TARGETS, format!("{v6}\n")).unwrap();
    let reload = unit_values(&unit, "ExecReload").pop().expect("ExecReload");
    let reload = reload.replace("$MAINPID", &monitor.0.id().to_string());
    let reload: Vec<&str> = reload.split_whitespace().collect();
    stdout_of(Command::new(reload[0]).args(&reload[1..]), "ExecReload");
    let metrics =
        wait_for(Duration::from_secs(10), "the new target's series", || scrape().filter(|m| m.contains(&series(v6))));
    assert!(!metrics.contains(&series(v4)), "{metrics}");

    signal(&monitor.0, "TERM");
    let status = wait_for(Duration::from_secs(10), "the monitor to stop", || monitor.0.try_wait().unwrap());
    let log = std::fs::read_to_string(&stderr).unwrap_or_default();
    let _ = std::fs::remove_file(&stderr);
    assert!(status.success(), "{status}: {log}");
    // Its start line alone: what it watches and where it serves.
    let start = format!(
        "hoptrace: watching 1 target ({v4}) every 60 s over ICMP; metrics at http://127.0.0.1:9120/metrics; \
         path changes on stdout, failures on stderr\n"
    );
    assert_eq!(log, start);

    drop(installed);
    assert!(!Path::new("/usr/bin/hoptrace").exists() && !Path::new(TARGETS).exists(), "purged");
}
