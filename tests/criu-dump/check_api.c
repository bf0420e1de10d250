/*
 * The dump API of formats/criu/dump/dump.h as another module calls it: members
 * added in any order give the same findings, and a dump collected before
 * stands for the `parent` link (an archive's pre-checkpoint).  Two test
 * formats drive it over the fixtures of gen_criu_dump (written here, in
 * SV_TEST_BUILD/api-dumps):
 *
 *   criu-reverse   the members of a directory added last to first
 *   criu-pair      --param parent=DIR --param child=DIR: the parent dump
 *                  collected first, then the child with criu_dump_set_parent()
 *                  and no directory to follow its link through
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamverify.h"
#include "module.h"
#include "formats/criu/dump/dump.h"

static char dumps[4096];

/* ---- the test formats ------------------------------------------------------ */

typedef struct saved_member {
	char *name, *display, *link;
	sv_member_kind kind;
} saved_member;

static void add_all(criu_dump *d, sv_ctx *cx, sv_members *src)
{
	const sv_member *m;

	while ((m = sv_members_next(src)) != NULL) {
		sv_stream *s = m->kind == SV_MEMBER_FILE && criu_dump_wants(d, m) ?
			       sv_member_open(cx, src) : NULL;
		criu_dump_add(d, m, s);
		sv_close(s);
	}
}

static void verify_reverse(sv_ctx *cx, sv_members *src)
{
	saved_member *v = NULL;
	size_t n = 0;
	const sv_member *m;
	criu_dump *d = criu_dump_new(cx, sv_members_path(src));

	while ((m = sv_members_next(src)) != NULL) {
		v = realloc(v, (n + 1) * sizeof(*v));
		ck_assert_ptr_nonnull(v);
		v[n].name = strdup(m->name);
		v[n].display = strdup(m->display);
		v[n].link = m->link ? strdup(m->link) : NULL;
		v[n].kind = m->kind;
		n++;
	}
	for (size_t k = n; k-- > 0;) {
		sv_member mm = { v[k].name, v[k].display, v[k].kind, SV_NONE, v[k].link, SV_NONE };
		sv_stream *s = mm.kind == SV_MEMBER_FILE && criu_dump_wants(d, &mm) ?
			       sv_members_open_name(cx, src, mm.name, mm.display) : NULL;
		criu_dump_add(d, &mm, s);
		sv_close(s);
		free(v[k].name);
		free(v[k].display);
		free(v[k].link);
	}
	free(v);
	criu_dump_finish(d, src);
	criu_dump_free(d);
}

static void verify_pair(sv_ctx *cx, sv_members *src)
{
	const char *pname = sv_param(cx, "parent"), *cname = sv_param(cx, "child");
	sv_members *psrc = pname && strcmp(pname, "-") ? sv_members_open_subdir(cx, src, pname) : NULL;
	sv_members *csrc = sv_members_open_subdir(cx, src, cname);
	criu_dump *p = psrc ? criu_dump_new(cx, sv_members_path(psrc)) : NULL;
	criu_dump *c;

	ck_assert_ptr_nonnull(csrc);
	if (p) {
		add_all(p, cx, psrc);
		criu_dump_finish(p, NULL);
	}
	c = criu_dump_new(cx, sv_members_path(csrc));
	add_all(c, cx, csrc);
	criu_dump_set_parent(c, p);
	criu_dump_finish(c, NULL);
	criu_dump_free(c);
	criu_dump_free(p);
	sv_members_close(psrc);
	sv_members_close(csrc);
}

static int bid_none(const sv_bid_input *in)
{
	(void)in;
	return 0;
}

static const sv_format fmt_reverse = {
	.name = "criu-reverse", .description = "test: members last to first",
	.codes = NULL, .ncodes = 0, .bid = bid_none, .verify_members = verify_reverse,
};
static const sv_format fmt_pair = {
	.name = "criu-pair", .description = "test: a parent dump collected first",
	.codes = NULL, .ncodes = 0, .bid = bid_none, .verify_members = verify_pair,
};

/* ---- running them ------------------------------------------------------------- */

typedef struct findings {
	char **lines;
	size_t n;
	int status;
} findings;

static void on_diag(void *ctx, const sv_diag *d)
{
	findings *f = ctx;
	char *line;

	if (d->severity == SV_NOTE)
		return;
	ck_assert_int_ge(asprintf(&line, "%s %s %s %llu", d->severity == SV_ERROR ? "error" :
				  "warning", d->code->id, d->file,
				  (unsigned long long)d->offset), 0);
	f->lines = realloc(f->lines, (f->n + 1) * sizeof(*f->lines));
	ck_assert_ptr_nonnull(f->lines);
	f->lines[f->n++] = line;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run(const char *path, const char *format, const char *const *params,
		size_t nparams, findings *f)
{
	sv_options opt = { .format = format, .params = params, .nparams = nparams };
	sv_sink sink = { .ctx = f, .diag = on_diag };
	sv_summary sum;

	memset(f, 0, sizeof(*f));
	sv_verify(path, &opt, &sink, &sum);
	f->status = sum.status;
	if (f->n > 1)
		qsort(f->lines, f->n, sizeof(*f->lines), cmp_line);
}

static void drop(findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->lines[i]);
	free(f->lines);
}

static bool has(const findings *f, const char *prefix)
{
	for (size_t i = 0; i < f->n; i++)
		if (strncmp(f->lines[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static void same_in_any_order(const char *path)
{
	findings a, b;

	run(path, "criu", NULL, 0, &a);
	run(path, "criu-reverse", NULL, 0, &b);
	ck_assert_msg(a.status == b.status, "%s: exit %d in order, %d reversed", path,
		      a.status, b.status);
	ck_assert_msg(a.n == b.n, "%s: %zu findings in order, %zu reversed", path, a.n, b.n);
	for (size_t i = 0; i < a.n; i++)
		ck_assert_str_eq(a.lines[i], b.lines[i]);
	drop(&a);
	drop(&b);
}

/* Every fixture and real dump: the same findings (as a set) whatever the member order. */
START_TEST(any_member_order)
{
	char path[4400], line[512];
	const char *data = getenv("SV_DATA");
	FILE *man;
	size_t cases = 0;

	snprintf(path, sizeof(path), "%s/manifest", dumps);
	man = fopen(path, "r");
	ck_assert_ptr_nonnull(man);
	while (fgets(line, sizeof(line), man)) {
		char name[256];

		if (sscanf(line, "%255s", name) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dumps, name);
		same_in_any_order(path);
		cases++;
	}
	fclose(man);
	ck_assert_uint_ge(cases, 60);
	static const char *const real[] = { "sleep", "shtree", "threads", "net", "ghost", "incr-2",
					    "ct-tmpfs", "tcp", "epoll", "chain-3", "zombie" };
	for (size_t k = 0; data && k < sizeof(real) / sizeof(real[0]); k++) {
		snprintf(path, sizeof(path), "%s/criu-real/%s", data, real[k]);
		same_in_any_order(path);
	}
}
END_TEST

/* A pre-dump collected first stands for the incremental dump's parent link. */
START_TEST(parent_from_a_collected_dump)
{
	const char *good[] = { "parent=pre", "child=incr" };
	const char *shortp[] = { "parent=pre-short", "child=incr" };
	const char *none[] = { "parent=-", "child=incr" };
	char want[4400];
	findings f;

	run(dumps, "criu-pair", good, 2, &f);
	ck_assert_msg(f.status == 0 && f.n == 0, "pre + incr: exit %d, %zu findings (%s)",
		      f.status, f.n, f.n ? f.lines[0] : "");
	drop(&f);

	/* The pre-dump holds 1 of the 2 pages incr has in its parent. */
	run(dumps, "criu-pair", shortp, 2, &f);
	snprintf(want, sizeof(want), "error criu.dump.parent.pages %s/incr/pagemap-100.img ", dumps);
	ck_assert_msg(f.status == 1 && f.n == 1 && has(&f, want), "pre-short + incr: exit %d, %s",
		      f.status, f.n ? f.lines[0] : "no finding");
	drop(&f);

	/* No directory to follow the link through, and no dump standing for it. */
	run(dumps, "criu-pair", none, 2, &f);
	snprintf(want, sizeof(want), "error criu.dump.parent.unreadable %s/incr/parent ", dumps);
	ck_assert_msg(f.status == 1 && has(&f, want), "incr alone: exit %d, %s", f.status,
		      f.n ? f.lines[0] : "no finding");
	drop(&f);
}
END_TEST

int main(void)
{
	const char *tb = getenv("SV_TEST_BUILD"), *build = getenv("SV_BUILD");
	char cmd[8400];
	Suite *s = suite_create("criu-dump-api");
	TCase *tc = tcase_create("api");
	SRunner *sr;
	int failed;

	if (!tb || !build) {
		fprintf(stderr, "check_api: run me from make check (SV_BUILD, SV_TEST_BUILD)\n");
		return EXIT_FAILURE;
	}
	snprintf(dumps, sizeof(dumps), "%s/api-dumps", tb);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && rm -rf '%s' && '%s/tests/criu-dump/gen_criu_dump' '%s'",
		 tb, dumps, build, dumps);
	if (system(cmd) != 0) {
		fprintf(stderr, "check_api: %s failed\n", cmd);
		return EXIT_FAILURE;
	}
	if (!sv_register_format(&fmt_reverse) || !sv_register_format(&fmt_pair))
		return EXIT_FAILURE;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, any_member_order);
	tcase_add_test(tc, parent_from_a_collected_dump);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
