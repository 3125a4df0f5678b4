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
# Only the sources that test a mutant (`IPC_MUTANT(`) compile differently
# from one mutant to the next; the others are the normal build's objects
# (same flags, -fPIC), linked as they are, so each mutant compiles 10 files
# rather than 35.
mutant_field = $$(awk -F'\t' '$$2 == "$*" {print $$$(1)}' ci/selftest/mutants.tsv)
LPAREN := (
MUTANT_SRCS := $(shell grep -l 'IPC_MUTANT$(LPAREN)' $(IMPL_SRCS))
SHARED_OBJS := $(filter-out $(MUTANT_SRCS:%.c=$(BUILD)/obj/%.o),$(IMPL_OBJS))
IMPL_HDRS := $(shell find impl spec -name '*.h')
$(BROKEN_DIR)/%.so: $(MUTANT_SRCS) $(SHARED_OBJS) $(IMPL_HDRS) impl/broken/broken_adapter.c \
		ci/selftest/mutants.tsv
	@mkdir -p $(dir $@)
	$(CC) $(IPC_CPPFLAGS) $(IPC_CFLAGS) -shared -Wl,--version-script=impl/broken/exports.map \
		-DIPC_MUTANT_ID=$(call mutant_field,1) -DIPC_BROKEN_BASE=ipc__subject_$(call mutant_field,4) \
		-DIPC_BROKEN_NAME='"$*"' -o $@ $(MUTANT_SRCS) impl/broken/broken_adapter.c \
		$(SHARED_OBJS) $(IPC_LDLIBS)

# The shared objects are independent: build them two at a time (the budget
# in make test is 90 s).
selftest: deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory -j2 broken
	@BUILD=$(BUILD) sh ci/selftest.sh

