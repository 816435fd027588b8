# Fault injection (experiments/faults): 3-member clusters under load, kills,
# SIGSTOP, partitions and degraded links in network namespaces (loopback and
# SIGSTOP where namespaces cannot be made), restarts from disk, then checks:
# acknowledged writes kept, linearizable history (porcupine), equal hashes,
# no leftovers; and bad input and a full disk. Included by the Makefile.
#
#   make faults [VARIANT=x] [ROUNDS=n]   the long run (default: bbolt and tuned, 50 rounds)
#   make faults-short                    a few rounds, for make test; fails on any anomaly

# ROUNDS is not defined here: other targets read it from the environment
# with defaults of their own.
FAULTS_ROUNDS = $(or $(ROUNDS),50)
# Without VARIANT on the command line or in the environment: stock bbolt
# and the best RocksDB variant.
FAULTS_VARIANTS = $(call or-variant,bbolt tuned)
FAULTS_SHORT_VARIANTS ?= bbolt tuned

.PHONY: faults faults-short

faults: ## [VARIANT=x] [ROUNDS=50]: fault injection, linearizability checked
	@$(call build-each,$(FAULTS_VARIANTS))
	cd experiments && rc=0; $(WAIT) $(GO) run ./faults -bin $(BIN) -variants "$(FAULTS_VARIANTS)" -rounds $(FAULTS_ROUNDS) || rc=$$?; \
		./scrub-paths.sh results; exit $$rc

faults-short: ## a few rounds of it, for make test
	@$(call build-each,$(FAULTS_SHORT_VARIANTS))
	cd experiments && $(WAIT) $(GO) vet ./faults/ && $(WAIT) $(GO) test -short -count=1 ./faults/
	cd experiments && $(WAIT) $(GO) run ./faults -bin $(BIN) -variants "$(FAULTS_SHORT_VARIANTS)" -short -rounds 4 -out $${TMPDIR:-/tmp}/faults-short-$$$$
