#!/usr/bin/env bash
# The speed benchmark (needs root): builds lab networks with delay links and compares hoptrace with traceroute(8),
# tracepath(8) and mtr on four scenarios, printing wall time, CPU time, peak RSS, hops found, ratios and whether
# hoptrace meets its targets (exit status 1 if not). Takes about three minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-packages.sh
install_packages iproute2 iptables procps traceroute iputils-tracepath mtr-tiny time
cargo build --release --locked -q -p hoptrace -p hoptrace-netlab
exec target/release/lab-bench target/release/hoptrace
