/*
 * `streamverify show` and `streamverify diff`: a model of what a CRIU
 * checkpoint holds (process tree, files, memory, sockets, mounts,
 * namespaces, cgroups, statistics), collected in the same single pass over
 * the members that verifies the dump.
 *
 * Each member goes to criu_dump_add() (the verification) through a stream
 * that hands the bytes on as they are read: metadata images are kept
 * (bounded) and decoded a second time with criu_verify_image() and a
 * visitor in a quiet context; pages files are never kept, only the pages
 * a command line or environment needs are copied, and with diff a 64-bit
 * hash per page is kept.  Names sort mm-N and pagemap-N before pages-N,
 * so in a directory the pages wanted are known when pages arrive; in an
 * archive that stores pages first, command lines are left unknown.
 *
 * The members come from a directory, an archive (each container of a pod
 * its own model, chained by `next`; an archive's pre-checkpoint/ its
 * container's pre_ckpt, and its parent when checkpoint/parent links there)
 * or a criu-image-streamer capture (criu_capture_read: the files as the
 * criu-stream module reads them, interleaved ones held up to its cap).
 *
 * The model is bounded by the number of items of the dump (tasks, fds,
 * VMAs, pagemap entries, pages when hashing), never by page contents.
 */
#ifndef SV_CRIU_SHOW_H
#define SV_CRIU_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "module.h"

/* Items of one kind kept at most (a forged dump cannot exhaust memory). */
#define SHOW_MAX_ITEMS (1u << 22)
/* A metadata image kept for decoding at most this big (pages are streamed). */
#define SHOW_MAX_IMAGE ((size_t)64 << 20)
/* Command line and environment: at most this many bytes read. */
#define SHOW_MAX_ARGS 65536u
/* Steps the page counting loops may take (forged overlapping entries). */
#define SHOW_WORK_BUDGET ((uint64_t)1 << 28)
/* Fields of dump_stats_entry kept at most. */
#define SHOW_MAX_STATS 32
/* Parent dumps followed at most this deep (diff of incremental dumps). */
#define SHOW_MAX_PARENTS 16

typedef struct show_vec {
	void *v;
	size_t n, cap;
} show_vec;
#define SVV(vec, T) ((T *)(vec).v)

typedef struct show_vma {
	uint64_t start, end, pgoff, shmid;
	uint32_t prot, flags, status;
	uint64_t present, parent, lazy; /* pages by where the pagemap says they are */
} show_vma;

typedef struct show_pent {
	uint64_t vaddr, pages;
	uint32_t flags;          /* PE_* */
	uint64_t file_page;      /* present: index of its first page in pages-N.img */
} show_pent;

/* Namespaces kept per task: pid, net, ipc, uts, mnt, user, cgroup, time. */
#define SHOW_NS_COUNT 8
extern const char *const show_ns_names[SHOW_NS_COUNT];

/* What is known about one pid or tid (created by whichever image names it first). */
typedef struct show_task {
	uint32_t pid;
	bool in_pstree;
	uint32_t ppid, pgid, sid;
	uint32_t *tids;
	size_t ntids;
	uint64_t order;          /* pstree position */

	bool have_core;
	uint32_t state, exit_code, cg_set;
	bool has_cg_set;
	char *comm;

	bool have_ids;
	uint32_t files_id, fs_id, vm_id, sighand_id;
	uint32_t ns[SHOW_NS_COUNT];
	unsigned ns_has;

	bool have_mm;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint32_t exe_file_id;
	show_vma *vmas;
	size_t nvmas;

	bool have_pm;
	uint32_t pages_id;
	size_t pm_next;          /* next task (index + 1) with the same pages_id, or 0 */
	show_pent *pents;
	size_t npents, pents_cap;

	bool have_fs;
	uint32_t cwd_id, root_id;

	/* bytes of the command line / environment read from the pages */
	unsigned char *args, *env;
	size_t args_len, env_len;
	bool args_done, env_done;  /* every byte of the range was found */
} show_task;

typedef struct show_fd {
	size_t seq;              /* order read */
	uint32_t files_id;       /* fdinfo-N */
	uint32_t fd, id, type, flags;
} show_fd;

/* A file entry (files.img, or a legacy per-type image). */
typedef struct show_file {
	size_t seq;              /* order read */
	uint32_t id, type;
	char *path;              /* regular file, memfd name, tun ifname, epoll targets */
	uint64_t size;
	bool has_size;
	uint32_t pipe_id;        /* pipes and FIFOs */
	uint32_t regf_id;        /* FIFOs: the regular-file entry with the path */
	uint32_t tty_info;       /* tty: tty_info_id */
	uint64_t counter;        /* eventfd */
	uint32_t clockid;        /* timerfd */
	uint64_t sigmask;        /* signalfd */
	/* sockets */
	uint32_t ino, family, sktype, proto, state, peer;
	uint32_t src_port, dst_port;
	uint32_t src_addr[4], dst_addr[4];
	size_t nsrc, ndst;
	unsigned char *name;     /* unix socket name (may start with NUL: abstract) */
	size_t name_len;
	uint32_t nl_portid, nl_dst_portid;
} show_file;

typedef struct show_remap {
	size_t seq;
	uint32_t orig_id, remap_id, type;
} show_remap;

typedef struct show_mount {
	uint64_t ns;             /* mountpoints-N */
	uint32_t mnt_id, parent_id, fstype;
	char *mountpoint, *source, *root, *options, *fsname;
	bool ext;
} show_mount;

typedef struct show_cgctl {
	uint32_t set;
	char *name, *path;
} show_cgctl;

/* Queued bytes of a socket: sk-queues (by id) and tcp-stream-INO (by inode). */
typedef struct show_queue {
	uint32_t key;
	bool by_ino;
	uint64_t bytes, packets;
} show_queue;

/* An entry of pagemap-shmem-N: pages of shared memory object N at an offset. */
typedef struct show_shment {
	uint64_t shmid, off, pages;
	uint32_t flags;
} show_shment;

/* Page hashes of one pages-N.img, in file order. */
typedef struct show_pages {
	uint32_t id;
	uint64_t *hash;
	uint64_t n, cap;
	bool complete;
} show_pages;

typedef struct show_dump show_dump;
struct show_dump {
	char *path;
	bool hash_pages;         /* keep a hash per page (diff) */
	sv_ctx *quiet;
	show_vec tasks;          /* show_task */
	size_t *task_slots;      /* open addressing: index + 1, 0 = empty */
	size_t nslots;
	size_t *pm_slots;        /* pages_id -> first task (index + 1) of its chain */
	size_t npm_slots, npm_heads;
	show_vec fds;            /* show_fd */
	show_vec files;          /* show_file */
	show_vec remaps;         /* show_remap */
	show_vec mounts;         /* show_mount */
	show_vec cgctls;         /* show_cgctl */
	show_vec queues;         /* show_queue */
	show_vec pages;          /* show_pages */
	show_vec ghosts;         /* uint32_t: ghost-file ids present */
	show_vec shments;        /* show_shment */
	show_vec memfds;         /* show_file: memfd.img inodes (pipe_id = inode, ino = shmid) */
	/* indexes made after collecting (index_dump) */
	size_t *fd_by_id;        /* fds by file id */
	size_t *task_by_files;   /* tasks of the tree with ids, by files id */
	size_t ntask_by_files;
	size_t *socks;           /* socket file entries by show_sock_key() */
	size_t nsocks;
	uint64_t work;           /* steps of the counting loops, against SHOW_WORK_BUDGET */
	bool have_inventory, predump;
	uint32_t img_version;
	bool have_stats;
	struct { const char *name; uint64_t value; } stats[SHOW_MAX_STATS];
	size_t nstats;
	bool limited;            /* a table hit its cap */
	bool pages_before_maps;  /* a pages file came before the maps it needs */
	bool oom;
	show_dump *parent;       /* diff: the parent dump, collected quietly */
	uint64_t members, bytes;
	bool archive;            /* read from an archive's checkpoint/ folder */
	char *ctr_name, *ctr_id, *ctr_image; /* config.dump of a container archive */
	char *pod_name;          /* a pod checkpoint's container: its name in pod.options */
	char *folder;            /* ... and its folder ("ID-NAME/") */
	bool pod;                /* the first container of a pod checkpoint (next: the others) */
	show_dump *next;         /* the next container of the same archive */
	show_dump *pre_ckpt;     /* the archive's pre-checkpoint/ of this container */
	bool pre_is_parent;      /* ... which is also parent (owned there) */
	bool finished;           /* indexes made, pages counted */
	/* while reading one pages file */
	show_pages *cur_pages;
	uint32_t cur_pages_id;
};

/* ---- the collector (show_model.c) -------------------------------------------- */

show_dump *show_dump_new(const char *path, bool hash_pages);
void show_dump_free(show_dump *d);

/*
 * Read every member of m, verifying the dump with criu_dump in cx (its
 * findings go to cx's sink) and collecting the model.  With dir a
 * directory source and hash_pages set, the parent chain is collected too
 * (quietly) so in-parent pages have contents.
 */
void show_collect(sv_ctx *cx, sv_members *m, show_dump *d);

/*
 * Verify and collect the checkpoint at path into d: a dump directory, a
 * container archive or a criu-image-streamer capture (its files read from
 * the capture as the criu-stream module reads them).  Findings go to sink;
 * returns SV_EXIT_* with the run's summary in *sum.
 */
int show_run(const char *path, const sv_sink *sink, show_dump *d, sv_summary *sum);

/* Lookups, after collecting. */
show_task *show_task_find(show_dump *d, uint32_t pid);
const show_file *show_file_find(const show_dump *d, uint32_t id);
const show_remap *show_remap_find(const show_dump *d, uint32_t orig_id);
/* The entry of id with this type (a FIFO's path is a regular file of its own id). */
const show_file *show_file_find_type(const show_dump *d, uint32_t id, uint32_t type);
/* The fds of fdinfo-<files_id> (*n of them), in the order read. */
const show_fd *show_fds_of(const show_dump *d, uint32_t files_id, size_t *n);
const show_queue *show_queue_find(const show_dump *d, bool by_ino, uint32_t key);
const show_file *show_memfd_inode(const show_dump *d, uint32_t inode_id);
bool show_is_socket(const show_file *f);
uint64_t show_sock_key(const show_file *f);
/* The socket of d that is f (of another dump): same kind and inode. */
const show_file *show_sock_find(const show_dump *d, const show_file *f);
/* fn(arg, pid, fd) for every fd of a task of the tree that refers to file id. */
void show_owners(const show_dump *d, uint32_t id, void (*fn)(void *, uint32_t, uint32_t),
		 void *arg);
/* Tasks of the process tree in pstree order (indices into d->tasks); caller frees. */
size_t *show_tree_order(show_dump *d, size_t *n);
/*
 * The hash of the page at vaddr of task pid, following in-parent pages
 * into the parent chain; false when its contents are not in the dump.
 */
/* The pagemap entry of t that holds the page at vaddr, or NULL. */
const show_pent *show_pent_at(const show_task *t, uint64_t vaddr);
bool show_page_hash(const show_dump *d, uint32_t pid, uint64_t vaddr, uint64_t *hash);

/* ---- output helpers (show.c) ----------------------------------------------------- */

/* Bytes from an image as text: control characters, backslash and invalid UTF-8 escaped. */
void show_put_escaped(FILE *f, const unsigned char *s, size_t n);
void show_put_str(FILE *f, const char *s);
/* A JSON string of n bytes (quotes included); invalid UTF-8 as \u00XX. */
void show_json_bytes(FILE *f, const unsigned char *s, size_t n);

const char *show_state_name(uint32_t state);
const char *show_fd_kind(uint32_t type);
/* "family/type" of a socket file, and its state, as words. */
const char *show_family_name(uint32_t family);
const char *show_sktype_name(uint32_t type);
const char *show_skstate_name(uint32_t state);
/* An address (v4 when n == 1, v6 when n == 4) into buf. */
void show_format_addr(char *buf, size_t size, const uint32_t *a, size_t n);
/* The target of a file entry as text into f (tree) */
void show_file_target(FILE *f, const show_dump *d, const show_file *fe, bool json);

/* `diff` (diff.c) */
int show_diff_run(show_dump *a, show_dump *b, FILE *out, bool json);
/* Containers of two archives (pods: several), paired by name, each pair as show_diff_run. */
int show_diff_pods(show_dump *a, show_dump *b, const char *a_name, const char *b_name, FILE *out,
		   bool json);

#endif /* SV_CRIU_SHOW_H */
