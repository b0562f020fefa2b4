#!/usr/bin/env bash
# Benchmark: `validate`, `plan` and `docs` of a generated 5,000-step playbook
# (apply, wait with a capture, probe with a condition, get with a capture,
# patch using a capture: 2,000 captures in all), against a baseline binary.
# Prints a Markdown table of the median wall time of 5 runs of each (release builds).
#
#   bench/big-playbook.sh BASELINE_BIN [NEW_BIN] [STEPS]
#
# The baseline of BENCHMARKS.md is main before issue 20 (95f70c3):
#   git worktree add /tmp/base 95f70c3 && (cd /tmp/base && cargo build --release)
#   bench/big-playbook.sh /tmp/base/target/release/scenario
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="$1"
NEW="${2:-target/release/scenario}"
STEPS="${3:-5000}"
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
python3 bench/gen-big-playbook.py "$TMP/big.yaml" "$STEPS"
median() { # command...: median wall seconds of 5 runs
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f %e "$@" >/dev/null 2>>"$TMP/t" || true
    tail -1 "$TMP/t"
  done | sort -n | sed -n 3p
}
echo "| command ($STEPS steps) | main before (95f70c3) | this change |"
echo "|---|---:|---:|"
for c in validate plan docs; do
  echo "| \`scenario $c big.yaml\` | $(median "$BASE" "$c" "$TMP/big.yaml") s | $(median "$NEW" "$c" "$TMP/big.yaml") s |"
done
