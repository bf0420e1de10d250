/*
 * Test-only formats for exercising the core without any real module.
 *
 * "svt": magic "SVT1", then records of u32le type, u32le length, body,
 * zero padding to 8 octets.  Types: 0 END (empty, last), 1 BLOB (skipped),
 * 2 SCAN (scanned: no 0xff octet allowed), 3 ALLOC (read whole, cap 1 MiB),
 * 4 WARN (a warning), 5 NOTE (a note), 6 TEXT (a warning quoting the body,
 * which is also the record type of the warning, of its -v line and the key
 * and value of a figure: for hostile-string tests).  "svt" and a
 * digit in lower case ("svt1") is a near miss (svt's near callback).
 * "svt-weak": bids 50 on anything starting "SV"; verifies nothing.
 * "probe": bids 0; its verify runs test_probe_fn, so a test can drive the
 * stream API directly.  "dirprobe": verify_dir runs test_dirprobe_fn.
 */
#ifndef TESTFMT_H
#define TESTFMT_H

#include <stddef.h>
#include <stdint.h>

#include "module.h"

enum { SVT_END, SVT_BLOB, SVT_SCAN, SVT_ALLOC, SVT_WARN, SVT_NOTE, SVT_TEXT };
#define SVT_ALLOC_CAP (1u << 20)

extern const sv_format test_format_svt, test_format_weak, test_format_probe,
	test_format_dirprobe;
extern void (*test_probe_fn)(sv_ctx *cx, sv_stream *s);
extern void (*test_dirprobe_fn)(sv_ctx *cx, int dirfd, const char *path);

/* Register all four (idempotent). */
void test_formats_register(void);

/* Build an svt stream in memory. */
typedef struct svt_buf {
	unsigned char *p;
	size_t len, cap;
} svt_buf;
void svt_begin(svt_buf *b);                      /* magic */
void svt_put(svt_buf *b, uint32_t type, const void *body, uint32_t len, unsigned char pad_byte);
void svt_raw(svt_buf *b, const void *p, size_t n);
void svt_free(svt_buf *b);

/* Collected diagnostics of one run. */
typedef struct test_diag {
	char code[64];
	uint64_t offset, record;
	int severity;
} test_diag;
typedef struct test_run {
	test_diag diags[64];
	size_t ndiags;
	unsigned long records_seen;   /* sink record callbacks */
	sv_summary sum;
	int status;
} test_run;

/* Run sv_verify on path with the given format (NULL: auto), collecting. */
int test_verify(const char *path, const char *format, unsigned long max_errors,
		int werror, test_run *out);
/* Index of the first diagnostic with code, or -1. */
int test_find(const test_run *r, const char *code);

/* Write a buffer to a new temp file (under $SV_TEST_BUILD or /tmp); returns malloc'd path. */
char *test_write_temp(const void *p, size_t n, const char *suffix);
/* Write a gzip-compressed copy of p to a new temp file. */
char *test_write_temp_gzip(const void *p, size_t n);

/*
 * Run sv_verify on standard input fed from p through a pipe by a child
 * process, in a forked child of our own so our stdin stays untouched.
 * The collected run is passed back through a temp file.
 */
int test_verify_pipe(const void *p, size_t n, const char *format, test_run *out);

#endif
