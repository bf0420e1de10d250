/*
 * CRIT's conversions beyond JSON, for the criu module: the converter that
 * adds the text view to decode/encode (text.c), image version conversion
 * (`streamverify convert`, convert.c) and ELF core files from a dump
 * (`streamverify coredump`, coredump.c), with their diagnostic codes.
 */
#ifndef SV_CRIU_CONVERT_H
#define SV_CRIU_CONVERT_H

#include <stdbool.h>
#include <stdio.h>

#include "module.h"
#include "formats/criu/json/text.h"

#define CRIU_VERSION_CODES(X)                                                          \
	X(CV_VERSION, "criu.convert.version", ERROR,                                    \
	  "the input cannot be converted to the image version asked for (an unknown "  \
	  "version, a pre-dump to version 1 or 3, one image to or from version 3, a "  \
	  "bad --compress-region)")                                                    \
	X(CV_PARENT, "criu.convert.parent", NOTE,                                       \
	  "the dump has a parent: only its own pages are (de)compressed, the parent "  \
	  "keeps its image version")                                                   \
	X(CV_INPUT, "criu.convert.input", ERROR,                                        \
	  "the input does not verify clean, so it is not converted")                  \
	X(CV_OUTPUT, "criu.convert.output", ERROR, "the output could not be written")

#define CRIU_COREDUMP_CODES(X)                                                         \
	X(CC_ARCH, "criu.coredump.arch", ERROR,                                         \
	  "the dump is of an architecture core files are not written for (x86_64 "     \
	  "only)")                                                                      \
	X(CC_INPUT, "criu.coredump.input", ERROR,                                       \
	  "an image a core file needs is missing, broken or inconsistent")             \
	X(CC_PID, "criu.coredump.pid", ERROR, "the dump has no process of that PID")    \
	X(CC_OUTPUT, "criu.coredump.output", ERROR, "a core file could not be written")

#define CRIU_CRIT_CODES(X) CRIU_TEXT_CODES(X) CRIU_VERSION_CODES(X) CRIU_COREDUMP_CODES(X)

enum { CRIU_CRIT_CODES(SV_CODE_ENUM) CRIT_NCODES };

/* Their part of the criu module's one code table (criu.c). */
extern const sv_code *const criu_crit_codes;
#define CRIT_CODE(c) (&criu_crit_codes[(c)])

/* decode/encode/info with the text view added; the criu module's converter. */
extern const sv_converter criu_crit_converter;

#endif /* SV_CRIU_CONVERT_H */
