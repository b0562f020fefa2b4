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
	scripts/packages.sh demo
	$(BIN) lab install

# fmt + clippy + every test, the cluster tests against a lab started for this run
# (scripts/test.sh: the installs run beside the Rust build). The report tests use
# junitparser and jsonschema from PyPI as real consumers; the docs tests build the
# rendered chapter with mkdocs-material and load it in headless Chromium.
test:
	LAB_DIR=$(LAB_DIR) scripts/test.sh

# The real consumers the tests check our outputs with (PyPI, npm, Debian's Chromium).
test-tools:
	scripts/packages.sh test
	scripts/test-tools.sh

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
FUZZ_TARGETS ?=
fuzz:
	FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SANITIZER=$(FUZZ_SANITIZER) FUZZ_TARGETS="$(FUZZ_TARGETS)" scripts/fuzz.sh $(FUZZ_SECONDS)
