#!/usr/bin/env bash
# Builds hoptrace's Debian package with cargo-deb (installed from crates.io if missing): the binary, its man pages
# (hoptrace, hoptrace-monitor, hoptrace-bulk) and shell completions (bash, zsh, fish), generated here by hoptrace-docs,
# the systemd unit hoptrace-monitor.service with its targets file /etc/hoptrace/targets, and the alert rules and
# Grafana dashboard under /usr/share/hoptrace. The .deb lands in target/debian/.
#
#   scripts/deb.sh [--profile PROFILE] [--no-build] [--fast]
#
#   --profile PROFILE   the Cargo profile to package (default release; the lab test packages `dev`)
#   --no-build          package what target/ already holds (hoptrace and hoptrace-docs built with PROFILE)
#   --fast              faster, larger compression
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
build=1
fast=()
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --no-build) build=; shift ;;
    --fast) fast=(--fast); shift ;;
    *) echo "scripts/deb.sh: unknown option $1 (see the comment at the top of this script)" >&2; exit 2 ;;
  esac
done

if ! cargo deb --version >/dev/null 2>&1; then
  cargo install --locked cargo-deb
fi
if [ -n "$build" ]; then
  cargo build --locked --profile "$profile" -p hoptrace --bins
fi
# cargo-deb reads every `target/release/…` asset from the profile's directory.
case "$profile" in
  dev) dir=target/debug ;;
  *) dir="target/$profile" ;;
esac
docs="$dir/deb-docs"
rm -rf "$docs"
mkdir -p "$docs"
"$dir/hoptrace-docs" man | gzip -9n >"$docs/hoptrace.1.gz"
for page in monitor bulk; do
  "$dir/hoptrace-docs" man "$page" | gzip -9n >"$docs/hoptrace-$page.1.gz"
done
"$dir/hoptrace-docs" completions bash >"$docs/hoptrace.bash"
"$dir/hoptrace-docs" completions zsh >"$docs/_hoptrace"
"$dir/hoptrace-docs" completions fish >"$docs/hoptrace.fish"
cargo deb --locked -p hoptrace --no-build --profile "$profile" "${fast[@]}"
