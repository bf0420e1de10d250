#!/bin/bash
# CRIU images -> JSON -> images, byte for byte, for every image of the real
# dumps and every valid fixture of gen_criu, plain and --pretty; and, where
# crit is installed, the JSON compared with crit's as JSON values.
#
# Env (from make check): SV, SV_BUILD, SV_DATA, SV_TEST_BUILD.
set -u

SV=${SV:?}
CORPUS=${SV_DATA:?}/criu-real
GEN=${SV_BUILD:?}/tests/criu/gen_criu
WORK=${SV_TEST_BUILD:?}/roundtrip
rm -rf "$WORK"
mkdir -p "$WORK"

fails=0
checks=0
crit_checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1; then PY=$p; break; fi
done
CRIT=
if [ -n "${SV_SANITIZE:-}" ]; then
	# The sanitizer run checks our side; crit's output is the same as in
	# the plain run, where it is compared.
	echo "SKIP: crit comparison (done in the plain run, not again under sanitizers)"
elif command -v crit >/dev/null 2>&1 && [ -n "$PY" ]; then
	CRIT=crit
else
	echo "SKIP: crit (or python3) is not installed: decode output is not compared with crit's"
fi

# Compare two JSON files as values; print the first difference.
json_equal() {
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
def diff(x, y, p):
    if type(x) != type(y): return "%s: %r vs %r" % (p, x, y)
    if isinstance(x, dict):
        for k in sorted(set(x) | set(y)):
            if k not in x or k not in y: return "%s.%s: only in one" % (p, k)
            r = diff(x[k], y[k], p + "." + k)
            if r: return r
    elif isinstance(x, list):
        if len(x) != len(y): return "%s: %d vs %d items" % (p, len(x), len(y))
        for i, (u, v) in enumerate(zip(x, y)):
            r = diff(u, v, "%s[%d]" % (p, i))
            if r: return r
    elif x != y: return "%s: %r vs %r" % (p, x, y)
    return None
d = diff(a, b, "")
if d: print(d); sys.exit(1)
EOF
}

# The bytes encode must give back: crit (and streamverify) write images of
# version 1.1, so a version-1 image (type magic only) comes back with the
# head magic in front.  Inventory has no head magic in either version.
expected_image() {
	local img=$1 out=$2 first
	first=$(od -An -tx4 -N4 "$img" | tr -d ' ')
	case $first in
	54564319 | 55105940 | 58313116) cp "$img" "$out" ;;
	57093306 | 57004059) { printf '\x40\x59\x10\x55'; cat "$img"; } >"$out" ;;
	*) { printf '\x19\x43\x56\x54'; cat "$img"; } >"$out" ;;
	esac
}

# Images crit 3.17 decodes differently on purpose (see README of the suite):
# IPCNS_SHM entries with in_pagemaps, whose contents crit reads from the
# entries that follow.
crit_differs() {
	grep -q '"magic": "IPCNS_SHM"' "$1"
}

check_image() {
	local img=$1 name=$2 mode json crit_json back want
	want=$WORK/want.img
	expected_image "$img" "$want"
	for mode in plain pretty; do
		local flag=
		[ $mode = pretty ] && flag=--pretty
		json=$WORK/sv.json
		back=$WORK/back.img
		checks=$((checks + 1))
		if ! "$SV" decode $flag -i "$img" -o "$json" 2>"$WORK/err"; then
			fail "decode $flag $name: $(head -3 "$WORK/err")"
			continue
		fi
		if ! "$SV" encode -i "$json" -o "$back" 2>"$WORK/err"; then
			fail "encode of decode $flag $name: $(head -3 "$WORK/err")"
			continue
		fi
		cmp -s "$back" "$want" || fail "round trip $flag $name: $(cmp "$back" "$want" 2>&1 | head -1)"
		if [ -n "$CRIT" ] && ! crit_differs "$json"; then
			crit_json=$WORK/crit.json
			# Images crit itself cannot decode (no handler, crashes) are not compared.
			if crit decode $flag -i "$img" -o "$crit_json" 2>/dev/null; then
				crit_checks=$((crit_checks + 1))
				d=$(json_equal "$crit_json" "$json") || fail "decode $flag $name differs from crit: $d"
			fi
		fi
	done
}

# Raw images and other files of a dump directory are not entry images.
is_entry_image() {
	case $(basename "$1") in
	pages-* | tmpfs-* | ifaddr-* | route-* | route6-* | rule-* | iptables-* | ip6tables-* | \
	nftables-* | netns-ct-* | netns-exp-* | *.log | parent | manifest) return 1 ;;
	esac
	[ -f "$1" ] && [ ! -L "$1" ]
}

n_real=0
for img in "$CORPUS"/*/*; do
	is_entry_image "$img" || continue
	n_real=$((n_real + 1))
	check_image "$img" "${img#"$CORPUS"/}"
done
[ $n_real -gt 0 ] || fail "no real images found under $CORPUS"

n_fix=0
if [ -x "$GEN" ]; then
	FIX=$WORK/fixtures
	if "$GEN" --all "$FIX" >/dev/null 2>&1 && [ -f "$FIX/manifest" ]; then
		while IFS=$'\t' read -r rel code _off _status; do
			img=$FIX/$rel
			is_entry_image "$img" || continue
			if [ "$code" = "-" ]; then
				n_fix=$((n_fix + 1))
				check_image "$img" "fixture $rel"
			else
				# A broken image: decode may refuse it, but never crash.
				"$SV" decode -i "$img" -o "$WORK/broken.json" 2>"$WORK/err"
				st=$?
				[ $st -le 2 ] || fail "decode of broken fixture $rel exited with $st"
				if grep -q -e Sanitizer -e 'runtime error' "$WORK/err"; then
					fail "decode of broken fixture $rel: $(head -3 "$WORK/err")"
				fi
			fi
		done <"$FIX/manifest"
	else
		fail "$GEN --all did not write its fixtures"
	fi
else
	echo "SKIP: $GEN not built: fixture round trips not run"
fi

echo "criu-json round trips: $n_real real images, $n_fix fixtures, $checks decodes, $crit_checks compared with crit, $fails failures"
[ $fails -eq 0 ]
