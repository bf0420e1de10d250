/*
 * CRIU dump directories: reading the directory, verifying every image with
 * the image module while collecting what each says, deciding what kind of
 * directory it is, then running the relation checks (dump_*.c) and
 * reporting the images nothing refers to.
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
#include <zlib.h>

#define CRIU_DUMP_INTERNAL
#include "formats/criu/dump/dump.h"
#include "internal.h"
#include "formats/criu/image/raw.h"
#include "formats/criu/schema/schema.h"
#include "formats/criu/schema/linux.h"


const char *const dump_ns_names[DNS_COUNT] = {
	"pid", "net", "ipc", "uts", "mnt", "user", "cgroup", "time"
};

/* ---- small helpers ---------------------------------------------------------- */

void *dump_push(dump *d, dvec *vec, size_t elem)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 16;
		void *p;

		if (vec->n >= DUMP_MAX_ITEMS) {
			if (!d->limited)
				dump_report(d, d->cur_img, SV_NONE, NULL, CD_LIMIT, SV_NONE,
					    "more than %u items of one kind: the rest are not "
					    "cross-checked", DUMP_MAX_ITEMS);
			d->limited = true;
			return NULL;
		}
		if (cap > DUMP_MAX_ITEMS)
			cap = DUMP_MAX_ITEMS;
		p = realloc(vec->v, cap * elem);
		if (!p) {
			dump_oom(d, "the tables of the dump");
			return NULL;
		}
		vec->v = p;
		vec->cap = cap;
	}
	void *item = (char *)vec->v + vec->n * elem;
	memset(item, 0, elem);
	vec->n++;
	return item;
}

void dump_sort(dvec *vec, size_t elem, int (*cmp)(const void *, const void *))
{
	if (vec->n > 1)
		qsort(vec->v, vec->n, elem, cmp);
}

void dump_vec_free(dvec *vec)
{
	free(vec->v);
	vec->v = NULL;
	vec->n = vec->cap = 0;
}

static char *keep_string(dump *d, char *s)
{
	char **slot;

	if (!s)
		return NULL;
	/* Strings are few (one or two per file): their table is not capped. */
	if (d->strs.n == d->strs.cap) {
		size_t cap = d->strs.cap ? d->strs.cap * 2 : 64;
		void *p = realloc(d->strs.v, cap * sizeof(char *));
		if (!p) {
			free(s);
			return NULL;
		}
		d->strs.v = p;
		d->strs.cap = cap;
	}
	slot = &DV(d->strs, char *)[d->strs.n++];
	*slot = s;
	return s;
}

char *dump_strdup(dump *d, const char *s)
{
	return keep_string(d, strdup(s));
}

char *dump_printf(dump *d, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return keep_string(d, s);
}

static dimg *by_name(dump *d, size_t k);

/* A name to look up in byname: an index into imgs. */
typedef struct name_key {
	const dimg *imgs;
	const char *name;
} name_key;

static int cmp_img_name_key(const void *elem, const void *key)
{
	const name_key *k = key;
	return strcmp(k->imgs[*(const size_t *)elem].name, k->name);
}

dimg *dump_find(dump *d, const char *name)
{
	name_key key = { DV(d->imgs, dimg), name };
	size_t lo = sv_lower_bound(&key, d->byname.v, d->byname.n, sizeof(size_t),
				     cmp_img_name_key);

	if (lo < d->byname.n && strcmp(by_name(d, lo)->name, name) == 0)
		return by_name(d, lo);
	return NULL;
}

dimg *dump_find_id(dump *d, const char *prefix, uint64_t id, bool hex)
{
	char name[128];

	snprintf(name, sizeof(name), hex ? "%s%" PRIx64 ".img" : "%s%" PRIu64 ".img",
		 prefix, id);
	return dump_find(d, name);
}

dimg *dump_ref(dump *d, const char *prefix, uint64_t id, bool hex)
{
	dimg *i = dump_find_id(d, prefix, id, hex);

	if (i)
		i->referenced = true;
	return i;
}

const char *dump_img_path(dump *d, long img)
{
	if (img < 0 || (size_t)img >= d->imgs.n)
		return d->path;
	return DV(d->imgs, dimg)[img].path;
}

void dump_report(dump *d, long img, uint64_t rec, const char *rec_type, int code,
		 uint64_t off, const char *fmt, ...)
{
	va_list ap;

	sv_set_file(d->cx, img >= 0 && (size_t)img < d->imgs.n ?
			   DV(d->imgs, dimg)[img].path : NULL);
	if (rec == SV_NONE)
		sv_record_none(d->cx);
	else
		sv_set_record(d->cx, rec, rec_type);
	va_start(ap, fmt);
	sv_vreport(d->cx, &criu_dump_codes[code], off, fmt, ap);
	va_end(ap);
	sv_record_none(d->cx);
	sv_set_file(d->cx, NULL);
}

const char *dump_fd_type_name(uint32_t type)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&fd_types__descriptor, (int)type);
	return v ? v->name : "unknown";
}

/* ---- lookups ------------------------------------------------------------------ */

/* dump.task_order: pids with their task index, sorted by pid. */
typedef struct pid_index {
	uint32_t pid;
	size_t task;
} pid_index;

static int cmp_pid_index(const void *a, const void *b)
{
	const pid_index *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->task < y->task ? -1 : x->task > y->task;
}

dtask *dump_find_task(dump *d, uint32_t pid)
{
	if (d->task_order.n != d->tasks.n) {
		dump_vec_free(&d->task_order);
		for (size_t i = 0; i < d->tasks.n; i++) {
			pid_index *slot = dump_push(d, &d->task_order, sizeof(pid_index));
			if (!slot)
				return NULL;
			slot->pid = DV(d->tasks, dtask)[i].pid;
			slot->task = i;
		}
		dump_sort(&d->task_order, sizeof(pid_index), cmp_pid_index);
	}
	const pid_index *o = DV(d->task_order, pid_index);
	pid_index key = { pid, 0 };
	size_t lo = sv_lower_bound(&key, o, d->task_order.n, sizeof(*o), cmp_pid_index);
	return lo < d->task_order.n && o[lo].pid == pid ? &DV(d->tasks, dtask)[o[lo].task] : NULL;
}

static int cmp_core(const void *a, const void *b)
{
	uint32_t x = ((const dcore *)a)->tid, y = ((const dcore *)b)->tid;
	return x < y ? -1 : x > y;
}

dcore *dump_core(dump *d, uint32_t tid)
{
	dcore key = { .tid = tid };

	if (!d->cores.n)
		return NULL;
	return bsearch(&key, d->cores.v, d->cores.n, sizeof(dcore), cmp_core);
}

int dump_img_cmp(dump *d, long a, long b)
{
	if (a == b)
		return 0;
	if (a < 0 || b < 0)
		return a < b ? -1 : 1;
	int c = strcmp(DV(d->imgs, dimg)[a].name, DV(d->imgs, dimg)[b].name);
	return c ? c : (a < b ? -1 : 1);
}

static int cmp_file(const void *a, const void *b, void *arg)
{
	const dfile *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	/* stable whatever the member order: the entry of the first image by
	 * name first, so duplicates name it */
	if (x->img != y->img)
		return dump_img_cmp(arg, x->img, y->img);
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The order of cmp_file() by id alone: the first entry of an id is found. */
static int cmp_file_id(const void *a, const void *b)
{
	uint32_t x = ((const dfile *)a)->id, y = ((const dfile *)b)->id;
	return x < y ? -1 : x > y;
}

dfile *dump_file(dump *d, uint32_t id)
{
	dfile *f = DV(d->files, dfile);
	dfile key = { .id = id };
	size_t lo = sv_lower_bound(&key, f, d->files.n, sizeof(*f), cmp_file_id);

	return lo < d->files.n && f[lo].id == id ? &f[lo] : NULL;
}

const dids *dump_task_ids(dump *d, const dtask *t)
{
	if (t->ids >= 0)
		return &DV(d->ids, dids)[t->ids];
	if (t->core >= 0 && DV(d->cores, dcore)[t->core].has_ids)
		return &DV(d->cores, dcore)[t->core].ids;
	return NULL;
}

/* ---- collecting what images say ------------------------------------------------ */

static void copy_ids(dids *out, const TaskKobjIdsEntry *e)
{
	out->vm = e->vm_id;
	out->files = e->files_id;
	out->fs = e->fs_id;
	out->sighand = e->sighand_id;
#define NS(k, f) if (e->has_##f) { out->ns[k] = e->f; out->ns_has |= 1u << k; }
	NS(DNS_PID, pid_ns_id)
	NS(DNS_NET, net_ns_id)
	NS(DNS_IPC, ipc_ns_id)
	NS(DNS_UTS, uts_ns_id)
	NS(DNS_MNT, mnt_ns_id)
	NS(DNS_USER, user_ns_id)
	NS(DNS_CGROUP, cgroup_ns_id)
	NS(DNS_TIME, time_ns_id)
#undef NS
}

void dump_collect_pagemap(dump *d, dvec *ents, dpagemap *pm, const criu_entry *e)
{
	if (e->role == CRIU_ENTRY_PAGEMAP_HEAD) {
		pm->has_head = true;
		pm->pages_id = ((const PagemapHead *)e->msg)->pages_id;
		return;
	}
	const PagemapEntry *pe = (const PagemapEntry *)e->msg;
	dpage *p = dump_push(d, ents, sizeof(dpage));
	if (!p)
		return;
	if (pm->nents == 0)
		pm->ent0 = ents->n - 1;
	pm->nents++;
	p->vaddr = pe->vaddr;
	p->pages = criu_pagemap_pages(pe);
	p->flags = criu_pagemap_flags(pe);
	p->index = e->index;
	if (p->flags & CRIU_PE_PRESENT)
		pm->present += p->pages;
	else if (p->flags & CRIU_PE_PARENT)
		pm->parent += p->pages;
	else if (p->flags & CRIU_PE_LAZY)
		pm->lazy += p->pages;
}

#define FSTYPE_TMPFS 5u

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

char *dump_norm_path(dump *d, const char *path)
{
	size_t n = strlen(path), o = 0;
	char *out = malloc(n + 1);

	if (!out) {
		dump_oom(d, "mount roots");
		return NULL;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && path[j] != '/')
			j++;
		size_t len = j - i;
		if (len && !(len == 1 && path[i] == '.')) {
			if (o)
				out[o++] = '/';
			memcpy(out + o, path + i, len);
			o += len;
		}
		i = j + 1;
	}
	out[o] = '\0';
	char *kept = keep_string(d, out);
	if (!kept)
		dump_oom(d, "mount roots");
	return kept;
}

static dfile *push_file(dump *d, uint32_t id, uint32_t type, uint64_t index)
{
	dfile *f = dump_push(d, &d->files, sizeof(dfile));

	if (f) {
		f->id = id;
		f->type = type;
		f->img = d->cur_img;
		f->index = index;
	}
	return f;
}

static void fill_unix(dfile *f, const UnixSkEntry *u)
{
	f->ino = u->ino;
	f->peer = u->peer;
	f->uflags = u->uflags;
	f->sktype = u->type;
	f->state = u->state;
	f->family = CRIU_AF_UNIX;
}

static void fill_inet(dfile *f, const InetSkEntry *s)
{
	f->ino = s->ino;
	f->family = s->family;
	f->sktype = s->type;
	f->proto = s->proto;
	f->state = s->state;
	f->dst_port = s->dst_port;
}

/* The sub-message a file entry of type t carries (criu/files.c collect_one_file()). */
static const void *file_submsg(const FileEntry *fe, bool *known)
{
	*known = true;
	switch (fe->type) {
	case FD_TYPES__REG: return fe->reg;
	case FD_TYPES__INETSK: return fe->isk;
	case FD_TYPES__NS: return fe->nsf;
	case FD_TYPES__PACKETSK: return fe->psk;
	case FD_TYPES__NETLINKSK: return fe->nlsk;
	case FD_TYPES__EVENTFD: return fe->efd;
	case FD_TYPES__EVENTPOLL: return fe->epfd;
	case FD_TYPES__SIGNALFD: return fe->sgfd;
	case FD_TYPES__TUNF: return fe->tunf;
	case FD_TYPES__TIMERFD: return fe->tfd;
	case FD_TYPES__INOTIFY: return fe->ify;
	case FD_TYPES__FANOTIFY: return fe->ffy;
	case FD_TYPES__EXT: return fe->ext;
	case FD_TYPES__UNIXSK: return fe->usk;
	case FD_TYPES__FIFO: return fe->fifo;
	case FD_TYPES__PIPE: return fe->pipe;
	case FD_TYPES__TTY: return fe->tty;
	case FD_TYPES__MEMFD: return fe->memfd;
	case FD_TYPES__BPFMAP: return fe->bpf;
	default:
		*known = false; /* outside the enum: the image check says so */
		return NULL;
	}
}

static dref *push_ref(dump *d, dvec *vec, uint64_t index)
{
	dref *r = dump_push(d, vec, sizeof(dref));

	if (r) {
		r->index = index;
		r->img = d->cur_img;
	}
	return r;
}

static void push_tfd(dump *d, uint32_t epoll, uint32_t tfd, uint64_t index)
{
	dref *r = push_ref(d, &d->epoll_tfds, index);
	if (r) {
		r->a = epoll;
		r->b = tfd;
	}
}

static void collect_file_entry(dump *d, const FileEntry *fe, uint64_t index)
{
	bool known;

	/* Reported once; the file still exists for what refers to it. */
	if (!file_submsg(fe, &known) && known)
		dump_report(d, d->cur_img, index, "file_entry", CD_FILE_SUBMSG, SV_NONE,
			    "file %" PRIu32 " is %s but carries no %s sub-message: restore "
			    "would dereference it", fe->id, dump_fd_type_name(fe->type),
			    dump_fd_type_name(fe->type));
	dfile *f = push_file(d, fe->id, fe->type, index);

	if (!f)
		return;
	f->mnt_id = -1;
	if (fe->reg && fe->reg->has_mnt_id)
		f->mnt_id = fe->reg->mnt_id;
	if (fe->tty)
		f->tty_info = fe->tty->tty_info_id;
	if (fe->epfd)
		for (size_t k = 0; k < fe->epfd->n_tfd; k++)
			push_tfd(d, fe->epfd->id, fe->epfd->tfd[k]->tfd, index);
	if (fe->usk)
		fill_unix(f, fe->usk);
	if (fe->isk)
		fill_inet(f, fe->isk);
	if (fe->psk)
		f->family = CRIU_AF_PACKET;
	if (fe->nlsk) {
		f->family = CRIU_AF_NETLINK;
		f->ino = fe->nlsk->ino;
		f->state = fe->nlsk->state;
	}
	if (fe->pipe)
		f->pipe_id = fe->pipe->pipe_id;
	if (fe->fifo)
		f->pipe_id = fe->fifo->pipe_id;
	if (fe->memfd)
		f->inode_id = fe->memfd->inode_id;
}

/* File types of the per-type images older CRIUs wrote instead of files.img. */
static int legacy_file_type(criu_type_id t)
{
	switch (t) {
	case CRIU_T_REG_FILES: return FD_TYPES__REG;
	case CRIU_T_EXT_FILES: return FD_TYPES__EXT;
	case CRIU_T_NS_FILES: return FD_TYPES__NS;
	case CRIU_T_EVENTFD_FILE: return FD_TYPES__EVENTFD;
	case CRIU_T_EVENTPOLL_FILE: return FD_TYPES__EVENTPOLL;
	case CRIU_T_SIGNALFD: return FD_TYPES__SIGNALFD;
	case CRIU_T_INOTIFY_FILE: return FD_TYPES__INOTIFY;
	case CRIU_T_FANOTIFY_FILE: return FD_TYPES__FANOTIFY;
	case CRIU_T_PIPES: return FD_TYPES__PIPE;
	case CRIU_T_FIFO: return FD_TYPES__FIFO;
	case CRIU_T_UNIXSK: return FD_TYPES__UNIXSK;
	case CRIU_T_INETSK: return FD_TYPES__INETSK;
	case CRIU_T_PACKETSK: return FD_TYPES__PACKETSK;
	case CRIU_T_NETLINK_SK: return FD_TYPES__NETLINKSK;
	case CRIU_T_TUNFILE: return FD_TYPES__TUNF;
	case CRIU_T_TIMERFD: return FD_TYPES__TIMERFD;
	case CRIU_T_TTY_FILES: return FD_TYPES__TTY;
	case CRIU_T_BPFMAP_FILE: return FD_TYPES__BPFMAP;
	default: return -1;
	}
}

bool dump_files_unsure(dump *d)
{
	if (DUMP_CAPPED(d->files))
		return true;
	for (int t = 0; t < CRIU_T_COUNT; t++)
		if (d->damaged_types[t] && (t == CRIU_T_FILES || legacy_file_type((criu_type_id)t) >= 0))
			return true;
	return false;
}

static void collect_legacy_file(dump *d, int type, const ProtobufCMessage *m, uint64_t index)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "id");

	if (!fd || fd->type != PROTOBUF_C_TYPE_UINT32 || fd->label != PROTOBUF_C_LABEL_REQUIRED)
		return;
	uint32_t id;
	memcpy(&id, (const char *)m + fd->offset, sizeof(id));
	dfile *f = push_file(d, id, (uint32_t)type, index);
	if (!f)
		return;
	f->mnt_id = -1;
	if (m->descriptor == &reg_file_entry__descriptor && ((const RegFileEntry *)m)->has_mnt_id)
		f->mnt_id = ((const RegFileEntry *)m)->mnt_id;
	else if (m->descriptor == &tty_file_entry__descriptor)
		f->tty_info = ((const TtyFileEntry *)m)->tty_info_id;
	else if (m->descriptor == &eventpoll_file_entry__descriptor)
		for (size_t k = 0; k < ((const EventpollFileEntry *)m)->n_tfd; k++)
			push_tfd(d, id, ((const EventpollFileEntry *)m)->tfd[k]->tfd, index);
	if (m->descriptor == &unix_sk_entry__descriptor)
		fill_unix(f, (const UnixSkEntry *)m);
	else if (m->descriptor == &inet_sk_entry__descriptor)
		fill_inet(f, (const InetSkEntry *)m);
	else if (m->descriptor == &pipe_entry__descriptor)
		f->pipe_id = ((const PipeEntry *)m)->pipe_id;
	else if (m->descriptor == &fifo_entry__descriptor)
		f->pipe_id = ((const FifoEntry *)m)->pipe_id;
}

static void collect_core(dump *d, const CoreEntry *c)
{
	dcore *k = dump_push(d, &d->cores, sizeof(dcore));

	if (!k)
		return;
	k->tid = (uint32_t)d->cur->id;
	k->img = d->cur_img;
	k->has_arch_info = c->thread_info || c->ti_arm || c->ti_aarch64 || c->ti_ppc64 ||
			   c->ti_s390 || c->ti_mips;
	if (c->ids) {
		k->has_ids = true;
		copy_ids(&k->ids, c->ids);
	}
	if (c->tc) {
		k->has_tc = true;
		k->task_state = c->tc->task_state;
		k->exit_code = c->tc->exit_code;
		k->has_cg_set = c->tc->has_cg_set;
		k->cg_set = c->tc->cg_set;
		snprintf(k->comm, sizeof(k->comm), "%s", c->tc->comm ? c->tc->comm : "");
	}
	/* Seccomp moved from tc to thread_core; CRIU reads the old place too. */
	bool filter_mode = false;
	if (c->thread_core && c->thread_core->has_seccomp_mode)
		filter_mode = c->thread_core->seccomp_mode == SECCOMP_MODE__filter;
	else if (c->tc && c->tc->has_old_seccomp_mode)
		filter_mode = c->tc->old_seccomp_mode == SECCOMP_MODE__filter;
	if (filter_mode) {
		if (c->thread_core && c->thread_core->has_seccomp_filter) {
			k->has_seccomp_filter = true;
			k->seccomp_filter = c->thread_core->seccomp_filter;
		} else if (c->tc && c->tc->has_old_seccomp_filter) {
			k->has_seccomp_filter = true;
			k->seccomp_filter = c->tc->old_seccomp_filter;
		} else {
			/* CRIU then uses index 0 */
			k->has_seccomp_filter = true;
			k->seccomp_filter = 0;
		}
	}
	if (!k->comm[0] && c->thread_core && c->thread_core->comm)
		snprintf(k->comm, sizeof(k->comm), "%s", c->thread_core->comm);
}

static void collect_mm(dump *d, const MmEntry *m)
{
	dmm *mm = dump_push(d, &d->mms, sizeof(dmm));

	if (!mm)
		return;
	mm->pid = (uint32_t)d->cur->id;
	mm->img = d->cur_img;
	mm->exe_file_id = m->exe_file_id;
	mm->vma0 = d->vmas.n;
	for (size_t i = 0; i < m->n_vmas; i++) {
		dvma *v = dump_push(d, &d->vmas, sizeof(dvma));
		if (!v)
			break;
		v->start = m->vmas[i]->start;
		v->end = m->vmas[i]->end;
		v->shmid = m->vmas[i]->shmid;
		v->status = m->vmas[i]->status;
		v->flags = m->vmas[i]->flags;
		v->index = i;
		mm->nvmas++;
	}
}

static void collect_inventory(dump *d, const InventoryEntry *e)
{
	d->have_inventory = true;
	d->img_version = e->img_version;
	d->predump = e->has_pre_dump_mode;
	d->tcp_close = e->has_tcp_close && e->tcp_close;
	d->ns_per_id = e->has_ns_per_id && e->ns_per_id;
	d->has_root_cg_set = e->has_root_cg_set;
	d->root_cg_set = e->root_cg_set;
	/* Image version 3, compression by regions (the image check vets the size). */
	if (e->has_compress && e->compress == 2 && e->has_compress_region_size)
		d->region_pages = e->compress_region_size / CRIU_PAGE_SIZE;
	if (e->root_ids) {
		d->has_root_ids = true;
		copy_ids(&d->root_ids, e->root_ids);
	}
	if (e->plugins_entry) {
		const PluginsEntry *pe = e->plugins_entry;
		d->has_plugins_entry = true;
		d->nplugins = pe->n_plugins;
		for (size_t k = 0; k < pe->n_plugins && k < DUMP_MAX_PLUGINS; k++) {
			char buf[64];
			size_t n = 0;
			/* Names go to the output: printable, and short. */
			for (const char *c = pe->plugins[k] ? pe->plugins[k] : ""; *c && n < sizeof(buf) - 1; c++)
				buf[n++] = *c >= 0x20 && *c < 0x7f ? *c : '?';
			buf[n] = 0;
			d->plugins[k] = dump_strdup(d, buf);
		}
	}
}

static void collect_stats(dump *d, const StatsEntry *s)
{
	const DumpStatsEntry *ds = s->dump;

	if (!ds)
		return;
	d->have_stats = true;
	uint64_t v[14] = {
		ds->freezing_time, ds->frozen_time, ds->memdump_time, ds->memwrite_time,
		ds->pages_scanned, ds->pages_skipped_parent, ds->pages_written,
		ds->irmap_resolve, ds->pages_lazy, ds->page_pipes, ds->page_pipe_bufs,
		ds->shpages_scanned, ds->shpages_skipped_parent, ds->shpages_written
	};
	bool has[14] = {
		true, true, true, true, true, true, true, ds->has_irmap_resolve, true,
		ds->has_page_pipes, ds->has_page_pipe_bufs, ds->has_shpages_scanned,
		ds->has_shpages_skipped_parent, ds->has_shpages_written
	};
	memcpy(d->stats, v, sizeof(v));
	memcpy(d->stats_has, has, sizeof(has));
}

static int visit_entry(void *arg, const criu_entry *e)
{
	dump *d = arg;
	const ProtobufCMessageDescriptor *desc = e->msg->descriptor;
	const criu_image_type *named = d->cur->named ? d->cur->named->type : NULL;

	if (!named)
		return 0;
	/* Entries of a type the name does not imply were reported (criu.magic.name). */
	if (e->role == CRIU_ENTRY_PAGEMAP_HEAD || desc == &pagemap_entry__descriptor) {
		if (named->id == CRIU_T_PAGEMAP && d->cur_pm) {
			dump_collect_pagemap(d, &d->pents, d->cur_pm, e);
			const PagemapEntry *pe = (const PagemapEntry *)e->msg;
			/*
			 * Every region of a region-compressed dump has the
			 * inventory's size: restore decompresses by it.  One
			 * finding for the dump: one cause, whichever side is wrong.
			 */
			if (e->role == CRIU_ENTRY_MAIN && d->region_pages && pe->has_region_pages &&
			    pe->region_pages != d->region_pages && !d->region_reported++)
				dump_report(d, d->cur_img, e->index, "pagemap_entry", CD_REGION_PAGES,
					    e->offset, "region_pages is %" PRIu32 ", but inventory.img's "
					    "compress_region_size makes regions of %" PRIu32 " pages",
					    pe->region_pages, d->region_pages);
			if (d->cur_pm->plan && e->role == CRIU_ENTRY_MAIN &&
			    !criu_pages_plan_add(d->cur_pm->plan, e->index, (const PagemapEntry *)e->msg)) {
				/* Never a silent gap: without the plan the pages go unchecked. */
				criu_pages_plan_free(d->cur_pm->plan);
				d->cur_pm->plan = NULL;
				dump_oom(d, "the payload plan of a compressed pagemap");
			}
		}
		return 0;
	}
	if (e->role != CRIU_ENTRY_MAIN || desc != named->entry)
		return 0;
	/*
	 * Pids, files ids and namespace ids are 32-bit: CRIU never opens an
	 * image whose name carries a larger one (core-4294967530.img is not
	 * task 234's core).  Its contents stand for nothing; nothing refers
	 * to it.
	 */
	if (d->cur->id > UINT32_MAX)
		return 0;

	switch (named->id) {
	case CRIU_T_INVENTORY:
		collect_inventory(d, (const InventoryEntry *)e->msg);
		break;
	case CRIU_T_PSTREE: {
		const PstreeEntry *p = (const PstreeEntry *)e->msg;
		dtask *t = dump_push(d, &d->tasks, sizeof(dtask));
		if (!t)
			break;
		t->pid = p->pid;
		t->ppid = p->ppid;
		t->pgid = p->pgid;
		t->sid = p->sid;
		t->index = e->index;
		t->offset = e->offset;
		t->parent = t->core = t->ids = -1;
		t->thread0 = d->threads.n;
		for (size_t i = 0; i < p->n_threads; i++) {
			uint32_t *tid = dump_push(d, &d->threads, sizeof(uint32_t));
			if (!tid)
				break;
			*tid = p->threads[i];
			t->nthreads++;
		}
		break;
	}
	case CRIU_T_CORE:
		collect_core(d, (const CoreEntry *)e->msg);
		break;
	case CRIU_T_IDS: {
		dids *i = dump_push(d, &d->ids, sizeof(dids));
		if (i) {
			copy_ids(i, (const TaskKobjIdsEntry *)e->msg);
			i->pid = (uint32_t)d->cur->id;
		}
		break;
	}
	case CRIU_T_MM:
		collect_mm(d, (const MmEntry *)e->msg);
		break;
	case CRIU_T_FS: {
		const FsEntry *f = (const FsEntry *)e->msg;
		dfs *fs = dump_push(d, &d->fss, sizeof(dfs));
		if (fs) {
			fs->pid = (uint32_t)d->cur->id;
			fs->cwd = f->cwd_id;
			fs->root = f->root_id;
			fs->img = d->cur_img;
		}
		break;
	}
	case CRIU_T_FDINFO: {
		const FdinfoEntry *f = (const FdinfoEntry *)e->msg;
		dfd *fd;
		if (!d->cur_fdinfo)
			break;
		fd = dump_push(d, &d->fds, sizeof(dfd));
		if (!fd)
			break;
		if (d->cur_fdinfo->nfds == 0)
			d->cur_fdinfo->fd0 = d->fds.n - 1;
		d->cur_fdinfo->nfds++;
		fd->fd = f->fd;
		fd->id = f->id;
		fd->type = f->type;
		fd->index = e->index;
		break;
	}
	case CRIU_T_FILES:
		collect_file_entry(d, (const FileEntry *)e->msg, e->index);
		break;
	case CRIU_T_MEMFD_INODE: {
		const MemfdInodeEntry *m = (const MemfdInodeEntry *)e->msg;
		dmemfd *mi = dump_push(d, &d->memfds, sizeof(dmemfd));
		if (mi) {
			mi->inode_id = m->inode_id;
			mi->shmid = m->shmid;
			mi->size = m->size;
			mi->index = e->index;
		}
		break;
	}
	case CRIU_T_REMAP_FPATH: {
		const RemapFilePathEntry *r = (const RemapFilePathEntry *)e->msg;
		dremap *rm = dump_push(d, &d->remaps, sizeof(dremap));
		if (!rm)
			break;
		rm->orig_id = r->orig_id;
		rm->remap_id = r->remap_id;
		rm->index = e->index;
		if (r->has_remap_type) {
			rm->type = r->remap_type;
		} else if (r->remap_id & 0x80000000u) {
			/* Before remap_type, REMAP_GHOST was the id's top bit. */
			rm->type = REMAP_TYPE__GHOST;
			rm->remap_id &= ~0x80000000u;
		} else {
			rm->type = REMAP_TYPE__LINKED;
		}
		break;
	}
	case CRIU_T_PIPES_DATA:
	case CRIU_T_FIFO_DATA: {
		dref *r = push_ref(d, named->id == CRIU_T_PIPES_DATA ? &d->pipe_data : &d->fifo_data,
				   e->index);
		if (r)
			r->a = ((const PipeDataEntry *)e->msg)->pipe_id;
		break;
	}
	case CRIU_T_SK_QUEUES: {
		dref *r = push_ref(d, &d->skqs, e->index);
		if (r)
			r->a = ((const SkPacketEntry *)e->msg)->id_for;
		break;
	}
	case CRIU_T_FILE_LOCKS: {
		const FileLockEntry *l = (const FileLockEntry *)e->msg;
		dref *r = push_ref(d, &d->locks, e->index);
		if (r) {
			r->sa = l->pid;
			r->sb = l->fd;
		}
		break;
	}
	case CRIU_T_INOTIFY_WD:
	case CRIU_T_FANOTIFY_MARK: {
		dref *r = push_ref(d, &d->marks, e->index);
		if (r) {
			bool ino = named->id == CRIU_T_INOTIFY_WD;
			r->a = ino ? ((const InotifyWdEntry *)e->msg)->id :
				     ((const FanotifyMarkEntry *)e->msg)->id;
			r->b = ino ? FD_TYPES__INOTIFY : FD_TYPES__FANOTIFY;
		}
		break;
	}
	case CRIU_T_IPCNS_SHM: {
		const IpcShmEntry *s = (const IpcShmEntry *)e->msg;
		uint32_t *sid = dump_push(d, &d->shm_ids, sizeof(uint32_t));
		if (sid)
			*sid = s->desc->id;
		if (s->has_in_pagemaps && s->in_pagemaps) {
			dref *r = push_ref(d, &d->ipc_shms, e->index);
			if (r)
				r->a = s->desc->id;
		}
		break;
	}
	case CRIU_T_CGROUP: {
		const CgroupEntry *c = (const CgroupEntry *)e->msg;
		d->have_cgroup = true;
		d->cgroup_img = d->cur_img;
		for (size_t i = 0; i < c->n_sets; i++) {
			uint32_t *id = dump_push(d, &d->cgsets, sizeof(uint32_t));
			if (!id)
				break;
			*id = c->sets[i]->id;
		}
		break;
	}
	case CRIU_T_SECCOMP:
		d->have_seccomp = true;
		d->seccomp_img = d->cur_img;
		d->nseccomp = ((const SeccompEntry *)e->msg)->n_seccomp_filters;
		break;
	case CRIU_T_MNTS: {
		const MntEntry *m = (const MntEntry *)e->msg;
		dmount *mt = dump_push(d, &d->mounts, sizeof(dmount));
		if (mt) {
			mt->fstype = m->fstype;
			mt->mnt_id = m->mnt_id;
			mt->root_dev = m->root_dev;
			mt->ns = d->cur->id;
			mt->ext = (m->has_ext_mount && m->ext_mount) || m->ext_key;
			mt->plugin = m->has_with_plugin && m->with_plugin;
			mt->ns_root = m->mountpoint && strcmp(m->mountpoint, "/") == 0;
			mt->source = hash_str(m->source ? m->source : "");
			mt->index = e->index;
			mt->img = d->cur_img;
			/* Roots matter only where a tmpfs archive may be needed. */
			if ((mt->fstype == FSTYPE_TMPFS || mt->ext) &&
			    !(mt->root = dump_norm_path(d, m->root ? m->root : "")))
				d->mounts.n--;
		}
		break;
	}
	case CRIU_T_EVENTPOLL_TFD: {
		const EventpollTfdEntry *t = (const EventpollTfdEntry *)e->msg;
		push_tfd(d, t->id, t->tfd, e->index);
		break;
	}
	case CRIU_T_TTY_INFO: {
		uint32_t *id = dump_push(d, &d->tty_infos, sizeof(uint32_t));
		if (id)
			*id = ((const TtyInfoEntry *)e->msg)->id;
		break;
	}
	case CRIU_T_STATS:
		if (strcmp(d->cur->name, "stats-dump") == 0)
			collect_stats(d, (const StatsEntry *)e->msg);
		break;
	default: {
		int ft = legacy_file_type(named->id);
		if (ft >= 0)
			collect_legacy_file(d, ft, e->msg, e->index);
		break;
	}
	}
	return 0;
}

/* ---- members ------------------------------------------------------------------ */

static bool is_log(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcmp(name + n - 4, ".log") == 0;
}

/*
 * Out of memory: the dump cannot be verified (an I/O-class failure of the
 * run, never a verdict on the input).
 */
void dump_oom(dump *d, const char *what)
{
	if (!sv_stopped(d->cx))
		sv_report(d->cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
			  "out of memory (%s): the dump is not verified", what);
	sv_ctx_io_failed(d->cx);
}

criu_dump *criu_dump_new(sv_ctx *cx, const char *path)
{
	dump *d = calloc(1, sizeof(*d));
	size_t n;

	if (d)
		d->base = strdup(path && *path ? path : ".");
	if (!d || !d->base) {
		free(d);
		sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
			  "out of memory: the dump is not verified");
		sv_ctx_io_failed(cx);
		return NULL;
	}
	n = strlen(d->base);
	while (n > 1 && d->base[n - 1] == '/')
		d->base[--n] = '\0';
	d->cx = cx;
	d->path = d->base;
	d->cur_img = -1;
	d->seccomp_img = d->cgroup_img = -1;
	return d;
}

bool criu_dump_wants(const criu_dump *d, const sv_member *m)
{
	(void)d;
	if (strcmp(m->name, "parent") == 0)
		return m->kind == SV_MEMBER_FILE;
	return !strchr(m->name, '/') && criu_image_match_file(m->name, NULL) != NULL;
}

/* The parent link as a regular file: the path it holds (a flattened link). */
static void read_parent_file(dump *d, sv_stream *s)
{
	char target[4096];
	size_t got = sv_read(s, target, sizeof(target) - 1);

	while (got > 0 && (target[got - 1] == '\n' || target[got - 1] == '\r'))
		got--;
	if (got == 0 || memchr(target, '\0', got)) {
		d->parent_file_bad = true;
		return;
	}
	target[got] = '\0';
	d->parent_target = dump_strdup(d, target);
	if (!d->parent_target)
		dump_oom(d, "the parent link");
}

static void add_parent(dump *d, const sv_member *m, sv_stream *s)
{
	d->has_parent_link = true;
	d->parent_kind = m->kind;
	if (m->link)
		d->parent_link = dump_strdup(d, m->link);
	if (m->kind == SV_MEMBER_FILE && !m->link) {
		if (s)
			read_parent_file(d, s);
		else
			d->parent_file_bad = true;
	}
}

/* A CRIU image name that is no regular file: said once, and the dump goes on. */
static void report_not_file(dump *d, const dimg *i, const sv_member *m)
{
	const sv_code *c = &sv_core_codes[SV_CORE_NOT_REGULAR];

	sv_set_file(d->cx, i->path);
	sv_record_none(d->cx);
	switch (m->kind) {
	case SV_MEMBER_SYMLINK:
		/* A link the core could not follow to a regular file. */
		if (m->link && strcmp(m->link, m->name) == 0)
			sv_report(d->cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
				  "cannot open: a symbolic link to itself (a loop of symbolic links)");
		else
			sv_report(d->cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
				  "cannot open: a symbolic link to \"%s\" that leads to no regular "
				  "file (it points nowhere, loops, or names something else)",
				  m->link ? m->link : "?");
		break;
	case SV_MEMBER_HARDLINK:
		sv_report(d->cx, c, SV_NONE, "a hard link to \"%s\": not read",
			  m->link ? m->link : "?");
		break;
	case SV_MEMBER_DIR:
		sv_report(d->cx, c, SV_NONE, "not a regular file (a directory): not read");
		break;
	default:
		sv_report(d->cx, c, SV_NONE,
			  "not a regular file (a FIFO, device or socket): not read");
		break;
	}
	sv_set_file(d->cx, NULL);
}

/* The compressed pagemap whose pages file is pages-<id>.img, or NULL. */
static dpagemap *compressed_pagemap(dump *d, uint64_t id)
{
	if (d->have_inventory && d->img_version != CRIU_IMAGES_V1_2)
		return NULL;
	for (size_t k = 0; k < d->pagemaps.n; k++) {
		dpagemap *pm = &DV(d->pagemaps, dpagemap)[k];
		if (pm->compressed && pm->has_head && pm->pages_id == id && !pm->pages_checked)
			return pm;
	}
	return NULL;
}

/* Whether a pagemap naming pages-<id>.img has been read. */
static bool pagemap_seen(dump *d, uint64_t id)
{
	for (size_t k = 0; k < d->pagemaps.n; k++) {
		const dpagemap *pm = &DV(d->pagemaps, dpagemap)[k];
		if (pm->has_head && pm->pages_id == id)
			return true;
	}
	return false;
}

/*
 * A pages file that comes before its pagemap (an archive or a capture is
 * read in one pass, in its own order; CRIU writes inventory.img last): it
 * may be compressed, so it cannot be judged yet.  Its bytes are held (up
 * to DUMP_HOLD_MAX for all such files) and checked at finish
 * (resolve_deferred); a bigger one is only sized.
 */
static void hold_pages(dump *d, dimg *i, sv_stream *s)
{
	unsigned char chunk[65536];
	size_t got;
	uint64_t size = 0;

	while ((got = sv_read(s, chunk, sizeof(chunk))) > 0) {
		size += got;
		if (!i->held_over && d->held_bytes + got <= DUMP_HOLD_MAX) {
			unsigned char *g = realloc(i->held, i->held_len + got);
			if (g) {
				memcpy(g + i->held_len, chunk, got);
				i->held = g;
				i->held_len += got;
				d->held_bytes += got;
				continue;
			}
		}
		i->held_over = true;
		d->held_bytes -= i->held_len;
		free(i->held);
		i->held = NULL;
		i->held_len = 0;
	}
	i->deferred = true;
	i->info.raw_bytes = size;
	i->info.type = i->named->type;
	i->info.complete = !sv_stopped(d->cx);
	sv_count_record(d->cx); /* the one record of a pages file */
}

static void verify_image(dump *d, long index, sv_stream *s)
{
	dimg *i = &DV(d->imgs, dimg)[index];
	criu_visitor v = { d, visit_entry, NULL };
	unsigned long errors = sv_error_count(d->cx);

	d->cur = i;
	d->cur_img = index;
	d->cur_pm = NULL;
	d->cur_fdinfo = NULL;
	if (i->named->type->id == CRIU_T_PAGEMAP) {
		d->cur_pm = dump_push(d, &d->pagemaps, sizeof(dpagemap));
		if (d->cur_pm) {
			d->cur_pm->img = index;
			d->cur_pm->shmem = strcmp(i->named->prefix, "pagemap-shmem-") == 0;
			d->cur_pm->id = i->id;
			/*
			 * Image version 3 stores pages compressed: the pages file
			 * is checked against where the pagemap puts each payload
			 * (a few dozen octets per entry, only for such dumps).
			 */
			if ((!d->have_inventory || d->img_version == CRIU_IMAGES_V1_2) &&
			    d->nplans < DUMP_MAX_PLANS) {
				d->cur_pm->plan = criu_pages_plan_new();
				if (d->cur_pm->plan)
					d->nplans++;
				else
					dump_oom(d, "the payload plan of a compressed pagemap");
			}
		}
	} else if (i->named->type->id == CRIU_T_FDINFO) {
		d->cur_fdinfo = dump_push(d, &d->fdinfos, sizeof(dfdinfo));
		if (d->cur_fdinfo) {
			d->cur_fdinfo->img = index;
			d->cur_fdinfo->files_id = (uint32_t)i->id;
		}
	}
	sv_set_file(d->cx, i->path);
	dpagemap *planned = i->named->type->id == CRIU_T_PAGES && d->pagemaps.n <= DUMP_MAX_PLANS ?
			    compressed_pagemap(d, i->id) : NULL;
	if (!planned && i->named->type->id == CRIU_T_PAGES && d->img_version == CRIU_IMAGES_V1_2 &&
	    d->pagemaps.n > DUMP_MAX_PLANS) {
		/* More pagemaps than are looked up: sized by the relations only. */
		i->info.raw_bytes = sv_skip(s, UINT64_MAX);
		i->info.type = i->named->type;
		sv_count_record(d->cx);
	} else if (planned) {
		/*
		 * Compressed pages: every block decoded, the payloads' total
		 * exact.  Of a damaged pagemap (no plan) nothing sure follows:
		 * the file is only read, not held to whole pages.
		 */
		if (planned->plan)
			criu_verify_pages_plan(d->cx, s, planned->plan, &i->info);
		else
			i->info.raw_bytes = sv_skip(s, UINT64_MAX);
		i->info.type = i->named->type;
		sv_count_record(d->cx); /* the one record of a pages file, as unplanned */
		planned->pages_checked = true;
	} else if (i->named->type->id == CRIU_T_PAGES &&
		   (!d->have_inventory || d->img_version == CRIU_IMAGES_V1_2) &&
		   !pagemap_seen(d, i->id)) {
		hold_pages(d, i, s);
	} else {
		criu_verify_image(d->cx, s, i->name, &v, &i->info);
	}
	sv_set_file(d->cx, NULL);
	i = &DV(d->imgs, dimg)[index]; /* the table may have moved */
	i->verified = true;
	i->damaged = sv_error_count(d->cx) != errors || !i->info.complete;
	if (d->cur_pm) {
		/*
		 * The pages counts are the image check's, of every entry (the
		 * table of entries is capped; the counts are not).  A pagemap
		 * with entries that failed their own checks is not sized.
		 */
		d->cur_pm->present = i->info.pages_present;
		d->cur_pm->parent = i->info.pages_parent;
		d->cur_pm->lazy = i->info.pages_lazy;
		d->cur_pm->pages_bytes = i->info.pages_bytes;
		if (i->damaged)
			d->cur_pm->damaged = true;
		d->cur_pm->compressed = i->info.compressed;
		if (d->cur_pm->plan && (i->damaged || !i->info.compressed)) {
			/*
			 * Whole pages: the size check of the relations is enough.
			 * A damaged pagemap says nothing sure about its pages.
			 */
			criu_pages_plan_free(d->cur_pm->plan);
			d->cur_pm->plan = NULL;
			d->nplans--;
		}
	}
	d->cur = NULL;
	d->cur_img = -1;
	d->cur_pm = NULL;
	d->cur_fdinfo = NULL;
}

/* Inflating a tmpfs archive given as stored: is the gzip stream whole? */
typedef struct gz_check {
	z_stream z;
	bool ended, bad;
	uint64_t out;
	unsigned char buf[16384];
} gz_check;

static int gz_piece(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	gz_check *g = arg;

	(void)off;
	g->z.next_in = (unsigned char *)p;
	g->z.avail_in = (uInt)n;
	while (g->z.avail_in && !g->bad) {
		if (g->ended) {
			/* another gzip member follows (tar --gzip reads them all) */
			if (inflateReset(&g->z) != Z_OK) {
				g->bad = true;
				break;
			}
			g->ended = false;
		}
		g->z.next_out = g->buf;
		g->z.avail_out = sizeof(g->buf);
		int r = inflate(&g->z, Z_NO_FLUSH);
		g->out += sizeof(g->buf) - g->z.avail_out;
		if (r == Z_STREAM_END)
			g->ended = true;
		else if (r != Z_OK && r != Z_BUF_ERROR)
			g->bad = true;
	}
	return g->bad;
}

/*
 * A tmpfs-dev-N.tar.gz.img / tmpfs-N.tar.gz.img member given as stored (an
 * archive's member: the core decompresses only what it opens itself): the
 * gzip stream is checked here, data, CRC and length, and the tar inside
 * is left unread.  One that is no gzip at all goes to the image check,
 * which says so.  Returns false when the image check should read it.
 */
static bool verify_tmpfs_stored(dump *d, dimg *i, sv_stream *s)
{
	size_t avail;
	const unsigned char *p = sv_peek(s, 2, &avail);
	gz_check *g;

	if (sv_stream_gzip(s) || avail < 2 || p[0] != 0x1f || p[1] != 0x8b)
		return false;
	g = calloc(1, sizeof(*g));
	if (!g || inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) {
		free(g);
		dump_oom(d, "a tmpfs archive");
		return true;
	}
	uint64_t start = sv_offset(s);
	sv_scan(s, UINT64_MAX, gz_piece, g);
	sv_set_file(d->cx, i->path);
	sv_record_none(d->cx);
	if (g->bad)
		sv_report(d->cx, &sv_core_codes[SV_CORE_GZIP], start + g->z.total_in,
			  "the gzip-compressed tar is corrupt: %s",
			  g->z.msg ? g->z.msg : "bad data");
	else if (!g->ended)
		sv_report(d->cx, &sv_core_codes[SV_CORE_GZIP_TRUNCATED], sv_offset(s),
			  "the gzip-compressed tar ends before its end marker");
	sv_set_file(d->cx, NULL);
	i->info.type = i->named->type;
	i->info.named = i->named;
	i->info.name_id = i->id;
	i->info.raw_bytes = g->out;
	i->info.complete = !g->bad && g->ended;
	i->verified = true;
	i->damaged = !i->info.complete;
	inflateEnd(&g->z);
	free(g);
	return true;
}

void criu_dump_add(criu_dump *d, const sv_member *m, sv_stream *s)
{
	const char *name = m->name;

	if (!d || d->finished || sv_stopped(d->cx))
		return;
	if (strcmp(name, "parent") == 0) {
		add_parent(d, m, s);
		return;
	}
	if (is_log(name))
		return;
	if (d->imgs.n >= DUMP_MAX_FILES) {
		if (!d->limited)
			dump_report(d, -1, SV_NONE, NULL, CD_LIMIT, SV_NONE,
				    "more than %u files: the rest are not verified", DUMP_MAX_FILES);
		d->limited = true;
		return;
	}
	dimg *i = dump_push(d, &d->imgs, sizeof(dimg));
	if (!i)
		return;
	i->name = dump_strdup(d, name);
	i->path = m->display && *m->display ? dump_strdup(d, m->display) :
		  dump_printf(d, "%s/%s", d->base, name);
	if (!i->name || !i->path) {
		d->imgs.n--;
		dump_oom(d, "the names of the images");
		return;
	}
	/* A name inside a subfolder is no image of this dump. */
	i->named = strchr(name, '/') ? NULL : criu_image_match_file(i->name, &i->id);
	if (!i->named)
		return; /* reported with the other unknown files by finish */
	if (m->kind != SV_MEMBER_FILE) {
		report_not_file(d, i, m);
		return;
	}
	if (!s)
		return; /* the core said why it could not be opened */
	if (i->named->type->raw == CRIU_RAW_TMPFS && verify_tmpfs_stored(d, i, s))
		return;
	verify_image(d, (long)(d->imgs.n - 1), s);
}

void criu_dump_set_parent(criu_dump *d, criu_dump *parent)
{
	if (d)
		d->parent_dump = parent;
}

/* ---- the whole dump ------------------------------------------------------------- */

static int cmp_byname(const void *a, const void *b, void *arg)
{
	const dimg *imgs = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(imgs[x].name, imgs[y].name);
	return c ? c : (x < y ? -1 : x > y);
}

/* The names sorted once, for lookups and for reports in name order. */
/* Which kinds of image could not be read in full (or at all). */
static void note_damage(dump *d)
{
	for (size_t k = 0; k < d->imgs.n; k++) {
		const dimg *i = &DV(d->imgs, dimg)[k];
		if (i->named && (i->damaged || !i->verified))
			d->damaged_types[i->named->type->id] = true;
	}
}

static bool index_names(dump *d)
{
	d->byname.v = malloc((d->imgs.n ? d->imgs.n : 1) * sizeof(size_t));
	if (!d->byname.v) {
		dump_oom(d, "the index of images");
		return false;
	}
	d->byname.n = d->byname.cap = d->imgs.n;
	for (size_t k = 0; k < d->imgs.n; k++)
		DV(d->byname, size_t)[k] = k;
	if (d->imgs.n > 1)
		qsort_r(d->byname.v, d->imgs.n, sizeof(size_t), cmp_byname, d->imgs.v);
	return true;
}

/* The k-th image in name order. */
static dimg *by_name(dump *d, size_t k)
{
	return &DV(d->imgs, dimg)[DV(d->byname, size_t)[k]];
}

static long img_index(dump *d, const dimg *i)
{
	return i ? (long)(i - DV(d->imgs, dimg)) : -1;
}

/* Image layout (v1: type magic alone, v1.1: head magic first) vs img_version. */
static void check_layouts(dump *d)
{
	int want = d->img_version == CRIU_IMAGES_V1 ? 1 : 2;

	for (size_t n = 0; n < d->byname.n; n++) {
		dimg *i = by_name(d, n);
		long k = img_index(d, i);
		if (!i->verified || !i->info.type || i->info.type->layout == CRIU_LAYOUT_RAW ||
		    i->info.type->id == CRIU_T_INVENTORY || i->info.version == 0)
			continue;
		if (i->info.version != want)
			dump_report(d, k, SV_NONE, NULL, CD_LAYOUT_VERSION, 0,
				    "image has the v%s layout, but inventory.img img_version %" PRIu32
				    " says v%s", i->info.version == 2 ? "1.1" : "1",
				    d->img_version, want == 2 ? "1.1" : "1");
	}
}

/* Decide what the directory is; false when it is nothing CRIU wrote. */
static bool decide_kind(dump *d)
{
	dimg *inv = dump_find(d, "inventory.img");
	dimg *pstree = dump_find(d, "pstree.img");
	dimg *cpuinfo = dump_find(d, "cpuinfo.img");
	size_t images = 0;

	for (size_t k = 0; k < d->imgs.n; k++)
		if (DV(d->imgs, dimg)[k].named)
			images++;
	if (!inv) {
		if (cpuinfo && images == 1) {
			d->kind = DUMP_CPUINFO;
			return true;
		}
		if (images == 0)
			dump_report(d, -1, SV_NONE, NULL, CD_KIND_UNKNOWN, SV_NONE,
				    "the directory holds no CRIU image: not a dump, a pre-dump "
				    "or `criu cpuinfo dump` output");
		else if (cpuinfo)
			dump_report(d, -1, SV_NONE, NULL, CD_INVENTORY_MISSING, SV_NONE,
				    "cpuinfo.img and %zu other images but no inventory.img: "
				    "neither `criu cpuinfo dump` output (cpuinfo.img alone) nor a dump",
				    images - 1);
		else
			dump_report(d, -1, SV_NONE, NULL, CD_INVENTORY_MISSING, SV_NONE,
				    "%zu CRIU images but no inventory.img: CRIU cannot restore "
				    "from this directory", images);
		return false;
	}
	if (!d->have_inventory) {
		dump_report(d, img_index(d, inv), SV_NONE, NULL, CD_INVENTORY_UNREADABLE, SV_NONE,
			    "inventory.img gave no valid entry: the kind of dump and its "
			    "image version are unknown");
		return false;
	}
	if (d->predump) {
		if (pstree) {
			dump_report(d, img_index(d, pstree), SV_NONE, NULL, CD_KIND_PREDUMP_TASKS,
				    SV_NONE, "inventory.img has pre_dump_mode, but a pre-dump "
				    "holds no pstree.img; verified as the pre-dump it says it is");
		}
		d->kind = DUMP_PRE;
		return true;
	}
	d->kind = DUMP_FULL;
	if (!pstree) {
		dump_report(d, img_index(d, inv), SV_NONE, NULL, CD_PSTREE_MISSING, SV_NONE,
			    "inventory.img is a full dump's (no pre_dump_mode), but pstree.img is "
			    "absent: no relation to the tasks can be checked");
		d->no_tasks = true;
		return true;
	}
	if (!d->has_root_ids)
		dump_report(d, img_index(d, inv), 0, "inventory_entry", CD_INVENTORY_ROOT_IDS,
			    SV_NONE, "a full dump needs root_ids (CRIU's own ids, to tell which "
			    "namespaces and ids the root task has of its own)");
	return true;
}

/* Images that exist for the whole dump rather than for one id. */
static void mark_singletons(dump *d)
{
	for (size_t k = 0; k < d->imgs.n; k++) {
		dimg *i = &DV(d->imgs, dimg)[k];
		if (!i->named)
			continue;
		if (d->kind == DUMP_PRE) {
			criu_type_id t = i->named->type->id;
			if (t == CRIU_T_INVENTORY || t == CRIU_T_STATS || t == CRIU_T_IRMAP_CACHE ||
			    t == CRIU_T_PAGEMAP)
				i->referenced = true;
			continue;
		}
		if (i->named->id == CRIU_ID_NONE)
			i->referenced = true;
	}
}

static void report_unknown_files(dump *d)
{
	for (size_t n = 0; n < d->byname.n; n++) {
		dimg *i = by_name(d, n);
		if (!i->named)
			dump_report(d, img_index(d, i), SV_NONE, NULL, CD_UNKNOWN_FILE, SV_NONE,
				    "not a CRIU image name (nor a log): ignored, as CRIU ignores it");
	}
}

/*
 * Whether an image that could refer to others could not be read: what it
 * would have referred to is then not "unreferenced" (one cause, one
 * finding: the image that broke is reported where it broke).
 */
static bool referrers_damaged(dump *d)
{
	static const criu_type_id referrers[] = {
		CRIU_T_INVENTORY, CRIU_T_PSTREE, CRIU_T_CORE, CRIU_T_IDS, CRIU_T_MM,
		CRIU_T_PAGEMAP, CRIU_T_FILES, CRIU_T_MEMFD_INODE, CRIU_T_IPCNS_SHM,
		CRIU_T_REMAP_FPATH, CRIU_T_MNTS, CRIU_T_INETSK, CRIU_T_REG_FILES,
	};
	for (size_t k = 0; k < sizeof(referrers) / sizeof(referrers[0]); k++)
		if (d->damaged_types[referrers[k]])
			return true;
	return false;
}

static void report_unreferenced(dump *d)
{
	if (referrers_damaged(d))
		return;
	for (size_t n = 0; n < d->byname.n && !sv_stopped(d->cx); n++) {
		dimg *i = by_name(d, n);
		if (!i->named || i->referenced || !i->verified || i->damaged)
			continue; /* an image that could not be read was reported already */
		const char *why = "no task, file or namespace of the dump has its id";
		switch (i->named->type->id) {
		case CRIU_T_CORE:
			why = "no task or thread of pstree.img has this tid, or its task is a zombie";
			break;
		case CRIU_T_PAGES:
			why = "no pagemap's pages_id names it";
			break;
		case CRIU_T_FDINFO:
			why = "no live task has this files_id";
			break;
		case CRIU_T_GHOST_FILE:
			why = "no ghost remap in remap-fpath.img names it";
			break;
		case CRIU_T_TCP_STREAM:
			why = "no TCP socket of the dump has this inode";
			break;
		case CRIU_T_PAGEMAP:
			why = strcmp(i->named->prefix, "pagemap-shmem-") == 0 ?
			      "no memfd, shared mapping or SysV segment has this id" :
			      "no live task has this pid";
			break;
		default:
			if (d->kind == DUMP_PRE)
				why = "a pre-dump holds only memory images";
			break;
		}
		dump_report(d, img_index(d, i), SV_NONE, NULL, CD_UNREFERENCED, SV_NONE,
			    "nothing refers to this %s image: %s", i->named->type->name, why);
	}
}

static void dump_free(dump *d)
{
	dvec *vecs[] = { &d->imgs, &d->byname, &d->pm_order, &d->tasks, &d->task_order, &d->threads, &d->cores, &d->ids, &d->mms,
			 &d->vmas, &d->pagemaps, &d->pents, &d->fss, &d->fdinfos, &d->fds,
			 &d->files, &d->memfds, &d->remaps, &d->pipe_data, &d->fifo_data,
			 &d->skqs, &d->locks, &d->ipc_shms, &d->cgsets, &d->mounts,
			 &d->epoll_tfds, &d->tty_infos, &d->shm_ids, &d->marks };

	for (size_t i = 0; i < d->pagemaps.n; i++)
		criu_pages_plan_free(DV(d->pagemaps, dpagemap)[i].plan);
	for (size_t i = 0; i < d->imgs.n; i++)
		free(DV(d->imgs, dimg)[i].held);
	for (size_t i = 0; i < d->strs.n; i++)
		free(DV(d->strs, char *)[i]);
	dump_vec_free(&d->strs);
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		dump_vec_free(vecs[i]);
	free(d->base);
}


/*
 * The pages files held by hold_pages(), now that every pagemap and the
 * inventory are known: checked as they would have been in directory order.
 */
static void resolve_deferred(dump *d)
{
	for (size_t k = 0; k < d->imgs.n && !sv_stopped(d->cx); k++) {
		dimg *i = &DV(d->imgs, dimg)[k];
		if (!i->deferred)
			continue;
		unsigned long errors = sv_error_count(d->cx);
		dpagemap *pm = d->pagemaps.n <= DUMP_MAX_PLANS ? compressed_pagemap(d, i->id) : NULL;

		sv_set_file(d->cx, i->path);
		if (pm && pm->plan && !i->held_over) {
			criu_verify_pages_plan_held(d->cx, i->held, i->held_len, i->path, pm->plan,
						    &i->info);
			pm->pages_checked = true;
		} else if (pm && pm->plan) {
			/* The relations still hold its size to the payloads'. */
			sv_report(d->cx, &criu_dump_codes[CD_PAGES_UNDECODED], SV_NONE,
				  "%" PRIu64 " bytes, read before %s: more than the %" PRIu64
				  " MiB held, so its compressed blocks were not decoded",
				  i->info.raw_bytes, dump_img_path(d, pm->img), DUMP_HOLD_MAX >> 20);
		} else if (pm) {
			pm->pages_checked = true; /* a damaged pagemap: nothing sure follows */
		} else if (!(d->img_version == CRIU_IMAGES_V1_2 && d->pagemaps.n > DUMP_MAX_PLANS)) {
			criu_pages_whole(d->cx, i->info.raw_bytes, false);
		}
		sv_set_file(d->cx, NULL);
		if (sv_error_count(d->cx) != errors)
			i->damaged = true;
		free(i->held);
		i->held = NULL;
		i->held_len = 0;
	}
}

void criu_dump_finish(criu_dump *d, sv_members *dir)
{
	sv_ctx *cx;

	if (!d || d->finished)
		return;
	d->finished = true;
	cx = d->cx;
	if (sv_stopped(cx) || !index_names(d))
		goto out;
	resolve_deferred(d);
	note_damage(d);
	report_unknown_files(d);
	if (!decide_kind(d))
		goto out;
	if (d->kind != DUMP_CPUINFO)
		check_layouts(d);

	dump_sort(&d->cores, sizeof(dcore), cmp_core);
	if (d->files.n > 1)
		qsort_r(d->files.v, d->files.n, sizeof(dfile), cmp_file, d);
	mark_singletons(d);

	if (d->kind == DUMP_FULL && !d->no_tasks) {
		dump_check_tasks(d);
		dump_check_ns(d);
		dump_check_cgroups(d);
	}
	if (d->kind == DUMP_FULL || d->kind == DUMP_PRE)
		dump_check_memory(d, dir);
	if (d->kind == DUMP_FULL && !d->no_tasks) {
		dump_check_files(d);
		dump_check_sockets(d);
	}
	if (d->kind == DUMP_FULL)
		dump_check_plugins(d);
	if (!sv_stopped(cx) && !d->no_tasks)
		report_unreferenced(d);
	dump_emit_stats(d);
out:
	sv_record_none(cx);
	sv_set_file(cx, NULL);
}

void criu_dump_free(criu_dump *d)
{
	if (!d)
		return;
	dump_free(d);
	free(d);
}
