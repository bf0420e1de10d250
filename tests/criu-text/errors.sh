#!/bin/bash
# encode refuses bad text with the line and column of the culprit, the
# right code, exit status 1, and leaves OUT alone; good hand-written text
# (both forms, comments, lists, octal and hex escapes, numbers in every
# base) encodes to the image a decode gives back.
#
# Env (from make check): SV, SV_TEST_BUILD.
set -u

SV=${SV:?}
WORK=${SV_TEST_BUILD:?}/errors
rm -rf "$WORK"
mkdir -p "$WORK"

fails=0
cases=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

OUT=$WORK/out.img
SENTINEL="not overwritten"

# expect_error NAME TEXT "line L, column C: MESSAGE-PART" CODE
expect_error() {
	local name=$1 text=$2 want=$3 code=$4 st
	cases=$((cases + 1))
	printf '%b' "$text" >"$WORK/in.txt"
	printf '%s' "$SENTINEL" >"$OUT"
	"$SV" encode -i "$WORK/in.txt" -o "$OUT" 2>"$WORK/err"
	st=$?
	[ $st -eq 1 ] || fail "$name: exit status $st, expected 1 ($(cat "$WORK/err"))"
	grep -qF -- "$want" "$WORK/err" || fail "$name: no '$want' in: $(cat "$WORK/err")"
	grep -qF -- "[$code]" "$WORK/err" || fail "$name: no code $code in: $(cat "$WORK/err")"
	[ "$(cat "$OUT")" = "$SENTINEL" ] || fail "$name: OUT was written"
	grep -q -e Sanitizer -e 'runtime error' "$WORK/err" && fail "$name: $(cat "$WORK/err")"
	[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "$name: more than one line of errors: $(cat "$WORK/err")"
}

P='magic: IMG_COMMON PSTREE\n#0 pstree_entry\n'
expect_error "unexpected character" "${P}  pid: 1 @\n" \
	"line 3, column 10: unexpected character '@'" criu.text.syntax
expect_error "control character" "${P}  pid: 1\x01\n" \
	"line 3, column 9: unexpected character 0x01" criu.text.syntax
expect_error "unterminated string" 'magic: IMG_COMMON PIPES_DATA\n#0\npipe_id: 1 bytes: 2 extra: "ab\n' \
	"line 3, column 28: the string ends without its closing quote" criu.text.syntax
expect_error "bad escape" 'magic: IMG_COMMON PIPES_DATA\n#0\npipe_id: 1 bytes: 2 extra: "a\\qb"\n' \
	"line 3, column 30: unknown escape \\'q'" criu.text.syntax
expect_error "octal escape too big" 'magic: IMG_COMMON PIPES_DATA\n#0\npipe_id: 1 bytes: 2 extra: "a\\777"\n' \
	"line 3, column 30: octal escape \\777 is above \\377" criu.text.syntax
expect_error "\\x without digits" 'magic: IMG_COMMON PIPES_DATA\n#0\npipe_id: 1 bytes: 2 extra: "a\\xg"\n' \
	"line 3, column 30: \\x needs a hexadecimal digit" criu.text.syntax
expect_error "unknown field" "${P}  pid: 1\n  colour: 3\n" \
	"line 4, column 3: pstree_entry has no field colour" criu.text.unknown-field
expect_error "missing colon" "${P}  pid 1\n" \
	"line 3, column 7: expected ':' after pid, got '1'" criu.text.syntax
expect_error "uint32 out of range" "${P}  pid: 4294967296 ppid: 0 pgid: 1 sid: 1\n" \
	"line 3, column 8: 4294967296 is out of range for uint32 pid" criu.text.value
expect_error "negative unsigned" "${P}  pid: -1 ppid: 0 pgid: 1 sid: 1\n" \
	"line 3, column 8: -1 is out of range for uint32 pid" criu.text.value
expect_error "beyond 64 bits" 'magic: IMG_COMMON PAGEMAP\n#0\npages_id: 1\n#1\nvaddr: 18446744073709551616 nr_pages: 1\n' \
	"line 5, column 8: 18446744073709551616 is not a 64-bit integer" criu.text.value
expect_error "not an integer" "${P}  pid: 12ab ppid: 0 pgid: 1 sid: 1\n" \
	"line 3, column 8: 12ab is not an integer" criu.text.value
expect_error "string for an integer" "${P}  pid: \"1\"\n" \
	"line 3, column 8: expected an integer, got a string" criu.text.value
expect_error "given twice" "${P}  pid: 1\n  pid: 2\n" \
	"line 4, column 3: field pid is given twice" criu.text.value
expect_error "list for one value" "${P}  pid: [1, 2]\n" \
	"line 3, column 8: pid is not repeated" criu.text.value
expect_error "bad list" "${P}  pid: 1 ppid: 0 pgid: 1 sid: 1 threads: [1 2]\n" \
	"line 3, column 45: expected ',' or ']' in the list of threads, got '2'" criu.text.syntax
expect_error "missing required" "${P}  pid: 1 ppid: 0 pgid: 1\n#1\n" \
	"line 4, column 1: required field sid of pstree_entry is missing" criu.text.required
expect_error "required in a nested message" 'magic: IMG_COMMON IPCNS_SEM\n#0\ndesc { key: 1 uid: 0 gid: 0 cuid: 0 cgid: 0 mode: 0 } nsems: 0\n' \
	"line 3, column 53: required field id of ipc_desc_entry is missing" criu.text.required
expect_error "unclosed message" 'magic: IMG_COMMON IPCNS_SEM\n#0\ndesc { key: 1\n' \
	"line 4, column 1: the end of the input before the '}' that closes ipc_desc_entry" criu.text.syntax
expect_error "unknown enum name" 'magic: IMG_COMMON CORE\n#0\nmtype: VAX\n' \
	"line 3, column 8: VAX is not a value of enum" criu.text.value
expect_error "bad bool" 'magic: IMG_COMMON PAGEMAP\n#0\npages_id: 1\n#1\nvaddr: 0 nr_pages: 1 in_parent: yes\n' \
	"line 5, column 33: expected true or false for in_parent, got 'yes'" criu.text.value
expect_error "NUL in a string" 'magic: IMG_COMMON CORE\n#0\nmtype: X86_64 tc { task_state: 1 exit_code: 0 personality: 0 flags: 0 blk_sigset: 0 comm: "a\\0b" }\n' \
	"line 3, column 91: string comm holds a NUL octet" criu.text.value
expect_error "no magic line" "#0\npid: 1\n" \
	"line 1, column 1: expected magic (the first line names the image's magic), got an entry marker" criu.text.syntax
expect_error "unknown magic name" "magic: IMG_COMMON NOPE\n" \
	"line 1, column 19: NOPE is not the name of a CRIU image type" criu.text.layout
expect_error "magic of a raw image" "magic: 0x12345678\n" \
	"line 1, column 8: 0x12345678 is not the magic of a CRIU image type with entries" criu.text.layout
expect_error "head magic on inventory" "magic: IMG_COMMON INVENTORY\n" \
	"line 1, column 8: INVENTORY takes no head magic" criu.text.layout
expect_error "service head on a normal image" "magic: IMG_SERVICE PSTREE\n" \
	"line 1, column 8: PSTREE takes the head magic IMG_COMMON" criu.text.layout
expect_error "marker out of order" "${P}  pid: 1 ppid: 0 pgid: 1 sid: 1\n#2\n" \
	"line 4, column 1: entry marker #2 where #1 comes" criu.text.layout
expect_error "marker of another message" "magic: IMG_COMMON PSTREE\n#0 core_entry\n" \
	"line 2, column 1: entry #0 is a pstree_entry here, not a core_entry" criu.text.layout
expect_error "text after a marker" "magic: IMG_COMMON PSTREE\n#0 pstree_entry pid: 1\n" \
	"line 2, column 17: unexpected 'p' after the entry marker #0" criu.text.syntax
expect_error "fields before the first marker" "magic: IMG_COMMON PSTREE\npid: 1\n" \
	"line 2, column 1: expected an entry marker #0, got 'pid'" criu.text.syntax
expect_error "extra of the wrong length" 'magic: IMG_COMMON PIPES_DATA\n#0\npipe_id: 1 bytes: 3 extra: "ab"\n' \
	"line 3, column 28: the pipe data holds 2 octets, but the entry says 3" criu.text.layout
expect_error "extra missing" 'magic: IMG_COMMON PIPES_DATA\n#0\npipe_id: 1 bytes: 3\n#1\n' \
	"line 4, column 1: entry 0 (pipe_data_entry) needs its extra data before this point" criu.text.layout
expect_error "extra not last" 'magic: IMG_COMMON PIPES_DATA\n#0\npipe_id: 1 bytes: 1 extra: "a" size: 3\n' \
	"line 3, column 32: 'size' after the extra data, which comes last in an entry" criu.text.layout
expect_error "extra where there is none" "${P}  pid: 1 extra: \"\"\n" \
	"line 3, column 10: pstree_entry has no field extra" criu.text.unknown-field
expect_error "semaphore count" 'magic: IMG_COMMON IPCNS_SEM\n#0\ndesc { key: 1 uid: 0 gid: 0 cuid: 0 cgid: 0 mode: 0 id: 1 } nsems: 2 extra: [1]\n' \
	"line 3, column 79: 1 semaphore values, but nsems is 2" criu.text.layout
expect_error "semaphore value" 'magic: IMG_COMMON IPCNS_SEM\n#0\ndesc { key: 1 uid: 0 gid: 0 cuid: 0 cgid: 0 mode: 0 id: 1 } nsems: 1 extra: [65536]\n' \
	"line 3, column 78: a semaphore value is 0..65535" criu.text.value
expect_error "queued messages" 'magic: IMG_COMMON IPCNS_MSG\n#0\ndesc { key: 1 uid: 0 gid: 0 cuid: 0 cgid: 0 mode: 0 id: 1 } qbytes: 0 qnum: 1\n' \
	"line 4, column 1: 0 queued messages, but qnum is 1" criu.text.layout
expect_error "chunked ghost with contents" 'magic: IMG_COMMON GHOST_FILE\n#0\nuid: 0 gid: 0 mode: 0 chunks: true size: 1 extra: ""\n' \
	"line 3, column 44: a chunked ghost file has its data in the chunk entries" criu.text.layout

# Good hand-written text: comments, blank lines, separators, lists, number
# bases, escapes, '<...>' messages and the raw magic values all encode, and
# decode gives the same image back.
good() {
	local name=$1 text=$2 want_hex=$3
	cases=$((cases + 1))
	printf '%b' "$text" >"$WORK/good.txt"
	if ! "$SV" encode -i "$WORK/good.txt" -o "$WORK/good.img" 2>"$WORK/err"; then
		fail "$name: $(cat "$WORK/err")"
		return
	fi
	got=$(od -An -tx1 -v "$WORK/good.img" | tr -d ' \n')
	[ "$got" = "$want_hex" ] || fail "$name: encoded $got, expected $want_hex"
	"$SV" decode --nice -i "$WORK/good.img" -o "$WORK/good2.txt" 2>"$WORK/err" &&
		"$SV" encode -i "$WORK/good2.txt" -o "$WORK/good2.img" 2>>"$WORK/err" &&
		cmp -s "$WORK/good.img" "$WORK/good2.img" || fail "$name: no round trip: $(cat "$WORK/err")"
}
# pstree: head 19435654, magic 30302750; entry of 10 octets 08 01 10 00 18 01 20 01 28 07 (pid 1 ppid 0 pgid 1 sid 1 threads 7)
good "comments and separators" \
	'# a pstree, by hand\n\nmagic: IMG_COMMON PSTREE  # the type\n#0 pstree_entry\n  pid: 1; ppid: 0, pgid: 0x1 sid: 01\n  threads: [7]\n' \
	19435654303027500a00000008011000180120012807
good "raw magic values, version 1" 'magic: 0x50273030\n#0\npid: 1 ppid: 0 pgid: 1 sid: 1 threads: 7\n' \
	303027500a00000008011000180120012807
# extra: "\x41\101\n" '\'\\' "\u00e9" (adjacent strings are one value)
good "escapes" 'magic: IMG_COMMON PIPES_DATA\n#0\npipe_id: 1 bytes: 7 extra: "\\x41\\101\\n" \x27\\\x27\\\\\x27 "\\u00e9"\n' \
	1943565409374556040000000801100741410a275cc3a9
good "message in angle brackets" 'magic: IMG_COMMON IPCNS_SEM\n#0\ndesc < key: 1 uid: 0 gid: 0 cuid: 0 cgid: 0 mode: 0 id: 1 > nsems: 1 extra: [258]\n' \
	1943565419305759120000000a0e080110001800200028003000380110010201000000000000

echo "criu-text errors: $cases cases, $fails failures"
[ $fails -eq 0 ]
