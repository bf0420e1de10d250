#!/bin/bash
# The README's Quick start stays true: every "$ command" of its code blocks
# is run (in a scratch directory, build/ pointing at this build) and its
# output compared with the lines the README shows under it.
. "$(dirname "$0")/cli_lib.bash"
REPO=$(cd "$HERE/../.." && pwd)
BIN=${SV:?}

mkdir -p "$W/qs/build" "$W/qs/tests/data"
ln -s "$BIN" "$W/qs/build/streamverify"
ln -s "$REPO/tests/data/criu-real" "$W/qs/tests/data/criu-real"
python3 - "$REPO/README.md" "$W/qs" <<'PY' >"$W/readme.log" 2>&1 && ok || { bad "Quick start differs from the README"; cat "$W/readme.log"; }
import re, subprocess, sys
text = open(sys.argv[1]).read()
section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
failures = 0
commands = 0
for block in re.findall(r"```\n(.*?)```", section, re.S):
    lines = block.split("\n")[:-1]
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            i += 1
            continue
        cmd = lines[i][2:]
        want = []
        i += 1
        while i < len(lines) and not lines[i].startswith("$ "):
            want.append(lines[i])
            i += 1
        if cmd.startswith("make"):
            continue  # the build is what runs this test
        cmd = re.sub(r"\s+#.*$", "", cmd)
        commands += 1
        got = subprocess.run(["bash", "-c", cmd], cwd=sys.argv[2], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "HOME": sys.argv[2],
                                  "XDG_CONFIG_HOME": sys.argv[2]}).stdout.rstrip("\n").split("\n")
        if got == [""]:
            got = []
        if got != want:
            failures += 1
            print("README Quick start: $ %s" % cmd)
            print("  README shows: %r" % want)
            print("  it prints:    %r" % got)
print("%d commands checked" % commands)
sys.exit(1 if failures or commands < 5 else 0)
PY
finish
