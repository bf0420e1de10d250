/*
 * The archive member source: a tar archive (plain, or compressed with
 * gzip, zstd, xz or bzip2, told from the bytes) read with libarchive in one
 * sequential pass from an sv_stream, nothing extracted.  Each member's data
 * becomes an sv_stream of its own over archive_read_data_block(), so the
 * checks that run over a dump directory run unchanged over an archive.
 *
 * libarchive is fed from the core's stream (sv_peek: no copy), so a pipe
 * works, and gzip input reaches it already inflated by the core.  Only the
 * tar format and the four decompression filters are enabled: no external
 * program is ever run, nothing is written.
 *
 * The archive's integrity is this file's business: a truncated or corrupt
 * archive (tar header checksum, compressed data, an end inside a member or
 * before the end-of-archive blocks) is reported once, naming the member and
 * the offset inside it.  When a module has already reported an error on
 * the member after the point where its data stopped (it needed the bytes
 * that were not there), that finding stands for the cause and nothing is
 * added.  After such an error the source ends: sv_members_next() returns
 * NULL and sv_members_failed() is true.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "members.h"

/* Declared for modules in formats/container/container.h (asked for in module.h). */
bool sv_members_failed(const sv_members *m);

/* Member names in diagnostics are capped (they are input). */
#define DISPLAY_NAME_MAX 200
/*
 * Members up to this size are read whole when opened: one that the archive
 * breaks inside is then reported by the source alone, before any module
 * reads a short stream and calls the consequence a truncated image.
 */
#define PREFETCH_MAX (4u << 20)

typedef struct arc_source {
	struct archive *a;
	sv_stream *in;
	sv_ctx *cx;
	size_t pending;         /* bytes handed to libarchive, consumed at the next call */
	bool in_reported;       /* the core reported an error reading in (gzip, I/O) */
	bool failed;            /* the archive ended on an error */
	bool ended;
	bool eof_seen;          /* ARCHIVE_EOF came */
	bool started;           /* a header was read */
	char *name, *display, *link;
	/* The current member's data. */
	bool has_data;          /* a regular file member */
	bool sparse;
	uint64_t size;          /* declared size */
	uint64_t pos;           /* member offset of the next byte handed out */
	const unsigned char *blk;
	size_t blk_len;
	uint64_t blk_off;       /* member offset of blk[0] */
	bool data_end;          /* no more data blocks */
	/* A failure inside the current member, reported at its end if no one did. */
	bool data_failed;
	uint64_t fail_at;
	unsigned long errors_at_fail;
	int fail_code;          /* which archive code */
	char fail_msg[256];
	bool fail_reported;
	unsigned char *whole;   /* a prefetched member */
	size_t whole_len, whole_pos;
} arc_source;

enum { ARC_TRUNCATED, ARC_CORRUPT };

/*
 * The codes belong to the container module's table (so --list-codes shows
 * them); a build without it falls back on the core's.
 */
static const sv_code *arc_code(int which)
{
	const sv_code *c = sv_code_find(which == ARC_TRUNCATED ? "archive.truncated" :
								   "archive.corrupt");
	if (c)
		return c;
	return &sv_core_codes[which == ARC_TRUNCATED ? SV_CORE_TRUNCATED : SV_CORE_IO];
}

/* ---- feeding libarchive from the stream ------------------------------- */

static void consume_pending(arc_source *r)
{
	if (r->pending) {
		sv_skip(r->in, r->pending);
		r->pending = 0;
	}
}

static la_ssize_t arc_feed(struct archive *a, void *arg, const void **buf)
{
	arc_source *r = arg;
	unsigned long before;
	size_t avail;
	const unsigned char *p;

	(void)a;
	before = sv_error_count(r->cx);
	consume_pending(r);
	p = sv_peek(r->in, SV_PEEK_MAX, &avail);
	if (sv_error_count(r->cx) != before)
		r->in_reported = true;
	r->pending = avail;
	*buf = p;
	return (la_ssize_t)avail;
}

/* libarchive skips only where no filter decompresses: a seek on a file. */
static la_int64_t arc_skip(struct archive *a, void *arg, la_int64_t n)
{
	arc_source *r = arg;

	unsigned long before = sv_error_count(r->cx);
	uint64_t done;

	(void)a;
	consume_pending(r);
	done = n > 0 ? sv_skip(r->in, (uint64_t)n) : 0;
	if (sv_error_count(r->cx) != before)
		r->in_reported = true;
	return (la_int64_t)done;
}

/* ---- names --------------------------------------------------------------- */

/* "ARCHIVE:MEMBER" with the member name escaped (\xNN) and capped. */
static char *make_display(const char *archive, const char *name)
{
	size_t alen = strlen(archive), o = 0, i;
	char *d = malloc(alen + 1 + DISPLAY_NAME_MAX * 4 + 8);

	if (!d)
		return NULL;
	memcpy(d, archive, alen);
	o = alen;
	d[o++] = ':';
	for (i = 0; name[i] && i < DISPLAY_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			static const char hex[] = "0123456789abcdef";
			d[o++] = '\\';
			d[o++] = 'x';
			d[o++] = hex[c >> 4];
			d[o++] = hex[c & 15];
		} else {
			d[o++] = (char)c;
		}
	}
	if (name[i]) {
		memcpy(d + o, "...", 3);
		o += 3;
	}
	d[o] = '\0';
	return d;
}

/* ---- failures ------------------------------------------------------------ */

static int classify(struct archive *a)
{
	const char *msg = archive_error_string(a);

	/* xz: LZMA_BUF_ERROR, "No progress is possible", is input that stops. */
	if (msg && (strstr(msg, "runcated") || strstr(msg, "premature end") ||
		    strstr(msg, "No progress is possible") ||
		    strstr(msg, "unexpected end") || strstr(msg, "Premature end")))
		return ARC_TRUNCATED;
	return ARC_CORRUPT;
}

static const char *errtext(struct archive *a)
{
	const char *msg = archive_error_string(a);
	return msg ? msg : "unknown libarchive error";
}

/* Record a failure inside the current member's data (reported at its end). */
static void data_fail(arc_source *r, int kind)
{
	if (r->data_failed)
		return;
	r->data_failed = true;
	r->failed = true;
	r->fail_at = r->pos;
	r->fail_code = kind;
	r->errors_at_fail = sv_error_count(r->cx);
	snprintf(r->fail_msg, sizeof(r->fail_msg), "%s", errtext(r->a));
}

/* Say what stopped the current member, unless its reader said it already. */
static void report_data_failure(arc_source *r)
{
	const char *saved;

	if (!r->data_failed || r->in_reported || r->fail_reported)
		return;
	r->fail_reported = true;
	if (sv_error_count(r->cx) != r->errors_at_fail)
		return;
	saved = sv_get_file(r->cx);
	sv_set_file(r->cx, r->display);
	if (r->fail_code == ARC_TRUNCATED)
		sv_report(r->cx, arc_code(ARC_TRUNCATED), r->fail_at,
			  "the archive ends %llu bytes into this member of %llu bytes (%s)",
			  (unsigned long long)r->fail_at, (unsigned long long)r->size,
			  r->fail_msg);
	else
		sv_report(r->cx, arc_code(ARC_CORRUPT), r->fail_at,
			  "the archive is corrupt %llu bytes into this member: %s",
			  (unsigned long long)r->fail_at, r->fail_msg);
	sv_set_file(r->cx, saved);
}

/* An error between members (a header), at the archive offset at. */
static void header_fail(arc_source *r, int rc, uint64_t at)
{
	const sv_code *code;

	r->failed = true;
	if (r->in_reported)
		return;
	code = arc_code(rc == ARCHIVE_EOF ? ARC_TRUNCATED : classify(r->a));
	sv_set_file(r->cx, NULL);
	if (rc == ARCHIVE_EOF)
		sv_report(r->cx, code, at,
			  "the archive ends after a member, without the tar end-of-archive blocks: truncated");
	else
		sv_report(r->cx, code, at, "the archive cannot be read at a member header: %s",
			  errtext(r->a));
}

/* ---- member data --------------------------------------------------------- */

/* The next data block; false at the end of the member or on failure. */
static bool next_block(arc_source *r)
{
	const void *p;
	size_t len;
	la_int64_t off;
	int rc;

	if (r->data_end || r->data_failed)
		return false;
	rc = archive_read_data_block(r->a, &p, &len, &off);
	if (rc == ARCHIVE_EOF) {
		r->data_end = true;
		return false;
	}
	if (rc != ARCHIVE_OK || off < 0 || (uint64_t)off < r->pos) {
		data_fail(r, rc == ARCHIVE_OK ? ARC_CORRUPT : classify(r->a));
		r->data_end = true;
		return false;
	}
	r->blk = p;
	r->blk_len = len;
	r->blk_off = (uint64_t)off;
	return true;
}

/*
 * Hand out up to n bytes (into buf, or nowhere when buf is NULL): block
 * data, and zeros for the holes of a sparse member.
 */
/* Zeros for a hole of a sparse member: up to `hole` bytes of the n - done wanted. */
static uint64_t take_zeros(arc_source *r, unsigned char *buf, uint64_t done, uint64_t n,
			   uint64_t hole)
{
	uint64_t z = hole < n - done ? hole : n - done;

	if (buf)
		memset(buf + done, 0, (size_t)z);
	r->pos += z;
	return z;
}

static uint64_t member_take(arc_source *r, unsigned char *buf, uint64_t n)
{
	uint64_t done = 0;

	while (done < n) {
		uint64_t in_blk_end = r->blk_off + r->blk_len;

		if (r->pos >= in_blk_end) {
			if (next_block(r))
				continue;
			/* A sparse member's trailing hole. */
			if (r->sparse && !r->data_failed && r->pos < r->size) {
				done += take_zeros(r, buf, done, n, r->size - r->pos);
				continue;
			}
			break;
		}
		if (r->pos < r->blk_off) {
			done += take_zeros(r, buf, done, n, r->blk_off - r->pos);
			continue;
		}
		uint64_t k = in_blk_end - r->pos;
		if (k > n - done)
			k = n - done;
		if (buf)
			memcpy(buf + done, r->blk + (r->pos - r->blk_off), (size_t)k);
		r->pos += k;
		done += k;
	}
	return done;
}

static ssize_t member_read(void *arg, void *buf, size_t n)
{
	arc_source *r = arg;

	if (r->pos >= r->size && !r->sparse)
		n = 0;
	return (ssize_t)member_take(r, buf, n);
}

static int64_t member_skip(void *arg, uint64_t n)
{
	arc_source *r = arg;

	return (int64_t)member_take(r, NULL, n);
}

/* Pass over what the reader left of the current member, checking it arrives. */
static void finish_member(arc_source *r)
{
	if (r->has_data && !r->data_failed) {
		while (next_block(r))
			r->pos = r->blk_off + r->blk_len;
		/* libarchive's short-data error came through next_block. */
	}
	report_data_failure(r);
	/* The padding after the data: the next header's offset is then exact. */
	if (r->started && !r->data_failed && archive_read_data_skip(r->a) != ARCHIVE_OK)
		data_fail(r, classify(r->a));
	r->has_data = false;
	free(r->whole);
	r->whole = NULL;
}

/* ---- the source -------------------------------------------------------------- */

static const sv_member *arc_next(sv_members *m)
{
	arc_source *r = m->impl;
	struct archive_entry *e;
	const char *name, *link;
	uint64_t at;
	int rc;

	if (r->ended)
		return NULL;
	finish_member(r);
	free(r->name);
	free(r->display);
	free(r->link);
	r->name = r->display = r->link = NULL;
	if (r->failed || sv_stopped(r->cx)) {
		r->ended = true;
		return NULL;
	}
	/* Where the next header starts (libarchive forgets after a fatal error). */
	at = r->started ? (uint64_t)archive_filter_bytes(r->a, 0) : 0;
	rc = archive_read_next_header(r->a, &e);
	r->started = true;
	if (rc == ARCHIVE_EOF) {
		r->ended = true;
		r->eof_seen = true;
		/* No end-of-archive block: the archive stops after a member. */
		if ((uint64_t)archive_filter_bytes(r->a, 0) == at && !r->in_reported)
			header_fail(r, ARCHIVE_EOF, at);
		else if (r->in_reported)
			r->failed = true;
		return NULL;
	}
	if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
		header_fail(r, rc, at);
		r->ended = true;
		return NULL;
	}
	if (archive_read_header_position(r->a) >= 0)
		at = (uint64_t)archive_read_header_position(r->a);
	name = archive_entry_pathname(e);
	if (!name)
		name = "";
	link = archive_entry_hardlink(e);
	r->name = strdup(name);
	r->display = make_display(m->path, name);
	if (!r->name || !r->display) {
		sv_report(r->cx, &sv_core_codes[SV_CORE_IO], SV_NONE, "out of memory");
		sv_ctx_io_failed(r->cx);
		r->failed = r->ended = true;
		return NULL;
	}
	memset(&m->cur, 0, sizeof(m->cur));
	m->cur.name = r->name;
	m->cur.display = r->display;
	m->cur.offset = at;
	m->cur.size = archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 ?
		      (uint64_t)archive_entry_size(e) : 0;
	r->size = m->cur.size;
	r->pos = 0;
	r->blk = NULL;
	r->blk_len = 0;
	r->blk_off = 0;
	r->data_end = false;
	r->data_failed = false;
	r->fail_reported = false;
	r->sparse = archive_entry_sparse_count(e) > 0;
	r->has_data = false;
	if (link) {
		m->cur.kind = SV_MEMBER_HARDLINK;
		r->link = strdup(link);
		m->cur.link = r->link;
		/* A hard link with data (pax allows it) is read as stored. */
		r->has_data = true;
	} else {
		switch (archive_entry_filetype(e)) {
		case AE_IFREG:
			m->cur.kind = SV_MEMBER_FILE;
			r->has_data = true;
			break;
		case AE_IFDIR:
			m->cur.kind = SV_MEMBER_DIR;
			break;
		case AE_IFLNK:
			m->cur.kind = SV_MEMBER_SYMLINK;
			link = archive_entry_symlink(e);
			r->link = strdup(link ? link : "");
			m->cur.link = r->link;
			break;
		default:
			m->cur.kind = SV_MEMBER_OTHER;
			break;
		}
	}
	if (!r->has_data)
		r->data_end = true;
	return &m->cur;
}

static ssize_t whole_read(void *arg, void *buf, size_t n)
{
	arc_source *r = arg;
	size_t k = r->whole_len - r->whole_pos < n ? r->whole_len - r->whole_pos : n;

	memcpy(buf, r->whole + r->whole_pos, k);
	r->whole_pos += k;
	return (ssize_t)k;
}

static int64_t whole_skip(void *arg, uint64_t n)
{
	arc_source *r = arg;
	size_t k = r->whole_len - r->whole_pos < n ? r->whole_len - r->whole_pos : (size_t)n;

	r->whole_pos += k;
	return (int64_t)k;
}

static sv_stream *arc_open(sv_ctx *cx, sv_members *m)
{
	arc_source *r = m->impl;
	sv_source src = { member_read, member_skip, r, r->size };
	sv_stream *s;

	if (!r->has_data || r->pos != 0 || r->whole || !r->display) {
		const char *saved = sv_get_file(cx);
		sv_set_file(cx, r->display ? r->display : m->path);
		sv_report(cx, &sv_core_codes[SV_CORE_NOT_REGULAR], SV_NONE,
			  r->has_data ? "the member was opened already: not read again" :
					"not a regular file member: not read");
		sv_set_file(cx, saved);
		return NULL;
	}
	if (r->size <= PREFETCH_MAX && !r->sparse) {
		r->whole = malloc(r->size ? (size_t)r->size : 1);
		if (r->whole) {
			r->whole_len = (size_t)member_take(r, r->whole, r->size);
			r->whole_pos = 0;
			if (r->data_failed) {
				report_data_failure(r);
				return NULL;
			}
			src.read = whole_read;
			src.skip = whole_skip;
			src.size = r->whole_len;
		}
	}
	s = sv_stream_open_source(cx, &src, r->display, 0, SV_OPEN_RAW);
	if (!s) {
		sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE, "out of memory opening a member");
		sv_ctx_io_failed(cx);
	}
	return s;
}

static void arc_free(sv_members *m)
{
	arc_source *r = m->impl;

	if (r->a)
		archive_read_free(r->a);
	consume_pending(r);
	free(r->whole);
	free(r->name);
	free(r->display);
	free(r->link);
	free(r);
}

static const sv_members_ops arc_ops = { arc_next, arc_open, arc_free };

sv_members *sv_members_open_archive(sv_ctx *cx, sv_stream *in)
{
	sv_members *m = calloc(1, sizeof(*m));
	arc_source *r = calloc(1, sizeof(*r));

	if (!m || !r || !(m->path = strdup(sv_stream_name(in))))
		goto oom;
	m->ops = &arc_ops;
	m->impl = r;
	m->is_dir = false;
	m->cx = cx;
	r->in = in;
	r->cx = cx;
	/*
	 * The core reads ahead when it opens an input (the bids): a gzip
	 * error already reported is this input's, and what it breaks in the
	 * tar is not said again.
	 */
	r->in_reported = sv_error_count(cx) > 0;
	if (!(r->a = archive_read_new()))
		goto oom;
	/* tar only, and the decompressors linked in: never an external program. */
	if (archive_read_support_format_tar(r->a) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(r->a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(r->a) != ARCHIVE_OK ||
	    archive_read_support_filter_xz(r->a) != ARCHIVE_OK ||
	    archive_read_support_filter_bzip2(r->a) != ARCHIVE_OK)
		goto nolib;
	archive_read_set_read_callback(r->a, arc_feed);
	archive_read_set_skip_callback(r->a, arc_skip);
	archive_read_set_callback_data(r->a, r);
	if (archive_read_open1(r->a) != ARCHIVE_OK) {
		/* Not a tar libarchive can read, or a bad compressed start. */
		if (!r->in_reported) {
			sv_set_file(cx, NULL);
			sv_report(cx, arc_code(classify(r->a)), 0,
				  "not a readable tar archive: %s", errtext(r->a));
		}
		r->failed = r->ended = true;
	}
	return m;
nolib:
	sv_report(cx, &sv_core_codes[SV_CORE_UNSUPPORTED], SV_NONE,
		  "this libarchive cannot decompress gzip, zstd, xz and bzip2 itself: %s",
		  errtext(r->a));
	sv_ctx_io_failed(cx);
	r->failed = r->ended = true;
	return m;
oom:
	if (r && r->a)
		archive_read_free(r->a);
	free(r);
	if (m)
		free(m->path);
	free(m);
	sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE, "out of memory");
	sv_ctx_io_failed(cx);
	return NULL;
}

/* True when the source ended on an error (truncated, corrupt, unreadable). */
bool sv_members_failed(const sv_members *m)
{
	const arc_source *r;

	if (!m || m->is_dir)
		return false;
	r = m->impl;
	return r->failed;
}
