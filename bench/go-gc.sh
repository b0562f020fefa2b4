#!/usr/bin/env bash
# Benchmark: the lab's control-plane build (kube-apiserver + kube-controller-manager,
# `providerless`, as lab/src/install.sh builds them) with the Go compiler's default
# garbage collection (GOGC=100) and as install.sh runs it (GOGC=off, GOMEMLIMIT=2GiB),
# each from an empty build cache, one after the other. Needs the lab's source tree
# (`scenario lab install` once). Writes bench/results/go-gc.md.
#
#   bench/go-gc.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/scenario/lab"
SRC="$(find "$CACHE/src" -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
[ -n "$SRC" ] || { echo "no control-plane source under $CACHE/src: run scenario lab install first" >&2; exit 2; }
KROOT="$SRC/.go/src/k8s.io/kubernetes"
export GOPATH="$SRC/.go" GO111MODULE=off CGO_ENABLED=0 HOME="$CACHE/home"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
out=bench/results/go-gc.md
{
  echo "Machine: $(nproc) cores; commit $(git rev-parse --short HEAD); $(date -u +%F)"
  echo
  echo "| GC setting | wall | CPU (user + sys) | largest process |"
  echo "|---|---:|---:|---:|"
} >"$out"
for setting in "GOGC=100" "GOGC=off GOMEMLIMIT=2GiB"; do
  rm -rf "$W/cache" "$W/out"; mkdir -p "$W/out"
  (cd "$KROOT" && env $setting GOCACHE="$W/cache" /usr/bin/time -f "%e %U %S %M" -o "$W/time" \
    go build -tags providerless -ldflags "-s -w -buildid=" -o "$W/out/" \
    ./cmd/kube-apiserver ./cmd/kube-controller-manager)
  read -r wall user sys rss <"$W/time"
  printf '| `%s` | %.0f s | %.0f CPU-s | %.1f GB |\n' "$setting" "$wall" \
    "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1000000" | bc -l)" >>"$out"
done
cat "$out"
