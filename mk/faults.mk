# make faults / make faults-short: the fault-injection campaign (docs/faults.md).
# Harnesses and the subject are built together with libfiu's points compiled
# in (-DFIU_ENABLE=1) and without _FORTIFY_SOURCE (its __*_chk entry points
# would bypass the libfiu preload). FAULTS_EXTRA_CFLAGS (e.g.
# -DIPC_MUTANT_ID=7) builds the campaign against a deliberately broken
# subject, into its own directory.
FAULTS_DIR := $(BUILD)/faults$(if $(FAULTS_EXTRA_CFLAGS),-$(subst =,,$(subst -D,,$(strip $(FAULTS_EXTRA_CFLAGS)))))
FAULTS_CC := gcc
FAULTS_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread -DFIU_ENABLE=1 \
	-U_FORTIFY_SOURCE $(FAULTS_EXTRA_CFLAGS)
FAULTS_LDLIBS := -lfiu -lnng -lisal -lck -lrt -ldl -pthread
FAULTS_PROGS := nth_sweep race_stress kill_campaign eintr_storm \
	pipe_io pipe_eintr pipe_nth_sweep pipe_kill fifo_faults msgpipe_faults mailbox_faults \
	framing_faults
FAULTS_BINS := $(FAULTS_PROGS:%=$(FAULTS_DIR)/%)
FAULTS_LIB_SRCS := faults/fl_common.c faults/fl_peer.c faults/pipe_common.c
FAULTS_OBJS := $(IMPL_SRCS:%.c=$(FAULTS_DIR)/obj/%.o) $(FAULTS_LIB_SRCS:%.c=$(FAULTS_DIR)/obj/%.o)

.PHONY: faults faults-short faults-build
faults-build: $(FAULTS_BINS)

$(FAULTS_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FAULTS_CC) $(IPC_CPPFLAGS) -Ifaults $(FAULTS_CFLAGS) -MMD -MP -c $< -o $@

$(FAULTS_BINS): $(FAULTS_DIR)/%: $(FAULTS_DIR)/obj/faults/%.o $(FAULTS_OBJS)
	$(FAULTS_CC) $(FAULTS_CFLAGS) -o $@ $^ $(FAULTS_LDLIBS)

# Only the pipe sweep interposes malloc (its counting allocator for leaks).
$(FAULTS_DIR)/pipe_nth_sweep: $(FAULTS_DIR)/obj/faults/pipe_alloc.o

# The full campaign (~4 min) and the short one `make test` runs (< 60 s).
faults: $(FAULTS_BINS)
	@sh faults/run.sh full $(FAULTS_DIR) $(SUBJECT)
faults-short: $(FAULTS_BINS)
	@sh faults/run.sh short $(FAULTS_DIR) $(SUBJECT)

-include $(FAULTS_OBJS:.o=.d) $(FAULTS_PROGS:%=$(FAULTS_DIR)/obj/faults/%.d) \
	$(FAULTS_DIR)/obj/faults/pipe_alloc.d
