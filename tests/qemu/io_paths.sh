#!/bin/bash
# Every QEMU fixture and real stream gives the same findings, offsets and
# exit status whether it is read from a file (page data skipped by
# seeking), from a pipe, or gzip-compressed from a file or a pipe.
set -u
: "${SV:?}" "${SV_BUILD:?}" "${SV_TEST_BUILD:?}" "${SV_DATA:?}"
gen="$SV_BUILD/tests/qemu/gen_qemu"
dir="$SV_TEST_BUILD/io_paths"
rm -rf "$dir" && mkdir -p "$dir" || exit 1
"$gen" --all "$dir/fx" || { echo "FAIL: gen_qemu --all"; exit 1; }
for f in "$SV_DATA"/qemu/*.qemu.gz; do
	b=$(basename "$f" .gz)
	gzip -dc "$f" > "$dir/fx/$b"
	printf '%s\tvalid\t-\t-\t-\n' "$b" >> "$dir/fx/MANIFEST"
done

# Findings without the input's name, then the exit status.
run() {
	"$@" 2>&1 | sed -e 's/"input":"[^"]*",//' -e 's/"file":"[^"]*",//'
	echo "exit=${PIPESTATUS[0]}"
}

fail=0 n=0
while IFS=$'\t' read -r file code _; do
	f="$dir/fx/$file"
	gzip -c "$f" > "$dir/cur.gz"
	ref=$(run "$SV" --json --format qemu "$f")
	pipe=$(run bash -c 'cat "$1" | "$2" --json --format qemu -' _ "$f" "$SV")
	gzf=$(run "$SV" --json --format qemu "$dir/cur.gz")
	gzp=$(run bash -c 'gzip -c "$1" | "$2" --json --format qemu -' _ "$f" "$SV")
	for other in "$pipe" "$gzf" "$gzp"; do
		if [ "$other" != "$ref" ]; then
			echo "FAIL: $file: verdicts differ between file, pipe and gzip"
			diff <(echo "$ref") <(echo "$other") | head -10
			fail=1
			break
		fi
	done
	if [ "$code" = valid ] && ! grep -q "^exit=0$" <<<"$ref"; then
		echo "FAIL: $file: valid stream not accepted"; fail=1
	fi
	n=$((n + 1))
done < "$dir/fx/MANIFEST"

# The big stream generator streams to a pipe and is verified from it.
out=$("$gen" --size 67108864 | "$SV" - 2>&1); st=$?
if [ $st -ne 0 ]; then echo "FAIL: piped 64 MiB QEMU stream: $out"; fail=1; fi

[ $fail -eq 0 ] && echo "io_paths: $n QEMU streams agree across file, pipe and gzip"
exit $fail
