# Fuzzing: libFuzzer targets fuzz/<mech>_<surface>_fuzz.c (docs/fuzzing.md).
#
#   make fuzz TARGET=shmbuf_ops [SECONDS=60] [FUZZ_ARGS=-fork=2]   one session
#   make fuzz-smoke                     every target SMOKE_SECONDS (two at a time), then fuzz-replay
#   make fuzz-replay                    committed corpora once, no libFuzzer (for make test)
#   make fuzz-merge TARGET=x            minimise the session corpus into fuzz/corpus/x
#   make fuzz-build / fuzz-clean
#
# Each target is built twice from one source: with libFuzzer into
# $(BUILD)/fuzz/<t>, and with -DIPC_FUZZ_REPLAY (a plain main that runs the
# files it is given) into $(BUILD)/fuzz/<t>-replay. Both link $(IMPL_SRCS)
# compiled with ASan + UBSan, so the implementation is checked as it runs.

FUZZ_TARGETS := $(sort $(patsubst fuzz/%_fuzz.c,%,$(wildcard fuzz/*_fuzz.c)))
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CPPFLAGS := -D_GNU_SOURCE -Ispec -Iimpl
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -pthread $(FUZZ_SAN)
FUZZ_LDLIBS := -lnng -lisal -lck -lrt -pthread
SECONDS ?= 60
SMOKE_SECONDS ?= 5
FUZZ_ARGS ?=
# Per input: -timeout turns a hang into a crash (timeout 0 never waits long);
# inputs stay small so one exec stays fast.
FUZZ_RUN_FLAGS := -timeout=10 -max_len=4096 -print_final_stats=1

FUZZ_LF_OBJS := $(IMPL_SRCS:%.c=$(FUZZ_DIR)/obj/lf/%.o)
FUZZ_RP_OBJS := $(IMPL_SRCS:%.c=$(FUZZ_DIR)/obj/rp/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
FUZZ_REPLAYS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%-replay)

# A crashed or timed-out process cannot unlink its segment: remove the
# /dev/shm/ipcspec-fuzz-<pid> names whose process is gone.
define FUZZ_SWEEP
for f in /dev/shm/ipcspec-fuzz-*; do \
	[ -e "$$f" ] || continue; pid=$${f##*-}; \
	kill -0 "$$pid" 2>/dev/null || rm -f "$$f"; \
done
endef

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-replay fuzz-merge fuzz-clean

fuzz-build: $(FUZZ_BINS) $(FUZZ_REPLAYS)

$(FUZZ_DIR)/obj/lf/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/rp/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/rp/%-replay.o: %_fuzz.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -DIPC_FUZZ_REPLAY -MMD -MP -c $< -o $@

$(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/lf/fuzz/%_fuzz.o $(FUZZ_LF_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LDLIBS)

$(FUZZ_DIR)/%-replay: $(FUZZ_DIR)/obj/rp/fuzz/%-replay.o $(FUZZ_RP_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(FUZZ_LDLIBS)

# One session: new inputs go to the scratch corpus (first directory), the
# committed one is read as seeds; crashes go to $(FUZZ_DIR)/artifacts/.
fuzz: deps
	@[ -n "$(TARGET)" ] || { echo "usage: make fuzz TARGET=<$(FUZZ_TARGETS)> [SECONDS=n]"; exit 2; }
	@[ -f fuzz/$(TARGET)_fuzz.c ] || { echo "no such target: $(TARGET) (have: $(FUZZ_TARGETS))"; exit 2; }
	@$(MAKE) --no-print-directory $(FUZZ_DIR)/$(TARGET)
	@mkdir -p $(FUZZ_DIR)/corpus/$(TARGET) $(FUZZ_DIR)/artifacts
	@rc=0; $(FUZZ_DIR)/$(TARGET) $(FUZZ_RUN_FLAGS) -max_total_time=$(SECONDS) \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/$(TARGET)- \
		$(if $(wildcard fuzz/$(TARGET).dict),-dict=fuzz/$(TARGET).dict) $(FUZZ_ARGS) \
		$(FUZZ_DIR)/corpus/$(TARGET) fuzz/corpus/$(TARGET) || rc=$$?; \
	$(FUZZ_SWEEP); \
	if [ $$rc -ne 0 ]; then echo "fuzz: $(TARGET) FAILED (exit $$rc); reproduce: $(FUZZ_DIR)/$(TARGET) <artifact>, artifacts in $(FUZZ_DIR)/artifacts/"; fi; \
	exit $$rc

fuzz-smoke:
	@$(MAKE) --no-print-directory -j2 fuzz-build
	@fail=0; sh ci/fuzz-smoke.sh $(FUZZ_DIR) $(SMOKE_SECONDS) "$(FUZZ_RUN_FLAGS)" $(FUZZ_TARGETS) \
		|| fail=1; $(FUZZ_SWEEP); \
	[ $$fail -eq 0 ] && $(MAKE) --no-print-directory fuzz-replay

# Plain regression run of the committed corpora: no libFuzzer needed to run it.
fuzz-replay: $(FUZZ_REPLAYS)
	@fail=0; for t in $(FUZZ_TARGETS); do \
		$(FUZZ_DIR)/$$t-replay fuzz/corpus/$$t >$(FUZZ_DIR)/$$t-replay.log 2>&1 && tail -n 1 $(FUZZ_DIR)/$$t-replay.log \
			|| { fail=1; cat $(FUZZ_DIR)/$$t-replay.log; }; \
	done; $(FUZZ_SWEEP); exit $$fail

fuzz-merge:
	@[ -n "$(TARGET)" ] || { echo "usage: make fuzz-merge TARGET=<$(FUZZ_TARGETS)>"; exit 2; }
	@$(MAKE) --no-print-directory $(FUZZ_DIR)/$(TARGET)
	$(FUZZ_DIR)/$(TARGET) -merge=1 -max_len=4096 fuzz/corpus/$(TARGET) $(FUZZ_DIR)/corpus/$(TARGET)

fuzz-clean:
	rm -rf $(FUZZ_DIR)

-include $(FUZZ_LF_OBJS:.o=.d) $(FUZZ_RP_OBJS:.o=.d) \
	$(FUZZ_TARGETS:%=$(FUZZ_DIR)/obj/lf/fuzz/%_fuzz.d) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/obj/rp/fuzz/%-replay.d)

# Keep the objects: they are intermediates of pattern rules.
.SECONDARY: $(FUZZ_LF_OBJS) $(FUZZ_RP_OBJS) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/obj/lf/fuzz/%_fuzz.o) \
	$(FUZZ_TARGETS:%=$(FUZZ_DIR)/obj/rp/fuzz/%-replay.o)
