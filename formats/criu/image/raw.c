/*
 * Raw CRIU images (CRIU's RAW_IMAGE_MAGIC): page contents, tmpfs tarballs,
 * iproute2 save streams and text rule sets, each checked as far as it can
 * be on its own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include "internal.h"
#include "formats/criu/codes.h"
#include "formats/criu/image/raw.h"

#define TAR_BLOCK 512u
#define NLMSG_HDRLEN 16u

static const sv_code *code(int c)
{
	return &criu_codes[c];
}

/* Consume everything left; returns the byte count. */
static uint64_t drain(sv_stream *s)
{
	return sv_skip(s, UINT64_MAX);
}

/* Pages are passed in pieces that count as records for --tee: any whole page is valid. */
#define PAGES_PIECE ((uint64_t)1 << 20)

static void verify_pages(sv_ctx *cx, sv_stream *s, criu_image_info *info)
{
	uint64_t size = 0, got;

	do {
		sv_record_begin(cx, size / PAGES_PIECE, "pages", sv_offset(s));
		got = sv_skip(s, PAGES_PIECE);
		size += got;
	} while (got == PAGES_PIECE);
	sv_record_none(cx);

	info->raw_bytes = size;
	/*
	 * Alone (the whole input, no dump around it), nothing says whether
	 * the file is compressed (image version 3: any size is valid) or not.
	 */
	criu_pages_whole(cx, size, sv_get_file(cx) == NULL);
	/* The pages file is one record, as -v lists it. */
	sv_count_record(cx);
	if (sv_want_records(cx)) {
		sv_emit_record(cx, 0, "pages", 0, size, "%" PRIu64 " pages",
			       size / CRIU_PAGE_SIZE);
		if (sv_get_file(cx) == NULL) /* a figure of the whole input only */
			sv_emit_stat_u64(cx, "pages.stored", size / CRIU_PAGE_SIZE);
	}
}

void criu_pages_whole(sv_ctx *cx, uint64_t size, bool alone)
{
	if (!(size % CRIU_PAGE_SIZE))
		return;
	if (alone)
		sv_report(cx, code(CRIU_PAGES_UNSIZED), size - size % CRIU_PAGE_SIZE,
			  "%" PRIu64 " bytes: %" PRIu64 " whole pages and %" PRIu64 " bytes "
			  "more; an uncompressed dump's pages file would be cut short, a "
			  "compressed one's (image version 3) is checked with its pagemap, "
			  "in the dump", size, size / CRIU_PAGE_SIZE, size % CRIU_PAGE_SIZE);
	else
		sv_report(cx, code(CRIU_PAGES_SIZE), size - size % CRIU_PAGE_SIZE,
			  "%" PRIu64 " bytes: %" PRIu64 " whole pages and %" PRIu64
			  " bytes more", size, size / CRIU_PAGE_SIZE, size % CRIU_PAGE_SIZE);
}

/* ---- image version 3: compressed pages ----------------------------------- */

#define PE_PAYLOAD_ALIGNED 8u

/* One PE_PRESENT entry's payload. */
typedef struct plan_seg {
	uint64_t index;       /* pagemap entry index, for the record context */
	uint64_t pages;
	size_t first;         /* its first block size in sizes[] */
	uint32_t nblocks;     /* 0: stored raw, pages * 4096 bytes */
	uint32_t block_pages;
	bool aligned;
} plan_seg;

struct criu_pages_plan {
	plan_seg *segs;
	size_t nsegs, capsegs;
	uint32_t *sizes;
	size_t nsizes, capsizes;
	uint64_t bytes;        /* payloads and padding */
	uint64_t max_block;    /* largest uncompressed block with an LZ4 payload */
};

criu_pages_plan *criu_pages_plan_new(void)
{
	return calloc(1, sizeof(criu_pages_plan));
}

void criu_pages_plan_free(criu_pages_plan *p)
{
	if (!p)
		return;
	free(p->segs);
	free(p->sizes);
	free(p);
}

uint64_t criu_pages_plan_bytes(const criu_pages_plan *p)
{
	return p->bytes;
}

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 64;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			return false;
		n *= 2;
	}
	void *q = realloc(*arr, n * elem);
	if (!q)
		return false;
	*arr = q;
	*cap = n;
	return true;
}

bool criu_pages_plan_add(criu_pages_plan *p, uint64_t index, const PagemapEntry *pe)
{
	uint32_t flags = criu_pagemap_flags(pe);
	uint64_t pages = criu_pagemap_pages(pe);

	if (!(flags & CRIU_PE_PRESENT) || pages == 0 || pages > (UINT64_MAX >> 13))
		return true; /* no payload here (image.c has judged the rest) */
	if (!grow((void **)&p->segs, &p->capsegs, p->nsegs + 1, sizeof(*p->segs)) ||
	    !grow((void **)&p->sizes, &p->capsizes, p->nsizes + pe->n_compressed_size,
		  sizeof(*p->sizes)))
		return false;
	plan_seg *g = &p->segs[p->nsegs++];
	*g = (plan_seg){ index, pages, p->nsizes, (uint32_t)pe->n_compressed_size,
			 pe->has_region_pages && pe->region_pages ? pe->region_pages : 1,
			 (flags & PE_PAYLOAD_ALIGNED) != 0 };
	if (g->aligned && p->bytes % CRIU_PAGE_SIZE)
		p->bytes += CRIU_PAGE_SIZE - p->bytes % CRIU_PAGE_SIZE;
	if (!g->nblocks) {
		p->bytes += pages * CRIU_PAGE_SIZE;
		return true;
	}
	for (size_t i = 0; i < pe->n_compressed_size; i++) {
		uint64_t raw = (uint64_t)g->block_pages * CRIU_PAGE_SIZE;
		uint32_t c = pe->compressed_size[i];
		p->sizes[p->nsizes++] = c;
		p->bytes += c;
		if (c && c < raw && raw > p->max_block)
			p->max_block = raw;
	}
	return true;
}

/* The bytes of block k of segment g when uncompressed. */
static uint64_t block_raw(const plan_seg *g, uint32_t k)
{
	uint64_t done = (uint64_t)k * g->block_pages;
	uint64_t left = g->pages > done ? g->pages - done : 0;
	return (left < g->block_pages ? left : g->block_pages) * CRIU_PAGE_SIZE;
}

/* The LZ4 margin that lets a block be decoded in its own buffer. */
#define INPLACE_MARGIN(n) (((n) >> 8) + 32)

void criu_verify_pages_plan(sv_ctx *cx, sv_stream *s, const criu_pages_plan *p,
			    criu_image_info *info)
{
	/* One buffer of one region (plus LZ4's in-place margin): the
	 * compressed block is read to its end and decoded to its start. */
	size_t cap = (size_t)p->max_block + INPLACE_MARGIN((size_t)p->max_block);
	unsigned char *buf = p->max_block ? malloc(cap) : NULL;
	uint64_t lz4_blocks = 0, zero_blocks = 0, raw_blocks = 0;
	bool short_file = false;

	if (p->max_block && !buf) {
		sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
			  "out of memory for a %zu-byte block buffer", cap);
		info->raw_bytes = sv_skip(s, UINT64_MAX);
		return;
	}
	for (size_t i = 0; i < p->nsegs && !short_file && !sv_stopped(cx); i++) {
		const plan_seg *g = &p->segs[i];
		uint64_t at = sv_offset(s);

		sv_set_record(cx, g->index, "pagemap_entry");
		if (g->aligned && at % CRIU_PAGE_SIZE) {
			uint64_t pad = CRIU_PAGE_SIZE - at % CRIU_PAGE_SIZE;
			if (sv_skip(s, pad) < pad) {
				short_file = true;
				break;
			}
		}
		if (!g->nblocks) {
			uint64_t n = g->pages * CRIU_PAGE_SIZE;
			if (sv_skip(s, n) < n)
				short_file = true;
			continue;
		}
		for (uint32_t k = 0; k < g->nblocks && !sv_stopped(cx); k++) {
			uint32_t c = p->sizes[g->first + k];
			uint64_t raw = block_raw(g, k);
			uint64_t boff = sv_offset(s);

			if (c == 0) {
				zero_blocks++;
				continue;
			}
			if (c >= raw) { /* stored raw (image.c reports c > raw) */
				raw_blocks++;
				if (sv_skip(s, c) < c) {
					short_file = true;
					break;
				}
				continue;
			}
			/* c < raw <= max_block: the buffer holds it. */
			unsigned char *src = buf + cap - c;
			if (sv_read(s, src, c) < c) {
				short_file = true;
				break;
			}
			lz4_blocks++;
			int got = LZ4_decompress_safe((const char *)src, (char *)buf, (int)c,
						      (int)raw);
			if (got != (int)raw)
				sv_report(cx, &criu_codes[CRIU_PAGES_LZ4], boff,
					  "block %" PRIu32 " of entry %" PRIu64 " (%" PRIu32
					  " bytes) %s%d bytes, not its %" PRIu64,
					  k, g->index, c,
					  got < 0 ? "is no LZ4 block that decodes to " : "decodes to ",
					  got < 0 ? (int)raw : got, raw);
		}
	}
	sv_record_none(cx);
	uint64_t end = sv_offset(s);
	if (short_file || end < p->bytes) {
		sv_report(cx, &criu_codes[CRIU_PAGES_PAYLOAD], end,
			  "the pages file ends after %" PRIu64 " bytes; its pagemap's payloads "
			  "need %" PRIu64 " (CRIU's restore would read past its end)",
			  end, p->bytes);
	} else {
		uint64_t more = sv_skip(s, UINT64_MAX);
		if (more)
			sv_report(cx, &criu_codes[CRIU_PAGES_PAYLOAD], end,
				  "%" PRIu64 " bytes follow the %" PRIu64 " bytes of its pagemap's "
				  "payloads", more, p->bytes);
	}
	info->raw_bytes = sv_offset(s);
	info->complete = !sv_stopped(cx);
	if (sv_want_records(cx)) {
		sv_emit_stat_u64(cx, "pages.blocks.lz4", lz4_blocks);
		sv_emit_stat_u64(cx, "pages.blocks.zero", zero_blocks);
		sv_emit_stat_u64(cx, "pages.blocks.raw", raw_blocks);
	}
	free(buf);
}

static ssize_t held_read(void *arg, void *buf, size_t n)
{
	criu_held *h = arg;
	size_t k = h->len - h->at < n ? h->len - h->at : n;

	memcpy(buf, h->p + h->at, k);
	h->at += k;
	return (ssize_t)k;
}

static int64_t held_skip(void *arg, uint64_t n)
{
	criu_held *h = arg;
	size_t k = h->len - h->at < n ? h->len - h->at : (size_t)n;

	h->at += k;
	return (int64_t)k;
}

sv_source criu_held_source(criu_held *h, const unsigned char *buf, size_t len)
{
	*h = (criu_held){ buf ? buf : (const unsigned char *)"", len, 0 };
	return (sv_source){ held_read, held_skip, h, len };
}

void criu_verify_pages_plan_held(sv_ctx *cx, const unsigned char *buf, size_t len,
				 const char *name, const criu_pages_plan *p,
				 criu_image_info *info)
{
	criu_held h;
	sv_source src = criu_held_source(&h, buf, len);
	sv_stream *s = sv_stream_open_source(cx, &src, name, 0, SV_OPEN_RAW);

	if (!s) {
		sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
			  "out of memory to read a held pages file");
		return;
	}
	criu_verify_pages_plan(cx, s, p, info);
	sv_close(s);
}

/* ---- tar ------------------------------------------------------------------ */

/* An octal field as tar writes it: spaces, digits, then NUL or space. */
static bool tar_octal(const unsigned char *f, size_t n, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	bool digits = false;

	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (UINT64_MAX >> 3))
			return false;
		v = v << 3 | (uint64_t)(f[i] - '0');
		digits = true;
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return false;
	*out = v;
	return digits;
}

/* The size field: octal, or GNU's base-256 for big files. */
static bool tar_size(const unsigned char *f, uint64_t *out)
{
	if (f[0] & 0x80) {
		uint64_t v = 0;

		if (f[0] != 0x80)
			return false; /* negative, or beyond 64 bits */
		for (size_t i = 1; i < 12; i++) {
			if (v >> 56)
				return false;
			v = v << 8 | f[i];
		}
		*out = v;
		return true;
	}
	return tar_octal(f, 12, out);
}

static bool tar_checksum_ok(const unsigned char *h, uint64_t stored)
{
	uint64_t usum = 0;
	int64_t ssum = 0;

	for (size_t i = 0; i < TAR_BLOCK; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];
		usum += c;
		ssum += (signed char)c;
	}
	/* Old tars summed signed chars; GNU tar accepts both. */
	return usum == stored || (ssum >= 0 && (uint64_t)ssum == stored);
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Types whose size field counts no data blocks. */
static bool tar_has_data(unsigned char type)
{
	return !(type >= '1' && type <= '6');
}

static void verify_tar(sv_ctx *cx, sv_stream *s, criu_image_info *info)
{
	unsigned char h[TAR_BLOCK];
	uint64_t members = 0;

	for (;;) {
		uint64_t at = sv_offset(s);

		if (sv_stopped(cx))
			return;
		if (sv_at_end(s)) {
			sv_report(cx, code(CRIU_TAR_END), at,
				  "the archive ends after %" PRIu64 " members without its "
				  "end-of-archive block", members);
			break;
		}
		if (!sv_need(cx, s, h, TAR_BLOCK, "tar header"))
			return;
		if (all_zero(h, TAR_BLOCK))
			break; /* end of archive; GNU tar pads the rest with zeros */

		uint64_t stored, size;
		sv_set_record(cx, members, "tar header");
		if (!tar_octal(h + 148, 8, &stored) || !tar_checksum_ok(h, stored)) {
			sv_report(cx, code(CRIU_TAR_CHECKSUM), at,
				  "member %" PRIu64 ": header checksum does not match", members);
			return;
		}
		if (!tar_size(h + 124, &size)) {
			sv_report(cx, code(CRIU_TAR_HEADER), at,
				  "member %" PRIu64 ": unreadable size field", members);
			return;
		}
		/* Old GNU sparse members: extension headers follow. */
		bool extended = h[156] == 'S' && h[482] != 0;
		while (extended) {
			if (!sv_need(cx, s, h, TAR_BLOCK, "tar sparse header"))
				return;
			extended = h[504] != 0;
		}
		uint64_t data = tar_has_data(h[156]) ? (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK : 0;
		uint64_t data_at = sv_offset(s);
		uint64_t got = sv_skip(s, data);
		if (got < data) {
			sv_report_truncated(cx, data_at, data, got, "tar member data");
			return;
		}
		sv_count_record(cx);
		members++;
	}
	sv_record_none(cx);
	drain(s);
	info->entries = members;
}

static void verify_tmpfs(sv_ctx *cx, sv_stream *s, const criu_image_type *t,
			 criu_image_info *info)
{
	if (!sv_stream_gzip(s)) {
		sv_report(cx, code(CRIU_TMPFS_NOT_GZIP), 0,
			  "a %s image must be gzip-compressed tar (CRIU extracts it with "
			  "tar --gzip)", t->name);
		info->raw_bytes = drain(s);
		return;
	}
	verify_tar(cx, s, info);
	info->raw_bytes = sv_offset(s);
	if (sv_want_records(cx))
		sv_emit_stat_u64(cx, "tar.members", info->entries);
}

/* ---- iproute2 save streams -------------------------------------------------- */

static void verify_iproute(sv_ctx *cx, sv_stream *s, const criu_image_type *t,
			   criu_image_info *info)
{
	unsigned char b[NLMSG_HDRLEN];

	if (!sv_need(cx, s, b, 4, "iproute2 magic"))
		return;
	uint32_t magic = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
			 (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	if (magic != t->raw_magic) {
		sv_report(cx, code(CRIU_IPROUTE_MAGIC), 0,
			  "magic 0x%08" PRIx32 ", not iproute2's 0x%08" PRIx32 " for %s",
			  magic, t->raw_magic, t->name);
		info->raw_bytes = 4 + drain(s);
		return;
	}
	for (uint64_t index = 0; !sv_stopped(cx); index++) {
		uint64_t at = sv_offset(s);
		size_t avail;
		const unsigned char *p = sv_peek(s, NLMSG_HDRLEN, &avail);

		if (avail == 0)
			break;
		sv_set_record(cx, index, "nlmsghdr");
		if (avail < NLMSG_HDRLEN) {
			sv_report_truncated(cx, at, NLMSG_HDRLEN, avail, "netlink message header");
			sv_skip(s, avail);
			break;
		}
		uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
			       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		if (len < NLMSG_HDRLEN) {
			sv_report(cx, code(CRIU_IPROUTE_NLMSG), at,
				  "netlink message %" PRIu64 " has length %" PRIu32
				  ", less than its own header", index, len);
			drain(s);
			break;
		}
		unsigned nl_type = (unsigned)(p[4] | p[5] << 8);
		unsigned nl_flags = (unsigned)(p[6] | p[7] << 8);
		/* iproute2 reads each message padded to 4 bytes. */
		uint64_t step = ((uint64_t)len + 3) & ~(uint64_t)3;
		uint64_t got = sv_skip(s, step);
		if (got < step) {
			sv_report_truncated(cx, at, step, got, "netlink message");
			break;
		}
		sv_count_record(cx);
		info->entries++;
		if (sv_want_records(cx))
			sv_emit_record(cx, index, "nlmsghdr", at, step, "type=%u flags=0x%x",
				       nl_type, nl_flags);
	}
	sv_record_none(cx);
	info->raw_bytes = sv_offset(s);
}

void criu_verify_raw(sv_ctx *cx, sv_stream *s, const criu_image_type *t,
		     criu_image_info *info)
{
	switch (t->raw) {
	case CRIU_RAW_PAGES:
		verify_pages(cx, s, info);
		break;
	case CRIU_RAW_TMPFS:
		verify_tmpfs(cx, s, t, info);
		break;
	case CRIU_RAW_IPROUTE:
		verify_iproute(cx, s, t, info);
		break;
	case CRIU_RAW_TEXT:
	case CRIU_RAW_NETLINK:
	case CRIU_RAW_NONE:
		/* Nothing to check alone: listed as present. */
		info->raw_bytes = drain(s);
		if (sv_want_records(cx))
			sv_emit_record(cx, 0, t->name, 0, info->raw_bytes,
				       "%s image of %" PRIu64 " bytes (not checked)",
				       t->name, info->raw_bytes);
		break;
	}
	info->complete = !sv_stopped(cx);
}
