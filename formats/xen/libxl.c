/*
 * libxl migration streams (v2): the toolstack's wrapper around a libxc
 * stream, with emulator state and, for Remus/COLO, the checkpoint exchange.
 *
 * LIBXC_CONTEXT hands the following bytes to the libxc verifier; it hands
 * control back at its END, or at each CHECKPOINT, after which libxl records
 * run up to CHECKPOINT_END and libxc resumes without new headers.  Rules:
 * the Xen migration stream specs (docs/specs in Xen), libxl_stream_read.c.
 */
#include <stdio.h>
#include <string.h>

#include "formats/xen/xen.h"

#define LIBXL_CODES(X) \
	X(C_IDENT, "libxl.header.ident", ERROR, "stream does not start with the \"LibxlFmt\" ident") \
	X(C_VERSION, "libxl.header.version", ERROR, "libxl header version is not 2") \
	X(C_BIG_ENDIAN, "libxl.header.big-endian", ERROR, "stream declares big-endian byte order, which libxl refuses") \
	X(C_OPTIONS, "libxl.header.options-reserved", ERROR, "reserved libxl header option bits 2-31 are set") \
	X(C_CONVERTED, "libxl.header.legacy-converted", NOTE, "stream was converted from the legacy format") \
	X(C_UNKNOWN, "libxl.record.unknown", ERROR, "unknown libxl record type (libxl rejects every one)") \
	X(C_LENGTH, "libxl.record.length", ERROR, "record body length is wrong for its type") \
	X(C_PADDING, "libxl.padding.nonzero", ERROR, "record padding holds non-zero octets") \
	X(C_RESERVED, "libxl.record.reserved", ERROR, "reserved record field is not zero") \
	X(C_END_TRAILING, "libxl.end.trailing-data", ERROR, "bytes follow the END record") \
	X(C_NO_LIBXC, "libxl.libxc-context.missing", ERROR, "stream ends without a LIBXC_CONTEXT record: no domain memory or CPU state") \
	X(C_LIBXC_AGAIN, "libxl.libxc-context.duplicate", WARNING, "more than one LIBXC_CONTEXT record") \
	X(C_IN_CHECKPOINT, "libxl.checkpoint.record", ERROR, "record not allowed between a libxc CHECKPOINT and CHECKPOINT_END") \
	X(C_CKPT_END, "libxl.checkpoint-end.unexpected", ERROR, "CHECKPOINT_END outside a checkpoint exchange") \
	X(C_CKPT_STATE, "libxl.checkpoint-state.unexpected", ERROR, "CHECKPOINT_STATE anywhere but right after a CHECKPOINT_END of an HVM stream") \
	X(C_CKPT_CONTROL, "libxl.checkpoint-state.control-id", ERROR, "CHECKPOINT_STATE control_id is not 0 (CHECKPOINT_NEW)") \
	X(C_CKPT_MIXED, "libxl.checkpoint.mixed", ERROR, "checkpoint rounds mix COLO (CHECKPOINT_STATE after CHECKPOINT_END) and Remus (none)") \
	X(C_EMU_ID, "libxl.emulator.id", ERROR, "emulator_id is not 0, 1 or 2") \
	X(C_EMU_PV, "libxl.emulator.pv-guest", ERROR, "emulator record in a PV guest's stream") \
	X(C_XS_TERMINATED, "libxl.xenstore.not-terminated", ERROR, "EMULATOR_XENSTORE_DATA does not end with a NUL octet") \
	X(C_XS_ODD, "libxl.xenstore.odd-strings", ERROR, "EMULATOR_XENSTORE_DATA holds a key without a value") \
	X(C_XS_KEY_EMPTY, "libxl.xenstore.key-empty", ERROR, "empty xenstore key") \
	X(C_XS_KEY_ABSOLUTE, "libxl.xenstore.key-absolute", ERROR, "xenstore key is absolute (starts with '/')") \
	X(C_XS_KEY_CHARS, "libxl.xenstore.key-chars", ERROR, "xenstore key holds a character outside [A-Za-z0-9-/_@]")

enum { LIBXL_CODES(SV_CODE_ENUM) LIBXL_NCODES };
static const sv_code libxl_codes[] = { LIBXL_CODES(SV_CODE_ROW) };

#define CODE(c) (&libxl_codes[c])

#define HDR_SIZE 16u
#define HDR_VERSION 2u
#define OPT_BIG_ENDIAN 0x1u
#define OPT_LEGACY 0x2u

#define EMU_HDR_SIZE 8u
#define EMU_ID_MAX 2u
#define EMU_QEMU_UPSTREAM 2u
#define CKPT_CONTROL_NEW 0u
#define CKPT_CONTROL_BACK_MAX 3u /* SVM_SUSPENDED, SVM_READY, SVM_RESUMED */

enum {
	REC_END, REC_LIBXC_CONTEXT, REC_EMULATOR_XENSTORE_DATA,
	REC_EMULATOR_CONTEXT, REC_CHECKPOINT_END, REC_CHECKPOINT_STATE,
	REC_NTYPES
};

/* The record table: names and fixed body lengths. */
#define ANY_LENGTH UINT32_MAX
static const struct libxl_kind {
	const char *name;
	uint32_t fixed_length;
	bool in_checkpoint;  /* may appear inside the checkpoint exchange */
} libxl_kinds[REC_NTYPES] = {
	[REC_END] = { "END", 0, false },
	[REC_LIBXC_CONTEXT] = { "LIBXC_CONTEXT", 0, false },
	[REC_EMULATOR_XENSTORE_DATA] = { "EMULATOR_XENSTORE_DATA", ANY_LENGTH, true },
	[REC_EMULATOR_CONTEXT] = { "EMULATOR_CONTEXT", ANY_LENGTH, true },
	[REC_CHECKPOINT_END] = { "CHECKPOINT_END", 0, true },
	/* 4 as libxl writes it, or 8 as the spec draws it: check_checkpoint_state. */
	[REC_CHECKPOINT_STATE] = { "CHECKPOINT_STATE", ANY_LENGTH, true },
};

static const char *const emulator_names[] = {
	"unknown", "qemu-traditional", "qemu-upstream"
};

typedef struct libxl_state {
	sv_ctx *cx;
	sv_stream *in;
	bool be;
	const sv_code *checkpoint_code;  /* set when inside an xl file */
	uint64_t next_index;
	xen_libxc xc;
	bool xc_started;     /* a LIBXC_CONTEXT was seen */
	bool xc_paused;      /* libxc stopped at a CHECKPOINT */
	bool in_checkpoint;  /* between CHECKPOINT and CHECKPOINT_END */
	bool expect_state;   /* COLO: the record after CHECKPOINT_END is CHECKPOINT_STATE */
	bool after_state;    /* the last record was that CHECKPOINT_STATE */
	enum { CKPT_UNDECIDED, CKPT_REMUS, CKPT_COLO } mode;
	bool reported_mixed;
	bool reported_checkpointed;
	uint64_t checkpoints;
	uint64_t emulator_records, xenstore_pairs;
	bool reported_emulator_pv;
	bool pending_emulator;   /* emulator record before the guest type was known */
	uint64_t pending_emulator_off, pending_emulator_index;
} libxl_state;

static int libxl_bid(const sv_bid_input *in)
{
	const unsigned char *p = in->head;
	bool be;

	if (in->is_dir || in->head_len < 8 || xen_ld64(true, p) != XEN_LIBXL_IDENT)
		return 0;
	if (in->head_len < HDR_SIZE || xen_ld32(true, p + 8) != HDR_VERSION)
		return 80;
	if (in->head_len < HDR_SIZE + XEN_RHDR_SIZE)
		return 95;
	be = (xen_ld32(true, p + 12) & OPT_BIG_ENDIAN) != 0;
	return xen_ld32(be, p + HDR_SIZE) < REC_NTYPES ? 100 : 95;
}

/* ---- EMULATOR_XENSTORE_DATA ------------------------------------------------ */

/* Streaming walk of NUL-terminated key, value, key, value ... strings. */
typedef struct xs_walk {
	sv_ctx *cx;
	bool in_value;
	uint64_t str_start;
	uint32_t str_len;
	uint64_t strings;
	unsigned char last;
	bool bad_empty, bad_absolute, bad_chars;
} xs_walk;

static int xs_walk_piece(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	xs_walk *w = arg;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (w->str_len == 0 && c != 0)
			w->str_start = off + i;
		if (c == 0) {
			if (!w->in_value && w->str_len == 0 && !w->bad_empty) {
				w->bad_empty = true;
				sv_report(w->cx, CODE(C_XS_KEY_EMPTY), off + i,
					  "key %llu is empty",
					  (unsigned long long)(w->strings / 2));
			}
			w->strings++;
			w->in_value = !w->in_value;
			w->str_len = 0;
		} else {
			if (!w->in_value && w->str_len == 0 && c == '/' && !w->bad_absolute) {
				w->bad_absolute = true;
				sv_report(w->cx, CODE(C_XS_KEY_ABSOLUTE), off + i,
					  "key %llu starts with '/': keys are relative to the "
					  "device model's xenstore directory",
					  (unsigned long long)(w->strings / 2));
			} else if (!w->in_value && !xen_xs_key_char_ok(c) && !w->bad_chars) {
				w->bad_chars = true;
				sv_report(w->cx, CODE(C_XS_KEY_CHARS), off + i,
					  "key %llu holds octet 0x%02x", 
					  (unsigned long long)(w->strings / 2), c);
			}
			w->str_len++;
		}
		w->last = c;
	}
	return 0;
}

static void check_xenstore_data(libxl_state *st, xen_rec *r)
{
	xs_walk w = { .cx = st->cx };
	uint32_t n = r->length - EMU_HDR_SIZE;

	if (n == 0)
		return;
	if (!xen_body_scan(st->cx, st->in, r, n, xs_walk_piece, &w,
			   "EMULATOR_XENSTORE_DATA"))
		return;
	if (w.last != 0)
		sv_report(st->cx, CODE(C_XS_TERMINATED), xen_body_off(r) + r->length - 1,
			  "last octet is 0x%02x, not NUL", w.last);
	else if (w.strings % 2 != 0)
		sv_report(st->cx, CODE(C_XS_ODD), w.str_start,
			  "%llu strings: the last key has no value",
			  (unsigned long long)w.strings);
	else
		st->xenstore_pairs += w.strings / 2;
}

/* ---- records -------------------------------------------------------------- */

/* Emulator records exist for HVM guests only; libxl refuses them for PV. */
static void judge_emulator_guest(libxl_state *st, uint64_t off)
{
	if (st->xc.guest_type == 1 && !st->reported_emulator_pv) {
		st->reported_emulator_pv = true;
		sv_report(st->cx, CODE(C_EMU_PV), off,
			  "emulator record in a PV guest's stream: libxl refuses it");
	}
}

static void check_emulator(libxl_state *st, xen_rec *r, char *sum, size_t sumlen)
{
	unsigned char b[EMU_HDR_SIZE];
	uint32_t id, index;

	st->emulator_records++;
	if (r->length < EMU_HDR_SIZE) {
		sv_report(st->cx, CODE(C_LENGTH), r->off,
			  "%s body of %u octets is shorter than the 8-octet emulator header",
			  r->name, r->length);
		return;
	}
	if (!st->xc.headers_ok && !st->pending_emulator) {
		st->pending_emulator = true;
		st->pending_emulator_off = r->off;
		st->pending_emulator_index = r->index;
	} else if (st->xc.headers_ok) {
		judge_emulator_guest(st, r->off);
	}
	if (!xen_body_read(st->cx, st->in, r, b, sizeof(b), "emulator header"))
		return;
	id = xen_ld32(st->be, b);
	index = xen_ld32(st->be, b + 4);
	if (id > EMU_ID_MAX)
		sv_report(st->cx, CODE(C_EMU_ID), xen_body_off(r),
			  "emulator_id is %u, expected 0 (unknown), 1 (qemu-traditional) "
			  "or 2 (qemu-upstream)", id);
	snprintf(sum, sumlen, "%s, index %u, %u octets",
		 id <= EMU_ID_MAX ? emulator_names[id] : "invalid emulator", index,
		 r->length - EMU_HDR_SIZE);
	if (r->type == REC_EMULATOR_XENSTORE_DATA) {
		check_xenstore_data(st, r);
	} else if (id == EMU_QEMU_UPSTREAM && r->length > EMU_HDR_SIZE) {
		/*
		 * qemu-upstream's blob is a QEMU device-state stream (QEMU's
		 * xen-save-devices-state): verified by the qemu module when
		 * one is registered, else skipped like every other emulator's
		 * blob, whose format the spec leaves open.  The padding after
		 * it is checked by the record framing either way.
		 */
		const sv_format *qemu = sv_format_find("qemu");

		if (qemu)
			xen_body_nested(st->cx, st->in, r, r->length - EMU_HDR_SIZE, qemu,
					"EMULATOR_CONTEXT QEMU stream");
	}
}

/*
 * libxl writes body_length 4 (u32 control_id) and 4 octets of record
 * padding; the spec draws an 8-octet body (control_id, padding), which
 * libxl reads the same way.  An empty body makes libxl read through a NULL
 * pointer (libxl_stream_read.c, process_record); ids 1-3 exist only on
 * COLO's back channel and the secondary rejects them.
 */
static void check_checkpoint_state(libxl_state *st, xen_rec *r, char *sum, size_t sumlen)
{
	unsigned char b[8];
	uint32_t id;

	if (r->length != 4 && r->length != 8) {
		sv_report(st->cx, CODE(C_LENGTH), r->off,
			  "CHECKPOINT_STATE body is %u octets, expected 4 (control_id) "
			  "or 8 (control_id and zero padding)", r->length);
		return;
	}
	if (!xen_body_read(st->cx, st->in, r, b, r->length, "CHECKPOINT_STATE"))
		return;
	id = xen_ld32(st->be, b);
	if (id > CKPT_CONTROL_NEW && id <= CKPT_CONTROL_BACK_MAX)
		sv_report(st->cx, CODE(C_CKPT_CONTROL), xen_body_off(r),
			  "control_id is %u (%s), which travels only from the COLO "
			  "secondary back to the primary; the forward stream carries 0 "
			  "(CHECKPOINT_NEW)", id,
			  id == 1 ? "SVM_SUSPENDED" : id == 2 ? "SVM_READY" : "SVM_RESUMED");
	else if (id != CKPT_CONTROL_NEW)
		sv_report(st->cx, CODE(C_CKPT_CONTROL), xen_body_off(r),
			  "control_id is %u, not 0 (CHECKPOINT_NEW); libxl knows ids 0-3 only", id);
	if (r->length == 8 && xen_ld32(st->be, b + 4) != 0)
		sv_report(st->cx, CODE(C_RESERVED), xen_body_off(r) + 4,
			  "padding field is 0x%08x, not zero", xen_ld32(st->be, b + 4));
	snprintf(sum, sumlen, "control_id %u", id);
}

/* Where an unexpected CHECKPOINT_STATE stands, for its message. */
static void report_stray_state(libxl_state *st, xen_rec *r)
{
	if (st->in_checkpoint)
		sv_report(st->cx, CODE(C_CKPT_STATE), r->off,
			  "CHECKPOINT_STATE before CHECKPOINT_END (libxl: \"Unexpected "
			  "CHECKPOINT_STATE record in stream\")");
	else if (st->after_state)
		sv_report(st->cx, CODE(C_CKPT_STATE), r->off,
			  "a second CHECKPOINT_STATE in a row: COLO sends one per round");
	else
		sv_report(st->cx, CODE(C_CKPT_STATE), r->off,
			  "CHECKPOINT_STATE outside a checkpoint exchange");
}

/* Run libxc until it hands control back; false when the stream is over. */
static bool run_libxc(libxl_state *st)
{
	xen_libxc_stop stop = xen_libxc_records(&st->xc);

	switch (stop) {
	case XEN_LIBXC_END:
		st->xc_paused = false;
		xen_libxc_finish(&st->xc);
		return true;
	case XEN_LIBXC_CHECKPOINT:
		st->xc_paused = true;
		st->in_checkpoint = true;
		st->checkpoints++;
		if (st->checkpoint_code && !st->reported_checkpointed) {
			st->reported_checkpointed = true;
			sv_report(st->cx, st->checkpoint_code, st->xc.last_rec_off,
				  "checkpointed (Remus/COLO) stream in an xl save file: "
				  "xl restore clears the checkpoint option and libxc fails "
				  "at this CHECKPOINT");
		}
		return true;
	default:
		return false;
	}
}

static void start_libxc(libxl_state *st, xen_rec *r)
{
	if (st->xc_started) {
		sv_report(st->cx, CODE(C_LIBXC_AGAIN), r->off,
			  "a second LIBXC_CONTEXT: libxc would restore into the same domain again");
		xen_libxc_finish(&st->xc);
	}
	st->xc_started = true;
	xen_libxc_init(&st->xc, st->cx, st->in, true, &st->next_index);
}

/*
 * The CHECKPOINT_STATE that COLO sends right after CHECKPOINT_END: COLO is
 * HVM-only (libxl refuses it for PV), and a stream is COLO or Remus in
 * every round (libxl_colo_restore.c reads one after each CHECKPOINT_END,
 * Remus's restore none).
 */
static void judge_colo_state(libxl_state *st, xen_rec *r)
{
	if (st->xc.guest_type == 1) {
		sv_report(st->cx, CODE(C_CKPT_STATE), r->off,
			  "CHECKPOINT_STATE in a PV guest's stream: COLO is for HVM "
			  "guests only, libxl refuses it for PV");
		return;
	}
	if (st->mode == CKPT_REMUS && !st->reported_mixed) {
		st->reported_mixed = true;
		sv_report(st->cx, CODE(C_CKPT_MIXED), r->off,
			  "checkpoint %llu is followed by CHECKPOINT_STATE (COLO), "
			  "the earlier ones were not (Remus)",
			  (unsigned long long)st->checkpoints);
	}
	if (st->mode == CKPT_UNDECIDED)
		st->mode = CKPT_COLO;
}

/*
 * After CHECKPOINT_END (or COLO's CHECKPOINT_STATE that follows it): the
 * sender may stop after any complete checkpoint; a type-5 record is
 * libxl's CHECKPOINT_STATE (libxc never begins a round with
 * X86_PV_VCPU_EXTENDED, and COLO is HVM-only); anything else is the next
 * round's libxc records.  False when verification cannot go on.
 */
static bool next_round(libxl_state *st, bool *done, bool after_state)
{
	const unsigned char *p;
	size_t avail;

	if (sv_at_end(st->in)) {
		*done = true;
		return true;
	}
	p = sv_peek(st->in, XEN_RHDR_SIZE, &avail);
	if (avail >= 4 && xen_ld32(st->be, p) == REC_CHECKPOINT_STATE) {
		/* After a CHECKPOINT_STATE, a second one is stray. */
		st->expect_state = !after_state;
		return true;
	}
	st->after_state = false;
	if (!after_state && st->xc.guest_type != 1) {
		if (st->mode == CKPT_COLO && !st->reported_mixed) {
			st->reported_mixed = true;
			/* At the next round's first record, not yet read. */
			sv_record_none(st->cx);
			sv_report(st->cx, CODE(C_CKPT_MIXED), sv_offset(st->in),
				  "checkpoint %llu has no CHECKPOINT_STATE after its "
				  "CHECKPOINT_END (Remus), the earlier ones had (COLO)",
				  (unsigned long long)st->checkpoints);
		}
		if (st->mode == CKPT_UNDECIDED)
			st->mode = CKPT_REMUS;
	}
	return st->xc_paused ? run_libxc(st) : true;
}

/* Returns false when verification cannot go on. */
static bool verify_record(libxl_state *st, xen_rec *r, bool *done)
{
	const struct libxl_kind *k = r->type < REC_NTYPES ? &libxl_kinds[r->type] : NULL;
	char sum[96] = "";
	bool body_ok = true;

	if (!k) {
		sv_report(st->cx, CODE(C_UNKNOWN), r->off,
			  "record type 0x%08x is unknown: libxl rejects it", r->type);
		body_ok = false;
	} else if (k->fixed_length != ANY_LENGTH && r->length != k->fixed_length) {
		sv_report(st->cx, CODE(C_LENGTH), r->off,
			  "%s body is %u octets, expected %u", k->name, r->length,
			  k->fixed_length);
		body_ok = false;
	}
	if (k && st->in_checkpoint && !k->in_checkpoint)
		sv_report(st->cx, CODE(C_IN_CHECKPOINT), r->off,
			  "%s between a libxc CHECKPOINT and CHECKPOINT_END", k->name);

	if (k && body_ok) {
		switch (r->type) {
		case REC_EMULATOR_XENSTORE_DATA:
		case REC_EMULATOR_CONTEXT:
			check_emulator(st, r, sum, sizeof(sum));
			break;
		case REC_CHECKPOINT_END:
			if (!st->in_checkpoint)
				sv_report(st->cx, CODE(C_CKPT_END), r->off,
					  "CHECKPOINT_END without a preceding libxc CHECKPOINT");
			break;
		case REC_CHECKPOINT_STATE:
			if (st->expect_state)
				judge_colo_state(st, r);
			else
				report_stray_state(st, r);
			check_checkpoint_state(st, r, sum, sizeof(sum));
			break;
		default:
			break;
		}
	}
	if (sv_want_records(st->cx))
		sv_emit_record(st->cx, r->index, r->name, r->off,
			       XEN_RHDR_SIZE + xen_padded(r->length), "%s", sum);
	if (!xen_rec_finish(st->cx, st->in, r, CODE(C_PADDING)))
		return false;
	if (!k)
		return true;

	switch (r->type) {
	case REC_END:
		*done = true;
		return true;
	case REC_LIBXC_CONTEXT:
		start_libxc(st, r);
		if (!xen_libxc_headers(&st->xc))
			return false;
		if (st->pending_emulator) {
			st->pending_emulator = false;
			sv_set_record(st->cx, st->pending_emulator_index, "EMULATOR record");
			judge_emulator_guest(st, st->pending_emulator_off);
		}
		return run_libxc(st);
	case REC_CHECKPOINT_END:
		if (!st->in_checkpoint)
			return true;
		st->in_checkpoint = false;
		return next_round(st, done, false);
	case REC_CHECKPOINT_STATE:
		if (!st->expect_state && !st->after_state)
			return true; /* stray: libxl records go on */
		st->expect_state = false;
		st->after_state = true;
		return next_round(st, done, true);
	default:
		return true;
	}
}

/* Printable, and at least 6 of its 8 octets those of "LibxlFmt": a damaged ident. */
static bool ident_close(const unsigned char *h)
{
	static const char want[8] = "LibxlFmt";
	int same = 0;

	for (int i = 0; i < 8; i++) {
		if (h[i] < 0x20 || h[i] > 0x7e)
			return false;
		same += h[i] == (unsigned char)want[i];
	}
	return same >= 6;
}

void xen_libxl_verify_stream(sv_ctx *cx, sv_stream *in,
			     const sv_code *checkpoint_code)
{
	libxl_state st = { .cx = cx, .in = in, .checkpoint_code = checkpoint_code };
	unsigned char h[HDR_SIZE];
	uint64_t at = sv_offset(in);
	uint32_t version, options;
	bool done = false;

	sv_record_none(cx);
	if (!sv_need(cx, in, h, sizeof(h), "libxl header"))
		return;
	if (xen_ld64(true, h) != XEN_LIBXL_IDENT) {
		if (xen_libxc_is_header(h, sizeof(h)))
			sv_report(cx, CODE(C_IDENT), at,
				  "this is a bare libxc stream, not a libxl one (verify it with --format libxc)");
		else if (ident_close(h))
			/* Text where it is text; a damaged ident is no legacy stream. */
			sv_report(cx, CODE(C_IDENT), at, "ident reads \"%.8s\", not \"LibxlFmt\"",
				  (const char *)h);
		else
			sv_report(cx, CODE(C_IDENT), at,
				  "ident is 0x%016llx, not \"LibxlFmt\": a legacy (pre-Xen-4.6) "
				  "stream? convert it with Xen's convert-legacy-stream "
				  "(verify it with --format libxc-legacy)",
				  (unsigned long long)xen_ld64(true, h));
		return;
	}
	version = xen_ld32(true, h + 8);
	options = xen_ld32(true, h + 12);
	if (version != HDR_VERSION)
		sv_report(cx, CODE(C_VERSION), at + 8, "version is %u, expected 2", version);
	st.be = (options & OPT_BIG_ENDIAN) != 0;
	if (st.be)
		sv_report(cx, CODE(C_BIG_ENDIAN), at + 12,
			  "options declare a big-endian stream; libxl refuses it "
			  "(records are verified as big-endian)");
	if (options & OPT_LEGACY)
		sv_report(cx, CODE(C_CONVERTED), at + 12,
			  "converted from a legacy stream");
	if (options & ~(OPT_BIG_ENDIAN | OPT_LEGACY))
		sv_report(cx, CODE(C_OPTIONS), at + 12,
			  "reserved option bits 0x%08x are set",
			  options & ~(OPT_BIG_ENDIAN | OPT_LEGACY));

	while (!done && !sv_stopped(cx)) {
		unsigned char rh[XEN_RHDR_SIZE];
		xen_rec r = { 0 };

		r.off = sv_offset(in);
		r.index = st.next_index++;
		sv_record_begin(cx, r.index, "record header", r.off);
		if (!sv_need(cx, in, rh, sizeof(rh), "libxl record header"))
			break;
		r.type = xen_ld32(st.be, rh);
		r.length = xen_ld32(st.be, rh + 4);
		r.name = r.type < REC_NTYPES ? libxl_kinds[r.type].name : "unknown";
		sv_set_record(cx, r.index, r.name);
		sv_count_record(cx);
		if (!verify_record(&st, &r, &done))
			break;
	}
	if (st.xc_started)
		xen_libxc_finish(&st.xc);
	if (done && !sv_stopped(cx)) {
		sv_record_none(cx);
		if (!st.xc_started)
			sv_report(cx, CODE(C_NO_LIBXC), sv_offset(in),
				  "no LIBXC_CONTEXT record: the stream restores no memory or CPU state");
		if (!sv_at_end(in))
			sv_report(cx, CODE(C_END_TRAILING), sv_offset(in),
				  "data follows the END record");
	}
	if (sv_want_records(cx)) {
		sv_emit_stat_u64(cx, "libxl.checkpoints", st.checkpoints);
		sv_emit_stat_u64(cx, "emulator.records", st.emulator_records);
		sv_emit_stat_u64(cx, "emulator.xenstore_pairs", st.xenstore_pairs);
	}
}

static void libxl_verify(sv_ctx *cx, sv_stream *in)
{
	xen_libxl_verify_stream(cx, in, NULL);
}

const sv_format sv_format_libxl = {
	.name = "libxl",
	.description = "Xen libxl migration stream (v2), with its nested libxc stream",
	.codes = libxl_codes,
	.ncodes = LIBXL_NCODES,
	.bid = libxl_bid,
	.verify = libxl_verify,
	.verify_dir = NULL,
};
