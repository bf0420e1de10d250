#!/bin/bash
# streamverify convert --to 1|1.1: every real dump to image version 1 and
# back, every real image and every gen_criu fixture image (version 1.1 and
# version 1) one by one; each result verifies clean, carries the layout
# asked for, and the way back gives the original bytes.  Refusals (an
# unknown version, an existing OUT, a broken input, OUT = IN, standard
# input) leave no output behind.  Image version 3: convert3.sh.
#
# Env (from make check): SV, SV_BUILD, SV_DATA, SV_TEST_BUILD.
set -u

SV=${SV:?}
CORPUS=${SV_DATA:?}/criu-real
GEN=${SV_BUILD:?}/tests/criu/gen_criu
WORK=${SV_TEST_BUILD:?}/convert
rm -rf "$WORK"
mkdir -p "$WORK/v1" "$WORK/back" "$WORK/img/there" "$WORK/img/back"

fails=0
dumps=0
predumps=0
images=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# Refusals: nothing written.
refuse() {
	local name=$1 want=$2 out=$3 st
	shift 3
	"$SV" convert "$@" 2>"$WORK/err"
	st=$?
	[ $st -ne 0 ] || fail "$name: accepted"
	[ $st -le 2 ] || fail "$name: exit status $st"
	grep -qF -- "$want" "$WORK/err" || fail "$name: no '$want' in: $(cat "$WORK/err")"
	[ -z "$out" ] || [ ! -e "$out" ] || fail "$name: $out was written"
	ls "$WORK"/refuse* >/dev/null 2>&1 && fail "$name: left a temporary behind"
}
first_word() { od -An -tx4 -N4 "$1" | tr -d ' '; }

# Whole dumps.  Converted side by side, so that the relative parent links
# of incremental dumps (parent -> ../incr-1) reach the converted parent.
for d in "$CORPUS"/*/; do
	d=${d%/}
	name=$(basename "$d")
	"$SV" -q "$d" >/dev/null 2>&1 || continue # a dump the verifier rejects is not converted
	if "$SV" decode --text -i "$d/inventory.img" | grep -q 'img_version: 0 '; then
		# A pre-dump has no version-1 form; its children then fail too.
		refuse "pre-dump $name" "a pre-dump (img_version 0) has only the version 1.1 layout" \
			"$WORK/v1/$name" --to 1 "$d" -o "$WORK/v1/$name"
		predumps=$((predumps + 1))
		# Later dumps of the chain keep it as their (version 1.1) parent.
		cp -a "$d" "$WORK/v1/$name"
		continue
	fi
	dumps=$((dumps + 1))
	"$SV" convert --to 1 "$d" -o "$WORK/v1/$name" 2>"$WORK/err" ||
		{ fail "convert --to 1 $name: $(head -3 "$WORK/err")"; continue; }
	[ "$(first_word "$WORK/v1/$name/inventory.img")" = 58313116 ] || fail "$name: inventory magic"
	for img in "$WORK/v1/$name"/core-*.img; do
		[ -e "$img" ] || continue
		[ "$(first_word "$img")" = 55053847 ] || fail "$name: $(basename "$img") still has a head magic"
	done
done
# The parents exist now: verify the version-1 dumps, then go back.
for d in "$WORK"/v1/*/; do
	d=${d%/}
	name=$(basename "$d")
	"$SV" -q "$d" >"$WORK/out" 2>&1 || fail "version-1 $name does not verify: $(head -3 "$WORK/out")"
	"$SV" convert --to 1.1 "$d" -o "$WORK/back/$name" 2>"$WORK/err" ||
		{ fail "convert --to 1.1 $name: $(head -3 "$WORK/err")"; continue; }
	diff -r --no-dereference "$CORPUS/$name" "$WORK/back/$name" >"$WORK/diff" 2>&1 ||
		fail "$name there and back differs: $(head -3 "$WORK/diff")"
done
[ $dumps -ge 10 ] || fail "only $dumps real dumps converted"

# convert_image IMG NAME: to the other version and back, one image.
convert_image() {
	local img=$1 name=$2 other there back
	case $(first_word "$img") in
	54564319 | 55105940) other=1 back=1.1 ;;
	58313116) # inventory: its img_version says the version
		if "$SV" decode --text -i "$img" | grep -q 'img_version: 0 '; then
			refuse "pre-dump $name" "a pre-dump (img_version 0) has only the version 1.1 layout" \
				"$WORK/img/there/inventory.img" --to 1 "$img" -o "$WORK/img/there/inventory.img"
			return
		elif "$SV" decode --text -i "$img" | grep -q 'img_version: 1 '; then
			other=1.1 back=1
		else
			other=1 back=1.1
		fi ;;
	*) other=1.1 back=1 ;;
	esac
	images=$((images + 1))
	# The same file name: it names raw images and fixes the type magic.
	there=$WORK/img/there/$(basename "$img")
	"$SV" convert --to $other "$img" -o "$there" 2>"$WORK/err" ||
		{ fail "convert --to $other $name: $(head -3 "$WORK/err")"; return; }
	"$SV" -q "$there" >"$WORK/out" 2>&1 || fail "$name in version $other does not verify: $(head -3 "$WORK/out")"
	"$SV" convert --to $back "$there" -o "$WORK/img/back/$(basename "$img")" 2>"$WORK/err" ||
		{ fail "convert --to $back $name: $(head -3 "$WORK/err")"; return; }
	cmp -s "$img" "$WORK/img/back/$(basename "$img")" || fail "$name there and back differs"
	rm -f "$there" "$WORK/img/back/$(basename "$img")"
}

for img in "$CORPUS"/*/*.img "$CORPUS"/*/stats-dump; do
	[ -f "$img" ] && [ ! -L "$img" ] || continue
	"$SV" -q "$img" >/dev/null 2>&1 || continue
	convert_image "$img" "${img#"$CORPUS"/}"
done

n_fix=0
FIX=$WORK/fixtures
if [ -x "$GEN" ] && "$GEN" --all "$FIX" >/dev/null 2>&1 && [ -f "$FIX/manifest" ]; then
	while IFS=$'\t' read -r rel code _off _status; do
		[ "$code" = "-" ] || continue
		img=$FIX/$rel
		case $rel in valid*/*) ;; *) continue ;; esac
		[ -f "$img" ] || continue
		n_fix=$((n_fix + 1))
		convert_image "$img" "fixture $rel"
	done <"$FIX/manifest"
else
	fail "gen_criu fixtures not written"
fi
[ $n_fix -gt 50 ] || fail "only $n_fix fixtures converted"

refuse "unknown version" "unknown image version '7' (1, 1.1 or 3)" "$WORK/refuse" --to 7 "$CORPUS/sleep" -o "$WORK/refuse"
mkdir "$WORK/exists"
refuse "existing output directory" "exists: a converted dump goes to a new directory" "" \
	--to 1 "$CORPUS/sleep" -o "$WORK/exists"
[ -z "$(ls -A "$WORK/exists")" ] || fail "existing output directory was written into"
cp "$CORPUS/sleep/core-234.img" "$WORK/self.img"
refuse "output = input" "refusing to write over the input" "" --to 1 "$WORK/self.img" -o "$WORK/self.img"
cmp -s "$WORK/self.img" "$CORPUS/sleep/core-234.img" || fail "output = input: the input changed"
head -c 100 "$CORPUS/sleep/core-234.img" >"$WORK/cut.img"
refuse "truncated image" "not converted: the image has errors" "$WORK/refuse.img" --to 1 "$WORK/cut.img" -o "$WORK/refuse.img"
cp -r "$CORPUS/sleep" "$WORK/broken-dump"
rm "$WORK/broken-dump/mm-234.img"
refuse "broken dump" "not converted: the dump has errors" "$WORK/refuse" --to 1 "$WORK/broken-dump" -o "$WORK/refuse"
refuse "standard input" "not standard input" "$WORK/refuse.img" --to 1 - -o "$WORK/refuse.img" <"$CORPUS/sleep/core-234.img"
"$SV" convert --to 1 "$CORPUS/sleep" 2>"$WORK/err"
[ $? -eq 2 ] && grep -q "needs -o" "$WORK/err" || fail "no -o: $(cat "$WORK/err")"

echo "criu-convert: $dumps dumps ($predumps pre-dumps refused) and $images images there and back ($n_fix fixtures), $fails failures"
[ $fails -eq 0 ]
