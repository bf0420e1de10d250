/*
 * CRIU images in protobuf's text format, both ways (text.h).
 *
 * Decoding rides on the image verifier (criu_verify_image with a visitor):
 * its framing hands over every entry unpacked and every piece of extra
 * data in order, and the text is written as they come, so nothing but the
 * current entry is in memory.  Encoding reads the text through a small
 * lexer over the input stream, builds each entry's protobuf-c message from
 * its descriptor in an arena reset per entry, packs it and writes it with
 * its size; extra data is unescaped straight into the output, its length
 * checked against the entry.  The first problem stops the encoder and is
 * reported with its line and column.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "formats/criu/convert/convert.h"
#include "formats/criu/criu.h"
#include "formats/criu/schema/fieldopts.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/json/json_common.h"
#include "formats/criu/schema/pb.h"
#include "formats/criu/schema/schema.h"

/* ---- decoding: the printer ------------------------------------------------ */

typedef struct tdec {
	sv_ctx *cx;
	FILE *out;
	bool nice;
	criu_image_info info;
	bool header_done;
	bool line_open;       /* raw: an entry's line is being written */
	bool need_space;      /* raw: an item was written on this line */
	uint64_t entries;
	/* The blob being written. */
	bool blob_open;
	criu_blob_part part;
	uint64_t blob_left;
	int sem_carry;        /* first byte of a semaphore value cut in two, or -1 */
	bool sem_first;
	uint64_t unknown;     /* unknown fields left out */
} tdec;

static void put_indent(tdec *t, unsigned depth)
{
	if (t->nice) {
		for (unsigned i = 0; i <= depth; i++)
			fputs("  ", t->out);
	} else if (t->need_space) {
		putc(' ', t->out);
	}
}

static void item_end(tdec *t)
{
	if (t->nice)
		putc('\n', t->out);
	else
		t->need_space = true;
}

/* Octets as the body of a text-format string: printable ASCII as it is. */
static void put_escaped(FILE *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		switch (c) {
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		case '"': fputs("\\\"", out); break;
		case '\'': fputs("\\'", out); break;
		case '\\': fputs("\\\\", out); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				fprintf(out, "\\%03o", c);
			else
				putc(c, out);
		}
	}
}

static const void *field_at(const void *m, unsigned off)
{
	return (const char *)m + off;
}

/* Is a non-repeated, non-required field present? */
static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) {
		const void *ptr = *(void *const *)field_at(m, f->offset);
		return ptr && ptr != f->default_value;
	}
	return *(const protobuf_c_boolean *)field_at(m, f->quantifier_offset);
}

static void print_message(tdec *t, const ProtobufCMessage *m, unsigned depth);

static void print_value(tdec *t, const ProtobufCFieldDescriptor *f, const void *p,
			unsigned depth, bool hex)
{
	FILE *out = t->out;

	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		putc('{', out);
		if (t->nice)
			putc('\n', out);
		t->need_space = true;
		print_message(t, *(ProtobufCMessage *const *)p, depth + 1);
		if (t->nice) {
			put_indent(t, depth);
			putc('}', out);
		} else {
			fputs(" }", out);
		}
		return;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		putc('"', out);
		put_escaped(out, (const unsigned char *)s, strlen(s));
		putc('"', out);
		return;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		putc('"', out);
		put_escaped(out, b->data, b->len);
		putc('"', out);
		return;
	}
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)p ? "true" : "false", out);
		return;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		if (ev)
			fputs(ev->name, out);
		else
			fprintf(out, "%d", v); /* undefined in the enum: kept as a number */
		return;
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(out, "%" PRId32, *(const int32_t *)p);
		return;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(out, "%" PRId64, *(const int64_t *)p);
		return;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fprintf(out, hex ? "0x%" PRIx32 : "%" PRIu32, *(const uint32_t *)p);
		return;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(out, hex ? "0x%" PRIx64 : "%" PRIu64, *(const uint64_t *)p);
		return;
	case PROTOBUF_C_TYPE_FLOAT:
		fprintf(out, "%.9g", (double)*(const float *)p);
		return;
	case PROTOBUF_C_TYPE_DOUBLE:
		fprintf(out, "%.17g", *(const double *)p);
		return;
	}
}

static void print_field(tdec *t, const ProtobufCFieldDescriptor *f, const void *p,
			unsigned depth, bool hex)
{
	put_indent(t, depth);
	fputs(f->name, t->out);
	fputs(f->type == PROTOBUF_C_TYPE_MESSAGE ? " " : ": ", t->out);
	print_value(t, f, p, depth, hex);
	item_end(t);
}

/* The fields of m, in field-number order, repeated ones once per element. */
static void print_message(tdec *t, const ProtobufCMessage *m, unsigned depth)
{
	const ProtobufCMessageDescriptor *md = m->descriptor;

	t->unknown += m->n_unknown_fields;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		const criu_field_opt *o = t->nice ? criu_field_opt_find(md, f->name) : NULL;
		bool hex = o && (o->flags & CRIU_OPT_HEX);

		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if (field_present(m, f))
				print_field(t, f, field_at(m, f->offset), depth, hex);
			continue;
		}
		size_t n = *(const size_t *)field_at(m, f->quantifier_offset);
		const char *arr = *(char *const *)field_at(m, f->offset);
		size_t es = cj_elem_size(f->type);
		if (t->nice && n && f->type != PROTOBUF_C_TYPE_MESSAGE) {
			/* Scalars as one list: "cap_eff: [4294967295, 511]". */
			put_indent(t, depth);
			fprintf(t->out, "%s: [", f->name);
			for (size_t k = 0; k < n; k++) {
				if (k)
					fputs(", ", t->out);
				print_value(t, f, arr + k * es, depth, hex);
			}
			putc(']', t->out);
			item_end(t);
			continue;
		}
		for (size_t k = 0; k < n; k++)
			print_field(t, f, arr + k * es, depth, hex);
	}
}

static const char *head_name(uint32_t head)
{
	return head == CRIU_IMG_SERVICE_MAGIC ? "IMG_SERVICE" : "IMG_COMMON";
}

static void header(tdec *t)
{
	const criu_image_type *ty = t->info.type;
	uint32_t head = ty->flags & CRIU_IMG_SERVICE ? CRIU_IMG_SERVICE_MAGIC : CRIU_IMG_COMMON_MAGIC;

	if (t->header_done)
		return;
	t->header_done = true;
	fputs("magic:", t->out);
	if (t->info.version == 2 && t->nice)
		fprintf(t->out, " %s", head_name(head));
	else if (t->info.version == 2)
		fprintf(t->out, " 0x%08" PRIx32, head);
	if (t->nice)
		fprintf(t->out, " %s\n", ty->name);
	else
		fprintf(t->out, " 0x%08" PRIx32 "\n", ty->magic);
}

static void close_entry(tdec *t)
{
	if (t->line_open && !t->nice)
		putc('\n', t->out);
	t->line_open = false;
	t->need_space = false;
}

static void blob_close(tdec *t)
{
	if (!t->blob_open)
		return;
	t->blob_open = false;
	switch (t->part) {
	case CRIU_PART_IPC_SEM:
		putc(']', t->out);
		break;
	case CRIU_PART_TCP_INQ:
		putc('"', t->out);
		item_end(t);
		return;
	case CRIU_PART_TCP_OUTQ:
	case CRIU_PART_IPC_MSG:
		putc('"', t->out);
		item_end(t);
		put_indent(t, 0);
		putc('}', t->out);
		break;
	default:
		putc('"', t->out);
		break;
	}
	item_end(t);
}

/* "extra {" opening a block of the entry's extra data; its items go at depth 1. */
static void extra_block(tdec *t)
{
	put_indent(t, 0);
	fputs("extra {", t->out);
	if (t->nice)
		putc('\n', t->out);
	t->need_space = true;
}

static int t_entry(void *arg, const criu_entry *e)
{
	tdec *t = arg;

	header(t);
	blob_close(t);
	if (e->role == CRIU_ENTRY_IPC_MSG) {
		/* A queued message: its text follows as a blob piece. */
		extra_block(t);
		put_indent(t, 1);
		fputs("msg ", t->out);
		print_value(t, &(ProtobufCFieldDescriptor){ .type = PROTOBUF_C_TYPE_MESSAGE },
			    &e->msg, 1, false);
		item_end(t);
		return 0;
	}
	close_entry(t);
	if (t->nice)
		fprintf(t->out, "#%" PRIu64 " %s\n", t->entries, e->msg->descriptor->name);
	else
		fprintf(t->out, "#%" PRIu64 "\n", t->entries);
	t->entries++;
	t->line_open = true;
	print_message(t, e->msg, 0);
	return ferror(t->out) ? 1 : 0;
}

static int t_blob(void *arg, const criu_blob *b, const unsigned char *p, size_t n, uint64_t off)
{
	tdec *t = arg;

	(void)off;
	if (!t->blob_open) {
		t->blob_open = true;
		t->part = b->part;
		t->blob_left = b->length;
		switch (b->part) {
		case CRIU_PART_TCP_INQ:
			extra_block(t);
			put_indent(t, 1);
			fputs("inq: \"", t->out);
			break;
		case CRIU_PART_TCP_OUTQ:
			put_indent(t, 1);
			fputs("outq: \"", t->out);
			break;
		case CRIU_PART_IPC_MSG:
			put_indent(t, 1);
			fputs("text: \"", t->out);
			break;
		case CRIU_PART_IPC_SEM:
			put_indent(t, 0);
			fputs("extra: [", t->out);
			t->sem_carry = -1;
			t->sem_first = true;
			break;
		default:
			put_indent(t, 0);
			fputs("extra: \"", t->out);
			break;
		}
	}
	if (b->part == CRIU_PART_IPC_SEM) {
		for (size_t i = 0; i < n; i++) {
			if (t->sem_carry < 0) {
				t->sem_carry = p[i];
				continue;
			}
			fprintf(t->out, "%s%u", t->sem_first ? "" : ", ",
				(unsigned)t->sem_carry | (unsigned)p[i] << 8);
			t->sem_first = false;
			t->sem_carry = -1;
		}
	} else {
		put_escaped(t->out, p, n);
	}
	if (b->length != UINT64_MAX) {
		t->blob_left -= n < t->blob_left ? n : t->blob_left;
		if (!t->blob_left)
			blob_close(t);
	}
	return ferror(t->out) ? 1 : 0;
}

/* The last path component of the stream's name, which names the image type. */
static const char *image_name(sv_stream *in)
{
	const char *path = sv_stream_name(in), *slash;

	if (!path || strcmp(path, "-") == 0 || strcmp(path, "<stdin>") == 0)
		return NULL;
	slash = strrchr(path, '/');
	path = slash ? slash + 1 : path;
	return *path ? path : NULL;
}

bool criu_text_decode(sv_ctx *cx, sv_stream *in, FILE *out, unsigned flags)
{
	tdec t = { .cx = cx, .out = out, .nice = flags & SV_CONV_NICE, .sem_carry = -1 };
	criu_visitor v = { &t, t_entry, t_blob };
	unsigned long errors = sv_error_count(cx);

	criu_verify_image(cx, in, image_name(in), &v, &t.info);
	if (sv_error_count(cx) != errors)
		return false;
	if (!t.info.type || t.info.type->layout == CRIU_LAYOUT_RAW || !t.info.type->entry) {
		sv_report(cx, CRIT_CODE(CT_LAYOUT), SV_NONE,
			  "a raw image (%s) has no entries to show as text",
			  t.info.type ? t.info.type->name : "unknown");
		return false;
	}
	header(&t);
	blob_close(&t);
	close_entry(&t);
	if (t.unknown)
		sv_report(cx, CRIT_CODE(CT_DROPPED), SV_NONE,
			  "%" PRIu64 " field%s unknown to the schema left out of the text",
			  t.unknown, t.unknown == 1 ? "" : "s");
	if (fflush(out) != 0 || ferror(out)) {
		sv_report(cx, CRIT_CODE(CT_OUTPUT), SV_NONE, "cannot write the text");
		return false;
	}
	return true;
}

/*
 * The text view opens with its magic line or a '#' comment (blanks
 * before either); anything else is taken for JSON, whose errors then say
 * what is wrong.
 */
bool criu_text_detect(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return (i < n && p[i] == '#') || (n - i >= 5 && memcmp(p + i, "magic", 5) == 0);
}

/* ---- encoding: the lexer ------------------------------------------------------ */

enum tok { T_EOF, T_IDENT, T_NUM, T_STRING, T_PUNCT, T_MARKER };

#define LEX_BUF (1u << 16)
#define TOK_MAX 256
#define ENTRY_BYTES_MAX (4 * (uint64_t)CJ_ENTRY_MAX) /* arena use for one entry */

typedef struct lexer {
	sv_ctx *cx;
	sv_stream *s;
	unsigned char buf[LEX_BUF];
	size_t len, pos;
	bool eof;
	uint64_t off;            /* offset of buf[pos] */
	unsigned long line, col; /* of buf[pos] */
	/* The current token. */
	enum tok tok;
	unsigned long tline, tcol;
	uint64_t toff;
	char text[TOK_MAX];      /* identifier, number, punctuation, marker name */
	uint64_t marker;         /* T_MARKER: its number */
	bool failed;
} lexer;

static int peekc(lexer *l)
{
	if (l->pos == l->len) {
		if (l->eof)
			return -1;
		l->len = sv_read(l->s, l->buf, sizeof(l->buf));
		l->pos = 0;
		if (l->len < sizeof(l->buf))
			l->eof = true;
		if (!l->len)
			return -1;
	}
	return l->buf[l->pos];
}

static int getch(lexer *l)
{
	int c = peekc(l);

	if (c < 0)
		return c;
	l->pos++;
	l->off++;
	if (c == '\n') {
		l->line++;
		l->col = 1;
	} else {
		l->col++;
	}
	return c;
}

static void lerr_at(lexer *l, int code, unsigned long line, unsigned long col, uint64_t off,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void lerr_at(lexer *l, int code, unsigned long line, unsigned long col, uint64_t off,
		    const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (l->failed)
		return;
	l->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sv_report(l->cx, CRIT_CODE(code), off, "line %lu, column %lu: %s", line, col, msg);
}

/* An error at the current token. */
#define lerr(l, code, ...) lerr_at((l), (code), (l)->tline, (l)->tcol, (l)->toff, __VA_ARGS__)

/* A character for a message: printable, or its code. */
static const char *show_char(int c, char buf[12])
{
	if (c < 0)
		return "the end of the input";
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, 12, "'%c'", c);
	else
		snprintf(buf, 12, "0x%02x", (unsigned)c & 0xffu);
	return buf;
}

static bool is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Whitespace and comments; a '#' followed by a digit is an entry marker, not a comment. */
static void skip_blank(lexer *l)
{
	for (;;) {
		int c = peekc(l);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			getch(l);
		} else if (c == '#') {
			if (l->pos + 1 < l->len ? is_digit(l->buf[l->pos + 1]) : false)
				return;
			if (l->pos + 1 >= l->len && !l->eof) {
				/* The digit test needs the next byte: move what is left to the front. */
				memmove(l->buf, l->buf + l->pos, l->len - l->pos);
				l->len -= l->pos;
				l->pos = 0;
				size_t got = sv_read(l->s, l->buf + l->len, sizeof(l->buf) - l->len);
				if (got < sizeof(l->buf) - l->len)
					l->eof = true;
				l->len += got;
				continue;
			}
			while ((c = peekc(l)) >= 0 && c != '\n')
				getch(l);
		} else {
			return;
		}
	}
}

/* Read the next token into l. */
static void advance(lexer *l)
{
	size_t n = 0;
	int c;
	char cb[12];

	if (l->failed) {
		l->tok = T_EOF;
		return;
	}
	skip_blank(l);
	l->tline = l->line;
	l->tcol = l->col;
	l->toff = l->off;
	c = peekc(l);
	l->text[0] = '\0';
	if (c < 0) {
		l->tok = T_EOF;
		return;
	}
	if (c == '#') {
		/* "#N" and, up to the end of the line, an optional message name. */
		uint64_t v = 0;
		getch(l);
		while (is_digit(c = peekc(l))) {
			if (v > (UINT64_MAX - 9) / 10) {
				lerr(l, CT_SYNTAX, "entry marker number too large");
				l->tok = T_EOF;
				return;
			}
			v = v * 10 + (uint64_t)(getch(l) - '0');
		}
		while ((c = peekc(l)) == ' ' || c == '\t')
			getch(l);
		while (is_ident_start(c = peekc(l)) || is_digit(c) || c == '.') {
			if (n + 1 >= TOK_MAX) {
				lerr(l, CT_SYNTAX, "message name after the entry marker too long");
				l->tok = T_EOF;
				return;
			}
			l->text[n++] = (char)getch(l);
		}
		l->text[n] = '\0';
		while ((c = peekc(l)) == ' ' || c == '\t' || c == '\r')
			getch(l);
		if (c >= 0 && c != '\n') {
			lerr_at(l, CT_SYNTAX, l->line, l->col, l->off,
				"unexpected %s after the entry marker #%" PRIu64 " (the entry starts on the next line)",
				show_char(c, cb), v);
			l->tok = T_EOF;
			return;
		}
		l->marker = v;
		l->tok = T_MARKER;
		return;
	}
	if (c == '"' || c == '\'') {
		l->tok = T_STRING; /* its body is read by read_string() */
		return;
	}
	if (is_ident_start(c) || is_digit(c) || c == '.') {
		bool number = !is_ident_start(c);
		int prev = 0;
		while ((c = peekc(l)) >= 0 &&
		       (is_ident_start(c) || is_digit(c) || c == '.' ||
			(number && (c == '+' || c == '-') && (prev == 'e' || prev == 'E')))) {
			if (n + 1 >= TOK_MAX) {
				lerr(l, CT_SYNTAX, "%s longer than %d characters",
				     number ? "number" : "identifier", TOK_MAX - 1);
				l->tok = T_EOF;
				return;
			}
			prev = getch(l);
			l->text[n++] = (char)prev;
		}
		l->text[n] = '\0';
		l->tok = number ? T_NUM : T_IDENT;
		return;
	}
	if (strchr(":{}<>[],;-", c)) {
		l->text[0] = (char)getch(l);
		l->text[1] = '\0';
		l->tok = T_PUNCT;
		return;
	}
	lerr(l, CT_SYNTAX, "unexpected character %s", show_char(c, cb));
	l->tok = T_EOF;
}

static bool is_punct(const lexer *l, char c)
{
	return l->tok == T_PUNCT && l->text[0] == c;
}

static const char *tok_desc(const lexer *l, char buf[TOK_MAX + 16])
{
	switch (l->tok) {
	case T_EOF: return "the end of the input";
	case T_STRING: return "a string";
	case T_MARKER: return "an entry marker";
	case T_PUNCT:
	case T_IDENT:
	case T_NUM:
		snprintf(buf, TOK_MAX + 16, "'%s'", l->text);
		return buf;
	}
	return "?";
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

typedef bool (*octet_sink)(void *arg, const unsigned char *p, size_t n);

/* UTF-8 of a \u or \U escape. */
static size_t utf8_encode(uint32_t cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The current token is a string: unescape it and every string right after
 * it (adjacent strings are one value) into sink, in pieces, then read the
 * next token.  *count gets the octets.
 */
static bool read_string(lexer *l, octet_sink sink, void *arg, uint64_t *count)
{
	unsigned char piece[4096];
	size_t n = 0;
	char cb[12];

	*count = 0;
	while (l->tok == T_STRING) {
		unsigned long qline = l->line, qcol = l->col;
		uint64_t qoff = l->off;
		int quote = getch(l);
		for (;;) {
			unsigned long line = l->line, col = l->col;
			uint64_t off = l->off;
			int c = getch(l);
			if (c == quote)
				break;
			if (c < 0 || c == '\n') {
				lerr_at(l, CT_SYNTAX, qline, qcol, qoff,
					"the string ends without its closing quote");
				return false;
			}
			if (c != '\\') {
				piece[n++] = (unsigned char)c;
			} else {
				c = getch(l);
				switch (c) {
				case 'n': piece[n++] = '\n'; break;
				case 'r': piece[n++] = '\r'; break;
				case 't': piece[n++] = '\t'; break;
				case 'a': piece[n++] = '\a'; break;
				case 'b': piece[n++] = '\b'; break;
				case 'f': piece[n++] = '\f'; break;
				case 'v': piece[n++] = '\v'; break;
				case '\\': case '\'': case '"': case '?':
					piece[n++] = (unsigned char)c;
					break;
				case 'x': case 'X': {
					int v = 0, k = 0, h;
					while (k < 2 && (h = hexval(peekc(l))) >= 0) {
						v = v * 16 + h;
						getch(l);
						k++;
					}
					if (!k) {
						lerr_at(l, CT_SYNTAX, line, col, off, "\\x needs a hexadecimal digit");
						return false;
					}
					piece[n++] = (unsigned char)v;
					break;
				}
				case 'u': case 'U': {
					int digits = c == 'u' ? 4 : 8, h;
					uint32_t cp = 0;
					for (int k = 0; k < digits; k++) {
						if ((h = hexval(peekc(l))) < 0) {
							lerr_at(l, CT_SYNTAX, line, col, off, "\\%c needs %d hexadecimal digits",
								c, digits);
							return false;
						}
						cp = cp * 16 + (uint32_t)h;
						getch(l);
					}
					if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
						lerr_at(l, CT_SYNTAX, line, col, off, "\\%c escape U+%" PRIX32 " is not a character",
							c, cp);
						return false;
					}
					n += utf8_encode(cp, piece + n);
					break;
				}
				default:
					if (c >= '0' && c <= '7') {
						int v = c - '0', k = 1;
						while (k < 3 && peekc(l) >= '0' && peekc(l) <= '7') {
							v = v * 8 + (getch(l) - '0');
							k++;
						}
						if (v > 0xff) {
							lerr_at(l, CT_SYNTAX, line, col, off, "octal escape \\%o is above \\377", (unsigned)v);
							return false;
						}
						piece[n++] = (unsigned char)v;
						break;
					}
					lerr_at(l, CT_SYNTAX, line, col, off, "unknown escape \\%s",
						c < 0 ? "at the end" : show_char(c, cb));
					return false;
				}
			}
			if (n > sizeof(piece) - 8) {
				if (!sink(arg, piece, n))
					return false;
				*count += n;
				n = 0;
			}
		}
		skip_blank(l);
		int c = peekc(l);
		if (c != '"' && c != '\'')
			break;
		l->tline = l->line;
		l->tcol = l->col;
		l->toff = l->off;
	}
	if (n && !sink(arg, piece, n))
		return false;
	*count += n;
	advance(l);
	return !l->failed;
}

/* ---- encoding: messages from text ------------------------------------------------ */

typedef struct tenc {
	lexer *l;
	FILE *out;
	criu_arena arena;
	uint64_t used;         /* arena bytes of the current entry */
	uint64_t index;        /* entry being read */
	bool write_failed;
} tenc;

static void *talloc(tenc *e, size_t n)
{
	void *p;

	e->used += n;
	if (e->used > ENTRY_BYTES_MAX) {
		lerr(e->l, CT_VALUE, "entry %" PRIu64 " needs more than %" PRIu64 " MiB: too large to encode",
		     e->index, ENTRY_BYTES_MAX >> 20);
		return NULL;
	}
	p = e->arena.pc.alloc(e->arena.pc.allocator_data, n ? n : 1);
	if (!p)
		lerr(e->l, CT_OUTPUT, "out of memory");
	return p;
}

/* Octets gathered into the arena (bytes and string fields). */
typedef struct gather {
	tenc *e;
	unsigned char *data;
	size_t len, cap;
} gather;

static bool gather_sink(void *arg, const unsigned char *p, size_t n)
{
	gather *g = arg;

	if (g->len + n + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : 64;
		while (cap < g->len + n + 1)
			cap *= 2;
		unsigned char *nd = talloc(g->e, cap);
		if (!nd)
			return false;
		if (g->len)
			memcpy(nd, g->data, g->len);
		g->data = nd;
		g->cap = cap;
	}
	memcpy(g->data + g->len, p, n);
	g->len += n;
	return true;
}

/* An integer literal of the text format: decimal, 0x hexadecimal, 0 octal. */
static bool parse_magnitude(const char *s, uint64_t *v)
{
	unsigned base = 10;
	uint64_t acc = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return false;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
		s++;
	}
	for (; *s; s++) {
		int d = hexval(*s);
		if (d < 0 || (unsigned)d >= base)
			return false;
		if (acc > (UINT64_MAX - (uint64_t)d) / base)
			return false;
		acc = acc * base + (uint64_t)d;
	}
	*v = acc;
	return true;
}

/* [-]NUMBER at the current token; the token after it is read. */
static bool read_integer(lexer *l, bool *negative, uint64_t *mag)
{
	char buf[TOK_MAX + 16];
	unsigned long line = l->tline, col = l->tcol;
	uint64_t off = l->toff;

	*negative = false;
	if (is_punct(l, '-')) {
		*negative = true;
		advance(l);
	}
	if (l->tok != T_NUM) {
		lerr(l, CT_VALUE, "expected an integer, got %s", tok_desc(l, buf));
		return false;
	}
	if (!parse_magnitude(l->text, mag)) {
		bool digits = true;
		for (const char *p = l->text; *p; p++)
			digits &= is_digit(*p);
		lerr_at(l, CT_VALUE, line, col, off, "%s%s is not %s", *negative ? "-" : "", l->text,
			digits && l->text[0] != '0' ? "a 64-bit integer" : "an integer");
		return false;
	}
	advance(l);
	return true;
}

typedef struct int_range {
	uint64_t max_pos, max_neg;
	unsigned bytes;
} int_range;

static int_range range_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return (int_range){ INT32_MAX, (uint64_t)INT32_MAX + 1, 4 };
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return (int_range){ UINT32_MAX, 0, 4 };
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return (int_range){ INT64_MAX, (uint64_t)INT64_MAX + 1, 8 };
	default:
		return (int_range){ UINT64_MAX, 0, 8 };
	}
}

static const char *type_name(const ProtobufCFieldDescriptor *f)
{
	static const char *const names[] = {
		[PROTOBUF_C_TYPE_INT32] = "int32",     [PROTOBUF_C_TYPE_SINT32] = "sint32",
		[PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
		[PROTOBUF_C_TYPE_SINT64] = "sint64",   [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
		[PROTOBUF_C_TYPE_UINT32] = "uint32",   [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
		[PROTOBUF_C_TYPE_UINT64] = "uint64",   [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
		[PROTOBUF_C_TYPE_FLOAT] = "float",     [PROTOBUF_C_TYPE_DOUBLE] = "double",
		[PROTOBUF_C_TYPE_BOOL] = "bool",       [PROTOBUF_C_TYPE_ENUM] = "enum",
		[PROTOBUF_C_TYPE_STRING] = "string",   [PROTOBUF_C_TYPE_BYTES] = "bytes",
		[PROTOBUF_C_TYPE_MESSAGE] = "message",
	};
	return (unsigned)f->type < sizeof(names) / sizeof(names[0]) && names[f->type] ? names[f->type]
										 : "?";
}

/* An integer of f's type (enums: a number) at dst. */
static bool read_int_value(tenc *e, const ProtobufCFieldDescriptor *f, void *dst)
{
	lexer *l = e->l;
	unsigned long line = l->tline, col = l->tcol;
	uint64_t off = l->toff, mag;
	bool negative;
	int_range r = range_of(f->type);

	if (!read_integer(l, &negative, &mag))
		return false;
	if (!mag)
		negative = false;
	if (negative ? mag > r.max_neg : mag > r.max_pos) {
		lerr_at(l, CT_VALUE, line, col, off, "%s%" PRIu64 " is out of range for %s %s",
			negative ? "-" : "", mag, type_name(f), f->name);
		return false;
	}
	uint64_t bits = negative ? (uint64_t)0 - mag : mag;
	if (r.bytes == 4) {
		uint32_t v32 = (uint32_t)bits;
		memcpy(dst, &v32, 4);
	} else {
		memcpy(dst, &bits, 8);
	}
	return true;
}

static bool parse_fields(tenc *e, const ProtobufCMessageDescriptor *md, ProtobufCMessage *m,
			 char close, unsigned depth, bool allow_extra);

/* A nested message, "{ ... }" or "< ... >", at the current token. */
static ProtobufCMessage *read_message(tenc *e, const ProtobufCMessageDescriptor *md, unsigned depth)
{
	lexer *l = e->l;
	char buf[TOK_MAX + 16];

	if (!is_punct(l, '{') && !is_punct(l, '<')) {
		lerr(l, CT_SYNTAX, "expected '{' to open a %s, got %s", md->name, tok_desc(l, buf));
		return NULL;
	}
	if (depth > CRIU_PB_MAX_DEPTH) {
		lerr(l, CT_VALUE, "messages nested deeper than %d", CRIU_PB_MAX_DEPTH);
		return NULL;
	}
	char close = l->text[0] == '{' ? '}' : '>';
	advance(l);
	ProtobufCMessage *m = talloc(e, md->sizeof_message);
	if (!m)
		return NULL;
	md->message_init(m);
	if (!parse_fields(e, md, m, close, depth, false))
		return NULL;
	advance(l); /* the closing brace */
	return m;
}

/* One value of field f at the current token into dst. */
static bool read_value(tenc *e, const ProtobufCFieldDescriptor *f, void *dst, unsigned depth)
{
	lexer *l = e->l;
	char buf[TOK_MAX + 16];

	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub = read_message(e, f->descriptor, depth + 1);
		if (!sub)
			return false;
		memcpy(dst, &sub, sizeof(sub));
		return true;
	}
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES: {
		gather g = { .e = e };
		unsigned long line = l->tline, col = l->tcol;
		uint64_t off = l->toff, count;
		if (l->tok != T_STRING) {
			lerr(l, CT_VALUE, "expected a quoted string for %s %s, got %s", type_name(f),
			     f->name, tok_desc(l, buf));
			return false;
		}
		if (!read_string(l, gather_sink, &g, &count) || !gather_sink(&g, (const unsigned char *)"", 0))
			return false;
		g.data[g.len] = '\0';
		if (f->type == PROTOBUF_C_TYPE_BYTES) {
			ProtobufCBinaryData b = { g.len, g.data };
			memcpy(dst, &b, sizeof(b));
			return true;
		}
		if (memchr(g.data, 0, g.len)) {
			lerr_at(l, CT_VALUE, line, col, off, "string %s holds a NUL octet, which a protobuf-c string cannot",
				f->name);
			return false;
		}
		char *s = (char *)g.data;
		memcpy(dst, &s, sizeof(s));
		return true;
	}
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b;
		const char *t = l->text;
		if ((l->tok == T_IDENT && (!strcmp(t, "true") || !strcmp(t, "True") || !strcmp(t, "t"))) ||
		    (l->tok == T_NUM && !strcmp(t, "1")))
			b = 1;
		else if ((l->tok == T_IDENT && (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "f"))) ||
			 (l->tok == T_NUM && !strcmp(t, "0")))
			b = 0;
		else {
			lerr(l, CT_VALUE, "expected true or false for %s, got %s", f->name, tok_desc(l, buf));
			return false;
		}
		memcpy(dst, &b, sizeof(b));
		advance(l);
		return true;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		if (l->tok == T_IDENT) {
			const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, l->text);
			if (!ev) {
				lerr(l, CT_VALUE, "%s is not a value of enum %s", l->text, ed->name);
				return false;
			}
			int v = ev->value;
			memcpy(dst, &v, sizeof(v));
			advance(l);
			return true;
		}
		return read_int_value(e, f, dst);
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		bool negative = false;
		char *end;
		if (is_punct(l, '-')) {
			negative = true;
			advance(l);
		}
		double d = l->tok == T_NUM || l->tok == T_IDENT ? strtod(l->text, &end) : 0;
		if ((l->tok != T_NUM && l->tok != T_IDENT) || *end) {
			lerr(l, CT_VALUE, "expected a number for %s, got %s", f->name, tok_desc(l, buf));
			return false;
		}
		if (negative)
			d = -d;
		if (f->type == PROTOBUF_C_TYPE_FLOAT) {
			float fl = (float)d;
			memcpy(dst, &fl, sizeof(fl));
		} else {
			memcpy(dst, &d, sizeof(d));
		}
		advance(l);
		return true;
	}
	default:
		return read_int_value(e, f, dst);
	}
}

/* Elements of a repeated field as they are read (arrays doubled in the arena). */
typedef struct rep {
	char *data;
	size_t n, cap;
} rep;

static bool rep_push(tenc *e, rep *r, const ProtobufCFieldDescriptor *f, void **slot)
{
	size_t es = cj_elem_size(f->type);

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4;
		char *nd = talloc(e, cap * es);
		if (!nd)
			return false;
		if (r->n)
			memcpy(nd, r->data, r->n * es);
		r->data = nd;
		r->cap = cap;
	}
	*slot = r->data + r->n * es;
	memset(*slot, 0, es);
	r->n++;
	return true;
}

/* Every required field of m was given? */
static bool check_required(tenc *e, const ProtobufCMessageDescriptor *md, const char *seen)
{
	for (unsigned i = 0; i < md->n_fields; i++)
		if (md->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && !seen[i]) {
			lerr(e->l, CT_REQUIRED, "required field %s of %s is missing (before this point)",
			     md->fields[i].name, md->name);
			return false;
		}
	return true;
}

/*
 * Fields of md into m up to close (a brace), or up to the next entry
 * marker or the end when close is 0.  With allow_extra, an "extra" stops
 * the fields (it must come last); the caller reads it.
 */
static bool parse_fields(tenc *e, const ProtobufCMessageDescriptor *md, ProtobufCMessage *m,
			 char close, unsigned depth, bool allow_extra)
{
	lexer *l = e->l;
	char buf[TOK_MAX + 16];
	char *seen = talloc(e, md->n_fields ? md->n_fields : 1);
	rep *reps = talloc(e, (md->n_fields ? md->n_fields : 1) * sizeof(rep));

	if (!seen || !reps)
		return false;
	memset(seen, 0, md->n_fields ? md->n_fields : 1);
	memset(reps, 0, (md->n_fields ? md->n_fields : 1) * sizeof(rep));
	for (;;) {
		if (l->failed)
			return false;
		if (close ? is_punct(l, close) : (l->tok == T_MARKER || l->tok == T_EOF))
			break;
		if (close && (l->tok == T_EOF || l->tok == T_MARKER)) {
			lerr(l, CT_SYNTAX, "%s before the '%c' that closes %s", tok_desc(l, buf), close,
			     md->name);
			return false;
		}
		if (l->tok != T_IDENT) {
			lerr(l, CT_SYNTAX, "expected a field name of %s, got %s", md->name, tok_desc(l, buf));
			return false;
		}
		if (allow_extra && strcmp(l->text, "extra") == 0)
			break;
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(md, l->text);
		if (!f) {
			lerr(l, CT_UNKNOWN_FIELD, "%s has no field %s", md->name, l->text);
			return false;
		}
		unsigned fi = (unsigned)(f - md->fields);
		if (f->label != PROTOBUF_C_LABEL_REPEATED && seen[fi]) {
			lerr(l, CT_VALUE, "field %s is given twice (it is not repeated)", f->name);
			return false;
		}
		seen[fi] = 1;
		advance(l);
		if (is_punct(l, ':'))
			advance(l);
		else if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
			lerr(l, CT_SYNTAX, "expected ':' after %s, got %s", f->name, tok_desc(l, buf));
			return false;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			bool list = is_punct(l, '[');
			if (list)
				advance(l);
			while (!(list && is_punct(l, ']'))) {
				void *slot;
				if (!rep_push(e, &reps[fi], f, &slot) || !read_value(e, f, slot, depth))
					return false;
				if (!list)
					break;
				if (is_punct(l, ','))
					advance(l);
				else if (!is_punct(l, ']')) {
					lerr(l, CT_SYNTAX, "expected ',' or ']' in the list of %s, got %s",
					     f->name, tok_desc(l, buf));
					return false;
				}
			}
			if (list)
				advance(l);
		} else {
			if (is_punct(l, '[')) {
				lerr(l, CT_VALUE, "%s is not repeated: it takes one value, not a list", f->name);
				return false;
			}
			if (!read_value(e, f, (char *)m + f->offset, depth))
				return false;
			if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
			    f->type != PROTOBUF_C_TYPE_STRING) {
				protobuf_c_boolean has = 1;
				memcpy((char *)m + f->quantifier_offset, &has, sizeof(has));
			}
		}
		if (is_punct(l, ';') || is_punct(l, ','))
			advance(l);
	}
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		if (f->label != PROTOBUF_C_LABEL_REPEATED)
			continue;
		memcpy((char *)m + f->quantifier_offset, &reps[i].n, sizeof(size_t));
		memcpy((char *)m + f->offset, &reps[i].data, sizeof(char *));
	}
	return check_required(e, md, seen);
}

/* ---- encoding: the image ------------------------------------------------------------ */

static void put(tenc *e, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, e->out) != n)
		e->write_failed = true;
}

static void put_le32(tenc *e, uint32_t v)
{
	unsigned char b[CRIU_ENTRY_SIZE_LEN];

	criu_le32_put(b, v);
	put(e, b, sizeof(b));
}

static void put_zeros(tenc *e, uint64_t n)
{
	static const unsigned char zeros[CRIU_BLOB_MAX_ALIGN];
	put(e, zeros, (size_t)n);
}

static bool put_message(tenc *e, const ProtobufCMessage *m)
{
	size_t size = protobuf_c_message_get_packed_size(m);

	if (size > CJ_ENTRY_MAX) {
		lerr(e->l, CT_VALUE, "entry %" PRIu64 " packs into %zu bytes, more than the %u MiB an entry may have",
		     e->index, size, CJ_ENTRY_MAX >> 20);
		return false;
	}
	uint8_t *buf = talloc(e, size);
	if (!buf)
		return false;
	protobuf_c_message_pack(m, buf);
	put_le32(e, (uint32_t)size);
	put(e, buf, size);
	return true;
}

static bool out_sink(void *arg, const unsigned char *p, size_t n)
{
	put(arg, p, n);
	return true;
}

/* Expect the punctuation c (after optional blanks), then read past it. */
static bool expect(lexer *l, char c, const char *where)
{
	char buf[TOK_MAX + 16];

	if (!is_punct(l, c)) {
		lerr(l, CT_SYNTAX, "expected '%c' %s, got %s", c, where, tok_desc(l, buf));
		return false;
	}
	advance(l);
	return true;
}

/* An escaped octet string written straight out; its length must be want (unless to_end). */
static bool put_string(tenc *e, uint64_t want, bool to_end, const char *what)
{
	lexer *l = e->l;
	char buf[TOK_MAX + 16];
	unsigned long line = l->tline, col = l->tcol;
	uint64_t off = l->toff, count;

	if (l->tok != T_STRING) {
		lerr(l, CT_SYNTAX, "expected a quoted string of %s, got %s", what, tok_desc(l, buf));
		return false;
	}
	if (!read_string(l, out_sink, e, &count))
		return false;
	if (!to_end && count != want) {
		lerr_at(l, CT_LAYOUT, line, col, off, "%s holds %" PRIu64 " octets, but the entry says %" PRIu64,
			what, count, want);
		return false;
	}
	return true;
}

/* The identifier name at the current token, then past it. */
static bool expect_name(lexer *l, const char *name, const char *where)
{
	char buf[TOK_MAX + 16];

	if (l->tok != T_IDENT || strcmp(l->text, name) != 0) {
		lerr(l, CT_SYNTAX, "expected %s %s, got %s", name, where, tok_desc(l, buf));
		return false;
	}
	advance(l);
	return true;
}

/* "extra" with its optional colon, at the current token. */
static bool extra_open(lexer *l)
{
	if (!expect_name(l, "extra", "(the entry's extra data)"))
		return false;
	if (is_punct(l, ':'))
		advance(l);
	return true;
}

static bool extra_sem(tenc *e, const IpcSemEntry *s)
{
	lexer *l = e->l;
	uint64_t count = 0;

	if (!expect(l, '[', "to open the semaphore values"))
		return false;
	while (!is_punct(l, ']')) {
		unsigned long line = l->tline, col = l->tcol;
		uint64_t off = l->toff, mag;
		bool negative;
		if (!read_integer(l, &negative, &mag))
			return false;
		if ((negative && mag) || mag > UINT16_MAX) {
			lerr_at(l, CT_VALUE, line, col, off, "a semaphore value is 0..65535");
			return false;
		}
		unsigned char v[2] = { (unsigned char)mag, (unsigned char)(mag >> 8) };
		put(e, v, 2);
		count++;
		if (is_punct(l, ','))
			advance(l);
		else if (!is_punct(l, ']'))
			return expect(l, ']', "to close the semaphore values");
	}
	if (count != s->nsems) {
		lerr(l, CT_LAYOUT, "%" PRIu64 " semaphore values, but nsems is %" PRIu32, count, s->nsems);
		return false;
	}
	advance(l);
	return true;
}

static bool extra_msgs(tenc *e, criu_blob_kind kind, const IpcMsgEntry *q)
{
	const criu_blob_layout *bl = &criu_blob_layouts[kind];
	lexer *l = e->l;
	uint32_t i = 0;

	for (; l->tok == T_IDENT && strcmp(l->text, "extra") == 0; i++) {
		if (i == q->qnum) {
			lerr(l, CT_LAYOUT, "more queued messages than qnum %" PRIu32, q->qnum);
			return false;
		}
		if (!extra_open(l) || !expect(l, '{', "to open a queued message") ||
		    !expect_name(l, "msg", "(the queued message)"))
			return false;
		if (is_punct(l, ':'))
			advance(l);
		ProtobufCMessage *m = read_message(e, bl->item, 1);
		uint64_t msize;
		if (!m || !put_message(e, m))
			return false;
		criu_blob_length(kind, m, 0, &msize);
		if (!expect_name(l, "text", "(the queued message's text)") ||
		    !expect(l, ':', "after text") || !put_string(e, msize, false, "the message text"))
			return false;
		put_zeros(e, criu_pad_len(msize, bl->align));
		if (!expect(l, '}', "to close the queued message"))
			return false;
	}
	if (i != q->qnum) {
		lerr(l, CT_LAYOUT, "%" PRIu32 " queued messages, but qnum is %" PRIu32, i, q->qnum);
		return false;
	}
	return true;
}

static bool extra_tcp(tenc *e, const TcpStreamEntry *t)
{
	lexer *l = e->l;

	if (!expect(l, '{', "to open the TCP queues") || !expect_name(l, "inq", "(the input queue)") ||
	    !expect(l, ':', "after inq") || !put_string(e, t->inq_len, false, "the input queue") ||
	    !expect_name(l, "outq", "(the output queue)") || !expect(l, ':', "after outq") ||
	    !put_string(e, t->outq_len, false, "the output queue"))
		return false;
	return expect(l, '}', "to close the TCP queues");
}

/* How the text encoder names each blob kind's data. */
static const char *const extra_what[CRIU_BLOB_KIND_COUNT] = {
	[CRIU_BLOB_PIPE_DATA] = "the pipe data",
	[CRIU_BLOB_SK_QUEUE] = "the packet",
	[CRIU_BLOB_BPFMAP_DATA] = "the BPF map data",
	[CRIU_BLOB_IPC_SHM] = "the shared memory",
};

/* The extra data after entry m of the image type (its layout: schema/images.h); absent means empty. */
static bool entry_extra(tenc *e, const criu_image_type *ty, const ProtobufCMessage *m)
{
	criu_blob_kind kind = ty->blob;
	const criu_blob_layout *bl = &criu_blob_layouts[kind];
	lexer *l = e->l;
	bool given = l->tok == T_IDENT && strcmp(l->text, "extra") == 0;
	uint64_t len[CRIU_BLOB_MAX_PIECES] = { 0 }, total = 0;
	unsigned last = bl->pieces ? bl->pieces - 1 : 0;

	if (kind == CRIU_BLOB_NONE)
		return true;
	if (bl->item)
		return extra_msgs(e, kind, (const IpcMsgEntry *)m);
	/* No data at all (IPC_SHM with in_pagemaps) reads as none. */
	for (unsigned k = 0; k < bl->pieces && criu_blob_length(kind, m, k, &len[k]); k++)
		total += len[k];
	if (!given) {
		if (total) {
			lerr(l, CT_LAYOUT, "entry %" PRIu64 " (%s) needs its extra data before this point",
			     e->index, m->descriptor->name);
			return false;
		}
		return true;
	}
	if (!extra_open(l))
		return false;
	if (bl->value_size > 1 ? !extra_sem(e, (const IpcSemEntry *)m)
	    : bl->pieces > 1 ? !extra_tcp(e, (const TcpStreamEntry *)m)
	    : !put_string(e, len[0], false, extra_what[kind]))
		return false;
	put_zeros(e, criu_pad_len(len[last], bl->align));
	return true;
}

/* The marker "#N [name]" of the next entry; false at the end (tok T_EOF) or on error. */
static bool entry_marker(tenc *e, const ProtobufCMessageDescriptor *md)
{
	lexer *l = e->l;
	char buf[TOK_MAX + 16];

	if (l->tok != T_MARKER) {
		if (l->tok != T_EOF)
			lerr(l, CT_SYNTAX, "expected an entry marker #%" PRIu64 ", got %s", e->index,
			     tok_desc(l, buf));
		return false;
	}
	if (l->marker != e->index) {
		lerr(l, CT_LAYOUT, "entry marker #%" PRIu64 " where #%" PRIu64 " comes (markers count from #0 "
		     "one by one)", l->marker, e->index);
		return false;
	}
	if (l->text[0] && strcmp(l->text, md->name) != 0) {
		lerr(l, CT_LAYOUT, "entry #%" PRIu64 " is a %s here, not a %s", e->index, md->name, l->text);
		return false;
	}
	advance(l);
	return !l->failed;
}

/*
 * One entry of md: its marker, fields, packed message and extra data.
 * Returns 1, 0 at the end of the input, -1 on error.  *out gets the
 * message (valid until the next entry).
 */
static int one_entry(tenc *e, const ProtobufCMessageDescriptor *md, const criu_image_type *ty,
		     bool extra, ProtobufCMessage **out)
{
	lexer *l = e->l;
	char buf[TOK_MAX + 16];

	if (l->tok == T_EOF && !l->failed)
		return 0;
	criu_arena_reset(&e->arena);
	e->used = 0;
	sv_set_record(l->cx, e->index, md->name);
	if (!entry_marker(e, md))
		return -1;
	ProtobufCMessage *m = talloc(e, md->sizeof_message);
	if (!m)
		return -1;
	md->message_init(m);
	if (!parse_fields(e, md, m, 0, 0, extra) || !put_message(e, m))
		return -1;
	if (out)
		*out = m;
	if (!ty) /* the caller reads what follows */
		goto next;
	if (extra && !entry_extra(e, ty, m))
		return -1;
	if (l->tok != T_MARKER && l->tok != T_EOF) {
		lerr(l, CT_LAYOUT, "%s after the extra data, which comes last in an entry",
		     tok_desc(l, buf));
		return -1;
	}
next:
	e->index++;
	return l->failed ? -1 : 1;
}

static bool ghost(tenc *e)
{
	lexer *l = e->l;
	ProtobufCMessage *m = NULL;
	char buf[TOK_MAX + 16];

	if (l->tok == T_EOF) {
		lerr(l, CT_LAYOUT, "a ghost file image needs its ghost_file_entry (#0)");
		return false;
	}
	if (one_entry(e, &ghost_file_entry__descriptor, NULL, true, &m) < 0)
		return false;
	const GhostFileEntry *g = (const GhostFileEntry *)m;
	bool chunks = criu_ghost_chunked(g);
	if (l->tok == T_IDENT) {
		if (chunks) {
			lerr(l, CT_LAYOUT, "a chunked ghost file has its data in the chunk entries");
			return false;
		}
		if (!extra_open(l) || !put_string(e, 0, true, "the ghost file's contents"))
			return false;
		if (l->tok != T_EOF) {
			lerr(l, CT_LAYOUT, "%s after the contents of a ghost file without chunks",
			     tok_desc(l, buf));
			return false;
		}
		return true;
	}
	if (!chunks) {
		if (l->tok != T_EOF)
			lerr(l, CT_LAYOUT, "a ghost file without chunks has one entry");
		return !l->failed;
	}
	for (;;) {
		int r = one_entry(e, &ghost_chunk_entry__descriptor, NULL, true, &m);
		if (r <= 0)
			return r == 0;
		const GhostChunkEntry *c = (const GhostChunkEntry *)m;
		bool given = l->tok == T_IDENT;
		if (given ? !(extra_open(l) && put_string(e, c->len, false, "the chunk")) : c->len != 0) {
			if (!given)
				lerr(l, CT_LAYOUT, "the chunk's %" PRIu64 " octets are missing before this point",
				     c->len);
			return false;
		}
		if (l->tok != T_MARKER && l->tok != T_EOF) {
			lerr(l, CT_LAYOUT, "%s after the chunk's data, which comes last", tok_desc(l, buf));
			return false;
		}
	}
}

/* A magic in the magic line: a number or a name. */
static bool magic_value(lexer *l, uint32_t *v)
{
	char buf[TOK_MAX + 16];
	uint64_t mag;

	if (l->tok == T_IDENT) {
		const criu_image_type *t = criu_image_by_name(l->text);
		if (!strcmp(l->text, "IMG_COMMON"))
			*v = CRIU_IMG_COMMON_MAGIC;
		else if (!strcmp(l->text, "IMG_SERVICE"))
			*v = CRIU_IMG_SERVICE_MAGIC;
		else if (t && t->magic)
			*v = t->magic;
		else {
			lerr(l, CT_LAYOUT, "%s is not the name of a CRIU image type with a magic", l->text);
			return false;
		}
	} else if (l->tok == T_NUM) {
		if (!parse_magnitude(l->text, &mag) || mag > UINT32_MAX) {
			lerr(l, CT_VALUE, "magic %s is not a 32-bit number", l->text);
			return false;
		}
		*v = (uint32_t)mag;
	} else {
		lerr(l, CT_SYNTAX, "expected a magic (a number or a name), got %s", tok_desc(l, buf));
		return false;
	}
	advance(l);
	return true;
}

/* "magic: [HEAD] TYPE": the image type; the magics are written. */
static const criu_image_type *magic_line(tenc *e)
{
	lexer *l = e->l;
	uint32_t v[2];
	unsigned n = 0;
	unsigned long line, col;
	uint64_t off;

	if (!expect_name(l, "magic", "(the first line names the image's magic)") ||
	    !expect(l, ':', "after magic"))
		return NULL;
	line = l->tline;
	col = l->tcol;
	off = l->toff;
	while (n < 2 && (l->tok == T_IDENT || l->tok == T_NUM))
		if (!magic_value(l, &v[n++]))
			return NULL;
	if (!n) {
		magic_value(l, &v[0]);
		return NULL;
	}
	uint32_t head = n == 2 ? v[0] : 0, type = v[n - 1];
	const criu_image_type *t = criu_image_by_magic(type);
	if (!t || !t->entry || t->layout == CRIU_LAYOUT_RAW) {
		lerr_at(l, CT_LAYOUT, line, col, off, "0x%08" PRIx32 " is not the magic of a CRIU image type with entries",
			type);
		return NULL;
	}
	uint32_t right = t->flags & CRIU_IMG_SERVICE ? CRIU_IMG_SERVICE_MAGIC : CRIU_IMG_COMMON_MAGIC;
	if (n == 2 && (t->id == CRIU_T_INVENTORY || head != right)) {
		lerr_at(l, CT_LAYOUT, line, col, off, "%s takes %s", t->name,
			t->id == CRIU_T_INVENTORY ? "no head magic" : right == CRIU_IMG_SERVICE_MAGIC
			? "the head magic IMG_SERVICE" : "the head magic IMG_COMMON");
		return NULL;
	}
	if (n == 2)
		put_le32(e, head);
	put_le32(e, type);
	return t;
}

bool criu_text_encode(sv_ctx *cx, sv_stream *in, FILE *out)
{
	lexer *l = calloc(1, sizeof(*l));
	tenc e = { .l = l, .out = out };
	bool ok = false;
	int r;

	if (!l) {
		sv_report(cx, CRIT_CODE(CT_OUTPUT), SV_NONE, "out of memory");
		return false;
	}
	l->cx = cx;
	l->s = in;
	l->line = l->col = 1;
	criu_arena_init(&e.arena);
	advance(l);
	const criu_image_type *t = l->failed ? NULL : magic_line(&e);
	if (!t)
		goto done;
	switch (t->layout) {
	case CRIU_LAYOUT_PAGEMAP:
		r = one_entry(&e, &pagemap_head__descriptor, t, false, NULL);
		while (r > 0)
			r = one_entry(&e, &pagemap_entry__descriptor, t, false, NULL);
		ok = r == 0;
		break;
	case CRIU_LAYOUT_GHOST_FILE:
		ok = ghost(&e);
		break;
	default:
		do
			r = one_entry(&e, t->entry, t, t->blob != CRIU_BLOB_NONE, NULL);
		while (r > 0);
		ok = r == 0;
		break;
	}
done:
	ok = ok && !l->failed;
	sv_record_none(cx);
	if (ok && (e.write_failed || fflush(out) != 0 || ferror(out))) {
		sv_report(cx, CRIT_CODE(CT_OUTPUT), SV_NONE, "cannot write the image");
		ok = false;
	}
	criu_arena_free(&e.arena);
	free(l);
	return ok;
}
