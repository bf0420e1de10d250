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
#include "formats/criu/pb.h"
#include "formats/criu/raw.h"
#include "formats/criu/schema.h"

/* Entries larger than this are not decoded (CRIU's largest are kilobytes). */
#define ENTRY_MAX (64u << 20)

/* Pagemap entry flags (criu/include/pagemap.h). */
#define PE_PARENT  1u
#define PE_LAZY    2u
#define PE_PRESENT 4u

#define MSGMAX 8192u            /* CRIU's limit on an IPC message */
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
	bool deep_check;    /* the entry type can nest without bound */
	bool stop;          /* the visitor asked to stop */
	bool verbose;
	PagemapEntry fast_pe; /* pagemap_fast()'s result */
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

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ---- entries ------------------------------------------------------------ */

/* A varint of at most max_len octets; false when longer or cut short. */
static bool wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v, unsigned max_len)
{
	uint64_t r = 0;

	for (unsigned i = 0; i < max_len && *p < end; i++) {
		uint8_t b = *(*p)++;
		if (i == 9 && b > 1)
			return false; /* beyond 64 bits */
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

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

		if (!wire_varint(&p, end, &v, tag == 0x08 ? 10 : 5))
			return false;
		switch (tag) {
		case 0x08: /* 1: vaddr */
			if (seen & 1)
				return false;
			pe->vaddr = v;
			seen |= 1;
			break;
		case 0x10: /* 2: nr_pages */
			if ((seen & 2) || v > UINT32_MAX)
				return false;
			pe->nr_pages = (uint32_t)v;
			seen |= 2;
			break;
		case 0x18: /* 3: in_parent */
			if ((seen & 4) || v > 1)
				return false;
			pe->has_in_parent = true;
			pe->in_parent = v != 0;
			seen |= 4;
			break;
		case 0x20: /* 4: flags */
			if ((seen & 8) || v > UINT32_MAX)
				return false;
			pe->has_flags = true;
			pe->flags = (uint32_t)v;
			seen |= 8;
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
			  ProtobufCMessage **out, bool keep_unknown_5)
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
		sv_report(im->cx, code(CRIU_ENTRY_MALFORMED), off + 4 + dg.at,
			  "%s entry: %s", desc->name, dg.what);
		return READ_BAD;
	}
	m = protobuf_c_message_unpack(desc, &im->arena.pc, size, body);
	if (!m) {
		criu_pb_problem pr = criu_pb_diagnose(desc, body, size, &dg);

		if (pr == CRIU_PB_REQUIRED)
			sv_report(im->cx, code(CRIU_ENTRY_REQUIRED), off, "%s", dg.what);
		else if (pr != CRIU_PB_OK)
			sv_report(im->cx, code(CRIU_ENTRY_MALFORMED), off + 4 + dg.at,
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
	if (fd.unknown_fields && !(keep_unknown_5 && fd.unknown_fields == 1 &&
				   fd.unknown_tag == 5 && fd.unknown_msg == desc->name))
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
			      uint64_t *off_out, uint32_t *size_out,
			      bool keep_unknown_5)
{
	sv_stream *s = im->s;
	uint64_t off = sv_offset(s);
	size_t avail;
	const unsigned char *p = sv_peek(s, 4, &avail);

	*off_out = off;
	*msg = NULL;
	if (avail == 0)
		return READ_END;
	sv_record_begin(im->cx, index, desc->name, off);
	if (avail < 4) {
		sv_report_truncated(im->cx, off, 4, avail, "entry size");
		sv_skip(s, avail);
		return READ_FATAL;
	}
	uint32_t size = le32(p);
	*size_out = size;

	uint64_t left = sv_remaining(s);
	if (left != UINT64_MAX && (uint64_t)size > left - 4) {
		sv_report_truncated(im->cx, off + 4, size, left - 4, desc->name);
		sv_skip(s, left);
		return READ_FATAL;
	}
	if (size > ENTRY_MAX) {
		sv_report(im->cx, code(CRIU_ENTRY_TOO_LARGE), off,
			  "%s entry of %" PRIu32 " bytes is larger than %u: not decoded",
			  desc->name, size, ENTRY_MAX);
		sv_skip(s, 4);
		uint64_t got = sv_skip(s, size);
		if (got < size) {
			sv_report_truncated(im->cx, off + 4, size, got, desc->name);
			return READ_FATAL;
		}
		return READ_BAD;
	}

	read_result r;
	if ((size_t)size + 4 <= SV_PEEK_MAX) {
		/* Small entries are decoded straight from the stream's buffer. */
		p = sv_peek(s, (size_t)size + 4, &avail);
		if (avail < (size_t)size + 4) {
			sv_report_truncated(im->cx, off + 4, size, avail - 4, desc->name);
			sv_skip(s, avail);
			return READ_FATAL;
		}
		r = decode(im, desc, p + 4, size, off, msg, keep_unknown_5);
		sv_skip(s, (uint64_t)size + 4);
	} else {
		size_t got;
		sv_skip(s, 4);
		unsigned char *buf = sv_read_alloc(s, size, &got);
		if (!buf) {
			sv_report_truncated(im->cx, off + 4, size, got, desc->name);
			return READ_FATAL;
		}
		r = decode(im, desc, buf, size, off, msg, keep_unknown_5);
		free(buf);
	}
	if (r == READ_OK || r == READ_BAD) {
		sv_count_record(im->cx);
		if (im->info)
			im->info->entries++;
	}
	return r;
}

static bool hand_entry(image *im, criu_entry_role role, uint64_t index,
		       uint64_t sub, uint64_t off, uint32_t size,
		       const ProtobufCMessage *m)
{
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

static uint64_t round_up(uint64_t x, uint64_t to)
{
	return (x + to - 1) / to * to;
}

/* ---- per-type rules ----------------------------------------------------- */

static void check_inventory(image *im, const InventoryEntry *e, uint64_t off)
{
	bool pre_dump = e->has_pre_dump_mode;

	if (!(e->img_version == CRIU_IMAGES_V1 || e->img_version == CRIU_IMAGES_V1_1 ||
	      (pre_dump && e->img_version == 0)))
		sv_report(im->cx, code(CRIU_INVENTORY_VERSION), off,
			  "img_version %" PRIu32 " is not supported (1 or 2%s)",
			  e->img_version, pre_dump ? ", or 0 in a pre-dump" : "");
	if (!pre_dump && !(e->has_fdinfo_per_id && e->fdinfo_per_id))
		sv_report(im->cx, code(CRIU_INVENTORY_FDINFO_PER_ID), off,
			  "fdinfo_per_id is %s: CRIU 3.x refuses such an image",
			  e->has_fdinfo_per_id ? "false" : "absent");
	if (e->has_root_cg_set && e->root_cg_set == 0)
		sv_report(im->cx, code(CRIU_INVENTORY_ROOT_CG_SET), off,
			  "root_cg_set is 0 (CRIU: corrupted root cgset)");
}

static void check_tcp(image *im, const TcpStreamEntry *e, uint64_t off)
{
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

static void check_seccomp(image *im, const SeccompEntry *e, uint64_t off)
{
	for (size_t i = 0; i < e->n_seccomp_filters; i++) {
		const SeccompFilter *f = e->seccomp_filters[i];

		if (f->filter.len % 8)
			sv_report(im->cx, code(CRIU_SECCOMP_FILTER_LEN), off,
				  "filter %zu is %zu bytes long, not whole 8-byte instructions",
				  i, f->filter.len);
		/* CRIU writes each filter's prev as the index before it, so a
		 * chain always ends; anything else is corrupt or loops. */
		if (f->has_prev && f->prev >= i)
			sv_report(im->cx, code(CRIU_SECCOMP_PREV), off,
				  "filter %zu has prev %" PRIu32 "; it must be below %zu",
				  i, f->prev, i);
	}
}

static void check_sk_packet(image *im, const SkPacketEntry *e, uint64_t off)
{
	if (e->n_scm > 1)
		sv_report(im->cx, code(CRIU_SKQ_SCM), off,
			  "packet for socket %" PRIu32 " has %zu SCMs; CRIU restores one at most",
			  e->id_for, e->n_scm);
	else if (e->n_scm == 1 && e->scm[0]->type != SCM_RIGHTS_TYPE)
		sv_report(im->cx, code(CRIU_SKQ_SCM), off,
			  "packet for socket %" PRIu32 " has an SCM of type %" PRIu32
			  ", not SCM_RIGHTS (1)", e->id_for, e->scm[0]->type);
}

/* The messages of an IPC message queue, inside its entry's blob. */
static bool pass_msg_queue(image *im, const IpcMsgEntry *q, uint64_t index)
{
	const char *entry_type = criu_image_types[CRIU_T_IPCNS_MSG].entry->name;
	/* Reading the messages resets the arena that holds q. */
	uint32_t qnum = q->qnum;

	for (uint32_t k = 0; k < qnum && !im->stop; k++) {
		ProtobufCMessage *m;
		uint64_t off;
		uint32_t size = 0;
		read_result r = read_entry(im, &ipc_msg__descriptor, index, &m, &off,
					   &size, false);

		sv_record(im->cx, index, entry_type);
		if (r == READ_END) {
			sv_report_truncated(im->cx, off, 4, 0, "ipc_msg entry size");
			return false;
		}
		if (r != READ_OK)
			return false; /* the data length is unknown */
		const IpcMsg *msg = (const IpcMsg *)m;
		uint32_t msize = msg->msize;
		if (msize > MSGMAX)
			sv_report(im->cx, code(CRIU_IPC_MSG_SIZE), off,
				  "message %" PRIu32 " of the queue is %" PRIu32
				  " bytes; CRIU restores at most %u", k, msize, MSGMAX);
		hand_entry(im, CRIU_ENTRY_IPC_MSG, index, k, off, size, m);
		if (!pass_blob(im, CRIU_PART_IPC_MSG, index, msize, "IPC message data") ||
		    !check_padding(im, round_up(msize, 8) - msize, CRIU_IPC_MSG_PADDING,
				   "IPC message"))
			return false;
	}
	return true;
}

/* The blob after entry e; false when the rest cannot be read. */
static bool pass_entry_blob(image *im, const ProtobufCMessage *m, uint64_t index)
{
	switch (im->type->blob) {
	case CRIU_BLOB_NONE:
		return true;
	case CRIU_BLOB_PIPE_DATA:
		return pass_blob(im, CRIU_PART_PIPE_DATA, index,
				 ((const PipeDataEntry *)m)->bytes, "pipe data");
	case CRIU_BLOB_SK_QUEUE:
		return pass_blob(im, CRIU_PART_SK_PACKET, index,
				 ((const SkPacketEntry *)m)->length, "queued packet data");
	case CRIU_BLOB_TCP_QUEUES: {
		const TcpStreamEntry *t = (const TcpStreamEntry *)m;
		return pass_blob(im, CRIU_PART_TCP_INQ, index, t->inq_len, "TCP input queue") &&
		       pass_blob(im, CRIU_PART_TCP_OUTQ, index, t->outq_len, "TCP output queue");
	}
	case CRIU_BLOB_BPFMAP_DATA: {
		const BpfmapDataEntry *b = (const BpfmapDataEntry *)m;
		return pass_blob(im, CRIU_PART_BPFMAP_DATA, index,
				 (uint64_t)b->keys_bytes + b->values_bytes, "BPF map data");
	}
	case CRIU_BLOB_IPC_SHM: {
		const IpcShmEntry *shm = (const IpcShmEntry *)m;
		if (shm->has_in_pagemaps && shm->in_pagemaps)
			return true; /* contents are in pagemap-shmem-ID.img */
		if (shm->size > UINT64_MAX - 3) {
			sv_report_truncated(im->cx, sv_offset(im->s), shm->size,
					    0, "IPC shared memory contents");
			return false;
		}
		return pass_blob(im, CRIU_PART_IPC_SHM, index, shm->size,
				 "IPC shared memory contents") &&
		       check_padding(im, round_up(shm->size, 4) - shm->size,
				     CRIU_IPC_SHM_PADDING, "IPC shared memory");
	}
	case CRIU_BLOB_IPC_SEM: {
		uint64_t bytes = 2 * (uint64_t)((const IpcSemEntry *)m)->nsems;
		return pass_blob(im, CRIU_PART_IPC_SEM, index, bytes, "semaphore values") &&
		       check_padding(im, round_up(bytes, 8) - bytes, CRIU_IPC_SEM_PADDING,
				     "semaphore");
	}
	case CRIU_BLOB_IPC_MSG:
		return pass_msg_queue(im, (const IpcMsgEntry *)m, index);
	}
	return true;
}

static void check_entry_rules(image *im, const ProtobufCMessage *m, uint64_t off)
{
	switch (im->type->id) {
	case CRIU_T_INVENTORY:
		check_inventory(im, (const InventoryEntry *)m, off);
		break;
	case CRIU_T_TCP_STREAM:
		check_tcp(im, (const TcpStreamEntry *)m, off);
		break;
	case CRIU_T_SECCOMP:
		check_seccomp(im, (const SeccompEntry *)m, off);
		break;
	case CRIU_T_SK_QUEUES:
		check_sk_packet(im, (const SkPacketEntry *)m, off);
		break;
	default:
		break;
	}
}

static void report_empty(image *im, const char *what)
{
	sv_record_none(im->cx);
	sv_report(im->cx, code(CRIU_IMAGE_EMPTY), sv_offset(im->s),
		  "the %s image ends after its magic; CRIU reads %s from it",
		  im->type->name, what);
}

static void report_extra(image *im, uint64_t index, uint64_t off)
{
	sv_record(im->cx, index, im->type->entry->name);
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
		read_result r = read_entry(im, desc, index, &m, &off, &size, false);
		if (r == READ_END) {
			if (index == 0 && single)
				report_empty(im, "one entry");
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
					 end - off - 4 - size);
			/* IPC queues reused the arena: summarise without the message. */
			emit(im, index, desc->name, off, end - off,
			     im->type->blob == CRIU_BLOB_IPC_MSG ? NULL : keep, tail);
		}
	}
}

/* ---- PAGEMAP ------------------------------------------------------------ */

/* CRIU 4.2 moved the page count to field 5 (uint64) and writes field 2 as 0. */
static bool new_layout_pages(const PagemapEntry *pe, uint64_t *pages)
{
	if (pe->nr_pages != 0 || pe->base.n_unknown_fields != 1)
		return false;
	const ProtobufCMessageUnknownField *u = &pe->base.unknown_fields[0];
	if (u->tag != 5 || u->wire_type != PROTOBUF_C_WIRE_TYPE_VARINT)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < u->len && i < 10; i++)
		v |= (uint64_t)(u->data[i] & 0x7f) << (7 * i);
	*pages = v;
	return true;
}

static void verify_pagemap(image *im)
{
	ProtobufCMessage *m;
	uint64_t off;
	uint32_t size = 0;
	read_result r = read_entry(im, &pagemap_head__descriptor, 0, &m, &off, &size, false);

	if (r == READ_END) {
		report_empty(im, "its pagemap_head");
		return;
	}
	if (r == READ_FATAL)
		return;
	if (r == READ_OK) {
		hand_entry(im, CRIU_ENTRY_PAGEMAP_HEAD, 0, 0, off, size, m);
		emit(im, 0, "pagemap_head", off, 4 + (uint64_t)size, m, NULL);
	}

	uint64_t prev_vaddr = 0, prev_end = 0;
	bool have_prev = false, told_new_layout = false;
	for (uint64_t index = 1; !sv_stopped(im->cx) && !im->stop; index++) {
		r = read_entry(im, &pagemap_entry__descriptor, index, &m, &off, &size, true);
		if (r == READ_END || r == READ_FATAL)
			break;
		if (r != READ_OK)
			continue;

		const PagemapEntry *pe = (const PagemapEntry *)m;
		uint64_t pages = pe->nr_pages;
		if (new_layout_pages(pe, &pages)) {
			if (!told_new_layout)
				sv_report(im->cx, code(CRIU_PAGEMAP_NEW_LAYOUT), off,
					  "nr_pages is 0 and field 5 holds %" PRIu64
					  ": read as CRIU 4.2's page count", pages);
			told_new_layout = true;
		} else if (pe->base.n_unknown_fields && pe->nr_pages == 0) {
			/* reported as an unknown field by decode() */
		}
		unsigned flags = pe->has_flags ? pe->flags
				 : pe->has_in_parent && pe->in_parent ? PE_PARENT : PE_PRESENT;
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
		uint64_t len = pages * CRIU_PAGE_SIZE; /* pages < 2^54: no overflow */
		if (pages > (UINT64_MAX >> 12) || pe->vaddr > UINT64_MAX - len) {
			sv_report(im->cx, code(CRIU_PAGEMAP_RANGE), off,
				  "0x%" PRIx64 " + %" PRIu64 " pages runs past the end of the "
				  "address space", pe->vaddr, pages);
			ok = false;
			len = 0;
		}
		if (flags & ~(PE_PARENT | PE_LAZY | PE_PRESENT)) {
			sv_report(im->cx, code(CRIU_PAGEMAP_FLAGS), off,
				  "flags 0x%x: bits 0x%x are not PE_PARENT, PE_LAZY or PE_PRESENT",
				  flags, flags & ~(PE_PARENT | PE_LAZY | PE_PRESENT));
			ok = false;
		} else if ((flags & PE_PARENT) && (flags & PE_PRESENT)) {
			sv_report(im->cx, code(CRIU_PAGEMAP_FLAGS_CONFLICT), off,
				  "flags 0x%x: pages both in the parent and in this dump", flags);
			ok = false;
		} else if (flags == 0) {
			sv_report(im->cx, code(CRIU_PAGEMAP_FLAGS_CONFLICT), off,
				  "flags 0: the pages are nowhere");
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

		if (im->info) {
			if (flags & PE_PRESENT)
				im->info->pages_present += pages;
			else if (flags & PE_PARENT)
				im->info->pages_parent += pages;
			else if (flags & PE_LAZY)
				im->info->pages_lazy += pages;
		}
		if (ok)
			hand_entry(im, CRIU_ENTRY_MAIN, index, 0, off, size, m);
		emit(im, index, "pagemap_entry", off, 4 + (uint64_t)size, m, NULL);
	}
}

/* ---- GHOST_FILE ----------------------------------------------------------- */

static void verify_ghost(image *im)
{
	ProtobufCMessage *m;
	uint64_t off;
	uint32_t size = 0;
	read_result r = read_entry(im, &ghost_file_entry__descriptor, 0, &m, &off, &size, false);

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
	bool chunks = g->has_chunks && g->chunks;
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
	emit(im, 0, "ghost_file_entry", off, 4 + (uint64_t)size, m, NULL);

	if (!regular) {
		sv_record(im->cx, 0, "ghost_file_entry");
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
			sv_record(im->cx, 0, "ghost_file_entry");
			sv_report(im->cx, code(CRIU_GHOST_SIZE), start,
				  "%" PRIu64 " bytes of contents, size says %" PRIu64,
				  got, file_size);
		}
		return;
	}

	uint64_t prev_end = 0;
	for (uint64_t index = 1; !sv_stopped(im->cx) && !im->stop; index++) {
		r = read_entry(im, &ghost_chunk_entry__descriptor, index, &m, &off, &size, false);
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

/* ---- magic ------------------------------------------------------------------ */

/* What the first bytes look like when they are no CRIU magic. */
static const char *guess_kind(const unsigned char *p, size_t n, bool gzip)
{
	size_t printable = 0;

	if (n >= 4) {
		uint32_t m = le32(p);
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

	if (named && named->type->layout == CRIU_LAYOUT_RAW) {
		info->type = named->type;
		criu_verify_raw(cx, s, named->type, info);
		return;
	}

	size_t avail;
	const unsigned char *head = sv_peek(s, 512, &avail);
	const char *guess = guess_kind(head, avail, sv_stream_gzip(s));
	unsigned char mb[4];

	if (!sv_need(cx, s, mb, 4, "image magic"))
		return;
	uint32_t m = le32(mb), head_magic = 0;
	uint64_t type_off = 0;
	if (m == CRIU_IMG_COMMON_MAGIC || m == CRIU_IMG_SERVICE_MAGIC) {
		head_magic = m;
		type_off = 4;
		if (!sv_need(cx, s, mb, 4, "image type magic"))
			return;
		m = le32(mb);
		info->version = 2;
	}
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
	criu_arena_init(&im.arena);

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
	if (im.verbose && whole_input)
		sv_emit_stat(cx, "image.type", "%s", t->name);
}
