#!/usr/bin/env bash
# The MDA benchmark (needs root): hoptrace --mda over two diamonds whose routers keep the kernel's ICMP limits —
# the global cap alone, then with the per-destination limit on. Prints runs, interfaces found, errors suppressed,
# probes and time against the limiters' bound, and whether the goals are met. Takes about a quarter of an hour
# (RUNS, default 20, for the global cap; half as many with the per-destination limit, about 40 s each).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-packages.sh
install_packages iproute2 iputils-ping
cargo build --release --locked -q -p hoptrace -p hoptrace-netlab
exec target/release/mda-bench target/release/hoptrace "$@"
