# etcd-lsm: unmodified etcd on LSM storage engines.
#
# `make help` lists the targets, from the "## " comment on each target's
# line; the comments above a target say the rest.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VARIANT  ?= naive
VARIANTS := $(sort $(notdir $(patsubst %/,%,$(filter-out variants/all/ variants/cmd/,$(wildcard variants/*/)))))
BIN      := $(CURDIR)/bin
GO       ?= go
# Tests that start etcd need the binaries of the variants they exercise.
SMOKE_VARIANTS ?= naive tuned
# The etcd release built and tested: etcd-build/compat/<version>/{lsm,stock}
# pin each one (every etcd module, the layer replacing go.etcd.io/bbolt in
# lsm); the default one builds into bin/<variant>, others into
# bin/<version>/<variant>.
ETCD_DEFAULT_VERSION := v3.6.16
ETCD_VERSION ?= $(ETCD_DEFAULT_VERSION)

export GOFLAGS := -buildvcs=false

# $(call or-variant,DEFAULT): VARIANT when it is given on the command line or
# in the environment, DEFAULT (a target's own choice of builds) otherwise.
or-variant = $(if $(filter command line environment,$(origin VARIANT)),$(VARIANT),$(1))
# $(call builds-of,LIST): the builds a list of run entries names, each once.
# An entry is a build, label=build or label=build:ENV=value[:ENV=value]; a
# build named variant@tag (a copy of bin/<variant> kept from another commit)
# is used as it is, never built.
builds-of = $(sort $(foreach c,$(1),$(foreach b,$(lastword $(subst =, ,$(firstword $(subst :, ,$(c))))),$(if $(findstring @,$(b)),,$(b)))))
# $(call build-each,LIST): a recipe line that builds every build of LIST.
build-each = for v in $(call builds-of,$(1)); do $(MAKE) --no-print-directory build VARIANT=$$v; done

# The machine-wide measurement lock (experiments/quiet.sh): measuring targets
# hold it exclusively, builds and tests shared, so that nothing runs beside
# a measurement on the same cores.
MEASURE := $(CURDIR)/experiments/quiet.sh measure
WAIT    := $(CURDIR)/experiments/quiet.sh wait

# $(call onemember,COMMAND): a recipe line that runs experiments/onemember
# (one member per build and setting, interleaved rounds; ROUNDS, PUTS,
# POINTS, RANGES and CONFIGS reach it from make's variables) under the
# measurement lock, then scrubs machine paths from its results.
onemember = cd experiments && rc=0; GOWORK=off ETCDLSM_BIN=$(BIN) $(MEASURE) $(GO) run ./onemember $(1) || rc=$$?; ./scrub-paths.sh results; exit $$rc

.PHONY: defrag-memory putcost readbench writeamp soak rss migrate-demo migrate-speed all build build-all deps test docs-check docs-tables unit smoke compat compat-quick compat-runner compat-mod reproduce tools profile figures figures-deps benchstat benchstat-etcd ablation clean variants help

all: build

help: ## this list
	@awk -F':[^#]*## ' '/^[a-z][a-z-]*:.*## /{printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

variants: ## list the variants
	@echo bbolt $(VARIANTS)

# --- system dependencies ---------------------------------------------------
# RocksDB comes from Debian (7.8.3, which grocksdb v1.7.15 matches).
deps: ## install the system packages (librocksdb-dev)
	@if [ -f /usr/include/rocksdb/c.h ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing librocksdb-dev (RocksDB headers and library)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq librocksdb-dev >/dev/null; \
	else \
		echo "missing RocksDB headers: run 'sudo apt-get install -y librocksdb-dev'" >&2; exit 1; \
	fi

# --- building etcd ---------------------------------------------------------
# etcd's main packages are built straight from the module cache, through the
# one pair of modules per release that `make compat` tests with too:
# etcd-build/compat/<version>/lsm (go.etcd.io/bbolt replaced by the layer)
# and .../stock (the real bbolt). The default release goes to bin/<variant>,
# another ETCD_VERSION to bin/<version>/<variant>.
build: deps ## VARIANT=x: bin/x/{etcd,etcdctl,etcdutl} (VARIANT=bbolt: the same etcd on the real bbolt)
	@if [ "$(ETCD_VERSION)" = "$(ETCD_DEFAULT_VERSION)" ]; then \
		mods=etcd-build/compat/$(ETCD_VERSION); out=$(BIN)/$(VARIANT); \
	elif [ -f "etcd-build/compat/$(ETCD_VERSION)/lsm/go.mod" ]; then \
		mods=etcd-build/compat/$(ETCD_VERSION); out=$(BIN)/$(ETCD_VERSION)/$(VARIANT); \
	else \
		echo "no modules for ETCD_VERSION=$(ETCD_VERSION): see etcd-build/compat/mkmod.sh" >&2; exit 2; \
	fi; \
	if [ "$(VARIANT)" = bbolt ]; then \
		dir=$$mods/stock; ldflags=""; tags=""; \
	elif [ -d "variants/$(VARIANT)" ] && [ "$(VARIANT)" != all ]; then \
		dir=$$mods/lsm; ldflags="-X etcd-lsm/common/engine.DefaultVariant=$(VARIANT)"; \
		tags="etcdlsm_single,etcdlsm_$(VARIANT)"; \
	else \
		echo "unknown VARIANT=$(VARIANT); choose one of: bbolt $(VARIANTS)" >&2; exit 2; \
	fi; \
	mkdir -p $$out; \
	start=$$(date +%s); \
	for pkg in server etcdctl etcdutl; do \
		bin=$$pkg; [ $$pkg = server ] && bin=etcd; \
		(cd $$dir && GOWORK=off $(WAIT) $(GO) build -trimpath -tags "$$tags" -ldflags "$$ldflags" -o $$out/$$bin go.etcd.io/etcd/$$pkg/v3); \
	done; \
	if [ "$(VARIANT)" != bbolt ]; then \
		(cd $$dir && GOWORK=off $(WAIT) $(GO) build -trimpath -tags "$$tags" -ldflags "$$ldflags" -o $$out/etcdlsm etcd-lsm/variants/cmd/etcdlsm); \
	fi; \
	echo "built $$out/{etcd,etcdctl,etcdutl$$([ "$(VARIANT)" != bbolt ] && echo ,etcdlsm)} in $$(( $$(date +%s) - start ))s"

build-all: ## every variant and bbolt
	@$(call build-each,bbolt $(VARIANTS))

# --- tests -----------------------------------------------------------------
test: deps docs-check unit smoke soak defrag-memory compat-quick faults-short robustness-short ## every test CI runs

# The documents' generated tables against the committed runs they come from
# (experiments/doctables): a table that differs from its run, or a run a
# document names that is not under experiments/results, fails.
docs-check: ## the documents' generated tables match their runs, and every run they name is committed
	cd experiments && $(WAIT) $(GO) test -count=1 ./doctables/ && $(GO) run ./doctables

docs-tables: ## rewrite the documents' generated tables from the committed runs
	cd experiments && $(GO) run ./doctables -write

# Conformance, differential (against the real bbolt) and layout tests of the
# layer on every variant.
unit: deps ## conformance and differential tests of the layer on every variant
	$(WAIT) $(GO) vet ./common/... ./variants/...
	$(WAIT) $(GO) test -race -count=1 ./common/... ./variants/...

# End to end against real etcd binaries on loopback, and the harnesses' own
# tests (the cluster harness's membership changes and the measure library's
# among them).
smoke: deps tools ## end to end on real etcd binaries, and the harnesses' own tests
	@$(call build-each,bbolt $(SMOKE_VARIANTS))
	cd experiments && ETCDLSM_BIN=$(BIN) ETCDLSM_SMOKE_VARIANTS="$(SMOKE_VARIANTS)" $(WAIT) $(GO) test -count=1 -timeout 30m -v -skip 'TestReadOnlySoak|TestDefragMemory' ./smoke/ ./cluster/ ./reproduce/ ./migrate/ ./scale/ ./scrubprofile/ ./measure/ ./onemember/

# A read-only period on real etcd, every build: one member in a memory
# cgroup, 20,000 puts, then 20,000 ranges with no writes; throughput must
# not decay nor memory grow (experiments/smoke/readsoak_test.go).
SOAK_VARIANTS ?= $(VARIANTS)
soak: deps ## a read-only period on real etcd, every build, in a memory cgroup
	@$(call build-each,bbolt $(SOAK_VARIANTS))
	cd experiments && ETCDLSM_BIN=$(BIN) ETCDLSM_SMOKE_VARIANTS="$(SOAK_VARIANTS)" $(WAIT) $(GO) test -count=1 -timeout 30m -v -run TestReadOnlySoak ./smoke/

# Defrag in a memory cgroup (experiments/smoke/defrag_test.go): one member
# each of tuned and pebble, 256 MiB limit, 150 MiB of 4-64 KiB values, then
# defrag: the member lives, the data hash is unchanged, peak RSS grows by at
# most 64 MiB. Skipped, saying so, where memory cgroups are unavailable.
DEFRAG_VARIANTS := tuned pebble
defrag-memory: deps ## defrag of tuned and pebble in a 256 MiB memory cgroup
	@$(call build-each,$(DEFRAG_VARIANTS))
	cd experiments && ETCDLSM_BIN=$(BIN) $(WAIT) $(GO) test -count=1 -timeout 10m -v -run TestDefragMemory ./smoke/

# etcd's own tests (storage, etcdserver, etcdutl snapshot and a curated set
# of in-process cluster tests), run unmodified from the module cache on the
# layer and on the real bbolt: etcd-build/compat/full.txt. Without VARIANT:
# naive and tuned; VARIANT=all: every variant; ETCD_VERSION: v3.6.16 or
# v3.7.3 (or both, space separated). Results: experiments/results/compat-*/.
# Exits non-zero on a failure that is neither expected
# (etcd-build/compat/expected-failures.txt) nor a failure of the real bbolt.
COMPAT_VARIANTS = $(if $(filter all,$(VARIANT)),$(VARIANTS),$(call or-variant,naive tuned))
COMPATRUN = $(BIN)/compatrun -root $(CURDIR) -go $(GO)
compat: deps compat-runner ## [VARIANT=x|all] [ETCD_VERSION=v3.7.3]: etcd's own tests on the layer and on the real bbolt
	@rc=0; for v in $(ETCD_VERSION); do \
		$(WAIT) $(COMPATRUN) -version $$v -variants "$(COMPAT_VARIANTS)" -suite etcd-build/compat/full.txt -label full -stock full || rc=1; \
	done; exit $$rc

# The fast subset make test runs (etcd-build/compat/quick.txt); the real bbolt
# runs only what fails on the layer. Results: bin/compat/ (not kept).
compat-quick: deps compat-runner ## the fast subset of compat that make test runs
	cd etcd-build/compat/compatrun && GOWORK=off $(WAIT) $(GO) test -count=1 .
	@rc=0; for v in $(ETCD_VERSION); do \
		$(WAIT) $(COMPATRUN) -version $$v -variants "$(COMPAT_VARIANTS)" -suite etcd-build/compat/quick.txt -label quick -stock failing \
			-out $(BIN)/compat/quick-$$v || rc=1; \
	done; exit $$rc

compat-runner:
	@cd etcd-build/compat/compatrun && GOWORK=off $(GO) build -o $(BIN)/compatrun .

# Rewrites etcd-build/compat/<ETCD_VERSION>/{lsm,stock}/go.{mod,sum}.
compat-mod: ## rewrite the pinned etcd modules of ETCD_VERSION
	@for v in $(ETCD_VERSION); do etcd-build/compat/mkmod.sh $$v; done

# --- the main job ----------------------------------------------------------
# The thesis's evaluation (chapter 5) on local 3-member clusters, driven by
# etcd's own benchmark tool: every figure, bbolt and every stage, interleaved
# rounds. SCALE=quick (default, ~15 minutes on 2 cores) or SCALE=thesis (the
# thesis's sizes, hours). ROUNDS (default 3), GROUPS, STAGES and COMPARE
# narrow a run (see experiments/reproduce). An entry of STAGES or COMPARE is a
# build, or label=build:ENV=value[:ENV=value] to run a build with one engine
# setting changed (tuned-lz4=tuned:ETCDLSM_ROCKSDB_COMPRESSION=lz4): the
# ablation of tuned's options on the cluster. A build named variant@tag
# (bin/tuned@before, a copy of bin/tuned from another commit) is used as it
# is, not built. Results: experiments/results/<id>/.
SCALE ?= quick
export SCALE
# bbolt first, then the stages in the order they were built.
STAGES ?= bbolt naive bucketmap optimistic wbwi writebatch batched iterpool tuned
export STAGES

# etcd's load generator, pinned in experiments/tools (its own module, so its
# client version does not fight the server's).
tools: $(BIN)/tools/benchmark ## etcd's benchmark tool

$(BIN)/tools/benchmark: experiments/tools/go.mod experiments/tools/go.sum
	@mkdir -p $(BIN)/tools
	cd experiments/tools && GOWORK=off $(GO) build -o $(BIN)/tools/benchmark go.etcd.io/etcd/v3/tools/benchmark

# The harness is the experiments module alone (GOWORK=off): it needs no
# engine code, only the binaries in bin/ (bin/<ETCD_VERSION>/ for another
# etcd release).
REPRO_BIN = $(if $(filter $(ETCD_DEFAULT_VERSION),$(ETCD_VERSION)),$(BIN),$(BIN)/$(ETCD_VERSION))
REPRO_ENV = GOWORK=off ETCDLSM_BIN=$(REPRO_BIN) ETCDLSM_BENCHMARK=$(BIN)/tools/benchmark
reproduce: deps tools ## [SCALE=quick|thesis]: the thesis's evaluation on 3-member clusters
	@$(call build-each,$(STAGES) $(COMPARE))
	cd experiments && $(REPRO_ENV) $(MEASURE) $(GO) run ./reproduce run; rc=$$?; cd .. && experiments/scrub-paths.sh experiments/results; exit $$rc

# CPU profiles of the three members during the write benchmark (etcd
# --enable-pprof), with the share of cgo, engine, bbolt, raft/WAL and gRPC and
# the most a free engine could give (profiles/summary.md), and the engine's
# whole cost per put: its frames, its own threads and the collector's work
# its allocations cause, and the members' page faults (profiles/whole-cost.md);
# profiles/<variant>/. Without VARIANT: bbolt and every stage; VARIANT or
# STAGES may also name label=build:ENV=value entries, profiled in that order
# (e.g. VARIANT="tuned mapped=tuned:ETCDLSM_ROCKSDB_ARENA_BLOCK_SIZE=0").
# PROFILE_SECONDS (default 20) is the
# window; PROFILE_AFTER_PUTS=n starts it once the leader has applied n puts,
# to profile a larger database than the load's first seconds hold.
# PROFILE_CLIENTS and PROFILE_KEY_SPACE (default 1000 and 1000000, figure
# 5.1's) change the load: 100 and 100000 are figure 5.10's 100-client column.
# PROFILE_OUT (default profiles) is where the files go.
PROFILE_OUT ?= profiles
PROFILE_VARIANTS = $(call or-variant,$(STAGES))
profile: deps tools ## [VARIANT=x]: CPU profiles of the members under the write load
	@$(call build-each,$(PROFILE_VARIANTS))
	cd experiments && $(REPRO_ENV) $(MEASURE) $(GO) run ./reproduce profile -variants "$(PROFILE_VARIANTS)" -out $(abspath $(PROFILE_OUT)); rc=$$?; cd .. && experiments/scrub-paths.sh $(PROFILE_OUT); exit $$rc

# Thesis-style figures from the newest results directory (RESULTS_DIR=...
# for another): executes notebooks/thesis-figures.ipynb headless, PNGs into
# the results directory and notebooks/figures/.
figures: figures-deps ## thesis-style figures of the newest results
	cd notebooks && RESULTS_DIR="$(abspath $(RESULTS_DIR))" PYDEVD_DISABLE_FILE_VALIDATION=1 \
		jupyter nbconvert --to notebook --execute --inplace thesis-figures.ipynb

figures-deps:
	@if command -v jupyter >/dev/null && /usr/bin/python3 -c 'import matplotlib, pandas, nbclient, ipykernel' 2>/dev/null; then exit 0; fi; \
	pkgs="jupyter-nbconvert python3-matplotlib python3-pandas python3-ipykernel python3-nbclient"; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $$pkgs"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null; \
	else \
		echo "missing Jupyter or matplotlib: run 'sudo apt-get install -y $$pkgs'" >&2; exit 1; \
	fi

# --- micro-benchmarks -------------------------------------------------------
# Every stage through the layer and the real bbolt through the same code, in
# interleaved rounds; benchstat tables of successive deltas and vs bbolt.
benchstat: deps ## micro-benchmarks of every stage, benchstat deltas
	$(MEASURE) experiments/benchstat.sh

# etcd's own benchmarks of server/storage/mvcc and server/storage/backend,
# unmodified from the module cache, on the real bbolt and every variant
# (VARIANTS_ETCD="bbolt tuned" narrows), interleaved rounds; ROUNDS, COUNT,
# BENCHTIME, BENCH override the defaults (experiments/benchetcd.sh).
# Results: experiments/results/benchstat-etcd-<time>/.
benchstat-etcd: deps ## etcd's own storage benchmarks on every variant and bbolt
	ETCD_VERSION=$(ETCD_VERSION) $(MEASURE) experiments/benchetcd.sh

# The effect of each tuned option (turned back one at a time), benchstat
# against the tuned defaults.
ablation: deps ## each tuned option turned back, benchstat
	$(MEASURE) experiments/ablation.sh

# Fig. 5.8: the cost of one put from C, from Go through cgo, through the
# layer's Go-encoded batch and in bbolt (COUNT, BENCHTIME):
# experiments/results/putcost-<time>/.
putcost: deps ## the cost of one put from C, through cgo and in bbolt (Fig 5.8)
	$(MEASURE) experiments/putcost.sh

# One member's point and range reads after 100,000 puts, per build and
# setting (CONFIGS), interleaved rounds, members' CPU per request:
# experiments/results/readbench-<time>/.
readbench: deps tools ## one member's point and range reads, CPU per request
	@$(call build-each,$(or $(CONFIGS),bbolt iterpool tuned pebble))
	@$(call onemember,readbench)

# One member's write path after 1,000,000 puts (PUTS), per build and setting
# (CONFIGS): puts/s, CPU per put with and without the engine's deferred
# compactions, and the engine's write amplification, interleaved rounds:
# experiments/results/writeamp-<time>/.
writeamp: deps tools ## one member's writes: CPU per put, write amplification
	@$(call build-each,$(or $(CONFIGS),bbolt tuned pebble))
	@$(call onemember,writeamp)

# Resident memory of one member under the write load: stock bbolt, tuned
# (default budget, a smaller one, glibc's dynamic mmap threshold) and pebble,
# interleaved rounds (ROUNDS, default 3): experiments/results/rss-<time>/.
rss: deps tools ## resident memory per build and engine setting
	@$(call build-each,$(or $(CONFIGS),bbolt tuned pebble))
	@$(call onemember,rss)

# --- migration -----------------------------------------------------------
# A live 3-member stock cluster moved to etcd-lsm (VARIANT, default tuned)
# member by member under writes, and rolled back the same way; every step
# checked (HashKV across engines, acknowledged writes). Prints a timeline;
# results: experiments/results/migrate-<time>-<variant>/.
MIGRATE_VARIANT = $(call or-variant,tuned)
migrate-demo: deps ## [VARIANT=tuned]: stock cluster -> etcd-lsm -> stock, live, checked
	@$(call build-each,bbolt $(MIGRATE_VARIANT))
	cd experiments && GOWORK=off $(GO) run ./migrate -stock $(BIN)/bbolt -lsm $(BIN)/$(MIGRATE_VARIANT) \
		-out results/migrate-$$(date -u +%Y%m%dT%H%M%SZ)-$(MIGRATE_VARIANT)

# Import and export speed per GB (etcdlsm import/export of a ~1 GiB stock
# etcd database): experiments/results/migrate-speed-<time>-<variant>/.
migrate-speed: deps tools ## import and export speed per GB
	@$(call build-each,bbolt $(MIGRATE_VARIANT))
	$(MEASURE) experiments/migrate/speed.sh $(BIN)/bbolt $(BIN)/$(MIGRATE_VARIANT) $(BIN)/tools/benchmark \
		experiments/results/migrate-speed-$$(date -u +%Y%m%dT%H%M%SZ)-$(MIGRATE_VARIANT)

clean: ## remove bin/
	rm -rf $(BIN)

# Fault injection (make faults, faults-short), the Kubernetes-like scale
# workload (make scale, scale-figures) and etcd's robustness suite (make
# robustness, robustness-short).
include experiments/faults/faults.mk
include experiments/scale/scale.mk
include experiments/robustness/robustness.mk
