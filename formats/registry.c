/* The compiled-in format modules, as listed in registry.def. */
#include "verify/internal.h"

#define SV_FORMAT(sym) extern const sv_format sym;
#include "registry.def"
#undef SV_FORMAT

/* NULL-terminated, so that an empty registry is still valid C. */
#define SV_FORMAT(sym) &sym,
const sv_format *const sv_registry[] = {
#include "registry.def"
	NULL
};
#undef SV_FORMAT

const size_t sv_registry_count = sizeof(sv_registry) / sizeof(sv_registry[0]) - 1;
