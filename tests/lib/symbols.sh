#!/bin/bash
# The shared library exports exactly the functions include/streamverify.h
# declares: no protobuf-c message, no internal helper.  And a program built
# against the installed header and the .so alone runs.
set -u
: "${SV_BUILD:?}"
so=$SV_BUILD/libstreamverify.so
failed=0
want=$(sed -n 's/^[a-z][a-z_ ]*[ *]\(sv_[a-z_0-9]*\)(.*/\1/p' include/streamverify.h | sort -u)
have=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDRB]$/ { sub(/@.*/, "", $3); print $3 }' | sort -u)
if [ "$want" != "$have" ]; then
	echo "FAIL: exported symbols differ from the header's API:"
	diff <(echo "$want") <(echo "$have") | sed 's/^/  /'
	failed=1
fi
echo "symbols: $(echo "$have" | wc -l) exported, $(echo "$want" | wc -l) declared"

# A third party's program: the public header, the .so, nothing else.
tmp=$SV_TEST_BUILD/third-party
mkdir -p "$tmp"
ln -sf "$so" "$tmp/libstreamverify.so.0"
cat >"$tmp/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <streamverify.h>
int main(void)
{
	static const char junk[] = "not a checkpoint";
	sv_options opt = { .format = NULL };
	sv_summary sum;
	int st = sv_verify_buffer(junk, sizeof(junk) - 1, "junk", &opt, NULL, &sum);
	printf("%s %d %lu\n", sv_version(), st, sum.errors);
	return strcmp(sv_version(), SV_VERSION) != 0;
}
C
# A sanitized library needs its runtime in the program too.
san=
[ -n "${SV_SANITIZE:-}" ] && san="-fsanitize=address,undefined"
if ${CC:-cc} -std=c11 -Wall -Wextra -Werror $san -Iinclude -o "$tmp/prog" "$tmp/prog.c" -L"$SV_BUILD" \
	-l:libstreamverify.so -Wl,-rpath,"$tmp" 2>"$tmp/cc.err"; then
	out=$("$tmp/prog") || { echo "FAIL: third-party program: $out"; failed=1; }
	case $out in
	*" 2 1") echo "third-party program: $out" ;;
	*) echo "FAIL: third-party program printed '$out', expected 'VERSION 2 1' (not a checkpoint: exit 2, one error)"; failed=1 ;;
	esac
else
	echo "FAIL: third-party program does not build:"; cat "$tmp/cc.err"; failed=1
fi
exit $failed
