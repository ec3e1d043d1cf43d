//! mtr's JSON report (`mtr --json`): `report.mtr` describes the run, `report.hubs` has a hub per hop with mtr's
//! field names; hoptrace's own facts go under `hoptrace` in each hub.

use std::io::{self, Write};

use serde::Serialize;

use super::view::{rounded, ReportView};
use crate::report::HopSummary;

#[derive(Serialize)]
struct Document {
    report: Body,
}

#[derive(Serialize)]
struct Body {
    mtr: Run,
    hubs: Vec<Hub>,
}

/// `report.mtr`.
#[derive(Serialize)]
struct Run {
    src: String,
    dst: String,
    tests: u32,
    psize: String,
}

/// One hop, with mtr's names.
#[derive(Serialize)]
struct Hub {
    count: u8,
    host: String,
    #[serde(rename = "Loss%")]
    loss: f64,
    #[serde(rename = "Snt")]
    sent: u32,
    #[serde(rename = "Last")]
    last: f64,
    #[serde(rename = "Avg")]
    avg: f64,
    #[serde(rename = "Best")]
    best: f64,
    #[serde(rename = "Wrst")]
    worst: f64,
    #[serde(rename = "StDev")]
    stdev: f64,
    #[serde(rename = "Javg")]
    jitter: f64,
    hoptrace: HubExtras,
}

/// What mtr does not say.
#[derive(Serialize)]
struct HubExtras {
    /// Probes answered.
    received: u32,
    /// Whether the unanswered probes are the hop's ICMP rate limit, not loss.
    rate_limited: bool,
    /// Every responder, in order of first answer.
    responders: Vec<ResponderJson>,
    /// Per flow, for Paris probes at a hop with several responders: where each flow went and how it fared.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flows: Vec<FlowJson>,
}

#[derive(Serialize)]
struct FlowJson {
    flow: u16,
    responders: Vec<String>,
    sent: u32,
    received: u32,
    avg: f64,
}

#[derive(Serialize)]
struct ResponderJson {
    address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asns: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mark: Option<String>,
}

/// Writes the report.
pub fn write(out: &mut dyn Write, view: &ReportView<'_>) -> io::Result<()> {
    let info = view.info;
    let document = Document {
        report: Body {
            mtr: Run {
                src: view.source(),
                dst: info.host.clone(),
                tests: view.report.rounds(),
                psize: info.packet_len.to_string(),
            },
            hubs: view.hops().iter().map(|hop| hub(view, hop)).collect(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

fn hub(view: &ReportView<'_>, hop: &HopSummary) -> Hub {
    let rtt = &hop.rtt;
    let responders = hop
        .responders
        .iter()
        .map(|responder| ResponderJson {
            address: responder.addr.to_string(),
            name: view.directory.name(responder.addr),
            asns: view.as_lookups.then(|| view.directory.asns(responder.addr).unwrap_or_default()),
            mark: responder.mark.clone(),
        })
        .collect();
    Hub {
        count: hop.ttl,
        host: hop.responders.first().map_or_else(|| "???".to_owned(), |first| view.host(first.addr)),
        loss: rounded(hop.loss_percent()),
        sent: hop.sent,
        last: rounded(rtt.last()),
        avg: rounded(rtt.mean()),
        best: rounded(rtt.best()),
        worst: rounded(rtt.worst()),
        stdev: rounded(rtt.stdev()),
        jitter: rounded(rtt.jitter_mean()),
        hoptrace: HubExtras {
            received: hop.received,
            rate_limited: hop.is_rate_limited(),
            responders,
            flows: hop
                .flows_to_show(view.info.method.is_paris())
                .iter()
                .map(|flow| FlowJson {
                    flow: flow.flow,
                    responders: flow.responders.iter().map(ToString::to_string).collect(),
                    sent: flow.sent,
                    received: flow.received,
                    avg: rounded(flow.rtt.mean()),
                })
                .collect(),
        },
    }
}
