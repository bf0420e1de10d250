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

echo "criu-json error tests: $fails failures"
[ $fails -eq 0 ]
