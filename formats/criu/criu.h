/*
 * Verifying one CRIU image file, for the criu module's own verify callback
 * and for code that needs a decoded, trusted view of each image (dump
 * directory checks, decoding to JSON).
 *
 * criu_verify_image() reads one image stream to its end, reports every
 * finding through the context, and hands each decoded entry and each piece
 * of extra blob to an optional visitor.  Entries are decoded into an arena
 * that is reset after each one: a visitor copies what it keeps.
 */
#ifndef SV_CRIU_H
#define SV_CRIU_H

#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "module.h"
#include "formats/criu/schema/images.h"

/* What an entry handed to the visitor is. */
typedef enum criu_entry_role {
	CRIU_ENTRY_MAIN,         /* an entry of the image type's message */
	CRIU_ENTRY_PAGEMAP_HEAD, /* the pagemap_head opening a PAGEMAP */
	CRIU_ENTRY_GHOST_CHUNK,  /* a ghost_chunk_entry after the ghost_file_entry */
	CRIU_ENTRY_IPC_MSG       /* an ipc_msg inside an IPCNS_MSG entry's blob */
} criu_entry_role;

typedef struct criu_entry {
	criu_entry_role role;
	uint64_t index;     /* entry index in the image (an IPC message: its
			       queue entry's index) */
	uint64_t sub_index; /* IPC message: position in its queue; else 0 */
	uint64_t offset;    /* offset of the entry's u32 size */
	uint32_t size;      /* bytes of the message after the size */
	const ProtobufCMessage *msg; /* valid during the callback only */
} criu_entry;

/* Which blob a piece belongs to. */
typedef enum criu_blob_part {
	CRIU_PART_PIPE_DATA,      /* pipe/FIFO contents */
	CRIU_PART_SK_PACKET,      /* a queued packet */
	CRIU_PART_TCP_INQ,
	CRIU_PART_TCP_OUTQ,
	CRIU_PART_BPFMAP_DATA,    /* keys then values */
	CRIU_PART_IPC_SHM,        /* shared memory contents (padding excluded) */
	CRIU_PART_IPC_SEM,        /* u16 semaphore values (padding excluded) */
	CRIU_PART_IPC_MSG,        /* one message's text (padding excluded) */
	CRIU_PART_GHOST_CONTENTS, /* a plain ghost file's contents */
	CRIU_PART_GHOST_CHUNK     /* one chunk's data */
} criu_blob_part;

typedef struct criu_blob {
	criu_blob_part part;
	uint64_t index;     /* entry index it belongs to (chunk/queue msg: its own) */
	uint64_t offset;    /* where the blob starts */
	uint64_t length;    /* its length (a plain ghost file: UINT64_MAX, to the end) */
} criu_blob;

typedef struct criu_visitor {
	void *arg;
	/* A decoded, valid entry.  Non-zero stops the verification. */
	int (*entry)(void *arg, const criu_entry *e);
	/*
	 * A piece of blob, in order (a zero-length blob gives one call with
	 * n == 0).  When NULL, blobs are skipped (seeked over) unless
	 * verifying them needs their bytes.  Non-zero stops.
	 */
	int (*blob)(void *arg, const criu_blob *b, const unsigned char *p,
		    size_t n, uint64_t off);
} criu_visitor;

typedef struct criu_image_info {
	const criu_image_type *type;  /* from the magic (or the name, for raw
					 images); NULL if unrecognised */
	const criu_image_name *named; /* the file name pattern matched, or NULL */
	uint64_t name_id;             /* the id in the file name */
	int version;                  /* 2: head magic (v1.1), 1: type magic
					 alone (v1), 0: inventory or raw */
	uint64_t entries;             /* entries decoded (pagemap head and ghost
					 chunks included) */
	bool complete;                /* framing sound to the end of the file */
	/* PAGEMAP: pages by where their data is (lazy-and-present counts as present) */
	uint64_t pages_present, pages_parent, pages_lazy;
	uint64_t raw_bytes;           /* raw images: bytes in the file */
	/*
	 * PAGEMAP: the bytes its pages file must hold: every PE_PRESENT
	 * entry's payload (nr_pages * 4096, or its compressed sizes in image
	 * version 3) plus PE_PAYLOAD_ALIGNED padding.  UINT64_MAX when a bad
	 * entry leaves it unknown.  For image versions 1 and 2 it equals
	 * 4096 * pages_present.
	 */
	uint64_t pages_bytes;
	bool compressed;              /* PAGEMAP: some entry is stored compressed */
	bool new_layout;              /* PAGEMAP: CRIU 4.2's page count (field 5) */
	/* The CRIU generation the image looks like: "3.x" (the 3.17 schema
	 * holds everything), "4.x" (fields of CRIU 4), "image version 3"
	 * (compressed pages).  Set for verified message images. */
	const char *generation;
} criu_image_info;

/*
 * Verify the image on s.  name is its file name (last component) or NULL
 * (standard input): it names raw images and fixes the type the magic must
 * have.  visitor may be NULL.  info may be NULL.
 */
void criu_verify_image(sv_ctx *cx, sv_stream *s, const char *name,
		       const criu_visitor *visitor, criu_image_info *info);

#endif /* SV_CRIU_H */
