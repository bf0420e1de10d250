/*
 * Hostile count and size fields of the inputs added after the first
 * hostile suite, under a 64 MiB address-space limit: the pfn count of
 * every page batch of the legacy Xen streams gen_xen writes, and the size
 * field of every tar header of the plain podman archive gen_archive
 * writes, each forged to 0, 1, 0x7fffffff, 0x80000000, 0xffffffff (and
 * for tar the largest sizes its octal and base-256 forms hold).  Each run
 * must end with exit 1 and an error, never a crash, a hang or an
 * allocation past the limit; where the forged value breaks exactly one
 * rule, that rule's code at the field's record is asserted.
 *
 * (QEMU lengths, RAM block counts, capture marker lengths and LZ4 block
 * sizes are forged the same way in the qemu, criu-stream and criu
 * suites, next to their fixtures.)
 */
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "streamverify.h"
#include "hostile.h"

static char work_dir[4096], xen_dir[4200], archive_dir[4200];

/* ---- helpers ----------------------------------------------------------- */

typedef struct outcome {
	int status;
	unsigned long errors;
	char code[64];           /* a diagnostic of this code is looked for */
	uint64_t code_offset;    /* ... and its offset, when found */
	bool code_seen;
	uint64_t batches;        /* the legacy.page_batches figure */
} outcome;

static void on_diag(void *ctx, const sv_diag *d)
{
	outcome *o = ctx;

	if (!o->code_seen && strcmp(d->code->id, o->code) == 0) {
		o->code_seen = true;
		o->code_offset = d->offset;
	}
}

static void on_record(void *ctx, const sv_record_info *r)
{
	(void)ctx;
	(void)r;
}

static void on_stat(void *ctx, const sv_stat *st)
{
	outcome *o = ctx;

	if (strcmp(st->key, "legacy.page_batches") == 0)
		o->batches = st->number;
}

/*
 * Verify as format (param "KEY=VALUE" or NULL) into o (o->code: the code
 * looked for): the file at path, or the n bytes at buf when buf is given.
 */
static void verify_into(const char *path, const unsigned char *buf, size_t n,
			const char *format, const char *param, outcome *o)
{
	const char *params[1] = { param };
	sv_options opt = { .format = format, .params = params, .nparams = param ? 1 : 0 };
	sv_sink sink = { o, on_diag, on_record, on_stat, NULL };
	sv_summary sum;

	o->code_seen = false;
	o->status = buf ? sv_verify_buffer(buf, n, path, &opt, &sink, &sum)
			: sv_verify(path, &opt, &sink, &sum);
	o->errors = sum.errors;
}

static const uint32_t hostile_u32[] = { 0, 1, 0x7fffffff, 0x80000000u, 0xffffffffu };
#define NHOSTILE (sizeof(hostile_u32) / sizeof(hostile_u32[0]))

/* ---- legacy Xen streams: page batch counts ------------------------------------ */

/*
 * A legacy batch starts with its count, a native (little-endian) int: a
 * count above 1024 is libxc-legacy.batch.too-large at the batch; 0 ends
 * the page data and a negative count is a chunk of another kind, so the
 * words after it are read as what they are not: an error too.  The
 * batches are found as the places where a count of 1025 is that finding,
 * and must be as many as the stream's legacy.page_batches.
 */
START_TEST(legacy_batch_counts_forged)
{
	char manifest[4400], *save = NULL;
	size_t mlen;
	char *text;
	unsigned runs = 0, streams = 0;

	snprintf(manifest, sizeof(manifest), "%s/MANIFEST.legacy", xen_dir);
	text = (char *)slurp(manifest, &mlen);
	limit_address_space();
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char file[256], format[32], code[96], off[32], code2[96], off2[32], guest[16];
		char path[4600], forged[4600], param[32];
		const char *gp;
		outcome o = { .code = "libxc-legacy.batch.too-large" };
		uint64_t batches[64];
		size_t n, nb = 0;
		unsigned char *p;

		if (sscanf(line, "%255s %31s %95s %31s %95s %31s %15s", file, format, code, off,
			   code2, off2, guest) != 7 || strcmp(code, "valid") != 0)
			continue;
		snprintf(param, sizeof(param), "guest=%s", guest);
		gp = strcmp(guest, "-") ? param : NULL;
		snprintf(path, sizeof(path), "%s/%s", xen_dir, file);
		verify_into(path, NULL, 0, "libxc-legacy", gp, &o);
		ck_assert_msg(o.status == SV_EXIT_VALID, "%s: exit %d unforged", file, o.status);
		ck_assert_msg(o.batches > 0 && o.batches <= 64, "%s: %" PRIu64 " batches", file,
			      o.batches);
		p = slurp(path, &n);
		for (size_t at = 0; at + 4 <= n; at += 4) {
			uint32_t was, v = 1025;
			outcome f = { .code = "libxc-legacy.batch.too-large" };

			memcpy(&was, p + at, 4);
			memcpy(p + at, &v, 4);
			verify_into(path, p, n, "libxc-legacy", gp, &f);
			memcpy(p + at, &was, 4);
			if (f.code_seen && f.code_offset == at) {
				ck_assert_uint_lt(nb, 64);
				batches[nb++] = at;
			}
		}
		/* the batches, and the chunks of other kinds read from the same int */
		ck_assert_msg(nb >= o.batches, "%s: %zu batch counts found, %" PRIu64 " batches",
			      file, nb, o.batches);
		snprintf(forged, sizeof(forged), "%s/forged-%s", work_dir, file);
		for (size_t b = 0; b < nb; b++) {
			uint64_t at = batches[b];
			uint32_t was;

			memcpy(&was, p + at, 4);
			for (size_t k = 0; k < NHOSTILE; k++) {
				uint32_t v = hostile_u32[k];
				outcome f = { .code = "libxc-legacy.batch.too-large" };

				if (v == was)
					continue;
				memcpy(p + at, &v, 4);
				spew(forged, p, n);
				memcpy(p + at, &was, 4);
				verify_into(forged, NULL, 0, "libxc-legacy", gp, &f);
				/*
				 * -1 (enable verify mode) for -9 (last checkpoint):
				 * both are markers without a body, a legal swap.
				 */
				if (v == 0xffffffffu && was == 0xfffffff7u) {
					ck_assert_int_eq(f.status, SV_EXIT_VALID);
					runs++;
					continue;
				}
				ck_assert_msg(f.status == 1 && f.errors > 0,
					      "%s: batch at %" PRIu64 " counting %#" PRIx32
					      ": exit %d, %lu errors", file, at, v, f.status, f.errors);
				if (v > 1024 && v <= INT32_MAX)
					ck_assert_msg(f.code_seen && f.code_offset == at,
						      "%s: batch at %" PRIu64 " counting %#" PRIx32
						      ": no batch.too-large there", file, at, v);
				runs++;
			}
		}
		unlink(forged);
		free(p);
		streams++;
	}
	free(text);
	ck_assert_uint_ge(streams, 2);
	ck_assert_uint_ge(runs, 20);
}
END_TEST

/* ---- tar: member sizes ---------------------------------------------------------- */

/* A ustar header's checksum: its bytes summed, the field read as spaces. */
static void tar_checksum(unsigned char *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/* The 12-octet size field: 11 octal digits and a NUL, or base-256 (POSIX
 * leaves the form of larger sizes to the implementation; GNU tar and
 * libarchive set the top bit and store the value big-endian). */
static void tar_size(unsigned char *h, uint64_t v, bool base256)
{
	if (base256) {
		h[124] = 0x80;
		for (int i = 0; i < 11; i++)
			h[125 + i] = (unsigned char)(i < 3 ? 0 : v >> (8 * (10 - i)));
	} else {
		char buf[16];
		snprintf(buf, sizeof(buf), "%011" PRIo64, v);
		memcpy(h + 124, buf, 11);
		h[135] = '\0';
	}
}

/*
 * Every header of the plain podman archive (its layout file gives each
 * header's offset) with its size forged, checksum made right: shorter
 * sizes make the rest of the member read as headers, longer ones run past
 * the members after it and the archive's end.
 */
START_TEST(tar_member_sizes_forged)
{
	char layout[4400], tar[4400], forged[4400];
	size_t llen, n;
	char *text, *save = NULL;
	unsigned char *p;
	unsigned runs = 0, members = 0;
	outcome o = { .code = "-" };

	snprintf(layout, sizeof(layout), "%s/podman-none.layout", archive_dir);
	snprintf(tar, sizeof(tar), "%s/podman-none.tar", archive_dir);
	snprintf(forged, sizeof(forged), "%s/forged.tar", work_dir);
	text = (char *)slurp(layout, &llen);
	p = slurp(tar, &n);
	verify_into(tar, NULL, 0, "container", NULL, &o);
	ck_assert_msg(o.status == SV_EXIT_VALID, "podman-none.tar: exit %d unforged", o.status);
	limit_address_space();
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long hdr, data, size;
		char name[4096];
		unsigned char orig[512];
		/* what a size may be: the hostile values, the largest of each form */
		const struct { uint64_t v; bool base256; } sizes[] = {
			{ hostile_u32[0], false }, { hostile_u32[1], false },
			{ hostile_u32[2], false }, { hostile_u32[3], false },
			{ hostile_u32[4], false }, { 077777777777ull, false },
			{ INT64_MAX, true },
		};

		/* "HEADER DATA SIZE NAME"; the last line ("-") is the archive's end */
		if (sscanf(line, "%llu %llu %llu %4095s", &hdr, &data, &size, name) != 4 ||
		    strcmp(name, "-") == 0)
			continue;
		ck_assert_uint_le(hdr + 512, n);
		/*
		 * A directory's size is no length of data that follows
		 * (POSIX ustar: it may say how much space to allocate; libarchive
		 * and GNU tar read no data for one): forging it breaks nothing.
		 */
		if (p[hdr + 156] == '5')
			continue;
		memcpy(orig, p + hdr, 512);
		members++;
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			outcome f = { .code = "-" };

			if (sizes[k].v == size)
				continue;
			tar_size(p + hdr, sizes[k].v, sizes[k].base256);
			tar_checksum(p + hdr);
			spew(forged, p, n);
			memcpy(p + hdr, orig, 512);
			verify_into(forged, NULL, 0, "container", NULL, &f);
			/*
			 * 0 or 1 can make another well-formed archive (an empty
			 * member that swallows an optional one after it): any
			 * verdict but a failure to verify.  Larger sizes run past
			 * the archive's end.
			 */
			if (sizes[k].v <= 1) {
				ck_assert_msg(f.status == 0 || (f.status == 1 && f.errors > 0),
					      "%s (header at %llu) sized %" PRIu64 ": exit %d", name,
					      hdr, sizes[k].v, f.status);
				runs++;
				continue;
			}
			ck_assert_msg(f.status == 1 && f.errors > 0,
				      "%s (header at %llu, %llu bytes) sized %#" PRIx64
				      ": exit %d, %lu errors", name, hdr, size, sizes[k].v,
				      f.status, f.errors);
			runs++;
		}
	}
	unlink(forged);
	free(p);
	free(text);
	ck_assert_uint_ge(members, 10);
	ck_assert_uint_ge(runs, 60);
}
END_TEST

static void run(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "check_hostile_counts: %s failed\n", cmd);
		exit(EXIT_FAILURE);
	}
}

int main(void)
{
	const char *build = getenv("SV_BUILD"), *tb = getenv("SV_TEST_BUILD");
	const char *data = getenv("SV_DATA");
	char cmd[20000];
	SRunner *sr;
	Suite *s = suite_create("hostile-counts");
	TCase *tc = tcase_create("forged-counts");
	int failed;

	if (!build || !tb || !data) {
		fprintf(stderr, "check_hostile_counts: run me from make check "
				"(SV_BUILD, SV_TEST_BUILD, SV_DATA)\n");
		return EXIT_FAILURE;
	}
	snprintf(work_dir, sizeof(work_dir), "%s/counts", tb);
	snprintf(xen_dir, sizeof(xen_dir), "%s/xen", work_dir);
	snprintf(archive_dir, sizeof(archive_dir), "%s/archives", work_dir);
	snprintf(cmd, sizeof(cmd),
		 "rm -rf '%s' && mkdir -p '%s' && '%s/tests/xen/gen_xen' --all '%s' >/dev/null && "
		 "'%s/tests/archive/gen_archive' '%s' '%s/podman/c1.tar.zst' '%s/criu-real' >/dev/null",
		 work_dir, work_dir, build, xen_dir, build, archive_dir, data, data);
	run(cmd);

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, legacy_batch_counts_forged);
	tcase_add_test(tc, tar_member_sizes_forged);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
