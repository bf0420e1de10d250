#!/bin/bash
# Every fixture of gen_criu --all verifies as its manifest says: clean, or
# the expected code at the expected offset, with the expected exit status.
# The same fixtures read from a pipe give the same verdicts.
set -u
gen="$SV_BUILD/tests/criu/gen_criu"
dir="$SV_TEST_BUILD/fixtures"
rm -rf "$dir"
"$gen" --all "$dir" || { echo "FAIL: gen_criu --all"; exit 1; }

fail=0 count=0
while IFS=$'\t' read -r rel code offset status; do
	count=$((count + 1))
	file="$dir/$rel"
	out=$("$SV" --format criu --json "$file")
	rc=$?
	if [ "$rc" != "$status" ]; then
		echo "FAIL: $rel: exit $rc, expected $status"; echo "$out"; fail=1; continue
	fi
	diags=$(printf '%s\n' "$out" | grep '"type":"diagnostic"')
	if [ "$code" = - ]; then
		if [ -n "$diags" ]; then echo "FAIL: $rel: expected clean"; echo "$diags"; fail=1; fi
		continue
	fi
	if ! printf '%s\n' "$diags" | grep -q "\"offset\":$offset,.*\"code\":\"$code\""; then
		echo "FAIL: $rel: expected $code at offset $offset"; echo "$diags"; fail=1
	fi
	# Magic-identified images verify the same through a pipe (no name there).
	case "$rel" in */raw/*|*tmpfs*|*pages*|*route*|*rule*|*core-7.img|*common-on-service*|*too-large*) continue ;; esac
	pout=$("$SV" --format criu --json - < "$file" | grep '"type":"diagnostic"' | sed 's/"input":"[^"]*","file":"[^"]*",//')
	fout=$(printf '%s\n' "$diags" | sed 's/"input":"[^"]*","file":"[^"]*",//')
	if [ "$pout" != "$fout" ]; then
		echo "FAIL: $rel: verdicts differ through a pipe"; echo "file: $fout"; echo "pipe: $pout"; fail=1
	fi
done < "$dir/manifest"
echo "fixtures: $count checked"
[ "$count" -gt 100 ] || { echo "FAIL: too few fixtures"; fail=1; }
exit $fail
