#!/bin/bash
# Differential test of legacy (pre-Xen-4.6) streams against Xen's own
# converter, convert-legacy-stream from the Debian package xen-utils-4.17
# (unpacked into $SV_BUILD/xen-ref, never installed), run as libxl runs it:
# --width 64 --format libxl --guest pv|hvm on the stream (for an xl file,
# on what follows its header and optional data).  The
# reference verdict of a fixture: the converter succeeds AND the v2 stream
# it writes passes streamverify's libxl/xl rules (the restore's rules on
# what the converter produces).  Our verdict on the legacy fixture itself
# must be the same, except the cases documented below.  No converter to be
# had: SKIP, and pass.
set -u
: "${SV:?}" "${SV_BUILD:?}" "${SV_TEST_BUILD:?}"
gen="$SV_BUILD/tests/xen/gen_xen"
# shellcheck source=tests/xen/xen-ref.inc
. "$(dirname "$0")/xen-ref.inc" "differential test vs convert-legacy-stream"
conv="$ref_bin_dir/convert-legacy-stream"

# Fixtures whose verdicts differ, and why.
declare -A documented=(
	[bad-legacy-guest-param]="the guest parameter itself is wrong (guest=xen); the stream converts as HVM, which the converter is told here"
)

dir="$SV_TEST_BUILD/diff_legacy"
rm -rf "$dir" && mkdir -p "$dir" || exit 1
"$gen" --all "$dir" >/dev/null || { echo "FAIL: gen_xen --all"; exit 1; }

fail=0 agree=0 known=0
# Bare legacy streams (MANIFEST.legacy: 7th column the guest), and the xl
# files holding one (their names say pv or hvm).
{
	cut -f1,2,3,7 "$dir/MANIFEST.legacy"
	awk -F'\t' '$1 ~ /xl-legacy/ { print $1 "\t" $2 "\t" $3 "\t-" }' "$dir/MANIFEST"
} > "$dir/list"
while IFS=$'\t' read -r file fmt code guest; do
	name=${file%.*}
	opts=()
	[ "$guest" != - ] && opts=(--param "guest=$guest")
	# What the converter is told: the guest of the stream's layout.
	case $name in *-pv*) g=pv ;; *) g=hvm ;; esac
	# libxl hands the converter what follows the xl header and optional
	# data (xl reads those itself; the converter's own --xl fails under
	# Python 3: it compares the magic as str with bytes, "No xl header").
	in="$dir/$file"
	if [ "$fmt" = xl ]; then
		optlen=$(od -An -tu4 -j44 -N4 "$in" | tr -d ' ')
		tail -c +$((48 + optlen + 1)) "$in" > "$dir/$name.payload"
		in="$dir/$name.payload"
	fi
	PYTHONPATH="$ref_py" timeout 60 python3 "$conv" -i "$in" -o "$dir/$name.v2" \
		-w 64 -g "$g" -f libxl >"$dir/$name.conv" 2>&1
	conv_rc=$?
	ref_ok=0
	if [ $conv_rc -eq 0 ] && "$SV" -q --format libxl "$dir/$name.v2" >"$dir/$name.v2.out" 2>&1; then
		ref_ok=1
	fi
	"$SV" -q --format "$fmt" "${opts[@]}" "$dir/$file" >"$dir/$name.ours" 2>&1
	our_rc=$?
	[ $our_rc -eq 0 ] && our_ok=1 || our_ok=0
	if [ $ref_ok -eq $our_ok ]; then
		agree=$((agree + 1))
		continue
	fi
	if [ -n "${documented[$name]:-}" ]; then
		known=$((known + 1))
		echo "documented: $file: ours $our_ok, converter $ref_ok: ${documented[$name]}"
		continue
	fi
	echo "FAIL: $file ($code): we say $([ $our_ok -eq 1 ] && echo valid || echo invalid)," \
		"the converter (rc $conv_rc) and the v2 rules on its output say" \
		"$([ $ref_ok -eq 1 ] && echo valid || echo invalid)"
	tail -3 "$dir/$name.conv" "$dir/$name.v2.out" 2>/dev/null | sed 's/^/    /'
	fail=1
done < "$dir/list"
echo "diff_legacy: $agree fixtures agree, $known documented differences"
exit $fail
