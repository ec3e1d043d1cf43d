//! Labs leave nothing behind: not on drop, not on panic, not when their process died.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;
use std::sync::Mutex;

use hoptrace_netlab::{Lab, LabSpec, NodeId};

use crate::support::{build, text};

fn two_nodes() -> (LabSpec, [NodeId; 2]) {
    let mut spec = LabSpec::new();
    let a = spec.router("a");
    let b = spec.node("b");
    spec.link(a, b);
    (spec, [a, b])
}

fn listed_namespaces() -> String {
    text(&Command::new("ip").args(["netns", "list"]).output().expect("ip netns list"))
}

#[test]
fn drop_removes_namespaces_and_kills_what_runs_in_them() {
    let (spec, nodes) = two_nodes();
    let lab = build(&spec);
    let names = nodes.map(|node| lab.ns(node).to_string());
    let mut sleeper = lab.command(nodes[0], "sleep").arg("30").spawn().expect("sleep");
    assert!(names.iter().all(|name| listed_namespaces().contains(name.as_str())));
    drop(lab);
    let listed = listed_namespaces();
    assert!(names.iter().all(|name| !listed.contains(name.as_str())), "{listed}");
    assert!(!sleeper.wait().expect("sleep's status").success());
}

#[test]
fn panic_removes_namespaces() {
    let names = Mutex::new(Vec::new());
    let result = catch_unwind(AssertUnwindSafe(|| {
        let (spec, nodes) = two_nodes();
        let lab = build(&spec);
        names.lock().unwrap().extend(nodes.map(|node| lab.ns(node).to_string()));
        panic!("a test failing with its lab up");
    }));
    assert!(result.is_err());
    let names = names.into_inner().unwrap();
    assert_eq!(names.len(), 2);
    let listed = listed_namespaces();
    assert!(names.iter().all(|name| !listed.contains(name.as_str())), "{listed}");
}

#[test]
fn build_removes_namespaces_of_dead_processes() {
    // No process can have a pid above pid_max.
    let pid_max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap().trim().parse().unwrap();
    let stale = format!("htlab-{}-0-leftover", pid_max + 1);
    let added = Command::new("ip").args(["netns", "add", &stale]).status().expect("ip netns add");
    assert!(added.success());
    let (spec, _) = two_nodes();
    let _lab = build(&spec);
    let listed = listed_namespaces();
    assert!(!listed.contains(&stale), "{listed}");
}

#[test]
fn failed_build_says_which_command_failed_and_leaves_nothing() {
    let mut spec = LabSpec::new();
    let a = spec.router("a");
    let broken = spec.node("broken-fw");
    spec.link(a, broken);
    spec.firewall(broken, &["-A NO-SUCH-CHAIN -j DROP"]);
    let error = Lab::build(&spec).err().expect("a bad rule fails the build").to_string();
    assert!(error.contains("iptables -A NO-SUCH-CHAIN -j DROP") && error.contains("failed"), "{error}");
    let listed = listed_namespaces();
    assert!(!listed.contains("-broken-fw"), "{listed}");
}
