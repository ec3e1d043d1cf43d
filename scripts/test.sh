#!/usr/bin/env bash
# Runs every test of hoptrace on a fresh Debian machine: installs the system packages the lab needs, then
# formatting, lints, unit and simulated-network tests, and the end-to-end tests in the lab of network namespaces.
# Needs root (the lab builds network namespaces); it never sends a packet outside them or loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(iproute2 iptables iputils-ping iputils-tracepath traceroute util-linux)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$(id -u)" != 0 ]; then
  echo "scripts/test.sh: the lab tests build network namespaces and need root" >&2
  exit 1
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
