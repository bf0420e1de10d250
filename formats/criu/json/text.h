/*
 * CRIU images in protobuf's text format, both ways (CRIT's first form):
 * `streamverify decode --text [--nice]` and `streamverify encode` of such
 * text.
 *
 *   raw  (--text):         magic: 0x54564319 0x55053847
 *                          #0
 *                          mtype: X86_64 thread_info { ... } ...
 *   nice (--text --nice):  magic: IMG_COMMON CORE
 *                          #0 core_entry
 *                            mtype: X86_64
 *                            thread_info {
 *                              ...
 *
 * The magic line holds the head magic and the type magic (only the type
 * magic for image version 1 and for inventory), as numbers (raw) or names
 * (nice); either form is read back.  Each entry follows its marker "#N",
 * N counting from 0, with the entry's message name after it in the nice
 * form.  An entry's extra data comes last, as the pseudo-field "extra":
 * an escaped octet string (pipe and FIFO data, socket queues, BPF map
 * data, IPC shared memory, ghost file contents and chunks), "extra { inq:
 * ... outq: ... }" for TCP queues, "extra: [v, ...]" for semaphore values
 * and one "extra { msg { ... } text: ... }" per queued IPC message.
 * Encoding gives back the image's exact bytes.  encode takes its input for
 * text when it opens (after blanks) with "magic" or a '#', else for JSON.
 */
#ifndef SV_CRIU_TEXT_H
#define SV_CRIU_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "module.h"

#define CRIU_TEXT_CODES(X)                                                              \
	X(CT_SYNTAX, "criu.text.syntax", ERROR,                                          \
	  "the input is not in protobuf's text format (the line and column are given)")   \
	X(CT_UNKNOWN_FIELD, "criu.text.unknown-field", ERROR,                            \
	  "a field name that its message does not define")                               \
	X(CT_VALUE, "criu.text.value", ERROR,                                            \
	  "a value of the wrong kind or out of range for its field, or a field given "   \
	  "twice")                                                                        \
	X(CT_REQUIRED, "criu.text.required", ERROR,                                      \
	  "a message lacks one of its required fields")                                   \
	X(CT_LAYOUT, "criu.text.layout", ERROR,                                          \
	  "the magic line, the entry markers or an entry's extra data do not fit the "   \
	  "image type")                                                                   \
	X(CT_DROPPED, "criu.text.dropped", WARNING,                                      \
	  "fields unknown to the schema were left out of the text (the image would not " \
	  "encode back byte for byte)")                                                   \
	X(CT_OUTPUT, "criu.text.output", ERROR, "the output could not be written")

/* The image on in as text (flags: SV_CONV_NICE for the nice form). */
bool criu_text_decode(sv_ctx *cx, sv_stream *in, FILE *out, unsigned flags);

/* Is p[0..n) (the first bytes of an input) text rather than JSON? */
bool criu_text_detect(const unsigned char *p, size_t n);

/* Text (the whole input) back into the image's bytes. */
bool criu_text_encode(sv_ctx *cx, sv_stream *in, FILE *out);

#endif /* SV_CRIU_TEXT_H */
