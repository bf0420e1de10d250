/*
 * The one walker over a CRIU image's layout (criu-images.md "File
 * header (magic)" and "Entries"): its magics, its entries (u32 size, then the message) and the
 * extra data that follows the entries of some types, as the type table
 * (schema/images.h) describes them.  It frames; it reports nothing.
 * What each step found goes back to its consumer, the image verifier
 * (image.c, which applies CRIU's rules) and the JSON decoder
 * (json_decode.c, which frames only, as crit does), and each words its
 * own findings.
 */
#ifndef SV_CRIU_WALK_H
#define SV_CRIU_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "module.h"
#include "formats/criu/schema/images.h"

/* ---- magics ----------------------------------------------------------------- */

typedef enum criu_magic_status {
	CRIU_MAGIC_OK,        /* *type_magic read (and *head_magic, if any) */
	CRIU_MAGIC_CUT        /* the input ends inside a magic (reported by sv_need) */
} criu_magic_status;

/*
 * Read the magic at the start of an image: the type magic alone (image
 * version 1) or a head magic (IMG_COMMON, IMG_SERVICE) and then the type
 * magic.  *head_magic is 0 without a head magic.  A cut magic is
 * reported as truncated, what_magic / what_type naming the missing part.
 */
criu_magic_status criu_walk_magic(sv_ctx *cx, sv_stream *s, const char *what_magic,
				  const char *what_type, uint32_t *head_magic,
				  uint32_t *type_magic);

/* ---- entries ------------------------------------------------------------------ */

typedef struct criu_walk {
	sv_stream *s;
	unsigned size_len;    /* octets of the size in front of a message */
	uint64_t cap;         /* larger messages are not read */
	bool cap_first;       /* the cap is checked before what the input holds */
	unsigned char *buf;   /* bodies too large to be peeked at */
	size_t buf_cap;
	uint64_t pending;     /* a peeked entry's octets, consumed on release */
	bool oom;             /* a body could not be buffered */
} criu_walk;

typedef enum criu_frame_status {
	CRIU_FRAME_OK,        /* the entry is framed: body (when asked for) and size */
	CRIU_FRAME_END,       /* the input ends cleanly where the entry would start */
	CRIU_FRAME_CUT_SIZE,  /* the input ends inside the size: got octets of it */
	CRIU_FRAME_CUT_BODY,  /* the input ends inside the message: got of size octets */
	CRIU_FRAME_TOO_LARGE, /* size is over the cap: the size is read, not the message */
	CRIU_FRAME_NO_MEMORY  /* a large message could not be buffered */
} criu_frame_status;

typedef struct criu_frame {
	uint64_t off;         /* where the entry's size starts */
	uint64_t size;        /* the message's length, from its size */
	uint64_t got;         /* CUT_*: octets the input held */
	const uint8_t *body;  /* OK with a body: the message, valid until the next frame */
} criu_frame;

void criu_walk_init(criu_walk *w, sv_stream *s, unsigned size_len, uint64_t cap,
		    bool cap_first);
void criu_walk_free(criu_walk *w);

/* The input ends here (nothing more to frame). */
bool criu_walk_at_end(criu_walk *w);

/* Done with the body of the last frame: the stream moves past it. */
static inline void criu_walk_release(criu_walk *w)
{
	if (w->pending) {
		sv_skip(w->s, w->pending);
		w->pending = 0;
	}
}

/*
 * Read n octets of a message too large to peek at into w->buf, which
 * grows only as data arrive; the count read (w->oom when out of memory).
 */
size_t criu_walk_read_large(criu_walk *w, size_t n);

/* The size in front of a message: u32, or u64 (the amdgpu plugin's images). */
static inline uint64_t criu_walk_size(const unsigned char *p, unsigned len)
{
	return len == CRIU_PLUGIN_SIZE_LEN ? criu_le64(p) : criu_le32(p);
}

/*
 * Frame the entry at the stream's position.  With want_body the message
 * is read and handed over in f->body; without, it is skipped.  A cut
 * entry leaves the stream at the end of the input.  A size over the cap
 * that the input cannot hold either is CUT_BODY, or TOO_LARGE when the
 * cap is checked first.
 * Inline: it runs once per entry, millions of times in a pagemap.
 */
static inline __attribute__((always_inline)) criu_frame_status
criu_walk_frame(criu_walk *w, criu_frame *f, bool want_body)
{
	sv_stream *s = w->s;
	unsigned n = w->size_len;
	size_t avail;

	criu_walk_release(w);
	f->off = sv_offset(s);
	f->size = 0;
	f->got = 0;
	f->body = NULL;
	const unsigned char *p = sv_peek(s, n, &avail);
	if (avail == 0)
		return CRIU_FRAME_END;
	if (avail < n) {
		f->got = avail;
		sv_skip(s, avail);
		return CRIU_FRAME_CUT_SIZE;
	}
	uint64_t size = criu_walk_size(p, n);
	f->size = size;

	uint64_t left = sv_remaining(s);
	bool over = size > w->cap;
	if (over && w->cap_first) {
		sv_skip(s, n);
		return CRIU_FRAME_TOO_LARGE;
	}
	if (left != UINT64_MAX && size > left - n) {
		f->got = left - n;
		sv_skip(s, left);
		return CRIU_FRAME_CUT_BODY;
	}
	if (over) {
		sv_skip(s, n);
		return CRIU_FRAME_TOO_LARGE;
	}
	if (!want_body) {
		sv_skip(s, n);
		f->got = sv_skip(s, size);
		return f->got < size ? CRIU_FRAME_CUT_BODY : CRIU_FRAME_OK;
	}
	if (size + n <= SV_PEEK_MAX) {
		/* Small messages are handed over from the stream's buffer. */
		p = sv_peek(s, (size_t)size + n, &avail);
		if (avail < (size_t)size + n) {
			f->got = avail - n;
			sv_skip(s, avail);
			return CRIU_FRAME_CUT_BODY;
		}
		f->body = p + n;
		w->pending = size + n;
		return CRIU_FRAME_OK;
	}
	sv_skip(s, n);
	f->got = criu_walk_read_large(w, (size_t)size);
	if (w->oom)
		return CRIU_FRAME_NO_MEMORY;
	if (f->got < size)
		return CRIU_FRAME_CUT_BODY;
	f->body = w->buf;
	return CRIU_FRAME_OK;
}

/* ---- extra data ------------------------------------------------------------------ */

/*
 * What the walker hands over while it follows the extra data after an
 * entry (criu_walk_blobs).  Each callback consumes what it is given from
 * the stream, or notes it to consume once the walk returns (the JSON
 * decoder's --nopl skips an entry's pieces at once), and returns false to
 * stop the walk.
 */
typedef struct criu_blob_events {
	void *arg;
	/* Item k (of criu_blob_items()) of the data: frame its message and
	 * unpack it into *m, valid until the next item. */
	bool (*item)(void *arg, uint64_t k, const ProtobufCMessage **m);
	/* Piece `piece` of the data after message m (the entry or an item),
	 * len octets; item is the item's number, 0 without items. */
	bool (*piece)(void *arg, const ProtobufCMessage *m, uint64_t item, unsigned piece,
		      uint64_t len);
	/* len octets of zero padding after the last piece. */
	bool (*padding)(void *arg, uint64_t len);
} criu_blob_events;

/*
 * Walk the extra data of kind after entry m: items, pieces and padding
 * in the order the type table lays them out.  False when a callback
 * stopped the walk.
 */
bool criu_walk_blobs(criu_blob_kind kind, const ProtobufCMessage *m,
		     const criu_blob_events *ev);

#endif /* SV_CRIU_WALK_H */
