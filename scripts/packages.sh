#!/usr/bin/env bash
# The Debian packages `make demo` (`demo`) or `make test` (`test`) needs, installed in
# one apt-get run: the scripts that use them run side by side, and two apt-get runs
# at once would fight over dpkg's lock.
#   demo: the lab (etcd, Go and what the Kubernetes build needs) and kubectl
#         (`kustomize:` directories)
#   test: the same, and Chromium for the browser tests
set -euo pipefail
want=(etcd-server golang-go rsync jq golang-github-modern-go-reflect2-dev dpkg-dev)
# kubectl and Chromium from anywhere will do (a kubectl installed by hand is newer than
# Debian's, and its package would collide with it).
command -v kubectl >/dev/null 2>&1 || want+=(kubernetes-client)
[ "${1:-demo}" = test ] && ! command -v chromium >/dev/null 2>&1 && want+=(chromium)
missing=()
for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "[packages] installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
