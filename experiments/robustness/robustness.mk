# etcd's own robustness suite (tests/robustness of the etcd release,
# unmodified) on failpoint-enabled builds of stock etcd and of the LSM
# variants (etcd-build/robustness/build.sh, experiments/robustness).
# Included by the Makefile.
#
#   make robustness [VARIANT="tuned pebble"] [RUNS=7]   the long run: RUNS exploratory passes
#       (8 scenarios each) per engine, bbolt beside the variants, coverage of the backend
#       failpoints, the regression scenarios, LSM failures rechecked on bbolt
#   make robustness-repeat SCENARIO=KubernetesHighTraffic/ClusterOfSize1 FAILPOINTS="a=panic b=panic" [N=10]
#       one scenario again and again, the suite's pick filtered to FAILPOINTS, bbolt beside the variants
#   make robustness-short                               for make test: one 1-member and one
#       3-member scenario per LSM engine, each with a backend failpoint; fails on any violation
#
# Results: experiments/results/robustness-<time>/ (summary.md, runs.csv, the
# logs and etcd's reports of failed runs; members' data stays out of git).
# ROBUSTNESS_OUT=<that directory> resumes an interrupted run.

ROBUSTNESS_VARIANTS = $(call or-variant,tuned pebble)
ROBUSTNESS_SHORT_VARIANTS ?= tuned pebble
ROBUSTNESS_DIR = $(BIN)/robustness/$(ETCD_VERSION)
RUNS ?= 7

.PHONY: robustness robustness-short robustness-build robustness-repeat

robustness-build: deps ## the failpoint builds and etcd's robustness test binary
	$(WAIT) etcd-build/robustness/build.sh $(ETCD_VERSION) $(ROBUSTNESS_DIR) bbolt $(sort $(ROBUSTNESS_VARIANTS) $(ROBUSTNESS_SHORT_VARIANTS))

robustness: robustness-build ## [VARIANT="tuned pebble"] [RUNS=7]: etcd's own robustness suite, failpoints in etcd's backend
	cd experiments && rc=0; GOWORK=off $(WAIT) $(GO) run ./robustness run -dir $(ROBUSTNESS_DIR) \
		-engines "bbolt $(ROBUSTNESS_VARIANTS)" -passes $(RUNS) $(if $(ROBUSTNESS_OUT),-out $(abspath $(ROBUSTNESS_OUT))) \
		-label "make robustness VARIANT=\"$(ROBUSTNESS_VARIANTS)\" RUNS=$(RUNS)" || rc=$$?; \
		./scrub-paths.sh results; exit $$rc

robustness-short: robustness-build ## one 1-member and one 3-member scenario per LSM engine, for make test
	cd experiments && GOWORK=off $(WAIT) $(GO) vet ./robustness/ && GOWORK=off $(WAIT) $(GO) test -count=1 ./robustness/
	cd experiments && GOWORK=off $(WAIT) $(GO) run ./robustness short -dir $(ROBUSTNESS_DIR) -engines "$(ROBUSTNESS_SHORT_VARIANTS)"

robustness-repeat: robustness-build ## SCENARIO=<traffic>/ClusterOfSize<n> FAILPOINTS="..." [N=10]: one scenario again and again
	cd experiments && rc=0; GOWORK=off $(WAIT) $(GO) run ./robustness repeat -dir $(ROBUSTNESS_DIR) \
		-engines "bbolt $(ROBUSTNESS_VARIANTS)" -scenario "$(SCENARIO)" -failpoints "$(FAILPOINTS)" -n $(or $(N),10) \
		$(if $(ROBUSTNESS_OUT),-out $(abspath $(ROBUSTNESS_OUT))) \
		-label "make robustness-repeat SCENARIO=$(SCENARIO) FAILPOINTS=\"$(FAILPOINTS)\" N=$(or $(N),10)" || rc=$$?; \
		./scrub-paths.sh results; exit $$rc
