/* Output sinks: human text and JSON Lines. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- text -------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n);

/* True for code points a terminal acts on or that reorder text: C1 controls, bidi controls. */
static bool unsafe_code_point(const unsigned char *p, size_t len)
{
	uint32_t cp;

	if (len == 2) {
		cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
		return cp >= 0x80 && cp <= 0x9f;
	}
	if (len == 3) {
		cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
		return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
		       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
	}
	return false;
}

void sv_text_string(void *out, const char *str)
{
	FILE *fp = out;
	const unsigned char *p = (const unsigned char *)str;
	size_t n = strlen(str);

	while (n) {
		size_t len = utf8_len(p, n);
		if (len == 0 || *p < 0x20 || *p == 0x7f || unsafe_code_point(p, len)) {
			/* Every octet of it visible, never acted on. */
			if (len == 0)
				len = 1;
			for (size_t i = 0; i < len; i++)
				fprintf(fp, "\\x%02x", p[i]);
		} else {
			fwrite(p, 1, len, fp);
		}
		p += len;
		n -= len;
	}
}

static const char *sev_colour(sv_severity s)
{
	switch (s) {
	case SV_ERROR:
		return "\033[1;31m";
	case SV_WARNING:
		return "\033[1;35m";
	case SV_NOTE:
		return "\033[1;36m";
	}
	return "";
}

static void text_diag(void *ctx, const sv_diag *d)
{
	sv_output *o = ctx;
	FILE *fp = o->fp;
	bool colour = o->flags & SV_OUT_COLOR;

	if ((o->flags & SV_OUT_QUIET) && d->severity != SV_ERROR)
		return;
	fputs(colour ? "\033[1m" : "", fp);
	sv_text_string(fp, d->file);
	if (d->offset != SV_NONE)
		fprintf(fp, ":0x%" PRIx64, d->offset);
	fprintf(fp, ":%s %s%s:%s ", colour ? "\033[0m" : "", colour ? sev_colour(d->severity) : "",
		sv_severity_name(d->severity), colour ? "\033[0m" : "");
	if (d->record != SV_NONE) {
		fprintf(fp, "record %" PRIu64, d->record);
		if (d->record_type) {
			fputs(" (", fp);
			sv_text_string(fp, d->record_type);
			fputc(')', fp);
		}
		fputs(": ", fp);
	} else if (d->record_type) {
		sv_text_string(fp, d->record_type);
		fputs(": ", fp);
	}
	sv_text_string(fp, d->message);
	/* As GCC writes [-Werror=...]: the code, and why its severity is not its own. */
	fprintf(fp, " [%s%s]\n", d->adjusted & SV_ADJ_PROMOTED ? "--werror=" : "", d->code->id);
}

static void text_record(void *ctx, const sv_record_info *r)
{
	sv_output *o = ctx;
	FILE *fp = o->fp;

	sv_text_string(fp, r->file);
	fprintf(fp, ":0x%" PRIx64 ": record %" PRIu64 " ", r->offset, r->record);
	sv_text_string(fp, r->record_type ? r->record_type : "?");
	fprintf(fp, ", %" PRIu64 " byte%s: ", r->length, r->length == 1 ? "" : "s");
	sv_text_string(fp, r->summary);
	fputc('\n', fp);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/*
 * Units of numeric figures, by the key's ending (module.h): byte counts get
 * "bytes" and a human size, durations in microseconds "µs" and seconds.
 */
static void stat_unit(FILE *fp, const sv_stat *s)
{
	char human[32];

	if (ends_with(s->key, "bytes") || ends_with(s->key, "_length") ||
	    strstr(s->key, ".bytes.") || strncmp(s->key, "bytes.", 6) == 0) {
		fprintf(fp, " byte%s", s->number == 1 ? "" : "s");
		if (s->number >= 1024) {
			sv_human_size(human, sizeof(human), s->number);
			fprintf(fp, " = %s", human);
		}
	} else if (ends_with(s->key, "_time") || ends_with(s->key, "_us")) {
		fputs(" \xc2\xb5s", fp); /* µs */
		if (s->number >= 1000)
			fprintf(fp, " = %.3f s", (double)s->number / 1e6);
	}
}

static void text_stat(void *ctx, const sv_stat *s)
{
	sv_output *o = ctx;
	FILE *fp = o->fp;

	sv_text_string(fp, s->input);
	fputs(": ", fp);
	sv_text_string(fp, s->key);
	fputs(": ", fp);
	sv_text_string(fp, s->text);
	if (s->is_number)
		stat_unit(fp, s);
	fputc('\n', fp);
}

static void plural(FILE *fp, uint64_t n, const char *what, bool *first)
{
	fprintf(fp, "%s%" PRIu64 " %s%s", *first ? "" : ", ", n, what, n == 1 ? "" : "s");
	*first = false;
}

/* "1.5 MiB": one decimal, binary units (bytes below 1 KiB are left alone). */
void sv_human_size(char *buf, size_t len, uint64_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " byte%s", n, n == 1 ? "" : "s");
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void text_summary(void *ctx, const sv_summary *s)
{
	sv_output *o = ctx;
	FILE *fp = o->fp;
	bool first = true;

	if (o->flags & SV_OUT_QUIET)
		return;
	sv_text_string(fp, s->input);
	fputs(": ", fp);
	if (s->not_checkpoint)
		fputs("not verified: not a checkpoint", fp);
	else if (s->status == SV_EXIT_FAILURE)
		fputs("not verified: I/O error", fp);
	else
		fputs(s->status == SV_EXIT_VALID ? "valid" : "INVALID", fp);
	if (s->format) {
		fputc(' ', fp);
		sv_text_string(fp, s->format);
	}
	fputs(" (", fp);
	if (s->status == SV_EXIT_FAILURE) {
		/* Nothing was verified: no figures, only what was said. */
	} else if (s->is_dir)
		plural(fp, s->files, "file", &first);
	if (s->status != SV_EXIT_FAILURE)
		plural(fp, s->records, "record", &first);
	if (s->bytes != SV_NONE && s->status != SV_EXIT_FAILURE) {
		char human[32];
		fprintf(fp, ", %" PRIu64 " byte%s", s->bytes, s->bytes == 1 ? "" : "s");
		if (s->bytes >= 1024) {
			sv_human_size(human, sizeof(human), s->bytes);
			fprintf(fp, " = %s", human);
		}
	}
	if (s->errors || s->warnings || s->notes) {
		fputs(first ? "" : "; ", fp);
		first = true;
		if (s->errors)
			plural(fp, s->errors, "error", &first);
		if (s->warnings)
			plural(fp, s->warnings, "warning", &first);
		if (s->notes)
			plural(fp, s->notes, "note", &first);
	}
	fputs(s->stopped ? "; stopped early at --max-errors)\n" : ")\n", fp);
}

void sv_sink_text(sv_sink *sink, sv_output *out)
{
	memset(sink, 0, sizeof(*sink));
	sink->ctx = out;
	sink->diag = text_diag;
	sink->summary = text_summary;
	if (out->flags & SV_OUT_VERBOSE) {
		sink->record = text_record;
		sink->stat = text_stat;
	}
}

/* ---- JSON Lines -------------------------------------------------------- */

static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void sv_json_string(void *out, const char *str)
{
	FILE *fp = out;
	const unsigned char *p = (const unsigned char *)str;
	size_t n = strlen(str);

	putc('"', fp);
	while (n) {
		size_t len = utf8_len(p, n);
		if (len == 0) {
			/* A stray byte: keep it visible as U+00XX rather than emit bad JSON. */
			fprintf(fp, "\\u%04x", *p);
			len = 1;
		} else if (*p == '"' || *p == '\\') {
			putc('\\', fp);
			putc(*p, fp);
		} else if (*p == '\n') {
			fputs("\\n", fp);
		} else if (*p == '\t') {
			fputs("\\t", fp);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(fp, "\\u%04x", *p);
		} else {
			fwrite(p, 1, len, fp);
		}
		p += len;
		n -= len;
	}
	putc('"', fp);
}

static void json_u64_or_null(FILE *fp, const char *key, uint64_t v)
{
	fprintf(fp, ",\"%s\":", key);
	if (v == SV_NONE)
		fputs("null", fp);
	else
		fprintf(fp, "%" PRIu64, v);
}

static void json_str_or_null(FILE *fp, const char *key, const char *v)
{
	fprintf(fp, ",\"%s\":", key);
	if (v)
		sv_json_string(fp, v);
	else
		fputs("null", fp);
}

static void json_head(FILE *fp, const char *type, const char *input)
{
	fprintf(fp, "{\"type\":\"%s\",\"input\":", type);
	sv_json_string(fp, input);
}

/*
 * The file of a finding as JSON names it: a member of an archive input
 * ("ckpt.tar.zst:checkpoint/core-1.img" in text) by its path inside the
 * archive, the archive being the input; any other file as it is.
 */
static const char *json_file(const char *input, const char *file)
{
	size_t n;

	if (!input || !file)
		return file;
	n = strlen(input);
	return strncmp(file, input, n) == 0 && file[n] == ':' && file[n + 1] ? file + n + 1 : file;
}

static void json_diag(void *ctx, const sv_diag *d)
{
	sv_output *o = ctx;
	FILE *fp = o->fp;

	if ((o->flags & SV_OUT_QUIET) && d->severity != SV_ERROR)
		return;
	json_head(fp, "diagnostic", d->input);
	json_str_or_null(fp, "file", json_file(d->input, d->file));
	json_u64_or_null(fp, "offset", d->offset);
	json_u64_or_null(fp, "record", d->record);
	json_str_or_null(fp, "record_type", d->record_type);
	fprintf(fp, ",\"severity\":\"%s\",\"code\":", sv_severity_name(d->severity));
	sv_json_string(fp, d->code->id);
	json_str_or_null(fp, "message", d->message);
	if (d->severity != d->code_severity)
		fprintf(fp, ",\"code_severity\":\"%s\"", sv_severity_name(d->code_severity));
	fputs("}\n", fp);
}

static void json_record(void *ctx, const sv_record_info *r)
{
	FILE *fp = ((sv_output *)ctx)->fp;

	json_head(fp, "record", r->input);
	json_str_or_null(fp, "file", json_file(r->input, r->file));
	json_u64_or_null(fp, "offset", r->offset);
	json_u64_or_null(fp, "record", r->record);
	json_str_or_null(fp, "record_type", r->record_type);
	json_u64_or_null(fp, "length", r->length);
	json_str_or_null(fp, "summary", r->summary);
	fputs("}\n", fp);
}

static void json_stat(void *ctx, const sv_stat *s)
{
	FILE *fp = ((sv_output *)ctx)->fp;

	json_head(fp, "stat", s->input);
	json_str_or_null(fp, "key", s->key);
	if (s->is_number)
		fprintf(fp, ",\"value\":%" PRIu64 "}\n", s->number);
	else {
		json_str_or_null(fp, "value", s->text);
		fputs("}\n", fp);
	}
}

static void json_summary(void *ctx, const sv_summary *s)
{
	sv_output *o = ctx;
	FILE *fp = o->fp;
	static const char *const verdict[] = { "valid", "invalid", "error" };

	if (o->flags & SV_OUT_QUIET)
		return;
	json_head(fp, "summary", s->input);
	fprintf(fp, ",\"schema_version\":%d", SV_JSONL_SCHEMA_VERSION);
	json_str_or_null(fp, "format", s->format);
	fprintf(fp, ",\"verdict\":\"%s\",\"exit\":%d,\"errors\":%lu,\"warnings\":%lu,\"notes\":%lu,"
		"\"records\":%" PRIu64,
		s->not_checkpoint ? "unrecognised" : verdict[s->status], s->status, s->errors,
		s->warnings, s->notes, s->records);
	json_u64_or_null(fp, "bytes", s->bytes);
	json_u64_or_null(fp, "files", s->is_dir ? s->files : SV_NONE);
	fprintf(fp, ",\"stopped\":%s}\n", s->stopped ? "true" : "false");
}

void sv_sink_json(sv_sink *sink, sv_output *out)
{
	memset(sink, 0, sizeof(*sink));
	sink->ctx = out;
	sink->diag = json_diag;
	sink->summary = json_summary;
	if (out->flags & SV_OUT_VERBOSE) {
		sink->record = json_record;
		sink->stat = json_stat;
	}
}

/* ---- SARIF 2.1.0 --------------------------------------------------------- */

static const char *sarif_level(sv_severity s)
{
	return s == SV_ERROR ? "error" : s == SV_WARNING ? "warning" : "note";
}

/*
 * A path as a URI: an absolute path as file:///..., a relative one as a
 * relative reference; unreserved octets and '/' as they are, the rest %XX.
 */
static void sarif_uri(FILE *fp, const char *path)
{
	fputs(path[0] == '/' ? "\"file://" : "\"", fp);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
			putc(*p, fp);
		else
			fprintf(fp, "%%%02X", *p);
	}
	putc('"', fp);
}

static void sarif_result(void *ctx, const sv_diag *d)
{
	sv_output *o = ctx;
	FILE *fp = o->fp;
	size_t index = 0;

	if ((o->flags & SV_OUT_QUIET) && d->severity != SV_ERROR)
		return;
	while (index < sv_code_count() && sv_code_at(index) != d->code)
		index++;
	fputs(o->nresults++ ? ",\n" : "\n", fp);
	fputs("{\"ruleId\":", fp);
	sv_json_string(fp, d->code->id);
	if (index < sv_code_count())
		fprintf(fp, ",\"ruleIndex\":%zu", index);
	fprintf(fp, ",\"level\":\"%s\",\"message\":{\"text\":", sarif_level(d->severity));
	sv_json_string(fp, d->message);
	fputs("},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":", fp);
	sarif_uri(fp, d->file);
	fputs("}", fp);
	if (d->offset != SV_NONE)
		fprintf(fp, ",\"region\":{\"byteOffset\":%" PRIu64 "}", d->offset);
	fputs("}", fp);
	if (d->record != SV_NONE || d->record_type) {
		char name[64];
		if (d->record != SV_NONE)
			snprintf(name, sizeof(name), "record %" PRIu64, d->record);
		else
			snprintf(name, sizeof(name), "record");
		fputs(",\"logicalLocations\":[{\"name\":", fp);
		sv_json_string(fp, name);
		if (d->record_type) {
			fputs(",\"decoratedName\":", fp);
			sv_json_string(fp, d->record_type);
		}
		fputs(",\"kind\":\"object\"}]", fp);
	}
	fputs("}]", fp);
	if (d->severity != d->code_severity)
		fprintf(fp, ",\"properties\":{\"codeSeverity\":\"%s\"}", sv_severity_name(d->code_severity));
	fputs("}", fp);
}

static void sarif_summary(void *ctx, const sv_summary *s)
{
	sv_output *o = ctx;

	if (s->status > o->status)
		o->status = s->status;
}

void sv_sink_sarif(sv_sink *sink, sv_output *out)
{
	FILE *fp = out->fp;

	memset(sink, 0, sizeof(*sink));
	sink->ctx = out;
	sink->diag = sarif_result;
	sink->summary = sarif_summary;
	out->nresults = 0;
	out->status = SV_EXIT_VALID;
	fputs("{\"$schema\":\"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
	      "sarif-schema-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{"
	      "\"name\":\"streamverify\",\"version\":\"" SV_VERSION "\",\"rules\":[", fp);
	for (size_t i = 0; i < sv_code_count(); i++) {
		const sv_code *c = sv_code_at(i);
		fputs(i ? ",\n{\"id\":" : "\n{\"id\":", fp);
		sv_json_string(fp, c->id);
		fputs(",\"shortDescription\":{\"text\":", fp);
		sv_json_string(fp, c->summary);
		fprintf(fp, "},\"defaultConfiguration\":{\"level\":\"%s\"}}", sarif_level(c->severity));
	}
	fputs("]}},\"columnKind\":\"unicodeCodePoints\",\"results\":[", fp);
}

void sv_sarif_finish(sv_output *out)
{
	fprintf(out->fp, "],\n\"invocations\":[{\"executionSuccessful\":%s,\"exitCode\":%d}]}]}\n",
		out->status == SV_EXIT_FAILURE ? "false" : "true", out->status);
}
