#!/bin/bash
# CLI tests of severities, config files, baselines, SARIF, the JSON Lines
# schema and progress (issue 19).
. "$(dirname "$0")/cli_lib.bash"
DATA=${SV_DATA:?}

svt_valid >"$W/valid.svt"
svt_badpad >"$W/badpad.svt"
svt_warn >"$W/warn.svt"
printf 'SVT1\x01\x00\x00\x00\x10\x00\x00\x00ab' >"$W/cut.svt"

# ---- --severity ------------------------------------------------------------------
expect 0 "an error made a warning" -- "$T" --severity svt.padding.nonzero=warning "$W/badpad.svt"
same "$W/out" "$W/badpad.svt:0xf: warning: record 0 (BLOB): padding holds non-zero bytes [svt.padding.nonzero]
$W/badpad.svt: valid svt (2 records, 28 bytes; 1 warning)" "downgraded finding"
expect 1 "a warning made an error" -- "$T" --severity svt.warn=error "$W/warn.svt"
contains "error: record 0 (WARN): a warning [svt.warn]" "upgraded finding"
expect 0 "ignore drops the finding" -- "$T" --severity svt.padding.nonzero=ignore "$W/badpad.svt"
same "$W/out" "$W/badpad.svt: valid svt (2 records, 28 bytes)" "ignored: neither printed nor counted"
expect 0 "a prefix" -- "$T" --severity 'svt.*=note' "$W/badpad.svt"
contains "note: record 0 (BLOB)" "prefix rule applies"
expect 1 "the last rule wins" -- "$T" --severity 'svt.*=note' --severity svt.padding.nonzero=error "$W/badpad.svt"
contains "error: record 0 (BLOB)" "later rule wins"
expect 2 "a fixed code cannot be downgraded" -- "$T" --severity input.truncated=warning "$W/cut.svt"
same "$W/err" "streamverify: --severity: input.truncated cannot be made warning: after it the rest of the input cannot be read, so nothing after it would be checked" "refusal says why"
expect 2 "nor ignored" -- "$T" --severity input.io=ignore "$W/cut.svt"
contains "input.io cannot be made ignored" "ignore refused too"
expect 1 "a prefix leaves fixed codes alone" -- "$T" --severity 'input.*=note' "$W/cut.svt"
contains "error: record 0 (BLOB): truncated: needed 16 bytes for record body, got 2 [input.truncated]" "truncation stays an error"
expect 2 "unknown code" -- "$T" --severity nosuch=error "$W/valid.svt"
contains "no code is 'nosuch'" "unknown code said"
expect 2 "unknown prefix" -- "$T" --severity 'nosuch.*=error' "$W/valid.svt"
contains "no code starts with 'nosuch.'" "unknown prefix said"
expect 2 "unknown level" -- "$T" --severity svt.warn=loud "$W/valid.svt"
contains "the level is error, warning, note or ignore" "levels listed"
expect 1 "--werror after --severity" -- "$T" --severity svt.padding.nonzero=warning --werror "$W/badpad.svt"
contains "error: record 0 (BLOB): padding holds non-zero bytes [--werror=svt.padding.nonzero]" "promoted after the rule"

# --list-codes shows the effective severity
expect 0 "--list-codes with rules" -- "$T" --severity svt.warn=error --severity svt.note=ignore --list-codes
contains "svt.warn                                 error   a WARN record [default: warning]" "effective severity listed"
contains "svt.note                                 ignore  a NOTE record [default: note]" "ignored listed"
contains "input.truncated                          error   the input ends inside a structure [fixed]" "fixed codes marked"
expect 0 "--list-codes --json with rules" -- "$T" --severity svt.warn=error --list-codes --json
contains '{"code":"svt.warn","severity":"error","default_severity":"warning","fixed":false,"summary":"a WARN record"}' "JSON code line"

# ---- config files ---------------------------------------------------------------
mkdir -p "$XDG_CONFIG_HOME/streamverify"
printf '# team policy\n\nseverity svt.padding.nonzero=warning\n  severity svt.warn=ignore  \n' >"$XDG_CONFIG_HOME/streamverify/config"
expect 0 "the default config file" -- "$T" "$W/badpad.svt" "$W/warn.svt"
contains "warning: record 0 (BLOB)" "config applied"
lacks "svt.warn" "config ignore applied"
expect 1 "--severity overrides the config" -- "$T" --severity svt.padding.nonzero=error "$W/badpad.svt"
printf 'severity svt.padding.nonzero=error\n' >"$W/other.conf"
expect 1 "--config replaces the default file" -- "$T" --config "$W/other.conf" "$W/badpad.svt" "$W/warn.svt"
contains "warning: record 0 (WARN)" "default file not read with --config"
rm "$XDG_CONFIG_HOME/streamverify/config"
mkdir -p "$HOME/.config/streamverify"
printf 'severity svt.warn=error\n' >"$HOME/.config/streamverify/config"
expect 1 "~/.config when XDG_CONFIG_HOME is unset" -- env -u XDG_CONFIG_HOME "$T" "$W/warn.svt"
contains "error: record 0 (WARN)" "home config applied"
rm "$HOME/.config/streamverify/config"
printf 'severity svt.warn=error\ncolour never\n' >"$W/bad.conf"
expect 2 "a bad config line" -- "$T" --config "$W/bad.conf" "$W/valid.svt"
same "$W/err" "streamverify: $W/bad.conf:2: unknown setting 'colour never' (only 'severity CODE=LEVEL')" "file and line named"
printf 'severity input.gzip.corrupt=note\n' >"$W/fixed.conf"
expect 2 "a fixed code in a config file" -- "$T" --config "$W/fixed.conf" "$W/valid.svt"
contains "$W/fixed.conf:1: input.gzip.corrupt cannot be made note" "refused in files too"
expect 2 "a missing --config" -- "$T" --config "$W/none.conf" "$W/valid.svt"
contains "cannot read the config file $W/none.conf: No such file or directory" "missing config"

# ---- baselines ------------------------------------------------------------------
expect 1 "--write-baseline" -- "$T" --write-baseline "$W/base" "$W/badpad.svt" "$W/warn.svt"
same "$W/base" "# streamverify baseline 1: CODE, FILE, RECORD, RECORD TYPE; streamverify --baseline reports these as notes
svt.padding.nonzero	badpad.svt	0	BLOB
svt.warn	warn.svt	0	WARN" "baseline content: code and stable location, no offsets"
# The same findings elsewhere (another directory) are still known.
mkdir "$W/elsewhere" && cp "$W/badpad.svt" "$W/warn.svt" "$W/elsewhere/"
expect 0 "--baseline: known findings are notes" -- "$T" --baseline "$W/base" "$W/elsewhere/badpad.svt" "$W/elsewhere/warn.svt"
contains "$W/elsewhere/badpad.svt:0xf: note: record 0 (BLOB): padding holds non-zero bytes [svt.padding.nonzero]" "baselined error is a note"
contains "valid svt (2 records, 28 bytes; 1 note)" "valid with the baseline"
# A new problem still fails.
printf 'SVT1\x01\x00\x00\x00\x03\x00\x00\x00abc\x00\x00\x07\x00\x00\x01\x00\x00\x00\x03\x00\x00\x00abc\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' >"$W/elsewhere/badpad.svt"
expect 1 "--baseline: a new finding is still an error" -- "$T" --baseline "$W/base" "$W/elsewhere/badpad.svt"
contains "note: record 0 (BLOB)" "old one a note"
contains "error: record 1 (BLOB)" "new one an error"
# Directories: FILE is the member's name inside the dump.
mkdir "$W/noinv"
cp "$DATA/criu-real/chain-1/pagemap-835.img" "$DATA/criu-real/chain-1/pages-1.img" "$W/noinv/"
expect 1 "--write-baseline of a directory" -- "$T" --format criu --write-baseline "$W/dirbase" "$W/noinv"
grep -q "^criu.dump.inventory.missing	noinv	-	-$" "$W/dirbase" && ok || { bad "directory key"; cat "$W/dirbase"; }
expect 0 "--baseline of a directory" -- "$T" --format criu --baseline "$W/dirbase" "$W/noinv/"
# A fixed code stays an error even when a baseline lists it.
expect 1 "--write-baseline of a truncation" -- "$T" --write-baseline "$W/cutbase" "$W/cut.svt"
grep -q "^input.truncated	cut.svt	0	BLOB$" "$W/cutbase" && ok || { bad "truncation key"; cat "$W/cutbase"; }
expect 1 "--baseline cannot lower a fixed code" -- "$T" --baseline "$W/cutbase" "$W/cut.svt"
contains "error: record 0 (BLOB): truncated: needed 16 bytes for record body, got 2 [input.truncated]" "still an error"
printf 'not a baseline\n' >"$W/notbase"
expect 2 "a file that is no baseline" -- "$T" --baseline "$W/notbase" "$W/valid.svt"
contains "not a baseline written by --write-baseline" "refused"

# ---- JSON Lines schema: every kind of line --------------------------------------
expect 2 "JSON Lines of every type" -- "$T" -v --json "$W/badpad.svt" "$DATA/criu-real/chain-1" "$W/missing" "$W/cut.svt"
contains '"type":"stat"' "stat lines present"
contains '"verdict":"error","exit":2' "I/O error summary"
expect 0 "--list-formats --json validates" -- "$T" --list-formats --json
# The checker itself rejects what the schema forbids.
printf '{"type":"summary","input":"x","schema_version":2,"format":null,"verdict":"maybe","exit":0,"errors":0,"warnings":0,"notes":0,"records":0,"bytes":null,"files":null,"stopped":false}\n' >"$W/wrong.jsonl"
if python3 "$(dirname "$0")/schema_check.py" --lines "$SCHEMA" "$W/wrong.jsonl" >/dev/null; then bad "schema check accepts a bad verdict"; else ok; fi
printf '{"type":"diagnostic","input":"x"}\n' >"$W/wrong.jsonl"
if python3 "$(dirname "$0")/schema_check.py" --lines "$SCHEMA" "$W/wrong.jsonl" >/dev/null; then bad "schema check accepts missing members"; else ok; fi

# ---- SARIF 2.1.0 ----------------------------------------------------------------
# tests/data/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 schema (errata 01),
# copied unchanged from github.com/oasis-tcs/sarif-spec,
# sarif-2.1/schema/sarif-schema-2.1.0.json at commit e058381.
expect 1 "--sarif" -- "$T" --sarif "$W/badpad.svt" "$W/warn.svt" "$DATA/criu-real/chain-1"
cp "$W/out" "$W/log.sarif"
if python3 "$(dirname "$0")/schema_check.py" "$SARIF_SCHEMA" "$W/log.sarif" >"$W/sarif.log" 2>&1; then ok; else
	bad "SARIF output breaks the SARIF 2.1.0 schema"; head -5 "$W/sarif.log"; fi
python3 - "$W/log.sarif" "$W/badpad.svt" <<'PY' >"$W/sarif.check" 2>&1 && ok || { bad "SARIF content"; cat "$W/sarif.check"; }
import json, sys
log = json.load(open(sys.argv[1]))
assert log["version"] == "2.1.0"
assert len(log["runs"]) == 1, "one run per invocation"
run = log["runs"][0]
rules = run["tool"]["driver"]["rules"]
ids = [r["id"] for r in rules]
assert len(ids) == len(set(ids)), "one rule per code"
pad = rules[ids.index("svt.padding.nonzero")]
assert pad["shortDescription"]["text"] == "record padding holds non-zero bytes"
assert pad["defaultConfiguration"]["level"] == "error"
assert rules[ids.index("svt.warn")]["defaultConfiguration"]["level"] == "warning"
res = run["results"]
assert len(res) == 2, res
r = res[0]
assert r["ruleId"] == "svt.padding.nonzero" and ids[r["ruleIndex"]] == r["ruleId"]
assert r["level"] == "error"
loc = r["locations"][0]
assert loc["physicalLocation"]["artifactLocation"]["uri"] == "file://" + sys.argv[2]
assert loc["physicalLocation"]["region"]["byteOffset"] == 15
assert loc["logicalLocations"][0]["name"] == "record 0"
assert loc["logicalLocations"][0]["decoratedName"] == "BLOB"
assert res[1]["level"] == "warning"
assert run["invocations"][0]["exitCode"] == 1
assert run["invocations"][0]["executionSuccessful"] is True
PY
expect 0 "--sarif with --severity" -- "$T" --sarif --severity svt.padding.nonzero=note "$W/badpad.svt"
grep -q '"level":"note","message":{"text":"padding holds non-zero bytes"}' "$W/out" && ok || bad "SARIF level follows --severity"
grep -q '"properties":{"codeSeverity":"error"}' "$W/out" && ok || bad "SARIF keeps the code's severity"
expect 2 "--json and --sarif" -- "$T" --json --sarif "$W/valid.svt"
contains "--json and --sarif are two output formats: choose one" "refused"
# The checker rejects a broken log.
sed 's/"level":"error"/"level":"fatal"/' "$W/log.sarif" >"$W/broken.sarif"
if python3 "$(dirname "$0")/schema_check.py" "$SARIF_SCHEMA" "$W/broken.sarif" >/dev/null 2>&1; then
	bad "the SARIF check accepts a bad level"; else ok; fi

# ---- progress ---------------------------------------------------------------------
expect 1 "--progress to a file: stderr only" -- "$T" --progress "$W/badpad.svt"
same "$W/out" "$W/badpad.svt:0xf: error: record 0 (BLOB): padding holds non-zero bytes [svt.padding.nonzero]
$W/badpad.svt: INVALID svt (2 records, 28 bytes; 1 error)" "stdout unchanged by --progress"
grep -Eq "^$W/badpad.svt: read 28 bytes of 28 bytes \(100%\), 2 records, [0-9.]+ (bytes|KiB|MiB|GiB)/s in [0-9.]+ s$" "$W/err" && ok || { bad "final progress line"; cat "$W/err"; }
expect 0 "--progress on a pipe: no total" -- bash -c "cat '$W/valid.svt' | '$T' --progress -"
grep -Eq "^<stdin>: read 28 bytes, 2 records, .*/s in [0-9.]+ s$" "$W/err" && ok || { bad "pipe progress line"; cat "$W/err"; }
expect 0 "--progress on a directory: the bytes of its files" -- "$T" --progress "$DATA/criu-real/sleep"
grep -Eq "^$DATA/criu-real/sleep: read 70.9 KiB, 26 records, .*/s in [0-9.]+ s$" "$W/err" && ok || { bad "directory progress line"; cat "$W/err"; }
expect 1 "no progress by default when stderr is not a terminal" -- bash -c "cat '$W/badpad.svt' | '$T' -"
[ ! -s "$W/err" ] && ok || { bad "progress without a terminal"; cat "$W/err"; }
if command -v script >/dev/null 2>&1; then
	# 1000 records through a pipe that stalls half-way: the display shows up, then is cleared.
	printf 'blobs 1000' >"$W/many.txt"
	"$T" encode --format svt -i "$W/many.txt" -o "$W/many.svt"
	script -qec "(head -c 8000 '$W/many.svt'; sleep 0.6; tail -c +8001 '$W/many.svt') | '$T' - >/dev/null" /dev/null </dev/null >"$W/tty-err"
	grep -q $'^\r<stdin>: [0-9.]* KiB, [0-9]* records, .*/s\e\[K\r\e\[K$' "$W/tty-err" && ok || { bad "progress by default on a terminal for a pipe"; cat -v "$W/tty-err"; }
	script -qec "(head -c 8000 '$W/many.svt'; sleep 0.6; tail -c +8001 '$W/many.svt') | '$T' --no-progress - >/dev/null" /dev/null </dev/null >"$W/tty-err"
	[ ! -s "$W/tty-err" ] && ok || { bad "--no-progress"; cat -v "$W/tty-err"; }
fi

finish
