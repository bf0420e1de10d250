#!/bin/bash
# Make the real QEMU streams of tests/data/qemu.  `make check` runs every
# tests/*/*.sh: there (SV_TEST_BUILD set, no argument) it only says SKIP, as
# the committed streams are what the tests read.  Needs qemu-system-x86_64 (Debian's
# qemu-system-x86); no network, no disk, no guest code: each VM is created
# stopped (-S) with a few devices and 16 MiB of RAM and migrated at once
# with `migrate "exec:cat > FILE"` through QMP on stdio, or saved with
# xen-save-devices-state (the device-only stream Xen's libxl embeds).
#
#   tests/qemu/make_real.sh [OUTDIR]      default tests/data/qemu
#
# Each stream is written gzip-compressed (NAME.qemu.gz); streamverify reads
# gzip transparently.
set -eu
if [ $# -eq 0 ] && [ -n "${SV_TEST_BUILD:-}" ]; then
	echo "SKIP: make_real.sh makes tests/data/qemu by hand (needs qemu-system-x86)"
	exit 0
fi
OUT=${1:-$(dirname "$0")/../data/qemu}
QEMU=${QEMU:-qemu-system-x86_64}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

# qmp_run FILE COMMAND-JSON QEMU-ARGS...: start QEMU stopped, run COMMAND
# (with FILE substituted for @FILE@), wait for the file to be complete, quit.
qmp_run() {
	local file=$1 cmd=${2//@FILE@/$1}
	shift 2
	{
		echo '{"execute":"qmp_capabilities"}'
		sleep 0.3
		echo "$cmd"
		for _ in $(seq 15); do
			sleep 0.1
			echo '{"execute":"query-migrate"}'
		done
		echo '{"execute":"quit"}'
	} | timeout 30 "$QEMU" -S -nodefaults -nographic -display none -m 16 \
		-qmp stdio "$@" > "$TMP/qmp.log" 2>&1 || true
	[ -s "$file" ] || { echo "make_real: $file not written" >&2; cat "$TMP/qmp.log" >&2; exit 1; }
}

migrate() { # NAME QEMU-ARGS...
	local name=$1
	shift
	qmp_run "$TMP/$name.qemu" '{"execute":"migrate","arguments":{"uri":"exec:cat > @FILE@"}}' "$@"
	gzip -9n < "$TMP/$name.qemu" > "$OUT/$name.qemu.gz"
	echo "$name: $(stat -c %s "$TMP/$name.qemu") bytes"
}

devstate() { # NAME QEMU-ARGS...
	local name=$1
	shift
	qmp_run "$TMP/$name.qemu" '{"execute":"xen-save-devices-state","arguments":{"filename":"@FILE@","live":false}}' "$@"
	gzip -9n < "$TMP/$name.qemu" > "$OUT/$name.qemu.gz"
	echo "$name: $(stat -c %s "$TMP/$name.qemu") bytes"
}

# Devices without option ROMs keep the files small (ROMs are RAM pages).
migrate q35 -M q35 -smp 2 -device virtio-balloon-pci -device virtio-rng-pci \
	-device qemu-xhci -device usb-tablet -device virtio-serial-pci -device isa-serial
migrate microvm -M microvm -device virtio-balloon-device
# An old machine type: neither configuration nor section footers.
migrate pc-2.3 -M pc-i440fx-2.3
# Device state only, as `xen-save-devices-state` writes it for libxl; the
# second without footers, as under Xen's accelerator.
devstate devstate-pc -M pc -device virtio-balloon-pci
devstate devstate-xenlike -M pc -global migration.send-section-footer=off
"$QEMU" --version | head -1
