#!/bin/bash
# Every image criu 3.17.1 wrote in the real dumps verifies clean: no
# diagnostic at all, not even a note.
set -u
corpus="$SV_DATA/criu-real"
[ -d "$corpus" ] || { echo "FAIL: no real dumps at $corpus"; exit 1; }
fail=0 count=0
for f in "$corpus"/*/*; do
	case "$(basename "$f")" in *.log|parent) continue ;; esac
	count=$((count + 1))
	out=$("$SV" --json "$f")
	rc=$?
	if [ $rc -ne 0 ] || printf '%s\n' "$out" | grep -q '"type":"diagnostic"' ||
	   ! printf '%s\n' "$out" | grep -q '"format":"criu"'; then
		echo "FAIL: $f (exit $rc)"; printf '%s\n' "$out"; fail=1
	fi
done
echo "real dumps: $count images checked"
[ $count -gt 0 ] || fail=1
exit $fail
