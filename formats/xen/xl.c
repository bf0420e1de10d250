/*
 * `xl save` files: xl's own header and optional data (the domain
 * configuration), then the stream the header announces: a libxl v2 stream
 * (mandatory flag STREAMv2) or a legacy pre-Xen-4.6 stream, which libxl
 * pipes through convert-legacy-stream with the guest type of the config,
 * and which is verified the same way (legacy.c).
 * Rules: the Xen migration stream specs (docs/specs in Xen), tools/xl/xl_vmcontrol.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "formats/xen/xen.h"

#define XL_CODES(X) \
	X(C_MAGIC, "xl.header.magic", ERROR, "file does not start with xl's save-file magic") \
	X(C_BYTE_ORDER, "xl.header.byte-order", ERROR, "byte-order marker is not 0x01020304 in this host's order") \
	X(C_MANDATORY, "xl.header.mandatory-flags", ERROR, "unknown mandatory flag bits: xl refuses the file") \
	X(C_OPTDATA, "xl.optional-data.truncated", ERROR, "optional data too short for the config length or config") \
	X(C_LEGACY, "xl.stream.legacy", NOTE, "legacy (pre-Xen-4.6) stream (STREAMv2 clear): verified as xl's converter reads it") \
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
/* Configs are a few KiB; a longer one is not read for the guest type. */
#define XL_CONFIG_MAX (1u << 20)

/* "hvm" -> HVM; "pv", "pvh" (built like PV by the converter) -> PV. */
static uint32_t guest_of(const char *v, size_t n, bool builder)
{
	if (n == 3 && memcmp(v, "hvm", 3) == 0)
		return XEN_GUEST_HVM;
	if (builder)
		return XEN_GUEST_PV; /* xl: any builder but "hvm" builds PV */
	if ((n == 2 && memcmp(v, "pv", 2) == 0) || (n == 3 && memcmp(v, "pvh", 3) == 0))
		return XEN_GUEST_PV;
	return 0;
}

/*
 * xl's text config: settings `name = "value"` (or 'value') separated by
 * newlines or ';', '#' comments.  The last setting of a name wins
 * (libxlu prepends settings and looks names up from the front); `type`
 * rules over `builder` (xl_parse.c).
 */
static uint32_t guest_from_text(const char *t, size_t n)
{
	uint32_t type = 0, builder = 0;

	for (size_t i = 0; i < n;) {
		size_t name, name_len, v;
		char q;

		while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' ||
				 t[i] == '\r' || t[i] == ';'))
			i++;
		name = i;
		while (i < n && (t[i] == '_' || (t[i] >= 'a' && t[i] <= 'z') ||
				 (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9')))
			i++;
		name_len = i - name;
		while (i < n && (t[i] == ' ' || t[i] == '\t'))
			i++;
		if (name_len > 0 && i < n && t[i] == '=') {
			i++;
			while (i < n && (t[i] == ' ' || t[i] == '\t'))
				i++;
			if (i < n && (t[i] == '"' || t[i] == '\'')) {
				q = t[i++];
				v = i;
				while (i < n && t[i] != q && t[i] != '\n')
					i++;
				if (name_len == 4 && memcmp(t + name, "type", 4) == 0)
					type = guest_of(t + v, i - v, false);
				else if (name_len == 7 && memcmp(t + name, "builder", 7) == 0)
					builder = guest_of(t + v, i - v, true);
			}
		}
		/* The rest of the setting (or a comment) up to its end. */
		while (i < n && t[i] != '\n' && t[i] != ';')
			i++;
	}
	return type ? type : builder;
}

/* libxl's JSON domain config: c_info.type. */
static uint32_t guest_from_json(const char *t, size_t n)
{
	json_error_t err;
	json_t *root = json_loadb(t, n, 0, &err);
	const char *type = json_string_value(json_object_get(json_object_get(root, "c_info"),
							     "type"));
	uint32_t guest = type ? guest_of(type, strlen(type), false) : 0;

	json_decref(root);
	return guest;
}

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
	uint32_t guest = 0;

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
			optlen -= 4;
			if (config_len > optlen) {
				sv_report(cx, CODE(C_OPTDATA), opt_at,
					  "config length %u exceeds the %u octet(s) of optional data left (xl: \"Savefile truncated\")",
					  config_len, optlen);
			} else if (config_len > 0 && config_len <= XL_CONFIG_MAX) {
				size_t cgot;
				char *config = sv_read_alloc(in, config_len, &cgot);

				if (!config || cgot != config_len) {
					sv_report_truncated(cx, opt_at + 4, config_len,
							    config ? cgot : 0, "xl config");
					free(config);
					return;
				}
				/* xl saves the config with its terminating NUL. */
				guest = mandatory & XL_FLAG_JSON
					? guest_from_json(config, strnlen(config, config_len))
					: guest_from_text(config, strnlen(config, config_len));
				free(config);
				optlen -= config_len;
			}
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
		  "STREAMv2 flag clear: a legacy (pre-Xen-4.6) stream follows, which "
		  "libxl converts with convert-legacy-stream on restore; verified the "
		  "same way, as %s", guest == XEN_GUEST_PV ? "PV (from the xl config)"
		  : guest == XEN_GUEST_HVM ? "HVM (from the xl config)"
		  : "the guest type the config does not name");
	xen_legacy_verify(cx, in, guest, "the xl config");
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
