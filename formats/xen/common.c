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

void xen_pfnset_clear(xen_pfnset *s)
{
	for (size_t i = 0; i < s->nused; i++) {
		size_t slot = s->used[i];

		memset(s->leaf[slot], 0, LEAF_BYTES);
		s->pool[s->npool++] = s->leaf[slot];
		s->keys[slot] = 0;
		s->leaf[slot] = NULL;
	}
	s->nused = 0;
	s->last_key = 0;
	s->last_leaf = NULL;
}

static unsigned char *pfnset_leaf(xen_pfnset *s, uint64_t key)
{
	size_t slot;

	if (!s->keys) {
		s->keys = calloc(XEN_PFNSET_SLOTS, sizeof(*s->keys));
		s->leaf = calloc(XEN_PFNSET_SLOTS, sizeof(*s->leaf));
		s->used = calloc(XEN_PFNSET_LEAVES, sizeof(*s->used));
		s->pool = calloc(XEN_PFNSET_LEAVES, sizeof(*s->pool));
		if (!s->keys || !s->leaf || !s->used || !s->pool) {
			xen_pfnset_free(s);
			return NULL;
		}
	}
	/* Fibonacci hashing of the leaf number, then linear probing. */
	slot = (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 52) & (XEN_PFNSET_SLOTS - 1);
	while (s->keys[slot] != 0) {
		if (s->keys[slot] == key + 1)
			return s->leaf[slot];
		slot = (slot + 1) & (XEN_PFNSET_SLOTS - 1);
	}
	if (s->nused == XEN_PFNSET_LEAVES)
		return NULL;
	if (s->npool > 0) {
		s->leaf[slot] = s->pool[--s->npool];
	} else {
		s->leaf[slot] = calloc(1, LEAF_BYTES);
		if (!s->leaf[slot])
			return NULL;
	}
	s->keys[slot] = key + 1;
	s->used[s->nused++] = (uint16_t)slot;
	return s->leaf[slot];
}

int xen_pfnset_add(xen_pfnset *s, uint64_t pfn)
{
	uint64_t key = pfn >> XEN_PFNSET_LEAF_BITS;
	unsigned char *leaf = s->last_key == key + 1 ? s->last_leaf : pfnset_leaf(s, key);
	size_t bit = (size_t)(pfn & ((UINT64_C(1) << XEN_PFNSET_LEAF_BITS) - 1));
	unsigned char mask = (unsigned char)(1u << (bit % 8));

	if (!leaf)
		return -1;
	s->last_key = key + 1;
	s->last_leaf = leaf;
	if (leaf[bit / 8] & mask)
		return 1;
	leaf[bit / 8] |= mask;
	return 0;
}

void xen_pfnset_free(xen_pfnset *s)
{
	if (s->leaf)
		for (size_t i = 0; i < s->nused; i++)
			free(s->leaf[s->used[i]]);
	for (size_t i = 0; i < s->npool; i++)
		free(s->pool[i]);
	free(s->keys);
	free(s->leaf);
	free(s->used);
	free(s->pool);
	memset(s, 0, sizeof(*s));
}
