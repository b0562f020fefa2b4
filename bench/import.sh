#!/usr/bin/env bash
# Benchmark: `scenario import` of a generated chapter of about 2,000 lines with
# 200 shell commands (kubectl apply/get/wait/patch, curl in loops, helm, scripts
# with sourced helpers, expected-output blocks, snippet includes), as a whole
# process: wall time and peak RSS. Goal: under 1 s. Writes bench/results/import.md,
# which BENCHMARKS.md includes.
#
#   bench/import.sh            # the release build (what the goal is about)
#   PROFILE=debug bench/import.sh   # the debug build (no release build needed)
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then
  cargo build --release --locked -q
fi
BIN=${CARGO_TARGET_DIR:-target}/$PROFILE/scenario
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
python3 - "$TMP" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(f"{d}/manifests", exist_ok=True)
os.makedirs(f"{d}/bin", exist_ok=True)
os.makedirs(f"{d}/includes", exist_ok=True)
open(f"{d}/includes/env.md", "w").write("```bash\nexport CLUSTER1=kind-east\nexport CLUSTER2=kind-west\n```\n")
open(f"{d}/bin/helpers.sh", "w").write("NS=bench\napply_one() {\n  kubectl --context=\"$CLUSTER1\" apply -n \"$NS\" -f \"manifests/$1.yaml\"\n}\n")
lines = ["---", "title: A long chapter", "---", "", '--8<-- "includes/env.md"', ""]
commands = 0
for s in range(20):
    open(f"{d}/manifests/m{s}.yaml", "w").write(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m{s}\ndata:\n  k: v\n")
    open(f"{d}/bin/step{s}.sh", "w").write(
        f"#!/usr/bin/env bash\nset -e\nsource \"$(dirname \"$0\")/helpers.sh\"\napply_one m{s}\n")
    lines += [f"## Section {s}", ""]
    lines += [f"Prose line {i} of section {s}, with `code` and a [link](x.md)." for i in range(60)]
    lines += ["", "```bash",
              f"kubectl --context=\"$CLUSTER1\" apply -n bench -f manifests/m{s}.yaml",
              f"kubectl --context=\"$CLUSTER2\" get cm m{s} -n bench",
              "```", "", "```text", "NAME   DATA   AGE", f"m{s}   1      5s", "```", "",
              "```bash",
              f"kubectl --context=\"$CLUSTER1\" wait --for=condition=Ready pod -l app=m{s} -n bench --timeout=60s",
              f"kubectl --context=\"$CLUSTER1\" rollout status deploy/m{s} -n bench",
              f"kubectl --context=\"$CLUSTER1\" label cm m{s} -n bench tier=bench",
              f"kubectl --context=\"$CLUSTER1\" patch cm m{s} -n bench --type merge -p '{{\"data\":{{\"k\":\"w\"}}}}'",
              f"export IP{s}=$(kubectl --context=\"$CLUSTER1\" get svc web -n bench -o jsonpath='{{.spec.clusterIP}}')",
              f"for i in {{1..10}}; do curl -s http://$IP{s}/api; done",
              f"bin/step{s}.sh",
              "helm list -A",
              "```", "", "```json", '{"color": "blue", "pod": "web-6c7f9b8d4-x2x5z"}', "```", ""]
    lines += [f"Closing line {i} of section {s}." for i in range(15)]
    lines.append("")
    commands += 10
open(f"{d}/chapter.md", "w").write("\n".join(lines) + "\n")
print(len(lines), commands, file=sys.stderr)
PY
OUT=bench/results/import.md
mkdir -p bench/results
LINES=$(wc -l < "$TMP/chapter.md")
{
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(uname -sr); commit $(git rev-parse --short HEAD); $PROFILE build"
  echo
  echo "Command: \`PROFILE=$PROFILE bench/import.sh\` (a generated chapter of $LINES lines, 200 commands, 20 scripts, an include; /usr/bin/time -v)"
  echo
  echo "| run | exit code | wall time | peak RSS | steps | typed |"
  echo "|:---|---:|---:|---:|---:|---:|"
  for run in 1 2 3 4 5; do
    /usr/bin/time -v "$BIN" import "$TMP/chapter.md" --root "$TMP" -o "$TMP/out.yaml" --report "$TMP/report.json" \
      2>"$TMP/time.txt" >/dev/null || true
    code=$(awk -F': ' '/Exit status/{print $2}' "$TMP/time.txt")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$TMP/time.txt")
    rss=$(awk -F': ' '/Maximum resident/{printf "%d MiB", $2/1024}' "$TMP/time.txt")
    steps=$(python3 -c "import json,sys; s=json.load(open('$TMP/report.json'))['summary']; print(s['steps'], str(s['typed_percent'])+'%')")
    echo "| $run | $code | $wall | $rss | ${steps% *} | ${steps#* } |"
  done
  "$BIN" validate "$TMP/out.yaml" >/dev/null && echo && echo "The imported playbook validates."
} > "$OUT"
cat "$OUT"
