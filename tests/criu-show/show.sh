#!/bin/bash
# streamverify show / diff on the real dumps of tests/data/criu-real:
# what each workload is known to hold (tests/data/README.md), crit x as a
# differential oracle where crit is installed, JSON checked against
# docs/show-schema.json, diffs, hostile strings, refusals.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SV=${SV:-$root/build/streamverify}
data=$root/tests/data/criu-real
schema=$root/docs/show-schema.json
check="python3 $here/schema_check.py $schema"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0

ok() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect NAME EXPECTED ACTUAL
expect() { if [ "$2" = "$3" ]; then ok; else fail "$1: expected [$2], got [$3]"; fi; }

# A python one-liner over a JSON document on stdin.
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

# ---- every real dump: shown, exit status of its verification, JSON valid --------------
for d in "$data"/*/; do
	n=$(basename "$d")
	"$SV" show --all --env "$d" >"$tmp/$n.txt" 2>"$tmp/$n.err"
	st=$?
	"$SV" "$d" >/dev/null 2>&1
	vst=$?
	expect "$n: show exit = verify exit" "$vst" "$st"
	[ -s "$tmp/$n.err" ] && fail "$n: show wrote to stderr: $(head -c 200 "$tmp/$n.err")"
	"$SV" show --all --env --format json "$d" >"$tmp/$n.json" 2>/dev/null
	if $check "$tmp/$n.json" >"$tmp/$n.schema"; then ok; else
		fail "$n: JSON does not match the schema: $(head -5 "$tmp/$n.schema")"; fi
	# the same findings as verification
	expect "$n: findings = verify's" \
		"$("$SV" --json "$d" 2>/dev/null | python3 -c 'import json,sys; print(sorted(json.loads(l)["code"] for l in sys.stdin if json.loads(l)["type"]=="diagnostic"))')" \
		"$(jq_py 'print(sorted(f["code"] for f in d["findings"]))' <"$tmp/$n.json")"
	# findings come first, before the checkpoint line
	if [ "$vst" != 0 ]; then
		expect "$n: findings first" "Findings" "$(head -c 8 "$tmp/$n.txt")"
	fi
done

# ---- threads: one process, 4 threads, one of every special fd kind ---------------------
j=$tmp/threads.json
expect "threads: processes" 1 "$(jq_py 'print(len(d["processes"]))' <"$j")"
expect "threads: threads" 4 "$(jq_py 'print(len(d["processes"][0]["threads"]))' <"$j")"
expect "threads: cmdline" "workload threads /tmp/ready.threads" \
	"$(jq_py 'print(" ".join(d["processes"][0]["cmdline"]))' <"$j")"
expect "threads: special fds" "epoll eventfd fanotify inotify memfd signalfd timerfd" \
	"$(jq_py 'print(" ".join(sorted(f["kind"] for f in d["processes"][0]["fds"] if f["kind"] not in ("file",))))' <"$j")"
expect "threads: memfd name" "memfd:criu-test-memfd" \
	"$(jq_py 'print([f["file"]["target"] for f in d["processes"][0]["fds"] if f["kind"]=="memfd"][0])' <"$j")"
expect "threads: eventfd" "eventfd counter 42" \
	"$(jq_py 'print([f["file"]["target"] for f in d["processes"][0]["fds"] if f["kind"]=="eventfd"][0])' <"$j")"
expect "threads: env has PATH" "1" \
	"$(jq_py 'print(sum(1 for e in d["processes"][0]["environ"] if e.startswith("PATH=")))' <"$j")"
# totals agree with the VMAs, and dumped pages with the dump's own statistics
expect "threads: dumped pages = pages_written + shpages_written (private and shared memory)" \
	"$(jq_py 's=d["stats"]; print(s["pages_written"]["value"]+s["shpages_written"]["value"])' <"$j")" \
	"$(jq_py 'print(sum(p["pages"]["dumped"] for p in d["processes"]))' <"$j")"
expect "threads: stat units" "us us us us pages" \
	"$(jq_py 's=d["stats"]; print(" ".join(s[k]["unit"] for k in ("freezing_time","frozen_time","memdump_time","memwrite_time","pages_scanned")))' <"$j")"
grep -q 'freezing_time .* µs' "$tmp/threads.txt" && ok || fail "threads: freezing_time in µs in the tree"

# ---- shtree: a shell with two children joined by a pipe --------------------------------
j=$tmp/shtree.json
expect "shtree: tree" "sh:0 sleep:1 sleep:1" \
	"$(jq_py 'ps=d["processes"]; r=ps[0]["pid"]; print(" ".join(p["comm"]+":"+str(int(p["ppid"]==r)) for p in ps))' <"$j")"
expect "shtree: cmdline" "sh /shtree.sh" "$(jq_py 'print(" ".join(d["processes"][0]["cmdline"]))' <"$j")"
expect "shtree: pipe between the children" "1" \
	"$(jq_py '
ps=d["processes"]
a={f["file"]["pipe_id"] for f in ps[1]["fds"] if f["kind"]=="pipe"}
b={f["file"]["pipe_id"] for f in ps[2]["fds"] if f["kind"]=="pipe"}
print(len(a & b))' <"$j")"
expect "shtree: fifo path" "/tmp/shtree.fifo" \
	"$(jq_py 'print([f["file"]["path"] for f in d["processes"][0]["fds"] if f["kind"]=="fifo"][0])' <"$j")"
grep -q '├─ sleep 100000' "$tmp/shtree.txt" && grep -q '└─ sleep 100000' "$tmp/shtree.txt" && ok ||
	fail "shtree: the Unicode tree"

# ---- zombie: zombie children ----------------------------------------------------------------
j=$tmp/zombie.json
expect "zombie: states" "running zombie zombie running zombie" \
	"$(jq_py 'print(" ".join(p["state"] for p in d["processes"]))' <"$j")"
expect "zombie: zombies have no fds" "0" \
	"$(jq_py 'print(sum(len(p["fds"]) for p in d["processes"] if p["state"]=="zombie"))' <"$j")"

# ---- net: TCP, UDP, unix, packet, netlink -------------------------------------------------
j=$tmp/net.json
expect "net: sockets" "inet/dgram/close inet/stream/established inet/stream/established inet/stream/listen inet6/stream/listen netlink/raw/close packet/raw/none unix/dgram/close unix/dgram/established unix/dgram/established unix/stream/established unix/stream/established unix/stream/established unix/stream/established unix/stream/listen" \
	"$(jq_py 'print(" ".join(sorted(s["family"]+"/"+s["type"]+"/"+s["state"] for s in d["sockets"])))' <"$j")"
expect "net: listener" "127.0.0.1:7777 ::1:7778" \
	"$(jq_py 'print(" ".join(sorted(s["local"]["address"]+":"+str(s["local"]["port"]) for s in d["sockets"] if s["state"]=="listen" and s["family"]!="unix")))' <"$j")"
expect "net: unix peers pair up" "0" \
	"$(jq_py '
s={x["inode"]:x for x in d["sockets"] if x["family"]=="unix"}
print(sum(1 for x in s.values() if x["peer"] and x["peer"] in s and s[x["peer"]]["peer"]!=x["inode"] and x["state"]!="established"))' <"$j")"
expect "net: abstract name" "\\u0000criu-abstract" \
	"$(grep -o '"local":"\\u0000criu-abstract"' "$j" | head -1 | sed 's/"local":"//; s/"$//')"
expect "net: queued bytes of the established TCP pair" "47 47" \
	"$(jq_py 'print(" ".join(str(s["queued_bytes"]) for s in d["sockets"] if s["family"]=="inet" and s["state"]=="established"))' <"$j")"

# ---- ghost: deleted files -------------------------------------------------------------------
j=$tmp/ghost.json
expect "ghost: deleted" "3:True 4:True 5:False" \
	"$(jq_py 'print(" ".join(str(f["fd"])+":"+str(f["file"]["deleted"]) for f in d["processes"][0]["fds"] if f["fd"]>=3))' <"$j")"
grep -q '/tmp/ghost-a.txt (deleted)' "$tmp/ghost.txt" && ok || fail "ghost: (deleted) in the tree"

# ---- ct-tmpfs: mounts and namespaces --------------------------------------------------------
j=$tmp/ct-tmpfs.json
expect "ct-tmpfs: root mount is tmpfs" "tmpfs" \
	"$(jq_py 'print([m["fstype"] for m in d["mounts"] if m["mountpoint"]=="/"][0])' <"$j")"
expect "ct-tmpfs: has /proc" "proc" \
	"$(jq_py 'print([m["fstype"] for m in d["mounts"] if m["mountpoint"]=="/proc"][0])' <"$j")"

# ---- podman: a container archive, read in one pass --------------------------------------
pa=$root/tests/data/podman/c1.tar.zst
"$SV" show --all --format json "$pa" >"$tmp/podman.json"
if $check "$tmp/podman.json" >/dev/null; then ok; else fail "podman: JSON against the schema"; fi
j=$tmp/podman.json
expect "podman: container" "c1 localhost/criu-bb:latest" \
	"$(jq_py 'print(d["container"]["name"], d["container"]["image"])' <"$j")"
expect "podman: processes" "1:0:sh 13:1:sleep" \
	"$(jq_py 'print(" ".join("%d:%d:%s" % (p["pid"], p["ppid"], p["comm"]) for p in d["processes"]))' <"$j")"
expect "podman: command lines" "/bin/sh -c i=0; while true; do i=\$((i+1)); echo \$i > /tmp/counter; sleep 1; done|sleep 1" \
	"$(jq_py 'print("|".join(" ".join(p["cmdline"]) for p in d["processes"]))' <"$j")"
expect "podman: stats-dump (beside checkpoint/)" "34 pages" \
	"$(jq_py 's=d["stats"]["pages_written"]; print(s["value"], s["unit"])' <"$j")"
expect "podman: the verification's CRIU findings" "$("$SV" --json "$pa" 2>/dev/null | python3 -c '
import json, sys
print(sorted(x["code"] for x in map(json.loads, sys.stdin) if x["type"] == "diagnostic" and x["code"].startswith("criu.")))')" \
	"$(jq_py 'print(sorted(f["code"] for f in d["findings"]))' <"$j")"
expect "podman: root mount" "/" "$(jq_py 'print([m["mountpoint"] for m in d["mounts"] if m["parent"] not in {x["id"] for x in d["mounts"]}][0])' <"$j")"
"$SV" diff "$pa" "$pa" >"$tmp/pself.txt"
expect "podman: diff with itself" "0:0 differences" "$?:$(tail -1 "$tmp/pself.txt")"
"$SV" diff --format json "$data/sleep" "$pa" >"$tmp/ps.json"
expect "diff dump / archive: processes" "1 2" \
	"$(jq_py 'print(sum(1 for p in d["processes"] if p["change"]=="removed"), sum(1 for p in d["processes"] if p["change"]=="added"))' <"$tmp/ps.json")"
"$SV" show "$root/tests/data/README.md" >/dev/null 2>&1
expect "show of a file that is no checkpoint" 2 $?

# ---- -p PID and sections ---------------------------------------------------------------------
pid=$(jq_py 'print(d["processes"][1]["pid"])' <"$tmp/shtree.json")
expect "-p: one process" "1" "$("$SV" show -p "$pid" --format json "$data/shtree" | jq_py 'print(len(d["processes"]))')"
expect "--ps alone: no fds" "False" "$("$SV" show --format json "$data/shtree" | jq_py 'print("fds" in d["processes"][0])')"

# ---- crit x as an oracle -----------------------------------------------------------------------
if command -v crit >/dev/null 2>&1; then
	compared=0
	for d in "$data"/*/; do
		n=$(basename "$d")
		for what in ps fds mems; do
			crit x "$d" $what >"$tmp/$n.crit.$what" 2>/dev/null || continue
			out=$(python3 "$here/crit_compare.py" "$what" "$tmp/$n.crit.$what" "$tmp/$n.json")
			if [ -n "$out" ]; then fail "$n: crit x $what disagrees: $out"; else ok; fi
			compared=$((compared + 1))
		done
	done
	echo "crit x: $compared comparisons"
else
	echo "SKIP: crit is not installed (crit x comparisons)"
fi

# ---- diff --------------------------------------------------------------------------------------
"$SV" diff "$data/incr-1" "$data/incr-2" >"$tmp/incr.txt"
expect "diff incr-1 incr-2: exit" 1 $?
"$SV" diff --format json "$data/incr-1" "$data/incr-2" >"$tmp/incr.json"
if $check "$tmp/incr.json" >/dev/null; then ok; else fail "diff JSON against the schema"; fi
expect "diff incr: no process added or removed" 0 "$(jq_py 'print(len(d["processes"]))' <"$tmp/incr.json")"
# every page CRIU skipped as unchanged since the parent is unchanged; what it wrote
# again is changed or (same contents written again) unchanged
expect "diff incr: pages" "65 0 0 721 0" \
	"$(jq_py 'p=d["tasks"][0]["pages"]; print(p["changed"],p["added"],p["removed"],p["unchanged"],p["unknown"])' <"$tmp/incr.json")"
expect "diff incr: pages = incr-2's pages_written + skipped" \
	"$("$SV" show --stats --format json "$data/incr-2" | jq_py 's=d["stats"]; print(s["pages_written"]["value"]+s["pages_skipped_parent"]["value"])')" \
	"$(jq_py 'p=d["tasks"][0]["pages"]; print(p["changed"]+p["unchanged"])' <"$tmp/incr.json")"
for n in incr-2 shtree net threads; do
	"$SV" diff "$data/$n" "$data/$n" >"$tmp/self.txt"
	expect "diff $n with itself: exit" 0 $?
	expect "diff $n with itself" "0 differences" "$(tail -1 "$tmp/self.txt")"
done
"$SV" diff --format json "$data/shtree" "$data/zombie" >"$tmp/sz.json"
expect "diff shtree zombie: exit" 1 $?
if $check "$tmp/sz.json" >/dev/null; then ok; else fail "diff JSON (processes changed) against the schema"; fi
expect "diff shtree zombie: processes" "3 5" \
	"$(jq_py 'print(sum(1 for p in d["processes"] if p["change"]=="removed"), sum(1 for p in d["processes"] if p["change"]=="added"))' <"$tmp/sz.json")"

# ---- criu-image-streamer captures: shown and diffed as the directory they carry -------------
# gen_stream writes each real dump as captures: file after file in 64 KiB and in
# 1000-byte chunks, and with a pagemap and a pages file interleaved chunk by chunk
# (the second held in memory while the first is read, as the verify path does).
gen_stream=${SV_BUILD:-$root/build}/tests/criu-stream/gen_stream
if [ -x "$gen_stream" ]; then
	for d in "$data"/*/; do
		d=${d%/}
		n=$(basename "$d")
		# a capture carries no parent link: incremental dumps are left to the archives
		[ -e "$d/parent" ] && continue
		"$gen_stream" --all "$d" "$tmp/cap-$n" >/dev/null || { fail "$n: gen_stream"; continue; }
		for v in dump small-chunks interleaved; do
			# threads: gen_stream interleaves pages-1.img with pagemap-291.img, so the
			# task's own pages-2.img comes before its pagemap (command lines unknown)
			[ "$n/$v" = threads/interleaved ] && continue
			c=$tmp/cap-$n/valid/$v.capture
			for f in tree json; do
				"$SV" show --all --env --format $f "$c" >"$tmp/cap.out" 2>&1
				st=$?
				"$SV" show --all --env --format $f "$d" >"$tmp/dir.out" 2>&1
				expect "$n/$v.capture: show --format $f exit" 0 $st
				# the same document, but for the checkpoint's name
				if [ "$(sed "s#$c#CKPT#g" "$tmp/cap.out")" = "$(sed "s#$d#CKPT#g" "$tmp/dir.out")" ]; then ok; else
					fail "$n/$v.capture: show --format $f differs from the directory's:"
					diff <(sed "s#$c#CKPT#g" "$tmp/cap.out") <(sed "s#$d#CKPT#g" "$tmp/dir.out") | head -4
				fi
			done
			"$SV" diff "$c" "$d" >"$tmp/capdiff.txt"
			expect "$n/$v.capture: diff with its directory" "0:0 differences" "$?:$(tail -1 "$tmp/capdiff.txt")"
		done
	done
	c=$tmp/cap-shtree/valid/dump.capture
	if $check <("$SV" show --all --format json "$c") >/dev/null; then ok; else fail "capture: JSON against the schema"; fi
	expect "capture: findings of a broken capture are verify's" \
		"$("$SV" --json "$tmp/cap-sleep/broken/seq-gap.capture" 2>/dev/null | python3 -c 'import json,sys; print(sorted(json.loads(l)["code"] for l in sys.stdin if json.loads(l)["type"]=="diagnostic"))')" \
		"$("$SV" show --format json "$tmp/cap-sleep/broken/seq-gap.capture" | jq_py 'print(sorted(f["code"] for f in d["findings"]))')"
	"$SV" show "$tmp/cap-sleep/broken/seq-gap.capture" >/dev/null
	expect "capture: show of a broken capture exits 1" 1 $?
	# diff of two dumps against their captures: the same differences as of the directories
	expect "diff capture/capture = diff dir/dir" \
		"$("$SV" diff --format json "$data/shtree" "$data/zombie" | sed "s#$data/##g")" \
		"$("$SV" diff --format json "$tmp/cap-shtree/valid/dump.capture" "$tmp/cap-zombie/valid/small-chunks.capture" |
		   sed "s#$tmp/cap-shtree/valid/dump.capture#shtree#; s#$tmp/cap-zombie/valid/small-chunks.capture#zombie#")"
else
	echo "SKIP: $gen_stream not built (captures)"
fi

# ---- container archives made by gen_archive: pre-checkpoints and pods ----------------------
gen_archive=${SV_BUILD:-$root/build}/tests/archive/gen_archive
ga=$tmp/archives
if [ -x "$gen_archive" ] && mkdir "$ga" && "$gen_archive" "$ga" "$pa" "$data" >/dev/null 2>&1; then
	# combined.tar.zst: checkpoint/ is incr-2, whose parent link ../pre-checkpoint is incr-1
	cb=$ga/combined.tar.zst
	"$SV" show --mem --format json "$cb" >"$tmp/cb.json"
	expect "pre-checkpoint: show exit (the parent resolved inside the archive)" 0 $?
	if $check "$tmp/cb.json" >/dev/null; then ok; else fail "pre-checkpoint: JSON against the schema"; fi
	expect "pre-checkpoint: the same CRIU findings as the container verification" \
		"$("$SV" --json "$cb" 2>/dev/null | python3 -c '
import json, sys
print(sorted(x["code"] for x in map(json.loads, sys.stdin) if x["type"] == "diagnostic" and x["code"].startswith("criu.")))')" \
		"$(jq_py 'print(sorted(f["code"] for f in d["findings"]))' <"$tmp/cb.json")"
	# pages in the parent: as in the directory incr-2, whose parent is incr-1
	expect "pre-checkpoint: page counts = incr-2's (dumped, in parent)" \
		"$("$SV" show --mem --format json "$data/incr-2" | jq_py 'print([(p["pid"], p["pages"]) for p in d["processes"]])')" \
		"$(jq_py 'print([(p["pid"], p["pages"]) for p in d["processes"]])' <"$tmp/cb.json")"
	expect "pre-checkpoint: in-parent pages" "719" \
		"$(jq_py 'print(sum(p["pages"]["parent"] for p in d["processes"]))' <"$tmp/cb.json")"
	# ARCHIVE:pre-checkpoint is the pre-dump (incr-1) itself
	"$SV" show --mem --format json "$cb:pre-checkpoint" >"$tmp/cbpre.json"
	expect "ARCHIVE:pre-checkpoint: show exit" 0 $?
	expect "ARCHIVE:pre-checkpoint: its name" "$cb:pre-checkpoint" "$(jq_py 'print(d["checkpoint"])' <"$tmp/cbpre.json")"
	expect "ARCHIVE:pre-checkpoint: processes and memory = incr-1's" \
		"$("$SV" show --mem --format json "$data/incr-1" | jq_py 'print(d["processes"])')" \
		"$(jq_py 'print(d["processes"])' <"$tmp/cbpre.json")"
	# diff ARCHIVE: its pre-checkpoint/ against its checkpoint/ = diff incr-1 incr-2
	for f in tree json; do
		"$SV" diff --format $f "$cb" >"$tmp/cbdiff.$f"
		expect "diff ARCHIVE --format $f: exit" 1 $?
		"$SV" diff --format $f "$data/incr-1" "$data/incr-2" >"$tmp/incrdiff.$f"
		expect "diff ARCHIVE --format $f = diff incr-1 incr-2" \
			"$(sed "s#$data/incr-1#A#; s#$data/incr-2#B#" "$tmp/incrdiff.$f")" \
			"$(sed "s#$cb:pre-checkpoint#A#; s#$cb#B#" "$tmp/cbdiff.$f")"
		"$SV" diff --format $f "$cb:pre-checkpoint" "$cb" >"$tmp/cbdiff2.$f"
		expect "diff ARCHIVE:pre-checkpoint ARCHIVE --format $f = diff ARCHIVE" \
			"$(cat "$tmp/cbdiff.$f")" "$(cat "$tmp/cbdiff2.$f")"
	done
	if $check "$tmp/cbdiff.json" >/dev/null; then ok; else fail "diff ARCHIVE: JSON against the schema"; fi
	expect "diff ARCHIVE: pages" "65 0 0 721 0" \
		"$(jq_py 'p=d["tasks"][0]["pages"]; print(p["changed"],p["added"],p["removed"],p["unchanged"],p["unknown"])' <"$tmp/cbdiff.json")"
	"$SV" diff "$ga/podman-none.tar" >/dev/null 2>"$tmp/nopre.err"
	expect "diff ARCHIVE without pre-checkpoint/: exit" 2 $?
	expect "diff ARCHIVE without pre-checkpoint/: why" \
		"streamverify diff: $ga/podman-none.tar: no pre-checkpoint/ folder to compare its checkpoint with; give two checkpoints A and B" \
		"$(cat "$tmp/nopre.err")"
	"$SV" show "$ga/podman-none.tar:pre-checkpoint" >"$tmp/nopre.out" 2>"$tmp/nopre.err"
	expect "show ARCHIVE:pre-checkpoint without one: exit, nothing shown" "2:" "$?:$(cat "$tmp/nopre.out")"
	expect "show ARCHIVE:pre-checkpoint without one: why" \
		"streamverify: $ga/podman-none.tar holds no pre-checkpoint/ folder" "$(cat "$tmp/nopre.err")"

	# pod.tar.zst: pod.options names c1 -> b903db11-c1, c2 -> a1b2c3d4-c2, each the podman c1
	pod=$ga/pod.tar.zst
	id=b903db1144049056d7b9bdb4b11e9f6152b66aec76382fc960bd8192d96fe3f2
	"$SV" show --all "$pod" >"$tmp/pod.txt"
	expect "pod: show exit" 0 $?
	expect "pod: one subtree per container" \
		"Pod checkpoint $pod: 2 containers, valid|Container c1 (id $id), image localhost/criu-bb:latest, folder b903db11-c1/|  Checkpoint $pod:b903db11-c1/: CRIU dump, 2 processes, valid|Container c2 (id $id), image localhost/criu-bb:latest, folder a1b2c3d4-c2/|  Checkpoint $pod:a1b2c3d4-c2/: CRIU dump, 2 processes, valid" \
		"$(grep -E '^(Pod|Container|  Checkpoint)' "$tmp/pod.txt" | paste -sd'|')"
	# each subtree is the single container's show, indented
	"$SV" show --all "$ga/podman-none.tar" | sed -n '/^Processes/,$p' >"$tmp/one.txt"
	for k in 1 2; do
		expect "pod: container $k's subtree = the container's show" "$(cat "$tmp/one.txt")" \
			"$(python3 - "$tmp/pod.txt" $k <<'PY'
import sys
blocks = open(sys.argv[1]).read().split("\nContainer ")
lines = [l[2:] if l.startswith("  ") else l for l in blocks[int(sys.argv[2])].split("\n")[1:]]
print("\n".join(lines[lines.index("Processes"):]).rstrip("\n"))
PY
)"
	done
	"$SV" show --all --format json "$pod" >"$tmp/pod.json"
	if $check "$tmp/pod.json" >/dev/null; then ok; else fail "pod: JSON against the schema"; fi
	expect "pod: JSON containers" "streamverify-show-pod/1 c1:b903db11-c1/:$id c2:a1b2c3d4-c2/:$id" \
		"$(jq_py 'print(d["schema"], " ".join("%s:%s:%s" % (c["container"]["name"], c["container"]["folder"], c["container"]["id"]) for c in d["containers"]))' <"$tmp/pod.json")"
	expect "pod: each container's findings are its folder's, all of them the archive's" "12 6 6 True" \
		"$(jq_py 'c=d["containers"]; print(len(d["findings"]), len(c[0]["findings"]), len(c[1]["findings"]), all(f["file"].startswith(x["checkpoint"]) for x in c for f in x["findings"]))' <"$tmp/pod.json")"
	expect "pod: each container's processes = the container's" \
		"$("$SV" show --all --format json "$ga/podman-none.tar" | jq_py 'print(d["processes"])')" \
		"$(jq_py 'a,b=(c["processes"] for c in d["containers"]); print(a if a==b else "differ")' <"$tmp/pod.json")"
	"$SV" diff "$pod" "$pod" >"$tmp/poddiff.txt"
	expect "pod: diff with itself" "0:0 differences in all" "$?:$(tail -1 "$tmp/poddiff.txt")"
	expect "pod: diff pairs" "Container c1|Container c2" "$(grep '^Container' "$tmp/poddiff.txt" | paste -sd'|')"
	"$SV" diff --format json "$pod" "$ga/podman-none.tar" >"$tmp/poddiff.json"
	expect "pod against one container: exit" 1 $?
	if $check "$tmp/poddiff.json" >/dev/null; then ok; else fail "pod diff: JSON against the schema"; fi
	expect "pod against one container: c1 paired, c2 removed" "c1:unchanged c2:removed 1" \
		"$(jq_py 'print(" ".join(c["name"]+":"+c["change"] for c in d["containers"]), d["differences"])' <"$tmp/poddiff.json")"
	# containers paired by name, not by folder or order: two pods of shtree and zombie
	python3 - "$tmp" "$data" "$ga/podman-none.tar" <<'PY'
import io, json, os, sys, tarfile
tmp, data, podman = sys.argv[1:4]
meta = {}
with tarfile.open(podman) as t:
    for n in ("config.dump", "spec.dump"):
        meta[n] = t.extractfile(n).read()
def pod(path, ctrs):
    with tarfile.open(path, "w") as t:
        opts = json.dumps({"version": 1, "containers": {n: f for n, f, _ in ctrs}}).encode()
        for name, blob in [("pod.options", opts), ("pod.dump", b'{"id":"p","name":"p"}')]:
            i = tarfile.TarInfo(name); i.size = len(blob); t.addfile(i, io.BytesIO(blob))
        for name, folder, dump in ctrs:
            for n, blob in meta.items():
                i = tarfile.TarInfo(folder + "/" + n); i.size = len(blob); t.addfile(i, io.BytesIO(blob))
            for f in sorted(os.listdir(os.path.join(data, dump))):
                if not f.endswith(".log"):
                    t.add(os.path.join(data, dump, f), folder + "/checkpoint/" + f)
pod(tmp + "/pod-a.tar", [("web", "1111-web", "shtree"), ("db", "2222-db", "zombie")])
pod(tmp + "/pod-b.tar", [("db", "3333-db", "zombie"), ("web", "4444-web", "shtree")])
pod(tmp + "/pod-c.tar", [("web", "5555-web", "zombie"), ("db", "6666-db", "shtree")])
PY
	"$SV" diff --format json "$tmp/pod-a.tar" "$tmp/pod-b.tar" >"$tmp/pab.json"
	expect "pods reordered, other folders: diff exit" 0 $?
	expect "pods reordered, other folders: paired by name" "db:unchanged web:unchanged 0" \
		"$(jq_py 'print(" ".join(c["name"]+":"+c["change"] for c in d["containers"]), d["differences"])' <"$tmp/pab.json")"
	"$SV" diff --format json "$tmp/pod-a.tar" "$tmp/pod-c.tar" >"$tmp/pac.json"
	expect "pods with names swapped: diff exit" 1 $?
	expect "pods with names swapped: both changed as shtree <-> zombie" \
		"web:changed:3:5 db:changed:5:3" \
		"$(jq_py 'print(" ".join("%s:%s:%d:%d" % (c["name"], c["change"], sum(p["change"]=="removed" for p in c["diff"]["processes"]), sum(p["change"]=="added" for p in c["diff"]["processes"])) for c in d["containers"]))' <"$tmp/pac.json")"
else
	echo "SKIP: $gen_archive not built (pre-checkpoints, pods)"
fi

# ---- hostile strings: escape sequences and invalid UTF-8 from the images -----------------------
h=$tmp/hostile
cp -a "$data/shtree" "$h"
"$SV" decode -i "$h/core-251.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
d["entries"][0]["tc"]["comm"] = "\x1b]0;owned\x07\x1b[31mred\u202e"
json.dump(d, sys.stdout)' >"$tmp/core.json"
"$SV" encode -i "$tmp/core.json" -o "$h/core-251.img" || fail "hostile: encode"
python3 - "$h" <<'EOF'
import glob, sys
for p in glob.glob(sys.argv[1] + "/pages-*.img"):
    b = open(p, "rb").read()
    i = b.find(b"sh\x00/shtree.sh\x00")
    if i >= 0:
        open(p, "r+b").write(b[:i] + b"\x1b\x07\x00/sh\xffree.sh\x00" + b[i + 14:])
        sys.exit(0)
sys.exit("the command line is in no pages file")
EOF
"$SV" show --all "$h" >"$tmp/h.txt"
if LC_ALL=C grep -q $'\x1b\|\x07\|\xe2\x80\xae' "$tmp/h.txt"; then fail "hostile: raw control bytes reached the output"; else ok; fi
grep -qF '\x1b]0;owned\x07\x1b[31mred\xe2\x80\xae' "$tmp/h.txt" && ok || fail "hostile: comm not escaped visibly"
grep -qF '\x1b\x07 /sh\xffree.sh' "$tmp/h.txt" && ok || fail "hostile: cmdline not escaped visibly"
"$SV" show --all --format json "$h" >"$tmp/h.json"
if $check "$tmp/h.json" >/dev/null; then ok; else fail "hostile: JSON against the schema"; fi
expect "hostile: JSON comm round trip" "$(printf '\x1b]0;owned\x07\x1b[31mred\xe2\x80\xae')" \
	"$(jq_py 'sys.stdout.write(d["processes"][0]["comm"])' <"$tmp/h.json")"
expect "hostile: JSON invalid UTF-8 as \\u00XX" '"/sh\u00ffree.sh"' "$(grep -o '"/sh\\u00ffree.sh"' "$tmp/h.json" | head -1)"

# ---- a damaged dump is shown as far as it can be read, findings first --------------------------
b=$tmp/broken
cp -a "$data/shtree" "$b"
rm "$b/fs-255.img"
truncate -s 100 "$b/mm-256.img"
"$SV" show --all "$b" >"$tmp/b.txt"
expect "broken: exit" 1 $?
expect "broken: findings first" "Findings" "$(head -c 8 "$tmp/b.txt")"
grep -q 'criu.dump.task.image-missing' "$tmp/b.txt" && ok || fail "broken: the missing fs image listed"
grep -q '└─ ' "$tmp/b.txt" && ok || fail "broken: the tree still shown"
"$SV" show --all --format json "$b" >"$tmp/b.json"
if $check "$tmp/b.json" >/dev/null; then ok; else fail "broken: JSON against the schema"; fi

# ---- inputs fuzz_show found crashes with (fuzz/fuzz_show.c layout), replayed ------------
for f in "$here"/fuzz-regress/*.bin; do
	r=$tmp/regress
	rm -rf "$r" && mkdir "$r"
	python3 - "$f" "$r" "$root/fuzz/fuzz_show.c" <<'PY'
import re, sys
src = open(sys.argv[3]).read()
names = re.findall(r'"([a-z0-9-]+(?:\.img)?|stats-dump)"', src[src.index("file_names[]"):src.index("NNAMES")])
b = open(sys.argv[1], "rb").read()
at = 0
while at + 3 <= len(b):
    name = names[b[at] % len(names)]
    n = b[at + 1] | b[at + 2] << 8
    at += 3
    open(sys.argv[2] + "/" + name, "ab").write(b[at:at + n])
    at += n
PY
	for args in "--all --env" "--all --env --format json"; do
		"$SV" show $args "$r" >/dev/null 2>"$tmp/regress.err"
		st=$?
		if [ $st -gt 2 ] || grep -q 'Sanitizer\|runtime error' "$tmp/regress.err"; then
			fail "fuzz regression $(basename "$f") show $args: exit $st"
		else ok; fi
	done
	"$SV" diff "$r" "$r" >/dev/null 2>"$tmp/regress.err"
	st=$?
	if [ $st -gt 2 ] || grep -q 'Sanitizer\|runtime error' "$tmp/regress.err"; then
		fail "fuzz regression $(basename "$f") diff: exit $st"
	else ok; fi
done

# ---- refusals -------------------------------------------------------------------------------------
"$SV" show >/dev/null 2>&1; expect "show without CHECKPOINT" 2 $?
"$SV" show --format xml "$data/sleep" >/dev/null 2>&1; expect "show --format xml" 2 $?
"$SV" show -p x "$data/sleep" >/dev/null 2>&1; expect "show -p x" 2 $?
"$SV" show "$tmp/nonexistent" >/dev/null 2>&1; expect "show of nothing" 2 $?
"$SV" diff "$data/sleep" >/dev/null 2>&1; expect "diff with one checkpoint" 2 $?
"$SV" show --help | grep -q -- '--sockets' && ok || fail "show --help"

echo "criu-show: $passes passed, $fails failed"
[ "$fails" = 0 ]
