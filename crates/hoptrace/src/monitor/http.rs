//! `--prometheus ADDR:PORT`: `/metrics` over HTTP (tiny_http), on a thread of its own until stopped.

use core::net::SocketAddr;
use core::time::Duration;
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use hoptrace_core::StopHandle;
use tiny_http::{Header, Response, Server};

use crate::monitor::metrics::Metrics;

/// The text exposition format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How often the server looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(100);

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

    /// Serves `/metrics` on `listener` from a thread of its own.
    pub fn start(listener: TcpListener, metrics: Arc<Metrics>, stop: StopHandle) -> Result<Self, String> {
        let server = Server::from_listener(listener, None).map_err(|error| format!("cannot serve metrics: {error}"))?;
        let thread = thread::spawn(move || serve(&server, &metrics, &stop));
        Ok(Exporter { thread })
    }

    /// Waits for the server to stop (after `stop` was set); the listener is closed when this returns.
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

fn serve(server: &Server, metrics: &Metrics, stop: &StopHandle) {
    while !stop.is_stopped() {
        let request = match server.recv_timeout(STOP_CHECK) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(_) => break,
        };
        let response = if request.url() == "/metrics" || request.url().starts_with("/metrics?") {
            let header = Header::from_bytes("Content-Type", CONTENT_TYPE).expect("a valid header");
            Response::from_string(metrics.encode()).with_header(header)
        } else {
            Response::from_string("hoptrace monitor: metrics at /metrics\n").with_status_code(404)
        };
        // A client that went away is its own problem.
        let _ = request.respond(response);
    }
}
