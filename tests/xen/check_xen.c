/*
 * Check suite for the Xen format modules: every fixture gives exactly its
 * expected findings (code and byte offset), valid shapes none; bids pick
 * the right module; every prefix of a valid stream is invalid; mutated
 * streams never crash; big streams are verified by seeking; --verbose
 * figures come out.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "formats/xen/xen.h"
#include "module.h"
#include "xen_writer.h"

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
	char stat_text[2048];
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
	snprintf(c->stat_text + used, sizeof(c->stat_text) - used, "%s=%s\n",
		 s->key, s->text);
}

static const char *test_dir(void)
{
	static char dir[4096];
	const char *base = getenv("SV_TEST_BUILD");

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s/check_xen.d", base ? base : "/tmp");
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

/* guest: the libxc-legacy guest parameter, or NULL. */
static int run_guest(const char *path, const char *format, const char *guest,
		     collect *c, bool verbose, sv_summary *sum)
{
	sv_sink sink = { .ctx = c, .diag = on_diag };
	sv_options opt = { .format = format };
	char param[64];
	const char *params[1] = { param };

	if (guest) {
		snprintf(param, sizeof(param), "guest=%s", guest);
		opt.params = params;
		opt.nparams = 1;
	}

	if (verbose) {
		sink.record = on_record;
		sink.stat = on_stat;
	}
	memset(c, 0, sizeof(*c));
	return sv_verify(path, &opt, &sink, sum);
}

static int run(const char *path, const char *format, collect *c, bool verbose,
	       sv_summary *sum)
{
	return run_guest(path, format, NULL, c, verbose, sum);
}

/* Write fixture i; returns its path (static buffer). */
static const char *fixture_file(size_t i, xw *w, fx_expect *e)
{
	static char path[4096];
	char name[256];

	xw_init(w);
	xen_fixture_build(&xen_fixtures[i], w, e);
	xen_fixture_filename(&xen_fixtures[i], name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", test_dir(), name);
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

/* Each fixture: exactly the expected findings, nothing else. */
START_TEST(test_fixture)
{
	const fixture *f = &xen_fixtures[_i];
	fx_expect e;
	xw w;
	collect c;
	sv_summary sum;
	const char *path = fixture_file((size_t)_i, &w, &e);
	size_t want = (e.code ? 1 : 0) + (e.code2 ? 1 : 0);
	int status = run_guest(path, f->format, f->guest, &c, false, &sum);

	if (c.n != want)
		dump(&c, f->name);
	ck_assert_msg(c.n == want, "%s: %zu findings, expected %zu", f->name, c.n, want);
	if (e.code) {
		ck_assert_msg(e.off != UINT64_MAX, "%s: builder set no offset", f->name);
		ck_assert_msg(has(&c, e.code, e.off), "%s: no %s at %llu", f->name,
			      e.code, (unsigned long long)e.off);
	}
	if (e.code2)
		ck_assert_msg(has(&c, e.code2, e.off2), "%s: no %s at %llu", f->name,
			      e.code2, (unsigned long long)e.off2);
	/* Valid, notes and warnings exit 0; anything with an error exits 1. */
	{
		const sv_code *code = e.code ? sv_code_find(e.code) : NULL;
		bool invalid = code && code->severity == SV_ERROR;

		ck_assert_ptr_nonnull(e.code ? code : (const sv_code *)"");
		ck_assert_int_eq(status, invalid ? SV_EXIT_INVALID : SV_EXIT_VALID);
	}
	xw_free(&w);
}
END_TEST

/* Auto-detection picks the fixture's own format for every valid shape. */
START_TEST(test_bids)
{
	for (size_t i = 0; i < xen_nfixtures; i++) {
		const fixture *f = &xen_fixtures[i];
		fx_expect e;
		xw w;
		collect c;
		sv_summary sum;
		const char *path;

		/* A legacy HVM stream has nothing to recognise it by. */
		if (strncmp(f->name, "valid-", 6) != 0 || strcmp(f->shape, "legacy-hvm") == 0)
			continue;
		path = fixture_file(i, &w, &e);
		run(path, NULL, &c, false, &sum);
		ck_assert_msg(sum.format && strcmp(sum.format, f->format) == 0,
			      "%s: detected as %s", f->name, sum.format ? sum.format : "(none)");
		ck_assert_uint_eq(sum.errors, 0);
		xw_free(&w);
	}
}
END_TEST

static const fixture *by_name(const char *name)
{
	for (size_t i = 0; i < xen_nfixtures; i++)
		if (strcmp(xen_fixtures[i].name, name) == 0)
			return &xen_fixtures[i];
	ck_abort_msg("no fixture %s", name);
	return NULL;
}

/* A valid stream cut anywhere is invalid, and reported without a crash. */
START_TEST(test_prefixes)
{
	static const char *const names[] = { "valid-xl-pv", "valid-libxl-rounds-end",
					     "valid-legacy-pv", "valid-legacy-hvm" };
	char path[4096];

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const fixture *f = by_name(names[k]);
		fx_expect e;
		xw w;

		xw_init(&w);
		xen_fixture_build(f, &w, &e);
		snprintf(path, sizeof(path), "%s/prefix.%s", test_dir(), f->format);
		for (size_t len = 0; len < w.len; len += len < 600 ? 1 : 97) {
			collect c;
			sv_summary sum;

			write_bytes(path, w.p, len);
			run_guest(path, f->format, f->guest, &c, false, &sum);
			ck_assert_msg(sum.errors > 0, "%s cut at %zu is not invalid",
				      f->name, len);
		}
		xw_free(&w);
	}
}
END_TEST

/* Random corruption of every fixture: findings, never a crash. */
START_TEST(test_mutations)
{
	char path[4096];
	unsigned seed = 12345;

	snprintf(path, sizeof(path), "%s/mutant", test_dir());
	for (size_t i = 0; i < xen_nfixtures; i++) {
		fx_expect e;
		xw w;

		xw_init(&w);
		xen_fixture_build(&xen_fixtures[i], &w, &e);
		for (int round = 0; round < 12 && w.len > 0; round++) {
			xw m;
			collect c;
			sv_summary sum;

			xw_init(&m);
			xw_raw(&m, w.p, w.len);
			for (int k = 0; k < 1 + round % 4; k++) {
				seed = seed * 1103515245u + 12345u;
				size_t at = (seed >> 8) % (m.len < 512 ? m.len : 512 + (seed >> 4) % (m.len - 512 + 1));
				if (at >= m.len)
					at = m.len - 1;
				m.p[at] ^= (unsigned char)(1u << (seed % 8));
				if (round % 3 == 0)
					m.p[at] = 0xff;
			}
			write_bytes(path, m.p, m.len);
			run_guest(path, xen_fixtures[i].format, xen_fixtures[i].guest, &c,
				  true, &sum);
			xw_free(&m);
		}
		xw_free(&w);
	}
}
END_TEST

/* --verbose: records squashed, end-of-stream figures emitted. */
START_TEST(test_verbose)
{
	size_t i = (size_t)(by_name("valid-libxl-remus") - xen_fixtures);
	fx_expect e;
	xw w;
	collect c;
	sv_summary sum;
	const char *path = fixture_file(i, &w, &e);

	run(path, "libxl", &c, true, &sum);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_uint_gt(c.records, 0);
	ck_assert_uint_lt(c.records, sum.records); /* PAGE_DATA squashed */
	ck_assert_msg(strstr(c.stat_text, "guest.type=x86 HVM\n") != NULL, "%s", c.stat_text);
	ck_assert_msg(strstr(c.stat_text, "checkpoints=2\n") != NULL, "%s", c.stat_text);
	ck_assert_msg(strstr(c.stat_text, "xen.version=4.17\n") != NULL, "%s", c.stat_text);
	ck_assert_msg(strstr(c.stat_text, "pfn.range=0x0-0x6\n") != NULL, "%s", c.stat_text);
	ck_assert_msg(strstr(c.stat_text, "emulator.records=2\n") != NULL, "%s", c.stat_text);
	xw_free(&w);
}
END_TEST

/* A large file stream: valid, and page data skipped by seeking. */
START_TEST(test_big_file)
{
	char path[4096];
	const uint64_t size = 256ull << 20;
	static const char *const fmts[] = { "libxc", "libxl", "xl" };
	struct timespec t0, t1;

	for (int wrap = 0; wrap < 3; wrap++) {
		collect c;
		sv_summary sum;
		FILE *f;

		snprintf(path, sizeof(path), "%s/big.%s", test_dir(), fmts[wrap]);
		f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(xen_write_big_hvm(f, size, wrap), 0);
		ck_assert_int_eq(fclose(f), 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(run(path, NULL, &c, false, &sum), SV_EXIT_VALID);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ck_assert_str_eq(sum.format, fmts[wrap]);
		ck_assert_uint_ge(sum.bytes, size - (5u << 20));
		/* Seeks, not reads: far below the time to read 256 MiB. */
		if (!getenv("SV_SANITIZE") || !*getenv("SV_SANITIZE"))
			ck_assert_msg((t1.tv_sec - t0.tv_sec) * 1000000000L +
				      (t1.tv_nsec - t0.tv_nsec) < 500000000L,
				      "verifying a 256 MiB file took too long");
		unlink(path);
	}
}
END_TEST

/*
 * EMULATOR_CONTEXT of qemu-upstream hands its blob to the "qemu" module.
 * Until that module is registered, a probe stands in for it here (in the
 * test only): it reads the first 4 octets and records where its stream
 * started and how long it was; the rest is skipped by the core, and the
 * record's padding is still checked.
 */
static struct { unsigned calls; uint64_t first_off, len; } probe;

static void probe_verify(sv_ctx *cx, sv_stream *in)
{
	unsigned char magic[4];
	uint64_t at = sv_offset(in);

	(void)cx;
	if (probe.calls++ == 0)
		probe.first_off = at;
	probe.len = sv_read(in, magic, sizeof(magic));
	probe.len += sv_skip(in, UINT64_MAX);
	ck_assert_mem_eq(magic, "QEVM", 4);
}

static const sv_format probe_format = {
	.name = "qemu",
	.description = "test probe for nested QEMU streams",
	.verify = probe_verify,
};

START_TEST(test_nested_qemu)
{
	static const char *const names[] = { "valid-libxl-hvm", "bad-libxl-padding",
					     "valid-libxl-colo" };
	/* EMULATOR_CONTEXT records of id 2 in each: after the libxc END, per round. */
	static const unsigned calls[] = { 1, 1, 3 };

	if (sv_format_find("qemu") != NULL) {
		fprintf(stderr, "test_nested_qemu: a qemu module is registered; "
			"the probe is not needed and not used\n");
		return;
	}
	ck_assert(sv_register_format(&probe_format));
	for (size_t k = 0; k < 3; k++) {
		size_t i = (size_t)(by_name(names[k]) - xen_fixtures);
		fx_expect e;
		xw w;
		collect c;
		sv_summary sum;
		const char *path = fixture_file(i, &w, &e);

		memset(&probe, 0, sizeof(probe));
		run(path, "libxl", &c, false, &sum);
		ck_assert_uint_eq(probe.calls, calls[k]);
		ck_assert_uint_eq(probe.len, 9); /* "QEVM", version 3, EOF */
		ck_assert_uint_eq(c.n, e.code ? 1 : 0);
		if (e.code)
			ck_assert(has(&c, e.code, e.off));
		/* The probe's stream starts after the 8-octet emulator header. */
		ck_assert_mem_eq(w.p + probe.first_off - 16, "\x03\0\0\0", 4);
		ck_assert_mem_eq(w.p + probe.first_off, "QEVM", 4);
		xw_free(&w);
	}
}
END_TEST

/*
 * The pfn set against a plain list: runs of ascending neighbours (written
 * into the bitmap when they end), across leaf boundaries, then pfns that
 * descend onto a run, onto its last pfn, onto a run not yet written, and
 * pseudo-random records; every answer must be the exact one.
 */
START_TEST(test_pfnset_exact)
{
	enum { N = 3000 };
	static uint64_t seen[N];
	xen_pfnset set;
	uint64_t state = 42;

	memset(&set, 0, sizeof(set));
	for (unsigned rec = 0; rec < 400; rec++) {
		size_t nseen = 0;
		uint64_t base = (uint64_t)(rec % 5) << 15, pfn;

		xen_pfnset_clear(&set);
		for (unsigned i = 0; i < N; i++) {
			int want = 0, got;

			state = state * 6364136223846793005u + 1442695040888963407u;
			switch (rec % 4) {
			case 0: /* a run across a leaf boundary, then back onto it */
				pfn = i < 2000 ? base + 32000 + i : base + 32000 + (i - 2000) * 2;
				break;
			case 1: /* short runs with gaps, then their last pfns again */
				pfn = i < 1500 ? base + i / 7 * 16 + i % 7 : base + (i - 1500) / 7 * 16 + 6;
				break;
			case 2: /* ascending, then one repeat of the pfn just before */
				pfn = i == N - 1 ? base + 2 * (N - 2) : base + 2 * i;
				break;
			default: /* scattered over a few leaves */
				pfn = base + (state >> 33) % 200000;
				break;
			}
			for (size_t k = 0; k < nseen; k++)
				if (seen[k] == pfn) {
					want = 1;
					break;
				}
			got = xen_pfnset_add(&set, pfn);
			ck_assert_int_eq(got, want);
			if (!want)
				seen[nseen++] = pfn;
		}
	}
	xen_pfnset_free(&set);
}
END_TEST

/*
 * The largest PAGE_DATA record the restore takes (16777215 pfns, 128 MiB):
 * repeats are looked for in bounded memory, whether its pfns are dense
 * (512 bitmap leaves) or scattered past the cap (a warning says from which
 * pfn on they are not checked).  Keeping the pfns took 387 MiB.
 */
START_TEST(test_page_data_memory)
{
	static const struct { uint64_t stride; const char *code; } cases[] = {
		{ 1, NULL },
		{ 1u << 15, "libxc.page-data.pfn-duplicate-unchecked" },
	};
	char path[4096];

	snprintf(path, sizeof(path), "%s/wide.libxc", test_dir());
	for (size_t k = 0; k < 2; k++) {
		struct rusage before, after;
		collect c;
		sv_summary sum;
		FILE *f = fopen(path, "wb");

		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(xen_write_wide_page_data(f, 16777215, cases[k].stride), 0);
		ck_assert_int_eq(fclose(f), 0);
		getrusage(RUSAGE_SELF, &before);
		run(path, "libxc", &c, false, &sum);
		getrusage(RUSAGE_SELF, &after);
		ck_assert_uint_eq(sum.errors, 0);
		ck_assert_uint_eq(c.n, cases[k].code ? 1 : 0);
		if (cases[k].code)
			ck_assert_str_eq(c.d[0].code, cases[k].code);
		/* ru_maxrss in KiB: the bitmap is capped at 8 MiB. */
		if (!getenv("SV_SANITIZE") || !*getenv("SV_SANITIZE"))
			ck_assert_msg(after.ru_maxrss - before.ru_maxrss < 16 * 1024,
				      "peak RSS grew by %ld KiB",
				      after.ru_maxrss - before.ru_maxrss);
		unlink(path);
	}
}
END_TEST

static Suite *xen_suite(void)
{
	Suite *s = suite_create("xen");
	TCase *tc = tcase_create("fixtures");

	tcase_add_loop_test(tc, test_fixture, 0, (int)xen_nfixtures);
	tcase_add_test(tc, test_bids);
	tcase_add_test(tc, test_verbose);
	tcase_add_test(tc, test_nested_qemu);
	suite_add_tcase(s, tc);
	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_mutations);
	tcase_add_test(tc, test_big_file);
	tcase_add_test(tc, test_page_data_memory);
	tcase_add_test(tc, test_pfnset_exact);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xen_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
