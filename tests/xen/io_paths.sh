#!/bin/bash
# Every Xen fixture gives the same findings, offsets and exit status whether
# it is read from a file (page data skipped by seeking), from a pipe, or
# gzip-compressed from a file or a pipe.
set -u
: "${SV:?}" "${SV_BUILD:?}" "${SV_TEST_BUILD:?}"
gen="$SV_BUILD/tests/xen/gen_xen"
dir="$SV_TEST_BUILD/io_paths"
rm -rf "$dir" && mkdir -p "$dir" || exit 1
"$gen" --all "$dir/fx" || { echo "FAIL: gen_xen --all"; exit 1; }

# Findings without the input's name, then the exit status.
run() { # fmt, then how to feed it
	local fmt=$1; shift
	"$@" 2>&1 | sed -e 's/"input":"[^"]*",//' -e 's/"file":"[^"]*",//'
	echo "exit=${PIPESTATUS[0]}"
}

fail=0 n=0
# MANIFEST.legacy has a 7th column: the libxc-legacy guest parameter.
while IFS=$'\t' read -r file fmt code _ _ _ guest; do
	f="$dir/fx/$file"
	o=(--json --format "$fmt")
	[ -n "${guest:-}" ] && [ "$guest" != - ] && o+=(--param "guest=$guest")
	gzip -c "$f" > "$dir/cur.gz"
	ref=$(run "$fmt" "$SV" "${o[@]}" "$f")
	pipe=$(run "$fmt" bash -c 'cat "$1" | "$2" "${@:3}" -' _ "$f" "$SV" "${o[@]}")
	gzf=$(run "$fmt" "$SV" "${o[@]}" "$dir/cur.gz")
	gzp=$(run "$fmt" bash -c 'gzip -c "$1" | "$2" "${@:3}" -' _ "$f" "$SV" "${o[@]}")
	for other in "$pipe" "$gzf" "$gzp"; do
		if [ "$other" != "$ref" ]; then
			echo "FAIL: $file: verdicts differ between file, pipe and gzip"
			diff <(echo "$ref") <(echo "$other") | head -10
			fail=1
			break
		fi
	done
	case "$code" in
	valid) want=0 ;;
	*) want= ;;
	esac
	if [ -n "$want" ] && ! grep -q "^exit=0$" <<<"$ref"; then
		echo "FAIL: $file: valid fixture not accepted"; fail=1
	fi
	n=$((n + 1))
done < <(cat "$dir/fx/MANIFEST" "$dir/fx/MANIFEST.legacy")

# The big stream generator streams to a pipe and is verified from it.
out=$("$gen" --hvm-size 67108864 --xl | "$SV" - 2>&1); st=$?
if [ $st -ne 0 ]; then echo "FAIL: piped 64 MiB xl stream: $out"; fail=1; fi

[ $fail -eq 0 ] && echo "io_paths: $n fixtures agree across file, pipe and gzip"
exit $fail
