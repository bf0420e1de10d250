/*
 * A streaming reader of the JSON that encode takes: it walks the top level
 * ({"magic": ..., "entries": [ ... ]}) itself, reading the input in bounded
 * chunks, and hands out the text of one value at a time (an element of an
 * array, the value of a member) for jansson to parse.  Memory is then
 * bounded by the largest value, not by the document.
 *
 * Positions (byte offset, line, column) are those of the whole document,
 * counted across chunks.  Where the reader itself finds the structure
 * broken (a missing ',' or '}', text after the end) it words the error as
 * jansson would for the whole document, so a message names the same place
 * and reads the same either way.
 */
#ifndef SV_CRIU_JSON_STREAM_H
#define SV_CRIU_JSON_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "module.h"

#define CJS_CHUNK (1u << 16)

/* A value's text and where it starts in the document. */
typedef struct cjs_text {
	const char *text; /* valid until the next call on the reader */
	size_t len;
	uint64_t off;     /* byte offset of text[0] */
	uint64_t line;    /* line of text[0], from 1 */
	uint64_t col;     /* column of text[0] (bytes), from 1 */
} cjs_text;

/* A structural error found by the reader, worded as jansson words it. */
typedef struct cjs_error {
	uint64_t off;     /* just after the offending token, as jansson's position */
	uint64_t line, col;
	char text[200];
} cjs_error;

typedef struct cjs {
	sv_stream *in;
	unsigned char buf[CJS_CHUNK];
	size_t pos, len;       /* unread bytes are buf[pos..len) */
	bool eof;
	uint64_t off;          /* document offset of buf[pos] */
	uint64_t line;         /* line of buf[pos] */
	uint64_t line_start;   /* offset of the first byte of that line */
	char *val;             /* the last value captured */
	size_t val_len, val_cap;
	bool oom;              /* a value did not fit in memory */
	cjs_error err;
} cjs;

/* What the calls below return. */
enum { CJS_FAIL = -1, CJS_END = 0, CJS_ITEM = 1 };

void cjs_init(cjs *s, sv_stream *in);
void cjs_free(cjs *s);

/* The next byte that is not blank, not consumed; -1 at the end. */
int cjs_peek(cjs *s);

/* Consume the next non-blank byte, which the caller peeked. */
void cjs_skip_byte(cjs *s);

/*
 * The key of the next member of an object whose '{' was consumed (a JSON
 * string with its quotes) in *key; CJS_END after the '}'; CJS_FAIL on an
 * error (s->err, or s->oom).  first: no member was read yet.  The caller
 * decodes the key, then calls cjs_colon() (jansson checks a key before
 * the ':' after it) and reads the value.
 */
int cjs_member(cjs *s, bool first, cjs_text *key);
bool cjs_colon(cjs *s);

/* The next element of an array whose '[' was consumed, as cjs_member. */
int cjs_element(cjs *s, bool first, cjs_text *v);

/* The text of the next value (a whole object, array, string or scalar). */
int cjs_value(cjs *s, cjs_text *v);

/* Everything left, up to max bytes (more: CJS_FAIL with s->oom). */
int cjs_rest(cjs *s, size_t max, cjs_text *v);

/* Nothing but blanks may follow the top-level value. */
bool cjs_end(cjs *s);

/* Line and column of the byte pos bytes into t's text. */
void cjs_locate(const cjs_text *t, size_t pos, uint64_t *line, uint64_t *col);

/*
 * The value text[0..len) as json_loadb (JSON_DECODE_ANY) reads it, when
 * it is plain enough to be read quickly (see json_stream.c); NULL
 * otherwise, and the caller asks jansson.
 */
json_t *cjs_fast_parse(const char *text, size_t len);

#endif /* SV_CRIU_JSON_STREAM_H */
