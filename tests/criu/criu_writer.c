/* Test-side CRIU image writer (see criu_writer.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu/criu_writer.h"
#include "formats/criu/schema/fieldopts.h"

static void die(const char *what)
{
	perror(what);
	exit(2);
}

FILE *cw_open(const char *path)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		die(path);
	return f;
}

void cw_close(FILE *f)
{
	if (fclose(f) != 0)
		die("fclose");
}

void cw_bytes(FILE *f, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, f) != n)
		die("fwrite");
}

void cw_u32(FILE *f, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	cw_bytes(f, b, 4);
}

void cw_fill(FILE *f, unsigned char byte, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fputc(byte, f) == EOF)
			die("fputc");
}

void cw_magic(FILE *f, const criu_image_type *t, int version)
{
	if (version == 2 && t->id != CRIU_T_INVENTORY)
		cw_u32(f, t->flags & CRIU_IMG_SERVICE ? CRIU_IMG_SERVICE_MAGIC
						      : CRIU_IMG_COMMON_MAGIC);
	cw_u32(f, t->magic);
}

long cw_raw_entry(FILE *f, const void *p, size_t n)
{
	long off = ftell(f);

	cw_u32(f, (uint32_t)n);
	cw_bytes(f, p, n);
	return off;
}

long cw_entry(FILE *f, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	unsigned char *buf = malloc(n ? n : 1);

	if (!buf)
		die("malloc");
	protobuf_c_message_pack(m, buf);
	long off = cw_raw_entry(f, buf, n);
	free(buf);
	return off;
}

char *cw_strdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		die("strdup");
	return d;
}

ProtobufCMessage *cw_new(const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *m = calloc(1, desc->sizeof_message);

	if (!m)
		die("calloc");
	protobuf_c_message_init(desc, m);
	return m;
}

static void *field_at(ProtobufCMessage *m, unsigned off)
{
	return (unsigned char *)m + off;
}

static size_t scalar_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static ProtobufCMessage *filled(const ProtobufCMessageDescriptor *desc,
				unsigned seed, unsigned depth);

/* Store one value of field f at p. */
static void fill_value(const ProtobufCFieldDescriptor *f, void *p, unsigned seed,
		       unsigned depth)
{
	uint64_t v = (uint64_t)f->id * 7 + seed + 1;

	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b = 1;
		memcpy(p, &b, sizeof(b));
		break;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		int e = ed->values[(seed + 1) % ed->n_values].value;
		memcpy(p, &e, sizeof(e));
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s-%u", f->name, seed);
		char *s = cw_strdup(buf);
		memcpy(p, &s, sizeof(s));
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData d = { 8, malloc(8) };
		if (!d.data)
			die("malloc");
		for (unsigned i = 0; i < 8; i++)
			d.data[i] = (uint8_t)(seed + i);
		memcpy(p, &d, sizeof(d));
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub = filled(f->descriptor, seed, depth + 1);
		memcpy(p, &sub, sizeof(sub));
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT: {
		float x = (float)v;
		memcpy(p, &x, sizeof(x));
		break;
	}
	case PROTOBUF_C_TYPE_DOUBLE: {
		double x = (double)v;
		memcpy(p, &x, sizeof(x));
		break;
	}
	default:
		if (scalar_size(f->type) == 8) {
			uint64_t x = v * 0x1001;
			memcpy(p, &x, sizeof(x));
		} else {
			uint32_t x = (uint32_t)v;
			memcpy(p, &x, sizeof(x));
		}
		break;
	}
}

#define FILL_DEPTH 3

static ProtobufCMessage *filled(const ProtobufCMessageDescriptor *desc,
				unsigned seed, unsigned depth)
{
	ProtobufCMessage *m = cw_new(desc);

	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		bool msg = f->type == PROTOBUF_C_TYPE_MESSAGE;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			const criu_field_opt *o = criu_field_opt_find(desc, f->name);
			/* Addresses as a real socket has them: IPv6, four words. */
			size_t n = msg && depth >= FILL_DEPTH ? 0 :
				   o && (o->flags & CRIU_OPT_IPADD) ? 4 : 2;
			size_t sz = scalar_size(f->type);
			unsigned char *arr = n ? calloc(n, sz) : NULL;

			if (n && !arr)
				die("calloc");
			for (size_t k = 0; k < n; k++)
				fill_value(f, arr + k * sz, seed + (unsigned)k, depth);
			memcpy(field_at(m, f->quantifier_offset), &n, sizeof(n));
			memcpy(field_at(m, f->offset), &arr, sizeof(arr));
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && msg && depth >= FILL_DEPTH)
			continue;
		fill_value(f, field_at(m, f->offset), seed, depth);
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !msg &&
		    f->type != PROTOBUF_C_TYPE_STRING) {
			protobuf_c_boolean b = 1;
			memcpy(field_at(m, f->quantifier_offset), &b, sizeof(b));
		}
	}
	return m;
}

ProtobufCMessage *cw_new_filled(const ProtobufCMessageDescriptor *desc, unsigned seed)
{
	return filled(desc, seed, 0);
}
