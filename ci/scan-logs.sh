#!/bin/sh
# Fail when any sanitizer or valgrind log in DIR holds a report. Valgrind runs
# with -q, so a clean process leaves an empty log; sanitizers write only on a
# finding.
set -u
dir=$1
bad=0
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	case $f in *.json | *.md | *.xml) continue ;; esac
	if [ -s "$f" ] && grep -qE 'ERROR|Invalid|uninitialised|definitely lost|runtime error|LeakSanitizer|Mismatched|overlap' "$f"; then
		echo "finding in $f:"
		head -n 30 "$f"
		bad=1
	fi
done
[ $bad = 0 ] && echo "no sanitizer or valgrind findings in $dir"
exit $bad
