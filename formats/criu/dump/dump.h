/*
 * Whole CRIU dumps: every image verified with the image module, then every
 * relation between images (CRIU 3.17.1: criu/pstree.c, criu/cr-restore.c,
 * criu/mem.c, criu/pagemap.c, criu/files*.c, criu/sk-*.c, criu/cgroup.c,
 * criu/namespaces.c, criu/seccomp.c), then a summary of the dump for
 * --verbose and --json.
 *
 * The public part (this block) is an API over members, for the criu
 * module's verify_members and for other modules that find a CRIU dump
 * inside their input (formats/container: a checkpoint archive):
 *
 *   criu_dump *d = criu_dump_new(cx, path);
 *   while ((m = sv_members_next(src))) {
 *           sv_stream *s = m->kind == SV_MEMBER_FILE && criu_dump_wants(d, m) ?
 *                          sv_member_open(cx, src) : NULL;
 *           criu_dump_add(d, m, s);
 *           sv_close(s);
 *   }
 *   criu_dump_set_parent(d, earlier);   (optional: an archive's pre-dump)
 *   criu_dump_finish(d, dir_or_NULL);
 *   criu_dump_free(d);
 *
 * Members may come in any order and each is read once, while it is
 * current: the dump module never reads a directory or opens a file
 * itself.  What the images say is collected into a model of the dump (the
 * tables below, bounded by the number of items of the dump, not by its
 * bytes); every relation is checked in criu_dump_finish().
 *
 * The work is split by subject: dump.c collects what each image says and
 * decides what kind of dump it is; dump_tasks.c checks tasks, namespaces
 * and cgroups; dump_mem.c memory and the parent chain; dump_files.c files,
 * sockets and pipes; dump_stats.c the summary.
 */
#ifndef SV_CRIU_DUMP_H
#define SV_CRIU_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"
#include "formats/criu/criu.h"

typedef struct criu_dump criu_dump;

/*
 * A new, empty dump.  path is how diagnostics name the dump's root (a
 * directory, or the folder of an archive that holds the images); member
 * names are relative to it.  NULL when out of memory (reported as
 * input.io; the run is then "not verified", exit 2).
 */
criu_dump *criu_dump_new(sv_ctx *cx, const char *path);

/*
 * Whether criu_dump_add() reads the data of member m: CRIU images and the
 * `parent` link when it is a regular file (a flattened symlink).  Other
 * members need not be opened (s NULL is then fine).
 */
bool criu_dump_wants(const criu_dump *d, const sv_member *m);

/*
 * Add member m (m->name relative to the dump root: "core-1.img",
 * "parent"), verifying the image on s and collecting what it says.  s is
 * the opened member, read here as far as needed (the caller closes it), or
 * NULL: for a member of kind SV_MEMBER_FILE that the caller could not open
 * (the core has said why) or that criu_dump_wants() declined; for other
 * kinds m->kind says what it is and a CRIU image name that is not a
 * regular file is reported (input.not-regular / input.io) and the dump
 * goes on.  `parent` is remembered as the link to the previous dump; logs
 * (*.log) are ignored.
 */
void criu_dump_add(criu_dump *d, const sv_member *m, sv_stream *s);

/*
 * Let parent, a dump collected earlier (e.g. the pre-checkpoint of the
 * same archive), stand for d's `parent` link: in-parent pages are looked
 * up in parent's model (and through its own parent, set the same way).
 * parent must outlive d's criu_dump_finish().
 */
void criu_dump_set_parent(criu_dump *d, criu_dump *parent);

/*
 * Decide the kind of dump and check every relation; report the images
 * nothing refers to; emit the summary figures (--verbose).  dir is the
 * directory source d's members came from, through which the `parent` link
 * is followed (sv_members_open_subdir; parent pagemaps are read lazily and
 * dropped after use), or NULL (an archive: only a dump given with
 * criu_dump_set_parent() stands for the parent).  Call once.
 */
void criu_dump_finish(criu_dump *d, sv_members *dir);

/* Free d (and nothing it was given). */
void criu_dump_free(criu_dump *d);

/* The criu module's verify_members: new, add every member, finish, free. */
void criu_verify_members(sv_ctx *cx, sv_members *m);

/* ---- codes ---------------------------------------------------------------- */

#define CRIU_DUMP_CODES(X)                                                                  \
	X(CD_KIND_UNKNOWN, "criu.dump.kind.unknown", ERROR,                                  \
	  "the directory is neither a CRIU dump, a pre-dump nor `criu cpuinfo dump` output")  \
	X(CD_KIND_PREDUMP_TASKS, "criu.dump.kind.pre-dump-tasks", ERROR,                     \
	  "the inventory says pre-dump, but the directory holds a process tree")             \
	X(CD_INVENTORY_MISSING, "criu.dump.inventory.missing", ERROR,                        \
	  "the directory holds CRIU images but no inventory.img")                            \
	X(CD_INVENTORY_UNREADABLE, "criu.dump.inventory.unreadable", ERROR,                  \
	  "inventory.img holds no usable entry: the dump cannot be restored")                \
	X(CD_INVENTORY_ROOT_IDS, "criu.dump.inventory.root-ids", ERROR,                      \
	  "a full dump's inventory lacks root_ids (CRIU: no kIDs provided)")                 \
	X(CD_LAYOUT_VERSION, "criu.dump.layout.version", ERROR,                              \
	  "an image's header layout (v1 or v1.1) is not the one inventory img_version says") \
	X(CD_PSTREE_MISSING, "criu.dump.pstree.missing", ERROR,                              \
	  "a full dump has no pstree.img")                                                   \
	X(CD_PSTREE_EMPTY, "criu.dump.pstree.empty", ERROR,                                  \
	  "pstree.img lists no task")                                                        \
	X(CD_PSTREE_ROOT, "criu.dump.pstree.root", ERROR,                                    \
	  "pstree.img does not have exactly one task with ppid 0")                           \
	X(CD_PSTREE_PARENT_ORDER, "criu.dump.pstree.parent-order", ERROR,                    \
	  "a task's ppid is not a task listed before it in pstree.img")                      \
	X(CD_PSTREE_DUPLICATE, "criu.dump.pstree.duplicate", ERROR,                          \
	  "a pid or thread id appears twice in pstree.img")                                  \
	X(CD_PSTREE_LEADER, "criu.dump.pstree.leader", ERROR,                                \
	  "a live task's first thread is not the task itself")                               \
	X(CD_TASK_CORE_MISSING, "criu.dump.task.core-missing", ERROR,                        \
	  "a task or thread of pstree.img has no core-TID.img")                              \
	X(CD_TASK_STATE, "criu.dump.task.state", ERROR,                                      \
	  "a task's core has a task_state CRIU does not restore (alive 1, zombie 2, stopped 3)") \
	X(CD_TASK_CORE_TC, "criu.dump.task.core-tc", ERROR,                                  \
	  "a task leader's core has no tc (task state data)")                                \
	X(CD_TASK_THREAD_INFO, "criu.dump.task.thread-info", ERROR,                          \
	  "a live thread's core has no register state (thread_info)")                        \
	X(CD_TASK_IDS, "criu.dump.task.ids", ERROR,                                          \
	  "a live task has neither ids-PID.img nor ids in its core")                         \
	X(CD_TASK_IMAGE_MISSING, "criu.dump.task.image-missing", ERROR,                      \
	  "a live task lacks one of its per-task images (mm, pagemap, fs)")                  \
	X(CD_THREAD_CORE_TC, "criu.dump.thread.core-tc", ERROR,                              \
	  "a non-leader thread's core carries tc or ids, which CRIU writes only for leaders") \
	X(CD_IDS_ROOT_SAME, "criu.dump.ids.root-same", ERROR,                                \
	  "the root task shares a files/vm/fs/sighand id with CRIU's own process "           \
	  "(CRIU: image corruption on kIDs data)")                                           \
	X(CD_NS_IMAGE_MISSING, "criu.dump.ns.image-missing", ERROR,                          \
	  "a dumped namespace has no image")                                                 \
	X(CD_REGION_PAGES, "criu.dump.pages.region", ERROR,                                  \
	  "a compressed pagemap entry's region_pages is not inventory.img's "                \
	  "compress_region_size in pages")                                                   \
	X(CD_NS_NET_OUTSIDE, "criu.dump.ns.net-outside", WARNING,                            \
	  "a task's own network namespace has no netns image: restore needs it from "        \
	  "outside (--external net[...], as container engines give it)")                     \
	X(CD_NS_CHILD, "criu.dump.ns.child", ERROR,                                          \
	  "a child task is in a namespace of its own other than mount or network "           \
	  "(CRIU: can't restore sub-task in NS)")                                            \
	X(CD_CGROUP_SET, "criu.dump.cgroup.set", ERROR,                                      \
	  "a task's cgroup set is neither inherited nor in cgroup.img")                      \
	X(CD_PAGES_MISSING, "criu.dump.pages.missing", ERROR,                                \
	  "a pagemap stores pages but its pages-N.img is absent")                            \
	X(CD_PAGES_SIZE, "criu.dump.pages.size", ERROR,                                      \
	  "a pages file's size is not 4096 times the pages its pagemap stores")              \
	X(CD_PAGES_UNDECODED, "criu.dump.pages.undecoded", NOTE,                            \
	  "a compressed pages file came before its pagemap (archive or capture order) "     \
	  "and beyond what streamverify holds (64 MiB): sized, its LZ4 blocks not decoded") \
	X(CD_PAGES_SHARED_ID, "criu.dump.pages.shared-id", ERROR,                            \
	  "two pagemaps name the same pages file")                                           \
	X(CD_VMA_ORDER, "criu.dump.vma.order", ERROR,                                        \
	  "a task's VMAs are not sorted or overlap (CRIU: VMA-s are not sorted)")            \
	X(CD_PAGEMAP_OUTSIDE, "criu.dump.pagemap.outside-vma", ERROR,                        \
	  "a pagemap entry covers addresses outside every VMA of its task")                  \
	X(CD_PAGEMAP_SHARED_VMA, "criu.dump.pagemap.non-private", ERROR,                     \
	  "a pagemap entry covers a VMA that is not private")                                \
	X(CD_SHMEM_MISSING, "criu.dump.shmem.missing", ERROR,                                \
	  "a shared memory object (memfd, shared anonymous or SysV) has no pagemap-shmem image") \
	X(CD_PARENT_MISSING, "criu.dump.parent.missing", ERROR,                              \
	  "pagemap entries are in the parent, but there is no parent link")                  \
	X(CD_PARENT_UNREADABLE, "criu.dump.parent.unreadable", ERROR,                        \
	  "the parent link cannot be opened as a directory")                                 \
	X(CD_PARENT_LOOP, "criu.dump.parent.loop", ERROR,                                    \
	  "the parent chain comes back to a directory already in it, or is too deep")        \
	X(CD_PARENT_NOT_SYMLINK, "criu.dump.parent.not-symlink", WARNING,                    \
	  "parent is a regular file holding a path, not a symbolic link (a copy that "       \
	  "flattened the link?); followed as the link it names")                             \
	X(CD_PARENT_PAGES, "criu.dump.parent.pages", ERROR,                                  \
	  "pages marked in-parent are not in the parent's pagemap (recursively)")            \
	X(CD_FILES_DUPLICATE, "criu.dump.files.duplicate-id", ERROR,                         \
	  "two file entries have the same id")                                               \
	X(CD_FDINFO_MISSING, "criu.dump.fdinfo.missing", ERROR,                              \
	  "a live task's fdinfo-N.img is absent (CRIU would restore it with no files)")      \
	X(CD_FDINFO_FILE, "criu.dump.fdinfo.file", ERROR,                                    \
	  "an fdinfo entry's id is not a file entry")                                        \
	X(CD_FDINFO_TYPE, "criu.dump.fdinfo.type", ERROR,                                    \
	  "an fdinfo entry's type differs from its file entry's")                            \
	X(CD_FDINFO_DUPLICATE, "criu.dump.fdinfo.duplicate-fd", ERROR,                       \
	  "a file descriptor number appears twice in one fdinfo image")                      \
	X(CD_FS_FILE, "criu.dump.fs.file", ERROR,                                            \
	  "an fs image's cwd or root is not a regular-file entry")                           \
	X(CD_MM_EXE, "criu.dump.mm.exe", ERROR,                                              \
	  "an mm image's exe_file_id is not a regular-file entry")                           \
	X(CD_VMA_FILE, "criu.dump.vma.file", ERROR,                                          \
	  "a file-backed VMA's shmid is not a file entry of the right type")                 \
	X(CD_MEMFD_INODE, "criu.dump.memfd.inode", ERROR,                                    \
	  "a memfd file entry's inode_id is not in memfd.img")                               \
	X(CD_REMAP_FILE, "criu.dump.remap.file", ERROR,                                      \
	  "a remap-fpath entry names a file entry that does not exist")                      \
	X(CD_GHOST_MISSING, "criu.dump.ghost.missing", ERROR,                                \
	  "a ghost remap has no ghost-file image")                                           \
	X(CD_TMPFS_MISSING, "criu.dump.tmpfs.missing", ERROR,                                \
	  "a tmpfs mount has no tmpfs-dev-N.tar.gz.img (nor tmpfs-N.tar.gz.img)")            \
	X(CD_UNIX_PEER, "criu.dump.unix.peer", ERROR,                                        \
	  "a unix socket's peer is no unix socket of the dump, and not external")            \
	X(CD_TCP_STREAM_MISSING, "criu.dump.tcp.stream-missing", ERROR,                      \
	  "a connected TCP socket has no tcp-stream image (and the inventory has no tcp_close)") \
	X(CD_PIPE_DATA_OWNER, "criu.dump.pipe-data.owner", ERROR,                            \
	  "pipe or FIFO data names a pipe no pipe or FIFO entry has")                        \
	X(CD_SKQ_OWNER, "criu.dump.sk-queue.owner", ERROR,                                   \
	  "a queued packet names a socket that is not in the dump")                          \
	X(CD_SECCOMP_INDEX, "criu.dump.seccomp.index", ERROR,                                \
	  "a thread's seccomp filter index is not below the number of filters in seccomp.img") \
	X(CD_FILELOCK_FD, "criu.dump.filelock.fd", ERROR,                                    \
	  "a file lock names a task or fd that the dump does not have")                      \
	X(CD_FILE_SUBMSG, "criu.dump.files.sub-message", ERROR,                              \
	  "a file entry lacks the sub-message of its type (reg for REG, epfd for "            \
	  "EVENTPOLL, ...), which restore dereferences")                                     \
	X(CD_EPOLL_TARGET, "criu.dump.epoll.target", ERROR,                                  \
	  "an epoll's target fd is not open in its master task (CRIU: can't add event)")     \
	X(CD_TTY_INFO, "criu.dump.tty.info", ERROR,                                          \
	  "a TTY file open in a task names a tty_info_id that tty-info.img lacks "            \
	  "(CRIU: no file for fd)")                                                          \
	X(CD_REG_MNT, "criu.dump.reg.mnt-id", ERROR,                                         \
	  "a regular file's mnt_id is no mount of the dumped mount namespaces")              \
	X(CD_SHM_VMA, "criu.dump.shm.vma", ERROR,                                            \
	  "a SysV shared memory VMA's shmid is no segment of the ipcns-shm images "           \
	  "(CRIU: can't find sysv shmem)")                                                   \
	X(CD_NOTIFY_MARK, "criu.dump.notify.mark", ERROR,                                    \
	  "an inotify watch or fanotify mark names no inotify/fanotify file "                 \
	  "(CRIU: can't find inotify/fanotify with id)")                                     \
	X(CD_PLUGIN_MISSING, "criu.dump.plugin.missing", ERROR,                             \
	  "files or VMAs that only a plugin restores (EXT files, VMA_EXT_PLUGIN, amdgpu "      \
	  "images), but inventory.img's plugins_entry does not list that plugin: "          \
	  "restore leaves it disabled")                                                      \
	X(CD_PLUGIN_UNUSED, "criu.dump.plugin.unused", NOTE,                                 \
	  "inventory.img lists a plugin that nothing in the dump needs (restore still "      \
	  "insists on it being installed)")                                                   \
	X(CD_UNREFERENCED, "criu.dump.unreferenced", WARNING,                                \
	  "an image that nothing in the dump refers to")                                     \
	X(CD_UNKNOWN_FILE, "criu.dump.unknown-file", NOTE,                                   \
	  "a file that is neither a CRIU image nor a CRIU log")                              \
	X(CD_LIMIT, "criu.dump.limit", WARNING,                                              \
	  "the dump has more items than streamverify tracks; relations beyond were not checked")

enum { CRIU_DUMP_CODES(SV_CODE_ENUM) CD_NCODES };

/* The dump checks' codes: their part of the criu module's one table (criu.c). */
extern const sv_code *const criu_dump_codes;

/*
 * ---- the inside of the dump checks (formats/criu/dump*.c only) ----------
 */
#ifdef CRIU_DUMP_INTERNAL

/* ---- tables ----------------------------------------------------------------- */

/* Growable array; items are zeroed when pushed. */
typedef struct dvec {
	void *v;
	size_t n, cap;
} dvec;
#define DV(vec, T) ((T *)(vec).v)

/* One file of a dump directory. */
typedef struct dimg {
	char *name;
	char *path;                   /* as diagnostics name it */
	const criu_image_name *named; /* NULL: not a CRIU image name */
	uint64_t id;                  /* the id in the name */
	bool verified;                /* opened and verified */
	bool damaged;                 /* verified, with errors of its own */
	bool referenced;
	criu_image_info info;
	/* a pages file read before its pagemap (or inventory): checked at finish */
	bool deferred;
	bool held_over;               /* larger than what is held: sized only */
	unsigned char *held;
	size_t held_len;
} dimg;

typedef struct dtask {
	uint32_t pid, ppid, pgid, sid;
	size_t thread0, nthreads;     /* in dump.threads */
	uint64_t index, offset;       /* pstree entry */
	long parent;                  /* task index, -1 for the root */
	long core;                    /* core index of the leader, or -1 */
	long ids;                     /* ids index, or -1 */
	bool zombie, live;
} dtask;

/* The kernel-object ids of a task (ids-PID.img or its core). */
typedef struct dids {
	uint32_t pid;
	uint32_t vm, files, fs, sighand;
	uint32_t ns[8];               /* by DNS_* */
	unsigned ns_has;              /* bit per DNS_* */
} dids;

enum { DNS_PID, DNS_NET, DNS_IPC, DNS_UTS, DNS_MNT, DNS_USER, DNS_CGROUP, DNS_TIME, DNS_COUNT };
extern const char *const dump_ns_names[DNS_COUNT];

typedef struct dcore {
	uint32_t tid;
	long img;                     /* dump.imgs index */
	bool has_tc, has_ids, has_arch_info, has_cg_set, has_seccomp_filter;
	uint32_t task_state, exit_code, cg_set, seccomp_filter;
	dids ids;                     /* when has_ids */
	char comm[32];
} dcore;

typedef struct dvma {
	uint64_t start, end, shmid;
	uint32_t status, flags;
	uint64_t index;               /* position in the mm's vmas */
} dvma;

typedef struct dmm {
	uint32_t pid;
	long img;
	uint32_t exe_file_id;
	size_t vma0, nvmas;
} dmm;

typedef struct dpage {
	uint64_t vaddr, pages;
	uint32_t flags;               /* PE_* as CRIU reads them */
	uint64_t index;               /* entry index in the pagemap */
} dpage;

typedef struct dpagemap {
	long img;
	bool shmem;                   /* pagemap-shmem-N */
	uint64_t id;                  /* pid or shmem id */
	bool has_head;
	bool damaged;                 /* entries failed their own checks */
	uint32_t pages_id;
	size_t ent0, nents;           /* in dump.pents */
	uint64_t present, parent, lazy;
	uint64_t pages_bytes;         /* exact size its pages file needs (image check) */
	struct criu_pages_plan *plan; /* image version 3: where each payload lies */
	bool pages_checked;           /* its pages file was checked against the plan */
	bool compressed;              /* some entry stores its pages compressed */
} dpagemap;

typedef struct dfs {
	uint32_t pid, cwd, root;
	long img;
} dfs;

typedef struct dfd {
	uint32_t fd, id, type;
	uint64_t index;
} dfd;

typedef struct dfdinfo {
	uint32_t files_id;
	long img;
	size_t fd0, nfds;
} dfdinfo;

/* A file entry: files.img (or a legacy per-type image). */
typedef struct dfile {
	uint32_t id, type;            /* FdTypes */
	long img;
	uint64_t index;
	/* sockets */
	uint32_t ino, peer, uflags, family, sktype, proto, state, dst_port;
	/* pipes, FIFOs: pipe_id; memfd: inode_id */
	uint32_t pipe_id, inode_id;
	uint32_t tty_info;            /* TTY: tty_info_id */
	int32_t mnt_id;               /* REG: mnt_id (-1: none) */
} dfile;

typedef struct dmemfd {
	uint64_t inode_id;
	uint32_t shmid;
	uint64_t size;
	uint64_t index;
} dmemfd;

typedef struct dremap {
	uint32_t orig_id, remap_id, type;
	uint64_t index;
} dremap;

/* An item naming another by id: pipe data, queued packets, locks, IPC shm. */
typedef struct dref {
	uint32_t a, b;
	int32_t sa, sb;
	uint64_t index;
	long img;
} dref;

typedef struct dmount {
	uint32_t fstype, mnt_id, root_dev;
	uint64_t ns;                  /* the N of mountpoints-N.img */
	bool ext;                     /* ext_mount or ext_key: an external mount */
	bool plugin;                  /* with_plugin */
	bool ns_root;                 /* mountpoint "/" */
	uint64_t source;              /* a hash of source (superblocks) */
	char *root;                   /* normalised root (tmpfs and external mounts) */
	uint64_t index;
	long img;
} dmount;

typedef struct criu_dump dump;

/* Plugin names of the inventory kept (CRIU ships two). */
#define DUMP_MAX_PLUGINS 16

struct criu_dump {
	sv_ctx *cx;
	const char *path;             /* = base */
	char *base;                   /* path without trailing slashes */
	dvec imgs;                    /* dimg, in the order added */
	dvec byname;                  /* size_t: imgs indices sorted by name (finish) */
	dvec strs;                    /* char * to free */
	bool limited;                 /* a table hit its cap */
	bool finished;

	/* the parent link: the member `parent`, or a dump standing for it */
	bool has_parent_link;
	sv_member_kind parent_kind;
	char *parent_link;            /* symlink target, when known */
	char *parent_target;          /* a regular file's contents (flattened link) */
	bool parent_file_bad;         /* a regular file that names no path */
	criu_dump *parent_dump;
	dvec pm_order;                /* size_t: pagemaps sorted by (shmem, id), on first use */
	/* kinds of image one of which could not be read in full (finish) */
	bool damaged_types[CRIU_T_COUNT];

	/* inventory */
	bool have_inventory, predump, tcp_close, has_root_ids, has_root_cg_set, ns_per_id;
	uint32_t img_version, root_cg_set;
	size_t nplans;                /* pagemaps holding a pages plan */
	uint64_t held_bytes;          /* of pages files held until their pagemap */
	uint32_t region_pages;        /* inventory: compress 2's region size in pages, else 0 */
	unsigned region_reported;     /* criu.dump.pages.region said once */
	dids root_ids;
	/* inventory plugins_entry (CRIU 4.x): absent means every plugin loads */
	bool has_plugins_entry;
	size_t nplugins;              /* names listed */
	char *plugins[DUMP_MAX_PLUGINS]; /* the first of them, printable */

	/* the kind: */
	enum { DUMP_NONE, DUMP_FULL, DUMP_PRE, DUMP_CPUINFO } kind;
	bool no_tasks;                /* a full dump without pstree.img */

	dvec tasks;                   /* dtask */
	dvec task_order;              /* pids and task indices by pid, built on first use */
	dvec threads;                 /* uint32_t */
	dvec cores;                   /* dcore, sorted by tid after loading */
	dvec ids;                     /* dids */
	dvec mms;                     /* dmm */
	dvec vmas;                    /* dvma */
	dvec pagemaps;                /* dpagemap */
	dvec pents;                   /* dpage */
	dvec fss;                     /* dfs */
	dvec fdinfos;                 /* dfdinfo */
	dvec fds;                     /* dfd */
	dvec files;                   /* dfile, sorted by id after loading */
	dvec memfds;                  /* dmemfd */
	dvec remaps;                  /* dremap */
	dvec pipe_data, fifo_data;    /* dref: a = pipe_id */
	dvec skqs;                    /* dref: a = id_for */
	dvec locks;                   /* dref: sa = pid, sb = fd */
	dvec ipc_shms;                /* dref: a = shm id (contents in a pagemap) */
	dvec epoll_tfds;              /* dref: a = eventpoll id, b = target fd */
	dvec tty_infos;               /* uint32_t: tty-info.img ids */
	dvec shm_ids;                 /* uint32_t: ids of every SysV segment (ipcns-shm) */
	dvec marks;                   /* dref: a = inotify/fanotify id, b = FdTypes (legacy marks) */
	dvec cgsets;                  /* uint32_t */
	dvec mounts;                  /* dmount */
	bool have_seccomp, have_cgroup;
	size_t nseccomp;
	long seccomp_img, cgroup_img;
	bool have_stats;
	uint64_t stats[14];           /* dump_stats_entry fields 1..14 */
	bool stats_has[14];

	/* while loading one image */
	dimg *cur;
	long cur_img;
	size_t cur_first;             /* first item this image added */
	size_t cur_ent0;
	dpagemap *cur_pm;
	dfdinfo *cur_fdinfo;
	dmm *cur_mm;
	bool cur_pm_bad;
};

/* Tables are capped so forged dumps cannot exhaust memory. */
#define DUMP_MAX_ITEMS (1u << 22)
/* Compressed pagemaps whose pages files are decoded (the rest: sized only). */
#define DUMP_MAX_PLANS 4096u
#define DUMP_MAX_FILES (1u << 20)
/* Pages files that come before their pagemap are held up to this in all. */
#define DUMP_HOLD_MAX ((uint64_t)64 << 20)
/* Parent chains are followed this deep at most. */
#define DUMP_MAX_PARENTS 64

/* Out of memory: report input.io and stop the run as not verified (exit 2). */
void dump_oom(dump *d, const char *what);

/* Push a zeroed item; NULL (reported once) when the table is full. */
void *dump_push(dump *d, dvec *vec, size_t elem);
void dump_vec_free(dvec *vec);
/* qsort of a table (nothing to do, and no NULL to qsort, when it is empty). */
void dump_sort(dvec *vec, size_t elem, int (*cmp)(const void *, const void *));
/* A string kept until the end of the run. */
char *dump_strdup(dump *d, const char *s);
char *dump_printf(dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The file called name, or NULL. */
dimg *dump_find(dump *d, const char *name);
/* The image "prefix<id><suffix>" as CRIU names it (ids decimal, or hex). */
dimg *dump_find_id(dump *d, const char *prefix, uint64_t id, bool hex);
/* Mark an image referenced; returns it (NULL when absent). */
dimg *dump_ref(dump *d, const char *prefix, uint64_t id, bool hex);

/* Report against image i (its path is the file), at offset off, entry rec. */
void dump_report(dump *d, long img, uint64_t rec, const char *rec_type, int code,
		 uint64_t off, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
const char *dump_img_path(dump *d, long img);
/* Images in name order (-1 first): what makes findings independent of member order. */
int dump_img_cmp(dump *d, long a, long b);

/* Lookups in the sorted tables. */
dtask *dump_find_task(dump *d, uint32_t pid);
dcore *dump_core(dump *d, uint32_t tid);
dfile *dump_file(dump *d, uint32_t id);
const dids *dump_task_ids(dump *d, const dtask *t);
const char *dump_fd_type_name(uint32_t type);

/* Add a pagemap's head or entry (as handed by criu_verify_image) to pm and ents. */
void dump_collect_pagemap(dump *d, dvec *ents, dpagemap *pm, const criu_entry *e);

/* A path as CRIU compares them (get_relative_path): components without
 * empty and "." ones, joined by '/'; "" for the root.  Kept until the end. */
char *dump_norm_path(dump *d, const char *path);

/*
 * Whether a lookup that finds nothing in images of type t may have missed
 * what an unreadable one held: the finding would then repeat its error.
 */
#define DUMP_UNSURE(d, t) ((d)->damaged_types[CRIU_T_##t])
/* Files: files.img or a legacy per-type image, or a files table that hit its cap. */
bool dump_files_unsure(dump *d);
/* A table that hit its cap: a lookup that finds nothing in it proves nothing. */
#define DUMP_CAPPED(vec) ((vec).n >= DUMP_MAX_ITEMS)

/* The checks, in the order they run. */
void dump_check_tasks(dump *d);
void dump_check_ns(dump *d);
void dump_check_cgroups(dump *d);
void dump_check_memory(dump *d, sv_members *dir);
void dump_check_files(dump *d);
void dump_check_sockets(dump *d);
void dump_check_plugins(dump *d);
void dump_emit_stats(dump *d);
/* The plugins the dump needs, and those its inventory lists (--verbose). */
void dump_emit_plugins(dump *d);

#endif /* CRIU_DUMP_INTERNAL */

#endif /* SV_CRIU_DUMP_H */
