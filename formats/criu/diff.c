/*
 * `streamverify diff A B`: what changed between two CRIU checkpoints
 * (processes, fds, VMAs, page contents by a 64-bit hash per page, sockets),
 * as a tree or as JSON (docs/show-schema.json, "streamverify-diff/1").
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats/criu/show.h"
#include "formats/criu/images.h"
#include "formats/criu/schema.h"

typedef struct out {
	FILE *f;
	bool json;
	unsigned long diffs;
	bool first;              /* JSON: no comma before the next item */
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
	for (size_t k = 0; t->have_ids && k < d->fds.n; k++) {
		const show_fd *x = &SVV(d->fds, show_fd)[k];
		if (x->files_id == t->files_id && x->fd == fd)
			return x;
	}
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
		for (size_t k = 0; tx->have_ids && k < x->fds.n; k++) {
			const show_fd *fx = &SVV(x->fds, show_fd)[k];
			if (fx->files_id != tx->files_id)
				continue;
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

static const show_vma *vma_at(const show_task *t, uint64_t start)
{
	for (size_t i = 0; i < t->nvmas; i++)
		if (t->vmas[i].start == start)
			return &t->vmas[i];
	return NULL;
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
} page_counts;

/*
 * Pages of pid: B's against A's (changed, added, unchanged; unknown when
 * B's contents are not to be had), then A's that B's pagemap lacks (removed).
 */
static void count_pages(const show_dump *a, const show_task *ta, const show_dump *b,
			const show_task *tb, page_counts *c)
{
	for (int pass = 0; pass < 2; pass++) {
		const show_task *t = pass ? ta : tb;
		for (size_t k = 0; k < t->npents; k++) {
			const show_pent *p = &t->pents[k];
			if (!(p->flags & (SHOW_PE_PRESENT | SHOW_PE_PARENT)) ||
			    p->pages > (UINT64_MAX - p->vaddr) / CRIU_PAGE_SIZE)
				continue;
			for (uint64_t i = 0; i < p->pages; i++) {
				uint64_t va = p->vaddr + i * CRIU_PAGE_SIZE, ha, hb;
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

static bool sock_key(const show_file *f, uint32_t *key)
{
	if (f->type != FD_TYPES__INETSK && f->type != FD_TYPES__UNIXSK &&
	    f->type != FD_TYPES__NETLINKSK && f->type != FD_TYPES__PACKETSK)
		return false;
	*key = f->type == FD_TYPES__PACKETSK ? f->id : f->ino;
	return true;
}

static const show_file *sock_find(const show_dump *d, const show_file *f)
{
	uint32_t k, key;

	if (!sock_key(f, &key))
		return NULL;
	for (size_t i = 0; i < d->files.n; i++) {
		const show_file *x = &SVV(d->files, show_file)[i];
		if (x->type == f->type && sock_key(x, &k) && k == key)
			return x;
	}
	return NULL;
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
		uint32_t key;
		if (!sock_key(f, &key))
			continue;
		if (!(g = sock_find(a, f)))
			sock_item(o, "added", b, f);
		else if (g->state != f->state || g->peer != f->peer || g->dst_port != f->dst_port)
			sock_item(o, "changed", b, f);
	}
	for (size_t i = 0; i < a->files.n; i++) {
		const show_file *f = &SVV(a->files, show_file)[i];
		uint32_t key;
		if (sock_key(f, &key) && !sock_find(b, f))
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

int show_diff_run(show_dump *a, show_dump *b, FILE *f, bool json)
{
	out o = { f, json, 0, true };
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
		count_pages(a, ta, b, tb, &pc);
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
	if (json)
		fprintf(f, "],\"differences\":%lu}\n", o.diffs);
	else
		fprintf(f, "%lu difference%s\n", o.diffs, o.diffs == 1 ? "" : "s");
	free(oa);
	free(ob);
	return o.diffs ? SV_EXIT_INVALID : SV_EXIT_VALID;
}
