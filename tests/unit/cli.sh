#!/bin/bash
# CLI tests of the core: exit statuses, options, output modes.
# Runs the command line with the test-only formats (tool_svtest).
. "$(dirname "$0")/cli_lib.bash"
valid() { svt_valid; }

printf 'SVT1' >"$W/trunc.svt"
valid >"$W/valid.svt"
printf 'SVT1\x01\x00\x00\x00\x03\x00\x00\x00abc\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' >"$W/badpad.svt"
printf 'SVT1\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' >"$W/warn.svt"
printf 'hello, world' >"$W/other.bin"
gzip -c "$W/badpad.svt" >"$W/badpad.svt.gz"
gzip -c "$W/valid.svt" >"$W/valid.svt.gz"

expect 0 "valid file" -- "$T" "$W/valid.svt"
contains "valid svt (2 records, 28 bytes)" "summary line"
expect 1 "invalid file" -- "$T" "$W/badpad.svt"
contains "$W/badpad.svt:0xf: error: record 0 (BLOB): padding holds non-zero bytes [svt.padding.nonzero]" "text diagnostic"
expect 1 "truncated file" -- "$T" "$W/trunc.svt"
contains "svt.end.missing" "end missing"
expect 1 "gzip input" -- "$T" "$W/badpad.svt.gz"
contains ":0xf: error: record 0 (BLOB)" "gzip offsets are decompressed offsets"
expect 0 "stdin" -- bash -c "cat '$W/valid.svt' | '$T' -"
contains "<stdin>: valid svt" "stdin is named <stdin>"
expect 1 "stdin invalid" -- bash -c "cat '$W/badpad.svt' | '$T' -"
expect 2 "unrecognised input" -- "$T" "$W/other.bin"
contains "input.format.unknown" "unknown format code"
expect 2 "missing file" -- "$T" "$W/nope.svt"
contains "cannot open" "missing file message"
expect 2 "I/O error wins over invalid" -- "$T" "$W/badpad.svt" "$W/nope.svt"
expect 1 "several inputs, one invalid" -- "$T" "$W/valid.svt" "$W/badpad.svt"
expect 0 "several inputs, all valid" -- "$T" "$W/valid.svt" "$W/valid.svt.gz"
expect 0 "warning alone is valid" -- "$T" "$W/warn.svt"
expect 1 "--werror" -- "$T" --werror "$W/warn.svt"
expect 0 "--format forces" -- "$T" --format svt-weak "$W/badpad.svt"
expect 0 "--format=auto" -- "$T" --format=auto "$W/valid.svt"

# usage errors: exit 2
expect 2 "no input" -- "$T"
contains "no input given" "no input message"
expect 2 "unknown option" -- "$T" --frobnicate "$W/valid.svt"
expect 2 "unknown format" -- "$T" --format nosuch "$W/valid.svt"
contains "unknown format 'nosuch'" "unknown format message"
expect 2 "bad --max-errors" -- "$T" --max-errors x "$W/valid.svt"
expect 2 "zero --max-errors" -- "$T" --max-errors 0 "$W/valid.svt"
expect 2 "bad --color" -- "$T" --color=sometimes "$W/valid.svt"

# output modes
expect 1 "quiet" -- "$T" -q "$W/badpad.svt" "$W/valid.svt"
[ "$(wc -l <"$W/out")" = 1 ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: -q prints only the error"; cat "$W/out"; }
expect 0 "verbose" -- "$T" -v "$W/valid.svt"
contains ":0x4: record 0 BLOB, 16 bytes: 3 body bytes" "verbose record line"
expect 1 "json" -- "$T" --json "$W/badpad.svt"
contains '"type":"diagnostic"' "json diagnostic"
contains '"code":"svt.padding.nonzero"' "json code"
contains '"verdict":"invalid","exit":1' "json summary"
expect 1 "colour always" -- "$T" --color=always "$W/badpad.svt"
contains $'\033[1;31merror' "colour escape"
expect 1 "no colour into a file" -- "$T" "$W/badpad.svt"
if grep -q $'\033' "$W/out"; then fail=$((fail+1)); echo "FAIL: colour when not a terminal"; else pass=$((pass+1)); fi
expect 1 "max errors" -- "$T" --max-errors 1 "$W/badpad.svt"
contains "stopped early" "max-errors summary"

# information
expect 0 "help" -- "$T" --help
contains "Exit status: 0 every input valid" "help text"
expect 0 "version" -- "$T" --version
contains "streamverify " "version text"
expect 0 "list formats" -- "$T" --list-formats
contains "svt" "format listed"
expect 0 "list codes" -- "$T" --list-codes
contains "svt.padding.nonzero" "code listed"
contains "input.truncated" "core code listed"
expect 0 "list codes json" -- "$T" --list-codes --json
contains '{"code":"input.truncated","severity":"error"' "json code list"

# conversions
expect 0 "decode to stdout" -- "$T" decode -i "$W/valid.svt"
contains '{"records":28,"pretty":false}' "decode output"
expect 0 "decode --pretty from stdin" -- bash -c "'$T' decode --pretty <'$W/valid.svt'"
contains '"pretty":true' "pretty flag reaches the module"
expect 1 "decode of an invalid input" -- "$T" decode -i "$W/badpad.svt" -o "$W/never.json"
contains "svt.padding.nonzero" "decode failure says why"
[ ! -e "$W/never.json" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: failed decode wrote OUT"; }
printf 'blobs 2' >"$W/enc.txt"
printf 'junk' >"$W/bad.txt"
expect 0 "encode" -- "$T" encode --format svt -i "$W/enc.txt" -o "$W/enc.svt"
expect 0 "encoded output verifies" -- "$T" "$W/enc.svt"
contains "valid svt (3 records" "encoded stream"
echo keep >"$W/keep.svt"
expect 1 "failed encode" -- "$T" encode --format svt -i "$W/bad.txt" -o "$W/keep.svt"
[ "$(cat "$W/keep.svt")" = keep ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: failed encode touched OUT"; }
ls "$W"/keep.svt.* >/dev/null 2>&1 && { fail=$((fail+1)); echo "FAIL: temp file left"; } || pass=$((pass+1))
expect 1 "failed encode to stdout prints nothing" -- "$T" encode --format svt -i "$W/bad.txt"
[ ! -s "$W/out" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: failed encode wrote stdout"; }
expect 2 "encode over its input" -- "$T" encode --format svt -i "$W/enc.txt" -o "$W/enc.txt"
contains "refusing to write over the input" "same-file refusal"
expect 0 "encode to a device writes into it" -- "$T" encode --format svt -i "$W/enc.txt" -o /dev/null
[ -c /dev/null ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: /dev/null was replaced"; }
mkfifo "$W/fifo"
(cat "$W/fifo" >"$W/from-fifo") &
expect 0 "encode to a FIFO" -- "$T" encode --format svt -i "$W/enc.txt" -o "$W/fifo"
wait
cmp -s "$W/from-fifo" "$W/enc.svt" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: FIFO output differs"; }
expect 0 "info" -- "$T" info "$W/valid.svt"
contains "svt stream of 28 bytes" "info output"
expect 2 "decode with a stray argument" -- "$T" decode "$W/valid.svt"
expect 2 "info with -o" -- "$T" info -o x "$W/valid.svt"
expect 1 "decode of unrecognised input" -- "$T" decode -i "$W/other.bin"
contains "input.format.unsupported" "no decoder"
same "$W/err" "$W/other.bin: error: no format can decode this input (data beginning \"hello, world\") [input.format.unsupported]" "what it looks like"

# the input is never written
before=$(stat -c '%Y %s' "$W/badpad.svt"; md5sum <"$W/badpad.svt")
"$T" "$W/badpad.svt" >/dev/null
after=$(stat -c '%Y %s' "$W/badpad.svt"; md5sum <"$W/badpad.svt")
[ "$before" = "$after" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: input changed"; }

finish
