#!/bin/bash
# Whole CRIU dump directories: the generated dumps (one valid dump of each
# kind, and one directory per rule broken), then the real dumps of
# $SV_DATA/criu-real.
#
# For a broken directory the expected code must be reported against the
# expected file, and no other error may be; a valid one must have no error
# and no warning.  Needs SV, SV_BUILD, SV_TEST_BUILD (and SV_DATA for the
# real dumps).
set -u

: "${SV:?}" "${SV_BUILD:?}" "${SV_TEST_BUILD:?}"
gen="$SV_BUILD/tests/criu-dump/gen_criu_dump"
out="$SV_TEST_BUILD/dumps"
failed=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

rm -rf "$out"
mkdir -p "$SV_TEST_BUILD"
"$gen" "$out" || { echo "FAIL: $gen"; exit 1; }

# Diagnostics of a JSON run as "severity code file offset"
# lines (offset "-" when the finding has none).
diags() {
	# Each field is picked on its own: the test does not depend on their order.
	while IFS= read -r line; do
		case "$line" in
		'{"type":"diagnostic"'*) ;;
		*) continue ;;
		esac
		sev=$(printf '%s\n' "$line" | sed -n 's/.*"severity":"\([a-z]*\)".*/\1/p')
		code=$(printf '%s\n' "$line" | sed -n 's/.*"code":"\([^"]*\)".*/\1/p')
		file=$(printf '%s\n' "$line" | sed -n 's/.*"file":"\([^"]*\)".*/\1/p')
		off=$(printf '%s\n' "$line" | sed -n 's/.*"offset":\([0-9]*\).*/\1/p')
		echo "$sev $code $file ${off:--}"
	done <"$1"
}

# Manifest lines: DIR CODE FILE [OFFSET ALSO]: OFFSET is the finding's exact
# offset ("-": none), ALSO a regular expression of the other error codes the
# same cause gives ("-": none).
while read -r name code file want_off also; do
	dir="$out/$name"
	json="$out/$name.json"
	timeout 60 "$SV" --format criu --json "$dir" >"$json" 2>&1
	status=$?
	[ $status -eq 124 ] && { fail "$name: timed out"; continue; }
	d=$(diags "$json")
	if [ "$code" = valid ]; then
		[ $status -eq 0 ] || fail "$name: exit $status, want 0"
		bad=$(printf '%s\n' "$d" | grep -E '^(error|warning) ' || true)
		[ -z "$bad" ] || fail "$name: want no error or warning, got: $bad"
		continue
	fi
	want_file="$dir/$file"
	[ "$file" = . ] && want_file="$dir"
	printf '%s\n' "$d" | awk -v c="$code" -v f="$want_file" -v o="${want_off:-}" \
		'$2 == c && $3 == f && (o == "" || $4 == o) { found = 1 } END { exit !found }' ||
		{ fail "$name: want $code on $want_file${want_off:+ at $want_off}, got: $d"; continue; }
	others=$(printf '%s\n' "$d" | grep '^error ' | grep -vF " $code " || true)
	[ -n "${also:-}" ] && [ "$also" != - ] &&
		others=$(printf '%s\n' "$others" | grep -vE "^error ($also) " || true)
	# An unreadable inventory is also the image's own error (an empty image).
	[ "$code" = criu.dump.inventory.unreadable ] &&
		others=$(printf '%s\n' "$others" | grep -v '^error criu\.image\.' || true)
	[ -z "$others" ] || fail "$name: errors other than $code: $others"
	if printf '%s\n' "$d" | grep -qE "^(warning|note) $code "; then
		[ $status -eq 0 ] || fail "$name: a warning or note alone must exit 0, got $status"
	else
		[ $status -eq 1 ] || fail "$name: exit $status, want 1"
	fi
done <"$out/manifest"

# Every rule of the dump module has a directory that breaks it (limit and
# unknown-file excepted: they need a million items or are notes; the image
# version 3 rules are broken by tests/criu/pages.sh, on real dumps rewritten
# as version 3, and pages files read before their pagemap by
# tests/archive/order.sh; pages.undecoded needs over 64 MiB of compressed
# pages read before their pagemap).
for code in $("$SV" --list-codes 2>/dev/null | grep -o 'criu\.dump\.[a-z.-]*' | sort -u); do
	case "$code" in
	criu.dump.limit | criu.dump.unknown-file | criu.dump.parent.not-symlink | criu.dump.pages.region | \
		criu.dump.pages.undecoded) continue ;;
	esac
	grep -q " $code " "$out/manifest" || fail "no test directory breaks $code"
done

# Auto-detection finds a dump, a pre-dump and `criu cpuinfo dump` output
# without --format.
for name in good pre cpuinfo; do
	"$SV" --json "$out/$name" >"$out/auto-$name.json" 2>&1
	status=$?
	grep -q '"type":"summary".*"format":"criu"' "$out/auto-$name.json" && [ $status -eq 0 ] ||
		fail "auto-detection of $name: exit $status, $(tail -1 "$out/auto-$name.json")"
done

# The real dumps (tests/data/criu-real): no error and no warning.
real="${SV_DATA:?}/criu-real"
if [ -d "$real" ]; then
	for dir in "$real"/*/; do
		name=$(basename "$dir")
		json="$out/real-$name.json"
		start=$(date +%s%N)
		"$SV" --format criu --json "$dir" >"$json" 2>&1
		status=$?
		ms=$((($(date +%s%N) - start) / 1000000))
		d=$(diags "$json")
		bad=$(printf '%s\n' "$d" | grep -E '^(error|warning) ' || true)
		[ $status -eq 0 ] && [ -z "$bad" ] || fail "real dump $name: exit $status: $bad"
		echo "real dump $name: exit $status in ${ms} ms"
	done
	# The same incremental pair with a real symbolic link: no warning at all.
	if [ -d "$real/incr-1" ] && [ -d "$real/incr-2" ]; then
		pair="$out/real-pair"
		rm -rf "$pair" && mkdir -p "$pair"
		cp -r "$real/incr-1" "$real/incr-2" "$pair/" && chmod -R u+w "$pair"
		rm -f "$pair/incr-2/parent" && ln -s ../incr-1 "$pair/incr-2/parent"
		"$SV" --format criu --json "$pair/incr-2" >"$pair.json" 2>&1
		status=$?
		d=$(diags "$pair.json")
		bad=$(printf '%s\n' "$d" | grep -E '^(error|warning) ' || true)
		[ $status -eq 0 ] && [ -z "$bad" ] || fail "incr-2 with a symlink parent: $bad"
		# Drop the parent's pages: the in-parent pages no longer resolve.
		rm "$pair/incr-1/pagemap-"*.img
		"$SV" --format criu --json "$pair/incr-2" >"$pair.json" 2>&1
		diags "$pair.json" | grep -q '^error criu.dump.parent.pages ' ||
			fail "incr-2 without its parent's pagemap: no criu.dump.parent.pages"
	fi
else
	fail "$real not found: the real dumps are part of the repository"
fi

if [ $failed -ne 0 ]; then
	echo "criu-dump: $failed failure(s)"
	exit 1
fi
echo "criu-dump: all passed"
