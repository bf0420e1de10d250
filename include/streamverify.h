/*
 * streamverify: verify checkpoint images and VM migration streams before
 * anything is restored from them.
 *
 * Public API.  A run verifies one input (a file, a directory, or "-" for
 * standard input) with one format module, chosen by name or by bidding, and
 * reports every finding through a sink of callbacks.  The library never
 * writes to its inputs and never prints anything itself.
 */
#ifndef STREAMVERIFY_H
#define STREAMVERIFY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SV_VERSION "0.1.0"

/* Exit status conventions shared by the library and the CLI. */
enum {
	SV_EXIT_VALID = 0,   /* every input valid */
	SV_EXIT_INVALID = 1, /* some input has an error (or a warning with werror) */
	SV_EXIT_FAILURE = 2  /* usage error, or an input could not be read */
};

typedef enum sv_severity {
	SV_NOTE = 0,
	SV_WARNING = 1,
	SV_ERROR = 2
} sv_severity;

/*
 * One registered diagnostic code.  Every module declares its codes in one
 * table; the id is stable ("libxc.padding.nonzero") and is what scripts and
 * tests match on.
 */
typedef struct sv_code {
	const char *id;
	sv_severity severity;
	const char *summary;
} sv_code;

/* Value of sv_diag.offset / .record when the finding has none. */
#define SV_NONE UINT64_MAX

/* One finding. */
typedef struct sv_diag {
	const sv_code *code;
	sv_severity severity;    /* code->severity */
	const char *input;       /* the input as the user named it */
	const char *file;        /* file the offset refers to (== input for a stream) */
	uint64_t offset;         /* byte offset in file, or SV_NONE */
	uint64_t record;         /* record/entry index, or SV_NONE */
	const char *record_type; /* record type name, or NULL */
	const char *message;
	/*
	 * Appended (API additions after 0.1): the code's own severity (severity differs when
	 * options.adjust or werror changed it), and how it changed.
	 */
	sv_severity code_severity;
	unsigned adjusted;       /* SV_ADJ_* */
} sv_diag;

#define SV_ADJ_PROMOTED 1u  /* a warning made an error by werror */
#define SV_ADJ_CHANGED  2u  /* options.adjust gave another severity */

/* One record of the input, for --verbose. */
typedef struct sv_record_info {
	const char *input;
	const char *file;
	uint64_t offset;
	uint64_t record;
	uint64_t length;         /* bytes of the record, framing included */
	const char *record_type;
	const char *summary;     /* one line */
} sv_record_info;

/* One figure of a module's end-of-input summary, for --verbose. */
typedef struct sv_stat {
	const char *input;
	const char *key;         /* dotted name, e.g. "pages.present" */
	const char *text;        /* the value as text */
	int is_number;           /* value is also number (for JSON) */
	uint64_t number;
} sv_stat;

/* The outcome for one input. */
typedef struct sv_summary {
	const char *input;
	const char *format;      /* module used, or NULL if none could be chosen */
	unsigned long errors;
	unsigned long warnings;
	unsigned long notes;
	uint64_t records;        /* records/entries seen, as counted by the module */
	uint64_t bytes;          /* bytes consumed (decompressed) */
	int io_failed;           /* the input could not be opened or read */
	int stopped;             /* --max-errors cut the run short */
	int status;              /* SV_EXIT_* for this input */
	/* Appended (API additions after 0.1). */
	int is_dir;              /* the input is a directory (read file by file) */
	uint64_t files;          /* directory: files (images) read; else 0 */
	int not_checkpoint;      /* no format recognised the input (status 2) */
} sv_summary;

/* Progress of one input, for a progress display (sv_sink.progress). */
typedef struct sv_progress {
	const char *input;
	uint64_t bytes;          /* bytes of the input read or skipped so far */
	uint64_t total;          /* its size, or SV_NONE when unknown (pipes, gzip) */
	uint64_t records;
	int done;                /* the last call for this input */
} sv_progress;

/*
 * Output callbacks.  Any member may be NULL.  A NULL `record` or `stat`
 * tells modules not to spend time building per-record summaries.
 */
typedef struct sv_sink {
	void *ctx;
	void (*diag)(void *ctx, const sv_diag *d);
	void (*record)(void *ctx, const sv_record_info *r);
	void (*stat)(void *ctx, const sv_stat *s);
	void (*summary)(void *ctx, const sv_summary *s);
} sv_sink;

typedef struct sv_options {
	const char *format;       /* module name; NULL or "auto": bid */
	unsigned long max_errors; /* stop after this many errors; 0 = never */
	int werror;               /* warnings make the input invalid */
	const char *const *params;/* module parameters, "KEY=VALUE" (--param) */
	size_t nparams;
	int tee;                  /* forward the input's valid records to tee_fd */
	int tee_fd;
	/*
	 * Appended (API additions after 0.1): the severity a finding gets, asked before it is
	 * counted (d->severity is the code's own): SV_NOTE..SV_ERROR, or
	 * SV_DROP to drop it (neither counted nor reported).  --severity,
	 * config files and --baseline are built on it.  Codes for which
	 * sv_code_fixed() is true are never downgraded, whatever it returns.
	 * werror then promotes warnings.
	 */
	int (*adjust)(void *arg, const sv_diag *d);
	void *adjust_arg;
	/*
	 * Appended (API additions after 0.1): progress of a long input, called
	 * at most about four times a second while it is read, and once with
	 * done set at its end.  May be NULL.
	 */
	void (*progress)(void *arg, const sv_progress *p);
	void *progress_arg;
} sv_options;

#define SV_DROP (-1)

/*
 * True for the codes whose severity cannot be lowered: framing failures
 * after which the rest of the input cannot be read (input.truncated,
 * input.io, input.not-regular, input.gzip.*).
 */
int sv_code_fixed(const sv_code *c);

/*
 * Verify one input: a path, a directory, or "-" for standard input.
 * Returns SV_EXIT_*; fills *out (may be NULL).
 */
int sv_verify(const char *path, const sv_options *opt, const sv_sink *sink,
	      sv_summary *out);

/*
 * The same for other kinds of input.  name is how diagnostics name the
 * input.  sv_verify_fd reads fd from its current position and leaves it
 * open (a directory descriptor is verified as a directory).
 * sv_verify_buffer verifies len bytes at data.  sv_verify_callback pulls
 * the bytes from read(arg, buf, n), which returns how many it wrote
 * (at most n), 0 at the end, or -1 on an error (errno set).  gzip input
 * is decompressed in all three, as by sv_verify.
 */
typedef long (*sv_read_fn)(void *arg, void *buf, size_t n);
int sv_verify_fd(int fd, const char *name, const sv_options *opt,
		 const sv_sink *sink, sv_summary *out);
int sv_verify_buffer(const void *data, size_t len, const char *name,
		     const sv_options *opt, const sv_sink *sink, sv_summary *out);
int sv_verify_callback(sv_read_fn read, void *arg, const char *name,
		       const sv_options *opt, const sv_sink *sink, sv_summary *out);

/* The library's version, which may be newer than the SV_VERSION compiled in. */
const char *sv_version(void);

/*
 * Conversions of one input by a module that offers them: decode (to JSON
 * text), encode (JSON text back to the binary form), info (a one-line
 * description).  The result goes to out (a FILE *); problems are reported
 * through sink like findings.  For encode, the format is opt->format or
 * else the only module that can encode.  Returns SV_EXIT_*.
 */
typedef enum sv_action {
	SV_ACTION_VERIFY,
	SV_ACTION_DECODE,
	SV_ACTION_ENCODE,
	SV_ACTION_INFO
} sv_action;
#define SV_CONV_PRETTY 0x1u /* decode: human-friendly values (crit --pretty) */
#define SV_CONV_NOPL   0x2u /* decode: leave out payload blobs (crit --nopl) */
#define SV_CONV_TEXT   0x4u /* decode: protobuf text format (crit's raw form) */
#define SV_CONV_NICE   0x8u /* decode: the text's nice form (names, indented); implies TEXT */
int sv_convert(const char *path, sv_action action, unsigned flags, void *out,
	       const sv_options *opt, const sv_sink *sink);

/* Registered formats, in registry order. */
size_t sv_format_count(void);
const char *sv_format_name(size_t i);
const char *sv_format_description(size_t i);
/* Index of the format called name (any letter case), or -1. */
long sv_format_index(const char *name);

/* Every registered diagnostic code: the core's first, then each module's. */
size_t sv_code_count(void);
const sv_code *sv_code_at(size_t i);
const sv_code *sv_code_find(const char *id);

const char *sv_severity_name(sv_severity s);

/*
 * The two output sinks the CLI uses.  Text: one line per diagnostic,
 * "FILE:0xOFFSET: error: record 17 (PAGE_DATA): message [code]".  JSON
 * Lines: one object per diagnostic, record, figure and input summary (the
 * schema is in README.md).  The state struct is the sink's ctx.
 */
enum {
	SV_OUT_COLOR = 1,    /* ANSI colours (text) */
	SV_OUT_QUIET = 2,    /* errors only, no summary line (text and JSON) */
	SV_OUT_VERBOSE = 4   /* per-record lines and figures */
};

typedef struct sv_output {
	void *fp;            /* FILE * */
	unsigned flags;
	/* Appended (API additions after 0.1): SARIF state (results written so far, worst status). */
	unsigned long nresults;
	int status;
} sv_output;

/* Version of the JSON Lines schema (docs/streamverify-jsonl.schema.json). */
#define SV_JSONL_SCHEMA_VERSION 2

void sv_sink_text(sv_sink *sink, sv_output *out);
void sv_sink_json(sv_sink *sink, sv_output *out);
/*
 * SARIF 2.1.0: sv_sink_sarif writes the log's head (the tool and one rule
 * per code), the sink one result per finding; sv_sarif_finish closes the
 * log.  One run for everything verified in between.
 */
void sv_sink_sarif(sv_sink *sink, sv_output *out);
void sv_sarif_finish(sv_output *out);

/* Write s as a JSON string (quotes included); bytes that are not UTF-8 are escaped. */
void sv_json_string(void *fp, const char *s);

/*
 * Write s for a terminal: every control character, every octet that is
 * not part of valid UTF-8, C1 controls and bidirectional controls as
 * \xNN (each octet); everything else, backslashes too, as it is.
 */
void sv_text_string(void *fp, const char *s);

#ifdef __cplusplus
}
#endif

#endif /* STREAMVERIFY_H */
