/*
 * The criu module's converter (JSON from json_*.c, the text view from
 * text.c) and image version conversion, `streamverify convert --to
 * VERSION IN -o OUT` (convert.h).
 *
 * Image version 1 and 1.1 differ only in the head magic that 1.1 puts
 * before every type magic but inventory's, and in inventory's img_version
 * (1 or 2).  A conversion therefore copies each image through a buffer,
 * writing the new head and, for inventory, the entry with img_version
 * patched in place (both values are one-octet varints, so nothing else
 * moves): there and back gives the original bytes.  The input is verified
 * first and is not converted unless it verifies without errors; OUT (a
 * file, or a directory for a dump) appears only when everything is
 * written.
 *
 * Image version 3 (compressed pages) also changes inventory's fields, the
 * pagemap entries and the pages files: those go through convert_pages.c,
 * a pagemap together with its pages file, for whole dump directories only.
 * Only the dump's own level is converted: PE_PARENT pages stay in the
 * parent dump, which keeps its version.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/criu/convert/convert.h"
#include "formats/criu/convert/convert_pages.h"
#include "formats/criu/convert/coredump.h"
#include "formats/criu/criu.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/json/json.h"
#include "formats/criu/json/json_common.h"

/* ---- decode / encode / info ------------------------------------------------- */

static bool crit_decode(sv_ctx *cx, sv_stream *in, FILE *out, unsigned flags)
{
	if (flags & (SV_CONV_TEXT | SV_CONV_NICE))
		return criu_text_decode(cx, in, out, flags);
	return criu_converter.decode(cx, in, out, flags);
}

static bool crit_encode(sv_ctx *cx, sv_stream *in, FILE *out)
{
	size_t avail;
	const unsigned char *p = sv_peek(in, SV_PEEK_MAX, &avail);

	if (criu_text_detect(p, avail))
		return criu_text_encode(cx, in, out);
	return criu_converter.encode(cx, in, out);
}

static bool crit_info(sv_ctx *cx, sv_stream *in, FILE *out)
{
	return criu_converter.info(cx, in, out);
}

/* ---- version conversion: one image ------------------------------------------ */

static bool put_le32(FILE *out, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	return fwrite(b, 1, 4, out) == 4;
}

/*
 * Set inventory_entry.img_version (field 1) in the packed message to
 * *version, in place (0, in a pre-dump, is kept; version NULL: only
 * read).  Returns the old value, or -1 if the field is not a one-octet
 * varint.
 */
static int patch_img_version(unsigned char *buf, size_t n, const uint32_t *version)
{
	size_t i = 0;

	while (i < n) {
		uint64_t tag, v;
		if (!criu_cv_varint(buf, n, &i, &tag))
			return -1;
		switch (tag & 7) {
		case 0:
			if (tag >> 3 == 1) {
				int old = i < n ? buf[i] : 0x80;
				if (old & 0x80)
					return -1;
				/* A pre-dump's 0 says no version: it stays. */
				if (old && version)
					buf[i] = (unsigned char)*version;
				return old;
			}
			if (!criu_cv_varint(buf, n, &i, &v))
				return -1;
			break;
		case 1:
			i += 8;
			break;
		case 2:
			if (!criu_cv_varint(buf, n, &i, &v) || v > n - i)
				return -1;
			i += (size_t)v;
			break;
		case 5:
			i += 4;
			break;
		default:
			return -1;
		}
	}
	return -1;
}

typedef struct copy_out {
	FILE *out;
	bool failed;
} copy_out;

static int copy_piece(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	copy_out *c = arg;

	(void)off;
	if (n && fwrite(p, 1, n, c->out) != n) {
		c->failed = true;
		return 1;
	}
	return 0;
}

/* What a conversion makes. */
typedef struct conv {
	uint32_t to;        /* CRIU_IMAGES_V1, _V1_1 or _V1_2 */
	bool repack;        /* to or from version 3: pages are (de)compressed */
	criu_v3_mode mode;  /* how version 3 stores them, when to is 3 */
	int in_dirfd, out_dirfd;
	uint32_t *done;     /* pages ids written with their pagemap */
	size_t ndone, capdone;
	criu_cv_pages *pages;
} conv;

/*
 * Read the magic of the image on in and write the one of version `to`;
 * *type gets the image type (NULL for a raw image, whose bytes are left
 * unread).
 */
static bool convert_magic(sv_stream *in, FILE *out, uint32_t to, const criu_image_type **type)
{
	unsigned char b[8];
	size_t avail;
	const unsigned char *head = sv_peek(in, 8, &avail);
	const criu_image_type *t = NULL;
	uint32_t m0 = avail >= 4 ? criu_le32(head) : 0;
	bool has_head = m0 == CRIU_IMG_COMMON_MAGIC || m0 == CRIU_IMG_SERVICE_MAGIC, ok = true;

	if (avail >= 8 && has_head)
		t = criu_image_by_magic(criu_le32(head + 4));
	else if (avail >= 4 && !has_head)
		t = criu_image_by_magic(m0);
	if (t && t->layout == CRIU_LAYOUT_RAW)
		t = NULL;
	if (t) {
		sv_read(in, b, has_head ? 8 : 4);
		if (to != CRIU_IMAGES_V1 && t->id != CRIU_T_INVENTORY &&
		    !put_le32(out, t->flags & CRIU_IMG_SERVICE ? CRIU_IMG_SERVICE_MAGIC
							       : CRIU_IMG_COMMON_MAGIC))
			ok = false;
		if (!put_le32(out, t->magic))
			ok = false;
	}
	*type = t;
	return ok;
}

/* The inventory entry on in, rewritten for cv (the magic is done). */
static bool convert_inventory(sv_ctx *cx, sv_stream *in, FILE *out, const conv *cv)
{
	unsigned char sz[4];
	if (!sv_need(cx, in, sz, 4, "the inventory entry's size"))
		return false;
	uint32_t n = criu_le32(sz);
	size_t got, outn = n;
	unsigned char *msg = n <= CJ_ENTRY_MAX ? sv_read_alloc(in, n, &got) : NULL, *conv_msg = msg;
	int old = msg ? patch_img_version(msg, n, &cv->to) : -1;
	bool ok = true;

	if (old < 0 || (old == 0 && cv->to != CRIU_IMAGES_V1_1)) {
		if (old < 0)
			sv_report(cx, CRIT_CODE(CV_INPUT), 4, "the inventory entry's img_version "
				  "cannot be rewritten in place");
		else
			sv_report(cx, CRIT_CODE(CV_VERSION), 4, "a pre-dump (img_version 0) "
				  "has only the version 1.1 layout");
		free(msg);
		return false;
	}
	if (old == (int)CRIU_IMAGES_V1_2 && cv->to != CRIU_IMAGES_V1_2 && !cv->repack) {
		sv_report(cx, CRIT_CODE(CV_VERSION), 4, "an image version 3 inventory goes with "
			  "compressed pages: convert the dump directory, not one image");
		free(msg);
		return false;
	}
	if (cv->repack && !(conv_msg = criu_cv_inventory(msg, n, cv->to, &cv->mode, &outn))) {
		sv_report(cx, CRIT_CODE(CV_INPUT), 4, "the inventory entry cannot be rewritten");
		free(msg);
		return false;
	}
	if (!put_le32(out, (uint32_t)outn) || fwrite(conv_msg, 1, outn, out) != outn)
		ok = false;
	if (conv_msg != msg)
		free(conv_msg);
	free(msg);
	return ok;
}

static bool pages_done(const conv *cv, uint32_t id)
{
	for (size_t i = 0; i < cv->ndone; i++)
		if (cv->done[i] == id)
			return true;
	return false;
}

/*
 * Copy the image on in to out in image version cv->to.  Raw images (no
 * magic of an entry image) are copied as they are; with cv->repack a
 * pagemap takes its pages file along (convert_pages.c).  The input has
 * been verified: its framing is sound.
 */
static bool convert_image(sv_ctx *cx, sv_stream *in, FILE *out, conv *cv)
{
	copy_out c = { out, false };
	const criu_image_type *t;

	if (!convert_magic(in, out, cv->to, &t))
		c.failed = true;
	if (t && t->id == CRIU_T_INVENTORY && !convert_inventory(cx, in, out, cv))
		return false;
	if (t && t->id == CRIU_T_PAGEMAP && cv->repack) {
		uint32_t id;
		if (cv->ndone == cv->capdone) {
			size_t cap = cv->capdone ? 2 * cv->capdone : 16;
			uint32_t *q = realloc(cv->done, cap * sizeof(*q));
			if (!q) {
				sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "out of memory");
				return false;
			}
			cv->done = q;
			cv->capdone = cap;
		}
		if (!criu_cv_pagemap(cx, cv->pages, in, out, cv->in_dirfd, cv->out_dirfd,
				     cv->to == CRIU_IMAGES_V1_2, &cv->mode, &id))
			return false;
		cv->done[cv->ndone++] = id;
	}
	sv_scan(in, UINT64_MAX, copy_piece, &c);
	if (c.failed || fflush(out) != 0 || ferror(out)) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot write the converted image");
		return false;
	}
	return true;
}

/* "1", "1.1" and "3" (also as inventory's numbers 2 and CRIU's "1.2"); 0 when unknown. */
static uint32_t target_version(sv_ctx *cx)
{
	const char *to = sv_param(cx, "to");

	if (!to) {
		sv_report(cx, CRIT_CODE(CV_VERSION), SV_NONE, "no version to convert to (--to)");
		return 0;
	}
	if (!strcmp(to, "1"))
		return CRIU_IMAGES_V1;
	if (!strcmp(to, "1.1") || !strcmp(to, "2"))
		return CRIU_IMAGES_V1_1;
	if (!strcmp(to, "3") || !strcmp(to, "1.2"))
		return CRIU_IMAGES_V1_2;
	sv_report(cx, CRIT_CODE(CV_VERSION), SV_NONE, "unknown image version '%s' (1, 1.1 or 3)", to);
	return 0;
}

/*
 * How version 3 is to store pages: per page (CRIU's --compress), or in
 * regions of --compress-region bytes.  False after a report.
 */
static bool target_mode(sv_ctx *cx, criu_v3_mode *m)
{
	const char *region = sv_param(cx, "compress-region");

	*m = (criu_v3_mode){ 1, 1 };
	if (region && !criu_cv_region(region, m)) {
		sv_report(cx, CRIT_CODE(CV_VERSION), SV_NONE, "--compress-region '%s' is not a "
			  "multiple of 4096 bytes from 4096 to 4M", region);
		return false;
	}
	return true;
}

static const char *out_param(sv_ctx *cx)
{
	const char *out = sv_param(cx, "out");

	if (!out || !*out)
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "no output named (-o)");
	return out && *out ? out : NULL;
}

/* A temporary file beside path, for a result renamed into place when whole. */
static FILE *temp_beside(sv_ctx *cx, const char *path, char **tmp)
{
	int fd;
	FILE *f;

	if (asprintf(tmp, "%s.XXXXXX", path) < 0) {
		*tmp = NULL;
		return NULL;
	}
	fd = mkstemp(*tmp);
	if (fd < 0 || !(f = fdopen(fd, "w+b"))) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot create %s: %s", *tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(*tmp);
		}
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	return f;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* One image: verify it, then convert it from a second reading of the file. */
static void convert_one(sv_ctx *cx, sv_stream *in)
{
	const char *path = sv_stream_name(in), *out_path = out_param(cx);
	uint32_t to = target_version(cx);
	unsigned long errors = sv_error_count(cx);
	criu_image_info info;
	struct stat si, so;
	char *tmp;

	if (!to || !out_path)
		return;
	if (to == CRIU_IMAGES_V1_2 || sv_param(cx, "compress-region")) {
		sv_report(cx, CRIT_CODE(CV_VERSION), SV_NONE, "image version 3 compresses a pagemap's "
			  "pages file along with it: convert the dump directory, not one image");
		return;
	}
	if (!path || !strcmp(path, "<stdin>") || !strcmp(path, "-")) {
		sv_report(cx, CRIT_CODE(CV_INPUT), SV_NONE, "convert reads a named image or dump "
			  "directory, not standard input");
		return;
	}
	if (stat(path, &si) == 0 && stat(out_path, &so) == 0 && si.st_dev == so.st_dev &&
	    si.st_ino == so.st_ino) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "refusing to write over the input");
		return;
	}
	criu_verify_image(cx, in, base_name(path), NULL, &info);
	if (sv_error_count(cx) != errors || !info.complete) {
		sv_report(cx, CRIT_CODE(CV_INPUT), SV_NONE, "not converted: the image has errors");
		return;
	}
	conv cv = { .to = to };
	sv_stream *again = sv_open_at(cx, AT_FDCWD, path, path, SV_OPEN_RAW);
	if (!again)
		return;
	FILE *out = temp_beside(cx, out_path, &tmp);
	bool ok = out && convert_image(cx, again, out, &cv);
	sv_close(again);
	if (out && fclose(out) != 0)
		ok = false;
	if (ok && rename(tmp, out_path) != 0) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot write %s: %s", out_path, strerror(errno));
		ok = false;
	}
	if (tmp && !ok)
		unlink(tmp);
	free(tmp);
}

/* ---- version conversion: a dump directory ------------------------------------- */

/* Remove a temporary directory of regular files and links (not recursing). */
static void remove_temp_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		int fd = dirfd(d);
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(fd, de->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

/* Copy or convert the current member into dirfd under its name. */
static bool convert_member(sv_ctx *cx, sv_members *m, const sv_member *mem, conv *cv)
{
	int outfd = cv->out_dirfd;
	unsigned long id;
	char tail[8];

	/* A pages file already written along with its pagemap. */
	if (cv->repack && mem->kind == SV_MEMBER_FILE &&
	    sscanf(mem->name, "pages-%lu.i%7s", &id, tail) == 2 && !strcmp(tail, "mg") &&
	    id <= UINT32_MAX && pages_done(cv, (uint32_t)id))
		return true;
	if (mem->kind == SV_MEMBER_SYMLINK) {
		if (symlinkat(mem->link, outfd, mem->name) != 0) {
			sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot make the link %s: %s",
				  mem->name, strerror(errno));
			return false;
		}
		return true;
	}
	if (mem->kind != SV_MEMBER_FILE) {
		sv_set_file(cx, mem->display);
		sv_report(cx, CRIT_CODE(CV_INPUT), SV_NONE, "not a regular file or a link: not copied");
		sv_set_file(cx, NULL);
		return false;
	}
	sv_stream *in = sv_member_open(cx, m);
	if (!in)
		return false;
	int fd = openat(outfd, mem->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
	bool ok = false;
	if (!out) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot create %s: %s", mem->name,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		sv_set_file(cx, mem->display);
		ok = convert_image(cx, in, out, cv);
		sv_set_file(cx, NULL);
		if (fclose(out) != 0)
			ok = false;
	}
	sv_close(in);
	return ok;
}

/* The dump's inventory img_version, or -1 when it cannot be told. */
static int dump_version(sv_ctx *cx, sv_members *m)
{
	sv_stream *in = sv_members_open_name(cx, m, "inventory.img", "inventory.img");
	unsigned char head[8];
	int version = -1;

	if (!in)
		return -1;
	if (sv_read(in, head, 8) == 8 && criu_image_by_magic(criu_le32(head)) &&
	    criu_image_by_magic(criu_le32(head))->id == CRIU_T_INVENTORY &&
	    criu_le32(head + 4) <= CJ_ENTRY_MAX) {
		size_t got, n = criu_le32(head + 4);
		unsigned char *msg = sv_read_alloc(in, n, &got);
		if (msg && got == n)
			version = patch_img_version(msg, n, NULL);
		free(msg);
	}
	sv_close(in);
	return version;
}

/*
 * To or from version 3, a dump directory's pages are repacked: decide
 * how (cv), or report why not.
 */
static bool plan_repack(sv_ctx *cx, sv_members *m, conv *cv)
{
	int from = dump_version(cx, m);
	struct stat st;

	cv->repack = (from == (int)CRIU_IMAGES_V1_2) != (cv->to == CRIU_IMAGES_V1_2);
	if (!target_mode(cx, &cv->mode))
		return false;
	if (sv_param(cx, "compress-region") && !(cv->repack && cv->to == CRIU_IMAGES_V1_2)) {
		sv_report(cx, CRIT_CODE(CV_VERSION), SV_NONE, "--compress-region goes with --to 3 "
			  "from image version 1 or 1.1");
		return false;
	}
	if (!cv->repack)
		return true;
	if (from == 0) {
		sv_report(cx, CRIT_CODE(CV_VERSION), SV_NONE, "a pre-dump (img_version 0) "
			  "has only the version 1.1 layout");
		return false;
	}
	if (from < 0 || !sv_members_is_dir(m)) {
		sv_report(cx, CRIT_CODE(CV_VERSION), SV_NONE, "image version 3 is converted for "
			  "a dump directory with an inventory.img");
		return false;
	}
	if (!(cv->pages = criu_cv_pages_new())) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "out of memory for a region buffer");
		return false;
	}
	cv->in_dirfd = sv_members_dirfd(m);
	if (fstatat(cv->in_dirfd, "parent", &st, AT_SYMLINK_NOFOLLOW) == 0)
		sv_report(cx, CRIT_CODE(CV_PARENT), SV_NONE, "only this dump is %s: PE_PARENT "
			  "pages stay in the parent, which keeps its image version",
			  cv->to == CRIU_IMAGES_V1_2 ? "compressed" : "decompressed");
	return true;
}

static void convert_dump(sv_ctx *cx, sv_members *m)
{
	const char *path = sv_members_path(m), *out_path = out_param(cx);
	uint32_t to = target_version(cx);
	unsigned long errors = sv_error_count(cx);
	const sv_format *criu = sv_format_find("criu");
	struct stat so;

	if (!to || !out_path || !criu)
		return;
	if (stat(out_path, &so) == 0) {
		struct stat si;
		if (stat(path, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
			sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "refusing to write over the input");
		else
			sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "%s exists: a converted dump "
				  "goes to a new directory", out_path);
		return;
	}
	/* The dump as a whole must verify before anything is written. */
	if (criu->verify_members) {
		sv_members *again = sv_members_open_dir(cx, path);
		if (!again)
			return;
		criu->verify_members(cx, again);
		sv_members_close(again);
	} else {
		criu->verify_dir(cx, sv_members_dirfd(m), path);
	}
	if (sv_error_count(cx) != errors) {
		sv_report(cx, CRIT_CODE(CV_INPUT), SV_NONE, "not converted: the dump has errors");
		return;
	}
	conv cv = { .to = to, .in_dirfd = -1 };
	char *tmp = NULL;
	if (!plan_repack(cx, m, &cv))
		return;
	if (asprintf(&tmp, "%s.XXXXXX", out_path) < 0 || !mkdtemp(tmp)) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot create a directory beside %s: %s",
			  out_path, strerror(errno));
		free(tmp);
		criu_cv_pages_free(cv.pages);
		return;
	}
	int outfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok = outfd >= 0;
	const sv_member *mem;
	cv.out_dirfd = outfd;
	while (ok && (mem = sv_members_next(m)))
		ok = convert_member(cx, m, mem, &cv);
	criu_cv_pages_free(cv.pages);
	free(cv.done);
	if (outfd >= 0 && (fsync(outfd), close(outfd) != 0))
		ok = false;
	if (ok && sv_error_count(cx) == errors && rename(tmp, out_path) != 0) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot write %s: %s", out_path,
			  strerror(errno));
		ok = false;
	}
	if (!ok || sv_error_count(cx) != errors)
		remove_temp_dir(tmp);
	free(tmp);
}

static const sv_format criu_convert_tool = {
	.name = "criu-convert",
	.description = "CRIU image version conversion (streamverify convert; parameters to, out, "
		       "compress-region)",
	.verify = convert_one,
	.verify_members = convert_dump,
};

static const sv_format *const crit_tools[] = {
	&criu_convert_tool,
	&criu_coredump_tool,
	NULL,
};

const sv_converter criu_crit_converter = {
	.decode = crit_decode,
	.encode = crit_encode,
	.info = crit_info,
	.tools = crit_tools,
};
