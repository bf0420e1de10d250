/*
 * protobuf-c helpers of the CRIU module: an arena allocator reset per
 * entry, an explanation of why protobuf-c refused a message, and the checks
 * protobuf-c does not make (unknown fields, undefined enum values).
 */
#ifndef SV_CRIU_PB_H
#define SV_CRIU_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/*
 * Bump allocator for protobuf-c, reset per entry: blocks kept across
 * resets, big ones freed; freed slab-sized blocks reused (see pb.c).
 */
typedef struct criu_arena_block criu_arena_block;
typedef struct criu_arena_slot {
	void *p;
	int k;          /* size class */
	uint64_t gen;   /* the arena's generation when filled (never wraps) */
} criu_arena_slot;
#define CRIU_ARENA_CLASSES 40
typedef struct criu_arena {
	ProtobufCAllocator pc;   /* hand &arena->pc to protobuf-c */
	criu_arena_block *head;  /* first block, kept by reset */
	criu_arena_block *cur;
	void *free_lists[CRIU_ARENA_CLASSES]; /* freed blocks of 512 << k bytes */
	criu_arena_slot *live;   /* blocks of those sizes handed out */
	size_t live_n, live_cap;
	uint64_t gen;            /* bumped by each reset that had live blocks */
	bool freed;              /* a free list holds blocks */
} criu_arena;

void criu_arena_init(criu_arena *a);
void criu_arena_reset(criu_arena *a);
void criu_arena_free(criu_arena *a);

/* Why a message failed to unpack. */
typedef enum criu_pb_problem {
	CRIU_PB_OK,
	CRIU_PB_MALFORMED, /* wire format broken, or wrong wire type for a field */
	CRIU_PB_REQUIRED,  /* a required field is missing */
	CRIU_PB_TOO_DEEP   /* nested deeper than CRIU_PB_MAX_DEPTH */
} criu_pb_problem;

#define CRIU_PB_MAX_DEPTH 64

typedef struct criu_pb_diag {
	criu_pb_problem problem;
	size_t at;          /* byte offset inside the message */
	char what[192];     /* "task_core_entry.comm (6)", "varint runs past the end" */
} criu_pb_diag;

/*
 * Walk the wire format of buf as a desc message, the way protobuf-c
 * parses it, and say what is wrong (CRIU_PB_OK when nothing is).
 */
criu_pb_problem criu_pb_diagnose(const ProtobufCMessageDescriptor *desc,
				 const uint8_t *buf, size_t len,
				 criu_pb_diag *out);

/* True when desc can contain itself (nesting then needs a depth check). */
bool criu_pb_recursive(const ProtobufCMessageDescriptor *desc);

/* What criu_pb_check() found in an unpacked message tree. */
typedef struct criu_pb_findings {
	unsigned unknown_fields;     /* in the whole tree */
	const char *unknown_msg;     /* first one: message it is in */
	uint32_t unknown_tag;        /*            its field number */
	unsigned bad_enums;
	const char *enum_field;      /* first one: "message.field" parts */
	const char *enum_msg;
	int enum_value;
} criu_pb_findings;

/* Look for unknown fields and undefined enum values in msg's tree. */
void criu_pb_check(const ProtobufCMessage *msg, criu_pb_findings *f);

/*
 * A one-line summary of msg's scalar fields ("pid=1 ppid=0 ..."), at most
 * n - 1 characters, for --verbose.
 */
void criu_pb_summary(const ProtobufCMessage *msg, char *buf, size_t n);

#endif /* SV_CRIU_PB_H */
