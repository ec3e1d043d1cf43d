//! mtr 0.95's end-of-run outputs (`report.c`): the text report (`-r`, `-w`), JSON (`-j`), CSV (`-C`), XML (`-x`),
//! each with the fields `-o` picks, in its order.

use core::net::IpAddr;
use core::ops::Range;
use std::io::{self, Write};
use std::time::UNIX_EPOCH;

use super::{MtrHop, MtrTable};
use crate::render::mtr_text::iso8601;
use crate::render::TraceInfo;
use crate::settings::MtrStyle;

/// mtr's fields: letter, title, width, and whether the value is a count (else milliseconds or percent).
const FIELDS: [(char, &str, usize, bool); 15] = [
    (' ', " ", 1, true),
    ('L', "Loss%", 6, false),
    ('D', "Drop", 5, true),
    ('R', "Rcv", 6, true),
    ('S', "Snt", 6, true),
    ('N', "Last", 6, false),
    ('B', "Best", 6, false),
    ('A', "Avg", 6, false),
    ('W', "Wrst", 6, false),
    ('V', "StDev", 6, false),
    ('G', "Gmean", 6, false),
    ('J', "Jttr", 5, false),
    ('M', "Javg", 5, false),
    ('X', "Jmax", 5, false),
    ('I', "Jint", 5, false),
];

/// The width of the host column of a report that is not wide.
const HOST_WIDTH: usize = 33;

/// What mtr 0.95 writes in `Mtr_Version`: the version of the format.
const MTR_VERSION: &str = "0.95";

/// A finished run, ready to be written.
pub struct Report<'a> {
    /// The hops.
    pub table: &'a MtrTable,
    /// The hops shown (indexes into the table).
    pub shown: Range<usize>,
    /// The first round's facts.
    pub info: &'a TraceInfo,
    /// The layout asked for.
    pub style: &'a MtrStyle,
    /// The rounds asked for (`tests`).
    pub rounds: u32,
    /// MPLS labels shown (`-e`).
    pub mpls: bool,
    /// How a responder is named.
    pub name: &'a dyn Fn(IpAddr) -> String,
    /// Its AS number as mtr shows it, when asked for (`-z`).
    pub asn: &'a dyn Fn(IpAddr) -> Option<String>,
}

/// mtr's AS number text: `AS64500`, or `AS???` when unknown.
pub fn asn(asns: Option<Vec<u32>>) -> String {
    match asns.as_deref() {
        Some([first, ..]) => format!("AS{first}"),
        _ => "AS???".to_owned(),
    }
}

/// The local host's name, as `gethostname` gives it.
fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| crate::escape::escape(name.trim()).into_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "UNKNOWNHOST".to_owned())
}

/// A field's cell in the text report: mtr's printf format.
fn cell(letter: char, value: f64) -> String {
    match letter {
        ' ' => " ".to_owned(),
        'L' => format!(" {value:4.1}%"),
        'D' => format!(" {:4}", value as i64),
        'R' | 'S' => format!(" {:5}", value as i64),
        'J' | 'M' | 'X' | 'I' => format!(" {value:4.1}"),
        _ => format!(" {value:5.1}"),
    }
}

/// A real number as jansson writes it with `JSON_REAL_PRECISION(5)`: `%.5g`, with `.0` added to whole numbers.
fn real(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0.0".to_owned();
    }
    let exponent = value.abs().log10().floor() as i32;
    let mut text = if (-4..5).contains(&exponent) {
        let text = format!("{value:.*}", (4 - exponent).max(0) as usize);
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            text
        }
    } else {
        format!("{value:.4e}")
    };
    if !text.contains(['.', 'e']) {
        text.push_str(".0");
    }
    text
}

/// `text` quoted as a JSON string.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// `text` escaped for an XML attribute, as mtr's `print_xml_attr`.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// Writes `cell` at column `at` of `line`, cutting what is there (mtr's `snprintf(buf + len, …)`).
fn put(line: &mut String, at: usize, cell: &str) {
    let cut = line.char_indices().nth(at).map_or(line.len(), |(index, _)| index);
    line.truncate(cut);
    let missing = at.saturating_sub(line.chars().count());
    line.extend(core::iter::repeat_n(' ', missing));
    line.push_str(cell);
}

impl Report<'_> {
    /// The fields asked for: letter, title, width, is a count.
    fn fields(&self) -> impl Iterator<Item = (char, &'static str, usize, bool)> + '_ {
        self.style.fields.chars().filter_map(|letter| FIELDS.iter().find(|field| field.0 == letter).copied())
    }

    /// The hops shown, numbered from 1.
    fn hops(&self) -> impl Iterator<Item = (usize, &MtrHop)> + '_ {
        self.shown.clone().filter_map(|at| self.table.hops.get(at).map(|hop| (at + 1, hop)))
    }

    /// A hop's name: its latest responder's, `???` if silent.
    fn hop_name(&self, hop: &MtrHop) -> String {
        hop.addr.map_or_else(|| "???".to_owned(), |addr| (self.name)(addr))
    }

    /// `psize` as reported.
    fn psize(&self) -> String {
        match self.style.psize {
            size if size >= 0 => size.to_string(),
            size => format!("rand(36-{})", size.unsigned_abs()),
        }
    }

    /// `bitpattern` as reported.
    fn bitpattern(&self) -> String {
        self.style.bitpattern.map_or_else(|| "rand(0x00-FF)".to_owned(), |pattern| format!("0x{pattern:02X}"))
    }

    /// The text report.
    pub fn text(&self, out: &mut dyn Write) -> io::Result<()> {
        let local = local_hostname();
        let wide = self.style.wide;
        let width = if wide {
            self.hops().map(|(_, hop)| self.hop_name(hop).chars().count()).fold(local.chars().count(), usize::max)
        } else {
            HOST_WIDTH
        };
        writeln!(out, "Start: {}", iso8601(self.info.started))?;
        let mut header = format!("HOST: {local:<width$}");
        let mut at = if wide { header.chars().count() } else { HOST_WIDTH };
        for (_, title, size, _) in self.fields() {
            put(&mut header, at, &format!("{title:>size$}"));
            at += size;
        }
        writeln!(out, "{header}")?;
        for (ttl, hop) in self.hops() {
            let name = self.hop_name(hop);
            let mut line = match hop.addr.and_then(|addr| (self.asn)(addr)) {
                Some(asn) => format!(" {ttl:2}. {asn:<10}{name:<width$}"),
                None => format!(" {ttl:2}.|-- {name:<width$}"),
            };
            let mut at = if wide { line.chars().count() } else { HOST_WIDTH };
            for (letter, _, size, _) in self.fields() {
                put(&mut line, at, &cell(letter, hop.field(letter)));
                at += size;
            }
            writeln!(out, "{line}")?;
            if let Some(addr) = hop.addr {
                self.labels(out, hop, addr)?;
            }
            // The hop's other responders, each on a line of its own (mtr 0.95's layout).
            for &other in hop.addrs.iter().filter(|&&other| Some(other) != hop.addr) {
                writeln!(out, "        {:<width$}", (self.name)(other))?;
                self.labels(out, hop, other)?;
            }
        }
        Ok(())
    }

    /// The MPLS labels `addr` answered with at `hop`, with `-e`.
    fn labels(&self, out: &mut dyn Write, hop: &MtrHop, addr: IpAddr) -> io::Result<()> {
        if !self.mpls {
            return Ok(());
        }
        for label in hop.mpls.iter().filter(|(from, _)| *from == addr).flat_map(|(_, labels)| labels) {
            let (lbl, tc, s, ttl) = (label.label, label.tc, u8::from(label.bottom), label.ttl);
            writeln!(out, "       [MPLS: Lbl {lbl} TC {tc} S {s} TTL {ttl}]")?;
        }
        Ok(())
    }

    /// The JSON report, as jansson indents it.
    pub fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        let info = self.info;
        writeln!(out, "{{\n    \"report\": {{\n        \"mtr\": {{")?;
        writeln!(out, "            \"src\": {},", json_string(&local_hostname()))?;
        writeln!(out, "            \"dst\": {},", json_string(&info.host))?;
        writeln!(out, "            \"tos\": {},", self.style.tos)?;
        writeln!(out, "            \"tests\": {},", self.rounds)?;
        writeln!(out, "            \"psize\": {},", json_string(&self.psize()))?;
        writeln!(out, "            \"bitpattern\": {}", json_string(&self.bitpattern()))?;
        write!(out, "        }},\n        \"hubs\": [")?;
        for (index, (ttl, hop)) in self.hops().enumerate() {
            let mut members =
                vec![format!("\"count\": {ttl}"), format!("\"host\": {}", json_string(&self.hop_name(hop)))];
            if let Some(asn) = hop.addr.and_then(|addr| (self.asn)(addr)) {
                members.push(format!("\"ASN\": {}", json_string(&asn)));
            }
            for (letter, title, _, count) in self.fields().filter(|field| field.0 != ' ') {
                let value = hop.field(letter);
                let value = if count { (value as i64).to_string() } else { real(value) };
                members.push(format!("{}: {value}", json_string(title)));
            }
            let separator = if index == 0 { "" } else { "," };
            write!(
                out,
                "{separator}\n            {{\n                {}\n            }}",
                members.join(",\n                ")
            )?;
        }
        let close = if self.shown.is_empty() { "]" } else { "\n        ]" };
        writeln!(out, "{close}\n    }}\n}}")
    }

    /// The CSV report; with `-w`, a row for each further responder too.
    pub fn csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let started = self.info.started.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        let host = csv_field(&self.info.host);
        let as_numbers = self.hops().any(|(_, hop)| hop.addr.and_then(|addr| (self.asn)(addr)).is_some());
        for (ttl, hop) in self.hops() {
            if ttl == self.shown.start + 1 {
                let asn = if as_numbers { "Asn," } else { "" };
                let titles: String = self.fields().map(|(_, title, _, _)| format!("{title},")).collect();
                writeln!(out, "Mtr_Version,Start_Time,Status,Host,Hop,Ip,{asn}{titles}")?;
            }
            let values: String = self
                .fields()
                .map(|(letter, _, _, count)| match count {
                    true => format!(",{}", hop.field(letter) as i64),
                    false => format!(",{:.2}", hop.field(letter)),
                })
                .collect();
            let others = hop.addrs.iter().copied().filter(|&other| self.style.wide && Some(other) != hop.addr);
            for addr in hop.addr.into_iter().chain(others) {
                let asn = (self.asn)(addr).map(|asn| format!(",{asn}")).unwrap_or_default();
                let name = csv_field(&(self.name)(addr));
                writeln!(out, "MTR.{MTR_VERSION},{started},OK,{host},{ttl},{name}{asn}{values}")?;
            }
            if hop.addr.is_none() {
                let asn = if as_numbers { ",AS???" } else { "" };
                writeln!(out, "MTR.{MTR_VERSION},{started},OK,{host},{ttl},???{asn}{values}")?;
            }
        }
        Ok(())
    }

    /// The XML report.
    pub fn xml(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "<?xml version=\"1.0\"?>")?;
        write!(out, "<MTR SRC=\"{}\" DST=\"{}\"", xml(&local_hostname()), xml(&self.info.host))?;
        write!(out, " TOS=\"0x{:X}\" PSIZE=\"{}\" BITPATTERN=\"{}\"", self.style.tos, self.psize(), self.bitpattern())?;
        writeln!(out, " TESTS=\"{}\">", self.rounds)?;
        for (ttl, hop) in self.hops() {
            writeln!(out, "    <HUB COUNT=\"{ttl}\" HOST=\"{}\">", xml(&self.hop_name(hop)))?;
            for (letter, title, _, _) in self.fields().filter(|field| field.0 != ' ') {
                // XML has no `%` in names: `Loss%` is `Loss`.
                let title = title.trim_end_matches('%');
                writeln!(out, "        <{title}>{}</{title}>", cell(letter, hop.field(letter)))?;
            }
            writeln!(out, "    </HUB>")?;
        }
        writeln!(out, "</MTR>")
    }
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, quote or line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_as_jansson_writes_them() {
        assert_eq!(real(0.0), "0.0");
        assert_eq!(real(100.0), "100.0");
        assert_eq!(real(1.234567), "1.2346");
        assert_eq!(real(12.5), "12.5");
        assert_eq!(real(0.061), "0.061");
    }

    #[test]
    fn cells_overwrite_as_snprintf_does() {
        let mut line = " 1.|-- 198.18.1.1".to_owned();
        put(&mut line, 10, " 100.0%");
        put(&mut line, 16, " 10");
        assert_eq!(line, " 1.|-- 198 100.0 10");
    }
}
