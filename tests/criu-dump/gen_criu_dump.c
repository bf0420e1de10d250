/*
 * gen_criu_dump OUTDIR: writes CRIU dump directories with the project's
 * protobuf-c code, and OUTDIR/manifest, one line per directory:
 *
 *   DIR CODE FILE     the directory must yield CODE against FILE (the file
 *                     name, or "." for the directory) and no other error
 *   DIR valid -       the directory must verify with no error and no warning
 *
 * "good" is a consistent multi-process dump: a root task with a second
 * thread, a child in nested mount namespace, a zombie, a memfd mapping and
 * a shared anonymous mapping, a pipe with data, a unix pair with a queued
 * packet, a connected TCP socket, a ghost file, a file lock, a tmpfs mount,
 * seccomp, cgroups and its own network and mount namespaces.  "pre" and
 * "incr" are a pre-dump and an incremental dump on it.  Every other
 * directory is "good" (or "incr") with exactly one rule broken.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>

#include "formats/criu/schema/images.h"
#include "formats/criu/schema/schema.h"

/* ---- writing images ---------------------------------------------------------------- */

static void die(const char *what)
{
	fprintf(stderr, "gen_criu_dump: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Every allocation of the directory being written, freed after it. */
static void **allocs;
static size_t nallocs, capallocs;

static void *track(void *p)
{
	if (!p)
		die("malloc");
	if (nallocs == capallocs) {
		capallocs = capallocs ? capallocs * 2 : 256;
		allocs = realloc(allocs, capallocs * sizeof(*allocs));
		if (!allocs)
			die("realloc");
	}
	allocs[nallocs++] = p;
	return p;
}

static void free_all(void)
{
	for (size_t i = 0; i < nallocs; i++)
		free(allocs[i]);
	nallocs = 0;
}

/* A message of desc with its required sub-messages and strings present. */
static void *mk(const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *m = track(calloc(1, desc->sizeof_message));

	desc->message_init(m);
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		if (f->label != PROTOBUF_C_LABEL_REQUIRED)
			continue;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			*(void **)((char *)m + f->offset) = mk(f->descriptor);
		else if (f->type == PROTOBUF_C_TYPE_STRING &&
			 !*(char **)((char *)m + f->offset))
			*(const char **)((char *)m + f->offset) = "";
	}
	return m;
}

static char dir[4096];
static char start_dir[4096];
static long itimers_end;     /* where itimers-100.img ends (M_ITIMERS) */
static long files_last;      /* where files.img's last message starts */
static bool compat_parent;   /* in-parent entries as flags 0 + in_parent */

static FILE *open_img(const char *name)
{
	char path[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		die(path);
	return f;
}

static void u32(FILE *f, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	if (fwrite(b, 1, 4, f) != 4)
		die("write");
}

/* An image of type t: v1.1 header (v1 when version is 1). */
static FILE *img(const char *name, criu_type_id t, int version)
{
	FILE *f = open_img(name);
	const criu_image_type *ty = &criu_image_types[t];

	if (t != CRIU_T_INVENTORY && version == 2)
		u32(f, ty->flags & CRIU_IMG_SERVICE ? CRIU_IMG_SERVICE_MAGIC : CRIU_IMG_COMMON_MAGIC);
	u32(f, ty->magic);
	return f;
}

static void put(FILE *f, const void *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(n ? n : 1);

	if (!buf)
		die("malloc");
	protobuf_c_message_pack(msg, buf);
	u32(f, (uint32_t)n);
	if (n && fwrite(buf, 1, n, f) != n)
		die("write");
	free(buf);
}

static void bytes(FILE *f, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, f) != n)
		die("write");
}

static void done(FILE *f)
{
	if (fclose(f) != 0)
		die("fclose");
}

/* One-message image. */
static void one(const char *name, criu_type_id t, const void *msg)
{
	FILE *f = img(name, t, 2);
	put(f, msg);
	done(f);
}

/* Raw page data that happens to start like gzip (1f 8b) when gzip_head. */
static bool gzip_head;

static void pages_file(const char *name, unsigned pages)
{
	FILE *f = open_img(name);
	unsigned char page[4096];

	for (unsigned i = 0; i < pages; i++) {
		memset(page, (int)(i + 1), sizeof(page));
		if (i == 0 && gzip_head) {
			page[0] = 0x1f;
			page[1] = 0x8b;
			page[2] = 8;
		}
		bytes(f, page, sizeof(page));
	}
	done(f);
}

static void tmpfs_archive(const char *name)
{
	char path[8192];
	static const unsigned char zero[1024];
	gzFile g;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	g = gzopen(path, "wb");
	if (!g || gzwrite(g, zero, sizeof(zero)) != (int)sizeof(zero) || gzclose(g) != Z_OK)
		die(path);
}

/* Cut the last n bytes of a file of the directory. */
static void cut(const char *name, long n)
{
	char path[8192];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) != 0 || truncate(path, st.st_size - n) != 0)
		die(path);
}

/* A unix socket bound where an image should be (closed: the name stays). */
static void bound_socket(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (chdir(dir) != 0 || fd < 0)
		die(dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", name);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		die(name);
	close(fd);
	if (chdir(start_dir) != 0)
		die(start_dir);
}

/* Every file of the directory but the tmpfs archives gzip-compressed in place. */
static void gzip_all(void)
{
	DIR *dd = opendir(dir);
	struct dirent *e;

	if (!dd)
		die(dir);
	while ((e = readdir(dd)) != NULL) {
		char path[8192], tmp[8300];
		if (e->d_name[0] == '.' || strncmp(e->d_name, "tmpfs", 5) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(tmp, sizeof(tmp), "%s.gz", path);
		FILE *in = fopen(path, "rb");
		gzFile g = gzopen(tmp, "wb");
		unsigned char buf[4096];
		size_t n;
		if (!in || !g)
			die(path);
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			if (gzwrite(g, buf, (unsigned)n) != (int)n)
				die(tmp);
		fclose(in);
		if (gzclose(g) != Z_OK || rename(tmp, path) != 0)
			die(tmp);
	}
	closedir(dd);
}

/* ---- the dumps ------------------------------------------------------------------------- */

enum mutation {
	M_NONE,
	M_PSTREE_ORDER, M_PSTREE_DUP, M_PSTREE_ROOT, M_PSTREE_LEADER, M_PSTREE_MISSING,
	M_CORE_MISSING, M_THREAD_TC, M_THREAD_INFO, M_TASK_STATE, M_MM_MISSING, M_TASK_IDS,
	M_ROOT_IDS, M_IDS_ROOT_SAME, M_NS_MISSING, M_NS_MISSING_UTS, M_NS_CHILD, M_CGROUP, M_INVENTORY_MISSING,
	M_INVENTORY_EMPTY, M_PSTREE_EMPTY, M_CORE_NO_TC,
	M_LAYOUT, M_PAGES_SIZE, M_PAGES_MISSING, M_PAGES_SHARED, M_OUTSIDE_VMA,
	M_NONPRIVATE, M_VMA_ORDER, M_SHMEM_MISSING, M_ANON_SHMEM_MISSING, M_PARENT_MISSING,
	M_FDINFO_FILE, M_FDINFO_TYPE, M_FDINFO_MISSING, M_FDINFO_DUP, M_FILES_DUP,
	M_FS_FILE, M_MM_EXE, M_VMA_FILE, M_MEMFD_INODE, M_GHOST_MISSING, M_REMAP_FILE,
	M_TMPFS, M_UNIX_PEER, M_TCP_STREAM, M_PIPE_DATA, M_SKQ, M_SECCOMP, M_FILELOCK,
	M_UNREFERENCED, M_FIFO_IMAGE, M_SYMLINK_LOOP, M_DANGLING_IMAGE, M_SOCKET_IMAGE,
	M_PAGES_GZIP_MAGIC, M_TMPFS_ROOT, M_TMPFS_NESTED_ROOT, M_TMPFS_BIND_OUTSIDE,
	M_ZERO_NONE, M_FS_EMPTY, M_ITIMERS, M_SECCOMP_CYCLE, M_SECCOMP_FORWARD,
	M_CORE_TRUNCATED, M_CORE_ID64, M_FILES_TRUNCATED,
	M_FILE_SUBMSG, M_EPOLL_TARGET, M_TTY_INFO, M_REG_MNT, M_SHM_VMA, M_NOTIFY_MARK,
	/* plugins (CRIU 4.x inventory plugins_entry) */
	M_PLUGIN_AMDGPU, M_PLUGIN_OLD, M_PLUGIN_OTHER, M_PLUGIN_AMDGPU_UNLISTED,
	M_PLUGIN_EXT_NONE, M_PLUGIN_VMA_NONE, M_PLUGIN_UNUSED,
	/* incremental dumps on a pre-dump */
	M_INCR, M_INCR_SHORT_PARENT, M_INCR_PARENT_LOOP, M_INCR_PARENT_DANGLING, M_INCR_COMPAT,
};

#define VMA_AREA_REGULAR (1u << 0)
#define VMA_FILE_PRIVATE (1u << 6)
#define VMA_FILE_SHARED  (1u << 7)
#define VMA_ANON_SHARED  (1u << 8)
#define VMA_ANON_PRIVATE (1u << 9)
#define VMA_AREA_MEMFD   (1u << 14)
#define VMA_EXT_PLUGIN   (1u << 27)

/* The plugin mutations: what each puts in the dump. */
static bool plugin_ext_file(enum mutation m)
{
	return m == M_PLUGIN_AMDGPU || m == M_PLUGIN_OLD || m == M_PLUGIN_OTHER ||
	       m == M_PLUGIN_AMDGPU_UNLISTED || m == M_PLUGIN_EXT_NONE;
}

static bool plugin_vma(enum mutation m)
{
	return plugin_ext_file(m) || m == M_PLUGIN_VMA_NONE;
}

static bool plugin_amdgpu_images(enum mutation m)
{
	return m == M_PLUGIN_AMDGPU || m == M_PLUGIN_OLD || m == M_PLUGIN_AMDGPU_UNLISTED;
}

/* An amdgpu plugin image: an 8-octet native size, then one message. */
static void amdgpu_image(const char *name, const ProtobufCMessageDescriptor *desc)
{
	void *msg = mk(desc);
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = track(malloc(n ? n : 1));
	FILE *f = open_img(name);

	protobuf_c_message_pack(msg, buf);
	u32(f, (uint32_t)n);
	u32(f, 0);
	bytes(f, buf, n);
	done(f);
}

static TaskKobjIdsEntry *ids_of(uint32_t own, uint32_t net, uint32_t mnt, uint32_t uts)
{
	TaskKobjIdsEntry *i = mk(&task_kobj_ids_entry__descriptor);

	i->vm_id = i->files_id = i->fs_id = i->sighand_id = own;
	i->has_pid_ns_id = i->has_net_ns_id = i->has_ipc_ns_id = i->has_uts_ns_id = true;
	i->has_mnt_ns_id = i->has_user_ns_id = i->has_cgroup_ns_id = i->has_time_ns_id = true;
	i->pid_ns_id = 1;
	i->net_ns_id = net;
	i->ipc_ns_id = 3;
	i->uts_ns_id = uts;
	i->mnt_ns_id = mnt;
	i->user_ns_id = 6;
	i->cgroup_ns_id = 7;
	i->time_ns_id = 8;
	return i;
}

static void write_inventory(enum mutation m, bool predump)
{
	InventoryEntry *inv = mk(&inventory_entry__descriptor);

	if (predump) {
		inv->img_version = 0;
		inv->has_pre_dump_mode = true;
		inv->pre_dump_mode = 1;
	} else {
		inv->img_version = CRIU_IMAGES_V1_1;
		inv->has_fdinfo_per_id = inv->fdinfo_per_id = true;
		inv->has_ns_per_id = inv->ns_per_id = true;
		inv->has_root_cg_set = true;
		inv->root_cg_set = 1;
		if (m != M_ROOT_IDS)
			inv->root_ids = ids_of(1, 2, 5, 4);
	}
	inv->has_dump_uptime = true;
	inv->dump_uptime = 123456789;
	if (m >= M_PLUGIN_AMDGPU && m <= M_PLUGIN_UNUSED && m != M_PLUGIN_OLD) {
		static char *amdgpu[] = { "amdgpu_plugin" }, *cuda[] = { "cuda_plugin" },
			    *other[] = { "vendor_plugin" };
		inv->plugins_entry = mk(&plugins_entry__descriptor);
		if (m == M_PLUGIN_AMDGPU || m == M_PLUGIN_UNUSED) {
			inv->plugins_entry->plugins = amdgpu;
			inv->plugins_entry->n_plugins = 1;
		} else if (m == M_PLUGIN_AMDGPU_UNLISTED) {
			inv->plugins_entry->plugins = cuda;
			inv->plugins_entry->n_plugins = 1;
		} else if (m == M_PLUGIN_OTHER) {
			inv->plugins_entry->plugins = other;
			inv->plugins_entry->n_plugins = 1;
		}
	}
	one("inventory.img", CRIU_T_INVENTORY, inv);
}

static CoreEntry *core(uint32_t state, uint32_t cg_set, const char *comm, bool leader,
		       bool regs)
{
	CoreEntry *c = mk(&core_entry__descriptor);

	c->mtype = CORE_ENTRY__MARCH__X86_64;
	if (regs)
		c->thread_info = mk(&thread_info_x86__descriptor);
	c->thread_core = mk(&thread_core_entry__descriptor);
	c->thread_core->comm = (char *)comm;
	if (leader) {
		c->tc = mk(&task_core_entry__descriptor);
		c->tc->task_state = state;
		c->tc->comm = (char *)comm;
		c->tc->has_cg_set = true;
		c->tc->cg_set = cg_set;
	}
	return c;
}

static VmaEntry *vma(uint64_t start, uint64_t end, uint32_t status, uint64_t shmid, uint32_t flags)
{
	VmaEntry *v = mk(&vma_entry__descriptor);

	v->start = start;
	v->end = end;
	v->status = VMA_AREA_REGULAR | status;
	v->shmid = shmid;
	v->flags = flags;
	v->prot = 3;
	v->fd = -1;
	return v;
}

static void pagemap(const char *name, uint32_t pages_id, size_t n, const uint64_t *vaddr,
		    const uint32_t *npages, const uint32_t *flags)
{
	FILE *f = img(name, CRIU_T_PAGEMAP, 2);
	PagemapHead *h = mk(&pagemap_head__descriptor);

	h->pages_id = pages_id;
	put(f, h);
	for (size_t i = 0; i < n; i++) {
		PagemapEntry *e = mk(&pagemap_entry__descriptor);
		e->vaddr = vaddr[i];
		e->nr_pages = npages[i];
		e->has_flags = true;
		e->flags = flags[i];
		if (compat_parent && flags[i] == 1) {
			/* init_compat_pagemap_entry(): flags 0 with in_parent is PE_PARENT */
			e->flags = 0;
			e->has_in_parent = e->in_parent = true;
		}
		put(f, e);
	}
	done(f);
}

static FileEntry *file(FileEntry **arr, size_t *n, uint32_t id, FdTypes type)
{
	FileEntry *f = mk(&file_entry__descriptor);

	f->id = id;
	f->type = type;
	arr[(*n)++] = f;
	return f;
}

static RegFileEntry *reg(uint32_t id, const char *name)
{
	RegFileEntry *r = mk(&reg_file_entry__descriptor);
	r->id = id;
	r->name = (char *)name;
	return r;
}

static void fdinfo(const char *name, size_t n, const uint32_t *fd, const uint32_t *id,
		   const FdTypes *type)
{
	FILE *f = img(name, CRIU_T_FDINFO, 2);
	for (size_t i = 0; i < n; i++) {
		FdinfoEntry *e = mk(&fdinfo_entry__descriptor);
		e->fd = fd[i];
		e->id = id[i];
		e->type = type[i];
		put(f, e);
	}
	done(f);
}

static void write_files(enum mutation m)
{
	FileEntry *fe[16];
	size_t n = 0;
	FileEntry *f;

	file(fe, &n, 1, FD_TYPES__REG)->reg = reg(1, "/bin/workload");
	fe[0]->reg->has_mnt_id = true;
	fe[0]->reg->mnt_id = m == M_REG_MNT ? 77 : 30; /* a mount of mountpoints-21.img */
	file(fe, &n, 2, FD_TYPES__REG)->reg = reg(2, "/tmp");
	file(fe, &n, 3, FD_TYPES__REG)->reg = reg(3, "/");
	f = file(fe, &n, 4, FD_TYPES__PIPE);
	f->pipe = mk(&pipe_entry__descriptor);
	f->pipe->id = 4;
	f->pipe->pipe_id = 500;
	f = file(fe, &n, 5, FD_TYPES__MEMFD);
	f->memfd = mk(&memfd_file_entry__descriptor);
	f->memfd->id = 5;
	f->memfd->inode_id = m == M_MEMFD_INODE ? 9 : 1;
	for (uint32_t k = 0; k < 2; k++) {
		f = file(fe, &n, 6 + k, FD_TYPES__UNIXSK);
		f->usk = mk(&unix_sk_entry__descriptor);
		f->usk->id = 6 + k;
		f->usk->ino = 600 + k;
		f->usk->peer = 601 - k;
		f->usk->type = 1;
		f->usk->state = 1;
	}
	if (m == M_UNIX_PEER)
		f->usk->peer = 999;
	f = file(fe, &n, 8, FD_TYPES__INETSK);
	f->isk = mk(&inet_sk_entry__descriptor);
	f->isk->id = 8;
	f->isk->ino = 0x700;
	f->isk->family = 2;
	f->isk->type = 1;
	f->isk->proto = 6;
	f->isk->state = 1;
	f->isk->src_port = 40000;
	f->isk->dst_port = 80;
	file(fe, &n, 9, FD_TYPES__REG)->reg = reg(9, "/tmp/deleted.txt");
	if (m == M_FILE_SUBMSG)
		fe[n - 1]->reg = NULL;
	/* an epoll in task 100 watching its fd 1; a TTY with its tty-info entry */
	f = file(fe, &n, 10, FD_TYPES__EVENTPOLL);
	f->epfd = mk(&eventpoll_file_entry__descriptor);
	f->epfd->id = 10;
	f->epfd->n_tfd = 1;
	f->epfd->tfd = track(calloc(1, sizeof(*f->epfd->tfd)));
	f->epfd->tfd[0] = mk(&eventpoll_tfd_entry__descriptor);
	f->epfd->tfd[0]->id = 10;
	f->epfd->tfd[0]->tfd = m == M_EPOLL_TARGET ? 9 : 1;
	f = file(fe, &n, 11, FD_TYPES__TTY);
	f->tty = mk(&tty_file_entry__descriptor);
	f->tty->id = 11;
	f->tty->tty_info_id = m == M_TTY_INFO ? 2 : 1;
	TtyInfoEntry *ti = mk(&tty_info_entry__descriptor);
	ti->id = 1;
	ti->type = TTY_TYPE__PTY;
	one("tty-info.img", CRIU_T_TTY_INFO, ti);
	if (m == M_NOTIFY_MARK) { /* a legacy watch of an inotify the dump lacks */
		InotifyWdEntry *wd = mk(&inotify_wd_entry__descriptor);
		wd->id = 99;
		one("inotify-wd.img", CRIU_T_INOTIFY_WD, wd);
	}
	if (m == M_FILES_DUP)
		file(fe, &n, 3, FD_TYPES__REG)->reg = reg(3, "/again");
	if (plugin_ext_file(m)) { /* /dev/kfd, dumped by a plugin */
		f = file(fe, &n, 12, FD_TYPES__EXT);
		f->ext = mk(&ext_file_entry__descriptor);
		f->ext->id = 12;
	}
	if (plugin_amdgpu_images(m)) {
		amdgpu_image("amdgpu-kfd-12.img", &criu_kfd__descriptor);
		amdgpu_image("amdgpu-renderD-12.img", &criu_render_node__descriptor);
	}

	FILE *out = img("files.img", CRIU_T_FILES, 2);
	for (size_t i = 0; i < n; i++) {
		files_last = ftell(out) + 4; /* the last entry's message */
		put(out, fe[i]);
	}
	done(out);
	if (m == M_FILES_TRUNCATED)
		cut("files.img", 3);
}

static void write_dump(enum mutation m)
{
	const bool incr = m >= M_INCR;

	if (m == M_INVENTORY_EMPTY)
		done(img("inventory.img", CRIU_T_INVENTORY, 2)); /* the magic, no entry */
	else if (m != M_INVENTORY_MISSING)
		write_inventory(m, false);

	/* pstree: 100 (threads 100, 101), 102 child, 103 zombie child */
	if (m != M_PSTREE_MISSING) {
		FILE *f = img("pstree.img", CRIU_T_PSTREE, 2);
		uint32_t th100[2] = { 100, 101 }, th102[2] = { 102, 101 }, th103[1] = { 103 };
		PstreeEntry *p[3];
		for (int i = 0; i < 3; i++) {
			p[i] = mk(&pstree_entry__descriptor);
			p[i]->pid = (uint32_t)(i == 0 ? 100 : 101 + i);
			p[i]->ppid = i == 0 ? 0 : 100;
			p[i]->pgid = p[i]->sid = 100;
		}
		p[0]->threads = th100;
		p[0]->n_threads = 2;
		if (m == M_PSTREE_LEADER) {
			th100[0] = 101;
			p[0]->n_threads = 1;
		}
		p[1]->threads = th102;
		p[1]->n_threads = m == M_PSTREE_DUP ? 2 : 1;
		p[2]->threads = th103;
		p[2]->n_threads = 1;
		if (m == M_PSTREE_ROOT)
			p[2]->ppid = 0;
		if (m == M_PSTREE_EMPTY) {
			/* the magic alone: no task to restore */
		} else if (m == M_PSTREE_ORDER) {
			put(f, p[1]);
			put(f, p[0]);
			put(f, p[2]);
		} else {
			put(f, p[0]);
			put(f, p[1]);
			put(f, p[2]);
		}
		done(f);
	}

	/* cores */
	CoreEntry *c = core(1, 1, "workload", m != M_CORE_NO_TC, true);
	c->thread_core->has_seccomp_mode = m != M_ZERO_NONE;
	c->thread_core->seccomp_mode = SECCOMP_MODE__filter;
	c->thread_core->has_seccomp_filter = true;
	c->thread_core->seccomp_filter = m == M_SECCOMP ? 3 : 0;
	one("core-100.img", CRIU_T_CORE, c);
	if (m != M_CORE_MISSING && m != M_CORE_ID64)
		one("core-101.img", CRIU_T_CORE, core(1, 0, "worker", m == M_THREAD_TC, true));
	c = core(m == M_TASK_STATE ? 7 : 1, m == M_CGROUP ? 9 : m == M_ZERO_NONE ? 1 : 2, "child", true,
		 m != M_THREAD_INFO);
	one("core-102.img", CRIU_T_CORE, c);
	if (m == M_CORE_TRUNCATED)
		cut("core-102.img", 5);
	one("core-103.img", CRIU_T_CORE, core(2, 2, "zombie", true, false));
	if (m == M_CORE_ID64) /* 2^32 + 101: not thread 101's core */
		one("core-4294967397.img", CRIU_T_CORE, core(1, 0, "worker", false, true));
	if (m == M_UNREFERENCED)
		one("core-999.img", CRIU_T_CORE, core(1, 1, "stray", true, true));
	if (m == M_SYMLINK_LOOP) {
		char p[8192];
		snprintf(p, sizeof(p), "%s/core-998.img", dir);
		if (symlink("core-998.img", p) != 0)
			die(p);
	}

	/* ids: the root in its own net (20) and mnt (21) namespaces, the child in a nested mnt (22) */
	/* M_NS_MISSING_UTS: root and child in a UTS namespace of their own, no utsns image. */
	TaskKobjIdsEntry *ids = ids_of(10, 20, 21, m == M_NS_MISSING_UTS ? 40 : 4);
	if (m == M_IDS_ROOT_SAME)
		ids->vm_id = 1;
	one("ids-100.img", CRIU_T_IDS, ids);
	ids = ids_of(11, 20, 22, m == M_NS_CHILD ? 44 : m == M_NS_MISSING_UTS ? 40 : 4);
	if (m != M_TASK_IDS)
		one("ids-102.img", CRIU_T_IDS, ids);
	if (m != M_NS_MISSING)
		one("netns-20.img", CRIU_T_NETNS, mk(&netns_entry__descriptor));
	{
		/*
		 * The root task's mount namespace: a tmpfs /tmp with its
		 * archive; with M_TMPFS_ROOT also a tmpfs root (restored from
		 * --root: no archive), a bind of a folder of it, a plugin's
		 * tmpfs and an external tmpfs with a bind of its folder, none
		 * with an archive.
		 */
		FILE *f = img("mountpoints-21.img", CRIU_T_MNTS, 2);
		MntEntry *mnt = mk(&mnt_entry__descriptor);
		mnt->fstype = 5; /* tmpfs */
		mnt->mnt_id = 30;
		mnt->root_dev = 99;
		mnt->root = "/";
		mnt->mountpoint = "/tmp";
		put(f, mnt);
		if (m == M_TMPFS_ROOT || m == M_TMPFS_BIND_OUTSIDE) {
			static const struct { uint32_t id, dev; const char *root, *mp, *src; int kind; } ms[] = {
				{ 40, 97, "/ct", "/", "ct-root", 0 },
				{ 41, 97, "/ct/sub", "/mnt", "ct-root", 0 },
				{ 42, 96, "/", "/plugin", "gpu", 1 },
				{ 43, 95, "/", "/ext", "host", 2 },
				{ 44, 95, "/a", "/ext2", "host", 0 },
			};
			for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
				MntEntry *e = mk(&mnt_entry__descriptor);
				e->fstype = 5;
				e->mnt_id = ms[i].id;
				e->root_dev = ms[i].dev;
				e->root = (char *)ms[i].root;
				e->mountpoint = (char *)ms[i].mp;
				e->source = (char *)ms[i].src;
				e->parent_mnt_id = i == 0 ? 1 : 40;
				if (ms[i].kind == 1)
					e->has_with_plugin = e->with_plugin = true;
				if (ms[i].kind == 2)
					e->ext_key = "host-tmp";
				if (m == M_TMPFS_BIND_OUTSIDE && i == 1)
					e->root = "/elsewhere"; /* not under the root mount's root */
				put(f, e);
			}
		}
		done(f);
	}
	if (m != M_TMPFS)
		tmpfs_archive("tmpfs-dev-99.tar.gz.img");
	MntEntry *mnt = mk(&mnt_entry__descriptor);
	mnt->mnt_id = 31;
	mnt->root_dev = 98;
	mnt->root = "/";
	mnt->mountpoint = "/";
	/* A nested namespace's tmpfs root is not restored from --root. */
	if (m == M_TMPFS_NESTED_ROOT)
		mnt->fstype = 5;
	one("mountpoints-22.img", CRIU_T_MNTS, mnt);
	one("timens-0.img", CRIU_T_TIMENS, mk(&timens_entry__descriptor));

	/* memory of 100: exe, anon private, memfd shared, anon shared */
	MmEntry *mm = mk(&mm_entry__descriptor);
	VmaEntry *v[4] = {
		vma(0x400000, 0x401000, VMA_FILE_PRIVATE, 1, 2),
		vma(0x600000, 0x602000, VMA_ANON_PRIVATE, 0, 0x22),
		vma(0x700000, 0x702000, VMA_FILE_SHARED | VMA_AREA_MEMFD,
		    m == M_VMA_FILE ? 1 : 5, 1),
		vma(0x800000, 0x801000, VMA_ANON_SHARED, 77, 0x21),
	};
	if (m == M_VMA_ORDER) {
		VmaEntry *t = v[0];
		v[0] = v[1];
		v[1] = t;
	}
	VmaEntry *v5[5] = { v[0], v[1], v[2], v[3],
			    vma(0x900000, 0x901000, 1u << 10 /* VMA_AREA_SYSVIPC */, 555, 1) };
	mm->exe_file_id = 1;
	mm->vmas = m == M_SHM_VMA ? v5 : v;
	mm->n_vmas = m == M_SHM_VMA ? 5 : 4;
	if (plugin_vma(m)) { /* a GPU mapping of /bin/workload's mount: a device */
		v5[4] = vma(0xa00000, 0xa10000, VMA_FILE_SHARED | VMA_EXT_PLUGIN, 1, 1);
		mm->vmas = v5;
		mm->n_vmas = 5;
	}
	one("mm-100.img", CRIU_T_MM, mm);
	{
		uint64_t va[2] = { 0x400000, 0x600000 };
		uint32_t np[2] = { 1, 2 }, fl[2] = { 4, 4 };
		if (m == M_OUTSIDE_VMA)
			va[1] = 0x900000;
		if (m == M_NONPRIVATE) {
			va[0] = 0x600000;
			va[1] = 0x800000;
			np[0] = 2;
			np[1] = 1;
		}
		if (m == M_PARENT_MISSING || incr)
			fl[1] = 1; /* PE_PARENT */
		compat_parent = m == M_INCR_COMPAT;
		pagemap("pagemap-100.img", 1, 2, va, np, fl);
		compat_parent = false;
		gzip_head = m == M_PAGES_GZIP_MAGIC;
		pages_file("pages-1.img", m == M_PAGES_SIZE ? 4 : (fl[1] == 1 ? 1 : 3));
		gzip_head = false;
	}
	mm = mk(&mm_entry__descriptor);
	VmaEntry *v2[1] = { vma(0x600000, 0x601000, VMA_ANON_PRIVATE, 0, 0x22) };
	mm->exe_file_id = m == M_MM_EXE ? 4 : 1;
	mm->vmas = v2;
	mm->n_vmas = 1;
	if (m != M_MM_MISSING)
		one("mm-102.img", CRIU_T_MM, mm);
	{
		uint64_t va[1] = { 0x600000 };
		uint32_t np[1] = { 1 }, fl[1] = { 4 };
		pagemap("pagemap-102.img", m == M_PAGES_SHARED ? 1 : 2, 1, va, np, fl);
		if (m != M_PAGES_MISSING)
			pages_file("pages-2.img", 1);
	}
	/* memfd contents and the shared anonymous mapping */
	MemfdInodeEntry *mi = mk(&memfd_inode_entry__descriptor);
	mi->name = "memfd:data";
	mi->size = 8192;
	mi->shmid = 50;
	mi->inode_id = 1;
	one("memfd.img", CRIU_T_MEMFD_INODE, mi);
	if (m != M_SHMEM_MISSING) {
		uint64_t va[1] = { 0 };
		uint32_t np[1] = { 2 }, fl[1] = { 4 };
		pagemap("pagemap-shmem-50.img", 3, 1, va, np, fl);
		pages_file("pages-3.img", 2);
	}
	if (m != M_ANON_SHMEM_MISSING) {
		uint64_t va[1] = { 0 };
		uint32_t np[1] = { 1 }, fl[1] = { 4 };
		pagemap("pagemap-shmem-77.img", 4, 1, va, np, fl);
		pages_file("pages-4.img", 1);
	}

	/* fs */
	FsEntry *fs = mk(&fs_entry__descriptor);
	fs->cwd_id = m == M_FS_FILE ? 4 : 2;
	fs->root_id = 3;
	one("fs-100.img", CRIU_T_FS, fs);
	fs = mk(&fs_entry__descriptor);
	fs->cwd_id = 2;
	fs->root_id = 3;
	if (m == M_FIFO_IMAGE || m == M_DANGLING_IMAGE) {
		char p[8192];
		snprintf(p, sizeof(p), "%s/fs-102.img", dir);
		if (m == M_FIFO_IMAGE ? mkfifo(p, 0600) != 0 : symlink("/nonexistent/fs", p) != 0)
			die(p);
	} else if (m == M_SOCKET_IMAGE) {
		bound_socket("fs-102.img");
	} else {
		FILE *f = img("fs-102.img", CRIU_T_FS, m == M_LAYOUT ? 1 : 2);
		if (m != M_FS_EMPTY)
			put(f, fs);
		done(f);
	}

	/* files */
	write_files(m);
	{
		uint32_t fd[7] = { 0, 1, 2, 3, 4, 5, 6 }, id[7] = { 4, 6, 8, 5, 9, 10, 11 };
		FdTypes ty[7] = { FD_TYPES__PIPE, FD_TYPES__UNIXSK, FD_TYPES__INETSK,
				  FD_TYPES__MEMFD, FD_TYPES__REG, FD_TYPES__EVENTPOLL, FD_TYPES__TTY };
		if (m == M_FDINFO_FILE)
			id[4] = 99;
		if (m == M_FDINFO_TYPE)
			ty[0] = FD_TYPES__REG;
		if (m == M_FDINFO_DUP)
			fd[3] = 0;
		fdinfo("fdinfo-10.img", 7, fd, id, ty);
	}
	if (m != M_FDINFO_MISSING) {
		uint32_t fd[2] = { 0, 1 }, id[2] = { 4, 7 };
		FdTypes ty[2] = { FD_TYPES__PIPE, FD_TYPES__UNIXSK };
		fdinfo("fdinfo-11.img", 2, fd, id, ty);
	}
	{
		FILE *f = img("pipes-data.img", CRIU_T_PIPES_DATA, 2);
		PipeDataEntry *pd = mk(&pipe_data_entry__descriptor);
		pd->pipe_id = m == M_PIPE_DATA ? 501 : 500;
		pd->bytes = 3;
		put(f, pd);
		bytes(f, "abc", 3);
		done(f);
	}
	{
		FILE *f = img("sk-queues.img", CRIU_T_SK_QUEUES, 2);
		SkPacketEntry *sk = mk(&sk_packet_entry__descriptor);
		sk->id_for = m == M_SKQ ? 2 : 6;
		sk->length = 2;
		put(f, sk);
		bytes(f, "hi", 2);
		done(f);
	}
	if (m != M_TCP_STREAM) {
		FILE *f = img("tcp-stream-700.img", CRIU_T_TCP_STREAM, 2);
		TcpStreamEntry *t = mk(&tcp_stream_entry__descriptor);
		t->has_unsq_len = true;
		put(f, t);
		done(f);
	}
	RemapFilePathEntry *rm = mk(&remap_file_path_entry__descriptor);
	rm->orig_id = m == M_REMAP_FILE ? 55 : 9;
	rm->remap_id = 1;
	rm->has_remap_type = true;
	rm->remap_type = REMAP_TYPE__GHOST;
	one("remap-fpath.img", CRIU_T_REMAP_FPATH, rm);
	if (m != M_GHOST_MISSING) {
		FILE *f = img("ghost-file-1.img", CRIU_T_GHOST_FILE, 2);
		GhostFileEntry *g = mk(&ghost_file_entry__descriptor);
		g->mode = 0100644;
		g->has_size = true;
		g->size = 5;
		put(f, g);
		bytes(f, "ghost", 5);
		done(f);
	}
	FileLockEntry *lk = mk(&file_lock_entry__descriptor);
	lk->pid = 100;
	lk->fd = m == M_FILELOCK ? 42 : 4;
	lk->flag = 1;
	one("filelocks.img", CRIU_T_FILE_LOCKS, lk);

	CgroupEntry *cg = mk(&cgroup_entry__descriptor);
	CgSetEntry *set = mk(&cg_set_entry__descriptor);
	CgSetEntry *sets[1] = { set };
	set->id = 2;
	cg->sets = sets;
	cg->n_sets = 1;
	SeccompEntry *sc = mk(&seccomp_entry__descriptor);
	SeccompFilter *flts[2] = { mk(&seccomp_filter__descriptor), mk(&seccomp_filter__descriptor) };
	static uint8_t insn[8] = { 6, 0, 0, 0, 0, 0, 0xff, 0x7f }; /* ret ALLOW */
	for (int i = 0; i < 2; i++) {
		flts[i]->filter.data = insn;
		flts[i]->filter.len = sizeof(insn);
	}
	sc->seccomp_filters = flts;
	sc->n_seccomp_filters = 1;
	if (m == M_SECCOMP_CYCLE || m == M_SECCOMP_FORWARD) {
		/* 0 -> 1 -> 0 loops; 0 -> 1 alone only points forward. */
		sc->n_seccomp_filters = 2;
		flts[0]->has_prev = true;
		flts[0]->prev = 1;
		flts[1]->has_prev = m == M_SECCOMP_CYCLE;
		flts[1]->prev = 0;
	}
	if (m == M_ZERO_NONE) {
		/* cgroup, seccomp and apparmor with no entry: "none" to CRIU. */
		done(img("cgroup.img", CRIU_T_CGROUP, 2));
		done(img("seccomp.img", CRIU_T_SECCOMP, 2));
		done(img("apparmor.img", CRIU_T_APPARMOR, 2));
	} else {
		one("cgroup.img", CRIU_T_CGROUP, cg);
		one("seccomp.img", CRIU_T_SECCOMP, sc);
	}
	if (m == M_ITIMERS) {
		/* Legacy itimers-PID.img with two timers: CRIU reads three. */
		FILE *f = img("itimers-100.img", CRIU_T_ITIMERS, 2);
		for (int i = 0; i < 2; i++)
			put(f, mk(&itimer_entry__descriptor));
		itimers_end = ftell(f);
		done(f);
	}

	StatsEntry *st = mk(&stats_entry__descriptor);
	st->dump = mk(&dump_stats_entry__descriptor);
	st->dump->pages_written = 7;
	one("stats-dump", CRIU_T_STATS, st);

	if (incr || m == M_PARENT_MISSING) {
		char p[8192];
		const char *target = m == M_INCR_SHORT_PARENT ? "../pre-short" :
				     m == M_INCR_PARENT_LOOP ? "." :
				     m == M_INCR_PARENT_DANGLING ? "../nowhere" : "../pre";
		snprintf(p, sizeof(p), "%s/parent", dir);
		if (m != M_PARENT_MISSING && symlink(target, p) != 0)
			die(p);
	}
	free_all();
}

static void write_predump(unsigned pages, bool with_pstree)
{
	uint64_t va[1] = { 0x600000 };
	uint32_t np[1] = { pages }, fl[1] = { 4 };

	write_inventory(M_NONE, true);
	pagemap("pagemap-100.img", 1, 1, va, np, fl);
	pages_file("pages-1.img", pages);
	if (with_pstree) {
		FILE *f = img("pstree.img", CRIU_T_PSTREE, 2);
		PstreeEntry *p = mk(&pstree_entry__descriptor);
		p->pid = 100;
		put(f, p);
		done(f);
	}
	free_all();
}

/* ---- a large dump ------------------------------------------------------------------------ */

/*
 * gen_criu_dump --large DIR TASKS ITEMS PAGES: one dump whose relations are
 * big enough that a check quadratic in them would not finish: root task 1
 * (live) and a chain of TASKS zombies under it (each the parent of the
 * next: nearest-ancestor walks), 100 live tasks under the last zombie,
 * each in a cgroup set of its own; ITEMS memfd files with their inodes,
 * open fds and file locks, and ITEMS tmpfs mounts of one superblock; and a
 * pagemap of PAGES one-page entries whose pages file holds 17 pages.  With
 * PAGES over 4,194,304 (the entries the dump tables keep) the only error
 * is the pages file's size, against the image check's counts.
 */
static void write_large(uint32_t tasks, uint32_t items, uint32_t npages)
{
	const uint32_t leaves = 100, last = tasks + 1;
	InventoryEntry *inv = mk(&inventory_entry__descriptor);
	FILE *f;

	inv->img_version = CRIU_IMAGES_V1_1;
	inv->has_fdinfo_per_id = inv->fdinfo_per_id = true;
	inv->has_ns_per_id = inv->ns_per_id = true;
	inv->has_root_cg_set = true;
	inv->root_cg_set = 1;
	inv->root_ids = ids_of(1000, 2, 5, 4);
	one("inventory.img", CRIU_T_INVENTORY, inv);

	f = img("pstree.img", CRIU_T_PSTREE, 2);
	for (uint32_t pid = 1; pid <= last + leaves; pid++) {
		PstreeEntry p = PSTREE_ENTRY__INIT;
		uint32_t th = pid;
		p.pid = pid;
		p.ppid = pid == 1 ? 0 : pid <= last ? pid - 1 : last;
		p.pgid = p.sid = 1;
		p.threads = &th;
		p.n_threads = 1;
		put(f, &p);
	}
	done(f);
	one("timens-0.img", CRIU_T_TIMENS, mk(&timens_entry__descriptor));
	for (uint32_t pid = 1; pid <= last + leaves; pid++) {
		char name[64];
		bool live = pid == 1 || pid > last;
		snprintf(name, sizeof(name), "core-%u.img", pid);
		one(name, CRIU_T_CORE, core(live ? 1 : 2, pid == 1 ? 1 : pid > last ? pid : 1,
					    "large", true, live));
		if (!live)
			continue;
		snprintf(name, sizeof(name), "ids-%u.img", pid);
		one(name, CRIU_T_IDS, ids_of(pid == 1 ? 1 : 2, 2, 5, 4));
		MmEntry *mm = mk(&mm_entry__descriptor);
		VmaEntry *v[1] = { vma(0x10000000, 0x10000000 + (uint64_t)(npages ? npages : 1) * 4096,
				       VMA_ANON_PRIVATE, 0, 0x22) };
		mm->exe_file_id = 1;
		mm->vmas = v;
		mm->n_vmas = pid == 1;
		snprintf(name, sizeof(name), "mm-%u.img", pid);
		one(name, CRIU_T_MM, mm);
		FsEntry *fs = mk(&fs_entry__descriptor);
		fs->cwd_id = 1;
		fs->root_id = 2;
		snprintf(name, sizeof(name), "fs-%u.img", pid);
		one(name, CRIU_T_FS, fs);
		if (pid == 1)
			continue;
		snprintf(name, sizeof(name), "pagemap-%u.img", pid);
		pagemap(name, pid, 0, NULL, NULL, NULL);
		free_all();
	}
	/* the root's memory: npages one-page entries, 17 pages stored */
	f = img("pagemap-1.img", CRIU_T_PAGEMAP, 2);
	PagemapHead h = PAGEMAP_HEAD__INIT;
	h.pages_id = 1;
	put(f, &h);
	for (uint32_t k = 0; k < npages; k++) {
		PagemapEntry e = PAGEMAP_ENTRY__INIT;
		e.vaddr = 0x10000000 + (uint64_t)k * 4096;
		e.nr_pages = 1;
		e.has_flags = true;
		e.flags = 4;
		put(f, &e);
	}
	done(f);
	pages_file("pages-1.img", 17);

	/* files: cwd, root, and items memfds open in task 1 with a lock each */
	FILE *files = img("files.img", CRIU_T_FILES, 2), *inodes = img("memfd.img", CRIU_T_MEMFD_INODE, 2);
	FILE *fds = img("fdinfo-1.img", CRIU_T_FDINFO, 2), *locks = img("filelocks.img", CRIU_T_FILE_LOCKS, 2);
	FownEntry fown = FOWN_ENTRY__INIT;
	for (uint32_t k = 1; k <= 2; k++) {
		FileEntry fe = FILE_ENTRY__INIT;
		RegFileEntry r = REG_FILE_ENTRY__INIT;
		r.fown = &fown;
		fe.id = r.id = k;
		fe.type = FD_TYPES__REG;
		r.name = k == 1 ? "/bin/large" : "/";
		fe.reg = &r;
		put(files, &fe);
	}
	for (uint32_t k = 0; k < items; k++) {
		FileEntry fe = FILE_ENTRY__INIT;
		MemfdFileEntry mf = MEMFD_FILE_ENTRY__INIT;
		MemfdInodeEntry mi = MEMFD_INODE_ENTRY__INIT;
		FdinfoEntry fi = FDINFO_ENTRY__INIT;
		FileLockEntry lk = FILE_LOCK_ENTRY__INIT;
		mf.fown = &fown;
		fe.id = mf.id = fi.id = 100 + k;
		fe.type = fi.type = FD_TYPES__MEMFD;
		mf.inode_id = mi.inode_id = items - k; /* the other order */
		fe.memfd = &mf;
		put(files, &fe);
		mi.name = "memfd:large";
		mi.shmid = 1000000 + k;
		put(inodes, &mi);
		fi.fd = 3 + k;
		put(fds, &fi);
		lk.pid = 1;
		lk.fd = (int32_t)(3 + k);
		lk.flag = 1;
		put(locks, &lk);
	}
	done(files);
	done(inodes);
	done(fds);
	done(locks);
	done(img("fdinfo-2.img", CRIU_T_FDINFO, 2));

	/* a cgroup set per live leaf, listed last to first */
	CgroupEntry *cg = mk(&cgroup_entry__descriptor);
	CgSetEntry **sets = track(calloc(leaves, sizeof(*sets)));
	for (uint32_t k = 0; k < leaves; k++) {
		sets[k] = mk(&cg_set_entry__descriptor);
		sets[k]->id = last + leaves - k;
	}
	cg->sets = sets;
	cg->n_sets = leaves;
	one("cgroup.img", CRIU_T_CGROUP, cg);
	free_all();
}

/* ---- the directories ---------------------------------------------------------------------- */

static const char *outdir;
static FILE *manifest;

static void begin(const char *name)
{
	snprintf(dir, sizeof(dir), "%s/%s", outdir, name);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		die(dir);
}

static void expect(const char *name, const char *code, const char *file)
{
	fprintf(manifest, "%s %s %s\n", name, code, file);
}

/*
 * As expect(), with the offset the finding must have ("-": none) and a
 * regular expression of the other error codes the same cause also gives
 * ("-": none).
 */
static void expect_at(const char *name, const char *code, const char *file, const char *off,
		      const char *also)
{
	fprintf(manifest, "%s %s %s %s %s\n", name, code, file, off, also);
}

static void dump_case(const char *name, enum mutation m, const char *code, const char *file)
{
	begin(name);
	write_dump(m);
	expect(name, code, file);
}

static void dump_case_at(const char *name, enum mutation m, const char *code, const char *file,
			 const char *off, const char *also)
{
	begin(name);
	write_dump(m);
	expect_at(name, code, file, off, also);
}

int main(int argc, char **argv)
{
	char path[8192];

	if (argc == 6 && strcmp(argv[1], "--large") == 0) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			die(dir);
		write_large((uint32_t)strtoul(argv[3], NULL, 10), (uint32_t)strtoul(argv[4], NULL, 10),
			    (uint32_t)strtoul(argv[5], NULL, 10));
		free(allocs);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: gen_criu_dump OUTDIR\n"
			"       gen_criu_dump --large DIR TASKS ITEMS PAGES\n");
		return 2;
	}
	outdir = argv[1];
	if (!getcwd(start_dir, sizeof(start_dir)))
		die("getcwd");
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		die(outdir);
	snprintf(path, sizeof(path), "%s/manifest", outdir);
	manifest = fopen(path, "w");
	if (!manifest)
		die(path);

	dump_case("good", M_NONE, "valid", "-");
	begin("pre");
	write_predump(2, false);
	expect("pre", "valid", "-");
	begin("pre-short");
	write_predump(1, false);
	expect("pre-short", "valid", "-");
	dump_case("incr", M_INCR, "valid", "-");
	dump_case("incr-compat", M_INCR_COMPAT, "valid", "-");
	dump_case("good-zero-none", M_ZERO_NONE, "valid", "-");
	begin("cpuinfo");
	one("cpuinfo.img", CRIU_T_CPUINFO, mk(&cpuinfo_entry__descriptor));
	free_all();
	expect("cpuinfo", "valid", "-");

	dump_case("bad-pstree-order", M_PSTREE_ORDER, "criu.dump.pstree.parent-order", "pstree.img");
	dump_case("bad-pstree-dup", M_PSTREE_DUP, "criu.dump.pstree.duplicate", "pstree.img");
	dump_case("bad-pstree-root", M_PSTREE_ROOT, "criu.dump.pstree.root", "pstree.img");
	dump_case("bad-pstree-leader", M_PSTREE_LEADER, "criu.dump.pstree.leader", "pstree.img");
	dump_case("bad-pstree-missing", M_PSTREE_MISSING, "criu.dump.pstree.missing", "inventory.img");
	dump_case("bad-core-missing", M_CORE_MISSING, "criu.dump.task.core-missing", "pstree.img");
	dump_case("bad-thread-tc", M_THREAD_TC, "criu.dump.thread.core-tc", "core-101.img");
	dump_case("bad-thread-info", M_THREAD_INFO, "criu.dump.task.thread-info", "core-102.img");
	dump_case("bad-task-state", M_TASK_STATE, "criu.dump.task.state", "core-102.img");
	dump_case("bad-mm-missing", M_MM_MISSING, "criu.dump.task.image-missing", "pstree.img");
	dump_case("bad-task-ids", M_TASK_IDS, "criu.dump.task.ids", "pstree.img");
	dump_case("bad-root-ids", M_ROOT_IDS, "criu.dump.inventory.root-ids", "inventory.img");
	dump_case("bad-ids-root-same", M_IDS_ROOT_SAME, "criu.dump.ids.root-same", "ids-100.img");
	dump_case("warn-ns-net-outside", M_NS_MISSING, "criu.dump.ns.net-outside", "ids-100.img");
	dump_case("bad-ns-missing", M_NS_MISSING_UTS, "criu.dump.ns.image-missing", "ids-100.img");
	dump_case("bad-ns-child", M_NS_CHILD, "criu.dump.ns.child", "ids-102.img");
	dump_case("bad-cgroup", M_CGROUP, "criu.dump.cgroup.set", "core-102.img");
	dump_case("bad-inventory-missing", M_INVENTORY_MISSING, "criu.dump.inventory.missing", ".");
	dump_case("bad-inventory-empty", M_INVENTORY_EMPTY, "criu.dump.inventory.unreadable", "inventory.img");
	dump_case("bad-pstree-empty", M_PSTREE_EMPTY, "criu.dump.pstree.empty", "pstree.img");
	dump_case("bad-core-no-tc", M_CORE_NO_TC, "criu.dump.task.core-tc", "core-100.img");
	dump_case("bad-layout", M_LAYOUT, "criu.dump.layout.version", "fs-102.img");
	dump_case("bad-pages-size", M_PAGES_SIZE, "criu.dump.pages.size", "pages-1.img");
	dump_case("bad-pages-missing", M_PAGES_MISSING, "criu.dump.pages.missing", "pagemap-102.img");
	dump_case("bad-pages-shared", M_PAGES_SHARED, "criu.dump.pages.shared-id", "pagemap-102.img");
	dump_case("bad-outside-vma", M_OUTSIDE_VMA, "criu.dump.pagemap.outside-vma", "pagemap-100.img");
	dump_case("bad-nonprivate", M_NONPRIVATE, "criu.dump.pagemap.non-private", "pagemap-100.img");
	dump_case("bad-vma-order", M_VMA_ORDER, "criu.dump.vma.order", "mm-100.img");
	dump_case("bad-shmem-memfd", M_SHMEM_MISSING, "criu.dump.shmem.missing", "memfd.img");
	dump_case("bad-shmem-anon", M_ANON_SHMEM_MISSING, "criu.dump.shmem.missing", "mm-100.img");
	dump_case("bad-parent-missing", M_PARENT_MISSING, "criu.dump.parent.missing", "pagemap-100.img");
	dump_case("bad-parent-pages", M_INCR_SHORT_PARENT, "criu.dump.parent.pages", "pagemap-100.img");
	dump_case("bad-parent-loop", M_INCR_PARENT_LOOP, "criu.dump.parent.loop", "parent");
	dump_case("bad-parent-dangling", M_INCR_PARENT_DANGLING, "criu.dump.parent.unreadable", "parent");
	dump_case("bad-fdinfo-file", M_FDINFO_FILE, "criu.dump.fdinfo.file", "fdinfo-10.img");
	dump_case("bad-fdinfo-type", M_FDINFO_TYPE, "criu.dump.fdinfo.type", "fdinfo-10.img");
	dump_case("bad-fdinfo-missing", M_FDINFO_MISSING, "criu.dump.fdinfo.missing", "ids-102.img");
	dump_case("bad-fdinfo-dup", M_FDINFO_DUP, "criu.dump.fdinfo.duplicate-fd", "fdinfo-10.img");
	dump_case("bad-files-dup", M_FILES_DUP, "criu.dump.files.duplicate-id", "files.img");
	dump_case("bad-fs-file", M_FS_FILE, "criu.dump.fs.file", "fs-100.img");
	dump_case("bad-mm-exe", M_MM_EXE, "criu.dump.mm.exe", "mm-102.img");
	dump_case("bad-vma-file", M_VMA_FILE, "criu.dump.vma.file", "mm-100.img");
	dump_case("bad-memfd-inode", M_MEMFD_INODE, "criu.dump.memfd.inode", "files.img");
	dump_case("bad-ghost-missing", M_GHOST_MISSING, "criu.dump.ghost.missing", "remap-fpath.img");
	dump_case("bad-remap-file", M_REMAP_FILE, "criu.dump.remap.file", "remap-fpath.img");
	dump_case("bad-tmpfs", M_TMPFS, "criu.dump.tmpfs.missing", "mountpoints-21.img");
	dump_case("good-tmpfs-root", M_TMPFS_ROOT, "valid", "-");
	dump_case_at("bad-tmpfs-nested-root", M_TMPFS_NESTED_ROOT, "criu.dump.tmpfs.missing", "mountpoints-22.img", "-", "-");
	dump_case_at("bad-tmpfs-bind-outside", M_TMPFS_BIND_OUTSIDE, "criu.dump.tmpfs.missing", "mountpoints-21.img", "-", "-");
	dump_case("bad-unix-peer", M_UNIX_PEER, "criu.dump.unix.peer", "files.img");
	dump_case("bad-tcp-stream", M_TCP_STREAM, "criu.dump.tcp.stream-missing", "files.img");
	dump_case("bad-pipe-data", M_PIPE_DATA, "criu.dump.pipe-data.owner", "pipes-data.img");
	dump_case("bad-skq", M_SKQ, "criu.dump.sk-queue.owner", "sk-queues.img");
	dump_case("bad-seccomp", M_SECCOMP, "criu.dump.seccomp.index", "core-100.img");
	dump_case("bad-filelock", M_FILELOCK, "criu.dump.filelock.fd", "filelocks.img");
	dump_case("warn-unreferenced", M_UNREFERENCED, "criu.dump.unreferenced", "core-999.img");
	dump_case("bad-fifo-image", M_FIFO_IMAGE, "input.not-regular", "fs-102.img");
	dump_case("bad-symlink-loop", M_SYMLINK_LOOP, "input.io", "core-998.img");
	dump_case("bad-dangling-image", M_DANGLING_IMAGE, "input.io", "fs-102.img");
	dump_case_at("bad-fs-empty", M_FS_EMPTY, "criu.image.empty", "fs-102.img", "8", "-");
	{
		char off[32];
		begin("bad-itimers");
		write_dump(M_ITIMERS);
		snprintf(off, sizeof(off), "%ld", itimers_end);
		expect_at("bad-itimers", "criu.itimers.count", "itimers-100.img", off, "-");
	}
	dump_case_at("bad-seccomp-cycle", M_SECCOMP_CYCLE, "criu.seccomp.prev", "seccomp.img", "8", "-");
	dump_case_at("warn-seccomp-forward", M_SECCOMP_FORWARD, "criu.seccomp.prev-forward",
		     "seccomp.img", "8", "-");
	/* An image that cannot be read is reported once, where it breaks. */
	dump_case_at("bad-core-truncated", M_CORE_TRUNCATED, "input.truncated", "core-102.img", "12", "-");
	{
		char off[32];
		begin("bad-files-truncated");
		write_dump(M_FILES_TRUNCATED);
		snprintf(off, sizeof(off), "%ld", files_last);
		expect_at("bad-files-truncated", "input.truncated", "files.img", off, "-");
	}
	/* A 64-bit id in a name is no 32-bit pid: core-101.img is still missing. */
	dump_case_at("bad-core-id64", M_CORE_ID64, "criu.dump.task.core-missing", "pstree.img", "8", "-");
	dump_case("bad-file-submsg", M_FILE_SUBMSG, "criu.dump.files.sub-message", "files.img");
	dump_case("bad-epoll-target", M_EPOLL_TARGET, "criu.dump.epoll.target", "files.img");
	dump_case("bad-tty-info", M_TTY_INFO, "criu.dump.tty.info", "files.img");
	dump_case("bad-reg-mnt", M_REG_MNT, "criu.dump.reg.mnt-id", "files.img");
	dump_case("bad-shm-vma", M_SHM_VMA, "criu.dump.shm.vma", "mm-100.img");
	dump_case("bad-notify-mark", M_NOTIFY_MARK, "criu.dump.notify.mark", "inotify-wd.img");
	/* Plugins: the inventory's list against EXT files, device VMAs, amdgpu images. */
	dump_case("good-plugin-amdgpu", M_PLUGIN_AMDGPU, "valid", "-");
	dump_case("good-plugin-unrecorded", M_PLUGIN_OLD, "valid", "-");
	dump_case("good-plugin-other", M_PLUGIN_OTHER, "valid", "-");
	dump_case_at("bad-plugin-amdgpu-unlisted", M_PLUGIN_AMDGPU_UNLISTED, "criu.dump.plugin.missing",
		     "amdgpu-kfd-12.img", "-", "-");
	dump_case_at("bad-plugin-ext-none", M_PLUGIN_EXT_NONE, "criu.dump.plugin.missing", "files.img",
		     "-", "-");
	dump_case_at("bad-plugin-vma-none", M_PLUGIN_VMA_NONE, "criu.dump.plugin.missing", "mm-100.img",
		     "-", "-");
	dump_case_at("note-plugin-unused", M_PLUGIN_UNUSED, "criu.dump.plugin.unused", "inventory.img",
		     "-", "-");
	/* A unix socket is reported like a FIFO, and the dump goes on. */
	dump_case_at("bad-socket-image", M_SOCKET_IMAGE, "input.not-regular", "fs-102.img", "-", "-");
	/* Images are read as stored, as CRIU reads them: gzip is no image. */
	begin("bad-gzipped");
	write_dump(M_NONE);
	gzip_all();
	expect_at("bad-gzipped", "criu.magic.unknown", "inventory.img", "0",
		  "criu\\.(magic\\.unknown|pages\\.size|dump\\.inventory\\.unreadable)");
	/* Page contents that start like gzip are page contents. */
	dump_case("good-pages-1f8b", M_PAGES_GZIP_MAGIC, "valid", "-");
	begin("bad-predump-tasks");
	write_predump(2, true);
	expect("bad-predump-tasks", "criu.dump.kind.pre-dump-tasks", "pstree.img");
	begin("bad-kind-unknown");
	{
		snprintf(path, sizeof(path), "%s/notes.txt", dir);
		FILE *f = fopen(path, "w");
		if (!f || fputs("not a dump\n", f) < 0 || fclose(f) != 0)
			die(path);
	}
	expect("bad-kind-unknown", "criu.dump.kind.unknown", ".");

	if (fclose(manifest) != 0)
		die("manifest");
	free(allocs);
	return 0;
}
