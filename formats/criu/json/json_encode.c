/*
 * JSON -> CRIU image: the inverse of json_decode.c, accepting what crit
 * encode accepts from crit decode (plain and --pretty JSON alike) and
 * refusing, with the JSON path of the culprit, what it would silently get
 * wrong: unknown fields, values of the wrong type or out of range, blobs
 * whose length disagrees with their entry.
 *
 * The JSON is read as a stream (json_stream.h): the top level is walked
 * by a small scanner and each entry's text is parsed with jansson on its
 * own, so memory is bounded by the largest entry, not the document.  Each
 * entry's message is built from its protobuf-c descriptor by one generic
 * walker into an arena reset per entry, packed by protobuf-c (fields in
 * field-number order, as CRIU's own protobuf-c writes them) and written
 * before the next entry is read.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "formats/criu/schema/fieldopts.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/json/json_common.h"
#include "formats/criu/json/json_stream.h"
#include "formats/criu/schema/pb.h"
#include "formats/criu/schema/schema.h"
#include "internal.h"

#define PATH_MAX_LEN 1024
#define MAX_REPORTS 50       /* errors reported before the encoder gives up */
#define MAX_DEPTH CRIU_PB_MAX_DEPTH

/*
 * jansson keeps integers in a long long, which does not hold the upper
 * half of uint64.  Such literals are turned into strings carrying this
 * prefix before parsing (no JSON text can produce a raw NUL inside a
 * string without escaping it), and read back as integers.
 */
#define BIG_INT_MARK "\\u0000"
#define BIG_INT_MARK_LEN 6

/* Open addressing by descriptor address, never evicting: build_message
 * keeps its message's options across the nested messages it builds, so
 * an entry must stay valid for the whole run. proto/ declares fewer
 * than 200 message types, so the table stays under half full. */
#define OPT_CACHE_SLOTS 512

typedef struct enc {
	sv_ctx *cx;
	FILE *out;
	const criu_image_type *type;
	criu_arena arena;
	char path[PATH_MAX_LEN];
	size_t plen;
	uint64_t index;       /* entry being encoded */
	unsigned errors;
	bool write_failed;
	bool oom;
	/* Streaming (json_stream.h): the document is read one value at a time. */
	cjs *js;
	bool stop;            /* a syntax error, no memory, too many errors: read no further */
	bool have_magic, have_entries;
	FILE *spool;          /* entries read before the magic, kept until it comes */
	bool spool_empty;     /* an empty entries array came before the magic */
	enum { GHOST_NONE, GHOST_WHOLE, GHOST_CHUNKS, GHOST_FAILED } ghost;
	/* Field options by message, kept for the whole run: every entry of an
	 * image is the same message, and the linear table would otherwise be
	 * searched for each of its fields (a sixth of encode's time). */
	struct {
		const ProtobufCMessageDescriptor *msg;
		const criu_field_opt **opts;
	} opt_cache[OPT_CACHE_SLOTS];
} enc;

/* ---- paths and reports --------------------------------------------------------- */

/* Append text to the path (cut at its end); the path is built for every
 * field but read only when something is wrong, so no printf here. */
static void path_append(enc *e, const char *text, size_t n)
{
	if (n > sizeof(e->path) - 1 - e->plen)
		n = sizeof(e->path) - 1 - e->plen;
	memcpy(e->path + e->plen, text, n);
	e->plen += n;
	e->path[e->plen] = '\0';
}

static size_t path_push_key(enc *e, const char *key)
{
	size_t saved = e->plen;

	if (e->plen)
		path_append(e, ".", 1);
	path_append(e, key, strlen(key));
	return saved;
}

static size_t path_push_index(enc *e, size_t i)
{
	char digits[24], *p = digits + sizeof(digits);
	size_t saved = e->plen;

	*--p = ']';
	do
		*--p = (char)('0' + i % 10);
	while ((i /= 10) != 0);
	*--p = '[';
	path_append(e, p, (size_t)(digits + sizeof(digits) - p));
	return saved;
}

static void path_pop(enc *e, size_t saved)
{
	e->plen = saved;
	e->path[saved] = '\0';
}

static void fail(enc *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(enc *e, int code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (++e->errors > MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sv_report(e->cx, CJ_CODE(code), SV_NONE, "%s: %s%s", e->plen ? e->path : "(top level)",
		  text, e->errors == MAX_REPORTS ? " (no further errors reported)" : "");
}

static bool is_big_int(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0 && json_string_value(v)[0] == '\0';
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING:
		return is_big_int(v) ? "a number" : "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	}
	return "?";
}

static void *arena_alloc(enc *e, size_t n)
{
	void *p = e->arena.pc.alloc(e->arena.pc.allocator_data, n ? n : 1);
	if (!p)
		e->oom = true;
	return p;
}

/* ---- integers -------------------------------------------------------------------- */

static const char *int_type_name(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32: return "int32";
	case PROTOBUF_C_TYPE_SINT32: return "sint32";
	case PROTOBUF_C_TYPE_SFIXED32: return "sfixed32";
	case PROTOBUF_C_TYPE_UINT32: return "uint32";
	case PROTOBUF_C_TYPE_FIXED32: return "fixed32";
	case PROTOBUF_C_TYPE_INT64: return "int64";
	case PROTOBUF_C_TYPE_SINT64: return "sint64";
	case PROTOBUF_C_TYPE_SFIXED64: return "sfixed64";
	case PROTOBUF_C_TYPE_UINT64: return "uint64";
	case PROTOBUF_C_TYPE_FIXED64: return "fixed64";
	default: return "integer";
	}
}

/* crit's unmap_flags(): "A | B | 0x40" as the sum of its parts. */
static bool parse_flags(enc *e, const cj_flag *map, size_t nmap, const char *text,
			uint64_t *value)
{
	uint64_t sum = 0;
	const char *p = text;

	*value = 0;
	if (!*text)
		return true;
	for (;;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		char part[128];
		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len >= sizeof(part)) {
			fail(e, CJ_VALUE, "flag \"%.20s...\" is too long", p);
			return false;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		uint64_t v = 0;
		bool found = false, negative;
		for (size_t i = 0; i < nmap; i++)
			if (strcmp(map[i].name, part) == 0) {
				v = map[i].bit;
				found = true;
				break;
			}
		if (!found && (!cj_parse_int(part, 0, &negative, &v) || negative)) {
			fail(e, CJ_VALUE, "\"%s\" is neither a flag name of this field nor a number",
			     part);
			return false;
		}
		if (v > UINT64_MAX - sum) {
			fail(e, CJ_RANGE, "flags \"%s\" add up to more than 64 bits", text);
			return false;
		}
		sum += v;
		if (!bar)
			break;
		p = bar + 1;
	}
	*value = sum;
	return true;
}

/*
 * The integer a JSON value stands for: a number, or one of crit's string
 * forms (hex, "A | B" flags, "major:minor", a dictionary name, any
 * Python integer literal).
 */
static bool json_int(enc *e, const ProtobufCFieldDescriptor *f, const criu_field_opt *o,
		     const json_t *v, bool *negative, uint64_t *mag)
{
	*negative = false;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		*negative = i < 0;
		*mag = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
		return true;
	}
	if (is_big_int(v)) {
		if (!cj_parse_int(json_string_value(v) + 1, 10, negative, mag)) {
			fail(e, CJ_RANGE, "%s does not fit in 64 bits (field type %s)",
			     json_string_value(v) + 1, int_type_name(f->type));
			return false;
		}
		return true;
	}
	if (!json_is_string(v)) {
		fail(e, CJ_TYPE, "expected an integer (%s), got %s%s", int_type_name(f->type),
		     json_kind(v), json_is_real(v) ? " with a fraction or exponent" : "");
		return false;
	}
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v)) {
		fail(e, CJ_VALUE, "the string holds a NUL character");
		return false;
	}
	if (o && (o->flags & CRIU_OPT_DEV) && strchr(s, ':')) {
		const char *colon = strchr(s, ':');
		char major_text[64];
		uint64_t major, minor;
		bool neg_major, neg_minor;
		size_t mlen = (size_t)(colon - s);
		if (mlen < sizeof(major_text)) {
			memcpy(major_text, s, mlen);
			major_text[mlen] = '\0';
			if (cj_parse_int(major_text, 10, &neg_major, &major) &&
			    cj_parse_int(colon + 1, 10, &neg_minor, &minor) && !neg_major &&
			    !neg_minor) {
				if (!cj_dev_join(major, minor, o->flags & CRIU_OPT_ODEV, mag)) {
					fail(e, CJ_RANGE, "device \"%s\" does not fit in 64 bits", s);
					return false;
				}
				return true;
			}
		}
		fail(e, CJ_VALUE, "\"%s\" is not a device number \"major:minor\"", s);
		return false;
	}
	if (o && o->flags_dict) {
		size_t nmap;
		const cj_flag *map = cj_flags_map(o->flags_dict, &nmap);
		if (map)
			return parse_flags(e, map, nmap, s, mag);
	}
	if (o && o->dict) {
		int64_t dv;
		if (cj_dict_value(o->dict, f->name, s, &dv)) {
			*negative = dv < 0;
			*mag = dv < 0 ? (uint64_t)0 - (uint64_t)dv : (uint64_t)dv;
			return true;
		}
	}
	if (!cj_parse_int(s, 0, negative, mag)) {
		fail(e, CJ_VALUE, "\"%s\" is not an integer", s);
		return false;
	}
	return true;
}

/* Store an integer of f's type at dst, checking its range. */
static bool store_int(enc *e, const ProtobufCFieldDescriptor *f, bool negative, uint64_t mag,
		      void *dst)
{
	uint64_t max_pos, max_neg;

	if (!mag)
		negative = false;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		max_pos = INT32_MAX;
		max_neg = (uint64_t)INT32_MAX + 1;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		max_pos = UINT32_MAX;
		max_neg = 0;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		max_pos = INT64_MAX;
		max_neg = (uint64_t)INT64_MAX + 1;
		break;
	default:
		max_pos = UINT64_MAX;
		max_neg = 0;
		break;
	}
	if (negative ? mag > max_neg : mag > max_pos) {
		fail(e, CJ_RANGE, "%s%" PRIu64 " is out of range for %s", negative ? "-" : "", mag,
		     int_type_name(f->type));
		return false;
	}
	uint64_t bits = negative ? (uint64_t)0 - mag : mag;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: {
		uint32_t v32 = (uint32_t)bits;
		memcpy(dst, &v32, 4);
		break;
	}
	default:
		memcpy(dst, &bits, 8);
		break;
	}
	return true;
}

/* ---- bytes ----------------------------------------------------------------------------- */

/*
 * Bytes from their text: base64, or quoted-printable for crit's
 * "unix_name" conversion.  *data lives in the arena.
 */
static bool json_bytes(enc *e, const json_t *v, bool qp, unsigned char **data, size_t *len)
{
	if (!json_is_string(v) || is_big_int(v)) {
		fail(e, CJ_TYPE, "expected a %s string, got %s", qp ? "quoted-printable" : "base64",
		     json_kind(v));
		return false;
	}
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	unsigned char *out = arena_alloc(e, n / 4 * 3 + 3 > n ? n / 4 * 3 + 3 : n);
	if (!out)
		return false;
	if (qp) {
		*len = cj_qp_decode(s, n, out);
	} else if (!cj_b64_decode(s, n, out, len)) {
		if (strncmp(s, "... <", 5) == 0)
			fail(e, CJ_EXTRA, "\"%.40s\" stands for data that decode --nopl left out; "
			     "such JSON cannot be encoded", s);
		else
			fail(e, CJ_VALUE, "not base64 text");
		return false;
	}
	*data = out;
	return true;
}

/* ---- messages ---------------------------------------------------------------------- */

static ProtobufCMessage *build_message(enc *e, const ProtobufCMessageDescriptor *md,
				       const json_t *obj, bool allow_extra, unsigned depth);

/* One value of field f from v, stored at dst. */
static bool build_value(enc *e, const ProtobufCFieldDescriptor *f, const criu_field_opt *o,
			const json_t *v, void *dst, unsigned depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub = build_message(e, f->descriptor, v, false, depth + 1);
		if (!sub)
			return false;
		memcpy(dst, &sub, sizeof(sub));
		return true;
	}
	case PROTOBUF_C_TYPE_BOOL: {
		if (!json_is_boolean(v)) {
			fail(e, CJ_TYPE, "expected true or false, got %s", json_kind(v));
			return false;
		}
		protobuf_c_boolean b = json_is_true(v);
		memcpy(dst, &b, sizeof(b));
		return true;
	}
	case PROTOBUF_C_TYPE_STRING: {
		if (!json_is_string(v) || is_big_int(v)) {
			fail(e, CJ_TYPE, "expected a string, got %s", json_kind(v));
			return false;
		}
		if (strlen(json_string_value(v)) != json_string_length(v)) {
			fail(e, CJ_VALUE, "the string holds a NUL character, which protobuf-c "
			     "strings cannot");
			return false;
		}
		/* The JSON document outlives the packing: no copy needed. */
		char *s = (char *)(uintptr_t)json_string_value(v);
		memcpy(dst, &s, sizeof(s));
		return true;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData b;
		bool qp = o && o->conv && strcmp(o->conv, "unix_name") == 0;
		if (!json_bytes(e, v, qp, &b.data, &b.len))
			return false;
		memcpy(dst, &b, sizeof(b));
		return true;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		if (!json_is_string(v) || is_big_int(v)) {
			fail(e, CJ_TYPE, "expected a name of enum %s, got %s",
			     ((const ProtobufCEnumDescriptor *)f->descriptor)->name, json_kind(v));
			return false;
		}
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value_by_name(f->descriptor,
								     json_string_value(v));
		if (!ev) {
			fail(e, CJ_VALUE, "\"%s\" is not a value of enum %s", json_string_value(v),
			     ((const ProtobufCEnumDescriptor *)f->descriptor)->name);
			return false;
		}
		int iv = ev->value;
		memcpy(dst, &iv, sizeof(iv));
		return true;
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		if (!json_is_number(v)) {
			fail(e, CJ_TYPE, "expected a number, got %s", json_kind(v));
			return false;
		}
		double d = json_number_value(v);
		if (f->type == PROTOBUF_C_TYPE_FLOAT) {
			float fl = (float)d;
			memcpy(dst, &fl, sizeof(fl));
		} else {
			memcpy(dst, &d, sizeof(d));
		}
		return true;
	}
	default: {
		bool negative;
		uint64_t mag;
		return json_int(e, f, o, v, &negative, &mag) && store_int(e, f, negative, mag, dst);
	}
	}
}

static bool build_repeated(enc *e, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			   const criu_field_opt *o, const json_t *v, unsigned depth)
{
	size_t n, es = cj_elem_size(f->type);
	char *arr;

	if (!json_is_array(v)) {
		fail(e, CJ_TYPE, "expected an array, got %s", json_kind(v));
		return false;
	}
	n = json_array_size(v);
	if (o && (o->flags & CRIU_OPT_IPADD) && n && json_is_string(json_array_get(v, 0)) &&
	    !is_big_int(json_array_get(v, 0))) {
		/* crit --pretty: ["10.0.0.1"] or ["fe80::1"] for the address words. */
		uint32_t words[4];
		const char *text = json_string_value(json_array_get(v, 0));
		if (n != 1 || !cj_ip_parse(text, words, &n)) {
			fail(e, CJ_VALUE, "expected one IPv4 or IPv6 address, got %s",
			     n != 1 ? "several values" : text);
			return false;
		}
		if (!(arr = arena_alloc(e, n * 4)))
			return false;
		memcpy(arr, words, n * 4);
	} else {
		bool ok = true;
		if (n > SIZE_MAX / es || !(arr = arena_alloc(e, n * es)))
			return false;
		for (size_t i = 0; i < n; i++) {
			size_t saved = path_push_index(e, i);
			ok &= build_value(e, f, o, json_array_get(v, i), arr + i * es, depth);
			path_pop(e, saved);
		}
		if (!ok)
			return false;
	}
	memcpy((char *)m + f->quantifier_offset, &n, sizeof(n));
	memcpy((char *)m + f->offset, &arr, sizeof(arr));
	return true;
}

/* The options of md's fields (see opt_cache), or NULL without memory. */
static const criu_field_opt **field_opts(enc *e, const ProtobufCMessageDescriptor *md)
{
	size_t slot = ((uintptr_t)md / sizeof(void *)) % OPT_CACHE_SLOTS;

	for (size_t probe = 0; probe < OPT_CACHE_SLOTS; probe++) {
		if (e->opt_cache[slot].msg == md)
			return e->opt_cache[slot].opts;
		if (!e->opt_cache[slot].msg) {
			const criu_field_opt **opts =
				malloc((md->n_fields ? md->n_fields : 1) * sizeof(*opts));
			if (!opts)
				return NULL;
			criu_field_opts_of(md, opts);
			e->opt_cache[slot].msg = md;
			e->opt_cache[slot].opts = opts;
			return opts;
		}
		slot = (slot + 1) % OPT_CACHE_SLOTS;
	}
	return NULL; /* more message types than slots: not with this schema */
}

/*
 * A message from a JSON object: every field of md by name, required
 * ones present, no other key (but "extra" when allow_extra).
 */
static ProtobufCMessage *build_message(enc *e, const ProtobufCMessageDescriptor *md,
				       const json_t *obj, bool allow_extra, unsigned depth)
{
	bool ok = true;

	if (!json_is_object(obj)) {
		fail(e, CJ_TYPE, "expected an object (%s), got %s", md->name, json_kind(obj));
		return NULL;
	}
	if (depth > MAX_DEPTH) {
		fail(e, CJ_VALUE, "messages nested deeper than %d", MAX_DEPTH);
		return NULL;
	}
	const criu_field_opt **opts = field_opts(e, md);
	if (!opts) {
		e->oom = true;
		return NULL;
	}
	ProtobufCMessage *m = arena_alloc(e, md->sizeof_message);
	if (!m)
		return NULL;
	md->message_init(m);

	size_t known = 0; /* keys of obj that are fields of md */
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		const json_t *v = json_object_get(obj, f->name);
		if (!v) {
			if (f->label == PROTOBUF_C_LABEL_REQUIRED) {
				fail(e, CJ_REQUIRED, "required field %s of %s is missing", f->name,
				     md->name);
				ok = false;
			}
			continue;
		}
		const criu_field_opt *o = opts[i];
		size_t saved = path_push_key(e, f->name);
		known++;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			ok &= build_repeated(e, m, f, o, v, depth);
		} else if (build_value(e, f, o, v, (char *)m + f->offset, depth)) {
			if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
				if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
					uint32_t id = f->id;
					memcpy((char *)m + f->quantifier_offset, &id, sizeof(id));
				} else if (f->type != PROTOBUF_C_TYPE_MESSAGE &&
					   f->type != PROTOBUF_C_TYPE_STRING) {
					protobuf_c_boolean has = 1;
					memcpy((char *)m + f->quantifier_offset, &has, sizeof(has));
				}
			}
		} else {
			ok = false;
		}
		path_pop(e, saved);
	}

	/* Keys are unique in a jansson object: when every key is a field
	 * (or the allowed "extra"), there is nothing left to name. */
	if (known + (allow_extra && json_object_get(obj, "extra")) == json_object_size(obj))
		return ok ? m : NULL;
	const char *key;
	json_t *value;
	void *iter;
	for (iter = json_object_iter((json_t *)(uintptr_t)obj); iter;
	     iter = json_object_iter_next((json_t *)(uintptr_t)obj, iter)) {
		key = json_object_iter_key(iter);
		value = json_object_iter_value(iter);
		(void)value;
		if (allow_extra && strcmp(key, "extra") == 0)
			continue;
		if (strlen(key) == json_object_iter_key_len(iter) &&
		    protobuf_c_message_descriptor_get_field_by_name(md, key))
			continue;
		size_t saved = path_push_key(e, key);
		fail(e, CJ_UNKNOWN_FIELD, "unknown field: %s has no field \"%s\"", md->name, key);
		path_pop(e, saved);
		ok = false;
	}
	return ok ? m : NULL;
}

/* ---- output ---------------------------------------------------------------------- */

static void put(enc *e, const void *p, size_t n)
{
	/* Unlocked: a run's output is its own (one run per thread), and the
	 * lock was a twentieth of encode's time in small writes. */
	if (n && fwrite_unlocked(p, 1, n, e->out) != n)
		e->write_failed = true;
}

static void put_le32(enc *e, uint32_t v)
{
	unsigned char b[CRIU_ENTRY_SIZE_LEN];

	criu_le32_put(b, v);
	put(e, b, sizeof(b));
}

/* Blob padding: fewer octets than the largest alignment (schema/images.h). */
static void put_zeros(enc *e, size_t n)
{
	static const unsigned char zeros[CRIU_BLOB_MAX_ALIGN];
	put(e, zeros, n);
}

/* The message with its u32 size in front. */
static bool put_message(enc *e, const ProtobufCMessage *m)
{
	size_t size = protobuf_c_message_get_packed_size(m);
	if (size > CJ_ENTRY_MAX) {
		fail(e, CJ_VALUE, "the entry packs into %zu bytes, more than the %u MiB "
		     "streamverify converts", size, CJ_ENTRY_MAX >> 20);
		return false;
	}
	uint8_t *buf = arena_alloc(e, size);
	if (!buf)
		return false;
	protobuf_c_message_pack(m, buf);
	put_le32(e, (uint32_t)size);
	put(e, buf, size);
	return true;
}

/* ---- extra blobs ---------------------------------------------------------------- */

/* The entry's "extra" as bytes that must number exactly want. */
static bool extra_bytes(enc *e, const json_t *x, uint64_t want, const char *what,
			unsigned char **data)
{
	size_t len;

	if (!x) {
		if (want) {
			fail(e, CJ_EXTRA, "missing: the entry says %" PRIu64 " bytes of %s follow",
			     want, what);
			return false;
		}
		*data = NULL;
		return true;
	}
	if (!json_bytes(e, x, false, data, &len))
		return false;
	if (len != want) {
		fail(e, CJ_EXTRA, "holds %zu bytes of %s, but the entry says %" PRIu64, len, what,
		     want);
		return false;
	}
	return true;
}

static bool put_blob(enc *e, const json_t *x, uint64_t want, const char *what)
{
	unsigned char *data;

	if (!extra_bytes(e, x, want, what, &data))
		return false;
	put(e, data, (size_t)want);
	return true;
}

static bool put_semaphores(enc *e, const json_t *x, criu_blob_kind kind, const IpcSemEntry *s)
{
	const criu_blob_layout *bl = &criu_blob_layouts[kind];
	uint64_t size;

	if (!json_is_array(x)) {
		fail(e, CJ_TYPE, "expected an array of %" PRIu32 " semaphore values, got %s",
		     s->nsems, x ? json_kind(x) : "nothing");
		return false;
	}
	if (json_array_size(x) != s->nsems) {
		fail(e, CJ_EXTRA, "holds %zu semaphore values, but nsems is %" PRIu32,
		     json_array_size(x), s->nsems);
		return false;
	}
	criu_blob_length(kind, &s->base, 0, &size);
	unsigned char *vals = arena_alloc(e, (size_t)size);
	if (!vals)
		return false;
	for (size_t i = 0; i < s->nsems; i++) {
		const json_t *v = json_array_get(x, i);
		size_t saved = path_push_index(e, i);
		bool ok = json_is_integer(v) && json_integer_value(v) >= 0 &&
			  json_integer_value(v) <= UINT16_MAX;
		if (!ok)
			fail(e, json_is_integer(v) ? CJ_RANGE : CJ_TYPE,
			     "expected a semaphore value 0..65535, got %s", json_kind(v));
		path_pop(e, saved);
		if (!ok)
			return false;
		for (unsigned b = 0; b < bl->value_size; b++)
			vals[bl->value_size * i + b] =
				(unsigned char)((uint64_t)json_integer_value(v) >> (8 * b));
	}
	put(e, vals, (size_t)size);
	put_zeros(e, (size_t)criu_pad_len(size, bl->align));
	return true;
}

/* IPCNS_MSG: [message, text, message, text, ...] for qnum messages. */
static bool put_msg_queue(enc *e, const json_t *x, criu_blob_kind kind, const IpcMsgEntry *q)
{
	const criu_blob_layout *bl = &criu_blob_layouts[kind];
	uint64_t items = criu_blob_items(kind, &q->base);

	if (!json_is_array(x)) {
		fail(e, CJ_TYPE, "expected an array of messages and their texts, got %s",
		     x ? json_kind(x) : "nothing");
		return false;
	}
	if (json_array_size(x) != 2 * (size_t)items) {
		fail(e, CJ_EXTRA, "holds %zu items, but qnum %" PRIu32 " needs %zu (a message "
		     "and its text each)", json_array_size(x), q->qnum, 2 * (size_t)items);
		return false;
	}
	for (size_t i = 0; i < items; i++) {
		size_t saved = path_push_index(e, 2 * i);
		ProtobufCMessage *m = build_message(e, bl->item, json_array_get(x, 2 * i), false, 1);
		path_pop(e, saved);
		if (!m)
			return false;
		unsigned char *text;
		uint64_t len;
		criu_blob_length(kind, m, 0, &len);
		saved = path_push_index(e, 2 * i + 1);
		bool ok = extra_bytes(e, json_array_get(x, 2 * i + 1), len, "message text", &text);
		path_pop(e, saved);
		if (!ok || !put_message(e, m))
			return false;
		put(e, text, (size_t)len);
		put_zeros(e, (size_t)criu_pad_len(len, bl->align));
	}
	return true;
}

/* TCP_STREAM: {"inq": ..., "outq": ...}, each of the length its entry says. */
static bool put_tcp_queues(enc *e, const json_t *x, criu_blob_kind kind, const ProtobufCMessage *m)
{
	static const char *const key[CRIU_BLOB_MAX_PIECES] = { "inq", "outq" };
	static const char *const what[CRIU_BLOB_MAX_PIECES] = { "input queue", "output queue" };
	unsigned char *data[CRIU_BLOB_MAX_PIECES] = { NULL };
	uint64_t len[CRIU_BLOB_MAX_PIECES] = { 0 };
	unsigned pieces = criu_blob_layouts[kind].pieces;
	bool ok = true;

	for (unsigned k = 0; k < pieces; k++)
		criu_blob_length(kind, m, k, &len[k]);
	if (!x && !len[0] && !len[1])
		return true;
	if (!json_is_object(x)) {
		fail(e, CJ_TYPE, "expected an object with inq and outq, got %s",
		     x ? json_kind(x) : "nothing");
		return false;
	}
	const char *k;
	json_t *value;
	json_object_foreach((json_t *)(uintptr_t)x, k, value) {
		if (strcmp(k, key[0]) && strcmp(k, key[1])) {
			size_t s2 = path_push_key(e, k);
			fail(e, CJ_UNKNOWN_FIELD, "unknown field: the TCP queues are inq and "
			     "outq");
			path_pop(e, s2);
			ok = false;
		}
	}
	for (unsigned p = 0; p < pieces; p++) {
		size_t s2 = path_push_key(e, key[p]);
		ok = ok && extra_bytes(e, json_object_get(x, key[p]), len[p], what[p], &data[p]);
		path_pop(e, s2);
	}
	for (unsigned p = 0; ok && p < pieces; p++)
		put(e, data[p], (size_t)len[p]);
	return ok;
}

/* How the encoder names each blob kind's data. */
static const char *const blob_what[CRIU_BLOB_KIND_COUNT] = {
	[CRIU_BLOB_PIPE_DATA] = "pipe data",
	[CRIU_BLOB_SK_QUEUE] = "packet data",
	[CRIU_BLOB_BPFMAP_DATA] = "BPF map keys and values",
	[CRIU_BLOB_IPC_SHM] = "shared memory",
};

/* The entry's "extra" as the blob its type lays out (schema/images.h). */
static bool put_entry_blob(enc *e, const ProtobufCMessage *m, const json_t *x)
{
	criu_blob_kind kind = e->type->blob;
	const criu_blob_layout *bl = &criu_blob_layouts[kind];
	size_t saved = path_push_key(e, "extra");
	uint64_t len = 0;
	bool ok = true;

	if (kind == CRIU_BLOB_NONE) {
		/* nothing follows */
	} else if (bl->item) {
		ok = put_msg_queue(e, x, kind, (const IpcMsgEntry *)m);
	} else if (bl->value_size > 1) {
		ok = put_semaphores(e, x, kind, (const IpcSemEntry *)m);
	} else if (bl->pieces > 1) {
		ok = put_tcp_queues(e, x, kind, m);
	} else if (!criu_blob_length(kind, m, 0, &len)) {
		/* The contents are in a pagemap-shmem image: nothing follows. */
		ok = put_blob(e, x, 0, "shared memory (in_pagemaps is set)");
	} else if (len > SIZE_MAX / 2) {
		fail(e, CJ_EXTRA, "the entry says %" PRIu64 " bytes of %s", len, blob_what[kind]);
		ok = false;
	} else {
		ok = put_blob(e, x, len, blob_what[kind]);
		if (ok)
			put_zeros(e, (size_t)criu_pad_len(len, bl->align));
	}
	path_pop(e, saved);
	return ok;
}

/* ---- the image ----------------------------------------------------------------------- */

static ProtobufCMessage *entry_message(enc *e, const ProtobufCMessageDescriptor *md,
				       const json_t *obj, bool allow_extra)
{
	criu_arena_reset(&e->arena);
	sv_set_record(e->cx, e->index, md->name);
	return build_message(e, md, obj, allow_extra, 0);
}

static void entry_plain(enc *e, const json_t *obj)
{
	bool has_blob = e->type->blob != CRIU_BLOB_NONE;
	ProtobufCMessage *m = entry_message(e, e->type->entry, obj, has_blob);

	if (m && put_message(e, m) && has_blob)
		put_entry_blob(e, m, json_object_get(obj, "extra"));
}

static void entry_pagemap(enc *e, const json_t *obj)
{
	ProtobufCMessage *m = entry_message(
		e, e->index ? &pagemap_entry__descriptor : &pagemap_head__descriptor, obj, false);

	if (m)
		put_message(e, m);
}

/*
 * A ghost file: its ghost_file_entry, then either its contents (in the
 * first entry's extra) or chunk entries with theirs.
 */
static void entry_ghost(enc *e, const json_t *obj)
{
	ProtobufCMessage *m;

	if (e->index == 0) {
		m = entry_message(e, &ghost_file_entry__descriptor, obj, true);
		if (!m) {
			e->ghost = GHOST_FAILED;
			return;
		}
		const GhostFileEntry *g = (const GhostFileEntry *)m;
		bool chunks = criu_ghost_chunked(g);
		const json_t *contents = json_object_get(obj, "extra");
		if (chunks && contents) {
			size_t s2 = path_push_key(e, "extra");
			fail(e, CJ_LAYOUT, "a chunked ghost file has its data in the chunk entries");
			path_pop(e, s2);
		}
		e->ghost = chunks ? GHOST_CHUNKS : GHOST_WHOLE;
		if (put_message(e, m) && !chunks && contents) {
			unsigned char *data;
			size_t len, s2 = path_push_key(e, "extra");
			if (json_bytes(e, contents, false, &data, &len))
				put(e, data, len);
			path_pop(e, s2);
		}
		return;
	}
	if (e->ghost != GHOST_CHUNKS)
		return; /* counted; entries_done() says what is wrong */
	m = entry_message(e, &ghost_chunk_entry__descriptor, obj, true);
	if (m && put_message(e, m)) {
		size_t s2 = path_push_key(e, "extra");
		put_blob(e, json_object_get(obj, "extra"), ((const GhostChunkEntry *)m)->len,
			 "ghost file chunk data");
		path_pop(e, s2);
	}
}

/* Entry e->index of the image, written out before the next is read. */
static void entry(enc *e, const json_t *obj)
{
	size_t saved = path_push_index(e, (size_t)e->index);

	switch (e->type->layout) {
	case CRIU_LAYOUT_PAGEMAP:
		entry_pagemap(e, obj);
		break;
	case CRIU_LAYOUT_GHOST_FILE:
		entry_ghost(e, obj);
		break;
	case CRIU_LAYOUT_ENTRIES:
	case CRIU_LAYOUT_RAW:
		entry_plain(e, obj);
		break;
	}
	path_pop(e, saved);
}

/* What the layout needs of the entries as a whole (path: "entries"). */
static void entries_done(enc *e, uint64_t count)
{
	if (e->type->layout != CRIU_LAYOUT_GHOST_FILE)
		return;
	if (!count) {
		fail(e, CJ_LAYOUT, "a ghost file image needs its ghost_file_entry");
	} else if (e->ghost == GHOST_WHOLE && count > 1) {
		size_t saved = path_push_index(e, 0);
		fail(e, CJ_LAYOUT, "a ghost file without chunks has one entry, not %" PRIu64, count);
		path_pop(e, saved);
	}
}

static void put_header(enc *e)
{
	/* crit writes images of version 1.1: a head magic first, but for inventory. */
	if (e->type->id != CRIU_T_INVENTORY)
		put_le32(e, e->type->flags & CRIU_IMG_SERVICE ? CRIU_IMG_SERVICE_MAGIC
							      : CRIU_IMG_COMMON_MAGIC);
	put_le32(e, e->type->magic);
}

/* ---- reading the JSON -------------------------------------------------------------- */

/* Does the integer literal p[0..n) (optional '-', digits) fit a long long? */
static bool fits_json_int(const char *p, size_t n)
{
	bool negative = *p == '-';
	uint64_t v = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : INT64_MAX;

	for (size_t i = negative; i < n; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	return true;
}

static bool number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

/*
 * Copy text with every integer literal too big for jansson turned into a
 * marked string.  *inserted gets the offsets (in the copy) of the marks,
 * to map jansson's error positions back.  *out is NULL when no literal
 * needs a mark (the text is then parsed as it is); false: out of memory.
 */
static bool mark_big_ints(const char *text, size_t len, char **out_text, size_t *outlen,
			  size_t **inserted, size_t *ninserted)
{
	size_t count = 0;

	*out_text = NULL;
	*inserted = NULL;
	*ninserted = 0;
	for (int pass = 0; pass < 2; pass++) {
		char *out = NULL;
		size_t o = 0, k = 0;
		if (pass == 1) {
			if (!count)
				return true;
			out = malloc(len + count * (BIG_INT_MARK_LEN + 2) + 1);
			*inserted = malloc(count * sizeof(size_t));
			if (!out || !*inserted) {
				free(out);
				free(*inserted);
				*inserted = NULL;
				return false;
			}
		}
		bool in_string = false;
		for (size_t i = 0; i < len;) {
			char c = text[i];
			if (in_string) {
				size_t step = c == '\\' && i + 1 < len ? 2 : 1;
				if (c == '"')
					in_string = false;
				if (out)
					memcpy(out + o, text + i, step);
				o += step;
				i += step;
				continue;
			}
			if (c == '"')
				in_string = true;
			if (c == '-' || (c >= '0' && c <= '9')) {
				size_t j = i + (c == '-');
				bool integer = true;
				while (j < len && number_char(text[j])) {
					if (!(text[j] >= '0' && text[j] <= '9'))
						integer = false;
					j++;
				}
				bool digits = j > i + (c == '-');
				if (integer && digits && !fits_json_int(text + i, j - i)) {
					if (!out) {
						count++;
					} else {
						(*inserted)[k++] = o;
						out[o++] = '"';
						memcpy(out + o, BIG_INT_MARK, BIG_INT_MARK_LEN);
						o += BIG_INT_MARK_LEN;
						memcpy(out + o, text + i, j - i);
						o += j - i;
						out[o++] = '"';
					}
				} else if (out) {
					memcpy(out + o, text + i, j - i);
					o += j - i;
				}
				i = j;
				continue;
			}
			if (out)
				out[o] = c;
			o++;
			i++;
		}
		if (pass == 1) {
			out[o] = '\0';
			*out_text = out;
			*outlen = o;
			*ninserted = k;
		}
	}
	return true;
}

/* A syntax error at pos of t (both in the whole document). */
static void report_syntax(enc *e, const cjs_text *t, size_t pos, const char *what)
{
	uint64_t line, col;

	cjs_locate(t, pos, &line, &col);
	sv_record_none(e->cx);
	sv_report(e->cx, CJ_CODE(CJ_SYNTAX), t->off + pos,
		  "invalid JSON at line %" PRIu64 ", column %" PRIu64 ": %s", line, col, what);
	e->errors++;
	e->stop = true;
}

static void syntax_error(enc *e, const cjs_text *t, const json_error_t *err,
			 const size_t *inserted, size_t ninserted)
{
	size_t pos = err->position > 0 ? (size_t)err->position : 0;

	/* Back to an offset in the input: take out the marks before pos. */
	for (size_t i = 0; i < ninserted && inserted[i] < pos; i++)
		pos = pos >= BIG_INT_MARK_LEN + 2 ? pos - (BIG_INT_MARK_LEN + 2) : 0;
	if (pos > t->len)
		pos = t->len;
	report_syntax(e, t, pos, err->text);
}

/* The reader stopped: a structural error (worded as jansson's) or no memory. */
static void stream_failed(enc *e)
{
	if (e->js->oom) {
		e->oom = true;
		e->stop = true;
		return;
	}
	cjs_text at = { .text = "", .len = 0, .off = e->js->err.off, .line = e->js->err.line,
			.col = e->js->err.col };
	report_syntax(e, &at, 0, e->js->err.text);
}

/* jansson's reading of one value's text, or NULL (reported). */
static json_t *parse(enc *e, const cjs_text *t, size_t flags)
{
	char *marked;
	size_t mlen = 0, *inserted, ninserted;
	json_error_t err;
	json_t *quick = cjs_fast_parse(t->text, t->len);

	if (quick)
		return quick;
	if (!mark_big_ints(t->text, t->len, &marked, &mlen, &inserted, &ninserted)) {
		e->oom = true;
		e->stop = true;
		return NULL;
	}
	json_t *v = json_loadb(marked ? marked : t->text, marked ? mlen : t->len,
			       flags | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!v) {
		if (json_error_code(&err) == json_error_out_of_memory) {
			e->oom = true;
			e->stop = true;
		} else {
			syntax_error(e, t, &err, inserted, ninserted);
		}
	}
	free(marked);
	free(inserted);
	return v;
}

/* The next value of the document, read and parsed; NULL: stop. */
static json_t *next_value(enc *e)
{
	cjs_text t;

	if (cjs_value(e->js, &t) != CJS_ITEM) {
		stream_failed(e);
		return NULL;
	}
	return parse(e, &t, JSON_DECODE_ANY);
}

/*
 * Entries that come before the magic are kept in a temporary file until
 * the magic says what they are: each as its position and text.
 */
typedef struct spooled {
	uint64_t off, line, col, len;
} spooled;

static bool spool_put(enc *e, const cjs_text *t)
{
	spooled h = { t->off, t->line, t->col, t->len };

	if (!e->spool && !(e->spool = tmpfile())) {
		sv_report(e->cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
			  "no temporary file for the entries before the magic: %s", strerror(errno));
		sv_ctx_io_failed(e->cx);
		e->stop = true;
		return false;
	}
	if (fwrite(&h, sizeof(h), 1, e->spool) != 1 ||
	    (t->len && fwrite(t->text, t->len, 1, e->spool) != 1)) {
		sv_report(e->cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
			  "cannot write the temporary file of the entries before the magic");
		sv_ctx_io_failed(e->cx);
		e->stop = true;
		return false;
	}
	return true;
}

/* The entries kept by spool_put(), encoded now that the magic is known. */
static void spool_replay(enc *e)
{
	spooled h;
	char *text = NULL;
	uint64_t count = 0;

	if (fflush(e->spool) != 0 || fseek(e->spool, 0, SEEK_SET) != 0) {
		sv_report(e->cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
			  "cannot read back the temporary file of the entries");
		sv_ctx_io_failed(e->cx);
		return;
	}
	put_header(e);
	while (!e->stop && e->errors < MAX_REPORTS && fread(&h, sizeof(h), 1, e->spool) == 1) {
		char *nt = h.len < SIZE_MAX ? realloc(text, (size_t)h.len + 1) : NULL;
		if (!nt) {
			e->oom = true;
			break;
		}
		text = nt;
		if (h.len && fread(text, (size_t)h.len, 1, e->spool) != 1) {
			sv_report(e->cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
				  "cannot read back the temporary file of the entries");
			sv_ctx_io_failed(e->cx);
			break;
		}
		cjs_text t = { text, (size_t)h.len, h.off, h.line, h.col };
		json_t *obj = parse(e, &t, JSON_DECODE_ANY);
		if (!obj)
			break;
		e->index = count++;
		entry(e, obj);
		json_decref(obj);
	}
	free(text);
	if (!e->stop && e->errors < MAX_REPORTS)
		entries_done(e, count);
}

/*
 * The entries array, one element at a time: encoded when the magic came
 * first and nothing is wrong so far, kept for later when the magic is yet
 * to come, only checked as JSON otherwise.
 */
static void member_entries(enc *e)
{
	cjs_text t;
	uint64_t count = 0;
	int r;

	if (cjs_peek(e->js) != '[') {
		json_t *v = next_value(e);
		if (v)
			fail(e, CJ_TYPE, "expected an array, got %s", json_kind(v));
		json_decref(v);
		return;
	}
	cjs_skip_byte(e->js);
	bool encode = e->type && !e->errors;
	bool keep = !e->have_magic;
	if (encode)
		put_header(e);
	while ((r = cjs_element(e->js, count == 0, &t)) == CJS_ITEM) {
		if (e->errors >= MAX_REPORTS) {
			e->stop = true;
			return;
		}
		json_t *obj = parse(e, &t, JSON_DECODE_ANY);
		if (!obj)
			return;
		if (keep)
			spool_put(e, &t);
		e->index = count++;
		if (encode)
			entry(e, obj);
		json_decref(obj);
		if (e->stop)
			return;
	}
	if (r == CJS_FAIL) {
		stream_failed(e);
		return;
	}
	if (encode)
		entries_done(e, count);
	else if (keep && !e->spool)
		e->spool_empty = true;
}

static void member_magic(enc *e)
{
	json_t *magic = next_value(e);

	if (!magic)
		return;
	e->have_magic = true;
	if (!json_is_string(magic) || is_big_int(magic)) {
		fail(e, CJ_TYPE, "expected the image type's name, got %s", json_kind(magic));
	} else {
		e->type = criu_image_by_name(json_string_value(magic));
		if (!e->type || !e->type->magic || !e->type->entry) {
			fail(e, CJ_VALUE, "\"%s\" is not the name of a CRIU image type with entries",
			     json_string_value(magic));
			e->type = NULL;
		}
	}
	json_decref(magic);
}

/* A top-level key, checked as jansson checks one; NULL: stop. */
static json_t *member_key(enc *e, const cjs_text *kt, json_t *seen)
{
	json_t *key = parse(e, kt, JSON_DECODE_ANY);

	if (!key)
		return NULL;
	const char *problem = NULL;
	if (!json_is_string(key))
		problem = "string or '}' expected";
	else if (memchr(json_string_value(key), '\0', json_string_length(key)))
		problem = "NUL byte in object key not supported";
	else if (json_object_getn(seen, json_string_value(key), json_string_length(key)))
		problem = "duplicate object key";
	else if (json_object_setn_new_nocheck(seen, json_string_value(key),
					      json_string_length(key), json_null())) {
		e->oom = true;
		e->stop = true;
		json_decref(key);
		return NULL;
	}
	if (problem) {
		/* jansson names the key's token when it is at most 20 bytes. */
		char what[96];
		if (kt->len <= 20)
			snprintf(what, sizeof(what), "%s near '%.*s'", problem, (int)kt->len, kt->text);
		else
			snprintf(what, sizeof(what), "%s", problem);
		report_syntax(e, kt, kt->len, what);
		json_decref(key);
		return NULL;
	}
	return key;
}

/*
 * The document is no object: read whole (up to the largest entry) so that
 * jansson words what is wrong, as it always did.
 */
static void not_an_object(enc *e)
{
	cjs_text t;
	int first = cjs_peek(e->js);

	if (cjs_rest(e->js, CJ_ENTRY_MAX, &t) != CJS_ITEM) {
		if (!e->js->oom || first != '[') {
			stream_failed(e);
			return;
		}
		/* Too big to parse: an array, so no image whatever it holds. */
		e->js->oom = false;
		fail(e, CJ_TYPE, "expected an object with magic and entries, got an array");
		return;
	}
	json_t *root = parse(e, &t, 0);
	if (root)
		fail(e, CJ_TYPE, "expected an object with magic and entries, got %s",
		     json_kind(root));
	json_decref(root);
}

/* The document: {"magic": NAME, "entries": [...]}, the keys in any order. */
static void document(enc *e)
{
	json_t *seen = json_object();
	cjs_text kt;
	bool first = true;
	int r;

	if (!seen) {
		e->oom = true;
		return;
	}
	cjs_skip_byte(e->js);
	while (!e->stop && (r = cjs_member(e->js, first, &kt)) == CJS_ITEM) {
		first = false;
		json_t *key = member_key(e, &kt, seen);
		if (!key)
			break;
		if (!cjs_colon(e->js)) {
			json_decref(key);
			stream_failed(e);
			break;
		}
		const char *name = json_string_value(key);
		size_t saved = path_push_key(e, name);
		if (strcmp(name, "magic") == 0) {
			member_magic(e);
		} else if (strcmp(name, "entries") == 0) {
			e->have_entries = true;
			member_entries(e);
		} else {
			json_t *v = next_value(e);
			if (v)
				fail(e, CJ_UNKNOWN_FIELD, "unknown field: an image has magic and entries");
			json_decref(v);
		}
		path_pop(e, saved);
		json_decref(key);
	}
	json_decref(seen);
	if (e->stop)
		return;
	if (r == CJS_FAIL || !cjs_end(e->js)) {
		stream_failed(e);
		return;
	}
	size_t saved = path_push_key(e, "magic");
	if (!e->have_magic)
		fail(e, CJ_REQUIRED, "missing: the image type's name");
	path_pop(e, saved);
	saved = path_push_key(e, "entries");
	if (!e->have_entries)
		fail(e, CJ_REQUIRED, "missing: the list of entries");
	else if (e->type && !e->errors && (e->spool || e->spool_empty)) {
		if (e->spool) {
			spool_replay(e);
		} else {
			put_header(e);
			entries_done(e, 0);
		}
	}
	path_pop(e, saved);
}

bool criu_json_encode(sv_ctx *cx, sv_stream *in, FILE *out)
{
	enc e = { .cx = cx, .out = out };

	criu_arena_init(&e.arena);
	e.js = malloc(sizeof(*e.js));
	if (!e.js) {
		e.oom = true;
		goto done;
	}
	cjs_init(e.js, in);
	if (cjs_peek(e.js) == '{')
		document(&e);
	else
		not_an_object(&e);

done:
	sv_record_none(cx);
	if (e.oom) {
		/* No verdict on the input: it could not be held, not found wrong. */
		sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
			  "out of memory: the JSON is not encoded");
		sv_ctx_io_failed(cx);
		e.errors++;
	}
	if (!e.errors && (e.write_failed || fflush(out) != 0 || ferror(out))) {
		sv_report(cx, CJ_CODE(CJ_OUTPUT), SV_NONE, "cannot write the image");
		e.errors++;
	}
	if (e.spool)
		fclose(e.spool);
	if (e.js)
		cjs_free(e.js);
	free(e.js);
	criu_arena_free(&e.arena);
	for (size_t i = 0; i < OPT_CACHE_SLOTS; i++)
		free(e.opt_cache[i].opts);
	return e.errors == 0;
}
