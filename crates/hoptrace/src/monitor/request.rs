//! An HTTP/1 request head: gathered as it arrives ([`Head`]), then parsed into its request line and header fields
//! ([`Request`]). Only the standard library, no I/O: the fuzz target `http_request` includes this file as it is.

/// The most of a request head taken; a longer one is refused.
pub const MAX_HEAD: usize = 8 * 1024;

/// A request head as its bytes arrive.
#[derive(Debug, Default)]
pub struct Head {
    bytes: Vec<u8>,
    /// Whether the head's empty line was seen.
    done: bool,
}

/// What [`Head::push`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The head is not over yet: more bytes are needed.
    Partial,
    /// The head is whole: [`Head::bytes`] is it, up to its empty line (what came after it is dropped).
    Complete,
    /// [`MAX_HEAD`] bytes and no end: the request is refused.
    TooLong,
}

impl Head {
    /// Adds `chunk`, as read. After [`Progress::Complete`] or [`Progress::TooLong`], nothing more is taken.
    pub fn push(&mut self, chunk: &[u8]) -> Progress {
        if let Some(progress) = self.over() {
            return progress;
        }
        let room = MAX_HEAD - self.bytes.len();
        // An end may straddle the chunks: look again from the last line end before them.
        let from = self.bytes.iter().rposition(|&byte| byte == b'\n').unwrap_or(0);
        self.bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if let Some(end) = head_end(&self.bytes, from) {
            self.bytes.truncate(end);
            self.done = true;
        }
        self.over().unwrap_or(Progress::Partial)
    }

    /// The bytes taken so far (the whole head once [`Progress::Complete`]).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Where it stands.
    pub fn progress(&self) -> Progress {
        self.over().unwrap_or(Progress::Partial)
    }

    fn over(&self) -> Option<Progress> {
        if self.done {
            Some(Progress::Complete)
        } else if self.bytes.len() >= MAX_HEAD {
            Some(Progress::TooLong)
        } else {
            None
        }
    }
}

/// Where the head in `bytes` ends (past its empty line), looking from the line end at `from` on: a line end is
/// CRLF or a bare LF (RFC 9112 §2.2 lets a recipient take a bare LF for one), so a head ends at LF LF or LF CR LF.
fn head_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(offset) = bytes.get(at..)?.iter().position(|&byte| byte == b'\n') {
        let lf = at + offset;
        let next = lf + 1;
        match bytes.get(next..) {
            Some([b'\n', ..]) => return Some(next + 1),
            Some([b'\r', b'\n', ..]) => return Some(next + 2),
            _ => at = next,
        }
    }
    None
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// `GET`, `HEAD`, …
    pub method: &'a str,
    /// The request target, query included: `/metrics?…`.
    pub target: &'a str,
    /// `HTTP/1.1`, `HTTP/1.0`.
    pub version: &'a str,
    /// The header fields in order, names as sent, values without the whitespace around them.
    pub headers: Vec<(&'a str, &'a str)>,
}

/// Why a head is no HTTP/1 request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not UTF-8, or the request line is not three words.
    NotHttp,
    /// A version other than HTTP/1.x.
    Version,
    /// A header line with no colon, an empty or spaced name, or a folded line.
    Header,
}

impl<'a> Request<'a> {
    /// Parses a whole head (the request line, header lines, the empty line; lines end in CRLF or LF).
    pub fn parse(head: &'a [u8]) -> Result<Self, Malformed> {
        let text = core::str::from_utf8(head).map_err(|_| Malformed::NotHttp)?;
        let mut lines = text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line));
        let line = lines.next().unwrap_or_default();
        let mut words = line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(Malformed::NotHttp);
        };
        if method.is_empty() || target.is_empty() {
            return Err(Malformed::NotHttp);
        }
        if !version.starts_with("HTTP/1.") {
            return Err(Malformed::Version);
        }
        let mut headers = Vec::new();
        for line in lines.take_while(|line| !line.is_empty()) {
            let (name, value) = line.split_once(':').ok_or(Malformed::Header)?;
            if name.is_empty() || name.bytes().any(|byte| byte <= b' ' || byte == 0x7f) {
                return Err(Malformed::Header);
            }
            headers.push((name, value.trim_matches([' ', '\t'])));
        }
        Ok(Request { method, target, version, headers })
    }

    /// The value of the first header field named `name` (in any case).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(field, _)| field.eq_ignore_ascii_case(name)).map(|&(_, value)| value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes` pushed in chunks of `size`: the progress after the last, and the head.
    fn gather(bytes: &[u8], size: usize) -> (Progress, Vec<u8>) {
        let mut head = Head::default();
        let mut progress = Progress::Partial;
        for chunk in bytes.chunks(size) {
            progress = head.push(chunk);
        }
        (progress, head.bytes().to_vec())
    }

    #[test]
    fn a_head_ends_at_its_empty_line_whatever_its_line_ends_and_chunks() {
        for (sent, head) in [
            ("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            ("GET / HTTP/1.1\nHost: a\n\nbody", "GET / HTTP/1.1\nHost: a\n\n"),
            ("GET / HTTP/1.1\nHost: a\n\r\n", "GET / HTTP/1.1\nHost: a\n\r\n"),
        ] {
            for size in 1..=sent.len() {
                assert_eq!(gather(sent.as_bytes(), size), (Progress::Complete, head.as_bytes().to_vec()), "{sent:?}");
            }
        }
        for partial in ["GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\n\r", "GET / HTTP/1.1\r\r\n"] {
            assert_eq!(gather(partial.as_bytes(), 3).0, Progress::Partial, "{partial:?}");
        }
        let long = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(MAX_HEAD));
        let (progress, bytes) = gather(long.as_bytes(), 1000);
        assert_eq!((progress, bytes.len()), (Progress::TooLong, MAX_HEAD));
    }

    #[test]
    fn request_lines_and_header_fields() {
        let request =
            Request::parse(b"GET /metrics?a=b HTTP/1.1\r\nHost: lab\r\naccept:\t text/plain \r\n\r\n").unwrap();
        assert_eq!((request.method, request.target, request.version), ("GET", "/metrics?a=b", "HTTP/1.1"));
        assert_eq!(request.headers, [("Host", "lab"), ("accept", "text/plain")]);
        assert_eq!((request.header("Accept"), request.header("x")), (Some("text/plain"), None));
        assert_eq!(Request::parse(b"HEAD / HTTP/1.0\n\n").unwrap().headers, []);
        for (head, error) in [
            (&b"GET /metrics\r\n\r\n"[..], Malformed::NotHttp),
            (b"GET  / HTTP/1.1\r\n\r\n", Malformed::NotHttp),
            (b"\xff / HTTP/1.1\r\n\r\n", Malformed::NotHttp),
            (b"", Malformed::NotHttp),
            (b"GET / HTTP/2\r\n\r\n", Malformed::Version),
            (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", Malformed::Header),
            (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", Malformed::Header),
            (b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", Malformed::Header),
        ] {
            assert_eq!(Request::parse(head), Err(error), "{:?}", String::from_utf8_lossy(head));
        }
    }
}
