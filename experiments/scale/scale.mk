# make scale [VARIANT=x] [SCALE_MODE=quick|full] — the Kubernetes-like
# workload of experiments/scale against one etcd member per engine, each in
# a cgroup v1 memory cgroup limited below the database size (needs root).
# Without VARIANT: stock bbolt, tuned (the best RocksDB variant) and pebble.
# SCALE_MODE=quick (default): a smoke run of about two minutes; full: 256 MiB
# limit, 1 GiB of live data, up to ~16 minutes per engine; 8gb and 30gb: each
# member starts from the same preloaded database (an 8 GiB stock file in a
# 1 GiB cgroup; 30 GB in 2 GiB), then the update-heavy phase, the compaction
# of the whole history, hashkv, restarts, a new member's catch-up and defrag
# (8gb: 81 minutes for the three engines). SCALE_ARGS="-resume <results dir>"
# finishes an interrupted run; -preload-dir says where the preload is kept;
# -preload-only makes the preload (or finds it made) and stops.
# SCALE_ARGS passes more flags (e.g. SCALE_ARGS="-mem 384MiB -target 2GiB");
# SCALE_ARGS="-rounds 3" runs every engine three times, interleaved (even
# rounds in reverse order), and the report adds each figure's median, spread
# and ratio to the first engine in the same round; -perf-steady 40s and
# -perf-compaction profile etcd with perf in the update phase and during its
# first MVCC compaction; -allocs-steady adds etcd's Go allocation profiles at
# both ends of the -perf-steady window.
# An engine may carry settings of its own, for ablations:
#   make scale VARIANT="tuned tuned-lz4=tuned:ETCDLSM_ROCKSDB_COMPRESSION=lz4".
# Results: experiments/results/scale-<UTC time>-<mode>/ (report.md, CSVs);
# make scale-figures draws them (notebooks/scale-figures.ipynb).
#
# Included by the top-level Makefile (uses its GO, BIN and deps/figures-deps).

SCALE_MODE ?= quick
SCALE_ARGS ?=
SCALE_ENGINES = $(call or-variant,bbolt tuned pebble)

.PHONY: scale scale-figures scale-test

scale: deps ## [VARIANT=x] [SCALE_MODE=quick|full|8gb|30gb]: Kubernetes-like workload bigger than memory
	@$(call build-each,$(SCALE_ENGINES))
	cd experiments && rc=0; GOWORK=off ETCDLSM_BIN=$(BIN) ETCDLSM_CALLER_DIR=$(CURDIR) $(MEASURE) $(GO) run ./scale -mode $(SCALE_MODE) -engines "$(SCALE_ENGINES)" $(SCALE_ARGS) || rc=$$?; \
		./scrub-paths.sh results; exit $$rc

# Unit tests of the workload generator (no etcd, no root).
scale-test: ## unit tests of the scale workload generator
	cd experiments && GOWORK=off $(GO) test -count=1 ./scale/

# Figures of the newest scale results (SCALE_RESULTS=<dir> for another):
# PNGs into the results directory and notebooks/figures/.
scale-figures: figures-deps ## figures of the newest scale results
	cd notebooks && SCALE_RESULTS="$(abspath $(SCALE_RESULTS))" PYDEVD_DISABLE_FILE_VALIDATION=1 \
		jupyter nbconvert --to notebook --execute --inplace scale-figures.ipynb
