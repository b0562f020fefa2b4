#!/usr/bin/env bash
# `make demo`: the Traffic Management and Access Policies chapters end to end on the local lab.
# Installs what is missing (Debian packages, the control-plane build, cached),
# starts a lab of three clusters and the mesh emulator, runs the chapter,
# prints the report, and stops everything again.
set -euo pipefail
cd "$(dirname "$0")/.."
LAB="${DEMO_LAB_DIR:-$PWD/target/demo-lab}"
mkdir -p target
SECONDS=0
phase() { echo "[demo +${SECONDS}s] $*" >&2; }
# Debian packages and the control-plane build (Go) run beside the Rust build: on a
# fresh machine each alone leaves a core idle much of the time.
(scripts/packages.sh demo && echo "[lab +${SECONDS}s] Debian packages installed" &&
  bash lab/src/install.sh >/dev/null && echo "[lab +${SECONDS}s] control plane built") >target/setup-lab-demo.log 2>&1 &
lab=$!
# The debug profile: the same build `make test` uses, so the two commands share
# one compilation of the dependency tree on a fresh machine.
cargo build --locked --bin scenario --example meshlab
BIN=target/debug/scenario
MESH=target/debug/examples/meshlab
phase "scenario and the emulator built"
kill -0 "$lab" 2>/dev/null && echo "demo: waiting for the lab install (Debian packages, control-plane build; log: target/setup-lab-demo.log)" >&2
if ! wait "$lab"; then
  echo "demo: installing the lab failed:" >&2; cat target/setup-lab-demo.log >&2; exit 3
fi
"$BIN" lab install
phase "lab installed"
"$BIN" lab down --dir "$LAB" >/dev/null
"$BIN" lab up --dir "$LAB"
mesh_pid=""
cleanup() {
  if [ -n "$mesh_pid" ]; then kill "$mesh_pid" 2>/dev/null || true; wait "$mesh_pid" 2>/dev/null || true; fi
  "$BIN" lab down --dir "$LAB" || true
}
trap cleanup EXIT
"$BIN" lab crds --dir "$LAB"
"$MESH" --lab-dir "$LAB" --state "$LAB/meshlab.json" &
mesh_pid=$!
for _ in $(seq 1 100); do [ -s "$LAB/meshlab.json" ] && break; sleep 0.1; done
[ -s "$LAB/meshlab.json" ] || { echo "demo: the mesh emulator did not start" >&2; exit 3; }
port=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "$LAB/meshlab.json")
echo
echo "== scenario run playbooks/tutorial.yaml (lab in $LAB, ingress port $port)"
# The chapters in order: Access Policies starts from the state Traffic Management leaves.
status=0
KUBECONFIG="$LAB/kubeconfig" "$BIN" run playbooks/tutorial.yaml --var ingress_port="$port" "$@" || status=$?
exit "$status"
