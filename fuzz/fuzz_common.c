#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"

static unsigned long findings, records, stats;

static void count_diag(void *ctx, const sv_diag *d)
{
	(void)ctx;
	/* Every finding must carry a registered code and a message. */
	if (!d->code || !d->code->id || !d->message || !d->file)
		abort();
	findings++;
}

static void count_record(void *ctx, const sv_record_info *r)
{
	(void)ctx;
	if (!r->summary)
		abort();
	records++;
}

static void count_stat(void *ctx, const sv_stat *s)
{
	(void)ctx;
	if (!s->key || !s->text)
		abort();
	stats++;
}

const sv_sink fuzz_counting_sink = { NULL, count_diag, count_record, count_stat, NULL };

static int memfd = -1;
static char memfd_path[64];

int fuzz_memfd(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) != 0 || (size && pwrite(memfd, data, size, 0) != (ssize_t)size) ||
	    lseek(memfd, 0, SEEK_SET) != 0)
		abort();
	return memfd;
}

const char *fuzz_memfd_path(const uint8_t *data, size_t size)
{
	fuzz_memfd(data, size);
	return memfd_path;
}
