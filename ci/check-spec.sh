#!/bin/sh
# Traceability between spec/ and conformance/: every clause has a test, every
# test names an existing clause, and conformance code sees only spec/ and its
# own harness. Ends with "clauses: N, covered: N, uncovered: 0".
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# Clause IDs from the headers "### SHMBUF-CAP-1 · MUST · …".
for f in spec/*.md; do
	[ "$(basename "$f")" = README.md ] && continue
	grep -oE '^### [A-Z0-9]+(-[A-Z0-9]+)*-[0-9]+ ·' "$f" | sed 's/^### //; s/ ·$//'
done | sort >"$tmp/clauses"
dups=$(uniq -d "$tmp/clauses")
[ -z "$dups" ] || { echo "duplicate clause IDs: $dups"; status=1; }

# Clause IDs cited by test names "SHMBUF_CAP_1__behaviour".
grep -hoE '(Test|ParameterizedTest)\([^,]*,[[:space:]]*[a-z_]+,[[:space:]]*[A-Z0-9_]+__|Test\([[:space:]]*[a-z_]+,[[:space:]]*[A-Z0-9_]+__' \
	conformance/*/*.c 2>/dev/null |
	sed -E 's/.*[,(][[:space:]]*([A-Z0-9_]+)__$/\1/' | tr _ - | sort >"$tmp/cited"
sort -u "$tmp/cited" >"$tmp/covered"

for id in $(comm -13 "$tmp/clauses" "$tmp/covered"); do
	echo "test cites unknown clause: $id"
	status=1
done
uncovered=$(comm -23 "$tmp/clauses" "$tmp/covered")
for id in $uncovered; do
	echo "clause without a test: $id"
	status=1
done

for f in conformance/*/*.c; do
	case $f in conformance/lib/* | conformance/report/*) continue ;; esac
	head -n 12 "$f" | grep -q 'Verify that' ||
		{ echo "$f: must open with a comment saying 'Verify that…'"; status=1; }
	if grep -nE '#include[[:space:]]*"' "$f" | grep -vE '"(ipct|ipc_errors|ipc_subject|shmbuf|pipe|fifo|msgpipe|mailbox|socket|framing)\.h"'; then
		echo "$f: conformance code may include only spec/ headers and ipct.h"
		status=1
	fi
	n=$(wc -l <"$f")
	[ "$n" -le 150 ] || echo "warning: $f has $n lines (style: 40-150)"
done

for f in spec/*.md; do
	[ "$(basename "$f")" = README.md ] && continue
	m=$(basename "$f" .md)
	echo "$m: $(grep -cE '^### [A-Z0-9]+(-[A-Z0-9]+)*-[0-9]+ ·' "$f") clauses"
done
total=$(wc -l <"$tmp/clauses")
nun=$(printf '%s' "$uncovered" | grep -c . || true)
echo "clauses: $total, covered: $((total - nun)), uncovered: $nun"
exit $status
