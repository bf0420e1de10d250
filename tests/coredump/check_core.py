#!/usr/bin/env python3
"""Check one core file written by `streamverify coredump` against the dump.

check_core.py SV DUMPDIR PID CORE

An implementation of its own of what the core must hold, from the images
decoded to JSON by SV: the ELF header, one PT_LOAD per VMA of mm-PID.img
(start, size, protection), per thread an NT_PRSTATUS with the thread's pid
and every general register of core-TID.img, NT_FPREGSET, NT_X86_XSTATE,
NT_SIGINFO, and NT_PRPSINFO, NT_AUXV (mm_saved_auxv), NT_FILE; and every
dumped page (PE_PRESENT here, PE_PARENT through the parent links) byte for
byte at its address, pages not dumped of a VMA with contents as zeros.
Prints what it checked; exits 1 on the first difference.
"""
import json
import os
import shutil
import struct
import subprocess
import sys

SV, DUMP, PID, CORE = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
PAGE = 4096
REGS = ["r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx",
        "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss", "fs_base", "gs_base", "ds",
        "es", "fs", "gs"]


def die(msg):
    print("FAIL: %s pid %d: %s" % (DUMP, PID, msg))
    sys.exit(1)


def decode(path):
    out = subprocess.run([SV, "decode", "-i", path], capture_output=True, check=True)
    return json.loads(out.stdout)["entries"]


core = open(CORE, "rb").read()
if core[:4] != b"\x7fELF" or core[4] != 2 or core[5] != 1:
    die("not a 64-bit little-endian ELF file")
e_type, e_machine = struct.unpack_from("<HH", core, 16)
e_phoff, = struct.unpack_from("<Q", core, 32)
e_phentsize, e_phnum = struct.unpack_from("<HH", core, 54)
if e_type != 4 or e_machine != 62:
    die("type %d machine %d, not ET_CORE EM_X86_64" % (e_type, e_machine))
phdrs = [struct.unpack_from("<IIQQQQQQ", core, e_phoff + i * e_phentsize) for i in range(e_phnum)]
notes_ph = [p for p in phdrs if p[0] == 4]
loads = [p for p in phdrs if p[0] == 1]
if len(notes_ph) != 1:
    die("%d PT_NOTE segments" % len(notes_ph))

mm = decode(os.path.join(DUMP, "mm-%d.img" % PID))[0]
vmas = mm["vmas"]
if len(loads) != len(vmas):
    die("%d PT_LOAD segments for %d VMAs" % (len(loads), len(vmas)))
for p, v in zip(loads, vmas):
    _, flags, off, vaddr, _, filesz, memsz, _ = p
    want = (4 if v["prot"] & 1 else 0) | (2 if v["prot"] & 2 else 0) | (1 if v["prot"] & 4 else 0)
    if vaddr != v["start"] or memsz != v["end"] - v["start"] or flags != want:
        die("PT_LOAD at 0x%x (0x%x bytes, flags %d) for the VMA 0x%x-0x%x prot %d" %
            (vaddr, memsz, flags, v["start"], v["end"], v["prot"]))
    if filesz not in (0, memsz) or off + filesz > len(core):
        die("PT_LOAD at 0x%x: file size 0x%x at 0x%x in a file of 0x%x" % (vaddr, filesz, off, len(core)))

# Notes.
_, _, noff, _, _, nsz, _, _ = notes_ph[0]
notes = []
pos = noff
while pos < noff + nsz:
    namesz, descsz, ntype = struct.unpack_from("<III", core, pos)
    name = core[pos + 12:pos + 12 + namesz].rstrip(b"\0").decode()
    dpos = pos + 12 + (namesz + 3) // 4 * 4
    notes.append((name, ntype, core[dpos:dpos + descsz]))
    pos = dpos + (descsz + 3) // 4 * 4
kinds = [n[1] for n in notes]

pstree = decode(os.path.join(DUMP, "pstree.img"))
task = [t for t in pstree if t["pid"] == PID][0]
threads = task.get("threads", [])
prstatus = [n for n in notes if n[1] == 1]
if len(prstatus) != len(threads):
    die("%d NT_PRSTATUS for %d threads" % (len(prstatus), len(threads)))
for tid, (name, _, desc) in zip(threads, prstatus):
    if name != "CORE" or len(desc) != 336:
        die("NT_PRSTATUS of %d: owner %s, %d bytes" % (tid, name, len(desc)))
    pr_pid, pr_ppid, pr_pgrp, pr_sid = struct.unpack_from("<iiii", desc, 32)
    if (pr_pid, pr_ppid, pr_pgrp, pr_sid) != (tid, task["ppid"], task["pgid"], task["sid"]):
        die("NT_PRSTATUS ids %r for thread %d" % ((pr_pid, pr_ppid, pr_pgrp, pr_sid), tid))
    regs = struct.unpack_from("<27Q", desc, 112)
    gp = decode(os.path.join(DUMP, "core-%d.img" % tid))[0]["thread_info"]["gpregs"]
    for i, r in enumerate(REGS):
        if regs[i] != gp[r]:
            die("thread %d: register %s is 0x%x in the core, 0x%x in the image" % (tid, r, regs[i], gp[r]))
for kind, what, count in ((2, "NT_FPREGSET", len(threads)), (0x202, "NT_X86_XSTATE", len(threads)),
                          (0x53494749, "NT_SIGINFO", len(threads)), (3, "NT_PRPSINFO", 1),
                          (6, "NT_AUXV", 1), (0x46494c45, "NT_FILE", 1)):
    if kinds.count(kind) != count:
        die("%d %s notes, expected %d" % (kinds.count(kind), what, count))
auxv = [n for n in notes if n[1] == 6][0][2]
if list(struct.unpack("<%dQ" % (len(auxv) // 8), auxv)) != mm.get("mm_saved_auxv", []):
    die("NT_AUXV differs from mm_saved_auxv")
psinfo = [n for n in notes if n[1] == 3][0][2]
fname = psinfo[40:56].rstrip(b"\0").decode()
comm = decode(os.path.join(DUMP, "core-%d.img" % PID))[0]["tc"]["comm"]
if fname != comm[:15]:
    die("NT_PRPSINFO pr_fname %r, comm %r" % (fname, comm))


# Memory: the pagemap chain, resolved here on its own.
def level(d):
    pm = decode(os.path.join(d, "pagemap-%d.img" % PID))
    ents, page = [], 0
    for e in pm[1:]:
        flags = e.get("flags", 1 if e.get("in_parent") else 4)
        ents.append((e["vaddr"], e["nr_pages"], flags, page))
        if flags & 4:
            page += e["nr_pages"]
    return ents, os.path.join(d, "pages-%d.img" % pm[0]["pages_id"])


def page_at(d, addr):
    ents, pages = level(d) if d not in cache else cache[d]
    cache[d] = (ents, pages)
    for vaddr, n, flags, page in ents:
        if vaddr <= addr < vaddr + n * PAGE:
            if flags & 4:
                with open(pages, "rb") as f:
                    f.seek((page + (addr - vaddr) // PAGE) * PAGE)
                    return f.read(PAGE)
            if flags & 1:
                return page_at(os.path.join(d, "parent"), addr)
            return None
    return None


cache = {}
checked = zeros = 0
for p, v in zip(loads, vmas):
    _, _, off, vaddr, _, filesz, memsz, _ = p
    if not filesz:
        continue
    for a in range(v["start"], v["end"], PAGE):
        want = page_at(DUMP, a)
        got = core[off + a - vaddr:off + a - vaddr + PAGE]
        if want is None:
            want = b"\0" * PAGE
            zeros += 1
        if got != want:
            die("the page at 0x%x differs from the dump's" % a)
        checked += 1
dumped = sum(1 for p, v in zip(loads, vmas) for a in range(v["start"], v["end"], PAGE)
             if p[5] == 0 and page_at(DUMP, a) is not None)
if dumped:
    die("%d dumped pages lie in VMAs the core leaves out" % dumped)
# gdb, where installed: the registers of every thread and the memory at
# the leader's stack pointer, as gdb reads them from the core alone.
via_gdb = "no gdb"
if shutil.which("gdb"):
    cmd = ["gdb", "-batch", "-nx", "-c", CORE, "-ex", "thread apply all -ascending info registers rip rsp",
           "-ex", "thread 1", "-ex", "x/2gx $rsp"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    rips = [int(l.split()[1], 16) for l in out.splitlines() if l.startswith("rip ")]
    rsps = [int(l.split()[1], 16) for l in out.splitlines() if l.startswith("rsp ")]
    want_rip, want_rsp = [], []
    for tid in threads:
        gp = decode(os.path.join(DUMP, "core-%d.img" % tid))[0]["thread_info"]["gpregs"]
        want_rip.append(gp["ip"])
        want_rsp.append(gp["sp"])
    if sorted(rips) != sorted(want_rip) or sorted(rsps) != sorted(want_rsp):
        die("gdb reads rip %s rsp %s, the images say %s %s" %
            ([hex(x) for x in rips], [hex(x) for x in rsps], [hex(x) for x in want_rip],
             [hex(x) for x in want_rsp]))
    words = [l for l in out.splitlines() if l.startswith("0x") and ":" in l]
    sp = want_rsp[0]
    page = page_at(DUMP, sp - sp % PAGE) or b"\0" * PAGE
    if sp % PAGE + 16 <= PAGE:
        want = struct.unpack_from("<QQ", page, sp % PAGE)
        if not words or [int(w, 16) for w in words[0].split(":")[1].split()] != list(want):
            die("gdb reads %r at rsp, the pages hold 0x%x 0x%x" % (words[:1], want[0], want[1]))
    via_gdb = "gdb agrees on %d threads' rip/rsp and the stack words" % len(rips)
print("ok %s pid %d: %d segments, %d threads, %d notes, %d pages compared (%d not dumped, zero); %s" %
      (os.path.basename(DUMP), PID, len(loads), len(threads), len(notes), checked, zeros, via_gdb))
