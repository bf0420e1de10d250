#!/bin/bash
# criu-image-streamer captures made by gen_stream from a real dump: every
# fixture verifies as its manifest says (clean, or exactly one finding: the
# expected code at the expected offset of the capture or of the named image
# inside it), from the file and through a pipe; valid captures are detected
# without --format; forged lengths stay under a 64 MiB address-space limit;
# a capture of a million markers is verified in bounded time and memory.
#
# Env (from make check): SV, SV_BUILD, SV_DATA, SV_TEST_BUILD.
set -u
gen="$SV_BUILD/tests/criu-stream/gen_stream"
dir="$SV_TEST_BUILD/fixtures"
rm -rf "$dir"
"$gen" --all "$SV_DATA/criu-real/sleep" "$dir" || { echo "FAIL: gen_stream --all"; exit 1; }

# Findings as "code offset file-suffix" lines (file: "-" for the capture).
findings() {
	grep '"type":"diagnostic"' | grep -v '"severity":"note"' |
		sed -E 's/.*"file":"([^"]*)","offset":([0-9]+|null),.*"code":"([^"]*)".*/\3 \2 \1/' |
		sed -E 's/ [^ []*(\[[^]]*\])$/ \1/; s/ [^ []*$/ -/'
}

limit() {
	# ASan reserves terabytes of shadow memory: no limit there.
	if [ -n "${SV_SANITIZE:-}" ]; then "$@"; else (ulimit -v 65536; "$@"); fi
}

fail=0 count=0
while IFS=$'\t' read -r rel code offset file status; do
	count=$((count + 1))
	path="$dir/$rel"
	out=$(limit "$SV" --format criu-stream --json "$path")
	rc=$?
	got=$(printf '%s\n' "$out" | findings)
	if [ "$rc" != "$status" ]; then
		echo "FAIL: $rel: exit $rc, expected $status"; echo "$got"; fail=1; continue
	fi
	if [ "$code" = - ]; then
		[ -z "$got" ] || { echo "FAIL: $rel: expected clean"; echo "$got"; fail=1; }
		# A valid capture is recognised without --format.
		"$SV" --json "$path" | grep -q '"format":"criu-stream"' ||
			{ echo "FAIL: $rel: not detected as criu-stream"; fail=1; }
	else
		[ "$offset" = -1 ] && offset=null
		want="$code $offset $file"
		if [ "$got" != "$want" ]; then
			echo "FAIL: $rel: expected exactly \"$want\", got:"; echo "$got"; fail=1
		fi
	fi
	# The same from a pipe (offsets and codes; names differ).
	pgot=$(limit "$SV" --format criu-stream --json - <"$path" | findings | cut -d' ' -f1,2)
	fgot=$(printf '%s\n' "$got" | cut -d' ' -f1,2)
	[ "$pgot" = "$fgot" ] || { echo "FAIL: $rel: pipe differs"; echo "file: $fgot"; echo "pipe: $pgot"; fail=1; }
done <"$dir/manifest"

# Captures over several shards, as directories of shard files: detected
# without --format; exactly the expected finding, in the named shard file
# ("-": the capture as a whole) at the offset inside it.
sfindings() { # DIR
	jq -r --arg d "$1" 'select(.type == "diagnostic" and .severity != "note") |
		"\(.code) \(.offset // "null") \(if .file == null or .file == $d then "-"
		else (.file | split("/") | last) end)"'
}
scount=0
while IFS=$'\t' read -r rel code offset file status; do
	scount=$((scount + 1))
	path="$dir/shards/$rel"
	out=$(limit "$SV" --json "$path")
	rc=$?
	got=$(printf '%s\n' "$out" | sfindings "$path")
	printf '%s\n' "$out" | grep -q '"format":"criu-stream"' ||
		{ echo "FAIL: shards/$rel: not detected as criu-stream"; fail=1; }
	[ "$rc" = "$status" ] || { echo "FAIL: shards/$rel: exit $rc, expected $status"; echo "$got"; fail=1; continue; }
	if [ "$code" = - ]; then
		[ -z "$got" ] || { echo "FAIL: shards/$rel: expected clean"; echo "$got"; fail=1; }
	else
		[ "$offset" = -1 ] && offset=null
		want="$code $offset $file"
		[ "$got" = "$want" ] || { echo "FAIL: shards/$rel: expected exactly \"$want\", got:"; echo "$got"; fail=1; }
	fi
done <"$dir/shards/manifest"
echo "criu-stream shards: $scount checked"
[ "$scount" -ge 10 ] || { echo "FAIL: too few shard fixtures"; fail=1; }
# -v counts the shards.
"$SV" -v "$dir/shards/valid-3" | grep -q 'stream.shards: 3' ||
	{ echo "FAIL: -v does not count the shards"; fail=1; }

# A million markers: bounded time and memory, a verdict (no crash).
"$gen" --markers 1000000 "$dir/million.capture" || { echo "FAIL: gen_stream --markers"; fail=1; }
start=$(date +%s)
limit timeout 60 "$SV" --format criu-stream -q "$dir/million.capture" >/dev/null 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
if [ $rc -ge 2 ]; then echo "FAIL: a million markers: exit $rc"; fail=1; fi
echo "a million markers: exit $rc in ${secs}s"

echo "criu-stream fixtures: $count checked"
[ "$count" -ge 25 ] || { echo "FAIL: too few fixtures"; fail=1; }
exit $fail
