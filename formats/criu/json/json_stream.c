/* Streaming reader of encode's JSON (see json_stream.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/criu/json/json_stream.h"

/*
 * Values nest at most this deep before the reader stops looking for their
 * end and hands what it has to jansson, which refuses it (its own limit,
 * JSON_PARSER_MAX_DEPTH, is 2048; CRIU's messages nest a few levels).
 */
#define CJS_MAX_DEPTH 2048

/* Longest token jansson quotes in "near '...'" (its lexer's limit). */
#define NEAR_MAX 20

void cjs_init(cjs *s, sv_stream *in)
{
	memset(s, 0, sizeof(*s));
	s->in = in;
	s->line = 1;
}

void cjs_free(cjs *s)
{
	free(s->val);
	s->val = NULL;
	s->val_cap = s->val_len = 0;
}

static bool fill(cjs *s)
{
	if (s->pos < s->len)
		return true;
	if (s->eof)
		return false;
	s->pos = 0;
	s->len = sv_read(s->in, s->buf, sizeof(s->buf));
	if (s->len == 0)
		s->eof = true;
	return s->len > 0;
}

/* Consume buf[pos..pos+n), counting its lines. */
static void consume(cjs *s, size_t n)
{
	const unsigned char *p = s->buf + s->pos, *end = p + n, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		s->line++;
		s->line_start = s->off + (uint64_t)(nl - (s->buf + s->pos)) + 1;
		p = nl + 1;
	}
	s->pos += n;
	s->off += n;
}

static bool blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cjs_peek(cjs *s)
{
	while (fill(s)) {
		size_t i = s->pos;
		while (i < s->len && blank(s->buf[i]))
			i++;
		consume(s, i - s->pos);
		if (s->pos < s->len)
			return s->buf[s->pos];
	}
	return -1;
}

void cjs_skip_byte(cjs *s)
{
	if (cjs_peek(s) >= 0)
		consume(s, 1);
}

static bool append(cjs *s, const unsigned char *p, size_t n)
{
	if (!n)
		return true;
	if (n > s->val_cap - s->val_len) {
		size_t cap = s->val_cap ? s->val_cap : 4096;
		while (cap - s->val_len < n) {
			if (cap > SIZE_MAX / 2) {
				s->oom = true;
				return false;
			}
			cap *= 2;
		}
		char *nv = realloc(s->val, cap);
		if (!nv) {
			s->oom = true;
			return false;
		}
		s->val = nv;
		s->val_cap = cap;
	}
	memcpy(s->val + s->val_len, p, n);
	s->val_len += n;
	return true;
}

/* Never a NULL text, so that jansson is handed a buffer even when empty. */
static bool has_buffer(cjs *s)
{
	size_t len = s->val_len;

	if (s->val)
		return true;
	if (!append(s, (const unsigned char *)"", 1))
		return false;
	s->val_len = len;
	return true;
}

/* ---- errors of the structure, worded as jansson's ------------------------ */

static int next_byte(cjs *s)
{
	if (!fill(s))
		return -1;
	int c = s->buf[s->pos];
	consume(s, 1);
	return c;
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool in_number(int c)
{
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' ||
	       c == '-';
}

/*
 * msg about the token at the reader's position: jansson quotes the token
 * when it is at most 20 bytes long and says "near end of file" at the
 * end; its position is just after the token.
 */
static int structure_error(cjs *s, const char *msg)
{
	char tok[NEAR_MAX + 2];
	size_t n = 0;
	bool whole = true;
	int c = cjs_peek(s);

	if (c < 0) {
		snprintf(s->err.text, sizeof(s->err.text), "%s near end of file", msg);
	} else {
		consume(s, 1);
		tok[n++] = (char)c;
		if (c == '"') {
			/* A string token runs to its closing quote. */
			bool esc = false;
			int d;
			while ((d = next_byte(s)) >= 0) {
				if (n <= NEAR_MAX)
					tok[n++] = (char)d;
				else
					whole = false;
				if (esc)
					esc = false;
				else if (d == '\\')
					esc = true;
				else if (d == '"')
					break;
			}
		} else if (is_alpha(c) || c == '-' || (c >= '0' && c <= '9') || c >= 0x80) {
			/* Words, numbers and a character of several bytes are one token. */
			bool (*same)(int) = is_alpha(c) ? is_alpha : in_number;
			int left = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
			while (fill(s)) {
				int d = s->buf[s->pos];
				if (c >= 0x80 ? left-- <= 0 || (d & 0xc0) != 0x80 : !same(d))
					break;
				consume(s, 1);
				if (n <= NEAR_MAX)
					tok[n++] = (char)d;
				else
					whole = false;
			}
		}
		if (whole && n <= NEAR_MAX) {
			tok[n] = '\0';
			snprintf(s->err.text, sizeof(s->err.text), "%s near '%s'", msg, tok);
		} else {
			snprintf(s->err.text, sizeof(s->err.text), "%s", msg);
		}
	}
	s->err.off = s->off;
	s->err.line = s->line;
	s->err.col = s->off - s->line_start + 1;
	return CJS_FAIL;
}

/* ---- values -------------------------------------------------------------- */

static bool delimiter(int c)
{
	return blank(c) || c == ',' || c == ':' || c == '[' || c == ']' || c == '{' ||
	       c == '}' || c == '"';
}

/*
 * The text of the value starting at the next byte (not blank): an object
 * or array to its matching bracket, a string to its closing quote, a
 * scalar to the next delimiter.  A closing bracket that does not match
 * ends the value there, and the input's end ends it too: the text then
 * holds the error, for jansson to find and word.
 */
static int capture(cjs *s, cjs_text *v)
{
	char stack[CJS_MAX_DEPTH];
	size_t depth = 0;
	bool in_str = false, esc = false, scalar = false, started = false, done = false;

	s->val_len = 0;
	v->off = s->off;
	v->line = s->line;
	v->col = s->off - s->line_start + 1;
	while (!done && fill(s)) {
		const unsigned char *b = s->buf;
		size_t i = s->pos;
		if (!started) {
			int c = b[i++];
			started = true;
			if (c == '{' || c == '[')
				stack[depth++] = c == '{' ? '}' : ']';
			else if (c == '"')
				in_str = true;
			else if (delimiter(c))
				done = true; /* a lone ',', ':', '}' or ']': jansson's "unexpected token" */
			else
				scalar = true;
		}
		while (!done && i < s->len) {
			unsigned char c = b[i];
			if (in_str) {
				i++;
				if (esc)
					esc = false;
				else if (c == '\\')
					esc = true;
				else if (c == '"') {
					in_str = false;
					done = depth == 0;
				}
				continue;
			}
			if (scalar) {
				if (delimiter(c))
					done = true;
				else
					i++;
				continue;
			}
			i++;
			switch (c) {
			case '"':
				in_str = true;
				break;
			case '{':
			case '[':
				if (depth == CJS_MAX_DEPTH)
					done = true;
				else
					stack[depth++] = c == '{' ? '}' : ']';
				break;
			case '}':
			case ']':
				if (stack[depth - 1] != c)
					done = true;
				else
					done = --depth == 0;
				break;
			default:
				break;
			}
		}
		size_t n = i - s->pos;
		if (!append(s, b + s->pos, n))
			return CJS_FAIL;
		consume(s, n);
	}
	if (!has_buffer(s))
		return CJS_FAIL;
	v->text = s->val;
	v->len = s->val_len;
	return CJS_ITEM;
}

int cjs_value(cjs *s, cjs_text *v)
{
	if (cjs_peek(s) < 0)
		return structure_error(s, "unexpected token");
	return capture(s, v);
}

/*
 * Before the next member or element of a container closed by closer:
 * CJS_END after the closer, CJS_ITEM with *c the byte the item starts
 * with (-1 at the end), CJS_FAIL when neither ',' nor the closer follows.
 */
static int before_item(cjs *s, bool first, char closer, const char *expected, int *c)
{
	*c = cjs_peek(s);
	if (*c == closer) {
		consume(s, 1);
		return CJS_END;
	}
	if (!first) {
		if (*c != ',')
			return structure_error(s, expected);
		consume(s, 1);
		*c = cjs_peek(s);
	}
	return CJS_ITEM;
}

int cjs_member(cjs *s, bool first, cjs_text *key)
{
	int c, r = before_item(s, first, '}', "'}' expected", &c);

	if (r != CJS_ITEM)
		return r;
	if (c != '"')
		return structure_error(s, "string or '}' expected");
	return capture(s, key);
}

bool cjs_colon(cjs *s)
{
	if (cjs_peek(s) == ':') {
		consume(s, 1);
		return true;
	}
	structure_error(s, "':' expected");
	return false;
}

int cjs_element(cjs *s, bool first, cjs_text *v)
{
	int c, r = before_item(s, first, ']', "']' expected", &c);

	if (r != CJS_ITEM)
		return r;
	if (c < 0)
		return structure_error(s, "']' expected");
	return capture(s, v);
}

int cjs_rest(cjs *s, size_t max, cjs_text *v)
{
	s->val_len = 0;
	v->off = s->off;
	v->line = s->line;
	v->col = s->off - s->line_start + 1;
	while (fill(s)) {
		size_t n = s->len - s->pos;
		if (n > max - s->val_len) {
			s->oom = true;
			return CJS_FAIL;
		}
		if (!append(s, s->buf + s->pos, n))
			return CJS_FAIL;
		consume(s, n);
	}
	if (!has_buffer(s))
		return CJS_FAIL;
	v->text = s->val;
	v->len = s->val_len;
	return CJS_ITEM;
}

bool cjs_end(cjs *s)
{
	if (cjs_peek(s) < 0)
		return true;
	structure_error(s, "end of file expected");
	return false;
}

void cjs_locate(const cjs_text *t, size_t pos, uint64_t *line, uint64_t *col)
{
	const char *p = t->text, *end = t->text + (pos < t->len ? pos : t->len), *nl;
	const char *last = NULL;
	uint64_t l = t->line;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		l++;
		last = nl;
		p = nl + 1;
	}
	*line = l;
	*col = last ? (uint64_t)(end - last) : t->col + (uint64_t)(end - t->text);
}

/* ---- a fast path for plain values ------------------------------------------ */

/*
 * jansson's lexer reads byte by byte through callbacks and is most of the
 * time of an encode.  CRIU's entries are plain JSON: objects, arrays,
 * printable ASCII strings, integers, true/false/null.  The strings of
 * bytes fields are base64 that crit ends with an escaped newline, so value
 * strings may hold one-character escapes (\n, \", ...).  Such text is
 * parsed here straight into the jansson values json_loadb would build
 * (same keys in the same order, same integers); anything else (a \u
 * escape, an escape in a key, a byte outside printable ASCII, a fraction
 * or exponent, an integer of 19 digits or more, a repeated key, deep
 * nesting, an error) makes fast_value give up, and the caller parses the
 * text with jansson, which then also words any error.
 */
#define FAST_MAX_DEPTH 64

typedef struct fast {
	const char *p, *end;
	char *unescaped; /* the last value string with its escapes replaced */
	size_t unescaped_cap;
} fast;

static void fast_blank(fast *f)
{
	while (f->p < f->end && blank((unsigned char)*f->p))
		f->p++;
}

/* A string without escapes, of bytes 0x20..0x7f; f->p at its opening quote. */
static bool fast_string(fast *f, const char **s, size_t *n)
{
	const char *q = ++f->p;

	while (q < f->end && *q != '"') {
		unsigned char c = (unsigned char)*q;
		if (c < 0x20 || c >= 0x80 || c == '\\')
			return false;
		q++;
	}
	if (q == f->end)
		return false;
	*s = f->p;
	*n = (size_t)(q - f->p);
	f->p = q + 1;
	return true;
}

/* The one-character escapes of RFC 8259, section 7; 0 for any other. */
static char unescape(char c)
{
	switch (c) {
	case '"': return '"';
	case '\\': return '\\';
	case '/': return '/';
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	default: return 0;
	}
}

/*
 * A value string, which may hold one-character escapes; f->p at its
 * opening quote.  One pass: the bytes are taken where they lie until the
 * first escape, and copied with their escapes replaced from there on.
 */
static json_t *fast_string_value(fast *f)
{
	const char *start = f->p + 1, *q;
	char *out = NULL;

	for (q = start; q < f->end && *q != '"'; q++) {
		unsigned char c = (unsigned char)*q;
		if (c < 0x20 || c >= 0x80)
			return NULL;
		if (c == '\\') {
			if (!out) {
				/* Unescaped, the rest of the text is never longer. */
				size_t most = (size_t)(f->end - start);
				if (most > f->unescaped_cap) {
					char *b = realloc(f->unescaped, most);
					if (!b)
						return NULL; /* jansson tries, and reports no memory */
					f->unescaped = b;
					f->unescaped_cap = most;
				}
				memcpy(f->unescaped, start, (size_t)(q - start));
				out = f->unescaped + (q - start);
			}
			if (++q == f->end || !(c = (unsigned char)unescape(*q)))
				return NULL;
		}
		if (out)
			*out++ = (char)c;
	}
	if (q == f->end)
		return NULL;
	f->p = q + 1;
	if (!out)
		return json_stringn_nocheck(start, (size_t)(q - start));
	return json_stringn_nocheck(f->unescaped, (size_t)(out - f->unescaped));
}

static json_t *fast_value(fast *f, unsigned depth);

/* After a member or element: 1 at the closer (consumed), 0 after a ',', -1 else. */
static int fast_after(fast *f, char closer)
{
	fast_blank(f);
	if (f->p < f->end && *f->p == closer) {
		f->p++;
		return 1;
	}
	if (f->p == f->end || *f->p != ',')
		return -1;
	f->p++;
	fast_blank(f);
	return 0;
}

static json_t *fast_object(fast *f, unsigned depth)
{
	json_t *obj = json_object();

	f->p++;
	fast_blank(f);
	if (obj && f->p < f->end && *f->p == '}') {
		f->p++;
		return obj;
	}
	/* A repeated key replaces the value and leaves the size: counted, not looked up. */
	for (size_t members = 1; obj && f->p < f->end && *f->p == '"'; members++) {
		const char *key;
		size_t klen;
		if (!fast_string(f, &key, &klen))
			break;
		fast_blank(f);
		if (f->p == f->end || *f->p != ':')
			break;
		f->p++;
		fast_blank(f);
		json_t *v = fast_value(f, depth + 1);
		if (!v || json_object_setn_new_nocheck(obj, key, klen, v) ||
		    json_object_size(obj) != members)
			break;
		int r = fast_after(f, '}');
		if (r > 0)
			return obj;
		if (r < 0)
			break;
	}
	json_decref(obj);
	return NULL;
}

static json_t *fast_array(fast *f, unsigned depth)
{
	json_t *arr = json_array();

	f->p++;
	fast_blank(f);
	if (arr && f->p < f->end && *f->p == ']') {
		f->p++;
		return arr;
	}
	while (arr) {
		json_t *v = fast_value(f, depth + 1);
		if (!v || json_array_append_new(arr, v))
			break;
		int r = fast_after(f, ']');
		if (r > 0)
			return arr;
		if (r < 0)
			break;
	}
	json_decref(arr);
	return NULL;
}

/* -?(0|[1-9][0-9]{0,17}) not followed by what would make it a real. */
static json_t *fast_integer(fast *f)
{
	const char *q = f->p;
	bool negative = q < f->end && *q == '-';
	uint64_t v = 0;
	unsigned digits = 0;

	q += negative;
	if (q == f->end || *q < '0' || *q > '9')
		return NULL;
	if (*q == '0') {
		q++;
		digits = 1;
	} else {
		while (q < f->end && *q >= '0' && *q <= '9' && digits < 19) {
			v = v * 10 + (uint64_t)(*q++ - '0');
			digits++;
		}
	}
	if (digits > 18 || (q < f->end && (in_number(*q) || is_alpha(*q))))
		return NULL;
	f->p = q;
	return json_integer(negative ? -(json_int_t)v : (json_int_t)v);
}

static bool fast_word(fast *f, const char *w, size_t n)
{
	if ((size_t)(f->end - f->p) < n || memcmp(f->p, w, n) != 0 ||
	    (f->p + n < f->end && is_alpha(f->p[n])))
		return false;
	f->p += n;
	return true;
}

static json_t *fast_value(fast *f, unsigned depth)
{
	if (f->p == f->end || depth > FAST_MAX_DEPTH)
		return NULL;
	switch (*f->p) {
	case '{':
		return fast_object(f, depth);
	case '[':
		return fast_array(f, depth);
	case '"':
		return fast_string_value(f);
	case 't':
		return fast_word(f, "true", 4) ? json_true() : NULL;
	case 'f':
		return fast_word(f, "false", 5) ? json_false() : NULL;
	case 'n':
		return fast_word(f, "null", 4) ? json_null() : NULL;
	default:
		return fast_integer(f);
	}
}

json_t *cjs_fast_parse(const char *text, size_t len)
{
	fast f = { .p = text, .end = text + len };

	fast_blank(&f);
	json_t *v = fast_value(&f, 1);
	fast_blank(&f);
	if (v && f.p != f.end) {
		json_decref(v);
		v = NULL;
	}
	free(f.unescaped);
	return v;
}
