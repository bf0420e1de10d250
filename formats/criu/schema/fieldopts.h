/*
 * CRIU's field options (CRIU_Opts in proto/opts.proto): how crit prints a
 * field.  CRIU attaches them as custom protobuf options, which protoc-c
 * does not keep in the descriptors it generates, so they live here as a
 * table keyed by message descriptor and field name.
 */
#ifndef SV_CRIU_FIELDOPTS_H
#define SV_CRIU_FIELDOPTS_H

#include <protobuf-c/protobuf-c.h>

#define CRIU_OPT_HEX   0x1u /* print as "0x..." */
#define CRIU_OPT_IPADD 0x2u /* IPv4/IPv6 address */
#define CRIU_OPT_DEV   0x4u /* device number, "major:minor" (new encoding) */
#define CRIU_OPT_ODEV  0x8u /* device number in the old 16-bit encoding */

typedef struct criu_field_opt {
	const ProtobufCMessageDescriptor *msg;
	const char *field;
	unsigned flags;         /* CRIU_OPT_* */
	const char *flags_dict; /* flag names by bit ("mmap.prot"), or NULL */
	const char *dict;       /* value names ("gen", "sk"), or NULL */
	const char *conv;       /* a conversion ("unix_name"), or NULL */
} criu_field_opt;

extern const criu_field_opt criu_field_opts[];
extern const size_t criu_field_opt_count;

/* The options of msg's field called field, or NULL when it has none. */
const criu_field_opt *criu_field_opt_find(const ProtobufCMessageDescriptor *msg,
					  const char *field);

/*
 * The options of every field of msg at once: opts[i] for msg->fields[i]
 * (NULL when it has none); opts has msg->n_fields elements.  For callers
 * that meet the same message many times and keep the answer.
 */
void criu_field_opts_of(const ProtobufCMessageDescriptor *msg, const criu_field_opt **opts);

#endif /* SV_CRIU_FIELDOPTS_H */
