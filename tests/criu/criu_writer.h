/*
 * Writing CRIU images for tests with the project's own protobuf-c code:
 * magics, entries, blobs, and messages filled with realistic values from
 * their descriptors.
 */
#ifndef CRIU_WRITER_H
#define CRIU_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "formats/criu/schema/images.h"

/* Open path for writing, or exit(2) with a message. */
FILE *cw_open(const char *path);
void cw_close(FILE *f);

void cw_u32(FILE *f, uint32_t v);
void cw_bytes(FILE *f, const void *p, size_t n);
void cw_fill(FILE *f, unsigned char byte, size_t n);

/* The magic of an image of type t: version 2 with its head magic, 1 without. */
void cw_magic(FILE *f, const criu_image_type *t, int version);

/* One entry (u32 size + packed message); returns its offset. */
long cw_entry(FILE *f, const ProtobufCMessage *m);

/* An entry whose message is the raw bytes p[0..n). */
long cw_raw_entry(FILE *f, const void *p, size_t n);

/*
 * A new message of type desc with every required field set, optional
 * fields set to non-default values, repeated fields holding two elements,
 * nested messages filled down to a few levels.  seed varies the values.
 * Free with protobuf_c_message_free_unpacked(m, NULL).
 */
ProtobufCMessage *cw_new_filled(const ProtobufCMessageDescriptor *desc, unsigned seed);

/* A zeroed, initialised message (fields at their defaults). */
ProtobufCMessage *cw_new(const ProtobufCMessageDescriptor *desc);

/* Replace a string field's value (a malloc'd copy). */
char *cw_strdup(const char *s);

#endif /* CRIU_WRITER_H */
