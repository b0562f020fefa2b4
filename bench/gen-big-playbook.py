#!/usr/bin/env python3
"""Writes a playbook of N steps (default 5000) that uses every common step kind
with templates, captures and conditions, for bench/big-playbook.sh."""
import sys

n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
out = [
    "name: big",
    "clusters:",
    "  c1: {}",
    "  c2: {}",
    "vars:",
    "  ns: demo",
    "  mode: fast",
    "steps:",
]
for i in range(n):
    k = i % 5
    if k == 0:
        out += [
            f"  - name: apply-{i}",
            "    clusters: [c1, c2]",
            "    apply:",
            "      inline: |",
            "        apiVersion: v1",
            "        kind: ConfigMap",
            "        metadata:",
            f"          name: cm-{i}",
            "          namespace: \"{{ ns }}\"",
            "        data:",
            "          mode: \"{{ mode }}\"",
        ]
    elif k == 1:
        out += [
            f"  - name: wait-{i}",
            "    clusters: c1",
            "    wait:",
            f"      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: \"{{{{ ns }}}}\", name: cm-{i - 1} }}",
            "      jsonpath:",
            "        - { path: $.data.mode, equals: \"{{ mode }}\" }",
            f"      capture: {{ uid_{i}: $.metadata.uid }}",
        ]
    elif k == 2:
        out += [
            f"  - name: probe-{i}",
            f"    when: \"mode == 'fast' and uid_{i - 1} != ''\"",
            "    probe:",
            f"      url: \"http://127.0.0.1:8080/api/{{{{ uid_{i - 1} }}}}\"",
            "      requests: 10",
            "      extract: { color: { header: x-color } }",
            "      expect:",
            "        each:",
            "          - { value: color, matches: \"^(blue|green)$\" }",
        ]
    elif k == 3:
        out += [
            f"  - name: get-{i}",
            "    clusters: c2",
            "    get:",
            "      resources: [{ apiVersion: v1, kind: ConfigMap, namespace: \"{{ ns }}\", name: \"cm-%d\" }]" % (i - 3),
            f"      capture: {{ mode_{i}: $.data.mode }}",
        ]
    else:
        out += [
            f"  - name: patch-{i}",
            "    clusters: c1",
            "    patch:",
            f"      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: \"{{{{ ns }}}}\", name: cm-{i - 4} }}",
            "      body: { data: { seen: \"{{ mode_%d }}\" } }" % (i - 1),
        ]
open(sys.argv[1], "w").write("\n".join(out) + "\n")
