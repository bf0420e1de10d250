/*
 * Image version 3 <-> 1 / 1.1 conversion of inventory, pagemaps and pages
 * files (convert_pages.h).
 *
 * Compression follows CRIU's image version 3 writer as criu-images.md
 * "Newer CRIU" describes it and as tests/criu/gen_criu.c builds fixtures:
 * each PE_PRESENT entry's pages are cut into blocks (a page in mode 1, a
 * region of region_pages pages in mode 2, the last one maybe short); an
 * all-zero block is stored as size 0 with no payload, a block that LZ4
 * (LZ4_compress_default, acceleration 1) does not shrink is stored raw
 * with its own size, any other block as a raw LZ4 block.  Entries get
 * compressed_size, total_compressed_size and, in region mode,
 * region_pages; no entry gets PE_PAYLOAD_ALIGNED (CRIU sets it on HugeTLB
 * and plugin ranges, which a version-1.1 dump does not mark), so a
 * version-3 dump with aligned entries comes back from 1.1 without that
 * flag and its padding.
 *
 * Decompression reverses it for any valid version-3 dump: zero blocks
 * become zero pages, raw blocks are copied, LZ4 blocks decoded (each must
 * give exactly its block's bytes), alignment padding dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
/* For the in-place buffer sizes (macros only; no experimental function is used). */
#define LZ4_STATIC_LINKING_ONLY
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/criu/convert/convert.h"
#include "formats/criu/convert/convert_pages.h"
#include "formats/criu/criu.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/schema/schema.h"
#include "formats/criu/json/json_common.h"

#define PE_PRESENT 4u
#define PE_PAYLOAD_ALIGNED 8u

/* Pagemap entry fields of version 3 (proto/pagemap.proto). */
#define PM_FLAGS 4u
#define PM_COMPRESSED_SIZE 6u
#define PM_TOTAL_COMPRESSED 7u
#define PM_REGION_PAGES 8u
/* Inventory fields (proto/inventory.proto). */
#define INV_IMG_VERSION 1u
#define INV_COMPRESS 15u
#define INV_REGION_SIZE 16u

#define BLOCK_MAX ((size_t)CRIU_REGION_MAX_PAGES * CRIU_PAGE_SIZE)
/* One buffer for both directions: LZ4 compresses and decompresses in
 * place when the input lies at the end of a buffer this large. */
#define BUF_CAP ((size_t)LZ4_COMPRESS_INPLACE_BUFFER_SIZE(BLOCK_MAX))
_Static_assert(LZ4_COMPRESS_INPLACE_BUFFER_SIZE(BLOCK_MAX) >=
	       LZ4_DECOMPRESS_INPLACE_BUFFER_SIZE(BLOCK_MAX), "one buffer serves both ways");

struct criu_cv_pages {
	unsigned char *buf; /* BUF_CAP bytes */
	uint32_t *sizes;    /* one entry's block sizes */
	size_t capsizes;
};

criu_cv_pages *criu_cv_pages_new(void)
{
	criu_cv_pages *p = calloc(1, sizeof(*p));

	if (p && !(p->buf = malloc(BUF_CAP))) {
		free(p);
		p = NULL;
	}
	return p;
}

void criu_cv_pages_free(criu_cv_pages *p)
{
	if (p) {
		free(p->buf);
		free(p->sizes);
		free(p);
	}
}

bool criu_cv_region(const char *s, criu_v3_mode *m)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > BLOCK_MAX)
		return false;
	if ((*end == 'K' || *end == 'k') && end[1] == '\0')
		v <<= 10;
	else if ((*end == 'M' || *end == 'm') && end[1] == '\0')
		v <<= 20;
	else if (*end)
		return false;
	if (v == 0 || v > BLOCK_MAX || v % CRIU_PAGE_SIZE)
		return false;
	m->compress = 2;
	m->region_pages = (uint32_t)(v / CRIU_PAGE_SIZE);
	return true;
}

/* ---- protobuf wire format ---------------------------------------------------- */

bool criu_cv_varint(const unsigned char *buf, size_t n, size_t *i, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; *i < n && shift < 64; shift += 7) {
		unsigned char c = buf[(*i)++];
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

/* Step over the field at b[*i]: its tag, and its value when a varint. */
static bool wire_field(const unsigned char *b, size_t n, size_t *i, uint64_t *tag, uint64_t *val)
{
	*val = 0;
	if (!criu_cv_varint(b, n, i, tag))
		return false;
	switch (*tag & 7) {
	case 0:
		return criu_cv_varint(b, n, i, val);
	case 1:
	case 5: {
		size_t w = (*tag & 7) == 1 ? 8 : 4;
		if (n - *i < w)
			return false;
		*i += w;
		return true;
	}
	case 2:
		if (!criu_cv_varint(b, n, i, val) || *val > n - *i)
			return false;
		*i += (size_t)*val;
		return true;
	default:
		return false;
	}
}

/* A growing message buffer. */
typedef struct obuf {
	unsigned char *p;
	size_t n, cap;
	bool oom;
} obuf;

static void put(obuf *o, const void *src, size_t len)
{
	if (o->oom)
		return;
	if (len > o->cap - o->n) {
		size_t cap = o->cap ? o->cap : 64;
		while (cap - o->n < len && cap <= SIZE_MAX / 2)
			cap *= 2;
		unsigned char *q = cap - o->n >= len ? realloc(o->p, cap) : NULL;
		if (!q) {
			o->oom = true;
			return;
		}
		o->p = q;
		o->cap = cap;
	}
	if (len)
		memcpy(o->p + o->n, src, len);
	o->n += len;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void put_varint(obuf *o, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (unsigned char)v;
	put(o, b, n);
}

unsigned char *criu_cv_inventory(const unsigned char *msg, size_t n, uint32_t to,
				 const criu_v3_mode *m, size_t *outn)
{
	obuf o = { 0 };
	size_t i = 0;

	put(&o, "", 0);
	while (i < n) {
		size_t start = i;
		uint64_t tag, v;
		if (!wire_field(msg, n, &i, &tag, &v)) {
			free(o.p);
			return NULL;
		}
		if (tag == (INV_IMG_VERSION << 3)) {
			put_varint(&o, tag);
			put_varint(&o, v ? to : 0); /* a pre-dump's 0 says no version */
		} else if (tag >> 3 != INV_COMPRESS && tag >> 3 != INV_REGION_SIZE) {
			put(&o, msg + start, i - start);
		}
	}
	if (to == CRIU_IMAGES_V1_2) {
		put_varint(&o, INV_COMPRESS << 3);
		put_varint(&o, m->compress);
		if (m->compress == 2) {
			put_varint(&o, INV_REGION_SIZE << 3);
			put_varint(&o, (uint64_t)m->region_pages * CRIU_PAGE_SIZE);
		}
	}
	if (o.oom || !o.p) {
		free(o.p);
		return NULL;
	}
	*outn = o.n;
	return o.p;
}

/* ---- pages ------------------------------------------------------------------ */

/* The open pages files of one pagemap. */
typedef struct pages_io {
	sv_ctx *cx;
	criu_cv_pages *p;
	int in;            /* input pages file, read with pread */
	uint64_t in_off;   /* where the next payload starts */
	uint64_t in_size;
	FILE *out;
	const char *name;  /* pages-N.img */
} pages_io;

static bool input_error(pages_io *io, const char *what, uint64_t at)
{
	sv_report(io->cx, CRIT_CODE(CV_INPUT), SV_NONE, "%s: %s at offset %" PRIu64, io->name,
		  what, at);
	return false;
}

/* Read exactly n bytes of the input pages file at off. */
static bool read_at(pages_io *io, unsigned char *dst, size_t n, uint64_t off)
{
	if (io->in < 0)
		return input_error(io, "the file is missing, yet pages are stored", off);
	for (size_t got = 0; got < n;) {
		ssize_t r = pread(io->in, dst + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return input_error(io, r < 0 ? strerror(errno) : "the file ends early", off + got);
		got += (size_t)r;
	}
	return true;
}

static bool write_out(pages_io *io, const unsigned char *src, size_t n)
{
	if (!io->out)
		return input_error(io, "the file is missing, yet pages are stored", 0);
	if (fwrite(src, 1, n, io->out) == n)
		return true;
	sv_report(io->cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot write %s: %s", io->name,
		  strerror(errno));
	return false;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Compress `pages` pages at the input offset into blocks of bp pages,
 * writing the payloads, and append the entry's compression fields to o.
 */
static bool compress_entry(pages_io *io, uint64_t pages, const criu_v3_mode *m, obuf *o)
{
	criu_cv_pages *p = io->p;
	uint32_t bp = m->region_pages;
	uint64_t blocks = pages / bp + (pages % bp != 0), total = 0, payload = 0;

	/* The pages must be there (which also bounds the sizes array), and
	 * the entry, at most 5 octets a size, must stay a readable entry. */
	if (pages > (io->in_size - io->in_off) / CRIU_PAGE_SIZE)
		return input_error(io, "the file ends inside the entry's pages", io->in_size);
	if (o->n + 32 > CJ_ENTRY_MAX || blocks > (CJ_ENTRY_MAX - o->n - 32) / 5) {
		sv_report(io->cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "%" PRIu64 " blocks: more sizes "
			  "than one pagemap entry holds (use a larger --compress-region)", blocks);
		return false;
	}
	if (blocks > p->capsizes) {
		uint32_t *q = realloc(p->sizes, (size_t)blocks * sizeof(*q));
		if (!q) {
			sv_report(io->cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "out of memory for %" PRIu64
				  " block sizes", blocks);
			return false;
		}
		p->sizes = q;
		p->capsizes = (size_t)blocks;
	}
	for (uint64_t k = 0; k < blocks; k++) {
		uint64_t np = pages - k * bp < bp ? pages - k * bp : bp;
		size_t rawn = (size_t)np * CRIU_PAGE_SIZE;
		unsigned char *src = p->buf + BUF_CAP - rawn;
		uint32_t c = 0;

		if (!read_at(io, src, rawn, io->in_off))
			return false;
		if (!all_zero(src, rawn)) {
			/* In place: the output, at the buffer's start, may not
			 * reach rawn octets; if it would, the block goes raw. */
			int r = LZ4_compress_default((const char *)src, (char *)p->buf, (int)rawn,
						     (int)rawn - 1);
			if (r > 0) {
				c = (uint32_t)r;
				if (!write_out(io, p->buf, c))
					return false;
			} else {
				c = (uint32_t)rawn;
				if (!read_at(io, p->buf, rawn, io->in_off) || !write_out(io, p->buf, rawn))
					return false;
			}
		}
		io->in_off += rawn;
		p->sizes[k] = c;
		total += c;
		payload += varint_len(c);
	}
	put_varint(o, PM_COMPRESSED_SIZE << 3 | 2);
	put_varint(o, payload);
	for (uint64_t k = 0; k < blocks; k++)
		put_varint(o, p->sizes[k]);
	put_varint(o, PM_TOTAL_COMPRESSED << 3);
	put_varint(o, total);
	if (m->compress == 2) {
		put_varint(o, PM_REGION_PAGES << 3);
		put_varint(o, bp);
	}
	return true;
}

/* Write the entry's pages as stored in version 1.1: raw, every page. */
static bool decompress_entry(pages_io *io, const PagemapEntry *pe, uint64_t pages, uint32_t flags)
{
	criu_cv_pages *p = io->p;

	if (flags & PE_PAYLOAD_ALIGNED && io->in_off % CRIU_PAGE_SIZE)
		io->in_off += CRIU_PAGE_SIZE - io->in_off % CRIU_PAGE_SIZE;
	if (pages > (UINT64_MAX >> 13))
		return input_error(io, "an entry of too many pages", io->in_off);
	if (!pe->n_compressed_size) { /* stored raw (compression off, HugeTLB, plugins) */
		for (uint64_t left = pages * CRIU_PAGE_SIZE; left;) {
			size_t n = left < BLOCK_MAX ? (size_t)left : BLOCK_MAX;
			if (!read_at(io, p->buf, n, io->in_off) || !write_out(io, p->buf, n))
				return false;
			io->in_off += n;
			left -= n;
		}
		return true;
	}
	uint64_t bp = pe->has_region_pages ? pe->region_pages : 1;
	if (bp == 0 || bp > CRIU_REGION_MAX_PAGES ||
	    pe->n_compressed_size != pages / bp + (pages % bp != 0))
		return input_error(io, "an entry's compression fields do not fit its pages", io->in_off);
	for (size_t k = 0; k < pe->n_compressed_size; k++) {
		uint64_t np = pages - k * bp < bp ? pages - k * bp : bp;
		size_t raw = (size_t)np * CRIU_PAGE_SIZE;
		uint32_t c = pe->compressed_size[k];

		if (c == 0) {
			memset(p->buf, 0, raw);
		} else if (c == raw) {
			if (!read_at(io, p->buf, raw, io->in_off))
				return false;
		} else if (c > raw) {
			return input_error(io, "a block larger than its pages", io->in_off);
		} else {
			unsigned char *src = p->buf + BUF_CAP - c;
			if (!read_at(io, src, c, io->in_off))
				return false;
			int got = LZ4_decompress_safe((const char *)src, (char *)p->buf, (int)c, (int)raw);
			if (got != (int)raw)
				return input_error(io, "an LZ4 block that does not decode to its pages",
						   io->in_off);
		}
		if (!write_out(io, p->buf, raw))
			return false;
		io->in_off += c;
	}
	return true;
}

/* The entry msg rewritten for version 1.1: no compression fields, no PE_PAYLOAD_ALIGNED. */
static bool strip_entry(const unsigned char *msg, size_t n, obuf *o)
{
	for (size_t i = 0; i < n;) {
		size_t start = i;
		uint64_t tag, v;
		if (!wire_field(msg, n, &i, &tag, &v))
			return false;
		uint64_t field = tag >> 3;
		if (tag == (PM_FLAGS << 3)) {
			put_varint(o, tag);
			put_varint(o, v & ~(uint64_t)PE_PAYLOAD_ALIGNED);
		} else if (field != PM_COMPRESSED_SIZE && field != PM_TOTAL_COMPRESSED &&
			   field != PM_REGION_PAGES) {
			put(o, msg + start, i - start);
		}
	}
	return true;
}

/* Read one entry (u32 size, message) of pm: NULL at the end or after a report. */
static unsigned char *read_msg(sv_ctx *cx, sv_stream *pm, uint32_t *n, bool *failed)
{
	unsigned char sz[4];
	size_t got;

	*failed = false;
	if (sv_at_end(pm))
		return NULL;
	*failed = true;
	if (!sv_need(cx, pm, sz, 4, "a pagemap entry's size"))
		return NULL;
	*n = criu_le32(sz);
	unsigned char *msg;
	if (*n == 0) /* an empty message (every field at its default) */
		msg = malloc(1), got = 0;
	else
		msg = *n <= CJ_ENTRY_MAX ? sv_read_alloc(pm, *n, &got) : NULL;
	if (!msg || got != *n) {
		sv_report(cx, CRIT_CODE(CV_INPUT), SV_NONE, "a pagemap entry of %" PRIu32
			  " bytes cannot be read", *n);
		free(msg);
		return NULL;
	}
	*failed = false;
	return msg;
}

static bool put_entry(FILE *out, const unsigned char *msg, size_t n)
{
	unsigned char b[4] = { (unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
			       (unsigned char)(n >> 24) };
	return fwrite(b, 1, 4, out) == 4 && fwrite(msg, 1, n, out) == n;
}

/* One pagemap_entry: its pages moved to io->out, its rewritten message to out. */
static bool convert_entry(sv_ctx *cx, pages_io *io, const unsigned char *msg, uint32_t n,
			  FILE *out, bool to_v3, const criu_v3_mode *m)
{
	PagemapEntry *pe = pagemap_entry__unpack(NULL, n, msg);
	obuf o = { 0 };
	bool ok;

	if (!pe) {
		sv_report(cx, CRIT_CODE(CV_INPUT), SV_NONE, "a pagemap entry does not unpack");
		return false;
	}
	uint32_t flags = criu_pagemap_flags(pe);
	uint64_t pages = criu_pagemap_pages(pe);
	bool compressed = pe->n_compressed_size || pe->has_total_compressed_size ||
			  pe->has_region_pages || (flags & PE_PAYLOAD_ALIGNED);

	if (to_v3) {
		put(&o, msg, n);
		if (compressed) {
			sv_report(cx, CRIT_CODE(CV_INPUT), SV_NONE, "a pagemap entry of an image "
				  "version %s dump already carries compression fields", "1 or 1.1");
			ok = false;
		} else {
			ok = !(flags & PE_PRESENT) || !pages || compress_entry(io, pages, m, &o);
		}
	} else {
		ok = strip_entry(msg, n, &o);
		if (!ok)
			sv_report(cx, CRIT_CODE(CV_INPUT), SV_NONE, "a pagemap entry is no sound protobuf");
		else if (flags & PE_PRESENT)
			ok = decompress_entry(io, pe, pages, flags);
	}
	pagemap_entry__free_unpacked(pe, NULL);
	if (ok && (o.oom || o.n > CJ_ENTRY_MAX)) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "a converted pagemap entry %s",
			  o.oom ? "does not fit in memory" : "is too large");
		ok = false;
	}
	if (ok && !put_entry(out, o.p ? o.p : (const unsigned char *)"", o.n)) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot write the pagemap");
		ok = false;
	}
	free(o.p);
	return ok;
}

static bool open_pages(pages_io *io, int in_dirfd, int out_dirfd)
{
	struct stat st;
	int fd;

	io->in = openat(in_dirfd, io->name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (io->in < 0 && errno == ENOENT)
		return true; /* no pages stored: nothing to write either */
	if (io->in < 0 || fstat(io->in, &st) != 0 || !S_ISREG(st.st_mode)) {
		sv_report(io->cx, CRIT_CODE(CV_INPUT), SV_NONE, "cannot read %s: %s", io->name,
			  io->in < 0 ? strerror(errno) : "not a regular file");
		return false;
	}
	io->in_size = (uint64_t)st.st_size;
	fd = openat(out_dirfd, io->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || !(io->out = fdopen(fd, "wb"))) {
		sv_report(io->cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot create %s: %s", io->name,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	return true;
}

bool criu_cv_pagemap(sv_ctx *cx, criu_cv_pages *p, sv_stream *pm, FILE *out, int in_dirfd,
		     int out_dirfd, bool to_v3, const criu_v3_mode *m, uint32_t *pages_id)
{
	char name[32];
	pages_io io = { .cx = cx, .p = p, .in = -1, .name = name };
	uint32_t n = 0;
	bool failed, ok = false;
	unsigned char *msg = read_msg(cx, pm, &n, &failed);
	PagemapHead *h = msg ? pagemap_head__unpack(NULL, n, msg) : NULL;

	if (!h) {
		if (!failed)
			sv_report(cx, CRIT_CODE(CV_INPUT), SV_NONE, "the pagemap has no sound head");
		free(msg);
		return false;
	}
	*pages_id = h->pages_id;
	snprintf(name, sizeof(name), "pages-%" PRIu32 ".img", h->pages_id);
	pagemap_head__free_unpacked(h, NULL);
	if (!put_entry(out, msg, n)) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot write the pagemap");
		free(msg);
		return false;
	}
	free(msg);
	if (!open_pages(&io, in_dirfd, out_dirfd))
		goto done;
	for (uint64_t index = 1;; index++) {
		msg = read_msg(cx, pm, &n, &failed);
		if (!msg)
			break;
		sv_set_record(cx, index, "pagemap_entry");
		bool e_ok = convert_entry(cx, &io, msg, n, out, to_v3, m);
		sv_record_none(cx);
		free(msg);
		if (!e_ok) {
			failed = true;
			break;
		}
	}
	if (!failed && io.in_off != io.in_size)
		input_error(&io, "bytes follow the payloads of its pagemap", io.in_off);
	else if (!failed)
		ok = true;
done:
	if (io.in >= 0)
		close(io.in);
	if (io.out && (fclose(io.out) != 0) && ok) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot write %s", name);
		ok = false;
	}
	return ok;
}
