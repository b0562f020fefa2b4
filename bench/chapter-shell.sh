#!/usr/bin/env bash
# The chapter "the seed's way", for the benchmark baseline: kubectl per
# command, polling loops, `sleep` after each traffic shift, and a curl loop
# of 100 calls per check (each class within ±10, like Istio's own tests).
#   KUBECONFIG=... INGRESS_PORT=80 bench/chapter-shell.sh
set -euo pipefail
MGMT=mgmt CLUSTER1=cluster1 CLUSTER2=cluster2
k() { kubectl "$@"; }
for c in $CLUSTER1 $CLUSTER2; do
  k --context=$c -n blue-green-canary delete gateway.networking.istio.io/bgc-gateway virtualservice.networking.istio.io/blue-green-canary --wait=true
  k --context=$c get vs,gw -n istio-system
done
k --context=$MGMT apply -f - <<'YAML'
apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
kind: VirtualGateway
metadata: { name: bgc-virtualgateway, namespace: gloo-mesh }
spec:
  connectionHandlers: [{ http: { routeConfig: [{ virtualHostSelector: { namespaces: [gloo-mesh] } }] } }]
  ingressGatewaySelectors:
    - portName: http2
      destinationSelectors: [{ kubeServiceMatcher: { clusters: [cluster1, cluster2], labels: { istio: ingressgateway }, namespaces: [istio-system] } }]
---
apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
kind: VirtualHost
metadata: { name: bgc-virtualhost, namespace: gloo-mesh }
spec:
  domains: ["*"]
  routes: [{ matchers: [{ uri: { prefix: / } }], delegateAction: { selector: { namespaces: [gloo-mesh] } } }]
---
apiVersion: networking.enterprise.mesh.gloo.solo.io/v1beta1
kind: RouteTable
metadata: { name: blue-green-canary, namespace: gloo-mesh }
spec:
  routes: [{ name: blue-green-canary, matchers: [{ uri: { prefix: / } }], routeAction: { destinations: [{ kubeService: { clusterName: cluster1, name: blue-green-canary, namespace: blue-green-canary } }] } }]
YAML
for c in $CLUSTER1 $CLUSTER2; do
  until k --context=$c get gw -n istio-system -o name | grep -q bgc-virtualgateway-; do sleep 1; done
  gw=$(k --context=$c get gw -n istio-system -o name | grep bgc-virtualgateway- | cut -d/ -f2)
  until [ "$(k --context=$c get vs bgc-virtualhost-gloo-mesh -n gloo-mesh -o jsonpath='{.spec.gateways[0]} {.spec.hosts[0]}' 2>/dev/null)" = "istio-system/$gw *" ]; do sleep 1; done
done
IP=$(k --context=$CLUSTER1 get svc istio-ingressgateway -n istio-system -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
URL="http://$IP:${INGRESS_PORT:-80}/api"
# check "blue=40 green=40 yellow=20": 100 calls, each class within ±10.
check() {
  local out; out=$(for _ in $(seq 1 100); do curl -s "$URL"; echo; done | grep -o '"color":"[a-z]*"' | sort | uniq -c)
  for want in "$@"; do
    color=${want%=*}; pct=${want#*=}
    n=$(echo "$out" | awk -v c="\"color\":\"$color\"" '$2==c{print $1}'); n=${n:-0}
    if [ $((n - pct)) -gt 10 ] || [ $((pct - n)) -gt 10 ]; then echo "FAILED: $color $n% (expected $pct%)"; echo "$out"; exit 1; fi
  done
  echo "ok: $*"
}
policy() { # version=weight ...
  local dests=""
  for vw in "$@"; do
    v=${vw%=*}; w=${vw#*=}
    case $v in blue) cl=cluster1 ns=blue-green-canary;; green) cl=cluster2 ns=blue-green-canary;; canary) cl=cluster1 ns=vm-blue-green-canary;; esac
    dests="$dests{ kubeService: { clusterName: $cl, name: blue-green-canary, namespace: $ns, subset: { version: $v } }, weight: $w },"
  done
  k --context=$MGMT apply -f - <<YAML
apiVersion: networking.mesh.gloo.solo.io/v1
kind: TrafficPolicy
metadata: { name: blue-green-canary, namespace: gloo-mesh }
spec:
  destinationSelector: [{ kubeServiceRefs: { services: [{ clusterName: cluster1, name: blue-green-canary, namespace: blue-green-canary }] } }]
  routeSelector: [{ virtualHostSelector: { namespaces: [gloo-mesh] } }, { routeTableSelector: { namespaces: [gloo-mesh] } }]
  policy: { trafficShift: { destinations: [${dests%,}] } }
YAML
  sleep 2  # let the mesh converge
}
check blue=100
policy green=100; check green=100
policy canary=100; check yellow=100
policy blue=50 green=50; check blue=50 green=50
policy blue=40 green=40 canary=20; check blue=40 green=40 yellow=20
