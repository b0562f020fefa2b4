#!/usr/bin/env bash
# `make docs-screenshot`: the traffic-management chapter page as a reader sees
# it, for review. Renders the page with `scenario docs` (with a real run's
# output when RUN_REPORT names a JSON report of the chapter), builds the
# example mkdocs-material site, and has headless Chromium (networking off)
# take a full-length screenshot: target/docs-screenshot.png.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --bin scenario
python3 -m pip install -q --disable-pip-version-check mkdocs-material
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
out=target/docs-site
rm -rf "$out" && mkdir -p "$out"
cp -r examples/mkdocs-site "$out/src"
args=(docs playbooks/traffic-management.yaml -o "$out/src/docs/traffic-management.md")
if [ -n "${RUN_REPORT:-}" ]; then args+=(--from-report "$RUN_REPORT"); fi
target/debug/scenario "${args[@]}"
NO_MKDOCS_2_WARNING=1 python3 -m mkdocs build --strict -q -f "$out/src/mkdocs.yml" -d "$PWD/$out/html"
# As tall as the page: ask the browser how tall it is, then shoot at that height.
page="file://$PWD/$out/html/traffic-management/index.html"
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --proxy-server=127.0.0.1:9 "--proxy-bypass-list=<-loopback>")
height=$(chromium "${flags[@]}" --dump-dom "$page" 2>/dev/null | wc -l)
height=$(( height * 6 > 2000 ? height * 6 : 2000 ))
height=$(( height > 16000 ? 16000 : height ))
chromium "${flags[@]}" --window-size="1280,$height" --screenshot="$PWD/target/docs-screenshot.png" "$page" 2>/dev/null
echo "docs-screenshot: target/docs-screenshot.png (1280x$height) of $out/html/traffic-management/index.html"
