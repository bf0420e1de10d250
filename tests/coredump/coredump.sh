#!/bin/bash
# streamverify coredump: a core file for every live process of every real
# dump that verifies, each read back by readelf (no warning) and checked by
# check_core.py against the images (segments, notes, registers, every
# page; gdb's registers and stack words where gdb is installed); -p; and
# refusals that leave no core file: another architecture, a process that
# is not there or is a zombie, a dump with errors, a pre-dump.
#
# Env (from make check): SV, SV_DATA, SV_TEST_BUILD.
set -u

SV=${SV:?}
CORPUS=${SV_DATA:?}/criu-real
WORK=${SV_TEST_BUILD:?}/coredump
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf "$WORK"
mkdir -p "$WORK"

fails=0
cores=0
dumps=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

if ! command -v readelf >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	echo "FAIL: readelf (binutils) and python3 are needed"
	exit 1
fi
command -v gdb >/dev/null 2>&1 || echo "SKIP: gdb is not installed: cores are checked without it"

# Live processes of a dump: pids with an mm image.
live_pids() {
	"$SV" decode -i "$1/pstree.img" | python3 -c '
import json, os, sys
for t in json.load(sys.stdin)["entries"]:
    if os.path.exists(os.path.join(sys.argv[1], "mm-%d.img" % t["pid"])):
        print(t["pid"])' "$1"
}

for d in "$CORPUS"/*/; do
	d=${d%/}
	name=$(basename "$d")
	[ -f "$d/pstree.img" ] || continue
	"$SV" -q "$d" >/dev/null 2>&1 || continue # dumps the verifier rejects are refused below
	dumps=$((dumps + 1))
	out=$WORK/$name
	if ! "$SV" coredump "$d" -o "$out" 2>"$WORK/err"; then
		fail "coredump $name: $(head -3 "$WORK/err")"
		continue
	fi
	want=$(live_pids "$d" | sort -n | tr '\n' ' ')
	got=$(ls "$out" | sed -n 's/^core\.//p' | sort -n | tr '\n' ' ')
	[ "$want" = "$got" ] || fail "$name: core files for '$got', live processes '$want'"
	for pid in $want; do
		core=$out/core.$pid
		[ -f "$core" ] || continue
		cores=$((cores + 1))
		if ! readelf -a -W "$core" >"$WORK/readelf" 2>"$WORK/readelf.err" || [ -s "$WORK/readelf.err" ]; then
			fail "readelf $name core.$pid: $(head -3 "$WORK/readelf.err")"
		fi
		grep -q 'Type: *CORE' "$WORK/readelf" || fail "readelf $name core.$pid: not a core file"
		python3 "$HERE/check_core.py" "$SV" "$d" "$pid" "$core" >"$WORK/check" 2>&1 ||
			fail "$(tail -3 "$WORK/check")"
		[ -n "${SV_VERBOSE_TESTS:-}" ] && cat "$WORK/check"
	done
done
[ $dumps -ge 10 ] && [ $cores -ge 12 ] || fail "only $cores cores of $dumps dumps"

# -p: just that process.
"$SV" coredump "$CORPUS/shtree" -p 255 -o "$WORK/one" 2>"$WORK/err" || fail "-p 255: $(cat "$WORK/err")"
[ "$(ls "$WORK/one")" = core.255 ] || fail "-p 255 wrote: $(ls "$WORK/one")"

# refuse NAME MESSAGE ARGS...: exit status 1, the message, no core file.
refuse() {
	local name=$1 want=$2 st
	shift 2
	rm -rf "$WORK/refused"
	"$SV" coredump "$@" -o "$WORK/refused" 2>"$WORK/err"
	st=$?
	[ $st -eq 1 ] || fail "$name: exit status $st, expected 1"
	grep -qF -- "$want" "$WORK/err" || fail "$name: no '$want' in: $(cat "$WORK/err")"
	[ -z "$(ls -A "$WORK/refused" 2>/dev/null)" ] || fail "$name: wrote $(ls -A "$WORK/refused")"
	grep -q -e Sanitizer -e 'runtime error' "$WORK/err" && fail "$name: $(cat "$WORK/err")"
}
refuse "no such process" "has no process 4242" "$CORPUS/sleep" -p 4242
refuse "a zombie" "process 873 is a zombie" "$CORPUS/zombie" -p 873
refuse "a pre-dump" "has no readable pstree.img" "$CORPUS/chain-1"
cp -r "$CORPUS/sleep" "$WORK/broken"
rm "$WORK/broken/pagemap-234.img"
refuse "a dump with errors" "no core files: the dump has errors" "$WORK/broken"
# Another architecture: the core image edited through the text view.
cp -r "$CORPUS/sleep" "$WORK/arm"
"$SV" decode --nice -i "$CORPUS/sleep/core-234.img" | sed 's/mtype: X86_64/mtype: AARCH64/' >"$WORK/arm.txt"
"$SV" encode -i "$WORK/arm.txt" -o "$WORK/arm/core-234.img" || fail "editing the core image"
refuse "aarch64" "thread 234 is of architecture AARCH64: core files are written for x86_64 only" "$WORK/arm"
refuse "a file" "coredump reads a dump directory, not a file" "$CORPUS/sleep/core-234.img"
"$SV" coredump "$CORPUS/sleep" 2>"$WORK/err"
[ $? -eq 2 ] && grep -q "needs -o" "$WORK/err" || fail "no -o: $(cat "$WORK/err")"

# CRIU 4.2's pagemap layout (page count in field 5, nr_pages 0): the same
# memory, so the same core file as from the original dump.
cp -r "$CORPUS/sleep" "$WORK/layout42"
for pm in "$WORK/layout42"/pagemap-*.img; do
	"$SV" decode --text -i "$pm" | sed -E 's/nr_pages: ([0-9]+)/nr_pages: 0 nr_pages64: \1/' >"$WORK/l42.txt" &&
		"$SV" encode -i "$WORK/l42.txt" -o "$pm.new" && mv "$pm.new" "$pm" ||
		fail "layout42: cannot rewrite $pm"
done
grep -q "nr_pages64" "$WORK/l42.txt" || fail "layout42: no page count moved to field 5"
if "$SV" coredump "$CORPUS/sleep" -o "$WORK/c-orig" 2>/dev/null &&
	"$SV" coredump "$WORK/layout42" -o "$WORK/c-42" 2>"$WORK/err"; then
	diff -r "$WORK/c-orig" "$WORK/c-42" >/dev/null || fail "layout42: core files differ from the original's"
else
	fail "layout42: coredump failed: $(head -3 "$WORK/err")"
fi

echo "coredump: $cores core files of $dumps dumps checked, $fails failures"
[ $fails -eq 0 ]
