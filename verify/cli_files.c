/*
 * The files the command line reads and writes besides its inputs: config
 * files (severity rules) and baselines.  Apart from sv_cli_main (cli.c),
 * only the fuzz targets call these, which is why they are not static there.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_files.h"

/* ---- messages ---------------------------------------------------------------- */

/* "streamverify: " and a message whose %s arguments are shown escaped. */
void sv_cli_complain(const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fputs("streamverify: ", stderr);
	sv_text_string(stderr, buf);
	fputc('\n', stderr);
}

int sv_cli_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sv_cli_complain(fmt, ap);
	va_end(ap);
	return SV_EXIT_FAILURE;
}

/* ---- severities (--severity, config files) ------------------------------------ */

typedef struct sev_rule {
	char pattern[128]; /* a code, "PREFIX." (from PREFIX.*), or "" (from *) */
	bool prefix;
	int severity;      /* SV_NOTE..SV_ERROR or SV_DROP */
} sev_rule;

static sev_rule rules[MAX_RULES];
static size_t nrules;

void sv_cli_rules_reset(void)
{
	nrules = 0;
}

static int level_of(const char *name)
{
	static const char *const names[] = { "note", "warning", "error" };

	for (int i = 0; i < 3; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return strcmp(name, "ignore") == 0 ? SV_DROP : -2;
}

static bool rule_matches(const sev_rule *r, const sv_code *c)
{
	if (r->prefix)
		return !sv_code_fixed(c) && strncmp(c->id, r->pattern, strlen(r->pattern)) == 0;
	return strcmp(c->id, r->pattern) == 0;
}

/* The severity of code c after every rule (the last that matches wins). */
int sv_cli_effective_severity(const sv_code *c)
{
	int sev = (int)c->severity;

	for (size_t i = 0; i < nrules; i++)
		if (rule_matches(&rules[i], c))
			sev = rules[i].severity;
	return sev;
}

/*
 * Add "PATTERN=LEVEL" (from where: "--severity" or "FILE:LINE").  Returns
 * 0, or prints why not and returns -1.
 */
int sv_cli_add_rule(const char *arg, const char *where)
{
	const char *eq = strrchr(arg, '=');
	sev_rule r = { "", false, 0 };
	size_t plen, matched = 0;

	if (!eq || eq == arg)
		return sv_cli_fail("%s: '%s' is not CODE=LEVEL", where, arg), -1;
	plen = (size_t)(eq - arg);
	r.severity = level_of(eq + 1);
	if (r.severity == -2)
		return sv_cli_fail("%s: '%s': the level is error, warning, note or ignore", where, arg), -1;
	if (plen >= sizeof(r.pattern))
		return sv_cli_fail("%s: '%s': no such code", where, arg), -1;
	memcpy(r.pattern, arg, plen);
	r.pattern[plen] = '\0';
	if (strcmp(r.pattern, "*") == 0) {
		r.pattern[0] = '\0';
		r.prefix = true;
	} else if (plen >= 2 && strcmp(r.pattern + plen - 2, ".*") == 0) {
		r.pattern[plen - 1] = '\0'; /* keep the dot: criu.dump.* is "criu.dump." */
		r.prefix = true;
	}
	for (size_t i = 0; i < sv_code_count(); i++) {
		const sv_code *c = sv_code_at(i);
		if (r.prefix ? strncmp(c->id, r.pattern, strlen(r.pattern)) == 0 :
			       strcmp(c->id, r.pattern) == 0) {
			matched++;
			if (!r.prefix && sv_code_fixed(c) && r.severity < (int)c->severity)
				return sv_cli_fail("%s: %s cannot be made %s: after it the rest of the input "
					    "cannot be read, so nothing after it would be checked",
					    where, c->id, r.severity == SV_DROP ? "ignored" :
					    sv_severity_name((sv_severity)r.severity)), -1;
		}
	}
	if (!matched)
		return sv_cli_fail("%s: no code %s '%s' (see --list-codes)", where,
			    r.prefix ? "starts with" : "is", r.pattern), -1;
	if (nrules == MAX_RULES)
		return sv_cli_fail("%s: more than %d severity rules", where, MAX_RULES), -1;
	rules[nrules++] = r;
	return 0;
}

/*
 * A config file: one setting per line, "severity PATTERN=LEVEL" (as the
 * option, without its dashes); blank lines and lines starting with # are
 * skipped.  A missing default file is no error.
 */
int sv_cli_read_config(const char *path, bool must_exist)
{
	FILE *fp = fopen(path, "r");
	char line[1024], where[4200];
	unsigned lineno = 0;

	if (!fp) {
		if (!must_exist && errno == ENOENT)
			return 0;
		return sv_cli_fail("cannot read the config file %s: %s", path, strerror(errno)), -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *p = line, *end;
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (!strchr(line, '\n') && !feof(fp)) {
			fclose(fp);
			return sv_cli_fail("%s: line too long", where), -1;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*p || *p == '#')
			continue;
		if (strncmp(p, "severity", 8) != 0 || (p[8] != ' ' && p[8] != '\t')) {
			fclose(fp);
			return sv_cli_fail("%s: unknown setting '%s' (only 'severity CODE=LEVEL')", where, p), -1;
		}
		p += 8;
		while (*p == ' ' || *p == '\t')
			p++;
		if (sv_cli_add_rule(p, where) != 0) {
			fclose(fp);
			return -1;
		}
	}
	fclose(fp);
	return 0;
}

/* $XDG_CONFIG_HOME/streamverify/config, else ~/.config/streamverify/config; NULL: none. */
char *sv_cli_default_config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *path = NULL;

	if (xdg && *xdg == '/') {
		if (asprintf(&path, "%s/streamverify/config", xdg) < 0)
			return NULL;
	} else if (home && *home) {
		if (asprintf(&path, "%s/.config/streamverify/config", home) < 0)
			return NULL;
	}
	return path;
}

/* ---- baselines ------------------------------------------------------------------ */

/*
 * A finding's stable key: CODE, FILE, RECORD, TYPE separated by tabs, with
 * FILE relative to the input (the input's own last component when the
 * finding is about the input itself), RECORD the index or "-", TYPE the
 * record type or "-".  Names are escaped as in text output, so a key is
 * one line.  Offsets are left out: they shift when anything before changes.
 */
/* Where FILE of a key starts, and its length (see baseline_key). */
static const char *key_file(const sv_diag *d, size_t *len)
{
	const char *file = d->file, *input = d->input, *p;
	size_t ilen = strlen(input);

	while (ilen > 1 && input[ilen - 1] == '/')
		ilen--;
	if (strncmp(file, input, ilen) == 0 && file[ilen] == '/' && strcmp(file, input) != 0) {
		for (p = file + ilen; *p == '/'; p++)
			;
		*len = strlen(p);
		return p;
	}
	if (strcmp(file, input) == 0) {
		/* The input itself: its last component, as it may be named differently next time. */
		for (p = input + ilen; p > input && p[-1] != '/'; p--)
			;
		*len = (size_t)(input + ilen - p);
		return p;
	}
	*len = strlen(file);
	return file;
}

/*
 * A finding's stable key: CODE, FILE, RECORD, TYPE separated by tabs, with
 * FILE relative to the input (the input's own last component when the
 * finding is about the input itself), RECORD the index or "-", TYPE the
 * record type or "-".  Names are escaped as in text output, so a key is
 * one line.  Offsets are left out: they shift when anything before changes.
 */
char *sv_baseline_key(const sv_diag *d)
{
	char *buf = NULL, *file;
	size_t len = 0, flen;
	const char *fstart = key_file(d, &flen);
	FILE *fp;

	if (!(file = strndup(fstart, flen)))
		return NULL;
	if (!(fp = open_memstream(&buf, &len))) {
		free(file);
		return NULL;
	}
	fprintf(fp, "%s\t", d->code->id);
	sv_text_string(fp, file);
	free(file);
	if (d->record != SV_NONE)
		fprintf(fp, "\t%" PRIu64 "\t", d->record);
	else
		fputs("\t-\t", fp);
	sv_text_string(fp, d->record_type ? d->record_type : "-");
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int sv_keyset_add(keyset *k, char *key)
{
	if (!key)
		return -1;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		char **p = realloc(k->keys, cap * sizeof(*p));
		if (!p) {
			free(key);
			return -1;
		}
		k->keys = p;
		k->cap = cap;
	}
	k->keys[k->n++] = key;
	k->sorted = false;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void keyset_sort(keyset *k)
{
	size_t out = 0;

	/* an empty set has no array: qsort must not be given NULL */
	if (k->n)
		qsort(k->keys, k->n, sizeof(*k->keys), cmp_str);
	for (size_t i = 0; i < k->n; i++) {
		if (out && strcmp(k->keys[out - 1], k->keys[i]) == 0)
			free(k->keys[i]);
		else
			k->keys[out++] = k->keys[i];
	}
	k->n = out;
	k->sorted = true;
}

bool sv_keyset_has(keyset *k, const char *key)
{
	if (!k->sorted)
		keyset_sort(k);
	return k->n && bsearch(&key, k->keys, k->n, sizeof(*k->keys), cmp_str) != NULL;
}

void sv_keyset_free(keyset *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->keys[i]);
	free(k->keys);
	memset(k, 0, sizeof(*k));
}

#define BASELINE_HEAD "# streamverify baseline 1"

int sv_read_baseline(keyset *k, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;

	if (!fp)
		return sv_cli_fail("cannot read the baseline %s: %s", path, strerror(errno)), -1;
	while ((n = getline(&line, &cap, fp)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (lineno == 1 && strncmp(line, BASELINE_HEAD, strlen(BASELINE_HEAD)) != 0) {
			free(line);
			fclose(fp);
			return sv_cli_fail("%s: not a baseline written by --write-baseline", path), -1;
		}
		if (!*line || *line == '#')
			continue;
		if (sv_keyset_add(k, strdup(line)) != 0) {
			free(line);
			fclose(fp);
			return sv_cli_fail("out of memory reading %s", path), -1;
		}
	}
	free(line);
	fclose(fp);
	if (lineno == 0)
		return sv_cli_fail("%s: empty file, not a baseline", path), -1;
	return 0;
}

int sv_write_baseline(keyset *k, const char *path)
{
	char *tmp = NULL;
	int fd;
	FILE *fp;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return sv_cli_fail("out of memory"), -1;
	fd = mkstemp(tmp);
	if (fd < 0 || !(fp = fdopen(fd, "w"))) {
		sv_cli_fail("cannot write the baseline %s: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return -1;
	}
	keyset_sort(k);
	fprintf(fp, BASELINE_HEAD ": CODE, FILE, RECORD, RECORD TYPE; "
		"streamverify --baseline reports these as notes\n");
	for (size_t i = 0; i < k->n; i++)
		fprintf(fp, "%s\n", k->keys[i]);
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		sv_cli_fail("cannot write the baseline %s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}
