#!/bin/bash
# Differential test against crit (CRIU's own image tool), when installed:
# on every fixture, streamverify and `crit decode` must agree on valid vs
# invalid, except for the documented cases where crit is wrong or blind:
#
#  - raw images (pages, tmpfs, iproute2, text): crit has no handler and
#    fails on every one of them;
#  - SIGNAL, BINFMT_MISC and PIDFD (criu-dev's pidfd.img) images: crit 3.17
#    has no handler;
#  - rules crit does not check because it reads with seek/read and never
#    looks at values: zero padding (it seeks over it), pagemap order,
#    alignment and flags, ghost chunk order/range, ghost contents of
#    non-regular files, single-entry images holding more, inventory values,
#    seccomp/tcp/sk-queue value rules, head magic mismatches (it accepts
#    either head magic) and names (it never looks at file names), empty
#    single-entry images, unknown-field notes, oversized entries;
#  - a missing required field: crit's Python protobuf parses the message
#    anyway, CRIU's protobuf-c refuses it (pb_read_one fails), so it is an
#    error here;
#  - an enum value the schema lacks (e.g. fdinfo type 99): crit prints the
#    number, CRIU's restore has no handler for it;
#  - a truncated blob: crit's f.read() returns what is there and it prints
#    the short data as if complete.
set -u
if ! command -v crit >/dev/null 2>&1; then
	echo "SKIP: crit is not installed (Debian package criu); differential test not run"
	exit 0
fi
gen="$SV_BUILD/tests/criu/gen_criu"
dir="$SV_TEST_BUILD/crit-fixtures"
rm -rf "$dir"
"$gen" --all "$dir" || exit 1

# Codes for which crit is documented blind (see above).
blind='criu\.(ipc\.(shm|sem|msg)-padding|ipc\.msg-size|pagemap\.|ghost\.|image\.(extra-entry|empty)|inventory\.|seccomp\.|tcp\.|skq\.|magic\.(head|name|inventory-head)|entry\.(unknown-field|too-large|required|enum))'
fail=0 agree=0 known=0
while IFS=$'\t' read -r rel code offset status; do
	file="$dir/$rel"
	case "$rel" in */raw/*|*tmpfs*|*/pages*|*route*|*rule*) continue ;; esac
	case "$(basename "$rel")" in signal-*|binfmt-misc*|pidfd*) continue ;; esac
	"$SV" --format criu -q "$file" >/dev/null 2>&1
	sv=$?
	timeout 60 crit decode -i "$file" -o /dev/null >/dev/null 2>&1
	cr=$?
	[ $cr -ne 0 ] && cr=1
	if [ $sv = $cr ]; then
		agree=$((agree + 1))
	elif [[ $code =~ $blind ]] || { [ "$code" = input.truncated ] && [ $cr = 0 ]; }; then
		known=$((known + 1))
	else
		echo "DIFF: $rel: streamverify exit $sv ($code), crit exit $cr"
		fail=1
	fi
done < "$dir/manifest"
echo "crit: $agree fixtures agree, $known documented differences"
exit $fail
