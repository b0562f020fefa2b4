#!/usr/bin/env bash
# `make fuzz`: a coverage-guided campaign (cargo-fuzz: libFuzzer + AddressSanitizer)
# of each fuzz target for SECONDS, seeded with the project's own playbooks,
# manifests, templates and JSONPaths. On stable Rust, RUSTC_BOOTSTRAP=1 lets
# cargo-fuzz pass -Zsanitizer=address (the ASan runtime ships with the toolchain).
# Writes bench/results/fuzz.md; an input that crashes, hangs (-timeout) or runs
# out of memory (-rss_limit_mb) is left in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-300}"
# FUZZ_RUNS=N stops each target after N executions (whichever of time and runs comes first).
RUNS_FLAG=()
if [ -n "${FUZZ_RUNS:-}" ]; then RUNS_FLAG=(-runs="$FUZZ_RUNS"); fi
TARGETS="${FUZZ_TARGETS:-load template template_rewrite jsonpath docs condition substitute}"
export RUSTC_BOOTSTRAP=1
# FUZZ_SANITIZER=address (cargo-fuzz's default) or none: the engine is safe Rust,
# so `none` trades memory-error detection in dependencies for 2-3x the executions.
SAN="${FUZZ_SANITIZER:-none}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

corpus=fuzz/corpus
mkdir -p "$corpus"/{load,docs,template,template_rewrite,jsonpath,condition,substitute}
# Playbooks (valid and invalid) seed the loader and the docs renderer.
while IFS= read -r f; do
  cp "$f" "$corpus/load/$(echo "$f" | tr '/' '_')"
  cp "$f" "$corpus/docs/$(echo "$f" | tr '/' '_')"
done < <(find playbooks examples tests/invalid tests/playbooks tests/fixtures -name '*.yaml' -size -64k)
# Manifest files and every templated line seed the template target.
while IFS= read -r f; do cp "$f" "$corpus/template/$(echo "$f" | tr '/' '_')"; done \
  < <(find playbooks tests -path '*manifests*' -name '*.yaml' -size -64k)
grep -rhoE '\{[{%][^\n]*[}%]\}' playbooks tests docs 2>/dev/null | sort -u | head -500 \
  | awk -v d="$corpus/template" '{ f = d "/line-" NR; print > f; close(f) }'
# The same lines, and the differential unit test's templates, seed the rewrite's target.
cp "$corpus"/template/line-* "$corpus/template_rewrite/" 2>/dev/null || true
python3 - "$corpus/template_rewrite" <<'PY'
import re, sys
src = open("src/language/template_bound_tests.rs").read()
for i, t in enumerate(re.findall(r'^    "((?:[^"\\]|\\.)*)",$', src, re.M)):
    open(f"{sys.argv[1]}/unit-{i}", "w").write(bytes(t, "utf-8").decode("unicode_escape"))
PY
# JSONPaths written in playbooks, tests and docs seed the JSONPath target.
grep -rhoE '\$[.\[][^ ,}"'"'"'`]*' playbooks tests docs src 2>/dev/null | sort -u | head -500 \
  | awk -v d="$corpus/jsonpath" '{ f = d "/path-" NR; printf "%s", $0 > f; close(f) }'

# Every `when:` expression seeds the condition target; every file with a
# `${...}` placeholder seeds the substitution target.
grep -rhoE '^\s*(- )?when: .*' playbooks tests docs 2>/dev/null | sed -E 's/^\s*(- )?when: //; s/^"(.*)"$/\1/' \
  | sort -u | head -500 | awk -v d="$corpus/condition" '{ f = d "/when-" NR; printf "%s", $0 > f; close(f) }'
grep -rlE '\$\{[A-Za-z_]' playbooks tests docs examples 2>/dev/null | grep -E '\.(yaml|yml|md)$' | head -200 \
  | while IFS= read -r f; do { echo "value"; cat "$f"; } > "$corpus/substitute/$(echo "$f" | tr '/' '_')"; done

cargo fuzz build -O -s "$SAN" --fuzz-dir fuzz >/dev/null
# The targets run from their binaries: a source edit during a campaign does not rebuild them.
BIN_DIR="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"
out=bench/results/fuzz.md
mkdir -p bench/results
{
  echo "Command: \`make fuzz FUZZ_SECONDS=$SECONDS_PER_TARGET${FUZZ_RUNS:+ FUZZ_RUNS=$FUZZ_RUNS}\` (sanitizer: $SAN) ($(date -u +%F), $(nproc) cores, $(rustc --version))"
  echo
  echo "| target | seconds | executions | exec/s | coverage (cov) | features (ft) | corpus | crashes, hangs, OOMs |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} > "$out"
for t in $TARGETS; do
  mkdir -p "fuzz/artifacts/$t"
  log="fuzz/artifacts/$t.log"
  status=0
  "$BIN_DIR/$t" "$corpus/$t" -artifact_prefix="fuzz/artifacts/$t/" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 "${RUNS_FLAG[@]}" >"$log" 2>&1 || status=$?
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  rate=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
  last=$(grep -E '#[0-9]+.*(DONE|REDUCE|NEW|pulse)' "$log" | tail -1)
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | awk '{print $2}')
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | awk '{print $2}')
  units=$(echo "$last" | grep -oE 'corp: [0-9]+' | awk '{print $2}')
  found=$(find "fuzz/artifacts/$t" -type f -name '*-*' | wc -l)
  took=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | awk '{print $5}')
  echo "| $t | ${took:-$SECONDS_PER_TARGET} | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${units:-?} | $found |" >> "$out"
  if [ "$status" != 0 ] || [ "$found" != 0 ]; then
    echo "fuzz: $t found a problem (exit $status); see $log and fuzz/artifacts/$t" >&2
    tail -30 "$log" >&2
  fi
done
cat "$out"
