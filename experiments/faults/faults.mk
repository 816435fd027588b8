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
FAULTS_VARIANTS = $(if $(filter command line environment,$(origin VARIANT)),$(VARIANT),bbolt tuned)
FAULTS_SHORT_VARIANTS ?= bbolt tuned

.PHONY: faults faults-short

faults:
	@for v in $(FAULTS_VARIANTS); do $(MAKE) --no-print-directory build VARIANT=$$v; done
	cd experiments && rc=0; $(WAIT) $(GO) run ./faults -bin $(BIN) -variants "$(FAULTS_VARIANTS)" -rounds $(FAULTS_ROUNDS) || rc=$$?; \
		./scrub-paths.sh results; exit $$rc

faults-short:
	@for v in $(FAULTS_SHORT_VARIANTS); do $(MAKE) --no-print-directory build VARIANT=$$v; done
	cd experiments && $(WAIT) $(GO) vet ./faults/ && $(WAIT) $(GO) test -short -count=1 ./faults/
	cd experiments && $(WAIT) $(GO) run ./faults -bin $(BIN) -variants "$(FAULTS_SHORT_VARIANTS)" -short -rounds 4 -out $${TMPDIR:-/tmp}/faults-short-$$$$
