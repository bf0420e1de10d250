/*
 * The criu format module: CRIU image files (and, for bidding, dump
 * directories).
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/criu/codes.h"
#include "formats/criu/convert.h"
#include "formats/criu/criu.h"
#include "formats/criu/dump.h"
#include "formats/criu/json.h"
#include "formats/criu/json_common.h"

const sv_code criu_codes[] = {
	CRIU_CODES(SV_CODE_ROW)
	CRIU_DUMP_CODES(SV_CODE_ROW)
	CRIU_JSON_CODES(SV_CODE_ROW)
	CRIU_CRIT_CODES(SV_CODE_ROW)
};
const sv_code *const criu_dump_codes = criu_codes + CRIU_NCODES;
const sv_code *const criu_json_codes = criu_codes + CRIU_NCODES + CD_NCODES;
const sv_code *const criu_crit_codes = criu_codes + CRIU_NCODES + CD_NCODES + CJ_NCODES;

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

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
		uint32_t m = le32(in->head);
		if ((m == CRIU_IMG_COMMON_MAGIC || m == CRIU_IMG_SERVICE_MAGIC) &&
		    criu_image_by_magic(le32(in->head + 4)))
			return 100;
	}
	if (in->head_len >= 4) {
		const criu_image_type *t = criu_image_by_magic(le32(in->head));
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
		return in->head_len >= 4 && le32(in->head) == named->type->raw_magic ? 90 : 40;
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

const sv_format sv_format_criu = {
	.name = "criu",
	.description = "CRIU checkpoint images (criu dump, CRIU 3.x)",
	.codes = criu_codes,
	.ncodes = sizeof(criu_codes) / sizeof(criu_codes[0]),
	.bid = criu_bid,
	.verify = criu_verify,
	.verify_dir = criu_verify_dump,
	.convert = &criu_crit_converter,
};
