# ipcspec — see README.md. `make conformance` is the main job, `make test` the gate.
BUILD ?= build
SAN ?=
OPT ?= -O2
export PATH := $(PATH):/usr/lib/llvm-14/bin

IPC_CPPFLAGS := -D_GNU_SOURCE -Ispec -Iimpl -Iconformance/lib
IPC_CFLAGS := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -fPIC -pthread
IPC_LDLIBS := -lnng -lisal -lck -lrt -ldl -pthread
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
	$(wildcard conformance/mailbox/*.c) \
	$(wildcard conformance/framing/*.c) \
	$(wildcard conformance/socket/*.c)
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
# SysV queues first, found by their anchors (see cleanup() in ci/conformance.sh);
# POSIX queues through /dev/mqueue, or a private mqueue mount when it is absent.
clean-ipc:
	@for f in $${TMPDIR:-/tmp}/ipcspec-*; do \
		[ -f "$$f" ] && read -r tag proj _ <"$$f" 2>/dev/null || continue; \
		case $$tag.$$proj in ipcspec-sysv-msg.[0-9]* | ipcspec-sysv-party.[0-9]*) ;; *) continue ;; esac; \
		di=$$(stat -c '%d %i' "$$f") || continue; \
		key=$$(((proj & 255) << 24 | ($${di% *} & 255) << 16 | ($${di#* } & 65535))); \
		echo "ipcrm -Q $$(printf '0x%x' $$key)  # $$f"; \
		ipcrm -Q "$$(printf '0x%x' $$key)" 2>/dev/null; \
	done; true
	@if [ "$$(stat -f -c %T /dev/mqueue 2>/dev/null)" = mqueue ]; then \
		rm -f /dev/mqueue/ipcspec-*; \
	elif [ "$$(id -u)" = 0 ] && command -v unshare >/dev/null; then \
		unshare -m sh -c 'mount -t mqueue none /mnt && rm -f /mnt/ipcspec-*'; \
	else echo "clean-ipc: /dev/mqueue is not mounted: POSIX queues left as they are" >&2; fi
	rm -f /dev/shm/ipcspec-* /dev/shm/sem.ipcspec-* $${TMPDIR:-/tmp}/ipcspec-*

-include $(IMPL_OBJS:.o=.d) $(CONF_OBJS:.o=.d)
-include mk/*.mk
