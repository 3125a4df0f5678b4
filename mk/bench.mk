# The benchmark (docs/bench.md). Included by the top-level Makefile.
#   make bench        full run (~2 minutes): table on stdout, $(BUILD)/reports/bench.json
#   make bench-smoke  a few seconds, tiny counts: correctness only (sequence numbers,
#                     pipe streams checked byte by byte)
#   BENCH_ARGS='--subject textbook-shmbuf --trials 7' make bench
#   BENCH_ARGS='--only pipe' make bench    the pipe workloads alone (ref-pipe vs native-pipe)
#   BENCH_ARGS='--only fifo' make bench    ref-fifo vs native-fifo; '--only msgpipe': ref-msgpipe vs native-msgpipe
#   BENCH_ARGS='--only mailbox' make bench ref-mailbox vs native-posix-mq and native-sysv-msg
# Always -O2, whatever OPT says: a benchmark of a -O0 build measures nothing.

BENCH_DIR := $(BUILD)/bench
BENCH_BIN := $(BENCH_DIR)/ipcspec-bench
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_OBJS := $(BENCH_SRCS:bench/%.c=$(BENCH_DIR)/obj/%.o)
BENCH_JSON := $(BUILD)/reports/bench.json
BENCH_ARGS ?=
# The bench finds ref-pipe through the registry or a weak reference; a weak
# reference does not pull an archive member in, so name it to the linker.
BENCH_LDFLAGS := $(if $(wildcard impl/pipe/ref_pipe.c),-u ipc__subject_ref_pipe)

.PHONY: bench bench-smoke bench-build

bench-build: $(BENCH_BIN)

$(BENCH_DIR)/obj/%.o: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(IPC_CPPFLAGS) -Ibench $(IPC_CFLAGS) -O2 -MMD -MP -c $< -o $@

$(BENCH_BIN): $(BENCH_OBJS) $(LIB)
	$(CC) $(IPC_CFLAGS) -O2 $(IPC_LDFLAGS) $(BENCH_LDFLAGS) -o $@ $(BENCH_OBJS) $(LIB) $(IPC_LDLIBS) -lm

bench: $(LIB) $(BENCH_BIN)
	@mkdir -p $(dir $(BENCH_JSON))
	$(BENCH_BIN) --json $(BENCH_JSON) $(BENCH_ARGS)

bench-smoke: $(LIB) $(BENCH_BIN)
	@mkdir -p $(dir $(BENCH_JSON))
	$(BENCH_BIN) --smoke --json $(BUILD)/reports/bench-smoke.json $(BENCH_ARGS)

-include $(BENCH_OBJS:.o=.d)
