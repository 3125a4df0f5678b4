# make asan / make valgrind: the conformance suite under memory checkers.
# Findings inside a Criterion worker do not fail a test by themselves, so both
# targets also scan the checkers' log files and fail on any report.
ASAN_BUILD := build/asan
VG_DIR := build/valgrind

.PHONY: asan valgrind
asan: deps
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) SAN=address,undefined CC=clang build
	@$(MAKE) --no-print-directory $(MERGER)
	@rm -rf $(ASAN_BUILD)/logs && mkdir -p $(ASAN_BUILD)/logs
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$(CURDIR)/$(ASAN_BUILD)/logs/asan \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(CURDIR)/$(ASAN_BUILD)/logs/ubsan \
	 LSAN_OPTIONS=suppressions=$(CURDIR)/ci/lsan.supp:print_suppressions=0 \
	 IPCSPEC_TIME_MULTIPLIER=3 IPCSPEC_REPRODUCE_TARGET=asan REPORT_DIR=$(ASAN_BUILD)/reports MERGER=$(MERGER) CLAUSE='$(CLAUSE)' \
	 sh ci/conformance.sh $(ASAN_BUILD) $(SUBJECT); rc=$$?; \
	 sh ci/scan-logs.sh $(ASAN_BUILD)/logs || rc=1; exit $$rc

valgrind: deps
	@$(MAKE) --no-print-directory build
	@rm -rf $(VG_DIR) && mkdir -p $(VG_DIR)
	@IPCSPEC_WRAP="valgrind -q --vgdb=no --suppressions=$(CURDIR)/ci/valgrind.supp --trace-children=yes --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=$(CURDIR)/$(VG_DIR)/vg.%p.log" \
	 IPCSPEC_TIME_MULTIPLIER=20 IPCSPEC_REPRODUCE_TARGET=valgrind JOBS=1 REPORT_DIR=$(VG_DIR)/reports MERGER=$(MERGER) CLAUSE='$(CLAUSE)' \
	 sh ci/conformance.sh $(BUILD) $(SUBJECT); rc=$$?; \
	 sh ci/scan-logs.sh $(VG_DIR) || rc=1; exit $$rc
