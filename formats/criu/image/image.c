/*
 * Verifying one CRIU image: magic, entry framing, every message, every
 * extra blob, and the rules of single images (CRIU 3.17.1: criu/image.c,
 * criu/protobuf.c, criu/pagemap.c, criu/files-reg.c, criu/ipc_ns.c,
 * criu/sk-queue.c, criu/sk-tcp.c, criu/seccomp.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/criu/codes.h"
#include "formats/criu/criu.h"
#include "formats/criu/schema/pb.h"
#include "formats/criu/image/raw.h"
#include "formats/criu/image/walk.h"
#include "formats/criu/schema/schema.h"

/* Entries larger than this are not decoded (CRIU's largest are kilobytes). */
#define ENTRY_MAX (64u << 20)

#define PE_KNOWN (CRIU_PE_PARENT | CRIU_PE_LAZY | CRIU_PE_PRESENT | CRIU_PE_PAYLOAD_ALIGNED)

/* pagemap_entry's fields on the wire: field number << 3, wire type 0 (varint). */
#define PB_VARINT_TAG(field) ((field) << 3)
#define PM_VADDR      PB_VARINT_TAG(1)
#define PM_NR_PAGES   PB_VARINT_TAG(2)
#define PM_IN_PARENT  PB_VARINT_TAG(3)
#define PM_FLAGS      PB_VARINT_TAG(4)
#define PM_NR_PAGES64 PB_VARINT_TAG(5) /* CRIU 4.2 */
#define VARINT64_MAX_LEN 10u   /* octets of a 64-bit varint */
#define VARINT32_MAX_LEN 5u    /* octets of a 32-bit varint */

#define MSGMAX 8192u            /* CRIU's limit on an IPC message */
#define BPF_INSN_SIZE 8u        /* struct sock_filter: one classic BPF instruction */
#define GEN_MAX_DEPTH 8u        /* message_generation() looks this deep */
#define SCM_RIGHTS_TYPE 1u
#define TCPI_OPT_TIMESTAMPS 1u
#define TCPI_OPT_WSCALE 4u

typedef struct image {
	sv_ctx *cx;
	sv_stream *s;
	const criu_visitor *v;
	criu_image_info *info;
	const criu_image_type *type;
	criu_arena arena;
	criu_walk walk;     /* frames the entries */
	bool deep_check;    /* the entry type can nest without bound */
	bool stop;          /* the visitor asked to stop */
	bool verbose;
	PagemapEntry fast_pe; /* pagemap_fast()'s result */
	int gen;              /* GEN_*: the newest generation seen */
	unsigned prefix;      /* bytes of an entry's size prefix (plugins: 8) */
} image;

typedef enum read_result {
	READ_OK,        /* *msg decoded and checked */
	READ_END,       /* clean end of file before the entry */
	READ_BAD,       /* entry reported; its frame is intact */
	READ_FATAL      /* truncated or unreadable: nothing more can be read */
} read_result;

static const sv_code *code(int c)
{
	return &criu_codes[c];
}

/* ---- entries ------------------------------------------------------------ */

/*
 * pagemap_entry is the one message that comes by the million, so it is
 * read straight from the wire when it holds nothing but its four fields,
 * each once and in range.  Anything else returns false and goes through
 * protobuf-c, which then judges it exactly as CRIU's reader does.
 */
static bool pagemap_fast(const uint8_t *p, uint32_t size, PagemapEntry *pe)
{
	const uint8_t *end = p + size;
	unsigned seen = 0;

	*pe = (PagemapEntry)PAGEMAP_ENTRY__INIT;
	while (p < end) {
		uint8_t tag = *p++;
		uint64_t v;

		bool wide = tag == PM_VADDR || tag == PM_NR_PAGES64;
		if (!criu_varint(&p, end, &v, wide ? VARINT64_MAX_LEN : VARINT32_MAX_LEN))
			return false;
		switch (tag) {
		case PM_VADDR:
			if (seen & 1)
				return false;
			pe->vaddr = v;
			seen |= 1;
			break;
		case PM_NR_PAGES:
			if ((seen & 2) || v > UINT32_MAX)
				return false;
			pe->nr_pages = (uint32_t)v;
			seen |= 2;
			break;
		case PM_IN_PARENT:
			if ((seen & 4) || v > 1)
				return false;
			pe->has_in_parent = true;
			pe->in_parent = v != 0;
			seen |= 4;
			break;
		case PM_FLAGS:
			if ((seen & 8) || v > UINT32_MAX)
				return false;
			pe->has_flags = true;
			pe->flags = (uint32_t)v;
			seen |= 8;
			break;
		case PM_NR_PAGES64:
			if (seen & 16)
				return false;
			pe->has_nr_pages64 = true;
			pe->nr_pages64 = v;
			seen |= 16;
			break;
		default:
			return false;
		}
	}
	return (seen & 3) == 3; /* both required fields */
}

/* Decode and check the message body of the entry at off. */
static read_result decode(image *im, const ProtobufCMessageDescriptor *desc,
			  const uint8_t *body, uint32_t size, uint64_t off,
			  ProtobufCMessage **out)
{
	criu_pb_diag dg;
	ProtobufCMessage *m = NULL;

	if (desc == &pagemap_entry__descriptor && pagemap_fast(body, size, &im->fast_pe)) {
		*out = &im->fast_pe.base;
		return READ_OK;
	}
	criu_arena_reset(&im->arena);
	if (im->deep_check &&
	    criu_pb_diagnose(desc, body, size, &dg) == CRIU_PB_TOO_DEEP) {
		sv_report(im->cx, code(CRIU_ENTRY_MALFORMED), off + im->prefix + dg.at,
			  "%s entry: %s", desc->name, dg.what);
		return READ_BAD;
	}
	m = protobuf_c_message_unpack(desc, &im->arena.pc, size, body);
	if (!m) {
		criu_pb_problem pr = criu_pb_diagnose(desc, body, size, &dg);

		if (pr == CRIU_PB_REQUIRED)
			sv_report(im->cx, code(CRIU_ENTRY_REQUIRED), off, "%s", dg.what);
		else if (pr != CRIU_PB_OK)
			sv_report(im->cx, code(CRIU_ENTRY_MALFORMED), off + im->prefix + dg.at,
				  "%s", dg.what);
		else
			sv_report(im->cx, code(CRIU_ENTRY_MALFORMED), off,
				  "%s entry of %" PRIu32 " bytes could not be unpacked "
				  "(out of memory?)", desc->name, size);
		return READ_BAD;
	}

	criu_pb_findings fd;
	criu_pb_check(m, &fd);
	if (fd.bad_enums)
		sv_report(im->cx, code(CRIU_ENTRY_ENUM), off,
			  "%s.%s holds %d, which its enum does not define%s",
			  fd.enum_msg, fd.enum_field, fd.enum_value,
			  fd.bad_enums > 1 ? " (and more)" : "");
	if (fd.unknown_fields)
		sv_report(im->cx, code(CRIU_ENTRY_UNKNOWN_FIELD), off,
			  "field %" PRIu32 " of %s is not in the schema%s",
			  fd.unknown_tag, fd.unknown_msg,
			  fd.unknown_fields > 1 ? " (nor are others)" : "");
	*out = m;
	return fd.bad_enums ? READ_BAD : READ_OK;
}

/*
 * Read the next entry (u32 size, then a desc message) into *msg, which
 * lives until the next read.  Sets the record context to index.
 */
static read_result read_entry(image *im, const ProtobufCMessageDescriptor *desc,
			      uint64_t index, ProtobufCMessage **msg,
			      uint64_t *off_out, uint32_t *size_out)
{
	criu_frame f;
	criu_frame_status st = criu_walk_frame(&im->walk, &f, true);
	uint64_t off = f.off;

	*off_out = off;
	*msg = NULL;
	if (st == CRIU_FRAME_END)
		return READ_END;
	sv_record_begin(im->cx, index, desc->name, off);
	if (st == CRIU_FRAME_CUT_SIZE) {
		sv_report_truncated(im->cx, off, CRIU_ENTRY_SIZE_LEN, f.got, "entry size");
		return READ_FATAL;
	}
	uint32_t size = (uint32_t)f.size;
	*size_out = size;

	read_result r;
	switch (st) {
	case CRIU_FRAME_TOO_LARGE: {
		sv_report(im->cx, code(CRIU_ENTRY_TOO_LARGE), off,
			  "%s entry of %" PRIu32 " bytes is larger than %u: not decoded, "
			  "so nothing vouches that CRIU's unpack accepts it",
			  desc->name, size, ENTRY_MAX);
		uint64_t got = sv_skip(im->s, size);
		if (got < size) {
			sv_report_truncated(im->cx, off + CRIU_ENTRY_SIZE_LEN, size, got, desc->name);
			return READ_FATAL;
		}
		return READ_BAD;
	}
	case CRIU_FRAME_OK:
		r = decode(im, desc, f.body, size, off, msg);
		criu_walk_release(&im->walk);
		break;
	default: /* cut short, or no memory to hold it */
		sv_report_truncated(im->cx, off + CRIU_ENTRY_SIZE_LEN, size, f.got, desc->name);
		return READ_FATAL;
	}
	if (r == READ_OK || r == READ_BAD) {
		sv_count_record(im->cx);
		if (im->info)
			im->info->entries++;
	}
	return r;
}

static int message_generation(const ProtobufCMessage *m, unsigned depth);

static bool hand_entry(image *im, criu_entry_role role, uint64_t index,
		       uint64_t sub, uint64_t off, uint32_t size,
		       const ProtobufCMessage *m)
{
	if (im->verbose) {
		int g = message_generation(m, 0);
		if (g > im->gen)
			im->gen = g;
	}
	if (!im->v || !im->v->entry || im->stop)
		return !im->stop;
	criu_entry e = { role, index, sub, off, size, m };
	if (im->v->entry(im->v->arg, &e) != 0)
		im->stop = true;
	return !im->stop;
}

static void emit(image *im, uint64_t index, const char *type, uint64_t off,
		 uint64_t len, const ProtobufCMessage *m, const char *extra)
{
	char sum[256];

	if (!im->verbose)
		return;
	sum[0] = '\0';
	if (m)
		criu_pb_summary(m, sum, sizeof(sum));
	sv_emit_record(im->cx, index, type, off, len, "%s%s%s", sum,
		       extra && *extra && *sum ? " " : "", extra ? extra : "");
}

/* ---- CRIU generation ------------------------------------------------------ */

/* Generations an image can look like, oldest first. */
enum { GEN_3, GEN_4, GEN_4_2, GEN_V3 };
static const char *const gen_names[] = {
	"3.x", "4.x", "4.2 (page count in field 5)", "image version 3 (compressed pages)",
};

/* Fields CRIU 3.17 does not know (criu-dev's images/ protos), by generation. */
static const struct newer_field {
	const ProtobufCMessageDescriptor *desc;
	uint32_t id;
	int gen;
} newer_fields[] = {
	{ &inventory_entry__descriptor, 12, GEN_4 },
	{ &inventory_entry__descriptor, 13, GEN_4 },
	{ &inventory_entry__descriptor, 14, GEN_4 },
	{ &inventory_entry__descriptor, 15, GEN_V3 },
	{ &inventory_entry__descriptor, 16, GEN_V3 },
	{ &pagemap_entry__descriptor, 5, GEN_4_2 },
	{ &pagemap_entry__descriptor, 6, GEN_V3 },
	{ &pagemap_entry__descriptor, 7, GEN_V3 },
	{ &pagemap_entry__descriptor, 8, GEN_V3 },
	{ &core_entry__descriptor, 12, GEN_4 },
	{ &core_entry__descriptor, 13, GEN_4 },
	{ &task_core_entry__descriptor, 21, GEN_4 },
	{ &task_core_entry__descriptor, 22, GEN_4 },
	{ &thread_core_entry__descriptor, 16, GEN_4 },
	{ &creds_entry__descriptor, 18, GEN_4 },
	{ &creds_entry__descriptor, 19, GEN_4 },
	{ &cg_controller_entry__descriptor, 3, GEN_4 },
	{ &user_x86_xsave_entry__descriptor, 9, GEN_4 },
	{ &thread_info_aarch64__descriptor, 5, GEN_4 },
	{ &memfd_inode_entry__descriptor, 9, GEN_4 },
	{ &netns_entry__descriptor, 10, GEN_4 },
	{ &ip_opts_entry__descriptor, 5, GEN_4 },
	{ &ip_opts_entry__descriptor, 6, GEN_4 },
	{ &ip_opts_entry__descriptor, 7, GEN_4 },
	{ &inet_sk_entry__descriptor, 20, GEN_4 },
	{ &file_entry__descriptor, 22, GEN_4 },
};

static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(const void *)(base + f->quantifier_offset) != 0;
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(const void *)(base + f->quantifier_offset) == f->id;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
		return *(void *const *)(const void *)(base + f->offset) != NULL;
	return *(const protobuf_c_boolean *)(const void *)(base + f->quantifier_offset);
}

/* The newest generation whose fields m's tree holds (depth-limited). */
static int message_generation(const ProtobufCMessage *m, unsigned depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	int gen = GEN_3;

	if (depth > GEN_MAX_DEPTH)
		return gen;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!field_present(m, f))
			continue;
		for (size_t k = 0; k < sizeof(newer_fields) / sizeof(newer_fields[0]); k++)
			if (newer_fields[k].desc == d && newer_fields[k].id == f->id &&
			    newer_fields[k].gen > gen)
				gen = newer_fields[k].gen;
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		const char *at = (const char *)m + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(const void *)((const char *)m + f->quantifier_offset);
			ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(const void *)at;
			for (size_t k = 0; k < n; k++) {
				int g = message_generation(arr[k], depth + 1);
				if (g > gen)
					gen = g;
			}
		} else {
			const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(const void *)at;
			if (sub) {
				int g = message_generation(sub, depth + 1);
				if (g > gen)
					gen = g;
			}
		}
	}
	if (d == &inventory_entry__descriptor &&
	    ((const InventoryEntry *)m)->img_version == CRIU_IMAGES_V1_2)
		gen = GEN_V3;
	return gen;
}

/* ---- blobs -------------------------------------------------------------- */

typedef struct blob_pass {
	image *im;
	criu_blob b;
} blob_pass;

static int blob_piece(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	blob_pass *bp = arg;

	if (bp->im->v->blob(bp->im->v->arg, &bp->b, p, n, off) != 0) {
		bp->im->stop = true;
		return 1;
	}
	return 0;
}

/*
 * Pass len bytes of blob: to the visitor if it wants them, else skipped.
 * False (reported as truncation) when the file ends first.
 */
static bool pass_blob(image *im, criu_blob_part part, uint64_t index,
		      uint64_t len, const char *what)
{
	sv_stream *s = im->s;
	uint64_t off = sv_offset(s);
	uint64_t left = sv_remaining(s);
	uint64_t got;

	if (left != UINT64_MAX && len > left) {
		sv_report_truncated(im->cx, off, len, left, what);
		sv_skip(s, left);
		return false;
	}
	bool visit = im->v && im->v->blob && !im->stop;
	blob_pass bp = { im, { part, index, off, len } };
	if (visit && len == 0)
		blob_piece(&bp, (const unsigned char *)"", 0, off);
	got = sv_scan(s, len, visit ? blob_piece : NULL, &bp);
	if (got < len) {
		sv_report_truncated(im->cx, off, len, got, what);
		return false;
	}
	return true;
}

typedef struct zero_scan {
	uint64_t first; /* offset of the first non-zero byte, or UINT64_MAX */
} zero_scan;

static int find_nonzero(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	zero_scan *z = arg;

	for (size_t i = 0; i < n; i++)
		if (p[i]) {
			z->first = off + i;
			return 1;
		}
	return 0;
}

/* Check len bytes of padding are zero; false only when truncated. */
static bool check_padding(image *im, uint64_t len, int bad_code, const char *what)
{
	uint64_t off = sv_offset(im->s);
	zero_scan z = { UINT64_MAX };
	uint64_t got = sv_scan(im->s, len, find_nonzero, &z);

	if (z.first != UINT64_MAX)
		sv_report(im->cx, code(bad_code), z.first,
			  "%" PRIu64 " bytes of %s padding at 0x%" PRIx64
			  " hold a non-zero byte", len, what, off);
	if (got < len) {
		sv_report_truncated(im->cx, off, len, got, what);
		return false;
	}
	return true;
}

/* ---- per-type rules ----------------------------------------------------- */

static void check_inventory(image *im, const ProtobufCMessage *m, uint64_t off)
{
	const InventoryEntry *e = (const InventoryEntry *)m;
	bool pre_dump = e->has_pre_dump_mode;

	if (!(e->img_version == CRIU_IMAGES_V1 || e->img_version == CRIU_IMAGES_V1_1 ||
	      e->img_version == CRIU_IMAGES_V1_2 || (pre_dump && e->img_version == 0)))
		sv_report(im->cx, code(CRIU_INVENTORY_VERSION), off,
			  "img_version %" PRIu32 " is not supported (1, 2 or 3%s)",
			  e->img_version, pre_dump ? ", or 0 in a pre-dump" : "");
	/* Image version 3: compress 0 (off), 1 (per page), 2 (per region of
	 * compress_region_size bytes: a multiple of 4096, at most 4 MiB). */
	if (e->has_compress && e->compress > 2)
		sv_report(im->cx, code(CRIU_INVENTORY_COMPRESS), off,
			  "compress is %" PRIu32 ": 0 (off), 1 (per page) or 2 (per region)",
			  e->compress);
	else if (((e->has_compress && e->compress) || e->has_compress_region_size) &&
		 e->img_version != CRIU_IMAGES_V1_2)
		sv_report(im->cx, code(CRIU_INVENTORY_COMPRESS), off,
			  "compression fields in an inventory of img_version %" PRIu32
			  ", not 3 (compressed pages)", e->img_version);
	else if (e->has_compress && e->compress == 2 &&
		 (!e->has_compress_region_size || e->compress_region_size == 0 ||
		  e->compress_region_size % CRIU_PAGE_SIZE ||
		  e->compress_region_size > CRIU_REGION_MAX_PAGES * CRIU_PAGE_SIZE))
		sv_report(im->cx, code(CRIU_INVENTORY_REGION_SIZE), off,
			  "region mode with compress_region_size %s%" PRIu32
			  ": a multiple of 4096 up to 4 MiB is needed",
			  e->has_compress_region_size ? "" : "absent, so ",
			  e->compress_region_size);
	else if (e->has_compress_region_size && !(e->has_compress && e->compress == 2))
		sv_report(im->cx, code(CRIU_INVENTORY_REGION_SIZE), off,
			  "compress_region_size %" PRIu32 " without region mode (compress 2)",
			  e->compress_region_size);
	if (!pre_dump && !(e->has_fdinfo_per_id && e->fdinfo_per_id))
		sv_report(im->cx, code(CRIU_INVENTORY_FDINFO_PER_ID), off,
			  "fdinfo_per_id is %s: CRIU 3.x refuses such an image",
			  e->has_fdinfo_per_id ? "false" : "absent");
	/* CRIU 4: the plugins the restore needs (-v of a lone inventory;
	 * a dump directory says it in its own summary). */
	if (im->verbose && sv_get_file(im->cx) == NULL && e->plugins_entry) {
		char list[256];
		size_t at = 0;
		list[0] = '\0';
		for (size_t i = 0; i < e->plugins_entry->n_plugins && at < sizeof(list); i++)
			at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? "," : "",
					       e->plugins_entry->plugins[i]);
		sv_emit_stat(im->cx, "criu.plugins", "%s", e->plugins_entry->n_plugins ? list : "none");
	}
	if (e->has_root_cg_set && e->root_cg_set == 0)
		sv_report(im->cx, code(CRIU_INVENTORY_ROOT_CG_SET), off,
			  "root_cg_set is 0 (CRIU: corrupted root cgset)");
}

static void check_tcp(image *im, const ProtobufCMessage *m, uint64_t off)
{
	const TcpStreamEntry *e = (const TcpStreamEntry *)m;
	if (!e->has_unsq_len)
		sv_report(im->cx, code(CRIU_TCP_UNSQ_LEN), off,
			  "tcp_stream_entry has no unsq_len");
	if ((e->opt_mask & TCPI_OPT_WSCALE) && !e->has_rcv_wscale)
		sv_report(im->cx, code(CRIU_TCP_WSCALE), off,
			  "opt_mask 0x%" PRIx32 " has WSCALE but rcv_wscale is absent",
			  e->opt_mask);
	if ((e->opt_mask & TCPI_OPT_TIMESTAMPS) && !e->has_timestamp)
		sv_report(im->cx, code(CRIU_TCP_TIMESTAMP), off,
			  "opt_mask 0x%" PRIx32 " has TIMESTAMPS but timestamp is absent",
			  e->opt_mask);
}

/*
 * CRIU's restore follows each thread's filter index through prev
 * (criu/seccomp.c): an index at or past the end is "Corrupted filter
 * index", a cycle makes it loop for ever.  CRIU writes prev as the index
 * just before; a later index without a cycle restores fine (a warning).
 */
static void check_seccomp(image *im, const ProtobufCMessage *m, uint64_t off)
{
	const SeccompEntry *e = (const SeccompEntry *)m;
	size_t n = e->n_seccomp_filters;
	/* walk[k]: 1 + the filter whose chain reached k first; cycle[k]: k loops */
	size_t *walk = n ? calloc(n, sizeof(*walk)) : NULL;
	bool *cycle = n ? calloc(n, sizeof(*cycle)) : NULL;

	/* Each filter has one prev at most: walk each chain once (O(n)). */
	for (size_t i = 0; walk && cycle && i < n; i++) {
		size_t k = i;
		while (walk[k] == 0) {
			const SeccompFilter *f = e->seccomp_filters[k];
			walk[k] = i + 1;
			if (!f->has_prev || f->prev >= n)
				break;
			k = f->prev;
			if (walk[k] != i + 1)
				continue;
			sv_report(im->cx, code(CRIU_SECCOMP_PREV), off,
				  "following prev from filter %zu comes back to filter %zu: "
				  "a cycle (CRIU's restore would loop for ever)", i, k);
			for (size_t c = k; !cycle[c]; c = e->seccomp_filters[c]->prev)
				cycle[c] = true;
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const SeccompFilter *f = e->seccomp_filters[i];

		if (f->filter.len % BPF_INSN_SIZE)
			sv_report(im->cx, code(CRIU_SECCOMP_FILTER_LEN), off,
				  "filter %zu is %zu bytes long, not whole 8-byte instructions",
				  i, f->filter.len);
		if (f->has_prev && f->prev >= n)
			sv_report(im->cx, code(CRIU_SECCOMP_PREV), off,
				  "filter %zu has prev %" PRIu32 ", but there are %zu filters "
				  "(CRIU: corrupted filter index)", i, f->prev, n);
		else if (f->has_prev && f->prev > i && cycle && !cycle[i])
			sv_report(im->cx, code(CRIU_SECCOMP_PREV_FORWARD), off,
				  "filter %zu has prev %" PRIu32 ", a later filter; CRIU writes "
				  "the one just before", i, f->prev);
	}
	free(walk);
	free(cycle);
}

static void check_sk_packet(image *im, const ProtobufCMessage *m, uint64_t off)
{
	const SkPacketEntry *e = (const SkPacketEntry *)m;
	if (e->n_scm > 1)
		sv_report(im->cx, code(CRIU_SKQ_SCM), off,
			  "packet for socket %" PRIu32 " has %zu SCMs; CRIU restores one at most",
			  e->id_for, e->n_scm);
	else if (e->n_scm == 1 && e->scm[0]->type != SCM_RIGHTS_TYPE)
		sv_report(im->cx, code(CRIU_SKQ_SCM), off,
			  "packet for socket %" PRIu32 " has an SCM of type %" PRIu32
			  ", not SCM_RIGHTS (1)", e->id_for, e->scm[0]->type);
}

/* How the verifier names each blob kind's pieces and their padding. */
static const struct blob_words {
	criu_blob_part part[CRIU_BLOB_MAX_PIECES];
	const char *what[CRIU_BLOB_MAX_PIECES];
	int pad_code;
	const char *pad_what;
} blob_words[CRIU_BLOB_KIND_COUNT] = {
	[CRIU_BLOB_PIPE_DATA] = { { CRIU_PART_PIPE_DATA }, { "pipe data" }, 0, NULL },
	[CRIU_BLOB_SK_QUEUE] = { { CRIU_PART_SK_PACKET }, { "queued packet data" }, 0, NULL },
	[CRIU_BLOB_TCP_QUEUES] = { { CRIU_PART_TCP_INQ, CRIU_PART_TCP_OUTQ },
				   { "TCP input queue", "TCP output queue" }, 0, NULL },
	[CRIU_BLOB_BPFMAP_DATA] = { { CRIU_PART_BPFMAP_DATA }, { "BPF map data" }, 0, NULL },
	[CRIU_BLOB_IPC_SHM] = { { CRIU_PART_IPC_SHM }, { "IPC shared memory contents" },
				CRIU_IPC_SHM_PADDING, "IPC shared memory" },
	[CRIU_BLOB_IPC_SEM] = { { CRIU_PART_IPC_SEM }, { "semaphore values" },
				CRIU_IPC_SEM_PADDING, "semaphore" },
	[CRIU_BLOB_IPC_MSG] = { { CRIU_PART_IPC_MSG }, { "IPC message data" },
				CRIU_IPC_MSG_PADDING, "IPC message" },
};

/* The verifier following one entry's blob (criu_walk_blobs' events). */
typedef struct blob_walk {
	image *im;
	uint64_t index;
	bool stopped; /* the visitor stopped during a queue: not an error */
} blob_walk;

/* One message of an IPC message queue, inside its entry's blob. */
static bool blob_item(void *arg, uint64_t k, const ProtobufCMessage **out)
{
	blob_walk *bw = arg;
	image *im = bw->im;
	ProtobufCMessage *m;
	uint64_t off;
	uint32_t size = 0;

	if (im->stop) {
		bw->stopped = true;
		return false;
	}
	read_result r = read_entry(im, criu_blob_layouts[im->type->blob].item, bw->index, &m,
				   &off, &size);
	sv_set_record(im->cx, bw->index, im->type->entry->name);
	if (r == READ_END) {
		sv_report_truncated(im->cx, off, CRIU_ENTRY_SIZE_LEN, 0, "ipc_msg entry size");
		return false;
	}
	if (r != READ_OK)
		return false; /* the data length is unknown */
	const IpcMsg *msg = (const IpcMsg *)m;
	if (msg->msize > MSGMAX)
		sv_report(im->cx, code(CRIU_IPC_MSG_SIZE), off,
			  "message %" PRIu64 " of the queue is %" PRIu32
			  " bytes; CRIU restores at most %u", k, msg->msize, MSGMAX);
	hand_entry(im, CRIU_ENTRY_IPC_MSG, bw->index, k, off, size, m);
	*out = m;
	return true;
}

static bool blob_piece_of(void *arg, const ProtobufCMessage *m, uint64_t item,
			  unsigned piece, uint64_t len)
{
	blob_walk *bw = arg;
	image *im = bw->im;
	const struct blob_words *words = &blob_words[im->type->blob];
	unsigned align = criu_blob_layouts[im->type->blob].align;

	(void)m;
	(void)item;
	if (len > UINT64_MAX - (align - 1)) {
		/* Its padding would run past any file. */
		sv_report_truncated(im->cx, sv_offset(im->s), len, 0, words->what[piece]);
		return false;
	}
	return pass_blob(im, words->part[piece], bw->index, len, words->what[piece]);
}

static bool blob_padding(void *arg, uint64_t len)
{
	blob_walk *bw = arg;
	const struct blob_words *words = &blob_words[bw->im->type->blob];

	return check_padding(bw->im, len, words->pad_code, words->pad_what);
}

/* The blob after entry m; false when the rest cannot be read. */
static bool pass_entry_blob(image *im, const ProtobufCMessage *m, uint64_t index)
{
	blob_walk bw = { im, index, false };
	criu_blob_events ev = { &bw, blob_item, blob_piece_of, blob_padding };

	return criu_walk_blobs(im->type->blob, m, &ev) || bw.stopped;
}

/*
 * The rules of single entries, by image type: the check column of
 * CRIU_IMAGE_TYPES names check_<check>() above, or none.
 */
typedef void entry_check(image *im, const ProtobufCMessage *m, uint64_t off);
#define check_none NULL
#define ENTRY_CHECK_ROW(nm, mg, msg, lay, bl, fl, chk) [CRIU_T_##nm] = check_##chk,
static entry_check *const entry_checks[CRIU_T_COUNT] = {
	CRIU_IMAGE_TYPES(ENTRY_CHECK_ROW)
};
#undef ENTRY_CHECK_ROW
#undef check_none

static void check_entry_rules(image *im, const ProtobufCMessage *m, uint64_t off)
{
	if (entry_checks[im->type->id])
		entry_checks[im->type->id](im, m, off);
}

static void report_empty(image *im, const char *what)
{
	sv_record_none(im->cx);
	switch (criu_image_empty_rule(im->type->id)) {
	case CRIU_EMPTY_NONE:
		sv_report(im->cx, code(CRIU_IMAGE_EMPTY_NONE), sv_offset(im->s),
			  "the %s image holds no entry: CRIU reads that as none",
			  im->type->name);
		break;
	case CRIU_EMPTY_NEEDED:
		sv_report(im->cx, code(CRIU_IMAGE_EMPTY), sv_offset(im->s),
			  "the %s image ends after its magic, and restore needs its entry "
			  "(CRIU reads it with pb_read_one_eof, then uses it)", im->type->name);
		break;
	default:
		sv_report(im->cx, code(CRIU_IMAGE_EMPTY), sv_offset(im->s),
			  "the %s image ends after its magic; CRIU reads %s from it",
			  im->type->name, what);
		break;
	}
}

static void report_extra(image *im, uint64_t index, uint64_t off)
{
	sv_set_record(im->cx, index, im->type->entry->name);
	sv_report(im->cx, code(CRIU_IMAGE_EXTRA_ENTRY), off,
		  "%s holds one entry, but more data follows it (%s)",
		  im->type->name,
		  sv_remaining(im->s) != UINT64_MAX ? "trailing bytes" : "trailing data");
}

static void verify_entries(image *im)
{
	const ProtobufCMessageDescriptor *desc = im->type->entry;
	bool single = im->type->flags & CRIU_IMG_SINGLE;

	for (uint64_t index = 0; !sv_stopped(im->cx) && !im->stop; index++) {
		ProtobufCMessage *m;
		uint64_t off;
		uint32_t size = 0;

		if (single && index == 1) {
			if (!sv_at_end(im->s))
				report_extra(im, index, sv_offset(im->s));
			break;
		}
		read_result r = read_entry(im, desc, index, &m, &off, &size);
		if (r == READ_END) {
			if (index == 0 && single)
				report_empty(im, "one entry");
			/* Legacy itimers-PID.img: CRIU reads exactly three (real, virt, prof). */
			if (im->type->id == CRIU_T_ITIMERS && index != 3) {
				sv_record_none(im->cx);
				sv_report(im->cx, code(CRIU_ITIMERS_COUNT), sv_offset(im->s),
					  "%" PRIu64 " itimer entries; CRIU reads exactly three "
					  "(ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF)", index);
			}
			break;
		}
		if (r == READ_FATAL)
			break;
		if (!m) {
			/* Without the message the blob's length is unknown. */
			if (im->type->blob != CRIU_BLOB_NONE)
				break;
			continue;
		}
		check_entry_rules(im, m, off);
		hand_entry(im, CRIU_ENTRY_MAIN, index, 0, off, size, m);
		/* The message must outlive the blob: IPC queues read more entries. */
		ProtobufCMessage *keep = m;
		char tail[64] = "";
		if (!pass_entry_blob(im, keep, index))
			break;
		if (im->verbose) {
			uint64_t end = sv_offset(im->s);
			if (im->type->blob != CRIU_BLOB_NONE)
				snprintf(tail, sizeof(tail), "+%" PRIu64 " bytes of data",
					 end - off - CRIU_ENTRY_SIZE_LEN - size);
			/* IPC queues reused the arena: summarise without the message. */
			emit(im, index, desc->name, off, end - off,
			     criu_blob_layouts[im->type->blob].item ? NULL : keep, tail);
		}
	}
}

/* ---- PAGEMAP ------------------------------------------------------------ */

/*
 * Image version 3 (CRIU "V1.2", criu-images.md "Newer CRIU"): an entry
 * whose pages are stored compressed carries one size per block (a page,
 * or a region of region_pages pages, the last one maybe short), their sum,
 * and PE_PAYLOAD_ALIGNED when its payload starts at a page boundary.
 * Checks the fields against each other and the entry; returns the bytes
 * the entry's payload takes in the pages file (UINT64_MAX when they
 * cannot be told), alignment padding not included.
 */
static uint64_t check_compressed(image *im, const PagemapEntry *pe, uint64_t pages,
				 uint64_t off)
{
	uint64_t block_pages = 1;

	if (pe->has_region_pages) {
		if (pe->region_pages == 0 || pe->region_pages > CRIU_REGION_MAX_PAGES) {
			sv_report(im->cx, code(CRIU_PAGEMAP_REGION_PAGES), off,
				  "region_pages %" PRIu32 " is not 1 to %u (a region is at most 4 MiB)",
				  pe->region_pages, CRIU_REGION_MAX_PAGES);
			return UINT64_MAX;
		}
		block_pages = pe->region_pages;
	}
	uint64_t blocks = pages / block_pages + (pages % block_pages != 0);
	if (pe->n_compressed_size != blocks) {
		sv_report(im->cx, code(CRIU_PAGEMAP_BLOCKS), off,
			  "%zu compressed sizes for %" PRIu64 " pages in blocks of %" PRIu64
			  " pages: %" PRIu64 " expected", pe->n_compressed_size, pages,
			  block_pages, blocks);
		return UINT64_MAX;
	}
	uint64_t sum = 0;
	bool sizes_ok = true;
	for (size_t i = 0; i < pe->n_compressed_size; i++) {
		uint64_t raw = (i + 1 < blocks ? block_pages : pages - i * block_pages) *
			       CRIU_PAGE_SIZE;
		if (pe->compressed_size[i] > raw && sizes_ok) {
			sv_report(im->cx, code(CRIU_PAGEMAP_BLOCK_SIZE), off,
				  "block %zu is %" PRIu32 " bytes compressed, more than its %"
				  PRIu64 " bytes raw (CRIU stores such a block raw)",
				  i, pe->compressed_size[i], raw);
			sizes_ok = false;
		}
		sum += pe->compressed_size[i];
	}
	if (!sizes_ok)
		return UINT64_MAX; /* the sum means nothing then */
	if (!pe->has_total_compressed_size)
		sv_report(im->cx, code(CRIU_PAGEMAP_TOTAL), off,
			  "compressed sizes without total_compressed_size (their sum is %" PRIu64 ")",
			  sum);
	else if (pe->total_compressed_size != sum)
		sv_report(im->cx, code(CRIU_PAGEMAP_TOTAL), off,
			  "total_compressed_size is %" PRIu64 ", the blocks sum to %" PRIu64,
			  pe->total_compressed_size, sum);
	return sum;
}

static void verify_pagemap(image *im)
{
	ProtobufCMessage *m;
	uint64_t off;
	uint32_t size = 0;
	read_result r = read_entry(im, &pagemap_head__descriptor, 0, &m, &off, &size);

	if (r == READ_END) {
		report_empty(im, "its pagemap_head");
		return;
	}
	if (r == READ_FATAL)
		return;
	if (r == READ_OK) {
		hand_entry(im, CRIU_ENTRY_PAGEMAP_HEAD, 0, 0, off, size, m);
		emit(im, 0, "pagemap_head", off, CRIU_ENTRY_SIZE_LEN + (uint64_t)size, m, NULL);
	}

	uint64_t prev_vaddr = 0, prev_end = 0, payload = 0;
	bool have_prev = false, told_new_layout = false, payload_known = true;
	for (uint64_t index = 1; !sv_stopped(im->cx) && !im->stop; index++) {
		r = read_entry(im, &pagemap_entry__descriptor, index, &m, &off, &size);
		if (r == READ_END || r == READ_FATAL)
			break;
		if (r != READ_OK) {
			payload_known = false;
			continue;
		}

		const PagemapEntry *pe = (const PagemapEntry *)m;
		/* CRIU 4.2 moved the page count to field 5 and writes field 2 as
		 * 0; field 5 wins when present (older images lack it). */
		uint64_t pages = criu_pagemap_pages(pe);
		if (pe->has_nr_pages64) {
			if (!told_new_layout)
				sv_report(im->cx, code(CRIU_PAGEMAP_NEW_LAYOUT), off,
					  "nr_pages is %" PRIu32 " and field 5 holds %" PRIu64
					  ": read as CRIU 4.2's page count", pe->nr_pages, pages);
			told_new_layout = true;
			im->info->new_layout = true;
		}
		unsigned flags = criu_pagemap_flags(pe);
		bool compressed = pe->n_compressed_size || pe->has_total_compressed_size ||
				  pe->has_region_pages;
		bool ok = true;

		if (pe->vaddr % CRIU_PAGE_SIZE) {
			sv_report(im->cx, code(CRIU_PAGEMAP_UNALIGNED), off,
				  "vaddr 0x%" PRIx64 " is not a multiple of %u",
				  pe->vaddr, CRIU_PAGE_SIZE);
			ok = false;
		}
		if (pages == 0) {
			sv_report(im->cx, code(CRIU_PAGEMAP_ZERO_PAGES), off,
				  "entry at vaddr 0x%" PRIx64 " has nr_pages 0", pe->vaddr);
			ok = false;
		}
		uint64_t len = pages * CRIU_PAGE_SIZE; /* pages < 2^52: no overflow */
		if (pages > (UINT64_MAX >> CRIU_PAGE_SHIFT) || pe->vaddr > UINT64_MAX - len) {
			sv_report(im->cx, code(CRIU_PAGEMAP_RANGE), off,
				  "0x%" PRIx64 " + %" PRIu64 " pages runs past the end of the "
				  "address space", pe->vaddr, pages);
			ok = false;
			len = 0;
		}
		if (flags & ~PE_KNOWN) {
			sv_report(im->cx, code(CRIU_PAGEMAP_FLAGS), off,
				  "flags 0x%x: bits 0x%x are not PE_PARENT, PE_LAZY, PE_PRESENT "
				  "or PE_PAYLOAD_ALIGNED", flags, flags & ~PE_KNOWN);
			ok = false;
		} else if ((flags & CRIU_PE_PARENT) && (flags & CRIU_PE_PRESENT)) {
			sv_report(im->cx, code(CRIU_PAGEMAP_FLAGS_CONFLICT), off,
				  "flags 0x%x: pages both in the parent and in this dump", flags);
			ok = false;
		} else if (!(flags & (CRIU_PE_PARENT | CRIU_PE_LAZY | CRIU_PE_PRESENT))) {
			sv_report(im->cx, code(CRIU_PAGEMAP_FLAGS_CONFLICT), off,
				  "flags 0x%x: the pages are nowhere", flags);
			ok = false;
		} else if ((compressed || (flags & CRIU_PE_PAYLOAD_ALIGNED)) && !(flags & CRIU_PE_PRESENT)) {
			sv_report(im->cx, code(CRIU_PAGEMAP_COMPRESS_NOT_PRESENT), off,
				  "flags 0x%x (%s): an entry whose pages are not in this dump "
				  "carries %s", flags, flags & CRIU_PE_PARENT ? "PE_PARENT" : "PE_LAZY",
				  compressed ? "compression fields" : "PE_PAYLOAD_ALIGNED");
			ok = false;
		}
		if (have_prev && pe->vaddr < prev_vaddr) {
			sv_report(im->cx, code(CRIU_PAGEMAP_ORDER), off,
				  "vaddr 0x%" PRIx64 " comes after 0x%" PRIx64,
				  pe->vaddr, prev_vaddr);
			ok = false;
		} else if (have_prev && pe->vaddr < prev_end) {
			sv_report(im->cx, code(CRIU_PAGEMAP_OVERLAP), off,
				  "0x%" PRIx64 "-0x%" PRIx64 " overlaps the entry before, "
				  "which ends at 0x%" PRIx64,
				  pe->vaddr, pe->vaddr + len, prev_end);
			ok = false;
		}
		have_prev = true;
		prev_vaddr = pe->vaddr;
		if (pe->vaddr + len > prev_end)
			prev_end = pe->vaddr + len;

		/* Where this entry's payload lies in the pages file. */
		if (ok && (flags & CRIU_PE_PRESENT)) {
			uint64_t bytes = len;
			if (compressed) {
				im->info->compressed = true;
				bytes = check_compressed(im, pe, pages, off);
				if (bytes == UINT64_MAX)
					ok = false;
			}
			if (ok && payload_known) {
				if (flags & CRIU_PE_PAYLOAD_ALIGNED)
					payload = criu_round_up(payload, CRIU_PAGE_SIZE);
				payload += bytes;
			}
		}
		if (!ok)
			payload_known = false;

		if (flags & CRIU_PE_PRESENT)
			im->info->pages_present += pages;
		else if (flags & CRIU_PE_PARENT)
			im->info->pages_parent += pages;
		else if (flags & CRIU_PE_LAZY)
			im->info->pages_lazy += pages;
		if (ok)
			hand_entry(im, CRIU_ENTRY_MAIN, index, 0, off, size, m);
		emit(im, index, "pagemap_entry", off, CRIU_ENTRY_SIZE_LEN + (uint64_t)size, m, NULL);
	}
	im->info->pages_bytes = payload_known ? payload : UINT64_MAX;
}

/* ---- GHOST_FILE ----------------------------------------------------------- */

static void verify_ghost(image *im)
{
	ProtobufCMessage *m;
	uint64_t off;
	uint32_t size = 0;
	read_result r = read_entry(im, &ghost_file_entry__descriptor, 0, &m, &off, &size);

	if (r == READ_END) {
		report_empty(im, "its ghost_file_entry");
		return;
	}
	if (r != READ_OK)
		return; /* what follows cannot be told apart */

	const GhostFileEntry *g = (const GhostFileEntry *)m;
	unsigned type = g->mode & S_IFMT;
	bool regular = !(type == S_IFDIR || type == S_IFLNK || type == S_IFIFO ||
			 type == S_IFCHR || type == S_IFBLK);
	bool chunks = criu_ghost_chunked(g);
	uint64_t file_size = g->size;
	bool has_size = g->has_size;

	if ((type == S_IFCHR || type == S_IFBLK) && !g->has_rdev)
		sv_report(im->cx, code(CRIU_GHOST_RDEV), off,
			  "device file (mode 0%o) without rdev", g->mode);
	if (type == S_IFLNK && !g->symlnk_target)
		sv_report(im->cx, code(CRIU_GHOST_SYMLINK), off,
			  "symbolic link without symlnk_target");
	if (regular && chunks && !has_size)
		sv_report(im->cx, code(CRIU_GHOST_NO_SIZE), off,
			  "chunks is set but size is absent (CRIU: corrupted ghost image)");
	hand_entry(im, CRIU_ENTRY_MAIN, 0, 0, off, size, m);
	emit(im, 0, "ghost_file_entry", off, CRIU_ENTRY_SIZE_LEN + (uint64_t)size, m, NULL);

	if (!regular) {
		sv_set_record(im->cx, 0, "ghost_file_entry");
		if (!sv_at_end(im->s))
			sv_report(im->cx, code(CRIU_GHOST_CONTENTS), sv_offset(im->s),
				  "a ghost file of mode 0%o carries contents after its entry",
				  g->mode);
		return;
	}
	if (!chunks) {
		uint64_t start = sv_offset(im->s);
		bool visit = im->v && im->v->blob && !im->stop;
		blob_pass bp = { im, { CRIU_PART_GHOST_CONTENTS, 0, start, UINT64_MAX } };
		uint64_t got = sv_scan(im->s, UINT64_MAX, visit ? blob_piece : NULL, &bp);
		if (has_size && got != file_size) {
			sv_set_record(im->cx, 0, "ghost_file_entry");
			sv_report(im->cx, code(CRIU_GHOST_SIZE), start,
				  "%" PRIu64 " bytes of contents, size says %" PRIu64,
				  got, file_size);
		}
		return;
	}

	uint64_t prev_end = 0;
	for (uint64_t index = 1; !sv_stopped(im->cx) && !im->stop; index++) {
		r = read_entry(im, &ghost_chunk_entry__descriptor, index, &m, &off, &size);
		if (r != READ_OK)
			break; /* a bad chunk hides where the next one starts */
		const GhostChunkEntry *c = (const GhostChunkEntry *)m;
		uint64_t len = c->len, at = c->off;

		if (at < prev_end)
			sv_report(im->cx, code(CRIU_GHOST_CHUNK_ORDER), off,
				  "chunk at %" PRIu64 " starts before the previous one ends (%" PRIu64 ")",
				  at, prev_end);
		else if (has_size && (at > file_size || len > file_size - at))
			sv_report(im->cx, code(CRIU_GHOST_CHUNK_RANGE), off,
				  "chunk %" PRIu64 "+%" PRIu64 " ends beyond size %" PRIu64,
				  at, len, file_size);
		prev_end = at > UINT64_MAX - len ? UINT64_MAX : at + len;
		hand_entry(im, CRIU_ENTRY_GHOST_CHUNK, index, 0, off, size, m);
		if (!pass_blob(im, CRIU_PART_GHOST_CHUNK, index, len, "ghost file chunk"))
			break;
		emit(im, index, "ghost_chunk_entry", off, sv_offset(im->s) - off, m, NULL);
	}
}

/* ---- plugin images ---------------------------------------------------------- */

/*
 * The amdgpu plugin's images (plugins/amdgpu/amdgpu_plugin_util.c:
 * open_img_file() writes the message's size as a native size_t, 8 octets
 * on x86-64; the restore reads that many bytes and unpacks them with
 * criu_kfd__unpack() and friends, so the message must be whole and well
 * formed, and nothing else is read).
 */
static const ProtobufCMessageDescriptor *plugin_message(const criu_image_type *t)
{
	switch (t->id) {
	case CRIU_T_AMDGPU_KFD:
		return &criu_kfd__descriptor;
	case CRIU_T_AMDGPU_RENDER:
		return &criu_render_node__descriptor;
	case CRIU_T_AMDGPU_DMABUF:
		return &criu_dmabuf_node__descriptor;
	default:
		return NULL;
	}
}

static void verify_plugin(sv_ctx *cx, sv_stream *s, const criu_image_type *t,
			  criu_image_info *info)
{
	const ProtobufCMessageDescriptor *desc = plugin_message(t);
	image im = { 0 };
	criu_frame f;

	if (!desc)
		return;
	criu_walk_init(&im.walk, s, CRIU_PLUGIN_SIZE_LEN, ENTRY_MAX, false);
	criu_frame_status st = criu_walk_frame(&im.walk, &f, true);
	if (st == CRIU_FRAME_END || st == CRIU_FRAME_CUT_SIZE) {
		sv_report_truncated(cx, f.off, CRIU_PLUGIN_SIZE_LEN, f.got, "plugin image size");
		criu_walk_free(&im.walk);
		return;
	}
	uint64_t size = f.size;
	sv_set_record(cx, 0, desc->name);
	if (st == CRIU_FRAME_TOO_LARGE) {
		sv_report(cx, code(CRIU_ENTRY_TOO_LARGE), 0,
			  "%s message of %" PRIu64 " bytes is larger than %u: not decoded, "
			  "so nothing vouches that the plugin's unpack accepts it",
			  desc->name, size, ENTRY_MAX);
		sv_skip(s, UINT64_MAX);
		criu_walk_free(&im.walk);
		return;
	}
	if (st != CRIU_FRAME_OK) {
		sv_report_truncated(cx, CRIU_PLUGIN_SIZE_LEN, size, f.got, desc->name);
		criu_walk_free(&im.walk);
		return;
	}
	im.cx = cx;
	im.s = s;
	im.info = info;
	im.type = t;
	im.prefix = CRIU_PLUGIN_SIZE_LEN;
	im.verbose = sv_want_records(cx);
	criu_arena_init(&im.arena);
	ProtobufCMessage *m = NULL;
	read_result r = decode(&im, desc, f.body, (uint32_t)size, 0, &m);
	criu_walk_release(&im.walk);
	sv_count_record(cx);
	info->entries = 1;
	if (r == READ_OK)
		emit(&im, 0, desc->name, 0, CRIU_PLUGIN_SIZE_LEN + size, m, NULL);
	criu_arena_free(&im.arena);
	criu_walk_free(&im.walk);
	uint64_t end = sv_offset(s);
	uint64_t more = sv_skip(s, UINT64_MAX);
	if (more)
		sv_report(cx, code(CRIU_PLUGIN_TRAILING), end,
			  "%" PRIu64 " bytes follow the %" PRIu64 "-byte %s message",
			  more, size, desc->name);
	sv_record_none(cx);
	info->raw_bytes = sv_offset(s);
	info->complete = !sv_stopped(cx);
}

/* ---- magic ------------------------------------------------------------------ */

/* What the first bytes look like when they are no CRIU magic. */
static const char *guess_kind(const unsigned char *p, size_t n, bool gzip)
{
	size_t printable = 0;

	if (n >= CRIU_MAGIC_LEN) {
		uint32_t m = criu_le32(p);
		for (size_t i = 0; i < CRIU_T_COUNT; i++)
			if (criu_image_types[i].raw_magic && criu_image_types[i].raw_magic == m)
				return "an iproute2 save stream (ifaddr/route/rule image)";
		if (m == CRIU_IMG_COMMON_MAGIC || m == CRIU_IMG_SERVICE_MAGIC)
			return "a CRIU head magic followed by an unknown type magic";
	}
	if (n >= 262 && memcmp(p + 257, "ustar", 5) == 0)
		return gzip ? "a gzip-compressed tar archive (a tmpfs image?)" : "a tar archive";
	if (gzip)
		return "gzip-compressed data";
	for (size_t i = 0; i < n; i++)
		if ((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\n' || p[i] == '\t' || p[i] == '\r')
			printable++;
	if (n > 0 && printable == n)
		return "text (an iptables/nftables rule set?)";
	return "raw data (page contents of a pages-N.img?)";
}

void criu_verify_image(sv_ctx *cx, sv_stream *s, const char *name,
		       const criu_visitor *visitor, criu_image_info *info)
{
	criu_image_info local;
	image im = { 0 };
	uint64_t name_id = 0;
	const criu_image_name *named = name ? criu_image_match_file(name, &name_id) : NULL;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	info->named = named;
	info->name_id = name_id;
	sv_record_none(cx);

	if (named && plugin_message(named->type)) {
		info->type = named->type;
		verify_plugin(cx, s, named->type, info);
		return;
	}
	if (named && named->type->layout == CRIU_LAYOUT_RAW) {
		info->type = named->type;
		criu_verify_raw(cx, s, named->type, info);
		return;
	}

	size_t avail;
	const unsigned char *head = sv_peek(s, 512, &avail);
	const char *guess = guess_kind(head, avail, sv_stream_gzip(s));
	uint32_t m, head_magic;

	if (criu_walk_magic(cx, s, "image magic", "image type magic", &head_magic, &m) !=
	    CRIU_MAGIC_OK)
		return;
	uint64_t type_off = head_magic ? CRIU_MAGIC_LEN : 0;
	if (head_magic)
		info->version = 2;
	const criu_image_type *t = criu_image_by_magic(m);
	if (!t) {
		if (named)
			sv_report(cx, code(CRIU_MAGIC_UNKNOWN), type_off,
				  "unknown magic 0x%08" PRIx32 "; the name says a %s image",
				  m, named->type->name);
		else if (head_magic)
			sv_report(cx, code(CRIU_MAGIC_UNKNOWN), type_off,
				  "unknown type magic 0x%08" PRIx32 " after the %s head magic",
				  m, head_magic == CRIU_IMG_COMMON_MAGIC ? "IMG_COMMON" : "IMG_SERVICE");
		else
			sv_report(cx, code(CRIU_MAGIC_UNKNOWN), 0,
				  "unknown magic 0x%08" PRIx32 ": this looks like %s", m, guess);
		return;
	}
	info->type = t;
	if (!head_magic)
		info->version = t->id == CRIU_T_INVENTORY ? 0 : 1;

	if (head_magic && t->id == CRIU_T_INVENTORY)
		sv_report(cx, code(CRIU_MAGIC_INVENTORY_HEAD), 0,
			  "inventory.img starts with the %s head magic; CRIU expects the "
			  "INVENTORY magic first",
			  head_magic == CRIU_IMG_COMMON_MAGIC ? "IMG_COMMON" : "IMG_SERVICE");
	else if (head_magic == CRIU_IMG_SERVICE_MAGIC && !(t->flags & CRIU_IMG_SERVICE))
		sv_report(cx, code(CRIU_MAGIC_HEAD), 0,
			  "IMG_SERVICE head magic on a %s image, which takes IMG_COMMON",
			  t->name);
	else if (head_magic == CRIU_IMG_COMMON_MAGIC && (t->flags & CRIU_IMG_SERVICE))
		sv_report(cx, code(CRIU_MAGIC_HEAD), 0,
			  "IMG_COMMON head magic on a %s service file, which takes IMG_SERVICE",
			  t->name);
	if (named && named->type != t)
		sv_report(cx, code(CRIU_MAGIC_NAME), type_off,
			  "the file name says %s, the magic 0x%08" PRIx32 " says %s",
			  named->type->name, m, t->name);

	im.cx = cx;
	im.s = s;
	im.v = visitor;
	im.info = info;
	im.type = t;
	im.verbose = sv_want_records(cx);
	im.deep_check = criu_pb_recursive(t->entry);
	im.prefix = CRIU_ENTRY_SIZE_LEN;
	criu_arena_init(&im.arena);
	criu_walk_init(&im.walk, s, CRIU_ENTRY_SIZE_LEN, ENTRY_MAX, false);

	switch (t->layout) {
	case CRIU_LAYOUT_PAGEMAP:
		verify_pagemap(&im);
		break;
	case CRIU_LAYOUT_GHOST_FILE:
		verify_ghost(&im);
		break;
	default:
		verify_entries(&im);
		break;
	}
	criu_walk_release(&im.walk);
	criu_walk_free(&im.walk);
	criu_arena_free(&im.arena);
	sv_record_none(cx);
	info->complete = sv_at_end(s) && !sv_stopped(cx);

	/*
	 * Figures describe the whole input: an image that is one file of a
	 * dump directory leaves them to the directory's summary.
	 */
	bool whole_input = sv_get_file(cx) == NULL;
	if (im.verbose && whole_input && t->layout == CRIU_LAYOUT_PAGEMAP) {
		sv_emit_stat_u64(cx, "pages.present", info->pages_present);
		sv_emit_stat_u64(cx, "pages.parent", info->pages_parent);
		sv_emit_stat_u64(cx, "pages.lazy", info->pages_lazy);
	}
	if (im.verbose)
		info->generation = gen_names[im.gen];
	if (im.verbose && whole_input && t->layout == CRIU_LAYOUT_PAGEMAP &&
	    info->pages_bytes != UINT64_MAX)
		sv_emit_stat_u64(cx, "pages.bytes", info->pages_bytes);
	if (im.verbose && whole_input) {
		sv_emit_stat(cx, "image.type", "%s", t->name);
		sv_emit_stat(cx, "criu.generation", "%s", gen_names[im.gen]);
	}
}
