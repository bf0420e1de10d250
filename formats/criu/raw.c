/*
 * Raw CRIU images (CRIU's RAW_IMAGE_MAGIC): page contents, tmpfs tarballs,
 * iproute2 save streams and text rule sets, each checked as far as it can
 * be on its own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "formats/criu/codes.h"
#include "formats/criu/raw.h"

#define TAR_BLOCK 512u
#define NLMSG_HDRLEN 16u

static const sv_code *code(int c)
{
	return &criu_codes[c];
}

/* Consume everything left; returns the byte count. */
static uint64_t drain(sv_stream *s)
{
	return sv_skip(s, UINT64_MAX);
}

/* Pages are passed in pieces that count as records for --tee: any whole page is valid. */
#define PAGES_PIECE ((uint64_t)1 << 20)

static void verify_pages(sv_ctx *cx, sv_stream *s, criu_image_info *info)
{
	uint64_t size = 0, got;

	do {
		sv_record_begin(cx, size / PAGES_PIECE, "pages", sv_offset(s));
		got = sv_skip(s, PAGES_PIECE);
		size += got;
	} while (got == PAGES_PIECE);
	sv_record_none(cx);

	info->raw_bytes = size;
	if (size % CRIU_PAGE_SIZE)
		sv_report(cx, code(CRIU_PAGES_SIZE), size - size % CRIU_PAGE_SIZE,
			  "%" PRIu64 " bytes: %" PRIu64 " whole pages and %" PRIu64
			  " bytes more", size, size / CRIU_PAGE_SIZE, size % CRIU_PAGE_SIZE);
	if (sv_want_records(cx)) {
		sv_emit_record(cx, 0, "pages", 0, size, "%" PRIu64 " pages",
			       size / CRIU_PAGE_SIZE);
		if (sv_get_file(cx) == NULL) /* a figure of the whole input only */
			sv_emit_stat_u64(cx, "pages.stored", size / CRIU_PAGE_SIZE);
	}
}

/* ---- tar ------------------------------------------------------------------ */

/* An octal field as tar writes it: spaces, digits, then NUL or space. */
static bool tar_octal(const unsigned char *f, size_t n, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	bool digits = false;

	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (UINT64_MAX >> 3))
			return false;
		v = v << 3 | (uint64_t)(f[i] - '0');
		digits = true;
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return false;
	*out = v;
	return digits;
}

/* The size field: octal, or GNU's base-256 for big files. */
static bool tar_size(const unsigned char *f, uint64_t *out)
{
	if (f[0] & 0x80) {
		uint64_t v = 0;

		if (f[0] != 0x80)
			return false; /* negative, or beyond 64 bits */
		for (size_t i = 1; i < 12; i++) {
			if (v >> 56)
				return false;
			v = v << 8 | f[i];
		}
		*out = v;
		return true;
	}
	return tar_octal(f, 12, out);
}

static bool tar_checksum_ok(const unsigned char *h, uint64_t stored)
{
	uint64_t usum = 0;
	int64_t ssum = 0;

	for (size_t i = 0; i < TAR_BLOCK; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];
		usum += c;
		ssum += (signed char)c;
	}
	/* Old tars summed signed chars; GNU tar accepts both. */
	return usum == stored || (ssum >= 0 && (uint64_t)ssum == stored);
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Types whose size field counts no data blocks. */
static bool tar_has_data(unsigned char type)
{
	return !(type >= '1' && type <= '6');
}

static void verify_tar(sv_ctx *cx, sv_stream *s, criu_image_info *info)
{
	unsigned char h[TAR_BLOCK];
	uint64_t members = 0;

	for (;;) {
		uint64_t at = sv_offset(s);

		if (sv_stopped(cx))
			return;
		if (sv_at_end(s)) {
			sv_report(cx, code(CRIU_TAR_END), at,
				  "the archive ends after %" PRIu64 " members without its "
				  "end-of-archive block", members);
			break;
		}
		if (!sv_need(cx, s, h, TAR_BLOCK, "tar header"))
			return;
		if (all_zero(h, TAR_BLOCK))
			break; /* end of archive; GNU tar pads the rest with zeros */

		uint64_t stored, size;
		sv_record(cx, members, "tar header");
		if (!tar_octal(h + 148, 8, &stored) || !tar_checksum_ok(h, stored)) {
			sv_report(cx, code(CRIU_TAR_CHECKSUM), at,
				  "member %" PRIu64 ": header checksum does not match", members);
			return;
		}
		if (!tar_size(h + 124, &size)) {
			sv_report(cx, code(CRIU_TAR_HEADER), at,
				  "member %" PRIu64 ": unreadable size field", members);
			return;
		}
		/* Old GNU sparse members: extension headers follow. */
		bool extended = h[156] == 'S' && h[482] != 0;
		while (extended) {
			if (!sv_need(cx, s, h, TAR_BLOCK, "tar sparse header"))
				return;
			extended = h[504] != 0;
		}
		uint64_t data = tar_has_data(h[156]) ? (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK : 0;
		uint64_t data_at = sv_offset(s);
		uint64_t got = sv_skip(s, data);
		if (got < data) {
			sv_report_truncated(cx, data_at, data, got, "tar member data");
			return;
		}
		sv_count_record(cx);
		members++;
	}
	sv_record_none(cx);
	drain(s);
	info->entries = members;
}

static void verify_tmpfs(sv_ctx *cx, sv_stream *s, const criu_image_type *t,
			 criu_image_info *info)
{
	if (!sv_stream_gzip(s)) {
		sv_report(cx, code(CRIU_TMPFS_NOT_GZIP), 0,
			  "a %s image must be gzip-compressed tar (CRIU extracts it with "
			  "tar --gzip)", t->name);
		info->raw_bytes = drain(s);
		return;
	}
	verify_tar(cx, s, info);
	info->raw_bytes = sv_offset(s);
	if (sv_want_records(cx))
		sv_emit_stat_u64(cx, "tar.members", info->entries);
}

/* ---- iproute2 save streams -------------------------------------------------- */

static void verify_iproute(sv_ctx *cx, sv_stream *s, const criu_image_type *t,
			   criu_image_info *info)
{
	unsigned char b[NLMSG_HDRLEN];

	if (!sv_need(cx, s, b, 4, "iproute2 magic"))
		return;
	uint32_t magic = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
			 (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	if (magic != t->raw_magic) {
		sv_report(cx, code(CRIU_IPROUTE_MAGIC), 0,
			  "magic 0x%08" PRIx32 ", not iproute2's 0x%08" PRIx32 " for %s",
			  magic, t->raw_magic, t->name);
		info->raw_bytes = 4 + drain(s);
		return;
	}
	for (uint64_t index = 0; !sv_stopped(cx); index++) {
		uint64_t at = sv_offset(s);
		size_t avail;
		const unsigned char *p = sv_peek(s, NLMSG_HDRLEN, &avail);

		if (avail == 0)
			break;
		sv_record(cx, index, "nlmsghdr");
		if (avail < NLMSG_HDRLEN) {
			sv_report_truncated(cx, at, NLMSG_HDRLEN, avail, "netlink message header");
			sv_skip(s, avail);
			break;
		}
		uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
			       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		if (len < NLMSG_HDRLEN) {
			sv_report(cx, code(CRIU_IPROUTE_NLMSG), at,
				  "netlink message %" PRIu64 " has length %" PRIu32
				  ", less than its own header", index, len);
			drain(s);
			break;
		}
		unsigned nl_type = (unsigned)(p[4] | p[5] << 8);
		unsigned nl_flags = (unsigned)(p[6] | p[7] << 8);
		/* iproute2 reads each message padded to 4 bytes. */
		uint64_t step = ((uint64_t)len + 3) & ~(uint64_t)3;
		uint64_t got = sv_skip(s, step);
		if (got < step) {
			sv_report_truncated(cx, at, step, got, "netlink message");
			break;
		}
		sv_count_record(cx);
		info->entries++;
		if (sv_want_records(cx))
			sv_emit_record(cx, index, "nlmsghdr", at, step, "type=%u flags=0x%x",
				       nl_type, nl_flags);
	}
	sv_record_none(cx);
	info->raw_bytes = sv_offset(s);
}

void criu_verify_raw(sv_ctx *cx, sv_stream *s, const criu_image_type *t,
		     criu_image_info *info)
{
	switch (t->raw) {
	case CRIU_RAW_PAGES:
		verify_pages(cx, s, info);
		break;
	case CRIU_RAW_TMPFS:
		verify_tmpfs(cx, s, t, info);
		break;
	case CRIU_RAW_IPROUTE:
		verify_iproute(cx, s, t, info);
		break;
	case CRIU_RAW_TEXT:
	case CRIU_RAW_NETLINK:
	case CRIU_RAW_NONE:
		/* Nothing to check alone: listed as present. */
		info->raw_bytes = drain(s);
		if (sv_want_records(cx))
			sv_emit_record(cx, 0, t->name, 0, info->raw_bytes,
				       "%s image of %" PRIu64 " bytes (not checked)",
				       t->name, info->raw_bytes);
		break;
	}
	info->complete = !sv_stopped(cx);
}
