//! Zero-copy views and builders for the packets a traceroute sends and receives.
