#!/bin/bash
# CRIU images -> protobuf text -> images, byte for byte, in both text forms
# (raw and --nice), for every entry image of the real dumps and every valid
# fixture of gen_criu; the text is also checked to be what it says (a magic
# line, one marker per entry, nothing raw from the image on the terminal).
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
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# Images whose round trip cannot be exact: fields unknown to the schema are
# left out of the text (criu.text.dropped says so).
dropped=0

check_image() {
	local img=$1 name=$2 mode flag txt back entries markers
	for mode in raw nice; do
		flag=--text
		[ $mode = nice ] && flag=--nice
		txt=$WORK/img.txt
		back=$WORK/back.img
		checks=$((checks + 1))
		if ! "$SV" decode $flag -i "$img" -o "$txt" 2>"$WORK/err"; then
			fail "decode $flag $name: $(head -3 "$WORK/err")"
			continue
		fi
		if grep -q criu.text.dropped "$WORK/err"; then
			dropped=$((dropped + 1))
			continue
		fi
		# Only printable ASCII, tabs and newlines reach the text.
		if LC_ALL=C grep -q '[^[:print:][:space:]]' "$txt"; then
			fail "decode $flag $name: the text holds unescaped octets"
		fi
		head -1 "$txt" | grep -q '^magic: ' || fail "decode $flag $name: no magic line"
		entries=$("$SV" info "$img" 2>/dev/null | sed -n 's/.*"count": \([0-9]*\).*/\1/p')
		markers=$(grep -c '^#[0-9]' "$txt")
		# info leaves out the pagemap head; ghost chunks count in both.
		case $(head -1 "$txt") in
		*PAGEMAP | *0x56084025) markers=$((markers - 1)) ;;
		esac
		if [ -n "$entries" ] && [ "$markers" != "$entries" ]; then
			fail "decode $flag $name: $markers entry markers for $entries entries"
		fi
		if ! "$SV" encode -i "$txt" -o "$back" 2>"$WORK/err"; then
			fail "encode of decode $flag $name: $(head -3 "$WORK/err")"
			continue
		fi
		cmp -s "$back" "$img" || fail "round trip $flag $name: $(cmp "$back" "$img" 2>&1 | head -1)"
	done
}

# Plugin images (amdgpu-*) carry their own size-prefixed payloads, not CRIU entries.
is_entry_image() {
	case $(basename "$1") in
	pages-* | tmpfs-* | ifaddr-* | route-* | route6-* | rule-* | iptables-* | ip6tables-* | \
	nftables-* | netns-ct-* | netns-exp-* | amdgpu-* | *.log | parent | manifest) return 1 ;;
	esac
	[ -f "$1" ] && [ ! -L "$1" ]
}

n_real=0
for img in "$CORPUS"/*/*; do
	is_entry_image "$img" || continue
	n_real=$((n_real + 1))
	check_image "$img" "${img#"$CORPUS"/}"
done
[ $n_real -gt 100 ] || fail "only $n_real real images found under $CORPUS"
real_dropped=$dropped
[ $real_dropped -eq 0 ] || fail "$real_dropped real images lost fields in the text"

n_fix=0
n_broken=0
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
				# A broken image: decode refuses it or not, but never crashes,
				# and writes nothing when it refuses.
				n_broken=$((n_broken + 1))
				rm -f "$WORK/broken.txt"
				"$SV" decode --nice -i "$img" -o "$WORK/broken.txt" 2>"$WORK/err"
				st=$?
				[ $st -le 2 ] || fail "decode of broken fixture $rel exited with $st"
				[ $st -eq 0 ] || [ ! -e "$WORK/broken.txt" ] || fail "decode of broken fixture $rel left output"
				if grep -q -e Sanitizer -e 'runtime error' "$WORK/err"; then
					fail "decode of broken fixture $rel: $(head -3 "$WORK/err")"
				fi
			fi
		done <"$FIX/manifest"
	else
		fail "$GEN --all did not write its fixtures"
	fi
else
	fail "$GEN is not built"
fi
[ $n_fix -gt 0 ] || fail "no valid fixtures"

echo "criu-text round trips: $n_real real images, $n_fix fixtures ($checks decodes, $((dropped - real_dropped)) fixtures with unknown fields not compared), $n_broken broken fixtures refused cleanly, $fails failures"
[ $fails -eq 0 ]
