//! hoptrace run as `mtr` against Debian's mtr 0.95 on the same lab path, a silent hop and a hop of two responders
//! (a per-packet load balancer) on it: the npm wrappers that run `mtr` (`mtr` reads `--raw`, `mtrext` reads
//! `-r -w -o "LSDR NBAW JMXI"`) find the same hops and loss in both, and the wide report lists the same responders
//! per hop, further ones on lines of their own as mtr 0.95 writes them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use netlab::{Family, Lab, LabSpec, NodeId, RouterOpts};
use serde_json::Value as Json;

use crate::support::*;

/// Rounds and their interval, for both programs (mtrext passes no `-c`: MTR_OPTIONS carries them, as mtr reads it).
const MTR_OPTIONS: &str = "-c 16 -i 0.1";

/// The npm packages scripts/test.sh installs: `$HOPTRACE_NPM/node_modules`, else `target/npm/node_modules`.
fn node_modules() -> PathBuf {
    let dir = std::env::var_os("HOPTRACE_NPM").map_or_else(|| workspace_root().join("target/npm"), PathBuf::from);
    let modules = dir.join("node_modules");
    assert!(
        modules.join("mtr/package.json").is_file() && modules.join("mtrext/package.json").is_file(),
        "the npm packages mtr and mtrext are not under {}: run scripts/test.sh (or `npm install --prefix {} mtr \
         mtrext`), or point HOPTRACE_NPM at where they are",
        modules.display(),
        dir.display()
    );
    modules
}

/// Runs the two wrappers one after the other on `target`; their results as JSON (`raw`: mtr's hops, `ext`:
/// mtrext's).
const WRAPPERS: &str = r#"
const { Mtr } = require('mtr');
const { MtrExt } = require('mtrext');
const target = process.argv[2];
const fail = (what) => (error) => { console.error(what, error.data ? JSON.stringify(error.data) : String(error)); process.exit(1); };
const raw = [];
const mtr = new Mtr(target, { reportCycles: 16 });
mtr.on('hop', (hop) => raw.push(hop));
mtr.on('error', fail('mtr'));
mtr.on('end', () => {
  const ext = new MtrExt(target, {});
  ext.on('error', fail('mtrext'));
  ext.on('end', (data) => console.log(JSON.stringify({ raw, ext: data.results.hops, report: data.results.raw })));
  ext.traceroute();
});
mtr.traceroute();
"#;

/// client — r1 (per packet to r2a or r2b) — {r2a, r2b} — r3 (silent) — dst.
struct Path4 {
    lab: Lab,
    client: NodeId,
    target: IpAddr,
    /// Per TTL, who may answer (empty: nobody).
    hops: Vec<BTreeSet<IpAddr>>,
}

fn lab_path() -> Path4 {
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let r1 = spec.router("r1");
    let r2 = [spec.router("r2a"), spec.router("r2b")];
    let r3 = spec.router("r3");
    let dst = spec.node("dst");
    spec.link(client, r1);
    for branch in r2 {
        spec.link(r1, branch);
        spec.link(branch, r3);
    }
    spec.link(r3, dst);
    spec.router_opts(r3, RouterOpts { silent: true, ..RouterOpts::default() });
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    // r1 sends what comes from the client to r2a or r2b at random, packet by packet (marks choose a table).
    let from_client = lab.iface(r1, client);
    let run = |program: &str, args: &[&str]| {
        let status = lab.command(r1, program).args(args).status().expect("runs");
        assert!(status.success(), "{program} {args:?}");
    };
    run("nft", &["add", "table", "ip", "mtrlb"]);
    run("nft", &["add chain ip mtrlb pre { type filter hook prerouting priority -150 ; }"]);
    let rule = format!("add rule ip mtrlb pre iifname \"{from_client}\" meta mark set numgen random mod 2 offset 1");
    run("nft", &[&rule]);
    for (index, branch) in r2.iter().enumerate() {
        let table = (101 + index).to_string();
        let mark = (1 + index).to_string();
        let via = lab.iface_addr(*branch, r1, Family::V4).to_string();
        run("ip", &["rule", "add", "fwmark", &mark, "table", &table]);
        run("ip", &["route", "add", "198.18.0.0/15", "via", &via, "dev", &lab.iface(r1, *branch), "table", &table]);
    }
    let target = lab.addr(dst, Family::V4);
    let hops = vec![
        BTreeSet::from([lab.hop_addr(r1, client, Family::V4)]),
        r2.iter().map(|&branch| lab.iface_addr(branch, r1, Family::V4)).collect(),
        BTreeSet::new(),
        BTreeSet::from([target]),
    ];
    Path4 { lab, client, target, hops }
}

/// A directory holding `mtr`, a link to `program`.
fn mtr_dir(name: &str, program: &Path) -> PathBuf {
    let dir = workspace_root().join("target/lab-mtr").join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("makes the directory");
    let link = dir.join("mtr");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(program, &link).expect("links mtr");
    dir
}

/// What the wrappers read from the `mtr` first in PATH at `dir`.
fn wrappers(path: &Path4, dir: &Path) -> Json {
    let script = dir.join("wrappers.js");
    std::fs::write(&script, WRAPPERS).expect("writes the script");
    let mut command = path.lab.command(path.client, "node");
    command
        .arg(&script)
        .arg(path.target.to_string())
        .env("PATH", format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", dir.display()))
        .env("NODE_PATH", node_modules())
        .env("MTR_OPTIONS", MTR_OPTIONS);
    let stdout = stdout_of(&mut command, "node wrappers.js");
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

/// A hop as a wrapper gives it: number, host (or `???`/null), loss and sent where known.
type HopView = (u64, Option<String>, Option<String>, Option<String>);

/// mtrext's hops (number, host, loss, sent), and mtr's (number, ip).
fn views(json: &Json) -> (Vec<HopView>, Vec<HopView>) {
    let text = |value: &Json| value.as_str().map(str::to_owned);
    let ext = json["ext"].as_array().expect("ext").iter().map(|hop| {
        (
            text(&hop["hop"]).and_then(|n| n.parse().ok()).unwrap_or(0),
            text(&hop["host"]),
            text(&hop["loss"]),
            text(&hop["snt"]),
        )
    });
    let raw = json["raw"]
        .as_array()
        .expect("raw")
        .iter()
        .map(|hop| (hop["number"].as_u64().unwrap_or(0), text(&hop["ip"]), None, None));
    (ext.collect(), raw.collect())
}

/// `view` with each host replaced by whether it is one of those that may answer at its hop (`???`: none).
fn checked(
    view: &[HopView],
    hops: &[BTreeSet<IpAddr>],
    what: &str,
) -> Vec<(u64, bool, Option<String>, Option<String>)> {
    view.iter()
        .map(|(number, host, loss, sent)| {
            let expected = usize::try_from(*number).ok().and_then(|n| hops.get(n.wrapping_sub(1)));
            let fits = match (host.as_deref().and_then(|host| host.parse::<IpAddr>().ok()), expected) {
                (Some(addr), Some(set)) => set.contains(&addr),
                (None, Some(set)) => set.is_empty() && host.as_deref().is_none_or(|host| host == "???"),
                _ => false,
            };
            assert!(fits, "{what}: hop {number} is {host:?}, not one of {expected:?}: {view:?}");
            (*number, fits, loss.clone(), sent.clone())
        })
        .collect()
}

/// Per hop of a wide text report, every address it names (further responders are on the lines after a hop's).
fn responders(report: &str) -> BTreeMap<u64, BTreeSet<String>> {
    let mut hops: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    let mut current = 0;
    for line in report.lines().skip(2) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(number) = words.first().and_then(|word| word.strip_suffix(".|--")) {
            current = number.parse().unwrap_or_else(|_| panic!("a hop line: {line:?}"));
            hops.entry(current).or_default().insert(words[1].to_owned());
        } else {
            // mtr 0.95: eight spaces, the address, padding to the host column's width.
            assert!(line.starts_with("        ") && words.len() == 1, "a further responder's line: {line:?}");
            hops.entry(current).or_default().insert(words[0].to_owned());
        }
    }
    hops
}

#[test]
fn npm_wrappers_read_hoptrace_as_mtr_as_they_read_mtr() {
    let _machine = shared_machine();
    let path = lab_path();
    let real = wrappers(&path, &mtr_dir("mtr", Path::new("/usr/bin/mtr")));
    let ours = wrappers(&path, &mtr_dir("hoptrace", Path::new(env!("CARGO_BIN_EXE_hoptrace"))));
    eprintln!(
        "mtr:\n{}\nhoptrace as mtr:\n{}",
        real["report"].as_str().unwrap_or(""),
        ours["report"].as_str().unwrap_or("")
    );
    let (real_ext, real_raw) = views(&real);
    let (ours_ext, ours_raw) = views(&ours);
    assert_eq!(real_ext.len(), path.hops.len(), "mtrext read mtr: {real_ext:?}");
    assert_eq!(checked(&ours_ext, &path.hops, "mtrext, hoptrace"), checked(&real_ext, &path.hops, "mtrext, mtr"));
    assert_eq!(checked(&ours_raw, &path.hops, "mtr --raw, hoptrace"), checked(&real_raw, &path.hops, "mtr --raw, mtr"));

    // The wide report (mtrext's) names both responders of hop 2, the one seen last on the hop's line.
    let expected: BTreeMap<u64, BTreeSet<String>> = path
        .hops
        .iter()
        .enumerate()
        .map(|(index, set)| {
            let names = if set.is_empty() {
                BTreeSet::from(["???".to_owned()])
            } else {
                set.iter().map(ToString::to_string).collect()
            };
            (index as u64 + 1, names)
        })
        .collect();
    for (what, json) in [("mtr", &real), ("hoptrace as mtr", &ours)] {
        let report = json["report"].as_str().expect("the report");
        assert_eq!(responders(report), expected, "{what}:\n{report}");
    }
}
