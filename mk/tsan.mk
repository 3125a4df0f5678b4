# make tsan: ThreadSanitizer stress programs (tsan/, docs/faults.md). Threads
# in one process (TSan cannot see across processes), plain programs with their
# own main (Criterion cannot run under TSan). Any report fails the target.
#   tsan_stress       shmbuf subjects (ref-shmbuf)
#   tsan_pipe_stress  the pipe subject ref-pipe (skips, and says so, while it is not built)
#   tsan_mailbox_stress  the mailbox subject ref-mailbox (send/recv, send_to/recv_any, mixed)
# make tsan-plain: the same programs built -O2 without TSan and run with
# bigger counts (TSAN_PLAIN_ITEMS): full-speed interleavings TSan's slowness hides.
TSAN_DIR := $(BUILD)/tsan
TSAN_CC := clang
TSAN_CFLAGS := -std=gnu11 -O1 -g -fsanitize=thread -fno-omit-frame-pointer \
	-Wall -Wextra -Werror -pthread $(TSAN_EXTRA_CFLAGS)
TSAN_LDLIBS := -lnng -lisal -lck -lrt -ldl -pthread
TSAN_PROGS := tsan_stress tsan_pipe_stress tsan_mailbox_stress
TSAN_BINS := $(TSAN_PROGS:%=$(TSAN_DIR)/%)
TSAN_OBJS := $(IMPL_SRCS:%.c=$(TSAN_DIR)/obj/%.o)
TSAN_PLAIN_DIR := $(BUILD)/tsan-plain
TSAN_PLAIN_BINS := $(TSAN_PROGS:%=$(TSAN_PLAIN_DIR)/%)
TSAN_PLAIN_ITEMS ?= 100000

.PHONY: tsan tsan-build tsan-plain
tsan-build: $(TSAN_BINS)

$(TSAN_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(TSAN_CC) $(IPC_CPPFLAGS) -Ifaults $(TSAN_CFLAGS) -MMD -MP -c $< -o $@

$(TSAN_BINS): $(TSAN_DIR)/%: $(TSAN_DIR)/obj/tsan/%.o $(TSAN_OBJS)
	$(TSAN_CC) $(TSAN_CFLAGS) -o $@ $^ $(TSAN_LDLIBS)

tsan: $(TSAN_BINS)
	@sh tsan/run.sh $(TSAN_DIR)

# Every impl object, not the archive: a weak reference (ref-pipe) does not
# pull a member out of an archive.
$(TSAN_PLAIN_DIR)/%: tsan/%.c $(IMPL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(IPC_CPPFLAGS) -Ifaults -std=gnu11 -O2 -g -Wall -Wextra -Werror -pthread -o $@ $< $(IMPL_OBJS) \
		$(IPC_LDLIBS)

tsan-plain: $(TSAN_PLAIN_BINS)
	@TSAN_RUN_PLAIN=1 sh tsan/run.sh $(TSAN_PLAIN_DIR) $(TSAN_PLAIN_ITEMS)

-include $(TSAN_OBJS:.o=.d) $(TSAN_PROGS:%=$(TSAN_DIR)/obj/tsan/%.d)
