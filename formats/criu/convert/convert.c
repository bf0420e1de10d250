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

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool put_le32(FILE *out, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	return fwrite(b, 1, 4, out) == 4;
}

/* Read a varint at buf[*i] (within n); false when it runs past the end. */
static bool varint(const unsigned char *buf, size_t n, size_t *i, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; *i < n && shift < 64; shift += 7) {
		unsigned char c = buf[(*i)++];
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

/*
 * Set inventory_entry.img_version (field 1) in the packed message to
 * version, in place (0, in a pre-dump, is kept).  Returns the old value,
 * or -1 if the field is not a one-octet varint.
 */
static int patch_img_version(unsigned char *buf, size_t n, uint32_t version)
{
	size_t i = 0;

	while (i < n) {
		uint64_t tag, v;
		if (!varint(buf, n, &i, &tag))
			return -1;
		switch (tag & 7) {
		case 0:
			if (tag >> 3 == 1) {
				int old = i < n ? buf[i] : 0x80;
				if (old & 0x80)
					return -1;
				/* A pre-dump's 0 says no version: it stays. */
				if (old)
					buf[i] = (unsigned char)version;
				return old;
			}
			if (!varint(buf, n, &i, &v))
				return -1;
			break;
		case 1:
			i += 8;
			break;
		case 2:
			if (!varint(buf, n, &i, &v) || v > n - i)
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

/*
 * Copy the image on in to out in image version `to` (CRIU_IMAGES_V1 or
 * _V1_1).  Raw images (no magic of an entry image) are copied as they are.
 * The input has been verified: its framing is sound.
 */
static bool convert_image(sv_ctx *cx, sv_stream *in, FILE *out, uint32_t to)
{
	unsigned char b[8];
	size_t avail;
	const unsigned char *head = sv_peek(in, 8, &avail);
	copy_out c = { out, false };
	const criu_image_type *t = NULL;
	uint32_t m0 = avail >= 4 ? le32(head) : 0;
	bool has_head = m0 == CRIU_IMG_COMMON_MAGIC || m0 == CRIU_IMG_SERVICE_MAGIC;

	if (avail >= 8 && has_head)
		t = criu_image_by_magic(le32(head + 4));
	else if (avail >= 4 && !has_head)
		t = criu_image_by_magic(m0);
	if (t && t->layout != CRIU_LAYOUT_RAW) {
		sv_read(in, b, has_head ? 8 : 4);
		if (to == CRIU_IMAGES_V1_1 && t->id != CRIU_T_INVENTORY &&
		    !put_le32(out, t->flags & CRIU_IMG_SERVICE ? CRIU_IMG_SERVICE_MAGIC
							       : CRIU_IMG_COMMON_MAGIC))
			c.failed = true;
		if (!put_le32(out, t->magic))
			c.failed = true;
	}
	if (t && t->id == CRIU_T_INVENTORY) {
		unsigned char sz[4];
		if (!sv_need(cx, in, sz, 4, "the inventory entry's size"))
			return false;
		uint32_t n = le32(sz);
		size_t got;
		unsigned char *msg = n <= CJ_ENTRY_MAX ? sv_read_alloc(in, n, &got) : NULL;
		int old = msg ? patch_img_version(msg, n, to) : -1;
		if (old < 0 || (old == 0 && to == CRIU_IMAGES_V1)) {
			if (old < 0)
				sv_report(cx, CRIT_CODE(CV_INPUT), 4, "the inventory entry's img_version "
					  "cannot be rewritten in place");
			else
				sv_report(cx, CRIT_CODE(CV_VERSION), 4, "a pre-dump (img_version 0) "
					  "has only the version 1.1 layout");
			free(msg);
			return false;
		}
		if (fwrite(sz, 1, 4, out) != 4 || fwrite(msg, 1, n, out) != n)
			c.failed = true;
		free(msg);
	}
	sv_scan(in, UINT64_MAX, copy_piece, &c);
	if (c.failed || fflush(out) != 0 || ferror(out)) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot write the converted image");
		return false;
	}
	return true;
}

/* "1" and "1.1" (also as inventory's numbers 1 and 2); 0 when unknown or not done. */
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
		sv_report(cx, CRIT_CODE(CV_VERSION), SV_NONE, "image version 3 (compressed pages) "
			  "is not supported by this build: it converts between 1 and 1.1");
	else
		sv_report(cx, CRIT_CODE(CV_VERSION), SV_NONE, "unknown image version '%s' "
			  "(1 or 1.1)", to);
	return 0;
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
	sv_stream *again = sv_open_at(cx, AT_FDCWD, path, path, SV_OPEN_RAW);
	if (!again)
		return;
	FILE *out = temp_beside(cx, out_path, &tmp);
	bool ok = out && convert_image(cx, again, out, to);
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
static bool convert_member(sv_ctx *cx, sv_members *m, const sv_member *mem, int outfd, uint32_t to)
{
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
		ok = convert_image(cx, in, out, to);
		sv_set_file(cx, NULL);
		if (fclose(out) != 0)
			ok = false;
	}
	sv_close(in);
	return ok;
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
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.XXXXXX", out_path) < 0 || !mkdtemp(tmp)) {
		sv_report(cx, CRIT_CODE(CV_OUTPUT), SV_NONE, "cannot create a directory beside %s: %s",
			  out_path, strerror(errno));
		free(tmp);
		return;
	}
	int outfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok = outfd >= 0;
	const sv_member *mem;
	while (ok && (mem = sv_members_next(m)))
		ok = convert_member(cx, m, mem, outfd, to);
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
	.description = "CRIU image version conversion (streamverify convert; parameters to, out)",
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
