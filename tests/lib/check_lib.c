/*
 * The library's ways in: a path, a descriptor, a buffer and a read
 * callback give the same verdict, counts and findings for the same bytes,
 * gzip-compressed or not; and a library user needs no path at all.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "streamverify.h"

/* What a run said: its findings as "code@offset" lines, and its summary. */
typedef struct outcome {
	char findings[8192];
	size_t len;
	sv_summary sum;
	int status;
} outcome;

static void collect(void *ctx, const sv_diag *d)
{
	outcome *o = ctx;
	int n = snprintf(o->findings + o->len, sizeof(o->findings) - o->len, "%s@%lld\n",
			 d->code->id, d->offset == SV_NONE ? -1LL : (long long)d->offset);
	if (n > 0 && (size_t)n < sizeof(o->findings) - o->len)
		o->len += (size_t)n;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p;
	long n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc(n > 0 ? (size_t)n : 1);
	ck_assert(p != NULL);
	ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

/* A read callback that hands out at most 7 bytes at a time. */
typedef struct dribble {
	const unsigned char *p;
	size_t left;
} dribble;

static long dribble_read(void *arg, void *buf, size_t n)
{
	dribble *d = arg;
	if (n > 7)
		n = 7;
	if (n > d->left)
		n = d->left;
	memcpy(buf, d->p, n);
	d->p += n;
	d->left -= n;
	return (long)n;
}

static long failing_read(void *arg, void *buf, size_t n)
{
	(void)arg;
	(void)buf;
	(void)n;
	errno = EIO;
	return -1;
}

static void same(const outcome *a, const outcome *b, const char *what)
{
	ck_assert_msg(a->status == b->status, "%s: status %d vs %d", what, a->status, b->status);
	ck_assert_msg(strcmp(a->findings, b->findings) == 0, "%s: findings\n%s---\n%s", what,
		      a->findings, b->findings);
	ck_assert_uint_eq(a->sum.errors, b->sum.errors);
	ck_assert_uint_eq(a->sum.warnings, b->sum.warnings);
	ck_assert_uint_eq(a->sum.records, b->sum.records);
	ck_assert_uint_eq(a->sum.bytes, b->sum.bytes);
	ck_assert_str_eq(a->sum.format ? a->sum.format : "-", b->sum.format ? b->sum.format : "-");
}

/* Verify path every way in; all must agree. */
static void check_ways(const char *path)
{
	outcome by_path = { 0 }, by_fd = { 0 }, by_buf = { 0 }, by_cb = { 0 };
	sv_sink sink = { NULL, collect, NULL, NULL, NULL };
	sv_options opt = { .format = NULL };
	size_t len;
	unsigned char *data = slurp(path, &len);
	int fd = open(path, O_RDONLY);
	dribble d = { data, len };

	sink.ctx = &by_path;
	by_path.status = sv_verify(path, &opt, &sink, &by_path.sum);
	sink.ctx = &by_fd;
	ck_assert_int_ge(fd, 0);
	by_fd.status = sv_verify_fd(fd, path, &opt, &sink, &by_fd.sum);
	/* The descriptor is the caller's: still open. */
	ck_assert_int_eq(close(fd), 0);
	sink.ctx = &by_buf;
	by_buf.status = sv_verify_buffer(data, len, path, &opt, &sink, &by_buf.sum);
	sink.ctx = &by_cb;
	by_cb.status = sv_verify_callback(dribble_read, &d, path, &opt, &sink, &by_cb.sum);
	same(&by_path, &by_fd, "path vs fd");
	same(&by_path, &by_buf, "path vs buffer");
	same(&by_path, &by_cb, "path vs callback");
	free(data);
}

static char fixtures[4096];

static void make_fixtures(void)
{
	const char *build = getenv("SV_BUILD"), *out = getenv("SV_TEST_BUILD");
	char cmd[16384];

	ck_assert_ptr_nonnull(build);
	ck_assert_ptr_nonnull(out);
	snprintf(fixtures, sizeof(fixtures), "%s/xen", out);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && '%s/tests/xen/gen_xen' --all '%s' >/dev/null",
		 fixtures, build, fixtures);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(ways_agree_on_xen_fixtures)
{
	char manifest[4200], line[1024];
	FILE *m;
	int n = 0;

	make_fixtures();
	snprintf(manifest, sizeof(manifest), "%s/MANIFEST", fixtures);
	m = fopen(manifest, "r");
	ck_assert_ptr_nonnull(m);
	while (fgets(line, sizeof(line), m)) {
		char path[5300];
		line[strcspn(line, "\t\n")] = '\0';
		snprintf(path, sizeof(path), "%s/%s", fixtures, line);
		check_ways(path);
		n++;
	}
	fclose(m);
	ck_assert_int_gt(n, 50);
}
END_TEST

START_TEST(gzip_buffer_is_decompressed)
{
	char path[4200], gz[4300];
	outcome plain = { 0 }, packed = { 0 };
	sv_sink sink = { NULL, collect, NULL, NULL, NULL };
	sv_options opt = { .format = NULL };
	size_t len, glen;
	unsigned char *data, *gdata;
	gzFile g;

	make_fixtures();
	snprintf(path, sizeof(path), "%s/valid-libxc-hvm-v3.libxc", fixtures);
	snprintf(gz, sizeof(gz), "%s.gz", path);
	data = slurp(path, &len);
	g = gzopen(gz, "wb");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(gzwrite(g, data, (unsigned)len), (int)len);
	gzclose(g);
	gdata = slurp(gz, &glen);
	sink.ctx = &plain;
	plain.status = sv_verify_buffer(data, len, "x", &opt, &sink, &plain.sum);
	sink.ctx = &packed;
	packed.status = sv_verify_buffer(gdata, glen, "x", &opt, &sink, &packed.sum);
	same(&plain, &packed, "buffer vs gzip buffer");
	ck_assert_int_eq(plain.status, SV_EXIT_VALID);
	free(data);
	free(gdata);
}
END_TEST

START_TEST(read_errors_and_bad_arguments)
{
	sv_summary sum;
	sv_options opt = { .format = "libxc" };

	/* A failing callback is an input that could not be read. */
	ck_assert_int_eq(sv_verify_callback(failing_read, NULL, "cb", &opt, NULL, &sum),
			 SV_EXIT_FAILURE);
	ck_assert_int_eq(sum.io_failed, 1);
	ck_assert_int_eq(sv_verify_callback(NULL, NULL, "cb", &opt, NULL, NULL), SV_EXIT_FAILURE);
	ck_assert_int_eq(sv_verify_fd(-1, "fd", &opt, NULL, NULL), SV_EXIT_FAILURE);
	/* An empty buffer is a (truncated) input, not a crash. */
	ck_assert_int_eq(sv_verify_buffer(NULL, 0, NULL, &opt, NULL, &sum), SV_EXIT_INVALID);
	ck_assert_str_eq(sv_version(), SV_VERSION);
}
END_TEST

/*
 * Found by fuzz_xl through sv_verify_buffer: an xl header announcing a
 * 16-byte config where the buffer ends.  sv_read_alloc doubled a capacity
 * of 0 (the declared bytes left) to 0, so realloc freed the buffer and it
 * was freed again.  Every way in must say "truncated", exit 1.
 */
static const unsigned char xl_config_at_end[] = {
	0x58, 0x65, 0x6e, 0x20, 0x73, 0x61, 0x76, 0x65, 0x64, 0x20, 0x64, 0x6f,
	0x6d, 0x61, 0x69, 0x6e, 0x2c, 0x20, 0x78, 0x6c, 0x20, 0x66, 0x6f, 0x72,
	0x6d, 0x61, 0x74, 0x0a, 0x20, 0x00, 0x20, 0x0d, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfd,
	0x10, 0x00, 0x00, 0x00
};

START_TEST(declared_length_where_the_buffer_ends)
{
	sv_options opt = { .format = "xl" };
	sv_summary sum;
	dribble d = { xl_config_at_end, sizeof(xl_config_at_end) };
	int fd;
	char path[4096];
	FILE *f;

	ck_assert_int_eq(sv_verify_buffer(xl_config_at_end, sizeof(xl_config_at_end), "xl",
					  &opt, NULL, &sum), SV_EXIT_INVALID);
	ck_assert_uint_eq(sum.errors, 3);
	ck_assert_int_eq(sv_verify_callback(dribble_read, &d, "xl", &opt, NULL, &sum),
			 SV_EXIT_INVALID);
	ck_assert_uint_eq(sum.errors, 3);
	snprintf(path, sizeof(path), "%s/xl-config-at-end.xl", getenv("SV_TEST_BUILD"));
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(xl_config_at_end, 1, sizeof(xl_config_at_end), f),
			  sizeof(xl_config_at_end));
	fclose(f);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sv_verify_fd(fd, path, &opt, NULL, &sum), SV_EXIT_INVALID);
	ck_assert_uint_eq(sum.errors, 3);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lib");
	TCase *t = tcase_create("ways-in");
	SRunner *r;
	int failed;

	tcase_set_timeout(t, 120);
	tcase_add_test(t, ways_agree_on_xen_fixtures);
	tcase_add_test(t, gzip_buffer_is_decompressed);
	tcase_add_test(t, read_errors_and_bad_arguments);
	tcase_add_test(t, declared_length_where_the_buffer_ends);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
