//! A throwaway DNS server on 127.0.0.1 for tests: it answers TXT queries from
//! a fixed table (NXDOMAIN otherwise), or swallows every query.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::TXT;
use hickory_resolver::proto::rr::{RData, Record, RecordType};

/// The longest a test server lives, whatever the test does.
const LIFETIME: Duration = Duration::from_secs(20);

/// A UDP DNS server on a random loopback port, stopped on drop.
pub struct TestDns {
    addr: SocketAddr,
    queries: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestDns {
    /// Answers TXT queries for each `(name, text)` pair (a name may repeat to
    /// give several records); names are given without the trailing dot.
    pub fn answering(records: &[(&str, &str)]) -> Self {
        let table: Vec<(String, String)> =
            records.iter().map(|(name, text)| (name.to_ascii_lowercase(), text.to_string())).collect();
        Self::start(Some(table))
    }

    /// Reads and ignores every query, like a server that is unreachable.
    pub fn silent() -> Self {
        Self::start(None)
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many datagrams it has received.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    fn start(table: Option<Vec<(String, String)>>) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind test DNS socket");
        socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let addr = socket.local_addr().unwrap();
        let queries = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (queries, stop) = (Arc::clone(&queries), Arc::clone(&stop));
            thread::spawn(move || serve(&socket, table.as_deref(), &queries, &stop))
        };
        TestDns { addr, queries, stop, thread: Some(thread) }
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(socket: &UdpSocket, table: Option<&[(String, String)]>, queries: &AtomicUsize, stop: &AtomicBool) {
    let started = Instant::now();
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::SeqCst) && started.elapsed() < LIFETIME {
        let Ok((len, peer)) = socket.recv_from(&mut buf) else {
            continue;
        };
        queries.fetch_add(1, Ordering::SeqCst);
        let Some(table) = table else { continue };
        let Ok(request) = Message::from_vec(&buf[..len]) else {
            continue;
        };
        if let Ok(bytes) = answer(&request, table).to_vec() {
            let _ = socket.send_to(&bytes, peer);
        }
    }
}

fn answer(request: &Message, table: &[(String, String)]) -> Message {
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.queries = request.queries.clone();
    response.edns = request.edns.clone();
    for query in &request.queries {
        if query.query_type() != RecordType::TXT {
            continue;
        }
        let asked = query.name().to_ascii().to_ascii_lowercase();
        let asked = asked.trim_end_matches('.');
        for (_, text) in table.iter().filter(|(name, _)| name == asked) {
            let txt = RData::TXT(TXT::new(vec![text.clone()]));
            response.add_answer(Record::from_rdata(query.name().clone(), 60, txt));
        }
    }
    if response.answers.is_empty() {
        response.metadata.response_code = ResponseCode::NXDomain;
    }
    response
}
