#!/bin/bash
# Image version 3 (compressed pages): each fixture directory of gen_criu
# --all listed in manifest-pages (a pagemap-1.img and its pages-1.img) is
# checked by tool_pages as the dump module checks it: clean (no error or
# warning), or the expected code at the expected offset of the named file.
set -u
gen="$SV_BUILD/tests/criu/gen_criu"
tool="$SV_BUILD/tests/criu/tool_pages"
dir="$SV_TEST_BUILD/pages-fixtures"
rm -rf "$dir"
"$gen" --all "$dir" || { echo "FAIL: gen_criu --all"; exit 1; }

fail=0 count=0
while IFS=$'\t' read -r rel code offset file; do
	count=$((count + 1))
	if [ "$code" = hostile ]; then
		# Forged block sizes: a clear error, no crash, under 64 MiB of
		# address space (not with ASan, which reserves terabytes).
		if [ -n "${SV_SANITIZE:-}" ]; then
			out=$("$tool" "$dir/$rel"); rc=$?
		else
			out=$(ulimit -v 65536; "$tool" "$dir/$rel"); rc=$?
		fi
		if [ $rc -ne 1 ] || ! printf '%s\n' "$out" | grep -q '^criu\.'; then
			echo "FAIL: $rel: exit $rc, expected a finding"; echo "$out"; fail=1
		fi
		continue
	fi
	out=$("$tool" "$dir/$rel")
	rc=$?
	if [ "$code" = - ]; then
		bad=$(printf '%s\n' "$out" | grep -v -e '^criu\.pagemap\.new-layout' -e '^$')
		if [ $rc -ne 0 ] || [ -n "$bad" ]; then
			echo "FAIL: $rel: expected clean, exit $rc"; echo "$out"; fail=1
		fi
		continue
	fi
	if [ $rc -ne 1 ]; then echo "FAIL: $rel: exit $rc, expected 1"; echo "$out"; fail=1; fi
	n=$(printf '%s\n' "$out" | grep -c -v -e '^criu\.pagemap\.new-layout' -e '^$')
	if ! printf '%s\n' "$out" | grep -qx "$code	$file	$offset"; then
		echo "FAIL: $rel: expected $code in $file at $offset"; echo "$out"; fail=1
	elif [ "$n" -ne 1 ]; then
		echo "FAIL: $rel: one cause, $n findings"; echo "$out"; fail=1
	fi
done < "$dir/manifest-pages"
# Real dumps rewritten as image version 3 (both modes): every pagemap and
# its pages file check clean.  (The same directories are the fixtures the
# dump module's v3 support is to verify clean as whole dumps.)
for mode in 1 2; do
	for src in "$SV_DATA"/criu-real/sleep "$SV_DATA"/criu-real/threads; do
		dst="$dir/v3dump-$(basename "$src")-$mode"
		"$gen" --v3-dump "$src" "$dst" $mode || { echo "FAIL: --v3-dump $src"; fail=1; continue; }
		for pm in "$dst"/pagemap-*.img; do
			count=$((count + 1))
			out=$("$tool" "$dst" "$(basename "$pm")")
			rc=$?
			[ $rc -eq 0 ] && [ -z "$out" ] || { echo "FAIL: $pm (mode $mode): exit $rc"; echo "$out"; fail=1; }
		done
		# Compressed for real: the pages files shrank.
		a=$(cat "$src"/pages-*.img | wc -c); b=$(cat "$dst"/pages-*.img | wc -c)
		[ "$b" -lt "$a" ] || { echo "FAIL: $dst: pages not compressed ($a -> $b)"; fail=1; }
		"$SV" --format criu --json "$dst/inventory.img" | grep -q '"verdict":"valid"' ||
			{ echo "FAIL: $dst/inventory.img"; fail=1; }
		# The whole dump: every pages file checked against its pagemap.
		count=$((count + 1))
		out=$("$SV" --format criu "$dst" 2>&1) || { echo "FAIL: $dst as a dump"; echo "$out"; fail=1; }
		# ... one octet short: the payloads' total, at the file's new end.
		bad="$dir/v3dump-short-$(basename "$src")-$mode"
		rm -rf "$bad" && cp -r "$dst" "$bad"
		p1=$(ls "$bad"/pages-*.img | head -1)
		size=$(($(stat -c %s "$p1") - 1))
		truncate -s "$size" "$p1"
		count=$((count + 1))
		"$SV" --format criu --json "$bad" | grep -q "\"file\":\"$p1\",\"offset\":$size,.*\"code\":\"criu.pages.payload-size\"" ||
			{ echo "FAIL: $bad: no criu.pages.payload-size at $size"; fail=1; }
		# ... regions of another size in the inventory: one finding, at the first entry.
		if [ $mode = 2 ]; then
			bad="$dir/v3dump-region-$(basename "$src")"
			rm -rf "$bad" && cp -r "$dst" "$bad"
			"$SV" decode -i "$dst/inventory.img" | sed 's/"compress_region_size": [0-9]*/"compress_region_size": 32768/' |
				"$SV" encode -o "$bad/inventory.img" || { echo "FAIL: $bad: inventory"; fail=1; }
			count=$((count + 1))
			out=$("$SV" --format criu --json "$bad" | grep '"type":"diagnostic"')
			[ "$(printf '%s\n' "$out" | grep -c .)" = 1 ] && printf '%s\n' "$out" |
				grep -q '"offset":14,"record":1,"record_type":"pagemap_entry","severity":"error","code":"criu.dump.pages.region"' ||
				{ echo "FAIL: $bad: want one criu.dump.pages.region at the first entry"; echo "$out"; fail=1; }
		fi
		# ... its first block garbage: criu.pages.lz4 at offset 0 (mode 1 compresses it).
		if [ $mode = 1 ]; then
			bad="$dir/v3dump-lz4-$(basename "$src")"
			rm -rf "$bad" && cp -r "$dst" "$bad"
			p1=$(ls "$bad"/pages-*.img | head -1)
			printf '\377\377\377\377\377\377\377\377' | dd of="$p1" bs=1 seek=0 conv=notrunc 2>/dev/null
			count=$((count + 1))
			"$SV" --format criu --json "$bad" | grep -q "\"file\":\"$p1\",\"offset\":0,.*\"code\":\"criu.pages.lz4\"" ||
				{ echo "FAIL: $bad: no criu.pages.lz4 at 0"; "$SV" --format criu "$bad"; fail=1; }
		fi
	done
done
# A compressed pages file verified alone: without its pagemap its size
# proves nothing (a note, criu.pages.unsized, where whole pages end; exit 0).
for p in "$dir"/v3dump-sleep-1/pages-*.img; do
	count=$((count + 1))
	size=$(stat -c %s "$p")
	out=$("$SV" --json "$p"); rc=$?
	if [ $((size % 4096)) -eq 0 ]; then
		want=""
	else
		want="note criu.pages.unsized $((size - size % 4096))"
	fi
	got=$(printf '%s\n' "$out" | jq -r 'select(.type == "diagnostic") | "\(.severity) \(.code) \(.offset)"')
	[ $rc -eq 0 ] && [ "$got" = "$want" ] || { echo "FAIL: $p alone: exit $rc, want \"$want\", got \"$got\""; fail=1; }
done
echo "pages fixtures: $count checked"
[ "$count" -ge 10 ] || { echo "FAIL: too few fixtures"; fail=1; }
exit $fail
