#!/usr/bin/env bash
# Builds a small lab network of namespaces (needs root) and traces through it with hoptrace, IPv4 and IPv6.
# Extra arguments go to hoptrace, e.g. `scripts/demo.sh -I` or `scripts/demo.sh -n -q 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-packages.sh
install_packages iproute2 iptables procps
cargo build --release --locked -q -p hoptrace -p hoptrace-netlab
exec target/release/lab-demo target/release/hoptrace "$@"
