# make selftest: every deliberately broken subject must be caught by the
# clauses that name its bug (ci/selftest/mutants.tsv), and the expectation
# machinery must turn a listed failure into xfail and a listed pass into xpass.
BROKEN_DIR := $(BUILD)/broken
MUTANT_NAMES := $(shell awk -F'\t' '!/^\#/ {print $$2}' ci/selftest/mutants.tsv)
BROKEN_SOS := $(MUTANT_NAMES:%=$(BROKEN_DIR)/%.so)

.PHONY: selftest broken
broken: $(BROKEN_SOS)

# One shared object per mutant, from the reference sources with its id set,
# exporting the base subject of its row (column 4) under the mutant's name.
mutant_field = $$(awk -F'\t' '$$2 == "$*" {print $$$(1)}' ci/selftest/mutants.tsv)
$(BROKEN_DIR)/%.so: $(IMPL_SRCS) impl/broken/broken_adapter.c impl/core/mutant.h ci/selftest/mutants.tsv
	@mkdir -p $(dir $@)
	$(CC) $(IPC_CPPFLAGS) $(IPC_CFLAGS) -shared -Wl,--version-script=impl/broken/exports.map \
		-DIPC_MUTANT_ID=$(call mutant_field,1) -DIPC_BROKEN_BASE=ipc__subject_$(call mutant_field,4) \
		-DIPC_BROKEN_NAME='"$*"' -o $@ $(IMPL_SRCS) impl/broken/broken_adapter.c $(IPC_LDLIBS)

# The shared objects are independent: build them two at a time (the budget
# in make test is 90 s, and eleven serial builds take 20 s of it).
selftest: deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory -j2 broken
	@BUILD=$(BUILD) sh ci/selftest.sh

