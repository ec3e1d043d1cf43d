#!/usr/bin/env bash
# Runs a command in the client of the demo lab that `scripts/demo.sh` keeps up, e.g.
#   scripts/demo-exec.sh target/release/hoptrace monitor -n --every 1 --prometheus 127.0.0.1:9120 198.18.5.2 &
#   scripts/demo-exec.sh curl -s http://127.0.0.1:9120/metrics
# Needs root, as the demo does. Without a command: a shell there.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${LAB_DEMO_STATE:-target/demo-lab-client}
ns=$(cat "$state" 2>/dev/null || true)
if [ -z "$ns" ] || [ ! -e "/run/netns/$ns" ]; then
  echo "scripts/demo-exec.sh: no demo lab is up: start scripts/demo.sh in another terminal, and leave it waiting" >&2
  exit 1
fi
if [ $# = 0 ]; then
  set -- "${SHELL:-/bin/sh}"
fi
exec ip netns exec "$ns" "$@"
