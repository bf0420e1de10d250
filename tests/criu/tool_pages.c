/*
 * tool_pages DIR [PAGEMAP]: verifies DIR/PAGEMAP (pagemap-1.img), then DIR/pages-<pages_id>.img
 * against it with the image-version-3 pages check (criu_pages_plan), the
 * way the dump module is to call it, and prints one line per finding:
 * CODE, file name, offset (or "-").  Exit status: that of sv_verify().
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamverify.h"
#include "module.h"
#include "formats/criu/criu.h"
#include "formats/criu/image/raw.h"

typedef struct collect {
	criu_pages_plan *plan;
	uint32_t pages_id;
	bool oom;
} collect;

static int on_entry(void *arg, const criu_entry *e)
{
	collect *c = arg;

	if (e->role == CRIU_ENTRY_PAGEMAP_HEAD)
		c->pages_id = ((const PagemapHead *)e->msg)->pages_id;
	else if (e->role == CRIU_ENTRY_MAIN &&
		 !criu_pages_plan_add(c->plan, e->index, (const PagemapEntry *)e->msg))
		c->oom = true;
	return c->oom;
}

static const char *pagemap_name = "pagemap-1.img";

static void verify_dir(sv_ctx *cx, int dirfd, const char *path)
{
	char pm_path[4200], pages_name[64], pages_path[4200];
	collect c = { criu_pages_plan_new(), 0, false };
	criu_visitor v = { &c, on_entry, NULL };
	criu_image_info info;

	if (!c.plan)
		return;
	snprintf(pm_path, sizeof(pm_path), "%s/%s", path, pagemap_name);
	sv_stream *s = sv_open_at(cx, dirfd, pagemap_name, pm_path, SV_OPEN_RAW);
	if (!s)
		goto out;
	sv_set_file(cx, pm_path);
	criu_verify_image(cx, s, pagemap_name, &v, &info);
	sv_close(s);
	if (c.oom || info.pages_bytes == UINT64_MAX)
		goto out; /* a bad pagemap leaves the payloads unknown */
	if (criu_pages_plan_bytes(c.plan) != info.pages_bytes) {
		fprintf(stderr, "tool_pages: plan %" PRIu64 " bytes, pagemap %" PRIu64 "\n",
			criu_pages_plan_bytes(c.plan), info.pages_bytes);
		exit(3);
	}
	snprintf(pages_name, sizeof(pages_name), "pages-%" PRIu32 ".img", c.pages_id);
	snprintf(pages_path, sizeof(pages_path), "%s/%s", path, pages_name);
	s = sv_open_at(cx, dirfd, pages_name, pages_path, SV_OPEN_RAW);
	if (!s)
		goto out;
	sv_set_file(cx, pages_path);
	criu_verify_pages_plan(cx, s, c.plan, &info);
	sv_close(s);
out:
	sv_set_file(cx, NULL);
	criu_pages_plan_free(c.plan);
}

static int no_bid(const sv_bid_input *in)
{
	(void)in;
	return 0;
}

static const sv_format pages_test = {
	.name = "criu-pages-test",
	.description = "test driver of the image-version-3 pages check",
	.bid = no_bid,
	.verify_dir = verify_dir,
};

static void print_diag(void *ctx, const sv_diag *d)
{
	const char *base = d->file ? strrchr(d->file, '/') : NULL;

	(void)ctx;
	if (d->offset == SV_NONE)
		printf("%s\t%s\t-\n", d->code->id, base ? base + 1 : "-");
	else
		printf("%s\t%s\t%" PRIu64 "\n", d->code->id, base ? base + 1 : "-", d->offset);
}

int main(int argc, char **argv)
{
	sv_options opt = { .format = "criu-pages-test" };
	sv_sink sink = { NULL, print_diag, NULL, NULL, NULL };

	if (argc != 2 && argc != 3) {
		fputs("usage: tool_pages DIR [PAGEMAP]\n", stderr);
		return 2;
	}
	if (argc == 3)
		pagemap_name = argv[2];
	if (!sv_register_format(&pages_test))
		return 2;
	return sv_verify(argv[1], &opt, &sink, NULL);
}
