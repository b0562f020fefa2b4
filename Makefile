# scenario — the two commands: `make demo` and `make test`.
# Everything they need is installed by them: Debian packages and the control-plane
# build (cached in $XDG_CACHE_HOME/scenario/lab, ~5-10 minutes the first time).
SHELL := bash
CARGO ?= cargo
BIN := target/debug/scenario
# The lab that `make test` starts for the cluster tests (its own ports; removed afterwards).
LAB_DIR ?= $(CURDIR)/target/test-lab

.PHONY: all build check test test-tools demo lab-install lab-up lab-down bench schema fuzz docs-screenshot

# The chapter end to end: lab + mesh emulator + `scenario run`, then everything stopped.
demo:
	scripts/demo.sh

all: build

build:
	$(CARGO) build --locked

# Format and lint gates.
check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

# Installs Debian packages and builds kube-apiserver/kube-controller-manager if not cached;
# kubectl (Debian's kubernetes-client) renders `kustomize:` directories.
lab-install: build
	@command -v kubectl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null; }
	$(BIN) lab install

# fmt + clippy + every test, the cluster tests against a lab started for this run.
# (The report tests use junitparser and jsonschema from PyPI as real consumers; the docs
# test builds the rendered chapter with mkdocs-material.)
test: check lab-install test-tools
	@$(BIN) lab down --dir $(LAB_DIR) >/dev/null
	$(BIN) lab up --dir $(LAB_DIR)
	$(BIN) lab crds --dir $(LAB_DIR)
	@status=0; SCENARIO_LAB_DIR=$(LAB_DIR) $(CARGO) test --locked || status=$$?; \
	  $(BIN) lab down --dir $(LAB_DIR); exit $$status

# The real consumers the tests check our outputs with: junitparser, jsonschema and
# mkdocs-material (PyPI), yaml-language-server (npm, under target/node), headless
# Chromium (Debian).
test-tools:
	python3 -m pip install -q --disable-pip-version-check junitparser jsonschema mkdocs-material
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
	@test -f target/node/node_modules/yaml-language-server/bin/yaml-language-server || \
	  { mkdir -p target/node && cd target/node && npm install --silent --no-audit --no-fund yaml-language-server@1; }

# A lab for working on chapters by hand (state in $XDG_STATE_HOME/scenario/lab).
lab-up: lab-install
	$(BIN) lab up
	$(BIN) lab crds

lab-down: build
	$(BIN) lab down

# The chapter page as a reader sees it (mkdocs-material, headless Chromium):
# target/docs-screenshot.png. RUN_REPORT=run.json shows a real run's output.
docs-screenshot:
	scripts/docs-screenshot.sh

# Regenerate the committed JSON Schema after changing the playbook types.
schema: build
	$(BIN) schema > schemas/playbook.schema.json
	$(BIN) schema --report > schemas/report.schema.json

bench:
	bench/validate.sh

# Coverage-guided fuzzing of the loader, templates, JSONPath and docs (cargo-fuzz on
# stable with RUSTC_BOOTSTRAP=1); FUZZ_SECONDS per target. Not part of `make test`.
FUZZ_SECONDS ?= 300
FUZZ_RUNS ?=
FUZZ_SANITIZER ?= none
fuzz:
	FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SANITIZER=$(FUZZ_SANITIZER) scripts/fuzz.sh $(FUZZ_SECONDS)
