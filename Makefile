# Entry points (SPEC §10). Variables are a stable interface; override on the command line,
# e.g. `make data PERSONS=200000 DIRT=0.01`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PERSONS   ?= 100000
SEED      ?= 20240101
DIRT      ?= 0
DATA_DIR  ?= data/demo
STATE_DIR ?= var/demo
OUT_DIR   ?= out/demo
CARGO     ?= cargo
CARGO_TARGET_DIR ?= target
export CARGO_BUILD_JOBS ?= 2
export CARGO_TARGET_DIR

BIN := $(CARGO_TARGET_DIR)/release
# Every target that needs release binaries builds this one package set. Cargo resolves features
# per package selection, so a different selection per target recompiled shared crates (`make data`
# right after `make demo` rebuilt 42 crates, 3 min 36 s); with one set, a second target compiles
# nothing. Cargo runs with OUT_DIR removed from its environment: the `ring` crate's build script
# reruns whenever OUT_DIR changes (`rerun-if-env-changed=OUT_DIR`), so `make demo OUT_DIR=…`
# would otherwise rebuild TLS and everything above it.
CARGO_ENV := env -u OUT_DIR
RELEASE_BINS := -p regstat-gen -p fk-registry -p sos-register -p regstat-registry -p regstat-server -p linkage -p regstat-query -p regstat-scheduler -p regstat-bench

.PHONY: help build data demo test bench certs fmt lint clean

help:
	@echo "make demo    the main job: generate data if needed, start the services, run the job"
	@echo "make test    every test (what CI runs)"
	@echo "make data    synthetic extracts into DATA_DIR=$(DATA_DIR) (PERSONS=$(PERSONS) SEED=$(SEED) DIRT=$(DIRT))"
	@echo "make bench   benchmarks, printing a table of figures (PERSONS defaults to 10500000 there)"
	@echo "make certs   development CA and service certificates into STATE_DIR/certs"
	@echo "make fmt | lint"

build:
	@scripts/build-deps.sh
	$(CARGO_ENV) $(CARGO) build --release $(RELEASE_BINS)

data: build
	$(BIN)/regstat-gen --persons $(PERSONS) --seed $(SEED) --dirt $(DIRT) --out $(DATA_DIR)

demo: build
	BIN=$(BIN) PERSONS=$(PERSONS) SEED=$(SEED) DIRT=$(DIRT) DATA_DIR=$(DATA_DIR) STATE_DIR=$(STATE_DIR) OUT_DIR=$(OUT_DIR) scripts/demo.sh

test:
	@scripts/build-deps.sh
	@scripts/python-deps.sh pyarrow pandas adbc_driver_flightsql
	$(CARGO_ENV) $(CARGO) test --workspace

bench: build
	@scripts/python-deps.sh duckdb || echo "duckdb not installed: the DuckDB peer row is skipped"
	$(BIN)/regstat-bench --persons $(if $(filter command line,$(origin PERSONS)),$(PERSONS),10500000) --seed $(SEED) --work $(STATE_DIR)/bench

certs: build
	$(BIN)/regstat-certs --out $(STATE_DIR)/certs

fmt:
	$(CARGO) fmt --all

lint:
	@scripts/build-deps.sh
	$(CARGO_ENV) $(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	rm -rf $(DATA_DIR) $(STATE_DIR) $(OUT_DIR)
