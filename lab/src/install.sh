#!/usr/bin/env bash
# Installs what the local lab needs and builds kube-apiserver + kube-controller-manager
# from Debian's `kubernetes` source package (1.20), caching the binaries outside the repo.
#
#   scripts/lab-install.sh          install/build if needed, print the bin directory
#
# Lookup order (first complete set wins, nothing is built then):
#   1. $KUBEBUILDER_ASSETS (envtest convention: a directory with etcd and kube-apiserver;
#      kube-controller-manager is used from there too when present)
#   2. the cache: ${SCENARIO_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scenario/lab}/bin
#   3. binaries already on PATH
# Otherwise it installs Debian packages (etcd-server, golang-go, rsync, jq, reflect2) and builds into the cache.
set -euo pipefail

CACHE="${SCENARIO_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scenario/lab}"
BIN="$CACHE/bin"
log() { printf '[lab-install] %s\n' "$*" >&2; }
die() { printf '[lab-install] error: %s\n' "$*" >&2; exit 1; }

have_set() { # dir -> all three binaries executable
  [ -x "$1/etcd" ] && [ -x "$1/kube-apiserver" ] && [ -x "$1/kube-controller-manager" ]
}

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/etcd" ] && [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ]; then
  log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
  echo "$KUBEBUILDER_ASSETS"; exit 0
fi

if [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] && command -v etcd >/dev/null 2>&1; then
  ln -sf "$(command -v etcd)" "$BIN/etcd"
  log "cached lab binaries found in $BIN"
  echo "$BIN"; exit 0
fi

if command -v kube-apiserver >/dev/null 2>&1 && command -v etcd >/dev/null 2>&1 && command -v kube-controller-manager >/dev/null 2>&1; then
  mkdir -p "$BIN"
  for b in etcd kube-apiserver kube-controller-manager; do ln -sf "$(command -v $b)" "$BIN/$b"; done
  log "using binaries from PATH"
  echo "$BIN"; exit 0
fi

[ "$(id -u)" = 0 ] || SUDO=sudo
SUDO="${SUDO:-}"
export DEBIAN_FRONTEND=noninteractive

log "installing Debian packages: etcd-server golang-go rsync jq golang-github-modern-go-reflect2-dev"
if ! dpkg -s etcd-server golang-go rsync jq golang-github-modern-go-reflect2-dev dpkg-dev >/dev/null 2>&1; then
  $SUDO apt-get update -qq || die "apt-get update failed"
  $SUDO apt-get install -y -qq --no-install-recommends etcd-server golang-go rsync jq \
    golang-github-modern-go-reflect2-dev dpkg-dev >/dev/null || die "apt-get install failed"
fi
# etcd-server's package starts a system etcd on 2379; the lab runs its own on other ports.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now etcd >/dev/null 2>&1 || true; fi

SRC_ROOT="$CACHE/src"
mkdir -p "$SRC_ROOT" "$BIN"
SRC="$(find "$SRC_ROOT" -maxdepth 1 -type d -name 'kubernetes-*' | head -n1 || true)"
if [ -z "$SRC" ]; then
  SRCLIST=/etc/apt/sources.list.d/scenario-deb-src.sources
  if [ ! -f "$SRCLIST" ]; then
    log "adding a deb-src entry ($SRCLIST)"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | $SUDO tee "$SRCLIST" >/dev/null
    $SUDO apt-get update -qq || die "apt-get update (deb-src) failed"
  fi
  log "downloading the kubernetes source package (34 MB)"
  (cd "$SRC_ROOT" && apt-get source --download-only kubernetes >/dev/null 2>&1) || {
    $SUDO apt-get update -qq; (cd "$SRC_ROOT" && apt-get source --download-only kubernetes >/dev/null) || die "apt-get source kubernetes failed"; }
  ORIG="$(ls "$SRC_ROOT"/kubernetes_*.orig.tar.* | head -n1)" || die "no .orig tarball downloaded"
  log "unpacking $(basename "$ORIG")"
  tmp="$SRC_ROOT/unpack.$$"; mkdir -p "$tmp"
  tar -xf "$ORIG" -C "$tmp"
  top="$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)"
  mv "$top" "$SRC_ROOT/kubernetes-src"; rmdir "$tmp"
  SRC="$SRC_ROOT/kubernetes-src"
fi

# The vendored reflect2 1.0.1 crashes under Go >= 1.18: swap in Debian's 1.0.2.
R2=/usr/share/gocode/src/github.com/modern-go/reflect2
if [ ! -f "$SRC/vendor/github.com/modern-go/reflect2/.scenario-patched" ]; then
  log "replacing vendored reflect2 with Debian's $R2"
  rm -rf "$SRC/vendor/github.com/modern-go/reflect2"
  cp -r "$R2" "$SRC/vendor/github.com/modern-go/reflect2"
  rm -f "$SRC/vendor/github.com/modern-go/reflect2/go.mod"
  touch "$SRC/vendor/github.com/modern-go/reflect2/.scenario-patched"
fi

mkdir -p "$SRC/.go/src/k8s.io" "$CACHE/home"
ln -sfn "$SRC" "$SRC/.go/src/k8s.io/kubernetes"
KROOT="$SRC/.go/src/k8s.io/kubernetes"
export GOPATH="$SRC/.go" GO111MODULE=off CGO_ENABLED=0 HOME="$CACHE/home" GOCACHE="$CACHE/gocache"
# The Go compiler spends much of its CPU time collecting garbage at the default GOGC=100.
# Collecting only near a memory limit instead cut the build of both binaries from 312 to
# 251 CPU-s (-20%; the largest compiler or linker process peaked at 1.0 GB instead of
# 0.8 GB); the limit keeps a machine with little memory safe (BENCHMARKS.md, "Cold start").
export GOGC=off GOMEMLIMIT=2GiB

# The source package ships every generated file but one: the OpenAPI definitions of the
# built-in types. Kubernetes' `make` runs all six generators over the whole tree (about
# 100 s on 2 cores); running only openapi-gen over the packages that ask for it (the same
# inputs as Makefile.generated_files' KUBE target) writes the same file in about 20 s.
generate_openapi() {
  local out=pkg/generated/openapi/zz_generated.openapi.go dirs
  [ -f "$KROOT/$out" ] && return 0
  log "generating $out"
  (
    cd "$KROOT"
    dirs=$(find -H . \( -path './_*' -o -path './.*' -o -path ./vendor \) -prune -o -type f -name '*.go' -print \
      | sed 's|^./staging/src|vendor|; s|/[^/]*$||; s|^./||' | LC_ALL=C sort -u)
    dirs=$(for d in $dirs; do ls "$d"/*.go; done | xargs grep -l '^// *+k8s:' | xargs grep -l '+k8s:openapi-gen=' \
      | grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' \
      | xargs -n1 dirname | LC_ALL=C sort -u | sed 's|^|k8s.io/kubernetes/|' | paste -sd, -)
    go build -o "$CACHE/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
    "$CACHE/openapi-gen" --logtostderr -i "$dirs" -p k8s.io/kubernetes/pkg/generated/openapi \
      -O zz_generated.openapi -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
      -r "$CACHE/openapi-violations.report"
  )
}

# Both binaries in one `go build`: Go compiles the packages they share once and links one
# binary while it still compiles for the other. The link flags are those of Kubernetes' own
# build (hack/lib/golang.sh): no symbol tables, and the version from the source archive.
# `providerless` leaves out the in-tree cloud providers (AWS, Azure, GCE, OpenStack,
# vSphere SDKs), which a control plane on loopback never calls.
todo=()
for what in kube-apiserver kube-controller-manager; do
  [ -x "$BIN/$what" ] || todo+=("./cmd/$what")
done
if [ ${#todo[@]} -gt 0 ]; then
  log "building ${todo[*]} (the first build takes about 4 minutes on 2 cores; log: $CACHE/build.log)"
  start=$(date +%s)
  if ! { generate_openapi && (
      cd "$KROOT"
      version_flags=$(KUBE_ROOT="$KROOT" KUBE_GO_PACKAGE=k8s.io/kubernetes; . hack/lib/version.sh; kube::version::ldflags)
      mkdir -p "$CACHE/out"
      go build -tags providerless -ldflags "-s -w -buildid= $version_flags" -o "$CACHE/out/" "${todo[@]}"
    ); } >"$CACHE/build.log" 2>&1; then
    tail -n 30 "$CACHE/build.log" >&2
    die "building ${todo[*]} failed (full log: $CACHE/build.log)"
  fi
  for t in "${todo[@]}"; do
    what=${t#./cmd/}
    cp "$CACHE/out/$what" "$BIN/$what.tmp" && mv "$BIN/$what.tmp" "$BIN/$what"
  done
  log "built ${todo[*]} in $(( $(date +%s) - start ))s"
fi
ln -sf "$(command -v etcd)" "$BIN/etcd"
log "lab binaries ready in $BIN"
echo "$BIN"
