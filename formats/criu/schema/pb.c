/* protobuf-c helpers of the CRIU module (see pb.h). */
#include <inttypes.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/criu/schema/fieldopts.h"
#include "formats/criu/schema/pb.h"

/* ---- arena ------------------------------------------------------------ */

/*
 * protobuf-c unpacks a message with one allocation per submessage, string
 * and repeated array, and while it parses a message it keeps the fields
 * it found in "scanned member" slabs of doubling, power-of-two sizes,
 * which it frees when the message is done.  A bump allocator that ignored
 * those frees kept every slab of every submessage of a big entry (a
 * cgroup entry of thousands of directories) until the entry ended: about
 * a fifth of the arena.  Freed power-of-two blocks of SLAB_MIN bytes and
 * more now go to free lists by size and serve the next submessage's
 * slabs.  Allocations are aligned to 8 bytes, the most any protobuf-c
 * member needs (uint64, double, pointers), not to max_align_t's 16,
 * which wasted half of every short string.
 */
struct criu_arena_block {
	criu_arena_block *next;
	size_t cap, used;
	max_align_t data[];
};

#define ARENA_BLOCK (64u * 1024u)
#define ARENA_ALIGN ((size_t)8)
#define SLAB_MIN_LOG2 9                  /* 512 bytes: 16 scanned members */
#define SLAB_MIN ((size_t)1 << SLAB_MIN_LOG2)

/* A freed block, waiting in its size's list. */
typedef struct free_block {
	struct free_block *next;
} free_block;

static criu_arena_block *block_new(size_t cap)
{
	criu_arena_block *b = malloc(sizeof(*b) + cap);

	if (b) {
		b->next = NULL;
		b->cap = cap;
		b->used = 0;
	}
	return b;
}

/* log2 of size when it is a power of two a slab can have, else -1. */
static int slab_class(size_t size)
{
	if (size < SLAB_MIN || (size & (size - 1)))
		return -1;
	int k = 0;
	while (((size_t)1 << k) < size)
		k++;
	return k - SLAB_MIN_LOG2 < CRIU_ARENA_CLASSES ? k - SLAB_MIN_LOG2 : -1;
}

/*
 * The slab-sized blocks handed out and not freed, with their size class:
 * a small open-addressing table keyed by address.
 */
static size_t slot_of(const criu_arena *a, const void *p)
{
	return ((uintptr_t)p >> 3) & (a->live_cap - 1);
}

/* A slot holds a live block only when it was filled since the last reset. */
static bool slot_used(const criu_arena *a, const criu_arena_slot *sl)
{
	return sl->p && sl->gen == a->gen;
}

static bool live_add(criu_arena *a, void *p, int k)
{
	if ((a->live_n + 1) * 2 > a->live_cap) {
		size_t old_cap = a->live_cap, cap = old_cap ? old_cap * 2 : 64;
		criu_arena_slot *old = a->live, *nl = calloc(cap, sizeof(*nl));
		if (!nl)
			return false;
		a->live = nl;
		a->live_cap = cap;
		for (size_t i = 0; i < old_cap; i++) {
			if (!slot_used(a, &old[i]))
				continue;
			size_t h = slot_of(a, old[i].p);
			while (slot_used(a, &nl[h]))
				h = (h + 1) & (cap - 1);
			nl[h] = old[i];
		}
		free(old);
	}
	size_t h = slot_of(a, p);
	while (slot_used(a, &a->live[h]))
		h = (h + 1) & (a->live_cap - 1);
	a->live[h].p = p;
	a->live[h].k = k;
	a->live[h].gen = a->gen;
	a->live_n++;
	return true;
}

/* Take p out of the table: its size class, or -1 when it is not in it. */
static int live_remove(criu_arena *a, const void *p)
{
	if (!a->live_cap)
		return -1;
	size_t mask = a->live_cap - 1, h = slot_of(a, p);
	while (slot_used(a, &a->live[h]) && a->live[h].p != p)
		h = (h + 1) & mask;
	if (!slot_used(a, &a->live[h]))
		return -1;
	int k = a->live[h].k;
	a->live[h].p = NULL;
	a->live_n--;
	/* Put the run after the hole back in place, so that lookups still find it. */
	for (size_t j = (h + 1) & mask; slot_used(a, &a->live[j]); j = (j + 1) & mask) {
		criu_arena_slot q = a->live[j];
		a->live[j].p = NULL;
		size_t t = slot_of(a, q.p);
		while (slot_used(a, &a->live[t]))
			t = (t + 1) & mask;
		a->live[t] = q;
	}
	return k;
}

static inline __attribute__((always_inline)) void *bump(criu_arena *a, size_t size)
{
	criu_arena_block *b = a->cur;

	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (!b || b->cap - b->used < size) {
		criu_arena_block *nb = block_new(size > ARENA_BLOCK ? size : ARENA_BLOCK);

		if (!nb)
			return NULL;
		if (b) {
			nb->next = b->next;
			b->next = nb;
		} else {
			a->head = nb;
		}
		a->cur = b = nb;
	}
	void *p = (unsigned char *)b->data + b->used;
	b->used += size;
	return p;
}

static void *arena_alloc(void *ad, size_t size)
{
	criu_arena *a = ad;
	int k = size < SLAB_MIN ? -1 : slab_class(size);

	if (k < 0)
		return bump(a, size);
	void *p = a->free_lists[k];
	if (p)
		a->free_lists[k] = ((free_block *)p)->next;
	else if (!(p = bump(a, size)))
		return NULL;
	/* Left out of the table (no memory for it), the block is only never reused. */
	live_add(a, p, k);
	return p;
}

/* A freed slab-sized block goes to its list; anything else waits for the reset. */
static void arena_free(void *ad, void *p)
{
	criu_arena *a = ad;
	int k = p ? live_remove(a, p) : -1;

	if (k >= 0) {
		((free_block *)p)->next = a->free_lists[k];
		a->free_lists[k] = p;
		a->freed = true;
	}
}

void criu_arena_init(criu_arena *a)
{
	memset(a, 0, sizeof(*a));
	a->pc.alloc = arena_alloc;
	a->pc.free = arena_free;
	a->pc.allocator_data = a;
}

void criu_arena_reset(criu_arena *a)
{
	/* The table empties by a new generation, not by clearing it. */
	if (a->live_n) {
		a->gen++;
		a->live_n = 0;
	}
	if (a->freed) {
		memset(a->free_lists, 0, sizeof(a->free_lists));
		a->freed = false;
	}
	if (!a->head)
		return;
	criu_arena_block *b = a->head->next;

	while (b) {
		criu_arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head->next = NULL;
	a->head->used = 0;
	a->cur = a->head;
}

void criu_arena_free(criu_arena *a)
{
	criu_arena_reset(a);
	free(a->head);
	free(a->live);
	a->live = NULL;
	a->live_cap = 0;
	a->head = a->cur = NULL;
}

/* ---- wire-format diagnosis -------------------------------------------- */

enum { WT_VARINT = 0, WT_64BIT = 1, WT_LEN = 2, WT_32BIT = 5 };

static bool get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned i = 0; i < 10; i++) {
		if (*pos >= len)
			return false;
		uint8_t b = p[(*pos)++];
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false; /* more than 10 bytes */
}

/* The wire type a field of this type has when not packed. */
static int natural_wire_type(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return WT_64BIT;
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return WT_32BIT;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return WT_LEN;
	default:
		return WT_VARINT;
	}
}

static criu_pb_problem fail(criu_pb_diag *out, criu_pb_problem pr, size_t at,
			    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static criu_pb_problem fail(criu_pb_diag *out, criu_pb_problem pr, size_t at,
			    const char *fmt, ...)
{
	va_list ap;

	out->problem = pr;
	out->at = at;
	va_start(ap, fmt);
	vsnprintf(out->what, sizeof(out->what), fmt, ap);
	va_end(ap);
	return pr;
}

/* Packed repeated scalars: the payload must be whole values. */
static bool packed_ok(int wt, const uint8_t *p, size_t len)
{
	if (wt == WT_64BIT)
		return len % 8 == 0;
	if (wt == WT_32BIT)
		return len % 4 == 0;
	size_t pos = 0;
	uint64_t v;
	while (pos < len)
		if (!get_varint(p, len, &pos, &v))
			return false;
	return true;
}

static criu_pb_problem walk(const ProtobufCMessageDescriptor *desc,
			    const uint8_t *buf, size_t len, size_t base,
			    unsigned depth, criu_pb_diag *out)
{
	uint8_t seen[256] = { 0 };
	size_t pos = 0;

	if (depth > CRIU_PB_MAX_DEPTH)
		return fail(out, CRIU_PB_TOO_DEEP, base,
			    "messages nested more than %d deep", CRIU_PB_MAX_DEPTH);
	while (pos < len) {
		size_t at = pos;
		uint64_t tag, v, n = 0;

		if (!get_varint(buf, len, &pos, &tag))
			return fail(out, CRIU_PB_MALFORMED, base + at,
				    "%s: field tag runs past the end or is too long",
				    desc->name);
		if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
			return fail(out, CRIU_PB_MALFORMED, base + at,
				    "%s: invalid field number %" PRIu64, desc->name, tag >> 3);
		int wt = (int)(tag & 7);
		uint32_t num = (uint32_t)(tag >> 3);
		size_t body = pos;

		switch (wt) {
		case WT_VARINT:
			if (!get_varint(buf, len, &pos, &v))
				return fail(out, CRIU_PB_MALFORMED, base + body,
					    "%s: varint of field %" PRIu32 " runs past the end or is too long",
					    desc->name, num);
			break;
		case WT_64BIT:
		case WT_32BIT:
			n = wt == WT_64BIT ? 8 : 4;
			if (len - pos < n)
				return fail(out, CRIU_PB_MALFORMED, base + body,
					    "%s: field %" PRIu32 " needs %" PRIu64 " bytes, %zu left",
					    desc->name, num, n, len - pos);
			pos += n;
			break;
		case WT_LEN:
			if (!get_varint(buf, len, &pos, &n))
				return fail(out, CRIU_PB_MALFORMED, base + body,
					    "%s: length of field %" PRIu32 " runs past the end",
					    desc->name, num);
			body = pos;
			if (n > len - pos)
				return fail(out, CRIU_PB_MALFORMED, base + at,
					    "%s: field %" PRIu32 " is %" PRIu64 " bytes long, only %zu left",
					    desc->name, num, n, len - pos);
			pos += n;
			break;
		default:
			return fail(out, CRIU_PB_MALFORMED, base + at,
				    "%s: field %" PRIu32 " has wire type %d (groups and "
				    "undefined wire types are not supported)",
				    desc->name, num, wt);
		}

		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field(desc, num);
		if (!f)
			continue; /* kept as an unknown field */
		int want = natural_wire_type(f->type);
		bool packed = f->label == PROTOBUF_C_LABEL_REPEATED &&
			      want != WT_LEN && wt == WT_LEN;
		if (wt != want && !packed)
			return fail(out, CRIU_PB_MALFORMED, base + at,
				    "%s.%s (%" PRIu32 ") has wire type %d, not %d",
				    desc->name, f->name, num, wt, want);
		if (packed && !packed_ok(want, buf + body, (size_t)n))
			return fail(out, CRIU_PB_MALFORMED, base + body,
				    "%s.%s (%" PRIu32 "): packed values do not fill their %" PRIu64 " bytes",
				    desc->name, f->name, num, n);
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			criu_pb_problem pr = walk(f->descriptor, buf + body, (size_t)n,
						  base + body, depth + 1, out);
			if (pr != CRIU_PB_OK) {
				char inner[sizeof(out->what)];

				memcpy(inner, out->what, sizeof(inner));
				snprintf(out->what, sizeof(out->what), "in %.40s.%.40s: %.100s",
					 desc->name, f->name, inner);
				return pr;
			}
		}
		size_t idx = (size_t)(f - desc->fields);
		if (idx < sizeof(seen))
			seen[idx] = 1;
	}
	for (unsigned i = 0; i < desc->n_fields && i < sizeof(seen); i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];

		if (f->label == PROTOBUF_C_LABEL_REQUIRED && !seen[i])
			return fail(out, CRIU_PB_REQUIRED, base + len,
				    "required field %s.%s (%" PRIu32 ") is missing",
				    desc->name, f->name, f->id);
	}
	return CRIU_PB_OK;
}

criu_pb_problem criu_pb_diagnose(const ProtobufCMessageDescriptor *desc,
				 const uint8_t *buf, size_t len,
				 criu_pb_diag *out)
{
	out->problem = CRIU_PB_OK;
	out->at = 0;
	out->what[0] = '\0';
	return walk(desc, buf, len, 0, 0, out);
}

/* Depth-first search for desc among the message types below start. */
static bool reaches(const ProtobufCMessageDescriptor *start,
		    const ProtobufCMessageDescriptor *desc, unsigned depth)
{
	/* The schema's types nest at most a dozen deep without cycles. */
	if (depth > 32)
		return false;
	for (unsigned i = 0; i < start->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &start->fields[i];

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->descriptor == desc || reaches(f->descriptor, desc, depth + 1))
			return true;
	}
	return false;
}

bool criu_pb_recursive(const ProtobufCMessageDescriptor *desc)
{
	/* A cycle anywhere below desc makes unpacking recurse without bound. */
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->descriptor == desc || reaches(f->descriptor, f->descriptor, 0) ||
		    criu_pb_recursive(f->descriptor))
			return true;
	}
	return false;
}

/* ---- checks after unpacking -------------------------------------------- */

static const void *member(const ProtobufCMessage *m, unsigned off)
{
	return (const unsigned char *)m + off;
}

static size_t count_of(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	size_t n;

	memcpy(&n, member(m, f->quantifier_offset), sizeof(n));
	return n;
}

static bool has_of(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	protobuf_c_boolean b;

	memcpy(&b, member(m, f->quantifier_offset), sizeof(b));
	return b != 0;
}

static void check_tree(const ProtobufCMessage *msg, criu_pb_findings *fd,
		       unsigned depth)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;

	if (msg->n_unknown_fields) {
		if (fd->unknown_fields == 0) {
			fd->unknown_msg = desc->name;
			fd->unknown_tag = msg->unknown_fields[0].tag;
		}
		fd->unknown_fields += msg->n_unknown_fields;
	}
	if (depth >= CRIU_PB_MAX_DEPTH)
		return;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];

		if (f->type == PROTOBUF_C_TYPE_ENUM) {
			const int *vals;
			size_t n;

			if (f->label == PROTOBUF_C_LABEL_REPEATED) {
				memcpy(&vals, member(msg, f->offset), sizeof(vals));
				n = count_of(msg, f);
			} else {
				if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !has_of(msg, f))
					continue;
				vals = member(msg, f->offset);
				n = 1;
			}
			for (size_t k = 0; k < n; k++) {
				int v;

				memcpy(&v, &vals[k], sizeof(v));
				if (protobuf_c_enum_descriptor_get_value(f->descriptor, v))
					continue;
				if (fd->bad_enums++ == 0) {
					fd->enum_msg = desc->name;
					fd->enum_field = f->name;
					fd->enum_value = v;
				}
			}
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (f->label == PROTOBUF_C_LABEL_REPEATED) {
				ProtobufCMessage *const *subs;
				size_t n = count_of(msg, f);

				memcpy(&subs, member(msg, f->offset), sizeof(subs));
				for (size_t k = 0; k < n; k++)
					check_tree(subs[k], fd, depth + 1);
			} else {
				const ProtobufCMessage *sub;

				memcpy(&sub, member(msg, f->offset), sizeof(sub));
				if (sub)
					check_tree(sub, fd, depth + 1);
			}
		}
	}
}

void criu_pb_check(const ProtobufCMessage *msg, criu_pb_findings *f)
{
	memset(f, 0, sizeof(*f));
	check_tree(msg, f, 0);
}

/* ---- one-line summaries -------------------------------------------------- */

typedef struct line {
	char *buf;
	size_t n, used;
} line;

static void put(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(line *l, const char *fmt, ...)
{
	va_list ap;

	if (l->used + 1 >= l->n)
		return;
	va_start(ap, fmt);
	int r = vsnprintf(l->buf + l->used, l->n - l->used, fmt, ap);
	va_end(ap);
	if (r > 0)
		l->used = (size_t)r >= l->n - l->used ? l->n - 1 : l->used + (size_t)r;
}

static void put_scalar(line *l, const ProtobufCFieldDescriptor *f,
		       const void *p, bool hex)
{
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	protobuf_c_boolean b;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		memcpy(&i32, p, sizeof(i32));
		put(l, "%" PRId32, i32);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		memcpy(&u32, p, sizeof(u32));
		put(l, hex ? "0x%" PRIx32 : "%" PRIu32, u32);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		memcpy(&i64, p, sizeof(i64));
		put(l, "%" PRId64, i64);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		memcpy(&u64, p, sizeof(u64));
		put(l, hex ? "0x%" PRIx64 : "%" PRIu64, u64);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		memcpy(&b, p, sizeof(b));
		put(l, "%s", b ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v;
		memcpy(&v, p, sizeof(v));
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		if (ev)
			put(l, "%s", ev->name);
		else
			put(l, "%d", v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s;
		memcpy(&s, p, sizeof(s));
		put(l, "\"");
		for (size_t k = 0; s && s[k] && k < 48; k++) {
			unsigned char c = (unsigned char)s[k];
			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
				put(l, "%c", c);
			else
				put(l, "\\x%02x", c);
		}
		put(l, "\"");
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData d;
		memcpy(&d, p, sizeof(d));
		put(l, "<%zu bytes>", d.len);
		break;
	}
	default:
		put(l, "?");
		break;
	}
}

#define SUMMARY_FIELDS 8

void criu_pb_summary(const ProtobufCMessage *msg, char *buf, size_t n)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	line l = { buf, n, 0 };
	unsigned shown = 0;

	if (n == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < desc->n_fields && shown < SUMMARY_FIELDS; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const void *p = member(msg, f->offset);

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t cnt = count_of(msg, f);
			if (cnt)
				put(&l, "%s%s=[%zu]", shown++ ? " " : "", f->name, cnt);
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const void *sub;
			memcpy(&sub, p, sizeof(sub));
			if (sub)
				put(&l, "%s%s={...}", shown++ ? " " : "", f->name);
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				const char *s;
				memcpy(&s, p, sizeof(s));
				if (!s || s == f->default_value)
					continue;
			} else if (!has_of(msg, f)) {
				continue;
			}
		}
		const criu_field_opt *o = criu_field_opt_find(desc, f->name);
		put(&l, "%s%s=", shown++ ? " " : "", f->name);
		put_scalar(&l, f, p, o && (o->flags & CRIU_OPT_HEX));
	}
}
