//! Caracal's reply CSV on stdout: the header, then one row per reply, formatted by hand (this is on the path of
//! every reply). Standard output is the main command's [`Output`]: its first write error, or its reader going away,
//! stops the probing.

use core::net::Ipv6Addr;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use hoptrace_core::bulk::Row;
use hoptrace_core::bulk::Sink;

use crate::render::Sink as Output;

/// How often the receiver looks whether the reader of standard output went away.
pub(super) const READER_CHECK: Duration = Duration::from_millis(100);
/// Caracal's CSV waiting to be written, at most (bytes).
const CSV_BUFFER: usize = 1 << 16;

/// Caracal's header line (without the newline).
pub const HEADER: &str = "capture_timestamp,probe_protocol,probe_src_addr,probe_dst_addr,probe_src_port,\
probe_dst_port,probe_ttl,quoted_ttl,reply_src_addr,reply_protocol,reply_icmp_type,reply_icmp_code,reply_ttl,\
reply_size,reply_mpls_labels,rtt,round";

/// Writes caracal's CSV header to `out`: before the first probe, so that an output that cannot be written stops
/// the run before it starts.
pub(super) fn write_header(out: &mut Output) {
    out.write(|out| writeln!(out, "{HEADER}").and_then(|()| out.flush()));
}

/// Caracal's CSV: rows gathered, and written whenever the replies waiting are (or the buffer is full), so that a
/// reader sees them within milliseconds and a closed stdout is noticed as soon.
pub(super) struct Csv<'a> {
    rows: Vec<u8>,
    round: &'a str,
    out: &'a mut Output,
    checked: Instant,
}

impl<'a> Csv<'a> {
    /// Rows to `out` (after [`write_header`]), `round` in the last column.
    pub(super) fn new(round: &'a str, out: &'a mut Output) -> Csv<'a> {
        Csv { rows: Vec::with_capacity(CSV_BUFFER + 1024), round, out, checked: Instant::now() }
    }

    /// Writes the rows gathered.
    pub(super) fn write(&mut self) {
        if !self.rows.is_empty() {
            let rows = &self.rows;
            self.out.write(|out| out.write_all(rows).and_then(|()| out.flush()));
            self.rows.clear();
        }
    }
}

impl Sink for Csv<'_> {
    fn row(&mut self, row: Row) {
        // Writing to memory does not fail.
        let _ = write_row(&row, &mut self.rows, self.round);
        if self.rows.len() >= CSV_BUFFER {
            self.write();
        }
    }

    fn drained(&mut self) {
        self.write();
        if self.checked.elapsed() >= READER_CHECK {
            self.checked = Instant::now();
            self.out.check_reader();
        }
    }
}

/// Writes the row and a newline, `round` in the last column: MPLS entries as `"[(label,exp,bottom,ttl),…]"`.
///
/// Formatted by hand into a buffer on the stack and written at once: this is on the path of every reply.
pub fn write_row(row: &Row, out: &mut impl Write, round: &str) -> io::Result<()> {
    let mut line = Line::default();
    line.number(row.capture_timestamp / 1_000_000);
    line.number(row.probe_protocol.into());
    line.address(row.probe_src_addr);
    line.address(row.probe_dst_addr);
    line.number(row.probe_src_port.into());
    line.number(row.probe_dst_port.into());
    line.number(row.probe_ttl.into());
    line.number(row.quoted_ttl.into());
    line.address(row.reply_src_addr);
    line.number(row.reply_protocol.into());
    line.number(row.reply_icmp_type.into());
    line.number(row.reply_icmp_code.into());
    line.number(row.reply_ttl.into());
    line.number(row.reply_size.into());
    line.put(*b"\"[", 2);
    if !row.reply_mpls_labels.is_empty() {
        // Rare, and of any length: written as it comes.
        out.write_all(line.as_bytes())?;
        line = Line::default();
        for (i, l) in row.reply_mpls_labels.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(out, "{comma}({},{},{},{})", l.label, l.tc, u8::from(l.bottom), l.ttl)?;
        }
    }
    line.put(*b"]\",", 3);
    line.number(row.rtt.into());
    out.write_all(line.as_bytes())?;
    out.write_all(round.as_bytes())?;
    out.write_all(b"\n")
}

/// The decimal digits of every number below 256 (padded to four bytes), and how many there are.
const SMALL: [([u8; 4], u8); 256] = small_numbers();

const fn small_numbers() -> [([u8; 4], u8); 256] {
    let mut table = [([0; 4], 0); 256];
    let mut n = 0;
    while n < 256 {
        let (hundreds, tens, units) = ((n / 100) as u8, (n / 10 % 10) as u8, (n % 10) as u8);
        table[n] = if n >= 100 {
            ([b'0' + hundreds, b'0' + tens, b'0' + units, 0], 3)
        } else if n >= 10 {
            ([b'0' + tens, b'0' + units, 0, 0], 2)
        } else {
            ([b'0' + units, 0, 0, 0], 1)
        };
        n += 1;
    }
    table
}

/// A CSV line being built: fields of bounded length (numbers and addresses), each followed by a comma. A row's
/// fields take at most 199 bytes (a 14-digit time, 12 other numbers, 3 addresses of at most 39 characters, the
/// commas and brackets); the rest is room for the bytes a fixed-width store writes past the end.
struct Line {
    bytes: [u8; 256],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Line { bytes: [0; 256], len: 0 }
    }
}

impl Line {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Stores all `N` bytes of `chunk` and keeps the first `len`: a store of fixed width costs less than a copy of
    /// varying length, and this is done some 40 times a row.
    fn put<const N: usize>(&mut self, chunk: [u8; N], len: usize) {
        if let Some(slot) = self.bytes.get_mut(self.len..).and_then(|rest| rest.first_chunk_mut::<N>()) {
            *slot = chunk;
            self.len += len;
        }
    }

    fn byte(&mut self, byte: u8) {
        self.put([byte], 1);
    }

    /// Appends the decimal digits of `n`: below 256 (most fields) from a table, else written in place from the last.
    fn digits(&mut self, n: u64) {
        if let Some(&(text, len)) = SMALL.get(n as usize) {
            self.put(text, len.into());
            return;
        }
        let count = n.ilog10() as usize + 1;
        let Some(field) = self.bytes.get_mut(self.len..self.len + count) else { return };
        let mut n = n;
        for slot in field.iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.len += count;
    }

    /// A number and a comma.
    fn number(&mut self, n: u64) {
        self.digits(n);
        self.byte(b',');
    }

    /// An address as `inet_ntop(AF_INET6)` writes it (IPv4-mapped ones as `::ffff:a.b.c.d`) and a comma.
    fn address(&mut self, addr: Ipv6Addr) {
        if let Some(v4) = addr.to_ipv4_mapped() {
            self.put(*b"::ffff:\0", 7);
            let [a, b, c, d] = v4.octets();
            for octet in [a, b, c] {
                self.digits(octet.into());
                self.byte(b'.');
            }
            self.digits(d.into());
        } else {
            let mut text = [0u8; 46];
            let mut cursor = io::Cursor::new(&mut text[..]);
            let _ = write!(cursor, "{addr}");
            let len = cursor.position() as usize;
            if let Some(field) = self.bytes.get_mut(self.len..self.len + len) {
                field.copy_from_slice(&text[..len]);
                self.len += len;
            }
        }
        self.byte(b',');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoptrace_core::MplsLabel;

    /// The row as `format!` writes it, to check the hand-made formatting against.
    fn reference(row: &Row, round: &str) -> String {
        let labels: Vec<String> = row
            .reply_mpls_labels
            .iter()
            .map(|l| format!("({},{},{},{})", l.label, l.tc, u8::from(l.bottom), l.ttl))
            .collect();
        format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},\"[{}]\",{},{round}\n",
            row.capture_timestamp / 1_000_000,
            row.probe_protocol,
            row.probe_src_addr,
            row.probe_dst_addr,
            row.probe_src_port,
            row.probe_dst_port,
            row.probe_ttl,
            row.quoted_ttl,
            row.reply_src_addr,
            row.reply_protocol,
            row.reply_icmp_type,
            row.reply_icmp_code,
            row.reply_ttl,
            row.reply_size,
            labels.join(","),
            row.rtt
        )
    }

    proptest::proptest! {
        #[test]
        fn rows_are_written_as_format_writes_them(
            numbers in proptest::array::uniform8(proptest::prelude::any::<u16>()),
            time in proptest::prelude::any::<u64>(),
            addrs in proptest::array::uniform3(proptest::prelude::any::<(bool, u128)>()),
            labels in proptest::collection::vec(proptest::prelude::any::<(u32, u8, bool, u8)>(), 0..3),
        ) {
            let addr = |(mapped, n): (bool, u128)| if mapped { core::net::Ipv4Addr::from(n as u32).to_ipv6_mapped() } else { Ipv6Addr::from(n) };
            let row = Row {
                capture_timestamp: time,
                probe_protocol: numbers[0] as u8,
                probe_src_addr: addr(addrs[0]),
                probe_dst_addr: addr(addrs[1]),
                probe_src_port: numbers[1],
                probe_dst_port: numbers[2],
                probe_ttl: numbers[3] as u8,
                quoted_ttl: (numbers[3] >> 8) as u8,
                reply_src_addr: addr(addrs[2]),
                reply_protocol: numbers[4] as u8,
                reply_icmp_type: (numbers[4] >> 8) as u8,
                reply_icmp_code: numbers[5] as u8,
                reply_ttl: (numbers[5] >> 8) as u8,
                reply_size: numbers[6],
                reply_mpls_labels: labels.into_iter().map(|(label, tc, bottom, ttl)| MplsLabel { label: label & 0xfffff, tc: tc & 7, bottom, ttl }).collect(),
                rtt: numbers[7],
            };
            let mut out = Vec::new();
            write_row(&row, &mut out, "12").unwrap();
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), reference(&row, "12"));
        }
    }
}
