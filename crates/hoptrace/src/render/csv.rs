//! mtr's CSV report (`mtr --csv`): its columns (with `Javg`, as `mtr -o LSNABWVM` adds it), then hoptrace's
//! `Rate_Limited` and `Other_Ips` (the hop's further responders, space-separated).

use std::io::{self, Write};
use std::time::UNIX_EPOCH;

use super::view::ReportView;

/// The header line, trailing comma included, as mtr writes it.
const HEADER: &str =
    "Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,Javg,Rate_Limited,Other_Ips,";

/// Writes the report.
pub fn write(out: &mut dyn Write, view: &ReportView<'_>) -> io::Result<()> {
    let info = view.info;
    let started = info.started.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
    writeln!(out, "{HEADER}")?;
    for hop in view.hops() {
        let ip = hop.responders.first().map_or_else(|| "???".to_owned(), |first| view.host(first.addr));
        let others: Vec<String> = hop.responders.iter().skip(1).map(|other| view.host(other.addr)).collect();
        let rtt = &hop.rtt;
        writeln!(
            out,
            "HOPTRACE.{},{started},OK,{},{},{},{:.2},{},0,{:.2},{:.2},{:.2},{:.2},{:.2},{:.2},{},{}",
            env!("CARGO_PKG_VERSION"),
            field(&info.host),
            hop.ttl,
            field(&ip),
            hop.loss_percent(),
            hop.sent,
            rtt.last(),
            rtt.mean(),
            rtt.best(),
            rtt.worst(),
            rtt.stdev(),
            rtt.jitter_mean(),
            u8::from(hop.is_rate_limited()),
            field(&others.join(" ")),
        )?;
    }
    Ok(())
}

/// A field quoted (RFC 4180) when it holds a comma, quote or line break; names come from DNS.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
