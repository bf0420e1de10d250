#!/bin/bash
# encode refuses bad JSON with the JSON path of the culprit and leaves OUT
# alone; decode refuses what is not an image; info reports truncation.
#
# Env (from make check): SV, SV_DATA, SV_TEST_BUILD.
set -u

SV=${SV:?}
CORPUS=${SV_DATA:?}/criu-real
WORK=${SV_TEST_BUILD:?}/errors
rm -rf "$WORK"
mkdir -p "$WORK"

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

OUT=$WORK/out.img
SENTINEL="not overwritten"

# expect_encode_error NAME JSON MESSAGE-PART CODE
expect_encode_error() {
	local name=$1 json=$2 want=$3 code=$4 st
	printf '%s' "$json" >"$WORK/in.json"
	printf '%s' "$SENTINEL" >"$OUT"
	"$SV" encode -i "$WORK/in.json" -o "$OUT" 2>"$WORK/err"
	st=$?
	[ $st -eq 1 ] || fail "$name: exit status $st, expected 1"
	grep -qF -- "$want" "$WORK/err" || fail "$name: no '$want' in: $(cat "$WORK/err")"
	grep -qF -- "[$code]" "$WORK/err" || fail "$name: no code $code in: $(cat "$WORK/err")"
	[ "$(cat "$OUT")" = "$SENTINEL" ] || fail "$name: OUT was written"
	grep -q -e Sanitizer -e 'runtime error' "$WORK/err" && fail "$name: $(cat "$WORK/err")"
}

CORE='{"magic": "CORE", "entries": [{"mtype": "X86_64", "tc": {"task_state": 1, "exit_code": 0, "personality": 0, "flags": 0, "blk_sigset": 0, "comm": "x", "rlimits": {"rlimits": [{"cur": 1, "max": 2}, {"cur": 3, "max": 4}, {"cur": 5, "max": 6}]}}}]}'

expect_encode_error "invalid JSON" '{"magic": "CORE", "entries": [}' "invalid JSON at line 1, column" criu.json.syntax
expect_encode_error "not JSON at all" 'hello' "invalid JSON at line 1" criu.json.syntax
expect_encode_error "duplicate key" '{"magic": "CORE", "magic": "CORE", "entries": []}' "invalid JSON" criu.json.syntax
expect_encode_error "unknown field" "${CORE/\"comm\": \"x\"/\"comm\": \"x\", \"colour\": 1}" \
	'entries[0].tc.colour: unknown field' criu.json.unknown-field
expect_encode_error "unknown top-level field" '{"magic": "CORE", "entries": [], "more": 1}' \
	'more: unknown field' criu.json.unknown-field
expect_encode_error "wrong type" "${CORE/\"cur\": 3/\"cur\": \"three\"}" \
	'entries[0].tc.rlimits.rlimits[1].cur: "three" is not an integer' criu.json.value
expect_encode_error "wrong type (object)" "${CORE/\"cur\": 5/\"cur\": {\}}" \
	'entries[0].tc.rlimits.rlimits[2].cur: expected an integer (uint64), got an object' criu.json.type
expect_encode_error "out of range" "${CORE/\"cur\": 5/\"cur\": 18446744073709551616}" \
	'entries[0].tc.rlimits.rlimits[2].cur: 18446744073709551616 does not fit in 64 bits' criu.json.range
expect_encode_error "negative unsigned" "${CORE/\"cur\": 5/\"cur\": -5}" \
	'entries[0].tc.rlimits.rlimits[2].cur: -5 is out of range for uint64' criu.json.range
expect_encode_error "uint32 overflow" "${CORE/\"exit_code\": 0/\"exit_code\": 4294967296}" \
	'entries[0].tc.exit_code: 4294967296 is out of range for uint32' criu.json.range
expect_encode_error "unknown enum name" "${CORE/X86_64/VAX}" \
	'entries[0].mtype: "VAX" is not a value of enum' criu.json.value
expect_encode_error "missing required field" "${CORE/\"comm\": \"x\", /}" \
	'entries[0].tc: required field comm of task_core_entry is missing' criu.json.required
expect_encode_error "unknown magic" '{"magic": "NOPE", "entries": []}' \
	'magic: "NOPE" is not the name of a CRIU image type' criu.json.value
expect_encode_error "bad base64" \
	'{"magic": "PIPES_DATA", "entries": [{"pipe_id": 1, "bytes": 3, "extra": "!!!"}]}' \
	'entries[0].extra: not base64 text' criu.json.value
expect_encode_error "extra of the wrong length" \
	'{"magic": "PIPES_DATA", "entries": [{"pipe_id": 1, "bytes": 4, "extra": "YWJj\n"}]}' \
	'entries[0].extra: holds 3 bytes of pipe data, but the entry says 4' criu.json.extra
expect_encode_error "decode --nopl output" \
	'{"magic": "PIPES_DATA", "entries": [{"pipe_id": 1, "bytes": 3, "extra": "... <3B>"}]}' \
	'decode --nopl left out' criu.json.extra
expect_encode_error "bad flag name" \
	'{"magic": "PAGEMAP", "entries": [{"pages_id": 1}, {"vaddr": "0x1000", "nr_pages": 1, "flags": "PE_PRESENT | PE_BOGUS"}]}' \
	'entries[1].flags: "PE_BOGUS" is neither a flag name' criu.json.value

expect_encode_error "ghost file without its entry" '{"magic": "GHOST_FILE", "entries": []}' \
	'a ghost file image needs its ghost_file_entry' criu.json.layout

# The same JSON, fixed, encodes.
printf '%s' "$CORE" >"$WORK/ok.json"
"$SV" encode -i "$WORK/ok.json" -o "$OUT" 2>"$WORK/err" || fail "valid CORE JSON: $(cat "$WORK/err")"

# Decode: not an image.
printf 'not an image at all' >"$WORK/junk.img"
printf '%s' "$SENTINEL" >"$OUT"
"$SV" decode --format criu -i "$WORK/junk.img" -o "$OUT" 2>"$WORK/err"
[ $? -eq 1 ] || fail "decode of junk: exit status, $(cat "$WORK/err")"
grep -qF 'criu.json.magic' "$WORK/err" || fail "decode of junk: $(cat "$WORK/err")"
[ "$(cat "$OUT")" = "$SENTINEL" ] || fail "decode of junk wrote OUT"

# Decode: an entry that is no protobuf message (a varint that never ends).
printf '\x19\x43\x56\x54\x47\x38\x05\x55\x03\x00\x00\x00\x08\xff\xff' >"$WORK/bad-core.img"
printf '%s' "$SENTINEL" >"$OUT"
"$SV" decode --format criu -i "$WORK/bad-core.img" -o "$OUT" 2>"$WORK/err"
[ $? -eq 1 ] || fail "decode of a malformed entry: exit status, $(cat "$WORK/err")"
grep -qF 'criu.json.entry' "$WORK/err" || fail "decode of a malformed entry: $(cat "$WORK/err")"
[ "$(cat "$OUT")" = "$SENTINEL" ] || fail "decode of a malformed entry wrote OUT"

# Decode: an entry over the 64 MiB cap (a sparse file, so the bytes are there).
truncate -s 80M "$WORK/big-entry.img"
printf '\x19\x43\x56\x54\x47\x38\x05\x55\x00\x00\x00\x05' |
	dd of="$WORK/big-entry.img" conv=notrunc 2>/dev/null
"$SV" decode --format criu -i "$WORK/big-entry.img" >/dev/null 2>"$WORK/err"
[ $? -eq 1 ] || fail "decode of an 80 MiB entry: exit status, $(cat "$WORK/err")"
grep -qF 'criu.json.too-large' "$WORK/err" || fail "decode of an 80 MiB entry: $(cat "$WORK/err")"
rm -f "$WORK/big-entry.img"

# Decode to an output that cannot be written.
if [ -w /dev/full ]; then
	"$SV" decode -i "$CORPUS/sleep/inventory.img" >/dev/full 2>"$WORK/err"
	[ $? -ne 0 ] || fail "decode to /dev/full succeeded"
	grep -qF 'criu.json.output' "$WORK/err" || fail "decode to /dev/full: $(cat "$WORK/err")"
fi

# info on a whole image and on every truncation of it.
IMG=$(ls "$CORPUS"/net/files.img)
"$SV" info "$IMG" >"$WORK/info" 2>"$WORK/err" || fail "info: $(cat "$WORK/err")"
grep -q '"magic": "FILES"' "$WORK/info" || fail "info: $(cat "$WORK/info")"
count=$(sed -n 's/.*"count": \([0-9]*\).*/\1/p' "$WORK/info")
[ -n "$count" ] && [ "$count" -gt 0 ] || fail "info count: $(cat "$WORK/info")"
size=$(stat -c %s "$IMG")
cut=$((size - 3))
head -c $cut "$IMG" >"$WORK/files.img"
"$SV" info "$WORK/files.img" >"$WORK/info" 2>"$WORK/err"
[ $? -eq 1 ] || fail "info on a truncated image: exit status"
grep -q '"truncated_at": [0-9]' "$WORK/info" || fail "info on a truncated image: $(cat "$WORK/info")"
grep -q "truncated: needed" "$WORK/err" || fail "info on a truncated image: $(cat "$WORK/err")"
grep -q "\"count\": $((count - 1))" "$WORK/info" || fail "truncated count: $(cat "$WORK/info")"
# truncated_at is the offset of the truncation finding itself.
at=$(sed -n 's/.*"truncated_at": \([0-9]*\).*/\1/p' "$WORK/info")
err_at=$(sed -n 's/^[^:]*:0x\([0-9a-f]*\): error: .*input\.truncated.*/\1/p' "$WORK/err" | head -1)
[ -n "$err_at" ] && [ "$at" = "$((16#$err_at))" ] ||
	fail "info truncated_at $at, the finding says 0x$err_at: $(cat "$WORK/err")"

# ---- encode streams (issues 21, 22) ------------------------------------------

# The magic may come after the entries (crit reads a dict): the same image.
PM='{"pages_id": 1}, {"vaddr": 4096, "nr_pages": 1, "flags": "PE_PRESENT"}'
printf '{"magic": "PAGEMAP", "entries": [%s]}' "$PM" >"$WORK/first.json"
printf '{"entries": [%s], "magic": "PAGEMAP"}' "$PM" >"$WORK/last.json"
"$SV" encode -i "$WORK/first.json" -o "$WORK/first.img" 2>"$WORK/err" || fail "magic first: $(cat "$WORK/err")"
"$SV" encode -i "$WORK/last.json" -o "$WORK/last.img" 2>"$WORK/err" || fail "magic last: $(cat "$WORK/err")"
cmp -s "$WORK/first.img" "$WORK/last.img" || fail "magic after the entries gives another image"
printf '{"entries": [], "magic": "PAGEMAP"}' >"$WORK/empty.json"
"$SV" encode -i "$WORK/empty.json" -o "$WORK/empty.img" 2>"$WORK/err" || fail "empty, magic last: $(cat "$WORK/err")"
[ "$(od -An -tx1 "$WORK/empty.img" | tr -d ' \n')" = "$(od -An -tx1 -N8 "$WORK/first.img" | tr -d ' \n')" ] ||
	fail "empty entries, magic last: not the bare header"
expect_encode_error "entries, then a bad magic" '{"entries": [{"pages_id": 1}], "magic": "NOPE"}' \
	'magic: "NOPE" is not the name of a CRIU image type' criu.json.value
expect_encode_error "entries without a magic" '{"entries": [{"pages_id": 1}]}' \
	'magic: missing: the image type'"'"'s name' criu.json.required

# A syntax error far past the first 64 KiB read is placed by line and
# column of the whole document, the offset too.
{
	printf '{\n "magic": "PAGEMAP",\n "entries": [\n  {"pages_id": 1}'
	for i in $(seq 1 3000); do printf ',\n  {"vaddr": %d, "nr_pages": 1, "flags": 4}' $((i * 4096)); done
	printf ',\n  {"vaddr": 1, "nr_pages": 1 "flags": 4}\n ]\n}\n'
} >"$WORK/far.json"
bad_line=$((4 + 3000 + 1))
before=$(head -n $((bad_line - 1)) "$WORK/far.json" | wc -c)
# jansson's position is just after the token it stopped at ("flags"), 36
# bytes into the line: column 37, as when the document was parsed whole.
"$SV" encode -i "$WORK/far.json" -o "$OUT" 2>"$WORK/err"
grep -qF "invalid JSON at line $bad_line, column 37: '}' expected near '\"flags\"'" "$WORK/err" ||
	fail "far syntax error: $(cat "$WORK/err")"
grep -q "^[^:]*:0x$(printf '%x' $((before + 36))): error: invalid JSON" "$WORK/err" ||
	fail "far syntax error offset (want 0x$(printf '%x' $((before + 36)))): $(cat "$WORK/err")"

# Memory is bounded by the largest entry, not the document: a 200,000-entry
# pagemap (10 MB of JSON, which took 130 MiB parsed whole) encodes byte for
# byte within a 48 MiB address space.  Not under the sanitizers, whose
# shadow memory needs far more.
if [ -z "${SV_SANITIZE:-}" ]; then
	GEN=${SV_BUILD:?}/tests/criu/gen_criu
	"$GEN" --pagemap 200000 -o "$WORK/pm.img" && "$SV" decode -i "$WORK/pm.img" -o "$WORK/pm.json" ||
		fail "making the big pagemap"
	(ulimit -v 49152; "$SV" encode -i "$WORK/pm.json" -o "$WORK/pm2.img") 2>"$WORK/err" ||
		fail "big pagemap within 48 MiB: $(cat "$WORK/err")"
	cmp -s "$WORK/pm.img" "$WORK/pm2.img" || fail "big pagemap: not byte for byte"
	# An entry too big for the memory there is: not encoded, exit 2 (no
	# verdict on the JSON), the output left alone.
	{
		printf '{"magic": "PIPES_DATA", "entries": [{"pipe_id": 1, "bytes": 50331648, "extra": "'
		head -c 50331648 /dev/zero | base64 -w0
		printf '"}]}'
	} >"$WORK/huge.json"
	printf '%s' "$SENTINEL" >"$OUT"
	(ulimit -v 49152; "$SV" encode -i "$WORK/huge.json" -o "$OUT") 2>"$WORK/err"
	st=$?
	[ $st -eq 2 ] || fail "entry over the memory: exit $st, expected 2: $(cat "$WORK/err")"
	grep -qF 'out of memory' "$WORK/err" || fail "entry over the memory: $(cat "$WORK/err")"
	[ "$(cat "$OUT")" = "$SENTINEL" ] || fail "entry over the memory: OUT was written"
	rm -f "$WORK/huge.json" "$WORK/pm.json"
fi

echo "criu-json error tests: $fails failures"
[ $fails -eq 0 ]
