/* Check suite for the core: reader, diagnostics, sinks, registry. */
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testfmt.h"

/* A pattern that differs at every offset modulo 251 (a prime). */
static unsigned char pattern_at(uint64_t i)
{
	return (unsigned char)(i % 251);
}

static unsigned char *pattern(size_t n)
{
	unsigned char *p = malloc(n);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++)
		p[i] = pattern_at(i);
	return p;
}

/* ---- reader: exact reads --------------------------------------------------- */

static size_t probe_len;
static int probe_failures;

/* Reads in awkward sizes that straddle the core's 1 MiB buffer. */
static void probe_exact_reads(sv_ctx *cx, sv_stream *s)
{
	static const size_t sizes[] = { 1, 7, 4096, 3, (1u << 20) + 3, 65536, 13 };
	unsigned char *buf = malloc((1u << 20) + 3);
	uint64_t off = 0;
	size_t k = 0;

	(void)cx;
	while (off < probe_len) {
		size_t want = sizes[k++ % 7], got;
		if (sv_offset(s) != off)
			probe_failures++;
		got = sv_read(s, buf, want);
		if (got != (want < probe_len - off ? want : probe_len - off))
			probe_failures++;
		for (size_t i = 0; i < got; i++)
			if (buf[i] != pattern_at(off + i)) {
				probe_failures++;
				break;
			}
		off += got;
		if (got < want)
			break;
	}
	if (!sv_at_end(s) || off != probe_len)
		probe_failures++;
	free(buf);
}

static void check_exact_reads(const char *path)
{
	test_run r;

	probe_failures = 0;
	test_probe_fn = probe_exact_reads;
	ck_assert_int_eq(test_verify(path, "probe", 0, 0, &r), 0);
	ck_assert_int_eq(probe_failures, 0);
	ck_assert_uint_eq(r.sum.bytes, probe_len);
}

START_TEST(exact_reads_file_and_gzip)
{
	unsigned char *p;
	char *plain, *gz;

	probe_len = 3u * (1u << 20) + 17;
	p = pattern(probe_len);
	plain = test_write_temp(p, probe_len, ".bin");
	gz = test_write_temp_gzip(p, probe_len);
	check_exact_reads(plain);
	check_exact_reads(gz);
	unlink(plain);
	unlink(gz);
	free(plain);
	free(gz);
	free(p);
}
END_TEST

/* ---- reader: skip by seek and by read ------------------------------------ */

static int probe_seekable;

static void probe_skips(sv_ctx *cx, sv_stream *s)
{
	unsigned char b;
	uint64_t off = 0;

	(void)cx;
	probe_seekable = sv_stream_seekable(s);
	/* Skip, read one byte, check it is the byte at that offset. */
	for (uint64_t step = 1; off + step < probe_len; step = step * 3 + 5) {
		/* Every other step by a scan without a consumer: the same skip. */
		if ((step & 1 ? sv_scan(s, step, NULL, NULL) : sv_skip(s, step)) != step)
			probe_failures++;
		off += step;
		if (sv_read(s, &b, 1) != 1 || b != pattern_at(off))
			probe_failures++;
		off++;
	}
	/* A skip past the end stops at the end. */
	if (sv_skip(s, UINT64_MAX) != probe_len - off)
		probe_failures++;
	if (sv_offset(s) != probe_len)
		probe_failures++;
}

START_TEST(skip_by_seek_and_by_read_agree)
{
	unsigned char *p;
	char *plain, *gz;
	test_run r;

	probe_len = 5u * (1u << 20) + 1;
	p = pattern(probe_len);
	plain = test_write_temp(p, probe_len, ".bin");
	gz = test_write_temp_gzip(p, probe_len);
	test_probe_fn = probe_skips;

	probe_failures = 0;
	test_verify(plain, "probe", 0, 0, &r);
	ck_assert_int_eq(probe_failures, 0);
	ck_assert_int_eq(probe_seekable, 1);

	probe_failures = 0;
	test_verify(gz, "probe", 0, 0, &r);
	ck_assert_int_eq(probe_failures, 0);
	ck_assert_int_eq(probe_seekable, 0);

	probe_failures = 0;
	test_verify_pipe(p, probe_len, "probe", &r);
	ck_assert_int_eq(r.status, 0);
	unlink(plain);
	unlink(gz);
	free(plain);
	free(gz);
	free(p);
}
END_TEST

static void probe_big_skip(sv_ctx *cx, sv_stream *s)
{
	unsigned char tail[4];

	(void)cx;
	if (sv_skip(s, probe_len - 4) != probe_len - 4 || sv_read(s, tail, 4) != 4 ||
	    memcmp(tail, "TAIL", 4) != 0)
		probe_failures++;
}

/* Bytes this process has read through read(2) and friends so far. */
static unsigned long long bytes_read_so_far(void)
{
	FILE *fp = fopen("/proc/self/io", "r");
	char line[128];
	unsigned long long v = 0;

	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "rchar: %llu", &v) == 1)
			break;
	fclose(fp);
	return v;
}

/* A 16 GiB sparse file is skipped with a seek: almost nothing is read. */
START_TEST(skip_on_regular_file_is_a_seek)
{
	char *path = test_write_temp("", 0, ".sparse");
	int fd = open(path, O_WRONLY);
	unsigned long long before;
	test_run r;

	probe_len = 16ull << 30;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "TAIL", 4, (off_t)probe_len - 4), 4);
	close(fd);
	probe_failures = 0;
	test_probe_fn = probe_big_skip;
	before = bytes_read_so_far();
	test_verify(path, "probe", 0, 0, &r);
	ck_assert_int_eq(probe_failures, 0);
	ck_assert_uint_eq(r.sum.bytes, probe_len);
	/* The first buffer (for the bid) and the tail: at most a few MiB. */
	ck_assert_uint_lt(bytes_read_so_far() - before, 4ull << 20);
	unlink(path);
	free(path);
}
END_TEST

/* ---- reader: hostile lengths ---------------------------------------------- */

static void probe_alloc(sv_ctx *cx, sv_stream *s)
{
	size_t got;
	void *p = sv_read_alloc(s, 0x7fffffff, &got);

	(void)cx;
	if (p || got != 10)
		probe_failures++;
	free(p);
}

START_TEST(read_alloc_with_forged_length)
{
	test_run r;
	char *path = test_write_temp("0123456789", 10, ".bin");

	test_probe_fn = probe_alloc;
	probe_failures = 0;
	test_verify(path, "probe", 0, 0, &r);
	ck_assert_int_eq(probe_failures, 0);
	/* From a pipe the size is unknown: the buffer grows only with data. */
	test_verify_pipe("0123456789", 10, "probe", &r);
	ck_assert_int_eq(r.status, 0);
	unlink(path);
	free(path);
}
END_TEST

/* ---- truncation at every offset ------------------------------------------- */

/* A small valid svt stream with every record kind, and where its parts start. */
static void small_stream(svt_buf *b, uint64_t starts[], size_t *nstarts)
{
	size_t n = 0;

	svt_begin(b);
	starts[n++] = 0;                          /* magic */
	starts[n++] = b->len;                     /* BLOB header */
	svt_put(b, SVT_BLOB, NULL, 13, 0);
	starts[n++] = b->len;                     /* SCAN header */
	svt_put(b, SVT_SCAN, "abcdef", 6, 0);
	starts[n++] = b->len;                     /* ALLOC header */
	svt_put(b, SVT_ALLOC, "0123456789abcdefghij", 20, 0);
	starts[n++] = b->len;                     /* END header */
	svt_put(b, SVT_END, NULL, 0, 0);
	starts[n++] = b->len;
	*nstarts = n;
}

/*
 * The offset a truncation at `cut` must be reported at: the start of the
 * structure being read.  Within a record: the header while fewer than 8
 * octets are there, then the body, then the padding.
 */
static uint64_t expected_truncation(const svt_buf *b, uint64_t cut)
{
	uint64_t rec = 4;

	if (cut < 4)
		return 0;
	while (rec < b->len) {
		uint32_t len = (uint32_t)b->p[rec + 4] | (uint32_t)b->p[rec + 5] << 8;
		uint64_t body = rec + 8, pad = body + len, next = pad + (8 - len % 8) % 8;
		if (cut < body)
			return rec;
		if (cut < pad)
			return body;
		if (cut < next)
			return pad;
		rec = next;
	}
	return SV_NONE;
}

START_TEST(truncation_at_every_offset)
{
	svt_buf b;
	uint64_t starts[8];
	size_t nstarts;

	small_stream(&b, starts, &nstarts);
	for (uint64_t cut = 0; cut < b.len; cut++) {
		test_run r, rp;
		char *path = test_write_temp(b.p, cut, ".svt");
		bool at_boundary = false;
		for (size_t i = 1; i < nstarts; i++)
			at_boundary |= starts[i] == cut;

		test_verify(path, "svt", 0, 0, &r);
		ck_assert_int_eq(r.status, 1);
		ck_assert_uint_eq(r.ndiags, 1);
		if (at_boundary) {
			ck_assert_str_eq(r.diags[0].code, "svt.end.missing");
			ck_assert_uint_eq(r.diags[0].offset, cut);
		} else {
			ck_assert_str_eq(r.diags[0].code, "input.truncated");
			ck_assert_msg(r.diags[0].offset == expected_truncation(&b, cut),
				      "cut %llu: reported at %llu, expected %llu", (unsigned long long)cut,
				      (unsigned long long)r.diags[0].offset,
				      (unsigned long long)expected_truncation(&b, cut));
		}
		/* The same from a pipe. */
		test_verify_pipe(b.p, cut, "svt", &rp);
		ck_assert_uint_eq(rp.ndiags, 1);
		ck_assert_str_eq(rp.diags[0].code, r.diags[0].code);
		ck_assert_uint_eq(rp.diags[0].offset, r.diags[0].offset);
		unlink(path);
		free(path);
	}
	svt_free(&b);
}
END_TEST

/* ---- file, pipe and gzip give the same verdicts ---------------------------- */

static void broken_stream(svt_buf *b)
{
	unsigned char scan[300];

	memset(scan, 'x', sizeof(scan));
	scan[123] = 0xff;
	svt_begin(b);
	svt_put(b, SVT_BLOB, NULL, 3 << 20, 0);     /* a big skipped body */
	svt_put(b, SVT_BLOB, NULL, 5, 0x01);        /* bad padding */
	svt_put(b, 77, NULL, 9, 0);                 /* unknown type */
	svt_put(b, SVT_SCAN, scan, sizeof(scan), 0);/* 0xff inside */
	svt_put(b, SVT_WARN, NULL, 0, 0);
	svt_put(b, SVT_ALLOC, NULL, SVT_ALLOC_CAP + 1, 0);
	svt_put(b, SVT_END, NULL, 0, 0);
	svt_raw(b, "junk", 4);
}

static void same_run(const test_run *a, const test_run *b)
{
	ck_assert_int_eq(a->status, b->status);
	ck_assert_uint_eq(a->ndiags, b->ndiags);
	for (size_t i = 0; i < a->ndiags; i++) {
		ck_assert_str_eq(a->diags[i].code, b->diags[i].code);
		ck_assert_uint_eq(a->diags[i].offset, b->diags[i].offset);
		ck_assert_uint_eq(a->diags[i].record, b->diags[i].record);
	}
	ck_assert_uint_eq(a->sum.records, b->sum.records);
	ck_assert_uint_eq(a->sum.bytes, b->sum.bytes);
}

START_TEST(file_pipe_gzip_identical)
{
	svt_buf b;
	test_run rf, rp, rg, rgp;
	char *plain, *gz;
	FILE *fp;
	long gzlen;
	unsigned char *gzbytes;

	broken_stream(&b);
	plain = test_write_temp(b.p, b.len, ".svt");
	gz = test_write_temp_gzip(b.p, b.len);
	test_verify(plain, NULL, 0, 0, &rf);
	test_verify(gz, NULL, 0, 0, &rg);
	test_verify_pipe(b.p, b.len, NULL, &rp);
	fp = fopen(gz, "rb");
	fseek(fp, 0, SEEK_END);
	gzlen = ftell(fp);
	rewind(fp);
	gzbytes = malloc((size_t)gzlen);
	ck_assert_int_eq(fread(gzbytes, 1, (size_t)gzlen, fp), gzlen);
	fclose(fp);
	test_verify_pipe(gzbytes, (size_t)gzlen, NULL, &rgp);

	ck_assert_int_eq(rf.status, 1);
	ck_assert_uint_eq(rf.ndiags, 6);
	ck_assert_str_eq(rf.diags[0].code, "svt.padding.nonzero");
	ck_assert_uint_eq(rf.diags[0].record, 1);
	ck_assert_str_eq(rf.diags[1].code, "svt.record.unknown");
	ck_assert_str_eq(rf.diags[2].code, "svt.scan.ff");
	ck_assert_str_eq(rf.diags[3].code, "svt.warn");
	ck_assert_str_eq(rf.diags[4].code, "svt.alloc.cap");
	ck_assert_str_eq(rf.diags[5].code, "svt.end.trailing");
	ck_assert_uint_eq(rf.diags[5].offset, b.len - 4);
	same_run(&rf, &rp);
	same_run(&rf, &rg);
	same_run(&rf, &rgp);
	unlink(plain);
	unlink(gz);
	free(plain);
	free(gz);
	free(gzbytes);
	svt_free(&b);
}
END_TEST

START_TEST(gzip_corrupt_and_truncated)
{
	svt_buf b;
	test_run r;
	char *gz, *cut, *bad;
	FILE *fp;
	long len;
	unsigned char *bytes;

	svt_begin(&b);
	for (int i = 0; i < 50; i++)
		svt_put(&b, SVT_BLOB, NULL, 1000, 0);
	svt_put(&b, SVT_END, NULL, 0, 0);
	gz = test_write_temp_gzip(b.p, b.len);
	fp = fopen(gz, "rb");
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	bytes = malloc((size_t)len);
	ck_assert_int_eq(fread(bytes, 1, (size_t)len, fp), len);
	fclose(fp);

	/* Cut before the trailer: decompression ends early. */
	cut = test_write_temp(bytes, (size_t)len - 6, ".gz");
	test_verify(cut, "svt", 0, 0, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_ge(test_find(&r, "input.gzip.truncated"), 0);

	/* A wrong CRC-32 in the trailer. */
	bytes[len - 8] ^= 0xff;
	bad = test_write_temp(bytes, (size_t)len, ".gz");
	test_verify(bad, "svt", 0, 0, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_ge(test_find(&r, "input.gzip.corrupt"), 0);
	unlink(gz);
	unlink(cut);
	unlink(bad);
	free(gz);
	free(cut);
	free(bad);
	free(bytes);
	svt_free(&b);
}
END_TEST

/* ---- diagnostics: recovery, max-errors, werror ------------------------------ */

START_TEST(recovery_lists_every_error_and_max_errors_stops)
{
	svt_buf b;
	test_run r;
	char *path;

	svt_begin(&b);
	for (int i = 0; i < 5; i++)
		svt_put(&b, 100 + (uint32_t)i, NULL, 3, 0);
	svt_put(&b, SVT_END, NULL, 0, 0);
	path = test_write_temp(b.p, b.len, ".svt");

	test_verify(path, NULL, 0, 0, &r);
	ck_assert_uint_eq(r.ndiags, 5);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_str_eq(r.diags[i].code, "svt.record.unknown");
		ck_assert_uint_eq(r.diags[i].record, i);
		ck_assert_uint_eq(r.diags[i].offset, 4 + 16 * i);
	}
	ck_assert_int_eq(r.sum.stopped, 0);

	test_verify(path, NULL, 2, 0, &r);
	ck_assert_uint_eq(r.ndiags, 2);
	ck_assert_uint_eq(r.sum.errors, 2);
	ck_assert_int_eq(r.sum.stopped, 1);
	ck_assert_int_eq(r.status, 1);
	unlink(path);
	free(path);
	svt_free(&b);
}
END_TEST

START_TEST(warnings_and_werror)
{
	svt_buf b;
	test_run r;
	char *path;

	svt_begin(&b);
	svt_put(&b, SVT_NOTE, NULL, 0, 0);
	svt_put(&b, SVT_WARN, NULL, 0, 0);
	svt_put(&b, SVT_END, NULL, 0, 0);
	path = test_write_temp(b.p, b.len, ".svt");
	ck_assert_int_eq(test_verify(path, NULL, 0, 0, &r), 0);
	ck_assert_uint_eq(r.sum.warnings, 1);
	ck_assert_uint_eq(r.sum.notes, 1);
	ck_assert_int_eq(r.diags[0].severity, SV_NOTE);
	ck_assert_int_eq(r.diags[1].severity, SV_WARNING);
	ck_assert_int_eq(test_verify(path, NULL, 0, 1, &r), 1);
	unlink(path);
	free(path);
	svt_free(&b);
}
END_TEST

/* ---- registry ------------------------------------------------------------ */

START_TEST(bids_pick_the_module_and_format_overrides)
{
	svt_buf b;
	test_run r;
	char *svt, *weak, *other, *empty;

	svt_begin(&b);
	svt_put(&b, SVT_END, NULL, 0, 0);
	svt = test_write_temp(b.p, b.len, ".svt");
	weak = test_write_temp("SVX2 whatever", 13, ".x");
	other = test_write_temp("hello world", 11, ".x");
	empty = test_write_temp("", 0, ".x");

	/* Highest bid wins: svt (100) over svt-weak (50). */
	ck_assert_int_eq(test_verify(svt, NULL, 0, 0, &r), 0);
	ck_assert_uint_eq(r.sum.records, 1);
	ck_assert_int_eq(test_verify(svt, "auto", 0, 0, &r), 0);
	ck_assert_uint_eq(r.sum.records, 1);
	/* Only svt-weak bids here. */
	ck_assert_int_eq(test_verify(weak, NULL, 0, 0, &r), 0);
	ck_assert_uint_eq(r.sum.records, 0);
	/* --format forces a module whatever the bids. */
	ck_assert_int_eq(test_verify(svt, "svt-weak", 0, 0, &r), 0);
	ck_assert_uint_eq(r.sum.records, 0);
	ck_assert_int_eq(test_verify(weak, "svt", 0, 0, &r), 1);
	ck_assert_str_eq(r.diags[0].code, "svt.magic");
	/* Nobody bids, nothing comes close: not a checkpoint, exit 2, no byte count. */
	ck_assert_int_eq(test_verify(other, NULL, 0, 0, &r), 2);
	ck_assert_str_eq(r.diags[0].code, "input.format.unknown");
	ck_assert_int_eq(r.sum.not_checkpoint, 1);
	ck_assert(r.sum.bytes == SV_NONE);
	ck_assert_int_eq(test_verify(empty, NULL, 0, 0, &r), 2);
	ck_assert_str_eq(r.diags[0].code, "input.format.unknown");
	/* A near miss (svt's near: "svt1") is verified as the closest. */
	{
		char *near = test_write_temp("svt1\0\0\0\0", 8, ".x");
		ck_assert_int_eq(test_verify(near, NULL, 0, 0, &r), 1);
		ck_assert_str_eq(r.diags[0].code, "input.format.guessed");
		ck_assert_str_eq(r.diags[1].code, "svt.magic");
		ck_assert_int_eq(r.sum.not_checkpoint, 0);
		unlink(near);
		free(near);
	}
	/* A stream-only format given a directory. */
	ck_assert_int_eq(test_verify(getenv("SV_TEST_BUILD") ? getenv("SV_TEST_BUILD") : "/tmp",
				     "svt", 0, 0, &r), 1);
	ck_assert_str_eq(r.diags[0].code, "input.format.unsupported");
	/* A missing file is an I/O error: exit 2. */
	ck_assert_int_eq(test_verify("/nonexistent/streamverify/x", NULL, 0, 0, &r), 2);
	ck_assert_str_eq(r.diags[0].code, "input.io");

	ck_assert_ptr_eq(sv_format_find("svt"), &test_format_svt);
	ck_assert_ptr_null(sv_format_find("no-such-format"));
	ck_assert_ptr_nonnull(sv_code_find("svt.padding.nonzero"));
	ck_assert_ptr_nonnull(sv_code_find("input.truncated"));
	unlink(svt);
	unlink(weak);
	unlink(other);
	unlink(empty);
	free(svt);
	free(weak);
	free(other);
	free(empty);
	svt_free(&b);
}
END_TEST

/* Every registered code is unique, dotted, and has a summary. */
START_TEST(code_table_is_well_formed)
{
	test_formats_register();
	for (size_t i = 0; i < sv_code_count(); i++) {
		const sv_code *c = sv_code_at(i);
		ck_assert_ptr_nonnull(strchr(c->id, '.'));
		ck_assert_int_gt(strlen(c->summary), 0);
		for (size_t j = i + 1; j < sv_code_count(); j++)
			ck_assert_str_ne(c->id, sv_code_at(j)->id);
	}
}
END_TEST

/* ---- directories: special files are never read --------------------------- */

static char dir_result[64];

static void probe_dir(sv_ctx *cx, int dirfd, const char *path)
{
	sv_stream *s;

	(void)path;
	s = sv_open_at(cx, dirfd, "fifo", "dir/fifo", 0);
	snprintf(dir_result, sizeof(dir_result), "%s", s ? "opened" : "refused");
	sv_close(s);
	s = sv_open_at(cx, dirfd, "missing", "dir/missing", 0);
	sv_close(s);
}

START_TEST(fifo_in_directory_is_refused_without_hanging)
{
	char *base = test_write_temp("", 0, ".d");
	char fifo[4096];
	test_run r;

	unlink(base);
	ck_assert_int_eq(mkdir(base, 0700), 0);
	snprintf(fifo, sizeof(fifo), "%s/fifo", base);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	test_dirprobe_fn = probe_dir;
	test_verify(base, "dirprobe", 0, 0, &r);
	ck_assert_str_eq(dir_result, "refused");
	ck_assert_str_eq(r.diags[0].code, "input.not-regular");
	ck_assert_str_eq(r.diags[1].code, "input.io");
	ck_assert_int_eq(r.status, 2);
	unlink(fifo);
	rmdir(base);
	free(base);
}
END_TEST

/* ---- severities and progress through the API ------------------------------ */

/* Drops everything, asks for notes: fixed codes must keep their severity. */
static int drop_all(void *arg, const sv_diag *d)
{
	(*(int *)arg)++;
	return d->code->severity == SV_WARNING ? SV_ERROR : SV_DROP;
}

static void count_progress(void *arg, const sv_progress *p)
{
	unsigned long *calls = arg;

	calls[0]++;
	if (p->done) {
		calls[1]++;
		calls[2] = (unsigned long)p->bytes;
		calls[3] = p->total == SV_NONE ? 0 : (unsigned long)p->total;
	}
}

START_TEST(adjust_cannot_lower_fixed_codes)
{
	svt_buf b;
	char *path;
	int asked = 0;
	unsigned long calls[4] = { 0 };
	test_run r;
	sv_options opt = { .adjust = drop_all, .adjust_arg = &asked,
			   .progress = count_progress, .progress_arg = calls };
	sv_sink sink = { &r, NULL, NULL, NULL, NULL };
	sv_summary sum;

	test_formats_register();
	svt_begin(&b);
	svt_put(&b, SVT_BLOB, NULL, 5, 0x01);  /* padding error: dropped */
	svt_put(&b, SVT_WARN, NULL, 0, 0);     /* warning: made an error */
	svt_raw(&b, "\x01\0\0\0\x40\0\0\0", 8); /* BLOB cut short: input.truncated stays */
	path = test_write_temp(b.p, b.len, ".svt");
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sv_verify(path, &opt, &sink, &sum), 1);
	ck_assert_int_eq(asked, 3);
	ck_assert_uint_eq(sum.errors, 2); /* the promoted warning and the truncation */
	ck_assert_uint_eq(sum.warnings, 0);
	ck_assert_uint_eq(sum.notes, 0);
	/* One last progress call, with the bytes read and the file's size. */
	ck_assert_uint_eq(calls[1], 1);
	ck_assert_uint_eq(calls[2], b.len);
	ck_assert_uint_eq(calls[3], b.len);
	unlink(path);
	free(path);
	svt_free(&b);
}
END_TEST

/* ---- sinks --------------------------------------------------------------- */

static char *run_to_memory(const char *path, int json, unsigned flags)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	sv_output out = { .fp = fp, .flags = flags };
	sv_sink sink;
	sv_options opt = { .format = NULL };

	test_formats_register();
	if (json)
		sv_sink_json(&sink, &out);
	else
		sv_sink_text(&sink, &out);
	sv_verify(path, &opt, &sink, NULL);
	fclose(fp);
	return text;
}

START_TEST(text_sink_format)
{
	svt_buf b;
	char *path, *text, expect[8192];

	svt_begin(&b);
	svt_put(&b, SVT_BLOB, NULL, 5, 0x01);
	svt_put(&b, SVT_END, NULL, 0, 0);
	path = test_write_temp(b.p, b.len, ".svt");
	text = run_to_memory(path, 0, 0);
	snprintf(expect, sizeof(expect),
		 "%s:0x11: error: record 0 (BLOB): padding holds non-zero bytes [svt.padding.nonzero]\n"
		 "%s: INVALID svt (2 records, 28 bytes; 1 error)\n", path, path);
	ck_assert_str_eq(text, expect);
	free(text);
	text = run_to_memory(path, 0, SV_OUT_QUIET);
	snprintf(expect, sizeof(expect),
		 "%s:0x11: error: record 0 (BLOB): padding holds non-zero bytes [svt.padding.nonzero]\n", path);
	ck_assert_str_eq(text, expect);
	free(text);
	text = run_to_memory(path, 0, SV_OUT_VERBOSE);
	ck_assert_ptr_nonnull(strstr(text, ":0x4: record 0 BLOB, 16 bytes: 5 body bytes\n"));
	ck_assert_ptr_nonnull(strstr(text, ": records: 2\n"));
	free(text);
	unlink(path);
	free(path);
	svt_free(&b);
}
END_TEST

START_TEST(json_sink_carries_every_field)
{
	svt_buf b;
	char *path, *text, *line, *save = NULL;
	int diags = 0, summaries = 0, records = 0, stats = 0;

	svt_begin(&b);
	svt_put(&b, SVT_BLOB, NULL, 5, 0x01);
	svt_put(&b, SVT_END, NULL, 0, 0);
	path = test_write_temp(b.p, b.len, ".svt");
	text = run_to_memory(path, 1, SV_OUT_VERBOSE);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t err;
		json_t *o = json_loads(line, 0, &err);
		const char *type;
		ck_assert_msg(o != NULL, "not JSON: %s (%s)", line, err.text);
		type = json_string_value(json_object_get(o, "type"));
		ck_assert_ptr_nonnull(type);
		ck_assert_str_eq(json_string_value(json_object_get(o, "input")), path);
		if (strcmp(type, "diagnostic") == 0) {
			diags++;
			ck_assert_str_eq(json_string_value(json_object_get(o, "file")), path);
			ck_assert_int_eq(json_integer_value(json_object_get(o, "offset")), 0x11);
			ck_assert_int_eq(json_integer_value(json_object_get(o, "record")), 0);
			ck_assert_str_eq(json_string_value(json_object_get(o, "record_type")), "BLOB");
			ck_assert_str_eq(json_string_value(json_object_get(o, "severity")), "error");
			ck_assert_str_eq(json_string_value(json_object_get(o, "code")), "svt.padding.nonzero");
			ck_assert_str_eq(json_string_value(json_object_get(o, "message")), "padding holds non-zero bytes");
		} else if (strcmp(type, "summary") == 0) {
			summaries++;
			ck_assert_str_eq(json_string_value(json_object_get(o, "format")), "svt");
			ck_assert_str_eq(json_string_value(json_object_get(o, "verdict")), "invalid");
			ck_assert_int_eq(json_integer_value(json_object_get(o, "exit")), 1);
			ck_assert_int_eq(json_integer_value(json_object_get(o, "errors")), 1);
			ck_assert_int_eq(json_integer_value(json_object_get(o, "warnings")), 0);
			ck_assert_int_eq(json_integer_value(json_object_get(o, "notes")), 0);
			ck_assert_int_eq(json_integer_value(json_object_get(o, "records")), 2);
			ck_assert_int_eq(json_integer_value(json_object_get(o, "bytes")), 28);
			ck_assert(json_is_false(json_object_get(o, "stopped")));
		} else if (strcmp(type, "record") == 0) {
			records++;
			ck_assert(json_is_integer(json_object_get(o, "offset")));
			ck_assert(json_is_integer(json_object_get(o, "length")));
			ck_assert(json_is_string(json_object_get(o, "summary")));
		} else if (strcmp(type, "stat") == 0) {
			stats++;
			ck_assert_str_eq(json_string_value(json_object_get(o, "key")), "records");
			ck_assert_int_eq(json_integer_value(json_object_get(o, "value")), 2);
		}
		json_decref(o);
	}
	ck_assert_int_eq(diags, 1);
	ck_assert_int_eq(summaries, 1);
	ck_assert_int_eq(records, 2);
	ck_assert_int_eq(stats, 1);
	free(text);
	unlink(path);
	free(path);
	svt_free(&b);
}
END_TEST

START_TEST(json_strings_are_always_valid)
{
	static const char *const nasty[] = {
		"plain", "quote\" back\\slash", "ctl\x01\x1f\x7f nl\n tab\t",
		"bad utf8 \xff\xfe \xc0\xaf \xed\xa0\x80", "good utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"cut \xe2\x82"
	};
	for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
		char *text = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&text, &len);
		json_error_t err;
		json_t *v;

		sv_json_string(fp, nasty[i]);
		fclose(fp);
		v = json_loads(text, JSON_DECODE_ANY, &err);
		ck_assert_msg(v != NULL, "bad JSON for case %zu: %s", i, text);
		json_decref(v);
		free(text);
	}
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *reader = tcase_create("reader");
	TCase *diag = tcase_create("diagnostics");
	TCase *reg = tcase_create("registry");
	TCase *sinks = tcase_create("sinks");

	tcase_set_timeout(reader, 120);
	tcase_add_test(reader, exact_reads_file_and_gzip);
	tcase_add_test(reader, skip_by_seek_and_by_read_agree);
	tcase_add_test(reader, skip_on_regular_file_is_a_seek);
	tcase_add_test(reader, read_alloc_with_forged_length);
	tcase_add_test(reader, truncation_at_every_offset);
	tcase_add_test(reader, file_pipe_gzip_identical);
	tcase_add_test(reader, gzip_corrupt_and_truncated);
	tcase_add_test(reader, fifo_in_directory_is_refused_without_hanging);
	tcase_add_test(diag, recovery_lists_every_error_and_max_errors_stops);
	tcase_add_test(diag, warnings_and_werror);
	tcase_add_test(diag, adjust_cannot_lower_fixed_codes);
	tcase_add_test(reg, bids_pick_the_module_and_format_overrides);
	tcase_add_test(reg, code_table_is_well_formed);
	tcase_add_test(sinks, text_sink_format);
	tcase_add_test(sinks, json_sink_carries_every_field);
	tcase_add_test(sinks, json_strings_are_always_valid);
	suite_add_tcase(s, reader);
	suite_add_tcase(s, diag);
	suite_add_tcase(s, reg);
	suite_add_tcase(s, sinks);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(core_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
