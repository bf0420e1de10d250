#!/bin/bash
# Dumps in an archive whose pages files come before their pagemaps (and the
# inventory last, as CRIU writes it): read in one pass, the pages checks
# still happen, with the same findings as in directory order.  Uncompressed
# (a real dump) and image version 3 (the real dump rewritten by gen_criu
# --v3-dump, both modes): valid ones are clean; one octet short, a garbage
# LZ4 block and a cut uncompressed file give exactly their one finding, on
# the pages member, at its offset, as in directory order.
#
# Needs SV, SV_BUILD, SV_TEST_BUILD and SV_DATA.
set -u

: "${SV:?}" "${SV_BUILD:?}" "${SV_TEST_BUILD:?}" "${SV_DATA:?}"
gen="$SV_BUILD/tests/criu/gen_criu"
work="$SV_TEST_BUILD/order"
failed=0 checked=0
rm -rf "$work" && mkdir -p "$work"

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# The real podman checkpoint's files around the dump (its own checkpoint/ left out).
base="$work/base"
mkdir -p "$base"
tar --zstd -xf "$SV_DATA/podman/c1.tar.zst" -C "$base" || { echo "FAIL: c1.tar.zst"; exit 1; }
rm -rf "$base/checkpoint"

# pages_first DIR OUT: a podman-style archive with DIR as checkpoint/: its
# pages files first, then its pagemaps, the rest, inventory.img last.
pages_first() {
	local stage="$work/stage"
	rm -rf "$stage" && cp -r "$base" "$stage" && mkdir "$stage/checkpoint"
	cp "$1"/*.img "$stage/checkpoint/" && chmod -R u+w "$stage"
	(cd "$stage" && tar -cf "$2" $(ls | grep -vx checkpoint) checkpoint/pages-*.img \
		checkpoint/pagemap-*.img $(ls checkpoint/* | grep -v -e '/pages-' -e '/pagemap-' \
		-e '/inventory.img$') checkpoint/inventory.img)
}

# Errors and warnings as "code file offset" lines, sorted.
findings() {
	"$SV" --json "$1" | jq -r 'select(.type == "diagnostic" and
		(.severity == "error" or .severity == "warning")) |
		"\(.code) \(.file | split("/") | last) \(.offset // "-")"' | sort
}

# check NAME DIR [CODE MEMBER OFFSET]: DIR as an archive with its pages
# first gives what DIR gives in directory order: nothing, or that finding
# (and what the same cause gives there too).
check() {
	local name=$1 dir=$2 got want rc
	checked=$((checked + 1))
	pages_first "$dir" "$dir.tar"
	got=$(findings "$dir.tar")
	want=$(findings "$dir")
	"$SV" -q "$dir.tar" >/dev/null
	rc=$?
	[ "$got" = "$want" ] || fail "$name: in archive order \"$got\", in directory order \"$want\""
	if [ $# -eq 2 ]; then
		[ $rc -eq 0 ] && [ -z "$got" ] || fail "$name: exit $rc, want clean: $got"
	else
		[ $rc -eq 1 ] && printf '%s\n' "$got" | grep -qxF "$3 $4 $5" ||
			fail "$name: exit $rc, want \"$3 $4 $5\", got: $got"
	fi
}

src="$SV_DATA/criu-real/sleep"
cp -r "$src" "$work/v2" && chmod -R u+w "$work/v2"
check v2 "$work/v2"
# An uncompressed pages file cut inside a page: the first byte past the whole pages.
cp -r "$src" "$work/v2-cut" && chmod -R u+w "$work/v2-cut"
p=$(ls "$work/v2-cut"/pages-*.img | head -1)
size=$(($(stat -c %s "$p") - 5))
truncate -s $size "$p"
check v2-cut "$work/v2-cut" criu.pages.size "$(basename "$p")" $((size - size % 4096))

for mode in 1 2; do
	dst="$work/v3-$mode"
	"$gen" --v3-dump "$src" "$dst" $mode || { fail "gen_criu --v3-dump"; continue; }
	check "v3 mode $mode" "$dst"
	# One octet short: the payloads' total, at the file's end.
	cp -r "$dst" "$dst-short"
	p=$(ls "$dst-short"/pages-*.img | head -1)
	size=$(($(stat -c %s "$p") - 1))
	truncate -s $size "$p"
	check "v3 mode $mode short" "$dst-short" criu.pages.payload-size "$(basename "$p")" $size
done
# A garbage first block (mode 1 compresses it): decoded although read first.
cp -r "$work/v3-1" "$work/v3-lz4"
p=$(ls "$work/v3-lz4"/pages-*.img | head -1)
printf '\377\377\377\377\377\377\377\377' | dd of="$p" bs=1 seek=0 conv=notrunc 2>/dev/null
check "v3 lz4" "$work/v3-lz4" criu.pages.lz4 "$(basename "$p")" 0

echo "archive member order: $checked checked"
[ $failed -eq 0 ] || { echo "archive member order: $failed failure(s)"; exit 1; }
