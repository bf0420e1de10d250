#!/bin/bash
# QEMU streams: streamverify against QEMU's scripts/analyze-migration.py
# (when SV_ANALYZE_MIGRATION names a copy; it is never part of the
# repository) and against `cat`, on the real streams of tests/data/qemu and
# on a generated stream of QEMU_BIG bytes of RAM (a sparse regular file, and
# the same stream generated into a pipe).  Prints a Markdown section on
# standard output; exit status 1 when a verdict was wrong.
#
#   SV=build/streamverify SV_BUILD=build SV_DATA=tests/data bash bench/qemu.sh [full|quick]
#
# bench/run.sh calls it with its mode; alone it defaults to quick (64 MiB).
set -u
MODE=${1:-quick}
: "${SV:?}" "${SV_BUILD:?}"
DATA=${SV_DATA:-}
GEN=$SV_BUILD/tests/qemu/gen_qemu
MEASURE=$SV_BUILD/bench/measure
REF=${SV_ANALYZE_MIGRATION:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sv-bench-qemu.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
if [ "$MODE" = full ]; then RUNS=3; BIG=$((4 << 30)); else RUNS=1; BIG=$((64 << 20)); fi

[ -x "$MEASURE" ] || { echo "bench/qemu.sh: $MEASURE missing (make $MEASURE)"; exit 1; }
[ -x "$GEN" ] || { echo "bench/qemu.sh: $GEN missing (make $GEN)"; exit 1; }
m() { "$MEASURE" "$1" "$2"; }
secs() { echo "$1" | cut -d' ' -f1; }
rss() { echo "$1" | cut -d' ' -f2; }
st() { echo "$1" | cut -d' ' -f3; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.1f", a / b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
expect() { [ "$(st "$2")" = "$3" ] || { echo "FAILED: $1 exited $(st "$2"), expected $3"; failures=$((failures + 1)); }; }

# Debian's interpreter, not a shim of PATH (see bench/run.sh, which sets it).
PYTHON=${SV_PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || PYTHON=python3
if [ -n "$REF" ] && [ ! -f "$REF" ]; then REF=""; fi
[ -n "$REF" ] || echo "- analyze-migration.py: SV_ANALYZE_MIGRATION not set: skipped"

echo ""
echo "### QEMU real streams (QEMU 7.2, tests/data/qemu, decompressed)"
echo ""
echo "| stream | bytes | streamverify s | peak RSS MiB | analyze-migration.py s | streamverify is |"
echo "|---|---|---|---|---|---|"
for gz in "$DATA"/qemu/*.qemu.gz; do
	[ -f "$gz" ] || continue
	f=$TMP/$(basename "$gz" .gz)
	gzip -dc "$gz" > "$f"
	sv=$(m "$RUNS" "'$SV' -q --format qemu '$f'")
	expect "streamverify $(basename "$f")" "$sv" 0
	refcol="-" faster="-"
	if [ -n "$REF" ] && gzip -dc "$gz" | head -c 1000000 | grep -q '"devices"'; then
		r=$(m "$RUNS" "$PYTHON '$REF' -f '$f' >/dev/null 2>&1")
		refcol=$(secs "$r")
		faster="$(ratio "$refcol" "$(secs "$sv")")x faster"
	fi
	echo "| $(basename "$f") | $(stat -c %s "$f") | $(secs "$sv") | $(mib "$(rss "$sv")") | $refcol | $faster |"
done

big=$TMP/big.qemu
"$GEN" --size "$BIG" -o "$big" || { echo "FAILED: gen_qemu --size"; exit 1; }
size_h=$(numfmt --to=iec "$BIG" 2>/dev/null || echo "$BIG bytes")
echo ""
echo "### QEMU precopy stream, $size_h of RAM in full pages, sparse regular file"
echo ""
echo "| tool | seconds | peak RSS MiB | streamverify is |"
echo "|---|---|---|---|"
sv=$(m "$RUNS" "'$SV' -q --format qemu '$big'")
expect "streamverify (big file)" "$sv" 0
echo "| streamverify --format qemu | $(secs "$sv") | $(mib "$(rss "$sv")") | |"
c=$(m "$RUNS" "cat '$big' >/dev/null")
echo "| cat FILE > /dev/null | $(secs "$c") | $(mib "$(rss "$c")") | $(ratio "$(secs "$c")" "$(secs "$sv")")x faster |"
if [ -n "$REF" ]; then
	r=$(m 1 "$PYTHON '$REF' -f '$big' >/dev/null 2>&1")
	echo "| analyze-migration.py | $(secs "$r") | $(mib "$(rss "$r")") | $(ratio "$(secs "$r")" "$(secs "$sv")")x faster |"
fi

echo ""
echo "### QEMU precopy stream, $size_h through a pipe"
echo ""
echo "| pipeline | seconds | MiB/s | relative throughput | peak RSS MiB |"
echo "|---|---|---|---|---|"
tp() { awk -v b="$BIG" -v s="$1" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }
svp=$(m "$RUNS" "cat '$big' | '$SV' -q --format qemu -")
expect "streamverify (pipe)" "$svp" 0
catp=$(m "$RUNS" "cat '$big' | cat >/dev/null")
echo "| cat FILE \\| streamverify - | $(secs "$svp") | $(tp "$(secs "$svp")") | $(ratio "$(secs "$catp")" "$(secs "$svp")") | $(mib "$(rss "$svp")") |"
echo "| cat FILE \\| cat > /dev/null | $(secs "$catp") | $(tp "$(secs "$catp")") | 1.0 | $(mib "$(rss "$catp")") |"
teep=$(m "$RUNS" "cat '$big' | '$SV' -q --format qemu --tee - | cat >/dev/null")
expect "streamverify --tee (pipe)" "$teep" 0
catpp=$(m "$RUNS" "cat '$big' | cat | cat >/dev/null")
echo "| cat FILE \\| streamverify --tee - \\| cat | $(secs "$teep") | $(tp "$(secs "$teep")") | $(ratio "$(secs "$catpp")" "$(secs "$teep")") of cat \\| cat \\| cat | $(mib "$(rss "$teep")") |"
gp=$(m 1 "'$GEN' --size $BIG --pipe | '$SV' -q --format qemu -")
expect "streamverify (generated into a pipe)" "$gp" 0
echo "| gen_qemu --pipe \\| streamverify - | $(secs "$gp") | $(tp "$(secs "$gp")") | | $(mib "$(rss "$gp")") (generator included) |"
[ $failures -eq 0 ]
