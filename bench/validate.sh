#!/usr/bin/env bash
# Benchmark: validating playbooks as a whole process (time and peak RSS),
# including the hostile inputs. Writes bench/results/validate.md, which
# BENCHMARKS.md includes.
#
#   bench/validate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --locked -q
BIN=target/release/scenario
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
python3 - "$TMP" <<'PY'
import sys, os
d = sys.argv[1]
lol = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
prev = "a"
for n in "bcdefghi":
    lol += f"{n}: &{n} [" + ",".join(["*" + prev] * 9) + "]\n"; prev = n
open(f"{d}/alias-bomb.yaml", "w").write(lol)
open(f"{d}/deep-nesting.yaml", "w").write("name: " + "[" * 100000 + "]" * 100000 + "\n")
open(f"{d}/huge.yaml", "w").write("name: t\nsteps:\n" + "  - name: x\n    sleep: 1s\n" * 300000)
open(f"{d}/garbage.yaml", "wb").write(bytes(range(256)) * 4000)
open(f"{d}/big-valid.yaml", "w").write("name: t\nsteps:\n" + "".join(f"  - name: s{i}\n    sleep: 1s\n" for i in range(5000)))
PY
OUT=bench/results/validate.md
mkdir -p bench/results
{
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(uname -sr); commit $(git rev-parse --short HEAD)"
  echo
  echo "Command: \`bench/validate.sh\` (release build, hyperfine -N --warmup 5, /usr/bin/time -v for peak RSS)"
  echo
  hyperfine -N --warmup 5 --min-runs 30 --style none --export-markdown "$TMP/h.md" \
    -n 'baseline: scenario --version (process start)' "$BIN --version" \
    -n 'validate playbooks/traffic-management.yaml' "$BIN validate playbooks/traffic-management.yaml" \
    -n 'plan playbooks/traffic-management.yaml' "$BIN plan playbooks/traffic-management.yaml" >/dev/null
  cat "$TMP/h.md"
  echo
  echo "| input | exit code | wall time | peak RSS |"
  echo "|:---|---:|---:|---:|"
  for f in playbooks/traffic-management.yaml "$TMP/big-valid.yaml" "$TMP/alias-bomb.yaml" "$TMP/deep-nesting.yaml" "$TMP/huge.yaml" "$TMP/garbage.yaml"; do
    code=0
    /usr/bin/time -f '%e %M' -o "$TMP/t" "$BIN" validate "$f" >/dev/null 2>&1 || code=$?
    read -r secs kb < <(tail -n 1 "$TMP/t")
    name=$(basename "$f"); [ "$f" = playbooks/traffic-management.yaml ] && name=$f
    [ "$name" = big-valid.yaml ] && name="big-valid.yaml (5000 steps)"
    echo "| $name | $code | ${secs} s | $((kb / 1024)) MiB |"
  done
} >"$OUT"
cat "$OUT"
