/* Raw CRIU images: files without a CRIU magic, known by name. */
#ifndef SV_CRIU_RAW_H
#define SV_CRIU_RAW_H

#include "module.h"
#include "internal.h"
#include "formats/criu/criu.h"
#include "formats/criu/schema/schema.h"

/* Verify s as the raw image type t (t->layout == CRIU_LAYOUT_RAW). */
void criu_verify_raw(sv_ctx *cx, sv_stream *s, const criu_image_type *t,
		     criu_image_info *info);

/*
 * Image version 3 (compressed pages): where each PE_PRESENT entry of a
 * pagemap puts its payload in pages-<pages_id>.img, built from the
 * pagemap's verified entries (a criu_visitor's CRIU_ENTRY_MAIN entries of
 * a PAGEMAP image), then checked against the pages file: every LZ4 block
 * decodes (liblz4, in one buffer of at most one region, nothing written
 * anywhere) to exactly its block's size, and the file holds exactly the
 * payloads with their PE_PAYLOAD_ALIGNED padding.  Version-1/2 entries
 * (no compression fields) are raw payloads of nr_pages * 4096 bytes, so a
 * plan serves any pagemap.  The plan grows with the pagemap's entries
 * (about 32 bytes per entry and 4 per compressed block).
 */
typedef struct criu_pages_plan criu_pages_plan;

criu_pages_plan *criu_pages_plan_new(void);
/* Add one verified pagemap_entry; false when out of memory. */
bool criu_pages_plan_add(criu_pages_plan *p, uint64_t index, const PagemapEntry *pe);
/* Bytes the pages file must hold (as criu_image_info.pages_bytes). */
uint64_t criu_pages_plan_bytes(const criu_pages_plan *p);
void criu_pages_plan_free(criu_pages_plan *p);

/*
 * Verify s, the plan's pages file, against the plan: criu.pages.lz4 for
 * each block that does not decode to its size, criu.pages.payload-size
 * when the file is shorter or longer than the payloads.  Fills
 * info->raw_bytes.  Use it instead of criu_verify_image() for that file
 * (whose rule "a whole number of pages" a compressed pages file breaks).
 */
void criu_verify_pages_plan(sv_ctx *cx, sv_stream *s, const criu_pages_plan *p,
			    criu_image_info *info);

/* Bytes held in memory, read as a stream source (criu_held_source). */
typedef struct criu_held {
	const unsigned char *p;
	size_t len, at;
} criu_held;
/* A source over buf (len bytes; NULL with 0), its state in h. */
sv_source criu_held_source(criu_held *h, const unsigned char *buf, size_t len);

/*
 * The same, for a pages file held in memory (buf, len bytes; name as
 * diagnostics call it): one that came before its pagemap in an archive or
 * a capture, read in one pass.
 */
void criu_verify_pages_plan_held(sv_ctx *cx, const unsigned char *buf, size_t len,
				 const char *name, const criu_pages_plan *p,
				 criu_image_info *info);

/*
 * The rule of an uncompressed pages file: a whole number of pages
 * (criu.pages.size at the first byte past them).  alone: the file is
 * verified without its dump, where nothing says whether it is compressed:
 * criu.pages.unsized, a note, instead.
 */
void criu_pages_whole(sv_ctx *cx, uint64_t size, bool alone);

#endif /* SV_CRIU_RAW_H */
