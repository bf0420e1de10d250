/* Any bytes as the JSON of a CRIU image, encoded (the result is discarded). */
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink_file;
	sv_options opt = { .format = "criu" };

	if (!sink_file && !(sink_file = fopen("/dev/null", "wb")))
		abort();
	sv_convert(fuzz_memfd_path(data, size), SV_ACTION_ENCODE, 0, sink_file, &opt,
		   &fuzz_counting_sink);
	/* And the decoder on the same bytes, as an image. */
	sv_convert(fuzz_memfd_path(data, size), SV_ACTION_DECODE, 0, sink_file, &opt,
		   &fuzz_counting_sink);
	return 0;
}
