/*
 * The table of CRIU image types and their file names (CRIU 3.17.1:
 * criu/include/magic.h, criu/image-desc.c).
 */
#include <string.h>

#include "formats/criu/schema/images.h"
#include "formats/criu/schema/schema.h"

#define CRIU_IMG_0 0u
#define TYPE_ROW(nm, mg, msg, lay, bl, fl, chk)                              \
	[CRIU_T_##nm] = { CRIU_T_##nm, #nm, mg, &msg##__descriptor,          \
			  CRIU_LAYOUT_##lay, CRIU_BLOB_##bl, CRIU_RAW_NONE, 0, \
			  CRIU_IMG_##fl },
#define RAW_ROW(nm, kind, rmagic)                                          \
	[CRIU_T_##nm] = { CRIU_T_##nm, #nm, 0, NULL, CRIU_LAYOUT_RAW,        \
			  CRIU_BLOB_NONE, CRIU_RAW_##kind, rmagic, 0 },

const criu_image_type criu_image_types[CRIU_T_COUNT] = {
	CRIU_IMAGE_TYPES(TYPE_ROW)
	CRIU_RAW_TYPES(RAW_ROW)
};

#define BLOB_ROW(kind, np, vs, al, it) \
	[CRIU_BLOB_##kind] = { np, vs, al, it },

const criu_blob_layout criu_blob_layouts[CRIU_BLOB_KIND_COUNT] = {
	CRIU_BLOB_KINDS(BLOB_ROW)
};

bool criu_blob_length(criu_blob_kind kind, const ProtobufCMessage *m, unsigned piece,
		      uint64_t *len)
{
	*len = 0;
	switch (kind) {
	case CRIU_BLOB_NONE:
		return false;
	case CRIU_BLOB_PIPE_DATA:
		*len = ((const PipeDataEntry *)m)->bytes;
		return true;
	case CRIU_BLOB_SK_QUEUE:
		*len = ((const SkPacketEntry *)m)->length;
		return true;
	case CRIU_BLOB_TCP_QUEUES: {
		const TcpStreamEntry *t = (const TcpStreamEntry *)m;
		*len = piece == 0 ? t->inq_len : t->outq_len;
		return true;
	}
	case CRIU_BLOB_BPFMAP_DATA: {
		const BpfmapDataEntry *b = (const BpfmapDataEntry *)m;
		*len = (uint64_t)b->keys_bytes + b->values_bytes;
		return true;
	}
	case CRIU_BLOB_IPC_SHM: {
		const IpcShmEntry *shm = (const IpcShmEntry *)m;
		if (shm->has_in_pagemaps && shm->in_pagemaps)
			return false;
		*len = shm->size;
		return true;
	}
	case CRIU_BLOB_IPC_SEM:
		*len = (uint64_t)criu_blob_layouts[kind].value_size *
		       ((const IpcSemEntry *)m)->nsems;
		return true;
	case CRIU_BLOB_IPC_MSG: /* m is the item, an ipc_msg */
		*len = ((const IpcMsg *)m)->msize;
		return true;
	case CRIU_BLOB_KIND_COUNT:
		break;
	}
	return false;
}

uint64_t criu_blob_items(criu_blob_kind kind, const ProtobufCMessage *m)
{
	return kind == CRIU_BLOB_IPC_MSG ? ((const IpcMsgEntry *)m)->qnum : 0;
}

#define FIXED(name, t)   { name, CRIU_ID_NONE, ".img", &criu_image_types[CRIU_T_##t] }
#define DEC(prefix, t)   { prefix, CRIU_ID_DEC, ".img", &criu_image_types[CRIU_T_##t] }
#define HEX(prefix, t)   { prefix, CRIU_ID_HEX, ".img", &criu_image_types[CRIU_T_##t] }
#define SERVICE(name, t) { name, CRIU_ID_NONE, "", &criu_image_types[CRIU_T_##t] }

/*
 * File names as CRIU 3.17 formats them ("core-%u.img", "ghost-file-%x.img").
 * Legacy names that CRIU still reads are here too: vmas-PID,
 * signal-s/p, binfmt-misc-N, netns-ct/exp.
 */
const criu_image_name criu_image_names[] = {
	FIXED("inventory", INVENTORY),
	FIXED("pstree", PSTREE),
	DEC("core-", CORE),
	DEC("ids-", IDS),
	DEC("mm-", MM),
	DEC("vmas-", VMAS),
	DEC("pagemap-", PAGEMAP),
	DEC("pagemap-shmem-", PAGEMAP),
	DEC("pages-", PAGES),
	DEC("fdinfo-", FDINFO),
	FIXED("files", FILES),
	FIXED("reg-files", REG_FILES),
	FIXED("ext-files", EXT_FILES),
	FIXED("ns-files", NS_FILES),
	FIXED("eventfd", EVENTFD_FILE),
	FIXED("eventpoll", EVENTPOLL_FILE),
	FIXED("eventpoll-tfd", EVENTPOLL_TFD),
	FIXED("signalfd", SIGNALFD),
	FIXED("inotify", INOTIFY_FILE),
	FIXED("inotify-wd", INOTIFY_WD),
	FIXED("fanotify", FANOTIFY_FILE),
	FIXED("fanotify-mark", FANOTIFY_MARK),
	FIXED("pipes", PIPES),
	FIXED("pipes-data", PIPES_DATA),
	FIXED("fifo", FIFO),
	FIXED("fifo-data", FIFO_DATA),
	DEC("sigacts-", SIGACT),
	FIXED("unixsk", UNIXSK),
	FIXED("inetsk", INETSK),
	FIXED("packetsk", PACKETSK),
	FIXED("netlinksk", NETLINK_SK),
	FIXED("sk-queues", SK_QUEUES),
	DEC("itimers-", ITIMERS),
	DEC("posix-timers-", POSIX_TIMERS),
	DEC("creds-", CREDS),
	DEC("utsns-", UTSNS),
	DEC("ipcns-var-", IPC_VAR),
	DEC("ipcns-shm-", IPCNS_SHM),
	DEC("ipcns-msg-", IPCNS_MSG),
	DEC("ipcns-sem-", IPCNS_SEM),
	DEC("fs-", FS),
	FIXED("remap-fpath", REMAP_FPATH),
	HEX("ghost-file-", GHOST_FILE),
	FIXED("memfd", MEMFD_INODE),
	HEX("tcp-stream-", TCP_STREAM),
	DEC("mountpoints-", MNTS),
	DEC("netdev-", NETDEV),
	DEC("netns-", NETNS),
	DEC("ifaddr-", IFADDR),
	DEC("route-", ROUTE),
	DEC("route6-", ROUTE6),
	DEC("rule-", RULE),
	DEC("iptables-", IPTABLES),
	DEC("ip6tables-", IP6TABLES),
	DEC("nftables-", NFTABLES),
	{ "tmpfs-", CRIU_ID_DEC, ".tar.gz.img", &criu_image_types[CRIU_T_TMPFS_IMG] },
	{ "tmpfs-dev-", CRIU_ID_DEC, ".tar.gz.img", &criu_image_types[CRIU_T_TMPFS_DEV] },
	DEC("autofs-", AUTOFS),
	DEC("binfmt-misc-", BINFMT_MISC),
	FIXED("binfmt-misc", BINFMT_MISC),
	FIXED("tty", TTY_FILES),
	FIXED("tty-info", TTY_INFO),
	FIXED("tty-data", TTY_DATA),
	FIXED("filelocks", FILE_LOCKS),
	DEC("rlimit-", RLIMIT),
	DEC("signal-s-", SIGNAL),
	DEC("signal-p-", SIGNAL),
	FIXED("tunfile", TUNFILE),
	FIXED("cgroup", CGROUP),
	FIXED("timerfd", TIMERFD),
	FIXED("cpuinfo", CPUINFO),
	FIXED("seccomp", SECCOMP),
	DEC("userns-", USERNS),
	DEC("netns-ct-", NETNF_CT),
	DEC("netns-exp-", NETNF_EXP),
	DEC("timens-", TIMENS),
	DEC("pidns-", PIDNS),
	FIXED("bpfmap-file", BPFMAP_FILE),
	FIXED("bpfmap-data", BPFMAP_DATA),
	FIXED("apparmor", APPARMOR),
	FIXED("pidfd", PIDFD),
	/* The amdgpu plugin's images (plugins/amdgpu/amdgpu_plugin_util.h). */
	DEC("amdgpu-kfd-", AMDGPU_KFD),
	DEC("amdgpu-renderD-", AMDGPU_RENDER),
	{ "amdgpu-dmabuf_", CRIU_ID_DEC, ".img", &criu_image_types[CRIU_T_AMDGPU_DMABUF] },
	{ "amdgpu-pages-", CRIU_ID_DEC_HEX, ".img", &criu_image_types[CRIU_T_AMDGPU_PAGES] },
	{ "amdgpu-drm-pages-", CRIU_ID_DEC_DEC_HEX, ".img",
	  &criu_image_types[CRIU_T_AMDGPU_DRM_PAGES] },
	SERVICE("stats-dump", STATS),
	SERVICE("stats-restore", STATS),
	SERVICE("irmap-cache", IRMAP_CACHE),
};

const size_t criu_image_name_count =
	sizeof(criu_image_names) / sizeof(criu_image_names[0]);

const criu_image_type *criu_image_by_magic(uint32_t magic)
{
	if (magic == 0) /* raw images have none */
		return NULL;
	for (size_t i = 0; i < CRIU_T_COUNT; i++)
		if (criu_image_types[i].magic == magic)
			return &criu_image_types[i];
	return NULL;
}

const criu_image_type *criu_image_by_name(const char *name)
{
	for (size_t i = 0; i < CRIU_T_COUNT; i++)
		if (strcmp(criu_image_types[i].name, name) == 0)
			return &criu_image_types[i];
	return NULL;
}

/* Parse the id at *p (as CRIU prints it with %u or %x); advance *p. */
static bool parse_id(const char **p, criu_name_id kind, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned base = kind == CRIU_ID_HEX ? 16 : 10;
	size_t n = 0;

	for (;; s++, n++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a') + 10;
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	if (n == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

const criu_image_name *criu_image_match_file(const char *name, uint64_t *id)
{
	for (size_t i = 0; i < criu_image_name_count; i++) {
		const criu_image_name *pat = &criu_image_names[i];
		size_t plen = strlen(pat->prefix);
		const char *rest = name;
		uint64_t v = 0;

		if (strncmp(name, pat->prefix, plen) != 0)
			continue;
		rest += plen;
		if (pat->id == CRIU_ID_DEC_HEX || pat->id == CRIU_ID_DEC_DEC_HEX) {
			uint64_t w;
			if (!parse_id(&rest, CRIU_ID_DEC, &v) || *rest++ != '-')
				continue;
			if (pat->id == CRIU_ID_DEC_DEC_HEX &&
			    (!parse_id(&rest, CRIU_ID_DEC, &w) || *rest++ != '-'))
				continue;
			if (!parse_id(&rest, CRIU_ID_HEX, &w))
				continue;
		} else if (pat->id != CRIU_ID_NONE && !parse_id(&rest, pat->id, &v)) {
			continue;
		}
		if (strcmp(rest, pat->suffix) != 0)
			continue;
		if (id)
			*id = v;
		return pat;
	}
	return NULL;
}

criu_empty_rule criu_image_empty_rule(criu_type_id t)
{
	switch (t) {
	case CRIU_T_CGROUP:
	case CRIU_T_SECCOMP:
	case CRIU_T_PIDNS:
	case CRIU_T_APPARMOR:
		return CRIU_EMPTY_NONE;
	case CRIU_T_FS:
	case CRIU_T_MM:
	case CRIU_T_IDS:
	case CRIU_T_AUTOFS:
		return CRIU_EMPTY_NEEDED;
	default:
		return CRIU_EMPTY_FAILS;
	}
}

uint64_t criu_pagemap_pages(const PagemapEntry *pe)
{
	return pe->has_nr_pages64 ? pe->nr_pages64 : pe->nr_pages;
}

uint32_t criu_pagemap_flags(const PagemapEntry *pe)
{
	uint32_t f = pe->has_flags ? pe->flags : 0;

	if (pe->has_in_parent && pe->in_parent)
		f |= CRIU_PE_PARENT;
	else if (!pe->has_flags)
		f = CRIU_PE_PRESENT;
	return f;
}

bool criu_ghost_chunked(const GhostFileEntry *g)
{
	return g->has_chunks && g->chunks;
}
