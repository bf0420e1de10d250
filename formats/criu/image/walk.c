/*
 * The walker over CRIU images' layout (walk.h): CRIU 3.17.1 criu/image.c
 * (magics), criu/protobuf.c (do_pb_read_one: u32 size, then the message)
 * and the readers of the extra data named in schema/images.h.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/criu/image/walk.h"

/* A large body's buffer grows at most this far ahead of the data read. */
#define GROW_AHEAD (1u << 20)
#define BUF_FIRST 4096u

criu_magic_status criu_walk_magic(sv_ctx *cx, sv_stream *s, const char *what_magic,
				  const char *what_type, uint32_t *head_magic,
				  uint32_t *type_magic)
{
	unsigned char b[CRIU_MAGIC_LEN];

	*head_magic = 0;
	if (!sv_need(cx, s, b, CRIU_MAGIC_LEN, what_magic))
		return CRIU_MAGIC_CUT;
	uint32_t m = criu_le32(b);
	if (m == CRIU_IMG_COMMON_MAGIC || m == CRIU_IMG_SERVICE_MAGIC) {
		*head_magic = m;
		if (!sv_need(cx, s, b, CRIU_MAGIC_LEN, what_type))
			return CRIU_MAGIC_CUT;
		m = criu_le32(b);
	}
	*type_magic = m;
	return CRIU_MAGIC_OK;
}

void criu_walk_init(criu_walk *w, sv_stream *s, unsigned size_len, uint64_t cap,
		    bool cap_first)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->size_len = size_len;
	w->cap = cap;
	w->cap_first = cap_first;
}

void criu_walk_free(criu_walk *w)
{
	free(w->buf);
	w->buf = NULL;
	w->buf_cap = 0;
}

bool criu_walk_at_end(criu_walk *w)
{
	return sv_at_end(w->s);
}

size_t criu_walk_read_large(criu_walk *w, size_t n)
{
	size_t have = 0;

	w->oom = false;
	while (have < n) {
		size_t want = n - have;
		if (have + want > w->buf_cap) {
			size_t cap = w->buf_cap ? w->buf_cap : BUF_FIRST;
			while (cap < have + want && cap < have + GROW_AHEAD)
				cap *= 2;
			if (cap > n)
				cap = n;
			unsigned char *nb = realloc(w->buf, cap);
			if (!nb) {
				w->oom = true;
				return have;
			}
			w->buf = nb;
			w->buf_cap = cap;
			want = cap - have;
		}
		size_t got = sv_read(w->s, w->buf + have, want);
		have += got;
		if (got < want)
			break;
	}
	return have;
}

bool criu_walk_blobs(criu_blob_kind kind, const ProtobufCMessage *m,
		     const criu_blob_events *ev)
{
	const criu_blob_layout *bl = &criu_blob_layouts[kind];
	uint64_t items = bl->item ? criu_blob_items(kind, m) : 1;

	for (uint64_t k = 0; k < items; k++) {
		const ProtobufCMessage *at = m;
		uint64_t len = 0;

		if (bl->item && !ev->item(ev->arg, k, &at))
			return false;
		for (unsigned piece = 0; piece < bl->pieces; piece++) {
			if (!criu_blob_length(kind, at, piece, &len))
				return true; /* nothing follows this entry */
			if (!ev->piece(ev->arg, at, k, piece, len))
				return false;
		}
		if (bl->align > 1 && bl->pieces && !ev->padding(ev->arg, criu_pad_len(len, bl->align)))
			return false;
	}
	return true;
}
