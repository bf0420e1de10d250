/*
 * CRIU image -> JSON, the same JSON as crit decode (CRIU 3.17.1's pycriu),
 * and `info`.
 *
 * One generic walker writes any message from its protobuf-c descriptor;
 * what is special is only what crit makes special: the magic's name, the
 * extra blob after the entries of some image types, the pagemap head, the
 * ghost file's contents or chunks, and (with --nopl) blob sizes in place
 * of blobs.  The JSON is written straight into a buffer as the image is
 * read, one entry at a time, each entry unpacked into an arena that is
 * reset for the next: memory does not grow with the image.
 *
 * Where crit's output depends on Python's protobuf, this follows what
 * python3-protobuf 3.21 (the C++ backend Debian's crit runs on) does: a
 * field is listed when set on the wire, in field-number order; a string
 * that is not UTF-8 and an enum value the enum does not define are left
 * out (the C++ parser moves them to the unknown fields).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats/criu/image/walk.h"
#include "formats/criu/schema/fieldopts.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/json/json_common.h"
#include "formats/criu/schema/pb.h"
#include "formats/criu/schema/schema.h"

/* ---- JSON writer ---------------------------------------------------------- */

#define JW_BUF (1u << 16)
#define JW_MAX_DEPTH 200

/*
 * Writes JSON the way Python's json.dump does (", " and ": " between
 * items; with indent=4 for --pretty; non-ASCII as \u escapes), so the
 * text matches crit's, not only the values.
 */
typedef struct jw {
	FILE *fp;
	bool indent;
	bool failed;
	unsigned depth;
	size_t n;
	uint32_t count[JW_MAX_DEPTH];
	char buf[JW_BUF];
} jw;

static void jw_flush(jw *w)
{
	if (w->n && fwrite(w->buf, 1, w->n, w->fp) != w->n)
		w->failed = true;
	w->n = 0;
}

/* Room for k (<= JW_BUF) more bytes. */
static inline char *jw_room(jw *w, size_t k)
{
	if (JW_BUF - w->n < k)
		jw_flush(w);
	return w->buf + w->n;
}

static inline void jw_raw(jw *w, const char *p, size_t k)
{
	while (k) {
		size_t room = JW_BUF - w->n;
		if (!room) {
			jw_flush(w);
			room = JW_BUF;
		}
		size_t c = k < room ? k : room;
		memcpy(w->buf + w->n, p, c);
		w->n += c;
		p += c;
		k -= c;
	}
}

static inline void jw_ch(jw *w, char c)
{
	if (w->n == JW_BUF)
		jw_flush(w);
	w->buf[w->n++] = c;
}

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Up to 8 digits of v (< 10^8) ending at end; returns the new start. */
static char *digits32(char *end, uint32_t v, bool pad8)
{
	char *p = end;

	while (v >= 100) {
		uint32_t r = v % 100;
		v /= 100;
		*--p = digit_pairs[2 * r + 1];
		*--p = digit_pairs[2 * r];
	}
	if (v >= 10) {
		*--p = digit_pairs[2 * v + 1];
		*--p = digit_pairs[2 * v];
	} else if (v || !pad8 || p == end) {
		*--p = (char)('0' + v);
	}
	if (pad8)
		while (p > end - 8)
			*--p = '0';
	return p;
}

/*
 * Decimal in 32-bit pieces of eight digits: numbers are most of a
 * pagemap's JSON, and 32-bit division is the cheap kind.
 */
static void jw_u64(jw *w, uint64_t v)
{
	char tmp[24];
	char *end = tmp + sizeof(tmp), *p;

	if (v < 100000000u) {
		p = digits32(end, (uint32_t)v, false);
	} else {
		p = digits32(end, (uint32_t)(v % 100000000u), true);
		v /= 100000000u;
		if (v < 100000000u) {
			p = digits32(p, (uint32_t)v, false);
		} else {
			p = digits32(p, (uint32_t)(v % 100000000u), true);
			p = digits32(p, (uint32_t)(v / 100000000u), false);
		}
	}
	size_t len = (size_t)(end - p);
	memcpy(jw_room(w, len), p, len);
	w->n += len;
}

static void jw_i64(jw *w, int64_t v)
{
	if (v < 0) {
		jw_ch(w, '-');
		jw_u64(w, (uint64_t)0 - (uint64_t)v);
	} else {
		jw_u64(w, (uint64_t)v);
	}
}

static void jw_newline(jw *w)
{
	char *p = jw_room(w, 1 + 4 * (size_t)w->depth);
	p[0] = '\n';
	memset(p + 1, ' ', 4 * (size_t)w->depth);
	w->n += 1 + 4 * (size_t)w->depth;
}

/* Before each item of the innermost array or object. */
static void jw_item(jw *w)
{
	if (w->count[w->depth - 1]++) {
		jw_ch(w, ',');
		if (!w->indent)
			jw_ch(w, ' ');
	}
	if (w->indent)
		jw_newline(w);
}

static void jw_open(jw *w, char c)
{
	jw_ch(w, c);
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->failed = true; /* cannot happen: nesting is checked before */
		return;
	}
	w->count[w->depth++] = 0;
}

static void jw_close(jw *w, char c)
{
	if (!w->depth)
		return;
	w->depth--;
	if (w->indent && w->count[w->depth])
		jw_newline(w);
	jw_ch(w, c);
}

/* A string known to be UTF-8, escaped as Python's ensure_ascii does. */
static void jw_str(jw *w, const unsigned char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	jw_ch(w, '"');
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			size_t j = i + 1;
			while (j < len && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\')
				j++;
			jw_raw(w, (const char *)s + i, j - i);
			i = j;
			continue;
		}
		uint32_t cp;
		if (c < 0x80) {
			cp = c;
			i++;
		} else if (c < 0xe0) {
			cp = (uint32_t)(c & 0x1f) << 6 | (s[i + 1] & 0x3f);
			i += 2;
		} else if (c < 0xf0) {
			cp = (uint32_t)(c & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
			     (s[i + 2] & 0x3f);
			i += 3;
		} else {
			cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3f) << 12 |
			     (uint32_t)(s[i + 2] & 0x3f) << 6 | (s[i + 3] & 0x3f);
			i += 4;
		}
		const char *esc = NULL;
		switch (cp) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default: break;
		}
		if (esc) {
			jw_raw(w, esc, 2);
			continue;
		}
		uint32_t units[2];
		int nu = 1;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			units[0] = 0xd800 | (cp >> 10);
			units[1] = 0xdc00 | (cp & 0x3ff);
			nu = 2;
		} else {
			units[0] = cp;
		}
		for (int k = 0; k < nu; k++) {
			char *p = jw_room(w, 6);
			p[0] = '\\';
			p[1] = 'u';
			p[2] = hex[(units[k] >> 12) & 15];
			p[3] = hex[(units[k] >> 8) & 15];
			p[4] = hex[(units[k] >> 4) & 15];
			p[5] = hex[units[k] & 15];
			w->n += 6;
		}
	}
	jw_ch(w, '"');
}

static void jw_cstr(jw *w, const char *s)
{
	jw_str(w, (const unsigned char *)s, strlen(s));
}

/* A key that needs no escaping (protobuf field names, our own keys). */
static void jw_key(jw *w, const char *name)
{
	size_t len = strlen(name);

	jw_item(w);
	if (len > 256) {
		jw_cstr(w, name);
		jw_raw(w, ": ", 2);
		return;
	}
	char *p = jw_room(w, len + 4);
	p[0] = '"';
	memcpy(p + 1, name, len);
	memcpy(p + 1 + len, "\": ", 3);
	w->n += len + 4;
}

/* ---- base64 into the writer ------------------------------------------------- */

/* One line of base64.encodebytes output, its newline escaped for JSON. */
static void jw_b64_line(jw *w, const unsigned char *in, size_t n)
{
	char *p = jw_room(w, CJ_B64_LINE_OUT + 2);
	size_t k = cj_b64_chunk(in, n, p);
	p[k] = '\\';
	p[k + 1] = 'n';
	w->n += k + 2;
}

static void b64_feed(jw *w, cj_b64 *st, const unsigned char *p, size_t n)
{
	if (!n)
		return;
	if (st->ncarry) {
		size_t take = CJ_B64_LINE_IN - st->ncarry;
		if (take > n)
			take = n;
		memcpy(st->carry + st->ncarry, p, take);
		st->ncarry += take;
		p += take;
		n -= take;
		if (st->ncarry < CJ_B64_LINE_IN)
			return;
		jw_b64_line(w, st->carry, CJ_B64_LINE_IN);
		st->ncarry = 0;
	}
	while (n >= CJ_B64_LINE_IN) {
		jw_b64_line(w, p, CJ_B64_LINE_IN);
		p += CJ_B64_LINE_IN;
		n -= CJ_B64_LINE_IN;
	}
	memcpy(st->carry, p, n);
	st->ncarry = n;
}

static void b64_finish(jw *w, cj_b64 *st)
{
	if (st->ncarry)
		jw_b64_line(w, st->carry, st->ncarry);
	st->ncarry = 0;
}

static void jw_b64(jw *w, const unsigned char *p, size_t n)
{
	cj_b64 st = { .ncarry = 0 };

	jw_ch(w, '"');
	b64_feed(w, &st, p, n);
	b64_finish(w, &st);
	jw_ch(w, '"');
}

/* ---- the decoder ---------------------------------------------------------------- */

#define DROP_REPORTS 5 /* dropped values reported one by one before a summary */

typedef struct dec {
	sv_ctx *cx;
	sv_stream *s;
	jw *w;                 /* NULL for info: frame and count only */
	bool pretty;           /* crit's pretty values (for this message) */
	bool nopl;
	const criu_image_type *type;
	criu_arena arena;
	criu_walk walk;        /* frames the entries */
	uint64_t index;        /* index of the current JSON entry */
	uint64_t entries;      /* entries framed completely */
	uint64_t entry_off;
	uint64_t truncated_at; /* where the image is cut short (the finding's offset), or SV_NONE */
	uint64_t drops;
	const ProtobufCMessageDescriptor *rec_desc; /* criu_pb_recursive cache */
	bool rec;
	/* What each message's fields need, worked out once per descriptor. */
	struct field_cache {
		const ProtobufCMessageDescriptor *desc;
		struct field_info {
			const criu_field_opt *opt;
			const char *key; /* "\"name\": ", ready to copy */
			size_t keylen;
		} *fields;       /* by field index */
		char *keys;
	} *optc;
	size_t noptc, last_optc;
	const char *flags_dict;      /* the flags map looked up last */
	const cj_flag *flags_map;
	size_t flags_n;
	bool oom;
} dec;

typedef struct field_info field_info;

static const field_info *field_infos(dec *d, const ProtobufCMessageDescriptor *md)
{
	if (d->noptc && d->optc[d->last_optc].desc == md)
		return d->optc[d->last_optc].fields;
	for (size_t i = 0; i < d->noptc; i++)
		if (d->optc[i].desc == md) {
			d->last_optc = i;
			return d->optc[i].fields;
		}

	size_t keybytes = 1;
	for (unsigned i = 0; i < md->n_fields; i++)
		keybytes += strlen(md->fields[i].name) + 5;
	struct field_cache *grown = realloc(d->optc, (d->noptc + 1) * sizeof(*grown));
	field_info *fields = calloc(md->n_fields ? md->n_fields : 1, sizeof(*fields));
	char *keys = malloc(keybytes);
	if (grown)
		d->optc = grown;
	if (!grown || !fields || !keys) {
		free(fields);
		free(keys);
		d->oom = true;
		return NULL;
	}
	char *k = keys;
	for (unsigned i = 0; i < md->n_fields; i++) {
		fields[i].opt = criu_field_opt_find(md, md->fields[i].name);
		fields[i].key = k;
		fields[i].keylen = (size_t)sprintf(k, "\"%s\": ", md->fields[i].name);
		k += fields[i].keylen + 1;
	}
	d->optc[d->noptc] = (struct field_cache){ md, fields, keys };
	d->last_optc = d->noptc++;
	return fields;
}

static void dropped(dec *d, const ProtobufCMessageDescriptor *msg,
		    const ProtobufCFieldDescriptor *f, const char *why)
{
	if (++d->drops > DROP_REPORTS)
		return;
	sv_report(d->cx, CJ_CODE(CJ_DROPPED), d->entry_off,
		  "entry %" PRIu64 ": %s.%s %s; left out of the JSON as crit does%s%s",
		  d->index, msg->name, f->name, why,
		  f->label == PROTOBUF_C_LABEL_REQUIRED
			  ? " (a required field: this JSON cannot be encoded back)" : "",
		  d->drops == DROP_REPORTS ? " (further ones are counted at the end)" : "");
}

static const void *at(const void *base, unsigned off)
{
	return (const char *)base + off;
}

/* A scalar integer field's value; *is_signed when the type is. */
static uint64_t int_value(const ProtobufCFieldDescriptor *f, const void *p, bool *is_signed)
{
	*is_signed = false;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		*is_signed = true;
		return (uint64_t)(int64_t) * (const int32_t *)p;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return *(const uint32_t *)p;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*is_signed = true;
		return *(const uint64_t *)p;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p;
	default:
		return 0;
	}
}

/* "0x1f" (Python's "0x%x"), negative values as "-0x1f". */
static void write_hex(jw *w, uint64_t v, bool negative)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[24];
	size_t i = sizeof(tmp);

	if (negative)
		v = (uint64_t)0 - v;
	tmp[--i] = '"';
	do {
		tmp[--i] = hex[v & 15];
		v >>= 4;
	} while (v);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	if (negative)
		tmp[--i] = '-';
	tmp[--i] = '"';
	char *p = jw_room(w, sizeof(tmp) - i);
	memcpy(p, tmp + i, sizeof(tmp) - i);
	w->n += sizeof(tmp) - i;
}

/* An integer the way crit prints it, pretty forms included. */
static void write_int(dec *d, const ProtobufCFieldDescriptor *f, const criu_field_opt *o,
		      uint64_t v, bool is_signed, bool hex)
{
	jw *w = d->w;
	bool negative = is_signed && (int64_t)v < 0;

	if (d->pretty) {
		if (hex) {
			write_hex(w, v, negative);
			return;
		}
		if (o && (o->flags & CRIU_OPT_DEV) && !negative) {
			uint64_t major, minor;
			char tmp[48];
			cj_dev_split(v, o->flags & CRIU_OPT_ODEV, &major, &minor);
			int k = snprintf(tmp, sizeof(tmp), "\"%" PRIu64 ":%" PRIu64 "\"", major, minor);
			jw_raw(w, tmp, (size_t)k);
			return;
		}
		if (o && o->flags_dict) {
			if (o->flags_dict != d->flags_dict) {
				d->flags_dict = o->flags_dict;
				d->flags_map = cj_flags_map(o->flags_dict, &d->flags_n);
			}
			const cj_flag *map = d->flags_map;
			size_t nmap = d->flags_n;
			if (!map || negative) {
				write_hex(w, v, negative);
				return;
			}
			uint64_t known = 0;
			bool first = true;
			jw_ch(w, '"');
			for (size_t i = 0; i < nmap; i++) {
				known |= map[i].bit;
				if (!(v & map[i].bit))
					continue;
				if (!first)
					jw_raw(w, " | ", 3);
				jw_raw(w, map[i].name, strlen(map[i].name));
				first = false;
			}
			if (v & ~known) {
				char tmp[24];
				int k = snprintf(tmp, sizeof(tmp), "%s0x%" PRIx64, first ? "" : " | ",
						 v & ~known);
				jw_raw(w, tmp, (size_t)k);
			}
			jw_ch(w, '"');
			return;
		}
		if (o && o->dict) {
			const char *name = cj_dict_name(o->dict, f->name, (int64_t)v);
			if (name) {
				jw_cstr(w, name);
				return;
			}
		}
	}
	if (negative)
		jw_i64(w, (int64_t)v);
	else
		jw_u64(w, v);
}

static void write_message(dec *d, const ProtobufCMessage *m, bool hex);

/* One value of field f at p (an element, for repeated fields). */
static void write_value(dec *d, const ProtobufCFieldDescriptor *f, const criu_field_opt *o,
			const void *p, bool hex)
{
	jw *w = d->w;

	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		write_message(d, *(ProtobufCMessage *const *)p, hex);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		if (*(const protobuf_c_boolean *)p)
			jw_raw(w, "true", 4);
		else
			jw_raw(w, "false", 5);
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		jw_str(w, (const unsigned char *)s, strlen(s));
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		if (o && o->conv && strcmp(o->conv, "unix_name") == 0) {
			char stack[1024];
			size_t need = 4 * b->len + 16;
			char *tmp = need <= sizeof(stack) ? stack : malloc(need);
			if (!tmp) {
				w->failed = true;
				break;
			}
			size_t k = cj_qp_encode(b->data, b->len, tmp);
			jw_str(w, (const unsigned char *)tmp, k);
			if (tmp != stack)
				free(tmp);
		} else {
			jw_b64(w, b->data, b->len);
		}
		break;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
		jw_cstr(w, ev ? ev->name : "?");
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		/* Not in CRIU's schema; written exactly enough to read back. */
		char tmp[40];
		double v = f->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)p : *(const double *)p;
		int k = snprintf(tmp, sizeof(tmp), "%.17g", v);
		jw_raw(w, tmp, (size_t)k);
		break;
	}
	default: {
		bool is_signed;
		uint64_t v = int_value(f, p, &is_signed);
		write_int(d, f, o, v, is_signed, hex);
		break;
	}
	}
}

/* Would crit (Python protobuf) keep this value?  Reports it when not. */
static bool keeps(dec *d, const ProtobufCMessageDescriptor *md,
		  const ProtobufCFieldDescriptor *f, const void *p, bool report)
{
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(char *const *)p;
		if (!cj_utf8_valid((const unsigned char *)s, strlen(s))) {
			if (report)
				dropped(d, md, f, "holds a string that is not UTF-8");
			return false;
		}
	} else if (f->type == PROTOBUF_C_TYPE_ENUM) {
		if (!protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p)) {
			if (report)
				dropped(d, md, f, "holds a value its enum does not define");
			return false;
		}
	}
	return true;
}

/* Is an optional field present? */
static bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)at(m, f->quantifier_offset) == f->id;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) {
		const void *ptr = *(void *const *)at(m, f->offset);
		return ptr && ptr != f->default_value;
	}
	return *(const protobuf_c_boolean *)at(m, f->quantifier_offset);
}

/* The fields of m into the object that is open. */
static void write_fields(dec *d, const ProtobufCMessage *m, bool hex)
{
	const ProtobufCMessageDescriptor *md = m->descriptor;
	const field_info *fi = field_infos(d, md);
	jw *w = d->w;

	if (!fi)
		return;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		const criu_field_opt *o = fi[i].opt;
		bool fhex = hex || (o && (o->flags & CRIU_OPT_HEX));

		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if (f->label != PROTOBUF_C_LABEL_REQUIRED && !present(m, f))
				continue;
			if (!keeps(d, md, f, at(m, f->offset), true))
				continue;
			jw_item(w);
			jw_raw(w, fi[i].key, fi[i].keylen);
			write_value(d, f, o, at(m, f->offset), fhex);
			continue;
		}

		size_t n = *(const size_t *)at(m, f->quantifier_offset);
		const char *arr = *(char *const *)at(m, f->offset);
		size_t es = cj_elem_size(f->type);
		if (!n)
			continue;
		if (d->pretty && o && (o->flags & CRIU_OPT_IPADD) && (n == 1 || n >= 4)) {
			/* crit reads words 0..3 only; 2 or 3 words would make it fail. */
			char text[64];
			cj_ip_format((const uint32_t *)(const void *)arr, n, text);
			jw_key(w, f->name);
			jw_open(w, '[');
			jw_item(w);
			jw_cstr(w, text);
			jw_close(w, ']');
			continue;
		}
		size_t kept = 0;
		for (size_t k = 0; k < n; k++)
			if (keeps(d, md, f, arr + k * es, true))
				kept++;
		if (!kept)
			continue;
		jw_key(w, f->name);
		jw_open(w, '[');
		for (size_t k = 0; k < n; k++) {
			const void *p = arr + k * es;
			if (!keeps(d, md, f, p, false))
				continue;
			jw_item(w);
			write_value(d, f, o, p, fhex);
		}
		jw_close(w, ']');
	}
}

static void write_message(dec *d, const ProtobufCMessage *m, bool hex)
{
	jw_open(d->w, '{');
	write_fields(d, m, hex);
	jw_close(d->w, '}');
}

/* ---- framing ------------------------------------------------------------------ */

/* Note where the image is cut short, then report it. */
static void truncated(dec *d, uint64_t off, uint64_t needed, uint64_t got, const char *what)
{
	/* The same offset as the finding, so the two can be matched. */
	if (d->truncated_at == SV_NONE)
		d->truncated_at = off;
	sv_report_truncated(d->cx, off, needed, got, what);
}

/*
 * Read the next entry (u32 size, then a desc message) and unpack it into
 * the arena, or only skip it when msg is NULL.  Returns 1, 0 when the
 * input ended cleanly before it (at_end_ok), or -1 after a report.
 */
static int read_entry(dec *d, const ProtobufCMessageDescriptor *desc, const char *what,
		      bool at_end_ok, ProtobufCMessage **msg, uint32_t *size_out)
{
	uint64_t off = sv_offset(d->s);
	criu_frame f;

	if (at_end_ok && criu_walk_at_end(&d->walk))
		return 0;
	d->entry_off = off;
	switch (criu_walk_frame(&d->walk, &f, msg != NULL)) {
	case CRIU_FRAME_END:
	case CRIU_FRAME_CUT_SIZE:
		truncated(d, off, CRIU_ENTRY_SIZE_LEN, f.got, what);
		return -1;
	case CRIU_FRAME_TOO_LARGE:
		sv_report(d->cx, CJ_CODE(CJ_TOO_LARGE), off,
			  "entry %" PRIu64 " (%s) claims %" PRIu64 " bytes, more than the %u MiB "
			  "streamverify converts", d->index, desc->name, f.size,
			  CJ_ENTRY_MAX >> 20);
		return -1;
	case CRIU_FRAME_CUT_BODY:
		truncated(d, off + CRIU_ENTRY_SIZE_LEN, f.size, f.got, what);
		return -1;
	case CRIU_FRAME_NO_MEMORY:
		d->oom = true;
		return -1;
	case CRIU_FRAME_OK:
		break;
	}
	uint32_t size = (uint32_t)f.size;
	if (size_out)
		*size_out = size;
	if (!msg)
		return 1;

	if (d->rec_desc != desc) {
		d->rec_desc = desc;
		d->rec = criu_pb_recursive(desc);
	}
	criu_pb_diag diag;
	if (d->rec && criu_pb_diagnose(desc, f.body, size, &diag) == CRIU_PB_TOO_DEEP) {
		sv_report(d->cx, CJ_CODE(CJ_ENTRY), off,
			  "entry %" PRIu64 " (%s): messages nested deeper than %d", d->index,
			  desc->name, CRIU_PB_MAX_DEPTH);
		return -1;
	}
	*msg = protobuf_c_message_unpack(desc, &d->arena.pc, size, f.body);
	if (!*msg) {
		criu_pb_problem p = criu_pb_diagnose(desc, f.body, size, &diag);
		if (p == CRIU_PB_OK)
			d->oom = true; /* protobuf-c refused what parses: memory */
		else
			sv_report(d->cx, CJ_CODE(CJ_ENTRY), off,
				  "entry %" PRIu64 " is not a valid %s: %s (at byte %zu of %" PRIu32 ")",
				  d->index, desc->name, diag.what, diag.at, size);
		return -1;
	}
	criu_walk_release(&d->walk);
	return 1;
}

/* Skip padding; an image may end inside it (crit does not mind either). */
static void skip_padding(dec *d, uint64_t n)
{
	if (n)
		sv_skip(d->s, n);
}

/* --nopl: "... <4KB>", the size written as crit's human_readable() does. */
static void write_payload_size(jw *w, uint64_t n)
{
	static const char *const units[] = { "", "K", "M", "G", "T", "P", "E", "Z" };
	double v = (double)n;
	char tmp[64];
	int k = -1;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (v < 1024.0) {
			if (v == (double)(uint64_t)v)
				k = snprintf(tmp, sizeof(tmp), "... <%" PRIu64 "%sB>", (uint64_t)v, units[i]);
			else
				k = snprintf(tmp, sizeof(tmp), "... <%.1f%sB>", v, units[i]);
			break;
		}
		v /= 1024.0;
	}
	if (k < 0)
		k = snprintf(tmp, sizeof(tmp), "... <%.1fYB>", v);
	jw_str(w, (const unsigned char *)tmp, (size_t)k);
}

typedef struct blob_out {
	jw *w;
	cj_b64 b64;
} blob_out;

static int blob_piece(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	blob_out *b = arg;

	(void)off;
	if (b->w)
		b64_feed(b->w, &b->b64, p, n);
	return 0;
}

/*
 * n bytes of blob as a base64 string (only skipped for info).  With
 * to_end, the rest of the input whatever its length.
 */
static bool write_blob(dec *d, uint64_t n, bool to_end, const char *what)
{
	blob_out b = { d->w, { .ncarry = 0 } };
	uint64_t off = sv_offset(d->s), rem = sv_remaining(d->s);

	if (!to_end && rem != UINT64_MAX && n > rem) {
		truncated(d, off, n, rem, what);
		return false;
	}
	if (d->w)
		jw_ch(d->w, '"');
	uint64_t got = d->w || to_end ? sv_scan(d->s, to_end ? UINT64_MAX : n, blob_piece, &b)
				      : sv_skip(d->s, n);
	if (!to_end && got < n) {
		truncated(d, off, n, got, what);
		return false;
	}
	if (d->w) {
		b64_finish(d->w, &b.b64);
		jw_ch(d->w, '"');
	}
	return true;
}

/* Skip n bytes of blob (--nopl), reporting a short image. */
static bool skip_blob(dec *d, uint64_t n, const char *what)
{
	uint64_t off = sv_offset(d->s), got = sv_skip(d->s, n);

	if (got < n) {
		truncated(d, off, n, got, what);
		return false;
	}
	return true;
}

/* How the decoder names each blob kind's pieces, and all of them at once. */
static const struct blob_words {
	const char *what[CRIU_BLOB_MAX_PIECES];
	const char *key[CRIU_BLOB_MAX_PIECES]; /* several pieces: their keys in "extra" */
	const char *all;
} blob_words[CRIU_BLOB_KIND_COUNT] = {
	[CRIU_BLOB_PIPE_DATA] = { { "pipe data" }, { NULL }, "pipe data" },
	[CRIU_BLOB_SK_QUEUE] = { { "a queued packet" }, { NULL }, "a queued packet" },
	[CRIU_BLOB_TCP_QUEUES] = { { "the TCP input queue", "the TCP output queue" },
				   { "inq", "outq" }, "TCP queues" },
	[CRIU_BLOB_BPFMAP_DATA] = { { "BPF map keys and values" }, { NULL },
				    "BPF map keys and values" },
	[CRIU_BLOB_IPC_SHM] = { { "IPC shared memory" }, { NULL }, "IPC shared memory" },
	[CRIU_BLOB_IPC_SEM] = { { "semaphore values" }, { NULL }, "semaphore values" },
	[CRIU_BLOB_IPC_MSG] = { { "an IPC message's text" }, { NULL }, "an IPC message's text" },
};

/* len octets of little-endian values of size octets each, as a JSON array. */
static bool write_values(dec *d, uint64_t len, unsigned size, const char *what)
{
	uint64_t off = sv_offset(d->s), rem = sv_remaining(d->s);
	unsigned char v[sizeof(uint64_t)];

	if (rem != UINT64_MAX && len > rem) {
		truncated(d, off, len, rem, what);
		return false;
	}
	jw_open(d->w, '[');
	for (uint64_t i = 0; i < len / size; i++) {
		size_t got = sv_read(d->s, v, size);
		if (got < size) {
			truncated(d, off, len, size * i + got, what);
			return false;
		}
		uint64_t value = 0;
		for (unsigned b = size; b-- > 0;)
			value = value << 8 | v[b];
		jw_item(d->w);
		jw_u64(d->w, value);
	}
	jw_close(d->w, ']');
	return true;
}

/*
 * The decoder following one entry's blob (criu_walk_blobs' events, in
 * the layout of schema/images.h).  Listed, the data are written as crit
 * writes them; sized (--nopl, or info without a writer), the pieces of an
 * entry are only summed as they come and skipped at once when the walk
 * ends, so that a short image is reported for all of them together.
 */
typedef struct blob_dec {
	dec *d;
	criu_blob_kind kind;
	bool listed;        /* the data are written (not --nopl, not info) */
	bool any_piece;     /* a piece followed the entry */
	uint64_t payload;   /* --nopl of items: item frames and their data */
	uint64_t total;     /* sized pieces: their octets, skipped at the end */
	uint64_t pad;       /* sized pieces: the padding after them */
} blob_dec;

/* IPCNS_MSG: one queued message, framed like an entry, before its text. */
static bool dec_blob_item(void *arg, uint64_t k, const ProtobufCMessage **out)
{
	blob_dec *bd = arg;
	dec *d = bd->d;
	ProtobufCMessage *m = NULL;
	uint32_t size;

	(void)k;
	criu_arena_reset(&d->arena);
	if (read_entry(d, criu_blob_layouts[bd->kind].item, "an IPC message", false, &m,
		       &size) < 0)
		return false;
	bd->payload += size;
	if (bd->listed) {
		/* crit writes the queued messages without pretty values. */
		bool values = d->pretty;
		d->pretty = false;
		jw_item(d->w);
		write_message(d, m, false);
		d->pretty = values;
		jw_item(d->w);
	}
	*out = m;
	return true;
}

static bool dec_blob_piece(void *arg, const ProtobufCMessage *m, uint64_t item,
			   unsigned piece, uint64_t len)
{
	blob_dec *bd = arg;
	dec *d = bd->d;
	const criu_blob_layout *bl = &criu_blob_layouts[bd->kind];
	const struct blob_words *words = &blob_words[bd->kind];

	(void)m;
	(void)item;
	bd->any_piece = true;
	if (bl->item) {
		bd->payload += len;
		return bd->listed ? write_blob(d, len, false, words->what[piece])
				  : skip_blob(d, len, words->what[piece]);
	}
	if (!bd->listed) {
		bd->total += len;
		return true;
	}
	if (bl->value_size > 1)
		return write_values(d, len, bl->value_size, words->what[piece]);
	if (bl->pieces > 1) {
		if (piece == 0)
			jw_open(d->w, '{');
		jw_key(d->w, words->key[piece]);
	}
	return write_blob(d, len, false, words->what[piece]);
}

static bool dec_blob_padding(void *arg, uint64_t len)
{
	blob_dec *bd = arg;

	if (!bd->listed && !criu_blob_layouts[bd->kind].item)
		bd->pad = len;
	else
		skip_padding(bd->d, len);
	return true;
}

/* The extra blob after an entry of the image type, as "extra" (its layout: schema/images.h). */
static bool entry_blob(dec *d, const ProtobufCMessage *m)
{
	criu_blob_kind kind = d->type->blob;
	const criu_blob_layout *bl = &criu_blob_layouts[kind];
	blob_dec bd = { d, kind, d->w && !d->nopl, false, 0, 0, 0 };
	criu_blob_events ev = { &bd, dec_blob_item, dec_blob_piece, dec_blob_padding };

	if (kind == CRIU_BLOB_NONE)
		return true;
	if (d->w)
		jw_key(d->w, "extra");
	if (bl->item && bd.listed)
		jw_open(d->w, '[');
	if (!criu_walk_blobs(kind, m, &ev))
		return false;
	if (bl->item) {
		if (d->w && d->nopl)
			write_payload_size(d->w, bd.payload);
		else if (d->w)
			jw_close(d->w, ']');
		return true;
	}
	if (!bd.any_piece) {
		/*
		 * IPC_SHM: since CRIU 3.0 the contents are in a
		 * pagemap-shmem image (in_pagemaps) and nothing follows;
		 * crit 3.17 still reads size bytes.  Written as no bytes,
		 * which is what crit shows for the last (usually only)
		 * segment; --nopl gives the size crit would.
		 */
		if (d->w && d->nopl)
			write_payload_size(d->w, ((const IpcShmEntry *)m)->size);
		else if (d->w)
			jw_raw(d->w, "\"\"", 2);
		return true;
	}
	if (!bd.listed) {
		if (d->w)
			write_payload_size(d->w, bd.total);
		if (!skip_blob(d, bd.total, blob_words[kind].all))
			return false;
		skip_padding(d, bd.pad);
	} else if (bl->pieces > 1 && bl->value_size == 1) {
		jw_close(d->w, '}');
	}
	return true;
}

/* One entry of desc with whatever follows it; returns 1, 0 at the end, -1. */
static int entry(dec *d, const ProtobufCMessageDescriptor *desc, bool blob, bool at_end_ok)
{
	ProtobufCMessage *m = NULL;
	bool need = d->w || (blob && d->type->blob != CRIU_BLOB_NONE);

	criu_arena_reset(&d->arena);
	sv_set_record(d->cx, d->index, desc->name);
	int r = read_entry(d, desc, desc->name, at_end_ok, need ? &m : NULL, NULL);
	if (r <= 0)
		return r;
	if (d->w) {
		jw_item(d->w);
		jw_open(d->w, '{');
		write_fields(d, m, false);
	}
	if (blob && !entry_blob(d, m))
		return -1;
	if (d->w)
		jw_close(d->w, '}');
	d->entries++;
	d->index++;
	sv_count_record(d->cx);
	return 1;
}

/* GHOST_FILE: the ghost_file_entry, then its contents or its chunks. */
static bool ghost_file(dec *d)
{
	ProtobufCMessage *m = NULL;

	criu_arena_reset(&d->arena);
	sv_set_record(d->cx, 0, "ghost_file_entry");
	if (sv_at_end(d->s)) {
		sv_report(d->cx, CJ_CODE(CJ_LAYOUT), sv_offset(d->s),
			  "the image ends before its ghost_file_entry");
		return false;
	}
	if (read_entry(d, &ghost_file_entry__descriptor, "the ghost_file_entry", false, &m,
		       NULL) < 0)
		return false;
	const GhostFileEntry *g = (const GhostFileEntry *)m;
	bool chunks = criu_ghost_chunked(g);
	if (d->w) {
		jw_item(d->w);
		jw_open(d->w, '{');
		write_fields(d, m, false);
	}
	d->entries++;
	d->index++;
	if (!chunks) {
		/* The contents run to the end of the file (--nopl: left out). */
		if (d->w && !d->nopl) {
			jw_key(d->w, "extra");
			if (!write_blob(d, 0, true, "the ghost file's contents"))
				return false;
		} else {
			sv_skip(d->s, UINT64_MAX);
		}
		if (d->w)
			jw_close(d->w, '}');
		return true;
	}
	if (d->w)
		jw_close(d->w, '}');
	for (;;) {
		criu_arena_reset(&d->arena);
		sv_set_record(d->cx, d->index, "ghost_chunk_entry");
		int r = read_entry(d, &ghost_chunk_entry__descriptor, "a ghost_chunk_entry", true,
				   &m, NULL);
		if (r <= 0)
			return r == 0;
		const GhostChunkEntry *c = (const GhostChunkEntry *)m;
		if (d->w) {
			jw_item(d->w);
			jw_open(d->w, '{');
			write_fields(d, m, false);
		}
		if (d->w && !d->nopl) {
			jw_key(d->w, "extra");
			if (!write_blob(d, c->len, false, "a ghost file chunk"))
				return false;
		} else if (!skip_blob(d, c->len, "a ghost file chunk")) {
			return false;
		}
		if (d->w)
			jw_close(d->w, '}');
		d->entries++;
		d->index++;
	}
}

/* Read the magic(s) and find the image type; false after a report. */
static bool read_magic(dec *d)
{
	uint32_t head, magic;

	if (criu_walk_magic(d->cx, d->s, "the image magic", "the image type magic", &head,
			    &magic) != CRIU_MAGIC_OK)
		return false;
	d->type = criu_image_by_magic(magic);
	if (!d->type || d->type->layout == CRIU_LAYOUT_RAW || !d->type->entry) {
		sv_report(d->cx, CJ_CODE(CJ_MAGIC), sv_offset(d->s) - CRIU_MAGIC_LEN,
			  "unknown magic 0x%08" PRIx32 ": not a CRIU image with entries (raw "
			  "images such as pages-N.img have no magic)", magic);
		return false;
	}
	return true;
}

/* Every entry of the image (after the magic). */
static bool all_entries(dec *d)
{
	int r;

	switch (d->type->layout) {
	case CRIU_LAYOUT_PAGEMAP:
		r = entry(d, &pagemap_head__descriptor, false, true);
		while (r > 0)
			r = entry(d, &pagemap_entry__descriptor, false, true);
		return r == 0;
	case CRIU_LAYOUT_GHOST_FILE:
		return ghost_file(d);
	case CRIU_LAYOUT_ENTRIES:
		do
			r = entry(d, d->type->entry, true, true);
		while (r > 0);
		return r == 0;
	case CRIU_LAYOUT_RAW:
		break;
	}
	return false;
}

static bool dec_init(dec *d, sv_ctx *cx, sv_stream *in, unsigned flags)
{
	memset(d, 0, sizeof(*d));
	d->cx = cx;
	d->s = in;
	d->pretty = flags & SV_CONV_PRETTY;
	d->nopl = flags & SV_CONV_NOPL;
	d->truncated_at = SV_NONE;
	criu_arena_init(&d->arena);
	criu_walk_init(&d->walk, in, CRIU_ENTRY_SIZE_LEN, CJ_ENTRY_MAX, true);
	return true;
}

static void dec_free(dec *d)
{
	criu_arena_free(&d->arena);
	criu_walk_free(&d->walk);
	for (size_t i = 0; i < d->noptc; i++) {
		free(d->optc[i].fields);
		free(d->optc[i].keys);
	}
	free(d->optc);
}

static bool finish(dec *d, bool ok)
{
	sv_record_none(d->cx);
	if (d->drops > DROP_REPORTS)
		sv_report(d->cx, CJ_CODE(CJ_DROPPED), SV_NONE,
			  "%" PRIu64 " field values in all were left out of the JSON", d->drops);
	if (d->oom) {
		sv_report(d->cx, CJ_CODE(CJ_OUTPUT), SV_NONE, "out of memory");
		ok = false;
	}
	return ok;
}

static bool criu_json_decode(sv_ctx *cx, sv_stream *in, FILE *out, unsigned flags)
{
	dec d;
	jw *w = malloc(sizeof(*w));
	bool ok = false;

	if (!w) {
		sv_report(cx, CJ_CODE(CJ_OUTPUT), SV_NONE, "out of memory");
		return false;
	}
	w->fp = out;
	w->indent = flags & SV_CONV_PRETTY;
	w->failed = false;
	w->depth = 0;
	w->n = 0;
	dec_init(&d, cx, in, flags);
	d.w = w;
	if (read_magic(&d)) {
		jw_open(w, '{');
		jw_key(w, "magic");
		jw_cstr(w, d.type->name);
		jw_key(w, "entries");
		jw_open(w, '[');
		ok = all_entries(&d);
		jw_close(w, ']');
		jw_close(w, '}');
		jw_ch(w, '\n');
	}
	jw_flush(w);
	if (ok && (w->failed || fflush(out) != 0 || ferror(out))) {
		sv_report(cx, CJ_CODE(CJ_OUTPUT), SV_NONE, "cannot write the JSON");
		ok = false;
	}
	ok = finish(&d, ok);
	dec_free(&d);
	free(w);
	return ok;
}

/*
 * info: the magic's name and the number of entries, as crit info prints
 * them (the pagemap head is not counted).  A truncated image still gets
 * its figures, up to the last whole entry, with where it ends.
 */
static bool criu_json_info(sv_ctx *cx, sv_stream *in, FILE *out)
{
	dec d;
	bool ok;

	dec_init(&d, cx, in, 0);
	if (!read_magic(&d)) {
		dec_free(&d);
		sv_record_none(cx);
		return false;
	}
	ok = all_entries(&d);
	uint64_t count = d.entries;
	if (d.type->layout == CRIU_LAYOUT_PAGEMAP && count)
		count--;
	if (ok || d.truncated_at != SV_NONE) {
		fprintf(out, "{\n    \"magic\": \"%s\",\n    \"count\": %" PRIu64, d.type->name, count);
		if (!ok)
			fprintf(out, ",\n    \"truncated_at\": %" PRIu64, d.truncated_at);
		fputs("\n}\n", out);
		ok = true;
	}
	ok = finish(&d, ok);
	dec_free(&d);
	return ok;
}

const sv_converter criu_converter = {
	.decode = criu_json_decode,
	.encode = criu_json_encode,
	.info = criu_json_info,
};
