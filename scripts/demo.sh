#!/usr/bin/env bash
# Builds a small lab network of namespaces (needs root) and traces through it with hoptrace, IPv4 and IPv6.
# Extra arguments go to hoptrace, e.g. `scripts/demo.sh -I` or `scripts/demo.sh -n -q 1`.
# Run from a terminal, the lab then stays up until Enter: meanwhile `scripts/demo-exec.sh COMMAND…` runs any
# command in its client (hoptrace monitor, curl …), from another terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-packages.sh
install_packages iproute2 iptables procps
echo "scripts/demo.sh: building hoptrace and the lab (release; the first build takes a few minutes)…" >&2
cargo build --release --locked -p hoptrace -p hoptrace-netlab
export LAB_DEMO_STATE=target/demo-lab-client
if [ -t 0 ]; then
  export LAB_DEMO_HOLD=1
fi
exec target/release/lab-demo target/release/hoptrace "$@"
