//! mtr's text report (`mtr --report`): a start line, a header, a row per hop in fixed-width columns, extra
//! responders of a hop on the lines after it (mtr 0.95's layout).

use core::net::IpAddr;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use hoptrace_core::MplsLabel;

use super::view::ReportView;
use crate::report::HopSummary;

/// Width of the host column, `HOST: …` and ` 12.|-- …` included (mtr's default).
const HOST_WIDTH: usize = 33;

/// The columns after the host: title, width. mtr's default (`LS NABWV`, with its one-space column), then `Javg`.
const COLUMNS: [(&str, usize); 9] =
    [("Loss%", 6), ("Snt", 6), (" ", 1), ("Last", 6), ("Avg", 6), ("Best", 6), ("Wrst", 6), ("StDev", 6), ("Javg", 5)];

/// The latest MPLS label stack each responder of each hop (TTL, address) answered with.
pub type MplsSeen = BTreeMap<(u8, IpAddr), Vec<MplsLabel>>;

/// Writes the report.
pub fn write(out: &mut dyn Write, view: &ReportView<'_>) -> io::Result<()> {
    write_with_mpls(out, view, &MplsSeen::new())
}

/// Writes the report, with a line per MPLS label (`-e`) under each responder that answered with labels, as mtr's
/// report writes them.
pub fn write_with_mpls(out: &mut dyn Write, view: &ReportView<'_>, mpls: &MplsSeen) -> io::Result<()> {
    let labels = |out: &mut dyn Write, ttl: u8, addr: IpAddr| -> io::Result<()> {
        for label in mpls.get(&(ttl, addr)).map_or(&[][..], Vec::as_slice) {
            let (lbl, tc, s, ttl) = (label.label, label.tc, u8::from(label.bottom), label.ttl);
            writeln!(out, "    |   +-- [MPLS: Lbl {lbl} TC {tc} S {s} TTL {ttl}]")?;
        }
        Ok(())
    };
    writeln!(out, "Start: {}", iso8601(view.info.started))?;
    let mut header = fit(format!("HOST: {}", view.source()), HOST_WIDTH);
    for (title, width) in COLUMNS {
        header.push_str(&format!("{title:>width$}"));
    }
    writeln!(out, "{header}")?;
    for hop in view.hops() {
        writeln!(out, "{}", row(view, hop))?;
        if let Some(first) = hop.responders.first() {
            labels(out, hop.ttl, first.addr)?;
        }
        // Further responders as mtr 0.95 lists them: each on a line of its own, indented, padded to the host column.
        for extra in hop.responders.iter().skip(1) {
            let mark = extra.mark.as_deref().map(|mark| format!(" {mark}")).unwrap_or_default();
            writeln!(out, "        {:<HOST_WIDTH$}", format!("{}{mark}", extra.addr))?;
            labels(out, hop.ttl, extra.addr)?;
        }
        // Several responders to Paris probes: which flow went where, and how each fared.
        for flow in hop.flows_to_show(view.info.method.is_paris()) {
            writeln!(out, "{}", flow_row(flow))?;
        }
    }
    Ok(())
}

/// A flow's row under a hop with several responders: `flow N -> address`, loss, sent and RTT columns.
fn flow_row(flow: &crate::report::FlowSummary) -> String {
    let to: Vec<String> = flow.responders.iter().map(ToString::to_string).collect();
    let to = if to.is_empty() { "???".to_owned() } else { to.join(",") };
    let mut line = fit(format!("    |   flow {} -> {to}", flow.flow), HOST_WIDTH);
    line.push_str(&columns(flow.loss_percent(), flow.sent, &flow.rtt));
    line
}

/// The statistics columns of a row.
fn columns(loss_percent: f64, sent: u32, rtt: &crate::report::RttStats) -> String {
    let cells = [
        format!(" {loss_percent:4.1}%"),
        format!(" {sent:5}"),
        " ".to_owned(),
        format!(" {:5.1}", rtt.last()),
        format!(" {:5.1}", rtt.mean()),
        format!(" {:5.1}", rtt.best()),
        format!(" {:5.1}", rtt.worst()),
        format!(" {:5.1}", rtt.stdev()),
        format!(" {:4.1}", rtt.jitter_mean()),
    ];
    // mtr writes each cell at a fixed offset, so an overlong one (`100.0%`) loses its tail to the next.
    cells.into_iter().zip(COLUMNS).map(|(cell, (_, width))| fit(cell, width)).collect()
}

/// One hop's row; a rate-limited hop ends with `rate-limited`.
fn row(view: &ReportView<'_>, hop: &HopSummary) -> String {
    let mut line = fit(format!(" {:2}.|-- {}", hop.ttl, view.hop_label(hop)), HOST_WIDTH);
    line.push_str(&columns(hop.loss_percent(), hop.sent, &hop.rtt));
    if hop.is_rate_limited() {
        line.push_str(" rate-limited");
    }
    line
}

/// `text` cut or padded to exactly `width` characters.
fn fit(text: String, width: usize) -> String {
    format!("{:<width$.width$}", text)
}

/// `2024-05-01T12:00:00+0000` (UTC), as mtr's start line.
pub fn iso8601(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
    let (days, of_day) = ((seconds / 86_400) as i64, seconds % 86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}+0000")
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    #[test]
    fn dates() {
        let at = |seconds| iso8601(UNIX_EPOCH + Duration::from_secs(seconds));
        assert_eq!(at(0), "1970-01-01T00:00:00+0000");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00+0000");
        assert_eq!(at(1_795_405_454), "2026-11-23T03:44:14+0000");
    }
}
