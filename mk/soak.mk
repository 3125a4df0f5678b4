# make soak [RUNS=100] [SUBJECT=…]: the suite many times in a row.
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory build $(MERGER)
	@BUILD=$(BUILD) sh ci/soak.sh
