//! The Prometheus exporter of `hoptrace monitor`: the metrics ([`metrics`]), their page in either text format
//! ([`exposition`]), and the bounded HTTP server that serves it ([`http`]).

pub mod connections;
pub mod exposition;
pub mod http;
pub mod listen;
pub mod metrics;
pub mod page;
pub mod request;
pub mod series;

pub use listen::ListenAddress;

#[cfg(test)]
mod golden;
