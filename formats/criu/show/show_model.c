/*
 * The show collector: one pass over a checkpoint's members, each handed to
 * criu_dump (verification) through a stream that passes the bytes on to
 * the model as they are read.  See show.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/criu/show/show.h"
#include "formats/criu/criu.h"
#include "formats/criu/dump/dump.h"
#include "formats/criu/schema/schema.h"
#include "formats/criu/schema/linux.h"
#include "formats/criu-stream/capture.h"
#include "internal.h"

#include <jansson.h>

const char *const show_ns_names[SHOW_NS_COUNT] = {
	"pid", "net", "ipc", "uts", "mnt", "user", "cgroup", "time"
};

/* ---- tables ----------------------------------------------------------------- */

static void *vpush(show_dump *d, show_vec *v, size_t elem)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *p;

		if (v->n >= SHOW_MAX_ITEMS) {
			d->limited = true;
			return NULL;
		}
		p = realloc(v->v, cap * elem);
		if (!p) {
			d->oom = true;
			return NULL;
		}
		v->v = p;
		v->cap = cap;
	}
	void *item = (char *)v->v + v->n++ * elem;
	memset(item, 0, elem);
	return item;
}

static char *sdup(show_dump *d, const char *s)
{
	char *r = strdup(s ? s : "");
	if (!r)
		d->oom = true;
	return r;
}

static size_t slot_of(uint32_t pid, size_t nslots)
{
	return (size_t)((pid * 2654435761u) & (nslots - 1));
}

static bool rehash(show_dump *d)
{
	size_t n = d->nslots ? d->nslots * 2 : 64;
	size_t *s = calloc(n, sizeof(size_t));

	if (!s) {
		d->oom = true;
		return false;
	}
	for (size_t i = 0; i < d->tasks.n; i++) {
		size_t k = slot_of(SVV(d->tasks, show_task)[i].pid, n);
		while (s[k])
			k = (k + 1) & (n - 1);
		s[k] = i + 1;
	}
	free(d->task_slots);
	d->task_slots = s;
	d->nslots = n;
	return true;
}

show_task *show_task_find(show_dump *d, uint32_t pid)
{
	if (!d->nslots)
		return NULL;
	for (size_t k = slot_of(pid, d->nslots);; k = (k + 1) & (d->nslots - 1)) {
		size_t i = d->task_slots[k];
		if (!i)
			return NULL;
		if (SVV(d->tasks, show_task)[i - 1].pid == pid)
			return &SVV(d->tasks, show_task)[i - 1];
	}
}

/* The record of pid, made when first named. */
static show_task *task_get(show_dump *d, uint32_t pid)
{
	show_task *t = show_task_find(d, pid);

	if (t)
		return t;
	if ((d->tasks.n + 1) * 2 > d->nslots && !rehash(d))
		return NULL;
	t = vpush(d, &d->tasks, sizeof(show_task));
	if (!t)
		return NULL;
	t->pid = pid;
	size_t k = slot_of(pid, d->nslots);
	while (d->task_slots[k])
		k = (k + 1) & (d->nslots - 1);
	d->task_slots[k] = d->tasks.n;
	return t;
}

/* First index of a sorted table whose key is >= key (keyexpr: item ix_'s key). */
#define LOWER_BOUND(n, keyexpr, key, out)                     \
	do {                                                  \
		size_t lo_ = 0, hi_ = (n);                    \
		while (lo_ < hi_) {                           \
			size_t ix_ = lo_ + (hi_ - lo_) / 2;   \
			if ((keyexpr) < (key))                \
				lo_ = ix_ + 1;                \
			else                                  \
				hi_ = ix_;                    \
		}                                             \
		(out) = lo_;                                  \
	} while (0)

const show_file *show_file_find(const show_dump *d, uint32_t id)
{
	const show_file *f = d->files.v;
	size_t at;

	/* sorted by id, then by order read: the last with the id wins (the more specific) */
	LOWER_BOUND(d->files.n, (uint64_t)f[ix_].id, (uint64_t)id + 1, at);
	return at > 0 && f[at - 1].id == id ? &f[at - 1] : NULL;
}

const show_file *show_file_find_type(const show_dump *d, uint32_t id, uint32_t type)
{
	const show_file *f = d->files.v;
	size_t at;

	LOWER_BOUND(d->files.n, f[ix_].id, id, at);
	for (; at < d->files.n && f[at].id == id; at++)
		if (f[at].type == type)
			return &f[at];
	return NULL;
}

const show_remap *show_remap_find(const show_dump *d, uint32_t orig_id)
{
	const show_remap *r = d->remaps.v;
	size_t at;

	LOWER_BOUND(d->remaps.n, r[ix_].orig_id, orig_id, at);
	return at < d->remaps.n && r[at].orig_id == orig_id ? &r[at] : NULL;
}

const show_fd *show_fds_of(const show_dump *d, uint32_t files_id, size_t *n)
{
	const show_fd *f = d->fds.v;
	size_t a, b;

	LOWER_BOUND(d->fds.n, f[ix_].files_id, files_id, a);
	LOWER_BOUND(d->fds.n, (uint64_t)f[ix_].files_id, (uint64_t)files_id + 1, b);
	*n = b - a;
	return f ? f + a : NULL;
}

const show_queue *show_queue_find(const show_dump *d, bool by_ino, uint32_t key)
{
	const show_queue *q = d->queues.v;
	uint64_t k = (uint64_t)by_ino << 32 | key;
	size_t at;

	LOWER_BOUND(d->queues.n, ((uint64_t)q[ix_].by_ino << 32 | q[ix_].key), k, at);
	return at < d->queues.n && q[at].by_ino == by_ino && q[at].key == key ? &q[at] : NULL;
}

const show_file *show_memfd_inode(const show_dump *d, uint32_t inode_id)
{
	const show_file *m = d->memfds.v;
	size_t at;

	LOWER_BOUND(d->memfds.n, m[ix_].pipe_id, inode_id, at);
	return at < d->memfds.n && m[at].pipe_id == inode_id ? &m[at] : NULL;
}

show_dump *show_dump_new(const char *path, bool hash_pages)
{
	show_dump *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->path = strdup(path);
	d->quiet = sv_ctx_quiet_new(path);
	if (!d->path || !d->quiet) {
		show_dump_free(d);
		return NULL;
	}
	d->hash_pages = hash_pages;
	return d;
}

void show_dump_free(show_dump *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->tasks.n; i++) {
		show_task *t = &SVV(d->tasks, show_task)[i];
		free(t->tids);
		free(t->comm);
		free(t->vmas);
		free(t->pents);
		free(t->args);
		free(t->env);
	}
	for (size_t i = 0; i < d->files.n; i++) {
		free(SVV(d->files, show_file)[i].path);
		free(SVV(d->files, show_file)[i].name);
	}
	for (size_t i = 0; i < d->mounts.n; i++) {
		show_mount *m = &SVV(d->mounts, show_mount)[i];
		free(m->mountpoint);
		free(m->source);
		free(m->root);
		free(m->options);
		free(m->fsname);
	}
	for (size_t i = 0; i < d->cgctls.n; i++) {
		free(SVV(d->cgctls, show_cgctl)[i].name);
		free(SVV(d->cgctls, show_cgctl)[i].path);
	}
	for (size_t i = 0; i < d->pages.n; i++)
		free(SVV(d->pages, show_pages)[i].hash);
	free(d->tasks.v);
	free(d->task_slots);
	free(d->pm_slots);
	free(d->fds.v);
	free(d->files.v);
	free(d->remaps.v);
	free(d->mounts.v);
	free(d->cgctls.v);
	free(d->queues.v);
	free(d->pages.v);
	free(d->ghosts.v);
	free(d->shments.v);
	for (size_t i = 0; i < d->memfds.n; i++)
		free(SVV(d->memfds, show_file)[i].path);
	free(d->memfds.v);
	free(d->fd_by_id);
	free(d->task_by_files);
	free(d->socks);
	if (!d->pre_is_parent)
		show_dump_free(d->pre_ckpt);
	show_dump_free(d->parent);
	show_dump_free(d->next);
	free(d->ctr_id);
	free(d->pod_name);
	free(d->folder);
	free(d->ctr_name);
	free(d->ctr_image);
	sv_ctx_quiet_free(d->quiet);
	free(d->path);
	free(d);
}

/* ---- entries ------------------------------------------------------------------ */

/* What the image being decoded is. */
typedef struct cur_image {
	show_dump *d;
	criu_type_id type;
	uint64_t id;             /* from the name */
	const char *name;
	uint64_t file_page;      /* pagemap: pages present so far */
} cur_image;

static void add_pent(cur_image *c, const PagemapEntry *pe)
{
	show_task *t = task_get(c->d, (uint32_t)c->id);
	show_pent *p;

	if (!t)
		return;
	if (t->npents == t->pents_cap) {
		size_t cap = t->pents_cap ? t->pents_cap * 2 : 8;
		if (t->npents >= SHOW_MAX_ITEMS) {
			c->d->limited = true;
			return;
		}
		p = realloc(t->pents, cap * sizeof(*p));
		if (!p) {
			c->d->oom = true;
			return;
		}
		t->pents = p;
		t->pents_cap = cap;
	}
	p = &t->pents[t->npents++];
	p->vaddr = pe->vaddr;
	p->pages = criu_pagemap_pages(pe);
	p->flags = criu_pagemap_flags(pe);
	p->file_page = c->file_page;
	if (p->flags & CRIU_PE_PRESENT)
		c->file_page += p->pages;
}

static void add_mm(cur_image *c, const MmEntry *mm)
{
	show_task *t = task_get(c->d, (uint32_t)c->id);

	if (!t || t->have_mm)
		return;
	t->have_mm = true;
	t->arg_start = mm->mm_arg_start;
	t->arg_end = mm->mm_arg_end;
	t->env_start = mm->mm_env_start;
	t->env_end = mm->mm_env_end;
	t->exe_file_id = mm->exe_file_id;
	if (mm->n_vmas > SHOW_MAX_ITEMS) {
		c->d->limited = true;
		return;
	}
	t->vmas = calloc(mm->n_vmas ? mm->n_vmas : 1, sizeof(show_vma));
	if (!t->vmas) {
		c->d->oom = true;
		return;
	}
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		show_vma *o = &t->vmas[i];
		o->start = v->start;
		o->end = v->end;
		o->pgoff = v->pgoff;
		o->shmid = v->shmid;
		o->prot = v->prot;
		o->flags = v->flags;
		o->status = v->status;
	}
	t->nvmas = mm->n_vmas;
}

/* The kernel-object ids of a task, from ids-PID.img or its core. */
static void copy_ids(show_task *t, const TaskKobjIdsEntry *i)
{
	uint32_t v[SHOW_NS_COUNT] = { i->pid_ns_id, i->net_ns_id, i->ipc_ns_id, i->uts_ns_id,
				      i->mnt_ns_id, i->user_ns_id, i->cgroup_ns_id, i->time_ns_id };
	bool h[SHOW_NS_COUNT] = { i->has_pid_ns_id, i->has_net_ns_id, i->has_ipc_ns_id,
				  i->has_uts_ns_id, i->has_mnt_ns_id, i->has_user_ns_id,
				  i->has_cgroup_ns_id, i->has_time_ns_id };

	t->have_ids = true;
	t->files_id = i->files_id;
	t->fs_id = i->fs_id;
	t->vm_id = i->vm_id;
	t->sighand_id = i->sighand_id;
	t->ns_has = 0;
	for (int k = 0; k < SHOW_NS_COUNT; k++)
		if (h[k]) {
			t->ns[k] = v[k];
			t->ns_has |= 1u << k;
		}
}

static void add_core(cur_image *c, const CoreEntry *ce)
{
	show_task *t = task_get(c->d, (uint32_t)c->id);
	const char *comm = NULL;

	if (!t || t->have_core)
		return;
	t->have_core = true;
	if (ce->tc) {
		t->state = ce->tc->task_state;
		t->exit_code = ce->tc->exit_code;
		t->has_cg_set = ce->tc->has_cg_set;
		t->cg_set = ce->tc->cg_set;
		comm = ce->tc->comm;
	}
	if (!comm && ce->thread_core && ce->thread_core->comm)
		comm = ce->thread_core->comm;
	if (comm && !(t->comm = sdup(c->d, comm)))
		return;
	if (ce->ids && !t->have_ids)
		copy_ids(t, ce->ids);
}

static void add_ids(cur_image *c, const TaskKobjIdsEntry *i)
{
	show_task *t = task_get(c->d, (uint32_t)c->id);

	if (t)
		copy_ids(t, i);
}

static void copy_addr(uint32_t *dst, size_t *n, const uint32_t *src, size_t k)
{
	*n = k > 4 ? 4 : k;
	for (size_t i = 0; i < *n; i++)
		dst[i] = src[i];
}

static void sock_inet(show_file *f, const InetSkEntry *s)
{
	f->ino = s->ino;
	f->family = s->family;
	f->sktype = s->type;
	f->proto = s->proto;
	f->state = s->state;
	f->src_port = s->src_port;
	f->dst_port = s->dst_port;
	copy_addr(f->src_addr, &f->nsrc, s->src_addr, s->n_src_addr);
	copy_addr(f->dst_addr, &f->ndst, s->dst_addr, s->n_dst_addr);
}

static void sock_unix(show_dump *d, show_file *f, const UnixSkEntry *s)
{
	f->ino = s->ino;
	f->family = CRIU_AF_UNIX;
	f->sktype = s->type;
	f->state = s->state;
	f->peer = s->peer;
	size_t len = s->name.len;
	/* a path name's terminating NULs are no part of it (abstract names keep theirs) */
	while (len > 1 && s->name.data[0] != '\0' && s->name.data[len - 1] == '\0')
		len--;
	if (len && len <= 4096) {
		f->name = malloc(len);
		if (!f->name) {
			d->oom = true;
			return;
		}
		memcpy(f->name, s->name.data, len);
		f->name_len = len;
	}
}

/* One file entry: its type and whichever sub-message it carries. */
static void add_file(cur_image *c, uint32_t type, uint32_t id, const FileEntry *fe,
		     const ProtobufCMessage *legacy)
{
	show_dump *d = c->d;
	show_file *f = vpush(d, &d->files, sizeof(show_file));

	if (!f)
		return;
	f->id = id;
	f->type = type;
	f->seq = d->files.n;
#define SUB(field, T) (fe ? fe->field : (const T *)legacy)
	switch (type) {
	case FD_TYPES__REG: {
		const RegFileEntry *r = SUB(reg, RegFileEntry);
		if (r) {
			f->path = sdup(d, r->name);
			f->has_size = r->has_size;
			f->size = r->size;
		}
		break;
	}
	case FD_TYPES__PIPE: {
		const PipeEntry *p = SUB(pipe, PipeEntry);
		if (p)
			f->pipe_id = p->pipe_id;
		break;
	}
	case FD_TYPES__FIFO: {
		const FifoEntry *p = SUB(fifo, FifoEntry);
		if (p) {
			f->pipe_id = p->pipe_id;
			/* its path: the regular-file entry regf_id (older dumps: the same id) */
			f->regf_id = p->has_regf_id ? p->regf_id : id;
		}
		break;
	}
	case FD_TYPES__EVENTPOLL: {
		const EventpollFileEntry *e = fe ? fe->epfd : NULL;
		char buf[512];
		size_t o = 0;
		for (size_t i = 0; e && i < e->n_tfd && o < sizeof(buf) - 16; i++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "," : "",
					      e->tfd[i]->tfd);
		if (e && e->n_tfd && (f->path = malloc(o + 16)))
			snprintf(f->path, o + 16, "fds %.*s%s", (int)o, buf,
				 o >= sizeof(buf) - 16 ? ",..." : "");
		else if (e && e->n_tfd)
			d->oom = true;
		break;
	}
	case FD_TYPES__INETSK:
		if (SUB(isk, InetSkEntry))
			sock_inet(f, SUB(isk, InetSkEntry));
		break;
	case FD_TYPES__UNIXSK:
		if (SUB(usk, UnixSkEntry))
			sock_unix(d, f, SUB(usk, UnixSkEntry));
		break;
	case FD_TYPES__PACKETSK: {
		const PacketSockEntry *p = SUB(psk, PacketSockEntry);
		if (p) {
			f->family = CRIU_AF_PACKET;
			f->sktype = p->type;
			f->proto = p->protocol;
			f->ino = 0;
		}
		break;
	}
	case FD_TYPES__NETLINKSK: {
		const NetlinkSkEntry *n = SUB(nlsk, NetlinkSkEntry);
		if (n) {
			f->family = CRIU_AF_NETLINK;
			f->ino = n->ino;
			f->proto = n->protocol;
			f->state = n->state;
			f->sktype = 3; /* SOCK_RAW, as netlink sockets are mostly */
			f->nl_portid = n->portid;
			f->nl_dst_portid = n->dst_portid;
		}
		break;
	}
	case FD_TYPES__EVENTFD: {
		const EventfdFileEntry *e = SUB(efd, EventfdFileEntry);
		if (e)
			f->counter = e->counter;
		break;
	}
	case FD_TYPES__SIGNALFD: {
		const SignalfdEntry *s = SUB(sgfd, SignalfdEntry);
		if (s)
			f->sigmask = s->sigmask;
		break;
	}
	case FD_TYPES__TIMERFD: {
		const TimerfdEntry *t = SUB(tfd, TimerfdEntry);
		if (t)
			f->clockid = t->clockid;
		break;
	}
	case FD_TYPES__TTY: {
		const TtyFileEntry *t = SUB(tty, TtyFileEntry);
		if (t)
			f->tty_info = t->tty_info_id;
		break;
	}
	case FD_TYPES__TUNF: {
		const TunfileEntry *t = SUB(tunf, TunfileEntry);
		if (t && t->netdev)
			f->path = sdup(d, t->netdev);
		break;
	}
	case FD_TYPES__MEMFD: {
		const MemfdFileEntry *m = fe ? fe->memfd : NULL;
		if (m)
			f->pipe_id = m->inode_id; /* resolved against memfd.img */
		break;
	}
	case FD_TYPES__NS: {
		const NsFileEntry *n = SUB(nsf, NsFileEntry);
		if (n)
			f->ino = n->ns_id;
		break;
	}
	default:
		break;
	}
#undef SUB
}

/* Images of one kind of file each (older dumps): their entries are file entries. */
static const struct { criu_type_id img; uint32_t type; } legacy_files[] = {
	{ CRIU_T_REG_FILES, FD_TYPES__REG }, { CRIU_T_PIPES, FD_TYPES__PIPE },
	{ CRIU_T_FIFO, FD_TYPES__FIFO }, { CRIU_T_INETSK, FD_TYPES__INETSK },
	{ CRIU_T_UNIXSK, FD_TYPES__UNIXSK }, { CRIU_T_PACKETSK, FD_TYPES__PACKETSK },
	{ CRIU_T_NETLINK_SK, FD_TYPES__NETLINKSK }, { CRIU_T_EVENTFD_FILE, FD_TYPES__EVENTFD },
	{ CRIU_T_SIGNALFD, FD_TYPES__SIGNALFD }, { CRIU_T_TIMERFD, FD_TYPES__TIMERFD },
	{ CRIU_T_TTY_FILES, FD_TYPES__TTY }, { CRIU_T_TUNFILE, FD_TYPES__TUNF },
};

static void add_legacy(cur_image *c, const ProtobufCMessage *m)
{
	for (size_t i = 0; i < sizeof(legacy_files) / sizeof(legacy_files[0]); i++) {
		if (legacy_files[i].img != c->type)
			continue;
		/* every one of them has its file id as field "id" (uint32) */
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "id");
		if (f && f->type == PROTOBUF_C_TYPE_UINT32 && f->label == PROTOBUF_C_LABEL_REQUIRED)
			add_file(c, legacy_files[i].type,
				 *(const uint32_t *)((const char *)m + f->offset), NULL, m);
		return;
	}
}

/*
 * The dump's statistics, field by field as the schema has them (names,
 * presence), so that a field CRIU adds shows up with no change here.
 */
static void collect_stats(show_dump *d, const DumpStatsEntry *ds)
{
	const ProtobufCMessageDescriptor *desc = ds->base.descriptor;

	d->have_stats = true;
	d->nstats = 0;
	for (unsigned i = 0; i < desc->n_fields && d->nstats < SHOW_MAX_STATS; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const char *p = (const char *)ds + f->offset;
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		    !*(const protobuf_c_boolean *)((const char *)ds + f->quantifier_offset))
			continue;
		if (f->type == PROTOBUF_C_TYPE_UINT32)
			d->stats[d->nstats].value = *(const uint32_t *)p;
		else if (f->type == PROTOBUF_C_TYPE_UINT64)
			d->stats[d->nstats].value = *(const uint64_t *)p;
		else
			continue;
		d->stats[d->nstats++].name = f->name;
	}
}

/*
 * Tasks by the pages file their pagemap names (pages-<pages_id>.img): a
 * hash of pages ids to chains of tasks (show_task.pm_next), so a pages file
 * finds its tasks without looking at every task.
 */
static bool pm_rehash(show_dump *d)
{
	size_t n = d->npm_slots ? d->npm_slots * 2 : 64;
	size_t *s = calloc(n, sizeof(size_t));

	if (!s) {
		d->oom = true;
		return false;
	}
	/* re-insert every chain head; the chains themselves stay */
	for (size_t k = 0; k < d->npm_slots; k++) {
		size_t head = d->pm_slots[k];
		if (!head)
			continue;
		uint32_t id = SVV(d->tasks, show_task)[head - 1].pages_id;
		size_t j = slot_of(id, n);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = head;
	}
	free(d->pm_slots);
	d->pm_slots = s;
	d->npm_slots = n;
	return true;
}

static size_t pm_index_first(const show_dump *d, uint32_t pages_id)
{
	if (!d->npm_slots)
		return 0;
	for (size_t j = slot_of(pages_id, d->npm_slots);; j = (j + 1) & (d->npm_slots - 1)) {
		size_t head = d->pm_slots[j];
		if (!head || SVV(d->tasks, show_task)[head - 1].pages_id == pages_id)
			return head;
	}
}

static void pm_index_add(show_dump *d, show_task *t)
{
	size_t me = (size_t)(t - SVV(d->tasks, show_task)) + 1;

	if ((d->npm_heads + 1) * 2 > d->npm_slots && !pm_rehash(d))
		return;
	for (size_t j = slot_of(t->pages_id, d->npm_slots);; j = (j + 1) & (d->npm_slots - 1)) {
		size_t head = d->pm_slots[j];
		if (!head) {
			d->pm_slots[j] = me;
			d->npm_heads++;
			return;
		}
		if (SVV(d->tasks, show_task)[head - 1].pages_id == t->pages_id) {
			/* onto the chain: after the head */
			t->pm_next = SVV(d->tasks, show_task)[head - 1].pm_next;
			SVV(d->tasks, show_task)[head - 1].pm_next = me;
			return;
		}
	}
}

static int on_entry(void *arg, const criu_entry *e)
{
	cur_image *c = arg;
	show_dump *d = c->d;
	const ProtobufCMessage *m = e->msg;

	if (d->oom)
		return 1;
	/*
	 * Only entries of the type the name says: a file named like one image
	 * may hold another's magic (reported by the verification), and its
	 * messages are then of another type.
	 */
	if (c->type >= CRIU_T_COUNT ||
	    (e->role == CRIU_ENTRY_PAGEMAP_HEAD ? c->type != CRIU_T_PAGEMAP :
	     m->descriptor != criu_image_types[c->type].entry))
		return 0;
	if (e->role == CRIU_ENTRY_PAGEMAP_HEAD) {
		show_task *t = task_get(d, (uint32_t)c->id);
		if (t && !t->have_pm) {
			t->have_pm = true;
			t->pages_id = ((const PagemapHead *)m)->pages_id;
			pm_index_add(d, t);
		}
		return 0;
	}
	if (e->role != CRIU_ENTRY_MAIN)
		return 0;
	switch (c->type) {
	case CRIU_T_INVENTORY: {
		const InventoryEntry *i = (const InventoryEntry *)m;
		d->have_inventory = true;
		d->img_version = i->img_version;
		d->predump = i->has_pre_dump_mode;
		break;
	}
	case CRIU_T_PSTREE: {
		const PstreeEntry *p = (const PstreeEntry *)m;
		show_task *t = task_get(d, p->pid);
		if (!t || t->in_pstree)
			break;
		t->in_pstree = true;
		t->order = e->index;
		t->ppid = p->ppid;
		t->pgid = p->pgid;
		t->sid = p->sid;
		if (p->n_threads > SHOW_MAX_ITEMS) {
			d->limited = true;
			break;
		}
		t->tids = malloc((p->n_threads ? p->n_threads : 1) * sizeof(uint32_t));
		if (!t->tids) {
			d->oom = true;
			break;
		}
		if (p->n_threads)
			memcpy(t->tids, p->threads, p->n_threads * sizeof(uint32_t));
		t->ntids = p->n_threads;
		break;
	}
	case CRIU_T_CORE:
		add_core(c, (const CoreEntry *)m);
		break;
	case CRIU_T_IDS:
		add_ids(c, (const TaskKobjIdsEntry *)m);
		break;
	case CRIU_T_MM:
		add_mm(c, (const MmEntry *)m);
		break;
	case CRIU_T_PAGEMAP:
		if (strncmp(c->name, "pagemap-shmem-", 14) != 0) {
			add_pent(c, (const PagemapEntry *)m);
		} else {
			/* shared memory: offsets into the object, not addresses */
			const PagemapEntry *pe = (const PagemapEntry *)m;
			show_shment *o = vpush(d, &d->shments, sizeof(show_shment));
			if (o) {
				o->shmid = c->id;
				o->off = pe->vaddr;
				o->pages = criu_pagemap_pages(pe);
				o->flags = criu_pagemap_flags(pe);
			}
		}
		break;
	case CRIU_T_FS: {
		const FsEntry *f = (const FsEntry *)m;
		show_task *t = task_get(d, (uint32_t)c->id);
		if (t) {
			t->have_fs = true;
			t->cwd_id = f->cwd_id;
			t->root_id = f->root_id;
		}
		break;
	}
	case CRIU_T_FDINFO: {
		const FdinfoEntry *f = (const FdinfoEntry *)m;
		show_fd *o = vpush(d, &d->fds, sizeof(show_fd));
		if (o) {
			o->seq = d->fds.n;
			o->files_id = (uint32_t)c->id;
			o->fd = f->fd;
			o->id = f->id;
			o->type = f->type;
			o->flags = f->flags;
		}
		break;
	}
	case CRIU_T_FILES: {
		const FileEntry *f = (const FileEntry *)m;
		add_file(c, f->type, f->id, f, NULL);
		break;
	}
	case CRIU_T_MEMFD_INODE: {
		/* memfd names live here; give them to the memfd file entries at the end */
		const MemfdInodeEntry *mi = (const MemfdInodeEntry *)m;
		show_file *f = vpush(d, &d->memfds, sizeof(show_file));
		if (f) {
			f->id = 0;
			f->type = UINT32_MAX; /* an inode record, not a file entry */
			f->seq = d->memfds.n;
			f->pipe_id = (uint32_t)mi->inode_id;
			f->ino = mi->shmid;
			f->path = sdup(d, mi->name);
			f->size = mi->size;
			f->has_size = true;
		}
		break;
	}
	case CRIU_T_REMAP_FPATH: {
		const RemapFilePathEntry *r = (const RemapFilePathEntry *)m;
		show_remap *o = vpush(d, &d->remaps, sizeof(show_remap));
		if (o) {
			o->seq = d->remaps.n;
			o->orig_id = r->orig_id;
			o->remap_id = r->remap_id;
			if (r->has_remap_type)
				o->type = r->remap_type;
			else if (r->remap_id & 0x80000000u) {
				o->type = REMAP_TYPE__GHOST;
				o->remap_id &= ~0x80000000u;
			} else
				o->type = REMAP_TYPE__LINKED;
		}
		break;
	}
	case CRIU_T_GHOST_FILE: {
		uint32_t *g = vpush(d, &d->ghosts, sizeof(uint32_t));
		if (g)
			*g = (uint32_t)c->id;
		break;
	}
	case CRIU_T_MNTS: {
		const MntEntry *me = (const MntEntry *)m;
		show_mount *o = vpush(d, &d->mounts, sizeof(show_mount));
		if (o) {
			o->ns = c->id;
			o->mnt_id = me->mnt_id;
			o->parent_id = me->parent_mnt_id;
			o->fstype = me->fstype;
			o->ext = (me->has_ext_mount && me->ext_mount) || me->ext_key;
			o->mountpoint = sdup(d, me->mountpoint);
			o->source = sdup(d, me->source);
			o->root = sdup(d, me->root);
			o->options = sdup(d, me->options);
			o->fsname = me->fsname ? sdup(d, me->fsname) : NULL;
		}
		break;
	}
	case CRIU_T_CGROUP: {
		const CgroupEntry *ce = (const CgroupEntry *)m;
		for (size_t i = 0; i < ce->n_sets; i++)
			for (size_t k = 0; k < ce->sets[i]->n_ctls; k++) {
				show_cgctl *o = vpush(d, &d->cgctls, sizeof(show_cgctl));
				if (!o)
					return 0;
				o->set = ce->sets[i]->id;
				o->name = sdup(d, ce->sets[i]->ctls[k]->name);
				o->path = sdup(d, ce->sets[i]->ctls[k]->path);
			}
		break;
	}
	case CRIU_T_SK_QUEUES: {
		/* one item per packet: merged by socket when the tables are sorted */
		const SkPacketEntry *p = (const SkPacketEntry *)m;
		show_queue *q = vpush(d, &d->queues, sizeof(show_queue));
		if (q) {
			q->key = p->id_for;
			q->bytes = p->length;
			q->packets = 1;
		}
		break;
	}
	case CRIU_T_TCP_STREAM: {
		const TcpStreamEntry *t = (const TcpStreamEntry *)m;
		show_queue *q = vpush(d, &d->queues, sizeof(show_queue));
		if (q) {
			q->key = (uint32_t)c->id;
			q->by_ino = true;
			q->bytes = (uint64_t)t->inq_len + t->outq_len;
		}
		break;
	}
	case CRIU_T_STATS: {
		const StatsEntry *se = (const StatsEntry *)m;
		if (se->dump && strcmp(c->name, "stats-dump") == 0)
			collect_stats(d, se->dump);
		break;
	}
	default:
		add_legacy(c, m);
		break;
	}
	return d->oom ? 1 : 0;
}

/* ---- reading a member twice without reading it twice --------------------------- */

/* A want: bytes [off, off + len) of the pages file go to dst. */
typedef struct want {
	uint64_t off, len;
	unsigned char *dst;
} want;

typedef struct tee_state {
	show_dump *d;
	sv_stream *s;
	bool keep;               /* a metadata image: keep its bytes */
	unsigned char *buf;
	size_t len, cap;
	bool too_big;
	bool pages;              /* a pages file: feed wants and hashes */
	uint64_t pos;
	want *wants;
	size_t nwants;
	show_pages *hashes;
	unsigned char page[CRIU_PAGE_SIZE];
	size_t fill;
} tee_state;

/* 64-bit hash of a page: four independent lanes (fast), folded at the end. */
static uint64_t page_hash(const unsigned char *p)
{
	uint64_t h[4] = { 0x9e3779b97f4a7c15u, 0xc2b2ae3d27d4eb4fu, 0x165667b19e3779f9u,
			  0x27d4eb2f165667c5u };

	for (size_t i = 0; i < CRIU_PAGE_SIZE; i += 32)
		for (int k = 0; k < 4; k++) {
			uint64_t w;
			memcpy(&w, p + i + 8 * k, 8);
			h[k] = (h[k] ^ w) * 0xff51afd7ed558ccdu;
			h[k] ^= h[k] >> 29;
		}
	uint64_t r = h[0] ^ (h[1] * 0x9e3779b97f4a7c15u) ^ (h[2] << 1 | h[2] >> 63) ^
		     (h[3] * 0xc2b2ae3d27d4eb4fu);
	r ^= r >> 33;
	return r * 0xff51afd7ed558ccdu;
}

/* Room for one more page hash; false (hashing given up) when there is none. */
static bool hash_room(tee_state *t)
{
	show_pages *h = t->hashes;

	if (h->n < h->cap)
		return true;
	uint64_t cap = h->cap ? h->cap * 2 : 256;
	uint64_t *v;
	if (h->n >= ((uint64_t)1 << 32)) {
		t->d->limited = true;
		t->hashes = NULL;
		return false;
	}
	v = realloc(h->hash, cap * sizeof(uint64_t));
	if (!v) {
		t->d->oom = true;
		t->hashes = NULL;
		return false;
	}
	h->hash = v;
	h->cap = cap;
	return true;
}

static void feed_pages(tee_state *t, const unsigned char *p, size_t n)
{
	uint64_t pos = t->pos;

	for (size_t k = 0; k < t->nwants; k++) {
		want *w = &t->wants[k];
		uint64_t a = pos > w->off ? pos : w->off;
		uint64_t b = pos + n < w->off + w->len ? pos + n : w->off + w->len;
		if (a < b)
			memcpy(w->dst + (a - w->off), p + (a - pos), (size_t)(b - a));
	}
	while (t->hashes && n) {
		/* whole pages straight from the piece, the rest through t->page */
		if (t->fill == 0 && n >= CRIU_PAGE_SIZE) {
			if (!hash_room(t))
				return;
			t->hashes->hash[t->hashes->n++] = page_hash(p);
			p += CRIU_PAGE_SIZE;
			n -= CRIU_PAGE_SIZE;
			continue;
		}
		size_t part = CRIU_PAGE_SIZE - t->fill;
		if (part > n)
			part = n;
		memcpy(t->page + t->fill, p, part);
		t->fill += part;
		p += part;
		n -= part;
		if (t->fill == CRIU_PAGE_SIZE) {
			t->fill = 0;
			if (!hash_room(t))
				return;
			t->hashes->hash[t->hashes->n++] = page_hash(t->page);
		}
	}
}

static void take(tee_state *t, const unsigned char *p, size_t n)
{
	if (t->keep && !t->too_big && n) {
		if (t->len + n > SHOW_MAX_IMAGE) {
			t->too_big = true;
		} else {
			if (t->len + n > t->cap) {
				size_t cap = t->cap ? t->cap : 4096;
				while (cap < t->len + n)
					cap *= 2;
				unsigned char *b = realloc(t->buf, cap);
				if (!b) {
					t->too_big = true;
					t->d->oom = true;
					return;
				}
				t->buf = b;
				t->cap = cap;
			}
			memcpy(t->buf + t->len, p, n);
			t->len += n;
		}
	}
	if (t->pages)
		feed_pages(t, p, n);
	t->pos += n;
}

static ssize_t tee_read(void *arg, void *buf, size_t n)
{
	tee_state *t = arg;
	size_t got = sv_read(t->s, buf, n);

	take(t, buf, got);
	return (ssize_t)got;
}

/*
 * Bytes from the current position that nobody wants, up to n: all of them
 * unless the image is kept or hashed, or a want starts before pos + n.
 */
static uint64_t unwanted(const tee_state *t, uint64_t n)
{
	uint64_t gap = n;

	if (t->keep || t->hashes)
		return 0;
	for (size_t k = 0; k < t->nwants; k++) {
		const want *w = &t->wants[k];
		if (w->off + w->len <= t->pos)
			continue;
		if (w->off <= t->pos)
			return 0;
		if (w->off - t->pos < gap)
			gap = w->off - t->pos;
	}
	return gap;
}

static int scan_take(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	(void)off;
	take(arg, p, n);
	return 0;
}

static int64_t tee_skip(void *arg, uint64_t n)
{
	tee_state *t = arg;
	uint64_t done = 0;
	unsigned char buf[65536];

	while (done < n) {
		uint64_t piece = unwanted(t, n - done), got;
		if (piece) {
			/* a seek where the stream can */
			got = sv_skip(t->s, piece);
			t->pos += got;
		} else if (!t->keep) {
			/* pages wanted or hashed: handed over from the stream's buffer */
			piece = n - done;
			if (!t->hashes && piece > sizeof(buf))
				piece = sizeof(buf); /* a want is short: skip again after it */
			got = sv_scan(t->s, piece, scan_take, t);
		} else {
			piece = n - done > sizeof(buf) ? sizeof(buf) : n - done;
			got = sv_read(t->s, buf, (size_t)piece);
			take(t, buf, (size_t)got);
		}
		done += got;
		if (got < piece)
			break;
	}
	return (int64_t)done;
}

/* Buffer source for the second decode. */
typedef struct membuf {
	const unsigned char *p;
	size_t n, at;
} membuf;

static ssize_t membuf_read(void *arg, void *buf, size_t n)
{
	membuf *m = arg;
	if (n > m->n - m->at)
		n = m->n - m->at;
	if (!n)
		return 0;
	memcpy(buf, m->p + m->at, n);
	m->at += n;
	return (ssize_t)n;
}

static int64_t membuf_skip(void *arg, uint64_t n)
{
	membuf *m = arg;
	if (n > m->n - m->at)
		n = m->n - m->at;
	m->at += (size_t)n;
	return (int64_t)n;
}

static void decode_kept(show_dump *d, const sv_member *m, const criu_image_name *named,
			uint64_t id, const unsigned char *p, size_t n)
{
	membuf mb = { p, n, 0 };
	sv_source src = { membuf_read, membuf_skip, &mb, n };
	sv_stream *s = sv_stream_open_source(d->quiet, &src, m->name, 0, SV_OPEN_RAW);
	cur_image c = { d, named->type->id, id, m->name, 0 };
	criu_visitor v = { &c, on_entry, NULL };

	if (!s) {
		d->oom = true;
		return;
	}
	criu_verify_image(d->quiet, s, m->name, &v, NULL);
	sv_close(s);
}

/* The bytes of [start, end) of task t's memory as they lie in pages file pid. */
static void plan_range(tee_state *t, show_task *k, uint64_t start, uint64_t end, unsigned char **dst,
		       size_t *len, bool *done)
{
	size_t n, planned = 0;
	uint64_t found = 0;

	if (end <= start)
		return;
	n = end - start > SHOW_MAX_ARGS ? SHOW_MAX_ARGS : (size_t)(end - start);
	end = start + n;
	if (!*dst && !(*dst = calloc(1, n))) {
		t->d->oom = true;
		return;
	}
	*len = n;
	for (size_t i = 0; i < k->npents; i++) {
		const show_pent *p = &k->pents[i];
		if (!(p->flags & CRIU_PE_PRESENT) || p->pages > (UINT64_MAX - p->vaddr) / CRIU_PAGE_SIZE)
			continue;
		uint64_t ps = p->vaddr, pe = p->vaddr + p->pages * CRIU_PAGE_SIZE;
		uint64_t a = ps > start ? ps : start, b = pe < end ? pe : end;
		if (a >= b)
			continue;
		/* a command line spans a few pages: more entries over it are forged */
		if (++planned > SHOW_MAX_ARGS / CRIU_PAGE_SIZE + 2)
			break;
		want *w = realloc(t->wants, (t->nwants + 1) * sizeof(want));
		if (!w) {
			t->d->oom = true;
			return;
		}
		t->wants = w;
		w[t->nwants].off = (p->file_page * CRIU_PAGE_SIZE) + (a - ps);
		w[t->nwants].len = b - a;
		w[t->nwants].dst = *dst + (a - start);
		t->nwants++;
		found += b - a;
	}
	*done = found == n;
}

static void plan_pages(tee_state *t, show_dump *d, uint32_t pages_id)
{
	bool any = false;

	for (size_t i = pm_index_first(d, pages_id); i; i = SVV(d->tasks, show_task)[i - 1].pm_next) {
		show_task *k = &SVV(d->tasks, show_task)[i - 1];
		if (k->pages_id != pages_id)
			continue;
		any = true;
		if (!k->have_mm)
			continue;
		plan_range(t, k, k->arg_start, k->arg_end, &k->args, &k->args_len, &k->args_done);
		plan_range(t, k, k->env_start, k->env_end, &k->env, &k->env_len, &k->env_done);
	}
	if (!any)
		d->pages_before_maps = true;
	if (d->hash_pages) {
		show_pages *h = vpush(d, &d->pages, sizeof(show_pages));
		if (h)
			h->id = pages_id;
		t->hashes = h;
	}
}

static void collect_opened(sv_ctx *cx, criu_dump *cd, show_dump *d, const sv_member *m,
			   sv_stream *s);

static void collect_member(sv_ctx *cx, sv_members *src, criu_dump *cd, show_dump *d,
			   const sv_member *m)
{
	const criu_image_name *named = strchr(m->name, '/') ? NULL :
				       criu_image_match_file(m->name, NULL);
	sv_stream *s;

	d->members++;
	if (m->kind != SV_MEMBER_FILE || !criu_dump_wants(cd, m)) {
		criu_dump_add(cd, m, NULL);
		return;
	}
	/* as criu_verify_members() opens them: a directory's tmpfs archives decompressed */
	s = named && named->type->raw == CRIU_RAW_TMPFS && sv_members_dirfd(src) >= 0 ?
	    sv_open_at(cx, sv_members_dirfd(src), m->name, m->display, 0) :
	    sv_member_open(cx, src);
	/* only images with entries and pages files are the model's; a gzip member
	 * (tmpfs archives) goes as it is, as the verification must see it as gzip */
	if (!s || !named || sv_stream_gzip(s) ||
	    (named->type->id != CRIU_T_PAGES && named->type->layout == CRIU_LAYOUT_RAW)) {
		criu_dump_add(cd, m, s);
		sv_close(s);
		return;
	}
	collect_opened(cx, cd, d, m, s);
	sv_close(s);
}

/* Member m, opened as s: to criu_dump through the tee, and to the model (the caller closes s). */
static void collect_opened(sv_ctx *cx, criu_dump *cd, show_dump *d, const sv_member *m,
			   sv_stream *s)
{
	uint64_t id = 0;
	const criu_image_name *named = criu_image_match_file(m->name, &id);
	tee_state t = { 0 };

	if (!named) {
		criu_dump_add(cd, m, s);
		return;
	}
	t.d = d;
	t.s = s;
	t.pages = named->type->id == CRIU_T_PAGES;
	t.keep = !t.pages && named->type->layout != CRIU_LAYOUT_RAW;
	if (t.pages)
		plan_pages(&t, d, (uint32_t)id);
	uint64_t rem = sv_remaining(s);
	sv_source ts = { tee_read, tee_skip, &t, rem == UINT64_MAX ? SV_NONE : rem };
	sv_stream *w = sv_stream_open_source(cx, &ts, m->display ? m->display : m->name,
					     0, SV_OPEN_RAW);
	if (!w) {
		d->oom = true;
		criu_dump_add(cd, m, s);
	} else {
		criu_dump_add(cd, m, w);
		/* whatever the verification left unread is still the model's */
		if (t.keep)
			while (!t.too_big && sv_scan(w, SHOW_MAX_IMAGE, NULL, NULL) > 0)
				;
		sv_close(w);
	}
	d->bytes += t.pos;
	if (t.keep && !t.too_big && !d->oom)
		decode_kept(d, m, named, id, t.buf, t.len);
	else if (t.too_big)
		d->limited = true;
	free(t.buf);
	free(t.wants);
	if (t.hashes)
		t.hashes->complete = t.fill == 0;
}

/* Collect the parent chain of a directory dump, quietly, for page contents. */
static void collect_parent(sv_members *dir, show_dump *d, int depth);

/*
 * Where a member of an archive is in its CRIU dump: the name after
 * "checkpoint/" (podman, CRI-O; "FOLDER/checkpoint/" in a pod or
 * containerd layout) or "pre-checkpoint/" (*pre set: podman's pre-dump
 * of --with-previous exports), or NULL for the archive's other members.
 */
static const char *dump_name(const char *name, size_t *prefix, bool *pre)
{
	const char *p = name;

	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash)
			return NULL;
		size_t n = (size_t)(slash - p);
		if (slash[1] && !strchr(slash + 1, '/') &&
		    ((n == 10 && strncmp(p, "checkpoint", 10) == 0) ||
		     (n == 14 && strncmp(p, "pre-checkpoint", 14) == 0))) {
			*prefix = (size_t)(p - name);
			*pre = n == 14;
			return slash + 1;
		}
		p = slash + 1;
	}
}

/* The whole of the current member, at most cap bytes; NULL when larger or unreadable. */
static unsigned char *read_member(sv_ctx *cx, sv_members *src, const sv_member *m, size_t cap,
				  size_t *len)
{
	sv_stream *s;
	unsigned char *p;

	if (m->kind != SV_MEMBER_FILE || m->size == SV_NONE || m->size > cap)
		return NULL;
	if (!(s = sv_member_open(cx, src)))
		return NULL;
	p = sv_read_alloc(s, (size_t)m->size, len);
	if (p && *len != m->size) {
		free(p);
		p = NULL;
	}
	sv_close(s);
	return p;
}

/* JSON members of an archive are small (the container module caps them at 4 MiB). */
#define SHOW_MAX_JSON ((size_t)16 << 20)

static json_t *read_json(sv_ctx *cx, sv_members *src, const sv_member *m)
{
	size_t len = 0;
	unsigned char *p = read_member(cx, src, m, SHOW_MAX_JSON, &len);
	json_t *j = p ? json_loadb((const char *)p, len, 0, NULL) : NULL;

	free(p);
	return j;
}

static void model_finish(show_dump *d);

/* One container of an archive: the root, or a folder of a pod checkpoint. */
typedef struct arch_ctr {
	char *prefix;            /* "", "./" or "FOLDER/" */
	show_dump *d, *pre;      /* checkpoint/ and pre-checkpoint/ */
	criu_dump *cd, *pre_cd;
	char *parent_link;       /* checkpoint/parent's target */
} arch_ctr;

typedef struct arch {
	sv_ctx *cx;
	sv_members *src;
	show_dump *top;          /* the caller's model: options and path */
	arch_ctr *v;
	size_t n;
	json_t *pod_ctrs;        /* pod.options "containers": name -> folder */
} arch;

#define SHOW_MAX_CONTAINERS 64   /* folders of a pod followed (the container module's cap) */

static arch_ctr *ctr_for(arch *a, const char *name, size_t plen)
{
	for (size_t i = 0; i < a->n; i++)
		if (strlen(a->v[i].prefix) == plen && strncmp(a->v[i].prefix, name, plen) == 0)
			return &a->v[i];
	if (a->n >= SHOW_MAX_CONTAINERS) {
		a->top->limited = true;
		return NULL;
	}
	arch_ctr *v = realloc(a->v, (a->n + 1) * sizeof(*v));
	if (!v) {
		a->top->oom = true;
		return NULL;
	}
	a->v = v;
	arch_ctr *c = &v[a->n];
	memset(c, 0, sizeof(*c));
	if (!(c->prefix = strndup(name, plen))) {
		a->top->oom = true;
		return NULL;
	}
	a->n++;
	return c;
}

/* The model of checkpoint/ (or pre-checkpoint/) of c, made on first use. */
static show_dump *model_for(arch *a, arch_ctr *c, bool pre)
{
	show_dump **d = pre ? &c->pre : &c->d;
	char *name = NULL;

	if (!*d) {
		/* a container's model is named as the archive, or ARCHIVE:FOLDER/ in a pod */
		bool root = !*c->prefix || strcmp(c->prefix, "./") == 0; /* CRI-O's "./" */
		if ((pre || !root) ?
		    asprintf(&name, "%s:%s%s", sv_members_path(a->src), c->prefix,
			     pre ? "pre-checkpoint" : "") < 0 :
		    !(name = strdup(sv_members_path(a->src)))) {
			name = NULL;
			a->top->oom = true;
			return NULL;
		}
		*d = show_dump_new(name, a->top->hash_pages);
		if (*d)
			(*d)->archive = true;
		else
			a->top->oom = true;
		free(name);
	}
	return *d;
}

/* The model and the dump checks of checkpoint/ (or pre-checkpoint/) of c. */
static bool unit_for(arch *a, arch_ctr *c, bool pre, show_dump **dp, criu_dump **cdp)
{
	show_dump **d = pre ? &c->pre : &c->d;
	criu_dump **cd = pre ? &c->pre_cd : &c->cd;
	char *path = NULL;

	if (!model_for(a, c, pre))
		return false;
	if (!*cd) {
		if (asprintf(&path, "%s:%s%s", sv_members_path(a->src), c->prefix,
			     pre ? "pre-checkpoint" : "checkpoint") >= 0)
			*cd = criu_dump_new(a->cx, path);
		free(path);
	}
	if (!*cd) {
		a->top->oom = true;
		return false;
	}
	*dp = *d;
	*cdp = *cd;
	return true;
}

/*
 * Members of a container archive beside its dump: podman keeps the dump's
 * statistics in stats-dump and the container's name, id and image in
 * config.dump (next to checkpoint/); a pod checkpoint names its
 * containers' folders in pod.options.
 */
static void container_member(arch *a, const sv_member *m)
{
	const char *slash = strrchr(m->name, '/');
	const char *base = slash ? slash + 1 : m->name;
	size_t plen = slash ? (size_t)(slash + 1 - m->name) : 0;
	size_t len = 0;
	unsigned char *p;
	arch_ctr *c;
	show_dump *d;

	/* the root's, or one folder's (a pod's container, CRI-O's "./") */
	if (slash && memchr(m->name, '/', plen - 1))
		return;
	if (strcmp(base, "pod.options") == 0 && !slash && !a->pod_ctrs) {
		json_t *j = read_json(a->cx, a->src, m);
		json_t *ctrs = json_object_get(j, "containers");
		if (json_is_object(ctrs))
			a->pod_ctrs = json_incref(ctrs);
		json_decref(j);
		return;
	}
	if (strcmp(base, "stats-dump") != 0 && strcmp(base, "config.dump") != 0)
		return;
	if (!(c = ctr_for(a, m->name, plen)) || !(d = model_for(a, c, false)))
		return;
	if (strcmp(base, "stats-dump") == 0) {
		if ((p = read_member(a->cx, a->src, m, SHOW_MAX_IMAGE, &len))) {
			const criu_image_name *named = criu_image_match_file(base, NULL);
			sv_member sub = *m;
			sub.name = base; /* a pod's FOLDER/stats-dump is the container's stats-dump */
			if (named)
				decode_kept(d, &sub, named, 0, p, len);
			free(p);
		}
	} else if (!d->ctr_name) {
		json_t *j = read_json(a->cx, a->src, m);
		const char *name = json_string_value(json_object_get(j, "name"));
		const char *id = json_string_value(json_object_get(j, "id"));
		const char *image = json_string_value(json_object_get(j, "rootfsImageName"));
		d->ctr_name = name ? sdup(d, name) : NULL;
		d->ctr_id = id ? sdup(d, id) : NULL;
		d->ctr_image = image ? sdup(d, image) : NULL;
		json_decref(j);
	}
}

/* Swap two models' contents (the caller's model becomes the first container's). */
static void swap_models(show_dump *x, show_dump *y)
{
	show_dump t = *x;
	*x = *y;
	*y = t;
}

/* The end of an archive: each container's dumps finished, its models linked; false
 * when no container has a dump. */
static bool finish_archive(arch *a)
{
	show_dump *first = NULL, **tail = &first;

	for (size_t i = 0; i < a->n; i++) {
		arch_ctr *c = &a->v[i];
		const char *t = c->parent_link;
		bool to_pre = t && (strcmp(t, "../pre-checkpoint") == 0 ||
				    strcmp(t, "../pre-checkpoint/") == 0);
		/*
		 * podman's checkpoint/parent -> ../pre-checkpoint: the archive's
		 * pre-dump stands for it (as the container module lets it), so
		 * in-parent pages are checked against it and, for diff, hashed
		 * from it.
		 */
		if (c->pre_cd)
			criu_dump_finish(c->pre_cd, NULL);
		if (c->cd && to_pre && c->pre_cd)
			criu_dump_set_parent(c->cd, c->pre_cd);
		if (c->cd)
			criu_dump_finish(c->cd, NULL);
		criu_dump_free(c->cd);
		criu_dump_free(c->pre_cd);
		if (!c->cd && !c->pre_cd)
			continue; /* config.dump or stats-dump without a dump: nothing to show */
		if (c->pre)
			model_finish(c->pre);
		if (!c->cd && c->pre) {
			/* a pre-checkpoint export alone: the pre-dump is the container's dump */
			if (c->d) {
				c->pre->ctr_name = c->d->ctr_name;
				c->pre->ctr_id = c->d->ctr_id;
				c->pre->ctr_image = c->d->ctr_image;
				c->d->ctr_name = c->d->ctr_id = c->d->ctr_image = NULL;
				show_dump_free(c->d);
			}
			c->d = c->pre;
			c->pre = NULL;
		}
		model_finish(c->d);
		c->d->pre_ckpt = c->pre;
		if (c->pre && to_pre && !c->d->parent) {
			c->d->parent = c->pre;
			c->d->pre_is_parent = true;
		}
		c->pre = NULL;
		/* a pod container's name: its key in pod.options */
		const char *key;
		json_t *v;
		size_t fl = strlen(c->prefix);
		json_object_foreach(a->pod_ctrs, key, v) {
			const char *f = json_string_value(v);
			if (f && fl && strlen(f) == fl - 1 && strncmp(f, c->prefix, fl - 1) == 0 &&
			    !c->d->pod_name)
				c->d->pod_name = sdup(c->d, key);
		}
		c->d->folder = *c->prefix && strcmp(c->prefix, "./") != 0 ? sdup(c->d, c->prefix) : NULL;
		*tail = c->d;
		tail = &c->d->next;
		c->d = NULL;
	}
	if (first) {
		/* the caller's model is the first container's; the others follow it */
		swap_models(a->top, first);
		show_dump_free(first);
		a->top->pod = a->pod_ctrs != NULL || a->top->next != NULL;
	}
	return first != NULL;
}

/*
 * An archive: the members of each container's CRIU dumps (checkpoint/ and
 * pre-checkpoint/, in the root or in the folders of a pod) go to criu_dump
 * and to that container's model under their names inside the dump; the
 * container's stats-dump and config.dump to its model.  The container
 * module's own checks are not run here: `streamverify ARCHIVE` runs them.
 */
static void collect_archive(sv_ctx *cx, sv_members *src, show_dump *d)
{
	arch a = { .cx = cx, .src = src, .top = d };
	const sv_member *m;

	while (!d->oom && !sv_stopped(cx) && (m = sv_members_next(src))) {
		size_t plen = 0;
		bool pre = false;
		const char *rest = dump_name(m->name, &plen, &pre);
		arch_ctr *c;
		show_dump *u;
		criu_dump *cd;

		if (!rest) {
			container_member(&a, m);
			continue;
		}
		if (!(c = ctr_for(&a, m->name, plen)) || !unit_for(&a, c, pre, &u, &cd))
			continue;
		/* podman's list of the fds it gave CRIU: no image (the container module reads it) */
		if (strcmp(rest, "descriptors.json") == 0)
			continue;
		if (!pre && strcmp(rest, "parent") == 0 && m->kind == SV_MEMBER_SYMLINK && m->link &&
		    !c->parent_link && !(c->parent_link = strdup(m->link)))
			d->oom = true;
		sv_member sub = *m;
		sub.name = rest;
		/* tmpfs archives are gzip and members raw: the dump learns they are there */
		const criu_image_name *named = criu_image_match_file(rest, NULL);
		if (named && named->type->raw == CRIU_RAW_TMPFS) {
			criu_dump_add(cd, &sub, NULL);
			continue;
		}
		collect_member(cx, src, cd, u, &sub);
		if (u->oom)
			d->oom = true;
	}
	bool found = false;
	if (!d->oom)
		found = finish_archive(&a);
	else
		for (size_t i = 0; i < a.n; i++) {
			criu_dump_free(a.v[i].cd);
			criu_dump_free(a.v[i].pre_cd);
		}
	for (size_t i = 0; i < a.n; i++) {
		show_dump_free(a.v[i].d);
		show_dump_free(a.v[i].pre);
		free(a.v[i].prefix);
		free(a.v[i].parent_link);
	}
	free(a.v);
	json_decref(a.pod_ctrs);
	if (!found && !d->oom && !sv_stopped(cx))
		sv_report(cx, &sv_core_codes[SV_CORE_UNSUPPORTED], SV_NONE,
			  "the archive holds no checkpoint/ folder of CRIU images");
}

static void collect_into(sv_ctx *cx, sv_members *src, show_dump *d, int depth)
{
	criu_dump *cd;
	const sv_member *m;

	if (!sv_members_is_dir(src)) {
		collect_archive(cx, src, d);
		if (d->oom)
			sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
				  "out of memory while collecting the checkpoint: shown in part");
		return;
	}
	cd = criu_dump_new(cx, sv_members_path(src));
	if (!cd) {
		d->oom = true;
		return;
	}
	/* A directory's inventory first, as criu_verify_members() does (its findings first). */
	bool inv_done = false;
	if (sv_members_is_dir(src)) {
		char *display = NULL;
		const char *path = sv_members_path(src);
		int plen = (int)strlen(path);
		while (plen > 1 && path[plen - 1] == '/')
			plen--;
		if (asprintf(&display, "%.*s/inventory.img", plen, path) >= 0) {
			sv_member inv = { .name = "inventory.img", .display = display,
					  .kind = SV_MEMBER_FILE, .size = SV_NONE, .offset = SV_NONE };
			sv_stream *s = sv_members_open_name(cx, src, inv.name, display);
			if (s) {
				inv_done = true;
				collect_opened(cx, cd, d, &inv, s);
				sv_close(s);
			}
			free(display);
		}
	}
	while (!d->oom && !sv_stopped(cx) && (m = sv_members_next(src)))
		if (!(inv_done && strcmp(m->name, "inventory.img") == 0))
			collect_member(cx, src, cd, d, m);
	criu_dump_finish(cd, sv_members_is_dir(src) ? src : NULL);
	criu_dump_free(cd);
	if (d->oom)
		sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
			  "out of memory while collecting the checkpoint: shown in part");
	if (d->hash_pages && sv_members_is_dir(src) && depth < SHOW_MAX_PARENTS)
		collect_parent(src, d, depth);
}

static void collect_parent(sv_members *dir, show_dump *d, int depth)
{
	bool need = false;

	for (size_t i = 0; i < d->tasks.n && !need; i++) {
		const show_task *t = &SVV(d->tasks, show_task)[i];
		for (size_t k = 0; k < t->npents && !need; k++)
			need = (t->pents[k].flags & CRIU_PE_PARENT) != 0;
	}
	if (!need)
		return;
	sv_members *p = sv_members_open_subdir(d->quiet, dir, "parent");
	if (!p)
		return;
	char *path = malloc(strlen(d->path) + 8);
	if (path) {
		sprintf(path, "%s/parent", d->path);
		d->parent = show_dump_new(path, true);
		free(path);
	}
	if (d->parent)
		collect_into(d->parent->quiet, p, d->parent, depth + 1);
	sv_members_close(p);
}

/* The shared memory object a shared VMA maps, or false for other VMAs. */
static void index_dump(show_dump *d);

/* One step of the counting loops; false once the budget is spent (a forged dump). */
static bool work(show_dump *d)
{
	if (d->work >= SHOW_WORK_BUDGET) {
		d->limited = true;
		return false;
	}
	d->work++;
	return true;
}

static bool shmem_of(const show_dump *d, const show_vma *v, uint64_t *shmid)
{
	if (v->status & (1u << 14)) { /* memfd: file entry -> inode -> shmid */
		const show_file *f = show_file_find_type(d, (uint32_t)v->shmid, FD_TYPES__MEMFD);
		const show_file *n = f ? show_memfd_inode(d, f->pipe_id) : NULL;
		if (!n)
			return false;
		*shmid = n->ino;
		return true;
	}
	*shmid = v->shmid;
	return (v->status & ((1u << 8) | (1u << 10))) != 0; /* shared anonymous, SysV */
}

static void count_shared(show_dump *d, show_vma *v)
{
	uint64_t shmid, lo, hi;

	if (!shmem_of(d, v, &shmid) || v->end <= v->start ||
	    v->pgoff > UINT64_MAX / 2 || v->end - v->start > UINT64_MAX / 2)
		return;
	lo = v->pgoff;
	hi = lo + (v->end - v->start);
	const show_shment *se = d->shments.v;
	size_t k;
	LOWER_BOUND(d->shments.n, se[ix_].shmid, shmid, k);
	for (; k < d->shments.n && se[k].shmid == shmid && se[k].off < hi; k++) {
		const show_shment *e = &se[k];
		if (!work(d) || e->pages > (UINT64_MAX - e->off) / CRIU_PAGE_SIZE)
			continue;
		uint64_t a = e->off > lo ? e->off : lo;
		uint64_t b = e->off + e->pages * CRIU_PAGE_SIZE;
		if (b > hi)
			b = hi;
		if (a >= b)
			continue;
		uint64_t n = (b - a) / CRIU_PAGE_SIZE;
		if (e->flags & CRIU_PE_PRESENT)
			v->present += n;
		else if (e->flags & CRIU_PE_PARENT)
			v->parent += n;
		else if (e->flags & CRIU_PE_LAZY)
			v->lazy += n;
	}
}

/* ---- indexes (after collecting) ------------------------------------------------- */

static int cmp_file(const void *a, const void *b)
{
	const show_file *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_memfd(const void *a, const void *b)
{
	const show_file *x = a, *y = b;
	if (x->pipe_id != y->pipe_id)
		return x->pipe_id < y->pipe_id ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_remap(const void *a, const void *b)
{
	const show_remap *x = a, *y = b;
	if (x->orig_id != y->orig_id)
		return x->orig_id < y->orig_id ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_fd(const void *a, const void *b)
{
	const show_fd *x = a, *y = b;
	if (x->files_id != y->files_id)
		return x->files_id < y->files_id ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_queue(const void *a, const void *b)
{
	const show_queue *x = a, *y = b;
	uint64_t p = (uint64_t)x->by_ino << 32 | x->key, q = (uint64_t)y->by_ino << 32 | y->key;
	return p < q ? -1 : p > q;
}

static int cmp_shment(const void *a, const void *b)
{
	const show_shment *x = a, *y = b;
	if (x->shmid != y->shmid)
		return x->shmid < y->shmid ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int cmp_pent(const void *a, const void *b)
{
	const show_pent *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int cmp_vma(const void *a, const void *b)
{
	const show_vma *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_fd_by_id(const void *a, const void *b, void *arg)
{
	const show_fd *f = arg;
	uint32_t x = f[*(const size_t *)a].id, y = f[*(const size_t *)b].id;
	return x < y ? -1 : x > y;
}

static int cmp_task_by_files(const void *a, const void *b, void *arg)
{
	const show_task *t = arg;
	const show_task *x = &t[*(const size_t *)a], *y = &t[*(const size_t *)b];
	if (x->files_id != y->files_id)
		return x->files_id < y->files_id ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* What identifies a socket across dumps: its kind and inode (packet sockets: id). */
uint64_t show_sock_key(const show_file *f)
{
	return (uint64_t)f->type << 32 | (f->type == FD_TYPES__PACKETSK ? f->id : f->ino);
}

bool show_is_socket(const show_file *f)
{
	return f->type == FD_TYPES__INETSK || f->type == FD_TYPES__UNIXSK ||
	       f->type == FD_TYPES__PACKETSK || f->type == FD_TYPES__NETLINKSK;
}

static int cmp_sock(const void *a, const void *b, void *arg)
{
	const show_file *f = arg;
	uint64_t x = show_sock_key(&f[*(const size_t *)a]), y = show_sock_key(&f[*(const size_t *)b]);
	return x < y ? -1 : x > y;
}

static size_t *index_of(show_dump *d, size_t n)
{
	size_t *v = malloc((n ? n : 1) * sizeof(size_t));
	if (!v)
		d->oom = true;
	return v;
}

#define SORT(vec, T, cmp) \
	do { if ((vec).n > 1) qsort((vec).v, (vec).n, sizeof(T), cmp); } while (0)

/* Sort every table once, so that each lookup is a binary search (a forged dump of a
 * million items must not cost a million squared). */
static void index_dump(show_dump *d)
{
	SORT(d->files, show_file, cmp_file);
	SORT(d->memfds, show_file, cmp_memfd);
	SORT(d->remaps, show_remap, cmp_remap);
	SORT(d->fds, show_fd, cmp_fd);
	SORT(d->shments, show_shment, cmp_shment);
	SORT(d->queues, show_queue, cmp_queue);
	/* one queue item per socket */
	size_t o = 0;
	for (size_t i = 0; i < d->queues.n; i++) {
		show_queue *q = &SVV(d->queues, show_queue)[i];
		if (o && q->by_ino == SVV(d->queues, show_queue)[o - 1].by_ino &&
		    q->key == SVV(d->queues, show_queue)[o - 1].key) {
			SVV(d->queues, show_queue)[o - 1].bytes += q->bytes;
			SVV(d->queues, show_queue)[o - 1].packets += q->packets;
		} else {
			SVV(d->queues, show_queue)[o++] = *q;
		}
	}
	d->queues.n = o;
	for (size_t i = 0; i < d->tasks.n; i++) {
		show_task *t = &SVV(d->tasks, show_task)[i];
		if (t->npents > 1)
			qsort(t->pents, t->npents, sizeof(show_pent), cmp_pent);
		if (t->nvmas > 1)
			qsort(t->vmas, t->nvmas, sizeof(show_vma), cmp_vma);
	}
	if ((d->fd_by_id = index_of(d, d->fds.n))) {
		for (size_t i = 0; i < d->fds.n; i++)
			d->fd_by_id[i] = i;
		if (d->fds.n > 1)
			qsort_r(d->fd_by_id, d->fds.n, sizeof(size_t), cmp_fd_by_id, d->fds.v);
	}
	if ((d->task_by_files = index_of(d, d->tasks.n))) {
		for (size_t i = 0; i < d->tasks.n; i++) {
			const show_task *t = &SVV(d->tasks, show_task)[i];
			if (t->in_pstree && t->have_ids)
				d->task_by_files[d->ntask_by_files++] = i;
		}
		if (d->ntask_by_files > 1)
			qsort_r(d->task_by_files, d->ntask_by_files, sizeof(size_t), cmp_task_by_files,
				d->tasks.v);
	}
	if ((d->socks = index_of(d, d->files.n))) {
		for (size_t i = 0; i < d->files.n; i++)
			if (show_is_socket(&SVV(d->files, show_file)[i]))
				d->socks[d->nsocks++] = i;
		if (d->nsocks > 1)
			qsort_r(d->socks, d->nsocks, sizeof(size_t), cmp_sock, d->files.v);
	}
}

const show_file *show_sock_find(const show_dump *d, const show_file *f)
{
	const show_file *fs = d->files.v;
	uint64_t key = show_sock_key(f);
	size_t at;

	if (!d->socks)
		return NULL;
	LOWER_BOUND(d->nsocks, show_sock_key(&fs[d->socks[ix_]]), key, at);
	return at < d->nsocks && show_sock_key(&fs[d->socks[at]]) == key ? &fs[d->socks[at]] : NULL;
}

void show_owners(const show_dump *d, uint32_t id, void (*fn)(void *, uint32_t, uint32_t),
		 void *arg)
{
	const show_fd *f = d->fds.v;
	const show_task *t = d->tasks.v;
	size_t a, b;

	if (!d->fd_by_id || !d->task_by_files)
		return;
	LOWER_BOUND(d->fds.n, f[d->fd_by_id[ix_]].id, id, a);
	for (; a < d->fds.n && f[d->fd_by_id[a]].id == id; a++) {
		const show_fd *fd = &f[d->fd_by_id[a]];
		LOWER_BOUND(d->ntask_by_files, t[d->task_by_files[ix_]].files_id, fd->files_id, b);
		for (; b < d->ntask_by_files && t[d->task_by_files[b]].files_id == fd->files_id; b++)
			fn(arg, t[d->task_by_files[b]].pid, fd->fd);
	}
}

void show_collect(sv_ctx *cx, sv_members *m, show_dump *d)
{
	collect_into(cx, m, d, 0);
	model_finish(d);
}

/* ---- criu-image-streamer captures ------------------------------------------------ */

typedef struct capture_run {
	sv_ctx *cx;
	show_dump *d;
} capture_run;

/* A file of the capture: to criu_dump through the tee, as collect_member does. */
static void capture_add(void *arg, criu_dump *cd, const sv_member *m, sv_stream *s)
{
	capture_run *r = arg;
	const criu_image_name *named = criu_image_match_file(m->name, NULL);

	r->d->members++;
	if (!s || !named || r->d->oom ||
	    (named->type->id != CRIU_T_PAGES && named->type->layout == CRIU_LAYOUT_RAW))
		criu_dump_add(cd, m, s);
	else
		collect_opened(r->cx, cd, r->d, m, s);
}

/*
 * The model a capture run fills: sv_verify() hands a module only its
 * context and stream, and show collects one checkpoint at a time per thread.
 */
static _Thread_local show_dump *capture_into;

static void capture_verify(sv_ctx *cx, sv_stream *in)
{
	show_dump *d = capture_into;
	const char *name = sv_stream_name(in);
	criu_dump *cd;

	if (!d)
		return;
	if (!(cd = criu_dump_new(cx, name ? name : "-"))) {
		d->oom = true;
		return;
	}
	capture_run r = { cx, d };
	criu_capture_read(cx, in, cd, capture_add, &r);
	criu_dump_free(cd);
	if (d->oom)
		sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
			  "out of memory while collecting the checkpoint: shown in part");
	model_finish(d);
}

/* Registered by show_run(); chosen by name only (no bid). */
static const sv_format show_capture_format = {
	.name = "criu-show-capture",
	.description = "a criu-image-streamer capture read for show and diff",
	.verify = capture_verify,
};

/* A regular file the criu-stream module recognises by its first marker. */
static bool is_capture(const char *path)
{
	const sv_format *cs = sv_format_find("criu-stream");
	unsigned char head[SV_BID_BYTES];
	struct stat st;
	ssize_t n;
	int fd;

	if (!cs || !cs->bid || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return false;
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n <= 0)
		return false;
	sv_bid_input in = { .path = path, .name = path, .dirfd = -1, .head = head,
			    .head_len = (size_t)n };
	/* 85: the first file's name marker; a later shard's bare seq is no evidence */
	return cs->bid(&in) >= 50;
}

static void collect_cb(sv_ctx *cx, sv_members *m, void *arg)
{
	show_collect(cx, m, arg);
}

int show_run(const char *path, const sv_sink *sink, show_dump *d, sv_summary *sum)
{
	if (!is_capture(path))
		return sv_run_members(path, NULL, sink, collect_cb, d, sum);
	if (sv_format_index(show_capture_format.name) < 0 &&
	    !sv_register_format(&show_capture_format)) {
		fprintf(stderr, "streamverify: cannot register %s\n", show_capture_format.name);
		return SV_EXIT_FAILURE;
	}
	sv_options opt = { .format = show_capture_format.name };
	capture_into = d;
	int st = sv_verify(path, &opt, sink, sum);
	capture_into = NULL;
	return st;
}

/* The indexes, memfd names and page counts of a collected model (once). */
static void model_finish(show_dump *d)
{
	if (d->finished)
		return;
	d->finished = true;
	index_dump(d);
	/* memfd names onto memfd file entries */
	for (size_t i = 0; i < d->files.n; i++) {
		show_file *f = &SVV(d->files, show_file)[i];
		const show_file *n;
		if (f->type != FD_TYPES__MEMFD || f->path || !(n = show_memfd_inode(d, f->pipe_id)))
			continue;
		f->path = n->path ? sdup(d, n->path) : NULL;
		f->size = n->size;
		f->has_size = true;
	}
	for (size_t i = 0; i < d->tasks.n; i++) {
		show_task *t = &SVV(d->tasks, show_task)[i];
		for (size_t v = 0; v < t->nvmas; v++) {
			show_vma *a = &t->vmas[v];
			size_t k;
			/* shared VMAs: pages of their shared memory object (pagemap-shmem-N) */
			count_shared(d, a);
			/* private pages: entries from the last one starting at or before the VMA */
			LOWER_BOUND(t->npents, (uint64_t)t->pents[ix_].vaddr, (uint64_t)a->start + 1, k);
			for (k = k ? k - 1 : 0; k < t->npents && t->pents[k].vaddr < a->end && work(d); k++) {
				const show_pent *p = &t->pents[k];
				uint64_t ps = p->vaddr, pe;
				if (p->pages > (UINT64_MAX - ps) / CRIU_PAGE_SIZE)
					continue;
				pe = ps + p->pages * CRIU_PAGE_SIZE;
				uint64_t lo = ps > a->start ? ps : a->start;
				uint64_t hi = pe < a->end ? pe : a->end;
				if (lo >= hi)
					continue;
				uint64_t n = (hi - lo) / CRIU_PAGE_SIZE;
				if (p->flags & CRIU_PE_PRESENT)
					a->present += n;
				else if (p->flags & CRIU_PE_PARENT)
					a->parent += n;
				else if (p->flags & CRIU_PE_LAZY)
					a->lazy += n;
			}
		}
	}
}

static int cmp_order(const void *a, const void *b, void *arg)
{
	const show_task *t = arg;
	uint64_t x = t[*(const size_t *)a].order, y = t[*(const size_t *)b].order;
	return x < y ? -1 : x > y;
}

size_t *show_tree_order(show_dump *d, size_t *n)
{
	size_t *v = malloc((d->tasks.n ? d->tasks.n : 1) * sizeof(size_t));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < d->tasks.n; i++)
		if (SVV(d->tasks, show_task)[i].in_pstree)
			v[(*n)++] = i;
	if (*n > 1)
		qsort_r(v, *n, sizeof(size_t), cmp_order, d->tasks.v);
	return v;
}

/* An entry against an address: before it when it starts at or below it. */
static int cmp_pent_start(const void *elem, const void *key)
{
	return ((const show_pent *)elem)->vaddr <= *(const uint64_t *)key ? -1 : 1;
}

const show_pent *show_pent_at(const show_task *t, uint64_t vaddr)
{
	const show_pent *p;
	/* entries are sorted by address (CRIU writes them so): the last one
	 * that starts at or below vaddr */
	size_t lo = t ? sv_lower_bound(&vaddr, t->pents, t->npents, sizeof(*t->pents),
				       cmp_pent_start) : 0;

	if (lo == 0)
		return NULL;
	p = &t->pents[lo - 1];
	if (p->pages > (UINT64_MAX - p->vaddr) / CRIU_PAGE_SIZE ||
	    vaddr >= p->vaddr + p->pages * CRIU_PAGE_SIZE)
		return NULL;
	return p;
}

bool show_page_hash(const show_dump *d, uint32_t pid, uint64_t vaddr, uint64_t *hash)
{
	for (int depth = 0; d && depth <= SHOW_MAX_PARENTS; depth++, d = d->parent) {
		show_task *t = show_task_find((show_dump *)d, pid);
		const show_pent *p = NULL;
		if (!t)
			return false;
		if (!(p = show_pent_at(t, vaddr)))
			return false;
		if (p->flags & CRIU_PE_PRESENT) {
			uint64_t idx = p->file_page + (vaddr - p->vaddr) / CRIU_PAGE_SIZE;
			for (size_t k = 0; k < d->pages.n; k++) {
				const show_pages *h = &SVV(d->pages, show_pages)[k];
				if (h->id == t->pages_id && idx < h->n) {
					*hash = h->hash[idx];
					return true;
				}
			}
			return false;
		}
		if (!(p->flags & CRIU_PE_PARENT))
			return false;
	}
	return false;
}
