#!/bin/bash
# Differential test against QEMU's own stream reader, scripts/analyze-
# migration.py, when SV_ANALYZE_MIGRATION names a copy (take it from QEMU's
# source tree; it is never part of this repository): on the real streams of
# tests/data/qemu and on every fixture of gen_qemu, the verdicts must agree
# (streamverify exit 0 <=> the script exits 0), except where they differ by
# design, listed below with the reason.  Without the script: SKIP.
#
# Known disagreements (analyze-migration.py is a dump tool, not a verifier):
#  - It needs the VMDESCRIPTION and fails without it: streams of Xen
#    (device state), postcopy, old machines without vmdesc are valid here.
#  - It reads the CONFIGURATION with a description only when the vmdesc has
#    a "configuration" key (QEMU 8.2+); older vmdescs and our fixtures
#    (which carry a uuid or capabilities subsection) make it misread the
#    subsections as section type 5.
#  - It raises on XBZRLE pages, RDMA hooks and every COMMAND but
#    SWITCHOVER_START; it does not know libvirt's wrapper or the postcopy
#    hugepage size after a RAM block.
#  - It checks nothing semantic: page offsets, unknown blocks, zero-page
#    fill, MEM_SIZE totals, unknown section ids, footer ids of RAM parts,
#    mapped-ram alignment, vmdesc/device list agreement, versions.
#  Every fixture that hits one of these is listed in EXPECTED_DIFF with its
#  reason; any other disagreement fails the test.
set -u
: "${SV:?}" "${SV_BUILD:?}" "${SV_TEST_BUILD:?}" "${SV_DATA:?}"
REF=${SV_ANALYZE_MIGRATION:-}
if [ -z "$REF" ] || [ ! -f "$REF" ]; then
	echo "SKIP: SV_ANALYZE_MIGRATION does not name QEMU's scripts/analyze-migration.py"
	exit 0
fi
dir="$SV_TEST_BUILD/diff_ref"
rm -rf "$dir" && mkdir -p "$dir" || exit 1
"$SV_BUILD/tests/qemu/gen_qemu" --all "$dir" || { echo "FAIL: gen_qemu"; exit 1; }
for f in "$SV_DATA"/qemu/*.qemu.gz; do gzip -dc "$f" > "$dir/real-$(basename "$f" .gz)"; done

# name: reason (the verdicts differ by design); any other disagreement fails.
declare -A EXPECTED_DIFF=(
	[real-devstate-pc.qemu]="no vmdesc: the script cannot read device state without it"
	[real-devstate-xenlike.qemu]="no vmdesc"
	[valid-no-vmdesc.qemu]="no vmdesc"
	[valid-xen-devstate.qemu]="no vmdesc"
	[valid-postcopy.qemu]="no vmdesc after postcopy; the script refuses every COMMAND but SWITCHOVER_START"
	[valid-commands.qemu]="the script refuses every COMMAND but SWITCHOVER_START"
	[valid-xbzrle.qemu]="the script raises on XBZRLE pages"
	[valid-hugepage.qemu]="the script does not read the postcopy page size after a RAM block"
	[valid-libvirt.qemu]="the script does not know libvirt's header"
	[note-libvirt-compressed.qemu]="the script does not know libvirt's header"
	[valid-mapped-ram.qemu]="without a configuration description in the vmdesc the script reads no capabilities subsection"
	[note-config-unknown.qemu]="a configuration subsection the vmdesc does not describe"
	[warn-trailing.qemu]="the script finds the vmdesc by the last NUL octet: trailing octets hide it (QEMU's loader does not read past the vmdesc)"
	[warn-vmdesc-expected.qemu]="no vmdesc (QEMU's loader only warns)"
	[bad-after-end.qemu]="the script has no section state: PART after END"
	[bad-device-extra.qemu]="the script does not match the vmdesc against the sections"
	[bad-device-version.qemu]="the script does not compare versions"
	[bad-device-subsection.qemu]="the script does not compare subsection names with the description"
	[bad-ram-block.qemu]="the script does not know which blocks exist"
	[bad-ram-continue.qemu]="the script does not check CONTINUE against a named block"
	[bad-ram-offset.qemu]="the script does not check page offsets"
	[bad-ram-zero.qemu]="the script does not check the zero-page fill"
)
fixture_reason() { echo "${EXPECTED_DIFF[$1]:-}"; }

agree=0 differ=0 fail=0
for f in "$dir"/*.qemu; do
	b=$(basename "$f")
	"$SV" -q --format qemu "$f" >/dev/null 2>&1; sv=$?
	timeout 60 python3 "$REF" -f "$f" >/dev/null 2>&1; ref=$?
	svv=$([ $sv -eq 0 ] && echo valid || echo invalid)
	refv=$([ $ref -eq 0 ] && echo valid || echo invalid)
	if [ "$svv" = "$refv" ]; then
		agree=$((agree + 1))
	else
		reason=$(fixture_reason "$b")
		if [ -z "$reason" ]; then
			echo "FAIL: $b: streamverify $svv, analyze-migration.py $refv"
			fail=1
		else
			differ=$((differ + 1))
			echo "known: $b: streamverify $svv, analyze-migration.py $refv ($reason)"
		fi
	fi
done
echo "diff_ref: $agree agree, $differ differ by design"
exit $fail
