# Helpers of the CLI test scripts (sourced; not a test of its own).
# T: the command line with the test-only formats; W: a scratch directory.
set -u
T=${SV_TEST_BUILD:?}/tool_svtest
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCHEMA=$HERE/../../docs/streamverify-jsonl.schema.json
SARIF_SCHEMA=$HERE/../data/sarif-schema-2.1.0.json
W=$(mktemp -d "${SV_TEST_BUILD}/cli.XXXXXX")
trap 'rm -rf "$W"' EXIT
pass=0 fail=0
# No user configuration, no colour from the environment, unless a test sets them.
export XDG_CONFIG_HOME=$W/xdg HOME=$W/home
unset NO_COLOR
mkdir -p "$XDG_CONFIG_HOME" "$HOME"

ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }

# expect STATUS DESCRIPTION -- COMMAND...: runs it with stdin from /dev/null,
# stdout in $W/out, stderr in $W/err.  JSON Lines output (--json, -j) is
# validated against the documented schema.
expect() {
	local want=$1 what=$2; shift 3
	"$@" >"$W/out" 2>"$W/err" </dev/null
	local got=$?
	if [ "$got" = "$want" ]; then ok; else
		bad "$what: exit $got, wanted $want"; cat "$W/out" "$W/err" | head -5; fi
	local a
	for a in "$@"; do
		if [ "$a" = --json ] || [ "$a" = -j ]; then validate_jsonl "$what"; break; fi
	done
}
# validate_jsonl DESCRIPTION: $W/out is valid JSON Lines of the schema
validate_jsonl() {
	if [ ! -s "$W/out" ]; then ok; return; fi
	if python3 "$HERE/schema_check.py" --lines "$SCHEMA" "$W/out" >"$W/schema.log" 2>&1; then ok; else
		bad "$1: JSON Lines output breaks the schema"; head -5 "$W/schema.log"; fi
}
# contains TEXT DESCRIPTION: stdout or stderr holds TEXT
contains() {
	if grep -qF -- "$1" "$W/out" "$W/err"; then ok; else
		bad "$2: output lacks '$1'"; cat "$W/out" "$W/err" | head -5; fi
}
# lacks TEXT DESCRIPTION: neither holds TEXT
lacks() {
	if grep -qF -- "$1" "$W/out" "$W/err"; then bad "$2: output holds '$1'"; grep -F -- "$1" "$W/out" "$W/err" | head -3; else ok; fi
}
# same FILE TEXT DESCRIPTION: FILE is exactly TEXT (plus a final newline)
same() {
	if [ "$(cat "$1")" = "$2" ]; then ok; else
		bad "$3"; echo "--- wanted:"; printf '%s\n' "$2"; echo "--- got:"; cat "$1"; fi
}
# no_control FILE DESCRIPTION: FILE holds no control octet but newline
no_control() {
	if LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]' "$1"; then
		bad "$2: raw control characters reach the output"; LC_ALL=C cat -v "$1" | head -5; else ok; fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}

# svt records: u32le type, u32le length, body, zero pad to 8.
svt_valid() { printf 'SVT1\x01\x00\x00\x00\x03\x00\x00\x00abc\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'; }
svt_badpad() { printf 'SVT1\x01\x00\x00\x00\x03\x00\x00\x00abc\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'; }
svt_warn() { printf 'SVT1\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'; }
# svt_text BODY: a TEXT record holding BODY (its length < 256), then END
svt_text() {
	local LC_ALL=C
	local n=${#1} pad
	pad=$(( (8 - n % 8) % 8 ))
	printf 'SVT1\x06\x00\x00\x00'
	printf "\\x$(printf %02x "$n")\\x00\\x00\\x00"
	printf '%s' "$1"
	head -c "$pad" /dev/zero
	printf '\x00\x00\x00\x00\x00\x00\x00\x00'
}
