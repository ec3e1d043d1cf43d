//! The exporter's connections: accepted and their request heads read as they come, by one thread (poll(2)); each
//! whole head answered on a thread of its own. Bounded so that no client, nor many, keeps a scraper out.
//!
//! A scraper sends its request with its connection; idle and slow clients do not. Every connection is given
//! [`GRACE`] to send its head, however many arrive. Past [`PER_PEER`] connections from one address, or
//! [`FAIR_TOTAL`] in all, the oldest still waiting for their head after that are closed. At most
//! [`MAX_CONNECTIONS`] are held: one more closes the oldest waiting, or, when every one is being answered, is
//! answered 503 at once. A head must be whole within [`HEAD_TIMEOUT`], an answer taken within [`WRITE_TIMEOUT`].

use core::net::IpAddr;
use core::time::Duration;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use hoptrace_core::StopHandle;
use rustix::event::{PollFd, PollFlags, Timespec};

use super::request::{Head, Progress};

/// Connections held at once.
pub const MAX_CONNECTIONS: usize = 128;

/// Connections past which the oldest still waiting for their head after [`GRACE`] are closed.
pub const FAIR_TOTAL: usize = 16;

/// Connections from one address past which its oldest still waiting for their head after [`GRACE`] are closed.
pub const PER_PEER: usize = 4;

/// How long any connection is given to send its head.
pub const GRACE: Duration = Duration::from_millis(100);

/// How long a request head may take to arrive whole.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the client may take to read the whole answer.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the stop flag is looked at.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// An answer: its head, then its body (shared by the answers to every scrape of one page).
pub struct Reply {
    /// The status line and header fields.
    pub head: Vec<u8>,
    /// The body, empty for none.
    pub body: Arc<Vec<u8>>,
}

/// The answer to a whole request head (or one too long).
pub type Respond = dyn Fn(&Head) -> Reply + Send + Sync;

/// A connection whose request head is awaited.
struct Waiting {
    stream: TcpStream,
    peer: IpAddr,
    head: Head,
    since: Instant,
}

/// A connection being answered.
struct Answering {
    peer: IpAddr,
    /// A handle to cut it at the stop.
    stream: TcpStream,
    thread: JoinHandle<()>,
}

/// What a waiting connection's bytes came to.
enum Came {
    /// Not its whole head yet.
    More,
    /// Its whole head (or too long a one): to answer.
    Head,
    /// Closed, failed or too slow: to drop.
    Gone,
}

impl Waiting {
    /// Reads what it sent, without blocking.
    fn read(&mut self) -> Came {
        let mut buf = [0; 2048];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Came::Gone,
                Ok(read) if self.head.push(&buf[..read]) != Progress::Partial => return Came::Head,
                Ok(_) => {}
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) if error.kind() == ErrorKind::WouldBlock && self.since.elapsed() < HEAD_TIMEOUT => {
                    return Came::More
                }
                Err(_) => return Came::Gone,
            }
        }
    }
}

/// Serves `listener` (non-blocking) until `stop`, `respond` giving each answer and `busy` the 503; then cuts the
/// connections still being answered and waits for their threads.
pub fn serve(listener: &TcpListener, respond: &Arc<Respond>, busy: &[u8], stop: &StopHandle) {
    // Both oldest first.
    let mut waiting: Vec<Waiting> = Vec::new();
    let mut answering: Vec<Answering> = Vec::new();
    while !stop.is_stopped() {
        wait_for_bytes(listener, &waiting, waiting.len() + answering.len() > PER_PEER);
        // Heads first: a request that is there is never cut for a connection accepted after it.
        let mut at = 0;
        while at < waiting.len() {
            match waiting[at].read() {
                Came::More => at += 1,
                Came::Head => answer(waiting.remove(at), respond, &mut answering),
                Came::Gone => drop(waiting.remove(at)),
            }
        }
        answering.retain(|connection| !connection.thread.is_finished());
        trim(&mut waiting, &answering);
        // One at a time, the heads read in between.
        let (stream, peer) = match listener.accept() {
            Ok((stream, peer)) => (stream, peer.ip().to_canonical()),
            Err(error) if error.kind() == ErrorKind::WouldBlock => continue,
            // Out of descriptors, say: the connections wait in the backlog meanwhile.
            Err(_) => {
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if waiting.len() + answering.len() >= MAX_CONNECTIONS {
            if waiting.is_empty() {
                refuse(&stream, busy);
                continue;
            }
            waiting.remove(0);
        }
        if stream.set_nonblocking(true).is_err() {
            continue;
        }
        let mut connection = Waiting { stream, peer, head: Head::default(), since: Instant::now() };
        match connection.read() {
            Came::More => waiting.push(connection),
            Came::Head => answer(connection, respond, &mut answering),
            Came::Gone => {}
        }
    }
    for connection in &answering {
        // Whatever its thread waits for, writing, ends at once.
        let _ = connection.stream.shutdown(Shutdown::Both);
    }
    for connection in answering {
        let _ = connection.thread.join();
    }
}

/// Waits until the listener or a waiting connection has something to read, or a deadline comes (a grace's end
/// too when `crowded`).
fn wait_for_bytes(listener: &TcpListener, waiting: &[Waiting], crowded: bool) {
    let mut fds = vec![PollFd::new(listener, PollFlags::IN)];
    fds.extend(waiting.iter().map(|connection| PollFd::new(&connection.stream, PollFlags::IN)));
    let longest = if crowded { GRACE / 4 } else { STOP_CHECK };
    let deadlines = waiting.iter().map(|connection| HEAD_TIMEOUT.saturating_sub(connection.since.elapsed()));
    let timeout = deadlines.fold(longest, Duration::min);
    // An error (a signal) only ends the wait early.
    let _ = Timespec::try_from(timeout).map(|timeout| rustix::event::poll(&mut fds, Some(&timeout)));
}

/// Closes the oldest connections still waiting for their head after [`GRACE`] while there are more than
/// [`FAIR_TOTAL`], or more than [`PER_PEER`] from their address.
fn trim(waiting: &mut Vec<Waiting>, answering: &[Answering]) {
    let mut at = 0;
    while at < waiting.len() {
        let peer = waiting[at].peer;
        let from_peer =
            waiting.iter().filter(|c| c.peer == peer).count() + answering.iter().filter(|c| c.peer == peer).count();
        let crowded = waiting.len() + answering.len() > FAIR_TOTAL || from_peer > PER_PEER;
        if crowded && waiting[at].since.elapsed() >= GRACE {
            waiting.remove(at);
        } else {
            at += 1;
        }
    }
}

/// Answers `connection` on a thread of its own, the client given [`WRITE_TIMEOUT`] to take it all; the
/// connection closes after.
fn answer(connection: Waiting, respond: &Arc<Respond>, answering: &mut Vec<Answering>) {
    let Waiting { mut stream, peer, head, .. } = connection;
    let Ok(handle) = stream.try_clone() else { return };
    let respond = Arc::clone(respond);
    let thread = thread::Builder::new().name("metrics".into()).spawn(move || {
        // The head and the body are two writes: not held back for the first's acknowledgement.
        if stream.set_nonblocking(false).is_ok() && stream.set_nodelay(true).is_ok() {
            let Reply { head, body } = respond(&head);
            let deadline = Instant::now() + WRITE_TIMEOUT;
            let _ =
                write_all_by(&mut stream, &head, deadline).and_then(|()| write_all_by(&mut stream, &body, deadline));
        }
        let _ = stream.shutdown(Shutdown::Write);
    });
    // Without a thread, the connection closes unanswered.
    if let Ok(thread) = thread {
        answering.push(Answering { peer, stream: handle, thread });
    }
}

/// Answers `busy` without waiting for the request: a few hundred bytes, which a new connection's buffer always
/// takes, written without blocking.
fn refuse(mut stream: &TcpStream, busy: &[u8]) {
    let _ = stream.set_nonblocking(true);
    // Whatever of the request is there: closing on unread bytes would reset the connection.
    let _ = stream.read(&mut [0; 1024]);
    let _ = stream.write_all(busy);
    let _ = stream.shutdown(Shutdown::Write);
}

/// Writes all of `bytes` before `deadline`, however slowly the client reads.
pub fn write_all_by(stream: &mut TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.set_write_timeout(Some(time_left(deadline)?))?;
        match stream.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(written) => bytes = &bytes[written..],
            // The socket's timeout (set to the time left), or a signal: the deadline decides.
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// The time left before `deadline`; a timeout once there is none.
fn time_left(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ErrorKind::TimedOut.into());
    }
    Ok(left)
}
