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
echo "pages fixtures: $count checked"
[ "$count" -ge 10 ] || { echo "FAIL: too few fixtures"; fail=1; }
exit $fail
