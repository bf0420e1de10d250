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
