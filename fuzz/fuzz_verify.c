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

	/*
	 * Alternate the two ways in: a regular file (seeks over skipped
	 * bytes) and a buffer in memory (a source of unknown kind).
	 */
	if (size & 1)
		sv_verify_fd(fuzz_memfd(data, size), "fuzz-input", &opt, &fuzz_counting_sink, NULL);
	else
		sv_verify_buffer(data, size, "fuzz-input", &opt, &fuzz_counting_sink, NULL);
	return 0;
}
