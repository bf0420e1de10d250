#!/bin/bash
# make fuzz: run each libFuzzer target for FUZZ_SECONDS with a memory and
# per-input time limit, seeding empty corpora from the fixture generators
# and the real CRIU dumps, then print executions, speed, coverage and
# findings per target.  Exit status 1 when anything was found.
set -u
: "${SV_BUILD:?}" "${FUZZ_BUILD:?}" "${FUZZ_SECONDS:?}"
DATA=${SV_DATA:-}
here=$(cd "$(dirname "$0")" && pwd)
seeds="$FUZZ_BUILD/seeds"

make_seeds() {
	[ -d "$seeds" ] && return
	mkdir -p "$seeds/xen" "$seeds/criu" "$seeds/criu_dir" "$seeds/json" "$seeds/qemu" \
		"$seeds/archive" "$seeds/capture" "$seeds/text"
	[ -x "$SV_BUILD/tests/qemu/gen_qemu" ] && "$SV_BUILD/tests/qemu/gen_qemu" --all "$seeds/qemu" >/dev/null &&
		find "$seeds/qemu" -size +64k -delete
	if [ -n "$DATA" ]; then
		for f in "$DATA"/qemu/*.qemu.gz; do
			[ -f "$f" ] && gzip -dc "$f" >"$seeds/qemu/real-$(basename "$f" .gz)"
		done
	fi
	[ -x "$SV_BUILD/tests/xen/gen_xen" ] && "$SV_BUILD/tests/xen/gen_xen" --all "$seeds/xen" >/dev/null
	[ -x "$SV_BUILD/tests/criu/gen_criu" ] && "$SV_BUILD/tests/criu/gen_criu" --all "$seeds/criu" >/dev/null
	if [ -n "$DATA" ] && [ -d "$DATA/criu-real" ]; then
		for d in "$DATA"/criu-real/*/; do
			name=$(basename "$d")
			for f in "$d"*.img "$d"stats-dump; do
				[ -f "$f" ] || continue
				# Small images as they are; a pages file is mostly bulk.
				[ "$(stat -c %s "$f")" -le 65536 ] && cp "$f" "$seeds/criu/$name-$(basename "$f")"
				"$SV_BUILD/streamverify" decode -i "$f" -o "$seeds/json/$name-$(basename "$f").json" \
					>/dev/null 2>&1 || rm -f "$seeds/json/$name-$(basename "$f").json"
			done
			pack_dir "$d" >"$seeds/criu_dir/$name"
		done
	fi
	# Archives: the generator's (small ones) and the real podman checkpoint.
	if [ -n "$DATA" ] && [ -x "$SV_BUILD/tests/archive/gen_archive" ]; then
		"$SV_BUILD/tests/archive/gen_archive" "$seeds/archive.tmp" "$DATA/podman/c1.tar.zst" \
			"$DATA/criu-real" >/dev/null 2>&1
		find "$seeds/archive.tmp" -type f -size -256k -exec cp {} "$seeds/archive/" \; 2>/dev/null
		rm -rf "$seeds/archive.tmp"
		cp "$DATA/podman/c1.tar.zst" "$seeds/archive/"
	fi
	# Image-streamer captures of a real dump.
	if [ -n "$DATA" ] && [ -x "$SV_BUILD/tests/criu-stream/gen_stream" ]; then
		"$SV_BUILD/tests/criu-stream/gen_stream" --all "$DATA/criu-real/sleep" "$seeds/capture.tmp" \
			>/dev/null 2>&1
		find "$seeds/capture.tmp" -type f -size -256k -exec cp {} "$seeds/capture/" \; 2>/dev/null
		rm -rf "$seeds/capture.tmp"
	fi
	# The text view of the small real images, for the text encoder.
	for f in "$seeds"/criu/*.img; do
		[ -f "$f" ] || continue
		"$SV_BUILD/streamverify" decode --text -i "$f" -o "$seeds/text/$(basename "$f").txt" \
			>/dev/null 2>&1 || rm -f "$seeds/text/$(basename "$f").txt"
	done
	find "$seeds" -name '*.manifest' -delete 2>/dev/null
	return 0
}

# The names fuzz_criu_dir.c selects from, in its order.
dir_names=(inventory.img pstree.img core-1.img core-2.img ids-1.img mm-1.img pagemap-1.img
	pages-1.img fdinfo-2.img files.img fs-1.img seccomp.img timens-0.img stats-dump cgroup.img
	tcp-stream-10.img inetsk.img unixsk.img pipes-data.img ghost-file-1.img remap-fpath.img
	pagemap-shmem-5.img pages-2.img core-3.img ids-3.img mm-3.img pagemap-3.img fdinfo-3.img
	fs-3.img utsns-11.img ipcns-var-12.img mountpoints-13.img netns-14.img filelocks.img
	tmpfs-dev-20.tar.gz.img cpuinfo.img)

# A real dump as a fuzz_criu_dir input: { selector, u16le length, bytes }
# per file (first 4 KiB of each), its pid-named files mapped onto pid 1.
pack_dir() {
	local d=$1 f base sel i n
	for f in "$d"*; do
		[ -f "$f" ] || continue
		base=$(basename "$f" | sed -E 's/^(core|ids|mm|pagemap|fs)-[0-9]+\.img$/\1-1.img/')
		sel=-1
		for i in "${!dir_names[@]}"; do [ "${dir_names[$i]}" = "$base" ] && sel=$i; done
		[ "$sel" -ge 0 ] || continue
		n=$(stat -c %s "$f"); [ "$n" -gt 4096 ] && n=4096
		printf "\\x$(printf %02x "$sel")\\x$(printf %02x $((n & 255)))\\x$(printf %02x $((n >> 8)))"
		head -c "$n" "$f"
	done
}

seed_dirs_for() {
	case $1 in
	fuzz_libxc|fuzz_libxl|fuzz_xl|fuzz_libxc_legacy) echo "$seeds/xen" ;;
	fuzz_criu) echo "$seeds/criu" ;;
	fuzz_criu_dir | fuzz_show) echo "$seeds/criu_dir" ;;
	fuzz_encode) echo "$seeds/json" ;;
	fuzz_qemu) echo "$seeds/qemu" ;;
	fuzz_container) echo "$seeds/archive" ;;
	fuzz_criu_stream) echo "$seeds/capture" ;;
	fuzz_text) echo "$seeds/text" ;;
	fuzz_auto) echo "$seeds/xen $seeds/criu $seeds/qemu" ;;
	esac
}

dict_for() {
	local t=${1#fuzz_}
	case $t in criu_dir | show) t=criu ;; encode) t=json ;; *_*) t=${t//_/-} ;; esac
	[ -f "$here/dict/$t.dict" ] && echo "-dict=$here/dict/$t.dict"
}

# ASan keeps freed memory in quarantine (256 MiB by default), which alone
# would cross the 256 MiB RSS limit; a small quarantine still finds
# use-after-free in the short lives of our buffers.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16:detect_leaks=1}

make_seeds
status=0
printf '%-16s %12s %10s %8s %s\n' target executions exec/s edges findings
for t in "$@"; do
	bin="$FUZZ_BUILD/$t"
	corpus="$FUZZ_BUILD/corpus/$t"
	findings="$FUZZ_BUILD/findings/$t"
	log="$FUZZ_BUILD/logs/$t.log"
	mkdir -p "$corpus" "$findings" "$(dirname "$log")"
	if [ -z "$(ls -A "$corpus")" ]; then
		for s in $(seed_dirs_for "$t"); do
			find "$s" -maxdepth 1 -type f -size -1M -exec cp {} "$corpus/" \; 2>/dev/null
		done
	fi
	# shellcheck disable=SC2046
	"$bin" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=256 -timeout=5 -print_final_stats=1 \
		-artifact_prefix="$findings/" $(dict_for "$t") "$corpus" >"$log" 2>&1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	found=$(find "$findings" -type f | wc -l)
	printf '%-16s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${speed:-?}" "${edges:-?}" "$found"
	if [ "$found" -gt 0 ] || [ -z "$execs" ]; then
		status=1
		find "$findings" -type f | sed 's/^/    finding: /'
		[ -z "$execs" ] && tail -20 "$log" | sed 's/^/    /'
	fi
done
exit $status
