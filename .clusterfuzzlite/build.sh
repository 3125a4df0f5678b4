#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# Build every fuzz/<t>_fuzz.c into $OUT/<t>, with <t>_seed_corpus.zip and
# <t>.dict next to it, the OSS-Fuzz / ClusterFuzzLite way: compile with
# $CC $CFLAGS, link with $CXX $CXXFLAGS ... $LIB_FUZZING_ENGINE, link
# dependencies statically. Also runs outside docker (docs/fuzzing.md):
#   CC=clang CXX=clang++ CFLAGS='-fsanitize=fuzzer-no-link,address' \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out .clusterfuzzlite/build.sh
SRC_ROOT=${SRC:+$SRC/ipcspec}
SRC_ROOT=${SRC_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
CC=${CC:-clang}
CXX=${CXX:-clang++}
CFLAGS=${CFLAGS:-}
CXXFLAGS=${CXXFLAGS:-$CFLAGS}
WORK=${WORK:-$(mktemp -d)}
: "${OUT:?set OUT to the output directory}"
: "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE (e.g. -fsanitize=fuzzer)}"

cd "$SRC_ROOT"
mkdir -p "$OUT" "$WORK/obj"
# Without the nng-mailbox subject: the image has no libnng (and a static
# one would drag mbedtls in); no target fuzzes it. Without ISA-L either: the
# framing CRC falls back to its tables (same results, checked by the fuzzers).
CPPFLAGS="-D_GNU_SOURCE -Ispec -Iimpl -DIPCSPEC_NO_NNG -DIPCSPEC_NO_ISAL"
STD="-std=gnu11 -pthread"

# Static libck when present: the runner image does not have the shared one.
LIBCK=-lck
for d in /usr/lib/x86_64-linux-gnu /usr/lib/i386-linux-gnu /usr/lib; do
	if [ -f "$d/libck.a" ]; then LIBCK="$d/libck.a"; break; fi
done

objs=()
while IFS= read -r src; do
	obj="$WORK/obj/$(echo "$src" | tr / _).o"
	$CC $CFLAGS $STD $CPPFLAGS -c "$src" -o "$obj"
	objs+=("$obj")
done < <(find impl -name '*.c' -not -path 'impl/broken/*' -not -name 'nng_*' | sort)

for src in fuzz/*_fuzz.c; do
	t=$(basename "$src" _fuzz.c)
	$CC $CFLAGS $STD $CPPFLAGS -c "$src" -o "$WORK/obj/$t.o"
	# $CXX links, as OSS-Fuzz requires, even for C.
	$CXX $CXXFLAGS -o "$OUT/$t" "$WORK/obj/$t.o" "${objs[@]}" $LIB_FUZZING_ENGINE \
		"$LIBCK" -lrt -pthread
	if [ -d "fuzz/corpus/$t" ]; then
		rm -f "$OUT/${t}_seed_corpus.zip"
		(cd "fuzz/corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
	fi
	if [ -f "fuzz/$t.dict" ]; then
		cp "fuzz/$t.dict" "$OUT/$t.dict"
	fi
done
