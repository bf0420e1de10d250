/*
 * Reading a criu-image-streamer capture for another user of its files than
 * the verifier (`streamverify show` and `diff`, formats/criu/show/).
 */
#ifndef SV_CRIU_CAPTURE_H
#define SV_CRIU_CAPTURE_H

#include "module.h"
#include "formats/criu/dump/dump.h"

/*
 * Called for each file of the capture instead of criu_dump_add(d, m, s):
 * s is the file's data (read from the capture, or from memory for a file
 * that was held), NULL when criu_dump_wants(d, m) declined it.  The
 * callback must give m to criu_dump_add(d, ...) itself; the capture
 * closes s.
 */
typedef void (*criu_capture_add_fn)(void *arg, criu_dump *d, const sv_member *m,
				    sv_stream *s);

/*
 * Verify the capture on in (every marker rule) and hand its files to add
 * (NULL: criu_dump_add), as the criu-stream module does; d is finished
 * (criu_dump_finish) when the capture is whole, and the caller frees it.
 */
void criu_capture_read(sv_ctx *cx, sv_stream *in, criu_dump *d, criu_capture_add_fn add,
		       void *arg);

#endif /* SV_CRIU_CAPTURE_H */
