//! The operators' contrib files against real tools: the alert rules under `promtool`, and every PromQL expression
//! of the rules and of the Grafana dashboard run by a real Prometheus scraping `hoptrace monitor` in the lab.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use netlab::{Family, Lab, LabSpec, Link, NodeId};
use serde_json::Value;

use crate::monitor::{encode, http_get, monitor, wait_for, Running, Scratch, METRICS};
use crate::support::*;

/// Where Prometheus listens, inside the client's namespace.
const PROMETHEUS: &str = "127.0.0.1:9090";
/// A name no resolver knows (and no resolver is reachable from the lab): a target whose every round fails.
const UNKNOWN: &str = "no-such-host.invalid";

/// A file under the repository's `contrib/`.
pub(crate) fn contrib(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../contrib").join(path)
}

#[test]
fn alert_rules_pass_promtool_check_and_their_unit_tests() {
    for (args, file) in [(["check", "rules"], "hoptrace.rules.yml"), (["test", "rules"], "hoptrace.rules.test.yml")] {
        let output = std::process::Command::new("promtool")
            .args(args)
            .arg(file)
            .current_dir(contrib("prometheus"))
            .output()
            .expect("promtool runs (Debian package `prometheus`)");
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "promtool {args:?} {file}: {text}");
        assert!(text.contains("SUCCESS"), "{text}");
    }
}

/// Prometheus in `client`'s namespace scraping the monitor every second and evaluating the contrib rules every
/// second.
fn prometheus(lab: &Lab, client: NodeId, scratch: &Scratch) -> Running {
    let config = scratch.0.join("prometheus.yml");
    let rules = contrib("prometheus/hoptrace.rules.yml");
    let text = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['{}']\nscrape_configs:\n  - \
         job_name: hoptrace\n    static_configs:\n      - targets: ['{METRICS}']\n",
        rules.display()
    );
    std::fs::write(&config, text).expect("prometheus.yml");
    let child = lab
        .command(client, "prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", scratch.0.join("data").display()))
        .arg(format!("--web.listen-address={PROMETHEUS}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts (Debian package `prometheus`)");
    Running(child)
}

/// The `data` of a Prometheus API answer at `path` (`None` until Prometheus answers).
fn api(lab: &Lab, client: NodeId, path: &str) -> Option<Value> {
    let body = http_get(lab, client, &format!("http://{PROMETHEUS}{path}"))?;
    let answer: Value = serde_json::from_str(&body).unwrap_or_else(|error| panic!("{path}: {error}: {body}"));
    assert_eq!(answer["status"], "success", "{path}: {body}");
    Some(answer["data"].clone())
}

/// The series an instant query returns (their labels); fails the test if Prometheus refuses the expression.
fn query(lab: &Lab, client: NodeId, promql: &str) -> Vec<Value> {
    let data = api(lab, client, &format!("/api/v1/query?query={}", encode(promql))).unwrap_or(Value::Null);
    data["result"].as_array().into_iter().flatten().map(|series| series["metric"].clone()).collect()
}

/// The `target` labels of `series`.
fn targets_of(series: &[Value]) -> BTreeSet<String> {
    series.iter().filter_map(|labels| labels["target"].as_str().map(str::to_owned)).collect()
}

/// The operands of `expr`'s top-level comparisons and set operators (`>`, `and`, …), numbers left out.
fn operands(expr: &str) -> Vec<String> {
    const OPERATORS: [&str; 9] = [" and ", " unless ", " or ", " >= ", " <= ", " == ", " != ", " > ", " < "];
    let expr = expr.split_whitespace().collect::<Vec<_>>().join(" ");
    let (mut parts, mut depth, mut start, mut at) = (Vec::new(), 0i32, 0, 0);
    while at < expr.len() {
        let rest = &expr[at..];
        match rest.as_bytes()[0] {
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            _ => {}
        }
        match OPERATORS.iter().find(|op| depth == 0 && rest.starts_with(**op)) {
            Some(op) => {
                parts.push(expr[start..at].to_owned());
                at += op.len();
                // `on (…)` / `ignoring (…)` belong to the operator.
                let after = expr[at..].trim_start_matches("on").trim_start_matches("ignoring").trim_start();
                if after.starts_with('(') && after.len() < expr.len() - at {
                    at += expr[at..].find(')').expect("a closed label list") + 1;
                }
                start = at;
            }
            None => at += 1,
        }
    }
    parts.push(expr[start..].to_owned());
    parts.into_iter().map(|p| p.trim().to_owned()).filter(|p| p.parse::<f64>().is_err()).collect()
}

/// The `/24` of an IPv4 address.
fn subnet(addr: IpAddr) -> String {
    let IpAddr::V4(addr) = addr else { panic!("{addr}: IPv4 wanted") };
    let [a, b, c, _] = addr.octets();
    format!("{a}.{b}.{c}.0/24")
}

/// Every PromQL expression in the dashboard (panel targets and annotations), and its template queries.
fn dashboard_queries() -> (Vec<String>, Vec<String>) {
    fn walk(value: &Value, exprs: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(expr)) = map.get("expr") {
                    exprs.push(expr.clone());
                }
                map.values().for_each(|v| walk(v, exprs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, exprs)),
            _ => {}
        }
    }
    let path = contrib("grafana/hoptrace-monitor.json");
    let text = std::fs::read_to_string(&path).expect("the dashboard");
    let dashboard: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut exprs = Vec::new();
    walk(&dashboard, &mut exprs);
    let templates = dashboard["templating"]["list"]
        .as_array()
        .expect("template variables")
        .iter()
        .filter_map(|variable| variable["query"]["query"].as_str().map(str::to_owned))
        .collect();
    (exprs, templates)
}

/// A lab that produces every alert's condition but one, and the monitor on four targets: `dst` (its route changes
/// mid-run: a path change), `side` (30% loss each way on its link: loss at its hop), `dead` (drops everything:
/// unreachable) and a name that does not resolve (every round fails); Prometheus scrapes it every second and
/// evaluates `contrib/prometheus/hoptrace.rules.yml`.
///
/// Every rule must load and evaluate without error (`/api/v1/rules`), and its expression, queried through
/// `/api/v1/query`, must return exactly the target the lab made its condition for (the loss rule: `side`, not
/// `dead`'s silent TTLs).
/// The RTT rule compares a 10-minute mean with a day's, which a lab run of a minute cannot tell apart: for it,
/// each operand of its comparisons (the two means and their difference) must return data instead.
///
/// Every expression of the Grafana dashboard, with `$target` set to each target in turn and `$__rate_interval`
/// to 30 s, must return data for at least one target (a dead target has no RTT histogram, a named one no hops);
/// its `label_values(METRIC, target)` variable must list the four targets.
#[test]
fn every_rule_and_dashboard_expression_returns_data_from_a_real_prometheus() {
    let _machine = shared_machine();
    // client — r1 — r2a — r3 — dst with r1 — r2b — r3 beside r2a; r1 — side (lossy); r1 — dead.
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let [r1, r2a, r2b, r3] = ["r1", "r2a", "r2b", "r3"].map(|name| spec.router(name));
    let [dst, side, dead] = ["dst", "side", "dead"].map(|name| spec.node(name));
    for (a, b) in [(client, r1), (r1, r2a), (r1, r2b), (r2a, r3), (r2b, r3), (r3, dst), (r1, dead)] {
        spec.link(a, b);
    }
    spec.link_with(r1, side, Link { loss: Some(0.3), ..Link::default() });
    spec.firewall(dead, &["-A INPUT -j DROP"]);
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    allow_ping_sockets(&lab, client);
    let [dst4, side4, dead4] = [dst, side, dead].map(|node| lab.addr(node, Family::V4));
    let route_via = |router: NodeId| {
        let via = lab.iface_addr(router, r1, Family::V4).to_string();
        stdout_of(lab.command(r1, "ip").args(["route", "replace", &subnet(dst4), "via", &via]), "ip route replace");
    };
    route_via(r2a);

    let scratch = Scratch::new("operators-prometheus");
    let targets = [dst4.to_string(), side4.to_string(), dead4.to_string(), UNKNOWN.to_owned()];
    let mut args = targets.to_vec();
    args.extend(
        ["--every", "1", "-q", "3", "-w", "0.5", "-m", "8", "-n", "--detail", "hops", "--prometheus", METRICS]
            .map(String::from),
    );
    let _monitor = monitor(&lab, client, &args, &scratch.0.join("stdout"));
    let _prometheus = prometheus(&lab, client, &scratch);
    let target_set = |names: &[&String]| names.iter().map(|name| name.to_string()).collect::<BTreeSet<_>>();

    wait_for(Duration::from_secs(60), "dst's path established in Prometheus", || {
        (targets_of(&query(&lab, client, "hoptrace_path_id")).contains(&targets[0])).then_some(())
    });
    route_via(r2b);
    let changed = format!("hoptrace_path_changes_total{{target=\"{}\"}} == 1", targets[0]);
    wait_for(Duration::from_secs(30), "dst's path change", || {
        (!query(&lab, client, &changed).is_empty()).then_some(())
    });

    // The rules as Prometheus loaded them, each evaluated at least once without error.
    let rules: Vec<Value> = wait_for(Duration::from_secs(30), "every rule evaluated", || {
        let groups = api(&lab, client, "/api/v1/rules")?;
        let rules: Vec<Value> =
            groups["groups"].as_array()?.iter().flat_map(|g| g["rules"].as_array().cloned()).flatten().collect();
        rules.iter().all(|rule| rule["health"] == "ok").then_some(rules)
    });
    let names: Vec<&str> = rules.iter().map(|rule| rule["name"].as_str().unwrap()).collect();
    let expected = [
        ("HoptracePathChanged", target_set(&[&targets[0]])),
        ("HoptraceDestinationUnreachable", target_set(&[&targets[2]])),
        ("HoptraceHopLoss", target_set(&[&targets[1]])),
        ("HoptraceTargetFailing", target_set(&[&targets[3]])),
    ];
    assert_eq!(names.len(), expected.len() + 1, "{names:?}");
    for rule in &rules {
        let (name, expr) = (rule["name"].as_str().unwrap(), rule["query"].as_str().unwrap());
        if name == "HoptraceRttAboveBaseline" {
            let parts = operands(expr);
            assert_eq!(parts.len(), 3, "{parts:?}");
            for part in parts {
                wait_for(Duration::from_secs(30), &format!("{name}: data from {part}"), || {
                    (targets_of(&query(&lab, client, &part)).len() >= 2).then_some(())
                });
            }
            continue;
        }
        let (_, want) = expected.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{name}: not tested"));
        let got = wait_for(Duration::from_secs(60), &format!("{name}: {want:?} from {expr}"), || {
            let got = targets_of(&query(&lab, client, expr));
            want.is_subset(&got).then_some(got)
        });
        assert_eq!(&got, want, "{name}: {expr}");
    }

    let (exprs, templates) = dashboard_queries();
    assert!(exprs.len() >= 10, "{exprs:?}");
    for expr in exprs {
        let answered = wait_for(Duration::from_secs(30), &format!("data from the dashboard's {expr}"), || {
            let answered: Vec<&String> = targets
                .iter()
                .filter(|target| {
                    let promql = expr.replace("$target", target).replace("$__rate_interval", "30s");
                    assert!(!promql.contains('$'), "a dashboard variable the test does not know: {expr}");
                    !query(&lab, client, &promql).is_empty()
                })
                .collect();
            (!answered.is_empty()).then_some(answered)
        });
        eprintln!("{expr}: {answered:?}");
    }
    assert_eq!(templates, ["label_values(hoptrace_runs_total, target)"]);
    let listed = targets_of(&query(&lab, client, "hoptrace_runs_total"));
    assert_eq!(listed, target_set(&targets.iter().collect::<Vec<_>>()));
}

#[test]
fn operands_splits_at_top_level_comparisons() {
    let parts = operands("(a / b) > 1.5 * (c / d)\n  and on(x) (a / b) - (c / d) > 0.005 unless f{l=\"a > b\"} == 1");
    assert_eq!(parts, ["(a / b)", "1.5 * (c / d)", "(a / b) - (c / d)", "f{l=\"a > b\"}"]);
}
