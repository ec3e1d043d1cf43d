#!/usr/bin/env bash
# Runs every test of hoptrace on a fresh Debian machine: installs the system packages the lab needs, then
# formatting, lints, unit and simulated-network tests, the end-to-end tests in the lab of network namespaces, and a
# fuzzing smoke run. Needs root (the lab builds network namespaces); it never sends a packet outside them or
# loopback. Every step runs, whatever failed before it; the script ends with the list of the steps that failed (and
# a non-zero status), or says that all passed.
set -uo pipefail
cd "$(dirname "$0")/.."
# No terminal needed, nothing read: CI may start this with stdin closed.
exec </dev/null

if [ "$(id -u)" != 0 ]; then
  echo "scripts/test.sh: the lab tests build network namespaces and need root" >&2
  exit 1
fi

failed=()
# `step NAME COMMAND…`: runs the command, noting NAME if it fails, and goes on.
step() {
  local name=$1
  shift
  echo "--- scripts/test.sh: $name" >&2
  if ! "$@"; then
    echo "--- scripts/test.sh: FAILED: $name" >&2
    failed+=("$name")
  fi
}

source scripts/install-packages.sh
step "system packages" install_packages bsdutils dnsmasq-base iproute2 mtr-tiny nodejs iptables iputils-ping iputils-tracepath \
  libcap2-bin man-db nftables procps prometheus python3-venv systemd tmux traceroute util-linux

# jc (PyPI) parses traceroute's and hoptrace's output for the lab tests that compare them, ripe.atlas.sagan
# (RIPE Atlas's result parser) reads hoptrace's --json, and diamond-miner (Iris's planner) with chdb (ClickHouse in
# process) drives hoptrace bulk; all live in a virtualenv under target/ that is made once and reused.
venv=${HOPTRACE_VENV:-target/venv}
python_packages() {
  if ! "$venv/bin/jc" --version >/dev/null 2>&1 || ! "$venv/bin/python" -c 'import ripe.atlas.sagan, chdb, diamond_miner' 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv" &&
      "$venv/bin/pip" install --quiet --disable-pip-version-check jc ripe.atlas.sagan chdb diamond-miner
  fi
}
step "python packages" python_packages
venv=$(cd "$venv" 2>/dev/null && pwd || echo "$venv")
export HOPTRACE_JC="$venv/bin/jc"
export HOPTRACE_PYTHON="$venv/bin/python"
# The npm wrappers that run `mtr` (mtr reads --raw, mtrext reads `-r -w -o`): the lab test runs them against hoptrace
# run as mtr and against Debian's mtr; installed once under target/npm.
npm_dir=${HOPTRACE_NPM:-target/npm}
npm_packages() {
  [ -f "$npm_dir/node_modules/mtr/package.json" ] && [ -f "$npm_dir/node_modules/mtrext/package.json" ] ||
    { mkdir -p "$npm_dir" && npm install --prefix "$npm_dir" --no-audit --no-fund --silent mtr mtrext; }
}
step "npm packages" npm_packages
export HOPTRACE_NPM=$(cd "$npm_dir" 2>/dev/null && pwd || echo "$npm_dir")
# cargo-deb (crates.io) builds the Debian package that a lab test installs with dpkg -i (then purges); made once.
cargo_deb() { cargo deb --version >/dev/null 2>&1 || cargo install --locked cargo-deb; }
step "cargo-deb" cargo_deb

step "cargo fmt" cargo fmt --all --check
# The developers' guide's shape: no import circle inside a crate, no source file over 500 lines.
step "import cycles" python3 scripts/import-cycles.py
short_files() {
  local long
  long=$(find crates -name '*.rs' -exec awk 'END { if (NR > 500) print FILENAME ": " NR " lines" }' {} \;)
  if [ -n "$long" ]; then echo "source files over 500 lines:" >&2; echo "$long" >&2; return 1; fi
}
step "files under 500 lines" short_files
# The tests that need root (labs of network namespaces, runs in a namespace of their own) are behind each crate's
# `lab` feature, so that `cargo test --workspace` runs as any user; here, as root, they all run.
lab_features=hoptrace/lab,hoptrace-core/lab,hoptrace-netlab/lab,hoptrace-net/lab
step "cargo clippy" cargo clippy --workspace --all-targets --locked --features "$lab_features" -- -D warnings
step "cargo doc" env RUSTDOCFLAGS='-D warnings' cargo doc --no-deps --workspace --locked --quiet
# The user guide (docs/, mdBook) builds: mdbook from crates.io without its server (about five minutes, made once).
mdbook_build() {
  mdbook --version >/dev/null 2>&1 || cargo install --locked --no-default-features mdbook || return 1
  mdbook build docs
}
step "mdbook" mdbook_build
# The fuzz targets live outside the workspace (cargo-fuzz, nightly): checked here, before the long test run, so that
# an API change that breaks them shows early.
fuzz_check() { (cd fuzz && cargo +nightly fmt --check && cargo +nightly check --bins --locked --quiet); }
step "fuzz targets build" fuzz_check
# Every test, whichever fails.
step "cargo test" cargo test --workspace --locked --no-fail-fast --features "$lab_features"

# Fuzzing smoke run: every cargo-fuzz target for 20 seconds (nightly; fuzz/README.md has the longer run).
step "fuzzing" scripts/fuzz.sh 20

if ((${#failed[@]})); then
  echo "scripts/test.sh: ${#failed[@]} step(s) failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "scripts/test.sh: every step passed" >&2
