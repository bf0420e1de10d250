/*
 * gen_qemu: write QEMU migration stream fixtures.
 *
 *   gen_qemu --all DIR            every fixture, plus DIR/MANIFEST
 *   gen_qemu --demo DIR           demo-valid.qemu and demo-broken.qemu
 *   gen_qemu --size BYTES [--pipe] [-o FILE|-]
 *                                 a valid precopy stream with BYTES of RAM
 *                                 in full pages; to a file the page
 *                                 contents are holes (a sparse file), with
 *                                 --pipe (or to stdout) they are written
 *
 * MANIFEST lines, tab-separated: file, expected code ("valid" when none),
 * offset (decimal, "-" when none), second code, second offset.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qemu_writer.h"

static int usage(void)
{
	fprintf(stderr, "usage: gen_qemu --all DIR\n"
			"       gen_qemu --demo DIR\n"
			"       gen_qemu --size BYTES [--pipe] [-o FILE|-]\n");
	return 2;
}

static int write_file(const char *dir, const char *name, const qw *w)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(w->p, 1, w->len, f) != w->len || fclose(f) != 0) {
		fprintf(stderr, "gen_qemu: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int gen_one(const char *dir, const qfixture *f, const char *as, FILE *man)
{
	char file[256];
	fx_expect e;
	qw w;
	int rc;

	qw_init(&w);
	qemu_fixture_build(f, &w, &e);
	snprintf(file, sizeof(file), "%s.qemu", as ? as : f->name);
	rc = write_file(dir, file, &w);
	if (man) {
		fprintf(man, "%s\t%s\t", file, e.code ? e.code : "valid");
		if (e.code)
			fprintf(man, "%" PRIu64, e.off);
		else
			fputc('-', man);
		fprintf(man, "\t%s\t", e.code2 ? e.code2 : "-");
		if (e.code2)
			fprintf(man, "%" PRIu64 "\n", e.off2);
		else
			fprintf(man, "-\n");
	}
	qw_free(&w);
	return rc;
}

static int gen_dir(const char *dir, bool demo)
{
	char path[4096];
	FILE *man = NULL;
	int rc = 0;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen_qemu: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (demo)
		return gen_one(dir, qemu_fixture_find("valid-precopy"), "demo-valid", NULL) ||
		       gen_one(dir, qemu_fixture_find("bad-device-short"), "demo-broken", NULL);
	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	man = fopen(path, "w");
	if (!man) {
		fprintf(stderr, "gen_qemu: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < qemu_nfixtures && rc == 0; i++)
		rc = gen_one(dir, &qemu_fixtures[i], NULL, man);
	if (fclose(man) != 0)
		rc = -1;
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *out = "-";
	uint64_t size = 0;
	bool pipe = false;
	FILE *f;
	int rc;

	if (argc == 3 && strcmp(argv[1], "--all") == 0)
		return gen_dir(argv[2], false);
	if (argc == 3 && strcmp(argv[1], "--demo") == 0)
		return gen_dir(argv[2], true);
	if (argc < 3 || strcmp(argv[1], "--size") != 0)
		return usage();
	size = strtoull(argv[2], NULL, 0);
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--pipe") == 0)
			pipe = true;
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else
			return usage();
	}
	if (strcmp(out, "-") == 0) {
		f = stdout;
		pipe = true;
	} else {
		f = fopen(out, "wb");
		if (!f) {
			fprintf(stderr, "gen_qemu: %s: %s\n", out, strerror(errno));
			return 1;
		}
	}
	rc = qemu_write_big(f, size, !pipe);
	if (fflush(f) != 0 || (f != stdout && fclose(f) != 0))
		rc = -1;
	if (rc) {
		fprintf(stderr, "gen_qemu: write failed: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
