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
	mkdir -p "$seeds/xen" "$seeds/criu" "$seeds/criu_dir" "$seeds/show" "$seeds/json" "$seeds/qemu" \
		"$seeds/archive" "$seeds/capture" "$seeds/text"
	[ -x "$SV_BUILD/tests/qemu/gen_qemu" ] && "$SV_BUILD/tests/qemu/gen_qemu" --all "$seeds/qemu" >/dev/null &&
		find "$seeds/qemu" -size +64k -delete
	if [ -n "$DATA" ]; then
		for f in "$DATA"/qemu/*.qemu.gz; do
			[ -f "$f" ] && gzip -dc "$f" >"$seeds/qemu/real-$(basename "$f" .gz)"
		done
	fi
	[ -x "$SV_BUILD/tests/xen/gen_xen" ] && "$SV_BUILD/tests/xen/gen_xen" --all "$seeds/xen" >/dev/null
	# gen_criu writes folders (valid, broken, v3...): flattened, as the
	# corpora take the files at the top of a seed folder only.
	if [ -x "$SV_BUILD/tests/criu/gen_criu" ] &&
		"$SV_BUILD/tests/criu/gen_criu" --all "$seeds/criu.tmp" >/dev/null; then
		find "$seeds/criu.tmp" -type f -size -64k ! -name 'manifest*' | while read -r f; do
			rel=${f#"$seeds/criu.tmp/"}
			cp "$f" "$seeds/criu/gen-${rel//\//-}"
		done
		rm -rf "$seeds/criu.tmp"
	fi
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
			pack_dir "$d" criu_dir >"$seeds/criu_dir/$name"
			pack_dir "$d" show >"$seeds/show/$name"
		done
	fi
	# The generated dumps: a consistent multi-process dump, a pre-dump and an
	# incremental one on it (its broken variants differ in one file each).
	if [ -x "$SV_BUILD/tests/criu-dump/gen_criu_dump" ] &&
		"$SV_BUILD/tests/criu-dump/gen_criu_dump" "$seeds/dumps.tmp" >/dev/null 2>&1; then
		for name in good pre incr; do
			[ -d "$seeds/dumps.tmp/$name" ] || continue
			pack_dir "$seeds/dumps.tmp/$name/" criu_dir >"$seeds/criu_dir/gen-$name"
			pack_dir "$seeds/dumps.tmp/$name/" show >"$seeds/show/gen-$name"
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
	# Image-streamer captures of a real dump (73 KiB), and of the generated
	# multi-process dump (32 KiB: twice as fast, and more kinds of image),
	# each valid and with every capture rule broken; a capture cut into 64
	# markers.
	if [ -x "$SV_BUILD/tests/criu-stream/gen_stream" ]; then
		[ -n "$DATA" ] && "$SV_BUILD/tests/criu-stream/gen_stream" --all "$DATA/criu-real/sleep" \
			"$seeds/capture.tmp" >/dev/null 2>&1
		find "$seeds/capture.tmp" -type f -name '*.capture' -size -256k \
			-exec cp {} "$seeds/capture/" \; 2>/dev/null
		rm -rf "$seeds/capture.tmp"
		[ -d "$seeds/dumps.tmp/good" ] && "$SV_BUILD/tests/criu-stream/gen_stream" --all \
			"$seeds/dumps.tmp/good" "$seeds/capture.tmp" >/dev/null 2>&1
		for f in "$seeds"/capture.tmp/*/*.capture; do
			[ -f "$f" ] && cp "$f" "$seeds/capture/gen-$(basename "$(dirname "$f")")-$(basename "$f")"
		done
		"$SV_BUILD/tests/criu-stream/gen_stream" --markers 64 "$seeds/capture/gen-markers-64.capture" \
			>/dev/null 2>&1
		rm -rf "$seeds/capture.tmp"
	fi
	# The JSON of the generated images (the real ones' is above), for the
	# encoder, and the text view of every small image, for the text encoder.
	for f in "$seeds"/criu/*; do
		[ -f "$f" ] && [ ! -f "$seeds/json/$(basename "$f").json" ] || continue
		"$SV_BUILD/streamverify" decode -i "$f" -o "$seeds/json/$(basename "$f").json" \
			>/dev/null 2>&1 || rm -f "$seeds/json/$(basename "$f").json"
	done
	for f in "$seeds"/criu/*.img; do
		[ -f "$f" ] || continue
		"$SV_BUILD/streamverify" decode --text -i "$f" -o "$seeds/text/$(basename "$f").txt" \
			>/dev/null 2>&1 || rm -f "$seeds/text/$(basename "$f").txt"
	done
	find "$seeds" -name '*.manifest' -delete 2>/dev/null
	rm -rf "$seeds/dumps.tmp"
	return 0
}

# Config files and baselines for fuzz_cli_files: hand-written rules (good
# and refused ones), baselines --write-baseline writes for broken fixtures,
# and findings named as check_key cuts them ({code, input NUL file NUL type}).
make_cli_seeds() {
	local d="$seeds/cli" codes f i=0
	[ -d "$d" ] && return
	mkdir -p "$d"
	mapfile -t codes < <("$SV_BUILD/streamverify" --list-codes 2>/dev/null | awk '{print $1}')
	[ "${#codes[@]}" -gt 3 ] || return 0
	printf '# rules\nseverity %s=warning\nseverity *=error\n\tseverity %s.*=ignore \r\n' \
		"${codes[10]}" "${codes[20]%%.*}" >"$d/config-rules"
	printf 'severity %s=note\nseverity %s=ignore\n' "${codes[0]}" "${codes[30]}" >"$d/config-fixed"
	printf 'severity nothing=error\nlevel x\n' >"$d/config-bad"
	for f in "$seeds"/xen/*broken* "$seeds"/criu/gen-broken* "$seeds"/capture/*; do
		[ -f "$f" ] && [ "$i" -lt 12 ] || continue
		"$SV_BUILD/streamverify" --write-baseline "$d/baseline-$i" "$f" >/dev/null 2>&1
		[ -s "$d/baseline-$i" ] || rm -f "$d/baseline-$i"
		i=$((i + 1))
	done
	printf '\x05fuzz-input\0fuzz-input/core-1.img\0PAGE_DATA' >"$d/key-member"
	printf '\x40/tmp/d\0/tmp/d/x\x1b[2J\nFAKE\0' >"$d/key-hostile"
}

# The names fuzz_criu_dir.c and fuzz_show.c select from, in their order
# (each target has its own list: read from its source).
names_of() {
	sed -n '/file_names\[\] = {/,/};/p' "$here/fuzz_$1.c" | grep -o '"[^"]*"' | tr -d '"'
}
mapfile -t criu_dir_names < <(names_of criu_dir)
mapfile -t show_names < <(names_of show)

# A dump as an input of fuzz_criu_dir or fuzz_show (TARGET): { selector,
# u16le length, bytes } per file (first 4 KiB of each), its pid-named files
# mapped onto pid 1.
pack_dir() {
	local d=$1 f base sel i n hdr
	local -n names=$2_names
	for f in "$d"*; do
		[ -f "$f" ] || continue
		base=${f##*/}
		[[ $base =~ ^(core|ids|mm|pagemap|fs)-[0-9]+\.img$ ]] && base=${BASH_REMATCH[1]}-1.img
		sel=-1
		for i in "${!names[@]}"; do [ "${names[$i]}" = "$base" ] && sel=$i; done
		[ "$sel" -ge 0 ] || continue
		n=$(stat -c %s "$f"); [ "$n" -gt 4096 ] && n=4096
		printf -v hdr '\\x%02x\\x%02x\\x%02x' "$sel" $((n & 255)) $((n >> 8))
		printf "$hdr"
		head -c "$n" "$f"
	done
}

seed_dirs_for() {
	case $1 in
	fuzz_libxc|fuzz_libxl|fuzz_xl|fuzz_libxc_legacy) echo "$seeds/xen" ;;
	fuzz_criu) echo "$seeds/criu" ;;
	fuzz_criu_dir) echo "$seeds/criu_dir" ;;
	fuzz_show) echo "$seeds/show" ;;
	fuzz_tee) echo "$seeds/xen $seeds/criu $seeds/qemu $seeds/capture" ;;
	fuzz_cli_files) echo "$seeds/cli" ;;
	fuzz_encode) echo "$seeds/json" ;;
	fuzz_qemu) echo "$seeds/qemu" ;;
	fuzz_container) echo "$seeds/archive" ;;
	fuzz_criu_stream) echo "$seeds/capture" ;;
	fuzz_text) echo "$seeds/text" ;;
	fuzz_auto) echo "$seeds/xen $seeds/criu $seeds/qemu $seeds/archive $seeds/capture" ;;
	esac
}

dict_for() {
	local t=${1#fuzz_}
	case $t in criu_dir | show) t=criu ;; encode) t=json ;; tee) t=auto ;; *_*) t=${t//_/-} ;; esac
	[ -f "$here/dict/$t.dict" ] && echo "-dict=$here/dict/$t.dict"
}

# fuzz_tee takes inputs under 64 KiB: the stream of a smaller regular file
# gets a 64 KiB buffer, which ASan serves from its size classes, where a
# bigger one is an mmap and munmap per input (most of an execution).
max_len_for() {
	case $1 in fuzz_tee) echo "-max_len=65535" ;; esac
}
seed_size_for() {
	case $1 in fuzz_tee) echo "-64k" ;; *) echo "-1024k" ;; esac
}

# ASan keeps freed memory in quarantine (256 MiB by default), which alone
# would cross the 256 MiB RSS limit; a small quarantine still finds
# use-after-free in the short lives of our buffers.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16:detect_leaks=1}

# FUZZ_RSS_MB: the RSS limit (ASan's shadow and quarantine count in it);
# one allocation above 256 MiB is a finding whatever it is.
rss_mb=${FUZZ_RSS_MB:-256}

make_seeds
make_cli_seeds
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
			find "$s" -maxdepth 1 -type f -size "$(seed_size_for "$t")" -exec cp {} "$corpus/" \; 2>/dev/null
		done
	fi
	# shellcheck disable=SC2046
	"$bin" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb="$rss_mb" -malloc_limit_mb=256 -timeout=5 \
		-print_final_stats=1 \
		-artifact_prefix="$findings/" $(dict_for "$t") $(max_len_for "$t") "$corpus" >"$log" 2>&1
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
