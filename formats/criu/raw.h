/* Raw CRIU images: files without a CRIU magic, known by name. */
#ifndef SV_CRIU_RAW_H
#define SV_CRIU_RAW_H

#include "module.h"
#include "formats/criu/criu.h"

/* Verify s as the raw image type t (t->layout == CRIU_LAYOUT_RAW). */
void criu_verify_raw(sv_ctx *cx, sv_stream *s, const criu_image_type *t,
		     criu_image_info *info);

#endif /* SV_CRIU_RAW_H */
