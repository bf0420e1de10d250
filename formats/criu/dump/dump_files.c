/*
 * Files, sockets and pipes of a full dump (CRIU 3.17.1: criu/files.c
 * prepare_fds() and collect_fd(), criu/files-reg.c remaps, criu/memfd.c,
 * criu/filesystems.c tmpfs_restore(), criu/file-lock.c, criu/sk-unix.c,
 * criu/sk-tcp.c, criu/pipes.c, criu/sk-queue.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CRIU_DUMP_INTERNAL
#include "formats/criu/dump/dump.h"
#include "formats/criu/schema/schema.h"
#include "formats/criu/schema/linux.h"

#define USK_EXTERN 1u
#define FSTYPE_TMPFS 5u

static long img_index(dump *d, const dimg *i)
{
	return i ? (long)(i - DV(d->imgs, dimg)) : -1;
}

static bool is_socket(uint32_t type)
{
	return type == FD_TYPES__UNIXSK || type == FD_TYPES__INETSK ||
	       type == FD_TYPES__PACKETSK || type == FD_TYPES__NETLINKSK;
}

static void check_duplicate_ids(dump *d)
{
	const dfile *f = DV(d->files, dfile);

	for (size_t k = 1; k < d->files.n && !sv_stopped(d->cx); k++)
		if (f[k].id == f[k - 1].id)
			dump_report(d, f[k].img, f[k].index, "file_entry", CD_FILES_DUPLICATE, SV_NONE,
				    "file id %" PRIu32 " (%s) is also entry %" PRIu64 " of %s (%s)",
				    f[k].id, dump_fd_type_name(f[k].type), f[k - 1].index,
				    dump_img_path(d, f[k - 1].img), dump_fd_type_name(f[k - 1].type));
}

static int cmp_dfd(const void *a, const void *b)
{
	const dfd *x = a, *y = b;
	if (x->fd != y->fd)
		return x->fd < y->fd ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void check_fdinfos(dump *d)
{
	bool unsure = dump_files_unsure(d);

	for (size_t n = 0; n < d->fdinfos.n && !sv_stopped(d->cx); n++) {
		const dfdinfo *fi = &DV(d->fdinfos, dfdinfo)[n];
		if (fi->nfds == 0)
			continue;
		dfd *fds = DV(d->fds, dfd) + fi->fd0;

		for (size_t k = 0; k < fi->nfds; k++) {
			const dfile *f = dump_file(d, fds[k].id);
			if (!f && unsure)
				continue; /* it may be in what could not be read */
			if (!f)
				dump_report(d, fi->img, fds[k].index, "fdinfo_entry", CD_FDINFO_FILE,
					    SV_NONE, "fd %" PRIu32 " is file id %" PRIu32 " (%s), which "
					    "files.img does not have", fds[k].fd, fds[k].id,
					    dump_fd_type_name(fds[k].type));
			else if (f->type != fds[k].type)
				dump_report(d, fi->img, fds[k].index, "fdinfo_entry", CD_FDINFO_TYPE,
					    SV_NONE, "fd %" PRIu32 " is file id %" PRIu32 " of type %s, "
					    "but entry %" PRIu64 " of %s with that id is %s", fds[k].fd,
					    fds[k].id, dump_fd_type_name(fds[k].type), f->index,
					    dump_img_path(d, f->img), dump_fd_type_name(f->type));
		}
		/* Duplicate numbers: sort a copy (the table keeps entry order). */
		dfd *copy = malloc((fi->nfds ? fi->nfds : 1) * sizeof(*copy));
		if (!copy)
			continue;
		memcpy(copy, fds, fi->nfds * sizeof(*copy));
		qsort(copy, fi->nfds, sizeof(*copy), cmp_dfd);
		for (size_t k = 1; k < fi->nfds; k++)
			if (copy[k].fd == copy[k - 1].fd)
				dump_report(d, fi->img, copy[k].index, "fdinfo_entry",
					    CD_FDINFO_DUPLICATE, SV_NONE, "fd %" PRIu32 " is also entry %"
					    PRIu64, copy[k].fd, copy[k - 1].index);
		free(copy);
	}
}

static long ids_img(dump *d, const dtask *t)
{
	dimg *i = dump_find_id(d, "ids-", t->pid, false);
	if (i)
		return img_index(d, i);
	return t->core >= 0 ? DV(d->cores, dcore)[t->core].img : -1;
}

static void check_task_files(dump *d)
{
	dtask *t = DV(d->tasks, dtask);
	bool unsure = dump_files_unsure(d);

	for (size_t i = 0; i < d->tasks.n && !sv_stopped(d->cx); i++) {
		if (!t[i].live)
			continue;
		const dids *ids = dump_task_ids(d, &t[i]);
		if (ids && !dump_ref(d, "fdinfo-", ids->files, false))
			dump_report(d, ids_img(d, &t[i]), 0, "task_kobj_ids_entry", CD_FDINFO_MISSING,
				    SV_NONE, "live task %" PRIu32 " has files_id %" PRIu32
				    ", but fdinfo-%" PRIu32 ".img is absent: CRIU would restore "
				    "it with no open files", t[i].pid, ids->files, ids->files);
	}
	for (size_t k = 0; k < d->fss.n && !sv_stopped(d->cx); k++) {
		const dfs *fs = &DV(d->fss, dfs)[k];
		const char *what[2] = { "cwd_id", "root_id" };
		uint32_t id[2] = { fs->cwd, fs->root };
		for (int w = 0; w < 2; w++) {
			const dfile *f = dump_file(d, id[w]);
			if (!f && unsure)
				continue;
			if (!f || f->type != FD_TYPES__REG)
				dump_report(d, fs->img, 0, "fs_entry", CD_FS_FILE, SV_NONE,
					    "%s %" PRIu32 " is %s", what[w], id[w],
					    f ? "not a regular-file entry of files.img" :
					    "no entry of files.img");
		}
	}
	for (size_t m = 0; m < d->mms.n && !sv_stopped(d->cx); m++) {
		const dmm *mm = &DV(d->mms, dmm)[m];
		const dfile *f = dump_file(d, mm->exe_file_id);
		if ((f || !unsure) && (!f || f->type != FD_TYPES__REG))
			dump_report(d, mm->img, 0, "mm_entry", CD_MM_EXE, SV_NONE,
				    "exe_file_id %" PRIu32 " is %s", mm->exe_file_id,
				    f ? "not a regular-file entry of files.img" : "no entry of files.img");
		for (size_t k = 0; k < mm->nvmas; k++) {
			const dvma *v = &DV(d->vmas, dvma)[mm->vma0 + k];
			const char *want = NULL;
			bool ok;

			if (v->status & CRIU_VMA_EXT_PLUGIN)
				continue;
			if (v->status & CRIU_VMA_AREA_MEMFD) {
				f = dump_file(d, (uint32_t)v->shmid);
				ok = f && f->type == FD_TYPES__MEMFD && v->shmid <= UINT32_MAX;
				want = "a memfd entry";
			} else if (v->status & CRIU_VMA_AREA_SOCKET) {
				f = dump_file(d, (uint32_t)v->shmid);
				ok = f && is_socket(f->type) && v->shmid <= UINT32_MAX;
				want = "a socket entry";
			} else if (v->status & (CRIU_VMA_FILE_PRIVATE | CRIU_VMA_FILE_SHARED)) {
				f = dump_file(d, (uint32_t)v->shmid);
				ok = f && f->type == FD_TYPES__REG && v->shmid <= UINT32_MAX;
				want = "a regular-file entry";
			} else {
				continue;
			}
			if (!ok && (f || !unsure))
				dump_report(d, mm->img, 0, "mm_entry", CD_VMA_FILE, SV_NONE,
					    "VMA %zu 0x%" PRIx64 "-0x%" PRIx64 " maps file %" PRIu64
					    ", which is %s of files.img, not %s", k, v->start, v->end,
					    v->shmid, f ? dump_fd_type_name(f->type) : "no entry", want);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void check_memfds(dump *d)
{
	const dfile *f = DV(d->files, dfile);
	size_t n = d->memfds.n;
	uint64_t *inodes;

	if (DUMP_UNSURE(d, MEMFD_INODE) || DUMP_CAPPED(d->memfds))
		return; /* the inode may be in what could not be read */
	inodes = malloc((n ? n : 1) * sizeof(*inodes));
	if (!inodes) {
		dump_oom(d, "the memfd inodes");
		return;
	}
	for (size_t m = 0; m < n; m++)
		inodes[m] = DV(d->memfds, dmemfd)[m].inode_id;
	if (n > 1)
		qsort(inodes, n, sizeof(*inodes), cmp_u64);
	for (size_t k = 0; k < d->files.n && !sv_stopped(d->cx); k++) {
		uint64_t key = f[k].inode_id;
		if (f[k].type != FD_TYPES__MEMFD ||
		    (n && bsearch(&key, inodes, n, sizeof(*inodes), cmp_u64)))
			continue;
		dump_report(d, f[k].img, f[k].index, "file_entry", CD_MEMFD_INODE, SV_NONE,
			    "memfd file %" PRIu32 " has inode_id %" PRIu32 ", which %s",
			    f[k].id, f[k].inode_id,
			    dump_find(d, "memfd.img") ? "memfd.img does not have" :
			    "needs memfd.img (absent)");
	}
	free(inodes);
}

static void check_remaps(dump *d)
{
	long img = img_index(d, dump_find(d, "remap-fpath.img"));

	for (size_t k = 0; k < d->remaps.n && !sv_stopped(d->cx); k++) {
		const dremap *r = &DV(d->remaps, dremap)[k];
		if (!dump_file(d, r->orig_id) && !dump_files_unsure(d))
			dump_report(d, img, r->index, "remap_file_path_entry", CD_REMAP_FILE, SV_NONE,
				    "orig_id %" PRIu32 " is no entry of files.img", r->orig_id);
		if (r->type == REMAP_TYPE__GHOST) {
			if (!dump_ref(d, "ghost-file-", r->remap_id, true))
				dump_report(d, img, r->index, "remap_file_path_entry", CD_GHOST_MISSING,
					    SV_NONE, "file %" PRIu32 " is a ghost with remap_id %" PRIu32
					    ", but ghost-file-%" PRIx32 ".img is absent", r->orig_id,
					    r->remap_id, r->remap_id);
		} else if (r->type == REMAP_TYPE__LINKED) {
			const dfile *f = dump_file(d, r->remap_id);
			if (!f || f->type != FD_TYPES__REG)
				dump_report(d, img, r->index, "remap_file_path_entry", CD_REMAP_FILE,
					    SV_NONE, "linked remap of file %" PRIu32 " names remap_id %"
					    PRIu32 ", which is not a regular-file entry of files.img",
					    r->orig_id, r->remap_id);
		}
	}
}

/* ---- tmpfs contents ------------------------------------------------------------- */

static uint64_t fnv_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * 1099511628211u;
}
#define FNV_BASIS 1469598103934665603u

/* A mount that may exempt others of its superblock from a tmpfs archive. */
typedef struct exempter {
	uint64_t hash;      /* of its normalised root */
	size_t mount;
} exempter;

static int cmp_exempter(const void *a, const void *b)
{
	const exempter *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->mount < y->mount ? -1 : x->mount > y->mount;
}

/* criu/mount.c mounts_sb_equal(): an external mount matches by device alone. */
static bool same_sb(const dmount *a, const dmount *b)
{
	if (a->root_dev != b->root_dev)
		return false;
	return a->ext || b->ext || (a->source == b->source && a->fstype == b->fstype);
}

/*
 * Whether m needs no archive because a mount of its superblock (m itself
 * included) whose root holds m's root is the root mount of the root task's
 * mount namespace (restore bind-mounts it from --root) or external
 * (criu/mount.c dump_one_fs(): mnt_is_root_bind(), mnt_is_external_bind()).
 * The exempting mounts are looked up by the hash of each prefix of m's
 * root: O(length of the root x log n).
 */
static bool tmpfs_exempt(dump *d, const dmount *m, const exempter *ex, size_t nex)
{
	const dmount *mt = DV(d->mounts, dmount);
	const char *r = m->root;
	uint64_t h = FNV_BASIS;

	/* Prefixes at component boundaries: "", "a", "a/b", ... (roots are normalised). */
	for (size_t i = 0;; i++) {
		if (i == 0 || r[i] == '/' || r[i] == '\0') {
			exempter key = { h, 0 };
			size_t lo = sv_lower_bound(&key, ex, nex, sizeof(*ex), cmp_exempter);
			for (; lo < nex && ex[lo].hash == h; lo++) {
				const dmount *b = &mt[ex[lo].mount];
				if (strlen(b->root) == i && memcmp(b->root, r, i) == 0 && same_sb(m, b))
					return true;
			}
			if (r[i] == '\0')
				return false;
		}
		h = fnv_step(h, (unsigned char)r[i]);
	}
}

static int cmp_mount_dev(const void *a, const void *b, void *arg)
{
	const dmount *mt = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if (mt[x].root_dev != mt[y].root_dev)
		return mt[x].root_dev < mt[y].root_dev ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Whether mount a comes before mount b in image (name) and entry order. */
static bool first_mount(dump *d, size_t a, size_t b)
{
	const dmount *mt = DV(d->mounts, dmount);
	int c = dump_img_cmp(d, mt[a].img, mt[b].img);
	return c ? c < 0 : mt[a].index < mt[b].index;
}

/* The N of the root task's mountpoints-N.img, or false when unknown. */
static bool root_mnt_ns(dump *d, uint64_t *ns)
{
	const dtask *t = DV(d->tasks, dtask);

	for (size_t i = 0; i < d->tasks.n; i++) {
		if (t[i].ppid != 0 || !t[i].live)
			continue;
		if (!d->ns_per_id) { /* images named by the root pid */
			*ns = t[i].pid;
			return true;
		}
		const dids *ids = dump_task_ids(d, &t[i]);
		if (!ids || !(ids->ns_has & (1u << DNS_MNT)))
			return false;
		*ns = ids->ns[DNS_MNT];
		return true;
	}
	return false;
}

/*
 * Every tmpfs superblock needs its contents (CRIU: tmpfs_dump() writes
 * tmpfs-dev-<dev>.tar.gz.img once per superblock; tmpfs_restore() fails
 * without it, or the legacy tmpfs-<mnt_id>.tar.gz.img of a mount of its
 * root), unless every mount of it is exempt: see tmpfs_exempt(), and
 * with_plugin mounts (a plugin restores them).
 */
static void check_mounts(dump *d)
{
	const dmount *mt = DV(d->mounts, dmount);
	size_t n = d->mounts.n, nidx = 0, nrep = 0;
	uint64_t root_ns = 0;
	bool root_known = root_mnt_ns(d, &root_ns);
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	size_t *rep = malloc((n ? n : 1) * sizeof(*rep));
	exempter *ex = malloc((n ? n : 1) * sizeof(*ex));
	char name[64];

	if (!idx || !rep || !ex) {
		dump_oom(d, "the mounts");
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		const dmount *m = &mt[k];
		dump_ref(d, "autofs-", m->mnt_id, false);
		dump_ref(d, "binfmt-misc-", m->root_dev, false);
		snprintf(name, sizeof(name), "tmpfs-%" PRIu32 ".tar.gz.img", m->mnt_id);
		dimg *old = dump_find(d, name);
		if (old)
			old->referenced = true;
		if (m->fstype == FSTYPE_TMPFS) {
			snprintf(name, sizeof(name), "tmpfs-dev-%" PRIu32 ".tar.gz.img", m->root_dev);
			dimg *dev = dump_find(d, name);
			if (dev)
				dev->referenced = true;
		}
		if (m->root)
			idx[nidx++] = k;
	}
	if (nidx > 1)
		qsort_r(idx, nidx, sizeof(*idx), cmp_mount_dev, (void *)mt);
	for (size_t g = 0; g < nidx && !sv_stopped(d->cx);) {
		size_t end = g, nex = 0;
		uint32_t dev = mt[idx[g]].root_dev;
		while (end < nidx && mt[idx[end]].root_dev == dev)
			end++;
		for (size_t k = g; k < end; k++) {
			const dmount *m = &mt[idx[k]];
			if (m->ext || (root_known && m->ns_root && m->ns == root_ns)) {
				uint64_t h = FNV_BASIS;
				for (const char *c = m->root; *c; c++)
					h = fnv_step(h, (unsigned char)*c);
				ex[nex++] = (exempter){ h, idx[k] };
			}
		}
		if (nex > 1)
			qsort(ex, nex, sizeof(*ex), cmp_exempter);
		/* The first mount (in image order) that needs the archive. */
		size_t need = SIZE_MAX;
		for (size_t k = g; k < end; k++) {
			const dmount *m = &mt[idx[k]];
			if (m->fstype == FSTYPE_TMPFS && !m->plugin && !tmpfs_exempt(d, m, ex, nex) &&
			    (need == SIZE_MAX || first_mount(d, idx[k], need)))
				need = idx[k];
		}
		bool have = false;
		if (need != SIZE_MAX) {
			snprintf(name, sizeof(name), "tmpfs-dev-%" PRIu32 ".tar.gz.img", dev);
			have = dump_find(d, name) != NULL;
			for (size_t k = g; k < end && !have; k++) {
				const dmount *m = &mt[idx[k]];
				snprintf(name, sizeof(name), "tmpfs-%" PRIu32 ".tar.gz.img", m->mnt_id);
				have = !m->root[0] && same_sb(m, &mt[need]) && dump_find(d, name);
			}
			if (!have)
				rep[nrep++] = need;
		}
		g = end;
	}
	/* One finding per superblock, in the order of the images. */
	if (nrep > 1)
		qsort(rep, nrep, sizeof(*rep), cmp_size);
	for (size_t k = 0; k < nrep && !sv_stopped(d->cx); k++) {
		const dmount *m = &mt[rep[k]];
		dump_report(d, m->img, m->index, "mnt_entry", CD_TMPFS_MISSING, SV_NONE,
			    "tmpfs mount %" PRIu32 " (dev %" PRIu32 ") has no "
			    "tmpfs-dev-%" PRIu32 ".tar.gz.img nor tmpfs-%" PRIu32
			    ".tar.gz.img (CRIU: can't restore tmpfs content)",
			    m->mnt_id, m->root_dev, m->root_dev, m->mnt_id);
	}
out:
	free(idx);
	free(rep);
	free(ex);
}

/* An open fd of a files table: (files_id, fd). */
typedef struct fd_key {
	uint32_t files, fd;
} fd_key;

static int cmp_fd_key(const void *a, const void *b)
{
	const fd_key *x = a, *y = b;
	if (x->files != y->files)
		return x->files < y->files ? -1 : 1;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

/* Every open fd of the dump, sorted, for lookups by (files_id, fd); NULL on OOM. */
static fd_key *dump_fd_keys(dump *d, size_t *count)
{
	fd_key *keys = malloc((d->fds.n ? d->fds.n : 1) * sizeof(*keys));
	size_t n = 0;

	if (!keys) {
		dump_oom(d, "the open files");
		return NULL;
	}
	for (size_t i = 0; i < d->fdinfos.n; i++) {
		const dfdinfo *fi = &DV(d->fdinfos, dfdinfo)[i];
		for (size_t k = 0; k < fi->nfds; k++)
			keys[n++] = (fd_key){ fi->files_id, DV(d->fds, dfd)[fi->fd0 + k].fd };
	}
	if (n > 1)
		qsort(keys, n, sizeof(*keys), cmp_fd_key);
	*count = n;
	return keys;
}

static bool task_has_fd(dump *d, const dtask *t, int32_t fd, const fd_key *keys, size_t n)
{
	const dids *ids = dump_task_ids(d, t);
	fd_key key;

	if (!ids || fd < 0 || !n)
		return false;
	key = (fd_key){ ids->files, (uint32_t)fd };
	return bsearch(&key, keys, n, sizeof(*keys), cmp_fd_key) != NULL;
}

static void check_locks(dump *d)
{
	size_t nkeys = 0;
	fd_key *keys;

	/* With no task at all, pstree.empty already says what is wrong; an
	 * unreadable pstree or fdinfo may hold what a lock names. */
	if (d->tasks.n == 0 || !d->locks.n || DUMP_UNSURE(d, PSTREE) || DUMP_UNSURE(d, FDINFO) ||
	    DUMP_CAPPED(d->fds) || DUMP_CAPPED(d->tasks))
		return;
	keys = dump_fd_keys(d, &nkeys);
	if (!keys)
		return;
	for (size_t k = 0; k < d->locks.n && !sv_stopped(d->cx); k++) {
		const dref *l = &DV(d->locks, dref)[k];
		dtask *t = l->sa > 0 ? dump_find_task(d, (uint32_t)l->sa) : NULL;

		if (!t || !t->live)
			dump_report(d, l->img, l->index, "file_lock_entry", CD_FILELOCK_FD, SV_NONE,
				    "the lock belongs to pid %" PRId32 ", which is no live task of "
				    "pstree.img", l->sa);
		else if (!task_has_fd(d, t, l->sb, keys, nkeys))
			dump_report(d, l->img, l->index, "file_lock_entry", CD_FILELOCK_FD, SV_NONE,
				    "the lock is on fd %" PRId32 " of task %" PRId32 ", which its "
				    "fdinfo image does not have", l->sb, l->sa);
	}
	free(keys);
}

/* ---- epoll, TTYs, mounts of regular files ------------------------------------------ */

typedef struct epoll_master {
	uint32_t epoll, pid, files;
} epoll_master;

static int cmp_master(const void *a, const void *b)
{
	const epoll_master *x = a, *y = b;
	if (x->epoll != y->epoll)
		return x->epoll < y->epoll ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_fdinfo_files(const void *a, const void *b)
{
	uint32_t x = (*(const dfdinfo *const *)a)->files_id, y = (*(const dfdinfo *const *)b)->files_id;
	return x < y ? -1 : x > y;
}

/*
 * Each epoll's targets are open fds of its master task, the lowest pid
 * that has the epoll open (criu/eventpoll.c: the targets are added in the
 * task that restores the epoll; "Can't add event" otherwise, EBADF).
 */
static void check_epoll(dump *d)
{
	size_t nfi = d->fdinfos.n, nm = 0, nkeys = 0;
	const dtask *t = DV(d->tasks, dtask);

	if (!d->epoll_tfds.n || DUMP_UNSURE(d, FDINFO) || DUMP_UNSURE(d, PSTREE) ||
	    DUMP_UNSURE(d, IDS) || DUMP_UNSURE(d, CORE) || DUMP_CAPPED(d->fds))
		return;
	dfdinfo **by_files = malloc((nfi ? nfi : 1) * sizeof(*by_files));
	epoll_master *m = malloc((d->fds.n ? d->fds.n : 1) * sizeof(*m));
	fd_key *keys = dump_fd_keys(d, &nkeys);
	if (!by_files || !m || !keys) {
		if (by_files && m)
			dump_oom(d, "the epolls");
		goto out;
	}
	for (size_t k = 0; k < nfi; k++)
		by_files[k] = &DV(d->fdinfos, dfdinfo)[k];
	if (nfi > 1)
		qsort(by_files, nfi, sizeof(*by_files), cmp_fdinfo_files);
	for (size_t i = 0; i < d->tasks.n; i++) {
		const dids *ids = t[i].live ? dump_task_ids(d, &t[i]) : NULL;
		dfdinfo key = { .files_id = ids ? ids->files : 0 }, *kp = &key, **fi;
		if (!ids || !nfi ||
		    !(fi = bsearch(&kp, by_files, nfi, sizeof(*by_files), cmp_fdinfo_files)))
			continue;
		for (size_t k = 0; k < (*fi)->nfds && nm < d->fds.n; k++) {
			const dfd *f = &DV(d->fds, dfd)[(*fi)->fd0 + k];
			if (f->type == FD_TYPES__EVENTPOLL)
				m[nm++] = (epoll_master){ f->id, t[i].pid, ids->files };
		}
	}
	if (nm > 1)
		qsort(m, nm, sizeof(*m), cmp_master);
	for (size_t k = 0; k < d->epoll_tfds.n && !sv_stopped(d->cx); k++) {
		const dref *r = &DV(d->epoll_tfds, dref)[k];
		epoll_master mkey = { r->a, 0, 0 };
		size_t lo = sv_lower_bound(&mkey, m, nm, sizeof(*m), cmp_master);
		if (lo == nm || m[lo].epoll != r->a)
			continue; /* open in no task: nothing restores it */
		fd_key key = { m[lo].files, r->b };
		if (nkeys && bsearch(&key, keys, nkeys, sizeof(*keys), cmp_fd_key))
			continue;
		const dimg *i = &DV(d->imgs, dimg)[r->img];
		dump_report(d, r->img, r->index,
			    i->named->type->id == CRIU_T_EVENTPOLL_TFD ? "eventpoll_tfd_entry" :
			    i->named->type->id == CRIU_T_EVENTPOLL_FILE ? "eventpoll_file_entry" :
			    "file_entry", CD_EPOLL_TARGET, SV_NONE,
			    "epoll %" PRIu32 " watches fd %" PRIu32 ", which is not open in its "
			    "master task %" PRIu32 " (the lowest pid with the epoll open; CRIU: "
			    "can't add event)", r->a, r->b, m[lo].pid);
	}
out:
	free(by_files);
	free(m);
	free(keys);
}

static int cmp_u32f(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* A sorted copy of the values get() gives for the items of vec. */
static uint32_t *sorted_u32(dump *d, size_t n, uint32_t (*get)(dump *d, size_t k))
{
	uint32_t *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v) {
		dump_oom(d, "a lookup table");
		return NULL;
	}
	for (size_t k = 0; k < n; k++)
		v[k] = get(d, k);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u32f);
	return v;
}

static uint32_t fd_file_id(dump *d, size_t k) { return DV(d->fds, dfd)[k].id; }
static uint32_t tty_info_id(dump *d, size_t k) { return DV(d->tty_infos, uint32_t)[k]; }
static uint32_t mount_id(dump *d, size_t k) { return DV(d->mounts, dmount)[k].mnt_id; }

static bool in_sorted(const uint32_t *v, size_t n, uint32_t x)
{
	return n && bsearch(&x, v, n, sizeof(x), cmp_u32f);
}

/*
 * TTY files open in a task need their tty-info.img entry (criu/tty.c:
 * "No file for fd"); with the mount namespace dumped, a regular file's
 * mnt_id is a mount of it (criu/files-reg.c: the mount is looked up and
 * missing is a BUG()).
 */
static void check_tty_and_mounts(dump *d)
{
	const dfile *f = DV(d->files, dfile);
	uint32_t *open = NULL, *infos = NULL, *mnts = NULL;
	bool ttys = !DUMP_UNSURE(d, TTY_INFO) && !DUMP_UNSURE(d, FDINFO) &&
		    !DUMP_CAPPED(d->tty_infos) && !DUMP_CAPPED(d->fds);
	bool regs = d->mounts.n && !DUMP_UNSURE(d, MNTS) && !DUMP_CAPPED(d->mounts);

	if (ttys && (!(open = sorted_u32(d, d->fds.n, fd_file_id)) ||
		     !(infos = sorted_u32(d, d->tty_infos.n, tty_info_id))))
		goto out;
	if (regs && !(mnts = sorted_u32(d, d->mounts.n, mount_id)))
		goto out;
	for (size_t k = 0; k < d->files.n && !sv_stopped(d->cx); k++) {
		if (ttys && f[k].type == FD_TYPES__TTY && in_sorted(open, d->fds.n, f[k].id) &&
		    !in_sorted(infos, d->tty_infos.n, f[k].tty_info))
			dump_report(d, f[k].img, f[k].index, "file_entry", CD_TTY_INFO, SV_NONE,
				    "TTY file %" PRIu32 " is open in a task, but tty-info.img has no "
				    "entry %" PRIu32 " (its tty_info_id)", f[k].id, f[k].tty_info);
		if (regs && f[k].type == FD_TYPES__REG && f[k].mnt_id != -1 &&
		    (f[k].mnt_id < 0 || !in_sorted(mnts, d->mounts.n, (uint32_t)f[k].mnt_id)))
			dump_report(d, f[k].img, f[k].index, "file_entry", CD_REG_MNT, SV_NONE,
				    "regular file %" PRIu32 " is on mount %" PRId32 ", which no "
				    "mountpoints image of the dump has", f[k].id, f[k].mnt_id);
	}
out:
	free(open);
	free(infos);
	free(mnts);
}

/* Legacy inotify-wd / fanotify-mark entries name their notify file (criu/fsnotify.c). */
static void check_marks(dump *d)
{
	if (dump_files_unsure(d))
		return;
	for (size_t k = 0; k < d->marks.n && !sv_stopped(d->cx); k++) {
		const dref *r = &DV(d->marks, dref)[k];
		const dfile *f = dump_file(d, r->a);
		bool ino = r->b == FD_TYPES__INOTIFY;
		/* ids are unique among files (files.duplicate-id says otherwise) */
		if (f && f->type == r->b)
			continue;
		dump_report(d, r->img, r->index, ino ? "inotify_wd_entry" : "fanotify_mark_entry",
			    CD_NOTIFY_MARK, SV_NONE, "the %s names file %" PRIu32 ", which is %s "
			    "(CRIU: can't find %s with id)", ino ? "watch" : "mark", r->a,
			    f ? dump_fd_type_name(f->type) : "no file entry",
			    ino ? "inotify" : "fanotify");
	}
}

void dump_check_files(dump *d)
{
	check_duplicate_ids(d);
	check_fdinfos(d);
	check_task_files(d);
	check_memfds(d);
	check_remaps(d);
	check_mounts(d);
	check_locks(d);
	check_epoll(d);
	check_tty_and_mounts(d);
	check_marks(d);
}

/* ---- sockets and pipes ------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static bool in_set(const uint32_t *set, size_t n, uint32_t v)
{
	return n && bsearch(&v, set, n, sizeof(v), cmp_u32);
}

/* TCP states with a peer: a stream to save (criu/sk-tcp.c, sk-inet.c). */
static bool tcp_connected(uint32_t state)
{
	switch (state) {
	case CRIU_TCP_ESTABLISHED:
	case CRIU_TCP_SYN_SENT:
	case CRIU_TCP_FIN_WAIT1:
	case CRIU_TCP_FIN_WAIT2:
	case CRIU_TCP_CLOSE_WAIT:
	case CRIU_TCP_LAST_ACK:
	case CRIU_TCP_CLOSING:
		return true;
	default:
		return false;
	}
}

void dump_check_sockets(dump *d)
{
	const dfile *f = DV(d->files, dfile);
	uint32_t *unix_inos = malloc((d->files.n ? d->files.n : 1) * sizeof(uint32_t));
	uint32_t *pipes = malloc((d->files.n ? d->files.n : 1) * sizeof(uint32_t));
	size_t nunix = 0, npipes = 0;

	if (!unix_inos || !pipes) {
		free(unix_inos);
		free(pipes);
		return;
	}
	for (size_t k = 0; k < d->files.n; k++) {
		if (f[k].type == FD_TYPES__UNIXSK)
			unix_inos[nunix++] = f[k].ino;
		if (f[k].type == FD_TYPES__PIPE || f[k].type == FD_TYPES__FIFO)
			pipes[npipes++] = f[k].pipe_id;
	}
	qsort(unix_inos, nunix, sizeof(uint32_t), cmp_u32);
	qsort(pipes, npipes, sizeof(uint32_t), cmp_u32);

	bool unsure = dump_files_unsure(d);
	for (size_t k = 0; k < d->files.n && !sv_stopped(d->cx); k++) {
		if (f[k].type == FD_TYPES__UNIXSK && f[k].peer && !(f[k].uflags & USK_EXTERN) && !unsure &&
		    !in_set(unix_inos, nunix, f[k].peer))
			dump_report(d, f[k].img, f[k].index, "file_entry", CD_UNIX_PEER, SV_NONE,
				    "unix socket %" PRIu32 " (inode %" PRIu32 ") has peer %" PRIu32
				    ", which is the inode of no unix socket of the dump, and the "
				    "socket is not marked external (CRIU: unix socket without peer)",
				    f[k].id, f[k].ino, f[k].peer);
		if (f[k].type == FD_TYPES__INETSK && f[k].proto == CRIU_IPPROTO_TCP) {
			dimg *stream = dump_ref(d, "tcp-stream-", f[k].ino, true);
			if (!stream && tcp_connected(f[k].state) && !d->tcp_close)
				dump_report(d, f[k].img, f[k].index, "file_entry",
					    CD_TCP_STREAM_MISSING, SV_NONE,
					    "connected TCP socket %" PRIu32 " (inode %" PRIu32
					    ", state %" PRIu32 ") has no tcp-stream-%" PRIx32 ".img, "
					    "and inventory.img has no tcp_close", f[k].id, f[k].ino,
					    f[k].state, f[k].ino);
		}
	}
	dvec *data[2] = { &d->pipe_data, &d->fifo_data };
	for (int w = 0; w < 2; w++)
		for (size_t k = 0; k < data[w]->n; k++) {
			const dref *r = &DV(*data[w], dref)[k];
			if (!in_set(pipes, npipes, r->a) && !unsure)
				dump_report(d, r->img, r->index, "pipe_data_entry", CD_PIPE_DATA_OWNER,
					    SV_NONE, "data for pipe %" PRIu32 ", which no pipe or FIFO "
					    "entry of files.img has", r->a);
		}
	for (size_t k = 0; k < d->skqs.n; k++) {
		const dref *r = &DV(d->skqs, dref)[k];
		const dfile *s = dump_file(d, r->a);
		if ((s || !unsure) && (!s || !is_socket(s->type)))
			dump_report(d, r->img, r->index, "sk_packet_entry", CD_SKQ_OWNER, SV_NONE,
				    "a packet queued on socket %" PRIu32 ", which is %s of files.img",
				    r->a, s ? "not a socket entry" : "no entry");
	}
	free(unix_inos);
	free(pipes);
}
