/*
 * Config files and baselines of the command line (cli_files.c): shared by
 * cli.c and the fuzz targets that read such files.  Not for format modules.
 */
#ifndef SV_CLI_FILES_H
#define SV_CLI_FILES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

#define MAX_RULES 256

/* "streamverify: " and the message, its %s arguments escaped, on stderr. */
void sv_cli_complain(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* The same; returns SV_EXIT_FAILURE. */
int sv_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Severity rules: --severity and config files; the last rule that matches wins. */
int sv_cli_add_rule(const char *arg, const char *where);
int sv_cli_effective_severity(const sv_code *c);
/* Every rule forgotten (a process that reads more than one config: the fuzz target). */
void sv_cli_rules_reset(void);
/* Read "severity PATTERN=LEVEL" lines; a missing file is no error unless must_exist. */
int sv_cli_read_config(const char *path, bool must_exist);
/* $XDG_CONFIG_HOME/streamverify/config, else ~/.config/streamverify/config; NULL: none. */
char *sv_cli_default_config_path(void);

/* A set of baseline keys (one line each), sorted and deduplicated when looked up. */
typedef struct keyset {
	char **keys;
	size_t n, cap;
	bool sorted;
} keyset;

int sv_keyset_add(keyset *k, char *key);
bool sv_keyset_has(keyset *k, const char *key);
void sv_keyset_free(keyset *k);
/* A finding's stable key: CODE, FILE, RECORD, TYPE; NULL when out of memory. */
char *sv_baseline_key(const sv_diag *d);
int sv_read_baseline(keyset *k, const char *path);
int sv_write_baseline(keyset *k, const char *path);

#endif
