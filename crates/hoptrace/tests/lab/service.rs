//! `contrib/systemd/hoptrace-monitor.service` under systemd's own checks: `systemd-analyze verify` accepts it and
//! `systemd-analyze security --offline=yes` rates its exposure 2.5 or lower.

use std::process::{Command, Output};

use crate::monitor::Scratch;
use crate::operators::contrib;

/// The highest exposure `systemd-analyze security` may rate the unit (0 best, 10 worst).
const MOST_EXPOSURE: f64 = 2.5;

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The unit's `Key=` values, in order.
pub(crate) fn unit_values(unit: &str, key: &str) -> Vec<String> {
    let prefix = format!("{key}=");
    unit.lines().filter_map(|line| line.strip_prefix(&prefix)).map(str::to_owned).collect()
}

#[test]
fn the_monitor_unit_verifies_and_rates_at_most_2_5() {
    let path = contrib("systemd/hoptrace-monitor.service");
    let unit = std::fs::read_to_string(&path).expect("the unit");
    assert_eq!(
        unit_values(&unit, "ExecStart"),
        ["/usr/bin/hoptrace monitor --targets /etc/hoptrace/targets --prometheus 127.0.0.1:9120"]
    );
    assert_eq!(unit_values(&unit, "ExecReload"), ["kill -HUP $MAINPID"]);
    assert_eq!(unit_values(&unit, "AmbientCapabilities"), ["CAP_NET_RAW"]);
    assert_eq!(unit_values(&unit, "CapabilityBoundingSet"), ["CAP_NET_RAW"]);
    for (key, value) in [("DynamicUser", "yes"), ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict")] {
        assert_eq!(unit_values(&unit, key), [value], "{key}");
    }

    // verify wants the binary the unit runs: the one built here stands in for /usr/bin/hoptrace (the package
    // test verifies the installed unit as is, its man page included).
    let scratch = Scratch::new("service-verify");
    let copy = scratch.0.join("hoptrace-monitor.service");
    std::fs::write(&copy, unit.replace("/usr/bin/hoptrace", env!("CARGO_BIN_EXE_hoptrace"))).unwrap();
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .expect("systemd-analyze runs (Debian package `systemd`)");
    assert!(verify.status.success(), "{}", text(&verify));
    assert_eq!(text(&verify), "", "verify has something to say");

    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&path)
        .output()
        .expect("systemd-analyze runs");
    let report = text(&security);
    let prefix = "→ Overall exposure level for hoptrace-monitor.service: ";
    let line = report.lines().find_map(|line| line.strip_prefix(prefix)).unwrap_or_else(|| panic!("{report}"));
    let exposure: f64 = line.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{line}"));
    eprintln!("exposure {exposure}");
    assert!(exposure <= MOST_EXPOSURE, "exposure {exposure} > {MOST_EXPOSURE}:\n{report}");
}
