#!/bin/bash
# make demo: generate small example inputs and verify a valid and a broken
# one of each format family, so a newcomer sees both outcomes.
set -u
: "${SV:?}" "${SV_BUILD:?}" "${DEMO_DIR:?}"
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR/xen" "$DEMO_DIR/criu"
"$SV_BUILD/tests/xen/gen_xen" --demo "$DEMO_DIR/xen" || exit 2
"$SV_BUILD/tests/criu/gen_criu" --demo "$DEMO_DIR/criu" || exit 2

run() {
	echo
	echo "\$ streamverify $*"
	"$SV" "$@"
	echo "(exit status $?)"
}

for f in "$DEMO_DIR"/xen/* "$DEMO_DIR"/criu/*; do
	run "${f#$PWD/}"
done
# A whole dump directory written by criu 3.17.1 (tests/data/criu-real).
if [ -d "${SV_DATA:?}/criu-real/shtree" ]; then
	run --format criu "$SV_DATA/criu-real/shtree"
fi
# A real QEMU 7.2 migration stream (gzip), and the same stream cut short.
q=$SV_DATA/qemu/q35.qemu.gz
if [ -f "$q" ]; then
	run "${q#$PWD/}"
	gzip -dc "$q" | head -c 20000 >"$DEMO_DIR/q35-cut.qemu"
	run "${DEMO_DIR#$PWD/}/q35-cut.qemu"
fi
# A real podman checkpoint archive (tar.zst), verified without extracting it.
p=$SV_DATA/podman/c1.tar.zst
[ -f "$p" ] && run "${p#$PWD/}"
echo
echo "Add -v for a per-record summary, --json for JSON Lines, --list-codes for every check;"
echo "streamverify show CHECKPOINT shows what a CRIU checkpoint holds."
