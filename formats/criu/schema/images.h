/*
 * CRIU image types: what each kind of image file is, how it is named and
 * how its entries are laid out (CRIU 3.17: criu/include/magic.h,
 * criu/image-desc.c; crit's names from lib/py/images).
 *
 * One row per type magic.  Types that CRIU writes under several file names
 * with the same magic (pagemap-PID and pagemap-shmem-N; signal-s and
 * signal-p; binfmt-misc with and without an id) are one type here with
 * several names, so a magic identifies exactly one row.  Raw images carry
 * no magic (magic 0) and are known only by their file name.
 */
#ifndef SV_CRIU_IMAGES_H
#define SV_CRIU_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Head magics of image version 1.1 (not image types). */
#define CRIU_IMG_COMMON_MAGIC  0x54564319u
#define CRIU_IMG_SERVICE_MAGIC 0x55105940u
/* inventory img_version values. */
#define CRIU_IMAGES_V1   1u
#define CRIU_IMAGES_V1_1 2u
#define CRIU_IMAGES_V1_2 3u   /* image version 3: compressed pages */
/* Largest compression region: 4 MiB. */
#define CRIU_REGION_MAX_PAGES 1024u

#define CRIU_PAGE_SHIFT 12u
#define CRIU_PAGE_SIZE (1u << CRIU_PAGE_SHIFT)

/*
 * The layout's primitives, read and written here only: every number in
 * an image's framing is little-endian (magics, entry sizes; CRIU writes
 * them with write() from host variables, x86-64 and aarch64 alike).
 */
#define CRIU_MAGIC_LEN 4u        /* a magic: u32 */
#define CRIU_ENTRY_SIZE_LEN 4u   /* an entry's size in front of it: u32 */

static inline uint32_t criu_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The amdgpu plugin's images: the message's size is a native size_t. */
#define CRIU_PLUGIN_SIZE_LEN 8u

static inline uint64_t criu_le64(const unsigned char *p)
{
	return (uint64_t)criu_le32(p) | (uint64_t)criu_le32(p + 4) << 32;
}

static inline void criu_le32_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Zero octets that pad len up to a multiple of align (never overflows). */
static inline uint64_t criu_pad_len(uint64_t len, uint64_t align)
{
	return len % align ? align - len % align : 0;
}

/* len rounded up to a multiple of align; the caller keeps len below UINT64_MAX - align. */
static inline uint64_t criu_round_up(uint64_t len, uint64_t align)
{
	return len + criu_pad_len(len, align);
}

/* Varint octets carry 7 bits each; the tenth may hold only bit 63. */
#define CRIU_VARINT_BITS 7u
#define CRIU_VARINT_MORE 0x80u
#define CRIU_VARINT_LAST 9u

/*
 * A protobuf varint of at most max_len octets at *p (advanced past it);
 * false when it is longer, runs past end or exceeds 64 bits.  Inline:
 * the pagemap's fast path reads millions.
 */
static inline bool criu_varint(const uint8_t **p, const uint8_t *end, uint64_t *v,
			       unsigned max_len)
{
	uint64_t r = 0;

	for (unsigned i = 0; i < max_len && *p < end; i++) {
		uint8_t b = *(*p)++;
		if (i == CRIU_VARINT_LAST && b > 1)
			return false; /* beyond 64 bits */
		r |= (uint64_t)(b & (CRIU_VARINT_MORE - 1)) << (CRIU_VARINT_BITS * i);
		if (!(b & CRIU_VARINT_MORE)) {
			*v = r;
			return true;
		}
	}
	return false;
}

/* How the bytes after the magic are organised. */
typedef enum criu_layout {
	CRIU_LAYOUT_ENTRIES,    /* entries of one message, each maybe with a blob */
	CRIU_LAYOUT_PAGEMAP,    /* pagemap_head, then pagemap_entry entries */
	CRIU_LAYOUT_GHOST_FILE, /* ghost_file_entry, then contents or chunks */
	CRIU_LAYOUT_RAW         /* no magic, no entries: see criu_raw_kind */
} criu_layout;

/*
 * The extra data (blob) that follows each entry of some image types, its
 * length taken from the entry: B(kind, pieces, value size, alignment,
 * item message).  After the entry come `pieces` pieces of data, their
 * lengths from criu_blob_length(); each is made of values of `value
 * size` octets and, when alignment > 1, followed by zeros up to a
 * multiple of alignment.  With an item message the data are items
 * instead: criu_blob_items() of them, each that message framed like an
 * entry (u32 size, message), then its own pieces.
 *
 *   PIPE_DATA   pipe_data_entry.bytes octets              (criu/pipes.c)
 *   SK_QUEUE    sk_packet_entry.length octets             (criu/sk-queue.c)
 *   TCP_QUEUES  tcp_stream_entry.inq_len, then .outq_len  (criu/sk-tcp.c)
 *   BPFMAP_DATA bpfmap_data_entry.keys_bytes + .values_bytes (criu/bpfmap.c)
 *   IPC_SHM     ipc_shm_entry.size octets padded to 4, none when
 *               in_pagemaps (old dumps only; criu/ipc_ns.c)
 *   IPC_SEM     ipc_sem_entry.nsems u16 values padded to 8 (criu/ipc_ns.c)
 *   IPC_MSG     ipc_msg_entry.qnum items: an ipc_msg, then its msize
 *               octets padded to 8 (criu/ipc_ns.c)
 */
#define CRIU_BLOB_KINDS(B)                      \
	B(NONE,        0, 1, 1, NULL)           \
	B(PIPE_DATA,   1, 1, 1, NULL)           \
	B(SK_QUEUE,    1, 1, 1, NULL)           \
	B(TCP_QUEUES,  2, 1, 1, NULL)           \
	B(BPFMAP_DATA, 1, 1, 1, NULL)           \
	B(IPC_SHM,     1, 1, 4, NULL)           \
	B(IPC_SEM,     1, 2, 8, NULL)           \
	B(IPC_MSG,     1, 1, 8, &ipc_msg__descriptor)

#define CRIU_BLOB_ENUM(kind, pieces, value_size, align, item) CRIU_BLOB_##kind,
typedef enum criu_blob_kind {
	CRIU_BLOB_KINDS(CRIU_BLOB_ENUM)
	CRIU_BLOB_KIND_COUNT
} criu_blob_kind;

#define CRIU_BLOB_MAX_PIECES 2u
#define CRIU_BLOB_MAX_ALIGN 8u   /* the largest alignment in the table */

typedef struct criu_blob_layout {
	unsigned pieces;      /* pieces of data after the entry (or each item) */
	unsigned value_size;  /* octets per value (semaphores: 2) */
	unsigned align;       /* the data are zero-padded to a multiple of this */
	const ProtobufCMessageDescriptor *item; /* items in between, or NULL */
} criu_blob_layout;

extern const criu_blob_layout criu_blob_layouts[CRIU_BLOB_KIND_COUNT];

/*
 * The length of piece `piece` after message m (the entry, or for kinds
 * with items the item).  False when no data follow m at all (IPC_SHM
 * with in_pagemaps: the contents are in pagemap-shmem-ID.img).
 */
bool criu_blob_length(criu_blob_kind kind, const ProtobufCMessage *m, unsigned piece,
		      uint64_t *len);

/* The items after entry m of a kind with an item message (IPC_MSG: qnum). */
uint64_t criu_blob_items(criu_blob_kind kind, const ProtobufCMessage *m);

/* What a raw image holds. */
typedef enum criu_raw_kind {
	CRIU_RAW_NONE,
	CRIU_RAW_PAGES,       /* page contents, a whole number of pages */
	CRIU_RAW_TMPFS,       /* gzip-compressed tar */
	CRIU_RAW_IPROUTE,     /* an iproute2 "save" stream: its magic, then netlink messages */
	CRIU_RAW_TEXT,        /* iptables-save / nft rule sets */
	CRIU_RAW_NETLINK      /* netlink conntrack dumps */
} criu_raw_kind;

/* criu_image_type.flags */
#define CRIU_IMG_SERVICE  0x1u /* IMG_SERVICE head magic (stats, irmap-cache) */
#define CRIU_IMG_SINGLE   0x2u /* exactly one entry (CRIU reads just one) */
#define CRIU_IMG_NO_CRIT  0x4u /* crit 3.17 has no handler for it */

/*
 * Every image type with a magic: T(name, type magic, message of its
 * entries, layout, blob kind, flags, check).  The flags column names
 * CRIU_IMG_<flags> (0 for none).  Types CRIU opens with
 * pb_read_one() are SINGLE.  The check column names the rule that each
 * entry of the type must keep beyond its framing and its message:
 * check_<check>() of the image verifier (image/image.c), none without one.
 * The schema only names it, so it stays below image/: adding an image type
 * is one row here and, if it has a rule, one check function there.
 */
#define CRIU_IMAGE_TYPES(T) \
	T(APPARMOR,       0x59423047, apparmor_entry,        ENTRIES,    NONE,        SINGLE,  none) \
	T(AUTOFS,         0x49353943, autofs_entry,          ENTRIES,    NONE,        SINGLE,  none) \
	T(BINFMT_MISC,    0x67343323, binfmt_misc_entry,     ENTRIES,    NONE,        NO_CRIT, none) \
	T(BPFMAP_DATA,    0x64324033, bpfmap_data_entry,     ENTRIES,    BPFMAP_DATA, 0,       none) \
	T(BPFMAP_FILE,    0x57506142, bpfmap_file_entry,     ENTRIES,    NONE,        0,       none) \
	T(CGROUP,         0x59383330, cgroup_entry,          ENTRIES,    NONE,        SINGLE,  none) \
	T(CORE,           0x55053847, core_entry,            ENTRIES,    NONE,        SINGLE,  none) \
	T(CPUINFO,        0x61404013, cpuinfo_entry,         ENTRIES,    NONE,        SINGLE,  none) \
	T(CREDS,          0x54023547, creds_entry,           ENTRIES,    NONE,        SINGLE,  none) \
	T(EVENTFD_FILE,   0x44523722, eventfd_file_entry,    ENTRIES,    NONE,        0,       none) \
	T(EVENTPOLL_FILE, 0x45023858, eventpoll_file_entry,  ENTRIES,    NONE,        0,       none) \
	T(EVENTPOLL_TFD,  0x44433746, eventpoll_tfd_entry,   ENTRIES,    NONE,        0,       none) \
	T(EXT_FILES,      0x59255641, ext_file_entry,        ENTRIES,    NONE,        0,       none) \
	T(FANOTIFY_FILE,  0x55096122, fanotify_file_entry,   ENTRIES,    NONE,        0,       none) \
	T(FANOTIFY_MARK,  0x56506035, fanotify_mark_entry,   ENTRIES,    NONE,        0,       none) \
	T(FDINFO,         0x56213732, fdinfo_entry,          ENTRIES,    NONE,        0,       none) \
	T(FIFO,           0x58364939, fifo_entry,            ENTRIES,    NONE,        0,       none) \
	T(FIFO_DATA,      0x59333054, pipe_data_entry,       ENTRIES,    PIPE_DATA,   0,       none) \
	T(FILES,          0x56303138, file_entry,            ENTRIES,    NONE,        0,       none) \
	T(FILE_LOCKS,     0x54323616, file_lock_entry,       ENTRIES,    NONE,        0,       none) \
	T(FS,             0x51403912, fs_entry,              ENTRIES,    NONE,        SINGLE,  none) \
	T(GHOST_FILE,     0x52583605, ghost_file_entry,      GHOST_FILE, NONE,        0,       none) \
	T(IDS,            0x54432030, task_kobj_ids_entry,   ENTRIES,    NONE,        SINGLE,  none) \
	T(INETSK,         0x56443851, inet_sk_entry,         ENTRIES,    NONE,        0,       none) \
	T(INOTIFY_FILE,   0x48424431, inotify_file_entry,    ENTRIES,    NONE,        0,       none) \
	T(INOTIFY_WD,     0x54562009, inotify_wd_entry,      ENTRIES,    NONE,        0,       none) \
	T(INVENTORY,      0x58313116, inventory_entry,       ENTRIES,    NONE,        SINGLE,  inventory) \
	T(IPCNS_MSG,      0x55453737, ipc_msg_entry,         ENTRIES,    IPC_MSG,     0,       none) \
	T(IPCNS_SEM,      0x59573019, ipc_sem_entry,         ENTRIES,    IPC_SEM,     0,       none) \
	T(IPCNS_SHM,      0x46283044, ipc_shm_entry,         ENTRIES,    IPC_SHM,     0,       none) \
	T(IPC_VAR,        0x53115007, ipc_var_entry,         ENTRIES,    NONE,        SINGLE,  none) \
	T(IRMAP_CACHE,    0x57004059, irmap_cache_entry,     ENTRIES,    NONE,        SERVICE, none) \
	T(ITIMERS,        0x57464056, itimer_entry,          ENTRIES,    NONE,        0,       none) \
	T(MEMFD_INODE,    0x48453499, memfd_inode_entry,     ENTRIES,    NONE,        0,       none) \
	T(MM,             0x57492820, mm_entry,              ENTRIES,    NONE,        SINGLE,  none) \
	T(MNTS,           0x55563928, mnt_entry,             ENTRIES,    NONE,        0,       none) \
	T(NETDEV,         0x57373951, net_device_entry,      ENTRIES,    NONE,        0,       none) \
	T(NETLINK_SK,     0x58005614, netlink_sk_entry,      ENTRIES,    NONE,        0,       none) \
	T(NETNS,          0x55933752, netns_entry,           ENTRIES,    NONE,        SINGLE,  none) \
	T(NS_FILES,       0x61394011, ns_file_entry,         ENTRIES,    NONE,        0,       none) \
	T(PACKETSK,       0x60454618, packet_sock_entry,     ENTRIES,    NONE,        0,       none) \
	T(PAGEMAP,        0x56084025, pagemap_entry,         PAGEMAP,    NONE,        0,       none) \
	T(PIDFD,          0x54435556, pidfd_entry,           ENTRIES,    NONE,        NO_CRIT, none) \
	T(PIDNS,          0x61157326, pidns_entry,           ENTRIES,    NONE,        SINGLE,  none) \
	T(PIPES,          0x56513555, pipe_entry,            ENTRIES,    NONE,        0,       none) \
	T(PIPES_DATA,     0x56453709, pipe_data_entry,       ENTRIES,    PIPE_DATA,   0,       none) \
	T(POSIX_TIMERS,   0x52603957, posix_timer_entry,     ENTRIES,    NONE,        0,       none) \
	T(PSTREE,         0x50273030, pstree_entry,          ENTRIES,    NONE,        0,       none) \
	T(REG_FILES,      0x50363636, reg_file_entry,        ENTRIES,    NONE,        0,       none) \
	T(REMAP_FPATH,    0x59133954, remap_file_path_entry, ENTRIES,    NONE,        0,       none) \
	T(RLIMIT,         0x57113925, rlimit_entry,          ENTRIES,    NONE,        0,       none) \
	T(SECCOMP,        0x64413049, seccomp_entry,         ENTRIES,    NONE,        SINGLE,  seccomp) \
	T(SIGACT,         0x55344201, sa_entry,              ENTRIES,    NONE,        0,       none) \
	T(SIGNAL,         0x59255647, siginfo_entry,         ENTRIES,    NONE,        NO_CRIT, none) \
	T(SIGNALFD,       0x57323820, signalfd_entry,        ENTRIES,    NONE,        0,       none) \
	T(SK_QUEUES,      0x56264026, sk_packet_entry,       ENTRIES,    SK_QUEUE,    0,       sk_packet) \
	T(STATS,          0x57093306, stats_entry,           ENTRIES,    NONE,        SERVICE, none) \
	T(TCP_STREAM,     0x51465506, tcp_stream_entry,      ENTRIES,    TCP_QUEUES,  SINGLE,  tcp) \
	T(TIMENS,         0x43114433, timens_entry,          ENTRIES,    NONE,        SINGLE,  none) \
	T(TIMERFD,        0x50493712, timerfd_entry,         ENTRIES,    NONE,        0,       none) \
	T(TTY_DATA,       0x59413026, tty_data_entry,        ENTRIES,    NONE,        0,       none) \
	T(TTY_FILES,      0x59433025, tty_file_entry,        ENTRIES,    NONE,        0,       none) \
	T(TTY_INFO,       0x59453036, tty_info_entry,        ENTRIES,    NONE,        0,       none) \
	T(TUNFILE,        0x57143751, tunfile_entry,         ENTRIES,    NONE,        0,       none) \
	T(UNIXSK,         0x54373943, unix_sk_entry,         ENTRIES,    NONE,        0,       none) \
	T(USERNS,         0x55474906, userns_entry,          ENTRIES,    NONE,        SINGLE,  none) \
	T(UTSNS,          0x54473203, utsns_entry,           ENTRIES,    NONE,        SINGLE,  none) \
	T(VMAS,           0x54123737, vma_entry,             ENTRIES,    NONE,        0,       none) \

/*
 * Raw images: R(name, raw kind, iproute2 stream magic or 0).  The amdgpu
 * plugin's images are raw too (no CRIU magic): AMDGPU_KFD, _RENDER and
 * _DMABUF hold an 8-octet size and one message of criu-amdgpu.proto
 * (image.c), the pages images buffer contents.
 */
#define CRIU_RAW_TYPES(R)                 \
	R(PAGES,     PAGES,   0)          \
	R(TMPFS_IMG, TMPFS,   0)          \
	R(TMPFS_DEV, TMPFS,   0)          \
	R(IFADDR,    IPROUTE, 0x47361222) \
	R(ROUTE,     IPROUTE, 0x45311224) \
	R(ROUTE6,    IPROUTE, 0x45311224) \
	R(RULE,      IPROUTE, 0x71706986) \
	R(IPTABLES,  TEXT,    0)          \
	R(IP6TABLES, TEXT,    0)          \
	R(NFTABLES,  TEXT,    0)          \
	R(NETNF_CT,  NETLINK, 0)          \
	R(NETNF_EXP, NETLINK, 0)          \
	R(AMDGPU_KFD,       NONE,    0)   \
	R(AMDGPU_RENDER,    NONE,    0)   \
	R(AMDGPU_DMABUF,    NONE,    0)   \
	R(AMDGPU_PAGES,     NONE,    0)   \
	R(AMDGPU_DRM_PAGES, NONE,    0)

/* Index of each type in criu_image_types[]: CRIU_T_PAGEMAP, CRIU_T_PAGES... */
#define CRIU_TYPE_ENUM_T(name, magic, msg, layout, blob, flags, check) CRIU_T_##name,
#define CRIU_TYPE_ENUM_R(name, kind, raw_magic) CRIU_T_##name,
typedef enum criu_type_id {
	CRIU_IMAGE_TYPES(CRIU_TYPE_ENUM_T)
	CRIU_RAW_TYPES(CRIU_TYPE_ENUM_R)
	CRIU_T_COUNT
} criu_type_id;

typedef struct criu_image_type {
	criu_type_id id;
	const char *name;                        /* as crit names it: "PAGEMAP" */
	uint32_t magic;                          /* type magic; 0 for raw images */
	/* Message of the entries (PAGEMAP: pagemap_entry, after the
	 * pagemap_head; GHOST_FILE: ghost_file_entry), NULL if raw. */
	const ProtobufCMessageDescriptor *entry;
	criu_layout layout;
	criu_blob_kind blob;
	criu_raw_kind raw;
	uint32_t raw_magic;                        /* iproute2 stream magic, else 0 */
	unsigned flags;
} criu_image_type;

/* How a file name pattern carries its id. */
typedef enum criu_name_id {
	CRIU_ID_NONE,  /* fixed name */
	CRIU_ID_DEC,   /* decimal number (pid, files id, namespace id, ...) */
	CRIU_ID_HEX,   /* hexadecimal number (ghost file id, socket inode) */
	CRIU_ID_DEC_HEX,    /* "%d-%04x" (amdgpu-pages-ID-GPUID): the decimal one */
	CRIU_ID_DEC_DEC_HEX /* "%d-%d-%04x" (amdgpu-drm-pages-ID-MINOR-BO): the first */
} criu_name_id;

typedef struct criu_image_name {
	const char *prefix;       /* "pagemap-shmem-" */
	criu_name_id id;
	const char *suffix;       /* ".img", "" for service files */
	const criu_image_type *type;
} criu_image_name;

extern const criu_image_type criu_image_types[CRIU_T_COUNT];
extern const criu_image_name criu_image_names[];
extern const size_t criu_image_name_count;

/* The type with this type magic (never a raw type), or NULL. */
const criu_image_type *criu_image_by_magic(uint32_t magic);

/* The type called name ("PAGEMAP"), or NULL. */
const criu_image_type *criu_image_by_name(const char *name);

/*
 * The file name pattern that name (a last path component) matches, or
 * NULL.  *id gets the id it carries (0 for fixed names); id may be NULL.
 */
const criu_image_name *criu_image_match_file(const char *name, uint64_t *id);

/*
 * What an image with no entry means to CRIU's restore (3.17.1): read with
 * pb_read_one (restore fails: Unexpected EOF), with pb_read_one_eof where
 * zero means "none" (cgroup, seccomp, pidns, apparmor), or with
 * pb_read_one_eof and the missing entry then used (fs, mm, ids, autofs).
 */
typedef enum criu_empty_rule {
	CRIU_EMPTY_FAILS,
	CRIU_EMPTY_NONE,
	CRIU_EMPTY_NEEDED
} criu_empty_rule;
criu_empty_rule criu_image_empty_rule(criu_type_id t);

/* Pagemap entry flags (criu/include/pagemap.h). */
#define CRIU_PE_PARENT  1u
#define CRIU_PE_LAZY    2u
#define CRIU_PE_PRESENT 4u
#define CRIU_PE_PAYLOAD_ALIGNED 8u  /* image version 3: payload at a page boundary */

/*
 * A pagemap entry's flags as CRIU's init_compat_pagemap_entry() makes them
 * (criu/pagemap.c): in_parent adds PE_PARENT; without flags and
 * in_parent, the pages are PE_PRESENT.  The one reading of the two
 * fields, for image and dump checks alike.
 */
struct PagemapEntry;
uint32_t criu_pagemap_flags(const struct PagemapEntry *pe);
/* Its page count: CRIU 4.2 moved it to field 5 (nr_pages64 here). */
uint64_t criu_pagemap_pages(const struct PagemapEntry *pe);

/*
 * GHOST_FILE layout: after the ghost_file_entry come either its contents,
 * to the end of the file, or (chunks set: CRIU 3.15 and later) pairs of
 * ghost_chunk_entry and its len octets (criu/files-reg.c).
 */
struct GhostFileEntry;
bool criu_ghost_chunked(const struct GhostFileEntry *g);

#endif /* SV_CRIU_IMAGES_H */
