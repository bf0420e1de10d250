/*
 * Check suite for the QEMU format module: every fixture gives exactly its
 * expected findings (code and byte offset), valid shapes none; the real
 * streams of tests/data/qemu verify clean and are detected; a Xen device
 * state stream verifies when handed over by another module through
 * sv_verify_nested; every prefix of a small stream is invalid; forged
 * length fields, mutations and 100,000 sections never crash, hang or
 * over-allocate (64 MiB address-space limit); big files are verified in
 * bounded time; --verbose figures come out.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "module.h"
#include "qemu_writer.h"

#define MAX_DIAGS 64

typedef struct found {
	const char *code;
	uint64_t off;
	sv_severity sev;
} found;

typedef struct collect {
	found d[MAX_DIAGS];
	size_t n;
	size_t records, stats;
	char stat_text[4096];
} collect;

static void on_diag(void *ctx, const sv_diag *d)
{
	collect *c = ctx;

	if (c->n < MAX_DIAGS) {
		c->d[c->n].code = d->code->id;
		c->d[c->n].off = d->offset;
		c->d[c->n].sev = d->severity;
		c->n++;
	}
}

static void on_record(void *ctx, const sv_record_info *r)
{
	collect *c = ctx;

	(void)r;
	c->records++;
}

static void on_stat(void *ctx, const sv_stat *s)
{
	collect *c = ctx;
	size_t used = strlen(c->stat_text);

	c->stats++;
	snprintf(c->stat_text + used, sizeof(c->stat_text) - used, "%s=%s\n", s->key, s->text);
}

static const char *test_dir(void)
{
	static char dir[4096];
	const char *base = getenv("SV_TEST_BUILD");

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s/check_qemu.d", base ? base : "/tmp");
		mkdir(base ? base : "/tmp", 0777);
		mkdir(dir, 0777);
	}
	return dir;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "cannot create %s", path);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

static int run(const char *path, const char *format, collect *c, bool verbose,
	       sv_summary *sum)
{
	sv_sink sink = { .ctx = c, .diag = on_diag };
	sv_options opt = { .format = format };

	if (verbose) {
		sink.record = on_record;
		sink.stat = on_stat;
	}
	memset(c, 0, sizeof(*c));
	return sv_verify(path, &opt, &sink, sum);
}

static const char *fixture_file(const qfixture *f, qw *w, fx_expect *e)
{
	static char path[4096];

	qw_init(w);
	qemu_fixture_build(f, w, e);
	snprintf(path, sizeof(path), "%s/%s.qemu", test_dir(), f->name);
	write_bytes(path, w->p, w->len);
	return path;
}

static bool has(const collect *c, const char *code, uint64_t off)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->d[i].code, code) == 0 && c->d[i].off == off)
			return true;
	return false;
}

static void dump(const collect *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		fprintf(stderr, "  %s: %s at %llu\n", name, c->d[i].code,
			(unsigned long long)c->d[i].off);
}

static const qfixture *by_name(const char *name)
{
	const qfixture *f = qemu_fixture_find(name);

	ck_assert_msg(f != NULL, "no fixture %s", name);
	return f;
}

/* Each fixture: exactly the expected findings, nothing else. */
START_TEST(test_fixture)
{
	const qfixture *f = &qemu_fixtures[_i];
	fx_expect e;
	qw w;
	collect c;
	sv_summary sum;
	const char *path = fixture_file(f, &w, &e);
	size_t want = (e.code ? 1 : 0) + (e.code2 ? 1 : 0);
	int status = run(path, "qemu", &c, false, &sum);
	bool invalid = false;

	if (c.n != want)
		dump(&c, f->name);
	ck_assert_msg(c.n == want, "%s: %zu findings, expected %zu", f->name, c.n, want);
	ck_assert_msg((f->code == NULL) == (e.code == NULL) &&
		      (!f->code || strcmp(f->code, e.code) == 0 ||
		       (e.code2 && strcmp(f->code, e.code2) == 0)),
		      "%s: table says %s, builder %s", f->name, f->code ? f->code : "valid",
		      e.code ? e.code : "valid");
	if (e.code) {
		ck_assert_msg(e.off != UINT64_MAX, "%s: builder set no offset", f->name);
		ck_assert_msg(has(&c, e.code, e.off), "%s: no %s at %llu", f->name, e.code,
			      (unsigned long long)e.off);
		ck_assert_ptr_nonnull(sv_code_find(e.code));
		invalid |= sv_code_find(e.code)->severity == SV_ERROR;
	}
	if (e.code2) {
		ck_assert_msg(has(&c, e.code2, e.off2), "%s: no %s at %llu", f->name, e.code2,
			      (unsigned long long)e.off2);
		invalid |= sv_code_find(e.code2)->severity == SV_ERROR;
	}
	ck_assert_int_eq(status, invalid ? SV_EXIT_INVALID : SV_EXIT_VALID);
	qw_free(&w);
}
END_TEST

/* Every code of the module has a fixture that gives it. */
START_TEST(test_codes_covered)
{
	const sv_format *q = sv_format_find("qemu");

	ck_assert_ptr_nonnull(q);
	for (size_t k = 0; k < q->ncodes; k++) {
		bool seen = false;

		for (size_t i = 0; i < qemu_nfixtures && !seen; i++) {
			fx_expect e;
			qw w;

			qw_init(&w);
			qemu_fixture_build(&qemu_fixtures[i], &w, &e);
			seen = (e.code && strcmp(e.code, q->codes[k].id) == 0) ||
			       (e.code2 && strcmp(e.code2, q->codes[k].id) == 0);
			qw_free(&w);
		}
		ck_assert_msg(seen, "code %s has no fixture", q->codes[k].id);
	}
}
END_TEST

/* Auto-detection picks qemu for every valid shape. */
START_TEST(test_bids)
{
	for (size_t i = 0; i < qemu_nfixtures; i++) {
		const qfixture *f = &qemu_fixtures[i];
		fx_expect e;
		qw w;
		collect c;
		sv_summary sum;
		const char *path;

		if (strncmp(f->name, "valid-", 6) != 0)
			continue;
		path = fixture_file(f, &w, &e);
		run(path, NULL, &c, false, &sum);
		ck_assert_msg(sum.format && strcmp(sum.format, "qemu") == 0,
			      "%s: detected as %s", f->name, sum.format ? sum.format : "(none)");
		ck_assert_uint_eq(sum.errors, 0);
		qw_free(&w);
	}
}
END_TEST

/* The real streams written by QEMU 7.2 (tests/data/qemu): clean, detected. */
START_TEST(test_real_streams)
{
	const char *data = getenv("SV_DATA");
	char dir[4096];
	DIR *d;
	struct dirent *de;
	unsigned n = 0;

	ck_assert_msg(data != NULL, "SV_DATA is not set");
	snprintf(dir, sizeof(dir), "%s/qemu", data);
	d = opendir(dir);
	ck_assert_msg(d != NULL, "no %s", dir);
	while ((de = readdir(d)) != NULL) {
		char path[8192];
		collect c;
		sv_summary sum;

		if (!strstr(de->d_name, ".qemu.gz"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ck_assert_int_eq(run(path, NULL, &c, true, &sum), SV_EXIT_VALID);
		ck_assert_str_eq(sum.format, "qemu");
		ck_assert_uint_eq(sum.errors, 0);
		ck_assert_uint_eq(sum.warnings, 0);
		for (size_t i = 0; i < c.n; i++)
			ck_assert_msg(strcmp(c.d[i].code, "qemu.configuration.missing") == 0 ||
				      strcmp(c.d[i].code, "qemu.vmdesc.missing") == 0,
				      "%s: %s", de->d_name, c.d[i].code);
		/* Streams with a vmdesc had every device walked. */
		if (strstr(c.stat_text, "vmdesc=yes"))
			ck_assert_msg(strstr(c.stat_text, "pages.zero=") != NULL, "%s", c.stat_text);
		n++;
	}
	closedir(d);
	ck_assert_uint_ge(n, 5);
}
END_TEST

/* ---- nested use: a Xen EMULATOR_CONTEXT body handed over by another module */

static void wrap_verify(sv_ctx *cx, sv_stream *in)
{
	unsigned char h[4];
	uint32_t len;

	sv_set_record(cx, 0, "EMULATOR_CONTEXT");
	if (!sv_need(cx, in, h, 4, "length"))
		return;
	len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	sv_verify_nested(cx, in, len, sv_format_find("qemu"));
	if (!sv_need(cx, in, h, 4, "tail"))
		return;
	ck_assert_int_eq(memcmp(h, "TAIL", 4), 0);
}

static int wrap_bid(const sv_bid_input *in)
{
	(void)in;
	return 0;
}

static const sv_format wrap_format = {
	.name = "test-xen-wrap", .description = "test: a length, a nested QEMU stream, TAIL",
	.bid = wrap_bid, .verify = wrap_verify,
};

static void nested_case(const char *fixture, const char *code, uint64_t shift_code_off,
			bool from_data)
{
	qw w, outer;
	fx_expect e;
	collect c;
	sv_summary sum;
	char path[4096];

	qw_init(&w);
	if (from_data) {
		/* The real footer-less device state, decompressed by the core. */
		char src[4096];
		FILE *f;
		snprintf(src, sizeof(src), "gzip -dc %s/qemu/%s", getenv("SV_DATA"), fixture);
		f = popen(src, "r");
		ck_assert_ptr_nonnull(f);
		for (int ch; (ch = fgetc(f)) != EOF;)
			qw_u8(&w, (uint8_t)ch);
		ck_assert_int_eq(pclose(f), 0);
		memset(&e, 0, sizeof(e));
	} else {
		qemu_fixture_build(by_name(fixture), &w, &e);
	}
	qw_init(&outer);
	qw_be32(&outer, (uint32_t)w.len);
	qw_raw(&outer, w.p, w.len);
	qw_raw(&outer, "TAIL", 4);
	snprintf(path, sizeof(path), "%s/nested.bin", test_dir());
	write_bytes(path, outer.p, outer.len);
	ck_assert_int_eq(run(path, "test-xen-wrap", &c, false, &sum),
			 code ? SV_EXIT_INVALID : SV_EXIT_VALID);
	for (size_t i = 0; i < c.n; i++)
		ck_assert_msg(c.d[i].sev != SV_ERROR || code, "unexpected %s", c.d[i].code);
	if (code)
		ck_assert_msg(has(&c, code, 4 + shift_code_off), "no %s at %llu", code,
			      (unsigned long long)(4 + shift_code_off));
	else
		/* Nested, the missing CONFIGURATION and VMDESCRIPTION are Xen's shape: no note. */
		ck_assert_msg(!has(&c, "qemu.configuration.missing", 4 + 8) &&
			      c.n == 0, "%zu findings in a valid nested device state", c.n);
	qw_free(&w);
	qw_free(&outer);
}

START_TEST(test_nested_xen)
{
	fx_expect e;
	qw w;

	ck_assert(sv_register_format(&wrap_format) || sv_format_find("test-xen-wrap"));
	nested_case("devstate-xenlike.qemu.gz", NULL, 0, true);
	nested_case("valid-xen-devstate", NULL, 0, false);
	qw_init(&w);
	qemu_fixture_build(by_name("bad-no-end-xen"), &w, &e);
	qw_free(&w);
	/* Cut short inside the nested stream: the end of the record ends it. */
	nested_case("bad-no-end-xen", "qemu.section.no-end", e.off2, false);
}
END_TEST

/* ---- robustness ------------------------------------------------------------ */

/*
 * A stream cut at any byte of its structure is invalid (except right
 * after EOF: a lost vmdesc, which QEMU's loader only warns about).
 */
START_TEST(test_prefixes)
{
	static const char *const names[] = { "valid-precopy", "valid-postcopy", "valid-libvirt" };
	char path[4096];

	for (size_t k = 0; k < 3; k++) {
		const qfixture *f = by_name(names[k]);
		fx_expect e;
		qw w;
		size_t eof_end = 0;

		qw_init(&w);
		qemu_fixture_build(f, &w, &e);
		/* Where EOF ends: the byte before the vmdesc's 0x06. */
		for (size_t i = w.len; i-- > 6;)
			if (w.p[i - 1] == 0 && w.p[i] == 6 && w.p[i + 5] == '{') {
				eof_end = i;
				break;
			}
		snprintf(path, sizeof(path), "%s/prefix.qemu", test_dir());
		/* Every byte, but one in 61 inside the page data in between. */
		for (size_t len = 0; len < w.len;
		     len += len < 1500 || len + 5000 > w.len ? 1 : 61) {
			collect c;
			sv_summary sum;

			if (len == eof_end)
				continue;
			write_bytes(path, w.p, len);
			run(path, "qemu", &c, false, &sum);
			ck_assert_msg(sum.errors > 0, "%s cut at %zu is not invalid", f->name, len);
		}
		qw_free(&w);
	}
}
END_TEST

/* Random corruption of every fixture: findings or not, never a crash. */
START_TEST(test_mutations)
{
	char path[4096];
	unsigned seed = 4242;

	snprintf(path, sizeof(path), "%s/mutant", test_dir());
	for (size_t i = 0; i < qemu_nfixtures; i++) {
		fx_expect e;
		qw w;

		qw_init(&w);
		qemu_fixture_build(&qemu_fixtures[i], &w, &e);
		if (w.len > (1u << 20)) {
			qw_free(&w);
			continue;
		}
		for (int round = 0; round < 16 && w.len > 0; round++) {
			qw m;
			collect c;
			sv_summary sum;

			qw_init(&m);
			qw_raw(&m, w.p, w.len);
			for (int k = 0; k < 1 + round % 4; k++) {
				size_t at;
				seed = seed * 1103515245u + 12345u;
				at = (seed >> 8) % m.len;
				m.p[at] ^= (unsigned char)(1u << (seed % 8));
				if (round % 3 == 0)
					m.p[at] = 0xff;
			}
			write_bytes(path, m.p, m.len);
			run(path, "qemu", &c, true, &sum);
			qw_free(&m);
		}
		qw_free(&w);
	}
}
END_TEST

static void limit_address_space(void)
{
	const char *san = getenv("SV_SANITIZE");
	struct rlimit rl = { 64u << 20, 64u << 20 };

	/* ASan reserves terabytes of shadow memory: no limit there. */
	if (san && *san)
		return;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
}

static void put_be(unsigned char *p, uint64_t v, unsigned width)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (unsigned char)(v >> (8 * (width - 1 - i)));
}

/*
 * Every length field forged to 0, 1, 0x7fffffff, 0x80000000, 0xffffffff
 * (high octets of 8-octet fields set alike) under a 64 MiB address-space
 * limit, in a child: it must finish with a finding, never crash.
 */
static unsigned forge(const char *fixture, qemu_len_field *extra, size_t nextra)
{
	static const uint64_t values[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff };
	qemu_len_field fields[64];
	fx_expect e;
	qw w;
	size_t nf;
	char path[4096];
	unsigned runs = 0;

	qw_init(&w);
	qemu_fixture_build(by_name(fixture), &w, &e);
	nf = qemu_length_fields(&w, fields, 64 - nextra);
	for (size_t i = 0; i < nextra; i++)
		fields[nf++] = extra[i];
	ck_assert_uint_ge(nf, 3);
	snprintf(path, sizeof(path), "%s/forged.qemu", test_dir());
	for (size_t i = 0; i < nf; i++) {
		for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
			unsigned char *p = malloc(w.len);
			uint64_t v = values[k];
			pid_t pid;
			int st;

			memcpy(p, w.p, w.len);
			if (fields[i].width == 1)
				p[fields[i].off] = (unsigned char)v;
			else if (fields[i].width == 8 && v >= 0x7fffffff)
				put_be(p + fields[i].off, v << 32 | v, 8);
			else
				put_be(p + fields[i].off, v, fields[i].width);
			if (memcmp(p, w.p, w.len) == 0) {
				free(p);
				continue;
			}
			write_bytes(path, p, w.len);
			free(p);
			pid = fork();
			ck_assert_int_ge(pid, 0);
			if (pid == 0) {
				collect c;
				sv_summary sum;
				limit_address_space();
				alarm(20);
				run(path, "qemu", &c, true, &sum);
				_exit(c.n > 0 ? 0 : 3);
			}
			ck_assert_int_eq(waitpid(pid, &st, 0), pid);
			/*
			 * Two forgeries give well-formed streams: "ram" cut to "r" is
			 * an iterable section of a device QEMU may or may not have
			 * (its bytes then read as instance and version), and a
			 * libvirt cookie offset below the XML length is legal.
			 */
			if (WIFEXITED(st) && WEXITSTATUS(st) == 3 &&
			    ((strcmp(fields[i].what, "section idstr length") == 0 && v == 1) ||
			     strcmp(fields[i].what, "libvirt cookie") == 0))
				st = 0;
			ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
				      "%s: %s at %zu forged to %#llx: %s %d", fixture, fields[i].what,
				      fields[i].off, (unsigned long long)v,
				      WIFEXITED(st) ? "exit" : "signal",
				      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			runs++;
		}
	}
	qw_free(&w);
	return runs;
}

START_TEST(test_forged_lengths)
{
	qemu_len_field lv[] = { { "libvirt data_len", 20, 4 }, { "libvirt cookie", 32, 4 } };
	unsigned runs = forge("valid-precopy", NULL, 0);

	runs += forge("valid-libvirt", lv, 2);
	runs += forge("valid-mapped-ram", NULL, 0);
	ck_assert_uint_ge(runs, 60);
}
END_TEST

/* 100,000 sections: bounded time and memory, the right verdict. */
START_TEST(test_many_sections)
{
	qw w;
	char path[4096];
	pid_t pid;
	int st;

	qw_init(&w);
	qemu_build_many_sections(&w, 100000);
	snprintf(path, sizeof(path), "%s/many.qemu", test_dir());
	write_bytes(path, w.p, w.len);
	qw_free(&w);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		collect c;
		sv_summary sum;
		int status;
		limit_address_space();
		alarm(60);
		status = run(path, "qemu", &c, false, &sum);
		/* valid; one note: no vmdesc */
		_exit(status == SV_EXIT_VALID && sum.records >= 100000 && c.n == 1 ? 0 : 3);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "100,000 sections: status %d", st);
}
END_TEST

/* --verbose: records and the input's figures. */
START_TEST(test_verbose)
{
	fx_expect e;
	qw w;
	collect c;
	sv_summary sum;
	const char *path = fixture_file(by_name("valid-xbzrle"), &w, &e);

	run(path, "qemu", &c, true, &sum);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_uint_gt(c.records, 8);
	ck_assert_msg(strstr(c.stat_text, "machine=pc-i440fx-9.0\n") != NULL, "%s", c.stat_text);
	ck_assert_msg(strstr(c.stat_text, "ram.blocks=2\n") != NULL, "%s", c.stat_text);
	ck_assert_msg(strstr(c.stat_text, "ram.total=1179648\n") != NULL, "%s", c.stat_text);
	ck_assert_msg(strstr(c.stat_text, "pages.zero=2\n") != NULL, "%s", c.stat_text);
	ck_assert_msg(strstr(c.stat_text, "pages.full=3\n") != NULL, "%s", c.stat_text);
	ck_assert_msg(strstr(c.stat_text, "pages.xbzrle=1\n") != NULL, "%s", c.stat_text);
	ck_assert_msg(strstr(c.stat_text, "devices=4\n") != NULL, "%s", c.stat_text);
	qw_free(&w);
}
END_TEST

/* A large file: valid, in bounded time and memory. */
START_TEST(test_big_file)
{
	char path[4096];
	const uint64_t size = 256ull << 20;
	struct timespec t0, t1;
	collect c;
	sv_summary sum;
	FILE *f;

	snprintf(path, sizeof(path), "%s/big.qemu", test_dir());
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(qemu_write_big(f, size, true), 0);
	ck_assert_int_eq(fclose(f), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(run(path, NULL, &c, false, &sum), SV_EXIT_VALID);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_str_eq(sum.format, "qemu");
	ck_assert_uint_ge(sum.bytes, size);
	/*
	 * A header every 4 KiB: the core reads the pages in passing (its
	 * 64 KiB refills), so this is about the time of reading the file
	 * (0.15 s here); the bound only catches a pathological slowdown on a
	 * loaded machine.
	 */
	if (!getenv("SV_SANITIZE") || !*getenv("SV_SANITIZE"))
		ck_assert_msg((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) <
			      10000000000L, "verifying a 256 MiB file took too long");
	unlink(path);
}
END_TEST

static Suite *qemu_suite(void)
{
	Suite *s = suite_create("qemu");
	TCase *tc = tcase_create("fixtures");

	tcase_add_loop_test(tc, test_fixture, 0, (int)qemu_nfixtures);
	tcase_add_test(tc, test_codes_covered);
	tcase_add_test(tc, test_bids);
	tcase_add_test(tc, test_real_streams);
	tcase_add_test(tc, test_nested_xen);
	tcase_add_test(tc, test_verbose);
	suite_add_tcase(s, tc);
	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_mutations);
	tcase_add_test(tc, test_forged_lengths);
	tcase_add_test(tc, test_many_sections);
	tcase_add_test(tc, test_big_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(qemu_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
