/* Output sinks: human text and JSON Lines. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "streamverify.h"

/* ---- text -------------------------------------------------------------- */

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
	fputs(d->file, fp);
	if (d->offset != SV_NONE)
		fprintf(fp, ":0x%" PRIx64, d->offset);
	fprintf(fp, ":%s %s%s:%s ", colour ? "\033[0m" : "", colour ? sev_colour(d->severity) : "",
		sv_severity_name(d->severity), colour ? "\033[0m" : "");
	if (d->record != SV_NONE)
		fprintf(fp, "record %" PRIu64 "%s%s%s: ", d->record,
			d->record_type ? " (" : "", d->record_type ? d->record_type : "",
			d->record_type ? ")" : "");
	else if (d->record_type)
		fprintf(fp, "%s: ", d->record_type);
	fprintf(fp, "%s [%s]\n", d->message, d->code->id);
}

static void text_record(void *ctx, const sv_record_info *r)
{
	sv_output *o = ctx;

	fprintf(o->fp, "%s:0x%" PRIx64 ": record %" PRIu64 " %s, %" PRIu64 " bytes: %s\n",
		r->file, r->offset, r->record, r->record_type ? r->record_type : "?",
		r->length, r->summary);
}

static void text_stat(void *ctx, const sv_stat *s)
{
	sv_output *o = ctx;

	fprintf(o->fp, "%s: %s: %s\n", s->input, s->key, s->text);
}

static void plural(FILE *fp, unsigned long n, const char *what, bool *first)
{
	if (!n)
		return;
	fprintf(fp, "%s%lu %s%s", *first ? "" : ", ", n, what, n == 1 ? "" : "s");
	*first = false;
}

static void text_summary(void *ctx, const sv_summary *s)
{
	sv_output *o = ctx;
	FILE *fp = o->fp;
	bool first = true;

	if (o->flags & SV_OUT_QUIET)
		return;
	fprintf(fp, "%s: ", s->input);
	if (s->status == SV_EXIT_FAILURE)
		fputs("not verified (I/O error)", fp);
	else
		fputs(s->status == SV_EXIT_VALID ? "valid" : "INVALID", fp);
	if (s->format)
		fprintf(fp, " %s", s->format);
	/* A directory is read as files, not as one stream: no byte count. */
	if (s->bytes || !s->records)
		fprintf(fp, " (%" PRIu64 " records, %" PRIu64 " bytes", s->records, s->bytes);
	else
		fprintf(fp, " (%" PRIu64 " records", s->records);
	if (s->errors || s->warnings || s->notes) {
		fputs("; ", fp);
		plural(fp, s->errors, "error", &first);
		plural(fp, s->warnings, "warning", &first);
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

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
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

static void json_diag(void *ctx, const sv_diag *d)
{
	FILE *fp = ((sv_output *)ctx)->fp;

	json_head(fp, "diagnostic", d->input);
	json_str_or_null(fp, "file", d->file);
	json_u64_or_null(fp, "offset", d->offset);
	json_u64_or_null(fp, "record", d->record);
	json_str_or_null(fp, "record_type", d->record_type);
	fprintf(fp, ",\"severity\":\"%s\",\"code\":", sv_severity_name(d->severity));
	sv_json_string(fp, d->code->id);
	json_str_or_null(fp, "message", d->message);
	fputs("}\n", fp);
}

static void json_record(void *ctx, const sv_record_info *r)
{
	FILE *fp = ((sv_output *)ctx)->fp;

	json_head(fp, "record", r->input);
	json_str_or_null(fp, "file", r->file);
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
	FILE *fp = ((sv_output *)ctx)->fp;
	static const char *const verdict[] = { "valid", "invalid", "error" };

	json_head(fp, "summary", s->input);
	json_str_or_null(fp, "format", s->format);
	fprintf(fp, ",\"verdict\":\"%s\",\"exit\":%d,\"errors\":%lu,\"warnings\":%lu,\"notes\":%lu,"
		"\"records\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"stopped\":%s}\n",
		verdict[s->status], s->status, s->errors, s->warnings, s->notes,
		s->records, s->bytes, s->stopped ? "true" : "false");
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
