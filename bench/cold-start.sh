#!/usr/bin/env bash
# Benchmark: the front door on a machine with nothing installed: `make demo`, then
# `make test` (as CI runs it, `.ci/run`), on a clean clone. It makes this machine look
# new first, which is DESTRUCTIVE for the machine (run it on a throwaway one, as CI
# machines are): it removes the Debian packages the project installs (and apt's
# download cache), the PyPI and npm tools and their caches, and uses an empty cargo
# home (crates are downloaded again) and an empty lab cache (the control plane is
# built again). Writes bench/results/cold-start.md.
#
#   bench/cold-start.sh [WORKDIR]      (default /tmp/cold)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
W="${1:-/tmp/cold}"
rm -rf "$W"; mkdir -p "$W"
git clone -q "$REPO" "$W/scenario"
# The clone reads the shared docs next to it, as the main checkout does.
[ -e "$REPO/../shared" ] && ln -s "$(cd "$REPO/../shared" && pwd)" "$W/shared"

echo "[cold] removing what the project installs" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get remove --purge -y -qq etcd-server etcd-client golang-go 'golang-1.19*' golang-src \
  golang-github-modern-go-reflect2-dev kubernetes-client chromium chromium-common \
  chromium-driver jq rsync >/dev/null 2>&1 || true
apt-get autoremove --purge -y -qq >/dev/null 2>&1 || true
apt-get clean
rm -f /etc/apt/sources.list.d/scenario-deb-src.sources
python3 -m pip uninstall -y -q junitparser jsonschema mkdocs-material mkdocs kubernetes-validate zensical \
  mkdocs-material-extensions pymdown-extensions >/dev/null 2>&1 || true
python3 -m pip cache purge >/dev/null 2>&1 || true
npm cache clean --force >/dev/null 2>&1 || true

export CARGO_HOME="$W/cargo"          # no crates downloaded yet
export SCENARIO_LAB_CACHE="$W/lab"    # no control-plane build yet
export PATH="$HOME/.cargo/bin:$PATH"  # the toolchain (rustup's proxies) stays
cd "$W/scenario"
t0=$(date +%s)
demo_status=0; make demo > "$W/demo.log" 2>&1 || demo_status=$?
t1=$(date +%s)
test_status=0; CI=true bash .ci/run > "$W/test.log" 2>&1 || test_status=$?
t2=$(date +%s)
mkdir -p "$REPO/bench/results"
{
  echo "Machine: $(nproc) cores; commit $(git rev-parse --short HEAD); $(date -u +%F)"
  echo
  echo "| command | exit | wall time |"
  echo "|---|---:|---:|"
  echo "| \`make demo\` | $demo_status | $((t1 - t0)) s |"
  echo "| \`make test\` (\`.ci/run\`) | $test_status | $((t2 - t1)) s |"
  echo "| together | | $((t2 - t0)) s ($(( (t2 - t0) / 60 )) min $(( (t2 - t0) % 60 )) s) |"
  echo
  echo "Phases (seconds since each command started; the installs run beside the Rust build):"
  echo
  grep -h '^\[\(demo\|test\|lab\) +' "$W/demo.log" "$W/scenario/target/setup-lab-demo.log" "$W/scenario/target/setup-lab-test.log" "$W/test.log" 2>/dev/null | sed 's/^/    /' || true
  echo
  tail -3 "$W/test.log" | sed 's/^/    /'
} > "$REPO/bench/results/cold-start.md"
cat "$REPO/bench/results/cold-start.md"
