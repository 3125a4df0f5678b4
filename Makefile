# ipcspec — see README.md. `make conformance` is the main job, `make test` the gate.
BUILD ?= build
SAN ?=
OPT ?= -O2
export PATH := $(PATH):/usr/lib/llvm-14/bin

IPC_CPPFLAGS := -D_GNU_SOURCE -Ispec -Iimpl -Iconformance/lib
IPC_CFLAGS := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -fPIC -pthread
IPC_LDLIBS := -lck -lrt -ldl -pthread
ifneq ($(SAN),)
IPC_CFLAGS += -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer
IPC_LDFLAGS += -fsanitize=$(SAN)
endif

IMPL_SRCS := $(shell find impl -name '*.c' -not -path 'impl/broken/*' | sort)
IMPL_OBJS := $(IMPL_SRCS:%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libipcspec.a
CONF_SRCS := $(wildcard conformance/lib/*.c) $(wildcard conformance/shmbuf/*.c) \
	$(wildcard conformance/pipe/*.c) $(wildcard conformance/fifo/*.c) \
	$(wildcard conformance/msgpipe/*.c) \
	$(wildcard conformance/mailbox/*.c)
CONF_OBJS := $(CONF_SRCS:%.c=$(BUILD)/obj/%.o)
RUNNER := $(BUILD)/conformance
MERGER := build/ipcspec-report
EXAMPLE_SO := examples/adapter/build/libexample_adapter.so

.PHONY: all deps build conformance test check-spec selftest asan valgrind clean clean-ipc example
all: build

deps:
	@sh ci/install-deps.sh

build: $(LIB) $(RUNNER) $(MERGER)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(IPC_CPPFLAGS) $(IPC_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(IMPL_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(RUNNER): $(CONF_OBJS) $(LIB)
	$(CC) $(IPC_CFLAGS) $(IPC_LDFLAGS) -o $@ $(CONF_OBJS) $(LIB) -lcriterion $(IPC_LDLIBS)

$(MERGER): conformance/report/merge.c
	@mkdir -p build
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

example: $(EXAMPLE_SO)
$(EXAMPLE_SO): $(wildcard examples/adapter/*.c) examples/adapter/Makefile
	$(MAKE) -C examples/adapter

# make conformance [SUBJECT=name|path/to/adapter.so] [CLAUSE=SHMBUF-EOS-*|PIPE-EOF-*]
conformance: deps
	@$(MAKE) --no-print-directory build example
	@CLAUSE='$(CLAUSE)' MERGER=$(MERGER) sh ci/conformance.sh $(BUILD) $(SUBJECT)

check-spec:
	@sh ci/check-spec.sh

test: deps
	@sh ci/test.sh

clean:
	rm -rf build examples/adapter/build

# Remove every ipcspec object left by any run (e.g. after kill -9).
clean-ipc:
	rm -f /dev/shm/ipcspec-* /dev/shm/sem.ipcspec-* $${TMPDIR:-/tmp}/ipcspec-*

-include $(IMPL_OBJS:.o=.d) $(CONF_OBJS:.o=.d)
-include mk/*.mk
