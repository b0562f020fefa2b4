#!/usr/bin/env bash
set -euo pipefail

if [ -z "${1:-}" ]; then
  echo "usage: $0 <kube context>" >&2
  exit 1
fi

CONTEXT="$1"
INGRESS_IP=$(kubectl --context="$CONTEXT" -n istio-system get svc istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}')

if [ "$(uname -s)" = "Darwin" ]; then
  open "http://$INGRESS_IP:${INGRESS_PORT:-80}/"
else
  xdg-open "http://$INGRESS_IP:${INGRESS_PORT:-80}/"
fi
