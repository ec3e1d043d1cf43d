#!/usr/bin/env bash
# Builds hoptrace (release) and runs it with the given arguments, e.g. `scripts/run.sh -n example.org`.
# cargo's progress goes to stderr: the first build takes a minute or two, later ones a moment.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p hoptrace
exec target/release/hoptrace "$@"
