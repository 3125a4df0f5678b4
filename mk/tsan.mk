# make tsan: ThreadSanitizer stress programs (tsan/, docs/faults.md). Threads
# in one process (TSan cannot see across processes), plain programs with their
# own main (Criterion cannot run under TSan). Any report fails the target.
TSAN_DIR := $(BUILD)/tsan
TSAN_CC := clang
TSAN_CFLAGS := -std=gnu11 -O1 -g -fsanitize=thread -fno-omit-frame-pointer \
	-Wall -Wextra -Werror -pthread $(TSAN_EXTRA_CFLAGS)
TSAN_LDLIBS := -lck -lrt -ldl -pthread
TSAN_PROGS := tsan_stress
TSAN_BINS := $(TSAN_PROGS:%=$(TSAN_DIR)/%)
TSAN_OBJS := $(IMPL_SRCS:%.c=$(TSAN_DIR)/obj/%.o)

.PHONY: tsan tsan-build
tsan-build: $(TSAN_BINS)

$(TSAN_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(TSAN_CC) $(IPC_CPPFLAGS) -Ifaults $(TSAN_CFLAGS) -MMD -MP -c $< -o $@

$(TSAN_BINS): $(TSAN_DIR)/%: $(TSAN_DIR)/obj/tsan/%.o $(TSAN_OBJS)
	$(TSAN_CC) $(TSAN_CFLAGS) -o $@ $^ $(TSAN_LDLIBS)

tsan: $(TSAN_BINS)
	@sh tsan/run.sh $(TSAN_DIR)

-include $(TSAN_OBJS:.o=.d) $(TSAN_PROGS:%=$(TSAN_DIR)/obj/tsan/%.d)
