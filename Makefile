# etcd-lsm: unmodified etcd on LSM storage engines.
#
#   make reproduce             the main job (see README)
#   make test                  every test CI runs
#   make build VARIANT=naive   bin/naive/{etcd,etcdctl,etcdutl}
#   make build VARIANT=bbolt   the same etcd release on the real bbolt
#   make benchstat             micro-benchmarks of every stage, benchstat deltas
#   make deps                  install the system packages (librocksdb-dev)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VARIANT  ?= naive
VARIANTS := $(sort $(notdir $(patsubst %/,%,$(filter-out variants/all/,$(wildcard variants/*/)))))
BIN      := $(CURDIR)/bin
GO       ?= go
# Tests that start etcd need the binaries of the variants they exercise.
SMOKE_VARIANTS ?= naive tuned

export GOFLAGS := -buildvcs=false

.PHONY: all build build-all deps test unit smoke reproduce benchstat clean variants help

all: build

help:
	@sed -n '1,10p' Makefile

variants:
	@echo bbolt $(VARIANTS)

# --- system dependencies ---------------------------------------------------
# RocksDB comes from Debian (7.8.3, which grocksdb v1.7.15 matches).
deps:
	@if [ -f /usr/include/rocksdb/c.h ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing librocksdb-dev (RocksDB headers and library)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq librocksdb-dev >/dev/null; \
	else \
		echo "missing RocksDB headers: run 'sudo apt-get install -y librocksdb-dev'" >&2; exit 1; \
	fi

# --- building etcd ---------------------------------------------------------
# etcd's main packages are built straight from the module cache; the engine
# enters through the replace of go.etcd.io/bbolt in etcd-build/lsm/go.mod.
build: deps
	@if [ "$(VARIANT)" = bbolt ]; then \
		dir=etcd-build/stock; ldflags=""; \
	elif [ -d "variants/$(VARIANT)" ] && [ "$(VARIANT)" != all ]; then \
		dir=etcd-build/lsm; ldflags="-X etcd-lsm/common/engine.DefaultVariant=$(VARIANT)"; \
	else \
		echo "unknown VARIANT=$(VARIANT); choose one of: bbolt $(VARIANTS)" >&2; exit 2; \
	fi; \
	mkdir -p $(BIN)/$(VARIANT); \
	start=$$(date +%s); \
	for pkg in server etcdctl etcdutl; do \
		out=$$pkg; [ $$pkg = server ] && out=etcd; \
		(cd $$dir && GOWORK=off $(GO) build -trimpath -ldflags "$$ldflags" -o $(BIN)/$(VARIANT)/$$out go.etcd.io/etcd/$$pkg/v3); \
	done; \
	echo "built $(BIN)/$(VARIANT)/{etcd,etcdctl,etcdutl} in $$(( $$(date +%s) - start ))s"

build-all:
	@for v in bbolt $(VARIANTS); do $(MAKE) --no-print-directory build VARIANT=$$v; done

# --- tests -----------------------------------------------------------------
test: deps unit smoke

# Conformance, differential (against the real bbolt) and layout tests of the
# layer on every variant.
unit: deps
	$(GO) vet ./common/... ./variants/...
	$(GO) test -race -count=1 ./common/... ./variants/...

# End to end against real etcd binaries on loopback.
smoke: deps
	@for v in bbolt $(SMOKE_VARIANTS); do $(MAKE) --no-print-directory build VARIANT=$$v; done
	cd experiments && ETCDLSM_BIN=$(BIN) ETCDLSM_SMOKE_VARIANTS="$(SMOKE_VARIANTS)" $(GO) test -count=1 -timeout 30m -v ./smoke/

# --- the main job ----------------------------------------------------------
# Until the experiment harness lands: build every variant and the baseline,
# then run the end-to-end demo on each.
reproduce: deps build-all
	cd experiments && ETCDLSM_BIN=$(BIN) ETCDLSM_SMOKE_VARIANTS="$(VARIANTS)" $(GO) test -count=1 -timeout 60m -v ./smoke/

# --- micro-benchmarks -------------------------------------------------------
# Every stage through the layer and the real bbolt through the same code, in
# interleaved rounds; benchstat tables of successive deltas and vs bbolt.
benchstat: deps
	experiments/benchstat.sh

clean:
	rm -rf $(BIN)
