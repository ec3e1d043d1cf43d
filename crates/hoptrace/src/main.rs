//! hoptrace: trace the path packets take to a host.

fn main() {}
