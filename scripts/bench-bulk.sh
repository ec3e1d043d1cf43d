#!/usr/bin/env bash
# The bulk benchmark (needs root): hoptrace bulk at 10k, 50k, 100k probes/s and as fast as it goes, beside scamper
# (-p 10000) and a bare C sendmmsg loop (scripts/bench/bare_sendmmsg.c, compiled here) on one lab in one run.
# Prints rate, matched replies, CPU per probe and peak RSS, and whether the goals are met. Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-packages.sh
install_packages gcc iproute2 libc6-dev procps scamper time
cargo build --release --locked -q -p hoptrace -p hoptrace-netlab
gcc -O2 -Wall -Wextra -o target/release/bare_sendmmsg scripts/bench/bare_sendmmsg.c
exec target/release/bulk-bench target/release/hoptrace target/release/bare_sendmmsg
