//! End-to-end tests of the lab: they build real namespaces, so they run as root.

mod support;

mod chain;
mod delay;
mod demo;
mod ecmp;
mod mtu;
mod router_opts;
mod teardown;
