//! Sockets and the event loop that drives the engine: the only crate that touches the OS.
