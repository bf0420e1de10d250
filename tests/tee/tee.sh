#!/bin/bash
# --tee: every valid fixture is forwarded byte for byte (from a file, a
# pipe and gzip, which is forwarded decompressed); every invalid one is
# forwarded up to the first byte of the record holding its first error,
# and not one byte further.  The record starts come from `-v --json`.
# Env (from make check): SV, SV_BUILD, SV_TEST_BUILD, SV_DATA.
set -u
: "${SV:?}" "${SV_BUILD:?}" "${SV_TEST_BUILD:?}" "${SV_DATA:?}"
out=$SV_TEST_BUILD
mkdir -p "$out"
rm -rf "$out/xen" && "$SV_BUILD/tests/xen/gen_xen" --all "$out/xen" >/dev/null || exit 1
failed=0 checked=0 cuts=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# expected_cut FILE FORMAT: the offset of the record of the first error, or
# "" when -v lists no start for that record (squashed PAGE_DATA records).
expected_cut() {
	"$SV" -v --json --format "$2" "$1" | python3 -c '
import json, sys
starts, first = {}, None
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] == "record":
        starts.setdefault(o["record"], o["offset"])
    elif o["type"] == "diagnostic" and o["severity"] == "error" and first is None:
        first = o
if first is None or first["record"] is None:
    print("")
else:
    print(starts.get(first["record"], ""))'
}

while IFS=$'\t' read -r name format _; do
	f=$out/xen/$name
	[ -f "$f" ] || continue
	checked=$((checked + 1))
	"$SV" --format "$format" "$f" >/dev/null 2>&1
	plain=$?
	"$SV" --format "$format" --tee="$out/tee.bin" "$f" 2>/dev/null >/dev/null
	status=$?
	"$SV" --format "$format" --tee - <"$f" 2>/dev/null >"$out/tee-pipe.bin"
	cmp -s "$out/tee.bin" "$out/tee-pipe.bin" || fail "$name: file and pipe forward different bytes"
	[ $status -eq $plain ] || fail "$name: exit $status with --tee, $plain without"
	if [ $plain -eq 0 ]; then
		cmp -s "$out/tee.bin" "$f" || fail "$name: valid, but not forwarded byte for byte"
		gzip -c "$f" | "$SV" --format "$format" --tee - 2>/dev/null | cmp -s - "$f" ||
			fail "$name: gzip input not forwarded decompressed"
		continue
	fi
	n=$(stat -c %s "$out/tee.bin")
	head -c "$n" "$f" | cmp -s - "$out/tee.bin" || fail "$name: forwarded bytes are not a prefix of the input"
	[ "$n" -lt "$(stat -c %s "$f")" ] || fail "$name: invalid, yet forwarded whole"
	cut=$(expected_cut "$f" "$format")
	if [ -n "$cut" ]; then
		cuts=$((cuts + 1))
		[ "$n" -eq "$cut" ] || fail "$name: forwarding stopped at $n, the invalid record starts at $cut"
	fi
done <"$out/xen/MANIFEST"

# CRIU images: the real ones go out whole; a broken fixture goes out as a
# prefix that stops at or before its error.
for f in "${SV_DATA:?}"/criu-real/*/*.img; do
	# gzip input is forwarded decompressed: tmpfs archives are gzip.
	case $f in *.gz.img) continue ;; esac
	checked=$((checked + 1))
	"$SV" --format criu --tee "$f" 2>/dev/null | cmp -s - "$f" || fail "$f: not forwarded byte for byte"
done
rm -rf "$out/criu" && "$SV_BUILD/tests/criu/gen_criu" --all "$out/criu" >/dev/null || exit 1
while IFS=$'\t' read -r rel code offset status; do
	f=$out/criu/$rel
	[ -f "$f" ] && [ "$status" = 1 ] || continue
	checked=$((checked + 1))
	"$SV" --format criu --tee="$out/tee.bin" "$f" >/dev/null 2>&1
	n=$(stat -c %s "$out/tee.bin")
	head -c "$n" "$f" | cmp -s - "$out/tee.bin" || fail "$rel: forwarded bytes are not a prefix"
	[ "$offset" = - ] || [ "$n" -le "$offset" ] || fail "$rel: forwarded $n bytes, past the error at $offset"
done <"$out/criu/manifest"

# QEMU: the real streams go out whole; cut short, out up to the last whole
# record (a RAM page record is one: a section of RAM is never held whole).
for q in "$SV_DATA"/qemu/*.qemu.gz; do
	checked=$((checked + 1))
	gzip -dc "$q" >"$out/q.qemu"
	"$SV" --format qemu --tee "$out/q.qemu" 2>/dev/null | cmp -s - "$out/q.qemu" ||
		fail "$q: not forwarded byte for byte"
	size=$(stat -c %s "$out/q.qemu")
	head -c $((size * 2 / 3)) "$out/q.qemu" >"$out/q-cut.qemu"
	"$SV" --format qemu --tee="$out/tee.bin" "$out/q-cut.qemu" >/dev/null 2>&1
	status=$?
	n=$(stat -c %s "$out/tee.bin")
	head -c "$n" "$out/q-cut.qemu" | cmp -s - "$out/tee.bin" || fail "$q cut: not a prefix"
	# (A footer-less device state cut where a section may end reads as whole.)
	[ $status -eq 0 ] || { [ "$n" -lt $((size * 2 / 3)) ] && [ "$n" -gt 0 ]; } ||
		fail "$q cut: exit $status, forwarded $n bytes"
done
# criu-image-streamer captures: valid ones whole, broken ones a strict prefix.
rm -rf "$out/cs" && "$SV_BUILD/tests/criu-stream/gen_stream" --all "$SV_DATA/criu-real/sleep" "$out/cs" >/dev/null || exit 1
for f in "$out"/cs/valid/*; do
	checked=$((checked + 1))
	"$SV" --tee "$f" 2>/dev/null | cmp -s - "$f" || fail "$f: not forwarded byte for byte"
done
# (A capture found wrong only at its end, no image_eof, has no later record
# to hold back: the receiver sees the same missing end.)
for f in "$out"/cs/broken/*; do
	checked=$((checked + 1))
	"$SV" --tee="$out/tee.bin" "$f" >/dev/null 2>&1
	[ $? -eq 1 ] || fail "$f: exit status with --tee"
	n=$(stat -c %s "$out/tee.bin")
	head -c "$n" "$f" | cmp -s - "$out/tee.bin" || fail "$f: not a prefix"
done

# Valid records go out while the input is waited for, not only at the
# next read that returns: a receiver that must answer before the sender
# goes on (a checkpointed stream) never waits on --tee.  The sender stops
# at a record boundary past the page data and holds the pipe open.
valid=$out/xen/valid-libxc-hvm-v3.libxc
size=$(stat -c %s "$valid")
held=$("$SV" -v --json --format libxc "$valid" | python3 -c '
import json, sys
size = int(sys.argv[1])
print(min(o["offset"] for o in map(json.loads, sys.stdin)
          if o["type"] == "record" and o["offset"] >= size // 2))' "$size")
rm -f "$out/in.fifo" "$out/early.bin" && mkfifo "$out/in.fifo"
"$SV" --format libxc --tee - <"$out/in.fifo" >"$out/early.bin" 2>/dev/null &
tee_pid=$!
exec 3>"$out/in.fifo"
head -c "$held" "$valid" >&3
for _ in $(seq 100); do
	[ "$(stat -c %s "$out/early.bin")" -ge "$held" ] && break
	sleep 0.1
done
early=$(stat -c %s "$out/early.bin")
tail -c +$((held + 1)) "$valid" >&3
exec 3>&-
wait "$tee_pid"
status=$?
checked=$((checked + 1))
[ "$early" -eq "$held" ] ||
	fail "input held open after offset $held: $early bytes forwarded, expected $held"
[ $status -eq 0 ] && cmp -s "$out/early.bin" "$valid" ||
	fail "input through a FIFO in two parts: exit $status, not forwarded byte for byte"
rm -f "$out/in.fifo"

# Findings go to standard error when the stream takes standard output.
valid=$out/xen/valid-libxc-hvm-v3.libxc
"$SV" --tee "$valid" 2>"$out/tee.err" | cmp -s - "$valid" || fail "--tee to stdout"
grep -q 'valid libxc' "$out/tee.err" || fail "--tee: the summary did not go to standard error"
# A directory cannot be forwarded; a second input cannot either.
"$SV" --tee "$out" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--tee on a directory: expected exit 2"
"$SV" --tee "$valid" "$valid" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--tee with two inputs: expected exit 2"
cp "$valid" "$out/self.libxc"
"$SV" --tee="$out/self.libxc" "$out/self.libxc" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--tee onto its own input: expected exit 2"
cmp -s "$out/self.libxc" "$valid" || fail "--tee onto its own input changed it"

echo "tee: $checked fixtures, $cuts exact cut points checked"
[ $failed -eq 0 ] && echo "tee: all passed" || { echo "tee: $failed failure(s)"; exit 1; }
