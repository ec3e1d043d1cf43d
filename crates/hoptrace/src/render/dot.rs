//! The report as a Graphviz graph: a node per distinct responder (labelled with its name and the hops it answered
//! at), a dashed node per hop nobody answered, edges from every node of a hop to every node of the next.

use std::io::{self, Write};

use super::view::ReportView;
use crate::report::HopSummary;

/// Writes the graph.
pub fn write(out: &mut dyn Write, view: &ReportView<'_>) -> io::Result<()> {
    let info = view.info;
    writeln!(out, "digraph hoptrace {{")?;
    writeln!(out, "  label={};", quoted(&format!("hoptrace to {} ({})", info.host, info.target)))?;
    writeln!(out, "  rankdir=TB;")?;
    writeln!(out, "  node [shape=box];")?;
    let hops = view.hops();
    let source = "source".to_owned();
    let label = quoted(&format!("{}\nsource", view.source()));
    writeln!(out, "  {} [label={label}, shape=ellipse];", quoted(&source))?;
    let mut nodes: Vec<String> = Vec::new();
    for hop in hops {
        for (id, label) in hop_nodes(view, hop) {
            if nodes.contains(&id) {
                continue;
            }
            let style = if hop.responders.is_empty() { ", style=dashed" } else { "" };
            let ttls = at_ttls(hops, &id, view);
            writeln!(out, "  {} [label={}{style}];", quoted(&id), quoted(&format!("{label}\n{ttls}")))?;
            nodes.push(id);
        }
    }
    let mut edges: Vec<(String, String)> = Vec::new();
    let mut previous = vec![source];
    for hop in hops {
        let current: Vec<String> = hop_nodes(view, hop).into_iter().map(|(id, _)| id).collect();
        for from in &previous {
            for to in current.iter().filter(|&to| to != from) {
                let edge = (from.clone(), to.clone());
                if !edges.contains(&edge) {
                    writeln!(out, "  {} -> {};", quoted(from), quoted(to))?;
                    edges.push(edge);
                }
            }
        }
        previous = current;
    }
    writeln!(out, "}}")
}

/// A hop's nodes: (id, label) per responder, or one node of its own for a silent hop.
fn hop_nodes(view: &ReportView<'_>, hop: &HopSummary) -> Vec<(String, String)> {
    if hop.responders.is_empty() {
        return vec![(format!("hop {} ???", hop.ttl), "???".to_owned())];
    }
    hop.responders
        .iter()
        .map(|responder| {
            let address = responder.addr.to_string();
            let host = view.host(responder.addr);
            let label = if host == address { address.clone() } else { format!("{host}\n{address}") };
            (address, label)
        })
        .collect()
}

/// `hop 3` or `hops 4, 5`: where the node with this id appears.
fn at_ttls(hops: &[HopSummary], id: &str, view: &ReportView<'_>) -> String {
    let ttls: Vec<String> = hops
        .iter()
        .filter(|hop| hop_nodes(view, hop).iter().any(|(node, _)| node == id))
        .map(|hop| {
            let note = if hop.is_rate_limited() { " (rate-limited)" } else { "" };
            format!("{}{note}", hop.ttl)
        })
        .collect();
    let noun = if ttls.len() == 1 { "hop" } else { "hops" };
    format!("{noun} {}", ttls.join(", "))
}

/// A DOT string: quotes and backslashes escaped, line breaks as `\n`.
pub(crate) fn quoted(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    format!("\"{escaped}\"")
}
