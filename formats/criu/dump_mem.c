/*
 * Memory of a dump (CRIU 3.17.1: criu/mem.c prepare_mappings() and
 * restore_priv_vma_content(), criu/pagemap.c open_page_read_at() and
 * read_parent_page(), criu/image.c open_parent(), criu/shmem.c): pages
 * files against their pagemaps, pagemap entries against the task's VMAs,
 * in-parent pages through the chain of parent links, and the pagemaps of
 * shared memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/criu/dump.h"
#include "formats/criu/schema.h"

/* VMA status bits (criu/include/image.h). */
#define VMA_AREA_REGULAR (1u << 0)
#define VMA_FILE_PRIVATE (1u << 6)
#define VMA_ANON_SHARED  (1u << 8)
#define VMA_ANON_PRIVATE (1u << 9)
#define VMA_AREA_SYSVIPC (1u << 10)
#define VMA_AREA_AIORING (1u << 13)
#define VMA_AREA_MEMFD   (1u << 14)

#define PAGE 4096u

/* ---- the parent chain ----------------------------------------------------------- */

/* A pagemap of a parent directory, loaded when first needed. */
typedef struct ppm {
	bool shmem;
	uint64_t id;
	bool exists;
	dpagemap pm;
	dvec ents;          /* dpage, sorted by vaddr */
} ppm;

typedef struct plevel {
	int dirfd;
	char *path;         /* the directory as diagnostics name it */
	dvec pms;           /* ppm * */
} plevel;

typedef struct chain {
	dump *d;
	plevel lv[DUMP_MAX_PARENTS];
	size_t n;           /* levels that could be opened */
	bool broken;        /* a link could not be followed (reported) */
} chain;

typedef struct devino {
	dev_t dev;
	ino_t ino;
} devino;

static void report_at(dump *d, const char *file, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report_at(dump *d, const char *file, int code, const char *fmt, ...)
{
	va_list ap;

	sv_set_file(d->cx, file);
	sv_record_none(d->cx);
	va_start(ap, fmt);
	sv_vreport(d->cx, &criu_dump_codes[code], SV_NONE, fmt, ap);
	va_end(ap);
	sv_set_file(d->cx, NULL);
}

/*
 * Open the directory the link "parent" of dirfd names, the way CRIU's
 * open_parent() does; -1 when there is none or it cannot be opened
 * (reported; *broken set).
 */
static int open_parent_link(dump *d, int dirfd, const char *link_path, bool *broken)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, "parent", &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return -1;
		report_at(d, link_path, CD_PARENT_UNREADABLE, "cannot look at the parent link: %s",
			  strerror(errno));
		*broken = true;
		return -1;
	}
	if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) {
		fd = openat(dirfd, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			int err = errno;
			report_at(d, link_path, CD_PARENT_UNREADABLE,
				  "the parent link cannot be opened as a directory: %s%s",
				  strerror(err),
				  err == ELOOP ? " (a loop of symbolic links)" :
				  err == ENOENT ? " (it points nowhere)" : "");
			*broken = true;
		}
		return fd;
	}
	if (S_ISREG(st.st_mode)) {
		char target[4096];
		ssize_t got = -1;
		int lf = openat(dirfd, "parent", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

		if (lf >= 0) {
			got = read(lf, target, sizeof(target) - 1);
			close(lf);
		}
		while (got > 0 && (target[got - 1] == '\n' || target[got - 1] == '\r'))
			got--;
		if (got <= 0 || memchr(target, '\0', (size_t)got)) {
			report_at(d, link_path, CD_PARENT_UNREADABLE,
				  "parent is a regular file, not a link to the parent dump");
			*broken = true;
			return -1;
		}
		target[got] = '\0';
		report_at(d, link_path, CD_PARENT_NOT_SYMLINK,
			  "parent is a regular file holding \"%s\", not a symbolic link: CRIU "
			  "could not open it as the parent directory (was the link flattened "
			  "by a copy?); followed as the link it names", target);
		fd = openat(dirfd, target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			report_at(d, link_path, CD_PARENT_UNREADABLE,
				  "the parent path \"%s\" cannot be opened as a directory: %s",
				  target, strerror(errno));
			*broken = true;
		}
		return fd;
	}
	report_at(d, link_path, CD_PARENT_UNREADABLE, "parent is %s, not a link to a directory",
		  S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ? "a socket" :
		  "a device or special file");
	*broken = true;
	return -1;
}

static void open_chain(chain *c)
{
	dump *d = c->d;
	devino seen[DUMP_MAX_PARENTS + 1];
	size_t nseen = 0;
	struct stat st;
	int dirfd = d->dirfd;
	const char *base = d->base;

	if (fstat(d->dirfd, &st) == 0)
		seen[nseen++] = (devino){ st.st_dev, st.st_ino };
	for (;;) {
		char *link_path = dump_printf(d, "%s/parent", base);
		int fd = open_parent_link(d, dirfd, link_path ? link_path : "parent", &c->broken);

		if (fd < 0)
			return;
		if (fstat(fd, &st) != 0) {
			close(fd);
			c->broken = true;
			return;
		}
		for (size_t k = 0; k < nseen; k++)
			if (seen[k].dev == st.st_dev && seen[k].ino == st.st_ino) {
				report_at(d, link_path, CD_PARENT_LOOP,
					  "the parent link leads back to %s: a dump cannot be "
					  "its own ancestor", k == 0 ? d->base : c->lv[k - 1].path);
				close(fd);
				c->broken = true;
				return;
			}
		if (c->n == DUMP_MAX_PARENTS) {
			report_at(d, link_path, CD_PARENT_LOOP,
				  "the chain of parent dumps is deeper than %d: not followed further",
				  DUMP_MAX_PARENTS);
			close(fd);
			c->broken = true;
			return;
		}
		seen[nseen++] = (devino){ st.st_dev, st.st_ino };
		c->lv[c->n].dirfd = fd;
		c->lv[c->n].path = link_path;
		dirfd = fd;
		base = link_path;
		c->n++;
	}
}

static void close_chain(chain *c)
{
	for (size_t i = 0; i < c->n; i++) {
		close(c->lv[i].dirfd);
		for (size_t k = 0; k < c->lv[i].pms.n; k++) {
			ppm *p = DV(c->lv[i].pms, ppm *)[k];
			dump_vec_free(&p->ents);
			free(p);
		}
		dump_vec_free(&c->lv[i].pms);
	}
}

typedef struct ppm_load {
	dump *d;
	ppm *p;
} ppm_load;

static int visit_parent_pagemap(void *arg, const criu_entry *e)
{
	ppm_load *l = arg;

	if (e->role == CRIU_ENTRY_PAGEMAP_HEAD || e->msg->descriptor == &pagemap_entry__descriptor)
		dump_collect_pagemap(l->d, &l->p->ents, &l->p->pm, e);
	return 0;
}

static int cmp_page(const void *a, const void *b)
{
	uint64_t x = ((const dpage *)a)->vaddr, y = ((const dpage *)b)->vaddr;
	return x < y ? -1 : x > y;
}

/* The pagemap of a parent level, read and verified on first use. */
static ppm *level_pagemap(chain *c, size_t L, bool shmem, uint64_t id)
{
	dump *d = c->d;
	plevel *lv = &c->lv[L];
	char name[64];
	struct stat st;

	for (size_t k = 0; k < lv->pms.n; k++) {
		ppm *p = DV(lv->pms, ppm *)[k];
		if (p->shmem == shmem && p->id == id)
			return p;
	}
	ppm **slot = dump_push(d, &lv->pms, sizeof(ppm *));
	ppm *p = calloc(1, sizeof(*p));
	if (!slot || !p) {
		if (slot)
			lv->pms.n--;
		free(p);
		return NULL;
	}
	*slot = p;
	p->shmem = shmem;
	p->id = id;
	snprintf(name, sizeof(name), shmem ? "pagemap-shmem-%" PRIu64 ".img" : "pagemap-%" PRIu64 ".img", id);
	if (fstatat(lv->dirfd, name, &st, 0) != 0)
		return p;
	char *path = dump_printf(d, "%s/%s", lv->path, name);
	sv_stream *s = sv_open_at(d->cx, lv->dirfd, name, path ? path : name, 0);
	if (!s)
		return p;
	ppm_load l = { d, p };
	criu_visitor v = { &l, visit_parent_pagemap, NULL };
	criu_image_info info;
	sv_set_file(d->cx, path);
	criu_verify_image(d->cx, s, name, &v, &info);
	sv_set_file(d->cx, NULL);
	sv_close(s);
	p->exists = true;
	p->pm.ent0 = 0;
	dump_sort(&p->ents, sizeof(dpage), cmp_page);

	/* The parent's pages are read from its own pages file. */
	if (p->pm.has_head && p->pm.nents + 1 == info.entries) {
		char pname[64];
		snprintf(pname, sizeof(pname), "pages-%" PRIu32 ".img", p->pm.pages_id);
		char *ppath = dump_printf(d, "%s/%s", lv->path, pname);
		if (fstatat(lv->dirfd, pname, &st, 0) != 0) {
			if (p->pm.present)
				report_at(d, path, CD_PAGES_MISSING,
					  "%" PRIu64 " pages are stored in %s, which is absent",
					  p->pm.present, ppath ? ppath : pname);
		} else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size != p->pm.present * PAGE) {
			report_at(d, ppath, CD_PAGES_SIZE,
				  "%" PRIu64 " bytes, but %s stores %" PRIu64 " pages here (%" PRIu64
				  " bytes)", (uint64_t)st.st_size, path, p->pm.present,
				  p->pm.present * PAGE);
		}
	}
	return p;
}

/*
 * Pages of [a, b) that level L (0: the first parent) and its own parents
 * do not have.  *first gets the lowest missing address.
 */
static uint64_t missing_in_parent(chain *c, size_t L, bool shmem, uint64_t id,
				  uint64_t a, uint64_t b, uint64_t *first)
{
	ppm *p = L < c->n ? level_pagemap(c, L, shmem, id) : NULL;
	uint64_t missing = 0, cursor = a;

	if (!p || !p->exists) {
		if (a < *first)
			*first = a;
		return (b - a) / PAGE;
	}
	const dpage *e = DV(p->ents, dpage);
	size_t lo = 0, hi = p->ents.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e[mid].vaddr + e[mid].pages * PAGE <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < p->ents.n && e[k].vaddr < b && cursor < b; k++) {
		uint64_t end = e[k].vaddr + e[k].pages * PAGE;
		if (end <= cursor)
			continue;
		if (e[k].vaddr > cursor) {
			if (cursor < *first)
				*first = cursor;
			missing += (e[k].vaddr - cursor) / PAGE;
			cursor = e[k].vaddr;
		}
		uint64_t stop = end < b ? end : b;
		if (e[k].flags & DPE_PARENT)
			missing += missing_in_parent(c, L + 1, shmem, id, cursor, stop, first);
		cursor = stop;
	}
	if (cursor < b) {
		if (cursor < *first)
			*first = cursor;
		missing += (b - cursor) / PAGE;
	}
	return missing;
}

static void check_parent_pages(dump *d, chain *c, const dpagemap *pm)
{
	const char *pname = pm->shmem ? "pagemap-shmem-" : "pagemap-";

	if (pm->parent == 0 || pm->nents == 0)
		return;
	const dpage *e = DV(d->pents, dpage) + pm->ent0;
	if (c->n == 0) {
		if (!c->broken)
			dump_report(d, pm->img, SV_NONE, NULL, CD_PARENT_MISSING, SV_NONE,
				    "%" PRIu64 " pages are in the parent dump, but there is no "
				    "parent link (CRIU: no parent for snapshot pagemap)", pm->parent);
		return;
	}
	for (size_t k = 0; k < pm->nents && !sv_stopped(d->cx); k++) {
		if (!(e[k].flags & DPE_PARENT))
			continue;
		uint64_t first = UINT64_MAX;
		uint64_t end = e[k].vaddr + e[k].pages * PAGE;
		uint64_t miss = missing_in_parent(c, 0, pm->shmem, pm->id, e[k].vaddr, end, &first);
		if (miss)
			dump_report(d, pm->img, e[k].index, "pagemap_entry", CD_PARENT_PAGES, SV_NONE,
				    "pages 0x%" PRIx64 "-0x%" PRIx64 " are in the parent, but %" PRIu64
				    " of them (first 0x%" PRIx64 ") are not in %s/%s%" PRIu64
				    ".img nor its parents (CRIU: missing in parent pagemap)",
				    e[k].vaddr, end, miss, first, c->lv[0].path, pname, pm->id);
	}
}

/* ---- pages files ------------------------------------------------------------------ */

static int cmp_pm_pages(const void *a, const void *b)
{
	const dpagemap *x = *(const dpagemap *const *)a, *y = *(const dpagemap *const *)b;
	if (x->pages_id != y->pages_id)
		return x->pages_id < y->pages_id ? -1 : 1;
	return x->img < y->img ? -1 : x->img > y->img;
}

static void check_pages_files(dump *d)
{
	size_t n = 0;
	dpagemap **by_id = malloc((d->pagemaps.n ? d->pagemaps.n : 1) * sizeof(*by_id));

	if (!by_id)
		return;
	for (size_t k = 0; k < d->pagemaps.n; k++) {
		dpagemap *pm = &DV(d->pagemaps, dpagemap)[k];
		if (pm->has_head)
			by_id[n++] = pm;
	}
	qsort(by_id, n, sizeof(*by_id), cmp_pm_pages);
	for (size_t k = 0; k < n; k++) {
		dpagemap *pm = by_id[k];
		dimg *pages = dump_ref(d, "pages-", pm->pages_id, false);

		if (k > 0 && by_id[k - 1]->pages_id == pm->pages_id) {
			dump_report(d, pm->img, 0, "pagemap_head", CD_PAGES_SHARED_ID, SV_NONE,
				    "pages_id %" PRIu32 " is also the pages file of %s: each "
				    "pagemap has a pages file of its own", pm->pages_id,
				    dump_img_path(d, by_id[k - 1]->img));
			continue;
		}
		if (!pages) {
			if (pm->present)
				dump_report(d, pm->img, 0, "pagemap_head", CD_PAGES_MISSING, SV_NONE,
					    "%" PRIu64 " pages are stored in pages-%" PRIu32
					    ".img, which is absent", pm->present, pm->pages_id);
			continue;
		}
		if (pm->damaged || !pages->verified || !pages->info.type)
			continue;
		uint64_t want = pm->present * PAGE;
		if (pages->info.raw_bytes != want)
			dump_report(d, (long)(pages - DV(d->imgs, dimg)), SV_NONE, NULL,
				    CD_PAGES_SIZE, SV_NONE,
				    "%" PRIu64 " bytes (%" PRIu64 " pages), but %s stores %" PRIu64
				    " pages here (%" PRIu64 " bytes): %s",
				    pages->info.raw_bytes, pages->info.raw_bytes / PAGE,
				    dump_img_path(d, pm->img), pm->present, want,
				    pages->info.raw_bytes < want ? "restore would run out of pages" :
				    "the extra pages belong to nothing");
	}
	free(by_id);
}

/* ---- pagemaps and VMAs ------------------------------------------------------------- */

static bool vma_private(const dvma *v)
{
	return ((v->status & VMA_AREA_REGULAR) &&
		(v->status & (VMA_ANON_PRIVATE | VMA_FILE_PRIVATE))) ||
	       (v->status & VMA_AREA_AIORING);
}

/* Sorted, non-overlapping VMAs; false (reported) otherwise. */
static bool check_vma_order(dump *d, const dmm *mm)
{
	if (mm->nvmas == 0)
		return true;
	const dvma *v = DV(d->vmas, dvma) + mm->vma0;

	for (size_t k = 0; k < mm->nvmas; k++) {
		if (v[k].end <= v[k].start) {
			dump_report(d, mm->img, 0, "mm_entry", CD_VMA_ORDER, SV_NONE,
				    "VMA %" PRIu64 " 0x%" PRIx64 "-0x%" PRIx64 " is empty or reversed",
				    v[k].index, v[k].start, v[k].end);
			return false;
		}
		if (k > 0 && v[k].start < v[k - 1].end) {
			dump_report(d, mm->img, 0, "mm_entry", CD_VMA_ORDER, SV_NONE,
				    "VMA %" PRIu64 " 0x%" PRIx64 "-0x%" PRIx64 " starts before VMA %"
				    PRIu64 " ends (0x%" PRIx64 "): VMAs must be sorted and disjoint",
				    v[k].index, v[k].start, v[k].end, v[k - 1].index, v[k - 1].end);
			return false;
		}
	}
	return true;
}

static int cmp_mm(const void *a, const void *b)
{
	uint32_t x = ((const dmm *)a)->pid, y = ((const dmm *)b)->pid;
	return x < y ? -1 : x > y;
}

/* The mm of pid (d->mms sorted by pid), or NULL. */
static const dmm *find_mm(dump *d, uint32_t pid)
{
	dmm key = { .pid = pid };

	if (!d->mms.n)
		return NULL;
	return bsearch(&key, d->mms.v, d->mms.n, sizeof(dmm), cmp_mm);
}

static void check_pagemap_vmas(dump *d, const dpagemap *pm, const dmm *mm)
{
	if (pm->nents == 0)
		return;
	const dpage *e = DV(d->pents, dpage) + pm->ent0;
	const dvma *v = mm->nvmas ? DV(d->vmas, dvma) + mm->vma0 : NULL; /* read below nvmas only */
	size_t j = 0;

	for (size_t k = 0; k < pm->nents && !sv_stopped(d->cx); k++) {
		uint64_t va = e[k].vaddr, end = va + e[k].pages * PAGE;

		/* Entries ascend (the image check says so); VMAs too. */
		if (k > 0 && va < e[k - 1].vaddr)
			j = 0;
		while (va < end) {
			while (j < mm->nvmas && v[j].end <= va)
				j++;
			if (j == mm->nvmas || v[j].start > va) {
				dump_report(d, pm->img, e[k].index, "pagemap_entry", CD_PAGEMAP_OUTSIDE,
					    SV_NONE, "pages 0x%" PRIx64 "-0x%" PRIx64 ": 0x%" PRIx64
					    " is in no VMA of %s (CRIU: page entry address outside "
					    "of VMA)", e[k].vaddr, end, va, dump_img_path(d, mm->img));
				break;
			}
			if (!vma_private(&v[j])) {
				dump_report(d, pm->img, e[k].index, "pagemap_entry",
					    CD_PAGEMAP_SHARED_VMA, SV_NONE,
					    "pages 0x%" PRIx64 "-0x%" PRIx64 " fall in VMA %" PRIu64
					    " 0x%" PRIx64 "-0x%" PRIx64 " of %s (status 0x%" PRIx32
					    "), which is not private (CRIU: trying to restore page "
					    "for non-private VMA)", e[k].vaddr, end, v[j].index,
					    v[j].start, v[j].end, dump_img_path(d, mm->img), v[j].status);
				break;
			}
			va = v[j].end;
		}
	}
}

/* ---- shared memory ----------------------------------------------------------------- */

static void check_shmem(dump *d)
{
	dimg *memfd = dump_find(d, "memfd.img");
	long memfd_img = memfd ? (long)(memfd - DV(d->imgs, dimg)) : -1;

	for (size_t k = 0; k < d->memfds.n; k++) {
		const dmemfd *m = &DV(d->memfds, dmemfd)[k];
		if (!dump_ref(d, "pagemap-shmem-", m->shmid, false) && m->size > 0)
			dump_report(d, memfd_img, m->index, "memfd_inode_entry", CD_SHMEM_MISSING,
				    SV_NONE, "memfd inode %" PRIu64 " holds %" PRIu64 " bytes, but "
				    "pagemap-shmem-%" PRIu32 ".img (its contents) is absent",
				    m->inode_id, m->size, m->shmid);
	}
	for (size_t k = 0; k < d->ipc_shms.n; k++) {
		const dref *r = &DV(d->ipc_shms, dref)[k];
		if (!dump_ref(d, "pagemap-shmem-", r->a, false))
			dump_report(d, r->img, r->index, "ipc_shm_entry", CD_SHMEM_MISSING, SV_NONE,
				    "SysV segment %" PRIu32 " keeps its contents in pagemaps, but "
				    "pagemap-shmem-%" PRIu32 ".img is absent", r->a, r->a);
	}
	for (size_t m = 0; m < d->mms.n; m++) {
		const dmm *mm = &DV(d->mms, dmm)[m];
		for (size_t k = 0; k < mm->nvmas; k++) {
			const dvma *v = &DV(d->vmas, dvma)[mm->vma0 + k];
			if (v->status & (VMA_AREA_SYSVIPC | VMA_AREA_MEMFD)) {
				if (v->status & VMA_AREA_SYSVIPC)
					dump_ref(d, "pagemap-shmem-", v->shmid, false);
				continue;
			}
			if (!(v->status & VMA_ANON_SHARED))
				continue;
			if (!dump_ref(d, "pagemap-shmem-", v->shmid, false))
				dump_report(d, mm->img, 0, "mm_entry", CD_SHMEM_MISSING, SV_NONE,
					    "shared anonymous VMA %zu 0x%" PRIx64 "-0x%" PRIx64
					    " has shmid %" PRIu64 ", but pagemap-shmem-%" PRIu64
					    ".img is absent (CRIU: can't restore shmem content)",
					    k, v->start, v->end, v->shmid, v->shmid);
		}
	}
}

void dump_check_memory(dump *d)
{
	chain c = { .d = d };

	open_chain(&c);
	check_pages_files(d);
	for (size_t k = 0; k < d->pagemaps.n && !sv_stopped(d->cx); k++)
		check_parent_pages(d, &c, &DV(d->pagemaps, dpagemap)[k]);
	if (d->kind == DUMP_FULL) {
		bool *sorted = calloc(d->mms.n ? d->mms.n : 1, sizeof(bool));
		dump_sort(&d->mms, sizeof(dmm), cmp_mm);
		for (size_t m = 0; m < d->mms.n && sorted; m++)
			sorted[m] = check_vma_order(d, &DV(d->mms, dmm)[m]);
		for (size_t k = 0; k < d->pagemaps.n && sorted && !sv_stopped(d->cx); k++) {
			const dpagemap *pm = &DV(d->pagemaps, dpagemap)[k];
			const dmm *mm = pm->shmem ? NULL : find_mm(d, (uint32_t)pm->id);
			if (mm && pm->id <= UINT32_MAX && sorted[mm - DV(d->mms, dmm)])
				check_pagemap_vmas(d, pm, mm);
		}
		free(sorted);
		check_shmem(d);
	}
	close_chain(&c);
}
