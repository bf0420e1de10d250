/*
 * ELF core files from a CRIU dump (coredump.h).
 *
 * The images are read with the image verifier and a visitor (each entry
 * unpacked by protobuf-c, copied out as far as needed), opened through the
 * member source of the dump; the parent chain through
 * sv_members_open_subdir.  The ELF header and program headers are written
 * by libelf (ELF_F_LAYOUT: the layout is ours); the notes and the memory
 * follow at the offsets laid out, memory copied page run by page run
 * through one buffer, pages not dumped left as holes (zeros).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/criu/convert/convert.h"
#include "formats/criu/convert/coredump.h"
#include "formats/criu/criu.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/schema/linux.h"
#include "formats/criu/schema/schema.h"

#define MAX_LEVELS 64           /* dumps in a parent chain */
#define COPY_BUF (1u << 16)
#define MAX_SEGMENTS 65000      /* PT_LOADs: e_phnum stays below PN_XNUM */
#define MAX_THREADS 65536
#define XSTATE_SIZE 2696        /* x87..PKRU, standard (non-compacted) layout */
#define XCR0_OFFSET 464         /* where gdb and the kernel keep XCR0 in the legacy area */

#define CODE(c) CRIT_CODE(c)

/* ---- reading images ------------------------------------------------------- */

typedef struct cd cd;

/*
 * Read the image name of m, handing each entry to fn.  1 when read
 * without errors, 0 when the image is missing, -1 after errors.
 */
static int load(sv_ctx *cx, sv_members *m, const char *name,
		int (*fn)(void *arg, const criu_entry *e), void *arg)
{
	char *disp;
	unsigned long errors = sv_error_count(cx);

	if (asprintf(&disp, "%s/%s", sv_members_path(m), name) < 0)
		return -1;
	sv_stream *s = sv_members_open_name(cx, m, name, disp);
	if (!s) {
		free(disp);
		return 0;
	}
	criu_visitor v = { arg, fn, NULL };
	const char *saved = sv_get_file(cx);
	sv_set_file(cx, disp);
	criu_verify_image(cx, s, name, &v, NULL);
	sv_set_file(cx, saved);
	sv_close(s);
	free(disp);
	return sv_error_count(cx) == errors ? 1 : -1;
}

/* ---- the process tree and the files ----------------------------------------- */

typedef struct task {
	uint32_t pid, ppid, pgid, sid;
	uint32_t *threads;
	size_t nthreads;
} task;

typedef struct reg_name {
	uint32_t id;
	char *name;
} reg_name;

struct cd {
	sv_ctx *cx;
	sv_members *m;
	const char *outdir;
	task *tasks;
	size_t ntasks;
	reg_name *files;
	size_t nfiles;
	size_t tasks_cap, files_cap;
	bool failed;
	bool oom;
};

static void *grow(cd *d, void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	size_t nc = *cap ? *cap * 2 : 16;
	void *np = nc < SIZE_MAX / size ? realloc(p, nc * size) : NULL;
	if (!np) {
		d->oom = true;
		return NULL;
	}
	*cap = nc;
	return np;
}

static int pstree_entry(void *arg, const criu_entry *e)
{
	cd *d = arg;
	const PstreeEntry *p = (const PstreeEntry *)e->msg;
	task *t;

	task *nt = grow(d, d->tasks, &d->tasks_cap, d->ntasks, sizeof(*t));
	if (!nt)
		return 1;
	d->tasks = nt;
	t = &d->tasks[d->ntasks];
	*t = (task){ p->pid, p->ppid, p->pgid, p->sid, NULL, 0 };
	if (p->n_threads > MAX_THREADS)
		return 1;
	t->threads = malloc((p->n_threads ? p->n_threads : 1) * sizeof(uint32_t));
	if (!t->threads) {
		d->oom = true;
		return 1;
	}
	if (p->n_threads)
		memcpy(t->threads, p->threads, p->n_threads * sizeof(uint32_t));
	t->nthreads = p->n_threads;
	d->ntasks++;
	return 0;
}

static int add_reg(cd *d, uint32_t id, const char *name)
{
	reg_name *nf = grow(d, d->files, &d->files_cap, d->nfiles, sizeof(*nf));
	if (!nf)
		return 1;
	d->files = nf;
	d->files[d->nfiles].id = id;
	if (!(d->files[d->nfiles].name = strdup(name))) {
		d->oom = true;
		return 1;
	}
	d->nfiles++;
	return 0;
}

static int files_entry(void *arg, const criu_entry *e)
{
	const FileEntry *f = (const FileEntry *)e->msg;

	if (f->type != FD_TYPES__REG || !f->reg)
		return 0;
	return add_reg(arg, f->id, f->reg->name);
}

static int reg_files_entry(void *arg, const criu_entry *e)
{
	const RegFileEntry *r = (const RegFileEntry *)e->msg;
	return add_reg(arg, r->id, r->name);
}

static const char *file_name(const cd *d, uint64_t id)
{
	for (size_t i = 0; i < d->nfiles; i++)
		if (d->files[i].id == id)
			return d->files[i].name;
	return NULL;
}

/* ---- one thread's core image ------------------------------------------------- */

typedef struct thread {
	uint32_t tid;
	UserX86RegsEntry regs;
	bool compat;
	struct user_fpregs_struct fp;
	unsigned char xstate[XSTATE_SIZE];
	bool has_xstate;
	uint64_t sigblocked;
	/* The leader's task-wide state. */
	bool has_tc;
	uint32_t task_state, flags, uid, gid;
	char comm[16];
} thread;

typedef struct core_read {
	cd *d;
	thread *t;
	bool arch_ok;
	int mtype;
} core_read;

static void copy_u32s(void *dst, size_t cap_bytes, const uint32_t *src, size_t n)
{
	size_t k = n * 4 < cap_bytes ? n * 4 : cap_bytes;
	if (k)
		memcpy(dst, src, k);
}

static void copy_u64s(void *dst, size_t cap_bytes, const uint64_t *src, size_t n)
{
	size_t k = n * 8 < cap_bytes ? n * 8 : cap_bytes;
	if (k)
		memcpy(dst, src, k);
}

/* The XSAVE area (legacy part, header, extended parts), as NT_X86_XSTATE carries it. */
static void build_xstate(thread *t, const UserX86FpregsEntry *f)
{
	const UserX86XsaveEntry *x = f->xsave;
	unsigned char *a = t->xstate;
	uint64_t xcr0 = 0x3;

	memset(a, 0, sizeof(t->xstate));
	memcpy(a, &t->fp, sizeof(t->fp));
	if (x->n_ymmh_space)
		xcr0 |= 0x4;
	if (x->n_bndreg_state || x->n_bndcsr_state || x->n_opmask_reg || x->n_zmm_upper ||
	    x->n_hi16_zmm || x->n_pkru)
		xcr0 = 0x2ff; /* the full Intel layout of XSTATE_SIZE bytes that gdb knows */
	memcpy(a + XCR0_OFFSET, &xcr0, 8);
	memcpy(a + 512, &x->xstate_bv, 8);
	copy_u32s(a + 576, 256, x->ymmh_space, x->n_ymmh_space);
	copy_u64s(a + 960, 64, x->bndreg_state, x->n_bndreg_state);
	copy_u64s(a + 1024, 64, x->bndcsr_state, x->n_bndcsr_state);
	copy_u64s(a + 1088, 64, x->opmask_reg, x->n_opmask_reg);
	copy_u64s(a + 1152, 512, x->zmm_upper, x->n_zmm_upper);
	copy_u64s(a + 1664, 1024, x->hi16_zmm, x->n_hi16_zmm);
	copy_u32s(a + 2688, 8, x->pkru, x->n_pkru);
	t->has_xstate = true;
}

static int core_entry(void *arg, const criu_entry *e)
{
	core_read *r = arg;
	const CoreEntry *c = (const CoreEntry *)e->msg;
	thread *t = r->t;

	r->mtype = c->mtype;
	if (c->mtype != CORE_ENTRY__MARCH__X86_64 || !c->thread_info)
		return 0;
	r->arch_ok = true;
	const ThreadInfoX86 *ti = c->thread_info;
	t->regs = *ti->gpregs;
	t->compat = ti->gpregs->has_mode && ti->gpregs->mode == USER_X86_REGS_MODE__COMPAT;
	const UserX86FpregsEntry *f = ti->fpregs;
	memset(&t->fp, 0, sizeof(t->fp));
	t->fp.cwd = (unsigned short)f->cwd;
	t->fp.swd = (unsigned short)f->swd;
	t->fp.ftw = (unsigned short)f->twd;
	t->fp.fop = (unsigned short)f->fop;
	t->fp.rip = f->rip;
	t->fp.rdp = f->rdp;
	t->fp.mxcsr = f->mxcsr;
	t->fp.mxcr_mask = f->mxcsr_mask;
	copy_u32s(t->fp.st_space, sizeof(t->fp.st_space), f->st_space, f->n_st_space);
	copy_u32s(t->fp.xmm_space, sizeof(t->fp.xmm_space), f->xmm_space, f->n_xmm_space);
	if (f->xsave)
		build_xstate(t, f);
	if (c->thread_core) {
		const ThreadCoreEntry *th = c->thread_core;
		if (th->has_blk_sigset)
			t->sigblocked = th->blk_sigset;
		if (th->creds) {
			t->uid = th->creds->uid;
			t->gid = th->creds->gid;
		}
	}
	if (c->tc) {
		t->has_tc = true;
		t->task_state = c->tc->task_state;
		t->flags = c->tc->flags;
		if (!(c->thread_core && c->thread_core->has_blk_sigset))
			t->sigblocked = c->tc->blk_sigset;
		snprintf(t->comm, sizeof(t->comm), "%s", c->tc->comm);
	}
	return 0;
}

/* ---- mm: VMAs, auxv, arguments ----------------------------------------------------- */

typedef struct vma {
	uint64_t start, end, pgoff, shmid;
	uint32_t prot, status;
	uint64_t filesz, offset;
} vma;

typedef struct mm {
	cd *d;
	vma *vmas;
	size_t nvmas;
	uint64_t *auxv;
	size_t nauxv;
	uint64_t arg_start, arg_end;
	bool seen;
} mm;

static int mm_entry(void *arg, const criu_entry *e)
{
	mm *m = arg;
	const MmEntry *me = (const MmEntry *)e->msg;

	m->seen = true;
	m->arg_start = me->mm_arg_start;
	m->arg_end = me->mm_arg_end;
	if (me->n_vmas > MAX_SEGMENTS) {
		sv_report(m->d->cx, CODE(CC_INPUT), e->offset, "%zu VMAs: more than the %d segments "
			  "a core file here may have", me->n_vmas, MAX_SEGMENTS);
		return 1;
	}
	m->vmas = calloc(me->n_vmas ? me->n_vmas : 1, sizeof(*m->vmas));
	m->auxv = malloc((me->n_mm_saved_auxv ? me->n_mm_saved_auxv : 1) * sizeof(uint64_t));
	if (!m->vmas || !m->auxv) {
		m->d->oom = true;
		return 1;
	}
	for (size_t i = 0; i < me->n_vmas; i++) {
		const VmaEntry *v = me->vmas[i];
		m->vmas[i] = (vma){ v->start, v->end, v->pgoff, v->shmid, v->prot, v->status, 0, 0 };
	}
	m->nvmas = me->n_vmas;
	if (me->n_mm_saved_auxv)
		memcpy(m->auxv, me->mm_saved_auxv, me->n_mm_saved_auxv * sizeof(uint64_t));
	m->nauxv = me->n_mm_saved_auxv;
	return 0;
}

/* ---- memory: pagemaps and pages through the parent chain ----------------------------- */

typedef struct pm_ent {
	uint64_t vaddr, npages, page; /* page: index in the pages file (CRIU_PE_PRESENT) */
	unsigned flags;
} pm_ent;

typedef struct level {
	sv_members *m;       /* this dump (level 0: the dump itself) */
	bool owned;
	pm_ent *e;
	size_t n, cap;
	uint64_t next_page;
	char pages[64];      /* pages-N.img */
	char *pages_disp;
	sv_stream *s;        /* the pages file, read forward */
	uint64_t pos;
} level;

typedef struct memsrc {
	cd *d;
	uint32_t pid;
	level lv[MAX_LEVELS];
	size_t nlv;          /* levels loaded */
	bool chain_end;      /* no further parent */
	unsigned char *buf;
	bool failed;
} memsrc;

static int pagemap_entry(void *arg, const criu_entry *e)
{
	level *l = ((void **)arg)[0];
	cd *d = ((void **)arg)[1];

	if (e->role == CRIU_ENTRY_PAGEMAP_HEAD) {
		snprintf(l->pages, sizeof(l->pages), "pages-%" PRIu32 ".img",
			 ((const PagemapHead *)e->msg)->pages_id);
		return 0;
	}
	const PagemapEntry *p = (const PagemapEntry *)e->msg;
	unsigned flags = criu_pagemap_flags(p);
	pm_ent *ne = grow(d, l->e, &l->cap, l->n, sizeof(*ne));
	if (!ne)
		return 1;
	l->e = ne;
	uint64_t npages = criu_pagemap_pages(p);
	l->e[l->n++] = (pm_ent){ p->vaddr, npages, l->next_page, flags };
	if (flags & CRIU_PE_PRESENT)
		l->next_page += npages;
	return 0;
}

/* Load level i of the chain (its pagemap); false when there is none. */
static bool level_load(memsrc *ms, size_t i)
{
	cd *d = ms->d;
	char name[64];

	if (i < ms->nlv)
		return true;
	if (ms->chain_end || i >= MAX_LEVELS || ms->failed)
		return false;
	level *l = &ms->lv[i];
	memset(l, 0, sizeof(*l));
	if (i == 0) {
		l->m = d->m;
	} else {
		l->m = sv_members_open_subdir(d->cx, ms->lv[i - 1].m, "parent");
		if (!l->m) {
			ms->chain_end = true;
			return false;
		}
		l->owned = true;
	}
	ms->nlv = i + 1;
	snprintf(name, sizeof(name), "pagemap-%" PRIu32 ".img", ms->pid);
	void *arg[2] = { l, d };
	int r = load(d->cx, l->m, name, pagemap_entry, arg);
	if (r < 0 || d->oom)
		ms->failed = true;
	return r > 0 && !d->oom;
}

static void memsrc_free(memsrc *ms)
{
	for (size_t i = 0; i < ms->nlv; i++) {
		level *l = &ms->lv[i];
		sv_close(l->s);
		free(l->pages_disp);
		free(l->e);
		if (l->owned)
			sv_members_close(l->m);
	}
	free(ms->buf);
}

typedef bool (*mem_sink)(void *arg, uint64_t addr, const unsigned char *p, size_t n);

/* Copy n bytes of level l's pages file from byte offset off to sink, as memory at addr. */
static bool copy_pages(memsrc *ms, level *l, uint64_t off, uint64_t n, uint64_t addr,
		       mem_sink sink, void *arg)
{
	cd *d = ms->d;

	if (!l->s || off < l->pos) {
		sv_close(l->s);
		free(l->pages_disp);
		l->pages_disp = NULL;
		l->pos = 0;
		if (asprintf(&l->pages_disp, "%s/%s", sv_members_path(l->m), l->pages) < 0)
			return false;
		l->s = sv_members_open_name(d->cx, l->m, l->pages, l->pages_disp);
		if (!l->s) {
			sv_report(d->cx, CODE(CC_INPUT), SV_NONE, "%s cannot be opened", l->pages_disp);
			return false;
		}
	}
	if (sv_skip(l->s, off - l->pos) != off - l->pos)
		goto short_file;
	l->pos = off;
	while (n) {
		size_t k = n < COPY_BUF ? (size_t)n : COPY_BUF;
		size_t got = sv_read(l->s, ms->buf, k);
		l->pos += got;
		if (got < k)
			goto short_file;
		if (!sink(arg, addr, ms->buf, k))
			return false;
		addr += k;
		n -= k;
	}
	return true;
short_file:
	sv_report(d->cx, CODE(CC_INPUT), l->pos, "%s ends before the pages its pagemap "
		  "promises", l->pages_disp);
	return false;
}

/* An entry against an address: before it when it ends at or below it. */
static int cmp_ent_end(const void *elem, const void *key)
{
	const pm_ent *e = elem;
	return e->vaddr + e->npages * CRIU_PAGE_SIZE <= *(const uint64_t *)key ? -1 : 1;
}

/* First entry of l that ends after addr (entries ascend, do not overlap). */
static size_t first_after(const level *l, uint64_t addr)
{
	return sv_lower_bound(&addr, l->e, l->n, sizeof(*l->e), cmp_ent_end);
}

/*
 * The dumped memory in [addr, addr + len) to sink, run by run, from level
 * i of the chain down through CRIU_PE_PARENT; what was not dumped is skipped.
 */
static bool mem_read(memsrc *ms, size_t i, uint64_t addr, uint64_t len, mem_sink sink, void *arg)
{
	if (!level_load(ms, i))
		return !ms->failed;
	level *l = &ms->lv[i];
	uint64_t end = addr + len;

	for (size_t k = first_after(l, addr); k < l->n && l->e[k].vaddr < end; k++) {
		const pm_ent *e = &l->e[k];
		uint64_t es = e->vaddr, ee = e->vaddr + e->npages * CRIU_PAGE_SIZE;
		uint64_t a = es > addr ? es : addr, b = ee < end ? ee : end;
		if (e->flags & CRIU_PE_PRESENT) {
			uint64_t off = e->page * CRIU_PAGE_SIZE + (a - es);
			if (!copy_pages(ms, l, off, b - a, a, sink, arg))
				return false;
		} else if (e->flags & CRIU_PE_PARENT) {
			if (!mem_read(ms, i + 1, a, b - a, sink, arg))
				return false;
		}
	}
	return true;
}

/* Has level 0 any page (present or in a parent) in [start, end)? */
static bool dumped_in(memsrc *ms, uint64_t start, uint64_t end)
{
	if (!level_load(ms, 0))
		return false;
	level *l = &ms->lv[0];
	for (size_t k = first_after(l, start); k < l->n && l->e[k].vaddr < end; k++)
		if (l->e[k].flags & (CRIU_PE_PRESENT | CRIU_PE_PARENT))
			return true;
	return false;
}

static bool memsrc_init(memsrc *ms, cd *d, uint32_t pid)
{
	memset(ms, 0, sizeof(*ms));
	ms->d = d;
	ms->pid = pid;
	ms->buf = malloc(COPY_BUF);
	if (!ms->buf)
		d->oom = true;
	return ms->buf != NULL;
}

/* ---- notes ------------------------------------------------------------------------ */

typedef struct notes {
	unsigned char *p;
	size_t n, cap;
	bool oom;
} notes;

static void note(notes *nb, const char *name, uint32_t type, const void *desc, size_t len)
{
	size_t namesz = strlen(name) + 1;
	size_t need = sizeof(Elf64_Nhdr) + ((namesz + 3) & ~(size_t)3) + ((len + 3) & ~(size_t)3);

	if (nb->oom)
		return;
	if (nb->n + need > nb->cap) {
		size_t cap = nb->cap ? nb->cap : 4096;
		while (cap < nb->n + need)
			cap *= 2;
		unsigned char *np = realloc(nb->p, cap);
		if (!np) {
			nb->oom = true;
			return;
		}
		memset(np + nb->n, 0, cap - nb->n);
		nb->p = np;
		nb->cap = cap;
	}
	Elf64_Nhdr h = { (Elf64_Word)namesz, (Elf64_Word)len, type };
	unsigned char *o = nb->p + nb->n;
	memcpy(o, &h, sizeof(h));
	memcpy(o + sizeof(h), name, namesz);
	if (len)
		memcpy(o + sizeof(h) + ((namesz + 3) & ~(size_t)3), desc, len);
	nb->n += need;
}

static void thread_notes(notes *nb, const task *tk, const thread *t)
{
	struct elf_prstatus ps;
	const UserX86RegsEntry *r = &t->regs;
	const uint64_t regs[27] = { r->r15, r->r14, r->r13, r->r12, r->bp, r->bx, r->r11,
				    r->r10, r->r9, r->r8, r->ax, r->cx, r->dx, r->si,
				    r->di, r->orig_ax, r->ip, r->cs, r->flags, r->sp, r->ss,
				    r->fs_base, r->gs_base, r->ds, r->es, r->fs, r->gs };
	unsigned char siginfo[128];

	_Static_assert(sizeof(ps.pr_reg) == sizeof(regs), "x86_64 elf_gregset_t");
	memset(&ps, 0, sizeof(ps));
	ps.pr_sighold = t->sigblocked;
	ps.pr_pid = (pid_t)t->tid;
	ps.pr_ppid = (pid_t)tk->ppid;
	ps.pr_pgrp = (pid_t)tk->pgid;
	ps.pr_sid = (pid_t)tk->sid;
	memcpy(&ps.pr_reg, regs, sizeof(regs));
	ps.pr_fpvalid = 1;
	note(nb, "CORE", NT_PRSTATUS, &ps, sizeof(ps));
	note(nb, "CORE", NT_FPREGSET, &t->fp, sizeof(t->fp));
	if (t->has_xstate)
		note(nb, "LINUX", NT_X86_XSTATE, t->xstate, sizeof(t->xstate));
	/* A checkpoint is no signal: an empty siginfo (si_signo 0). */
	memset(siginfo, 0, sizeof(siginfo));
	note(nb, "CORE", NT_SIGINFO, siginfo, sizeof(siginfo));
}

typedef struct args_buf {
	uint64_t start;
	char text[80];
} args_buf;

static bool args_sink(void *arg, uint64_t addr, const unsigned char *p, size_t n)
{
	args_buf *a = arg;
	uint64_t off = addr - a->start;

	if (off < sizeof(a->text))
		memcpy(a->text + off, p, n < sizeof(a->text) - off ? n : sizeof(a->text) - off);
	return true;
}

static void psinfo_note(cd *d, notes *nb, const task *tk, const thread *leader, const mm *m)
{
	struct elf_prpsinfo pi;
	args_buf a = { m->arg_start, { 0 } };
	memsrc ms;

	memset(&pi, 0, sizeof(pi));
	/* CRIU's task states: 1 alive (running), 6 stopped. */
	pi.pr_sname = leader->task_state == 6 ? 'T' : 'R';
	pi.pr_state = leader->task_state == 6 ? 4 : 0;
	pi.pr_flag = leader->flags;
	pi.pr_uid = leader->uid;
	pi.pr_gid = leader->gid;
	pi.pr_pid = (int)tk->pid;
	pi.pr_ppid = (int)tk->ppid;
	pi.pr_pgrp = (int)tk->pgid;
	pi.pr_sid = (int)tk->sid;
	memcpy(pi.pr_fname, leader->comm, sizeof(pi.pr_fname));
	/* The command line from the dumped memory, NULs as blanks, as the kernel does. */
	if (m->arg_end > m->arg_start && memsrc_init(&ms, d, tk->pid)) {
		uint64_t len = m->arg_end - m->arg_start;
		mem_read(&ms, 0, m->arg_start, len < sizeof(a.text) ? len : sizeof(a.text), args_sink, &a);
		memsrc_free(&ms);
		size_t n = len < sizeof(a.text) ? (size_t)len : sizeof(a.text) - 1;
		for (size_t i = 0; i < n; i++)
			if (!a.text[i])
				a.text[i] = ' ';
		while (n && a.text[n - 1] == ' ')
			a.text[--n] = '\0';
		memcpy(pi.pr_psargs, a.text, sizeof(pi.pr_psargs) - 1);
	}
	note(nb, "CORE", NT_PRPSINFO, &pi, sizeof(pi));
}

/* NT_FILE: the file-backed VMAs with their files' names. */
static void file_note(cd *d, notes *nb, const mm *m)
{
	size_t count = 0, names = 0;

	for (size_t i = 0; i < m->nvmas; i++) {
		const vma *v = &m->vmas[i];
		const char *name = v->status & (CRIU_VMA_FILE_PRIVATE | CRIU_VMA_FILE_SHARED) &&
				   !(v->status & CRIU_VMA_AREA_MEMFD) ? file_name(d, v->shmid) : NULL;
		if (name) {
			count++;
			names += strlen(name) + 1;
		}
	}
	size_t len = 16 + count * 24 + names;
	uint64_t *desc = calloc(1, len + 8);
	if (!desc) {
		nb->oom = true;
		return;
	}
	desc[0] = count;
	desc[1] = CRIU_PAGE_SIZE;
	char *s = (char *)(desc + 2 + 3 * count);
	size_t k = 0;
	for (size_t i = 0; i < m->nvmas; i++) {
		const vma *v = &m->vmas[i];
		const char *name = v->status & (CRIU_VMA_FILE_PRIVATE | CRIU_VMA_FILE_SHARED) &&
				   !(v->status & CRIU_VMA_AREA_MEMFD) ? file_name(d, v->shmid) : NULL;
		if (!name)
			continue;
		desc[2 + 3 * k] = v->start;
		desc[3 + 3 * k] = v->end;
		desc[4 + 3 * k] = v->pgoff / CRIU_PAGE_SIZE;
		k++;
		size_t nl = strlen(name) + 1;
		memcpy(s, name, nl);
		s += nl;
	}
	note(nb, "CORE", NT_FILE, desc, len);
	free(desc);
}

/* ---- the ELF file -------------------------------------------------------------------- */

typedef struct seg_out {
	int fd;
	uint64_t vstart, fstart;
	bool failed;
} seg_out;

static bool seg_sink(void *arg, uint64_t addr, const unsigned char *p, size_t n)
{
	seg_out *o = arg;
	off_t at = (off_t)(o->fstart + (addr - o->vstart));

	while (n) {
		ssize_t w = pwrite(o->fd, p, n, at);
		if (w <= 0) {
			o->failed = true;
			return false;
		}
		p += w;
		n -= (size_t)w;
		at += w;
	}
	return true;
}

static uint64_t page_up(uint64_t x)
{
	return (x + CRIU_PAGE_SIZE - 1) & ~(uint64_t)(CRIU_PAGE_SIZE - 1);
}

static bool pwrite_all(int fd, const void *p, size_t n, off_t at)
{
	const unsigned char *c = p;

	while (n) {
		ssize_t w = pwrite(fd, c, n, at);
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
		at += w;
	}
	return true;
}

/* Headers by libelf, then the notes and the memory at the offsets laid out. */
static bool write_core(cd *d, int fd, const char *path, const notes *nb, mm *m, memsrc *ms)
{
	size_t phnum = 1 + m->nvmas;
	uint64_t notes_off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
	uint64_t off = page_up(notes_off + nb->n);
	GElf_Ehdr eh;
	bool ok = false;

	for (size_t i = 0; i < m->nvmas; i++) {
		vma *v = &m->vmas[i];
		v->offset = off;
		v->filesz = dumped_in(ms, v->start, v->end) ? v->end - v->start : 0;
		off += v->filesz;
		if (ms->failed)
			return false;
	}
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!e || !gelf_newehdr(e, ELFCLASS64) || !gelf_getehdr(e, &eh))
		goto elf_failed;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_shoff = 0;
	if (!gelf_update_ehdr(e, &eh) || !gelf_newphdr(e, phnum))
		goto elf_failed;
	GElf_Phdr ph = { .p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = nb->n, .p_align = 4 };
	if (!gelf_update_phdr(e, 0, &ph))
		goto elf_failed;
	for (size_t i = 0; i < m->nvmas; i++) {
		const vma *v = &m->vmas[i];
		ph = (GElf_Phdr){
			.p_type = PT_LOAD,
			.p_flags = (v->prot & CRIU_PROT_READ ? PF_R : 0) |
				   (v->prot & CRIU_PROT_WRITE ? PF_W : 0) |
				   (v->prot & CRIU_PROT_EXEC ? PF_X : 0),
			.p_offset = v->offset,
			.p_vaddr = v->start,
			.p_filesz = v->filesz,
			.p_memsz = v->end - v->start,
			.p_align = CRIU_PAGE_SIZE,
		};
		if (!gelf_update_phdr(e, i + 1, &ph))
			goto elf_failed;
	}
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	if (elf_update(e, ELF_C_WRITE) < 0)
		goto elf_failed;
	elf_end(e);
	e = NULL;
	if (!pwrite_all(fd, nb->p, nb->n, (off_t)notes_off))
		goto io_failed;
	for (size_t i = 0; i < m->nvmas; i++) {
		const vma *v = &m->vmas[i];
		seg_out o = { fd, v->start, v->offset, false };
		if (!v->filesz)
			continue;
		if (!mem_read(ms, 0, v->start, v->end - v->start, seg_sink, &o)) {
			if (o.failed)
				goto io_failed;
			return false;
		}
	}
	/* Pages not dumped are the file's holes: zeros up to its end. */
	if (ftruncate(fd, (off_t)off) != 0)
		goto io_failed;
	ok = true;
	return ok;
elf_failed:
	sv_report(d->cx, CODE(CC_OUTPUT), SV_NONE, "%s: libelf: %s", path, elf_errmsg(-1));
	if (e)
		elf_end(e);
	return false;
io_failed:
	sv_report(d->cx, CODE(CC_OUTPUT), SV_NONE, "cannot write %s: %s", path, strerror(errno));
	return false;
}

/* ---- one process ------------------------------------------------------------------------ */

static bool read_thread(cd *d, uint32_t tid, thread *t)
{
	char name[64];
	core_read r = { d, t, false, -1 };

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	snprintf(name, sizeof(name), "core-%" PRIu32 ".img", tid);
	int st = load(d->cx, d->m, name, core_entry, &r);
	if (st == 0)
		sv_report(d->cx, CODE(CC_INPUT), SV_NONE, "%s/%s is missing", sv_members_path(d->m), name);
	if (st <= 0)
		return false;
	if (!r.arch_ok) {
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(&core_entry__march__descriptor, r.mtype);
		sv_report(d->cx, CODE(CC_ARCH), SV_NONE, "%s: thread %" PRIu32 " is of architecture %s: "
			  "core files are written for x86_64 only", sv_members_path(d->m), tid,
			  ev ? ev->name : "unknown");
		return false;
	}
	if (t->compat) {
		sv_report(d->cx, CODE(CC_ARCH), SV_NONE, "%s: thread %" PRIu32 " runs 32-bit (compat) "
			  "code: core files are written for x86_64 tasks only", sv_members_path(d->m), tid);
		return false;
	}
	return true;
}

/* Write tmp (a new file in outdir) as the core of task tk.  1 written, 0 skipped (zombie), -1 failed. */
static int one_process(cd *d, const task *tk, const char *tmp, int fd)
{
	char name[64];
	mm m = { .d = d };
	notes nb = { 0 };
	thread *threads = NULL;
	memsrc ms;
	int ret = -1;

	snprintf(name, sizeof(name), "mm-%" PRIu32 ".img", tk->pid);
	int st = load(d->cx, d->m, name, mm_entry, &m);
	if (st == 0)
		return 0; /* a zombie: no memory, no core */
	if (st < 0 || !m.seen || d->oom)
		goto out;
	if (!tk->nthreads) {
		sv_report(d->cx, CODE(CC_INPUT), SV_NONE, "task %" PRIu32 " lists no threads", tk->pid);
		goto out;
	}
	threads = calloc(tk->nthreads, sizeof(*threads));
	if (!threads) {
		d->oom = true;
		goto out;
	}
	for (size_t i = 0; i < tk->nthreads; i++)
		if (!read_thread(d, tk->threads[i], &threads[i]))
			goto out;
	/* The leader's note first, with the process-wide notes after it, as the kernel orders them. */
	for (size_t i = 0; i < tk->nthreads; i++) {
		thread_notes(&nb, tk, &threads[i]);
		if (i == 0) {
			psinfo_note(d, &nb, tk, &threads[0], &m);
			note(&nb, "CORE", NT_AUXV, m.auxv, m.nauxv * sizeof(uint64_t));
			file_note(d, &nb, &m);
		}
	}
	if (nb.oom) {
		d->oom = true;
		goto out;
	}
	if (!memsrc_init(&ms, d, tk->pid))
		goto out;
	ret = write_core(d, fd, tmp, &nb, &m, &ms) ? 1 : -1;
	memsrc_free(&ms);
out:
	free(threads);
	free(nb.p);
	free(m.vmas);
	free(m.auxv);
	return ret;
}

/* ---- the tool ------------------------------------------------------------------------------ */

typedef struct written {
	char *tmp, *final;
} written;

static void coredump(sv_ctx *cx, sv_members *m)
{
	cd d = { .cx = cx, .m = m };
	const char *path = sv_members_path(m), *pid_text = sv_param(cx, "pid");
	const sv_format *criu = sv_format_find("criu");
	unsigned long errors = sv_error_count(cx);
	written *out = NULL;
	size_t nout = 0;
	long want = pid_text ? strtol(pid_text, NULL, 10) : 0;
	struct stat st;

	d.outdir = sv_param(cx, "out");
	if (!d.outdir || !*d.outdir) {
		sv_report(cx, CODE(CC_OUTPUT), SV_NONE, "no output directory named (-o)");
		return;
	}
	if (!sv_members_is_dir(m)) {
		sv_report(cx, CODE(CC_INPUT), SV_NONE, "coredump reads a dump directory");
		return;
	}
	/* The dump as a whole must verify before anything is written. */
	if (criu && criu->verify_members) {
		sv_members *again = sv_members_open_dir(cx, path);
		if (!again)
			return;
		criu->verify_members(cx, again);
		sv_members_close(again);
	} else if (criu) {
		criu->verify_dir(cx, sv_members_dirfd(m), path);
	}
	if (sv_error_count(cx) != errors) {
		sv_report(cx, CODE(CC_INPUT), SV_NONE, "no core files: the dump has errors");
		return;
	}
	if (load(cx, m, "pstree.img", pstree_entry, &d) <= 0 || d.oom) {
		if (!d.oom)
			sv_report(cx, CODE(CC_INPUT), SV_NONE, "%s has no readable pstree.img (a pre-dump "
				  "or cpuinfo dump has no processes)", path);
		goto done;
	}
	if (load(cx, m, "files.img", files_entry, &d) < 0 || load(cx, m, "reg-files.img",
								     reg_files_entry, &d) < 0)
		goto done;
	if (want) {
		size_t i = 0;
		while (i < d.ntasks && d.tasks[i].pid != (uint64_t)want)
			i++;
		if (i == d.ntasks) {
			sv_report(cx, CODE(CC_PID), SV_NONE, "%s has no process %ld", path, want);
			goto done;
		}
	}
	if (stat(d.outdir, &st) != 0 && mkdir(d.outdir, 0755) != 0) {
		sv_report(cx, CODE(CC_OUTPUT), SV_NONE, "cannot create %s: %s", d.outdir, strerror(errno));
		goto done;
	}
	elf_version(EV_CURRENT);
	out = calloc(d.ntasks ? d.ntasks : 1, sizeof(*out));
	if (!out) {
		d.oom = true;
		goto done;
	}
	for (size_t i = 0; i < d.ntasks && !d.failed; i++) {
		const task *tk = &d.tasks[i];
		if (want && tk->pid != (uint64_t)want)
			continue;
		written *w = &out[nout];
		if (asprintf(&w->tmp, "%s/.core.%" PRIu32 ".XXXXXX", d.outdir, tk->pid) < 0) {
			w->tmp = NULL;
			d.oom = true;
			break;
		}
		int fd = mkstemp(w->tmp);
		if (fd < 0) {
			sv_report(cx, CODE(CC_OUTPUT), SV_NONE, "cannot create %s: %s", w->tmp, strerror(errno));
			free(w->tmp);
			d.failed = true;
			break;
		}
		nout++;
		int r = one_process(&d, tk, w->tmp, fd);
		if (close(fd) != 0 && r > 0) {
			sv_report(cx, CODE(CC_OUTPUT), SV_NONE, "cannot write %s: %s", w->tmp, strerror(errno));
			r = -1;
		}
		if (r < 0 || d.oom)
			d.failed = true;
		if (r == 0) {
			if (want)
				sv_report(cx, CODE(CC_PID), SV_NONE, "process %ld is a zombie: it has no memory "
					  "to write a core file of", want);
			unlink(w->tmp);
			free(w->tmp);
			w->tmp = NULL;
			nout--;
			continue;
		}
		if (r > 0 && asprintf(&w->final, "%s/core.%" PRIu32, d.outdir, tk->pid) < 0) {
			w->final = NULL;
			d.oom = true;
		}
	}
done:
	if (d.oom)
		sv_report(cx, CODE(CC_OUTPUT), SV_NONE, "out of memory");
	bool ok = !d.failed && !d.oom && sv_error_count(cx) == errors;
	for (size_t i = 0; i < nout; i++) {
		if (ok && rename(out[i].tmp, out[i].final) != 0) {
			sv_report(cx, CODE(CC_OUTPUT), SV_NONE, "cannot write %s: %s", out[i].final,
				  strerror(errno));
			ok = false;
		}
		if (!ok)
			unlink(out[i].tmp);
		free(out[i].tmp);
		free(out[i].final);
	}
	free(out);
	for (size_t i = 0; i < d.ntasks; i++)
		free(d.tasks[i].threads);
	free(d.tasks);
	for (size_t i = 0; i < d.nfiles; i++)
		free(d.files[i].name);
	free(d.files);
}

static void coredump_stream(sv_ctx *cx, sv_stream *in)
{
	(void)in;
	sv_report(cx, CODE(CC_INPUT), SV_NONE, "coredump reads a dump directory, not a file "
		  "(extract an archive first)");
}

const sv_format criu_coredump_tool = {
	.name = "criu-coredump",
	.description = "ELF core files from a CRIU dump (streamverify coredump; parameters out, pid)",
	.verify = coredump_stream,
	.verify_members = coredump,
};
