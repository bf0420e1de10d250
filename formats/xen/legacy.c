/*
 * Legacy (pre-Xen-4.6) libxc streams, verified the way Xen's
 * convert-legacy-stream (Xen 4.17, tools/python/scripts) reads them when
 * libxl restores one (--width 64 --format libxl): the header, PV extended
 * info and p2m frame list, every chunk of the body, the PV or HVM tail and
 * the qemu record; then the rules of the v2 libxc/libxl restore on the
 * records the converter would write from them.  Layout and rules:
 * Xen's tools/python/scripts/convert-legacy-stream and libxc's legacy reader.  Page contents are never
 * read, only skipped; memory is a fixed state plus one page batch's pfns.
 *
 * The guest type decides the layout.  It comes from the xl config (xl
 * files), from the module parameter guest=pv|hvm (--guest), or else from the
 * layout: a PV stream has the ~0 extended-info marker at octet 8, and a
 * stream without it can be converted only as HVM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/xen/xen.h"

#define LEGACY_CODES(X) \
	X(C_GUEST_INFERRED, "libxc-legacy.guest.inferred", NOTE, "guest type not given (--guest pv|hvm): taken from the stream's layout") \
	X(C_GUEST_PARAM, "libxc-legacy.guest.param", ERROR, "the guest parameter is not pv or hvm") \
	X(C_EXT_MARKER, "libxc-legacy.pv.ext-marker", ERROR, "PV stream without the ~0 extended-info marker at octet 8") \
	X(C_EXT_BLOCK, "libxc-legacy.pv.ext-block-unknown", ERROR, "extended-info block with an id other than vcpu, extv, xcnt") \
	X(C_EXT_VCPU_SIZE, "libxc-legacy.pv.vcpu-block-size", ERROR, "extended-info vcpu block size is not 0x1430 (64-bit) or 0xaf0 (32-bit)") \
	X(C_EXT_VCPU_DUP, "libxc-legacy.pv.vcpu-block-duplicate", ERROR, "second extended-info vcpu block: a second X86_PV_INFO") \
	X(C_EXT_XCNT, "libxc-legacy.pv.xcnt-size", ERROR, "extended-info xcnt block shorter than 4 octets") \
	X(C_EXT_OVERSHOOT, "libxc-legacy.pv.ext-overshoot", ERROR, "extended-info blocks run past the extended-info length") \
	X(C_EXT_NO_VCPU, "libxc-legacy.pv.no-vcpu-block", ERROR, "extended info without a vcpu block: guest width unknown") \
	X(C_P2M_SIZE, "libxc-legacy.pv.p2m-size", ERROR, "PV p2m_size is 0 or above 2^32") \
	X(C_BATCH_SIZE, "libxc-legacy.batch.too-large", ERROR, "page batch of more than 1024 pfns (MAX_BATCH)") \
	X(C_BATCH_DUP, "libxc-legacy.batch.duplicate", ERROR, "page batch repeats a pfn word (\"Duplicate pfns in batch\")") \
	X(C_BATCH_EMPTY, "libxc-legacy.batch.empty", ERROR, "page batch of XTAB placeholders only: a PAGE_DATA with count 0") \
	X(C_BATCH_TYPE, "libxc-legacy.batch.pfn-type", ERROR, "page batch word with an invalid page type (5-8)") \
	X(C_BATCH_REPEAT, "libxc-legacy.batch.pfn-repeated", ERROR, "page batch words differ but name the same pfn: PAGE_DATA repeats it") \
	X(C_BATCH_BEYOND, "libxc-legacy.batch.pfn-beyond-p2m", ERROR, "PV pfn above p2m_size - 1") \
	X(C_VCPU_MAX, "libxc-legacy.vcpu-info.max-id", ERROR, "vcpu_info max_id above 4095") \
	X(C_HVM_ONLY, "libxc-legacy.chunk.hvm-only", ERROR, "HVM parameter chunk in a PV stream") \
	X(C_UNSUPPORTED, "libxc-legacy.chunk.unsupported", ERROR, "tmem or compression chunk, which the converter does not support") \
	X(C_UNKNOWN, "libxc-legacy.chunk.unknown", ERROR, "unknown chunk marker") \
	X(C_TS_VERSION, "libxc-legacy.toolstack.version", ERROR, "toolstack chunk is not libxl's version 1 physmap") \
	X(C_TS_SHORT, "libxc-legacy.toolstack.truncated", ERROR, "toolstack chunk too short for its physmap entries") \
	X(C_TS_NAME, "libxc-legacy.toolstack.name", ERROR, "physmap entry name empty, not NUL-terminated or not UTF-8") \
	X(C_TS_XENSTORE, "libxc-legacy.toolstack.xenstore", ERROR, "NULs inside physmap names break the derived EMULATOR_XENSTORE_DATA") \
	X(C_TS_PV, "libxc-legacy.toolstack.pv-guest", ERROR, "physmap data in a PV stream: an emulator record libxl refuses for PV") \
	X(C_NO_PAGES, "libxc-legacy.pv.no-page-data", ERROR, "PV stream without page data before its vcpu state") \
	X(C_VCPU0, "libxc-legacy.pv.vcpu0-missing", ERROR, "PV stream without vcpu 0 online: no basic state for vcpu 0") \
	X(C_XSAVE_SIZE, "libxc-legacy.pv.xsave-size", ERROR, "vcpu xsave size is not the xcnt length - 16") \
	X(C_XSAVE_SHORT, "libxc-legacy.pv.xsave-short", ERROR, "vcpu xsave area of 1-15 octets: X86_PV_VCPU_XSAVE too short") \
	X(C_HVM_CTX_LONG, "libxc-legacy.hvm.context-too-long", ERROR, "HVM context longer than the restore's 128 MiB record limit") \
	X(C_QEMU_SIG, "libxc-legacy.qemu.signature", ERROR, "qemu record signature is not \"DeviceModelRecord0002\"") \
	X(C_TRAILING, "libxc-legacy.trailing-data", WARNING, "octets after the legacy stream's tail, which the converter never reads")

enum { LEGACY_CODES(SV_CODE_ENUM) LEGACY_NCODES };
static const sv_code legacy_codes[] = { LEGACY_CODES(SV_CODE_ROW) };

#define CODE(c) (&legacy_codes[c])

#define EXT_MARKER UINT64_MAX
#define VCPU_BLOCK_64 0x1430u     /* 64-bit vcpu_guest_context: width 8, 4 levels */
#define VCPU_BLOCK_32 0xaf0u      /* 32-bit: width 4, 3 levels */
#define MAX_BATCH 1024
#define MAX_VCPU_ID 4095
#define XTAB_WORD UINT64_C(0xf0000000)
#define LEGACY_PFN_MASK 0x0fffffffu
#define VCPU_EXTD_SIZE 128u
#define QEMU_SIG "DeviceModelRecord0002"
#define QEMU_SIG_LEN 21u
#define XSAVE_HDR 16u             /* u64 mask, u64 size */
#define NAME_SHOWN 32             /* octets of a name quoted in a message */
#define VCPU_IDS_KEPT 16384u      /* ids of online vcpus kept for messages */

/* Chunk markers (xen/migration/legacy.py). */
enum {
	CH_END = 0, CH_VERIFY = -1, CH_VCPU_INFO = -2, CH_IDENT_PT = -3,
	CH_VM86_TSS = -4, CH_TMEM = -5, CH_TMEM_EXTRA = -6, CH_TSC_INFO = -7,
	CH_CONSOLE_PFN = -8, CH_LAST_CHECKPOINT = -9, CH_ACPI_IOPORTS = -10,
	CH_VIRIDIAN = -11, CH_COMPRESSED = -12, CH_ENABLE_COMPRESSION = -13,
	CH_GENID_ADDR = -14, CH_PAGING_RING = -15, CH_MONITOR_RING = -16,
	CH_SHARING_RING = -17, CH_TOOLSTACK = -18, CH_IOREQ_SERVER_PFN = -19,
	CH_NR_IOREQ_SERVER_PAGES = -20, CH_MIN = -20
};

static const char *const chunk_names[] = {
	"end", "verify mode", "vcpu_info", "hvm_ident_pt", "hvm_vm86_tss", "tmem",
	"tmem_extra", "tsc_info", "hvm_console_pfn", "last_checkpoint",
	"hvm_acpi_ioports_location", "hvm_viridian", "compressed_data",
	"enable_compression", "hvm_generation_id_addr", "hvm_paging_ring_pfn",
	"hvm_monitor_ring_pfn", "hvm_sharing_ring_pfn", "toolstack",
	"hvm_ioreq_server_pfn", "hvm_nr_ioreq_server_pages",
};

/* A word of a page batch, with its place, for the repeat checks. */
typedef struct batch_word {
	uint64_t word;
	uint32_t index;
} batch_word;

/* The strings of the EMULATOR_XENSTORE_DATA the converter derives. */
typedef struct xs_derived {
	uint64_t strings;     /* strings completed */
	uint32_t cur_len;     /* octets of the string being fed */
	bool cur_bad;         /* it is a key and holds a bad octet */
	uint64_t cur_off;     /* where it starts (its first octet, or its NUL) */
	uint64_t last_split;  /* offset of the last NUL inside a name */
	bool reported;
} xs_derived;

typedef struct legacy {
	sv_ctx *cx;
	sv_stream *in;
	uint64_t start;        /* offset of the stream's first octet */
	uint32_t guest;        /* XEN_GUEST_PV or XEN_GUEST_HVM */
	const char *guest_from;
	uint64_t index;        /* chunk counter, for the record context */
	uint64_t p2m_size;
	uint32_t basic_len;    /* size of the vcpu block: one vcpu's basic state */
	bool extd;
	uint32_t xsave_len;
	/* online vcpus, in the order the tail sends their state */
	uint16_t vcpu_ids[VCPU_IDS_KEPT];
	uint64_t nvcpus;
	bool vcpu0;
	bool page_data;        /* a PAGE_DATA record would be written */
	bool reported_hvm_only;
	bool reported_ts_pv;
	bool xenstore;         /* the derived EMULATOR_XENSTORE_DATA is not empty */
	xs_derived xs;
	uint64_t batches, pages;
	batch_word batch[MAX_BATCH];
} legacy;

/* ---- helpers ---------------------------------------------------------------- */

static void chunk(legacy *lg, const char *name)
{
	sv_set_record(lg->cx, lg->index++, name);
	sv_count_record(lg->cx);
}

/* Skip n octets of the stream, or report the truncation. */
static bool skip(legacy *lg, uint64_t n, const char *what)
{
	uint64_t at = sv_offset(lg->in), got = sv_skip(lg->in, n);

	if (got == n)
		return true;
	sv_report_truncated(lg->cx, at, n, got, what);
	return false;
}

/* A block id or signature as text: printable ASCII kept, the rest as \xNN. */
static const char *shown(const unsigned char *p, size_t n, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used + 5 < size; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '"')
			buf[used++] = (char)p[i];
		else
			used += (size_t)snprintf(buf + used, size - used, "\\x%02x", p[i]);
	}
	buf[used < size ? used : size - 1] = '\0';
	return buf;
}

/* ---- derived xenstore data -------------------------------------------------- */

/*
 * The converter joins, per physmap entry, "physmap/<phys>/start_addr",
 * "<start>", ".../size", "<size>", ".../name", name with NULs, so a NUL
 * inside a name splits it and shifts keys and values; libxl then checks
 * each key (non-empty, relative, xenstore characters) and that every key
 * has a value (libxl_dom_save.c / libxl_stream_read.c, and the spec).
 */
static void xs_end_string(legacy *lg, uint64_t nul_off)
{
	xs_derived *x = &lg->xs;
	bool key = x->strings % 2 == 0;

	if (key && !x->reported && (x->cur_len == 0 || x->cur_bad)) {
		x->reported = true;
		sv_report(lg->cx, CODE(C_TS_XENSTORE), x->cur_len ? x->cur_off : nul_off,
			  "a NUL inside a physmap name makes part of it a xenstore key "
			  "of the derived EMULATOR_XENSTORE_DATA, and that key is %s: "
			  "libxl rejects it",
			  x->cur_len == 0 ? "empty" : "not a relative xenstore path");
	}
	x->strings++;
	x->cur_len = 0;
	x->cur_bad = false;
}

/* A string the converter writes itself (valid as key and as value). */
static void xs_own_string(legacy *lg)
{
	lg->xs.cur_len = 1;
	xs_end_string(lg, 0);
}

static void xs_name_octet(legacy *lg, unsigned char c, uint64_t off)
{
	xs_derived *x = &lg->xs;

	if (c == 0) {
		x->last_split = off;
		xs_end_string(lg, off);
		return;
	}
	if (x->cur_len == 0)
		x->cur_off = off;
	if (!xen_xs_key_char_ok(c) || (x->cur_len == 0 && c == '/'))
		x->cur_bad = true;
	x->cur_len++;
}

/* ---- toolstack (libxl's version 1 physmap) ---------------------------------- */

/* Streaming check of one name: NULs split it, UTF-8 strictly (Python's decode). */
typedef struct name_walk {
	legacy *lg;
	uint64_t left;         /* octets of name[:-1] still to feed */
	unsigned need;         /* UTF-8 continuation octets expected */
	unsigned char lo, hi;  /* range of the next continuation octet */
	uint64_t bad_off;      /* first octet that is not UTF-8, or UINT64_MAX */
	uint64_t seq_off;      /* start of the current UTF-8 sequence */
	unsigned char last;    /* the name's last octet (must be NUL) */
} name_walk;

static void utf8_octet(name_walk *w, unsigned char c, uint64_t off)
{
	if (w->bad_off != UINT64_MAX)
		return;
	if (w->need > 0) {
		if (c < w->lo || c > w->hi) {
			w->bad_off = w->seq_off;
			return;
		}
		w->lo = 0x80;
		w->hi = 0xbf;
		w->need--;
		return;
	}
	w->seq_off = off;
	w->lo = 0x80;
	w->hi = 0xbf;
	if (c < 0x80)
		return;
	if (c >= 0xc2 && c <= 0xdf)
		w->need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		w->need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		w->need = 3;
	else
		w->bad_off = off;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (c == 0xe0)
		w->lo = 0xa0;
	else if (c == 0xed)
		w->hi = 0x9f;
	else if (c == 0xf0)
		w->lo = 0x90;
	else if (c == 0xf4)
		w->hi = 0x8f;
}

static int name_piece(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	name_walk *w = arg;

	for (size_t i = 0; i < n; i++) {
		if (w->left > 0) {
			utf8_octet(w, p[i], off + i);
			xs_name_octet(w->lg, p[i], off + i);
			w->left--;
		}
		w->last = p[i];
	}
	return 0;
}

/*
 * The toolstack chunk's data: u32 version (1), u32 count, then count
 * entries {u64 phys, u64 start, u64 size, u32 namelen} each followed by
 * namelen + 4 octets (64-bit senders leaked 4 octets of padding after the
 * name), the name's octet namelen - 1 a NUL.  What follows the entries is
 * ignored by the converter.  False when the converter fails.
 */
static bool check_physmap(legacy *lg, uint32_t size)
{
	unsigned char h[28];
	uint64_t at = sv_offset(lg->in), left = size;
	uint32_t version, count;

	if (size < 8) {
		sv_report(lg->cx, CODE(C_TS_SHORT), at,
			  "toolstack data of %u octet(s) cannot hold the 8-octet physmap "
			  "header (\"Overly short libxl toolstack data\")", size);
		return false;
	}
	if (!sv_need(lg->cx, lg->in, h, 8, "physmap header"))
		return false;
	left -= 8;
	version = xen_ld32(false, h);
	count = xen_ld32(false, h + 4);
	if (version != 1) {
		sv_report(lg->cx, CODE(C_TS_VERSION), at,
			  "physmap version is %u, the converter decodes only 1", version);
		return false;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t eoff = sv_offset(lg->in), phys, namelen, name_off, got;
		name_walk w = { .lg = lg, .bad_off = UINT64_MAX };

		if (left < sizeof(h)) {
			sv_report(lg->cx, CODE(C_TS_SHORT), eoff,
				  "physmap entry %u of %u: %llu octet(s) left, its header "
				  "needs 28 (\"Remaining data too short for physmap header\")",
				  i, count, (unsigned long long)left);
			return false;
		}
		if (!sv_need(lg->cx, lg->in, h, sizeof(h), "physmap entry"))
			return false;
		left -= sizeof(h);
		phys = xen_ld64(false, h);
		namelen = xen_ld32(false, h + 24);
		name_off = eoff + sizeof(h);
		if (namelen == 0) {
			sv_report(lg->cx, CODE(C_TS_NAME), eoff + 24,
				  "physmap entry %u has name length 0 (\"No physmap info name\")", i);
			return false;
		}
		if (left < namelen + 4) {
			sv_report(lg->cx, CODE(C_TS_SHORT), eoff + 24,
				  "physmap entry %u: name of %llu octets plus 4 of padding, "
				  "only %llu left (\"Remaining data too short for physmap name\")",
				  i, (unsigned long long)namelen, (unsigned long long)left);
			return false;
		}
		/* start_addr, its value, size, its value, then the name key. */
		for (int k = 0; k < 5; k++)
			xs_own_string(lg);
		w.left = namelen - 1;
		got = sv_scan(lg->in, namelen, name_piece, &w);
		if (got != namelen) {
			sv_report_truncated(lg->cx, name_off, namelen, got, "physmap name");
			return false;
		}
		if (w.last != 0) {
			sv_report(lg->cx, CODE(C_TS_NAME), name_off + namelen - 1,
				  "physmap entry %u (phys 0x%llx): the name's last octet is "
				  "0x%02x, not NUL (\"physmap name not NUL terminated\")",
				  i, (unsigned long long)phys, w.last);
			return false;
		}
		if (w.bad_off != UINT64_MAX || w.need > 0) {
			sv_report(lg->cx, CODE(C_TS_NAME),
				  w.bad_off != UINT64_MAX ? w.bad_off : w.seq_off,
				  "physmap entry %u (phys 0x%llx): the name is not UTF-8; the "
				  "converter fails decoding it", i, (unsigned long long)phys);
			return false;
		}
		xs_end_string(lg, name_off + namelen - 1);
		lg->xenstore = true;
		if (!skip(lg, 4, "physmap name padding"))
			return false;
		left -= namelen + 4;
	}
	return skip(lg, left, "toolstack data");
}

/* ---- header and PV extended info --------------------------------------------- */

static bool read_ext_info(legacy *lg)
{
	unsigned char b[12];
	uint64_t at = sv_offset(lg->in), total_off, so_far = 0;
	uint32_t total;
	bool vcpu = false;
	char idbuf[24];

	chunk(lg, "extended info");
	if (!sv_need(lg->cx, lg->in, b, 12, "extended-info marker and length"))
		return false;
	if (xen_ld64(false, b) != EXT_MARKER) {
		sv_report(lg->cx, CODE(C_EXT_MARKER), at,
			  "octets 8-15 are 0x%016llx, not the extended-info marker of a PV "
			  "stream (\"Unexpected extended info marker\"); the guest type pv "
			  "came from %s", (unsigned long long)xen_ld64(false, b), lg->guest_from);
		return false;
	}
	total_off = at + 8;
	total = xen_ld32(false, b + 8);
	while (so_far < total) {
		uint64_t boff = sv_offset(lg->in);
		uint32_t size;

		if (!sv_need(lg->cx, lg->in, b, 8, "extended-info block header"))
			return false;
		size = xen_ld32(false, b + 4);
		so_far += 8 + (uint64_t)size;
		if (memcmp(b, "vcpu", 4) == 0) {
			if (size != VCPU_BLOCK_64 && size != VCPU_BLOCK_32) {
				sv_report(lg->cx, CODE(C_EXT_VCPU_SIZE), boff + 4,
					  "vcpu block of 0x%x octets: neither a 64-bit (0x1430) nor a "
					  "32-bit (0xaf0) vcpu context (\"Unable to determine guest "
					  "width/level\")", size);
				return false;
			}
			if (vcpu)
				sv_report(lg->cx, CODE(C_EXT_VCPU_DUP), boff,
					  "a second vcpu block: the converter writes a second "
					  "X86_PV_INFO, which the restore refuses (\"Already "
					  "received X86_PV_INFO\")");
			vcpu = true;
			lg->basic_len = size;
		} else if (memcmp(b, "extv", 4) == 0) {
			lg->extd = true;
		} else if (memcmp(b, "xcnt", 4) == 0) {
			unsigned char x[4];

			if (size < 4) {
				sv_report(lg->cx, CODE(C_EXT_XCNT), boff + 4,
					  "xcnt block of %u octet(s) cannot hold the u32 xsave "
					  "length (the converter fails unpacking it)", size);
				return false;
			}
			if (!sv_need(lg->cx, lg->in, x, 4, "xcnt xsave length"))
				return false;
			lg->xsave_len = xen_ld32(false, x);
			size -= 4;
		} else {
			sv_report(lg->cx, CODE(C_EXT_BLOCK), boff,
				  "extended-info block \"%s\" (\"Unrecognised extended block\"): "
				  "only vcpu, extv and xcnt exist",
				  shown(b, 4, idbuf, sizeof(idbuf)));
			return false;
		}
		if (!skip(lg, size, "extended-info block"))
			return false;
	}
	if (so_far != total) {
		sv_report(lg->cx, CODE(C_EXT_OVERSHOOT), total_off,
			  "extended info is %u octets, its blocks take %llu (\"Overshot "
			  "Extended Info size\")", total, (unsigned long long)so_far);
		return false;
	}
	if (!vcpu) {
		sv_report(lg->cx, CODE(C_EXT_NO_VCPU), total_off,
			  "no vcpu block: the guest's width is unknown and the converter "
			  "fails computing the p2m frame list");
		return false;
	}
	return true;
}

/* The p2m frame list: one u64 per p2m page (-> X86_PV_P2M_FRAMES). */
static bool read_p2m_frames(legacy *lg)
{
	uint64_t fpp = XEN_PAGE_SIZE / (lg->basic_len == VCPU_BLOCK_64 ? 8 : 4);

	chunk(lg, "p2m frame list");
	/* Its X86_PV_P2M_FRAMES carries end_pfn p2m_size - 1 as a u32. */
	if (lg->p2m_size == 0 || lg->p2m_size > (UINT64_C(1) << 32)) {
		sv_report(lg->cx, CODE(C_P2M_SIZE), lg->start,
			  "p2m_size is 0x%llx: the converter writes end_pfn p2m_size - 1 "
			  "as a u32 and fails outside 1 .. 2^32",
			  (unsigned long long)lg->p2m_size);
		return false;
	}
	return skip(lg, 8 * ((lg->p2m_size - 1) / fpp + 1), "p2m frame list");
}

/* ---- page batches -------------------------------------------------------------- */

static int cmp_batch_word(const void *a, const void *b)
{
	const batch_word *x = a, *y = b;
	uint32_t px = (uint32_t)x->word & LEGACY_PFN_MASK, py = (uint32_t)y->word & LEGACY_PFN_MASK;

	if (px != py)
		return px < py ? -1 : 1;
	if (x->word != y->word)
		return x->word < y->word ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * The converter drops the words equal to 0xf0000000, refuses a batch with
 * two equal words, and writes the rest as one PAGE_DATA with the type
 * nibble (bits 31-28) moved to bits 63-60 and the pfn in bits 27-0; the
 * restore then refuses types 5-8, repeated pfns, and PV pfns beyond the p2m.
 */
static bool check_batch(legacy *lg, uint64_t at, uint32_t n)
{
	unsigned char buf[8 * 64];
	uint32_t kept = 0, with_data = 0;
	uint64_t words_off = at + 4, dup_at = UINT64_MAX, rep_at = UINT64_MAX;
	uint32_t rep_pfn = 0;
	bool bad_type = false, beyond = false;

	lg->batches++;
	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done < 64 ? n - done : 64;

		if (!sv_need(lg->cx, lg->in, buf, 8 * (size_t)k, "page batch pfns"))
			return false;
		for (uint32_t i = 0; i < k; i++) {
			uint64_t w = xen_ld64(false, buf + 8 * i);
			unsigned type = (unsigned)(w >> 28) & 0xf;
			uint32_t idx = done + i;

			if (w == XTAB_WORD)
				continue;
			lg->batch[kept].word = w;
			lg->batch[kept].index = idx;
			kept++;
			if (type >= 5 && type <= 8 && !bad_type) {
				bad_type = true;
				sv_report(lg->cx, CODE(C_BATCH_TYPE), words_off + 8 * (uint64_t)idx,
					  "word %u (0x%016llx) has page type %u; the restore "
					  "refuses types 5-8 (\"Unknown type\")",
					  idx, (unsigned long long)w, type);
			}
			if (lg->guest == XEN_GUEST_PV && (w & LEGACY_PFN_MASK) > lg->p2m_size - 1 &&
			    !beyond) {
				beyond = true;
				sv_report(lg->cx, CODE(C_BATCH_BEYOND), words_off + 8 * (uint64_t)idx,
					  "pfn 0x%llx is above p2m_size - 1 (0x%llx)",
					  (unsigned long long)(w & LEGACY_PFN_MASK),
					  (unsigned long long)(lg->p2m_size - 1));
			}
			if (type < 0xd)
				with_data++;
		}
		done += k;
	}
	if (kept == 0)
		sv_report(lg->cx, CODE(C_BATCH_EMPTY), at,
			  "all %u word(s) are XTAB placeholders (0xf0000000), which the "
			  "converter drops: it writes a PAGE_DATA with count 0", n);
	/*
	 * Equal words fail the converter; equal pfns alone, the restore.
	 * Sorted by pfn, word, place: equal words are neighbours, and a pfn's
	 * second place is the second smallest of its group.
	 */
	qsort(lg->batch, kept, sizeof(lg->batch[0]), cmp_batch_word);
	for (uint32_t i = 0, end; i < kept; i = end) {
		uint32_t pfn = (uint32_t)lg->batch[i].word & LEGACY_PFN_MASK;
		uint32_t first = UINT32_MAX, second = UINT32_MAX;

		for (end = i; end < kept &&
		     ((uint32_t)lg->batch[end].word & LEGACY_PFN_MASK) == pfn; end++) {
			uint32_t idx = lg->batch[end].index;

			if (end > i && lg->batch[end - 1].word == lg->batch[end].word &&
			    words_off + 8 * (uint64_t)idx < dup_at)
				dup_at = words_off + 8 * (uint64_t)idx;
			if (idx < first) {
				second = first;
				first = idx;
			} else if (idx < second) {
				second = idx;
			}
		}
		if (second != UINT32_MAX && words_off + 8 * (uint64_t)second < rep_at) {
			rep_at = words_off + 8 * (uint64_t)second;
			rep_pfn = pfn;
		}
	}
	if (dup_at != UINT64_MAX) {
		sv_report(lg->cx, CODE(C_BATCH_DUP), dup_at,
			  "word %llu repeats an earlier word of the batch (\"Duplicate pfns "
			  "in batch\")", (unsigned long long)((dup_at - words_off) / 8));
		return false;
	}
	if (rep_at != UINT64_MAX)
		sv_report(lg->cx, CODE(C_BATCH_REPEAT), rep_at,
			  "word %llu names pfn 0x%x again (with another type or other high "
			  "bits): the PAGE_DATA written repeats the pfn",
			  (unsigned long long)((rep_at - words_off) / 8), rep_pfn);
	lg->page_data = true;
	lg->pages += with_data;
	return skip(lg, (uint64_t)with_data * XEN_PAGE_SIZE, "page batch data");
}

/* ---- the body -------------------------------------------------------------------- */

static bool is_hvm_param_chunk(int32_t m)
{
	switch (m) {
	case CH_IDENT_PT: case CH_VM86_TSS: case CH_CONSOLE_PFN: case CH_ACPI_IOPORTS:
	case CH_VIRIDIAN: case CH_GENID_ADDR: case CH_PAGING_RING: case CH_MONITOR_RING:
	case CH_SHARING_RING: case CH_IOREQ_SERVER_PFN: case CH_NR_IOREQ_SERVER_PAGES:
		return true;
	default:
		return false;
	}
}

static bool read_vcpu_info(legacy *lg)
{
	unsigned char b[8 * 64];
	uint64_t at = sv_offset(lg->in);
	int32_t max_id;
	uint32_t words;

	if (!sv_need(lg->cx, lg->in, b, 4, "vcpu_info max_id"))
		return false;
	max_id = (int32_t)xen_ld32(false, b);
	if (max_id > MAX_VCPU_ID) {
		sv_report(lg->cx, CODE(C_VCPU_MAX), at,
			  "max_id is %d, at most %d (\"Vcpu max_id out of range\")",
			  max_id, MAX_VCPU_ID);
		return false;
	}
	/* Python's max_id // 64 + 1: no bitmap at all for a negative max_id. */
	words = max_id < 0 ? 0 : (uint32_t)max_id / 64 + 1;
	if (!sv_need(lg->cx, lg->in, b, 8 * (size_t)words, "vcpu_info online bitmap"))
		return false;
	for (uint32_t i = 0; i < words; i++) {
		uint64_t w = xen_ld64(false, b + 8 * i);

		for (unsigned bit = 0; bit < 64; bit++) {
			if (!(w >> bit & 1))
				continue;
			/* A second vcpu_info appends: the tail sends them all. */
			if (lg->nvcpus < VCPU_IDS_KEPT)
				lg->vcpu_ids[lg->nvcpus] = (uint16_t)(i * 64 + bit);
			lg->nvcpus++;
			if (i == 0 && bit == 0)
				lg->vcpu0 = true;
		}
	}
	return true;
}

/* The chunks up to the end marker.  False when the converter fails. */
static bool read_body(legacy *lg)
{
	for (;;) {
		unsigned char b[20];
		uint64_t at = sv_offset(lg->in);
		int32_t m;

		sv_set_record(lg->cx, lg->index, "chunk header");
		if (sv_stopped(lg->cx) || !sv_need(lg->cx, lg->in, b, 4, "chunk marker"))
			return false;
		m = (int32_t)xen_ld32(false, b);
		if (m > 0) {
			chunk(lg, "page batch");
			if (m > MAX_BATCH) {
				sv_report(lg->cx, CODE(C_BATCH_SIZE), at,
					  "page batch of %d pfns exceeds MAX_BATCH (1024)", m);
				return false;
			}
			if (!check_batch(lg, at, (uint32_t)m))
				return false;
			continue;
		}
		chunk(lg, m >= CH_MIN ? chunk_names[-m] : "unknown chunk");
		if (m == CH_END)
			return !lg->reported_hvm_only; /* the converter fails here */
		if (m == CH_VERIFY || m == CH_LAST_CHECKPOINT)
			continue;
		if (m == CH_VCPU_INFO) {
			if (!read_vcpu_info(lg))
				return false;
		} else if (is_hvm_param_chunk(m)) {
			if (!sv_need(lg->cx, lg->in, b, 12, "HVM parameter chunk"))
				return false;
			if (lg->guest == XEN_GUEST_PV && !lg->reported_hvm_only) {
				lg->reported_hvm_only = true;
				sv_report(lg->cx, CODE(C_HVM_ONLY), at,
					  "%s chunk in a PV stream: the converter fails at the "
					  "end of the body (\"HVM-only param in PV stream\")",
					  chunk_names[-m]);
			}
		} else if (m == CH_TSC_INFO) {
			/* u32 mode, u64 nsec, u32 khz, u32 incarnation -> X86_TSC_INFO */
			if (!sv_need(lg->cx, lg->in, b, 20, "tsc_info chunk"))
				return false;
		} else if (m == CH_TOOLSTACK) {
			uint32_t size;

			if (!sv_need(lg->cx, lg->in, b, 4, "toolstack size"))
				return false;
			size = xen_ld32(false, b);
			if (size > 0 && !check_physmap(lg, size))
				return false;
			if (lg->guest == XEN_GUEST_PV && lg->xenstore && !lg->reported_ts_pv) {
				lg->reported_ts_pv = true;
				sv_report(lg->cx, CODE(C_TS_PV), at,
					  "physmap entries in a PV stream: the converter writes "
					  "an EMULATOR_XENSTORE_DATA record, which libxl refuses "
					  "for a PV guest");
			}
		} else if (m >= CH_MIN) {
			sv_report(lg->cx, CODE(C_UNSUPPORTED), at,
				  "%s chunk (%d): the converter does not support it",
				  chunk_names[-m], m);
			return false;
		} else {
			sv_report(lg->cx, CODE(C_UNKNOWN), at,
				  "chunk marker %d is unknown (\"Unrecognised chunk\")", m);
			return false;
		}
	}
}

/* ---- tails ------------------------------------------------------------------------ */

static bool read_pv_tail(legacy *lg)
{
	unsigned char b[XSAVE_HDR];
	uint64_t at = sv_offset(lg->in);
	bool short_reported = false;

	chunk(lg, "PV tail");
	if (!lg->vcpu0)
		sv_report(lg->cx, CODE(C_VCPU0), at,
			  "%s: the restore fails (\"Sender didn't send vcpu0's basic state\")",
			  lg->nvcpus == 0 ? "no vcpu_info chunk names an online vcpu"
					  : "vcpu 0 is not online in vcpu_info");
	else if (!lg->page_data)
		sv_report(lg->cx, CODE(C_NO_PAGES), at,
			  "no page batch before the vcpu state: the converted stream has "
			  "vcpu records before any PAGE_DATA");
	if (!sv_need(lg->cx, lg->in, b, 4, "PV tail unmapped pfn count") ||
	    !skip(lg, 8 * (uint64_t)xen_ld32(false, b), "unmapped pfns"))
		return false;
	for (uint64_t v = 0; v < lg->nvcpus; v++) {
		uint64_t size;
		unsigned id = v < VCPU_IDS_KEPT ? lg->vcpu_ids[v] : 0;

		sv_set_record(lg->cx, lg->index, "vcpu state");
		if (!skip(lg, lg->basic_len, "vcpu basic state") ||
		    (lg->extd && !skip(lg, VCPU_EXTD_SIZE, "vcpu extended state")))
			return false;
		if (lg->xsave_len == 0)
			continue;
		at = sv_offset(lg->in);
		if (!sv_need(lg->cx, lg->in, b, XSAVE_HDR, "vcpu xsave header"))
			return false;
		size = xen_ld64(false, b + 8);
		if (size != (uint64_t)lg->xsave_len - XSAVE_HDR || lg->xsave_len < XSAVE_HDR) {
			sv_report(lg->cx, CODE(C_XSAVE_SIZE), at + 8,
				  "vcpu %u%s: xsave size is %llu, the xcnt block says %u - 16 "
				  "(the converter's assertion fails)", id,
				  v < VCPU_IDS_KEPT ? "" : " (id not kept)",
				  (unsigned long long)size, lg->xsave_len);
			return false;
		}
		if (size > 0 && size < 16 && !short_reported) {
			short_reported = true;
			sv_report(lg->cx, CODE(C_XSAVE_SHORT), at + 8,
				  "vcpu %u: xsave area of %llu octet(s): the X86_PV_VCPU_XSAVE "
				  "written is shorter than the 16 the restore needs",
				  id, (unsigned long long)size);
		}
		if (!skip(lg, size, "vcpu xsave area"))
			return false;
	}
	return skip(lg, XEN_PAGE_SIZE, "shared info");
}

static bool read_hvm_tail(legacy *lg)
{
	unsigned char b[24];
	uint64_t at;
	uint32_t len;

	chunk(lg, "HVM tail");
	/* ioreq, bufioreq and store pfns -> HVM_PARAMS */
	if (!sv_need(lg->cx, lg->in, b, 24, "HVM magic pfns"))
		return false;
	at = sv_offset(lg->in);
	if (!sv_need(lg->cx, lg->in, b, 4, "HVM context length"))
		return false;
	len = xen_ld32(false, b);
	chunk(lg, "HVM context");
	if (len > XEN_REC_LENGTH_MAX) {
		sv_report(lg->cx, CODE(C_HVM_CTX_LONG), at,
			  "HVM context of %u octets: its HVM_CONTEXT record exceeds the "
			  "restore's limit of %u", len, XEN_REC_LENGTH_MAX);
		if (!skip(lg, len, "HVM context"))
			return false;
	} else if (!xen_libxc_hvm_context(lg->cx, lg->in, len)) {
		return false;
	}
	return true;
}

static bool read_qemu(legacy *lg)
{
	unsigned char sig[QEMU_SIG_LEN + 4];
	uint64_t at = sv_offset(lg->in);
	char buf[QEMU_SIG_LEN * 4 + 8];

	chunk(lg, "qemu record");
	if (!sv_need(lg->cx, lg->in, sig, QEMU_SIG_LEN, "qemu signature"))
		return false;
	if (memcmp(sig, QEMU_SIG, QEMU_SIG_LEN) != 0) {
		sv_report(lg->cx, CODE(C_QEMU_SIG), at,
			  "signature \"%s\": the converter knows only \"%s\" (\"Unrecognised "
			  "Qemu sig\")", shown(sig, QEMU_SIG_LEN, buf, sizeof(buf)), QEMU_SIG);
		return false;
	}
	if (!sv_need(lg->cx, lg->in, sig, 4, "qemu record length"))
		return false;
	/* -> EMULATOR_CONTEXT of emulator "unknown": not judged. */
	return skip(lg, xen_ld32(false, sig), "qemu record");
}

/* ---- entry points ----------------------------------------------------------------- */

/* The guest=pv|hvm module parameter, 0 when not given (or wrong: reported at off). */
static uint32_t guest_param(sv_ctx *cx, uint64_t off)
{
	const char *g = sv_param(cx, "guest");

	if (!g)
		return 0;
	if (strcmp(g, "pv") == 0)
		return XEN_GUEST_PV;
	if (strcmp(g, "hvm") == 0)
		return XEN_GUEST_HVM;
	sv_record_none(cx);
	sv_report(cx, CODE(C_GUEST_PARAM), off,
		  "guest parameter \"%.*s\" is neither pv nor hvm: the type is taken "
		  "from the stream's layout", NAME_SHOWN, g);
	return 0;
}

void xen_legacy_verify(sv_ctx *cx, sv_stream *in, uint32_t guest, const char *from)
{
	legacy *lg = calloc(1, sizeof(*lg));
	unsigned char b[8];
	uint64_t start = sv_offset(in);
	bool ok;

	if (!lg) {
		sv_report(cx, &sv_core_codes[SV_CORE_IO], start,
			  "out of memory: the legacy stream is not verified");
		return;
	}
	lg->cx = cx;
	lg->in = in;
	lg->start = start;
	lg->guest = guest;
	lg->guest_from = from;
	if (!guest) {
		uint32_t param = guest_param(cx, start);
		size_t avail;
		const unsigned char *p = sv_peek(in, 16, &avail);

		lg->guest_from = "--guest";
		lg->guest = param;
		if (!param) {
			lg->guest = avail == 16 && xen_ld64(false, p + 8) == EXT_MARKER
				    ? XEN_GUEST_PV : XEN_GUEST_HVM;
			lg->guest_from = "the stream's layout";
			sv_record_none(cx);
			sv_report(cx, CODE(C_GUEST_INFERRED), start,
				  lg->guest == XEN_GUEST_PV
				  ? "no guest type given: verified as PV, since octets 8-15 "
				    "hold the PV extended-info marker (give --guest hvm if it is not)"
				  : "no guest type given: verified as HVM, since octets 8-15 "
				    "are not the PV extended-info marker a PV stream must have");
		}
	}
	chunk(lg, "p2m_size");
	ok = sv_need(cx, in, b, 8, "legacy p2m_size");
	if (ok) {
		lg->p2m_size = xen_ld64(false, b);
		if (lg->guest == XEN_GUEST_PV)
			ok = read_ext_info(lg) && read_p2m_frames(lg);
	}
	ok = ok && read_body(lg);
	ok = ok && (lg->guest == XEN_GUEST_PV ? read_pv_tail(lg)
					       : read_hvm_tail(lg) && read_qemu(lg));
	if (ok && lg->xs.strings % 2 != 0 && !lg->xs.reported)
		sv_report(cx, CODE(C_TS_XENSTORE), lg->xs.last_split,
			  "the NULs inside physmap names leave the derived "
			  "EMULATOR_XENSTORE_DATA with a key without value: libxl rejects it");
	if (ok && !sv_at_end(in)) {
		sv_record_none(cx);
		sv_report(cx, CODE(C_TRAILING), sv_offset(in),
			  "data follows the legacy stream's %s tail; the converter never "
			  "reads it (a later checkpoint is not restored)",
			  lg->guest == XEN_GUEST_PV ? "PV" : "HVM");
	}
	if (sv_want_records(cx)) {
		sv_emit_stat(cx, "guest.type", "%s (from %s)",
			     lg->guest == XEN_GUEST_PV ? "x86 PV" : "x86 HVM", lg->guest_from);
		sv_emit_stat_u64(cx, "legacy.page_batches", lg->batches);
		sv_emit_stat_u64(cx, "legacy.pages", lg->pages);
		sv_emit_stat_u64(cx, "vcpus", lg->nvcpus);
	}
	free(lg);
}

static int legacy_bid(const sv_bid_input *in)
{
	const unsigned char *p = in->head;
	uint64_t p2m;

	/* Only a PV stream has evidence: p2m_size, ~0, length, a known block. */
	if (in->is_dir || in->head_len < 24)
		return 0;
	p2m = xen_ld64(false, p);
	if (p2m == 0 || p2m > (UINT64_C(1) << 32) || xen_ld64(false, p + 8) != EXT_MARKER)
		return 0;
	if (memcmp(p + 20, "vcpu", 4) == 0 || memcmp(p + 20, "extv", 4) == 0 ||
	    memcmp(p + 20, "xcnt", 4) == 0)
		return 70;
	return 0;
}

/*
 * Never a near miss: a legacy HVM stream has no magic, so a stream of any
 * other kind would "come close" by reading as chunks for a while.  The PV
 * marker is evidence enough for a bid (above); an HVM one is verified with
 * --format libxc-legacy --guest hvm.
 */
static int legacy_near(const sv_bid_input *in, char *why, size_t why_len)
{
	(void)in;
	(void)why;
	(void)why_len;
	return 0;
}

static void legacy_verify(sv_ctx *cx, sv_stream *in)
{
	xen_legacy_verify(cx, in, 0, NULL);
}

const sv_format sv_format_libxc_legacy = {
	.name = "libxc-legacy",
	.description = "Xen legacy (pre-4.6) libxc stream, as convert-legacy-stream "
		       "reads it for libxl; parameter guest=pv|hvm (--guest)",
	.codes = legacy_codes,
	.ncodes = LEGACY_NCODES,
	.bid = legacy_bid,
	.verify = legacy_verify,
	.verify_dir = NULL,
	.near = legacy_near,
};
