/*
 * What the libxc and libxl record formats share: byte-order loads and the
 * record framing (body consumption, zero padding to 8 octets).
 */
#include <stdlib.h>
#include <string.h>

#include "formats/xen/xen.h"

bool xen_xs_key_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
	       c == '@';
}

bool xen_body_read(sv_ctx *cx, sv_stream *in, xen_rec *r, void *buf, size_t n,
		   const char *what)
{
	if (r->truncated)
		return false;
	if (!sv_need(cx, in, buf, n, what)) {
		r->truncated = true;
		return false;
	}
	r->used += (uint32_t)n;
	return true;
}

bool xen_body_skip(sv_ctx *cx, sv_stream *in, xen_rec *r, uint64_t n,
		   const char *what)
{
	return xen_body_scan(cx, in, r, n, NULL, NULL, what);
}

bool xen_body_scan(sv_ctx *cx, sv_stream *in, xen_rec *r, uint64_t n,
		   sv_scan_fn fn, void *arg, const char *what)
{
	uint64_t at, got;

	if (r->truncated)
		return false;
	at = sv_offset(in);
	got = sv_scan(in, n, fn, arg);
	if (got != n) {
		sv_report_truncated(cx, at, n, got, what);
		r->truncated = true;
		return false;
	}
	r->used += (uint32_t)n;
	return true;
}

bool xen_body_nested(sv_ctx *cx, sv_stream *in, xen_rec *r, uint64_t n,
		     const sv_format *f, const char *what)
{
	uint64_t at, got;
	unsigned long errors = sv_error_count(cx);

	if (r->truncated)
		return false;
	at = sv_offset(in);
	got = sv_verify_nested(cx, in, n, f);
	r->used += (uint32_t)got;
	if (got == n)
		return true;
	/* The nested module saw its stream end early: one finding for it. */
	if (sv_error_count(cx) == errors)
		sv_report_truncated(cx, at, n, got, what);
	r->truncated = true;
	return false;
}

bool xen_rec_finish(sv_ctx *cx, sv_stream *in, xen_rec *r,
		    const sv_code *pad_code)
{
	unsigned char pad[XEN_ALIGN];
	size_t npad = (size_t)(xen_padded(r->length) - r->length);
	uint64_t pad_off = xen_body_off(r) + r->length;

	if (r->used < r->length &&
	    !xen_body_skip(cx, in, r, r->length - r->used, "record body"))
		return false;
	if (r->truncated)
		return false;
	if (npad == 0)
		return true;
	if (!sv_need(cx, in, pad, npad, "record padding")) {
		r->truncated = true;
		return false;
	}
	for (size_t i = 0; i < npad; i++) {
		if (pad[i] != 0) {
			sv_report(cx, pad_code, pad_off + i,
				  "padding octet %zu of %zu is 0x%02x, not zero",
				  i + 1, npad, pad[i]);
			break;
		}
	}
	return true;
}

/* ---- pfn sets ------------------------------------------------------------- */

#define LEAF_BYTES ((size_t)1 << (XEN_PFNSET_LEAF_BITS - 3))
#define PFNSET_MIN_SLOTS 16u

void xen_pfnset_clear(xen_pfnset *s)
{
	/* A run not yet written has no bits to clear. */
	s->run_live = false;
	s->descended = s->any = false;
	for (size_t i = 0; s->nused > 0 && i < s->nslots; i++) {
		xen_pfnslot *sl = &s->slot[i];

		if (sl->key == 0)
			continue;
		/* Only the octets the record touched: 128 for 1024 neighbours. */
		if (sl->hi > sl->lo)
			memset(sl->leaf + sl->lo, 0, (size_t)(sl->hi - sl->lo));
		s->pool[s->npool++] = sl->leaf;
		sl->key = 0;
		sl->leaf = NULL;
		s->nused--;
	}
	s->last_key = 0;
}

/* Fibonacci hashing of the leaf number, then linear probing. */
static size_t pfnset_find(const xen_pfnset *s, uint64_t key)
{
	size_t i = (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> s->shift);

	while (s->slot[i].key != 0 && s->slot[i].key != key + 1)
		i = (i + 1) & (s->nslots - 1);
	return i;
}

/* Double the table (from nothing: PFNSET_MIN_SLOTS); false when out of memory. */
static bool pfnset_grow(xen_pfnset *s)
{
	size_t n = s->nslots ? 2 * s->nslots : PFNSET_MIN_SLOTS;
	xen_pfnset old = *s;
	xen_pfnslot *slot = calloc(n, sizeof(*slot));

	if (!slot)
		return false;
	s->slot = slot;
	s->nslots = n;
	s->shift = 64;
	while (n > 1) {
		s->shift--;
		n >>= 1;
	}
	for (size_t i = 0; i < old.nslots; i++)
		if (old.slot[i].key != 0)
			s->slot[pfnset_find(s, old.slot[i].key - 1)] = old.slot[i];
	free(old.slot);
	s->last_key = 0;
	return true;
}

/* The slot of key's leaf, made when new; SIZE_MAX past the cap or out of memory. */
static size_t pfnset_slot(xen_pfnset *s, uint64_t key)
{
	size_t i;
	unsigned char *leaf;

	if (s->nslots > 0) {
		i = pfnset_find(s, key);
		if (s->slot[i].key != 0)
			return i;
	}
	if (s->nused == XEN_PFNSET_LEAVES)
		return SIZE_MAX;
	/* At most half full, so probes stay short. */
	if (2 * (s->nused + 1) > s->nslots) {
		if (!pfnset_grow(s))
			return SIZE_MAX;
	}
	if (s->npool > 0) {
		leaf = s->pool[--s->npool];
	} else {
		unsigned char **pool = realloc(s->pool, (s->nleaves + 1) * sizeof(*pool));

		if (!pool)
			return SIZE_MAX;
		s->pool = pool;
		leaf = calloc(1, LEAF_BYTES);
		if (!leaf)
			return SIZE_MAX;
		s->nleaves++;
	}
	i = pfnset_find(s, key);
	s->slot[i] = (xen_pfnslot){ .key = key + 1, .leaf = leaf, .lo = LEAF_BYTES, .hi = 0 };
	s->nused++;
	return i;
}

/* Set the bits of the waiting run in its leaf. */
static void pfnset_flush(xen_pfnset *s)
{
	xen_pfnslot *sl = &s->slot[s->run_slot];
	size_t mask = ((size_t)1 << XEN_PFNSET_LEAF_BITS) - 1;
	size_t b = (size_t)s->run_lo & mask, e = (size_t)s->run_hi & mask;

	s->run_live = false;
	if (b / 8 < sl->lo)
		sl->lo = (uint16_t)(b / 8);
	if (e / 8 >= sl->hi)
		sl->hi = (uint16_t)(e / 8 + 1);
	for (; b <= e && b % 8 != 0; b++)
		sl->leaf[b / 8] |= (unsigned char)(1u << (b % 8));
	if (b + 7 <= e) {
		memset(sl->leaf + b / 8, 0xff, (e + 1 - b) / 8);
		b += (e + 1 - b) / 8 * 8;
	}
	for (; b <= e; b++)
		sl->leaf[b / 8] |= (unsigned char)(1u << (b % 8));
}

int xen_pfnset_add_slow(xen_pfnset *s, uint64_t pfn)
{
	uint64_t key = pfn >> XEN_PFNSET_LEAF_BITS;
	size_t i, bit = (size_t)(pfn & ((UINT64_C(1) << XEN_PFNSET_LEAF_BITS) - 1));
	unsigned char mask = (unsigned char)(1u << (bit % 8));
	uint64_t top = s->run_live ? s->run_hi : s->top;
	bool ascending = !s->descended && (!s->any || pfn > top);
	xen_pfnslot *sl;

	/* Written before any lookup: a lookup may grow (move) the slots. */
	if (s->run_live)
		pfnset_flush(s);
	s->any = true;
	if (ascending)
		s->top = pfn;
	else
		s->descended = true;
	i = s->last_key == key + 1 ? s->last : pfnset_slot(s, key);
	if (i == SIZE_MAX)
		return -1;
	if (ascending) {
		/* Above every pfn so far: new, and the start of a run. */
		s->last = i;
		s->last_key = key + 1;
		s->run_live = true;
		s->run_lo = s->run_hi = pfn;
		s->run_slot = i;
		return 0;
	}
	s->last = i;
	s->last_key = key + 1;
	sl = &s->slot[i];
	if (sl->leaf[bit / 8] & mask)
		return 1;
	sl->leaf[bit / 8] |= mask;
	if (bit / 8 < sl->lo)
		sl->lo = (uint16_t)(bit / 8);
	if (bit / 8 >= sl->hi)
		sl->hi = (uint16_t)(bit / 8 + 1);
	return 0;
}

void xen_pfnset_free(xen_pfnset *s)
{
	for (size_t i = 0; i < s->nslots; i++)
		free(s->slot[i].leaf);
	for (size_t i = 0; i < s->npool; i++)
		free(s->pool[i]);
	free(s->slot);
	free(s->pool);
	memset(s, 0, sizeof(*s));
}
