#!/bin/bash
# CLI tests of terminal safety and of the files the CLI writes (issue 22):
# strings from inputs never reach the terminal raw; -o never eats its input;
# closed descriptors and broken pipes are errors (exit 2), not silence.
. "$(dirname "$0")/cli_lib.bash"
DATA=${SV_DATA:?}
SV=${SV:-$SV_TEST_BUILD/../../streamverify}

EVIL=$'\e[2J\e[31mEVIL\a'
EVIL_SHOWN='\x1b[2J\x1b[31mEVIL\x07'

# ---- hostile strings in every field of a finding, a record line and a figure ----
svt_text "$EVIL" >"$W/evil.svt"
expect 0 "hostile TEXT record, -v" -- "$T" -v "$W/evil.svt"
no_control "$W/out" "message, record type, record summary, figure"
same "$W/out" "$W/evil.svt:0x4: warning: record 0 ($EVIL_SHOWN): text: $EVIL_SHOWN [svt.text]
$W/evil.svt: $EVIL_SHOWN: $EVIL_SHOWN
$W/evil.svt:0x4: record 0 $EVIL_SHOWN, 24 bytes: text $EVIL_SHOWN
$W/evil.svt:0x1c: record 1 END, 8 bytes: 0 body bytes
$W/evil.svt: records: 2
$W/evil.svt: valid svt (2 records, 36 bytes; 1 warning)" "every string escaped the same way"
expect 0 "JSON output stays JSON-escaped" -- "$T" -v --json "$W/evil.svt"
contains '"message":"text: \u001b[2J\u001b[31mEVIL\u0007"' "JSON escapes"
no_control "$W/out" "JSON output"

# not UTF-8, C1 controls and bidirectional overrides are escaped; valid UTF-8 stays
svt_text $'bad \xff\xfe c1 \xc2\x9b bidi \xe2\x80\xae ok \xc3\xa9' >"$W/bytes.svt"
expect 0 "octets that are not UTF-8" -- "$T" "$W/bytes.svt"
contains 'text: bad \xff\xfe c1 \xc2\x9b bidi \xe2\x80\xae ok é [svt.text]' "escaped octets, é kept"

# a file name that tries to forge a summary line
NAME=$'x\e[2J\nFAKE: valid criu (25 records)'
svt_badpad >"$W/$NAME"
expect 1 "hostile file name" -- "$T" "$W/$NAME"
no_control "$W/out" "file name"
if grep -q '^FAKE' "$W/out"; then bad "a file name forged a line"; else ok; fi
same "$W/out" "$W/x\\x1b[2J\\x0aFAKE: valid criu (25 records):0xf: error: record 0 (BLOB): padding holds non-zero bytes [svt.padding.nonzero]
$W/x\\x1b[2J\\x0aFAKE: valid criu (25 records): INVALID svt (2 records, 28 bytes; 1 error)" "file name escaped in both lines"
expect 2 "hostile name in a usage error" -- "$T" --format "$EVIL" "$W/evil.svt"
no_control "$W/err" "usage error"
contains "unknown format '$EVIL_SHOWN'" "escaped in the message"
expect 1 "hostile name in decode's messages" -- "$T" decode -i "$W/$NAME"
no_control "$W/err" "decode stderr"
contains 'x\x1b[2J\x0aFAKE' "decode names the file escaped"
expect 2 "hostile -o in encode's messages" -- "$T" encode --format svt -i "$W/nonexistent$EVIL"
no_control "$W/err" "encode stderr"

# a hostile process name in a real CRIU dump, through -v
if [ -x "$SV" ]; then
	cp -r "$DATA/criu-real/sleep" "$W/dump"
	core=$(cd "$W/dump" && ls core-*.img | head -1)
	"$SV" decode -i "$W/dump/$core" -o "$W/core.json"
	python3 - "$W/core.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["entries"][0]["tc"]["comm"] = "\x1b[2J\x1b[31mEVIL\x07"
json.dump(d, open(sys.argv[1], "w"))
PY
	"$SV" encode -i "$W/core.json" -o "$W/dump/$core"
	expect 0 "hostile comm in a core image, -v" -- "$SV" -v "$W/dump"
	no_control "$W/out" "CRIU process name"
	contains "comm=$EVIL_SHOWN" "process name escaped"
else
	bad "no streamverify binary at $SV"
fi

# ---- -o and the input -------------------------------------------------------------
svt_valid >"$W/in.svt"
expect 2 "decode -o FILE < FILE" -- bash -c "'$T' decode -o '$W/in.svt' <'$W/in.svt'"
same "$W/err" "streamverify: refusing to write over the input: $W/in.svt is standard input" "stdin is the output"
cmp -s "$W/in.svt" <(svt_valid) && ok || bad "the input survived"
ln "$W/in.svt" "$W/in-link.svt"
expect 2 "decode -i FILE -o its hard link" -- "$T" decode -i "$W/in.svt" -o "$W/in-link.svt"
contains "refusing to write over the input" "same inode by another name"
rm "$W/in-link.svt"

# -o keeps the target's mode and hard links
echo old >"$W/target.json"
chmod 640 "$W/target.json"
ln "$W/target.json" "$W/target-link.json"
expect 0 "decode -o an existing file with two links" -- "$T" decode -i "$W/in.svt" -o "$W/target.json"
same "$W/target-link.json" '{"records":28,"pretty":false}' "the other link sees the new content"
[ "$(stat -c %a "$W/target.json")" = 640 ] && ok || bad "mode kept (links)"
rm "$W/target-link.json"
chmod 600 "$W/target.json"
expect 0 "decode -o an existing file" -- "$T" decode -i "$W/in.svt" -o "$W/target.json"
[ "$(stat -c %a "$W/target.json")" = 600 ] && ok || bad "mode kept (replaced)"
(umask 022; "$T" decode -i "$W/in.svt" -o "$W/new.json")
[ "$(stat -c %a "$W/new.json")" = 644 ] && ok || bad "a new file gets 0666 less the umask, not 0600"
svt_badpad >"$W/badpad.svt"
ln "$W/target.json" "$W/target-link.json"
expect 1 "a failed decode leaves a linked target alone" -- "$T" decode -i "$W/badpad.svt" -o "$W/target.json"
same "$W/target-link.json" '{"records":28,"pretty":false}' "linked target untouched"
ls "$W"/target.json.* >/dev/null 2>&1 && bad "temporary file left" || ok

# ---- closed descriptors ---------------------------------------------------------------
printf 'blobs 1' >"$W/enc.txt"
expect 2 "encode to a closed standard output" -- bash -c "'$T' encode --format svt -i '$W/enc.txt' >&-"
contains "streamverify: writing standard output:" "says so"
expect 2 "decode -o x with standard input closed" -- bash -c "cd '$W' && '$T' decode -o x.json <&-"
lacks "x.json.XXXX" "no temporary name in a message"
[ ! -e "$W/x.json" ] && ok || bad "decode <&- wrote x.json (from its own temporary?)"
for opt in --help --version --list-formats --list-codes; do
	expect 2 "$opt to a closed standard output" -- bash -c "'$T' $opt >&-"
	contains "streamverify: writing standard output: Bad file descriptor" "$opt says why"
	if [ -w /dev/full ]; then
		expect 2 "$opt to a full disk" -- bash -c "'$T' $opt >/dev/full"
		contains "No space left on device" "$opt: disk full"
	fi
done

# ---- broken pipes: exit 2 with a message, never death by SIGPIPE --------------------
svt_warn >"$W/warn.svt"
args=()
for i in $(seq 2000); do args+=("$W/warn.svt"); done
"$T" "${args[@]}" 2>"$W/err" | head -1 >/dev/null
st=${PIPESTATUS[0]}
[ "$st" = 2 ] && ok || bad "| head -1: exit $st, wanted 2"
same "$W/err" "streamverify: writing standard output: broken pipe" "broken pipe message"
"$T" --list-codes 2>"$W/err" | head -1 >/dev/null
st=${PIPESTATUS[0]}
# --list-codes may fit in the pipe buffer before head exits; then 0 is right too.
case $st in 0|2) ok ;; *) bad "--list-codes | head -1: exit $st" ;; esac

finish
