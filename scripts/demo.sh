#!/usr/bin/env bash
# Builds a small lab network of namespaces (needs root) and traces through it with hoptrace, IPv4 and IPv6.
# Extra arguments go to hoptrace, e.g. `scripts/demo.sh -I` or `scripts/demo.sh -n -q 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(iproute2 iptables procps)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cargo build --release --locked -q -p hoptrace -p hoptrace-netlab
exec target/release/lab-demo target/release/hoptrace "$@"
