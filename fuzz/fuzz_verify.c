/*
 * One target per format (FUZZ_FORMAT is the module's name, or "auto" for
 * the bids of every module): any bytes, verified as that format.
 */
#include "fuzz_common.h"

#ifndef FUZZ_FORMAT
#error "build with -DFUZZ_FORMAT=\"name\""
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sv_options opt = { .format = FUZZ_FORMAT };

	sv_verify(fuzz_memfd_path(data, size), &opt, &fuzz_counting_sink, NULL);
	return 0;
}
