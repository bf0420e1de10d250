#!/usr/bin/env python3
"""crit_compare.py ps|fds|mems CRIT_OUTPUT SHOW_JSON: compare `crit x DIR WHAT`
with `streamverify show --all --format json DIR`; prints each disagreement
(nothing when they agree)."""
import json
import re
import sys

what, crit_out, show_json = sys.argv[1:4]
lines = open(crit_out, encoding="utf-8", errors="surrogateescape").read().splitlines()
procs = {p["pid"]: p for p in json.load(open(show_json))["processes"]}
bad = []


def blocks():
    """crit's per-process blocks: a line with the pid, then tab-indented lines."""
    pid = None
    for ln in lines:
        if re.fullmatch(r"\d+", ln.strip()) and not ln.startswith("\t"):
            pid = int(ln)
            yield pid, None
        elif pid is not None:
            yield pid, ln.strip("\t")


if what == "ps":
    seen = set()
    for ln in lines[1:]:
        f = ln.split()
        pid, pgid, sid, comm = int(f[0]), int(f[1]), int(f[2]), " ".join(f[3:])
        seen.add(pid)
        p = procs.get(pid)
        if not p:
            bad.append(f"pid {pid} missing")
        elif (p["pgid"], p["sid"], p["comm"]) != (pgid, sid, comm):
            bad.append(f"pid {pid}: {(p['pgid'], p['sid'], p['comm'])} vs crit {(pgid, sid, comm)}")
    if seen != set(procs):
        bad.append(f"pids {sorted(set(procs) - seen)} not in crit")
elif what == "fds":
    checked = 0
    for pid, ln in blocks():
        if ln is None:
            continue
        key, _, target = ln.strip().partition(": ")
        p = procs.get(pid)
        if p is None:
            bad.append(f"pid {pid} missing")
            continue
        if key in ("cwd", "root"):
            if p[key] != target:
                bad.append(f"{pid} {key}: {p[key]!r} vs crit {target!r}")
            continue
        fd = int(key)
        ours = [f for f in p["fds"] if f["fd"] == fd]
        if len(ours) != 1:
            bad.append(f"{pid} fd {fd} missing")
            continue
        file = ours[0]["file"]
        m = re.fullmatch(r"pipe\[(\d+)\]", target)
        if target.startswith("/"):
            checked += 1
            if file["kind"] != "file" or file["path"] != target:
                bad.append(f"{pid} fd {fd}: {file['target']!r} vs crit {target!r}")
        elif m:
            checked += 1
            if file["kind"] != "pipe" or file["pipe_id"] != int(m.group(1)):
                bad.append(f"{pid} fd {fd}: {file['target']!r} vs crit {target!r}")
        else:
            # sockets, FIFOs, eventfds...: crit names only the kind and id
            kind = re.match(r"[A-Za-z]+", target)
            if kind and kind.group(0).lower() not in ("unix", "inetsk", "packetsk", "netlinksk",
                                                      "fifo", "eventfd", "eventpoll", "inotify",
                                                      "fanotify", "signalfd", "timerfd", "memfd",
                                                      "tty", "ns", "ext"):
                bad.append(f"{pid} fd {fd}: crit {target!r} not understood")
    if not checked and procs and any(p["fds"] for p in procs.values()):
        bad.append("no fd compared")
elif what == "mems":
    vmas = {}
    for pid, ln in blocks():
        if ln is None:
            vmas[pid] = []
            continue
        if ln.startswith("exe"):
            exe = ln[3:].strip()
            if procs[pid]["exe"] != exe:
                bad.append(f"{pid} exe {procs[pid]['exe']!r} vs crit {exe!r}")
            continue
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+)\s+(\S*)\s*(.*)$", ln)
        if not m:
            bad.append(f"{pid}: crit line {ln!r} not understood")
            continue
        vmas[pid].append((int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4)))
    for pid, vs in vmas.items():
        ours = procs[pid].get("vmas", [])
        if [(v[0], v[1]) for v in vs] != [(v["start"], v["end"]) for v in ours]:
            bad.append(f"{pid}: VMA ranges differ")
            continue
        for c, o in zip(vs, ours):
            prot = c[2] if c[2] else "---"
            if prot != o["prot"][:3]:
                bad.append(f"{pid} {c[0]:x}: prot {o['prot']} vs crit {prot}")
            if c[3].startswith("/"):
                # crit marks shared file mappings with " (s)"
                path = c[3].split(" + 0x")[0].removesuffix(" (s)")
                if o["file"] != path:
                    bad.append(f"{pid} {c[0]:x}: file {o['file']!r} vs crit {path!r}")
else:
    sys.exit("ps, fds or mems")
for b in bad[:10]:
    print(b)
