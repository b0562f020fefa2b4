#!/usr/bin/env bash
set -euo pipefail
SCRIPT_DIR="$( cd "$( dirname "${BASH_SOURCE[0]}" )" && pwd )"
source "$SCRIPT_DIR/helpers.sh"

kustomize build "$TUTORIAL_HOME/gloo-mesh/gateway" | envsubst | kubectl --context="${MGMT}" apply -f -
