#!/bin/bash
# A large dump (gen_criu_dump --large): a chain of zombies thousands deep,
# tens of thousands of memfds, open fds and locks, and a pagemap of more
# entries than the dump tables keep.  Checks quadratic in any of these
# would not finish; this asserts completion and the verdict only (how
# fast is measured by make bench).  The one error is the pages file's
# size: 17 pages for the 4,194,400 the pagemap stores.
set -u

: "${SV:?}" "${SV_BUILD:?}" "${SV_TEST_BUILD:?}"
gen="$SV_BUILD/tests/criu-dump/gen_criu_dump"
dir="$SV_TEST_BUILD/large"
failed=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

rm -rf "$dir"
mkdir -p "$SV_TEST_BUILD"
"$gen" --large "$dir" 5000 50000 4194400 || { echo "FAIL: $gen --large"; exit 1; }

"$SV" --format criu --json "$dir" >"$dir.json" 2>&1
status=$?
[ $status -eq 1 ] || fail "large dump: exit $status, want 1"
errors=$(grep '"severity":"error"' "$dir.json" || true)
[ "$(printf '%s\n' "$errors" | grep -c .)" -eq 1 ] &&
	printf '%s\n' "$errors" | grep -q '"file":"[^"]*/pages-1.img".*"code":"criu.dump.pages.size"' ||
	fail "large dump: want one error, criu.dump.pages.size on pages-1.img; got: $errors"

# --max-errors stops the checks as well as the images.
"$SV" --format criu --max-errors 1 --json "$dir" >"$dir.max.json" 2>&1
grep -q '"type":"summary".*"errors":1,' "$dir.max.json" ||
	fail "large dump with --max-errors 1: $(tail -1 "$dir.max.json")"

rm -rf "$dir"
if [ $failed -ne 0 ]; then
	echo "criu-dump large: $failed failure(s)"
	exit 1
fi
echo "criu-dump large: all passed"
