#!/usr/bin/env bash
# Builds hoptrace (release) and runs it with the given arguments, e.g. `scripts/run.sh -n example.org`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p hoptrace
exec target/release/hoptrace "$@"
