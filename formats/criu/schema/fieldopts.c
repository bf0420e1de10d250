/* CRIU field options of the CRIU 3.17.1 schema and criu-dev's additions (see fieldopts.h). */
#include <string.h>

#include "formats/criu/schema/fieldopts.h"
#include "formats/criu/schema/schema.h"

/*
 * Generated at build time by fieldopts.awk from the "// crit:" comments on
 * the fields of the schema in proto/: the one place they are kept.
 */
const criu_field_opt criu_field_opts[] = {
#include "criu-fieldopts.inc"
};

const size_t criu_field_opt_count =
	sizeof(criu_field_opts) / sizeof(criu_field_opts[0]);

const criu_field_opt *criu_field_opt_find(const ProtobufCMessageDescriptor *msg,
					  const char *field)
{
	for (size_t i = 0; i < criu_field_opt_count; i++)
		if (criu_field_opts[i].msg == msg &&
		    strcmp(criu_field_opts[i].field, field) == 0)
			return &criu_field_opts[i];
	return NULL;
}

void criu_field_opts_of(const ProtobufCMessageDescriptor *msg, const criu_field_opt **opts)
{
	for (unsigned i = 0; i < msg->n_fields; i++)
		opts[i] = NULL;
	for (size_t k = 0; k < criu_field_opt_count; k++) {
		if (criu_field_opts[k].msg != msg)
			continue;
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(msg, criu_field_opts[k].field);
		if (f)
			opts[f - msg->fields] = &criu_field_opts[k];
	}
}
