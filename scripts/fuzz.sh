#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 20: the smoke run of scripts/test.sh). Needs the nightly
# toolchain and cargo-fuzz (installed here if missing). See fuzz/README.md. Every target runs, whichever fails; the
# status says whether any did.
set -uo pipefail
cd "$(dirname "$0")/../fuzz" || exit 1
seconds="${1:-20}"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz || exit 1
fi
failed=()
for target in packet_parsers reply_decoding engine_matching targets_file prefix_file http_request; do
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 || failed+=("$target")
done
if ((${#failed[@]})); then
  echo "scripts/fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
