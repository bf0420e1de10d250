#!/bin/bash
# Container checkpoint archives (issue 23): every layout and compression
# gen_archive writes must verify clean; every archive breaking a rule must
# give exactly its one finding, with the member and offset expected; the
# real podman archive verifies clean from a file and from a pipe; truncation
# at every member boundary and inside every member is one error naming the
# member and offset; a 1,000,000-member archive and a 10 GiB member stay
# within flat time and memory, writing nothing.
#
# Needs SV, SV_BUILD, SV_TEST_BUILD and SV_DATA.
set -u

: "${SV:?}" "${SV_BUILD:?}" "${SV_TEST_BUILD:?}" "${SV_DATA:?}"
gen="$SV_BUILD/tests/archive/gen_archive"
gendump="$SV_BUILD/tests/criu-dump/gen_criu_dump"
c1="$SV_DATA/podman/c1.tar.zst"
work="$SV_TEST_BUILD"
out="$work/out"
failed=0
checked=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

rm -rf "$out" "$work/dumps"
mkdir -p "$work"
"$gendump" "$work/dumps" >/dev/null || { echo "FAIL: $gendump"; exit 1; }
"$gen" "$out" "$c1" "$SV_DATA/criu-real" "$work/dumps" || { echo "FAIL: $gen"; exit 1; }

# The real podman checkpoint (tests/data/podman/c1.tar.zst, which podman
# restored) is valid, with warnings that are true: its checkpoint/ holds the
# stale images of an exited task 11 (unreferenced: restore never opens
# them), and its network namespace was given from outside (runc's
# --external net: no netns image, criu.dump.ns.net-outside).  Exactly these
# warnings on exactly these images are set aside here and counted;
# everything else is asserted.
known_re='^warning	criu\.dump\.(ns\.net-outside|unreferenced)	-	([^	]*:)?([^	:/]*/)?(\./)?checkpoint/(ids-1|(core|fs|ids|mm|pagemap)-11)\.img$'
known_count=0

# Error and warning diagnostics of a JSON run as "severity<TAB>code<TAB>offset<TAB>file".
diags() {
	local all k
	all=$(jq -r 'select(.type == "diagnostic" and (.severity == "error" or .severity == "warning"))
	       | [.severity, .code, (if .offset == null then "-" else (.offset | tostring) end), .file] | join("\t")' "$1")
	k=$(printf '%s\n' "$all" | grep -cE "$known_re" || true)
	known_count=$((known_count + k))
	printf '%s\n' "$all" | grep -vE "$known_re" | grep . || true
}

# check NAME STATUS JSON CODE FILE OFFSET: exactly one finding, the one expected.
check_one() {
	local name=$1 status=$2 json=$3 code=$4 file=$5 off=$6 d n sev got_code got_off got_file
	checked=$((checked + 1))
	diags "$json" >"$work/diags.txt"
	d=$(cat "$work/diags.txt")
	n=$(printf '%s' "$d" | grep -c . || true)
	if [ "$code" = valid ]; then
		# (exit 1 only from the known findings set aside)
		[ "$n" -eq 0 ] && { [ "$status" -eq 0 ] || grep -q '"severity":"error".*"code":"criu\.dump\.' "$json"; } ||
			fail "$name: want valid, exit $status: $d"
		return
	fi
	[ "$n" -eq 1 ] || { fail "$name: want one finding ($code), got $n: $d"; return; }
	IFS=$'\t' read -r sev got_code got_off got_file <<<"$d"
	[ "$got_code" = "$code" ] || fail "$name: want $code, got $got_code ($d)"
	[ "$file" = '*' ] || [ "$got_file" = "$file" ] || fail "$name: want file '$file', got '$got_file'"
	if [ "$off" != '*' ]; then
		[ "$off" = - ] || off=$((off))
		[ "$got_off" = "$off" ] || fail "$name: want offset $off, got $got_off"
	fi
	case $sev in
	error) [ "$status" -eq 1 ] || fail "$name: an error must exit 1, got $status" ;;
	warning) [ "$status" -le 1 ] || fail "$name: a warning must not exit $status" ;;
	esac
}

cd "$out" || exit 1

# ---- the manifest: layouts, compressions, one archive per rule ----------------
while read -r file code member off opts; do
	args=()
	case "${opts:-}" in
	--previous=*) args=(--previous "${opts#--previous=}") ;;
	esac
	timeout 60 "$SV" --json "${args[@]}" "$file" >"$work/$file.json" 2>&1
	status=$?
	[ $status -eq 124 ] && { fail "$file: timed out"; continue; }
	case $member in
	-) want_file=$file ;;
	'*') want_file='*' ;;
	*) want_file=$member ;; # JSON names a member by its path inside the archive
	esac
	check_one "$file" $status "$work/$file.json" "$code" "$want_file" "$off"
done <manifest

# Every archive and container code has an archive that breaks it.
for code in $("$SV" --list-codes | awk '$1 ~ /^(archive|container)\./ { print $1 }'); do
	grep -q " $code " manifest || fail "no test archive breaks $code"
done

# ---- the real podman archive: file, pipe, and what -v shows -----------------------
"$SV" --json "$c1" >"$work/c1.json" 2>&1
check_one "c1 (file)" $? "$work/c1.json" valid - -
"$SV" --json - <"$c1" >"$work/c1-pipe.json" 2>&1
check_one "c1 (redirected)" $? "$work/c1-pipe.json" valid - -
cat "$c1" | "$SV" --json - >"$work/c1-pipe.json" 2>&1
check_one "c1 (pipe)" $? "$work/c1-pipe.json" valid - -
for f in podman-gzip.tar.gz podman-none.tar podman-xz.tar.xz podman-bzip2.tar.bz2; do
	cat "$f" | "$SV" --json - >"$work/pipe.json" 2>&1
	check_one "$f (pipe)" $? "$work/pipe.json" valid - -
done
"$SV" -v "$c1" >"$work/c1-v.txt" 2>&1
for want in "engine: podman" "container: c1" "image: localhost/criu-bb:latest" "runtime: runc" \
	"created: 2026-12-02T13:08:32.184846996Z" "checkpoint/pagemap-1.img:0x" "layout: container"; do
	checked=$((checked + 1))
	grep -qF "$want" "$work/c1-v.txt" || fail "-v of c1 lacks '$want'"
done
# (whole outputs to files: grep -q would close the pipe early)
"$SV" -v crio.tar >"$work/v.txt" 2>&1
grep -q ': engine: CRI-O$' "$work/v.txt" || fail "crio.tar: engine not CRI-O"
"$SV" -v containerd.tar >"$work/v.txt" 2>&1
grep -q ': engine: containerd$' "$work/v.txt" || fail "containerd.tar: engine not containerd"
"$SV" -v pod.tar.zst >"$work/v.txt" 2>&1
grep -q ': layout: pod$' "$work/v.txt" || fail "pod.tar.zst: layout not pod"
# Text output names the member after the archive.
"$SV" bad-config.tar >"$work/v.txt" 2>&1
grep -q '^bad-config.tar:config.dump:0xb: error: ' "$work/v.txt" ||
	fail "text output does not say ARCHIVE:MEMBER:OFFSET"
# Control characters of member names never reach the output raw.
checked=$((checked + 1))
"$SV" ctrl-name.tar >"$work/v.txt" 2>&1
grep -q $'\x1b' "$work/v.txt" && fail "ctrl-name.tar: an escape character reached the output"

# ---- truncation at every member boundary and inside every member ---------------
trunc() { # NAME BYTES CODE FILE OFFSET
	head -c "$2" podman-none.tar >"$work/trunc.tar"
	"$SV" --json "$work/trunc.tar" >"$work/trunc.json" 2>&1
	local status=$?
	local f=$4
	[ "$f" = - ] && f="$work/trunc.tar" || f=$4 # JSON: the member path
	check_one "$1" $status "$work/trunc.json" "$3" "$f" "$5"
}
first=1
while read -r hdr data size name; do
	if [ "$name" = - ]; then
		# The end blocks cut (covered by no-trailer.tar): one block is tolerated.
		break
	fi
	if [ $first -eq 0 ]; then
		trunc "cut before $name" "$hdr" archive.truncated - "$hdr"
	fi
	first=0
	# (100 bytes of the first header are no tar yet: input.format.unknown)
	[ "$hdr" -gt 0 ] && trunc "cut inside the header of $name" $((hdr + 100)) archive.truncated - "$hdr"
	if [ "$size" -gt 0 ]; then
		half=$((size / 2))
		trunc "cut inside $name" $((data + half)) archive.truncated "$name" "$half"
	fi
done <podman-none.layout

# A member larger than the 4 MiB read whole (streamed): cut inside it, from a
# file, a pipe and a zstd stream.
"$gen" --big "$work/big8.tar" "$c1" "$SV_DATA/criu-real/sleep" 8 || fail "gen_archive --big"
"$SV" --json "$work/big8.tar" >"$work/big8.json" 2>&1
check_one "big8.tar" $? "$work/big8.json" valid - -
hdr=$("$SV" -v --json "$work/big8.tar" | jq -r 'select(.type == "record" and (.file | endswith("rootfs-diff.tar"))) | .offset')
cut=$((hdr + 512 + 5000000))
head -c "$cut" "$work/big8.tar" >"$work/big8-cut.tar"
"$SV" --json "$work/big8-cut.tar" >"$work/big8-cut.json" 2>&1
check_one "big8 cut inside rootfs-diff.tar" $? "$work/big8-cut.json" archive.truncated \
	rootfs-diff.tar 5000000
head -c "$cut" "$work/big8.tar" | "$SV" --json - >"$work/big8-cut.json" 2>&1
check_one "big8 cut inside rootfs-diff.tar (pipe)" $? "$work/big8-cut.json" archive.truncated \
	rootfs-diff.tar 5000000
rm -f "$work"/big8*.tar

# ---- a folder of archives (the kubelet's checkpoints folder) -----------------------
kube="$work/kubelet"
rm -rf "$kube" && mkdir -p "$kube"
cp real-sleep.tar.zst "$kube/checkpoint-a_default-c1-2026-12-02T13:08:00Z.tar"
cp gen-good.tar "$kube/checkpoint-b_default-c2-2026-12-02T13:09:00Z.tar"
"$SV" --json "$kube" >"$work/kube.json" 2>&1
status=$?
checked=$((checked + 1))
[ $status -eq 0 ] && [ "$(jq -s '[.[] | select(.type == "summary" and .verdict == "valid")] | length' "$work/kube.json")" = 2 ] ||
	fail "kubelet folder of two good archives: exit $status"
cp final.tar.zst "$kube/checkpoint-c_default-c3-2026-12-02T13:10:00Z.tar"
"$SV" --json "$kube" >"$work/kube.json" 2>&1
status=$?
checked=$((checked + 1))
[ $status -eq 1 ] && [ "$(jq -s '[.[] | select(.type == "summary")] | length' "$work/kube.json")" = 3 ] ||
	fail "kubelet folder with a bad archive: exit $status, want 1 and three summaries"

# ---- big archives: time and memory flat, nothing written ---------------------------
measure() { # FILE -> "milliseconds maxrss_kib"
	local t0 t1 rss
	t0=$(date +%s%N)
	/usr/bin/time -o "$work/time.out" -f '%M' "$SV" -q "$1" >/dev/null 2>&1
	rss=$(tail -1 "$work/time.out")
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000)) $rss"
}
if [ "${SV_SANITIZE:-}" = "" ] && [ -x /usr/bin/time ]; then
	big="$work/big"
	rm -rf "$big" && mkdir -p "$big"
	"$gen" --million "$big/million.tar.zst" "$c1" || fail "gen_archive --million"
	"$gen" --zeros "$big/zeros.tar.zst" "$c1" 10 || fail "gen_archive --zeros"
	before=$(ls -A "$big" | wc -l)
	for f in million.tar.zst zeros.tar.zst; do
		(cd "$big" && "$SV" --json "$f" >"$work/$f.json" 2>&1)
		check_one "$f" $? "$work/$f.json" valid - -
		read -r ms rss <<<"$(cd "$big" && measure "$f")"
		echo "$f ($(stat -c %s "$big/$f") bytes): ${ms} ms, peak RSS ${rss} KiB"
		checked=$((checked + 1))
		[ "${rss:-999999}" -le 16384 ] || fail "$f: peak RSS ${rss} KiB, want at most 16 MiB"
	done
	after=$(ls -A "$big" | wc -l)
	[ "$before" = "$after" ] || fail "verifying wrote files: $(ls -A "$big")"
	rm -rf "$big"
else
	echo "SKIP: big archives (sanitizer build or no /usr/bin/time)"
fi

echo "archive: $checked checks; $known_count known warnings on c1's stale images and outside netns set aside"
if [ $failed -ne 0 ]; then
	echo "archive: $failed failure(s)"
	exit 1
fi
echo "archive: all passed"
