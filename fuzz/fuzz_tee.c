/*
 * --tee and the three output sinks: any bytes, verified as one of the
 * stream formats or with the format the bids choose (as the CLI does
 * without --format; the bids of every module are most of such a run, so
 * they get one input in eight) while the valid records are forwarded to a
 * memfd, and the findings written by the text, JSON Lines or SARIF sink
 * the CLI uses (one of the three per input).
 *
 * Checked on every input that is not gzip (the tee forwards what the core
 * inflated): what was forwarded is a prefix of the input, and all of it
 * when the input is valid.  Text output holds no control character but
 * the newlines that end its lines; every JSON line parses; the SARIF log
 * parses and holds one result per finding counted in the summary.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Modules that read a stream, so --tee applies; by the input's length. */
static const char *const formats[] = {
	"auto", "libxc", "libxl", "xl", "libxc-legacy", "criu", "qemu", "criu-stream",
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static int tee_fd = -1;
static uint8_t *forwarded;
static size_t forwarded_cap;

/* What the tee wrote, from the start of its memfd; its length. */
static size_t read_forwarded(void)
{
	off_t end = lseek(tee_fd, 0, SEEK_END);
	size_t got = 0;

	if (end < 0)
		abort();
	if ((size_t)end > forwarded_cap) {
		forwarded_cap = (size_t)end;
		if (!(forwarded = realloc(forwarded, forwarded_cap)))
			abort();
	}
	while (got < (size_t)end) {
		ssize_t n = pread(tee_fd, forwarded + got, (size_t)end - got, (off_t)got);
		if (n <= 0)
			abort();
		got += (size_t)n;
	}
	return got;
}

static void check_text(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			abort();
	}
}

static void check_json_lines(char *text, size_t len)
{
	char *line = text, *end = text + len;

	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		json_error_t err;
		json_t *j;

		if (!nl)
			abort(); /* every object ends its line */
		j = json_loadb(line, (size_t)(nl - line), 0, &err);
		if (!j || !json_is_object(j))
			abort();
		json_decref(j);
		line = nl + 1;
	}
}

static void check_sarif(const char *text, size_t len, const sv_summary *sum)
{
	json_error_t err;
	json_t *log = json_loadb(text, len, 0, &err), *results;

	if (!log)
		abort();
	results = json_object_get(json_array_get(json_object_get(log, "runs"), 0), "results");
	if (!json_is_array(results) ||
	    json_array_size(results) != sum->errors + sum->warnings + sum->notes)
		abort();
	json_decref(log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sv_options opt = { .format = formats[size / 3 % NFORMATS], .tee = 1 };
	sv_summary sum = { 0 };
	sv_output out = { 0 };
	sv_sink sink;
	char *text = NULL;
	size_t text_len = 0, fwd;
	int status, kind = (int)(size % 3);

	if (tee_fd < 0 && (tee_fd = memfd_create("fuzz-tee", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(tee_fd, 0) != 0 || lseek(tee_fd, 0, SEEK_SET) != 0)
		abort();
	opt.tee_fd = tee_fd;
	if (!(out.fp = open_memstream(&text, &text_len)))
		abort();
	out.flags = size & 4 ? SV_OUT_VERBOSE : 0;
	if (kind == 0)
		sv_sink_text(&sink, &out);
	else if (kind == 1)
		sv_sink_json(&sink, &out);
	else
		sv_sink_sarif(&sink, &out);

	/* A regular file (seeks over skipped bytes) or a buffer, alternately. */
	if (size & 1)
		status = sv_verify_fd(fuzz_memfd(data, size), "fuzz-input", &opt, &sink, &sum);
	else
		status = sv_verify_buffer(data, size, "fuzz-input", &opt, &sink, &sum);
	if (kind == 2)
		sv_sarif_finish(&out);
	if (fclose(out.fp) != 0)
		abort();

	fwd = read_forwarded();
	if (!(size >= 2 && data[0] == 0x1f && data[1] == 0x8b)) {
		if (fwd > size || (fwd && memcmp(forwarded, data, fwd) != 0))
			abort();
		if (status == SV_EXIT_VALID && fwd != size)
			abort();
	}
	if (kind == 0)
		check_text(text, text_len);
	else if (kind == 1)
		check_json_lines(text, text_len);
	else
		check_sarif(text, text_len, &sum);
	free(text);
	return 0;
}
