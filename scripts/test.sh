#!/usr/bin/env bash
# Runs every test of hoptrace on a fresh Debian machine: installs the system packages the lab needs, then
# formatting, lints, unit and simulated-network tests, and the end-to-end tests in the lab of network namespaces.
# Needs root (the lab builds network namespaces); it never sends a packet outside them or loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "scripts/test.sh: the lab tests build network namespaces and need root" >&2
  exit 1
fi

source scripts/install-packages.sh
install_packages bsdutils dnsmasq-base iproute2 iptables iputils-ping iputils-tracepath libcap2-bin man-db nftables procps prometheus python3-venv systemd tmux traceroute util-linux

# jc (PyPI) parses traceroute's and hoptrace's output for the lab tests that compare them, ripe.atlas.sagan
# (RIPE Atlas's result parser) reads hoptrace's --json, and diamond-miner (Iris's planner) with chdb (ClickHouse in
# process) drives hoptrace bulk; all live in a virtualenv under target/ that is made once and reused.
venv=target/venv
if ! "$venv/bin/jc" --version >/dev/null 2>&1 || ! "$venv/bin/python" -c 'import ripe.atlas.sagan, chdb, diamond_miner' 2>/dev/null; then
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check jc ripe.atlas.sagan chdb diamond-miner
fi
export HOPTRACE_JC="$PWD/$venv/bin/jc"
export HOPTRACE_PYTHON="$PWD/$venv/bin/python"
# cargo-deb (crates.io) builds the Debian package that a lab test installs with dpkg -i (then purges); made once.
if ! cargo deb --version >/dev/null 2>&1; then
  cargo install --locked cargo-deb
fi

cargo fmt --all --check
# The developers' guide's shape: no import circle inside a crate, no source file over 500 lines.
python3 scripts/import-cycles.py
long=$(find crates -name '*.rs' -exec awk 'END { if (NR > 500) print FILENAME ": " NR " lines" }' {} \;)
if [ -n "$long" ]; then echo "source files over 500 lines:" >&2; echo "$long" >&2; exit 1; fi
# The tests that need root (labs of network namespaces, runs in a namespace of their own) are behind each crate's
# `lab` feature, so that `cargo test --workspace` runs as any user; here, as root, they all run.
lab_features=hoptrace/lab,hoptrace-core/lab,hoptrace-netlab/lab,hoptrace-net/lab
cargo clippy --workspace --all-targets --locked --features "$lab_features" -- -D warnings
RUSTDOCFLAGS='-D warnings' cargo doc --no-deps --workspace --locked --quiet
# The fuzz targets live outside the workspace (cargo-fuzz, nightly): checked here, before the long test run, so that
# an API change that breaks them fails early.
(cd fuzz && cargo +nightly fmt --check && cargo +nightly check --bins --locked --quiet)
cargo test --workspace --locked --features "$lab_features"

# Fuzzing smoke run: every cargo-fuzz target for 20 seconds (nightly; fuzz/README.md has the longer run).
scripts/fuzz.sh 20
