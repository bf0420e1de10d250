/*
 * Stream writer and fixture builders for the Xen format tests.  Layouts
 * follow Xen's stream specification (docs/specs/libxc-migration-stream.pandoc and
 * libxl-migration-stream.pandoc); every broken fixture deviates
 * from a valid shape in exactly one place and records where.
 */
#include <stdlib.h>
#include <string.h>

#include "xen_writer.h"

/* ---- buffer ----------------------------------------------------------- */

void xw_init(xw *w)
{
	memset(w, 0, sizeof(*w));
}

void xw_free(xw *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

static void xw_grow(xw *w, size_t n)
{
	if (w->len + n <= w->cap)
		return;
	size_t cap = w->cap ? w->cap : 4096;
	while (cap < w->len + n)
		cap *= 2;
	unsigned char *p = realloc(w->p, cap);
	if (!p)
		abort();
	w->p = p;
	w->cap = cap;
}

void xw_raw(xw *w, const void *p, size_t n)
{
	xw_grow(w, n);
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

void xw_fill(xw *w, int byte, size_t n)
{
	xw_grow(w, n);
	memset(w->p + w->len, byte, n);
	w->len += n;
}

static void put_n(unsigned char *p, uint64_t v, unsigned n, bool be)
{
	for (unsigned i = 0; i < n; i++)
		p[be ? n - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

static void xw_int(xw *w, uint64_t v, unsigned n, bool be)
{
	xw_grow(w, n);
	put_n(w->p + w->len, v, n, be);
	w->len += n;
}

void xw_u8(xw *w, uint8_t v) { xw_int(w, v, 1, false); }
void xw_u16(xw *w, uint16_t v) { xw_int(w, v, 2, w->be); }
void xw_u32(xw *w, uint32_t v) { xw_int(w, v, 4, w->be); }
void xw_u64(xw *w, uint64_t v) { xw_int(w, v, 8, w->be); }
void xw_be16(xw *w, uint16_t v) { xw_int(w, v, 2, true); }
void xw_be32(xw *w, uint32_t v) { xw_int(w, v, 4, true); }
void xw_be64(xw *w, uint64_t v) { xw_int(w, v, 8, true); }

void xw_put32(xw *w, size_t at, uint32_t v)
{
	put_n(w->p + at, v, 4, w->be);
}

size_t xw_rec_begin(xw *w, uint32_t type)
{
	size_t start = w->len;

	xw_u32(w, type);
	xw_u32(w, 0);
	return start;
}

void xw_rec_end(xw *w, size_t start)
{
	size_t body = w->len - start - 8;

	xw_put32(w, start + 4, (uint32_t)body);
	xw_fill(w, 0, (8 - body % 8) % 8);
}

size_t xw_rec_blob(xw *w, uint32_t type, size_t n, int byte)
{
	size_t start = xw_rec_begin(w, type);

	xw_fill(w, byte, n);
	xw_rec_end(w, start);
	return start;
}

/* ---- libxc ------------------------------------------------------------ */

enum {
	XC_END, XC_PAGE_DATA, XC_PV_INFO, XC_P2M_FRAMES, XC_VCPU_BASIC,
	XC_VCPU_EXTENDED, XC_VCPU_XSAVE, XC_SHARED_INFO, XC_TSC_INFO,
	XC_HVM_CONTEXT, XC_HVM_PARAMS, XC_TOOLSTACK, XC_VCPU_MSRS, XC_VERIFY,
	XC_CHECKPOINT, XC_DIRTY_PFN_LIST, XC_STATIC_DATA_END, XC_CPUID_POLICY,
	XC_MSR_POLICY
};
enum {
	XL_END, XL_LIBXC_CONTEXT, XL_EMU_XENSTORE, XL_EMU_CONTEXT,
	XL_CHECKPOINT_END, XL_CHECKPOINT_STATE
};

#define PT(type, pfn) ((uint64_t)(type) << 60 | (uint64_t)(pfn))

/* Build context: the fixture's broken rule and where to note the offset. */
typedef struct bctx {
	xw *w;
	const char *brk;
	fx_expect *e;
	int guest;         /* 1 PV, 2 HVM */
	unsigned version;
	unsigned width;    /* PV guest width */
	unsigned rounds;   /* checkpoint rounds before the final one */
	bool no_end;       /* checkpointed: the stream stops after a round */
	bool colo;         /* COLO: CHECKPOINT_STATE in the libxl exchange */
	bool libxl;        /* inside libxl: checkpoint exchanges follow */
	bool params_first; /* HVM_PARAMS before HVM_CONTEXT (spec order) */
	bool legacy;       /* xl: a legacy stream, STREAMv2 clear */
} bctx;

static bool is(const bctx *c, const char *brk)
{
	return strcmp(c->brk, brk) == 0;
}

static void mark(bctx *c, uint64_t off)
{
	c->e->off = off;
}

static size_t empty_rec(xw *w, uint32_t type)
{
	size_t s = xw_rec_begin(w, type);

	xw_rec_end(w, s);
	return s;
}

static bool has_data(uint64_t word)
{
	unsigned t = (unsigned)(word >> 60);

	return t <= 4 || (t >= 9 && t <= 12);
}

static size_t page_data(xw *w, const uint64_t *words, unsigned n)
{
	size_t s = xw_rec_begin(w, XC_PAGE_DATA);

	xw_u32(w, n);
	xw_u32(w, 0);
	for (unsigned i = 0; i < n; i++)
		xw_u64(w, words[i]);
	for (unsigned i = 0; i < n; i++)
		if (has_data(words[i]))
			xw_fill(w, (int)(0x40 + i), 4096);
	xw_rec_end(w, s);
	return s;
}

static void image_header(bctx *c)
{
	xw *w = c->w;
	size_t at = w->len;

	if (is(c, "legacy")) {
		/* A 64-bit legacy image starts with p2m_size (little-endian). */
		xw_u64(w, 0x40000);
		mark(c, at);
		xw_fill(w, 0, 16);
		return;
	}
	xw_be64(w, UINT64_MAX);
	if (is(c, "ident"))
		mark(c, w->len);
	xw_be32(w, is(c, "ident") ? 0x58454e47u : 0x58454e46u);
	if (is(c, "version"))
		mark(c, w->len);
	xw_be32(w, is(c, "version") ? 4 : c->version);
	if (is(c, "options-reserved") || is(c, "big-endian"))
		mark(c, w->len);
	xw_be16(w, (uint16_t)(is(c, "options-reserved") ? 0x0100 : w->be ? 1 : 0));
	if (is(c, "header-reserved"))
		mark(c, w->len + 2);
	xw_be16(w, 0);
	xw_be32(w, is(c, "header-reserved") ? 7 : 0);
}

static void domain_header(bctx *c)
{
	xw *w = c->w;

	if (is(c, "domain-type"))
		mark(c, w->len);
	xw_u32(w, is(c, "domain-type") ? 3 : (uint32_t)c->guest);
	if (is(c, "page-shift"))
		mark(c, w->len);
	xw_u16(w, is(c, "page-shift") ? 13 : 12);
	if (is(c, "domain-reserved"))
		mark(c, w->len);
	xw_u16(w, is(c, "domain-reserved") ? 1 : 0);
	if (is(c, "converted"))
		mark(c, w->len);
	xw_u32(w, is(c, "converted") ? 0 : 4);
	xw_u32(w, is(c, "converted") ? 1 : 17);
}

static void static_data(bctx *c)
{
	xw *w = c->w;
	size_t s;

	if (c->version < 3 && !is(c, "v3-only"))
		return;
	s = xw_rec_begin(w, XC_CPUID_POLICY);
	if (is(c, "v3-only"))
		mark(c, s);
	for (unsigned i = 0; i < (is(c, "cpuid-length") ? 13u : 24u * 2); i++)
		xw_u8(w, (uint8_t)i);
	xw_rec_end(w, s);
	if (is(c, "cpuid-length"))
		mark(c, s);
	if (c->version < 3)
		return;
	s = xw_rec_begin(w, XC_MSR_POLICY);
	for (unsigned i = 0; i < 2; i++) {
		if (is(c, "msr-flags") && i == 1)
			mark(c, w->len + 4);
		xw_u32(w, 0xc0000080u + i);
		xw_u32(w, is(c, "msr-flags") && i == 1 ? 1 : 0);
		xw_u64(w, 0x500);
	}
	if (is(c, "msr-length")) {
		mark(c, s);
		xw_u32(w, 0);
	}
	xw_rec_end(w, s);
	if (!is(c, "sde-missing")) {
		s = empty_rec(w, XC_STATIC_DATA_END);
		if (is(c, "sde-duplicate"))
			mark(c, empty_rec(w, XC_STATIC_DATA_END));
	}
	if (is(c, "sde-late"))
		mark(c, xw_rec_blob(w, XC_CPUID_POLICY, 24, 0));
}

static void tsc_info(bctx *c)
{
	xw *w = c->w;
	size_t s = xw_rec_begin(w, XC_TSC_INFO);

	xw_u32(w, 0);
	xw_u32(w, 2400000);
	xw_u64(w, 123456789);
	xw_u32(w, 1);
	if (is(c, "record-length")) {
		mark(c, s);
		xw_rec_end(w, s); /* 20 octets instead of 24 */
		return;
	}
	xw_u32(w, 0);
	xw_rec_end(w, s);
}

static void hvm_context(bctx *c)
{
	xw *w = c->w;
	size_t s = xw_rec_begin(w, XC_HVM_CONTEXT);
	size_t body = w->len;

	if (is(c, "hvm-header")) {
		mark(c, body);
		xw_u16(w, 2);
	} else {
		xw_u16(w, 1);
	}
	xw_u16(w, 0);
	xw_u32(w, 24);
	if (is(c, "hvm-magic"))
		mark(c, w->len);
	xw_u32(w, is(c, "hvm-magic") ? 0x12345678u : 0x54381286u);
	if (is(c, "hvm-version"))
		mark(c, w->len);
	xw_u32(w, is(c, "hvm-version") ? 2 : 1);
	xw_u64(w, 0);
	xw_u32(w, 0x806ec);
	xw_u32(w, 2400000);
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		if (is(c, "hvm-typecode") && cpu == 1) {
			mark(c, w->len);
			xw_u16(w, 99);
		} else {
			xw_u16(w, 2);
		}
		xw_u16(w, (uint16_t)cpu);
		if (is(c, "hvm-overrun") && cpu == 1) {
			mark(c, w->len - 4);
			xw_u32(w, 4096);
		} else {
			xw_u32(w, 44);
		}
		xw_fill(w, 0x11, 44);
	}
	if (!is(c, "hvm-no-end")) {
		xw_u16(w, 0);
		xw_u16(w, 0);
		xw_u32(w, 0);
	} else {
		mark(c, w->len);
	}
	if (is(c, "padding")) {
		/* 3 octets of tail data leave 5 of padding; make one non-zero. */
		xw_fill(w, 0, 3);
		xw_rec_end(w, s);
		w->p[w->len - 2] = 0x5a;
		mark(c, w->len - 2);
		return;
	}
	xw_rec_end(w, s);
}

static void hvm_params(bctx *c)
{
	xw *w = c->w;
	size_t s = xw_rec_begin(w, XC_HVM_PARAMS);

	xw_u32(w, is(c, "hvm-params-length") ? 4 : 3);
	if (is(c, "hvm-params-length"))
		mark(c, s);
	xw_u32(w, 0);
	for (unsigned i = 0; i < 3; i++) {
		xw_u64(w, 1 + i);
		xw_u64(w, 0xfeffc + i);
	}
	xw_rec_end(w, s);
}

/* Memory of one round: a few pfns of several types. */
static void memory(bctx *c, unsigned round)
{
	xw *w = c->w;
	bool pv = c->guest == 1;
	uint64_t a[4] = { PT(0, 0 + round), PT(0, 1), PT(15, 2), PT(14, 3) };
	uint64_t b[3] = { PT(pv ? 12 : 0, 4), PT(pv ? 1 : 0, 5), PT(13, 6) };
	size_t s;

	if (round > 0) {
		a[0] = PT(0, 1);
		page_data(w, a, 1);
		return;
	}
	if (is(c, "pd-count-zero")) {
		s = xw_rec_begin(w, XC_PAGE_DATA);
		mark(c, w->len);
		xw_u32(w, 0);
		xw_u32(w, 0);
		xw_rec_end(w, s);
	}
	if (is(c, "record-reserved")) {
		s = page_data(w, a, 4);
		mark(c, s + 12);
		w->p[s + 12] = 1;
	} else if (is(c, "pd-length")) {
		s = xw_rec_begin(w, XC_PAGE_DATA);
		mark(c, s);
		xw_u32(w, 1);
		xw_u32(w, 0);
		xw_u64(w, PT(0, 0));
		xw_fill(w, 0, 8192); /* one page too many */
		xw_rec_end(w, s);
	} else if (is(c, "truncated")) {
		s = page_data(w, a, 4);
		mark(c, s + 16 + 32);
		w->len = s + 16 + 32 + 4096 + 100; /* the input stops in page 2 */
		return;
	} else {
		if (is(c, "pfn-reserved"))
			a[1] |= (uint64_t)1 << 55;
		if (is(c, "pfn-type"))
			a[1] = PT(6, 1);
		if (is(c, "pfn-duplicate"))
			a[3] = PT(0, 0);
		if (is(c, "pfn-beyond-p2m"))
			a[1] = PT(0, 0x5000);
		s = page_data(w, a, 4);
		if (is(c, "pfn-reserved") || is(c, "pfn-type") || is(c, "pfn-beyond-p2m"))
			mark(c, s + 16 + 8);
		if (is(c, "pfn-duplicate"))
			mark(c, s + 16 + 24);
	}
	page_data(w, b, 3);
	if (is(c, "pd-unchecked") || is(c, "pd-scattered")) {
		/* One XTAB pfn in each of 2049 (2048) regions of 32768 pfns. */
		unsigned n = is(c, "pd-unchecked") ? 2049 : 2048;
		uint64_t *words = malloc(n * sizeof(*words));

		if (!words)
			abort();
		for (unsigned i = 0; i < n; i++)
			words[i] = PT(15, 0x100000 + ((uint64_t)i << 15));
		s = page_data(w, words, n);
		if (is(c, "pd-unchecked"))
			mark(c, s + 16 + 8 * 2048);
		free(words);
	}
}

static void p2m_frames(bctx *c)
{
	xw *w = c->w;
	size_t s = xw_rec_begin(w, XC_P2M_FRAMES);
	uint32_t fpp = 4096 / c->width, end = fpp * 2 - 1;

	if (is(c, "p2m-range"))
		mark(c, w->len);
	xw_u32(w, is(c, "p2m-range") ? end + 1 : 0);
	xw_u32(w, end);
	xw_u64(w, 0x100);
	xw_u64(w, 0x101);
	if (is(c, "p2m-length")) {
		mark(c, s);
		xw_u64(w, 0x102);
	}
	xw_rec_end(w, s);
}

static void pv_info(bctx *c)
{
	xw *w = c->w;
	size_t s = xw_rec_begin(w, XC_PV_INFO);

	if (is(c, "pv-width-levels"))
		mark(c, w->len);
	xw_u8(w, (uint8_t)c->width);
	xw_u8(w, is(c, "pv-width-levels") ? 3 : c->width == 8 ? 4 : 3);
	xw_u16(w, 0);
	xw_u32(w, 0);
	xw_rec_end(w, s);
}

static void vcpu(xw *w, uint32_t type, uint32_t id, uint32_t ctx)
{
	size_t s = xw_rec_begin(w, type);

	xw_u32(w, id);
	xw_u32(w, 0);
	xw_fill(w, 0x22, ctx);
	xw_rec_end(w, s);
}

static void pv_vcpus(bctx *c)
{
	xw *w = c->w;
	uint32_t basic = c->width == 8 ? 5168 : 2800;
	for (uint32_t id = 0; id < 2; id++) {
		if (!(is(c, "vcpu0-missing") && id == 0)) {
			if (is(c, "vcpu-basic-size") && id == 1)
				mark(c, w->len);
			vcpu(w, XC_VCPU_BASIC, id,
			     is(c, "vcpu-basic-size") && id == 1 ? basic - 8 : basic);
		}
		if (is(c, "vcpu-extended-size") && id == 1)
			mark(c, w->len);
		vcpu(w, XC_VCPU_EXTENDED, id, is(c, "vcpu-extended-size") && id == 1 ? 136 : 48);
		if (is(c, "vcpu-xsave-size") && id == 1)
			mark(c, w->len);
		vcpu(w, XC_VCPU_XSAVE, id, is(c, "vcpu-xsave-size") && id == 1 ? 8 : 832);
		if (is(c, "vcpu-msrs-size") && id == 1)
			mark(c, w->len);
		vcpu(w, XC_VCPU_MSRS, id, is(c, "vcpu-msrs-size") && id == 1 ? 24 : 32);
	}
	if (is(c, "vcpu-empty")) {
		mark(c, w->len);
		vcpu(w, XC_VCPU_MSRS, 1, 0);
	}
	if (is(c, "vcpu-length")) {
		size_t s = xw_rec_begin(w, XC_VCPU_MSRS);
		mark(c, s);
		xw_u32(w, 1);
		xw_rec_end(w, s);
	}
}

/* Records every round sends after memory (a checkpointed stream repeats them). */
static void pv_tail(bctx *c)
{
	xw *w = c->w;

	tsc_info(c);
	xw_rec_blob(w, XC_SHARED_INFO, 4096, 0x33);
	pv_vcpus(c);
}

static void hvm_tail(bctx *c)
{
	tsc_info(c);
	if (c->params_first)
		hvm_params(c);
	if (!is(c, "hvm-missing"))
		hvm_context(c);
	if (!c->params_first)
		hvm_params(c);
}

/* Mistakes that are not tied to one builder step, added after memory. */
static void extras(bctx *c)
{
	xw *w = c->w;

	if (is(c, "unknown-mandatory"))
		mark(c, xw_rec_blob(w, 0x13, 8, 0));
	if (is(c, "unknown-optional"))
		mark(c, xw_rec_blob(w, 0x80000123u, 5, 0));
	if (is(c, "too-long")) {
		size_t s = xw_rec_begin(w, XC_VERIFY);
		mark(c, s);
		xw_put32(w, s + 4, (128u << 20) + 8);
		c->e->code2 = "input.truncated";
		c->e->off2 = w->len;
		return;
	}
	if (is(c, "guest-type"))
		mark(c, c->guest == 2 ? xw_rec_blob(w, XC_SHARED_INFO, 4096, 0)
				      : xw_rec_blob(w, XC_HVM_PARAMS, 8, 0));
	if (is(c, "toolstack"))
		mark(c, xw_rec_blob(w, XC_TOOLSTACK, 12, 0x44));
	if (is(c, "dirty-pfn-list"))
		mark(c, xw_rec_blob(w, XC_DIRTY_PFN_LIST, 16, 0));
	if (is(c, "verify-record"))
		empty_rec(w, XC_VERIFY);
	if (is(c, "pv-info-duplicate")) {
		size_t s = w->len;
		pv_info(c);
		mark(c, s);
	}
}

/* A minimal QEMU device-state stream: "QEVM", version 3, EOF. */
static const char qemu_blob[] = "QEVM\0\0\0\3";
#define QEMU_BLOB_LEN 9u

static size_t colo_state(xw *w, uint32_t len, uint32_t id, uint32_t second)
{
	size_t s = xw_rec_begin(w, XL_CHECKPOINT_STATE);

	if (len >= 4)
		xw_u32(w, id);
	if (len >= 8)
		xw_u32(w, second);
	if (len > 8)
		xw_fill(w, 0, len - 8);
	xw_rec_end(w, s);
	return s;
}

/*
 * libxl's part of checkpoint round r, between libxc's CHECKPOINT and the
 * next round: emulator records (HVM), CHECKPOINT_END, and for COLO one
 * CHECKPOINT_STATE right after it (libxl_colo_restore.c).
 */
static void libxl_round(bctx *c, unsigned r)
{
	xw *w = c->w;
	bool state = c->colo;
	size_t s;

	if (c->guest == 2) {
		s = xw_rec_begin(w, XL_EMU_CONTEXT);
		xw_u32(w, 2);
		xw_u32(w, 0);
		xw_raw(w, qemu_blob, QEMU_BLOB_LEN);
		xw_rec_end(w, s);
	}
	if (is(c, "colo-state-before-end") && r == 1)
		mark(c, colo_state(w, 4, 0, 0));
	empty_rec(w, XL_CHECKPOINT_END);
	if (is(c, "colo-missing") && r == 2)
		state = false;
	if ((is(c, "remus-then-state") || is(c, "colo-pv")) && r == 2)
		state = true;
	if (!state) {
		if (is(c, "colo-missing") && r == 2)
			mark(c, w->len);
		return;
	}
	if (r == 2 && is(c, "colo-len8"))
		s = colo_state(w, 8, 0, 0);
	else if (r == 2 && is(c, "colo-reserved"))
		s = colo_state(w, 8, 0, 9);
	else if (r == 2 && is(c, "colo-length-zero"))
		s = colo_state(w, 0, 0, 0);
	else if (r == 2 && is(c, "colo-length-12"))
		s = colo_state(w, 12, 0, 0);
	else
		s = colo_state(w, 4, r == 2 && is(c, "colo-control-back") ? 1
				  : r == 2 && is(c, "colo-control-unknown") ? 7 : 0, 0);
	if (r != 2)
		return;
	if (is(c, "colo-control-back") || is(c, "colo-control-unknown"))
		mark(c, s + 8);
	if (is(c, "colo-reserved"))
		mark(c, s + 12);
	if (is(c, "colo-length-zero") || is(c, "colo-length-12") ||
	    is(c, "remus-then-state") || is(c, "colo-pv"))
		mark(c, s);
	if (is(c, "colo-padding")) {
		w->p[s + 13] = 0x66;
		mark(c, s + 13);
	}
	if (is(c, "colo-twice"))
		mark(c, colo_state(w, 4, 0, 0));
}

/* A complete libxc stream of the shape in c (headers, rounds, END). */
static void libxc_stream(bctx *c)
{
	xw *w = c->w;
	bool pv = c->guest == 1;

	image_header(c);
	if (is(c, "legacy"))
		return;
	domain_header(c);
	if (pv) {
		if (is(c, "pv-shared-info-order"))
			mark(c, xw_rec_blob(w, XC_SHARED_INFO, 4096, 0x33));
		if (is(c, "pv-p2m-order")) {
			mark(c, w->len);
			p2m_frames(c);
		}
		pv_info(c);
		static_data(c);
		if (is(c, "pv-vcpu-order")) {
			mark(c, w->len);
			vcpu(w, XC_VCPU_EXTENDED, 0, 48);
		}
		if (is(c, "pv-page-order")) {
			uint64_t one = PT(0, 7);
			mark(c, page_data(w, &one, 1));
		}
		if (!is(c, "pv-p2m-order"))
			p2m_frames(c);
	} else {
		static_data(c);
	}
	if (is(c, "sde-missing"))
		mark(c, w->len);
	memory(c, 0);
	extras(c);
	if (is(c, "too-long"))
		return;
	if (is(c, "truncated"))
		return;
	if (pv)
		pv_tail(c);
	else
		hvm_tail(c);
	for (unsigned r = 1; r <= c->rounds; r++) {
		size_t ck = empty_rec(w, XC_CHECKPOINT);

		if (is(c, "xl-checkpointed") && r == 1)
			mark(c, ck);
		if (c->libxl)
			libxl_round(c, r);
		if (c->no_end && r == c->rounds)
			return;
		memory(c, r);
		if (pv)
			pv_tail(c);
		else
			hvm_tail(c);
	}
	if (c->no_end) {
		empty_rec(w, XC_CHECKPOINT);
		return;
	}
	if (is(c, "vcpu0-missing") || is(c, "hvm-missing")) {
		empty_rec(w, XC_END);
		mark(c, w->len);
		return;
	}
	empty_rec(w, XC_END);
	if (is(c, "end-trailing")) {
		mark(c, w->len);
		xw_fill(w, 0, 8);
	}
}

/* ---- libxl ------------------------------------------------------------ */

static void libxl_header(bctx *c)
{
	xw *w = c->w;

	if (is(c, "libxl-ident")) {
		mark(c, w->len);
		xw_be64(w, 0x4c6962786c466d75ull);
	} else {
		xw_be64(w, 0x4c6962786c466d74ull);
	}
	if (is(c, "libxl-version"))
		mark(c, w->len);
	xw_be32(w, is(c, "libxl-version") ? 3 : 2);
	if (is(c, "libxl-options") || is(c, "libxl-options-high") ||
	    is(c, "libxl-big-endian") || is(c, "libxl-converted"))
		mark(c, w->len);
	xw_be32(w, is(c, "libxl-options") ? 0x4 : is(c, "libxl-options-high") ? 0x80000000u
		   : is(c, "libxl-converted") ? 0x2 : w->be ? 1 : 0);
}

static size_t emulator_rec(xw *w, uint32_t type, uint32_t id, const void *data, size_t n)
{
	size_t s = xw_rec_begin(w, type);

	xw_u32(w, id);
	xw_u32(w, 0);
	xw_raw(w, data, n);
	xw_rec_end(w, s);
	return s;
}

static void emulator_records(bctx *c)
{
	xw *w = c->w;
	static const char ok[] = "physmap/1/start_addr\0f0000000\0physmap/1/size\0800000";
	const char *xs = ok;
	size_t n = sizeof(ok), s;

	if (is(c, "xs-not-terminated"))
		n = sizeof(ok) - 1;
	if (is(c, "xs-odd")) {
		xs = "physmap/1/start_addr\0f0000000\0physmap/1/size";
		n = sizeof("physmap/1/start_addr\0f0000000\0physmap/1/size");
	}
	if (is(c, "xs-key-empty")) {
		xs = "\0value";
		n = sizeof("\0value");
	}
	if (is(c, "xs-key-absolute")) {
		xs = "/local/domain/0\0v";
		n = sizeof("/local/domain/0\0v");
	}
	if (is(c, "xs-key-chars")) {
		xs = "phys map\0v";
		n = sizeof("phys map\0v");
	}
	s = emulator_rec(w, XL_EMU_XENSTORE, is(c, "emu-id") ? 3 : 2, xs, n);
	if (is(c, "emu-id"))
		mark(c, s + 8);
	if (is(c, "emu-pv"))
		mark(c, s);
	if (is(c, "xs-not-terminated"))
		mark(c, s + 16 + n - 1);
	if (is(c, "xs-odd"))
		mark(c, s + 16 + sizeof("physmap/1/start_addr\0f0000000"));
	if (is(c, "xs-key-empty") || is(c, "xs-key-absolute"))
		mark(c, s + 16);
	if (is(c, "xs-key-chars"))
		mark(c, s + 16 + 4);
	s = emulator_rec(w, XL_EMU_CONTEXT, 2, qemu_blob, QEMU_BLOB_LEN);
	if (is(c, "libxl-padding")) {
		w->p[s + 8 + 20] = 0x77;
		mark(c, s + 8 + 20);
	}
}

static void libxl_stream(bctx *c)
{
	xw *w = c->w;

	libxl_header(c);
	if (is(c, "libxl-ident"))
		return;
	if (is(c, "libxl-ckpt-end"))
		mark(c, empty_rec(w, XL_CHECKPOINT_END));
	if (is(c, "libxl-ckpt-state")) {
		size_t s = xw_rec_begin(w, XL_CHECKPOINT_STATE);
		mark(c, s);
		xw_u32(w, 0);
		xw_rec_end(w, s);
	}
	if (!is(c, "libxl-no-libxc")) {
		empty_rec(w, XL_LIBXC_CONTEXT);
		if (is(c, "libxl-in-checkpoint")) {
			/* One checkpoint round whose libxl part ends with END. */
			bctx inner = *c;
			inner.brk = "";
			inner.no_end = true;
			inner.rounds = 1;
			inner.libxl = false;
			libxc_stream(&inner);
			mark(c, empty_rec(w, XL_END));
			return;
		}
		libxc_stream(c);
		if (c->no_end)
			return;
		if (is(c, "libxl-libxc-duplicate")) {
			bctx inner = *c;
			inner.brk = "";
			mark(c, empty_rec(w, XL_LIBXC_CONTEXT));
			libxc_stream(&inner);
		}
	}
	if (c->guest == 2 || is(c, "emu-pv"))
		emulator_records(c);
	if (is(c, "libxl-unknown"))
		mark(c, xw_rec_blob(w, 6, 8, 0));
	if (is(c, "libxl-record-length")) {
		mark(c, xw_rec_blob(w, XL_END, 8, 0));
		return;
	}
	empty_rec(w, XL_END);
	if (is(c, "libxl-no-libxc"))
		mark(c, w->len);
	if (is(c, "libxl-trailing")) {
		mark(c, w->len);
		xw_fill(w, 0, 16);
	}
}

/* ---- legacy (pre-Xen-4.6) streams -------------------------------------- */

/* A legacy pfn word: type nibble in bits 31-28, pfn in bits 27-0. */
#define LW(type, pfn) ((uint64_t)(type) << 28 | (uint64_t)(pfn))
#define LEGACY_P2M_SIZE 0x800u
#define LEGACY_XSAVE 832u

static void lg_param_chunk(xw *w, int32_t marker, uint64_t value)
{
	xw_u32(w, (uint32_t)marker);
	xw_u32(w, 0);
	xw_u64(w, value);
}

/* One page batch: the words, then a page for each type below 0xd. */
static size_t lg_batch(xw *w, const uint64_t *words, unsigned n)
{
	size_t s = w->len;

	xw_u32(w, n);
	for (unsigned i = 0; i < n; i++)
		xw_u64(w, words[i]);
	for (unsigned i = 0; i < n; i++)
		if (words[i] != 0xf0000000u && (words[i] & 0xf0000000u) < 0xd0000000u)
			xw_fill(w, (int)(0x50 + i), 4096);
	return s;
}

/* PV extended info: vcpu, extv and xcnt blocks (or the broken variants). */
static void lg_ext_info(bctx *c)
{
	xw *w = c->w;
	size_t total_at;
	uint32_t vcpu_size = c->width == 8 ? 0x1430 : 0xaf0;

	if (is(c, "lg-ext-marker"))
		mark(c, w->len);
	xw_u64(w, is(c, "lg-ext-marker") ? 0x12345 : UINT64_MAX);
	total_at = w->len;
	xw_u32(w, 0);
	if (!is(c, "lg-no-vcpu")) {
		if (is(c, "lg-vcpu-size"))
			mark(c, w->len + 4);
		xw_raw(w, "vcpu", 4);
		xw_u32(w, is(c, "lg-vcpu-size") ? 0x1000 : vcpu_size);
		xw_fill(w, 0x22, is(c, "lg-vcpu-size") ? 0x1000 : vcpu_size);
	}
	xw_raw(w, "extv", 4);
	xw_u32(w, 0);
	if (is(c, "lg-xcnt-size"))
		mark(c, w->len + 4);
	xw_raw(w, "xcnt", 4);
	xw_u32(w, is(c, "lg-xcnt-size") ? 2 : 8);
	if (is(c, "lg-xcnt-size")) {
		xw_u16(w, 0);
	} else {
		xw_u32(w, is(c, "lg-xsave-short") ? 16 + 4 : 16 + LEGACY_XSAVE);
		xw_u32(w, 0);
	}
	if (is(c, "lg-ext-block")) {
		mark(c, w->len);
		xw_raw(w, "ab\x01\xff", 4);
		xw_u32(w, 0);
	}
	if (is(c, "lg-vcpu-dup")) {
		mark(c, w->len);
		xw_raw(w, "vcpu", 4);
		xw_u32(w, vcpu_size);
		xw_fill(w, 0x23, vcpu_size);
	}
	xw_put32(w, total_at, (uint32_t)(w->len - total_at - 4 - (is(c, "lg-overshoot") ? 4 : 0)));
	if (is(c, "lg-overshoot") || is(c, "lg-no-vcpu"))
		mark(c, total_at);
	/* The p2m frame list: one u64 per p2m page. */
	for (uint32_t i = 0; i < (LEGACY_P2M_SIZE - 1) / (4096 / c->width) + 1; i++)
		xw_u64(w, 0x1000 + i);
}

/* libxl's version 1 physmap, in a toolstack chunk. */
static void lg_toolstack(bctx *c)
{
	xw *w = c->w;
	const char *name = "vga.vram";
	size_t namelen = 9, size_at, start;

	if (is(c, "lg-ts-name-nul"))
		name = "vga.vramX", namelen = 9;
	if (is(c, "lg-ts-name-utf8"))
		name = "vga\xc3\x28ram", namelen = 9;
	if (is(c, "lg-ts-xenstore"))
		name = "a\0/b", namelen = 5;
	if (is(c, "lg-ts-xenstore-odd"))
		name = "ab\0cd", namelen = 6;
	xw_u32(w, (uint32_t)-18);
	size_at = w->len;
	xw_u32(w, 0);
	start = w->len;
	if (is(c, "lg-ts-short")) {
		mark(c, w->len);
		xw_u32(w, 1);
		xw_put32(w, size_at, 4);
		return;
	}
	if (is(c, "lg-ts-version"))
		mark(c, w->len);
	xw_u32(w, is(c, "lg-ts-version") ? 2 : 1);
	xw_u32(w, is(c, "lg-ts-entry-short") ? 2 : 1);
	xw_u64(w, 0xf0000000);
	xw_u64(w, 0xf0000000);
	xw_u64(w, 0x800000);
	if (is(c, "lg-ts-name-zero"))
		mark(c, w->len);
	xw_u32(w, is(c, "lg-ts-name-zero") ? 0 : (uint32_t)namelen);
	if (!is(c, "lg-ts-name-zero")) {
		size_t name_at = w->len;

		xw_raw(w, name, namelen - 1);
		xw_u8(w, is(c, "lg-ts-name-nul") ? 'X' : 0);
		xw_fill(w, 0, 4);
		if (is(c, "lg-ts-name-nul"))
			mark(c, name_at + namelen - 1);
		if (is(c, "lg-ts-name-utf8"))
			mark(c, name_at + 3);
		if (is(c, "lg-ts-xenstore"))
			mark(c, name_at + 2);
		if (is(c, "lg-ts-xenstore-odd"))
			mark(c, name_at + 2);
	}
	if (is(c, "lg-ts-entry-short"))
		mark(c, w->len);
	xw_put32(w, size_at, (uint32_t)(w->len - start));
}

/* The body: every chunk kind the guest type allows, then the end marker. */
static void lg_body(bctx *c)
{
	xw *w = c->w;
	bool pv = c->guest == 1;
	uint64_t a[5] = { LW(0, 0), LW(pv ? 1 : 0, 1), 0xf0000000u, LW(15, 3), LW(13, 4) };
	uint64_t b[1] = { LW(0, 5) };
	size_t s;

	/* tsc_info: u32 mode, u64 nsec, u32 khz, u32 incarnation */
	xw_u32(w, (uint32_t)-7);
	xw_u32(w, 0);
	xw_u64(w, 123456789);
	xw_u32(w, 2400000);
	xw_u32(w, 1);
	xw_u32(w, (uint32_t)-2);
	if (is(c, "lg-vcpu-max"))
		mark(c, w->len);
	xw_u32(w, is(c, "lg-vcpu-max") ? 5000 : 1);
	xw_u64(w, is(c, "lg-vcpu0") ? 2 : 3);
	xw_u32(w, (uint32_t)-1);
	if (is(c, "lg-batch-size")) {
		mark(c, w->len);
		xw_u32(w, 1025);
		return;
	}
	if (is(c, "lg-batch-dup"))
		a[3] = a[0];
	if (is(c, "lg-batch-type"))
		a[1] = LW(6, 1);
	if (is(c, "lg-batch-repeat"))
		a[3] = LW(14, 0);
	if (is(c, "lg-batch-beyond"))
		a[1] = LW(pv ? 1 : 0, LEGACY_P2M_SIZE);
	if (!is(c, "lg-no-pages")) {
		s = lg_batch(w, a, 5);
		if (is(c, "lg-batch-dup") || is(c, "lg-batch-repeat"))
			mark(c, s + 4 + 8 * 3);
		if (is(c, "lg-batch-type") || is(c, "lg-batch-beyond"))
			mark(c, s + 4 + 8 * 1);
		lg_batch(w, b, 1);
	}
	if (is(c, "lg-batch-empty")) {
		uint64_t x[2] = { 0xf0000000u, 0xf0000000u };
		mark(c, lg_batch(w, x, 2));
	}
	if (!pv) {
		static const int32_t params[] = { -3, -4, -8, -10, -11, -14, -15, -16, -17, -19, -20 };
		for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
			lg_param_chunk(w, params[i], 0xfeff0 + i);
	}
	if (is(c, "lg-hvm-only")) {
		mark(c, w->len);
		lg_param_chunk(w, -8, 0xfeff2);
	}
	xw_u32(w, (uint32_t)-9);
	if (pv && !is(c, "lg-ts-pv")) {
		xw_u32(w, (uint32_t)-18);
		xw_u32(w, 0);
	} else {
		if (is(c, "lg-ts-pv"))
			mark(c, w->len);
		lg_toolstack(c);
	}
	if (is(c, "lg-unsupported")) {
		mark(c, w->len);
		xw_u32(w, (uint32_t)-12);
		xw_u32(w, 0);
	}
	if (is(c, "lg-unknown")) {
		mark(c, w->len);
		xw_u32(w, (uint32_t)-30);
	}
	xw_u32(w, 0);
}

static void lg_pv_tail(bctx *c)
{
	xw *w = c->w;
	uint32_t basic = c->width == 8 ? 0x1430 : 0xaf0;

	if (is(c, "lg-vcpu0") || is(c, "lg-no-pages"))
		mark(c, w->len);
	xw_u32(w, 2);
	xw_u64(w, 0x7fe);
	xw_u64(w, 0x7ff);
	for (unsigned v = 0; v < (is(c, "lg-vcpu0") ? 1u : 2u); v++) {
		uint64_t size = is(c, "lg-xsave-short") ? 4 : LEGACY_XSAVE;

		xw_fill(w, 0x31, basic);
		xw_fill(w, 0x32, 128);
		xw_u64(w, 7);
		if ((is(c, "lg-xsave-size") && v == 1) || (is(c, "lg-xsave-short") && v == 0))
			mark(c, w->len);
		xw_u64(w, is(c, "lg-xsave-size") && v == 1 ? size - 32 : size);
		xw_fill(w, 0x33, is(c, "lg-xsave-size") && v == 1 ? size - 32 : size);
	}
	xw_fill(w, 0x34, 4096);
}

static void lg_hvm_tail(bctx *c)
{
	xw *w = c->w;
	size_t s;
	uint32_t len;
	uint64_t before = c->e->off;

	xw_u64(w, 0xfeffe);
	xw_u64(w, 0xfefff);
	xw_u64(w, 0xfeffd);
	if (is(c, "lg-hvm-long")) {
		mark(c, w->len);
		xw_u32(w, (128u << 20) + 1);
		c->e->code2 = "input.truncated";
		c->e->off2 = w->len;
		return;
	}
	/* The HVM context blob: an HVM_CONTEXT record's body, its header replaced by a u32 length. */
	s = w->len;
	hvm_context(c);
	len = (uint32_t)(w->p[s + 4] | w->p[s + 5] << 8 | w->p[s + 6] << 16 |
			 (uint32_t)w->p[s + 7] << 24);
	xw_put32(w, s, len);
	memmove(w->p + s + 4, w->p + s + 8, len);
	w->len = s + 4 + len;
	if (c->e->off != before && c->e->off >= s + 8)
		c->e->off -= 4;
	if (is(c, "lg-qemu-sig"))
		mark(c, w->len);
	xw_raw(w, is(c, "lg-qemu-sig") ? "QemuDeviceModelRecord" : "DeviceModelRecord0002", 21);
	xw_u32(w, QEMU_BLOB_LEN);
	xw_raw(w, qemu_blob, QEMU_BLOB_LEN);
}

/* A legacy stream as xc_domain_save wrote it (64-bit toolstack). */
static void legacy_stream(bctx *c)
{
	xw *w = c->w;
	bool pv = c->guest == 1;

	if (is(c, "lg-p2m-size"))
		mark(c, w->len);
	xw_u64(w, is(c, "lg-p2m-size") ? 0 : LEGACY_P2M_SIZE);
	if (is(c, "lg-inferred") || is(c, "lg-guest-param"))
		mark(c, w->len - 8);
	if (is(c, "lg-guest-param")) {
		/* An unknown guest value is reported, then the layout decides. */
		c->e->code2 = "libxc-legacy.guest.inferred";
		c->e->off2 = w->len - 8;
	}
	/* After a mistake the converter stops at, the rest is written anyway. */
	if (pv)
		lg_ext_info(c);
	lg_body(c);
	if (is(c, "lg-batch-size"))
		return;
	if (pv)
		lg_pv_tail(c);
	else
		lg_hvm_tail(c);
	if (is(c, "lg-trailing")) {
		mark(c, w->len);
		xw_fill(w, 0, 16);
	}
}

/* ---- xl --------------------------------------------------------------- */

static const char xl_config[] =
	"{\"c_info\":{\"type\":\"hvm\",\"name\":\"guest\"},"
	"\"b_info\":{\"max_vcpus\":2,\"max_memkb\":1048576}}";
/* xl's own config syntax (mandatory flag JSON clear), as older xl saved it. */
static const char xl_text_pv[] =
	"# a PV guest\nname = \"guest\"\nbuilder = \"hvm\"; memory = 1024\ntype='pv'\n";
static const char xl_text_builder[] =
	"name = 'guest'\nbuilder = \"hvm\"\nvcpus = 2\n";

static void xl_file(bctx *c, void (*body)(bctx *))
{
	xw *w = c->w;
	bool host_be = is(c, "xl-byte-order");
	uint32_t mandatory = 0x2 | 0x1;
	const char *config = xl_config;
	uint32_t config_len = sizeof(xl_config);
	uint32_t optlen;
	bool save_be = w->be;

	if (c->legacy && (c->guest == 1 || is(c, "xl-builder"))) {
		config = c->guest == 1 ? xl_text_pv : xl_text_builder;
		config_len = (uint32_t)strlen(config);
		mandatory &= ~0x1u;
	}
	optlen = 4 + config_len;

	if (is(c, "xl-magic")) {
		mark(c, 0);
		xw_raw(w, "Xen saved domain, xm format\n \0 \r", 32);
	} else {
		xw_raw(w, "Xen saved domain, xl format\n \0 \r", 32);
	}
	if (c->legacy || is(c, "xl-v2-no-flag"))
		mandatory &= ~0x2u;
	if (is(c, "xl-mandatory"))
		mandatory |= 0x4;
	if (is(c, "xl-no-config"))
		optlen = 0, mandatory &= ~0x1u;
	if (is(c, "xl-optdata-short"))
		optlen = 2;
	w->be = host_be;
	if (host_be)
		mark(c, w->len);
	xw_u32(w, 0x01020304);
	if (is(c, "xl-mandatory"))
		mark(c, w->len);
	xw_u32(w, mandatory);
	xw_u32(w, 0);
	xw_u32(w, optlen);
	if (is(c, "xl-optdata-short") || is(c, "xl-config-len"))
		mark(c, w->len);
	if (is(c, "xl-optdata-short")) {
		xw_fill(w, 0, 2);
	} else if (optlen) {
		xw_u32(w, is(c, "xl-config-len") ? config_len + 1 : config_len);
		xw_raw(w, config, config_len);
	}
	w->be = save_be;
	if (c->legacy) {
		/* xl notes the legacy stream; a second finding marks the first. */
		if (c->e->code && strcmp(c->e->code, "xl.stream.legacy") == 0) {
			mark(c, w->len);
		} else {
			if (is(c, "xl-no-config"))
				mark(c, w->len);
			c->e->code2 = "xl.stream.legacy";
			c->e->off2 = w->len;
		}
		if (is(c, "xl-legacy-empty"))
			mark(c, w->len);
		if (is(c, "xl-legacy-config-text")) {
			mark(c, w->len + 8);
			xw_raw(w, xl_text_builder, sizeof(xl_text_builder) - 1);
			return;
		}
		if (is(c, "xl-legacy-empty"))
			return;
		if (is(c, "xl-v2-misaligned")) {
			/* A libxl v2 stream 4 octets late: read as legacy, it fails. */
			bctx inner = *c;

			inner.brk = "";
			mark(c, w->len + 8);
			xw_fill(w, 0, 4);
			libxl_stream(&inner);
			return;
		}
	}
	if (is(c, "xl-v2-no-flag"))
		mark(c, w->len);
	if (is(c, "xl-magic"))
		return;
	body(c);
}

/* ---- shapes and the fixture table ------------------------------------- */

static void shape_libxc_pv(bctx *c) { c->guest = 1; libxc_stream(c); }
static void shape_libxc_hvm(bctx *c) { c->guest = 2; libxc_stream(c); }
static void shape_libxl_hvm(bctx *c) { c->guest = 2; c->libxl = true; libxl_stream(c); }
static void shape_libxl_pv(bctx *c) { c->guest = 1; c->libxl = true; libxl_stream(c); }

/* A checkpointed libxl stream: rounds, then a stop (no_end) or END. */
static void libxl_checkpointed(bctx *c, int guest, unsigned rounds, bool no_end)
{
	c->guest = guest;
	c->libxl = true;
	c->rounds = rounds;
	c->no_end = no_end;
	libxl_stream(c);
}

/* Remus: two rounds, then the sender stops after a CHECKPOINT_END. */
static void shape_libxl_remus(bctx *c) { libxl_checkpointed(c, 2, 2, true); }
/* COLO (shape colo flag): three rounds, CHECKPOINT_STATE after each CHECKPOINT_END. */
static void shape_libxl_colo(bctx *c) { libxl_checkpointed(c, 2, 3, true); }
/* Checkpoint rounds, then a final round that ends with END records
 * (with the colo flag: a COLO failover). */
static void shape_libxl_rounds_end(bctx *c) { libxl_checkpointed(c, 2, 2, false); }
/* A PV Remus stream (COLO refuses PV guests). */
static void shape_libxl_pv_remus(bctx *c) { libxl_checkpointed(c, 1, 2, true); }

static void shape_legacy_pv(bctx *c) { c->guest = 1; legacy_stream(c); }
static void shape_legacy_hvm(bctx *c) { c->guest = 2; legacy_stream(c); }
static void shape_xl_legacy_hvm(bctx *c) { c->guest = 2; c->legacy = true; xl_file(c, legacy_stream); }
static void shape_xl_legacy_pv(bctx *c) { c->guest = 1; c->legacy = true; xl_file(c, legacy_stream); }

static void shape_xl_hvm(bctx *c) { c->guest = 2; c->libxl = true; xl_file(c, libxl_stream); }
static void shape_xl_pv(bctx *c) { c->guest = 1; c->libxl = true; xl_file(c, libxl_stream); }

static void shape_xl_remus(bctx *c)
{
	c->guest = 2;
	c->libxl = true;
	c->rounds = 1;
	c->no_end = true;
	xl_file(c, libxl_stream);
}

static void shape_libxc_hvm_ckpt(bctx *c)
{
	c->guest = 2;
	c->rounds = 2;
	c->no_end = true;
	libxc_stream(c);
}

typedef struct shape {
	const char *name;
	void (*build)(bctx *c);
	unsigned version;
	unsigned width;
	bool be;
	bool params_first;
	bool colo;
} shape;

static const shape shapes[] = {
	{ "libxc-pv-v2", shape_libxc_pv, 2, 8, false, false, false },
	{ "libxc-pv-v3", shape_libxc_pv, 3, 8, false, false, false },
	{ "libxc-pv32-v3", shape_libxc_pv, 3, 4, false, false, false },
	{ "libxc-hvm-v2", shape_libxc_hvm, 2, 8, false, false, false },
	{ "libxc-hvm-v3", shape_libxc_hvm, 3, 8, false, false, false },
	{ "libxc-hvm-v3-params-first", shape_libxc_hvm, 3, 8, false, true, false },
	{ "libxc-hvm-v3-be", shape_libxc_hvm, 3, 8, true, false, false },
	{ "libxc-hvm-checkpointed", shape_libxc_hvm_ckpt, 3, 8, false, false, false },
	{ "libxl-hvm", shape_libxl_hvm, 3, 8, false, false, false },
	{ "libxl-hvm-v2", shape_libxl_hvm, 2, 8, false, false, false },
	{ "libxl-pv", shape_libxl_pv, 3, 8, false, false, false },
	{ "libxl-hvm-be", shape_libxl_hvm, 3, 8, true, false, false },
	{ "libxl-remus", shape_libxl_remus, 3, 8, false, false, false },
	{ "libxl-colo", shape_libxl_colo, 3, 8, false, false, true },
	{ "libxl-colo-failover", shape_libxl_rounds_end, 3, 8, false, false, true },
	{ "libxl-pv-remus", shape_libxl_pv_remus, 3, 8, false, false, false },
	{ "libxl-rounds-end", shape_libxl_rounds_end, 3, 8, false, false, false },
	{ "xl-hvm", shape_xl_hvm, 3, 8, false, false, false },
	{ "xl-pv", shape_xl_pv, 3, 8, false, false, false },
	{ "xl-remus", shape_xl_remus, 3, 8, false, false, false },
	{ "legacy-pv", shape_legacy_pv, 2, 8, false, false, false },
	{ "legacy-pv32", shape_legacy_pv, 2, 4, false, false, false },
	{ "legacy-hvm", shape_legacy_hvm, 2, 8, false, false, false },
	{ "xl-legacy-hvm", shape_xl_legacy_hvm, 2, 8, false, false, false },
	{ "xl-legacy-pv", shape_xl_legacy_pv, 2, 8, false, false, false },
};

#define V(nm, fmt, sh) { nm, fmt, sh, "", NULL, NULL }
#define B(nm, fmt, sh, brk, code) { nm, fmt, sh, brk, code, NULL }
#define L(nm, sh, brk, code, guest) { nm, "libxc-legacy", sh, brk, code, guest }

const fixture xen_fixtures[] = {
	/* valid shapes */
	V("valid-libxc-pv-v2", "libxc", "libxc-pv-v2"),
	V("valid-libxc-pv-v3", "libxc", "libxc-pv-v3"),
	V("valid-libxc-pv32-v3", "libxc", "libxc-pv32-v3"),
	V("valid-libxc-hvm-v2", "libxc", "libxc-hvm-v2"),
	V("valid-libxc-hvm-v3", "libxc", "libxc-hvm-v3"),
	V("valid-libxc-hvm-params-first", "libxc", "libxc-hvm-v3-params-first"),
	V("valid-libxc-hvm-checkpointed", "libxc", "libxc-hvm-checkpointed"),
	B("valid-libxc-hvm-verify", "libxc", "libxc-hvm-v3", "verify-record", NULL),
	V("valid-libxl-hvm", "libxl", "libxl-hvm"),
	V("valid-libxl-hvm-v2", "libxl", "libxl-hvm-v2"),
	V("valid-libxl-pv", "libxl", "libxl-pv"),
	V("valid-libxl-remus", "libxl", "libxl-remus"),
	V("valid-libxl-colo", "libxl", "libxl-colo"),
	V("valid-libxl-colo-failover", "libxl", "libxl-colo-failover"),
	B("valid-libxl-colo-len8", "libxl", "libxl-colo", "colo-len8", NULL),
	V("valid-libxl-pv-remus", "libxl", "libxl-pv-remus"),
	V("valid-libxl-rounds-end", "libxl", "libxl-rounds-end"),
	V("valid-xl-hvm", "xl", "xl-hvm"),
	V("valid-xl-pv", "xl", "xl-pv"),
	B("valid-xl-no-config", "xl", "xl-hvm", "xl-no-config", NULL),
	/* notes only: still valid */
	B("note-libxc-unknown-optional", "libxc", "libxc-hvm-v3", "unknown-optional", "libxc.record.unknown-optional"),
	B("note-libxc-converted", "libxc", "libxc-hvm-v2", "converted", "libxc.domain.legacy-converted"),
	B("note-libxc-vcpu-empty", "libxc", "libxc-pv-v3", "vcpu-empty", "libxc.vcpu.empty"),
	B("note-libxl-converted", "libxl", "libxl-hvm", "libxl-converted", "libxl.header.legacy-converted"),
	/* big-endian: verified in that order, the flag itself an error */
	B("be-libxc-hvm", "libxc", "libxc-hvm-v3-be", "big-endian", "libxc.header.big-endian"),
	B("be-libxl-hvm", "libxl", "libxl-hvm-be", "libxl-big-endian", "libxl.header.big-endian"),
	/* libxc headers */
	B("bad-libxc-legacy", "libxc", "libxc-hvm-v3", "legacy", "libxc.header.legacy"),
	B("bad-libxc-ident", "libxc", "libxc-hvm-v3", "ident", "libxc.header.ident"),
	B("bad-libxc-version", "libxc", "libxc-hvm-v3", "version", "libxc.header.version"),
	B("bad-libxc-options", "libxc", "libxc-hvm-v3", "options-reserved", "libxc.header.options-reserved"),
	B("bad-libxc-header-reserved", "libxc", "libxc-hvm-v3", "header-reserved", "libxc.header.reserved"),
	B("bad-libxc-domain-type", "libxc", "libxc-hvm-v3", "domain-type", "libxc.domain.type"),
	B("bad-libxc-page-shift", "libxc", "libxc-hvm-v3", "page-shift", "libxc.domain.page-shift"),
	B("bad-libxc-domain-reserved", "libxc", "libxc-hvm-v3", "domain-reserved", "libxc.domain.reserved"),
	/* framing */
	B("bad-libxc-too-long", "libxc", "libxc-hvm-v3", "too-long", "libxc.record.too-long"),
	B("bad-libxc-unknown-mandatory", "libxc", "libxc-hvm-v3", "unknown-mandatory", "libxc.record.unknown-mandatory"),
	B("bad-libxc-record-length", "libxc", "libxc-hvm-v3", "record-length", "libxc.record.length"),
	B("bad-libxc-record-reserved", "libxc", "libxc-hvm-v3", "record-reserved", "libxc.record.reserved"),
	B("bad-libxc-padding", "libxc", "libxc-hvm-v3", "padding", "libxc.padding.nonzero"),
	B("bad-libxc-truncated", "libxc", "libxc-hvm-v3", "truncated", "input.truncated"),
	B("bad-libxc-end-trailing", "libxc", "libxc-hvm-v3", "end-trailing", "libxc.end.trailing-data"),
	/* record kinds */
	B("bad-libxc-hvm-guest-type", "libxc", "libxc-hvm-v3", "guest-type", "libxc.record.guest-type"),
	B("bad-libxc-pv-guest-type", "libxc", "libxc-pv-v3", "guest-type", "libxc.record.guest-type"),
	B("bad-libxc-v3-only", "libxc", "libxc-hvm-v2", "v3-only", "libxc.record.v3-only"),
	B("bad-libxc-toolstack", "libxc", "libxc-hvm-v3", "toolstack", "libxc.record.toolstack"),
	B("bad-libxc-dirty-pfn-list", "libxc", "libxc-hvm-v3", "dirty-pfn-list", "libxc.record.dirty-pfn-list"),
	/* STATIC_DATA_END */
	B("bad-libxc-sde-missing", "libxc", "libxc-hvm-v3", "sde-missing", "libxc.static-data-end.missing"),
	B("bad-libxc-sde-duplicate", "libxc", "libxc-hvm-v3", "sde-duplicate", "libxc.static-data-end.duplicate"),
	B("warn-libxc-sde-late", "libxc", "libxc-hvm-v3", "sde-late", "libxc.static-data-end.late-record"),
	/* PAGE_DATA */
	B("bad-libxc-pd-count-zero", "libxc", "libxc-hvm-v3", "pd-count-zero", "libxc.page-data.count-zero"),
	B("bad-libxc-pd-length", "libxc", "libxc-hvm-v3", "pd-length", "libxc.page-data.length"),
	B("bad-libxc-pfn-reserved", "libxc", "libxc-hvm-v3", "pfn-reserved", "libxc.page-data.pfn-reserved"),
	B("bad-libxc-pfn-type", "libxc", "libxc-hvm-v3", "pfn-type", "libxc.page-data.pfn-type"),
	B("bad-libxc-pfn-duplicate", "libxc", "libxc-hvm-v3", "pfn-duplicate", "libxc.page-data.pfn-duplicate"),
	B("warn-libxc-pfn-unchecked", "libxc", "libxc-hvm-v3", "pd-unchecked", "libxc.page-data.pfn-duplicate-unchecked"),
	B("valid-libxc-pfn-scattered", "libxc", "libxc-hvm-v3", "pd-scattered", NULL),
	B("bad-libxc-pfn-beyond-p2m", "libxc", "libxc-pv-v3", "pfn-beyond-p2m", "libxc.page-data.pfn-beyond-p2m"),
	/* PV records and order */
	B("bad-libxc-pv-width-levels", "libxc", "libxc-pv-v3", "pv-width-levels", "libxc.pv-info.width-levels"),
	B("bad-libxc-pv-info-duplicate", "libxc", "libxc-pv-v2", "pv-info-duplicate", "libxc.pv-info.duplicate"),
	B("bad-libxc-p2m-range", "libxc", "libxc-pv-v3", "p2m-range", "libxc.p2m-frames.range"),
	B("bad-libxc-p2m-length", "libxc", "libxc-pv-v3", "p2m-length", "libxc.p2m-frames.length"),
	B("bad-libxc-vcpu-length", "libxc", "libxc-pv-v3", "vcpu-length", "libxc.vcpu.length"),
	B("bad-libxc-vcpu-basic-size", "libxc", "libxc-pv-v3", "vcpu-basic-size", "libxc.vcpu.basic-size"),
	B("bad-libxc-vcpu-extended-size", "libxc", "libxc-pv-v3", "vcpu-extended-size", "libxc.vcpu.extended-size"),
	B("bad-libxc-vcpu-xsave-size", "libxc", "libxc-pv-v3", "vcpu-xsave-size", "libxc.vcpu.xsave-size"),
	B("bad-libxc-vcpu-msrs-size", "libxc", "libxc-pv-v3", "vcpu-msrs-size", "libxc.vcpu.msrs-size"),
	B("bad-libxc-vcpu0-missing", "libxc", "libxc-pv-v3", "vcpu0-missing", "libxc.vcpu.vcpu0-missing"),
	B("bad-libxc-pv-p2m-order", "libxc", "libxc-pv-v2", "pv-p2m-order", "libxc.pv.p2m-before-info"),
	B("bad-libxc-pv-page-order", "libxc", "libxc-pv-v2", "pv-page-order", "libxc.pv.page-data-before-p2m"),
	B("bad-libxc-pv-vcpu-order", "libxc", "libxc-pv-v2", "pv-vcpu-order", "libxc.pv.vcpu-before-page-data"),
	B("bad-libxc-pv-shared-info-order", "libxc", "libxc-pv-v2", "pv-shared-info-order", "libxc.pv.shared-info-before-info"),
	/* HVM records */
	B("bad-libxc-hvm-missing", "libxc", "libxc-hvm-v3", "hvm-missing", "libxc.hvm-context.missing"),
	B("bad-libxc-hvm-header", "libxc", "libxc-hvm-v3", "hvm-header", "libxc.hvm-context.header"),
	B("bad-libxc-hvm-magic", "libxc", "libxc-hvm-v3", "hvm-magic", "libxc.hvm-context.magic"),
	B("bad-libxc-hvm-version", "libxc", "libxc-hvm-v3", "hvm-version", "libxc.hvm-context.version"),
	B("bad-libxc-hvm-typecode", "libxc", "libxc-hvm-v3", "hvm-typecode", "libxc.hvm-context.typecode"),
	B("bad-libxc-hvm-overrun", "libxc", "libxc-hvm-v3", "hvm-overrun", "libxc.hvm-context.overrun"),
	B("bad-libxc-hvm-no-end", "libxc", "libxc-hvm-v3", "hvm-no-end", "libxc.hvm-context.no-end"),
	B("bad-libxc-hvm-params-length", "libxc", "libxc-hvm-v3", "hvm-params-length", "libxc.hvm-params.length"),
	B("bad-libxc-cpuid-length", "libxc", "libxc-hvm-v3", "cpuid-length", "libxc.cpuid-policy.length"),
	B("bad-libxc-msr-length", "libxc", "libxc-hvm-v3", "msr-length", "libxc.msr-policy.length"),
	B("bad-libxc-msr-flags", "libxc", "libxc-hvm-v3", "msr-flags", "libxc.msr-policy.flags"),
	/* libxl */
	B("bad-libxl-ident", "libxl", "libxl-hvm", "libxl-ident", "libxl.header.ident"),
	B("bad-libxl-version", "libxl", "libxl-hvm", "libxl-version", "libxl.header.version"),
	B("bad-libxl-options", "libxl", "libxl-hvm", "libxl-options", "libxl.header.options-reserved"),
	B("bad-libxl-options-high", "libxl", "libxl-hvm", "libxl-options-high", "libxl.header.options-reserved"),
	B("bad-libxl-unknown", "libxl", "libxl-hvm", "libxl-unknown", "libxl.record.unknown"),
	B("bad-libxl-record-length", "libxl", "libxl-hvm", "libxl-record-length", "libxl.record.length"),
	B("bad-libxl-padding", "libxl", "libxl-hvm", "libxl-padding", "libxl.padding.nonzero"),
	B("bad-libxl-trailing", "libxl", "libxl-hvm", "libxl-trailing", "libxl.end.trailing-data"),
	B("bad-libxl-no-libxc", "libxl", "libxl-hvm", "libxl-no-libxc", "libxl.libxc-context.missing"),
	B("bad-libxl-pv-no-libxc", "libxl", "libxl-pv", "libxl-no-libxc", "libxl.libxc-context.missing"),
	B("warn-libxl-libxc-duplicate", "libxl", "libxl-hvm", "libxl-libxc-duplicate", "libxl.libxc-context.duplicate"),
	B("bad-libxl-in-checkpoint", "libxl", "libxl-hvm", "libxl-in-checkpoint", "libxl.checkpoint.record"),
	B("bad-libxl-ckpt-end", "libxl", "libxl-hvm", "libxl-ckpt-end", "libxl.checkpoint-end.unexpected"),
	B("bad-libxl-ckpt-state", "libxl", "libxl-hvm", "libxl-ckpt-state", "libxl.checkpoint-state.unexpected"),
	B("bad-libxl-colo-control-back", "libxl", "libxl-colo", "colo-control-back", "libxl.checkpoint-state.control-id"),
	B("bad-libxl-colo-control-unknown", "libxl", "libxl-colo", "colo-control-unknown", "libxl.checkpoint-state.control-id"),
	B("bad-libxl-colo-reserved", "libxl", "libxl-colo", "colo-reserved", "libxl.record.reserved"),
	B("bad-libxl-colo-length-zero", "libxl", "libxl-colo", "colo-length-zero", "libxl.record.length"),
	B("bad-libxl-colo-length-12", "libxl", "libxl-colo", "colo-length-12", "libxl.record.length"),
	B("bad-libxl-colo-padding", "libxl", "libxl-colo", "colo-padding", "libxl.padding.nonzero"),
	B("bad-libxl-colo-state-before-end", "libxl", "libxl-colo", "colo-state-before-end", "libxl.checkpoint-state.unexpected"),
	B("bad-libxl-colo-twice", "libxl", "libxl-colo", "colo-twice", "libxl.checkpoint-state.unexpected"),
	B("bad-libxl-colo-missing", "libxl", "libxl-colo", "colo-missing", "libxl.checkpoint.mixed"),
	B("bad-libxl-remus-then-state", "libxl", "libxl-remus", "remus-then-state", "libxl.checkpoint.mixed"),
	B("bad-libxl-colo-pv", "libxl", "libxl-pv-remus", "colo-pv", "libxl.checkpoint-state.unexpected"),
	B("bad-libxl-emu-id", "libxl", "libxl-hvm", "emu-id", "libxl.emulator.id"),
	B("bad-libxl-emu-pv", "libxl", "libxl-pv", "emu-pv", "libxl.emulator.pv-guest"),
	B("bad-libxl-xs-not-terminated", "libxl", "libxl-hvm", "xs-not-terminated", "libxl.xenstore.not-terminated"),
	B("bad-libxl-xs-odd", "libxl", "libxl-hvm", "xs-odd", "libxl.xenstore.odd-strings"),
	B("bad-libxl-xs-key-empty", "libxl", "libxl-hvm", "xs-key-empty", "libxl.xenstore.key-empty"),
	B("bad-libxl-xs-key-absolute", "libxl", "libxl-hvm", "xs-key-absolute", "libxl.xenstore.key-absolute"),
	B("bad-libxl-xs-key-chars", "libxl", "libxl-hvm", "xs-key-chars", "libxl.xenstore.key-chars"),
	/* xl */
	B("bad-xl-magic", "xl", "xl-hvm", "xl-magic", "xl.header.magic"),
	B("bad-xl-byte-order", "xl", "xl-hvm", "xl-byte-order", "xl.header.byte-order"),
	B("bad-xl-mandatory", "xl", "xl-hvm", "xl-mandatory", "xl.header.mandatory-flags"),
	B("bad-xl-optdata-short", "xl", "xl-hvm", "xl-optdata-short", "xl.optional-data.truncated"),
	B("bad-xl-config-len", "xl", "xl-hvm", "xl-config-len", "xl.optional-data.truncated"),
	/* legacy streams behind an xl header with STREAMv2 clear */
	B("note-xl-legacy-hvm", "xl", "xl-legacy-hvm", "", "xl.stream.legacy"),
	B("note-xl-legacy-pv", "xl", "xl-legacy-pv", "", "xl.stream.legacy"),
	B("note-xl-legacy-builder", "xl", "xl-legacy-hvm", "xl-builder", "xl.stream.legacy"),
	B("note-xl-legacy-no-config", "xl", "xl-legacy-hvm", "xl-no-config", "libxc-legacy.guest.inferred"),
	B("bad-xl-legacy-empty", "xl", "xl-legacy-hvm", "xl-legacy-empty", "input.truncated"),
	B("bad-xl-legacy-config-text", "xl", "xl-legacy-hvm", "xl-legacy-config-text", "libxc-legacy.batch.too-large"),
	B("bad-xl-legacy-pv-vcpu0", "xl", "xl-legacy-pv", "lg-vcpu0", "libxc-legacy.pv.vcpu0-missing"),
	B("bad-xl-legacy-v2-misaligned", "xl", "xl-legacy-hvm", "xl-v2-misaligned", "libxc-legacy.batch.too-large"),
	/* bare legacy streams (--format libxc-legacy --guest pv|hvm) */
	L("valid-legacy-pv", "legacy-pv", "", NULL, "pv"),
	L("valid-legacy-pv32", "legacy-pv32", "", NULL, "pv"),
	L("valid-legacy-hvm", "legacy-hvm", "", NULL, "hvm"),
	L("note-legacy-pv-inferred", "legacy-pv", "lg-inferred", "libxc-legacy.guest.inferred", NULL),
	L("note-legacy-hvm-inferred", "legacy-hvm", "lg-inferred", "libxc-legacy.guest.inferred", NULL),
	L("bad-legacy-guest-param", "legacy-hvm", "lg-guest-param", "libxc-legacy.guest.param", "xen"),
	L("bad-legacy-ext-marker", "legacy-pv", "lg-ext-marker", "libxc-legacy.pv.ext-marker", "pv"),
	L("bad-legacy-ext-block", "legacy-pv", "lg-ext-block", "libxc-legacy.pv.ext-block-unknown", "pv"),
	L("bad-legacy-vcpu-size", "legacy-pv", "lg-vcpu-size", "libxc-legacy.pv.vcpu-block-size", "pv"),
	L("bad-legacy-vcpu-dup", "legacy-pv", "lg-vcpu-dup", "libxc-legacy.pv.vcpu-block-duplicate", "pv"),
	L("bad-legacy-xcnt-size", "legacy-pv", "lg-xcnt-size", "libxc-legacy.pv.xcnt-size", "pv"),
	L("bad-legacy-overshoot", "legacy-pv", "lg-overshoot", "libxc-legacy.pv.ext-overshoot", "pv"),
	L("bad-legacy-no-vcpu", "legacy-pv", "lg-no-vcpu", "libxc-legacy.pv.no-vcpu-block", "pv"),
	L("bad-legacy-p2m-size", "legacy-pv", "lg-p2m-size", "libxc-legacy.pv.p2m-size", "pv"),
	L("bad-legacy-batch-size", "legacy-hvm", "lg-batch-size", "libxc-legacy.batch.too-large", "hvm"),
	L("bad-legacy-batch-dup", "legacy-hvm", "lg-batch-dup", "libxc-legacy.batch.duplicate", "hvm"),
	L("bad-legacy-batch-empty", "legacy-hvm", "lg-batch-empty", "libxc-legacy.batch.empty", "hvm"),
	L("bad-legacy-batch-type", "legacy-hvm", "lg-batch-type", "libxc-legacy.batch.pfn-type", "hvm"),
	L("bad-legacy-batch-repeat", "legacy-hvm", "lg-batch-repeat", "libxc-legacy.batch.pfn-repeated", "hvm"),
	L("bad-legacy-batch-beyond", "legacy-pv", "lg-batch-beyond", "libxc-legacy.batch.pfn-beyond-p2m", "pv"),
	L("bad-legacy-vcpu-max", "legacy-hvm", "lg-vcpu-max", "libxc-legacy.vcpu-info.max-id", "hvm"),
	L("bad-legacy-hvm-only", "legacy-pv", "lg-hvm-only", "libxc-legacy.chunk.hvm-only", "pv"),
	L("bad-legacy-unsupported", "legacy-hvm", "lg-unsupported", "libxc-legacy.chunk.unsupported", "hvm"),
	L("bad-legacy-unknown", "legacy-hvm", "lg-unknown", "libxc-legacy.chunk.unknown", "hvm"),
	L("bad-legacy-ts-version", "legacy-hvm", "lg-ts-version", "libxc-legacy.toolstack.version", "hvm"),
	L("bad-legacy-ts-short", "legacy-hvm", "lg-ts-short", "libxc-legacy.toolstack.truncated", "hvm"),
	L("bad-legacy-ts-entry-short", "legacy-hvm", "lg-ts-entry-short", "libxc-legacy.toolstack.truncated", "hvm"),
	L("bad-legacy-ts-name-zero", "legacy-hvm", "lg-ts-name-zero", "libxc-legacy.toolstack.name", "hvm"),
	L("bad-legacy-ts-name-nul", "legacy-hvm", "lg-ts-name-nul", "libxc-legacy.toolstack.name", "hvm"),
	L("bad-legacy-ts-name-utf8", "legacy-hvm", "lg-ts-name-utf8", "libxc-legacy.toolstack.name", "hvm"),
	L("bad-legacy-ts-xenstore", "legacy-hvm", "lg-ts-xenstore", "libxc-legacy.toolstack.xenstore", "hvm"),
	L("bad-legacy-ts-xenstore-odd", "legacy-hvm", "lg-ts-xenstore-odd", "libxc-legacy.toolstack.xenstore", "hvm"),
	L("bad-legacy-ts-pv", "legacy-pv", "lg-ts-pv", "libxc-legacy.toolstack.pv-guest", "pv"),
	L("bad-legacy-no-pages", "legacy-pv", "lg-no-pages", "libxc-legacy.pv.no-page-data", "pv"),
	L("bad-legacy-vcpu0", "legacy-pv", "lg-vcpu0", "libxc-legacy.pv.vcpu0-missing", "pv"),
	L("bad-legacy-xsave-size", "legacy-pv", "lg-xsave-size", "libxc-legacy.pv.xsave-size", "pv"),
	L("bad-legacy-xsave-short", "legacy-pv", "lg-xsave-short", "libxc-legacy.pv.xsave-short", "pv"),
	L("bad-legacy-hvm-long", "legacy-hvm", "lg-hvm-long", "libxc-legacy.hvm.context-too-long", "hvm"),
	L("bad-legacy-hvm-magic", "legacy-hvm", "hvm-magic", "libxc.hvm-context.magic", "hvm"),
	L("bad-legacy-hvm-no-end", "legacy-hvm", "hvm-no-end", "libxc.hvm-context.no-end", "hvm"),
	L("bad-legacy-qemu-sig", "legacy-hvm", "lg-qemu-sig", "libxc-legacy.qemu.signature", "hvm"),
	L("warn-legacy-trailing", "legacy-hvm", "lg-trailing", "libxc-legacy.trailing-data", "hvm"),
	B("bad-xl-v2-no-flag", "xl", "xl-hvm", "xl-v2-no-flag", "xl.stream.v2-without-flag"),
	B("bad-xl-checkpointed", "xl", "xl-remus", "xl-checkpointed", "xl.stream.checkpointed"),
};
const size_t xen_nfixtures = sizeof(xen_fixtures) / sizeof(xen_fixtures[0]);

void xen_fixture_filename(const fixture *f, char *buf, size_t n)
{
	snprintf(buf, n, "%s.%s", f->name, f->format);
}

void xen_fixture_build(const fixture *f, xw *w, fx_expect *e)
{
	const shape *sh = NULL;
	bctx c;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		if (strcmp(shapes[i].name, f->shape) == 0)
			sh = &shapes[i];
	if (!sh)
		abort();
	memset(e, 0, sizeof(*e));
	e->code = f->code;
	e->off = UINT64_MAX;
	memset(&c, 0, sizeof(c));
	c.w = w;
	c.brk = f->brk;
	c.e = e;
	c.version = sh->version;
	c.width = sh->width;
	c.params_first = sh->params_first;
	c.colo = sh->colo;
	w->be = sh->be;
	sh->build(&c);
	if (strcmp(f->brk, "libxl-big-endian") == 0) {
		/* The libxc stream inside declares big-endian too. */
		e->code2 = "libxc.header.big-endian";
		e->off2 = 16 + 8 + 16;
	}
}

/* ---- big streams -------------------------------------------------------- */

static int put(FILE *out, const void *p, size_t n)
{
	return fwrite(p, 1, n, out) == n ? 0 : -1;
}

/* A valid HVM v3 stream's parts around its PAGE_DATA records (wrap: as below). */
static void big_head_tail(xw *w, int wrap, bool tail)
{
	fx_expect e;
	bctx c;

	memset(&c, 0, sizeof(c));
	memset(&e, 0, sizeof(e));
	c.w = w;
	c.brk = "";
	c.e = &e;
	c.version = 3;
	c.guest = 2;
	if (tail) {
		/* TSC, HVM context, params, END (and libxl's END). */
		hvm_tail(&c);
		empty_rec(w, XC_END);
		if (wrap >= 1)
			empty_rec(w, XL_END);
		return;
	}
	if (wrap == 2) {
		static const char magic[] = "Xen saved domain, xl format\n \0 \r";
		xw_raw(w, magic, 32);
		xw_u32(w, 0x01020304);
		xw_u32(w, 0x2);
		xw_u32(w, 0);
		xw_u32(w, 0);
	}
	if (wrap >= 1) {
		xw_be64(w, 0x4c6962786c466d74ull);
		xw_be32(w, 2);
		xw_be32(w, 0);
		empty_rec(w, XL_LIBXC_CONTEXT);
	}
	image_header(&c);
	domain_header(&c);
	static_data(&c);
}

static int put_head_tail(FILE *out, int wrap, bool tail, uint64_t *written)
{
	xw w;
	int rc;

	xw_init(&w);
	big_head_tail(&w, wrap, tail);
	rc = put(out, w.p, w.len);
	*written += w.len;
	xw_free(&w);
	return rc;
}

int xen_write_big_hvm(FILE *out, uint64_t bytes, int wrap)
{
	static unsigned char zeros[1024 * 4096];
	uint64_t written = 0, pfn = 0x100;
	unsigned char hdr[16 + 1024 * 8];
	int rc = put_head_tail(out, wrap, false, &written);

	/* Body: PAGE_DATA records of 1024 pages (at least one) up to the size. */
	for (bool first = true;
	     rc == 0 && (first || written + sizeof(hdr) + sizeof(zeros) + 4096 <= bytes);
	     first = false) {
		unsigned char *p = hdr;
		uint32_t len = 8 + 1024 * 8 + 1024 * 4096;

		put_n(p, 1, 4, false);
		put_n(p + 4, len, 4, false);
		put_n(p + 8, 1024, 4, false);
		put_n(p + 12, 0, 4, false);
		for (unsigned i = 0; i < 1024; i++)
			put_n(p + 16 + 8 * i, pfn++ & ((1ull << 52) - 1), 8, false);
		rc |= put(out, hdr, sizeof(hdr));
		rc |= put(out, zeros, sizeof(zeros));
		written += sizeof(hdr) + sizeof(zeros);
	}
	rc |= put_head_tail(out, wrap, true, &written);
	return rc | (fflush(out) == 0 ? 0 : -1);
}

int xen_write_wide_page_data(FILE *out, uint32_t count, uint64_t stride)
{
	unsigned char chunk[8 * 1024];
	uint64_t written = 0, len = 8 + 8 * (uint64_t)count;
	int rc = put_head_tail(out, 0, false, &written);

	put_n(chunk, 1, 4, false);
	put_n(chunk + 4, len, 4, false);
	put_n(chunk + 8, count, 4, false);
	put_n(chunk + 12, 0, 4, false);
	rc |= put(out, chunk, 16);
	for (uint32_t done = 0; rc == 0 && done < count;) {
		uint32_t n = count - done < 1024 ? count - done : 1024;

		/* XTAB pfns carry no page data. */
		for (uint32_t i = 0; i < n; i++)
			put_n(chunk + 8 * i, PT(15, (done + i) * stride), 8, false);
		rc |= put(out, chunk, 8 * (size_t)n);
		done += n;
	}
	rc |= put_head_tail(out, 0, true, &written);
	return rc | (fflush(out) == 0 ? 0 : -1);
}
