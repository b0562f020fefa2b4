#!/usr/bin/env bash
# Helpers every script of the tutorial sources.
set -euo pipefail

: "${MGMT:?set MGMT to the context of the management cluster}"

GLOO_MESH_NAMESPACE=gloo-mesh
export GLOO_MESH_NAMESPACE

apply_policy() {
  kubectl --context="${MGMT}" apply -f "$TUTORIAL_HOME/mesh-files/traffic-policy/$1.yaml"
}
