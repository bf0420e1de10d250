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
 * A capture split over several shards (the streamer's --shard-fds) is
 * given as a directory of its shard files: the extractor keeps the next
 * marker of every shard and takes them by seq (src/extract.rs,
 * ImageDeserializer: one PendingMarker per shard in a heap), so seq is
 * gapless across the shards, not within one.  The shards are read side by
 * side, one pending marker each (memory: one marker per shard); a seq no
 * shard holds (a shard missing, markers lost) stalls the extractor for
 * ever, and a seq two shards hold (a shard given twice) leaves the second
 * marker pending for ever ("Image EOF marker came unexpectedly").
 * Findings about the framing name the shard file and an offset inside it.
 *
 * The images the capture carries are verified as a CRIU dump with the
 * criu module's dump API (formats/criu/dump/dump.h), each file fed as a member
 * whose stream reads the capture's own bytes: nothing is extracted.  A
 * file whose data arrives while another file is being verified (the
 * streamer interleaves files CRIU writes at the same time) is held in
 * memory, up to CS_BUFFER_MAX bytes in all, and verified at its file_eof.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "module.h"
#include "internal.h"
#include "formats/criu/dump/dump.h"
#include "formats/criu/image/raw.h"
#include "formats/criu-stream/capture.h"
#include "image-streamer-marker.pb-c.h"

#define CS_MARKER_MAX 10240u           /* markers are under 10 KiB */
#define CS_BUFFER_MAX (64u << 20)      /* interleaved file data held at most */
#define CS_FILES_MAX 100000u           /* distinct files in one capture */
#define CS_SHARDS_MAX 1024u            /* shard files read side by side */

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
	X(CS_SHARD_REPEAT, "criu-stream.shard.repeat", ERROR,                            \
	  "a seq that another shard holds too, or that came already (a shard given "    \
	  "twice?): the extractor never takes the second marker")                       \
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
	size_t first_shard;  /* the shard that marker is in */
	bool overflow;       /* did not fit CS_BUFFER_MAX */
	bool queued;         /* complete in memory, to be verified */
} cs_file;

/* One shard of the capture, and its next marker (several shards only). */
typedef struct shard {
	sv_stream *s;
	char *name;            /* the shard file as diagnostics name it */
	char *member;          /* its name in the directory */
	Image__Marker *m;      /* the pending marker, read, not yet applied */
	uint64_t m_off;        /* its offset in the shard */
	uint32_t m_len;
	bool ended;
} shard;

typedef struct cs {
	sv_ctx *cx;
	sv_stream *in;         /* the shard being read */
	const char *path;
	shard *shards;
	size_t nshards, cur_shard;
	bool multi;            /* a directory of shards: seq runs across them */
	bool scan;             /* first pass over the shards: markers only, quiet */
	bool fault;            /* the first pass found seq broken across shards */
	criu_dump *dump;
	bool own_dump;         /* run() made dump and frees it */
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

/* The file of reports about the capture: the input, or the shard being read. */
static const char *cap_file(const cs *c)
{
	return c->multi ? c->shards[c->cur_shard].name : NULL;
}

/* Reports about the capture itself: its own offsets, no member file. */
static void to_capture(cs *c)
{
	sv_set_file(c->cx, cap_file(c));
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

	if (c->scan)
		return; /* the second pass says it, where it comes */
	sv_set_file(c->cx, cap_file(c));
	sv_set_record(c->cx, c->markers ? c->markers - 1 : 0, "marker");
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

	if (c->scan)
		return;
	sv_set_file(c->cx, cap_file(c));
	sv_set_record(c->cx, c->markers, "marker");
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
 * Read the next marker of shard k into its pending slot: 1, or 0 at its
 * clean end, or -1 when its framing breaks (reported; the capture is lost).
 */
static int read_marker(cs *c, size_t k)
{
	sv_ctx *cx = c->cx;
	shard *sh = &c->shards[k];
	size_t avail;
	const unsigned char *p;

	c->cur_shard = k;
	c->in = sh->s;
	uint64_t off = sv_offset(c->in);
	if (!c->multi)
		sv_record_boundary(cx, off); /* --tee: a marker is a record of the capture */
	p = sv_peek(c->in, 4, &avail);
	if (avail == 0) {
		sh->ended = true;
		return 0;
	}
	if (avail < 4) {
		cap_truncated(c, off, 4, avail, "marker length");
		sv_skip(c->in, avail);
		c->broken = true;
		return -1;
	}
	uint32_t len = le32(p);
	if (c->image_eof) {
		c->markers++;
		cap_report(c, CS_AFTER_EOF, off,
			   "%" PRIu64 " bytes follow the image_eof marker (the extractor: "
			   "\"Unexpected data after image EOF\")", sv_skip(c->in, UINT64_MAX));
		c->broken = true;
		return -1;
	}
	if (len == 0 || len > CS_MARKER_MAX) {
		c->markers++;
		cap_report(c, CS_MARKER_LENGTH, off,
			   "marker %" PRIu64 " is %" PRIu32 " bytes long; markers are 1 to %u",
			   c->markers - 1, len, CS_MARKER_MAX);
		c->broken = true;
		return -1;
	}
	p = sv_peek(c->in, 4 + (size_t)len, &avail);
	if (avail < 4 + (size_t)len) {
		cap_truncated(c, off + 4, len, avail - 4, "marker");
		sv_skip(c->in, avail);
		c->broken = true;
		return -1;
	}
	Image__Marker *m = image__marker__unpack(NULL, len, p + 4);
	bool ok = m && m->body_case != IMAGE__MARKER__BODY__NOT_SET &&
		  !(m->body_case == IMAGE__MARKER__BODY_FILE_EOF && !m->file_eof) &&
		  !(m->body_case == IMAGE__MARKER__BODY_IMAGE_EOF && !m->image_eof);
	sv_skip(c->in, 4 + (uint64_t)len);
	if (!c->scan)
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
		return -1;
	}
	sh->m = m;
	sh->m_off = off;
	sh->m_len = len;
	return 1;
}

/* Stop: a finding about shard k's pending marker ended the capture. */
__attribute__((format(printf, 4, 5)))
static event shard_stop(cs *c, size_t k, int code_, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	bool scan = c->scan;

	c->cur_shard = k;
	c->in = c->shards[k].s;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The first pass says what only the order of the shards shows. */
	if (code_ == CS_SEQ || code_ == CS_SHARD_REPEAT) {
		c->scan = false;
		c->fault = true;
	}
	cap_report(c, code_, c->shards[k].m_off, "%s", msg);
	c->scan = scan;
	c->broken = true;
	return EV_END;
}

/*
 * Several shards: every shard's next marker is read, and the one with the
 * seq that comes next is taken, as the extractor's heap does.  Returns the
 * shard, or SIZE_MAX with the reason reported (or at the end of all).
 */
static size_t pick_shard(cs *c)
{
	size_t best = SIZE_MAX;

	for (size_t k = 0; k < c->nshards; k++)
		if (!c->shards[k].m && !c->shards[k].ended && read_marker(c, k) < 0)
			return SIZE_MAX;
	for (size_t k = 0; k < c->nshards; k++) {
		const shard *sh = &c->shards[k];
		if (!sh->m)
			continue;
		if (c->image_eof) {
			shard_stop(c, k, CS_AFTER_EOF, "a marker (seq %" PRIu64 ") follows the "
				   "image_eof marker (the extractor: \"Image EOF marker came "
				   "unexpectedly\")", sh->m->seq);
			return SIZE_MAX;
		}
		if (sh->m->seq < c->seq) {
			shard_stop(c, k, CS_SHARD_REPEAT, "seq %" PRIu64 " came already (the "
				   "next is %" PRIu64 "): the extractor never takes this marker",
				   sh->m->seq, c->seq);
			return SIZE_MAX;
		}
		if (best != SIZE_MAX && sh->m->seq == c->shards[best].m->seq &&
		    sh->m->seq == c->seq) {
			shard_stop(c, k, CS_SHARD_REPEAT, "seq %" PRIu64 " is also the next "
				   "marker of %s (a shard given twice?): the extractor never "
				   "takes the second", sh->m->seq, c->shards[best].name);
			return SIZE_MAX;
		}
		if (best == SIZE_MAX || sh->m->seq < c->shards[best].m->seq)
			best = k;
	}
	if (best != SIZE_MAX && c->shards[best].m->seq != c->seq) {
		shard_stop(c, best, CS_SEQ, "seq %" PRIu64 " where %" PRIu64 " comes next, and "
			   "no shard holds %" PRIu64 " (a shard missing, or markers lost): the "
			   "extractor waits for it for ever", c->shards[best].m->seq, c->seq,
			   c->seq);
		return SIZE_MAX;
	}
	return best;
}

/*
 * Read and apply the next marker.  With file_data, the data is left in
 * the stream (data_left, data_file) for the caller to take.
 */
static event next_marker(cs *c)
{
	size_t k = 0;

	if (c->broken || sv_stopped(c->cx))
		return EV_END;
	if (c->multi) {
		k = pick_shard(c);
		if (k == SIZE_MAX)
			return EV_END;
	} else if (read_marker(c, 0) <= 0) {
		return EV_END;
	}
	shard *sh = &c->shards[k];
	Image__Marker *m = sh->m;
	uint64_t off = sh->m_off;
	uint32_t len = sh->m_len;

	sh->m = NULL;
	c->cur_shard = k;
	c->in = sh->s;
	if (c->scan) {
		/* Markers only: data is passed over; a short one ends the pass. */
		if (m->body_case == IMAGE__MARKER__BODY_FILE_DATA &&
		    sv_skip(c->in, m->file_data) < m->file_data)
			c->broken = true;
		c->image_eof |= m->body_case == IMAGE__MARKER__BODY_IMAGE_EOF;
		c->seq = m->seq + 1;
		image__marker__free_unpacked(m, NULL);
		return c->broken ? EV_END : EV_NONE;
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
						 .first_shard = c->cur_shard,
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
					  PRIx64 "%s%s)", c->files[i].name, c->files[i].first_off,
					  c->multi ? " of " : "",
					  c->multi ? c->shards[c->files[i].first_shard].name : "");
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
		sv_set_file(c->cx, c->multi ? c->shards[f->first_shard].name : NULL);
		sv_record_none(c->cx);
		sv_report(c->cx, code(CS_UNVERIFIED), f->first_off,
			  "%s is interleaved with other files beyond %u MiB held: its image "
			  "is not verified", f->name, CS_BUFFER_MAX >> 20);
		add_member(c, i, NULL);
	} else {
		criu_held ms;
		sv_source src = criu_held_source(&ms, f->buf, f->len);
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

/* Verify the capture of c->shards (one stream, or a directory of shards). */
static void run(cs *c)
{
	sv_ctx *cx = c->cx;

	c->cur = c->streaming = c->data_file = SIZE_MAX;
	c->in = c->shards[0].s;
	if (!c->dump) {
		c->dump = criu_dump_new(cx, c->path);
		c->own_dump = true;
	}
	if (!c->dump)
		return;
	for (;;) {
		if (c->data_left) {
			stash_data(c);
			continue;
		}
		event ev = next_marker(c);
		if (ev == EV_END)
			break;
		if (c->cur != SIZE_MAX && c->files[c->cur].state == F_STREAMING &&
		    c->streaming == SIZE_MAX) {
			/* A new file: verify it as its data comes. */
			size_t i = c->cur;
			sv_source src = { member_read, NULL, c, SV_NONE };
			unsigned long errors = sv_error_count(cx);
			c->streaming = i;
			add_member(c, i, &src);
			c->streaming = SIZE_MAX;
			if (c->cut && sv_error_count(cx) == errors) {
				c->markers--;
				cap_truncated(c, c->cut_off, c->cut_needed, c->cut_got, "file data");
				c->markers++;
			}
			c->cut = false;
			if (c->files[i].state != F_DONE)
				c->files[i].state = F_DRAINING; /* the rest is skipped */
			flush_held(c);
		}
	}
	to_capture(c);
	sv_record_none(cx);
	flush_held(c);
	if (!c->broken && !sv_stopped(cx)) {
		/* Several shards have no one end: the capture as a whole is said. */
		uint64_t end = c->multi ? SV_NONE : sv_offset(c->in);
		if (c->multi)
			sv_set_file(cx, NULL);
		if (!c->image_eof) {
			for (size_t i = 0; i < c->nfiles; i++)
				if (c->files[i].state != F_DONE) {
					sv_report(cx, code(CS_FILE_INCOMPLETE), end,
						  "the capture ends before the file_eof of %s",
						  c->files[i].name);
					break;
				}
			sv_report(cx, code(CS_NO_IMAGE_EOF), end,
				  "the capture ends after %" PRIu64 " markers without image_eof",
				  c->markers);
		}
	}
	/*
	 * A capture cut short, unreadable or without image_eof holds part of
	 * a dump: its relations would only repeat that (one cause, one
	 * finding).
	 */
	if (!c->broken && c->image_eof)
		criu_dump_finish(c->dump, NULL);
	if (c->own_dump)
		criu_dump_free(c->dump);
	sv_set_file(cx, NULL);
	if (sv_want_records(cx)) {
		sv_emit_stat_u64(cx, "stream.markers", c->markers);
		sv_emit_stat_u64(cx, "stream.files", c->nfiles);
		sv_emit_stat_u64(cx, "stream.data_bytes", c->data_bytes);
		if (c->multi)
			sv_emit_stat_u64(cx, "stream.shards", c->nshards);
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].name);
		free(c->files[i].buf);
	}
	free(c->files);
	for (size_t k = 0; k < c->nshards; k++) {
		if (c->shards[k].m)
			image__marker__free_unpacked(c->shards[k].m, NULL);
		c->shards[k].m = NULL;
	}
}

void criu_capture_read(sv_ctx *cx, sv_stream *in, criu_dump *dump, criu_capture_add_fn add,
		       void *arg)
{
	const char *name = sv_stream_name(in);
	shard one = { .s = in };
	cs c = { .cx = cx, .path = name ? name : "-", .shards = &one, .nshards = 1,
		 .dump = dump, .add = add, .add_arg = arg };

	run(&c);
}

static void cs_verify(sv_ctx *cx, sv_stream *in)
{
	const char *name = sv_stream_name(in);
	shard one = { .s = in };
	cs c = { .cx = cx, .path = name ? name : "-", .shards = &one, .nshards = 1 };

	run(&c);
}

/* Open every shard: for the first pass on a quiet context, else on cx. */
static bool open_shards(sv_ctx *cx, sv_ctx *quiet, sv_members *src, shard *shards, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		shard *sh = &shards[k];
		sh->ended = false;
		sh->s = quiet ? sv_open_at(quiet, sv_members_dirfd(src), sh->member, sh->name,
					   SV_OPEN_RAW) :
				sv_members_open_name(cx, src, sh->member, sh->name);
		if (!sh->s) {
			if (!quiet) {
				sv_set_file(cx, sh->name);
				sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
					  "a shard of the capture cannot be read: the capture "
					  "cannot be reassembled");
				sv_set_file(cx, NULL);
			}
			return false;
		}
	}
	return true;
}

static void close_shards(shard *shards, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		sv_close(shards[k].s);
		shards[k].s = NULL;
		if (shards[k].m)
			image__marker__free_unpacked(shards[k].m, NULL);
		shards[k].m = NULL;
	}
}

/*
 * A directory of shards: every file in it is a shard of one capture (in
 * name order; the order matters only to which of two shards is named).
 * First the markers alone (data passed over, on a quiet context, findings
 * left to the second pass but for a seq broken across the shards), so that
 * such a break is said before any image is read: an image it cuts would
 * only repeat it.  Then everything, from the start again.
 */
static void cs_verify_members(sv_ctx *cx, sv_members *src)
{
	const sv_member *m;
	shard *shards = NULL;
	size_t n = 0, cap = 0;
	char *dir = NULL;
	sv_ctx *quiet = NULL;
	cs c;

	if (!sv_members_is_dir(src)) {
		sv_report(cx, &sv_core_codes[SV_CORE_UNSUPPORTED], SV_NONE,
			  "the shards of a capture are read side by side: give them as a "
			  "directory (or one shard as a file), not inside an archive");
		return;
	}
	dir = strdup(sv_members_path(src));
	if (!dir)
		goto oom;
	for (size_t l = strlen(dir); l > 1 && dir[l - 1] == '/'; l--)
		dir[l - 1] = 0;
	while ((m = sv_members_next(src)) && !sv_stopped(cx)) {
		if (n == CS_SHARDS_MAX) {
			sv_report(cx, &sv_core_codes[SV_CORE_UNSUPPORTED], SV_NONE,
				  "more than %u shard files: streamverify reads at most %u "
				  "side by side", CS_SHARDS_MAX, CS_SHARDS_MAX);
			goto out;
		}
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			shard *g = realloc(shards, nc * sizeof(*g));
			if (!g)
				goto oom;
			shards = g;
			cap = nc;
		}
		shard *sh = &shards[n++];
		*sh = (shard){ .s = NULL };
		sh->member = strdup(m->name);
		if (!sh->member || asprintf(&sh->name, "%s/%s", dir, m->name) < 0) {
			sh->name = NULL;
			goto oom;
		}
	}
	if (!n || sv_stopped(cx))
		goto out;
	quiet = sv_ctx_quiet_new(dir);
	if (!quiet)
		goto oom;
	if (open_shards(cx, quiet, src, shards, n)) {
		c = (cs){ .cx = cx, .path = dir, .multi = true, .shards = shards, .nshards = n,
			  .scan = true };
		while (next_marker(&c) != EV_END)
			;
		if (c.fault)
			goto out;
	}
	close_shards(shards, n);
	if (!open_shards(cx, NULL, src, shards, n))
		goto out;
	c = (cs){ .cx = cx, .path = dir, .multi = true, .shards = shards, .nshards = n };
	run(&c);
	goto out;
oom:
	sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE, "out of memory for the shards");
out:
	close_shards(shards, n);
	for (size_t k = 0; k < n; k++) {
		free(shards[k].name);
		free(shards[k].member);
	}
	free(shards);
	free(dir);
	sv_ctx_quiet_free(quiet);
}

/* Whether a file's first octets are a marker: a length, then seq or filename. */
static bool shard_head(const unsigned char *h, size_t n, bool *first)
{
	if (n < 6)
		return false;
	uint32_t len = le32(h);
	*first = h[4] == 0x12;
	return len >= 2 && len <= CS_MARKER_MAX && (h[4] == 0x08 || h[4] == 0x12);
}

/*
 * A directory is a capture's shards when every file in it starts with a
 * marker and one starts with the first (seq 0: no seq field).
 */
static int dir_bid(int dirfd)
{
	int fd = dirfd >= 0 ? dup(dirfd) : -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t shards = 0;
	bool first = false, other = false;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (!other && (e = readdir(d))) {
		struct stat st;
		unsigned char h[8];
		bool f = false;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int sfd = openat(dirfd, e->d_name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (sfd < 0 || fstat(sfd, &st) != 0 || !S_ISREG(st.st_mode) ||
		    ++shards > CS_SHARDS_MAX) {
			other = true;
		} else if (st.st_size > 0) {
			ssize_t got = pread(sfd, h, sizeof(h), 0);
			if (got < 0 || !shard_head(h, (size_t)got, &f))
				other = true;
			first |= f;
		}
		if (sfd >= 0)
			close(sfd);
	}
	closedir(d);
	return !other && first ? 80 : 0;
}

/*
 * A capture starts with the marker of its first file: u32 length, then
 * (seq 0 being proto3's default, left out) field 2, the file name.  A
 * later shard starts with field 1, its seq.
 */
static int cs_bid(const sv_bid_input *in)
{
	if (in->is_dir)
		return dir_bid(in->dirfd);
	if (in->head_len < 6)
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
		       "file data, and the CRIU images they carry verified as a dump; a "
		       "capture of several shards as the directory of its shard files",
	.codes = cs_codes,
	.ncodes = sizeof(cs_codes) / sizeof(cs_codes[0]),
	.bid = cs_bid,
	.verify = cs_verify,
	.verify_members = cs_verify_members,
};
