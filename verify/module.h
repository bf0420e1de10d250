/*
 * The interface between the verifier core and format modules.
 *
 * A module is one sv_format descriptor: a name, its table of diagnostic
 * codes, a bid function for auto-detection and a verify callback.  The core
 * owns all I/O: a module asks an sv_stream for "the next N bytes", "skip N
 * bytes" or "scan N bytes", and never learns whether it reads a regular
 * file, a pipe or decompressed gzip.  A module reports findings with
 * sv_report() and never formats output itself.
 */
#ifndef SV_MODULE_H
#define SV_MODULE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "streamverify.h"

typedef struct sv_stream sv_stream;
typedef struct sv_ctx sv_ctx;
typedef struct sv_members sv_members;

/*
 * Declaring codes: a module lists them once with an X-macro,
 *
 *   #define LIBXC_CODES(X) \
 *       X(LIBXC_PAD, "libxc.padding.nonzero", ERROR, "record padding holds non-zero bytes")
 *   enum { LIBXC_CODES(SV_CODE_ENUM) };
 *   static const sv_code libxc_codes[] = { LIBXC_CODES(SV_CODE_ROW) };
 *
 * and reports with sv_report(cx, &libxc_codes[LIBXC_PAD], off, "...").
 */
#define SV_CODE_ENUM(sym, id, sev, summary) sym,
#define SV_CODE_ROW(sym, id, sev, summary) { id, SV_##sev, summary },

/* What a bid may look at: nothing is consumed. */
typedef struct sv_bid_input {
	const char *path;          /* as the user named it ("-" for stdin) */
	const char *name;          /* last path component ("" for stdin) */
	bool is_dir;
	int dirfd;                 /* open directory when is_dir, else -1 */
	const unsigned char *head; /* first bytes of the (decompressed) input */
	size_t head_len;           /* up to SV_BID_BYTES; fewer if the input is shorter */
	bool gzip;                 /* the input was gzip-compressed */
	bool is_archive;           /* a tar archive (plain or compressed): members */
} sv_bid_input;

#define SV_BID_BYTES 4096

/*
 * Optional conversions, behind `streamverify decode | encode | info`.  Each
 * writes to out and returns true, or reports why it cannot (sv_report, in
 * the same record context as verification) and returns false; the CLI
 * then discards everything written to out.  Flags: SV_CONV_* of
 * streamverify.h.
 */
typedef struct sv_converter {
	/* The input (an image) as JSON text. */
	bool (*decode)(sv_ctx *cx, sv_stream *in, FILE *out, unsigned flags);
	/* JSON text (the whole input) back into the image's bytes. */
	bool (*encode)(sv_ctx *cx, sv_stream *in, FILE *out);
	/* A short description of the input (its type and entry count). */
	bool (*info)(sv_ctx *cx, sv_stream *in, FILE *out);
	/*
	 * Whole-checkpoint tools (`streamverify coredump`, `streamverify
	 * convert`), or NULL: a NULL-terminated list of formats without a bid
	 * that the CLI registers and runs with sv_verify, handing them what
	 * they need as module parameters (sv_param).
	 */
	const struct sv_format *const *tools;
} sv_converter;

/* Bids: 0 = not this format; 100 = certain.  Build them from evidence. */
typedef struct sv_format {
	const char *name;
	const char *description;
	const sv_code *codes;
	size_t ncodes;
	int (*bid)(const sv_bid_input *in);
	/* Verify a byte stream positioned at its start.  May be NULL. */
	void (*verify)(sv_ctx *cx, sv_stream *in);
	/* Verify a directory (dirfd open, path as named).  May be NULL. */
	void (*verify_dir)(sv_ctx *cx, int dirfd, const char *path);
	/* Conversions, or NULL. */
	const sv_converter *convert;
	/*
	 * Verify a checkpoint given as members (a directory, or an archive
	 * the core recognised).  May be NULL.  Preferred over verify_dir when
	 * both are set.
	 */
	void (*verify_members)(sv_ctx *cx, sv_members *m);
	/*
	 * Near misses.  Optional; asked only when no module bids more than 0.
	 * Returns how close the input comes to this format (0 = not at all,
	 * 1-100, from evidence as for bids: "LibxlFmt" with one byte changed,
	 * a legacy Xen stream, a dump directory with images but without
	 * inventory.img) and writes a short phrase saying what the input
	 * looks like into why (why_len bytes, e.g. "a CRIU dump directory
	 * without inventory.img").  The closest module then verifies the
	 * input as if chosen with --format, after a note
	 * (input.format.guessed) saying so, so its findings explain what is
	 * wrong.  Without a near miss from these, the core looks for a stream
	 * one octet away from a magic (a module bids 90 or more once one of
	 * the first 16 octets is changed).  Modules without it are tried by the core: each that can
	 * read the kind of input verifies the first SV_BID_BYTES (or the
	 * directory) silently, and one that counts a record, or finds its
	 * first error past offset 0, is a near miss.  Without any near miss
	 * the input is "not a checkpoint" (input.format.unknown, exit 2).
	 */
	int (*near)(const sv_bid_input *in, char *why, size_t why_len);
} sv_format;

/*
 * The core's own codes, which modules may report too: declared with the
 * same X-macro as a module's (verify.c builds the table from it).
 */
#define SV_CORE_CODES(X) \
	X(SV_CORE_TRUNCATED, "input.truncated", ERROR, "the input ends inside a structure") \
	X(SV_CORE_IO, "input.io", ERROR, "the input could not be opened or read") \
	X(SV_CORE_NOT_REGULAR, "input.not-regular", ERROR, "a FIFO, device or directory stands where a file should be") \
	X(SV_CORE_GZIP, "input.gzip.corrupt", ERROR, "gzip-compressed input is corrupt (bad data, CRC or length)") \
	X(SV_CORE_GZIP_TRUNCATED, "input.gzip.truncated", ERROR, "gzip-compressed input ends before its end marker") \
	X(SV_CORE_UNKNOWN, "input.format.unknown", ERROR, "the input is not a checkpoint or migration stream of any known format") \
	X(SV_CORE_UNSUPPORTED, "input.format.unsupported", ERROR, "the chosen format cannot read this kind of input") \
	X(SV_CORE_GUESSED, "input.format.guessed", NOTE, "no format recognised the input; it was verified as the closest one") \
	X(SV_CORE_CONVERT, "convert.failed", ERROR, "a decode, encode or info conversion failed") \
	X(SV_CORE_TEE, "output.tee", ERROR, "--tee could not forward the input")

enum { SV_CORE_CODES(SV_CODE_ENUM) SV_CORE_NCODES };
extern const sv_code sv_core_codes[SV_CORE_NCODES];

/* Report input.truncated: needed bytes at off, got fewer. */
void sv_report_truncated(sv_ctx *cx, uint64_t off, uint64_t needed,
			 uint64_t got, const char *what);

/*
 * Add a format at run time (after the registry's).  For test-only formats;
 * at most a few.  Returns false when there is no room.
 */
bool sv_register_format(const sv_format *f);

/* Look a registered module up by name, e.g. to hand it a nested stream. */
const sv_format *sv_format_find(const char *name);

/* ---- Input streams ------------------------------------------------------ */

/* Offset of the next byte (in the decompressed stream for gzip input). */
uint64_t sv_offset(const sv_stream *s);

/*
 * Read exactly n bytes.  Returns the number read: fewer only at the end of
 * the input or on a read error (the core reports read errors itself).
 */
size_t sv_read(sv_stream *s, void *buf, size_t n);

/*
 * Read exactly n bytes or report input.truncated ("needed N bytes at offset
 * X, got M", at the offset where the read began, in the current record
 * context).  `what` names the structure being read, for the message.
 * Returns true when all n bytes were read.
 */
bool sv_need(sv_ctx *cx, sv_stream *s, void *buf, size_t n, const char *what);

/*
 * Look at up to n bytes (n <= SV_PEEK_MAX) without consuming them.  *avail
 * gets how many are there (fewer only at the end of the input).  The
 * pointer is valid until the next call on the stream.
 */
#define SV_PEEK_MAX 65536
const unsigned char *sv_peek(sv_stream *s, size_t n, size_t *avail);

/* True when no byte remains. */
bool sv_at_end(sv_stream *s);

/*
 * Skip n bytes without looking at them: a seek on regular uncompressed
 * files, a read into the stream's own buffer otherwise.  Returns the number
 * skipped (fewer only at the end of the input).
 */
uint64_t sv_skip(sv_stream *s, uint64_t n);

/*
 * Hand the next n bytes to fn in pieces straight from the stream's buffer
 * (no copy), fn(arg, piece, piece_len, offset_of_piece).  fn returns 0 to
 * go on, non-zero to stop early (the rest is then skipped).  With fn NULL
 * the bytes are only skipped, as by sv_skip (a seek where it can be), so a
 * caller whose consumer is optional needs no second path.  Returns the
 * number of bytes consumed (fewer only at the end of the input).
 */
typedef int (*sv_scan_fn)(void *arg, const unsigned char *p, size_t n,
			  uint64_t off);
uint64_t sv_scan(sv_stream *s, uint64_t n, sv_scan_fn fn, void *arg);

/*
 * Read n bytes into a new malloc'd buffer that grows only as data arrives,
 * so a forged length on a pipe never allocates more than about twice what
 * is really there.  The caller caps n first.  Returns NULL on short input
 * (with *got set to what was there; nothing reported) or on allocation
 * failure (*got == n is then impossible: check sv_need-style yourself).
 */
void *sv_read_alloc(sv_stream *s, size_t n, size_t *got);

/* Bytes left before the end when known (regular uncompressed file), else UINT64_MAX. */
uint64_t sv_remaining(const sv_stream *s);

const char *sv_stream_name(const sv_stream *s); /* as reported in diagnostics */
bool sv_stream_gzip(const sv_stream *s);        /* input was gzip-compressed */
bool sv_stream_seekable(const sv_stream *s);    /* skips are seeks */

/*
 * Open a file of a directory for reading (read-only; a FIFO or device is
 * refused with a diagnostic and never opened for a blocking read).  With
 * SV_OPEN_RAW the bytes are given as stored, gzip or not.  Returns NULL on
 * failure, having reported why (input.io / input.not-regular) against path.
 * `path` is the name diagnostics use for the file.
 */
#define SV_OPEN_RAW 1u
sv_stream *sv_open_at(sv_ctx *cx, int dirfd, const char *name,
		      const char *path, unsigned flags);
void sv_close(sv_stream *s);

/* ---- Nested streams ------------------------------------------------------- */

/*
 * Verify the next len bytes of in with module f, as a stream of their own
 * embedded in the input (a QEMU device-state stream inside a libxl
 * EMULATOR_CONTEXT record, a CRIU image inside a capture).  The nested
 * module sees a stream that ends after len bytes; offsets in its reports
 * stay those of the enclosing input.  Whatever it leaves unread of the len
 * bytes is skipped.  The record context is saved and restored around the
 * call; findings and counts go to the same run.  Returns the bytes consumed
 * (len unless the input ended first).
 */
uint64_t sv_verify_nested(sv_ctx *cx, sv_stream *in, uint64_t len,
			  const sv_format *f);

/*
 * True while a module runs inside sv_verify_nested(): the stream is part of
 * another format's record, and the enclosing format decides its shape (a
 * Xen device state has no CONFIGURATION section and no VMDESCRIPTION).
 */
bool sv_is_nested(const sv_ctx *cx);

/*
 * Module parameters given by the user (`--param KEY=VALUE`, and options
 * such as `--guest pv|hvm` that the CLI maps onto one): the value of key,
 * or NULL when not given.  A module documents the keys it reads in its
 * description.
 */
const char *sv_param(const sv_ctx *cx, const char *key);

/* ---- Members of a checkpoint (directories and archives) ---------------- */

/*
 * A checkpoint made of named files, a dump directory or an archive, is a
 * member source.  The core enumerates it and opens each member as an
 * sv_stream; a module never calls readdir() or libarchive itself, so the
 * same checks run over a directory and over a tar archive read in one pass.
 *
 * Members come in source order: sorted by name for a directory (its
 * entries, not recursing), archive order for an archive (every entry, with
 * its '/'-separated path).  A member can be opened only while it is the
 * current one; the data of an archive member is gone once the next member
 * is asked for.
 */
typedef enum sv_member_kind {
	SV_MEMBER_FILE,     /* regular file: open it */
	SV_MEMBER_DIR,
	SV_MEMBER_SYMLINK,  /* target in link */
	SV_MEMBER_HARDLINK, /* archive hard link: target in link */
	SV_MEMBER_OTHER     /* FIFO, device, socket: never opened */
} sv_member_kind;

typedef struct sv_member {
	const char *name;    /* path inside the checkpoint ("checkpoint/core-1.img") */
	const char *display; /* how diagnostics name it (dir: "DIR/NAME"; archive: the member path) */
	sv_member_kind kind;
	uint64_t size;       /* bytes, or SV_NONE when unknown */
	const char *link;    /* symlink / hard link target, else NULL */
	uint64_t offset;     /* archive: offset of the member's header in the
			        (decompressed) archive; SV_NONE for a directory */
} sv_member;

/*
 * The next member, or NULL at the end (or after a read error, which the
 * core has reported: check sv_stopped()).  The pointer is valid until the
 * next call.
 */
const sv_member *sv_members_next(sv_members *m);

/*
 * Open the current member's data.  flags: SV_OPEN_RAW (bytes as stored;
 * without it a gzip member is NOT decompressed either: members are always
 * given raw, as CRIU reads its images).  NULL when it cannot be opened,
 * reported as input.io / input.not-regular against the member.  Close
 * before asking for the next member.
 */
sv_stream *sv_member_open(sv_ctx *cx, sv_members *m);

/* The name of the source as diagnostics use it (the directory or archive path). */
const char *sv_members_path(const sv_members *m);

/* True for a directory (members may also be opened by name, below). */
bool sv_members_is_dir(const sv_members *m);

/*
 * Directories only: open the member called name (a plain name, no '/'),
 * whatever the iteration position; NULL for an archive, or when it is
 * missing (not reported: the caller says what that means).
 */
sv_stream *sv_members_open_name(sv_ctx *cx, sv_members *m, const char *name,
				const char *display);

/*
 * Directories only: the member source for the subdirectory or link target
 * `name` of m (e.g. a dump's "parent"), or NULL with errno set.  Free with
 * sv_members_close().
 */
sv_members *sv_members_open_subdir(sv_ctx *cx, sv_members *m, const char *name);

/* Directories only: the open descriptor (for code not yet on members), else -1. */
int sv_members_dirfd(const sv_members *m);

/* A directory as a member source (for modules that open a second one, --previous). */
sv_members *sv_members_open_dir(sv_ctx *cx, const char *path);
/* An archive (tar, optionally compressed) read from in, as a member source. */
sv_members *sv_members_open_archive(sv_ctx *cx, sv_stream *in);
void sv_members_close(sv_members *m);

/* ---- Reporting ---------------------------------------------------------- */

/*
 * Set the record context that reports carry: the record's index and type
 * name (a string that lives as long as the run, e.g. a literal).  Each
 * report gives its own offset.  sv_record_none() clears the context.
 */
void sv_set_record(sv_ctx *cx, uint64_t index, const char *type);

/*
 * Begin a record that starts at offset `start` of the input: sets the
 * record context as sv_set_record() does, and tells the core that every byte
 * before start belongs to records already verified.  With --tee those
 * bytes are forwarded then, unless an error was reported since the
 * previous record began (forwarding then stops before that record).  A
 * streaming module calls it for every top-level record.
 */
void sv_record_begin(sv_ctx *cx, uint64_t index, const char *type, uint64_t start);

/*
 * The same boundary for --tee without touching the record context: for the
 * small records inside a large one (QEMU's RAM pages inside a section, the
 * markers of a capture), so that a valid stream is never held whole.
 */
void sv_record_boundary(sv_ctx *cx, uint64_t start);
void sv_record_none(sv_ctx *cx);

/*
 * Set the file that reports refer to (a directory module switches it as it
 * goes from image to image; NULL: the input itself).  The string must live
 * until it is changed again.
 */
void sv_set_file(sv_ctx *cx, const char *file);
const char *sv_get_file(const sv_ctx *cx);

/* Where a finding is. */
typedef struct sv_loc {
	const char *file;        /* the file; NULL: the input itself */
	uint64_t offset;         /* byte offset in file, SV_NONE: the whole file */
	uint64_t record;         /* record index, SV_NONE: outside any record */
	const char *record_type; /* or NULL */
} sv_loc;

/* The location sv_report() gives a finding at offset: the context's file and record. */
sv_loc sv_loc_here(const sv_ctx *cx, uint64_t offset);

/* The whole input, outside any record (for findings about the input as such). */
#define SV_LOC_INPUT ((sv_loc){ NULL, SV_NONE, SV_NONE, NULL })

/*
 * Report a finding at an explicit location, whatever the context says: for
 * findings about another file or record than the current one.
 */
void sv_report_at(sv_ctx *cx, const sv_code *code, sv_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Report a finding at offset (SV_NONE for none), printf-style message. */
void sv_report(sv_ctx *cx, const sv_code *code, uint64_t offset,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void sv_vreport(sv_ctx *cx, const sv_code *code, uint64_t offset,
		const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* True once --max-errors is reached (or reading failed): stop soon. */
bool sv_stopped(const sv_ctx *cx);

/* Errors reported so far in this run. */
unsigned long sv_error_count(const sv_ctx *cx);

/* Count one record / entry towards the summary. */
void sv_count_record(sv_ctx *cx);

/* True when per-record summaries / stats are wanted (--verbose). */
bool sv_want_records(const sv_ctx *cx);

/* Per-record summary line (only call when sv_want_records()). */
void sv_emit_record(sv_ctx *cx, uint64_t index, const char *type,
		    uint64_t offset, uint64_t length, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/*
 * A figure of the end-of-input summary (only when sv_want_records()).
 * Keys are dotted names; a numeric figure (sv_emit_stat_u64) whose key
 * ends in "bytes" or "_length", or has a component "bytes"
 * ("memory.bytes.present"), is a byte count, one ending in "_time" or
 * "_us" a duration in microseconds: the text output adds the unit (and a
 * human size or seconds), JSON keeps the plain number.
 */
void sv_emit_stat(sv_ctx *cx, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sv_emit_stat_u64(sv_ctx *cx, const char *key, uint64_t value);

/*
 * Module state that a nested module call needs from its parent (e.g. libxl
 * handing control to libxc and back) is the modules' own business: they
 * share it through their own headers inside their formats/ folder.
 */

/* ---- helpers ---------------------------------------------------------------- */

/*
 * The first of n elements sorted by cmp that is not below key (n if
 * none), cmp called as cmp(element, key): a search with the comparator
 * of the sort, like bsearch(), but among equal elements it finds the
 * first, so lookups give the same one whatever the search path.  A key
 * of another type than the elements needs a comparator of its own.
 */
size_t sv_lower_bound(const void *key, const void *base, size_t n, size_t elem,
		      int (*cmp)(const void *elem, const void *key));

/* ---- show and diff (issue 20) --------------------------------------------- */

/*
 * Run fn over the members of the checkpoint at path (a dump directory), in
 * a run whose findings go to sink, as sv_verify() would; *out gets the
 * run's summary (never handed to the sink).  Returns SV_EXIT_*.
 */
typedef void (*sv_members_fn)(sv_ctx *cx, sv_members *m, void *arg);
int sv_run_members(const char *path, const sv_options *opt, const sv_sink *sink,
		   sv_members_fn fn, void *arg, sv_summary *out);

/*
 * A context whose findings are counted and dropped: for reading an input a
 * second time (the show collector decodes images criu_dump verified).
 */
sv_ctx *sv_ctx_quiet_new(const char *input);
void sv_ctx_quiet_free(sv_ctx *cx);

/* `streamverify show` and `streamverify diff` (formats/criu/show/show.c). */
int sv_show_main(int argc, char **argv);
int sv_diff_main(int argc, char **argv);

#endif /* SV_MODULE_H */
