#!/bin/bash
# make bench / make bench-quick: streamverify against the tools a user would
# otherwise run, in one run, on the same generated inputs, as ratios.
#
#   bench/run.sh full   writes bench/RESULTS.md (sizes of the issue: 1 GiB,
#                       16 GiB through a pipe, 1,000,000-entry pagemap, ...)
#   bench/run.sh quick  the same harness at small sizes, in seconds; checks
#                       that every tool gave a verdict, not the speed
#
# Inputs are generated into a temporary folder and removed afterwards.
# Each figure is the best of $RUNS runs (peers slower than a few seconds
# are run once).  A peer that cannot be had is skipped with a line saying so.
set -u
MODE=${1:-quick}
: "${SV:?}" "${SV_BUILD:?}"
DATA=${SV_DATA:-}
GEN_XEN=$SV_BUILD/tests/xen/gen_xen
GEN_CRIU=$SV_BUILD/tests/criu/gen_criu
MEASURE=$SV_BUILD/bench/measure
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sv-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
report=()

say() { echo "$*"; report+=("$*"); }
fail() { say "FAILED: $*"; failures=$((failures + 1)); }

if [ "$MODE" = full ]; then
	RUNS=3
	XEN_BIG=$((1 << 30)); SCALE="1M:$((1 << 20)) 64M:$((64 << 20)) 1G:$((1 << 30))"
	PIPE_HUGE=$((16 << 30)); PAGEMAP_N=1000000; FILES_N=200000
else
	RUNS=1
	XEN_BIG=$((8 << 20)); SCALE="1M:$((1 << 20)) 4M:$((4 << 20)) 16M:$((16 << 20))"
	PIPE_HUGE=$((64 << 20)); PAGEMAP_N=20000; FILES_N=4000
fi

# measure RUNS CMD -> "secs rss_kib status"
m() { "$MEASURE" "$1" "$2"; }
secs() { echo "$1" | cut -d' ' -f1; }
rss() { echo "$1" | cut -d' ' -f2; }
st() { echo "$1" | cut -d' ' -f3; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.1f", a / b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# expect_status WHAT RESULT WANT
expect_status() {
	[ "$(st "$2")" = "$3" ] || fail "$1 exited $(st "$2"), expected $3"
}

# ---- the peers -----------------------------------------------------------

# The peers written in Python run under Debian's interpreter, the one their
# packages name (#!/usr/bin/python3), not the first python3 of PATH: a
# version manager's shim there (pyenv's is a shell script) adds a third of a
# second to every start and would flatter streamverify.
PYTHON=${SV_PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || PYTHON=python3
export SV_PYTHON=$PYTHON

# Xen's verify-stream-v2, unpacked from its Debian package, never installed.
XEN_REF=""
find_xen_ref() {
	local root=${SV_XEN_REF:-$SV_BUILD/xen-ref}
	if [ ! -d "$root/usr/lib/xen-4.17" ] && command -v apt-get >/dev/null; then
		mkdir -p "$root.dl" && (cd "$root.dl" && apt-get download xen-utils-4.17 >/dev/null 2>&1) &&
			dpkg -x "$root.dl"/xen-utils-4.17_*.deb "$root" 2>/dev/null
		rm -rf "$root.dl"
	fi
	local bin
	bin=$(find "$root/usr/lib/xen-4.17" -name verify-stream-v2 -type f 2>/dev/null | head -1)
	[ -n "$bin" ] || return 1
	local py
	py=$(find "$root/usr/lib" -type d -path '*/xen/migration' 2>/dev/null | head -1)
	[ -n "$py" ] || return 1
	XEN_REF="PYTHONPATH=$(dirname "$(dirname "$py")") $PYTHON $bin"
}
find_xen_ref || say "- verify-stream-v2: not available (apt-get download xen-utils-4.17 failed): skipped"

CRIT=""
if command -v crit >/dev/null 2>&1; then CRIT=crit; else
	say "- crit: not installed (Debian package criu): skipped"
fi

# ---- Xen -------------------------------------------------------------------

xen_file=$TMP/xen-big.libxc
"$GEN_XEN" --hvm-size "$XEN_BIG" -o "$xen_file" || { fail "gen_xen --hvm-size"; exit 1; }
size_h=$(numfmt --to=iec "$XEN_BIG" 2>/dev/null || echo "$XEN_BIG bytes")

say ""
say "### Xen libxc HVM stream, $size_h regular file"
say ""
say "| tool | seconds | peak RSS MiB | streamverify is |"
say "|---|---|---|---|"
sv=$(m "$RUNS" "'$SV' -q --format libxc '$xen_file'")
expect_status "streamverify (xen file)" "$sv" 0
say "| streamverify --format libxc | $(secs "$sv") | $(mib "$(rss "$sv")") | |"
cat_r=$(m "$RUNS" "cat '$xen_file' >/dev/null")
say "| cat FILE > /dev/null | $(secs "$cat_r") | $(mib "$(rss "$cat_r")") | $(ratio "$(secs "$cat_r")" "$(secs "$sv")")x faster |"
if [ -n "$XEN_REF" ]; then
	ref=$(m 1 "$XEN_REF -i '$xen_file' >/dev/null 2>&1")
	expect_status "verify-stream-v2 (xen file)" "$ref" 0
	say "| verify-stream-v2 | $(secs "$ref") | $(mib "$(rss "$ref")") | $(ratio "$(secs "$ref")" "$(secs "$sv")")x faster (goal: 200x) |"
fi

say ""
say "### Start-up floor (issue 21: verify at most 1.5x, --version at most 1.2x /bin/true)"
say ""
say "| command | seconds | relative to /bin/true |"
say "|---|---|---|"
true_r=$(m "$RUNS" "/bin/true")
ver_r=$(m "$RUNS" "'$SV' --version >/dev/null")
say "| /bin/true | $(secs "$true_r") | 1.0 |"
say "| streamverify --version | $(secs "$ver_r") | $(ratio "$(secs "$ver_r")" "$(secs "$true_r")") (goal: at most 1.2) |"
say "| streamverify --format libxc $size_h file | $(secs "$sv") | $(ratio "$(secs "$sv")" "$(secs "$true_r")") (goal: at most 1.5) |"

say ""
say "### Xen libxc HVM stream, $size_h through a pipe"
say ""
say "| pipeline | seconds | MiB/s | relative throughput |"
say "|---|---|---|---|"
svp=$(m "$RUNS" "cat '$xen_file' | '$SV' -q --format libxc -")
expect_status "streamverify (xen pipe)" "$svp" 0
catp=$(m "$RUNS" "cat '$xen_file' | cat >/dev/null")
tp() { awk -v b="$XEN_BIG" -v s="$1" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }
say "| cat FILE \\| streamverify - | $(secs "$svp") | $(tp "$(secs "$svp")") | $(ratio "$(secs "$catp")" "$(secs "$svp")") (goal: at least 0.9) |"
say "| cat FILE \\| cat > /dev/null | $(secs "$catp") | $(tp "$(secs "$catp")") | 1.0 |"
teep=$(m "$RUNS" "cat '$xen_file' | '$SV' -q --format libxc --tee - | cat >/dev/null")
expect_status "streamverify --tee (xen pipe)" "$teep" 0
catpp=$(m "$RUNS" "cat '$xen_file' | cat | cat >/dev/null")
say "| cat FILE \\| streamverify --tee - \\| cat | $(secs "$teep") | $(tp "$(secs "$teep")") | $(ratio "$(secs "$catpp")" "$(secs "$teep")") of cat \\| cat \\| cat (goal: at least 0.9); peak RSS $(mib "$(rss "$teep")") MiB |"

say ""
say "### Xen size scaling (peak RSS must not grow; goal at most 8 MiB)"
say ""
say "| input | seconds | seconds per GiB | peak RSS MiB |"
say "|---|---|---|---|"
for pair in $SCALE; do
	label=${pair%%:*} bytes=${pair#*:}
	f=$TMP/scale-$label.libxc
	"$GEN_XEN" --hvm-size "$bytes" -o "$f" || { fail "gen_xen $label"; continue; }
	r=$(m "$RUNS" "'$SV' -q --format libxc '$f'")
	expect_status "streamverify $label" "$r" 0
	say "| $label file | $(secs "$r") | $(awk -v s="$(secs "$r")" -v b="$bytes" 'BEGIN { printf "%.4f", s * 1073741824 / b }') | $(mib "$(rss "$r")") |"
	[ "$label" = 1G ] || [ "$MODE" = quick ] || rm -f "$f"
done
huge_h=$(numfmt --to=iec "$PIPE_HUGE" 2>/dev/null || echo "$PIPE_HUGE bytes")
r=$(m 1 "'$GEN_XEN' --hvm-size $PIPE_HUGE -o - | '$SV' -q --format libxc -")
expect_status "streamverify $huge_h pipe" "$r" 0
say "| $huge_h generated into a pipe | $(secs "$r") | $(awk -v s="$(secs "$r")" -v b="$PIPE_HUGE" 'BEGIN { printf "%.4f", s * 1073741824 / b }') | $(mib "$(rss "$r")") (generator included) |"
rm -f "$TMP"/scale-*

# ---- CRIU --------------------------------------------------------------------

say ""
say "### CRIU big images"
say ""
pagemap=$TMP/pagemap-1.img
files=$TMP/files.img
"$GEN_CRIU" --pagemap "$PAGEMAP_N" -o "$pagemap" || fail "gen_criu --pagemap"
"$GEN_CRIU" --files "$FILES_N" -o "$files" || fail "gen_criu --files"
say "| image | operation | streamverify s | peak RSS MiB | crit s | streamverify is |"
say "|---|---|---|---|---|---|"
for img in "$pagemap" "$files"; do
	label="$(basename "$img") ($( [ "$img" = "$pagemap" ] && echo "$PAGEMAP_N" || echo "$FILES_N") entries)"
	v=$(m "$RUNS" "'$SV' -q --format criu '$img'")
	expect_status "streamverify criu $label" "$v" 0
	d=$(m "$RUNS" "'$SV' decode -i '$img' >'$TMP/d.json'")
	expect_status "streamverify decode $label" "$d" 0
	p=$(m "$RUNS" "'$SV' decode --pretty -i '$img' >'$TMP/p.json'")
	expect_status "streamverify decode --pretty $label" "$p" 0
	e=$(m "$RUNS" "'$SV' encode -i '$TMP/d.json' -o '$TMP/e.img'")
	expect_status "streamverify encode $label" "$e" 0
	cmp -s "$img" "$TMP/e.img" || fail "encode of $label is not byte-identical"
	if [ -n "$CRIT" ]; then
		cd_r=$(m 1 "crit decode -i '$img' >'$TMP/c.json'")
		expect_status "crit decode $label" "$cd_r" 0
		cp_r=$(m 1 "crit decode --pretty -i '$img' >/dev/null")
		ce_r=$(m 1 "crit encode -i '$TMP/c.json' -o '$TMP/ce.img'")
		# A peer that failed gives no time to compare with.
		vs() { # PEER_RESULT OURS GOAL
			if [ "$(st "$1")" != 0 ]; then echo "crit failed (exit $(st "$1"))"
			else echo "$(ratio "$(secs "$1")" "$(secs "$2")")x faster$3"; fi
		}
		say "| $label | verify | $(secs "$v") | $(mib "$(rss "$v")") | $(secs "$cd_r") (decode) | $(vs "$cd_r" "$v" " (goal: 300x)") |"
		say "| $label | decode | $(secs "$d") | $(mib "$(rss "$d")") | $(secs "$cd_r") | $(vs "$cd_r" "$d" " (goal: 100x)") |"
		say "| $label | decode --pretty | $(secs "$p") | $(mib "$(rss "$p")") | $(secs "$cp_r") | $(vs "$cp_r" "$p" "") |"
		say "| $label | encode | $(secs "$e") | $(mib "$(rss "$e")") | $(secs "$ce_r") | $(vs "$ce_r" "$e" "") |"
	else
		say "| $label | verify / decode / pretty / encode | $(secs "$v") / $(secs "$d") / $(secs "$p") / $(secs "$e") | $(mib "$(rss "$v")") | skipped | |"
	fi
done

if [ -n "$DATA" ] && [ -d "$DATA/criu-real" ]; then
	say ""
	say "### CRIU real dumps, whole-dump verification (goal: under 10 ms each)"
	say ""
	say "| dump | streamverify ms | crit x DIR ps ms |"
	say "|---|---|---|"
	for d in "$DATA"/criu-real/*/; do
		name=$(basename "$d")
		r=$(m "$RUNS" "'$SV' -q --format criu '$d'")
		expect_status "streamverify dump $name" "$r" 0
		c="skipped"
		[ -n "$CRIT" ] && c=$(awk -v s="$(secs "$(m 1 "crit x '$d' ps >/dev/null")")" 'BEGIN { printf "%.1f", s * 1000 }')
		say "| $name | $(awk -v s="$(secs "$r")" 'BEGIN { printf "%.1f", s * 1000 }') | $c |"
	done
fi

# ---- criu-image-streamer captures ---------------------------------------------

GEN_CAP=$SV_BUILD/tests/criu-stream/gen_stream
if [ -n "$DATA" ] && [ -d "$DATA/criu-real/sleep" ] && [ -x "$GEN_CAP" ]; then
	"$GEN_CAP" --all "$DATA/criu-real/sleep" "$TMP/cap" >/dev/null || fail "gen_stream --all"
	cap=$TMP/cap/valid/dump.capture
	markers_n=100000
	[ "$MODE" = full ] && markers_n=1000000
	"$GEN_CAP" --markers "$markers_n" "$TMP/markers.capture" || fail "gen_stream --markers"
	say ""
	say "### criu-image-streamer captures (the real sleep dump, captured; $markers_n markers)"
	say ""
	say "| input | seconds | peak RSS MiB |"
	say "|---|---|---|"
	r=$(m "$RUNS" "'$SV' -q --format criu-stream '$cap'")
	expect_status "streamverify capture file" "$r" 0
	say "| sleep dump capture ($(stat -c %s "$cap") bytes), file | $(secs "$r") | $(mib "$(rss "$r")") |"
	r=$(m "$RUNS" "cat '$cap' | '$SV' -q --format criu-stream -")
	expect_status "streamverify capture pipe" "$r" 0
	say "| the same through a pipe | $(secs "$r") | $(mib "$(rss "$r")") |"
	r=$(m "$RUNS" "cat '$cap' | '$SV' -q --format criu-stream --tee - | cmp -s - '$cap'")
	expect_status "streamverify --tee capture (forwarded byte for byte)" "$r" 0
	say "| the same with --tee, compared with the input | $(secs "$r") | $(mib "$(rss "$r")") |"
	r=$(m 1 "'$SV' -q --format criu-stream '$TMP/markers.capture'")
	# A capture of markers alone carries no dump: a verdict (exit 0 or 1), never a crash.
	[ "$(st "$r")" -le 1 ] || fail "streamverify $markers_n markers exited $(st "$r")"
	say "| $markers_n markers ($(stat -c %s "$TMP/markers.capture") bytes) | $(secs "$r") | $(mib "$(rss "$r")") |"
	rm -rf "$TMP/cap" "$TMP/markers.capture"
else
	say "- captures: tests/data/criu-real/sleep or gen_stream missing: skipped"
fi

# ---- QEMU streams and container archives (their own scripts) -------------------

for part in qemu archive; do
	out=$TMP/$part.md
	if SV_DATA=${DATA:-} bash "$(dirname "$0")/$part.sh" "$MODE" >"$out" 2>&1; then
		while IFS= read -r line; do say "$line"; done <"$out"
	else
		cat "$out"
		fail "bench/$part.sh ($MODE)"
	fi
done

# ---- instruction counts ------------------------------------------------------

if command -v valgrind >/dev/null 2>&1; then
	say ""
	say "### Instructions (valgrind --tool=callgrind; stable from run to run)"
	say ""
	say "| case | instructions |"
	say "|---|---|"
	f=$TMP/cg.libxc
	cg_size=$((4 << 20))
	[ "$MODE" = full ] && cg_size=$((64 << 20))
	"$GEN_XEN" --hvm-size "$cg_size" -o "$f" || fail "gen_xen for callgrind"
	for c in "libxc $(numfmt --to=iec "$(stat -c %s "$f")")|--format libxc $f" "pagemap $PAGEMAP_N entries|--format criu $pagemap"; do
		label=${c%%|*} args=${c#*|}
		# shellcheck disable=SC2086
		ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$SV" -q $args 2>&1 |
			sed -n 's/.*Collected : *\([0-9]*\).*/\1/p')
		say "| $label | ${ir:-?} |"
	done
else
	say "- valgrind: not installed: instruction counts skipped"
fi

echo
if [ "$failures" -ne 0 ]; then
	echo "bench ($MODE): $failures problem(s)"
	exit 1
fi
echo "bench ($MODE): every tool gave the expected verdict"
if [ "$MODE" = full ]; then
	out=$(dirname "$0")/RESULTS.md
	{
		echo "# Benchmark results"
		echo
		echo "Made by \`make bench\` on $(date -u +%Y-%m-%d), $(nproc) cores,"
		echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ { print $2 }') GiB,"
		echo "$(uname -sr), streamverify $("$SV" --version | cut -d' ' -f2), $("$PYTHON" --version 2>&1) ($PYTHON) for the peers"
		echo "written in Python. Best of $RUNS runs (slow peers: 1 run)."
		printf '%s\n' "${report[@]}"
	} >"$out"
	echo "written: $out"
fi
