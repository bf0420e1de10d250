/*
 * ELF core files from a CRIU dump, as criu-coredump writes them:
 * `streamverify coredump DIR [-p PID] -o OUTDIR` writes OUTDIR/core.PID for
 * each process (x86_64 only), which gdb and readelf read like a kernel's
 * core file.
 *
 * Each file has a PT_NOTE segment (per thread NT_PRSTATUS, NT_FPREGSET,
 * NT_X86_XSTATE and NT_SIGINFO; once NT_PRPSINFO, NT_AUXV and NT_FILE)
 * and a PT_LOAD segment per VMA of mm-PID.img.  A VMA with dumped pages
 * carries its whole memory, the pages from pages-N.img (PE_PARENT ones
 * from the parent chain) and zeros for pages that were not dumped; a VMA
 * without any (file-backed text, vsyscall) is left out of the file
 * (p_filesz 0), as the kernel leaves out what the executable and the
 * libraries hold.  The dump must verify without errors first; the files
 * appear only when every one of them is written.
 */
#ifndef SV_CRIU_COREDUMP_H
#define SV_CRIU_COREDUMP_H

#include "module.h"

/* Run as a tool of the criu converter: parameters out (OUTDIR) and pid. */
extern const sv_format criu_coredump_tool;

#endif /* SV_CRIU_COREDUMP_H */
