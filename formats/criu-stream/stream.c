/*
 * criu-image-streamer captures (`criu dump --stream` through
 * checkpoint-restore/criu-image-streamer; criu-images.md "Newer CRIU").
 *
 * A capture ("shard") is a sequence of u32 little-endian length + a proto3
 * image.marker (proto/image-streamer-marker.proto), each file_data marker
 * followed by that many raw octets of the current file.  The rules are
 * those of the streamer's extractor (src/extract.rs: process_marker(),
 * mark_image_eof(), drain_shard(); src/util.rs: pb_read_next()):
 *
 *   - seq starts at 0 and goes up by one per marker (the extractor waits
 *     for the marker with the next seq: a gap or a repeat never restores);
 *   - every marker has a body: a filename, file_data, file_eof = true or
 *     image_eof = true ("Malformed image marker");
 *   - file_data and file_eof need a current file ("Unexpected FileData
 *     marker", "Unexpected FileEof marker");
 *   - image_eof comes once, when every file has had its file_eof ("Image
 *     EOF marker came unexpectedly"), and nothing follows it ("Unexpected
 *     data after image EOF"); the capture ends with it ("No shards to read
 *     from");
 *   - a file is stored once (CRIU requests each image once, and a second
 *     file of the same name replaces the first);
 *   - a filename is a plain file name (the extractor creates it inside
 *     the images directory).
 *
 * The images the capture carries are verified as a CRIU dump with the
 * criu module's dump API (formats/criu/dump/dump.h), each file fed as a member
 * whose stream reads the capture's own bytes: nothing is extracted.  A
 * file whose data arrives while another file is being verified (the
 * streamer interleaves files CRIU writes at the same time) is held in
 * memory, up to CS_BUFFER_MAX bytes in all, and verified at its file_eof.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "internal.h"
#include "formats/criu/dump/dump.h"
#include "formats/criu-stream/capture.h"
#include "image-streamer-marker.pb-c.h"

#define CS_MARKER_MAX 10240u           /* markers are under 10 KiB */
#define CS_BUFFER_MAX (64u << 20)      /* interleaved file data held at most */
#define CS_FILES_MAX 100000u           /* distinct files in one capture */

#define CS_CODES(X)                                                                      \
	X(CS_MARKER_LENGTH, "criu-stream.marker.length", ERROR,                          \
	  "a marker's length is 0 or above 10 KiB (markers are a few dozen bytes)")      \
	X(CS_MARKER_MALFORMED, "criu-stream.marker.malformed", ERROR,                    \
	  "a marker is not an image.marker with a body (filename, file_data, "          \
	  "file_eof true or image_eof true)")                                           \
	X(CS_SEQ, "criu-stream.seq", ERROR,                                              \
	  "a marker's seq is not the one after the previous marker's (the extractor "   \
	  "waits for it for ever)")                                                     \
	X(CS_NO_FILE, "criu-stream.no-file", ERROR,                                      \
	  "file_data or file_eof with no current file")                                 \
	X(CS_FILENAME, "criu-stream.filename", ERROR,                                    \
	  "a filename marker names no plain file (empty, '/', '.', '..')")               \
	X(CS_FILE_TWICE, "criu-stream.file-twice", ERROR,                                \
	  "a file is stored again after its file_eof (the second replaces the first)")  \
	X(CS_FILE_INCOMPLETE, "criu-stream.file-incomplete", ERROR,                      \
	  "image_eof (or the end of the capture) comes before a file's file_eof")       \
	X(CS_NO_IMAGE_EOF, "criu-stream.no-image-eof", ERROR,                            \
	  "the capture ends without an image_eof marker")                               \
	X(CS_AFTER_EOF, "criu-stream.after-eof", ERROR,                                  \
	  "data follows the image_eof marker")                                          \
	X(CS_TOO_MANY_FILES, "criu-stream.too-many-files", ERROR,                        \
	  "the capture names more files than streamverify follows (100000)")            \
	X(CS_UNVERIFIED, "criu-stream.unverified", WARNING,                              \
	  "a file interleaved with others needs more memory than streamverify holds "   \
	  "(64 MiB in all): its image is not verified")

enum { CS_CODES(SV_CODE_ENUM) CS_NCODES };
static const sv_code cs_codes[] = { CS_CODES(SV_CODE_ROW) };

/* Where a file is. */
typedef enum file_state {
	F_STREAMING,   /* being verified from the capture right now */
	F_BUFFERING,   /* its data is held until its file_eof */
	F_DRAINING,    /* verified, or not verifiable: its data is skipped */
	F_DONE         /* file_eof seen */
} file_state;

typedef struct cs_file {
	char *name;
	file_state state;
	unsigned char *buf;  /* F_BUFFERING: the data so far */
	size_t len, cap;
	uint64_t first_off;  /* its filename marker */
	bool overflow;       /* did not fit CS_BUFFER_MAX */
	bool queued;         /* complete in memory, to be verified */
} cs_file;

typedef struct cs {
	sv_ctx *cx;
	sv_stream *in;
	const char *path;
	criu_dump *dump;
	criu_capture_add_fn add; /* NULL: criu_dump_add() (criu_capture_read) */
	void *add_arg;
	cs_file *files;
	size_t nfiles, capfiles;
	size_t cur;            /* current file index, or SIZE_MAX */
	uint64_t seq;          /* seq expected next */
	uint64_t data_left;    /* bytes of the current file_data chunk unread */
	size_t data_file;      /* the file those bytes belong to */
	uint64_t markers;
	uint64_t buffered;     /* bytes held in all */
	bool image_eof;
	bool broken;           /* framing lost: stop */
	bool in_add;           /* inside criu_dump_add(): no nested adds */
	size_t streaming;      /* the file being verified, or SIZE_MAX */
	uint64_t data_bytes;
	bool cut;              /* the capture ended inside the member being read */
	uint64_t cut_off, cut_needed, cut_got;
} cs;

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static const sv_code *code(int c)
{
	return &cs_codes[c];
}

/* Reports about the capture itself: its own offsets, no member file. */
static void to_capture(cs *c)
{
	sv_set_file(c->cx, NULL);
}

/*
 * A finding about the capture, made maybe while a member is being read
 * (the member's file is set then): said against the capture and marker,
 * and the member's file put back.
 */
__attribute__((format(printf, 4, 5)))
static void cap_report(cs *c, int k, uint64_t off, const char *fmt, ...)
{
	const char *file = sv_get_file(c->cx);
	va_list ap;

	sv_set_file(c->cx, NULL);
	sv_record(c->cx, c->markers ? c->markers - 1 : 0, "marker");
	va_start(ap, fmt);
	sv_vreport(c->cx, k < 0 ? &sv_core_codes[SV_CORE_TRUNCATED] : code(k), off, fmt, ap);
	va_end(ap);
	sv_record_none(c->cx);
	sv_set_file(c->cx, file);
}

/* input.truncated about the capture (see cap_report). */
static void cap_truncated(cs *c, uint64_t off, uint64_t needed, uint64_t got,
			  const char *what)
{
	const char *file = sv_get_file(c->cx);

	sv_set_file(c->cx, NULL);
	sv_record(c->cx, c->markers, "marker");
	sv_report_truncated(c->cx, off, needed, got, what);
	sv_record_none(c->cx);
	sv_set_file(c->cx, file);
}

static size_t find_file(const cs *c, const char *name)
{
	for (size_t i = c->nfiles; i-- > 0;)
		if (strcmp(c->files[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

static bool plain_name(const char *n)
{
	return *n && !strchr(n, '/') && strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

/* ---- markers ----------------------------------------------------------------- */

typedef enum event {
	EV_NONE,      /* a marker handled entirely (filename, file_eof, ...) */
	EV_DATA,      /* file_data: data_left bytes of data_file follow */
	EV_END        /* the capture ended, or framing is lost */
} event;

static void file_eof(cs *c, size_t i);

/*
 * Read and apply the next marker.  With file_data, the data is left in
 * the stream (data_left, data_file) for the caller to take.
 */
static event next_marker(cs *c)
{
	sv_ctx *cx = c->cx;
	uint64_t off = sv_offset(c->in);
	size_t avail;
	const unsigned char *p;

	if (c->broken || sv_stopped(cx))
		return EV_END;
	sv_record_boundary(cx, off); /* --tee: a marker is a record of the capture */
	p = sv_peek(c->in, 4, &avail);
	if (avail == 0)
		return EV_END;
	if (avail < 4) {
		cap_truncated(c, off, 4, avail, "marker length");
		sv_skip(c->in, avail);
		c->broken = true;
		return EV_END;
	}
	uint32_t len = le32(p);
	if (c->image_eof) {
		c->markers++;
		cap_report(c, CS_AFTER_EOF, off,
			   "%" PRIu64 " bytes follow the image_eof marker (the extractor: "
			   "\"Unexpected data after image EOF\")", sv_skip(c->in, UINT64_MAX));
		c->broken = true;
		return EV_END;
	}
	if (len == 0 || len > CS_MARKER_MAX) {
		c->markers++;
		cap_report(c, CS_MARKER_LENGTH, off,
			   "marker %" PRIu64 " is %" PRIu32 " bytes long; markers are 1 to %u",
			   c->markers - 1, len, CS_MARKER_MAX);
		c->broken = true;
		return EV_END;
	}
	p = sv_peek(c->in, 4 + (size_t)len, &avail);
	if (avail < 4 + (size_t)len) {
		cap_truncated(c, off + 4, len, avail - 4, "marker");
		sv_skip(c->in, avail);
		c->broken = true;
		return EV_END;
	}
	Image__Marker *m = image__marker__unpack(NULL, len, p + 4);
	bool ok = m && m->body_case != IMAGE__MARKER__BODY__NOT_SET &&
		  !(m->body_case == IMAGE__MARKER__BODY_FILE_EOF && !m->file_eof) &&
		  !(m->body_case == IMAGE__MARKER__BODY_IMAGE_EOF && !m->image_eof);
	sv_skip(c->in, 4 + (uint64_t)len);
	sv_count_record(cx);
	c->markers++;
	if (!ok) {
		cap_report(c, CS_MARKER_MALFORMED, off,
			  "marker %" PRIu64 " %s", c->markers - 1,
			  !m ? "is not a well-formed image.marker"
			     : "has no body, or a false file_eof/image_eof");
		if (m)
			image__marker__free_unpacked(m, NULL);
		c->broken = true; /* a data length may have been lost */
		return EV_END;
	}
	if (m->seq != c->seq)
		cap_report(c, CS_SEQ, off,
			  "seq %" PRIu64 " where %" PRIu64 " comes next", m->seq, c->seq);
	c->seq = m->seq + 1;

	event ev = EV_NONE;
	switch (m->body_case) {
	case IMAGE__MARKER__BODY_FILENAME: {
		const char *name = m->filename ? m->filename : "";
		size_t i = find_file(c, name);
		if (!plain_name(name)) {
			cap_report(c, CS_FILENAME, off,
				  "filename \"%.64s\" is no plain file name", name);
			c->broken = true;
			ev = EV_END;
			break;
		}
		if (i != SIZE_MAX && c->files[i].state == F_DONE) {
			cap_report(c, CS_FILE_TWICE, off,
				  "%s comes again after its file_eof", c->files[i].name);
			c->broken = true;
			ev = EV_END;
			break;
		}
		if (i == SIZE_MAX) {
			if (c->nfiles >= CS_FILES_MAX) {
				cap_report(c, CS_TOO_MANY_FILES, off,
					  "file %zu of the capture: more than %u", c->nfiles,
					  CS_FILES_MAX);
				c->broken = true;
				ev = EV_END;
				break;
			}
			if (c->nfiles == c->capfiles) {
				size_t n = c->capfiles ? 2 * c->capfiles : 64;
				cs_file *g = realloc(c->files, n * sizeof(*g));
				if (!g) {
					c->broken = true;
					ev = EV_END;
					break;
				}
				c->files = g;
				c->capfiles = n;
			}
			char *dup = strdup(name);
			if (!dup) {
				c->broken = true;
				ev = EV_END;
				break;
			}
			i = c->nfiles++;
			c->files[i] = (cs_file){ .name = dup, .first_off = off,
						 .state = c->in_add ? F_BUFFERING : F_STREAMING };
		}
		c->cur = i;
		break;
	}
	case IMAGE__MARKER__BODY_FILE_DATA:
		if (c->cur == SIZE_MAX) {
			cap_report(c, CS_NO_FILE, off,
				  "file_data of %" PRIu32 " bytes with no current file",
				  m->file_data);
			/* The length is known: pass the data and go on. */
			uint64_t got = sv_skip(c->in, m->file_data);
			if (got < m->file_data) {
				cap_truncated(c, off + 4 + len, m->file_data, got, "file data");
				c->broken = true;
				ev = EV_END;
			}
			break;
		}
		c->data_left = m->file_data;
		c->data_file = c->cur;
		c->data_bytes += m->file_data;
		ev = EV_DATA;
		break;
	case IMAGE__MARKER__BODY_FILE_EOF:
		if (c->cur == SIZE_MAX) {
			cap_report(c, CS_NO_FILE, off, "file_eof with no current file");
			break;
		}
		file_eof(c, c->cur);
		c->cur = SIZE_MAX;
		break;
	case IMAGE__MARKER__BODY_IMAGE_EOF:
		for (size_t i = 0; i < c->nfiles; i++)
			if (c->files[i].state != F_DONE) {
				cap_report(c, CS_FILE_INCOMPLETE, off,
					  "image_eof before the file_eof of %s (its name at 0x%"
					  PRIx64 ")", c->files[i].name, c->files[i].first_off);
				break; /* one finding: the capture is cut */
			}
		c->image_eof = true;
		break;
	default:
		break;
	}
	image__marker__free_unpacked(m, NULL);
	return ev;
}

/* Take (copy into buf, or skip with buf NULL) up to n bytes of the chunk. */
static size_t take_data(cs *c, void *buf, size_t n)
{
	uint64_t off = sv_offset(c->in);
	size_t want = n < c->data_left ? n : (size_t)c->data_left;
	size_t got = buf ? sv_read(c->in, buf, want) : (size_t)sv_skip(c->in, want);

	c->data_left -= got;
	if (got < want) {
		uint64_t needed = c->data_left + got;
		if (c->data_file == c->streaming && c->data_file != SIZE_MAX) {
			/* The member being read sees its own end: it reports
			 * that, or else it is said after it (add_streaming). */
			c->cut = true;
			c->cut_off = off;
			c->cut_needed = needed;
			c->cut_got = got;
		} else {
			c->markers--;
			cap_truncated(c, off, needed, got, "file data");
			c->markers++;
		}
		c->data_left = 0;
		c->broken = true;
	}
	return got;
}

/* Data of a file other than the one being verified: hold it or skip it. */
static void stash_data(cs *c)
{
	cs_file *f = &c->files[c->data_file];

	while (c->data_left && !c->broken) {
		if (f->state != F_BUFFERING || f->overflow) {
			take_data(c, NULL, (size_t)c->data_left);
			break;
		}
		size_t n = c->data_left > (1u << 20) ? (1u << 20) : (size_t)c->data_left;
		if (c->buffered + n > CS_BUFFER_MAX) {
			f->overflow = true;
			free(f->buf);
			c->buffered -= f->len;
			f->buf = NULL;
			f->len = f->cap = 0;
			continue;
		}
		if (f->len + n > f->cap) {
			size_t cap = f->cap ? f->cap : 65536;
			while (cap < f->len + n)
				cap *= 2;
			unsigned char *g = realloc(f->buf, cap);
			if (!g) {
				f->overflow = true;
				continue;
			}
			f->buf = g;
			f->cap = cap;
		}
		size_t got = take_data(c, f->buf + f->len, n);
		f->len += got;
		c->buffered += got;
	}
}

/* ---- members ----------------------------------------------------------------- */

/* The member stream of the file being verified: reads the capture. */
static ssize_t member_read(void *arg, void *buf, size_t n)
{
	cs *c = arg;
	size_t me = c->streaming;

	for (;;) {
		if (c->data_left && c->data_file == me)
			return (ssize_t)take_data(c, buf, n);
		if (c->data_left) {
			stash_data(c);
			continue;
		}
		if (me == SIZE_MAX || c->files[me].state == F_DONE)
			return 0;
		if (next_marker(c) == EV_END)
			return 0;
	}
}

typedef struct mem_src {
	const unsigned char *p;
	size_t len, at;
} mem_src;

static ssize_t mem_read(void *arg, void *buf, size_t n)
{
	mem_src *m = arg;
	size_t k = m->len - m->at < n ? m->len - m->at : n;

	memcpy(buf, m->p + m->at, k);
	m->at += k;
	return (ssize_t)k;
}

static int64_t mem_skip(void *arg, uint64_t n)
{
	mem_src *m = arg;
	size_t k = m->len - m->at < n ? m->len - m->at : (size_t)n;

	m->at += k;
	return (int64_t)k;
}

/* Add file i to the dump, reading src. */
static void add_member(cs *c, size_t i, const sv_source *src)
{
	char *display = NULL;
	cs_file *f = &c->files[i];

	if (asprintf(&display, "%s[%s]", c->path, f->name) < 0)
		return;
	sv_member m = { .name = f->name, .display = display, .kind = SV_MEMBER_FILE,
			.size = src ? src->size : SV_NONE, .offset = f->first_off };
	sv_stream *s = NULL;
	if (src && criu_dump_wants(c->dump, &m))
		s = sv_stream_open_source(c->cx, src, display, 0, SV_OPEN_RAW);
	c->in_add = true;
	if (c->add)
		c->add(c->add_arg, c->dump, &m, s);
	else
		criu_dump_add(c->dump, &m, s);
	c->in_add = false;
	sv_close(s);
	to_capture(c);
	free(display);
}

/* A held file is complete: verify it from memory (not inside another add). */
static void verify_held(cs *c, size_t i)
{
	cs_file *f = &c->files[i];

	if (f->overflow) {
		to_capture(c);
		sv_record_none(c->cx);
		sv_report(c->cx, code(CS_UNVERIFIED), f->first_off,
			  "%s is interleaved with other files beyond %u MiB held: its image "
			  "is not verified", f->name, CS_BUFFER_MAX >> 20);
		add_member(c, i, NULL);
	} else {
		mem_src ms = { f->buf ? f->buf : (const unsigned char *)"", f->len, 0 };
		sv_source src = { mem_read, mem_skip, &ms, f->len };
		add_member(c, i, &src);
	}
	free(f->buf);
	c->buffered -= f->overflow ? 0 : f->len;
	f->buf = NULL;
	f->len = f->cap = 0;
	f->queued = false;
}

static void file_eof(cs *c, size_t i)
{
	cs_file *f = &c->files[i];
	file_state was = f->state;

	f->state = F_DONE;
	if (was == F_BUFFERING)
		f->queued = true; /* verified once no add is running */
}

static void flush_held(cs *c)
{
	for (size_t i = 0; i < c->nfiles && !sv_stopped(c->cx); i++)
		if (c->files[i].queued)
			verify_held(c, i);
}

/* ---- the module -------------------------------------------------------------- */

void criu_capture_read(sv_ctx *cx, sv_stream *in, criu_dump *dump, criu_capture_add_fn add,
		       void *arg)
{
	const char *name = sv_stream_name(in);
	cs c = { .cx = cx, .in = in, .path = name ? name : "-", .cur = SIZE_MAX,
		 .streaming = SIZE_MAX, .data_file = SIZE_MAX, .dump = dump, .add = add,
		 .add_arg = arg };

	for (;;) {
		if (c.data_left) {
			stash_data(&c);
			continue;
		}
		event ev = next_marker(&c);
		if (ev == EV_END)
			break;
		if (c.cur != SIZE_MAX && c.files[c.cur].state == F_STREAMING &&
		    c.streaming == SIZE_MAX) {
			/* A new file: verify it as its data comes. */
			size_t i = c.cur;
			sv_source src = { member_read, NULL, &c, SV_NONE };
			unsigned long errors = sv_error_count(cx);
			c.streaming = i;
			add_member(&c, i, &src);
			c.streaming = SIZE_MAX;
			if (c.cut && sv_error_count(cx) == errors) {
				c.markers--;
				cap_truncated(&c, c.cut_off, c.cut_needed, c.cut_got, "file data");
				c.markers++;
			}
			c.cut = false;
			if (c.files[i].state != F_DONE)
				c.files[i].state = F_DRAINING; /* the rest is skipped */
			flush_held(&c);
		}
	}
	to_capture(&c);
	sv_record_none(cx);
	flush_held(&c);
	if (!c.broken && !sv_stopped(cx)) {
		uint64_t end = sv_offset(in);
		if (!c.image_eof) {
			for (size_t i = 0; i < c.nfiles; i++)
				if (c.files[i].state != F_DONE) {
					sv_report(cx, code(CS_FILE_INCOMPLETE), end,
						  "the capture ends before the file_eof of %s",
						  c.files[i].name);
					break;
				}
			sv_report(cx, code(CS_NO_IMAGE_EOF), end,
				  "the capture ends after %" PRIu64 " markers without image_eof",
				  c.markers);
		}
	}
	/*
	 * A capture cut short, unreadable or without image_eof holds part of
	 * a dump: its relations would only repeat that (one cause, one
	 * finding).
	 */
	if (!c.broken && c.image_eof)
		criu_dump_finish(c.dump, NULL);
	to_capture(&c);
	if (sv_want_records(cx)) {
		sv_emit_stat_u64(cx, "stream.markers", c.markers);
		sv_emit_stat_u64(cx, "stream.files", c.nfiles);
		sv_emit_stat_u64(cx, "stream.data_bytes", c.data_bytes);
	}
	for (size_t i = 0; i < c.nfiles; i++) {
		free(c.files[i].name);
		free(c.files[i].buf);
	}
	free(c.files);
}

static void cs_verify(sv_ctx *cx, sv_stream *in)
{
	const char *name = sv_stream_name(in);
	criu_dump *dump = criu_dump_new(cx, name ? name : "-");

	if (dump)
		criu_capture_read(cx, in, dump, NULL, NULL);
	criu_dump_free(dump);
}

/*
 * A capture starts with the marker of its first file: u32 length, then
 * (seq 0 being proto3's default, left out) field 2, the file name.  A
 * later shard starts with field 1, its seq.
 */
static int cs_bid(const sv_bid_input *in)
{
	if (in->is_dir || in->head_len < 6)
		return 0;
	uint32_t len = le32(in->head);
	if (len < 2 || len > CS_MARKER_MAX)
		return 0;
	if (in->head[4] == 0x12 && in->head[5] == len - 2 && len - 2 < 128 &&
	    in->head_len >= 4 + (size_t)len) {
		for (uint32_t i = 6; i < 4 + len; i++)
			if (in->head[i] < 0x20 || in->head[i] >= 0x7f)
				return 0;
		return 85;
	}
	return in->head[4] == 0x08 ? 10 : 0;
}

const sv_format sv_format_criu_stream = {
	.name = "criu-stream",
	.description = "criu-image-streamer captures (criu dump --stream): markers, "
		       "file data, and the CRIU images they carry verified as a dump",
	.codes = cs_codes,
	.ncodes = sizeof(cs_codes) / sizeof(cs_codes[0]),
	.bid = cs_bid,
	.verify = cs_verify,
};
