#!/usr/bin/env bash
# `make test`: fmt, clippy and every test, the cluster tests against a lab started for
# this run. What waits on the network or builds Go (Debian packages, the control-plane
# build, the PyPI and npm tools) runs beside the Rust build, so that a fresh machine
# keeps both cores busy; everything is installed before the first test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
LAB_DIR="${LAB_DIR:-$PWD/target/test-lab}"
BIN=target/debug/scenario
mkdir -p target
SECONDS=0
phase() { echo "[test +${SECONDS}s] $*" >&2; }
# Debian packages first (one apt-get), then the lab's Go build, in the background.
(scripts/packages.sh test && echo "[lab +${SECONDS}s] Debian packages installed" &&
  bash lab/src/install.sh >/dev/null && echo "[lab +${SECONDS}s] control plane ready") >target/setup-lab-test.log 2>&1 &
lab=$!
scripts/test-tools.sh >target/setup-tools.log 2>&1 &
tools=$!
fail() { echo "make test: $1 failed:" >&2; cat "$2" >&2; exit "${3:-1}"; }
cargo fmt --all -- --check
# Lint while compiling: clippy-driver wraps rustc for the workspace's own crates, as
# `cargo clippy` itself does, but here for the test build, so the dependencies compile
# once (not once checked for clippy and once built) and a lint still fails the build.
# The wrapper stays set for `cargo test` below, which would otherwise rebuild the crates.
export RUSTC_WORKSPACE_WRAPPER="${RUSTC_WORKSPACE_WRAPPER:-$(command -v clippy-driver)}"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings"
cargo test --locked --workspace --all-targets --no-run -q
# The cluster tests start the mesh emulator as a program; the test build above builds
# the example only as its unit-test harness (`test = true` in Cargo.toml).
cargo build --locked --example meshlab -q
phase "linted and tests built"
kill -0 "$lab" 2>/dev/null && echo "test: waiting for the lab install (log: target/setup-lab-test.log)" >&2
wait "$tools" || fail "installing the test tools (scripts/test-tools.sh)" target/setup-tools.log
wait "$lab" || fail "installing the lab (scripts/packages.sh, lab/src/install.sh)" target/setup-lab-test.log 3
phase "tools and lab installed"
"$BIN" lab install >/dev/null
"$BIN" lab down --dir "$LAB_DIR" >/dev/null
"$BIN" lab up --dir "$LAB_DIR"
"$BIN" lab crds --dir "$LAB_DIR"
# The cluster tests (every one named `lab_*`, in the `lab` binary) run beside all the
# others: they mostly wait on API servers, so together the two take less time than one
# after the other. The cluster tests are the longer part (439 test-seconds): three
# threads finish them in about 165 s where two took 225 s (four were slower again).
status=0
SCENARIO_LAB_DIR="$LAB_DIR" cargo test --locked --test lab -- --test-threads 3 >target/test-lab.log 2>&1 &
lab_tests=$!
cargo test --locked -- --skip lab_ || status=$?
lab_status=0
wait "$lab_tests" || lab_status=$?
cat target/test-lab.log
[ "$status" != 0 ] || status=$lab_status
phase "tests run"
"$BIN" lab down --dir "$LAB_DIR"
exit "$status"
