/*
 * gen_xen: write Xen migration stream fixtures.
 *
 *   gen_xen --all DIR          every fixture, plus DIR/MANIFEST
 *   gen_xen --demo DIR         demo-valid.libxl and demo-broken.libxl
 *   gen_xen --hvm-size BYTES [--libxl|--xl] [-o FILE|-]
 *                              a valid HVM stream of about BYTES octets
 *                              (1024-page PAGE_DATA records), to stdout
 *                              by default
 *   gen_xen --wide-pfns COUNT STRIDE [-o FILE|-]
 *                              an HVM stream with one PAGE_DATA record of
 *                              COUNT XTAB pfns i * STRIDE (memory tests)
 *
 * MANIFEST lines, tab-separated: file, format, expected code ("valid" when
 * none), offset (decimal, "-" when none), second code, second offset.
 * Bare legacy streams (format libxc-legacy) are listed in MANIFEST.legacy
 * instead, with a seventh column: the guest parameter ("-" when none).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xen_writer.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: gen_xen --all DIR\n"
		"       gen_xen --demo DIR\n"
		"       gen_xen --hvm-size BYTES [--libxl|--xl] [-o FILE|-]\n"
		"       gen_xen --wide-pfns COUNT STRIDE [-o FILE|-]\n");
	return 2;
}

static int write_file(const char *dir, const char *name, const xw *w)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(w->p, 1, w->len, f) != w->len || fclose(f) != 0) {
		fprintf(stderr, "gen_xen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static const fixture *find(const char *name)
{
	for (size_t i = 0; i < xen_nfixtures; i++)
		if (strcmp(xen_fixtures[i].name, name) == 0)
			return &xen_fixtures[i];
	return NULL;
}

static int gen_all(const char *dir)
{
	char path[4096], file[256];
	FILE *man, *man_legacy;
	int rc = 0;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen_xen: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	man = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/MANIFEST.legacy", dir);
	man_legacy = fopen(path, "w");
	if (!man || !man_legacy) {
		fprintf(stderr, "gen_xen: %s: %s\n", path, strerror(errno));
		if (man)
			fclose(man);
		if (man_legacy)
			fclose(man_legacy);
		return 1;
	}
	for (size_t i = 0; i < xen_nfixtures && rc == 0; i++) {
		const fixture *f = &xen_fixtures[i];
		bool legacy = strcmp(f->format, "libxc-legacy") == 0;
		FILE *m = legacy ? man_legacy : man;
		fx_expect e;
		xw w;

		xw_init(&w);
		xen_fixture_build(f, &w, &e);
		xen_fixture_filename(f, file, sizeof(file));
		rc = write_file(dir, file, &w);
		fprintf(m, "%s\t%s\t%s\t", file, f->format, e.code ? e.code : "valid");
		if (e.code)
			fprintf(m, "%" PRIu64, e.off);
		else
			fputs("-", m);
		fprintf(m, "\t%s\t", e.code2 ? e.code2 : "-");
		if (e.code2)
			fprintf(m, "%" PRIu64, e.off2);
		else
			fputs("-", m);
		if (legacy)
			fprintf(m, "\t%s", f->guest ? f->guest : "-");
		fputs("\n", m);
		xw_free(&w);
	}
	if (fclose(man) != 0)
		rc = -1;
	if (fclose(man_legacy) != 0)
		rc = -1;
	return rc ? 1 : 0;
}

static int gen_demo(const char *dir)
{
	static const struct { const char *fixture, *file; } demo[] = {
		{ "valid-libxl-hvm", "demo-valid.libxl" },
		{ "bad-libxl-xs-key-absolute", "demo-broken.libxl" },
	};

	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen_xen: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(demo) / sizeof(demo[0]); i++) {
		fx_expect e;
		xw w;
		int rc;

		xw_init(&w);
		xen_fixture_build(find(demo[i].fixture), &w, &e);
		rc = write_file(dir, demo[i].file, &w);
		xw_free(&w);
		if (rc)
			return 1;
	}
	return 0;
}

/* wrap < 0: the wide PAGE_DATA stream (bytes: pfn count, stride). */
static int gen_big(uint64_t bytes, int wrap, uint64_t stride, const char *out_path)
{
	FILE *out = stdout;
	int rc;

	if (out_path && strcmp(out_path, "-") != 0) {
		out = fopen(out_path, "wb");
		if (!out) {
			fprintf(stderr, "gen_xen: %s: %s\n", out_path, strerror(errno));
			return 1;
		}
	}
	rc = wrap < 0 ? xen_write_wide_page_data(out, (uint32_t)bytes, stride)
		      : xen_write_big_hvm(out, bytes, wrap);
	if (out != stdout && fclose(out) != 0)
		rc = -1;
	if (rc)
		fprintf(stderr, "gen_xen: write failed: %s\n", strerror(errno));
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--all") == 0)
		return gen_all(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--demo") == 0)
		return gen_demo(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "--hvm-size") == 0) {
		char *end;
		uint64_t bytes;
		int wrap = 0;
		const char *out = NULL;

		errno = 0;
		bytes = strtoull(argv[2], &end, 0);
		if (errno || *end || end == argv[2])
			return usage();
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--libxl") == 0)
				wrap = 1;
			else if (strcmp(argv[i], "--xl") == 0)
				wrap = 2;
			else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
				out = argv[++i];
			else
				return usage();
		}
		return gen_big(bytes, wrap, 0, out);
	}
	if (argc >= 4 && strcmp(argv[1], "--wide-pfns") == 0) {
		char *end1, *end2;
		uint64_t count, stride;

		errno = 0;
		count = strtoull(argv[2], &end1, 0);
		stride = strtoull(argv[3], &end2, 0);
		if (errno || *end1 || *end2 || count == 0 || count > 16777215 ||
		    (argc != 4 && (argc != 6 || strcmp(argv[4], "-o") != 0)))
			return usage();
		return gen_big(count, -1, stride, argc == 6 ? argv[5] : NULL);
	}
	return usage();
}
