/*
 * libxc migration streams (Xen's domain save image format, versions 2 and
 * 3): image header, domain header, then records up to END.
 *
 * Rules follow Xen's stream specification
 * (docs/specs/libxc-migration-stream.pandoc) and what Xen 4.17's restore
 * (tools/libs/guest/xg_sr_restore*.c, hvm_load) accepts.  Page contents are
 * never read: only the pfn words are, in bounded chunks, and the pages are
 * skipped (a seek on regular files).  Repeated pfns are found with a
 * bounded sparse bitmap (xen_pfnset), never by keeping the pfns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/xen/xen.h"

#define LIBXC_CODES(X) \
	X(C_LEGACY, "libxc.header.legacy", ERROR, "no v2 image header marker: a legacy (pre-Xen-4.6) stream or not a libxc stream") \
	X(C_IDENT, "libxc.header.ident", ERROR, "image header id is not \"XENF\"") \
	X(C_VERSION, "libxc.header.version", ERROR, "image header version is not 2 or 3") \
	X(C_BIG_ENDIAN, "libxc.header.big-endian", ERROR, "stream declares big-endian byte order, which the x86 restore refuses") \
	X(C_OPTIONS, "libxc.header.options-reserved", ERROR, "reserved image header option bits are set") \
	X(C_HDR_RESERVED, "libxc.header.reserved", ERROR, "reserved image header fields are not zero") \
	X(C_DOM_TYPE, "libxc.domain.type", ERROR, "domain header type is not x86 PV (1) or x86 HVM (2)") \
	X(C_PAGE_SHIFT, "libxc.domain.page-shift", ERROR, "domain header page_shift is not 12") \
	X(C_DOM_RESERVED, "libxc.domain.reserved", ERROR, "reserved domain header field is not zero") \
	X(C_CONVERTED, "libxc.domain.legacy-converted", NOTE, "stream was converted from the legacy format (xen_major 0)") \
	X(C_TOO_LONG, "libxc.record.too-long", ERROR, "record body longer than the restore's 128 MiB limit") \
	X(C_UNKNOWN_MANDATORY, "libxc.record.unknown-mandatory", ERROR, "unknown mandatory record type (bit 31 clear)") \
	X(C_UNKNOWN_OPTIONAL, "libxc.record.unknown-optional", NOTE, "unknown optional record type skipped") \
	X(C_LENGTH, "libxc.record.length", ERROR, "record body length is wrong for its type") \
	X(C_RESERVED, "libxc.record.reserved", ERROR, "reserved record field is not zero") \
	X(C_PADDING, "libxc.padding.nonzero", ERROR, "record padding holds non-zero octets") \
	X(C_GUEST_TYPE, "libxc.record.guest-type", ERROR, "record belongs to the other guest type (PV vs HVM)") \
	X(C_V3_ONLY, "libxc.record.v3-only", ERROR, "record type exists only in version 3 streams") \
	X(C_TOOLSTACK, "libxc.record.toolstack", ERROR, "obsolete TOOLSTACK record in a stream to restore") \
	X(C_DIRTY_PFN_LIST, "libxc.record.dirty-pfn-list", ERROR, "CHECKPOINT_DIRTY_PFN_LIST belongs to the COLO back channel only") \
	X(C_END_TRAILING, "libxc.end.trailing-data", ERROR, "bytes follow the END record") \
	X(C_SDE_MISSING, "libxc.static-data-end.missing", ERROR, "version 3 stream without STATIC_DATA_END before memory records") \
	X(C_SDE_DUPLICATE, "libxc.static-data-end.duplicate", ERROR, "more than one STATIC_DATA_END record") \
	X(C_SDE_LATE, "libxc.static-data-end.late-record", WARNING, "static data record after STATIC_DATA_END") \
	X(C_PD_COUNT, "libxc.page-data.count-zero", ERROR, "PAGE_DATA record with count 0") \
	X(C_PD_LENGTH, "libxc.page-data.length", ERROR, "PAGE_DATA body length does not match its pfns") \
	X(C_PD_PFN_RESERVED, "libxc.page-data.pfn-reserved", ERROR, "reserved bits 59-52 of a pfn word are set") \
	X(C_PD_PFN_TYPE, "libxc.page-data.pfn-type", ERROR, "pfn word has an invalid page type (5-8)") \
	X(C_PD_DUPLICATE, "libxc.page-data.pfn-duplicate", ERROR, "pfn repeated within one PAGE_DATA record") \
	X(C_PD_UNCHECKED, "libxc.page-data.pfn-duplicate-unchecked", WARNING, "PAGE_DATA pfns too scattered to check for repeats within the memory cap") \
	X(C_PD_BEYOND_P2M, "libxc.page-data.pfn-beyond-p2m", ERROR, "PV pfn above every X86_PV_P2M_FRAMES end_pfn so far") \
	X(C_PV_INFO_GEOMETRY, "libxc.pv-info.width-levels", ERROR, "X86_PV_INFO (guest_width, pt_levels) is not (4, 3) or (8, 4)") \
	X(C_PV_INFO_DUPLICATE, "libxc.pv-info.duplicate", ERROR, "more than one X86_PV_INFO record") \
	X(C_P2M_RANGE, "libxc.p2m-frames.range", ERROR, "X86_PV_P2M_FRAMES start_pfn above end_pfn") \
	X(C_P2M_LENGTH, "libxc.p2m-frames.length", ERROR, "X86_PV_P2M_FRAMES body length does not match its pfn range") \
	X(C_VCPU_HEADER, "libxc.vcpu.length", ERROR, "X86_PV_VCPU record shorter than its 8-octet header") \
	X(C_VCPU_EMPTY, "libxc.vcpu.empty", NOTE, "X86_PV_VCPU record with empty context (tolerated)") \
	X(C_VCPU_BASIC, "libxc.vcpu.basic-size", ERROR, "X86_PV_VCPU_BASIC context is not the guest's vcpu_guest_context size") \
	X(C_VCPU_EXTENDED, "libxc.vcpu.extended-size", ERROR, "X86_PV_VCPU_EXTENDED context longer than 128 octets") \
	X(C_VCPU_XSAVE, "libxc.vcpu.xsave-size", ERROR, "X86_PV_VCPU_XSAVE context shorter than 16 octets") \
	X(C_VCPU_MSRS, "libxc.vcpu.msrs-size", ERROR, "X86_PV_VCPU_MSRS context not a multiple of 16 octets") \
	X(C_VCPU0, "libxc.vcpu.vcpu0-missing", ERROR, "PV stream without a non-empty X86_PV_VCPU_BASIC for vcpu 0") \
	X(C_PV_P2M_ORDER, "libxc.pv.p2m-before-info", ERROR, "X86_PV_P2M_FRAMES before X86_PV_INFO") \
	X(C_PV_PAGE_ORDER, "libxc.pv.page-data-before-p2m", ERROR, "PV PAGE_DATA before any X86_PV_P2M_FRAMES") \
	X(C_PV_VCPU_ORDER, "libxc.pv.vcpu-before-page-data", ERROR, "PV vcpu record before the first PAGE_DATA") \
	X(C_PV_SHINFO_ORDER, "libxc.pv.shared-info-before-info", ERROR, "SHARED_INFO before X86_PV_INFO") \
	X(C_HVM_MISSING, "libxc.hvm-context.missing", ERROR, "HVM stream without HVM_CONTEXT") \
	X(C_HVM_HEADER, "libxc.hvm-context.header", ERROR, "HVM_CONTEXT does not start with a 24-octet HEADER entry") \
	X(C_HVM_MAGIC, "libxc.hvm-context.magic", ERROR, "HVM_CONTEXT HEADER magic is not 0x54381286") \
	X(C_HVM_VERSION, "libxc.hvm-context.version", ERROR, "HVM_CONTEXT HEADER version is not 1") \
	X(C_HVM_TYPECODE, "libxc.hvm-context.typecode", ERROR, "HVM_CONTEXT entry with a typecode hvm_load does not know") \
	X(C_HVM_OVERRUN, "libxc.hvm-context.overrun", ERROR, "HVM_CONTEXT entry runs past the end of the record") \
	X(C_HVM_NO_END, "libxc.hvm-context.no-end", ERROR, "HVM_CONTEXT chain has no END entry") \
	X(C_HVM_PARAMS, "libxc.hvm-params.length", ERROR, "HVM_PARAMS body length does not match its count") \
	X(C_CPUID_LENGTH, "libxc.cpuid-policy.length", ERROR, "X86_CPUID_POLICY not a non-zero multiple of 24 octets") \
	X(C_MSR_LENGTH, "libxc.msr-policy.length", ERROR, "X86_MSR_POLICY not a non-zero multiple of 16 octets") \
	X(C_MSR_FLAGS, "libxc.msr-policy.flags", ERROR, "X86_MSR_POLICY entry with non-zero flags")

enum { LIBXC_CODES(SV_CODE_ENUM) LIBXC_NCODES };
static const sv_code libxc_codes[] = { LIBXC_CODES(SV_CODE_ROW) };

#define CODE(c) (&libxc_codes[c])

/* Image header (always big-endian) and domain header. */
#define IHDR_SIZE 24u
#define DHDR_SIZE 16u
#define IHDR_MARKER UINT64_C(0xffffffffffffffff)
#define IHDR_ID 0x58454e46u /* "XENF" */
#define IHDR_OPT_BIG_ENDIAN 0x0001u

#define GUEST_PV 1u
#define GUEST_HVM 2u

enum {
	REC_END, REC_PAGE_DATA, REC_X86_PV_INFO, REC_X86_PV_P2M_FRAMES,
	REC_X86_PV_VCPU_BASIC, REC_X86_PV_VCPU_EXTENDED, REC_X86_PV_VCPU_XSAVE,
	REC_SHARED_INFO, REC_X86_TSC_INFO, REC_HVM_CONTEXT, REC_HVM_PARAMS,
	REC_TOOLSTACK, REC_X86_PV_VCPU_MSRS, REC_VERIFY, REC_CHECKPOINT,
	REC_CHECKPOINT_DIRTY_PFN_LIST, REC_STATIC_DATA_END,
	REC_X86_CPUID_POLICY, REC_X86_MSR_POLICY, REC_NTYPES
};
#define REC_OPTIONAL 0x80000000u

/* PAGE_DATA pfn words. */
#define PFN_MASK ((UINT64_C(1) << 52) - 1)
#define PFN_TYPE_SHIFT 60
#define PFN_RESERVED_SHIFT 52

/* vcpu_guest_context sizes (x86_64 and x86_32 guests). */
#define VCPU_CTX_64 5168u
#define VCPU_CTX_32 2800u

/* hvm_save_descriptor and the HEADER entry (public/arch-x86/hvm/save.h). */
#define HVM_DESC_SIZE 8u
#define HVM_HEADER_SIZE 24u
#define HVM_FILE_MAGIC 0x54381286u
#define HVM_FILE_VERSION 1u
#define HVM_SAVE_CODE_MAX 20u
#define HVM_CODE_HEADER 1u
#define HVM_CODE_CPU 2u

/* Record kinds: what the table says about a type before its body is read. */
#define K_PV 0x01u        /* x86 PV guests only */
#define K_HVM 0x02u       /* x86 HVM guests only */
#define K_V3 0x04u        /* version 3 only */
#define K_STATIC 0x08u    /* static data: belongs before STATIC_DATA_END */
#define K_VCPU 0x10u      /* one of the four X86_PV_VCPU_* records */
#define ANY_LENGTH UINT32_MAX

typedef struct libxc_kind {
	const char *name;
	unsigned flags;
	uint32_t fixed_length;  /* exact body length, or ANY_LENGTH */
	void (*check)(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
} libxc_kind;

static void check_page_data(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
static void check_pv_info(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
static void check_p2m_frames(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
static void check_vcpu(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
static void check_tsc_info(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
static void check_hvm_context(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
static void check_hvm_params(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
static void check_cpuid_policy(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
static void check_msr_policy(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
static void check_toolstack(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);
static void check_dirty_pfn_list(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen);

/* The record table: names, dispatch and --verbose all come from it. */
static const libxc_kind libxc_kinds[REC_NTYPES] = {
	[REC_END] = { "END", 0, 0, NULL },
	[REC_PAGE_DATA] = { "PAGE_DATA", 0, ANY_LENGTH, check_page_data },
	[REC_X86_PV_INFO] = { "X86_PV_INFO", K_PV | K_STATIC, 8, check_pv_info },
	[REC_X86_PV_P2M_FRAMES] = { "X86_PV_P2M_FRAMES", K_PV, ANY_LENGTH, check_p2m_frames },
	[REC_X86_PV_VCPU_BASIC] = { "X86_PV_VCPU_BASIC", K_PV | K_VCPU, ANY_LENGTH, check_vcpu },
	[REC_X86_PV_VCPU_EXTENDED] = { "X86_PV_VCPU_EXTENDED", K_PV | K_VCPU, ANY_LENGTH, check_vcpu },
	[REC_X86_PV_VCPU_XSAVE] = { "X86_PV_VCPU_XSAVE", K_PV | K_VCPU, ANY_LENGTH, check_vcpu },
	[REC_SHARED_INFO] = { "SHARED_INFO", K_PV, XEN_PAGE_SIZE, NULL },
	[REC_X86_TSC_INFO] = { "X86_TSC_INFO", 0, 24, check_tsc_info },
	[REC_HVM_CONTEXT] = { "HVM_CONTEXT", K_HVM, ANY_LENGTH, check_hvm_context },
	[REC_HVM_PARAMS] = { "HVM_PARAMS", K_HVM, ANY_LENGTH, check_hvm_params },
	[REC_TOOLSTACK] = { "TOOLSTACK", 0, ANY_LENGTH, check_toolstack },
	[REC_X86_PV_VCPU_MSRS] = { "X86_PV_VCPU_MSRS", K_PV | K_VCPU, ANY_LENGTH, check_vcpu },
	[REC_VERIFY] = { "VERIFY", 0, 0, NULL },
	[REC_CHECKPOINT] = { "CHECKPOINT", 0, 0, NULL },
	[REC_CHECKPOINT_DIRTY_PFN_LIST] = { "CHECKPOINT_DIRTY_PFN_LIST", 0, ANY_LENGTH, check_dirty_pfn_list },
	[REC_STATIC_DATA_END] = { "STATIC_DATA_END", K_V3, 0, NULL },
	[REC_X86_CPUID_POLICY] = { "X86_CPUID_POLICY", K_V3 | K_STATIC, ANY_LENGTH, check_cpuid_policy },
	[REC_X86_MSR_POLICY] = { "X86_MSR_POLICY", K_V3 | K_STATIC, ANY_LENGTH, check_msr_policy },
};

static const char *const pfn_type_names[XEN_PFN_TYPES] = {
	"notab", "l1tab", "l2tab", "l3tab", "l4tab", "type5", "type6", "type7",
	"type8", "l1tab_pinned", "l2tab_pinned", "l3tab_pinned", "l4tab_pinned",
	"broken", "xalloc", "xtab",
};

static bool pfn_type_invalid(unsigned t)
{
	return t >= 5 && t <= 8;
}

/* NOTAB, L1-L4 and their pinned forms carry a page of data. */
static bool pfn_type_has_data(unsigned t)
{
	/* Bit t of 0x1e1f: types 0-4 and 9-12. */
	return (0x1e1fu >> (t & 15)) & 1;
}

static const char *guest_name(uint32_t type)
{
	return type == GUEST_PV ? "x86 PV" : type == GUEST_HVM ? "x86 HVM" : "unknown";
}

bool xen_libxc_is_header(const unsigned char *p, size_t n)
{
	return n >= 12 && xen_ld64(true, p) == IHDR_MARKER &&
	       xen_ld32(true, p + 8) == IHDR_ID;
}

static int libxc_bid(const sv_bid_input *in)
{
	const unsigned char *p = in->head;
	int score = 0;
	uint32_t version, type;

	if (in->is_dir || in->head_len < 8 || xen_ld64(true, p) != IHDR_MARKER)
		return 0;
	score = 30;
	if (in->head_len < 12 || xen_ld32(true, p + 8) != IHDR_ID)
		return score;
	score = 80;
	if (in->head_len < IHDR_SIZE)
		return score;
	version = xen_ld32(true, p + 12);
	if (version != 2 && version != 3)
		return score;
	score = 90;
	if (in->head_len < IHDR_SIZE + DHDR_SIZE)
		return score;
	type = xen_ld32((xen_ld16(true, p + 16) & IHDR_OPT_BIG_ENDIAN) != 0,
			p + IHDR_SIZE);
	return type == GUEST_PV || type == GUEST_HVM ? 100 : score;
}

/* ---- state ---------------------------------------------------------------- */

void xen_libxc_init(xen_libxc *x, sv_ctx *cx, sv_stream *in, bool nested,
		    uint64_t *next_index)
{
	memset(x, 0, sizeof(*x));
	x->cx = cx;
	x->in = in;
	x->nested = nested;
	x->next_index = next_index ? next_index : &x->own_index;
	x->start_off = sv_offset(in);
	x->pfn_min = UINT64_MAX;
}

bool xen_libxc_headers(xen_libxc *x)
{
	unsigned char h[IHDR_SIZE];
	unsigned char d[DHDR_SIZE];
	uint64_t at = sv_offset(x->in);
	uint16_t options, page_shift;
	bool be;

	sv_record_none(x->cx);
	if (!sv_need(x->cx, x->in, h, sizeof(h), "libxc image header"))
		return false;
	if (xen_ld64(true, h) != IHDR_MARKER) {
		sv_report(x->cx, CODE(C_LEGACY), at,
			  "first 8 octets are 0x%016llx, not the v2 marker 0xffffffffffffffff: "
			  "a legacy (pre-Xen-4.6) stream? convert it with Xen's convert-legacy-stream "
			  "(verify it with --format libxc-legacy)",
			  (unsigned long long)xen_ld64(true, h));
		return false;
	}
	if (xen_ld32(true, h + 8) != IHDR_ID) {
		sv_report(x->cx, CODE(C_IDENT), at + 8,
			  "image id is 0x%08x, expected 0x%08x (\"XENF\")",
			  xen_ld32(true, h + 8), IHDR_ID);
		return false;
	}
	x->version = xen_ld32(true, h + 12);
	if (x->version != 2 && x->version != 3) {
		sv_report(x->cx, CODE(C_VERSION), at + 12,
			  "image version is %u, expected 2 or 3", x->version);
		x->version = x->version < 2 ? 2 : 3;
	}
	options = xen_ld16(true, h + 16);
	be = (options & IHDR_OPT_BIG_ENDIAN) != 0;
	if (be)
		sv_report(x->cx, CODE(C_BIG_ENDIAN), at + 16,
			  "options declare a big-endian stream; x86 streams are "
			  "little-endian (records are verified as big-endian)");
	if (options & ~IHDR_OPT_BIG_ENDIAN)
		sv_report(x->cx, CODE(C_OPTIONS), at + 16,
			  "reserved option bits 0x%04x are set",
			  options & ~IHDR_OPT_BIG_ENDIAN);
	if (xen_ld16(true, h + 18) != 0 || xen_ld32(true, h + 20) != 0)
		sv_report(x->cx, CODE(C_HDR_RESERVED),
			  at + (xen_ld16(true, h + 18) != 0 ? 18 : 20),
			  "reserved fields are 0x%04x and 0x%08x, not zero",
			  xen_ld16(true, h + 18), xen_ld32(true, h + 20));
	x->big_endian = be;

	at = sv_offset(x->in);
	if (!sv_need(x->cx, x->in, d, sizeof(d), "libxc domain header"))
		return false;
	x->guest_type = xen_ld32(be, d);
	if (x->guest_type != GUEST_PV && x->guest_type != GUEST_HVM)
		sv_report(x->cx, CODE(C_DOM_TYPE), at,
			  "domain type is %u, expected 1 (x86 PV) or 2 (x86 HVM)",
			  x->guest_type);
	page_shift = xen_ld16(be, d + 4);
	if (page_shift != 12)
		sv_report(x->cx, CODE(C_PAGE_SHIFT), at + 4,
			  "page_shift is %u, expected 12", page_shift);
	if (xen_ld16(be, d + 6) != 0)
		sv_report(x->cx, CODE(C_DOM_RESERVED), at + 6,
			  "reserved field is 0x%04x, not zero", xen_ld16(be, d + 6));
	x->xen_major = xen_ld32(be, d + 8);
	x->xen_minor = xen_ld32(be, d + 12);
	if (x->xen_major == 0)
		sv_report(x->cx, CODE(C_CONVERTED), at + 8,
			  "converted from a legacy stream (conversion script version %u)",
			  x->xen_minor);
	x->headers_ok = true;
	return true;
}

/* ---- --verbose ------------------------------------------------------------ */

static void flush_squash(xen_libxc *x)
{
	if (x->squash_count == 0)
		return;
	sv_emit_record(x->cx, x->squash_index, "PAGE_DATA", x->squash_off,
		       x->squash_bytes,
		       "%llu PAGE_DATA record(s) squashed: %llu pfn(s)",
		       (unsigned long long)x->squash_count,
		       (unsigned long long)x->squash_pages);
	x->squash_count = 0;
	x->squash_pages = 0;
}

static void note_vcpu(xen_libxc *x, uint32_t id)
{
	if (id < sizeof(x->vcpu_seen) * 8 &&
	    !(x->vcpu_seen[id / 8] & (1u << (id % 8)))) {
		x->vcpu_seen[id / 8] |= (unsigned char)(1u << (id % 8));
		x->vcpus++;
	}
}

/* ---- record bodies -------------------------------------------------------- */

static void check_page_data(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	unsigned char hdr[8];
	unsigned char chunk[4096];
	uint64_t pfn_bytes, expected, with_data = 0, body = xen_body_off(r);
	uint32_t count, done = 0;
	unsigned repeats = 0;
	bool bad_reserved = false, bad_type = false, bad_p2m = false, untracked = false;
	bool pv = x->guest_type == GUEST_PV;

	if (r->length < sizeof(hdr)) {
		sv_report(x->cx, CODE(C_PD_LENGTH), r->off,
			  "body of %u octets is shorter than the 8-octet header",
			  r->length);
		return;
	}
	if (!xen_body_read(x->cx, x->in, r, hdr, sizeof(hdr), "PAGE_DATA header"))
		return;
	count = xen_ld32(x->big_endian, hdr);
	if (xen_ld32(x->big_endian, hdr + 4) != 0)
		sv_report(x->cx, CODE(C_RESERVED), body + 4,
			  "reserved field is 0x%08x, not zero",
			  xen_ld32(x->big_endian, hdr + 4));
	if (count == 0) {
		sv_report(x->cx, CODE(C_PD_COUNT), body, "count is 0; at least 1 pfn is required");
		return;
	}
	pfn_bytes = 8 * (uint64_t)count;
	if (8 + pfn_bytes > r->length) {
		sv_report(x->cx, CODE(C_PD_LENGTH), r->off,
			  "count %u needs %llu octets of pfns, body is %u octets",
			  count, (unsigned long long)pfn_bytes, r->length);
		return;
	}
	xen_pfnset_clear(&x->pfnset);
	while (done < count) {
		uint32_t n = count - done;
		/* In locals for the loop: stores to x might alias them. */
		uint64_t pfn_min = x->pfn_min, pfn_max = x->pfn_max;

		if (n > sizeof(chunk) / 8)
			n = sizeof(chunk) / 8;
		if (!xen_body_read(x->cx, x->in, r, chunk, 8 * (size_t)n, "PAGE_DATA pfns"))
			return;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t w = xen_ld64(x->big_endian, chunk + 8 * i);
			uint64_t pfn = w & PFN_MASK;
			unsigned type = (unsigned)(w >> PFN_TYPE_SHIFT);
#define at (body + 8 + 8 * (uint64_t)(done + i)) /* where the word is, for reports */
			int seen;

			if (((w >> PFN_RESERVED_SHIFT) & 0xff) != 0 && !bad_reserved) {
				bad_reserved = true;
				sv_report(x->cx, CODE(C_PD_PFN_RESERVED), at,
					  "pfn word %u is 0x%016llx: reserved bits 59-52 set",
					  done + i, (unsigned long long)w);
			}
			if (pfn_type_invalid(type) && !bad_type) {
				bad_type = true;
				sv_report(x->cx, CODE(C_PD_PFN_TYPE), at,
					  "pfn word %u has page type %u (types 5-8 are invalid)",
					  done + i, type);
			}
			if (pv && x->seen_p2m_frames && pfn > x->p2m_end_pfn && !bad_p2m) {
				bad_p2m = true;
				sv_report(x->cx, CODE(C_PD_BEYOND_P2M), at,
					  "pfn 0x%llx is above the highest P2M end_pfn 0x%llx",
					  (unsigned long long)pfn,
					  (unsigned long long)x->p2m_end_pfn);
			}
			seen = xen_pfnset_add(&x->pfnset, pfn);
			if (seen > 0 && repeats < 8) {
				repeats++;
				sv_report(x->cx, CODE(C_PD_DUPLICATE), at,
					  "pfn 0x%llx appears more than once (again at index %u)",
					  (unsigned long long)pfn, done + i);
			} else if (seen < 0 && !untracked) {
				untracked = true;
				sv_report(x->cx, CODE(C_PD_UNCHECKED), at,
					  "pfn word %u and later ones of this record are not checked "
					  "for repeats: its pfns spread over more than %u regions of "
					  "128 MiB, the memory cap of the check (Xen's saver writes "
					  "at most 1024 pfns per record)", done + i, XEN_PFNSET_LEAVES);
			}
#undef at
			with_data += pfn_type_has_data(type);
			x->pages[type]++;
			if (pfn < pfn_min)
				pfn_min = pfn;
			if (pfn > pfn_max)
				pfn_max = pfn;
		}
		x->pfn_min = pfn_min;
		x->pfn_max = pfn_max;
		done += n;
	}
	x->squash_pages += count;
	expected = 8 + pfn_bytes + XEN_PAGE_SIZE * with_data;
	if (expected != r->length)
		sv_report(x->cx, CODE(C_PD_LENGTH), r->off,
			  "body is %u octets, expected 8 + %llu + %llu (%llu page(s) with data)",
			  r->length, (unsigned long long)pfn_bytes,
			  (unsigned long long)(XEN_PAGE_SIZE * with_data),
			  (unsigned long long)with_data);
	snprintf(sum, sumlen, "%u pfn(s)", count);
}

static void check_pv_info(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	unsigned char b[8];
	uint8_t width, levels;
	bool valid;

	if (!xen_body_read(x->cx, x->in, r, b, sizeof(b), "X86_PV_INFO"))
		return;
	width = b[0];
	levels = b[1];
	if (xen_ld16(x->big_endian, b + 2) != 0 || xen_ld32(x->big_endian, b + 4) != 0)
		sv_report(x->cx, CODE(C_RESERVED),
			  xen_body_off(r) + (xen_ld16(x->big_endian, b + 2) ? 2 : 4),
			  "reserved fields are not zero");
	valid = (width == 4 && levels == 3) || (width == 8 && levels == 4);
	if (!valid)
		sv_report(x->cx, CODE(C_PV_INFO_GEOMETRY), xen_body_off(r),
			  "guest_width %u, pt_levels %u: expected (4, 3) or (8, 4)",
			  width, levels);
	if (x->seen_pv_info) {
		sv_report(x->cx, CODE(C_PV_INFO_DUPLICATE), r->off,
			  "a second X86_PV_INFO record; the restore accepts only one");
	} else if (valid) {
		x->pv_width = width;
		x->pv_levels = levels;
	}
	snprintf(sum, sumlen, "%u-bit guest, %u levels of page tables",
		 width * 8u, levels);
}

static void check_p2m_frames(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	unsigned char b[8];
	uint32_t start, end;

	if (r->length < sizeof(b)) {
		sv_report(x->cx, CODE(C_P2M_LENGTH), r->off,
			  "body of %u octets is shorter than the 8-octet header", r->length);
		return;
	}
	if (!xen_body_read(x->cx, x->in, r, b, sizeof(b), "X86_PV_P2M_FRAMES header"))
		return;
	start = xen_ld32(x->big_endian, b);
	end = xen_ld32(x->big_endian, b + 4);
	snprintf(sum, sumlen, "pfns 0x%x-0x%x", start, end);
	if (start > end) {
		sv_report(x->cx, CODE(C_P2M_RANGE), xen_body_off(r),
			  "start_pfn 0x%x is above end_pfn 0x%x", start, end);
		/* Still a P2M record: keep the order and pfn rules quiet. */
		if (!x->seen_p2m_frames || start > x->p2m_end_pfn)
			x->p2m_end_pfn = start;
		x->seen_p2m_frames = true;
		return;
	}
	if (x->pv_width != 0) {
		uint32_t fpp = XEN_PAGE_SIZE / x->pv_width;
		uint64_t frames = (uint64_t)(end / fpp) - start / fpp + 1;
		uint64_t expected = 8 + 8 * frames;

		if (expected != r->length)
			sv_report(x->cx, CODE(C_P2M_LENGTH), r->off,
				  "body is %u octets, expected %llu (8 + 8 x %llu frames for pfns 0x%x-0x%x)",
				  r->length, (unsigned long long)expected,
				  (unsigned long long)frames, start, end);
	}
	if (!x->seen_p2m_frames || end > x->p2m_end_pfn)
		x->p2m_end_pfn = end;
	x->seen_p2m_frames = true;
}

static void check_vcpu(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	unsigned char b[8];
	uint32_t id, ctx;

	if (r->length < sizeof(b)) {
		sv_report(x->cx, CODE(C_VCPU_HEADER), r->off,
			  "body of %u octets is shorter than the 8-octet header", r->length);
		return;
	}
	if (!xen_body_read(x->cx, x->in, r, b, sizeof(b), "vcpu record header"))
		return;
	id = xen_ld32(x->big_endian, b);
	if (xen_ld32(x->big_endian, b + 4) != 0)
		sv_report(x->cx, CODE(C_RESERVED), xen_body_off(r) + 4,
			  "reserved field is 0x%08x, not zero", xen_ld32(x->big_endian, b + 4));
	ctx = r->length - 8;
	snprintf(sum, sumlen, "vcpu %u, %u octets of context", id, ctx);
	if (ctx == 0) {
		sv_report(x->cx, CODE(C_VCPU_EMPTY), r->off,
			  "vcpu %u: empty context (older senders wrote these)", id);
		return;
	}
	note_vcpu(x, id);
	switch (r->type) {
	case REC_X86_PV_VCPU_BASIC:
		if (id == 0)
			x->vcpu0_basic = true;
		if (x->pv_width != 0) {
			uint32_t want = x->pv_width == 8 ? VCPU_CTX_64 : VCPU_CTX_32;

			if (ctx != want)
				sv_report(x->cx, CODE(C_VCPU_BASIC), r->off,
					  "vcpu %u: context is %u octets, a %u-bit guest's is %u",
					  id, ctx, x->pv_width * 8u, want);
		}
		break;
	case REC_X86_PV_VCPU_EXTENDED:
		if (ctx > 128)
			sv_report(x->cx, CODE(C_VCPU_EXTENDED), r->off,
				  "vcpu %u: context is %u octets, at most 128 allowed", id, ctx);
		break;
	case REC_X86_PV_VCPU_XSAVE:
		if (ctx < 16)
			sv_report(x->cx, CODE(C_VCPU_XSAVE), r->off,
				  "vcpu %u: context is %u octets, at least 16 required", id, ctx);
		break;
	default: /* MSRS */
		if (ctx % 16 != 0)
			sv_report(x->cx, CODE(C_VCPU_MSRS), r->off,
				  "vcpu %u: context is %u octets, not a multiple of 16", id, ctx);
		break;
	}
}

static void check_tsc_info(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	unsigned char b[24];

	if (!xen_body_read(x->cx, x->in, r, b, sizeof(b), "X86_TSC_INFO"))
		return;
	if (xen_ld32(x->big_endian, b + 20) != 0)
		sv_report(x->cx, CODE(C_RESERVED), xen_body_off(r) + 20,
			  "reserved field is 0x%08x, not zero", xen_ld32(x->big_endian, b + 20));
	snprintf(sum, sumlen, "mode %u, %u kHz, incarnation %u",
		 xen_ld32(x->big_endian, b), xen_ld32(x->big_endian, b + 4),
		 xen_ld32(x->big_endian, b + 16));
}

/*
 * Walk the hypervisor's save chain the way hvm_load() does, reading only
 * the 8-octet descriptors and the HEADER entry; entry data is skipped.
 */
static void check_hvm_context(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	unsigned char d[HVM_DESC_SIZE], h[HVM_HEADER_SIZE];
	uint64_t body = xen_body_off(r);
	uint32_t entries = 0, cpus = 0;

	if (r->length < HVM_DESC_SIZE + HVM_HEADER_SIZE) {
		sv_report(x->cx, CODE(C_HVM_HEADER), body,
			  "body of %u octets cannot hold the HEADER entry", r->length);
		return;
	}
	if (!xen_body_read(x->cx, x->in, r, d, sizeof(d), "HVM_CONTEXT descriptor"))
		return;
	if (xen_ld16(x->big_endian, d) != HVM_CODE_HEADER ||
	    xen_ld32(x->big_endian, d + 4) != HVM_HEADER_SIZE) {
		sv_report(x->cx, CODE(C_HVM_HEADER), body,
			  "first entry has typecode %u and length %u, expected HEADER (1) of 24 octets",
			  xen_ld16(x->big_endian, d), xen_ld32(x->big_endian, d + 4));
		return;
	}
	if (!xen_body_read(x->cx, x->in, r, h, sizeof(h), "HVM_CONTEXT header"))
		return;
	if (xen_ld32(x->big_endian, h) != HVM_FILE_MAGIC) {
		sv_report(x->cx, CODE(C_HVM_MAGIC), body + HVM_DESC_SIZE,
			  "magic is 0x%08x, expected 0x%08x",
			  xen_ld32(x->big_endian, h), HVM_FILE_MAGIC);
		return;
	}
	if (xen_ld32(x->big_endian, h + 4) != HVM_FILE_VERSION) {
		sv_report(x->cx, CODE(C_HVM_VERSION), body + HVM_DESC_SIZE + 4,
			  "version is %u, expected %u", xen_ld32(x->big_endian, h + 4),
			  HVM_FILE_VERSION);
		return;
	}
	entries = 1;
	for (;;) {
		uint64_t at = body + r->used;
		uint32_t left = r->length - r->used;
		uint16_t code;
		uint32_t len;

		if (left < HVM_DESC_SIZE) {
			sv_report(x->cx, CODE(C_HVM_NO_END), at,
				  "chain ends after %u entries without an END entry", entries);
			return;
		}
		if (!xen_body_read(x->cx, x->in, r, d, sizeof(d), "HVM_CONTEXT descriptor"))
			return;
		code = xen_ld16(x->big_endian, d);
		len = xen_ld32(x->big_endian, d + 4);
		if (code == 0)
			break; /* hvm_load() ignores what follows END */
		if (code > HVM_SAVE_CODE_MAX || code == HVM_CODE_HEADER) {
			sv_report(x->cx, CODE(C_HVM_TYPECODE), at,
				  "entry %u has typecode %u, which hvm_load cannot load",
				  entries, code);
			return;
		}
		if (len > left - HVM_DESC_SIZE) {
			sv_report(x->cx, CODE(C_HVM_OVERRUN), at,
				  "entry %u (typecode %u) is %u octets, only %u remain",
				  entries, code, len, left - HVM_DESC_SIZE);
			return;
		}
		if (!xen_body_skip(x->cx, x->in, r, len, "HVM_CONTEXT entry"))
			return;
		if (code == HVM_CODE_CPU)
			cpus++;
		entries++;
	}
	x->hvm_cpus = cpus;
	snprintf(sum, sumlen, "%u entries, %u CPU(s)", entries, cpus);
}

bool xen_libxc_hvm_context(sv_ctx *cx, sv_stream *in, uint32_t len)
{
	xen_libxc x;
	/* As if a record header stood right before the body. */
	xen_rec r = { .off = sv_offset(in) - XEN_RHDR_SIZE, .type = REC_HVM_CONTEXT,
		      .length = len, .name = "HVM_CONTEXT" };
	char sum[96];

	xen_libxc_init(&x, cx, in, false, NULL);
	check_hvm_context(&x, &r, sum, sizeof(sum));
	return r.used == r.length || xen_body_skip(cx, in, &r, r.length - r.used, "HVM context");
}

static void check_hvm_params(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	unsigned char b[8];
	uint32_t count;
	uint64_t expected;

	if (r->length < sizeof(b)) {
		sv_report(x->cx, CODE(C_HVM_PARAMS), r->off,
			  "body of %u octets is shorter than the 8-octet header", r->length);
		return;
	}
	if (!xen_body_read(x->cx, x->in, r, b, sizeof(b), "HVM_PARAMS header"))
		return;
	count = xen_ld32(x->big_endian, b);
	if (xen_ld32(x->big_endian, b + 4) != 0)
		sv_report(x->cx, CODE(C_RESERVED), xen_body_off(r) + 4,
			  "reserved field is 0x%08x, not zero", xen_ld32(x->big_endian, b + 4));
	expected = 8 + 16 * (uint64_t)count;
	if (expected != r->length)
		sv_report(x->cx, CODE(C_HVM_PARAMS), r->off,
			  "body is %u octets, expected %llu for %u parameter(s)",
			  r->length, (unsigned long long)expected, count);
	snprintf(sum, sumlen, "%u parameter(s)", count);
}

static void check_cpuid_policy(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	if (r->length == 0 || r->length % 24 != 0)
		sv_report(x->cx, CODE(C_CPUID_LENGTH), r->off,
			  "body is %u octets, not a non-zero multiple of 24", r->length);
	snprintf(sum, sumlen, "%u leaves", r->length / 24);
}

static void check_msr_policy(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	unsigned char chunk[4096];
	uint32_t n = r->length / 16;

	snprintf(sum, sumlen, "%u MSRs", n);
	if (r->length == 0 || r->length % 16 != 0) {
		sv_report(x->cx, CODE(C_MSR_LENGTH), r->off,
			  "body is %u octets, not a non-zero multiple of 16", r->length);
		return;
	}
	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done;

		if (k > sizeof(chunk) / 16)
			k = sizeof(chunk) / 16;
		if (!xen_body_read(x->cx, x->in, r, chunk, 16 * (size_t)k, "X86_MSR_POLICY"))
			return;
		for (uint32_t i = 0; i < k; i++) {
			uint32_t flags = xen_ld32(x->big_endian, chunk + 16 * i + 4);

			if (flags != 0) {
				sv_report(x->cx, CODE(C_MSR_FLAGS),
					  xen_body_off(r) + 16 * (uint64_t)(done + i) + 4,
					  "entry %u (MSR 0x%08x) has flags 0x%08x, not zero",
					  done + i, xen_ld32(x->big_endian, chunk + 16 * i), flags);
				return;
			}
		}
		done += k;
	}
}

static void check_toolstack(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	(void)sum;
	(void)sumlen;
	sv_report(x->cx, CODE(C_TOOLSTACK), r->off,
		  "TOOLSTACK records are obsolete; no restore consumes them");
}

static void check_dirty_pfn_list(xen_libxc *x, xen_rec *r, char *sum, size_t sumlen)
{
	(void)sum;
	(void)sumlen;
	sv_report(x->cx, CODE(C_DIRTY_PFN_LIST), r->off,
		  "CHECKPOINT_DIRTY_PFN_LIST is sent only on COLO's back channel, "
		  "never in a stream to restore");
}

/* ---- stream rules --------------------------------------------------------- */

/*
 * Rules about a record's place in the stream, judged before its body.
 * Returns false when the body must not be checked (the restore would not
 * even look at it).
 */
static bool check_place(xen_libxc *x, xen_rec *r, const libxc_kind *k)
{
	bool pv = x->guest_type == GUEST_PV, hvm = x->guest_type == GUEST_HVM;

	if ((k->flags & K_V3) && x->version < 3) {
		sv_report(x->cx, CODE(C_V3_ONLY), r->off,
			  "%s exists only in version 3 streams; this is version 2", k->name);
		return false;
	}
	if ((pv && (k->flags & K_HVM)) || (hvm && (k->flags & K_PV))) {
		sv_report(x->cx, CODE(C_GUEST_TYPE), r->off,
			  "%s is not valid in an %s stream", k->name, guest_name(x->guest_type));
		return false;
	}
	if (k->fixed_length != ANY_LENGTH && r->length != k->fixed_length) {
		sv_report(x->cx, CODE(C_LENGTH), r->off,
			  "%s body is %u octets, expected %u", k->name, r->length,
			  k->fixed_length);
		return false;
	}
	if ((k->flags & K_STATIC) && x->version >= 3 && x->seen_static_data_end)
		sv_report(x->cx, CODE(C_SDE_LATE), r->off,
			  "%s after STATIC_DATA_END (accepted, but static data belongs before it)",
			  k->name);

	switch (r->type) {
	case REC_STATIC_DATA_END:
		if (x->seen_static_data_end)
			sv_report(x->cx, CODE(C_SDE_DUPLICATE), r->off,
				  "a second STATIC_DATA_END");
		x->seen_static_data_end = true;
		break;
	case REC_PAGE_DATA:
	case REC_X86_PV_P2M_FRAMES:
		if (!x->seen_static_data_end) {
			if (x->version >= 3 && !x->reported_no_static_data_end) {
				x->reported_no_static_data_end = true;
				sv_report(x->cx, CODE(C_SDE_MISSING), r->off,
					  "%s before STATIC_DATA_END in a version 3 stream",
					  k->name);
			}
			/* A v2 stream has it implied here. */
			if (x->version < 3)
				x->seen_static_data_end = true;
		}
		if (r->type == REC_X86_PV_P2M_FRAMES && !x->seen_pv_info)
			sv_report(x->cx, CODE(C_PV_P2M_ORDER), r->off,
				  "X86_PV_P2M_FRAMES needs an earlier X86_PV_INFO");
		if (r->type == REC_PAGE_DATA && pv && !x->seen_p2m_frames &&
		    !x->reported_page_data_order) {
			x->reported_page_data_order = true;
			sv_report(x->cx, CODE(C_PV_PAGE_ORDER), r->off,
				  "PAGE_DATA needs an earlier X86_PV_P2M_FRAMES in a PV stream");
		}
		break;
	case REC_SHARED_INFO:
		if (!x->seen_pv_info)
			sv_report(x->cx, CODE(C_PV_SHINFO_ORDER), r->off,
				  "SHARED_INFO needs an earlier X86_PV_INFO");
		break;
	default:
		if ((k->flags & K_VCPU) && pv && !x->seen_page_data &&
		    !x->reported_vcpu_order) {
			x->reported_vcpu_order = true;
			sv_report(x->cx, CODE(C_PV_VCPU_ORDER), r->off,
				  "%s before the first PAGE_DATA", k->name);
		}
		break;
	}
	return true;
}

/* One record: header read by the caller. */
static void verify_record(xen_libxc *x, xen_rec *r)
{
	const libxc_kind *k = r->type < REC_NTYPES ? &libxc_kinds[r->type] : NULL;
	char sum[96] = "";
	bool want = sv_want_records(x->cx);

	if (r->length > XEN_REC_LENGTH_MAX) {
		sv_report(x->cx, CODE(C_TOO_LONG), r->off,
			  "body_length %u exceeds the restore's limit of %u octets",
			  r->length, XEN_REC_LENGTH_MAX);
	} else if (!k) {
		if (r->type & REC_OPTIONAL)
			sv_report(x->cx, CODE(C_UNKNOWN_OPTIONAL), r->off,
				  "optional record type 0x%08x (%u octets) skipped",
				  r->type, r->length);
		else
			sv_report(x->cx, CODE(C_UNKNOWN_MANDATORY), r->off,
				  "record type 0x%08x is unknown and not optional: the restore fails",
				  r->type);
	} else if (check_place(x, r, k) && k->check) {
		k->check(x, r, sum, sizeof(sum));
	}

	if (k) {
		switch (r->type) {
		case REC_PAGE_DATA: x->seen_page_data = true; x->page_data_records++; break;
		case REC_X86_PV_INFO: x->seen_pv_info = true; break;
		case REC_HVM_CONTEXT: x->seen_hvm_context = true; break;
		case REC_CHECKPOINT: x->checkpoints++; break;
		default: break;
		}
	}

	if (want) {
		if (r->type == REC_PAGE_DATA) {
			if (x->squash_count == 0) {
				x->squash_index = r->index;
				x->squash_off = r->off;
				x->squash_bytes = 0;
			}
			x->squash_count++;
			x->squash_bytes += XEN_RHDR_SIZE + xen_padded(r->length);
		} else {
			flush_squash(x);
			sv_emit_record(x->cx, r->index, r->name, r->off,
				       XEN_RHDR_SIZE + xen_padded(r->length), "%s", sum);
		}
	}
	xen_rec_finish(x->cx, x->in, r, CODE(C_PADDING));
}

xen_libxc_stop xen_libxc_records(xen_libxc *x)
{
	unsigned char h[XEN_RHDR_SIZE];

	while (!sv_stopped(x->cx)) {
		xen_rec r = { 0 };

		if (x->last_was_checkpoint && !x->nested && sv_at_end(x->in)) {
			/* A checkpointed stream may stop at any checkpoint. */
			return XEN_LIBXC_EOF;
		}
		r.off = sv_offset(x->in);
		r.index = (*x->next_index)++;
		x->last_rec_off = r.off;
		sv_record_begin(x->cx, r.index, "record header", r.off);
		if (!sv_need(x->cx, x->in, h, sizeof(h), "libxc record header"))
			return XEN_LIBXC_FAILED;
		r.type = xen_ld32(x->big_endian, h);
		r.length = xen_ld32(x->big_endian, h + 4);
		r.name = r.type < REC_NTYPES ? libxc_kinds[r.type].name
			 : (r.type & REC_OPTIONAL) ? "unknown optional" : "unknown";
		sv_set_record(x->cx, r.index, r.name);
		sv_count_record(x->cx);
		verify_record(x, &r);
		if (r.truncated)
			return XEN_LIBXC_FAILED;
		x->last_was_checkpoint = r.type == REC_CHECKPOINT;
		if (r.type == REC_END) {
			x->seen_end = true;
			return XEN_LIBXC_END;
		}
		if (r.type == REC_CHECKPOINT && x->nested)
			return XEN_LIBXC_CHECKPOINT;
	}
	return XEN_LIBXC_FAILED;
}

static void emit_stats(xen_libxc *x)
{
	sv_ctx *cx = x->cx;
	char key[48];
	uint64_t total = 0;

	flush_squash(x);
	sv_emit_stat(cx, "libxc.version", "%u%s", x->version,
		     x->big_endian ? " (big-endian)" : "");
	sv_emit_stat(cx, "guest.type", "%s", guest_name(x->guest_type));
	if (x->xen_major == 0)
		sv_emit_stat(cx, "xen.version", "converted from legacy (script %u)", x->xen_minor);
	else
		sv_emit_stat(cx, "xen.version", "%u.%u", x->xen_major, x->xen_minor);
	sv_emit_stat_u64(cx, "records.page_data", x->page_data_records);
	for (unsigned t = 0; t < XEN_PFN_TYPES; t++) {
		if (!x->pages[t])
			continue;
		snprintf(key, sizeof(key), "pages.%s", pfn_type_names[t]);
		sv_emit_stat_u64(cx, key, x->pages[t]);
		total += x->pages[t];
	}
	sv_emit_stat_u64(cx, "pages.total", total);
	if (total)
		sv_emit_stat(cx, "pfn.range", "0x%llx-0x%llx",
			     (unsigned long long)x->pfn_min, (unsigned long long)x->pfn_max);
	if (x->guest_type == GUEST_HVM)
		sv_emit_stat_u64(cx, "vcpus", x->hvm_cpus);
	else
		sv_emit_stat_u64(cx, "vcpus", x->vcpus);
	sv_emit_stat_u64(cx, "checkpoints", x->checkpoints);
}

void xen_libxc_finish(xen_libxc *x)
{
	if (x->finished)
		return;
	x->finished = true;
	/* Whole-stream rules need the whole stream: END, or a checkpoint's EOF. */
	if (x->headers_ok && !sv_stopped(x->cx) &&
	    (x->seen_end || (x->last_was_checkpoint && sv_at_end(x->in)))) {
		uint64_t at = sv_offset(x->in);

		sv_record_none(x->cx);
		if (x->version >= 3 && !x->seen_static_data_end &&
		    !x->reported_no_static_data_end)
			sv_report(x->cx, CODE(C_SDE_MISSING), at,
				  "version 3 stream without STATIC_DATA_END");
		if (x->guest_type == GUEST_PV && !x->vcpu0_basic)
			sv_report(x->cx, CODE(C_VCPU0), at,
				  "no non-empty X86_PV_VCPU_BASIC for vcpu 0: the restore "
				  "fails (\"Sender didn't send vcpu0's basic state\")");
		if (x->guest_type == GUEST_HVM && !x->seen_hvm_context)
			sv_report(x->cx, CODE(C_HVM_MISSING), at,
				  "no HVM_CONTEXT record: the restore cannot load the guest's state");
	}
	if (x->headers_ok && sv_want_records(x->cx))
		emit_stats(x);
	xen_pfnset_free(&x->pfnset);
}

static void libxc_verify(sv_ctx *cx, sv_stream *in)
{
	xen_libxc x;

	xen_libxc_init(&x, cx, in, false, NULL);
	if (xen_libxc_headers(&x) && xen_libxc_records(&x) == XEN_LIBXC_END &&
	    !sv_at_end(in)) {
		/* The same words for files and pipes, whose length is unknown. */
		sv_record_none(cx);
		sv_report(cx, CODE(C_END_TRAILING), sv_offset(in),
			  "data follows the END record");
	}
	xen_libxc_finish(&x);
}

const sv_format sv_format_libxc = {
	.name = "libxc",
	.description = "Xen libxc migration stream / domain save image (v2, v3)",
	.codes = libxc_codes,
	.ncodes = LIBXC_NCODES,
	.bid = libxc_bid,
	.verify = libxc_verify,
	.verify_dir = NULL,
};
