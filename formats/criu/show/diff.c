/*
 * `streamverify diff A B`: what changed between two CRIU checkpoints
 * (processes, fds, VMAs, page contents by a 64-bit hash per page, sockets),
 * as a tree or as JSON (docs/show-schema.json, "streamverify-diff/1").
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats/criu/show/show.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/schema/schema.h"

/* fd comparisons at most (each a scan of one table: a forged fdinfo of millions) */
#define DIFF_FD_BUDGET ((uint64_t)1 << 16)

typedef struct out {
	FILE *f;
	bool json;
	unsigned long diffs;
	bool first;              /* JSON: no comma before the next item */
	uint64_t fd_work;
	bool incomplete;         /* a budget ran out: not everything was compared */
} out;

static char *target_text(const show_dump *d, uint32_t id, uint32_t type)
{
	char *t = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&t, &n);
	const show_file *fe = show_file_find(d, id);

	if (!m)
		return NULL;
	fputs(show_fd_kind(type), m);
	fputc(' ', m);
	/* ids and inodes differ from one dump run to the next: compare what they name */
	if (fe && !(fe->type == FD_TYPES__INETSK || fe->type == FD_TYPES__UNIXSK ||
		    fe->type == FD_TYPES__NETLINKSK || fe->type == FD_TYPES__PIPE))
		show_file_target(m, d, fe, false);
	else if (fe && fe->type == FD_TYPES__INETSK) {
		char a[64];
		show_format_addr(a, sizeof(a), fe->src_addr, fe->nsrc);
		fprintf(m, "%s %s:%u", show_skstate_name(fe->state), a, fe->src_port);
	}
	if (fclose(m) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

static void sep(out *o)
{
	if (!o->first)
		fputc(',', o->f);
	o->first = false;
}

static const show_fd *fd_of(const show_dump *d, const show_task *t, uint32_t fd)
{
	size_t n = 0;
	const show_fd *f = t->have_ids ? show_fds_of(d, t->files_id, &n) : NULL;

	for (size_t k = 0; k < n; k++)  /* one task's fds: few */
		if (f[k].fd == fd)
			return &f[k];
	return NULL;
}

static void fd_item(out *o, const char *what, const show_fd *fd, const char *text)
{
	if (o->json) {
		sep(o);
		fprintf(o->f, "{\"change\":\"%s\",\"fd\":%u,\"target\":", what, fd->fd);
		show_json_bytes(o->f, (const unsigned char *)(text ? text : ""),
				text ? strlen(text) : 0);
		fputc('}', o->f);
	} else {
		fprintf(o->f, "    %s fd %u ", what[0] == 'o' ? "+" : what[0] == 'c' ? "-" : "~",
			fd->fd);
		show_put_str(o->f, text);
		fputc('\n', o->f);
	}
	o->diffs++;
}

static void diff_fds(out *o, const show_dump *a, const show_task *ta, const show_dump *b,
		     const show_task *tb)
{
	for (int pass = 0; pass < 2; pass++) {
		const show_dump *x = pass ? a : b, *y = pass ? b : a;
		const show_task *tx = pass ? ta : tb, *ty = pass ? tb : ta;
		size_t nx = 0;
		const show_fd *fxs = tx->have_ids ? show_fds_of(x, tx->files_id, &nx) : NULL;
		for (size_t k = 0; k < nx; k++) {
			const show_fd *fx = &fxs[k];
			if (o->fd_work++ >= DIFF_FD_BUDGET) {
				o->incomplete = true;
				return;
			}
			const show_fd *fy = fd_of(y, ty, fx->fd);
			char *sx = target_text(x, fx->id, fx->type);
			if (!fy) {
				fd_item(o, pass ? "closed" : "opened", fx, sx);
			} else if (!pass) {
				char *sy = target_text(y, fy->id, fy->type);
				if (sx && sy && strcmp(sx, sy) != 0)
					fd_item(o, "changed", fx, sx);
				free(sy);
			}
			free(sx);
		}
	}
}

static int cmp_vma_start(const void *elem, const void *key)
{
	uint64_t a = ((const show_vma *)elem)->start, b = *(const uint64_t *)key;
	return a < b ? -1 : a > b;
}

/* VMAs are sorted by start (show_collect). */
static const show_vma *vma_at(const show_task *t, uint64_t start)
{
	size_t lo = sv_lower_bound(&start, t->vmas, t->nvmas, sizeof(*t->vmas), cmp_vma_start);

	return lo < t->nvmas && t->vmas[lo].start == start ? &t->vmas[lo] : NULL;
}

static void vma_item(out *o, const char *what, const show_vma *v)
{
	if (o->json) {
		sep(o);
		fprintf(o->f, "{\"change\":\"%s\",\"start\":%" PRIu64 ",\"end\":%" PRIu64
			",\"prot\":%u,\"flags\":%u}", what, v->start, v->end, v->prot, v->flags);
	} else {
		fprintf(o->f, "    %s vma %012" PRIx64 "-%012" PRIx64 " prot %u flags 0x%x\n",
			what[0] == 'a' ? "+" : what[0] == 'r' ? "-" : "~", v->start, v->end, v->prot,
			v->flags);
	}
	o->diffs++;
}

static void diff_vmas(out *o, const show_task *ta, const show_task *tb)
{
	for (size_t i = 0; i < tb->nvmas; i++) {
		const show_vma *v = &tb->vmas[i], *w = vma_at(ta, v->start);
		if (!w)
			vma_item(o, "added", v);
		else if (w->end != v->end || w->prot != v->prot || w->flags != v->flags)
			vma_item(o, "changed", v);
	}
	for (size_t i = 0; i < ta->nvmas; i++)
		if (!vma_at(tb, ta->vmas[i].start))
			vma_item(o, "removed", &ta->vmas[i]);
}

typedef struct page_counts {
	uint64_t changed, added, removed, unchanged, unknown;
	bool incomplete;
} page_counts;

/*
 * Pages of pid: B's against A's (changed, added, unchanged; unknown when
 * B's contents are not to be had), then A's that B's pagemap lacks (removed).
 */
static void count_pages(const show_dump *a, const show_task *ta, const show_dump *b,
			const show_task *tb, page_counts *c, uint64_t *budget)
{
	for (int pass = 0; pass < 2; pass++) {
		const show_task *t = pass ? ta : tb;
		for (size_t k = 0; k < t->npents; k++) {
			const show_pent *p = &t->pents[k];
			if (!(p->flags & (CRIU_PE_PRESENT | CRIU_PE_PARENT)) ||
			    p->pages > (UINT64_MAX - p->vaddr) / CRIU_PAGE_SIZE)
				continue;
			for (uint64_t i = 0; i < p->pages; i++) {
				uint64_t va = p->vaddr + i * CRIU_PAGE_SIZE, ha, hb;
				/* a forged pagemap may claim far more pages than any dump
				 * holds: what the budget does not cover is not compared */
				if (!*budget) {
					if (!pass)
						c->unknown += p->pages - i;
					c->incomplete = true;
					break;
				}
				--*budget;
				if (pass) {
					if (!show_pent_at(tb, va) && show_page_hash(a, t->pid, va, &ha))
						c->removed++;
					continue;
				}
				if (!show_page_hash(b, t->pid, va, &hb))
					c->unknown++;
				else if (!show_page_hash(a, t->pid, va, &ha))
					c->added++;
				else if (ha != hb)
					c->changed++;
				else
					c->unchanged++;
			}
		}
	}
}

static void sock_item(out *o, const char *what, const show_dump *d, const show_file *f)
{
	if (o->json) {
		sep(o);
		fprintf(o->f, "{\"change\":\"%s\",\"inode\":%u,\"family\":\"%s\",\"state\":\"%s\","
			"\"target\":", what, f->ino, show_family_name(f->family),
			show_skstate_name(f->state));
		show_file_target(o->f, d, f, true);
		fputc('}', o->f);
	} else {
		fprintf(o->f, "  %s ", what[0] == 'a' ? "+" : what[0] == 'r' ? "-" : "~");
		show_file_target(o->f, d, f, false);
		fputc('\n', o->f);
	}
	o->diffs++;
}

static void diff_sockets(out *o, const show_dump *a, const show_dump *b)
{
	for (size_t i = 0; i < b->files.n; i++) {
		const show_file *f = &SVV(b->files, show_file)[i], *g;
		if (!show_is_socket(f))
			continue;
		if (!(g = show_sock_find(a, f)))
			sock_item(o, "added", b, f);
		else if (g->state != f->state || g->peer != f->peer || g->dst_port != f->dst_port)
			sock_item(o, "changed", b, f);
	}
	for (size_t i = 0; i < a->files.n; i++) {
		const show_file *f = &SVV(a->files, show_file)[i];
		if (show_is_socket(f) && !show_sock_find(b, f))
			sock_item(o, "removed", a, f);
	}
}

static void proc_item(out *o, const char *what, const show_task *t)
{
	if (o->json) {
		sep(o);
		fprintf(o->f, "{\"change\":\"%s\",\"pid\":%u,\"comm\":", what, t->pid);
		show_json_bytes(o->f, (const unsigned char *)(t->comm ? t->comm : ""),
				t->comm ? strlen(t->comm) : 0);
		fputc('}', o->f);
	} else {
		fprintf(o->f, "  %s %u ", what[0] == 'a' ? "+" : "-", t->pid);
		show_put_str(o->f, t->comm ? t->comm : "?");
		fputc('\n', o->f);
	}
	o->diffs++;
}

static uint64_t hashed_pages(const show_dump *d)
{
	uint64_t n = 0;

	for (int depth = 0; d && depth <= SHOW_MAX_PARENTS; depth++, d = d->parent)
		for (size_t k = 0; k < d->pages.n; k++)
			n += SVV(d->pages, show_pages)[k].n;
	return n;
}

static int diff_pair(show_dump *a, show_dump *b, FILE *f, bool json, unsigned long *ndiff,
		     bool *complete);

int show_diff_run(show_dump *a, show_dump *b, FILE *f, bool json)
{
	return diff_pair(a, b, f, json, NULL, NULL);
}

/* What pairs two containers of pod checkpoints: the name, else the folder. */
static const char *ctr_key(const show_dump *d)
{
	return d->pod_name ? d->pod_name : d->ctr_name ? d->ctr_name : d->folder ? d->folder : "";
}

static const show_dump *ctr_find(const show_dump *list, const char *key)
{
	for (const show_dump *c = list; c; c = c->next)
		if (strcmp(ctr_key(c), key) == 0)
			return c;
	return NULL;
}

static void ctr_item(FILE *f, bool json, bool *first, const char *what, const show_dump *c)
{
	if (json) {
		fprintf(f, "%s{\"name\":", *first ? "" : ",");
		show_json_bytes(f, (const unsigned char *)ctr_key(c), strlen(ctr_key(c)));
		fprintf(f, ",\"change\":\"%s\",\"diff\":null}", what);
	} else {
		fprintf(f, "Container %s ", what[0] == 'a' ? "+" : "-");
		show_put_str(f, ctr_key(c));
		fputc('\n', f);
	}
	*first = false;
}

int show_diff_pods(show_dump *a, show_dump *b, const char *an, const char *bn, FILE *f,
		   bool json)
{
	unsigned long total = 0;
	bool first = true, complete = true;

	if (json) {
		fputs("{\"schema\":\"streamverify-diff-pod/1\",\"a\":", f);
		show_json_bytes(f, (const unsigned char *)an, strlen(an));
		fputs(",\"b\":", f);
		show_json_bytes(f, (const unsigned char *)bn, strlen(bn));
		fputs(",\"containers\":[", f);
	} else {
		fputs("Diff ", f);
		show_put_str(f, an);
		fputs(" -> ", f);
		show_put_str(f, bn);
		fputs(", container by container\n", f);
	}
	/* B's containers in order: compared with A's of the same name, or added */
	for (show_dump *cb = b; cb; cb = cb->next) {
		show_dump *ca = (show_dump *)ctr_find(a, ctr_key(cb));
		if (ctr_find(b, ctr_key(cb)) != cb)
			continue; /* a second container of the same name: the first is compared */
		if (!ca) {
			ctr_item(f, json, &first, "added", cb);
			total++;
			continue;
		}
		char *text = NULL;
		size_t len = 0;
		unsigned long n = 0;
		bool whole = true;
		FILE *m = open_memstream(&text, &len);
		if (!m)
			return SV_EXIT_FAILURE;
		int st = diff_pair(ca, cb, m, json, &n, &whole);
		if (fclose(m) != 0 || st == SV_EXIT_FAILURE) {
			free(text);
			return SV_EXIT_FAILURE;
		}
		total += n;
		complete &= whole;
		if (json) {
			fprintf(f, "%s{\"name\":", first ? "" : ",");
			show_json_bytes(f, (const unsigned char *)ctr_key(cb), strlen(ctr_key(cb)));
			fprintf(f, ",\"change\":\"%s\",\"diff\":", n ? "changed" : "unchanged");
			fwrite(text, 1, len ? len - 1 : 0, f); /* its document, without the newline */
			fputc('}', f);
		} else {
			fputs("Container ", f);
			show_put_str(f, ctr_key(cb));
			fputc('\n', f);
			for (size_t i = 0; i < len;) {
				const char *nl = memchr(text + i, '\n', len - i);
				size_t k = nl ? (size_t)(nl - (text + i)) + 1 : len - i;
				fputs("  ", f);
				fwrite(text + i, 1, k, f);
				i += k;
			}
		}
		first = false;
		free(text);
	}
	for (const show_dump *ca = a; ca; ca = ca->next)
		if (!ctr_find(b, ctr_key(ca)) && ctr_find(a, ctr_key(ca)) == ca) {
			ctr_item(f, json, &first, "removed", ca);
			total++;
		}
	if (json)
		fprintf(f, "],\"complete\":%s,\"differences\":%lu}\n", complete ? "true" : "false",
			total);
	else
		fprintf(f, "%lu difference%s in all\n", total, total == 1 ? "" : "s");
	return total ? SV_EXIT_INVALID : SV_EXIT_VALID;
}

/* Two checkpoints; *ndiff and *complete (when not NULL) get the count and completeness. */
static int diff_pair(show_dump *a, show_dump *b, FILE *f, bool json, unsigned long *ndiff,
		     bool *complete)
{
	out o = { f, json, 0, true, 0, false };
	/* page comparisons: twice the pages both dumps (and parents) hold, and some */
	uint64_t budget = ((uint64_t)1 << 20) + 2 * (hashed_pages(a) + hashed_pages(b));
	size_t na = 0, nb = 0;
	size_t *oa = show_tree_order(a, &na), *ob = show_tree_order(b, &nb);

	if (!oa || !ob) {
		free(oa);
		free(ob);
		fprintf(stderr, "streamverify diff: out of memory\n");
		return SV_EXIT_FAILURE;
	}
	if (json) {
		fputs("{\"schema\":\"streamverify-diff/1\",\"a\":", f);
		show_json_bytes(f, (const unsigned char *)a->path, strlen(a->path));
		fputs(",\"b\":", f);
		show_json_bytes(f, (const unsigned char *)b->path, strlen(b->path));
		fputs(",\"processes\":[", f);
	} else {
		fputs("Diff ", f);
		show_put_str(f, a->path);
		fputs(" -> ", f);
		show_put_str(f, b->path);
		fputs("\nProcesses\n", f);
	}
	for (size_t i = 0; i < nb; i++) {
		show_task *t = &SVV(b->tasks, show_task)[ob[i]], *u = show_task_find(a, t->pid);
		if (!u || !u->in_pstree)
			proc_item(&o, "added", t);
	}
	for (size_t i = 0; i < na; i++) {
		show_task *t = &SVV(a->tasks, show_task)[oa[i]], *u = show_task_find(b, t->pid);
		if (!u || !u->in_pstree)
			proc_item(&o, "removed", t);
	}
	if (json)
		fputs("],\"tasks\":[", f);
	bool first_task = true;
	for (size_t i = 0; i < nb; i++) {
		show_task *tb = &SVV(b->tasks, show_task)[ob[i]], *ta = show_task_find(a, tb->pid);
		page_counts pc = { 0 };
		if (!ta || !ta->in_pstree)
			continue;
		count_pages(a, ta, b, tb, &pc, &budget);
		o.incomplete |= pc.incomplete;
		if (json) {
			fprintf(f, "%s{\"pid\":%u,\"state\":", first_task ? "" : ",", tb->pid);
			first_task = false;
			if (ta->state != tb->state)
				fprintf(f, "{\"a\":\"%s\",\"b\":\"%s\"}", show_state_name(ta->state),
					show_state_name(tb->state));
			else
				fputs("null", f);
			fprintf(f, ",\"threads\":{\"a\":%zu,\"b\":%zu},\"fds\":[", ta->ntids, tb->ntids);
			o.first = true;
			diff_fds(&o, a, ta, b, tb);
			fputs("],\"vmas\":[", f);
			o.first = true;
			diff_vmas(&o, ta, tb);
			fprintf(f, "],\"pages\":{\"changed\":%" PRIu64 ",\"added\":%" PRIu64
				",\"removed\":%" PRIu64 ",\"unchanged\":%" PRIu64 ",\"unknown\":%" PRIu64
				"}}", pc.changed, pc.added, pc.removed, pc.unchanged, pc.unknown);
		} else {
			fprintf(f, "Process %u (", tb->pid);
			show_put_str(f, tb->comm ? tb->comm : "?");
			fputs(")\n", f);
			if (ta->state != tb->state)
				fprintf(f, "    ~ state %s -> %s\n", show_state_name(ta->state),
					show_state_name(tb->state));
			if (ta->ntids != tb->ntids)
				fprintf(f, "    ~ threads %zu -> %zu\n", ta->ntids, tb->ntids);
			diff_fds(&o, a, ta, b, tb);
			diff_vmas(&o, ta, tb);
			fprintf(f, "    pages: %" PRIu64 " changed, %" PRIu64 " added, %" PRIu64
				" removed, %" PRIu64 " unchanged, %" PRIu64 " without contents\n",
				pc.changed, pc.added, pc.removed, pc.unchanged, pc.unknown);
		}
		if (ta->state != tb->state)
			o.diffs++;
		if (ta->ntids != tb->ntids)
			o.diffs++;
		o.diffs += pc.changed + pc.added + pc.removed;
	}
	if (json) {
		fputs("],\"sockets\":[", f);
		o.first = true;
	} else {
		fputs("Sockets\n", f);
	}
	diff_sockets(&o, a, b);
	if (json) {
		fprintf(f, "],\"complete\":%s,\"differences\":%lu}\n",
			o.incomplete ? "false" : "true", o.diffs);
	} else {
		if (o.incomplete)
			fputs("(not every fd or page was compared: the checkpoints are larger than "
			      "diff compares)\n", f);
		fprintf(f, "%lu difference%s\n", o.diffs, o.diffs == 1 ? "" : "s");
	}
	free(oa);
	free(ob);
	if (ndiff)
		*ndiff = o.diffs;
	if (complete)
		*complete = !o.incomplete;
	return o.diffs ? SV_EXIT_INVALID : SV_EXIT_VALID;
}
