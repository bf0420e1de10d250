/*
 * The verification run: choosing a module, the record context, counting
 * findings and handing them to the sink.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "members.h"

const sv_code sv_core_codes[SV_CORE_NCODES] = { SV_CORE_CODES(SV_CODE_ROW) };

struct sv_ctx {
	const sv_options *opt;
	const sv_sink *sink;
	const char *input;       /* display name of the input */
	const char *file;        /* file reports refer to; NULL: the input */
	uint64_t rec_index;
	const char *rec_type;
	unsigned long counts[3]; /* by severity */
	uint64_t records;
	bool io_failed;
	bool stopped;
	sv_stream *tee;          /* the input, when --tee forwards it */
	/* Progress and directory figures. */
	unsigned nested;         /* depth of sv_verify_nested() calls */
	sv_stream *top;          /* the input's stream (NULL for a directory) */
	uint64_t total;          /* its size when known, else SV_NONE */
	uint64_t files;          /* files of a directory read and closed */
	uint64_t file_bytes;     /* ... and their bytes */
	struct timespec last_progress;
};

/* ---- registry ---------------------------------------------------------- */

#define EXTRA_FORMATS 8
static const sv_format *extra_formats[EXTRA_FORMATS];
static size_t extra_count;

bool sv_register_format(const sv_format *f)
{
	if (extra_count == EXTRA_FORMATS)
		return false;
	extra_formats[extra_count++] = f;
	return true;
}

size_t sv_all_format_count(void)
{
	return sv_registry_count + extra_count;
}

const sv_format *sv_all_format_at(size_t i)
{
	return i < sv_registry_count ? sv_registry[i] : extra_formats[i - sv_registry_count];
}

size_t sv_format_count(void)
{
	return sv_all_format_count();
}

const char *sv_format_name(size_t i)
{
	return i < sv_all_format_count() ? sv_all_format_at(i)->name : NULL;
}

const char *sv_format_description(size_t i)
{
	return i < sv_all_format_count() ? sv_all_format_at(i)->description : NULL;
}

long sv_format_index(const char *name)
{
	for (size_t i = 0; i < sv_all_format_count(); i++)
		if (strcasecmp(sv_all_format_at(i)->name, name) == 0)
			return (long)i;
	return -1;
}

const sv_format *sv_format_find(const char *name)
{
	long i = sv_format_index(name);
	return i < 0 ? NULL : sv_all_format_at((size_t)i);
}

size_t sv_code_count(void)
{
	size_t n = SV_CORE_NCODES;
	for (size_t i = 0; i < sv_all_format_count(); i++)
		n += sv_all_format_at(i)->ncodes;
	return n;
}

const sv_code *sv_code_at(size_t i)
{
	if (i < SV_CORE_NCODES)
		return &sv_core_codes[i];
	i -= SV_CORE_NCODES;
	for (size_t f = 0; f < sv_all_format_count(); f++) {
		const sv_format *fmt = sv_all_format_at(f);
		if (i < fmt->ncodes)
			return &fmt->codes[i];
		i -= fmt->ncodes;
	}
	return NULL;
}

const sv_code *sv_code_find(const char *id)
{
	for (size_t i = 0; i < sv_code_count(); i++)
		if (strcmp(sv_code_at(i)->id, id) == 0)
			return sv_code_at(i);
	return NULL;
}

int sv_code_fixed(const sv_code *c)
{
	return c == &sv_core_codes[SV_CORE_TRUNCATED] || c == &sv_core_codes[SV_CORE_IO] ||
	       c == &sv_core_codes[SV_CORE_NOT_REGULAR] || c == &sv_core_codes[SV_CORE_GZIP] ||
	       c == &sv_core_codes[SV_CORE_GZIP_TRUNCATED];
}

const char *sv_severity_name(sv_severity s)
{
	switch (s) {
	case SV_NOTE:
		return "note";
	case SV_WARNING:
		return "warning";
	case SV_ERROR:
		return "error";
	}
	return "?";
}

/* ---- nested streams and parameters -------------------------------------- */

/* The enclosing stream and how much of the nested range is left. */
typedef struct nested_range {
	sv_stream *outer;
	uint64_t left;
} nested_range;

static ssize_t nested_read(void *arg, void *buf, size_t n)
{
	nested_range *r = arg;
	size_t want = n < r->left ? n : (size_t)r->left;
	size_t got = want ? sv_read(r->outer, buf, want) : 0;

	r->left -= got;
	return (ssize_t)got;
}

static int64_t nested_skip(void *arg, uint64_t n)
{
	nested_range *r = arg;
	uint64_t got = sv_skip(r->outer, n < r->left ? n : r->left);

	r->left -= got;
	return (int64_t)got;
}

uint64_t sv_verify_nested(sv_ctx *cx, sv_stream *in, uint64_t len,
			  const sv_format *f)
{
	nested_range r = { in, len };
	sv_source src = { nested_read, nested_skip, &r, len };
	uint64_t rec_index = cx->rec_index;
	const char *rec_type = cx->rec_type;
	sv_stream *s;

	if (!f->verify)
		return sv_skip(in, len);
	s = sv_stream_open_source(cx, &src, sv_stream_name(in), sv_offset(in), SV_OPEN_RAW);
	if (!s) {
		sv_report(cx, &sv_core_codes[SV_CORE_IO], sv_offset(in),
			  "out of memory: the nested %s stream is not verified", f->name);
		sv_ctx_io_failed(cx);
		return sv_skip(in, len);
	}
	sv_record_none(cx);
	cx->nested++;
	f->verify(cx, s);
	cx->nested--;
	sv_close(s);
	cx->rec_index = rec_index;
	cx->rec_type = rec_type;
	/* What the nested module left unread is passed over. */
	sv_skip(in, r.left);
	return len - r.left;
}

bool sv_is_nested(const sv_ctx *cx)
{
	return cx->nested > 0;
}

const char *sv_param(const sv_ctx *cx, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; cx->opt && i < cx->opt->nparams; i++) {
		const char *p = cx->opt->params[i];
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			return p + klen + 1;
	}
	return NULL;
}

/* ---- --tee ---------------------------------------------------------------- */

/* Errors that make a record invalid: warnings count too under --werror. */
static unsigned long invalidating(const sv_ctx *cx)
{
	return cx->counts[SV_ERROR] + (cx->opt->werror ? cx->counts[SV_WARNING] : 0);
}

void sv_record_begin(sv_ctx *cx, uint64_t index, const char *type, uint64_t start)
{
	sv_set_record(cx, index, type);
	sv_record_boundary(cx, start);
}

void sv_record_boundary(sv_ctx *cx, uint64_t start)
{
	/*
	 * Inside a nested stream the enclosing record is not verified yet
	 * (its padding, say, comes after): only top-level records count.
	 */
	if (!cx->tee || cx->nested || !sv_stream_tee_active(cx->tee))
		return;
	if (invalidating(cx))
		sv_stream_tee_cut(cx->tee);
	else
		sv_stream_tee_commit(cx->tee, start);
}

/* The end of the input: the last record goes out when nothing was wrong. */
static void tee_finish(sv_ctx *cx, sv_stream *s)
{
	if (!cx->tee || !sv_stream_tee_active(s))
		return;
	if (invalidating(cx) || cx->stopped || cx->io_failed) {
		sv_stream_tee_cut(s);
		return;
	}
	/* A valid input goes out whole, with any bytes its module left unread. */
	sv_stream_tee_commit(s, sv_offset(s));
	while (sv_stream_tee_active(s) && sv_skip(s, 1u << 20) > 0)
		sv_stream_tee_commit(s, sv_offset(s));
	sv_stream_tee_flush(s);
}

/* ---- reporting --------------------------------------------------------- */

void sv_set_record(sv_ctx *cx, uint64_t index, const char *type)
{
	cx->rec_index = index;
	cx->rec_type = type;
}

void sv_record_none(sv_ctx *cx)
{
	cx->rec_index = SV_NONE;
	cx->rec_type = NULL;
}

void sv_set_file(sv_ctx *cx, const char *file)
{
	cx->file = file;
}

const char *sv_get_file(const sv_ctx *cx)
{
	return cx->file;
}

static bool error_limit_reached(const sv_ctx *cx)
{
	return cx->opt->max_errors && cx->counts[SV_ERROR] >= cx->opt->max_errors;
}

/*
 * The severity a finding gets: the code's own, then options.adjust (never
 * lowering a fixed code), then werror.  False when it is dropped.
 */
static bool adjust_severity(const sv_ctx *cx, sv_diag *d)
{
	int sev;

	d->severity = d->code_severity = d->code->severity;
	d->adjusted = 0;
	if (cx->opt->adjust) {
		sev = cx->opt->adjust(cx->opt->adjust_arg, d);
		if (sv_code_fixed(d->code) && (sev < (int)d->code->severity))
			sev = d->code->severity;
		if (sev == SV_DROP)
			return false;
		if (sev >= SV_NOTE && sev <= SV_ERROR && sev != (int)d->severity) {
			d->severity = (sv_severity)sev;
			d->adjusted |= SV_ADJ_CHANGED;
		}
	}
	if (cx->opt->werror && d->severity == SV_WARNING) {
		d->severity = SV_ERROR;
		d->adjusted |= SV_ADJ_PROMOTED;
	}
	return true;
}

sv_loc sv_loc_here(const sv_ctx *cx, uint64_t offset)
{
	sv_loc loc = { cx->file, offset, cx->rec_index, cx->rec_type };
	return loc;
}

/* Every finding comes through here, with its location explicit. */
static void vreport_at(sv_ctx *cx, const sv_code *code, sv_loc loc, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void vreport_at(sv_ctx *cx, const sv_code *code, sv_loc loc, const char *fmt, va_list ap)
{
	char msg[1024];
	sv_diag d;

	/* Past --max-errors nothing more is said, not even notes. */
	if (error_limit_reached(cx))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	d.code = code;
	d.input = cx->input;
	d.file = loc.file ? loc.file : cx->input;
	d.offset = loc.offset;
	d.record = loc.record;
	d.record_type = loc.record_type;
	d.message = msg;
	if (!adjust_severity(cx, &d))
		return;
	cx->counts[d.severity]++;
	if (error_limit_reached(cx))
		cx->stopped = true;
	if (cx->sink && cx->sink->diag)
		cx->sink->diag(cx->sink->ctx, &d);
}

void sv_vreport(sv_ctx *cx, const sv_code *code, uint64_t offset,
		const char *fmt, va_list ap)
{
	vreport_at(cx, code, sv_loc_here(cx, offset), fmt, ap);
}

void sv_report_at(sv_ctx *cx, const sv_code *code, sv_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport_at(cx, code, loc, fmt, ap);
	va_end(ap);
}

void sv_report(sv_ctx *cx, const sv_code *code, uint64_t offset,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sv_vreport(cx, code, offset, fmt, ap);
	va_end(ap);
}

void sv_report_truncated(sv_ctx *cx, uint64_t off, uint64_t needed,
			 uint64_t got, const char *what)
{
	sv_report(cx, &sv_core_codes[SV_CORE_TRUNCATED], off,
		  "truncated: needed %llu bytes for %s, got %llu",
		  (unsigned long long)needed, what, (unsigned long long)got);
}

bool sv_stopped(const sv_ctx *cx)
{
	return cx->stopped;
}

unsigned long sv_error_count(const sv_ctx *cx)
{
	return cx->counts[SV_ERROR];
}

void sv_ctx_io_failed(sv_ctx *cx)
{
	cx->io_failed = true;
	cx->stopped = true;
}

/* Progress: at most about four calls a second (and a last one with done). */
static void progress(sv_ctx *cx, bool done)
{
	struct timespec now;
	sv_progress p;

	if (!cx->opt->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!done && (now.tv_sec - cx->last_progress.tv_sec) * 1000000000L +
			     (now.tv_nsec - cx->last_progress.tv_nsec) < 250000000L)
		return;
	cx->last_progress = now;
	p.input = cx->input;
	p.bytes = cx->top ? sv_offset(cx->top) : cx->file_bytes;
	p.total = cx->top ? cx->total : SV_NONE;
	p.records = cx->records;
	p.done = done;
	cx->opt->progress(cx->opt->progress_arg, &p);
}

void sv_count_record(sv_ctx *cx)
{
	cx->records++;
	/* The clock is looked at every 64 records only. */
	if ((cx->records & 63) == 0)
		progress(cx, false);
}

void sv_ctx_file_read(sv_ctx *cx, uint64_t bytes)
{
	cx->files++;
	cx->file_bytes += bytes;
	progress(cx, false);
}

bool sv_want_records(const sv_ctx *cx)
{
	return cx->sink && (cx->sink->record || cx->sink->stat);
}

void sv_emit_record(sv_ctx *cx, uint64_t index, const char *type,
		    uint64_t offset, uint64_t length, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	sv_record_info r;

	if (!cx->sink || !cx->sink->record)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r.input = cx->input;
	r.file = cx->file ? cx->file : cx->input;
	r.offset = offset;
	r.record = index;
	r.length = length;
	r.record_type = type;
	r.summary = text;
	cx->sink->record(cx->sink->ctx, &r);
}

static void emit_stat(sv_ctx *cx, const char *key, const char *text,
		      bool is_number, uint64_t number)
{
	sv_stat st = { cx->input, key, text, is_number, number };

	if (cx->sink && cx->sink->stat)
		cx->sink->stat(cx->sink->ctx, &st);
}

void sv_emit_stat(sv_ctx *cx, const char *key, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (!cx->sink || !cx->sink->stat)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit_stat(cx, key, text, false, 0);
}

void sv_emit_stat_u64(sv_ctx *cx, const char *key, uint64_t value)
{
	char text[32];

	if (!cx->sink || !cx->sink->stat)
		return;
	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	emit_stat(cx, key, text, true, value);
}

/* ---- the run ----------------------------------------------------------- */

static const char *last_component(const char *path)
{
	const char *end = path + strlen(path), *p;

	while (end > path + 1 && end[-1] == '/')
		end--;
	for (p = end; p > path && p[-1] != '/'; p--)
		;
	return p;
}

/* Can f do action on this kind of input? */
static bool can_do(const sv_format *f, sv_action action, bool is_dir)
{
	switch (action) {
	case SV_ACTION_VERIFY:
		return is_dir ? f->verify_dir != NULL || f->verify_members != NULL :
				f->verify != NULL;
	case SV_ACTION_DECODE:
		return !is_dir && f->convert && f->convert->decode;
	case SV_ACTION_ENCODE:
		return !is_dir && f->convert && f->convert->encode;
	case SV_ACTION_INFO:
		return !is_dir && f->convert && f->convert->info;
	}
	return false;
}

static const char *action_name(sv_action action)
{
	static const char *const names[] = { "verify", "decode", "encode", "describe" };
	return names[action];
}

/* The only module that can do action, or NULL when none or several can. */
static const sv_format *only_one_can(sv_action action)
{
	const sv_format *found = NULL;

	for (size_t i = 0; i < sv_all_format_count(); i++) {
		const sv_format *f = sv_all_format_at(i);
		if (!can_do(f, action, false))
			continue;
		if (found)
			return NULL;
		found = f;
	}
	return found;
}

/* The module with the highest bid; ties go to the earlier registration. */
static const sv_format *choose_by_bid(const sv_bid_input *in, sv_action action)
{
	const sv_format *best = NULL;
	int best_bid = 0;

	for (size_t i = 0; i < sv_all_format_count(); i++) {
		const sv_format *f = sv_all_format_at(i);
		int bid;
		if (!f->bid || !can_do(f, action, in->is_dir))
			continue;
		bid = f->bid(in);
		if (bid > best_bid) {
			best_bid = bid;
			best = f;
		}
	}
	return best;
}

/* ---- inputs nobody bids on ------------------------------------------------ */

/* A trial run: the first error and how far the module got. */
typedef struct trial {
	uint64_t first_error_offset;
	bool errored;
} trial;

static void trial_diag(void *ctx, const sv_diag *d)
{
	trial *t = ctx;

	if (d->severity == SV_ERROR && !t->errored) {
		t->errored = true;
		t->first_error_offset = d->offset == SV_NONE ? 0 : d->offset;
	}
}

/* A buffer in memory as a source (a library caller's, or the head of an input). */
typedef struct buffer_source {
	const unsigned char *p;
	size_t left;
} buffer_source;

static ssize_t buffer_read(void *arg, void *buf, size_t n)
{
	buffer_source *b = arg;
	if (n > b->left)
		n = b->left;
	if (n == 0)
		return 0; /* b->p may be NULL for an empty buffer */
	memcpy(buf, b->p, n);
	b->p += n;
	b->left -= n;
	return (ssize_t)n;
}

static int64_t buffer_skip(void *arg, uint64_t n)
{
	buffer_source *b = arg;
	if (n > b->left)
		n = b->left;
	b->p += n;
	b->left -= (size_t)n;
	return (int64_t)n;
}

/*
 * How far module f gets on the input, verifying silently (the first
 * SV_BID_BYTES of a stream, a directory whole, stopping at the first
 * error): 0 when it fails at once, more when it counts records or errs
 * only past offset 0.
 */
static uint64_t trial_progress(const sv_ctx *cx, const sv_format *f, const sv_bid_input *in,
			       const char *path)
{
	sv_options o = *cx->opt;
	trial t = { 0, false };
	sv_sink sink = { 0 };
	sv_ctx tc = { 0 };

	o.max_errors = 1;
	o.werror = 0;
	o.adjust = NULL;
	o.progress = NULL;
	sink.ctx = &t;
	sink.diag = trial_diag;
	tc.opt = &o;
	tc.sink = &sink;
	tc.input = cx->input;
	tc.total = SV_NONE;
	sv_record_none(&tc);
	if (in->is_dir) {
		int mfd = dup(in->dirfd);
		sv_members *m = NULL;
		if (mfd >= 0 && f->verify_members)
			m = sv_members_from_dirfd(&tc, mfd, path);
		if (m) {
			f->verify_members(&tc, m);
			sv_members_close(m);
		} else {
			if (mfd >= 0)
				close(mfd);
			if (f->verify_dir)
				f->verify_dir(&tc, in->dirfd, path);
		}
	} else {
		buffer_source h = { in->head, in->head_len };
		sv_source src = { buffer_read, NULL, &h, in->head_len };
		sv_stream *st = sv_stream_open_source(&tc, &src, cx->input, 0, SV_OPEN_RAW);
		if (!st)
			return 0;
		f->verify(&tc, st);
		sv_close(st);
	}
	/* A stream wrong from its first byte is not close, whatever it counted. */
	if (tc.io_failed || (!in->is_dir && t.errored && t.first_error_offset == 0))
		return 0;
	return tc.records ? UINT64_C(1) << 40 | tc.records :
	       t.errored ? t.first_error_offset : 0;
}

/* An octet as "0x41 ('A')", or "0x00" when it is no printable character. */
static void octet_text(char *buf, size_t len, unsigned char c)
{
	if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
		snprintf(buf, len, "0x%02x ('%c')", c, c);
	else
		snprintf(buf, len, "0x%02x", c);
}

/*
 * A stream one octet away from a format's magic: each of the first 16
 * octets is given every other value, and a module that then bids 90 or
 * more is the closest (a damaged ident, a flipped bit in a magic number).
 */
static const sv_format *one_octet_off(const sv_bid_input *in, char *why, size_t why_len)
{
	unsigned char buf[SV_BID_BYTES];
	sv_bid_input t = *in;
	size_t n = in->head_len < 16 ? in->head_len : 16;

	if (in->is_dir || in->head_len == 0)
		return NULL;
	memcpy(buf, in->head, in->head_len);
	t.head = buf;
	for (size_t i = 0; i < n; i++) {
		unsigned char orig = buf[i];
		for (unsigned v = 0; v < 256; v++) {
			if (v == orig)
				continue;
			buf[i] = (unsigned char)v;
			for (size_t k = 0; k < sv_all_format_count(); k++) {
				const sv_format *f = sv_all_format_at(k);
				char was[16], want[16];
				if (!f->bid || !can_do(f, SV_ACTION_VERIFY, false) || f->bid(&t) < 90)
					continue;
				octet_text(was, sizeof(was), orig);
				octet_text(want, sizeof(want), (unsigned char)v);
				snprintf(why, why_len, "%s, but for its octet at offset %zu: %s where %s has %s",
					 f->description, i, was, f->name, want);
				return f;
			}
		}
		buf[i] = orig;
	}
	return NULL;
}

/* The format the input comes closest to, or NULL; why says what it looks like. */
static const sv_format *closest_format(const sv_ctx *cx, const sv_bid_input *in,
				       const char *path, char *why, size_t why_len)
{
	const sv_format *best = NULL;
	int best_near = 0;
	uint64_t best_progress = 0;

	/* Modules that can say it themselves come first. */
	for (size_t i = 0; i < sv_all_format_count(); i++) {
		const sv_format *f = sv_all_format_at(i);
		char w[160] = "";
		int n;
		if (!f->near || !can_do(f, SV_ACTION_VERIFY, in->is_dir))
			continue;
		n = f->near(in, w, sizeof(w));
		if (n > best_near) {
			best_near = n;
			best = f;
			snprintf(why, why_len, "%s", w[0] ? w : f->description);
		}
	}
	if (best || (!in->is_dir && in->head_len == 0))
		return best;
	if ((best = one_octet_off(in, why, why_len)))
		return best;
	for (size_t i = 0; i < sv_all_format_count(); i++) {
		const sv_format *f = sv_all_format_at(i);
		uint64_t p;
		/* A module with its own near() has answered already. */
		if (f->near || !can_do(f, SV_ACTION_VERIFY, in->is_dir))
			continue;
		p = trial_progress(cx, f, in, path);
		if (p > best_progress) {
			best_progress = p;
			best = f;
		}
	}
	if (best)
		snprintf(why, why_len, "%s", best->description);
	return best;
}

/* What an input that is no checkpoint looks like, in a few words. */
static void describe_looks(const sv_bid_input *in, char *out, size_t len)
{
	const unsigned char *p = in->head;
	size_t n = in->head_len, shown = n < 16 ? n : 16;

	if (n >= 4 && memcmp(p, "\177ELF", 4) == 0)
		snprintf(out, len, "an ELF file");
	else if (n >= 262 && memcmp(p + 257, "ustar", 5) == 0)
		snprintf(out, len, "a tar archive");
	else if (n >= 6 && memcmp(p, "\3757zXZ\0", 6) == 0)
		snprintf(out, len, "xz-compressed data (decompress it first: only gzip is read)");
	else if (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
		snprintf(out, len, "zstd-compressed data (decompress it first: only gzip is read)");
	else if (n >= 3 && memcmp(p, "BZh", 3) == 0)
		snprintf(out, len, "bzip2-compressed data (decompress it first: only gzip is read)");
	else {
		/* Printable ASCII as it is (magic numbers are often text), the rest as \xNN. */
		size_t o = (size_t)snprintf(out, len, "data beginning \"");
		for (size_t i = 0; i < shown && o + 5 < len; i++) {
			if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
				out[o++] = (char)p[i];
			else
				o += (size_t)snprintf(out + o, len - o, "\\x%02x", p[i]);
		}
		snprintf(out + o, len - o, "\"%s", n > shown ? "..." : "");
	}
}

static void describe_unknown(sv_ctx *cx, const sv_bid_input *in)
{
	const sv_code *c = &sv_core_codes[SV_CORE_UNKNOWN];
	char looks[160];

	if (in->is_dir) {
		sv_report_at(cx, c, SV_LOC_INPUT,
			  "not a checkpoint: a directory that holds no image of a known format "
			  "(a CRIU dump has inventory.img)");
		return;
	}
	if (in->head_len == 0) {
		sv_report_at(cx, c, SV_LOC_INPUT, "not a checkpoint: the input is empty");
		return;
	}
	describe_looks(in, looks, sizeof(looks));
	sv_report_at(cx, c, SV_LOC_INPUT,
		  "not a checkpoint or migration stream of a known format: %s%s; "
		  "to verify it as one anyway, name it with --format (--list-formats)",
		  looks, in->gzip ? " (after gzip decompression)" : "");
}

static int status_of(const sv_ctx *cx)
{
	if (cx->io_failed)
		return SV_EXIT_FAILURE;
	if (cx->counts[SV_ERROR] || (cx->opt->werror && cx->counts[SV_WARNING]))
		return SV_EXIT_INVALID;
	return SV_EXIT_VALID;
}

/*
 * What a run reads: a path ("-": standard input), a descriptor the caller
 * keeps, or a source of callbacks (a buffer, the caller's read function).
 */
typedef struct run_input {
	const char *path;       /* as named in diagnostics */
	int fd;                 /* >= 0: the caller's descriptor */
	const sv_source *src;   /* non-NULL: read through it */
} run_input;

/* ---- archives (issue 23) ------------------------------------------------ */

/*
 * A tar archive, told from the bytes: the ustar magic at 257 (after the
 * core's gzip inflation), or the magic of a compressor libarchive inflates
 * (zstd, xz, bzip2), whose contents the archive reader then checks.
 */
static bool looks_like_archive(const unsigned char *h, size_t n)
{
	static const unsigned char zstd[] = { 0x28, 0xb5, 0x2f, 0xfd };
	static const unsigned char xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };

	if (n >= 262 && memcmp(h + 257, "ustar", 5) == 0)
		return true;
	if (n >= 4 && memcmp(h, zstd, 4) == 0)
		return true;
	if (n >= 6 && memcmp(h, xz, 6) == 0)
		return true;
	return n >= 4 && h[0] == 'B' && h[1] == 'Z' && h[2] == 'h' && h[3] >= '1' && h[3] <= '9';
}

static int run(const run_input *ri, sv_action action, unsigned flags, FILE *conv_out,
	       const sv_options *opt, const sv_sink *sink, sv_summary *out);

#define ARCHIVE_DIR_MAX 100000u /* entries of a kubelet checkpoints folder */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A folder of archives (the kubelet's /var/lib/kubelet/checkpoints): no CRIU
 * images, and regular files that are archives.  Returns how many archives
 * it found (their names in *names, sorted), 0 when it is not such a folder.
 */
static size_t archive_dir_entries(int dirfd, char ***names)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0, seen = 0;
	bool images = false;

	*names = NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(dir)) != NULL && seen++ < ARCHIVE_DIR_MAX) {
		size_t len = strlen(de->d_name);
		unsigned char head[512];
		struct stat st;
		int ffd;
		ssize_t got;

		if (len > 4 && strcmp(de->d_name + len - 4, ".img") == 0) {
			images = true;
			break;
		}
		if (de->d_name[0] == '.' || fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		ffd = openat(dirfd, de->d_name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
		if (ffd < 0)
			continue;
		got = read(ffd, head, sizeof(head));
		close(ffd);
		/* A gzip file is an archive when the core finds tar inside. */
		if (got < 4 || !(looks_like_archive(head, (size_t)got) ||
				 (head[0] == 0x1f && head[1] == 0x8b)))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **p = realloc(v, ncap * sizeof(*p));
			if (!p)
				break;
			v = p;
			cap = ncap;
		}
		if (!(v[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(dir);
	if (images) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return 0;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	*names = v;
	return n;
}

/* Verify each archive of the folder as an input of its own: the worst status. */
static int run_archive_dir(const char *path, char **names, size_t n, const sv_options *opt,
			   const sv_sink *sink, sv_summary *out)
{
	int worst = SV_EXIT_VALID;
	size_t plen = strlen(path);

	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	for (size_t i = 0; i < n; i++) {
		char *child;
		int st;
		if (asprintf(&child, "%.*s/%s", (int)plen, path, names[i]) < 0)
			child = NULL;
		run_input ci = { child, -1, NULL };
		st = child ? run(&ci, SV_ACTION_VERIFY, 0, NULL, opt, sink, out) : SV_EXIT_FAILURE;
		if (st > worst)
			worst = st;
		free(child);
		free(names[i]);
	}
	free(names);
	return worst;
}

static int run(const run_input *ri, sv_action action, unsigned flags, FILE *conv_out,
	       const sv_options *opt, const sv_sink *sink, sv_summary *out)
{
	static const sv_options defaults;
	sv_ctx cx = { 0 };
	sv_bid_input bid = { 0 };
	sv_stream *s = NULL;
	const sv_format *fmt = NULL;
	const char *path = ri->path;
	/* Descriptors that are not ours to close: stdin and the caller's. */
	bool is_stdin = (ri->fd < 0 && !ri->src && strcmp(path, "-") == 0);
	bool borrowed = is_stdin || ri->fd >= 0;
	int fd = -1, dirfd = -1;
	struct stat st;
	sv_summary sum = { 0 };
	bool not_checkpoint = false;

	cx.opt = opt ? opt : &defaults;
	cx.sink = sink;
	cx.total = SV_NONE;
	cx.input = is_stdin ? "<stdin>" : path;
	sv_record_none(&cx);

	if (ri->src) {
		size_t avail;
		bid.path = path;
		bid.name = last_component(path);
		bid.dirfd = -1;
		s = sv_stream_open_source(&cx, ri->src, cx.input, 0, 0);
		if (!s) {
			sv_ctx_io_failed(&cx);
			sv_report(&cx, &sv_core_codes[SV_CORE_IO], SV_NONE, "out of memory");
			goto done;
		}
		bid.head = sv_peek(s, SV_BID_BYTES, &avail);
		bid.head_len = avail;
		bid.gzip = sv_stream_gzip(s);
		bid.is_archive = looks_like_archive(bid.head, bid.head_len);
		if (cx.io_failed)
			goto done;
		goto chosen_input;
	}
	if (is_stdin) {
		fd = STDIN_FILENO;
	} else if (ri->fd >= 0) {
		fd = ri->fd;
	} else {
		fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			sv_ctx_io_failed(&cx);
			sv_report(&cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
				  "cannot open: %s", strerror(errno));
			goto done;
		}
	}
	bid.path = path;
	bid.name = is_stdin ? "" : last_component(path);
	bid.dirfd = -1;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		dirfd = fd;
		fd = -1;
		bid.is_dir = true;
		bid.dirfd = dirfd;
	} else {
		size_t avail;
		s = sv_stream_open_fd(&cx, fd, !borrowed, cx.input, 0);
		fd = -1;
		if (!s) {
			sv_ctx_io_failed(&cx);
			sv_report(&cx, &sv_core_codes[SV_CORE_IO], SV_NONE, "out of memory");
			goto done;
		}
		bid.head = sv_peek(s, SV_BID_BYTES, &avail);
		bid.head_len = avail;
		bid.gzip = sv_stream_gzip(s);
		bid.is_archive = looks_like_archive(bid.head, bid.head_len);
		if (cx.io_failed)
			goto done;
	}

chosen_input:
	if (action == SV_ACTION_VERIFY && cx.opt->tee && bid.is_dir) {
		sv_ctx_io_failed(&cx);
		sv_report(&cx, &sv_core_codes[SV_CORE_UNSUPPORTED], SV_NONE,
			  "--tee forwards a stream; a directory cannot be forwarded");
		goto done;
	}
	/* A folder of checkpoint archives: each verified as an input. */
	if (bid.is_dir && action == SV_ACTION_VERIFY &&
	    (!cx.opt->format || strcmp(cx.opt->format, "auto") == 0)) {
		char **names;
		size_t n = archive_dir_entries(dirfd, &names);
		if (n) {
			if (!borrowed)
				close(dirfd);
			return run_archive_dir(path, names, n, opt, sink, out);
		}
	}

	if (cx.opt->format && strcmp(cx.opt->format, "auto") != 0) {
		fmt = sv_format_find(cx.opt->format);
		if (!fmt) {
			sv_ctx_io_failed(&cx);
			sv_report(&cx, &sv_core_codes[SV_CORE_UNSUPPORTED], SV_NONE,
				  "no format called '%s' (see --list-formats)", cx.opt->format);
			goto done;
		}
		if (!can_do(fmt, action, bid.is_dir)) {
			sv_report(&cx, &sv_core_codes[SV_CORE_UNSUPPORTED], SV_NONE,
				  "format %s cannot %s a %s", fmt->name, action_name(action),
				  bid.is_dir ? "directory" : "stream");
			fmt = NULL;
			goto done;
		}
	} else if (action == SV_ACTION_ENCODE && !bid.is_dir) {
		/* JSON carries no magic to bid on: the one encoder, if only one. */
		fmt = only_one_can(action);
		if (!fmt) {
			sv_report(&cx, &sv_core_codes[SV_CORE_UNSUPPORTED], SV_NONE,
				  "name the format to encode with --format");
			goto done;
		}
	} else {
		fmt = choose_by_bid(&bid, action);
		if (!fmt && action == SV_ACTION_VERIFY) {
			char why[160];
			fmt = closest_format(&cx, &bid, path, why, sizeof(why));
			if (fmt) {
				sv_report_at(&cx, &sv_core_codes[SV_CORE_GUESSED], SV_LOC_INPUT,
					  "no format recognises this %s; it comes closest to %s, "
					  "so it is verified as %s (--format %s)",
					  bid.is_dir ? "directory" : "input", why, fmt->name, fmt->name);
			} else {
				describe_unknown(&cx, &bid);
				not_checkpoint = true;
				goto done;
			}
		} else if (!fmt) {
			char looks[160] = "a directory";
			if (!bid.is_dir && bid.head_len)
				describe_looks(&bid, looks, sizeof(looks));
			else if (!bid.is_dir)
				snprintf(looks, sizeof(looks), "empty");
			sv_report_at(&cx, &sv_core_codes[SV_CORE_UNSUPPORTED], SV_LOC_INPUT,
				     "no format can %s this input (%s)", action_name(action), looks);
			goto done;
		}
	}
	if (s) {
		cx.top = s;
		cx.total = sv_remaining(s) == UINT64_MAX ? SV_NONE : sv_remaining(s);
	}
	clock_gettime(CLOCK_MONOTONIC, &cx.last_progress);

	switch (action) {
	case SV_ACTION_VERIFY:
		if (bid.is_dir && fmt->verify_members) {
			/* The member source owns its own descriptor. */
			int mfd = dup(dirfd);
			sv_members *m = mfd < 0 ? NULL : sv_members_from_dirfd(&cx, mfd, path);
			if (!m) {
				if (mfd >= 0)
					close(mfd);
				sv_ctx_io_failed(&cx);
				sv_report(&cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
					  "cannot read the directory: %s", strerror(errno));
				break;
			}
			fmt->verify_members(&cx, m);
			sv_members_close(m);
		} else if (bid.is_dir) {
			fmt->verify_dir(&cx, dirfd, path);
		} else if (bid.is_archive && fmt->verify_members && !fmt->verify) {
			/*
			 * A module that reads checkpoints only as members gets
			 * the archive's; one with a stream verifier (a CRIU
			 * tmpfs image is a tar too; the container module opens
			 * the archive itself) gets the stream.
			 */
			sv_members *m = sv_members_open_archive(&cx, s);
			if (m) {
				fmt->verify_members(&cx, m);
				sv_members_close(m);
			}
		} else {
			if (cx.opt->tee) {
				sv_stream_tee(s, cx.opt->tee_fd);
				cx.tee = s;
			}
			fmt->verify(&cx, s);
			tee_finish(&cx, s);
		}
		break;
	case SV_ACTION_DECODE:
	case SV_ACTION_ENCODE:
	case SV_ACTION_INFO: {
		bool ok = action == SV_ACTION_DECODE ? fmt->convert->decode(&cx, s, conv_out, flags) :
			  action == SV_ACTION_ENCODE ? fmt->convert->encode(&cx, s, conv_out) :
			  fmt->convert->info(&cx, s, conv_out);
		/* A failed conversion is never a success, said or not. */
		if (!ok && !cx.counts[SV_ERROR] && !cx.io_failed)
			sv_report(&cx, &sv_core_codes[SV_CORE_CONVERT], SV_NONE,
				  "%s failed", action_name(action));
		break;
	}
	}
	sv_record_none(&cx);
	sv_set_file(&cx, NULL);

done:
	sum.input = cx.input;
	sum.format = fmt ? fmt->name : NULL;
	sum.errors = cx.counts[SV_ERROR];
	sum.warnings = cx.counts[SV_WARNING];
	sum.notes = cx.counts[SV_NOTE];
	sum.records = cx.records;
	/* A directory's bytes are those of its files; none read: no figure. */
	sum.is_dir = bid.is_dir;
	sum.files = cx.files;
	sum.bytes = not_checkpoint ? SV_NONE : s ? sv_offset(s) :
		    bid.is_dir && cx.files ? cx.file_bytes : SV_NONE;
	sum.io_failed = cx.io_failed;
	sum.stopped = cx.stopped && !cx.io_failed;
	sum.not_checkpoint = not_checkpoint;
	sum.status = not_checkpoint ? SV_EXIT_FAILURE : status_of(&cx);
	if (fmt && (s || bid.is_dir))
		progress(&cx, true);
	if (sink && sink->summary)
		sink->summary(sink->ctx, &sum);
	if (out)
		*out = sum;
	sv_close(s);
	if (fd >= 0 && !borrowed)
		close(fd);
	if (dirfd >= 0 && !borrowed)
		close(dirfd);
	return sum.status;
}

int sv_verify(const char *path, const sv_options *opt, const sv_sink *sink,
	      sv_summary *out)
{
	run_input ri = { path, -1, NULL };
	return run(&ri, SV_ACTION_VERIFY, 0, NULL, opt, sink, out);
}

int sv_verify_fd(int fd, const char *name, const sv_options *opt,
		 const sv_sink *sink, sv_summary *out)
{
	run_input ri = { name ? name : "<fd>", fd, NULL };
	if (fd < 0)
		return SV_EXIT_FAILURE;
	return run(&ri, SV_ACTION_VERIFY, 0, NULL, opt, sink, out);
}

int sv_verify_buffer(const void *data, size_t len, const char *name,
		     const sv_options *opt, const sv_sink *sink, sv_summary *out)
{
	buffer_source b = { data, data ? len : 0 };
	sv_source src = { buffer_read, buffer_skip, &b, b.left };
	run_input ri = { name ? name : "<buffer>", -1, &src };
	return run(&ri, SV_ACTION_VERIFY, 0, NULL, opt, sink, out);
}

/* The caller's read function as a source. */
typedef struct callback_source {
	sv_read_fn read;
	void *arg;
} callback_source;

static ssize_t callback_read(void *arg, void *buf, size_t n)
{
	callback_source *c = arg;
	long r = c->read(c->arg, buf, n);
	if (r < 0) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return r > (long)n ? (ssize_t)n : (ssize_t)r;
}

int sv_verify_callback(sv_read_fn read, void *arg, const char *name,
		       const sv_options *opt, const sv_sink *sink, sv_summary *out)
{
	callback_source c = { read, arg };
	sv_source src = { callback_read, NULL, &c, SV_NONE };
	run_input ri = { name ? name : "<callback>", -1, &src };
	if (!read)
		return SV_EXIT_FAILURE;
	return run(&ri, SV_ACTION_VERIFY, 0, NULL, opt, sink, out);
}

int sv_convert(const char *path, sv_action action, unsigned flags, void *out,
	       const sv_options *opt, const sv_sink *sink)
{
	run_input ri = { path, -1, NULL };
	return run(&ri, action, flags, out, opt, sink, NULL);
}

const char *sv_version(void)
{
	return SV_VERSION;
}

/* ---- show and diff (issue 20) --------------------------------------------- */

int sv_run_members(const char *path, const sv_options *opt, const sv_sink *sink,
		   sv_members_fn fn, void *arg, sv_summary *out)
{
	static const sv_options defaults;
	sv_ctx cx = { 0 };
	sv_summary sum = { 0 };
	sv_members *m;

	cx.opt = opt ? opt : &defaults;
	cx.sink = sink;
	cx.input = path;
	sv_record_none(&cx);
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	sv_stream *s = NULL;

	if (fd < 0 || fstat(fd, &st) != 0) {
		sv_ctx_io_failed(&cx);
		sv_report(&cx, &sv_core_codes[SV_CORE_IO], SV_NONE, "cannot open: %s",
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		m = sv_members_open_dir(&cx, path);
	} else if (!S_ISREG(st.st_mode)) {
		close(fd);
		sv_ctx_io_failed(&cx);
		sv_report(&cx, &sv_core_codes[SV_CORE_NOT_REGULAR], SV_NONE,
			  "neither a directory nor a regular file");
		goto done;
	} else {
		size_t avail;
		const unsigned char *head;
		s = sv_stream_open_fd(&cx, fd, true, path, 0);
		head = s ? sv_peek(s, SV_BID_BYTES, &avail) : NULL;
		if (!s || !head || !looks_like_archive(head, avail)) {
			if (!cx.io_failed) {
				sv_ctx_io_failed(&cx);
				sv_report(&cx, &sv_core_codes[SV_CORE_UNSUPPORTED], SV_NONE,
					  "neither a dump directory nor a checkpoint archive");
			}
			goto done;
		}
		m = sv_members_open_archive(&cx, s);
	}
	if (!m) {
		if (!cx.io_failed) {
			sv_ctx_io_failed(&cx);
			sv_report(&cx, &sv_core_codes[SV_CORE_IO], SV_NONE,
				  "cannot read the checkpoint: %s", strerror(errno));
		}
	} else {
		fn(&cx, m, arg);
		sv_members_close(m);
	}
done:
	sv_close(s);
	sv_record_none(&cx);
	sv_set_file(&cx, NULL);
	sum.input = cx.input;
	sum.format = "criu";
	sum.errors = cx.counts[SV_ERROR];
	sum.warnings = cx.counts[SV_WARNING];
	sum.notes = cx.counts[SV_NOTE];
	sum.records = cx.records;
	sum.io_failed = cx.io_failed;
	sum.stopped = cx.stopped && !cx.io_failed;
	sum.status = status_of(&cx);
	if (out)
		*out = sum;
	return sum.status;
}

sv_ctx *sv_ctx_quiet_new(const char *input)
{
	static const sv_options defaults;
	sv_ctx *cx = calloc(1, sizeof(*cx));

	if (cx) {
		cx->opt = &defaults;
		cx->input = input;
		sv_record_none(cx);
	}
	return cx;
}

void sv_ctx_quiet_free(sv_ctx *cx)
{
	free(cx);
}

size_t sv_lower_bound(const void *key, const void *base, size_t n, size_t elem,
		      int (*cmp)(const void *elem, const void *key))
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp((const char *)base + mid * elem, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
