/* Declarations shared by the core's own files; not for format modules. */
#ifndef SV_INTERNAL_H
#define SV_INTERNAL_H

#include <sys/types.h>

#include "module.h"

/* formats/registry.c: the compiled-in modules. */
extern const sv_format *const sv_registry[];
extern const size_t sv_registry_count;

/* Wrap an open descriptor; NULL only when out of memory. */
sv_stream *sv_stream_open_fd(sv_ctx *cx, int fd, bool owns_fd,
			     const char *name, unsigned flags);

/*
 * A stream over callbacks instead of a descriptor: archive members, nested
 * byte ranges.  read returns bytes read, 0 at the end, -1 with errno on
 * error; skip (optional, used only when size is known) passes over n bytes
 * without handing them out and returns how many it passed.  size is the
 * declared length (SV_NONE when unknown); offsets start at start.
 */
typedef struct sv_source {
	ssize_t (*read)(void *arg, void *buf, size_t n);
	int64_t (*skip)(void *arg, uint64_t n);
	void *arg;
	uint64_t size;
} sv_source;
sv_stream *sv_stream_open_source(sv_ctx *cx, const sv_source *src,
				 const char *name, uint64_t start, unsigned flags);

/*
 * --tee: forward the stream's bytes to fd as they are found to belong to
 * valid records.  commit marks the held bytes before offset upto valid;
 * they are written before the stream next reads, at flush, or at cut,
 * which then stops forwarding for good.  Set before the first read.
 */
void sv_stream_tee(sv_stream *s, int fd);
bool sv_stream_tee_active(const sv_stream *s);
void sv_stream_tee_commit(sv_stream *s, uint64_t upto);
void sv_stream_tee_flush(sv_stream *s);
void sv_stream_tee_cut(sv_stream *s);
uint64_t sv_stream_tee_forwarded(const sv_stream *s);

/* Mark the run as failed by I/O (exit status 2) and stop it. */
void sv_ctx_io_failed(sv_ctx *cx);

/* A file of a directory (sv_open_at) was closed after bytes were read: counted for the summary. */
void sv_ctx_file_read(sv_ctx *cx, uint64_t bytes);

/* All formats, compiled-in then run-time registered. */
size_t sv_all_format_count(void);
const sv_format *sv_all_format_at(size_t i);

/* "1.5 MiB" (binary units, one decimal; "N bytes" below 1 KiB). */
void sv_human_size(char *buf, size_t len, uint64_t n);

/* The whole command line: what build/streamverify's main() runs. */
int sv_cli_main(int argc, char **argv);

#endif
