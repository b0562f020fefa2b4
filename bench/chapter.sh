#!/usr/bin/env bash
# Benchmark: the chapter's wall time, `scenario run` vs the same steps the
# seed's way (bench/chapter-shell.sh), on the same lab and mesh emulator, in
# one run (3 rounds, alternating; the emulator restarts before each run for a
# clean start). Writes bench/results/chapter.md.
#   bench/chapter.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q --bin scenario --example meshlab
BIN=target/release/scenario; MESH=target/release/examples/meshlab
LAB=$(mktemp -d)/lab
"$BIN" lab up --dir "$LAB" >/dev/null; "$BIN" lab crds --dir "$LAB" >/dev/null
mesh_pid=""
stop_mesh() { if [ -n "$mesh_pid" ]; then kill "$mesh_pid" 2>/dev/null || true; wait "$mesh_pid" 2>/dev/null || true; fi; mesh_pid=""; }
trap 'stop_mesh; "$BIN" lab down --dir "$LAB" >/dev/null' EXIT
start_mesh() {
  rm -f "$LAB/m.json"; "$MESH" --lab-dir "$LAB" --state "$LAB/m.json" 2>/dev/null & mesh_pid=$!
  for _ in $(seq 1 100); do [ -s "$LAB/m.json" ] && break; sleep 0.1; done
  PORT=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "$LAB/m.json")
}
export KUBECONFIG="$LAB/kubeconfig"
s=(); b=()
for _ in 1 2 3; do
  start_mesh
  t0=$(date +%s.%N); "$BIN" run -q playbooks/traffic-management.yaml --var ingress_port="$PORT" >/dev/null; t1=$(date +%s.%N)
  s+=("$(echo "$t1 - $t0" | bc)"); stop_mesh
  start_mesh
  t0=$(date +%s.%N); INGRESS_PORT=$PORT bench/chapter-shell.sh >/dev/null; t1=$(date +%s.%N)
  b+=("$(echo "$t1 - $t0" | bc)"); stop_mesh
done
mean() { echo "$@" | tr ' ' '\n' | awk '{s+=$1} END {printf "%.2f", s/NR}'; }
ms=$(mean "${s[@]}"); mb=$(mean "${b[@]}")
{
  echo "Machine: $(nproc) cores; commit $(git rev-parse --short HEAD); same lab (3 API servers) and emulator for both; 3 rounds, alternating."
  echo
  echo "| runner | runs (s) | mean |"
  echo "|:---|:---|---:|"
  echo "| \`scenario run playbooks/traffic-management.yaml\` | ${s[*]} | ${ms} s |"
  echo "| \`bench/chapter-shell.sh\` (kubectl per command, poll loops, sleep 2 after each shift, 100 curls per check) | ${b[*]} | ${mb} s |"
  echo
  echo "scenario is $(echo "scale=1; $mb / $ms" | bc)x faster."
} > bench/results/chapter.md
cat bench/results/chapter.md
