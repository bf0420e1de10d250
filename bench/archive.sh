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
*) mib=128; gib=10; reps=3 ;;
esac
mib=${BENCH_ARCHIVE_MIB:-$mib}

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
# best of reps CPU milliseconds (user + system, the command and its children):
# what the work costs, whatever else the machine runs
cpu() {
	local b= c
	for _ in $(seq "$reps"); do
		/usr/bin/time -f "%U %S" -o "$dir/cpu" bash -c "$1" >/dev/null 2>&1
		c=$(tail -1 "$dir/cpu" | awk '{ printf "%d", ($1 + $2) * 1000 }')
		[ -z "$b" ] || [ "$c" -lt "$b" ] && b=$c
	done
	echo "$b"
}
rss() { /usr/bin/time -f "%M" -o "$dir/rss" bash -c "$1" >/dev/null 2>&1; tail -1 "$dir/rss"; }

echo ""
echo "### Container checkpoint archives (the real podman checkpoint with a $mib MiB rootfs-diff.tar)"
echo ""
echo "| archive ($mib MiB tar) | decompression alone: wall / CPU | streamverify: wall / CPU | ratio wall / CPU | through a pipe, decompression alone: wall / CPU | through a pipe, streamverify: wall / CPU | ratio wall / CPU | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
row() { # label file decompressor (reads standard input)
	local base sv pbase pipe r cbase csv cpbase cpipe
	base=$(best "$3 < '$2'")
	cbase=$(cpu "$3 < '$2'")
	sv=$(best "'$SV' -q '$2'")
	csv=$(cpu "'$SV' -q '$2'")
	pbase=$(best "cat '$2' | $3")
	cpbase=$(cpu "cat '$2' | $3")
	pipe=$(best "cat '$2' | '$SV' -q -")
	cpipe=$(cpu "cat '$2' | '$SV' -q -")
	r=$(rss "'$SV' -q '$2'")
	awk -v l="$1" -v b="$base" -v s="$sv" -v pb="$pbase" -v p="$pipe" -v cb="$cbase" -v cs="$csv" \
	    -v cpb="$cpbase" -v cp="$cpipe" -v r="$r" 'BEGIN {
		printf "| %s | %d / %d ms | %d / %d ms | %.2fx / %.2fx | %d / %d ms | %d / %d ms | %.2fx / %.2fx | %.1f MiB |\n",
			l, b, cb, s, cs, (s > 0 ? b / s : 0), (cs > 0 ? cb / cs : 0),
			pb, cpb, p, cp, (p > 0 ? pb / p : 0), (cp > 0 ? cpb / cp : 0), r / 1024 }'
}
row "none" "$dir/big.tar" "cat"
row "gzip -1" "$dir/big.tar.gz" "gzip -dc"
[ -f "$dir/big.tar.zst" ] && row "zstd -3" "$dir/big.tar.zst" "zstd -dc"
echo
echo "(ratio: decompression alone / streamverify, wall-clock and CPU; 1.00x = as fast as"
echo "decompressing alone.  Through a pipe both read from \`cat FILE |\`, and the CPU"
echo "includes cat's.)"
echo

# Peak memory must not grow with the archive: the same archive at two sizes.
if [ "$mode" = full ]; then small=100 large=4096; else small=16 large=64; fi
echo "| archive | bytes | peak RSS, file | peak RSS, pipe |"
echo "|---|---|---|---|"
for n in $small $large; do
	"$gen" --big "$dir/size.tar" "$c1" "$SV_DATA/criu-real/sleep" "$n" ||
		{ echo "bench/archive.sh: gen_archive --big $n failed" >&2; exit 1; }
	if command -v zstd >/dev/null; then
		zstd -q -T1 -3 -c "$dir/size.tar" >"$dir/size.tar.zst" && rm -f "$dir/size.tar"
		f=$dir/size.tar.zst label="$n MiB tar, zstd -3"
	else
		f=$dir/size.tar label="$n MiB tar"
	fi
	"$SV" -q "$f" || { echo "FAILED: streamverify $label exited $?, expected 0"; exit 1; }
	rf=$(rss "'$SV' -q '$f'")
	rp=$(rss "cat '$f' | '$SV' -q -")
	awk -v l="$label" -v b="$(stat -c %s "$f")" -v rf="$rf" -v rp="$rp" \
		'BEGIN { printf "| %s | %s | %.1f MiB | %.1f MiB |\n", l, b, rf / 1024, rp / 1024 }'
	rm -f "$dir"/size.tar*
done
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
