/* Test-only formats and helpers for the core's tests (see testfmt.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "testfmt.h"

#define SVT_CODES(X) \
	X(T_MAGIC, "svt.magic", ERROR, "the stream does not start with SVT1") \
	X(T_UNKNOWN, "svt.record.unknown", ERROR, "unknown record type") \
	X(T_PAD, "svt.padding.nonzero", ERROR, "record padding holds non-zero bytes") \
	X(T_FF, "svt.scan.ff", ERROR, "a SCAN body holds an 0xff octet") \
	X(T_CAP, "svt.alloc.cap", ERROR, "an ALLOC body is longer than its cap") \
	X(T_END_LEN, "svt.end.length", ERROR, "END has a body") \
	X(T_END_MISSING, "svt.end.missing", ERROR, "the stream ends without END") \
	X(T_TRAILING, "svt.end.trailing", ERROR, "data follows END") \
	X(T_WARN, "svt.warn", WARNING, "a WARN record") \
	X(T_NOTE, "svt.note", NOTE, "a NOTE record") \
	X(T_TEXT, "svt.text", WARNING, "a TEXT record (its body is quoted in the message)")

enum { SVT_CODES(SV_CODE_ENUM) T_NCODES };
static const sv_code svt_codes[] = { SVT_CODES(SV_CODE_ROW) };

static const char *const svt_names[] = { "END", "BLOB", "SCAN", "ALLOC", "WARN", "NOTE", "TEXT" };

static int svt_bid(const sv_bid_input *in)
{
	return in->head_len >= 4 && memcmp(in->head, "SVT1", 4) == 0 ? 100 : 0;
}

struct ff_scan {
	uint64_t first_ff;
};

static int find_ff(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	struct ff_scan *f = arg;
	const unsigned char *hit = memchr(p, 0xff, n);

	if (hit && f->first_ff == SV_NONE)
		f->first_ff = off + (uint64_t)(hit - p);
	return 0;
}

static int nonzero(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	uint64_t *at = arg;

	for (size_t i = 0; i < n; i++)
		if (p[i]) {
			*at = off + i;
			return 1;
		}
	return 0;
}

static void svt_verify(sv_ctx *cx, sv_stream *s)
{
	unsigned char magic[4], hdr[8];
	uint64_t index = 0;

	if (!sv_need(cx, s, magic, 4, "stream header"))
		return;
	if (memcmp(magic, "SVT1", 4) != 0) {
		sv_report(cx, &svt_codes[T_MAGIC], 0, "bad magic");
		return;
	}
	while (!sv_stopped(cx)) {
		uint64_t at = sv_offset(s);
		uint32_t type, len;
		uint64_t padlen, bad = SV_NONE;
		const char *name;
		char text[256] = "";

		sv_record_none(cx);
		if (sv_at_end(s)) {
			sv_report(cx, &svt_codes[T_END_MISSING], at, "stream ends without END");
			return;
		}
		sv_set_record(cx, index, NULL);
		if (!sv_need(cx, s, hdr, 8, "record header"))
			return;
		type = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
		len = (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 | (uint32_t)hdr[7] << 24;
		name = type < 7 ? svt_names[type] : "UNKNOWN";
		sv_set_record(cx, index, name);
		sv_count_record(cx);
		padlen = (8 - len % 8) % 8;
		switch (type) {
		case SVT_END:
			if (len)
				sv_report(cx, &svt_codes[T_END_LEN], at, "END has %u body bytes", len);
			break;
		case SVT_SCAN: {
			struct ff_scan f = { SV_NONE };
			uint64_t body_at = sv_offset(s);
			if (sv_scan(s, len, find_ff, &f) < len) {
				sv_report_truncated(cx, body_at, len, sv_offset(s) - body_at, "SCAN body");
				return;
			}
			if (f.first_ff != SV_NONE)
				sv_report(cx, &svt_codes[T_FF], f.first_ff, "0xff octet in SCAN body");
			break;
		}
		case SVT_ALLOC: {
			size_t got;
			void *p;
			if (len > SVT_ALLOC_CAP) {
				sv_report(cx, &svt_codes[T_CAP], at, "ALLOC body of %u bytes exceeds the cap", len);
				/* Length known: skip it and go on. */
				if (sv_skip(s, len) < len) {
					sv_report_truncated(cx, at + 8, len, 0, "ALLOC body");
					return;
				}
				break;
			}
			p = sv_read_alloc(s, len, &got);
			if (!p) {
				sv_report_truncated(cx, at + 8, len, got, "ALLOC body");
				return;
			}
			free(p);
			break;
		}
		case SVT_TEXT: {
			/* The body, as it is, in a message, the record line and a figure. */
			if (len >= sizeof(text)) {
				sv_report(cx, &svt_codes[T_CAP], at, "TEXT body of %u bytes exceeds the cap", len);
				return;
			}
			if (!sv_need(cx, s, text, len, "TEXT body"))
				return;
			text[len] = '\0';
			sv_set_record(cx, index, text);
			sv_report(cx, &svt_codes[T_TEXT], at, "text: %s", text);
			sv_set_record(cx, index, name);
			if (sv_want_records(cx))
				sv_emit_stat(cx, text, "%s", text);
			break;
		}
		case SVT_WARN:
		case SVT_NOTE:
		case SVT_BLOB:
		default: {
			uint64_t body_at = sv_offset(s);
			if (type == SVT_WARN)
				sv_report(cx, &svt_codes[T_WARN], at, "a warning");
			else if (type == SVT_NOTE)
				sv_report(cx, &svt_codes[T_NOTE], at, "a note");
			else if (type != SVT_BLOB)
				sv_report(cx, &svt_codes[T_UNKNOWN], at, "unknown record type %u", type);
			uint64_t got = sv_skip(s, len);
			if (got < len) {
				sv_report_truncated(cx, body_at, len, got, "record body");
				return;
			}
			break;
		}
		}
		uint64_t pad_at = sv_offset(s);
		uint64_t pgot = sv_scan(s, padlen, nonzero, &bad);
		if (pgot < padlen && bad == SV_NONE) {
			sv_report_truncated(cx, pad_at, padlen, pgot, "record padding");
			return;
		}
		if (bad != SV_NONE)
			sv_report(cx, &svt_codes[T_PAD], pad_at, "padding holds non-zero bytes");
		if (sv_want_records(cx) && type == SVT_TEXT)
			sv_emit_record(cx, index, text, at, sv_offset(s) - at, "text %s", text);
		else if (sv_want_records(cx))
			sv_emit_record(cx, index, name, at, sv_offset(s) - at, "%u body bytes", len);
		index++;
		if (type == SVT_END) {
			if (!sv_at_end(s))
				sv_report(cx, &svt_codes[T_TRAILING], sv_offset(s), "data after END");
			if (sv_want_records(cx))
				sv_emit_stat_u64(cx, "records", index);
			return;
		}
	}
}

/*
 * Conversions: decode writes {"records":N,"bytes":N} after verifying;
 * encode turns the text "blobs N" into a stream of N one-byte BLOBs and
 * END (anything else fails after writing some output, so tests can see
 * that failed output never reaches OUT); info prints the record count.
 */
static bool svt_decode(sv_ctx *cx, sv_stream *in, FILE *out, unsigned flags)
{
	unsigned long before = sv_error_count(cx);

	svt_verify(cx, in);
	fprintf(out, "{\"records\":%llu,\"pretty\":%s}\n",
		(unsigned long long)sv_offset(in), flags & SV_CONV_PRETTY ? "true" : "false");
	return sv_error_count(cx) == before;
}

static bool svt_encode(sv_ctx *cx, sv_stream *in, FILE *out)
{
	char text[32] = { 0 };
	unsigned n;

	sv_read(in, text, sizeof(text) - 1);
	fputs("SVT1", out);
	if (sscanf(text, "blobs %u", &n) != 1 || n > 1000) {
		sv_report(cx, &svt_codes[T_MAGIC], 0, "not 'blobs N'");
		return false;
	}
	for (unsigned i = 0; i < n; i++)
		fwrite("\x01\0\0\0\x01\0\0\0x\0\0\0\0\0\0\0", 1, 16, out);
	fwrite("\0\0\0\0\0\0\0\0", 1, 8, out);
	return true;
}

static bool svt_info(sv_ctx *cx, sv_stream *in, FILE *out)
{
	(void)cx;
	fprintf(out, "svt stream of %llu bytes\n", (unsigned long long)sv_skip(in, UINT64_MAX));
	return true;
}

static const sv_converter svt_converter = { .decode = svt_decode, .encode = svt_encode, .info = svt_info };

/* "svt" and a digit, lower case: a near miss, for the core's detection messages. */
static int svt_near(const sv_bid_input *in, char *why, size_t why_len)
{
	if (in->head_len < 4 || memcmp(in->head, "svt", 3) != 0 || in->head[3] < '0' ||
	    in->head[3] > '9')
		return 0;
	snprintf(why, why_len, "an svt stream with its magic in lower case");
	return 80;
}

const sv_format test_format_svt = {
	.name = "svt", .description = "test-only record stream", .codes = svt_codes,
	.ncodes = T_NCODES, .bid = svt_bid, .verify = svt_verify, .convert = &svt_converter,
	.near = svt_near
};

static int weak_bid(const sv_bid_input *in)
{
	return in->head_len >= 2 && memcmp(in->head, "SV", 2) == 0 ? 50 : 0;
}

static void weak_verify(sv_ctx *cx, sv_stream *s)
{
	(void)cx;
	sv_skip(s, UINT64_MAX);
}

const sv_format test_format_weak = {
	.name = "svt-weak", .description = "test-only: bids 50 on SV", .bid = weak_bid,
	.verify = weak_verify
};

void (*test_probe_fn)(sv_ctx *cx, sv_stream *s);
void (*test_dirprobe_fn)(sv_ctx *cx, int dirfd, const char *path);

static int zero_bid(const sv_bid_input *in)
{
	(void)in;
	return 0;
}

/* Without a test's function (the command line, the core's trial runs) they do nothing. */
static void probe_verify(sv_ctx *cx, sv_stream *s)
{
	if (test_probe_fn)
		test_probe_fn(cx, s);
}

static void dirprobe_verify(sv_ctx *cx, int dirfd, const char *path)
{
	if (test_dirprobe_fn)
		test_dirprobe_fn(cx, dirfd, path);
}

const sv_format test_format_probe = {
	.name = "probe", .description = "test-only: runs the test's function", .bid = zero_bid,
	.verify = probe_verify
};
const sv_format test_format_dirprobe = {
	.name = "dirprobe", .description = "test-only: runs the test's directory function",
	.bid = zero_bid, .verify_dir = dirprobe_verify
};

void test_formats_register(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	sv_register_format(&test_format_svt);
	sv_register_format(&test_format_weak);
	sv_register_format(&test_format_probe);
	sv_register_format(&test_format_dirprobe);
}

/* ---- building streams ---- */

static void grow(svt_buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
}

void svt_raw(svt_buf *b, const void *p, size_t n)
{
	grow(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void svt_begin(svt_buf *b)
{
	memset(b, 0, sizeof(*b));
	svt_raw(b, "SVT1", 4);
}

void svt_put(svt_buf *b, uint32_t type, const void *body, uint32_t len, unsigned char pad_byte)
{
	unsigned char hdr[8] = {
		(unsigned char)type, (unsigned char)(type >> 8), (unsigned char)(type >> 16), (unsigned char)(type >> 24),
		(unsigned char)len, (unsigned char)(len >> 8), (unsigned char)(len >> 16), (unsigned char)(len >> 24)
	};
	svt_raw(b, hdr, 8);
	if (body)
		svt_raw(b, body, len);
	else {
		grow(b, len);
		memset(b->p + b->len, 0x11, len);
		b->len += len;
	}
	for (uint32_t pad = (8 - len % 8) % 8; pad; pad--) {
		grow(b, 1);
		b->p[b->len++] = pad_byte;
	}
}

void svt_free(svt_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- running ---- */

static void collect_diag(void *ctx, const sv_diag *d)
{
	test_run *r = ctx;

	if (r->ndiags < sizeof(r->diags) / sizeof(r->diags[0])) {
		test_diag *t = &r->diags[r->ndiags++];
		snprintf(t->code, sizeof(t->code), "%s", d->code->id);
		t->offset = d->offset;
		t->record = d->record;
		t->severity = d->severity;
	}
}

static void collect_record(void *ctx, const sv_record_info *ri)
{
	(void)ri;
	((test_run *)ctx)->records_seen++;
}

static void collect_summary(void *ctx, const sv_summary *s)
{
	test_run *r = ctx;

	r->sum = *s;
	r->sum.input = NULL;
	r->sum.format = NULL;
}

int test_verify(const char *path, const char *format, unsigned long max_errors,
		int werror, test_run *out)
{
	sv_options opt = { .format = format, .max_errors = max_errors, .werror = werror };
	sv_sink sink = { out, collect_diag, collect_record, NULL, collect_summary };

	test_formats_register();
	memset(out, 0, sizeof(*out));
	out->status = sv_verify(path, &opt, &sink, NULL);
	return out->status;
}

int test_find(const test_run *r, const char *code)
{
	for (size_t i = 0; i < r->ndiags; i++)
		if (strcmp(r->diags[i].code, code) == 0)
			return (int)i;
	return -1;
}

static char *temp_path(const char *suffix)
{
	const char *dir = getenv("SV_TEST_BUILD");
	char *path;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	if (asprintf(&path, "%s/svtest-XXXXXX%s", dir, suffix) < 0)
		abort();
	fd = mkstemps(path, (int)strlen(suffix));
	if (fd < 0) {
		/* The build folder may not exist when run by hand. */
		free(path);
		if (asprintf(&path, "/tmp/svtest-XXXXXX%s", suffix) < 0)
			abort();
		fd = mkstemps(path, (int)strlen(suffix));
		if (fd < 0)
			abort();
	}
	close(fd);
	return path;
}

char *test_write_temp(const void *p, size_t n, const char *suffix)
{
	char *path = temp_path(suffix);
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(p, 1, n, fp) != n || fclose(fp) != 0)
		abort();
	return path;
}

char *test_write_temp_gzip(const void *p, size_t n)
{
	char *path = temp_path(".gz");
	gzFile gz = gzopen(path, "wb");

	if (!gz || (n && gzwrite(gz, p, (unsigned)n) != (int)n) || gzclose(gz) != Z_OK)
		abort();
	return path;
}

int test_verify_pipe(const void *p, size_t n, const char *format, test_run *out)
{
	char *result = temp_path(".run");
	int fds[2];
	pid_t verifier, writer;
	int st;
	FILE *fp;

	if (pipe(fds) != 0)
		abort();
	writer = fork();
	if (writer == 0) {
		close(fds[0]);
		const unsigned char *q = p;
		size_t left = n;
		while (left) {
			ssize_t w = write(fds[1], q, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(0); /* the reader stopped early: fine */
			q += w;
			left -= (size_t)w;
		}
		_exit(0);
	}
	verifier = fork();
	if (verifier == 0) {
		test_run r;
		close(fds[1]);
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		test_verify("-", format, 0, 0, &r);
		fp = fopen(result, "wb");
		if (!fp || fwrite(&r, sizeof(r), 1, fp) != 1 || fclose(fp) != 0)
			_exit(99);
		_exit(0);
	}
	close(fds[0]);
	close(fds[1]);
	waitpid(verifier, &st, 0);
	waitpid(writer, NULL, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		abort();
	fp = fopen(result, "rb");
	if (!fp || fread(out, sizeof(*out), 1, fp) != 1)
		abort();
	fclose(fp);
	unlink(result);
	free(result);
	return out->status;
}
