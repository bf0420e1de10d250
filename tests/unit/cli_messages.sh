#!/bin/bash
# CLI tests of messages and conventions (issue 14): detection that explains,
# not-a-checkpoint versus broken, numbers, plurals, program name, options.
. "$(dirname "$0")/cli_lib.bash"
DATA=${SV_DATA:?}

svt_valid >"$W/valid.svt"
svt_badpad >"$W/badpad.svt"
svt_warn >"$W/warn.svt"
: >"$W/empty"
printf 'hello, world' >"$W/hello.txt"
printf 'Xen save\0\0\1\2' >"$W/xensave.bin"
printf 'svt1\0\0\0\0' >"$W/near.bin"
mkdir "$W/unrelated" && echo hi >"$W/unrelated/a.txt" && echo ho >"$W/unrelated/b.txt"

# ---- inputs that are not checkpoints: exit 2, said plainly -------------------
expect 2 "empty file" -- "$T" "$W/empty"
same "$W/out" "$W/empty: error: not a checkpoint: the input is empty [input.format.unknown]
$W/empty: not verified: not a checkpoint (1 error)" "empty file: exact lines"
expect 2 "text file" -- "$T" "$W/hello.txt"
contains "not a checkpoint or migration stream of a known format: data beginning \"hello, world\"" "text shown as text"
expect 2 "magic bytes that are text are printed as text" -- "$T" "$W/xensave.bin"
contains 'data beginning "Xen save\x00\x00\x01\x02"' "magic as text, the rest as \\xNN"
lacks "0x58656e" "no magic as a hex number"
lacks "format module" "no internal jargon"
expect 2 "directory of unrelated files" -- "$T" "$W/unrelated"
same "$W/out" "$W/unrelated: error: not a checkpoint: a directory that holds no image of a known format (a CRIU dump has inventory.img) [input.format.unknown]
$W/unrelated: not verified: not a checkpoint (1 error)" "unrelated directory: exact lines"
expect 2 "not a checkpoint, JSON" -- "$T" --json "$W/hello.txt"
contains '"verdict":"unrecognised","exit":2' "JSON verdict unrecognised"
contains '"bytes":null' "no byte count for an input that was not verified"

# ---- broken checkpoints: the closest format says what is wrong, exit 1 -------
expect 1 "near miss (the module's near callback)" -- "$T" "$W/near.bin"
same "$W/out" "$W/near.bin: note: no format recognises this input; it comes closest to an svt stream with its magic in lower case, so it is verified as svt (--format svt) [input.format.guessed]
$W/near.bin:0x0: error: bad magic [svt.magic]
$W/near.bin: INVALID svt (0 records, 4 bytes; 1 error, 1 note)" "near miss: exact lines"
# One octet off a magic: the core finds the format whose bid that octet spoils.
printf 'XVT1\0\0\0\0\0\0\0\0' >"$W/octet.bin"
expect 1 "one octet off the magic" -- "$T" "$W/octet.bin"
contains "$W/octet.bin: note: no format recognises this input; it comes closest to test-only record stream, but for its octet at offset 0: 0x58 ('X') where svt has 0x53 ('S'), so it is verified as svt (--format svt) [input.format.guessed]" "the octet named"
printf 'LibxlFmX\0\0\0\2\0\0\0\0' >"$W/libxl-ident.bin"
expect 1 "a libxl stream with a damaged ident" -- "$T" "$W/libxl-ident.bin"
contains "but for its octet at offset 7: 0x58 ('X') where libxl has 0x74 ('t'), so it is verified as libxl (--format libxl)" "libxl named"
contains "[libxl.header.ident]" "libxl's own finding, as with --format libxl"
# A CRIU dump directory without inventory.img (no near callback: trial runs).
mkdir "$W/noinv"
cp "$DATA/criu-real/chain-1/pagemap-835.img" "$DATA/criu-real/chain-1/pages-1.img" "$W/noinv/"
expect 1 "dump directory without inventory.img" -- "$T" "$W/noinv"
contains "$W/noinv: note: no format recognises this directory; it comes closest to" "directory near miss named"
contains "so it is verified as criu (--format criu) [input.format.guessed]" "verified as criu"
contains "[criu.dump.inventory.missing]" "the precise reason, as with --format"
contains "$W/noinv: INVALID criu (2 files, " "files counted"
lacks "use --format" "no bare advice to use --format"

# ---- numbers: plurals, bytes of directories, human sizes -----------------------
printf 'SVT1\0\0\0\0\0\0\0\0' >"$W/one.svt"
expect 0 "one record" -- "$T" "$W/one.svt"
same "$W/out" "$W/one.svt: valid svt (1 record, 12 bytes)" "singular record"
expect 0 "a warning" -- "$T" "$W/warn.svt"
contains "valid svt (2 records, 20 bytes; 1 warning)" "singular warning"
expect 0 "a dump directory" -- "$T" "$DATA/criu-real/chain-1"
contains "valid criu (5 files, 11 records, 864459 bytes = 844.2 KiB" "directory: files, records, bytes and a human size"
expect 0 "a dump directory, JSON" -- "$T" --json "$DATA/criu-real/chain-1"
contains '"records":11,"bytes":864459,"files":5' "directory figures in JSON"
expect 0 "a stream, JSON" -- "$T" --json "$W/valid.svt"
contains '"bytes":28,"files":null' "files is null for a stream"
contains '"schema_version":2' "schema_version in every summary"
printf 'SVT1\x01\x00\x00\x00\x10\x00\x00\x00ab' >"$W/cut.svt"
expect 1 "truncated body" -- "$T" "$W/cut.svt"
contains "$W/cut.svt:0xc: error: record 0 (BLOB): truncated: needed 16 bytes for record body, got 2 [input.truncated]" "one base per line"
# units on figures: byte counts and microseconds, by the key
expect 0 "figures with units" -- "$T" -v "$DATA/criu-real/sleep"
contains "sleep: memory.vma_bytes: 2314240 bytes = 2.2 MiB" "bytes with a human size"
contains "sleep: memory.bytes.present: 69632 bytes = 68.0 KiB" "a bytes component"
contains "sleep: stats.dump.frozen_time: 172230 µs = 0.172 s" "microseconds"
expect 0 "figures stay plain numbers in JSON" -- "$T" -v --json "$DATA/criu-real/sleep"
contains '"key":"stats.dump.frozen_time","value":172230}' "JSON number"
# -v lists as many records as the summary counts
svt_text 'abc' >"$W/text.svt"
expect 1 "-v record count" -- "$T" -v --severity svt.text=error "$W/text.svt"
[ "$(grep -c ':0x[0-9a-f]*: record ' "$W/out")" = 2 ] && ok || bad "-v lists 2 records"
contains "(2 records, " "the summary counts the same"

# ---- conventions -----------------------------------------------------------------
expect 2 "-q -v refused" -- "$T" -q -v "$W/valid.svt"
same "$W/err" "streamverify: -q and -v contradict each other: choose one
Try 'streamverify --help'." "-q -v message"
expect 1 "-q with --json: errors only, no summary" -- "$T" -q --json "$W/badpad.svt" "$W/warn.svt"
[ "$(wc -l <"$W/out")" = 1 ] && ok || bad "-q --json prints one line"
contains '"type":"diagnostic"' "the error is kept"
expect 0 "--list-formats --json" -- "$T" --list-formats --json
contains '{"format":"svt","description":"test-only record stream"}' "format as JSON"
expect 0 "format names are case-insensitive" -- "$T" --format SVT "$W/valid.svt"
contains "valid svt" "SVT is svt"
expect 0 "decode --help" -- "$T" decode --help
contains "Usage: streamverify decode" "decode help"
lacks "Usage: streamverify [OPTIONS]" "not the general help"
expect 0 "encode --help" -- "$T" encode --help
contains "Usage: streamverify encode" "encode help"
expect 0 "info --help" -- "$T" info --help
contains "Usage: streamverify info" "info help"
expect 2 "info without an argument" -- "$T" info
same "$W/err" "streamverify: info needs an image (a path, or - for standard input)
Try 'streamverify info --help'." "info usage error"
expect 0 "info - reads standard input when asked" -- bash -c "'$T' info - <'$W/valid.svt'"
contains "svt stream of 28 bytes" "info from stdin"
expect 2 "decode usage error names decode" -- "$T" decode --frobnicate
contains "Try 'streamverify decode --help'." "decode hint"
expect 2 "one program name in messages" -- "$T" --format nosuch "$W/valid.svt"
same "$W/err" "streamverify: unknown format 'nosuch' (see --list-formats)
Try 'streamverify --help'." "unknown format message"
lacks "tool_svtest" "argv[0] never used"

# colour: NO_COLOR only when set and not empty; TERM=dumb; --color=always wins
if command -v script >/dev/null 2>&1; then
	tty_run() { script -qec "$1" /dev/null >"$W/out" 2>"$W/err" </dev/null; }
	tty_run "NO_COLOR= TERM=xterm '$T' '$W/badpad.svt'"
	grep -q $'\033\[1;31m' "$W/out" && ok || bad "empty NO_COLOR keeps colour on a terminal"
	tty_run "NO_COLOR=1 TERM=xterm '$T' '$W/badpad.svt'"
	grep -q $'\033' "$W/out" && bad "NO_COLOR=1 still colours" || ok
	tty_run "TERM=dumb '$T' '$W/badpad.svt'"
	grep -q $'\033' "$W/out" && bad "TERM=dumb still colours" || ok
	tty_run "TERM=dumb NO_COLOR=1 '$T' --color=always '$W/badpad.svt'"
	grep -q $'\033\[1;31m' "$W/out" && ok || bad "--color=always colours whatever the environment"
else
	echo "SKIP: colour on a terminal (no script(1))"
fi

# --werror: promoted findings are printed as errors, as GCC does
expect 1 "--werror" -- "$T" --werror "$W/warn.svt"
same "$W/out" "$W/warn.svt:0x4: error: record 0 (WARN): a warning [--werror=svt.warn]
$W/warn.svt: INVALID svt (2 records, 20 bytes; 1 error)" "--werror output"
expect 1 "--werror JSON keeps the code's own severity" -- "$T" --werror --json "$W/warn.svt"
contains '"severity":"error","code":"svt.warn","message":"a warning","code_severity":"warning"' "promoted in JSON"

# --help, the man page and the README name the same options
"$T" --help >"$W/help.txt"
opts() { grep -o -- '--[a-z][a-z-]*' "$1" | sort -u; }
opts "$W/help.txt" >"$W/help.opts"
sed 's/\\-/-/g; s/\\f[BIR]//g' "$HERE/../../docs/streamverify.1.in" >"$W/man.txt"
for o in $(cat "$W/help.opts"); do
	grep -q -- "$o" "$W/man.txt" && ok || bad "man page lacks $o"
	grep -qE -- "$o([^a-z-]|$)" "$HERE/../../README.md" && ok || bad "README lacks $o"
done
for o in $(sed -n '/^\.SH OPTIONS/,/^\.SH CONVERSIONS/p' "$W/man.txt" | grep '^\.[BT]' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -qx -- "$o" "$W/help.opts" && ok || bad "--help lacks $o (in the man page)"
done

finish
