//! `--prometheus ADDR:PORT`: `/metrics` over HTTP/1.1, on threads of its own until stopped.
//!
//! No client can hold it up or make it grow, nor keep a scraper out: see [`super::connections`] for the bounds,
//! deadlines and closing of idle connections. One request per connection (no keep-alive). When every connection
//! is being answered, a new one is answered 503 at once, as Prometheus' own exporters answer past their limit of
//! scrapes in flight (client_golang's `MaxRequestsInFlight`, node_exporter's `--web.max-requests`): the scraper
//! reports the cause rather than a timeout or a reset. The stop cuts the connections still being answered, so
//! joining takes a tenth of a second, whatever clients do.
//!
//! A page is built once and served to every scrape until the metrics change, or for a while ([`Pages`]): a
//! scrape's cost does not grow with the scrapers waiting, who share one build. Gzipped when the scraper accepts it.
//!
//! Written by hand: tiny_http (0.12) can neither time a client out nor bound the threads it starts, one per
//! connection; hyper would bring an async runtime for one GET and still leave the bounds per address and the
//! closing of idle connections to this module.

use core::net::SocketAddr;
use core::time::Duration;
use std::io;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use flate2::write::GzEncoder;
use flate2::Compression;
use hoptrace_core::StopHandle;

use super::connections::{self, Reply, Respond};
use super::exposition::Format;
use super::request::{Head, Malformed, Progress, Request};

/// Writes the exposition as it is now, in the format asked.
type Encode = dyn Fn(Format, &mut dyn io::Write) -> io::Result<()> + Send + Sync;

/// A number that changes whenever the exposition may have.
type Version = dyn Fn() -> u64 + Send + Sync;

/// The pages `/metrics` serves, each built once (one scrape builds it while the others wait) and served again
/// while the metrics have not changed, or until it is `fresh_for` old.
pub struct Pages {
    encode: Box<Encode>,
    version: Box<Version>,
    fresh_for: Duration,
    built: Mutex<Vec<Built>>,
    /// The size of the latest page not gzipped, to make room for the next at once.
    size: AtomicUsize,
}

/// A page as served: its format, whether gzipped, the metrics' version it shows, when it was built.
struct Built {
    format: Format,
    gzip: bool,
    version: u64,
    at: Instant,
    body: Arc<Vec<u8>>,
}

impl Pages {
    /// Pages of what `encode` writes, built anew once `version` changed and `fresh_for` passed.
    pub fn new(
        encode: impl Fn(Format, &mut dyn io::Write) -> io::Result<()> + Send + Sync + 'static,
        version: impl Fn() -> u64 + Send + Sync + 'static,
        fresh_for: Duration,
    ) -> Self {
        let (encode, version) = (Box::new(encode), Box::new(version));
        Pages { encode, version, fresh_for, built: Mutex::default(), size: AtomicUsize::new(0) }
    }

    /// Pages of the OpenMetrics text `encode` gives.
    #[cfg(test)]
    pub fn of_text(
        encode: impl Fn() -> String + Send + Sync + 'static,
        version: impl Fn() -> u64 + Send + Sync + 'static,
        fresh_for: Duration,
    ) -> Self {
        Self::new(move |format, out| io::Write::write_all(out, format.render(encode()).as_bytes()), version, fresh_for)
    }

    /// The page in `format`, gzipped if `gzip` (and then whether it is).
    fn page(&self, format: Format, gzip: bool) -> (Arc<Vec<u8>>, bool) {
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        let version = (self.version)();
        let fresh = |page: &Built| page.version == version || page.at.elapsed() < self.fresh_for;
        built.retain(fresh);
        if let Some(page) = built.iter().find(|page| page.format == format && page.gzip == gzip) {
            return (Arc::clone(&page.body), page.gzip);
        }
        let at = Instant::now();
        // Streamed into the encoder: the page is never whole in memory when gzipped.
        let zipped = gzip.then(|| self.gzipped(format)).and_then(Result::ok);
        let (body, gzip) = match zipped {
            Some(zipped) => (zipped, true),
            None => {
                let mut text = Vec::with_capacity(self.size.load(Ordering::Relaxed) * 9 / 8);
                // Writing into a Vec cannot fail.
                let _ = (self.encode)(format, &mut text);
                self.size.store(text.len(), Ordering::Relaxed);
                (text, false)
            }
        };
        let body = Arc::new(body);
        built.push(Built { format, gzip, version, at, body: Arc::clone(&body) });
        (body, gzip)
    }
}

impl Pages {
    /// The page in `format` gzipped, fast (a page is mostly repeated names and labels: a tenth of its size or less).
    fn gzipped(&self, format: Format) -> io::Result<Vec<u8>> {
        let size = self.size.load(Ordering::Relaxed);
        let mut encoder = GzEncoder::new(Vec::with_capacity(size / 8), Compression::fast());
        (self.encode)(format, &mut encoder)?;
        encoder.finish()
    }
}

/// Whether an `Accept-Encoding` header takes gzip (named, or `*`, with a weight above zero).
fn accepts_gzip(header: Option<&str>) -> bool {
    header.unwrap_or_default().split(',').any(|coding| {
        let mut params = coding.split(';');
        let name = params.next().unwrap_or_default().trim();
        let weight = params
            .filter_map(|param| param.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .map_or(1.0, |(_, q)| q.trim().parse::<f64>().unwrap_or(0.0));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && weight > 0.0
    })
}

/// The HTTP listener, serving until `stop` is set; joining it closes the listening socket.
pub struct Exporter {
    thread: JoinHandle<()>,
}

impl Exporter {
    /// Listens on `addr` (the error is one line: an occupied port, an address not of this host). Nothing is
    /// served before [`Exporter::start`]; binding first lets a privileged port be taken before privileges go.
    pub fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
        TcpListener::bind(addr).map_err(|error| format!("cannot listen on {addr}: {error}"))
    }

    /// Serves `/metrics` on `listener`, from `pages`, on threads of its own.
    pub fn start(listener: TcpListener, pages: Pages, stop: StopHandle) -> Result<Self, String> {
        // Accepted as poll(2) says, which gives up now and then to look at the stop flag.
        listener.set_nonblocking(true).map_err(|error| format!("cannot serve metrics: {error}"))?;
        let respond: Arc<Respond> = Arc::new(move |head: &Head| match head.progress() {
            Progress::Complete => response(head.bytes(), &pages),
            _ => {
                Answer::text("431 Request Header Fields Too Large", "hoptrace monitor: request too long\n").reply(true)
            }
        });
        let busy = Answer::text("503 Service Unavailable", "hoptrace monitor: too many scrapes at once\n").bytes(true);
        let thread = thread::spawn(move || connections::serve(&listener, &respond, &busy, &stop));
        Ok(Exporter { thread })
    }

    /// Waits for the server to stop (after `stop` was set), the connections still open cut; the listener is closed
    /// when this returns.
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

/// The answer to a request head: the metrics to a GET (or HEAD) of `/metrics`, with a query or without; 404
/// elsewhere, 405 to other methods, 400 to what is not HTTP/1.
fn response(head: &[u8], pages: &Pages) -> Reply {
    let request = match Request::parse(head) {
        Ok(request) => request,
        Err(Malformed::Version) => {
            return Answer::text("400 Bad Request", "hoptrace monitor: not an HTTP/1 request\n").reply(true)
        }
        Err(Malformed::NotHttp | Malformed::Header) => {
            return Answer::text("400 Bad Request", "hoptrace monitor: not an HTTP request\n").reply(true)
        }
    };
    let (method, target) = (request.method, request.target);
    let answer = if method != "GET" && method != "HEAD" {
        Answer::text("405 Method Not Allowed", "hoptrace monitor: GET /metrics\n")
    } else if target == "/metrics" || target.starts_with("/metrics?") {
        let format = Format::negotiate(request.header("accept"));
        let (body, gzip) = pages.page(format, accepts_gzip(request.header("accept-encoding")));
        Answer { status: "200 OK", content_type: format.content_type(), gzip, body }
    } else {
        Answer::text("404 Not Found", "hoptrace monitor: metrics at /metrics\n")
    };
    answer.reply(method != "HEAD")
}

/// An answer before it is written.
struct Answer {
    /// The status line's code and reason.
    status: &'static str,
    content_type: &'static str,
    /// Whether the body is gzipped.
    gzip: bool,
    body: Arc<Vec<u8>>,
}

impl Answer {
    fn text(status: &'static str, body: &str) -> Self {
        let body = Arc::new(body.as_bytes().to_vec());
        Answer { status, content_type: "text/plain; charset=utf-8", gzip: false, body }
    }

    /// What is sent: the head, then the body if `with_body`. `Allow` is in every answer, as a 405 needs it.
    fn reply(self, with_body: bool) -> Reply {
        let Answer { status, content_type, gzip, body } = self;
        let length = body.len();
        let encoding = if gzip { "Content-Encoding: gzip\r\n" } else { "" };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{encoding}Content-Length: {length}\r\n\
             Allow: GET, HEAD\r\nConnection: close\r\n\r\n"
        );
        Reply { head: head.into_bytes(), body: if with_body { body } else { Arc::default() } }
    }

    /// The whole answer in one piece.
    fn bytes(self, with_body: bool) -> Vec<u8> {
        let Reply { mut head, body } = self.reply(with_body);
        head.extend_from_slice(&body);
        head
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;
    use std::io::{ErrorKind, Read, Write};
    use std::net::TcpStream;
    use std::sync::mpsc;
    use std::time::Instant;

    use super::*;
    use crate::exporter::connections::{write_all_by, FAIR_TOTAL, HEAD_TIMEOUT, PER_PEER};
    use crate::exporter::exposition::{CLASSIC as CONTENT_TYPE, OPENMETRICS};

    /// More than loopback's socket buffers hold (the send buffer grows to 4 MiB at most by default), so that a
    /// client reading none of it holds the write up.
    const LARGE: usize = 16 << 20;

    const GET: &str = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

    fn start(encode: impl Fn() -> String + Send + Sync + 'static) -> (Exporter, SocketAddr, StopHandle) {
        let listener = Exporter::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = StopHandle::default();
        let pages = Pages::of_text(encode, || 0, Duration::ZERO);
        (Exporter::start(listener, pages, stop.clone()).unwrap(), addr, stop)
    }

    /// `request` sent on a connection of its own, the answer read to its end within `limit`.
    fn ask(addr: SocketAddr, request: &str, limit: Duration) -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(limit))?;
        stream.write_all(request.as_bytes())?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        Ok(answer)
    }

    /// Stops the exporter and joins it, failing after `limit`: how long that took.
    fn stop_within(exporter: Exporter, stop: &StopHandle, limit: Duration) -> Duration {
        let started = Instant::now();
        stop.stop();
        let (joined, done) = mpsc::channel();
        thread::spawn(move || {
            exporter.join();
            let _ = joined.send(());
        });
        done.recv_timeout(limit).unwrap_or_else(|_| panic!("join still waiting after {limit:?}"));
        started.elapsed()
    }

    #[test]
    fn a_client_reading_nothing_holds_up_neither_scrapes_nor_the_stop() {
        let (exporter, addr, stop) = start(|| "x".repeat(LARGE));
        let mut stalled = TcpStream::connect(addr).unwrap();
        stalled.write_all(GET.as_bytes()).unwrap();
        // Time for the exporter to fill the buffers and block writing to it.
        thread::sleep(Duration::from_millis(300));

        let started = Instant::now();
        let answer = ask(addr, GET, Duration::from_secs(3)).expect("a second scrape is answered");
        let scraped = started.elapsed();
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {LARGE}\r\n");
        assert!(answer.starts_with(head.as_bytes()), "{:?}", String::from_utf8_lossy(&answer[..answer.len().min(200)]));
        assert!(answer.len() > LARGE && answer.ends_with(b"xxxx"), "{} bytes", answer.len());
        let joined = stop_within(exporter, &stop, Duration::from_secs(3));
        eprintln!("scraped in {scraped:?} beside a stalled client; joined in {joined:?}");
        drop(stalled);
    }

    /// A connected pair on loopback: the client's end, the server's.
    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        (client, listener.accept().unwrap().0)
    }

    #[test]
    fn a_head_not_whole_in_time_and_an_answer_not_taken_in_time_are_given_up() {
        let (exporter, addr, stop) = start(|| "up 1\n".to_owned());
        let mut half = TcpStream::connect(addr).unwrap();
        half.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
        half.set_read_timeout(Some(HEAD_TIMEOUT * 3)).unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        let _ = half.read_to_end(&mut answer);
        let read_for = started.elapsed();
        assert_eq!(answer, b"", "half a request is answered nothing");
        assert!(read_for >= HEAD_TIMEOUT - Duration::from_millis(100), "closed after {read_for:?}");
        assert!(read_for < HEAD_TIMEOUT + Duration::from_secs(1), "closed after {read_for:?}");
        stop_within(exporter, &stop, Duration::from_secs(3));

        let (_client, mut server) = pair();
        let limit = Duration::from_millis(300);
        let large = vec![b'x'; LARGE];
        let started = Instant::now();
        let error = write_all_by(&mut server, &large, started + limit).expect_err("a client reading nothing");
        assert_eq!(error.kind(), ErrorKind::TimedOut, "{error}");
        let written_for = started.elapsed();
        assert!(written_for >= limit && written_for < limit + Duration::from_secs(2), "gave up after {written_for:?}");
    }

    #[test]
    fn answers_by_method_and_path() {
        let pages = Pages::of_text(|| "up 1\n".to_owned(), || 0, Duration::ZERO);
        let answer = |head: &str| {
            let Reply { mut head, body } = response(head.as_bytes(), &pages);
            head.extend_from_slice(&body);
            String::from_utf8(head).unwrap()
        };
        let head = |status: &str, content_type: &str, length: usize| {
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\
                 Allow: GET, HEAD\r\nConnection: close\r\n\r\n"
            )
        };
        let text = "text/plain; charset=utf-8";
        assert_eq!(answer(GET), head("200 OK", CONTENT_TYPE, 5) + "up 1\n");
        assert_eq!(answer("GET /metrics?name[]=up HTTP/1.0\r\n\r\n"), head("200 OK", CONTENT_TYPE, 5) + "up 1\n");
        assert_eq!(answer("HEAD /metrics HTTP/1.1\r\n\r\n"), head("200 OK", CONTENT_TYPE, 5));
        let asked = "GET /metrics HTTP/1.1\r\nHost: x\r\naccept: application/openmetrics-text; version=1.0.0\r\n\r\n";
        assert_eq!(answer(asked), head("200 OK", OPENMETRICS, 5) + "up 1\n");
        let elsewhere = "hoptrace monitor: metrics at /metrics\n";
        assert_eq!(answer("GET / HTTP/1.1\r\n\r\n"), head("404 Not Found", text, elsewhere.len()) + elsewhere);
        let method = "hoptrace monitor: GET /metrics\n";
        let posted = answer("POST /metrics HTTP/1.1\r\n\r\n");
        assert_eq!(posted, head("405 Method Not Allowed", text, method.len()) + method);
        for junk in ["GET /metrics\r\n\r\n", "GET /metrics HTTP/2\r\n\r\n", "\u{1}\r\n\r\n", ""] {
            assert!(answer(junk).starts_with("HTTP/1.1 400 Bad Request\r\n"), "{junk:?}: {}", answer(junk));
        }
    }

    /// A connection to `addr` from 127.0.0.`host`.
    fn connect_from(host: u8, addr: SocketAddr) -> TcpStream {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.bind(&SocketAddr::from(([127, 0, 0, host], 0)).into()).unwrap();
        socket.connect(&addr.into()).unwrap();
        socket.into()
    }

    #[test]
    fn idle_connections_make_room_for_a_scrape_and_are_cut_at_the_stop() {
        let (exporter, addr, stop) = start(|| "up 1\n".to_owned());
        // Twice as many as are served, half a request each, never finished: from the scraper's address, then
        // from eight others.
        let mut idle = Vec::new();
        for host in [1, 2, 3, 4, 5, 6, 7, 8, 9] {
            for _ in 0..FAIR_TOTAL * 2 / 8 {
                let mut stream = connect_from(host, addr);
                stream.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
                idle.push(stream);
            }
            thread::sleep(Duration::from_millis(50));
            let answer = ask(addr, GET, Duration::from_secs(3)).expect("an answer");
            let text = String::from_utf8_lossy(&answer);
            assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "beside idle clients up to 127.0.0.{host}: {text}");
        }
        // A request with bare LF line ends is whole at its empty line.
        let answer = ask(addr, "GET /metrics HTTP/1.1\nHost: a\n\n", Duration::from_secs(3)).expect("answered");
        assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", String::from_utf8_lossy(&answer));

        let joined = stop_within(exporter, &stop, Duration::from_secs(3));
        eprintln!("joined in {joined:?} with {} idle connections", idle.len());
        for mut stream in idle {
            stream.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            match stream.read(&mut [0; 64]) {
                Ok(0) => {}
                Err(error) if error.kind() == ErrorKind::ConnectionReset => {}
                other => panic!("an idle connection left open or answered at the stop: {other:?}"),
            }
        }
    }

    #[test]
    fn connections_being_answered_are_never_cut() {
        let (exporter, addr, stop) = start(|| "x".repeat(LARGE));
        let stalled: Vec<TcpStream> = (0..PER_PEER)
            .map(|_| {
                let mut stream = connect_from(1, addr);
                stream.write_all(GET.as_bytes()).unwrap();
                stream
            })
            .collect();
        thread::sleep(Duration::from_millis(300));
        // One more from the same address, past its share: answered too.
        let answer = ask(addr, GET, Duration::from_secs(3)).expect("an answer");
        assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n") && answer.len() > LARGE, "{} bytes", answer.len());
        // The stalled ones were written to all along.
        for mut stream in stalled {
            let mut start = [0; 17];
            stream.read_exact(&mut start).unwrap();
            assert_eq!(&start, b"HTTP/1.1 200 OK\r\n");
        }
        stop_within(exporter, &stop, Duration::from_secs(3));
    }

    #[test]
    fn gzip_when_the_scraper_takes_it() {
        let page = "hoptrace_hops{target=\"198.18.0.1\"} 4\n".repeat(1000);
        let served = page.clone();
        let pages = Pages::of_text(move || served.clone(), || 0, Duration::ZERO);
        for (accept, zipped) in [
            ("gzip", true),
            ("deflate, GZip;q=0.5", true),
            ("*", true),
            ("gzip;q=0", false),
            ("identity", false),
            ("", false),
        ] {
            let head = format!("GET /metrics HTTP/1.1\r\nAccept-Encoding: {accept}\r\n\r\n");
            let Reply { head, body } = response(head.as_bytes(), &pages);
            let head = String::from_utf8(head).unwrap();
            assert_eq!(head.contains("\r\nContent-Encoding: gzip\r\n"), zipped, "{accept}: {head}");
            assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())), "{head}");
            let text = if zipped {
                let mut text = String::new();
                flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut text).unwrap();
                assert!(body.len() * 20 < page.len(), "{} bytes gzipped", body.len());
                text
            } else {
                String::from_utf8(body.to_vec()).unwrap()
            };
            assert_eq!(text, page, "{accept}");
        }
    }

    /// Eight scrapes at once of metrics that change all the time: `fresh_for` decides how many builds they cost.
    fn builds_for_eight_scrapes(fresh_for: Duration) -> usize {
        use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
        let builds = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&builds);
        let encode = move || {
            let build = counted.fetch_add(1, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(200));
            format!("build {build}\n")
        };
        let version = AtomicU64::new(0);
        let pages = Pages::of_text(encode, move || version.fetch_add(1, Ordering::SeqCst), fresh_for);
        let listener = Exporter::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = StopHandle::default();
        let exporter = Exporter::start(listener, pages, stop.clone()).unwrap();
        let scrapes: Vec<_> =
            (0..8).map(|_| thread::spawn(move || ask(addr, GET, Duration::from_secs(10)).expect("answered"))).collect();
        let answers: Vec<Vec<u8>> = scrapes.into_iter().map(|scrape| scrape.join().unwrap()).collect();
        for answer in &answers {
            assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", String::from_utf8_lossy(answer));
        }
        stop_within(exporter, &stop, Duration::from_secs(3));
        builds.load(Ordering::SeqCst)
    }

    #[test]
    fn scrapes_at_once_share_one_build() {
        assert_eq!(builds_for_eight_scrapes(Duration::from_secs(5)), 1);
        // A page never fresh is built for each scrape, one after the other.
        assert_eq!(builds_for_eight_scrapes(Duration::ZERO), 8);
    }
}
