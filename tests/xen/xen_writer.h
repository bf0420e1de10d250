/*
 * Writing Xen migration streams for tests: a growable byte buffer with
 * record framing, builders for libxc / libxl / xl streams of every shape,
 * and the fixture table (valid shapes, and one stream per broken rule).
 * Shared by gen_xen (files + manifest) and check_xen (in-process tests).
 */
#ifndef TESTS_XEN_WRITER_H
#define TESTS_XEN_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct xw {
	unsigned char *p;
	size_t len, cap;
	bool be;          /* records in big-endian order */
} xw;

void xw_init(xw *w);
void xw_free(xw *w);
void xw_raw(xw *w, const void *p, size_t n);
void xw_fill(xw *w, int byte, size_t n);
void xw_u8(xw *w, uint8_t v);
void xw_u16(xw *w, uint16_t v);  /* in the stream's order (w->be) */
void xw_u32(xw *w, uint32_t v);
void xw_u64(xw *w, uint64_t v);
void xw_be16(xw *w, uint16_t v);
void xw_be32(xw *w, uint32_t v);
void xw_be64(xw *w, uint64_t v);
void xw_put32(xw *w, size_t at, uint32_t v); /* overwrite, stream order */
/* Start a record; returns its offset.  rec_end sets the length and pads. */
size_t xw_rec_begin(xw *w, uint32_t type);
void xw_rec_end(xw *w, size_t start);
/* A whole record with an opaque body of n octets of `byte`. */
size_t xw_rec_blob(xw *w, uint32_t type, size_t n, int byte);

/* One fixture: a stream, and what verifying it must report. */
typedef struct fx_expect {
	const char *code;   /* NULL: no error and no warning at all */
	uint64_t off;
	const char *code2;  /* a second, unavoidable finding, or NULL */
	uint64_t off2;
} fx_expect;

typedef struct fixture {
	const char *name;    /* file name stem */
	const char *format;  /* libxc, libxl or xl */
	const char *shape;   /* builder */
	const char *brk;     /* the rule broken ("" for a valid shape) */
	const char *code;    /* expected code (NULL: valid) */
	const char *guest;   /* libxc-legacy: the guest parameter, or NULL */
} fixture;

extern const fixture xen_fixtures[];
extern const size_t xen_nfixtures;

/* Build fixture f into w (initialised by the caller); fills *e. */
void xen_fixture_build(const fixture *f, xw *w, fx_expect *e);

/* File name of a fixture: "<name>.<format>". */
void xen_fixture_filename(const fixture *f, char *buf, size_t n);

/*
 * Write a valid libxc HVM v3 stream of about `bytes` octets, in PAGE_DATA
 * records of 1024 pages, to out.  wrap: 0 bare libxc, 1 inside libxl,
 * 2 inside an xl file.  Returns 0, or -1 on a write error.
 */
int xen_write_big_hvm(FILE *out, uint64_t bytes, int wrap);

/*
 * Write a bare libxc HVM v3 stream whose one PAGE_DATA record holds count
 * XTAB pfns (no page data) i * stride: count 16777215 is the largest
 * record the restore accepts.  Returns 0, or -1 on a write error.
 */
int xen_write_wide_page_data(FILE *out, uint32_t count, uint64_t stride);

#endif
