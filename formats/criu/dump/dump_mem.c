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

#define CRIU_DUMP_INTERNAL
#include "formats/criu/dump/dump.h"
#include "formats/criu/schema/schema.h"
#include "formats/criu/schema/linux.h"

/* The one page size of the images (schema/images.h). */
#define PAGE CRIU_PAGE_SIZE

/* ---- the parent chain ----------------------------------------------------------- */

/*
 * A level of the chain of parent dumps: a directory read lazily through
 * its member source, or a dump collected before (criu_dump_set_parent).
 */
typedef struct plevel {
	dump *dump;         /* a collected dump, or NULL */
	sv_members *src;    /* a directory, or NULL */
	const char *path;   /* the directory as diagnostics name it */
} plevel;

typedef struct chain {
	dump *d;
	plevel lv[DUMP_MAX_PARENTS];
	size_t n;           /* levels that could be opened */
	bool broken;        /* a link could not be followed (reported) */
} chain;

/* One level's pagemap of one pid or shmem id, loaded for one check and dropped. */
typedef struct ppm {
	bool exists;
	bool damaged;       /* the parent's pagemap failed its own checks */
	dpagemap pm;
	dvec ents;          /* dpage, sorted by vaddr */
} ppm;

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

/* What a level says about its own `parent` entry. */
typedef struct plink {
	bool present;
	sv_member_kind kind;
	const char *target;  /* a regular file's path (flattened link) */
	bool file_bad;       /* a regular file naming no path */
} plink;

/*
 * The `parent` entry of a directory level that is not the dump itself:
 * its kind, and for a regular file the path it holds.  Looked for only
 * when the link could not be opened as a directory.
 */
static plink find_link(dump *d, sv_members *src)
{
	plink l = { 0 };
	const sv_member *m;

	while ((m = sv_members_next(src)) != NULL) {
		if (strcmp(m->name, "parent") != 0)
			continue;
		l.present = true;
		l.kind = m->kind;
		if (m->kind == SV_MEMBER_FILE && !m->link) {
			char target[4096];
			size_t got = 0;
			sv_stream *s = sv_member_open(d->cx, src);
			if (s)
				got = sv_read(s, target, sizeof(target) - 1);
			sv_close(s);
			while (got > 0 && (target[got - 1] == '\n' || target[got - 1] == '\r'))
				got--;
			if (got == 0 || memchr(target, '\0', got)) {
				l.file_bad = true;
			} else {
				target[got] = '\0';
				l.target = dump_strdup(d, target);
				l.file_bad = !l.target;
			}
		}
		break;
	}
	return l;
}

/*
 * Follow the `parent` link of the directory level src (whose entry the
 * caller may already know, as *known), the way CRIU's open_parent() does
 * (criu/image.c: a missing link is no parent; one that cannot be opened
 * fails the restore).  NULL when there is none or it cannot be followed
 * (reported; *broken set).
 */
static sv_members *open_parent_link(dump *d, sv_members *src, const plink *known,
				    const char *link_path, bool *broken)
{
	plink l;
	sv_members *sub;
	int err;

	if (known && !known->present)
		return NULL;
	if (!known || known->kind == SV_MEMBER_SYMLINK || known->kind == SV_MEMBER_DIR) {
		sub = sv_members_open_subdir(d->cx, src, "parent");
		if (sub)
			return sub;
		err = errno;
		if (err == ENOMEM) {
			dump_oom(d, "the parent chain");
			*broken = true;
			return NULL;
		}
		if (!known && (err == ENOENT || err == ENOTDIR)) {
			/* Nothing there, a link to nowhere, or no directory: look. */
			l = find_link(d, src);
			known = &l;
			if (!l.present)
				return NULL;
		}
		if (known->kind == SV_MEMBER_SYMLINK || known->kind == SV_MEMBER_DIR) {
			report_at(d, link_path, CD_PARENT_UNREADABLE,
				  "the parent link cannot be opened as a directory: %s%s",
				  strerror(err),
				  err == ELOOP ? " (a loop of symbolic links)" :
				  err == ENOENT ? " (it points nowhere)" : "");
			*broken = true;
			return NULL;
		}
	}
	if (known->kind == SV_MEMBER_FILE) {
		if (known->file_bad || !known->target) {
			report_at(d, link_path, CD_PARENT_UNREADABLE,
				  "parent is a regular file, not a link to the parent dump");
			*broken = true;
			return NULL;
		}
		report_at(d, link_path, CD_PARENT_NOT_SYMLINK,
			  "parent is a regular file holding \"%s\", not a symbolic link: CRIU "
			  "could not open it as the parent directory (was the link flattened "
			  "by a copy?); followed as the link it names", known->target);
		sub = sv_members_open_subdir(d->cx, src, known->target);
		if (!sub) {
			report_at(d, link_path, CD_PARENT_UNREADABLE,
				  "the parent path \"%s\" cannot be opened as a directory: %s",
				  known->target, strerror(errno));
			*broken = true;
		}
		return sub;
	}
	report_at(d, link_path, CD_PARENT_UNREADABLE,
		  "parent is %s, not a link to a directory",
		  known->kind == SV_MEMBER_HARDLINK ? "a hard link" :
		  "a FIFO, device or socket");
	*broken = true;
	return NULL;
}

/* The identity of a directory level, to find loops in the chain. */
static bool level_id(sv_members *src, devino *out)
{
	struct stat st;
	int fd = src ? sv_members_dirfd(src) : -1;

	if (fd < 0 || fstat(fd, &st) != 0)
		return false;
	*out = (devino){ st.st_dev, st.st_ino };
	return true;
}

static void open_chain(chain *c, sv_members *dir)
{
	dump *d = c->d;
	devino seen[DUMP_MAX_PARENTS + 1];
	bool seen_ok[DUMP_MAX_PARENTS + 1];
	dump *dumps[DUMP_MAX_PARENTS + 1];
	size_t nseen = 0;
	dump *cur_dump = d;
	sv_members *cur_src = dir;
	const char *base = d->base;

	seen_ok[0] = level_id(dir, &seen[0]);
	dumps[0] = d;
	nseen = 1;
	for (;;) {
		char *link_path = dump_printf(d, "%s/parent", base);
		dump *next_dump = NULL;
		sv_members *next_src = NULL;

		if (!link_path) {
			dump_oom(d, "the parent chain");
			c->broken = true;
			return;
		}
		if (cur_dump && cur_dump->parent_dump) {
			next_dump = cur_dump->parent_dump;
		} else if (cur_dump && cur_src) {
			plink known = { cur_dump->has_parent_link, cur_dump->parent_kind,
					cur_dump->parent_target, cur_dump->parent_file_bad };
			next_src = open_parent_link(d, cur_src, &known, link_path, &c->broken);
		} else if (cur_src) {
			next_src = open_parent_link(d, cur_src, NULL, link_path, &c->broken);
		} else if (cur_dump && cur_dump->has_parent_link && cur_dump == d) {
			report_at(d, link_path, CD_PARENT_UNREADABLE,
				  "the parent link of a dump inside an archive cannot be followed, "
				  "and no earlier dump of the archive stands for it");
			c->broken = true;
		}
		if (!next_dump && !next_src)
			return;

		devino id = { 0, 0 };
		bool id_ok = next_src && level_id(next_src, &id);
		for (size_t k = 0; k < nseen; k++)
			if ((id_ok && seen_ok[k] && seen[k].dev == id.dev && seen[k].ino == id.ino) ||
			    (next_dump && dumps[k] == next_dump)) {
				report_at(d, link_path, CD_PARENT_LOOP,
					  "the parent link leads back to %s: a dump cannot be "
					  "its own ancestor", k == 0 ? d->base : c->lv[k - 1].path);
				sv_members_close(next_src);
				c->broken = true;
				return;
			}
		if (c->n == DUMP_MAX_PARENTS) {
			report_at(d, link_path, CD_PARENT_LOOP,
				  "the chain of parent dumps is deeper than %d: not followed further",
				  DUMP_MAX_PARENTS);
			sv_members_close(next_src);
			c->broken = true;
			return;
		}
		seen[nseen] = id;
		seen_ok[nseen] = id_ok;
		dumps[nseen] = next_dump;
		nseen++;
		c->lv[c->n].dump = next_dump;
		c->lv[c->n].src = next_src;
		c->lv[c->n].path = next_dump ? next_dump->base : link_path;
		c->n++;
		cur_dump = next_dump;
		cur_src = next_src;
		base = c->lv[c->n - 1].path;
	}
}

static void close_chain(chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		sv_members_close(c->lv[i].src);
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

static int cmp_pm_key(const void *a, const void *b, void *arg)
{
	const dpagemap *pms = arg;
	const dpagemap *x = &pms[*(const size_t *)a], *y = &pms[*(const size_t *)b];
	if (x->shmem != y->shmem)
		return x->shmem < y->shmem ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A (shmem, id) to look up in pm_order: an index into pms. */
typedef struct pm_key {
	const dpagemap *pms;
	bool shmem;
	uint64_t id;
} pm_key;

static int cmp_pm_index_key(const void *elem, const void *key)
{
	const pm_key *k = key;
	const dpagemap *x = &k->pms[*(const size_t *)elem];
	if (x->shmem != k->shmem)
		return x->shmem < k->shmem ? -1 : 1;
	return x->id < k->id ? -1 : x->id > k->id;
}

/* The pagemap of (shmem, id) that dump p collected, or NULL. */
static const dpagemap *dump_pagemap(dump *p, bool shmem, uint64_t id)
{
	if (p->pm_order.n != p->pagemaps.n) {
		size_t *o = malloc((p->pagemaps.n ? p->pagemaps.n : 1) * sizeof(*o));
		if (!o)
			return NULL;
		for (size_t k = 0; k < p->pagemaps.n; k++)
			o[k] = k;
		if (p->pagemaps.n > 1)
			qsort_r(o, p->pagemaps.n, sizeof(*o), cmp_pm_key, p->pagemaps.v);
		free(p->pm_order.v);
		p->pm_order.v = o;
		p->pm_order.n = p->pm_order.cap = p->pagemaps.n;
	}
	const size_t *o = DV(p->pm_order, size_t);
	const dpagemap *pms = DV(p->pagemaps, dpagemap);
	pm_key key = { pms, shmem, id };
	size_t lo = sv_lower_bound(&key, o, p->pm_order.n, sizeof(*o), cmp_pm_index_key);
	if (lo < p->pm_order.n && pms[o[lo]].shmem == shmem && pms[o[lo]].id == id)
		return &pms[o[lo]];
	return NULL;
}

/* The size of a pages file of a parent directory, or false when absent. */
static bool level_file_size(dump *d, sv_members *src, const char *name, const char *path,
			    uint64_t *size)
{
	sv_stream *s = sv_members_open_name(d->cx, src, name, path);

	if (!s)
		return false;
	*size = sv_skip(s, UINT64_MAX);
	sv_close(s);
	return true;
}

/* The pagemap of (shmem, id) at level L, read (and verified) for one check. */
static void level_pagemap(chain *c, size_t L, bool shmem, uint64_t id, ppm *p)
{
	dump *d = c->d;
	plevel *lv = &c->lv[L];
	char name[64];

	memset(p, 0, sizeof(*p));
	if (lv->dump) {
		const dpagemap *pm = dump_pagemap(lv->dump, shmem, id);
		if (!pm)
			return;
		p->exists = true;
		p->damaged = pm->damaged;
		p->pm = *pm;
		p->pm.ent0 = 0;
		if (pm->nents) {
			p->ents.v = malloc(pm->nents * sizeof(dpage));
			if (!p->ents.v) {
				dump_oom(d, "a parent pagemap");
				return;
			}
			memcpy(p->ents.v, DV(lv->dump->pents, dpage) + pm->ent0,
			       pm->nents * sizeof(dpage));
			p->ents.n = p->ents.cap = pm->nents;
		}
		dump_sort(&p->ents, sizeof(dpage), cmp_page);
		return;
	}
	snprintf(name, sizeof(name), shmem ? "pagemap-shmem-%" PRIu64 ".img" : "pagemap-%" PRIu64 ".img", id);
	char *path = dump_printf(d, "%s/%s", lv->path, name);
	sv_stream *s = sv_members_open_name(d->cx, lv->src, name, path ? path : name);
	if (!s)
		return;
	ppm_load l = { d, p };
	criu_visitor v = { &l, visit_parent_pagemap, NULL };
	criu_image_info info;
	unsigned long errors = sv_error_count(d->cx);
	sv_set_file(d->cx, path);
	criu_verify_image(d->cx, s, name, &v, &info);
	sv_set_file(d->cx, NULL);
	sv_close(s);
	p->exists = true;
	p->damaged = sv_error_count(d->cx) != errors || !info.complete;
	p->pm.present = info.pages_present;
	/* The image check's exact size: in image version 3 the compressed
	 * payloads, not present pages x 4096. */
	p->pm.pages_bytes = info.pages_bytes;
	if (info.pages_bytes == UINT64_MAX)
		p->damaged = true;
	p->pm.ent0 = 0;
	dump_sort(&p->ents, sizeof(dpage), cmp_page);

	/* The parent's pages are read from its own pages file. */
	if (p->pm.has_head && !p->damaged) {
		char pname[64];
		uint64_t size;
		snprintf(pname, sizeof(pname), "pages-%" PRIu32 ".img", p->pm.pages_id);
		char *ppath = dump_printf(d, "%s/%s", lv->path, pname);
		if (!level_file_size(d, lv->src, pname, ppath ? ppath : pname, &size)) {
			if (p->pm.present)
				report_at(d, path, CD_PAGES_MISSING,
					  "%" PRIu64 " pages are stored in %s, which is absent",
					  p->pm.present, ppath ? ppath : pname);
		} else if (size != p->pm.pages_bytes) {
			report_at(d, ppath, CD_PAGES_SIZE,
				  "%" PRIu64 " bytes, but %s stores %" PRIu64 " pages here (%" PRIu64
				  " bytes)", size, path, p->pm.present, p->pm.pages_bytes);
		}
	}
}

/* An entry against an address: before it when it ends at or below it. */
static int cmp_page_end(const void *elem, const void *key)
{
	const dpage *e = elem;
	return e->vaddr + e->pages * PAGE <= *(const uint64_t *)key ? -1 : 1;
}

/* A range of in-parent pages still to find, and the entry it comes from. */
typedef struct need {
	uint64_t a, b;
	size_t entry;
} need;

/*
 * In-parent pages of one pagemap, looked up level by level (CRIU:
 * read_parent_page() goes to the parent's page_read for what the entry
 * marks PE_PARENT, and on through its parent): each level's pagemap is
 * read once, the ranges still to find are carried to the next level, and
 * the level is dropped; what no level has is missing.
 */
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
	uint64_t *miss = calloc(pm->nents, sizeof(*miss));
	uint64_t *first = malloc(pm->nents * sizeof(*first));
	dvec cur = { 0 }, next = { 0 };
	bool unsure = false;

	if (!miss || !first) {
		dump_oom(d, "the in-parent pages");
		goto out;
	}
	for (size_t k = 0; k < pm->nents; k++) {
		first[k] = UINT64_MAX;
		if (!(e[k].flags & CRIU_PE_PARENT))
			continue;
		need *n = dump_push(d, &cur, sizeof(need));
		if (!n)
			goto out;
		*n = (need){ e[k].vaddr, e[k].vaddr + e[k].pages * PAGE, k };
	}
	for (size_t L = 0; L < c->n && cur.n && !sv_stopped(d->cx); L++) {
		ppm p;
		level_pagemap(c, L, pm->shmem, pm->id, &p);
		if (!p.exists)
			break;
		/* A parent pagemap that could not be read is reported once, there;
		 * one with more entries than are kept proves nothing missing. */
		unsure |= p.damaged || DUMP_CAPPED(p.ents);
		const dpage *pe = DV(p.ents, dpage);
		for (size_t r = 0; r < cur.n; r++) {
			const need *n = &DV(cur, need)[r];
			uint64_t cursor = n->a, b = n->b;
			/* the first entry that ends after cursor */
			size_t lo = sv_lower_bound(&cursor, pe, p.ents.n, sizeof(*pe),
						     cmp_page_end);
			for (size_t k = lo; k < p.ents.n && pe[k].vaddr < b && cursor < b; k++) {
				uint64_t end = pe[k].vaddr + pe[k].pages * PAGE;
				if (end <= cursor)
					continue;
				if (pe[k].vaddr > cursor) {
					if (cursor < first[n->entry])
						first[n->entry] = cursor;
					miss[n->entry] += (pe[k].vaddr - cursor) / PAGE;
					cursor = pe[k].vaddr;
				}
				uint64_t stop = end < b ? end : b;
				if (pe[k].flags & CRIU_PE_PARENT) {
					need *m = dump_push(d, &next, sizeof(need));
					if (!m) {
						dump_vec_free(&p.ents);
						goto out;
					}
					*m = (need){ cursor, stop, n->entry };
					n = &DV(cur, need)[r];
				}
				cursor = stop;
			}
			if (cursor < b) {
				if (cursor < first[n->entry])
					first[n->entry] = cursor;
				miss[n->entry] += (b - cursor) / PAGE;
			}
		}
		dump_vec_free(&p.ents);
		dump_vec_free(&cur);
		cur = next;
		next = (dvec){ 0 };
	}
	/* What no level of the chain has. */
	for (size_t r = 0; r < cur.n; r++) {
		const need *n = &DV(cur, need)[r];
		if (n->a < first[n->entry])
			first[n->entry] = n->a;
		miss[n->entry] += (n->b - n->a) / PAGE;
	}
	for (size_t k = 0; k < pm->nents && !unsure && !sv_stopped(d->cx); k++) {
		uint64_t end = e[k].vaddr + e[k].pages * PAGE;
		if (miss[k])
			dump_report(d, pm->img, e[k].index, "pagemap_entry", CD_PARENT_PAGES, SV_NONE,
				    "pages 0x%" PRIx64 "-0x%" PRIx64 " are in the parent, but %" PRIu64
				    " of them (first 0x%" PRIx64 ") are not in %s/%s%" PRIu64
				    ".img nor its parents (CRIU: missing in parent pagemap)",
				    e[k].vaddr, end, miss[k], first[k], c->lv[0].path, pname, pm->id);
	}
out:
	dump_vec_free(&cur);
	dump_vec_free(&next);
	free(miss);
	free(first);
}

/* ---- pages files ------------------------------------------------------------------ */

static int cmp_pm_pages(const void *a, const void *b, void *arg)
{
	const dpagemap *x = *(const dpagemap *const *)a, *y = *(const dpagemap *const *)b;
	if (x->pages_id != y->pages_id)
		return x->pages_id < y->pages_id ? -1 : 1;
	return dump_img_cmp(arg, x->img, y->img);
}

/*
 * Whether restore reads this pagemap: a task's only when the task is a live
 * one of pstree.img (restore opens pagemap-PID for each task it creates; a
 * stale pagemap of a task that is not in the tree is never opened and is
 * reported as unreferenced instead), a shared one's always.  A pre-dump
 * has no tree: all of its pagemaps count.
 */
static bool pagemap_restored(dump *d, const dpagemap *pm)
{
	const dtask *t;

	if (pm->shmem || d->kind != DUMP_FULL || d->no_tasks || pm->id > UINT32_MAX)
		return true;
	t = dump_find_task(d, (uint32_t)pm->id);
	return t && t->live;
}

static void check_pages_files(dump *d)
{
	size_t n = 0;
	dpagemap **by_id = malloc((d->pagemaps.n ? d->pagemaps.n : 1) * sizeof(*by_id));

	if (!by_id)
		return;
	for (size_t k = 0; k < d->pagemaps.n; k++) {
		dpagemap *pm = &DV(d->pagemaps, dpagemap)[k];
		if (pm->has_head && pagemap_restored(d, pm))
			by_id[n++] = pm;
	}
	if (n > 1)
		qsort_r(by_id, n, sizeof(*by_id), cmp_pm_pages, d);
	for (size_t k = 0; k < n && !sv_stopped(d->cx); k++) {
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
		/* A file checked against its compressed pagemap was sized there. */
		if (pm->damaged || !pages->verified || !pages->info.type || pm->pages_checked)
			continue;
		/* The image check's exact size: compressed payloads in version 3. */
		uint64_t want = pm->pages_bytes ? pm->pages_bytes : pm->present * PAGE;
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
	return ((v->status & CRIU_VMA_AREA_REGULAR) &&
		(v->status & (CRIU_VMA_ANON_PRIVATE | CRIU_VMA_FILE_PRIVATE))) ||
	       (v->status & CRIU_VMA_AREA_AIORING);
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

static int cmp_u32m(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* A SysV VMA attaches a segment the IPC images restore (criu/shmem.c open_shmem_sysv()). */
static bool sysv_known(dump *d, uint64_t shmid)
{
	uint32_t key = (uint32_t)shmid;

	if (DUMP_UNSURE(d, IPCNS_SHM) || DUMP_CAPPED(d->shm_ids))
		return true; /* it may be in what could not be read or kept */
	return shmid <= UINT32_MAX && d->shm_ids.n &&
	       bsearch(&key, d->shm_ids.v, d->shm_ids.n, sizeof(uint32_t), cmp_u32m);
}

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
	dump_sort(&d->shm_ids, sizeof(uint32_t), cmp_u32m);
	for (size_t m = 0; m < d->mms.n && !sv_stopped(d->cx); m++) {
		const dmm *mm = &DV(d->mms, dmm)[m];
		for (size_t k = 0; k < mm->nvmas; k++) {
			const dvma *v = &DV(d->vmas, dvma)[mm->vma0 + k];
			if (v->status & (CRIU_VMA_AREA_SYSVIPC | CRIU_VMA_AREA_MEMFD)) {
				if (v->status & CRIU_VMA_AREA_SYSVIPC) {
					dump_ref(d, "pagemap-shmem-", v->shmid, false);
					if (!sysv_known(d, v->shmid))
						dump_report(d, mm->img, 0, "mm_entry", CD_SHM_VMA, SV_NONE,
							    "SysV shared memory VMA %zu 0x%" PRIx64 "-0x%"
							    PRIx64 " attaches segment %" PRIu64 ", which no "
							    "ipcns-shm image has (CRIU: can't find sysv "
							    "shmem)", k, v->start, v->end, v->shmid);
				}
				continue;
			}
			if (!(v->status & CRIU_VMA_ANON_SHARED))
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

void dump_check_memory(dump *d, sv_members *dir)
{
	chain c = { .d = d };

	open_chain(&c, dir);
	check_pages_files(d);
	for (size_t k = 0; k < d->pagemaps.n && !sv_stopped(d->cx); k++)
		check_parent_pages(d, &c, &DV(d->pagemaps, dpagemap)[k]);
	if (d->kind == DUMP_FULL) {
		bool *sorted = calloc(d->mms.n ? d->mms.n : 1, sizeof(bool));
		dump_sort(&d->mms, sizeof(dmm), cmp_mm);
		for (size_t m = 0; m < d->mms.n && sorted && !sv_stopped(d->cx); m++)
			sorted[m] = check_vma_order(d, &DV(d->mms, dmm)[m]);
		/* VMAs beyond the table's cap are unknown: no entry is "outside" them. */
		for (size_t k = 0; k < d->pagemaps.n && sorted && !DUMP_CAPPED(d->vmas) &&
				   !sv_stopped(d->cx); k++) {
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
