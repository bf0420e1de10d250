#!/bin/bash
# streamverify convert to and from image version 3 (LZ4-compressed pages):
#  - every real dump (not pre-dumps) to version 3 per page and per region
#    (256K and 4M regions): the result verifies with no finding at all, is
#    image version 3 in the mode asked for, its pages files shrank, and
#    back to 1.1 it is the original byte for byte (2 -> 3 -> 2 exact);
#    dumps with a parent are converted beside their original parent (only
#    this level changes) and say so (criu.convert.parent);
#  - gen_criu --v3-dump dumps (both modes): to 1.1 they are the real dump
#    they were made from, and back to 3 with the generator's settings they
#    are the generator's bytes (3 -> 2 -> 3 exact); likewise through
#    version 1; an entry made raw and PE_PAYLOAD_ALIGNED, and CRIU 4.2's
#    page count (field 5), both ways;
#  - refusals, each with its exit status and message, leaving no OUT.
# A differential test against crit's decompress (criu-dev) runs only when
# that crit is installed; Debian's crit 3.17 has no such command: skipped.
#
# Env (from make check): SV, SV_BUILD, SV_DATA, SV_TEST_BUILD.
set -u

SV=${SV:?}
CORPUS=${SV_DATA:?}/criu-real
GEN=${SV_BUILD:?}/tests/criu/gen_criu
WORK=${SV_TEST_BUILD:?}/convert3
rm -rf "$WORK"
mkdir -p "$WORK"

fails=0 dumps=0 generated=0 refusals=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# clean DIR NAME: DIR verifies valid with no finding of any severity.
clean() {
	local out st
	out=$("$SV" --json "$1" 2>&1)
	st=$?
	[ $st -eq 0 ] || fail "$2: exit $st: $(printf '%s\n' "$out" | grep diagnostic | head -3)"
	! printf '%s\n' "$out" | grep -q '"type":"diagnostic"' ||
		fail "$2: findings: $(printf '%s\n' "$out" | grep diagnostic | head -3)"
}
inventory() { "$SV" decode --text -i "$1/inventory.img"; }
pages_bytes() { cat "$1"/pages-*.img 2>/dev/null | wc -c; }

# ---- real dumps: 2 -> 3 -> 2 --------------------------------------------------
for d in "$CORPUS"/*/; do
	d=${d%/}
	name=$(basename "$d")
	inventory "$d" | grep -q 'img_version: 2 ' || continue # pre-dumps: refused below
	for mode in page 256K 4M; do
		args=() want='compress: 1'
		[ $mode = page ] || { args=(--compress-region $mode); want='compress: 2'; }
		base=$WORK/real-$mode
		mkdir -p "$base"
		if [ -L "$d/parent" ]; then
			# Beside the original parent: only this level is converted.
			parent=$(readlink "$d/parent")
			[ -e "$base/${parent#../}" ] || cp -a "$CORPUS/${parent#../}" "$base/"
			grand=$(readlink "$CORPUS/${parent#../}/parent" 2>/dev/null) &&
				{ [ -e "$base/${grand#../}" ] || cp -a "$CORPUS/${grand#../}" "$base/"; }
		fi
		v3=$base/$name.v3 back=$base/$name.back
		[ -L "$d/parent" ] && v3=$base/x-$name && back=$base/y-$name
		"$SV" convert --to 3 "${args[@]}" "$d" -o "$v3" 2>"$WORK/err" ||
			{ fail "$name --to 3 ($mode): $(head -3 "$WORK/err")"; continue; }
		if [ -L "$d/parent" ]; then
			grep -qx "$d: note: only this dump is compressed: PE_PARENT pages stay in the parent, which keeps its image version \[criu.convert.parent\]" "$WORK/err" ||
				fail "$name: no criu.convert.parent note: $(cat "$WORK/err")"
		else
			[ ! -s "$WORK/err" ] || fail "$name --to 3 ($mode) said: $(head -3 "$WORK/err")"
		fi
		clean "$v3" "$name in version 3 ($mode)"
		inventory "$v3" | grep -q 'img_version: 3 ' || fail "$name ($mode): img_version"
		inventory "$v3" | grep -qE "$want( |\$)" || fail "$name ($mode): not $want"
		if [ $mode != page ]; then
			case $mode in *K) size=$(( ${mode%K} << 10 )) ;; *M) size=$(( ${mode%M} << 20 )) ;; esac
			inventory "$v3" | grep -qE "compress_region_size: $size( |\$)" ||
				fail "$name ($mode): compress_region_size is not $size"
		fi
		a=$(pages_bytes "$d") b=$(pages_bytes "$v3")
		[ "$a" -eq 0 ] || [ "$b" -lt "$a" ] || fail "$name ($mode): pages not compressed ($a -> $b)"
		"$SV" convert --to 1.1 "$v3" -o "$back" 2>"$WORK/err" ||
			{ fail "$name --to 1.1 from 3 ($mode): $(head -3 "$WORK/err")"; continue; }
		diff -r --no-dereference "$d" "$back" >"$WORK/diff" 2>&1 ||
			fail "$name 2 -> 3 -> 2 ($mode) differs: $(head -3 "$WORK/diff")"
		[ $mode = page ] && dumps=$((dumps + 1))
	done
done
[ $dumps -ge 10 ] || fail "only $dumps real dumps converted"

# ---- generated version-3 dumps: 3 -> 2 -> 3 -------------------------------------
for name in sleep threads shtree net ghost; do
	for mode in 1 2; do
		g=$WORK/gen-$name-$mode
		"$GEN" --v3-dump "$CORPUS/$name" "$g" $mode || { fail "gen_criu --v3-dump $name $mode"; continue; }
		clean "$g" "generated $name (mode $mode)"
		args=()
		[ $mode = 2 ] && args=(--compress-region 16K) # gen_criu's regions: 4 pages
		"$SV" convert --to 1.1 "$g" -o "$g.v2" 2>"$WORK/err" ||
			{ fail "generated $name ($mode) --to 1.1: $(head -3 "$WORK/err")"; continue; }
		[ ! -s "$WORK/err" ] || fail "generated $name ($mode) --to 1.1 said: $(head -3 "$WORK/err")"
		clean "$g.v2" "generated $name ($mode) in 1.1"
		diff -r "$CORPUS/$name" "$g.v2" >"$WORK/diff" 2>&1 ||
			fail "generated $name ($mode) to 1.1 is not the dump it came from: $(head -3 "$WORK/diff")"
		"$SV" convert --to 3 "${args[@]}" "$g.v2" -o "$g.v3" 2>"$WORK/err" ||
			{ fail "generated $name ($mode) back to 3: $(head -3 "$WORK/err")"; continue; }
		diff -r "$g" "$g.v3" >"$WORK/diff" 2>&1 ||
			fail "generated $name ($mode) 3 -> 2 -> 3 differs: $(head -3 "$WORK/diff")"
		# ... and through version 1 (no head magic): 3 -> 1 -> 3.
		"$SV" convert --to 1 "$g" -o "$g.v1" 2>"$WORK/err" &&
			"$SV" convert --to 3 "${args[@]}" "$g.v1" -o "$g.v13" 2>>"$WORK/err" ||
			{ fail "generated $name ($mode) through version 1: $(head -3 "$WORK/err")"; continue; }
		clean "$g.v1" "generated $name ($mode) in version 1"
		diff -r "$g" "$g.v13" >"$WORK/diff" 2>&1 ||
			fail "generated $name ($mode) 3 -> 1 -> 3 differs: $(head -3 "$WORK/diff")"
		generated=$((generated + 1))
	done
done
[ $generated -eq 10 ] || fail "only $generated generated dumps went there and back"

# PE_PAYLOAD_ALIGNED: the last entry of a per-page dump made raw and
# page-aligned, as CRIU stores HugeTLB ranges; back to 1.1 the padding and
# the flag go and the dump is the original (the way to 3 again would
# compress that range: version 1.1 does not say which ranges were aligned).
al=$WORK/aligned
cp -r "$WORK/gen-sleep-1" "$al"
pm=$al/pagemap-234.img pg=$al/pages-1.img
"$SV" decode --text -i "$pm" >"$WORK/al.txt"
last=$(grep -v '^#' "$WORK/al.txt" | tail -1)
pages=$(printf '%s\n' "$last" | sed -nE 's/.* nr_pages: ([0-9]+) .*/\1/p')
total=$(printf '%s\n' "$last" | sed -nE 's/.* total_compressed_size: ([0-9]+).*/\1/p')
if [ -n "$pages" ] && [ -n "$total" ] && printf '%s\n' "$last" | grep -q ' flags: 4 '; then
	start=$(( $(stat -c %s "$pg") - total ))
	{ sed '$d' "$WORK/al.txt"; printf '%s\n' "$last" |
		sed -E 's/ flags: 4 / flags: 12 /; s/ (compressed_size|total_compressed_size): [0-9]+//g'; } >"$WORK/al2.txt"
	"$SV" encode -i "$WORK/al2.txt" -o "$pm" || fail "aligned: cannot encode the pagemap"
	truncate -s $(( (start + 4095) / 4096 * 4096 )) "$pg"
	tail -c $(( pages * 4096 )) "$CORPUS/sleep/pages-1.img" >>"$pg"
	clean "$al" "aligned"
	"$SV" convert --to 1.1 "$al" -o "$al.v2" 2>"$WORK/err" || fail "aligned: --to 1.1: $(head -3 "$WORK/err")"
	diff -r "$CORPUS/sleep" "$al.v2" >"$WORK/diff" 2>&1 || fail "aligned: 3 -> 2 differs: $(head -3 "$WORK/diff")"
else
	fail "aligned: the last entry of $pm is not a compressed PE_PRESENT one: $last"
fi

# CRIU 4.2's page count (field 5, field 2 written as 0) survives both ways.
l42=$WORK/layout42
cp -r "$WORK/gen-sleep-2" "$l42"
for pm in "$l42"/pagemap-*.img; do
	"$SV" decode --text -i "$pm" | sed -E 's/nr_pages: ([0-9]+)/nr_pages: 0 nr_pages64: \1/' >"$WORK/l42.txt" &&
		"$SV" encode -i "$WORK/l42.txt" -o "$pm" || fail "layout42: cannot rewrite $pm"
done
"$SV" -q "$l42" >/dev/null 2>&1 || fail "layout42: the fixture does not verify"
if "$SV" convert --to 1.1 "$l42" -o "$l42.v2" 2>/dev/null &&
	"$SV" convert --to 3 --compress-region 16K "$l42.v2" -o "$l42.v3" 2>/dev/null; then
	"$SV" decode --text -i "$(ls "$l42.v2"/pagemap-*.img | head -1)" 2>/dev/null | grep -q 'nr_pages: 0 .*nr_pages64: ' ||
		fail "layout42: field 5 lost in 1.1"
	"$SV" -q "$l42.v2" >/dev/null 2>&1 || fail "layout42: 1.1 does not verify"
	diff -r "$l42" "$l42.v3" >"$WORK/diff" 2>&1 || fail "layout42: 3 -> 2 -> 3 differs: $(head -3 "$WORK/diff")"
else
	fail "layout42: not converted"
fi

# ---- refusals: exit status, the message, no OUT -----------------------------------
# refuse NAME STATUS MESSAGE ARGS...: convert ARGS exits STATUS with the
# line MESSAGE on stderr and leaves neither $WORK/out nor a temporary.
refuse() {
	local name=$1 want_st=$2 want=$3 st
	shift 3
	rm -rf "$WORK/out"
	"$SV" convert "$@" 2>"$WORK/err"
	st=$?
	refusals=$((refusals + 1))
	[ $st -eq "$want_st" ] || fail "$name: exit $st, not $want_st"
	grep -qxF -- "$want" "$WORK/err" || fail "$name: no line '$want' in: $(cat "$WORK/err")"
	[ ! -e "$WORK/out" ] || fail "$name: OUT was written"
	ls -d "$WORK"/out.* >/dev/null 2>&1 && fail "$name: left a temporary behind"
}
S=$CORPUS/sleep G=$WORK/gen-sleep-1
refuse "unknown version" 1 "$S: error: unknown image version '9' (1, 1.1 or 3) [criu.convert.version]" \
	--to 9 "$S" -o "$WORK/out"
refuse "region not a multiple of 4096" 1 "$S: error: --compress-region '5000' is not a multiple of 4096 bytes from 4096 to 4M [criu.convert.version]" \
	--to 3 --compress-region 5000 "$S" -o "$WORK/out"
refuse "region above 4 MiB" 1 "$S: error: --compress-region '8M' is not a multiple of 4096 bytes from 4096 to 4M [criu.convert.version]" \
	--to 3 --compress-region 8M "$S" -o "$WORK/out"
refuse "region without --to 3" 1 "$S: error: --compress-region goes with --to 3 from image version 1 or 1.1 [criu.convert.version]" \
	--to 1.1 --compress-region 16K "$S" -o "$WORK/out"
refuse "region on a version-3 dump" 1 "$G: error: --compress-region goes with --to 3 from image version 1 or 1.1 [criu.convert.version]" \
	--to 3 --compress-region 16K "$G" -o "$WORK/out"
refuse "one image to 3" 1 "$S/core-234.img: error: image version 3 compresses a pagemap's pages file along with it: convert the dump directory, not one image [criu.convert.version]" \
	--to 3 "$S/core-234.img" -o "$WORK/out"
refuse "a version-3 inventory alone" 1 "$G/inventory.img:0x4: error: an image version 3 inventory goes with compressed pages: convert the dump directory, not one image [criu.convert.version]" \
	--to 1.1 "$G/inventory.img" -o "$WORK/out"
refuse "pre-dump to 3" 1 "$CORPUS/chain-1: error: a pre-dump (img_version 0) has only the version 1.1 layout [criu.convert.version]" \
	--to 3 "$CORPUS/chain-1" -o "$WORK/out"
mkdir "$WORK/exists"
refuse "existing OUT" 1 "$S: error: $WORK/exists exists: a converted dump goes to a new directory [criu.convert.output]" \
	--to 3 "$S" -o "$WORK/exists"
[ -z "$(ls -A "$WORK/exists")" ] || fail "existing OUT was written into"
"$SV" coredump --compress-region 4K "$S" -o "$WORK/out" 2>"$WORK/err"
st=$?
[ $st -eq 2 ] && grep -qx "streamverify: --compress-region goes with convert" "$WORK/err" ||
	fail "coredump --compress-region: exit $st: $(cat "$WORK/err")"

# Damaged version-3 inputs: the finding, then the refusal; the input untouched.
# damaged NAME FILE CODE: $WORK/bad (a damaged copy of $G) is refused with
# CODE reported in FILE and "not converted: the dump has errors".
damaged() {
	local name=$1 file=$2 code=$3 sum
	sum=$(cat "$WORK/bad"/* | md5sum)
	refuse "$name" 1 "$WORK/bad: error: not converted: the dump has errors [criu.convert.input]" \
		--to 1.1 "$WORK/bad" -o "$WORK/out"
	grep -q "^$WORK/bad/$file:.* \[$code\]\$" "$WORK/err" || fail "$name: no $code in $file: $(cat "$WORK/err")"
	[ "$(cat "$WORK/bad"/* | md5sum)" = "$sum" ] || fail "$name: the input changed"
}
p1=$(cd "$G" && ls pages-*.img | head -1)
rm -rf "$WORK/bad" && cp -r "$G" "$WORK/bad"
printf '\377\377\377\377\377\377\377\377' | dd of="$WORK/bad/$p1" bs=1 seek=0 conv=notrunc 2>/dev/null
damaged "an LZ4 block that does not decode" "$p1" criu.pages.lz4
rm -rf "$WORK/bad" && cp -r "$G" "$WORK/bad"
truncate -s -1 "$WORK/bad/$p1"
damaged "a pages file one octet short" "$p1" criu.pages.payload-size
rm -rf "$WORK/bad" && cp -r "$G" "$WORK/bad"
printf '\0' >>"$WORK/bad/$p1"
damaged "a pages file one octet long" "$p1" criu.pages.payload-size
# A version-1.1 dump with a broken pages file is not compressed either.
rm -rf "$WORK/bad" && cp -r "$S" "$WORK/bad"
p1=$(cd "$S" && ls pages-*.img | head -1)
truncate -s -4096 "$WORK/bad/$p1"
rm -rf "$WORK/out"
"$SV" convert --to 3 "$WORK/bad" -o "$WORK/out" 2>"$WORK/err"
st=$?
[ $st -eq 1 ] && grep -qxF "$WORK/bad: error: not converted: the dump has errors [criu.convert.input]" "$WORK/err" &&
	[ ! -e "$WORK/out" ] || fail "short version-1.1 pages file: exit $st: $(cat "$WORK/err")"

# ---- a chain with every level in version 3 --------------------------------------
# incr-2's parent sized by its compressed payloads, not by present pages x
# 4096 (a false criu.dump.pages.size before); one octet short is still found.
c=$WORK/chain3
mkdir -p "$c"
for name in incr-1 incr-2; do
	"$SV" convert --to 3 "$CORPUS/$name" -o "$c/$name" 2>/dev/null ||
		fail "$name --to 3 for the version-3 chain"
done
clean "$c/incr-2" "incr-2 on a version-3 incr-1"
p1=$(cd "$c/incr-1" && ls pages-*.img | head -1)
size=$(stat -c %s "$c/incr-1/$p1")
truncate -s -1 "$c/incr-1/$p1"
out=$("$SV" "$c/incr-2" 2>&1)
st=$?
printf '%s\n' "$out" | grep -qF "$c/incr-2/parent/$p1: error: $((size - 1)) bytes, but $c/incr-2/parent/pagemap-" &&
	printf '%s\n' "$out" | grep -qF "($size bytes) [criu.dump.pages.size]" && [ $st -eq 1 ] ||
	fail "version-3 parent one octet short: exit $st: $out"

# ---- differential: crit's own decompress (criu-dev only) --------------------------
if command -v crit >/dev/null 2>&1 && crit --help 2>&1 | grep -qw decompress; then
	g=$WORK/gen-threads-2
	cp -r "$g" "$WORK/crit-in"
	if crit decompress "$WORK/crit-in" >"$WORK/err" 2>&1; then
		for f in "$WORK/crit-in"/pages-*.img; do
			cmp -s "$f" "$g.v2/$(basename "$f")" || fail "crit decompress and ours differ: $(basename "$f")"
		done
	else
		fail "crit decompress: $(head -3 "$WORK/err")"
	fi
else
	echo "SKIP: differential test against crit decompress (needs crit from criu-dev; $(crit --version 2>/dev/null || echo 'no crit') here)"
fi

echo "criu-convert (version 3): $dumps real dumps 2 -> 3 -> 2 in three modes, $generated generated dumps 3 -> 2 -> 3, $refusals refusals, $fails failures"
[ $fails -eq 0 ]
