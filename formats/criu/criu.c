/*
 * The criu format module: CRIU image files (and, for bidding, dump
 * directories).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/criu/codes.h"
#include "formats/criu/convert/convert.h"
#include "formats/criu/criu.h"
#include "formats/criu/dump/dump.h"
#include "formats/criu/json/json.h"
#include "formats/criu/json/json_common.h"

const sv_code criu_codes[] = {
	CRIU_CODES(SV_CODE_ROW)
	CRIU_DUMP_CODES(SV_CODE_ROW)
	CRIU_JSON_CODES(SV_CODE_ROW)
	CRIU_CRIT_CODES(SV_CODE_ROW)
};
const sv_code *const criu_dump_codes = criu_codes + CRIU_NCODES;
const sv_code *const criu_json_codes = criu_codes + CRIU_NCODES + CD_NCODES;
const sv_code *const criu_crit_codes = criu_codes + CRIU_NCODES + CD_NCODES + CJ_NCODES;

static int criu_bid(const sv_bid_input *in)
{
	if (in->is_dir) {
		struct stat st;

		if (in->dirfd >= 0 && fstatat(in->dirfd, "inventory.img", &st, 0) == 0 &&
		    S_ISREG(st.st_mode))
			return 90;
		/* `criu cpuinfo dump` writes cpuinfo.img and nothing else. */
		if (in->dirfd >= 0 && fstatat(in->dirfd, "cpuinfo.img", &st, 0) == 0 &&
		    S_ISREG(st.st_mode))
			return 70;
		return 0;
	}

	uint64_t id;
	const criu_image_name *named = in->name ? criu_image_match_file(in->name, &id) : NULL;

	if (in->head_len >= 8) {
		uint32_t m = criu_le32(in->head);
		if ((m == CRIU_IMG_COMMON_MAGIC || m == CRIU_IMG_SERVICE_MAGIC) &&
		    criu_image_by_magic(criu_le32(in->head + 4)))
			return 100;
	}
	if (in->head_len >= 4) {
		const criu_image_type *t = criu_image_by_magic(criu_le32(in->head));
		if (t && t->id == CRIU_T_INVENTORY)
			return 100;
		if (t) /* version 1 layout: the type magic alone */
			return named ? 90 : 60;
	}
	if (!named)
		return 0;
	/* A CRIU file name: raw images have no magic to go by. */
	switch (named->type->raw) {
	case CRIU_RAW_IPROUTE:
		return in->head_len >= 4 && criu_le32(in->head) == named->type->raw_magic ? 90 : 40;
	case CRIU_RAW_TMPFS:
		return in->gzip ? 80 : 40;
	case CRIU_RAW_NONE:  /* named like an image, but no magic: still ours */
	case CRIU_RAW_PAGES:
	case CRIU_RAW_TEXT:
	case CRIU_RAW_NETLINK:
		return 40;
	}
	return 0;
}

static void criu_verify(sv_ctx *cx, sv_stream *in)
{
	const char *path = sv_stream_name(in);
	const char *name = NULL;

	if (path && strcmp(path, "-") != 0) {
		const char *slash = strrchr(path, '/');
		name = slash ? slash + 1 : path;
		if (*name == '\0')
			name = NULL;
	}
	criu_verify_image(cx, in, name, NULL, NULL);
}

/*
 * tmpfs-dev-N.tar.gz.img / tmpfs-N.tar.gz.img: the only images of a dump
 * that are gzip-compressed (CRIU extracts them with tar --gzip), and the
 * only ones a dump module reads decompressed.  Members are given raw and
 * raw.c checks a tmpfs image on a decompressed stream, so in a directory
 * they are opened through the core's decompressing open.  (An archive's
 * member cannot be: that needs the core to decompress a member stream.)
 */
static bool is_tmpfs(const sv_member *m)
{
	const criu_image_name *n = criu_image_match_file(m->name, NULL);
	return n && n->type->raw == CRIU_RAW_TMPFS;
}

/*
 * A dump given as members: every member added in the order the source
 * gives them, then the relations.  A directory's inventory.img is added
 * first (CRIU reads it first; its findings come first, as they always
 * have); an archive's members come as they are.
 */
void criu_verify_members(sv_ctx *cx, sv_members *src)
{
	criu_dump *d = criu_dump_new(cx, sv_members_path(src));
	const sv_member *m;
	bool inv_tried = false, inv_added = false;

	if (!d)
		return;
	if (sv_members_is_dir(src)) {
		char *display = NULL;
		const char *path = sv_members_path(src);
		size_t plen = strlen(path);

		while (plen > 1 && path[plen - 1] == '/')
			plen--;
		if (asprintf(&display, "%.*s/inventory.img", (int)plen, path) >= 0) {
			sv_member inv = { .name = "inventory.img", .display = display,
					  .kind = SV_MEMBER_FILE, .size = SV_NONE,
					  .offset = SV_NONE };
			sv_stream *s = sv_members_open_name(cx, src, inv.name, display);

			inv_tried = true;
			if (s) {
				criu_dump_add(d, &inv, s);
				sv_close(s);
				inv_added = true;
			}
			free(display);
		}
	}
	while (!sv_stopped(cx) && (m = sv_members_next(src)) != NULL) {
		sv_stream *s = NULL;

		if (inv_tried && strcmp(m->name, "inventory.img") == 0) {
			if (inv_added)
				continue;
			if (m->kind != SV_MEMBER_SYMLINK) {
				/*
				 * Opening it by name failed and the core said why
				 * (not a regular file): the image exists, unread.
				 */
				sv_member seen = *m;
				seen.kind = SV_MEMBER_FILE;
				criu_dump_add(d, &seen, NULL);
				continue;
			}
		}
		if (m->kind == SV_MEMBER_FILE && criu_dump_wants(d, m))
			s = is_tmpfs(m) && sv_members_dirfd(src) >= 0 ?
			    sv_open_at(cx, sv_members_dirfd(src), m->name, m->display, 0) :
			    sv_member_open(cx, src);
		criu_dump_add(d, m, s);
		sv_close(s);
	}
	criu_dump_finish(d, sv_members_is_dir(src) ? src : NULL);
	criu_dump_free(d);
}

const sv_format sv_format_criu = {
	.name = "criu",
	.description = "CRIU checkpoint images and dump directories (criu dump; CRIU 3.x and 4.x)",
	.codes = criu_codes,
	.ncodes = sizeof(criu_codes) / sizeof(criu_codes[0]),
	.bid = criu_bid,
	.verify = criu_verify,
	.verify_members = criu_verify_members,
	.convert = &criu_crit_converter,
};
