#!/usr/bin/env bash
# The flood benchmark (needs root): hoptrace, traceroute(8) and mtr traced and reporting (50 rounds) while the
# client receives 20k, 100k and 300k ICMP errors a second that answer none of their probes; prints per rate and
# tool whether every hop was found, wall time, CPU seconds, peak RSS and the rate the flood reached. About two
# minutes; every flood stays inside the lab's namespaces and ends with the tool's run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-packages.sh
install_packages iproute2 iptables procps traceroute mtr-tiny time
cargo build --release --locked -q -p hoptrace -p hoptrace-netlab
exec target/release/lab-flood-bench target/release/hoptrace
