/*
 * What the CRIU JSON decoder and encoder share: their diagnostic codes and
 * the value conversions crit applies (its "pretty" forms of numbers, the
 * base64 and quoted-printable text of bytes, IP addresses, device
 * numbers).  Each conversion comes with its inverse, so that JSON written
 * by the decoder encodes back to the same bytes.
 */
#ifndef SV_CRIU_JSON_COMMON_H
#define SV_CRIU_JSON_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "module.h"
#include "formats/criu/json/json.h"

#define CRIU_JSON_CODES(X)                                                             \
	X(CJ_MAGIC, "criu.json.magic", ERROR,                                           \
	  "the input does not start with the magic of a CRIU image type that "         \
	  "converts to JSON")                                                           \
	X(CJ_ENTRY, "criu.json.entry", ERROR,                                           \
	  "an entry is not a protobuf message of its type (malformed, a required "     \
	  "field missing, nested too deep)")                                            \
	X(CJ_TOO_LARGE, "criu.json.too-large", ERROR,                                   \
	  "an entry is larger than streamverify converts (64 MiB)")                    \
	X(CJ_DROPPED, "criu.json.dropped", WARNING,                                     \
	  "a field value crit leaves out of its JSON (a string that is not UTF-8, "    \
	  "an undefined enum value) was left out")                                      \
	X(CJ_SYNTAX, "criu.json.syntax", ERROR, "the input is not valid JSON")          \
	X(CJ_UNKNOWN_FIELD, "criu.json.unknown-field", ERROR,                           \
	  "the JSON has a field that its message does not define")                     \
	X(CJ_TYPE, "criu.json.type", ERROR,                                             \
	  "a JSON value has the wrong type for its field")                             \
	X(CJ_RANGE, "criu.json.range", ERROR,                                           \
	  "a number does not fit its field's type")                                    \
	X(CJ_VALUE, "criu.json.value", ERROR,                                           \
	  "a JSON value cannot be converted (bad base64, unknown enum or flag name, "  \
	  "bad address or device number)")                                             \
	X(CJ_REQUIRED, "criu.json.required", ERROR,                                     \
	  "the JSON lacks a required field of its message")                            \
	X(CJ_EXTRA, "criu.json.extra", ERROR,                                           \
	  "an entry's extra data is missing or differs in length from what the "       \
	  "entry says")                                                                 \
	X(CJ_LAYOUT, "criu.json.layout", ERROR,                                         \
	  "the entries do not fit the layout of the image type (pagemap head, ghost "  \
	  "file chunks)")                                                               \
	X(CJ_OUTPUT, "criu.json.output", ERROR, "the output could not be written")

enum { CRIU_JSON_CODES(SV_CODE_ENUM) CJ_NCODES };

#define CJ_CODE(c) (&criu_json_codes[(c)])

/* The encoder (json_encode.c); the decoder and info are in json_decode.c. */
bool criu_json_encode(sv_ctx *cx, sv_stream *in, FILE *out);

/* The largest entry converted; CRIU's own entries are far smaller. */
#define CJ_ENTRY_MAX (64u << 20)

/* ---- crit's pretty forms ------------------------------------------------- */

typedef struct cj_flag {
	const char *name;
	uint64_t bit;
} cj_flag;

/* The flag names of a flags dictionary ("mmap.prot"), or NULL if unknown. */
const cj_flag *cj_flags_map(const char *dict, size_t *n);

/* Name of value in dictionary dict for field, or NULL. */
const char *cj_dict_name(const char *dict, const char *field, int64_t value);
/* Value of name in dictionary dict for field; false if it has none. */
bool cj_dict_value(const char *dict, const char *field, const char *name, int64_t *value);

/* Device numbers: the kernel's encoding (major << 20) or glibc's (odev). */
void cj_dev_split(uint64_t dev, bool odev, uint64_t *major, uint64_t *minor);
bool cj_dev_join(uint64_t major, uint64_t minor, bool odev, uint64_t *dev);

/*
 * An address stored as 32-bit words in network order (one word: IPv4,
 * four: IPv6), as text the way Python's ipaddress writes it.  Returns
 * false for other word counts.
 */
bool cj_ip_format(const uint32_t *words, size_t n, char out[64]);
/* The inverse: *n gets 1 or 4.  False when text is not an address. */
bool cj_ip_parse(const char *text, uint32_t words[4], size_t *n);

/*
 * An integer as Python's int(text, 0) reads it: surrounding blanks, a
 * sign, 0x / 0o / 0b prefixes, underscores between digits.  base 10 reads
 * a decimal only (int(text)).  False when it is not one or exceeds 64 bits.
 */
bool cj_parse_int(const char *text, int base, bool *negative, uint64_t *magnitude);

/* ---- bytes as text ------------------------------------------------------- */

/* True when s[0..n) is well-formed UTF-8 (no surrogates, nothing past U+10FFFF). */
bool cj_utf8_valid(const unsigned char *s, size_t n);

/* Bytes one element of a repeated field of type t takes in a protobuf-c message. */
size_t cj_elem_size(ProtobufCType t);

/*
 * Base64 as Python's base64.encodebytes writes it: lines of 76 characters,
 * each ending in a newline (none for empty input).  Fed in pieces.
 */
typedef struct cj_b64 {
	unsigned char carry[57];
	size_t ncarry;
} cj_b64;
#define CJ_B64_LINE_IN 57   /* input bytes per full line */
#define CJ_B64_LINE_OUT 76  /* characters per full line, newline excluded */

/* Encode n (<= 3 * k) bytes into 4 * ceil(n / 3) characters; returns the count. */
size_t cj_b64_chunk(const unsigned char *in, size_t n, char *out);

/*
 * Decode base64 text (blanks and newlines between characters ignored,
 * padding only at the end).  out must hold len / 4 * 3 + 3 bytes.  False
 * when the text is not base64.
 */
bool cj_b64_decode(const char *text, size_t len, unsigned char *out, size_t *outlen);

/*
 * Quoted-printable as Python's quopri.encodestring writes it (crit's
 * "unix_name" conversion).  out must hold 4 * n + 16 bytes.  Returns the
 * length written.
 */
size_t cj_qp_encode(const unsigned char *in, size_t n, char *out);
/* Its inverse (quopri.decodestring); out must hold n bytes. */
size_t cj_qp_decode(const char *in, size_t n, unsigned char *out);

#endif /* SV_CRIU_JSON_COMMON_H */
