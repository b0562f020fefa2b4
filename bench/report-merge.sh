#!/usr/bin/env bash
# Benchmark: `scenario report merge` of 1,000 shard reports of 50 playbooks
# each (3 steps a playbook, one playbook in 20 failing with a check), as an
# Indexed Job of 1,000 pods leaves them. Goal: under 2 s and under 200 MB
# peak RSS. Writes bench/results/report-merge.md, which BENCHMARKS.md quotes.
#
#   bench/report-merge.sh                                  # release build
#   SCENARIO_BIN=target/debug/scenario bench/report-merge.sh   # any binary
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${SCENARIO_BIN:-}" ]]; then
  cargo build --release --locked -q
  SCENARIO_BIN=${CARGO_TARGET_DIR:-target}/release/scenario
fi
SHARDS=${SHARDS:-1000}
PER_SHARD=${PER_SHARD:-50}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
python3 - "$TMP/reports" "$SHARDS" "$PER_SHARD" <<'PY'
import json, os, sys
out, shards, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
def outcome(status, checks):
    return {"cluster": "cluster1", "status": status, "message": f"{status}: applied 2 objects",
            "details": ["ConfigMap default/settings unchanged"], "duration": 0.25,
            "captures": {}, "data": None, "checks": checks}
for s in range(1, shards + 1):
    books = []
    for k in range(per):
        n = (s - 1) * per + k
        failing = n % 20 == 0
        path = f"playbooks/chapter-{n:05d}.yaml"
        check = [{"location": {"file": path, "line": 12, "column": 7}, "check": "$.data.mode equals fast", "passed": False,
                  "expected": "fast", "actual": "slow"}] if failing else []
        steps = [{"name": f"step-{i}", "kind": "wait" if i == 2 else "apply",
                  "status": "failed" if failing and i == 2 else "passed", "duration": 1.5 + i,
                  "attempts": 1, "outcomes": [outcome("failed" if failing and i == 2 else "passed",
                                                      check if i == 2 else [])], "finally": False}
                 for i in range(3)]
        books.append({"name": f"chapter-{n:05d}", "path": path,
                      "status": "failed" if failing else "passed", "interrupted": False,
                      "duration": 7.5, "steps": steps, "digest": f"{n:064x}",
                      "files": [{"path": path, "sha256": f"{n:064x}"}]})
    report = {"schemaVersion": 3, "tool": "scenario 0.1.0", "status": "failed", "exitCode": 1,
              "durationSeconds": 7.5 * per, "startedAt": 1795000000.0 + s,
              "shard": {"index": s, "count": shards}, "merged": None, "playbooks": books}
    with open(f"{out}/shard-{s:04d}-of-{shards}.json", "w") as f:
        json.dump(report, f, indent=2)
PY
BYTES=$(du -sb "$TMP/reports" | cut -f1)
measure() { # label, args... -> a table row
  local label=$1; shift
  local status=0
  /usr/bin/time -f '%e %M' -o "$TMP/time" "$SCENARIO_BIN" report merge "$TMP/reports" "$@" \
    --expect-shards "$SHARDS" >"$TMP/stdout" 2>"$TMP/stderr" || status=$?
  read -r secs kib < <(tail -1 "$TMP/time")
  printf '| %s | %s | %s s | %s MiB |\n' "$label" "$status" "$secs" "$((kib / 1024))"
}
OUT=bench/results/report-merge.md
mkdir -p bench/results
{
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; commit $(git rev-parse --short HEAD); binary $SCENARIO_BIN"
  echo
  echo "Command: \`bench/report-merge.sh\` ($SHARDS shard reports of $PER_SHARD playbooks, 3 steps each; $((BYTES / 1024 / 1024)) MiB of JSON; /usr/bin/time for wall time and peak RSS; exit 1: the generated runs have failures)"
  echo
  echo "| merge | exit | wall time | peak RSS |"
  echo "|:---|---:|---:|---:|"
  measure "-o merged.json" -o "$TMP/merged.json"
  measure "-o merged.json --junit merged.xml --html merged.html" -o "$TMP/merged.json" --junit "$TMP/merged.xml" --html "$TMP/merged.html"
} > "$OUT"
head -1 "$TMP/stdout" >&2; head -3 "$TMP/stderr" >&2
cat "$OUT"
