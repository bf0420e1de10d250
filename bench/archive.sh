#!/bin/bash
# Container checkpoint archives (issue 23): streamverify against
# decompression alone (`zstd -dc`, `gzip -dc`, `cat`), on the same archive
# in each compression, from a file and from a pipe; and time and peak RSS of
# a 1,000,000-member archive and of a huge zero member.  Called by
# bench/run.sh (quick|full) or by hand:
#
#   SV=build/streamverify SV_BUILD=build SV_DATA=tests/data bash bench/archive.sh [quick|full]
#
# The archive: the real podman checkpoint's metadata, the real sleep dump
# as checkpoint/, and a rootfs-diff.tar of N MiB (random, zero and text pages),
# which the verifier reads to its end (a nested tar) - a valid archive whose
# bytes are bulk.  Prints Markdown tables.
set -u
: "${SV:?}" "${SV_BUILD:?}" "${SV_DATA:?}"
mode=${1:-quick}
gen="$SV_BUILD/tests/archive/gen_archive"
c1="$SV_DATA/podman/c1.tar.zst"
dir=$(mktemp -d "${TMPDIR:-/tmp}/sv-bench-archive.XXXXXX")
trap 'rm -rf "$dir"' EXIT
case $mode in
full) mib=2048; gib=100; reps=3 ;;
*) mib=128; gib=10; reps=1 ;;
esac

"$gen" --big "$dir/big.tar" "$c1" "$SV_DATA/criu-real/sleep" "$mib" ||
	{ echo "bench/archive.sh: gen_archive --big failed" >&2; exit 1; }
command -v zstd >/dev/null && zstd -q -T1 -3 -c "$dir/big.tar" >"$dir/big.tar.zst"
gzip -1 -c "$dir/big.tar" >"$dir/big.tar.gz"

# best of reps wall seconds of a command line (bash -c)
best() {
	local b= t0 t1 s
	for _ in $(seq "$reps"); do
		t0=$(date +%s%N)
		bash -c "$1" >/dev/null 2>&1
		t1=$(date +%s%N)
		s=$(((t1 - t0) / 1000000))
		[ -z "$b" ] || [ "$s" -lt "$b" ] && b=$s
	done
	echo "$b"
}
rss() { /usr/bin/time -f '%M' -o "$dir/rss" bash -c "$1" >/dev/null 2>&1; cat "$dir/rss"; }

echo "| archive ($mib MiB tar) | decompression alone | streamverify | ratio | streamverify from a pipe | ratio | peak RSS |"
echo "|---|---|---|---|---|---|---|"
row() { # label file decompress-command
	local base sv pipe r
	base=$(best "$3")
	sv=$(best "'$SV' -q '$2'")
	pipe=$(best "cat '$2' | '$SV' -q -")
	r=$(rss "'$SV' -q '$2'")
	awk -v l="$1" -v b="$base" -v s="$sv" -v p="$pipe" -v r="$r" 'BEGIN {
		printf "| %s | %d ms | %d ms | %.2fx | %d ms | %.2fx | %.1f MiB |\n",
			l, b, s, (s > 0 ? b / s : 0), p, (p > 0 ? b / p : 0), r / 1024 }'
}
row "none" "$dir/big.tar" "cat '$dir/big.tar'"
row "gzip -1" "$dir/big.tar.gz" "gzip -dc '$dir/big.tar.gz'"
[ -f "$dir/big.tar.zst" ] && row "zstd -3" "$dir/big.tar.zst" "zstd -dc '$dir/big.tar.zst'"
echo
echo "(ratio: decompression time / streamverify time; 1.00x = as fast as decompressing alone)"
echo

rm -f "$dir"/big.tar*
"$gen" --million "$dir/million.tar.zst" "$c1"
"$gen" --zeros "$dir/zeros.tar.zst" "$c1" "$gib"
echo "| input | time | peak RSS |"
echo "|---|---|---|"
for f in million.tar.zst zeros.tar.zst; do
	t=$(best "'$SV' -q '$dir/$f'")
	r=$(rss "'$SV' -q '$dir/$f'")
	label=$f
	[ "$f" = zeros.tar.zst ] && label="a $gib GiB zero member ($(stat -c %s "$dir/$f") bytes of zstd)"
	[ "$f" = million.tar.zst ] && label="1,000,000 members"
	awk -v l="$label" -v t="$t" -v r="$r" 'BEGIN { printf "| %s | %d ms | %.1f MiB |\n", l, t, r / 1024 }'
done
