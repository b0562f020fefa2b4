#!/usr/bin/env bash
# Benchmark: templates that build far more than they render, side by side with
# a baseline binary in one run (exit code, wall time, peak RSS of `validate`,
# which renders every manifest whose values are known). Writes
# bench/results/template-bounds.md, which BENCHMARKS.md quotes.
#
#   SCENARIO_BASELINE=/path/to/old/scenario bench/template-bounds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
NEW=target/release/scenario
OLD="${SCENARIO_BASELINE:?set SCENARIO_BASELINE to the binary to compare with}"
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
# One playbook per template, each an inline ConfigMap value.
cases=(
  "repeat then concat (the issue's case)|{% set s = 'x' * 99999999 %}{{ s ~ s ~ s }}"
  "doubling in a loop|{% set n = namespace(s='ab') %}{% for i in range(64) %}{% set n.s = n.s ~ n.s %}{% endfor %}{{ n.s | length }}"
  "join with a long separator|{{ range(100000) | join('-' * 4000) | length }}"
  "format width|{{ '%999999999s' | format('a') }}"
  "captured loop|{% set big = 'y' * 1000000 %}{% set all %}{% for i in range(900) %}{{ big }}{% endfor %}{% endset %}{{ all | length }}"
  "macro doubling its output|{% macro twice(n) %}{% if n > 0 %}{{ twice(n - 1) }}{{ twice(n - 1) }}{% else %}{{ 'z' * 1000 }}{% endif %}{% endmacro %}{{ twice(40) | length }}"
  "list repeated|{{ ([1] * 99999999) | list | length }}"
  "replace empty|{{ ('x' * 1000000) | replace('', '-' * 100) | length }}"
)
OUT=bench/results/template-bounds.md
mkdir -p bench/results
measure() { # binary file -> "exit|seconds|KiB"
  local status=0
  /usr/bin/time -f '%e %M' -o "$TMP/time" timeout 120 "$1" validate "$2" >/dev/null 2>&1 || status=$?
  read -r secs kib < <(tail -1 "$TMP/time")
  echo "$status|$secs|$kib"
}
{
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; commit $(git rev-parse --short HEAD)"
  echo
  echo "Command: \`SCENARIO_BASELINE=... bench/template-bounds.sh\` (release builds; \`validate\` of a playbook with one inline manifest value; /usr/bin/time for peak RSS; exit 124 = killed after 120 s)"
  echo
  echo "| template | baseline: exit, time, peak RSS | now: exit, time, peak RSS |"
  echo "|:---|---:|---:|"
  for c in "${cases[@]}"; do
    name=${c%%|*}; tmpl=${c#*|}
    f="$TMP/case.yaml"
    python3 - "$f" "$tmpl" <<'PY'
import sys, json
open(sys.argv[1], "w").write(
    "name: t\nclusters:\n  c1: {}\nsteps:\n  - name: s\n    clusters: c1\n    apply:\n      inline: |\n"
    "        apiVersion: v1\n        kind: ConfigMap\n        metadata: { name: big }\n        data:\n"
    f"          x: {json.dumps(sys.argv[2])}\n")
PY
    IFS='|' read -r os ot om < <(measure "$OLD" "$f")
    IFS='|' read -r ns nt nm < <(measure "$NEW" "$f")
    printf '| %s | %s, %s s, %s MiB | %s, %s s, %s MiB |\n' "$name" "$os" "$ot" "$((om / 1024))" "$ns" "$nt" "$((nm / 1024))"
  done
} > "$OUT"
cat "$OUT"
