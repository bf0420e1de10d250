/*
 * Private interface between the Xen format modules (libxc, libxl, xl).
 *
 * The three formats nest: an xl save file carries a libxl stream, and a
 * libxl stream hands the bytes after each LIBXC_CONTEXT record to libxc,
 * which hands control back at its END record or at every CHECKPOINT.  The
 * libxc verifier is therefore a state object that the libxl verifier can
 * drive round after round; the layout facts are in
 * Xen's migration stream specs (docs/specs).
 */
#ifndef SV_FORMATS_XEN_H
#define SV_FORMATS_XEN_H

#include <stdbool.h>
#include <stdint.h>

#include "module.h"

/* Both record formats: u32 type, u32 body_length, body, zero padding to 8. */
#define XEN_RHDR_SIZE 8u
#define XEN_ALIGN 8u

/* libxc's read_record() refuses longer bodies before reading them. */
#define XEN_REC_LENGTH_MAX (128u << 20)

#define XEN_PAGE_SIZE 4096u

/* ---- byte order ----------------------------------------------------------- */

/* Loads in the stream's byte order; inline, as they run once per pfn. */
static inline uint16_t xen_ld16(bool be, const unsigned char *p)
{
	return be ? (uint16_t)((unsigned)p[0] << 8 | p[1])
		  : (uint16_t)((unsigned)p[1] << 8 | p[0]);
}

static inline uint32_t xen_ld32(bool be, const unsigned char *p)
{
	if (be)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		       (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t xen_ld64(bool be, const unsigned char *p)
{
	/* Each order whole, so the compiler makes one load of it. */
	if (be)
		return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
		       (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
		       (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
		       (uint64_t)p[6] << 8 | p[7];
	return (uint64_t)p[7] << 56 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[5] << 40 | (uint64_t)p[4] << 32 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[1] << 8 | p[0];
}

/* Guest types, as the libxc domain header numbers them. */
#define XEN_GUEST_PV 1u
#define XEN_GUEST_HVM 2u

/* Keys of emulator xenstore data: relative paths in xenstore's character set. */
bool xen_xs_key_char_ok(unsigned char c);

/* ---- record framing ------------------------------------------------------- */

/*
 * One record being verified.  A body checker consumes what it needs of the
 * body through xen_body_read()/xen_body_skip(); the framing code skips what
 * is left and checks the padding.
 */
typedef struct xen_rec {
	uint64_t index;     /* record index in the whole input */
	uint64_t off;       /* offset of the record header */
	uint32_t type;
	uint32_t length;    /* body length */
	uint32_t used;      /* body bytes consumed so far */
	bool truncated;     /* the input ended inside the record */
	const char *name;
} xen_rec;

static inline uint64_t xen_body_off(const xen_rec *r)
{
	return r->off + XEN_RHDR_SIZE;
}

static inline uint64_t xen_padded(uint64_t len)
{
	return (len + (XEN_ALIGN - 1)) & ~(uint64_t)(XEN_ALIGN - 1);
}

/* Read n body bytes (n <= what is left); false and reported when short. */
bool xen_body_read(sv_ctx *cx, sv_stream *in, xen_rec *r, void *buf, size_t n,
		   const char *what);
/* Skip n body bytes (n <= what is left); false and reported when short. */
bool xen_body_skip(sv_ctx *cx, sv_stream *in, xen_rec *r, uint64_t n,
		   const char *what);
/* Stream n body bytes through fn (see sv_scan); false and reported when short. */
bool xen_body_scan(sv_ctx *cx, sv_stream *in, xen_rec *r, uint64_t n,
		   sv_scan_fn fn, void *arg, const char *what);
/*
 * Verify the next n body bytes with module f as a stream of their own
 * (sv_verify_nested); false when the input ended first (reported, unless
 * the nested module already reported an error).
 */
bool xen_body_nested(sv_ctx *cx, sv_stream *in, xen_rec *r, uint64_t n,
		     const sv_format *f, const char *what);
/*
 * Finish a record: skip the unconsumed body, then read the padding and
 * report its first non-zero octet with pad_code.  False when the input
 * ended first (reported).
 */
bool xen_rec_finish(sv_ctx *cx, sv_stream *in, xen_rec *r,
		    const sv_code *pad_code);

/* ---- pfn sets ------------------------------------------------------------- */

/*
 * The pfns of one PAGE_DATA record (or legacy page batch), to find repeats
 * exactly with bounded memory: a sparse bitmap of 4 KiB leaves, each
 * covering 32768 pfns (128 MiB of guest memory), found through an
 * open-addressing table.  At most XEN_PFNSET_LEAVES leaves (8 MiB: pfns
 * spread over 256 GiB of guest memory; a batch of Xen's saver, at most 1024
 * pfns, needs 1024 at the very most), kept for reuse from record to record.
 * Everything is allocated when first needed and the table grows with the
 * leaves in use: a record of 1024 neighbouring pfns costs one leaf and a
 * table of a few hundred octets, not the whole table (each page an
 * allocation touches is a page fault, the bulk of a verify's time).
 */
#define XEN_PFNSET_LEAF_BITS 15u
#define XEN_PFNSET_LEAVES 2048u

typedef struct xen_pfnslot {
	uint64_t key;             /* leaf number + 1; 0: empty */
	unsigned char *leaf;
	uint16_t lo, hi;          /* octets [lo, hi) of the leaf may be non-zero */
} xen_pfnslot;

typedef struct xen_pfnset {
	xen_pfnslot *slot;        /* nslots of them, a power of two, or NULL */
	size_t nslots;
	unsigned shift;           /* 64 - log2(nslots), for the hash */
	size_t nused;             /* slots holding a leaf of this record */
	size_t nleaves;           /* leaves allocated, in slots or the pool */
	unsigned char **pool;     /* cleared leaves for reuse, room for nleaves */
	size_t npool;
	size_t last;              /* slot of the last lookup */
	uint64_t last_key;        /* its key; 0: none (pfns come in runs) */
	/*
	 * While the pfns of a record only ascend none can repeat, and a run
	 * of neighbours [run_lo, run_hi] in one leaf (slot run_slot) is
	 * written into the bitmap at once, when it ends: Xen's saver sends
	 * most batches as such runs.  The first pfn that does not ascend
	 * ends the fast path for the record.
	 */
	bool descended;           /* a pfn of this record was not above all before it */
	bool any;                 /* a pfn of this record was added */
	uint64_t top;             /* the highest so far, tracked or not (see run_hi) */
	bool run_live;            /* run_lo..run_hi are waiting to be written */
	uint64_t run_lo, run_hi;
	size_t run_slot;
} xen_pfnset;

/* Forget every pfn (keeps the memory for the next record). */
void xen_pfnset_clear(xen_pfnset *s);
/*
 * Add pfn: 0 when new, 1 when already there, -1 when it cannot be tracked
 * (its leaf would pass the cap, or memory ran out): its repeats go unseen.
 */
int xen_pfnset_add_slow(xen_pfnset *s, uint64_t pfn);
static inline int xen_pfnset_add(xen_pfnset *s, uint64_t pfn)
{
	/* The next neighbour of a run, in the run's leaf. */
	if (s->run_live && pfn == s->run_hi + 1 &&
	    (pfn & ((UINT64_C(1) << XEN_PFNSET_LEAF_BITS) - 1)) != 0) {
		s->run_hi = pfn;
		return 0;
	}
	return xen_pfnset_add_slow(s, pfn);
}
void xen_pfnset_free(xen_pfnset *s);

/* ---- libxc ---------------------------------------------------------------- */

/* Why the libxc verifier handed control back. */
typedef enum xen_libxc_stop {
	XEN_LIBXC_END,        /* END record read (and, bare, nothing after it) */
	XEN_LIBXC_CHECKPOINT, /* CHECKPOINT record read (nested mode only) */
	XEN_LIBXC_EOF,        /* clean end of input after a CHECKPOINT */
	XEN_LIBXC_FAILED      /* cannot go on: truncated, unusable, stopped */
} xen_libxc_stop;

/* Page types (bits 63-60 of a PAGE_DATA pfn word). */
#define XEN_PFN_TYPES 16

typedef struct xen_libxc {
	sv_ctx *cx;
	sv_stream *in;
	bool nested;           /* inside libxl: CHECKPOINT hands control back */
	uint64_t *next_index;  /* record counter shared with the parent */
	uint64_t own_index;

	/* headers */
	uint64_t start_off;
	bool big_endian;
	uint32_t version;      /* 2 or 3; other values are treated as 3 */
	uint32_t guest_type;   /* 1 PV, 2 HVM, else unknown */
	uint32_t xen_major, xen_minor;
	bool headers_ok;

	/* stream rules */
	bool seen_end;
	bool last_was_checkpoint;
	uint64_t last_rec_off;  /* offset of the last record read */
	bool seen_static_data_end;
	bool reported_no_static_data_end;
	bool seen_pv_info;
	uint8_t pv_width, pv_levels;
	bool seen_p2m_frames;
	uint64_t p2m_end_pfn;  /* highest end_pfn of X86_PV_P2M_FRAMES so far */
	bool seen_page_data;
	bool reported_page_data_order;
	bool reported_vcpu_order;
	bool vcpu0_basic;
	bool seen_hvm_context;
	bool finished;

	/* figures for --verbose */
	uint64_t pages[XEN_PFN_TYPES];
	uint64_t pfn_min, pfn_max;
	uint64_t page_data_records;
	uint64_t checkpoints;
	uint64_t hvm_cpus;     /* CPU entries of the last HVM_CONTEXT */
	unsigned char vcpu_seen[1024]; /* bitmap of vcpu ids 0..8191 */
	uint64_t vcpus;

	/* consecutive PAGE_DATA records, squashed into one --verbose line */
	uint64_t squash_count, squash_index, squash_off, squash_bytes, squash_pages;

	/* pfns of the current PAGE_DATA record, for the duplicate check */
	xen_pfnset pfnset;
} xen_libxc;

/*
 * Set up a verifier at the current position of in.  next_index is the
 * record counter to share (NULL: its own).
 */
void xen_libxc_init(xen_libxc *x, sv_ctx *cx, sv_stream *in, bool nested,
		    uint64_t *next_index);
/* Read and check both headers; false when the records cannot be read. */
bool xen_libxc_headers(xen_libxc *x);
/* Verify records up to END, a CHECKPOINT (nested) or the end of input. */
xen_libxc_stop xen_libxc_records(xen_libxc *x);
/* End-of-stream rules and --verbose figures; frees memory.  Idempotent. */
void xen_libxc_finish(xen_libxc *x);

/* Does the start of an input look like a libxc v2+ image header? */
bool xen_libxc_is_header(const unsigned char *p, size_t n);

/*
 * The next len octets are the body of an HVM_CONTEXT record (little-endian):
 * walk its save chain as hvm_load does, with libxc's codes, and skip the
 * rest.  False when the input ended first (reported).
 */
bool xen_libxc_hvm_context(sv_ctx *cx, sv_stream *in, uint32_t len);

/* ---- legacy (pre-Xen-4.6) streams ------------------------------------------ */

/*
 * Verify a legacy stream at the current position as convert-legacy-stream
 * reads it for libxl, and the v2 rules on what it would write.  guest:
 * XEN_GUEST_PV or XEN_GUEST_HVM as the caller knows it (from names where,
 * e.g. "the xl config"), or 0: from the guest parameter, else the layout.
 */
void xen_legacy_verify(sv_ctx *cx, sv_stream *in, uint32_t guest, const char *from);

/* ---- libxl ---------------------------------------------------------------- */

#define XEN_LIBXL_IDENT UINT64_C(0x4c6962786c466d74) /* "LibxlFmt" */

/*
 * Verify a libxl stream at the current position.  checkpoint_code: when the
 * stream sits in an xl save file, where a checkpointed stream cannot be
 * restored, the code to report its first CHECKPOINT with; NULL otherwise.
 */
void xen_libxl_verify_stream(sv_ctx *cx, sv_stream *in,
			     const sv_code *checkpoint_code);

#endif /* SV_FORMATS_XEN_H */
