/*
 * Image version conversion to and from image version 3 (CRIU's "V1.2",
 * LZ4-compressed pages; criu-images.md "Newer CRIU"), for convert.c.
 *
 * Version 3 differs from 1.1 in three places: inventory (img_version 3,
 * fields compress 15 and compress_region_size 16), pagemap entries (a
 * size per block in field 6, their sum in 7, the region's pages in 8,
 * flag PE_PAYLOAD_ALIGNED 8) and the pages files (each block an LZ4
 * block, raw, or nothing when all zero).  Messages are rewritten on the
 * wire, field by field: every other field keeps its bytes, and the fields
 * added go last, where protobuf-c (CRIU's and our generator's packer)
 * writes them, so a conversion there and back gives the original bytes.
 */
#ifndef SV_CRIU_CONVERT_PAGES_H
#define SV_CRIU_CONVERT_PAGES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "module.h"

/* How version 3 stores pages (inventory's compress and region size). */
typedef struct criu_v3_mode {
	uint32_t compress;     /* 1: a block per page; 2: a block per region */
	uint32_t region_pages; /* pages a block holds (1 in mode 1), at most 1024 */
} criu_v3_mode;

/*
 * Parse --compress-region's value (bytes, or with a K or M suffix) into
 * m; false (and *m untouched) unless it is a multiple of 4096 from 4096 to
 * 4 MiB, as CRIU's --compress-region takes it.
 */
bool criu_cv_region(const char *s, criu_v3_mode *m);

/* Read a protobuf varint at buf[*i] (within n); false when it runs past the end. */
bool criu_cv_varint(const unsigned char *buf, size_t n, size_t *i, uint64_t *v);

/*
 * inventory_entry msg (n bytes) for image version `to`: img_version set
 * (a pre-dump's 0 kept), compress and compress_region_size dropped, and
 * added from m when to is 3.  A new buffer (*outn bytes), or NULL when the
 * message is not sound protobuf or memory runs out.
 */
unsigned char *criu_cv_inventory(const unsigned char *msg, size_t n, uint32_t to,
				 const criu_v3_mode *m, size_t *outn);

/*
 * The converter's working memory: one block buffer of the largest region
 * (4 MiB) plus LZ4's in-place margin, in which blocks are compressed and
 * decompressed in place.
 */
typedef struct criu_cv_pages criu_cv_pages;
criu_cv_pages *criu_cv_pages_new(void);
void criu_cv_pages_free(criu_cv_pages *p);

/*
 * The rest of a pagemap image (after its magic) on pm, written to out for
 * image version 3 (to_v3, blocks as m says) or from it, with its pages
 * file pages-<pages_id>.img read from in_dirfd and written, converted, to
 * out_dirfd.  Pages are streamed a block at a time.  *pages_id gets the
 * head's pages_id.  False after a report (criu.convert.input or .output).
 */
bool criu_cv_pagemap(sv_ctx *cx, criu_cv_pages *p, sv_stream *pm, FILE *out, int in_dirfd,
		     int out_dirfd, bool to_v3, const criu_v3_mode *m, uint32_t *pages_id);

#endif /* SV_CRIU_CONVERT_PAGES_H */
