/*
 * `xl save` files: xl's own header and optional data (the domain
 * configuration), then the stream the header announces: a libxl v2 stream
 * (mandatory flag STREAMv2) or a legacy pre-Xen-4.6 stream, which xl
 * converts on restore and which is identified here, not verified.
 * Rules: ../shared/formats/xen-streams.md, tools/xl/xl_vmcontrol.c.
 */
#include <string.h>

#include "formats/xen/xen.h"

#define XL_CODES(X) \
	X(C_MAGIC, "xl.header.magic", ERROR, "file does not start with xl's save-file magic") \
	X(C_BYTE_ORDER, "xl.header.byte-order", ERROR, "byte-order marker is not 0x01020304 in this host's order") \
	X(C_MANDATORY, "xl.header.mandatory-flags", ERROR, "unknown mandatory flag bits: xl refuses the file") \
	X(C_OPTDATA, "xl.optional-data.truncated", ERROR, "optional data too short for the config length or config") \
	X(C_LEGACY, "xl.stream.legacy", WARNING, "legacy (pre-Xen-4.6) stream: xl converts it on restore; its contents are not verified") \
	X(C_V2_NO_FLAG, "xl.stream.v2-without-flag", ERROR, "v2 stream behind a header without STREAMv2: xl would run the legacy converter on it") \
	X(C_CHECKPOINTED, "xl.stream.checkpointed", ERROR, "checkpointed (Remus/COLO) stream in a save file: xl restore fails at its first CHECKPOINT")

enum { XL_CODES(SV_CODE_ENUM) XL_NCODES };
static const sv_code xl_codes[] = { XL_CODES(SV_CODE_ROW) };

#define CODE(c) (&xl_codes[c])

/* 32 octets, the NULs included. */
static const unsigned char xl_magic[32] = "Xen saved domain, xl format\n \0 \r";
#define XL_BYTEORDER 0x01020304u
#define XL_FLAG_JSON 0x1u
#define XL_FLAG_STREAMV2 0x2u
#define XL_FIELDS_SIZE 16u

static int xl_bid(const sv_bid_input *in)
{
	if (in->is_dir || in->head_len < sizeof(xl_magic) ||
	    memcmp(in->head, xl_magic, sizeof(xl_magic)) != 0)
		return 0;
	if (in->head_len >= sizeof(xl_magic) + 4 &&
	    (xen_ld32(false, in->head + 32) == XL_BYTEORDER ||
	     xen_ld32(true, in->head + 32) == XL_BYTEORDER))
		return 100;
	return 95;
}

static void xl_verify(sv_ctx *cx, sv_stream *in)
{
	unsigned char magic[sizeof(xl_magic)], f[XL_FIELDS_SIZE], len4[4];
	uint32_t mandatory, optional, optlen, optlen_all;
	uint64_t at = sv_offset(in);
	bool be = false;
	const unsigned char *p;
	size_t avail;

	sv_record_none(cx);
	if (!sv_need(cx, in, magic, sizeof(magic), "xl save-file magic"))
		return;
	if (memcmp(magic, xl_magic, sizeof(magic)) != 0) {
		sv_report(cx, CODE(C_MAGIC), at,
			  "the first 32 octets are not \"Xen saved domain, xl format\\n \\0 \\r\"");
		return;
	}
	at = sv_offset(in);
	if (!sv_need(cx, in, f, sizeof(f), "xl save-file header"))
		return;
	/* Files are written in the saving host's order; xl restores on x86. */
	if (xen_ld32(false, f) != XL_BYTEORDER) {
		be = xen_ld32(true, f) == XL_BYTEORDER;
		sv_report(cx, CODE(C_BYTE_ORDER), at,
			  "byte-order marker reads 0x%08x%s; xl refuses the file",
			  xen_ld32(false, f),
			  be ? " (saved on a big-endian host)" : "");
	}
	mandatory = xen_ld32(be, f + 4);
	optional = xen_ld32(be, f + 8);
	optlen = optlen_all = xen_ld32(be, f + 12);
	if (mandatory & ~(XL_FLAG_JSON | XL_FLAG_STREAMV2))
		sv_report(cx, CODE(C_MANDATORY), at + 4,
			  "mandatory flags 0x%08x include unknown bits 0x%08x",
			  mandatory, mandatory & ~(XL_FLAG_JSON | XL_FLAG_STREAMV2));

	if (optlen > 0) {
		uint64_t opt_at = sv_offset(in), got;

		if (optlen < 4) {
			sv_report(cx, CODE(C_OPTDATA), opt_at,
				  "optional data is %u octet(s), too short for the 4-octet config length (xl: \"Savefile truncated\")",
				  optlen);
		} else {
			uint32_t config_len;

			if (!sv_need(cx, in, len4, sizeof(len4), "xl config length"))
				return;
			config_len = xen_ld32(be, len4);
			if (config_len > optlen - 4)
				sv_report(cx, CODE(C_OPTDATA), opt_at,
					  "config length %u exceeds the %u octet(s) of optional data left (xl: \"Savefile truncated\")",
					  config_len, optlen - 4);
			optlen -= 4;
		}
		got = sv_skip(in, optlen);
		if (got != optlen) {
			sv_report_truncated(cx, sv_offset(in) - got, optlen, got,
					    "xl optional data");
			return;
		}
	}

	if (sv_want_records(cx)) {
		/* xl ignores the optional flags; they are shown, not judged. */
		sv_emit_stat(cx, "xl.mandatory_flags", "0x%x%s%s", mandatory,
			     mandatory & XL_FLAG_JSON ? " JSON" : "",
			     mandatory & XL_FLAG_STREAMV2 ? " STREAMv2" : "");
		sv_emit_stat(cx, "xl.optional_flags", "0x%x", optional);
		sv_emit_stat_u64(cx, "xl.optional_data_length", optlen_all);
	}

	p = sv_peek(in, 12, &avail);
	if (mandatory & XL_FLAG_STREAMV2) {
		xen_libxl_verify_stream(cx, in, CODE(C_CHECKPOINTED));
		return;
	}
	if (xen_libxc_is_header(p, avail) ||
	    (avail >= 8 && xen_ld64(true, p) == XEN_LIBXL_IDENT)) {
		bool libxl = !xen_libxc_is_header(p, avail);

		sv_report(cx, CODE(C_V2_NO_FLAG), sv_offset(in),
			  "a %s v2 stream follows, but the STREAMv2 flag is clear: xl "
			  "would feed it to the legacy converter",
			  libxl ? "libxl" : "libxc");
		/* Verify the contents anyway, as what they are. */
		if (libxl) {
			xen_libxl_verify_stream(cx, in, CODE(C_CHECKPOINTED));
		} else {
			const sv_format *xc = sv_format_find("libxc");

			if (xc && xc->verify)
				xc->verify(cx, in);
		}
		return;
	}
	sv_report(cx, CODE(C_LEGACY), sv_offset(in),
		  "STREAMv2 flag clear: a legacy (pre-Xen-4.6) stream follows; xl "
		  "converts it on restore (Xen's convert-legacy-stream does the same), "
		  "its contents are not verified");
}

const sv_format sv_format_xl = {
	.name = "xl",
	.description = "Xen `xl save` file: xl header, domain config, libxl stream",
	.codes = xl_codes,
	.ncodes = XL_NCODES,
	.bid = xl_bid,
	.verify = xl_verify,
	.verify_dir = NULL,
};
