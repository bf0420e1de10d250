/*
 * The files the command line reads besides its inputs, fed with any bytes:
 * a config file (--config: severity rules) and a baseline (--baseline),
 * through the same functions sv_cli_main calls (verify/cli_files.c).
 *
 * Checked on every input: each code's severity after the rules is a level
 * or "ignore"; a baseline that reads back holds each of its keys, and
 * written (--write-baseline) and read again it is the same set.  The input
 * is also cut at its NULs into the names of a finding (input, file, record
 * type), whose baseline key must be one line of exactly four fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_files.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char written[96];

static void remove_written(void)
{
	unlink(written);
}

static void check_config(const char *path)
{
	sv_cli_rules_reset();
	sv_cli_read_config(path, true);
	for (size_t i = 0; i < sv_code_count(); i++) {
		const sv_code *c = sv_code_at(i);
		int sev = sv_cli_effective_severity(c);
		if (sev != SV_DROP && (sev < (int)SV_NOTE || sev > (int)SV_ERROR))
			abort();
		/* fixed codes are never lowered, by the file or anything else */
		if (sv_code_fixed(c) && (sev == SV_DROP || sev < (int)c->severity))
			abort();
	}
}

static void check_baseline(const char *path)
{
	keyset read = { 0 }, again = { 0 };

	if (sv_read_baseline(&read, path) != 0) {
		sv_keyset_free(&read);
		return;
	}
	sv_keyset_has(&read, ""); /* sorts and drops repeated keys */
	for (size_t i = 0; i < read.n; i++)
		if (!sv_keyset_has(&read, read.keys[i]))
			abort();
	if (sv_write_baseline(&read, written) != 0 || sv_read_baseline(&again, written) != 0)
		abort();
	sv_keyset_has(&again, "");
	if (again.n != read.n)
		abort();
	for (size_t i = 0; i < read.n; i++)
		if (strcmp(read.keys[i], again.keys[i]) != 0)
			abort();
	sv_keyset_free(&read);
	sv_keyset_free(&again);
}

/* A finding named by the input: { u8 code, input NUL file NUL record type }. */
static void check_key(const uint8_t *data, size_t size)
{
	char *names, *file, *type;
	sv_diag d = { 0 };
	char *key;
	size_t tabs = 0;

	if (size < 1)
		return;
	names = malloc(size + 2); /* room for the two NULs a short input lacks */
	if (!names)
		abort();
	memcpy(names, data + 1, size - 1);
	names[size - 1] = names[size] = names[size + 1] = '\0';
	file = names + strlen(names) + 1;
	type = file + strlen(file) + 1;
	if (type > names + size + 1)
		type = names + size + 1;
	d.code = sv_code_at(data[0] % sv_code_count());
	d.severity = d.code->severity;
	d.input = names;
	d.file = *file ? file : names;
	d.record = data[0] & 1 ? SV_NONE : data[0];
	d.record_type = *type ? type : NULL;
	d.offset = SV_NONE;
	d.message = "";
	key = sv_baseline_key(&d);
	if (!key)
		abort();
	for (const char *p = key; *p; p++) {
		if (*p == '\n')
			abort();
		tabs += *p == '\t';
	}
	if (tabs != 3)
		abort();
	free(key);
	free(names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;

	if (!written[0]) {
		snprintf(written, sizeof(written), "%s/sv-fuzz-baseline-%d",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
		/*
		 * What the readers say about bad files goes to stderr; libFuzzer
		 * and the sanitizers keep the descriptor (they write to fd 2).
		 */
		stderr = fopen("/dev/null", "w");
		if (!stderr)
			abort();
		atexit(remove_written);
	}
	path = fuzz_memfd_path(data, size);
	check_config(path);
	check_baseline(path);
	check_key(data, size);
	return 0;
}
