#!/usr/bin/env bash
# The real consumers the tests check our outputs with: junitparser, jsonschema,
# mkdocs-material and zensical (the tutorial's site), kubernetes-validate (PyPI),
# yaml-language-server (npm, under target/node). Chromium comes from Debian
# (scripts/packages.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check junitparser jsonschema mkdocs-material \
  zensical kubernetes-validate
if [ ! -f target/node/node_modules/yaml-language-server/bin/yaml-language-server ]; then
  mkdir -p target/node
  (cd target/node && npm install --silent --no-audit --no-fund yaml-language-server@1)
fi
