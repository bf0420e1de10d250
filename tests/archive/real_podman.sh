#!/bin/bash
# A real checkpoint archive made here by podman and criu, verified from a
# file and from a pipe: it must be valid.  Needs root, podman, criu and a
# local busybox image (no image is pulled: the network is not ours to use);
# otherwise SKIP.  The committed tests/data/podman/c1.tar.zst was made the
# same way (see tests/data/README.md).
set -u
: "${SV:?}" "${SV_TEST_BUILD:?}"
skip() { echo "SKIP: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root"
command -v podman >/dev/null 2>&1 || skip "podman is not installed"
command -v criu >/dev/null 2>&1 || skip "criu is not installed"
podman image exists busybox 2>/dev/null || skip "no local busybox image"
work=$SV_TEST_BUILD/real-podman
rm -rf "$work" && mkdir -p "$work"
name=sv-test-$$
trap 'podman rm -f "$name" >/dev/null 2>&1' EXIT
podman run -d --name "$name" --network none busybox sh -c 'while :; do sleep 1; done' >/dev/null ||
	skip "podman cannot run a container here"
podman container checkpoint --leave-running --export="$work/ckpt.tar.zst" "$name" >/dev/null 2>&1 ||
	skip "podman cannot checkpoint here (criu or kernel)"
fail=0
"$SV" -q "$work/ckpt.tar.zst" || { echo "FAIL: a real podman checkpoint is not valid"; fail=1; }
"$SV" -q - <"$work/ckpt.tar.zst" || { echo "FAIL: the same from a pipe"; fail=1; }
[ $fail -eq 0 ] && echo "real podman checkpoint: valid from a file and a pipe"
exit $fail
