/*
 * Any bytes as the protobuf text view of a CRIU image, encoded; what
 * encodes must decode to text (both forms) that encodes to the same bytes
 * again, or the target aborts.  The same bytes are also decoded as an
 * image in both text forms.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "formats/criu/json/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* sv_convert of the bytes p[0..n) into a new buffer; NULL when it fails. */
static char *convert(const void *p, size_t n, sv_action action, unsigned flags, size_t *outlen)
{
	sv_options opt = { .format = "criu" };
	char *buf = NULL;
	FILE *out = open_memstream(&buf, outlen);

	if (!out)
		abort();
	int st = sv_convert(fuzz_memfd_path(p, n), action, flags, out, &opt, &fuzz_counting_sink);
	if (fclose(out) != 0)
		abort();
	if (st != SV_EXIT_VALID) {
		free(buf);
		return NULL;
	}
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n, tn, n2;

	/* What encode takes for JSON is fuzz_encode's. */
	if (!criu_text_detect(data, size))
		return 0;
	char *img = convert(data, size, SV_ACTION_ENCODE, 0, &n);
	if (img) {
		static const unsigned forms[] = { SV_CONV_TEXT, SV_CONV_TEXT | SV_CONV_NICE };
		for (size_t f = 0; f < 2; f++) {
			char *text = convert(img, n, SV_ACTION_DECODE, forms[f], &tn);
			/* An encoded image may still not verify (e.g. an inventory
			 * without what a dump needs): then it has no text. */
			if (!text)
				continue;
			char *img2 = convert(text, tn, SV_ACTION_ENCODE, 0, &n2);
			if (!img2 || n2 != n || memcmp(img, img2, n) != 0)
				abort(); /* text of an image that does not give it back */
			free(img2);
			free(text);
		}
		free(img);
	}
	free(convert(data, size, SV_ACTION_DECODE, SV_CONV_TEXT | SV_CONV_NICE, &n));
	return 0;
}
