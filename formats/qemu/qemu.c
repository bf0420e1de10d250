/*
 * QEMU migration streams: what `migrate "exec:cat > FILE"`, `migrate
 * file:FILE`, savevm and `virsh save` (wrapped in libvirt's header) write,
 * and Xen's `xen-save-devices-state` (device sections only, nested in a
 * libxl EMULATOR_CONTEXT record).
 *
 * Rules follow QEMU's migration format and QEMU's loader:
 * migration/savevm.c (qemu_loadvm_state, qemu_loadvm_state_header,
 * qemu_loadvm_section_start_full / _part_end, check_section_footer,
 * loadvm_process_command, loadvm_handle_cmd_packaged), migration/ram.c
 * (ram_load_precopy, parse_ramblocks, parse_ramblock,
 * parse_ramblock_mapped_ram, ram_block_from_stream, load_xbzrle) and
 * migration/vmstate.c (vmstate_save_state_v / vmstate_subsection_save for
 * the vmdesc that describes device fields).  Every integer is big-endian.
 *
 * Device sections carry no length: QEMU's loader knows their layout from
 * its own device models.  A verifier without them finds a section's end
 * at its footer (0x7E + the section id) followed by a well-formed next
 * section header, or, in streams without footers (Xen, machine types before
 * 2.5), at the next well-formed section header.  Bodies are kept (up to
 * STORE_MAX octets in all) until the vmdesc at the end of the stream says
 * what every field's size is; then each device's state is walked field by
 * field.  RAM sections are parsed record by record; page contents are
 * skipped (a seek on regular files).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

#define QEMU_CODES(X) \
	X(C_MAGIC, "qemu.header.magic", ERROR, "stream does not start with \"QEVM\"") \
	X(C_V2, "qemu.header.obsolete-v2", ERROR, "SaveVM v2 stream: obsolete, QEMU no longer loads it") \
	X(C_VERSION, "qemu.header.version", ERROR, "unsupported stream version (not 3)") \
	X(C_CONFIG_MISSING, "qemu.configuration.missing", NOTE, "no CONFIGURATION section (Xen device state, or a machine type that does not send one)") \
	X(C_CONFIG_NAME, "qemu.configuration.name-length", ERROR, "machine type name length is 0 or above 256") \
	X(C_CONFIG_SUB, "qemu.configuration.subsection", ERROR, "CONFIGURATION subsection malformed (name, page bits or capability count)") \
	X(C_CONFIG_SUB_UNKNOWN, "qemu.configuration.subsection-unknown", NOTE, "CONFIGURATION subsection unknown to this verifier: skipped to the next section") \
	X(C_SECTION_TYPE, "qemu.section.type", ERROR, "unknown section type") \
	X(C_IDSTR, "qemu.section.idstr", ERROR, "section id string is empty") \
	X(C_UNKNOWN_ID, "qemu.section.unknown-id", ERROR, "PART/END section for an id no START section announced") \
	X(C_AFTER_END, "qemu.section.after-end", ERROR, "PART/END section for an id whose END section was already sent") \
	X(C_NO_END, "qemu.section.no-end", ERROR, "section body has no end: no footer or next section before the end of the stream") \
	X(C_FOOTER_MISSING, "qemu.footer.missing", ERROR, "section footer missing") \
	X(C_FOOTER_MISMATCH, "qemu.footer.mismatch", ERROR, "section footer carries another section id") \
	X(C_CMD_UNKNOWN, "qemu.command.unknown", ERROR, "unknown COMMAND") \
	X(C_CMD_LENGTH, "qemu.command.length", ERROR, "COMMAND with the wrong data length for its kind") \
	X(C_PACKAGED_SIZE, "qemu.command.packaged-size", ERROR, "PACKAGED command announces more than QEMU's 16 MiB") \
	X(C_PACKAGED_NESTED, "qemu.command.packaged-nested", ERROR, "PACKAGED command inside a package") \
	X(C_VMDESC_MISSING, "qemu.vmdesc.missing", NOTE, "no VMDESCRIPTION after EOF: device fields are not walked") \
	X(C_VMDESC_EXPECTED, "qemu.vmdesc.expected", WARNING, "bytes after EOF that are not a VMDESCRIPTION") \
	X(C_VMDESC_LARGE, "qemu.vmdesc.too-large", NOTE, "VMDESCRIPTION above the 384 KiB this verifier parses: skipped") \
	X(C_VMDESC_JSON, "qemu.vmdesc.json", ERROR, "VMDESCRIPTION is not the JSON QEMU writes") \
	X(C_DEV_MISSING, "qemu.vmdesc.device-missing", ERROR, "device section without an entry in the VMDESCRIPTION") \
	X(C_DEV_EXTRA, "qemu.vmdesc.device-extra", ERROR, "VMDESCRIPTION device without a section in the stream") \
	X(C_DEV_VERSION, "qemu.vmdesc.version", ERROR, "section version differs from its VMDESCRIPTION entry") \
	X(C_DEV_SHORT, "qemu.device.short", ERROR, "device state ends before the fields its description lists") \
	X(C_DEV_LONG, "qemu.device.long", ERROR, "device state runs past the fields its description lists") \
	X(C_DEV_SUBSECTION, "qemu.device.subsection", ERROR, "device subsection header differs from its description") \
	X(C_DEV_NOT_WALKED, "qemu.device.not-walked", NOTE, "device state beyond what this verifier keeps: fields not walked") \
	X(C_TRAILING, "qemu.trailing-data", WARNING, "bytes after the VMDESCRIPTION") \
	X(C_RAM_VERSION, "qemu.ram.version", ERROR, "RAM section version is not 4") \
	X(C_RAM_FLAGS, "qemu.ram.flags", ERROR, "RAM record with an unknown or illegal flag combination") \
	X(C_RAM_CONTINUE, "qemu.ram.continue", ERROR, "RAM page record continues a block when none was named") \
	X(C_RAM_BLOCK, "qemu.ram.block-unknown", ERROR, "RAM page record names a block the MEM_SIZE list does not hold") \
	X(C_RAM_OFFSET, "qemu.ram.offset", ERROR, "RAM page offset beyond its block's length") \
	X(C_RAM_ZERO, "qemu.ram.zero-fill", ERROR, "ZERO page with a non-zero fill octet") \
	X(C_RAM_XBZRLE, "qemu.ram.xbzrle", ERROR, "XBZRLE page with a bad encoding octet or a length above the page size") \
	X(C_RAM_COMPRESS, "qemu.ram.compressed-length", ERROR, "compressed page longer than zlib's bound for one page") \
	X(C_RAM_MEM_SIZE, "qemu.ram.mem-size", ERROR, "MEM_SIZE block lengths exceed the total") \
	X(C_RAM_BLOCK_NAME, "qemu.ram.block-name", ERROR, "MEM_SIZE block with an empty name") \
	X(C_RAM_BLOCK_COUNT, "qemu.ram.block-count", ERROR, "MEM_SIZE list with more than 1024 blocks") \
	X(C_RAM_MULTIFD, "qemu.ram.multifd", NOTE, "multifd stream: pages travel on other channels, this file holds only the main one") \
	X(C_RAM_HOOK, "qemu.ram.hook", ERROR, "RDMA hook record in a stream that is not RDMA") \
	X(C_MR_VERSION, "qemu.mapped-ram.version", ERROR, "mapped-ram block header version is not 1") \
	X(C_MR_PAGE_SIZE, "qemu.mapped-ram.page-size", ERROR, "mapped-ram block header page size differs from the target page size") \
	X(C_MR_ALIGN, "qemu.mapped-ram.alignment", ERROR, "mapped-ram pages offset not aligned to 1 MiB") \
	X(C_MR_BITMAP, "qemu.mapped-ram.bitmap", ERROR, "mapped-ram bitmap not between the block header and the pages") \
	X(C_LV_PARTIAL, "qemu.libvirt.partial", ERROR, "libvirt save image marked incomplete (LibvirtQemudPart)") \
	X(C_LV_VERSION, "qemu.libvirt.version", ERROR, "libvirt save image version is not 1 or 2") \
	X(C_LV_DATA, "qemu.libvirt.data-length", ERROR, "libvirt domain XML length is 0, above 16 MiB, or below the cookie offset") \
	X(C_LV_COMPRESSED, "qemu.libvirt.compressed", NOTE, "libvirt save image holds a compressed QEMU stream: not verified") \
	X(C_LV_FORMAT, "qemu.libvirt.format", ERROR, "libvirt save image compression format unknown")

enum { QEMU_CODES(SV_CODE_ENUM) QEMU_NCODES };
static const sv_code qemu_codes[] = { QEMU_CODES(SV_CODE_ROW) };

#define CODE(c) (&qemu_codes[c])

/* ---- constants of the format (migration/savevm.c, migration/ram.c) ------- */

#define QEMU_MAGIC 0x5145564du /* "QEVM" */
#define QEMU_VERSION 3u
#define QEMU_VERSION_COMPAT 2u

enum {
	SEC_EOF = 0x00, SEC_START = 0x01, SEC_PART = 0x02, SEC_END = 0x03,
	SEC_FULL = 0x04, SEC_SUBSECTION = 0x05, SEC_VMDESC = 0x06,
	SEC_CONFIG = 0x07, SEC_COMMAND = 0x08, SEC_FOOTER = 0x7e,
};

/* enum qemu_vm_cmd (migration/savevm.c) and mig_cmd_args lengths. */
enum {
	CMD_INVALID, CMD_OPEN_RETURN_PATH, CMD_PING, CMD_POSTCOPY_ADVISE,
	CMD_POSTCOPY_LISTEN, CMD_POSTCOPY_RUN, CMD_POSTCOPY_RAM_DISCARD,
	CMD_PACKAGED, CMD_ENABLE_COLO, CMD_POSTCOPY_RESUME, CMD_RECV_BITMAP,
	CMD_SWITCHOVER_START, CMD_MAX
};
#define ANY_LEN (-1)
static const struct {
	const char *name;
	int len;
} cmd_table[CMD_MAX] = {
	[CMD_INVALID] = { "INVALID", ANY_LEN },
	[CMD_OPEN_RETURN_PATH] = { "OPEN_RETURN_PATH", 0 },
	[CMD_PING] = { "PING", 4 },
	[CMD_POSTCOPY_ADVISE] = { "POSTCOPY_ADVISE", ANY_LEN }, /* 0 or 16 */
	[CMD_POSTCOPY_LISTEN] = { "POSTCOPY_LISTEN", 0 },
	[CMD_POSTCOPY_RUN] = { "POSTCOPY_RUN", 0 },
	[CMD_POSTCOPY_RAM_DISCARD] = { "POSTCOPY_RAM_DISCARD", ANY_LEN },
	[CMD_POSTCOPY_RESUME] = { "POSTCOPY_RESUME", 0 },
	[CMD_PACKAGED] = { "PACKAGED", 4 },
	[CMD_RECV_BITMAP] = { "RECV_BITMAP", ANY_LEN },
	[CMD_ENABLE_COLO] = { "ENABLE_COLO", 0 },
	[CMD_SWITCHOVER_START] = { "SWITCHOVER_START", 0 },
};
/* MAX_VM_CMD_PACKAGED_SIZE in savevm.c. */
#define PACKAGED_MAX (1u << 24)

/* RAM record flags, in the bits below the target page size. */
#define RAM_FULL 0x01u /* obsolete */
#define RAM_ZERO 0x02u
#define RAM_MEM_SIZE 0x04u
#define RAM_PAGE 0x08u
#define RAM_EOS 0x10u
#define RAM_CONTINUE 0x20u
#define RAM_XBZRLE 0x40u
#define RAM_HOOK 0x80u
#define RAM_COMPRESS 0x100u
#define RAM_MULTIFD_FLUSH 0x200u
#define RAM_VERSION 4u
#define XBZRLE_ENCODING 0x01u
/* zlib's compressBound(4096): the loader's cap on a compressed page. */
#define COMPRESS_BOUND(ps) ((ps) + ((ps) >> 12) + ((ps) >> 14) + ((ps) >> 25) + 13)

/* mapped-ram (migration/ram.c MappedRamHeader, packed, big-endian). */
#define MR_HEADER_SIZE 28u
#define MR_VERSION 1u
#define MR_ALIGN (1u << 20) /* MAPPED_RAM_FILE_OFFSET_ALIGNMENT */

/* libvirt's save image header (src/qemu/qemu_saveimage.h). */
#define LV_MAGIC "LibvirtQemudSave"
#define LV_MAGIC_PART "LibvirtQemudPart"
#define LV_MAGIC_LEN 16u
#define LV_HEADER_SIZE 92u
#define LV_VERSION_MAX 2u
#define LV_DATA_MAX (16u << 20)
static const char *const lv_formats[] = { "raw", "gzip", "bzip2", "xz", "lzop", "zstd" };

/* Caps of this verifier: beyond them QEMU's own structures never go. */
#define MACHINE_NAME_MAX 256u
#define CAPS_MAX 256u
#define BLOCKS_MAX 1024u
#define VMDESC_MAX (384u << 10) /* jansson holds about 12x its text: peak RSS stays below 8 MiB */
#define STORE_MAX (512u << 10)
#define SECTIONS_MAX 65536u
#define WALK_BUDGET 10000000ul
#define WALK_DEPTH 32

/* ---- state ------------------------------------------------------------------ */

enum { KIND_RAM, KIND_ITER, KIND_DEVICE };
enum { FOOTERS_UNKNOWN, FOOTERS_YES, FOOTERS_NO };

typedef struct sect {
	uint32_t id, instance, version;
	char name[257];
	uint8_t kind;
	bool started;   /* announced by START */
	bool ended;     /* END seen */
	bool in_package;
	uint64_t hdr_off, ver_off, body_off, body_len;
	size_t store_off;
	bool stored;    /* body kept in the store */
} sect;

typedef struct ram_block {
	char name[257];
	uint64_t length;
	uint64_t page_size; /* postcopy hugepage size, 0 when not sent */
} ram_block;

typedef struct qemu_state {
	sv_ctx *cx;
	sv_stream *in;
	uint64_t index;        /* next record index */
	uint64_t page_size;
	int footers;
	bool mapped_ram, ignore_shared, postcopy, multifd_noted;
	bool have_config;
	bool in_package;       /* parsing a PACKAGED command's stream */
	bool package_quit;     /* POSTCOPY_RUN seen in the package */
	bool vmdesc_seen;
	char machine[MACHINE_NAME_MAX + 1];

	sect *secs;            /* every START/FULL section, in stream order */
	size_t nsecs, cap_secs;
	bool secs_full;
	/* id -> index+1 of START sections, open addressing */
	uint32_t *hash_id, *hash_ix;
	size_t hash_cap, hash_used;

	ram_block *blocks;
	size_t nblocks;
	ram_block **sorted;    /* blocks by name, for page records */
	long cur_block;        /* -1 none, -2 unknown (already reported) */
	uint64_t ram_total;

	unsigned char *store;
	size_t store_len, store_cap;
	bool store_full;

	uint64_t pages_zero, pages_full, pages_xbzrle, pages_compressed, pages_mapped;
	uint64_t devices;
	unsigned long walk_budget;
	bool stop;             /* a fault after which the layout is unknown */
} qemu_state;

/* A PACKAGED command's stream is verified by this module again, with the
 * parent's section table (the package shares ids with the outer stream). */
static _Thread_local qemu_state *package_parent;

/* ---- helpers --------------------------------------------------------------- */

static uint16_t ld16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t ld32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t ld64(const unsigned char *p) { return (uint64_t)ld32(p) << 32 | ld32(p + 4); }
static uint32_t ld32le(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* A name from the stream, printable, for messages. */
static const char *shown(const char *s, char *buf, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; s[i] && j + 5 < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			buf[j++] = (char)c;
		} else {
			snprintf(buf + j, n - j, "\\x%02x", c);
			j += 4;
		}
	}
	buf[j] = '\0';
	return buf;
}

static bool need(qemu_state *q, void *buf, size_t n, const char *what)
{
	if (!sv_need(q->cx, q->in, buf, n, what)) {
		q->stop = true;
		return false;
	}
	return true;
}

static bool skip_need(qemu_state *q, uint64_t n, const char *what)
{
	uint64_t at = sv_offset(q->in);
	uint64_t got = sv_skip(q->in, n);

	if (got < n) {
		sv_report_truncated(q->cx, at, n, got, what);
		q->stop = true;
		return false;
	}
	return true;
}

/* A counted string: u8 length, then the octets. */
static bool counted(qemu_state *q, char out[257], uint8_t *len, const char *what)
{
	unsigned char l;

	if (!need(q, &l, 1, what))
		return false;
	if (l && !need(q, out, l, what))
		return false;
	out[l] = '\0';
	*len = l;
	return true;
}

/* A record (section, command, EOF...) that starts at offset at (--tee cuts there). */
static void begin_record(qemu_state *q, const char *type, uint64_t at)
{
	sv_record_begin(q->cx, q->index, type, at);
	sv_count_record(q->cx);
}

/* ---- section table ----------------------------------------------------------- */

static sect *sect_add(qemu_state *q)
{
	if (q->nsecs == q->cap_secs) {
		size_t n = q->cap_secs ? q->cap_secs * 2 : 64;
		sect *p;

		if (n > SECTIONS_MAX)
			n = SECTIONS_MAX;
		if (q->nsecs >= n) {
			q->secs_full = true;
			return NULL;
		}
		p = realloc(q->secs, n * sizeof(*p));
		if (!p) {
			q->secs_full = true;
			return NULL;
		}
		q->secs = p;
		q->cap_secs = n;
	}
	memset(&q->secs[q->nsecs], 0, sizeof(q->secs[0]));
	return &q->secs[q->nsecs++];
}

static size_t hash_slot(const qemu_state *q, uint32_t id)
{
	return (size_t)((id * 2654435761u) & (q->hash_cap - 1));
}

/* Index of the START section with this id, or -1. */
static long started_find(const qemu_state *q, uint32_t id)
{
	if (!q->hash_cap)
		return -1;
	for (size_t i = hash_slot(q, id);; i = (i + 1) & (q->hash_cap - 1)) {
		if (!q->hash_ix[i])
			return -1;
		if (q->hash_id[i] == id)
			return (long)q->hash_ix[i] - 1;
	}
}

static void started_put(qemu_state *q, uint32_t id, size_t ix)
{
	if (2 * (q->hash_used + 1) > q->hash_cap) {
		size_t ncap = q->hash_cap ? q->hash_cap * 2 : 64;
		uint32_t *nid = calloc(ncap, sizeof(*nid)), *nix = calloc(ncap, sizeof(*nix));
		uint32_t *oid = q->hash_id, *oix = q->hash_ix;
		size_t ocap = q->hash_cap;

		if (!nid || !nix) {
			free(nid);
			free(nix);
			return;
		}
		q->hash_id = nid;
		q->hash_ix = nix;
		q->hash_cap = ncap;
		q->hash_used = 0;
		for (size_t i = 0; i < ocap; i++)
			if (oix[i])
				started_put(q, oid[i], oix[i] - 1);
		free(oid);
		free(oix);
	}
	for (size_t i = hash_slot(q, id);; i = (i + 1) & (q->hash_cap - 1)) {
		if (!q->hash_ix[i] || q->hash_id[i] == id) {
			if (!q->hash_ix[i])
				q->hash_used++;
			q->hash_id[i] = id;
			q->hash_ix[i] = (uint32_t)ix + 1;
			return;
		}
	}
}

/* ---- finding the end of a body that has no length -------------------------- */

enum { PL_NO, PL_YES, PL_MORE };

static bool printable_id(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f)
			return false;
	return true;
}

/*
 * Is there a well-formed section start at p (n octets visible, end: no
 * more octets after them)?  What QEMU writes after a section: another
 * section header (START/FULL with a printable id string and a small version,
 * PART/END of a started section, a COMMAND of a known kind), EOF (then the
 * end, or a VMDESCRIPTION opening with '{'), or the end of a package.
 */
static int plausible_next(const qemu_state *q, const unsigned char *p, size_t n,
			  bool end, uint32_t self)
{
	if (n == 0)
		return end ? PL_YES : PL_MORE;
	switch (p[0]) {
	case SEC_EOF:
		if (n == 1)
			return end ? PL_YES : PL_MORE;
		if (p[1] != SEC_VMDESC)
			return PL_NO;
		if (n < 7)
			return end ? PL_NO : PL_MORE;
		return p[6] == '{' ? PL_YES : PL_NO;
	case SEC_START:
	case SEC_FULL: {
		size_t l;

		if (n < 6)
			return end ? PL_NO : PL_MORE;
		l = p[5];
		if (l == 0 || ld32(p + 1) == self)
			return PL_NO;
		if (n < 6 + l + 8)
			return end ? PL_NO : PL_MORE;
		if (!printable_id(p + 6, l))
			return PL_NO;
		return ld32(p + 6 + l + 4) <= 0xffff ? PL_YES : PL_NO;
	}
	case SEC_PART:
	case SEC_END: {
		long ix;

		if (n < 5)
			return end ? PL_NO : PL_MORE;
		ix = started_find(q, ld32(p + 1));
		return ix >= 0 && !q->secs[ix].ended ? PL_YES : PL_NO;
	}
	case SEC_COMMAND: {
		unsigned cmd;

		if (n < 5)
			return end ? PL_NO : PL_MORE;
		cmd = ld16(p + 1);
		if (cmd == CMD_INVALID || cmd >= CMD_MAX)
			return PL_NO;
		return cmd_table[cmd].len == ANY_LEN || cmd_table[cmd].len == ld16(p + 3)
		       ? PL_YES : PL_NO;
	}
	default:
		return PL_NO;
	}
}

typedef struct store_arg {
	qemu_state *q;
	bool keep;
} store_arg;

static int store_fn(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	store_arg *a = arg;
	qemu_state *q = a->q;

	(void)off;
	if (!a->keep)
		return 0;
	if (q->store_len + n > STORE_MAX) {
		q->store_full = true;
		a->keep = false;
		return 0;
	}
	if (q->store_len + n > q->store_cap) {
		size_t cap = q->store_cap ? q->store_cap : 65536;
		unsigned char *s;

		while (cap < q->store_len + n)
			cap *= 2;
		if (cap > STORE_MAX)
			cap = STORE_MAX;
		s = realloc(q->store, cap);
		if (!s) {
			q->store_full = true;
			a->keep = false;
			return 0;
		}
		q->store = s;
		q->store_cap = cap;
	}
	memcpy(q->store + q->store_len, p, n);
	q->store_len += n;
	return 0;
}

/*
 * A candidate end of a body at p: a footer (0x7E, the id, then a section
 * type octet QEMU's loop knows, or the end: the section parsers then judge
 * the next header), or, without footers, a plausible next header.  A footer
 * followed by anything else is remembered in *weak: if nothing better comes,
 * that is where the stream went wrong.
 */
static int body_end_at(const qemu_state *q, const unsigned char *p, size_t n,
		       bool end, uint32_t id, bool header_only, bool *footer, bool *weak)
{
	*footer = false;
	*weak = false;
	if (!header_only && q->footers != FOOTERS_NO && p[0] == SEC_FOOTER) {
		if (n < 6 && !(end && n == 5))
			return end ? PL_NO : PL_MORE;
		if (ld32(p + 1) == id) {
			*footer = true;
			if (n == 5)
				return PL_YES;
			switch (p[5]) {
			case SEC_EOF: case SEC_START: case SEC_PART: case SEC_END:
			case SEC_FULL: case SEC_COMMAND:
				return PL_YES;
			default:
				*weak = true;
				*footer = false;
			}
		}
	}
	if (header_only || q->footers != FOOTERS_YES)
		return plausible_next(q, p, n, end, id);
	return PL_NO;
}

/*
 * Consume a body of unknown length up to where the section ends.  With
 * footers: the first 0x7E + id followed by a plausible next section; without:
 * the first plausible next section.  keep: append the body to the store
 * (*kept says whether all of it fitted).  Returns false when no end was
 * found before the end of the input (reported).
 */
static bool scan_body(qemu_state *q, uint32_t id, bool keep, bool header_only,
		      bool *kept, uint64_t *len)
{
	uint64_t start = sv_offset(q->in), weak_at = UINT64_MAX;
	unsigned weak_byte = 0;
	store_arg a = { q, keep };
	size_t mark = q->store_len;

	for (;;) {
		size_t avail = 0, i;
		const unsigned char *p = sv_peek(q->in, SV_PEEK_MAX, &avail);
		bool end = avail < SV_PEEK_MAX, footer = false, weak = false;
		int r = PL_NO;

		if (!p || avail == 0)
			break;
		for (i = 0; i < avail; i++) {
			r = body_end_at(q, p + i, avail - i, end, id, header_only, &footer, &weak);
			if (weak && weak_at == UINT64_MAX) {
				weak_at = sv_offset(q->in) + i;
				weak_byte = p[i + 5];
			}
			if (r != PL_NO)
				break;
		}
		if (r == PL_YES) {
			sv_scan(q->in, i, store_fn, &a);
			if (!header_only && q->footers == FOOTERS_UNKNOWN)
				q->footers = footer ? FOOTERS_YES : FOOTERS_NO;
			*len = sv_offset(q->in) - start;
			*kept = a.keep;
			if (!a.keep)
				q->store_len = mark;
			return true;
		}
		/* Undecided at i: pass what lies before it and look again. */
		sv_scan(q->in, r == PL_MORE ? (i ? i : 1) : avail, store_fn, &a);
		if (r == PL_NO && end)
			break;
	}
	if (weak_at != UINT64_MAX)
		sv_report(q->cx, CODE(C_SECTION_TYPE), weak_at + 5,
			  "section type 0x%02x after the footer of section %u at 0x%llx",
			  weak_byte, id, (unsigned long long)weak_at);
	else
		sv_report(q->cx, CODE(C_NO_END), start,
			  "the body that starts here runs to the end of the stream without a %s",
			  header_only || q->footers == FOOTERS_NO ? "next section" :
			  q->footers == FOOTERS_YES ? "footer" : "footer or next section");
	q->stop = true;
	q->store_len = mark;
	*kept = false;
	return false;
}

/* ---- RAM (migration/ram.c) ------------------------------------------------ */

static int cmp_block(const void *a, const void *b)
{
	return strcmp((*(ram_block *const *)a)->name, (*(ram_block *const *)b)->name);
}

static int cmp_name_block(const void *key, const void *elem)
{
	return strcmp(key, (*(ram_block *const *)elem)->name);
}

/* The block called name (q->sorted is by name), or -1. */
static long block_find(const qemu_state *q, const char *name)
{
	ram_block *const *b = q->nblocks ? bsearch(name, q->sorted, q->nblocks, sizeof(*q->sorted),
						   cmp_name_block) : NULL;

	return b ? (long)(*b - q->blocks) : -1;
}

typedef struct bits_arg {
	uint64_t set, npages, seen;
} bits_arg;

static int count_bits(void *arg, const unsigned char *p, size_t n, uint64_t off)
{
	bits_arg *b = arg;

	(void)off;
	for (size_t i = 0; i < n; i++, b->seen += 8) {
		unsigned v = p[i];
		if (b->seen + 8 > b->npages)
			v &= (1u << (b->npages > b->seen ? b->npages - b->seen : 0)) - 1;
		b->set += (unsigned)__builtin_popcount(v);
	}
	return 0;
}

/*
 * parse_ramblock_mapped_ram: the block header, then the bitmap at
 * bitmap_offset and the pages at pages_offset (absolute file offsets), the
 * stream going on at pages_offset + length (mapped_ram_setup_ramblock).
 */
static bool mapped_ram_block(qemu_state *q, ram_block *b)
{
	unsigned char h[MR_HEADER_SIZE];
	uint64_t at = sv_offset(q->in), hdr_end, ps, bmo, pgo, npages, bmsize;
	bits_arg bits = { 0, 0, 0 };
	char nb[300];
	uint32_t version;

	if (!need(q, h, sizeof(h), "mapped-ram block header"))
		return false;
	hdr_end = at + sizeof(h);
	version = ld32(h);
	ps = ld64(h + 4);
	bmo = ld64(h + 12);
	pgo = ld64(h + 20);
	if (version != MR_VERSION) {
		sv_report(q->cx, CODE(C_MR_VERSION), at,
			  "block %s: mapped-ram header version %u, expected 1",
			  shown(b->name, nb, sizeof(nb)), version);
		q->stop = true;
		return false;
	}
	if (ps != q->page_size) {
		sv_report(q->cx, CODE(C_MR_PAGE_SIZE), at + 4,
			  "block %s: page size %llu, the target's is %llu",
			  shown(b->name, nb, sizeof(nb)), (unsigned long long)ps,
			  (unsigned long long)q->page_size);
		q->stop = true;
		return false;
	}
	/* A shared block under x-ignore-shared has neither bitmap nor pages. */
	if (q->ignore_shared && bmo == 0 && pgo == 0)
		return true;
	if (pgo % MR_ALIGN) {
		sv_report(q->cx, CODE(C_MR_ALIGN), at + 20,
			  "block %s: pages offset 0x%llx is not a multiple of 1 MiB",
			  shown(b->name, nb, sizeof(nb)), (unsigned long long)pgo);
		q->stop = true;
		return false;
	}
	npages = b->length / q->page_size;
	bmsize = (npages + 63) / 64 * 8; /* BITS_TO_LONGS(num_pages) longs */
	if (bmo < hdr_end || bmo > pgo || pgo - bmo < bmsize) {
		sv_report(q->cx, CODE(C_MR_BITMAP), at + 12,
			  "block %s: bitmap of %llu octets at 0x%llx is not between the header "
			  "end 0x%llx and the pages at 0x%llx",
			  shown(b->name, nb, sizeof(nb)), (unsigned long long)bmsize,
			  (unsigned long long)bmo, (unsigned long long)hdr_end,
			  (unsigned long long)pgo);
		q->stop = true;
		return false;
	}
	if (!skip_need(q, bmo - hdr_end, "mapped-ram gap before the bitmap"))
		return false;
	bits.npages = npages;
	at = sv_offset(q->in);
	if (sv_scan(q->in, bmsize, count_bits, &bits) < bmsize) {
		sv_report_truncated(q->cx, at, bmsize, sv_offset(q->in) - at, "mapped-ram bitmap");
		q->stop = true;
		return false;
	}
	q->pages_mapped += bits.set;
	if (pgo + b->length < pgo) {
		sv_report(q->cx, CODE(C_MR_ALIGN), at + 20, "pages offset overflows");
		q->stop = true;
		return false;
	}
	return skip_need(q, pgo + b->length - sv_offset(q->in), "mapped-ram pages");
}

/* parse_ramblocks: u8 len, idstr, u64 used_length per block until the total. */
static bool ram_mem_size(qemu_state *q, uint64_t total)
{
	uint64_t left = total;

	free(q->blocks);
	free(q->sorted);
	q->blocks = NULL;
	q->sorted = NULL;
	q->nblocks = 0;
	q->cur_block = -1;
	q->ram_total = total;
	while (left > 0) {
		ram_block b;
		unsigned char l8[8];
		uint64_t at = sv_offset(q->in);
		uint8_t len;
		size_t avail;
		const unsigned char *p;

		memset(&b, 0, sizeof(b));
		if (!counted(q, b.name, &len, "RAM block name"))
			return false;
		if (len == 0) {
			sv_report(q->cx, CODE(C_RAM_BLOCK_NAME), at,
				  "block %zu of the MEM_SIZE list has an empty name "
				  "(%llu of %llu octets still to list)", q->nblocks,
				  (unsigned long long)left, (unsigned long long)total);
			q->stop = true;
			return false;
		}
		if (!need(q, l8, 8, "RAM block length"))
			return false;
		b.length = ld64(l8);
		if (q->nblocks == BLOCKS_MAX) {
			sv_report(q->cx, CODE(C_RAM_BLOCK_COUNT), at,
				  "block %zu of the MEM_SIZE list: more than %u blocks",
				  q->nblocks, BLOCKS_MAX);
			q->stop = true;
			return false;
		}
		if (b.length > left) {
			char nb[300];
			sv_report(q->cx, CODE(C_RAM_MEM_SIZE), at + 1 + len,
				  "block %s of %llu octets exceeds the %llu octets left of the "
				  "total %llu", shown(b.name, nb, sizeof(nb)),
				  (unsigned long long)b.length, (unsigned long long)left,
				  (unsigned long long)total);
			q->stop = true;
			return false;
		}
		/*
		 * parse_ramblock: with postcopy-ram, a block whose page size is not
		 * the host's is followed by u64 page size.  The capability is not in
		 * the stream: a power of two above 4 KiB where a name length (1..255)
		 * or a record word (flags in the low bits) would be is that size.
		 * (mapped-ram excludes postcopy: migrate_caps_check; with
		 * x-ignore-shared the block address that follows is not told apart.)
		 */
		if (!q->ignore_shared && !q->mapped_ram) {
			p = sv_peek(q->in, 8, &avail);
			if (p && avail == 8) {
				uint64_t v = ld64(p);
				if (v > 4096 && v <= (UINT64_C(1) << 40) && (v & (v - 1)) == 0) {
					b.page_size = v;
					sv_skip(q->in, 8);
				}
			}
		}
		if (q->ignore_shared && !need(q, l8, 8, "RAM block address (x-ignore-shared)"))
			return false;
		{
			ram_block *nbk = realloc(q->blocks, (q->nblocks + 1) * sizeof(*nbk));
			if (!nbk) {
				q->stop = true;
				return false;
			}
			q->blocks = nbk;
			q->blocks[q->nblocks++] = b;
		}
		if (q->mapped_ram && !mapped_ram_block(q, &q->blocks[q->nblocks - 1]))
			return false;
		left -= b.length;
	}
	q->sorted = malloc((q->nblocks ? q->nblocks : 1) * sizeof(*q->sorted));
	if (!q->sorted) {
		q->stop = true;
		return false;
	}
	for (size_t i = 0; i < q->nblocks; i++)
		q->sorted[i] = &q->blocks[i];
	qsort(q->sorted, q->nblocks, sizeof(*q->sorted), cmp_block);
	return true;
}

static const char *ram_kind_name(unsigned kind)
{
	switch (kind) {
	case RAM_ZERO: return "ZERO";
	case RAM_PAGE: return "PAGE";
	case RAM_XBZRLE: return "XBZRLE";
	default: return "COMPRESS_PAGE";
	}
}

/* One page record (ram_load_precopy): block, offset, payload. */
static bool ram_page(qemu_state *q, uint64_t at, uint64_t addr, unsigned flags)
{
	unsigned kind = flags & ~RAM_CONTINUE;
	char name[257], nb[300];
	unsigned char c[4];
	uint8_t len;

	if (flags & RAM_CONTINUE) {
		if (q->cur_block == -1) {
			sv_report(q->cx, CODE(C_RAM_CONTINUE), at,
				  "%s page at 0x%llx continues a block, but no block was named before",
				  ram_kind_name(kind), (unsigned long long)addr);
			q->cur_block = -2;
		}
	} else {
		uint64_t nat = sv_offset(q->in);
		long ix;

		if (!counted(q, name, &len, "RAM page block name"))
			return false;
		ix = len ? block_find(q, name) : -1;
		if (ix < 0) {
			sv_report(q->cx, CODE(C_RAM_BLOCK), nat,
				  "%s page names block \"%s\", which the MEM_SIZE list does not hold",
				  ram_kind_name(kind), shown(name, nb, sizeof(nb)));
			q->cur_block = -2;
		} else {
			q->cur_block = ix;
		}
	}
	if (q->cur_block >= 0 && addr >= q->blocks[q->cur_block].length)
		sv_report(q->cx, CODE(C_RAM_OFFSET), at,
			  "%s page at offset 0x%llx of block %s, whose length is 0x%llx",
			  ram_kind_name(kind), (unsigned long long)addr,
			  shown(q->blocks[q->cur_block].name, nb, sizeof(nb)),
			  (unsigned long long)q->blocks[q->cur_block].length);
	switch (kind) {
	case RAM_ZERO: {
		uint64_t fat = sv_offset(q->in);
		if (!need(q, c, 1, "ZERO page fill octet"))
			return false;
		if (c[0] != 0)
			sv_report(q->cx, CODE(C_RAM_ZERO), fat,
				  "zero page filled with 0x%02x", c[0]);
		q->pages_zero++;
		return true;
	}
	case RAM_PAGE:
		q->pages_full++;
		return skip_need(q, q->page_size, "RAM page");
	case RAM_XBZRLE: {
		uint64_t xat = sv_offset(q->in);
		unsigned xlen;
		if (!need(q, c, 3, "XBZRLE page header"))
			return false;
		xlen = ld16(c + 1);
		if (c[0] != XBZRLE_ENCODING || xlen > q->page_size) {
			/* load_xbzrle fails the load on either. */
			sv_report(q->cx, CODE(C_RAM_XBZRLE), c[0] != XBZRLE_ENCODING ? xat : xat + 1,
				  "XBZRLE page with encoding 0x%02x and length %u (page size %llu)",
				  c[0], xlen, (unsigned long long)q->page_size);
			q->stop = true;
			return false;
		}
		q->pages_xbzrle++;
		return skip_need(q, xlen, "XBZRLE page data");
	}
	default: { /* RAM_COMPRESS: be32 length, zlib data (QEMU before 9.1) */
		uint64_t lat = sv_offset(q->in);
		uint32_t clen;
		if (!need(q, c, 4, "compressed page length"))
			return false;
		clen = ld32(c);
		if (clen > COMPRESS_BOUND(q->page_size)) {
			sv_report(q->cx, CODE(C_RAM_COMPRESS), lat,
				  "compressed page of %u octets, above the bound of %llu",
				  clen, (unsigned long long)COMPRESS_BOUND(q->page_size));
			q->stop = true;
			return false;
		}
		q->pages_compressed++;
		return skip_need(q, clen, "compressed page data");
	}
	}
}

/* One part of the RAM section: records up to EOS (ram_load_precopy). */
static bool ram_part(qemu_state *q)
{
	for (;;) {
		unsigned char w[8];
		uint64_t at = sv_offset(q->in), word, addr;
		unsigned flags, kind;

		if (sv_stopped(q->cx) || q->stop)
			return false;
		sv_record_boundary(q->cx, at); /* a section of RAM may be gigabytes */
		if (!need(q, w, 8, "RAM record"))
			return false;
		word = ld64(w);
		flags = (unsigned)(word & (q->page_size - 1));
		addr = word & ~(q->page_size - 1);
		kind = flags & ~RAM_CONTINUE;
		if (kind == RAM_ZERO || kind == RAM_PAGE || kind == RAM_XBZRLE ||
		    kind == RAM_COMPRESS) {
			/* With mapped-ram no page travels in the stream. */
			if (q->mapped_ram) {
				sv_report(q->cx, CODE(C_RAM_FLAGS), at,
					  "%s page record in a mapped-ram stream, which writes "
					  "pages at their file offsets", ram_kind_name(kind));
				q->stop = true;
				return false;
			}
			if (!ram_page(q, at, addr, flags))
				return false;
			continue;
		}
		switch (flags) {
		case RAM_MEM_SIZE:
			if (!ram_mem_size(q, addr))
				return false;
			continue;
		case RAM_EOS:
			return true;
		case RAM_MULTIFD_FLUSH:
			if (q->mapped_ram) {
				sv_report(q->cx, CODE(C_RAM_FLAGS), at,
					  "MULTIFD_FLUSH in a mapped-ram stream");
				q->stop = true;
				return false;
			}
			if (!q->multifd_noted) {
				sv_report(q->cx, CODE(C_RAM_MULTIFD), at,
					  "MULTIFD_FLUSH: this stream was sent with multifd; "
					  "its pages are on the other channels");
				q->multifd_noted = true;
			}
			continue;
		case RAM_HOOK:
			sv_report(q->cx, CODE(C_RAM_HOOK), at,
				  "RDMA registration hook: only an RDMA connection carries these");
			continue;
		default:
			sv_report(q->cx, CODE(C_RAM_FLAGS), at,
				  "flags 0x%x (address 0x%llx): not a combination QEMU loads",
				  flags, (unsigned long long)addr);
			q->stop = true;
			return false;
		}
	}
}

/* ---- sections (migration/savevm.c) ---------------------------------------- */

static const sv_format *self_format(void);

/* check_section_footer: 0x7E and the section's id, where the stream has them. */
static bool section_footer(qemu_state *q, const sect *s)
{
	unsigned char f[5];
	uint64_t at = sv_offset(q->in);
	size_t avail;
	const unsigned char *p;

	if (q->footers == FOOTERS_NO)
		return true;
	p = sv_peek(q->in, 1, &avail);
	if (q->footers == FOOTERS_UNKNOWN) {
		q->footers = avail && p[0] == SEC_FOOTER ? FOOTERS_YES : FOOTERS_NO;
		if (q->footers == FOOTERS_NO)
			return true;
	}
	if (avail && p[0] != SEC_FOOTER) {
		char nb[300];
		sv_report(q->cx, CODE(C_FOOTER_MISSING), at,
			  "section %u (%s): octet 0x%02x where its footer belongs", s->id,
			  shown(s->name, nb, sizeof(nb)), p[0]);
		q->stop = true;
		return false;
	}
	if (!need(q, f, sizeof(f), "section footer"))
		return false;
	if (ld32(f + 1) != s->id) {
		char nb[300];
		sv_report(q->cx, CODE(C_FOOTER_MISMATCH), at + 1,
			  "footer of section %u (%s) carries id %u", s->id,
			  shown(s->name, nb, sizeof(nb)), ld32(f + 1));
	}
	return true;
}

static const char *section_type_name(unsigned t)
{
	switch (t) {
	case SEC_START: return "START";
	case SEC_PART: return "PART";
	case SEC_END: return "END";
	default: return "FULL";
	}
}

/* A section's body: RAM record by record, anything else up to its end. */
static bool section_body(qemu_state *q, sect *s, bool tracked)
{
	if (s->kind == KIND_RAM)
		return ram_part(q);
	{
		bool kept = false;
		bool keep = tracked && s->kind == KIND_DEVICE && !s->in_package && !q->store_full;
		size_t off = q->store_len;
		uint64_t len = 0;

		s->body_off = sv_offset(q->in);
		if (!scan_body(q, s->id, keep, false, &kept, &len))
			return false;
		s->body_len = len;
		s->stored = keep && kept;
		s->store_off = off;
		return true;
	}
}

/* qemu_loadvm_section_start_full: id, idstr, instance, version, body, footer. */
static void section_start_full(qemu_state *q, unsigned type, uint64_t at)
{
	unsigned char h[4];
	sect tmp, *s;
	uint8_t len;
	bool tracked;

	memset(&tmp, 0, sizeof(tmp));
	begin_record(q, section_type_name(type), at);
	if (!need(q, h, 4, "section id"))
		return;
	tmp.id = ld32(h);
	if (!counted(q, tmp.name, &len, "section id string"))
		return;
	if (!need(q, h, 4, "section instance id"))
		return;
	tmp.instance = ld32(h);
	tmp.ver_off = sv_offset(q->in);
	if (!need(q, h, 4, "section version"))
		return;
	tmp.version = ld32(h);
	if (len == 0) {
		sv_report(q->cx, CODE(C_IDSTR), at + 5,
			  "section %u has an empty id string: no device to load it into", tmp.id);
		q->stop = true;
		return;
	}
	tmp.hdr_off = at;
	tmp.in_package = q->in_package;
	tmp.kind = strcmp(tmp.name, "ram") == 0 ? KIND_RAM :
		   type == SEC_START ? KIND_ITER : KIND_DEVICE;
	tmp.started = type == SEC_START;
	s = sect_add(q);
	tracked = s != NULL;
	if (!s)
		s = &tmp;
	else
		*s = tmp;
	if (type == SEC_START && tracked)
		started_put(q, s->id, (size_t)(s - q->secs));
	if (s->kind == KIND_RAM && s->version != RAM_VERSION) {
		sv_report(q->cx, CODE(C_RAM_VERSION), s->ver_off,
			  "RAM section version %u: QEMU loads only version 4", s->version);
		q->stop = true;
		return;
	}
	if (s->kind == KIND_DEVICE)
		q->devices++;
	if (!section_body(q, s, tracked) || !section_footer(q, s))
		return;
	if (sv_want_records(q->cx)) {
		char nb[300];
		sv_emit_record(q->cx, q->index, section_type_name(type), at,
			       sv_offset(q->in) - at, "section %u %s instance %u version %u",
			       s->id, shown(s->name, nb, sizeof(nb)), s->instance, s->version);
	}
}

/* qemu_loadvm_section_part_end: an id announced by START, body, footer. */
static void section_part_end(qemu_state *q, unsigned type, uint64_t at)
{
	unsigned char h[4];
	long ix;
	sect *s;

	begin_record(q, section_type_name(type), at);
	if (!need(q, h, 4, "section id"))
		return;
	ix = started_find(q, ld32(h));
	if (ix < 0) {
		sv_report(q->cx, CODE(C_UNKNOWN_ID), at + 1,
			  "%s section for id %u, which no START section announced",
			  section_type_name(type), ld32(h));
		q->stop = true;
		return;
	}
	s = &q->secs[ix];
	if (s->ended) {
		char nb[300];
		sv_report(q->cx, CODE(C_AFTER_END), at,
			  "%s section for %u (%s), whose END section came before",
			  section_type_name(type), s->id, shown(s->name, nb, sizeof(nb)));
	}
	if (type == SEC_END)
		s->ended = true;
	if (!section_body(q, s, false) || !section_footer(q, s))
		return;
	if (sv_want_records(q->cx)) {
		char nb[300];
		sv_emit_record(q->cx, q->index, section_type_name(type), at,
			       sv_offset(q->in) - at, "section %u %s", s->id,
			       shown(s->name, nb, sizeof(nb)));
	}
}

/* loadvm_process_command: u16 cmd, u16 len, data. */
static void command(qemu_state *q, uint64_t at)
{
	unsigned char h[4];
	unsigned cmd, len;

	begin_record(q, "COMMAND", at);
	if (!need(q, h, 4, "command header"))
		return;
	cmd = ld16(h);
	len = ld16(h + 2);
	if (cmd == CMD_INVALID || cmd >= CMD_MAX) {
		sv_report(q->cx, CODE(C_CMD_UNKNOWN), at + 1,
			  "command 0x%x (length %u) is not one QEMU knows", cmd, len);
		q->stop = true;
		return;
	}
	if ((cmd_table[cmd].len != ANY_LEN && (unsigned)cmd_table[cmd].len != len) ||
	    (cmd == CMD_POSTCOPY_ADVISE && len != 0 && len != 16)) {
		sv_report(q->cx, CODE(C_CMD_LENGTH), at + 3,
			  "%s with %u octets of data, expected %s", cmd_table[cmd].name, len,
			  cmd == CMD_POSTCOPY_ADVISE ? "0 or 16" :
			  cmd_table[cmd].len == 4 ? "4" : "0");
		q->stop = true;
		return;
	}
	if (sv_want_records(q->cx))
		sv_emit_record(q->cx, q->index, "COMMAND", at, 5 + (uint64_t)len, "%s",
			       cmd_table[cmd].name);
	if (cmd == CMD_POSTCOPY_LISTEN || cmd == CMD_POSTCOPY_RUN ||
	    cmd == CMD_POSTCOPY_ADVISE)
		q->postcopy = true;
	/* loadvm_postcopy_handle_run returns LOADVM_QUIT: the rest of a package is not read. */
	if (cmd == CMD_POSTCOPY_RUN && q->in_package)
		q->package_quit = true;
	if (cmd == CMD_PACKAGED) {
		uint32_t size;

		if (!need(q, h, 4, "PACKAGED length"))
			return;
		size = ld32(h);
		if (size > PACKAGED_MAX) {
			sv_report(q->cx, CODE(C_PACKAGED_SIZE), at + 5,
				  "package of %u octets; QEMU refuses more than %u", size,
				  PACKAGED_MAX);
			q->stop = true;
			return;
		}
		if (q->in_package) {
			sv_report(q->cx, CODE(C_PACKAGED_NESTED), at,
				  "a package holds another PACKAGED command");
			q->stop = true;
			return;
		}
		q->postcopy = true;
		package_parent = q;
		sv_verify_nested(q->cx, q->in, size, self_format());
		package_parent = NULL;
		return;
	}
	skip_need(q, len, "command data");
}

/* ---- the device walk (vmdesc, migration/vmstate.c) ------------------------ */

typedef struct walk {
	qemu_state *q;
	const unsigned char *b;
	size_t n, pos;
	uint64_t base;      /* offset of b[0] in the input */
	const char *dev;    /* device, printable */
	bool quiet;         /* stopped without a finding (budget, JSON) */
} walk;

static bool walk_json_error(walk *w, uint64_t at, const char *what)
{
	sv_report(w->q->cx, CODE(C_VMDESC_JSON), at, "device %s: %s", w->dev, what);
	w->quiet = true;
	return false;
}

/*
 * The fields of one description ({"fields": [...], "subsections": [...]}),
 * as vmstate_save_state_v wrote them: each field "size" octets, or its
 * "struct" walked; "array_len" repeats of a compressed array; then each
 * subsection as 0x05, u8 len, name, be32 version and its own fields.
 */
static bool walk_desc(walk *w, json_t *desc, int depth, uint64_t vmdesc_at)
{
	json_t *fields = json_object_get(desc, "fields");
	json_t *subs = json_object_get(desc, "subsections");
	size_t i;
	json_t *f;

	if (depth > WALK_DEPTH)
		return walk_json_error(w, vmdesc_at, "structures nested too deep");
	if ((fields && !json_is_array(fields)) || (subs && !json_is_array(subs)))
		return walk_json_error(w, vmdesc_at, "\"fields\" or \"subsections\" is not an array");
	json_array_foreach(fields, i, f) {
		json_t *st = json_object_get(f, "struct");
		json_t *sz = json_object_get(f, "size");
		json_t *al = json_object_get(f, "array_len");
		const char *fname = json_string_value(json_object_get(f, "name"));
		json_int_t count = 1;
		char fb[200];

		if (!fname)
			fname = "?";
		if (al && (!json_is_integer(al) || json_integer_value(al) < 1))
			return walk_json_error(w, vmdesc_at, "a field's \"array_len\" is not a positive integer");
		if (al)
			count = json_integer_value(al);
		for (json_int_t k = 0; k < count; k++) {
			if (w->q->walk_budget == 0) {
				sv_report(w->q->cx, CODE(C_DEV_NOT_WALKED), w->base,
					  "device %s: the description has more fields than this "
					  "verifier walks", w->dev);
				w->quiet = true;
				return false;
			}
			w->q->walk_budget--;
			if (json_is_object(st)) {
				if (!walk_desc(w, st, depth + 1, vmdesc_at))
					return false;
				continue;
			}
			if (!json_is_integer(sz) || json_integer_value(sz) < 0)
				return walk_json_error(w, vmdesc_at, "a field's \"size\" is not a non-negative integer");
			if ((uint64_t)json_integer_value(sz) > w->n - w->pos) {
				sv_report(w->q->cx, CODE(C_DEV_SHORT), w->base + w->n,
					  "device %s: state ends after %zu octets, but field %s "
					  "needs %lld octets at offset %zu of it", w->dev, w->n,
					  shown(fname, fb, sizeof(fb)),
					  (long long)json_integer_value(sz), w->pos);
				return false;
			}
			w->pos += (size_t)json_integer_value(sz);
		}
	}
	json_array_foreach(subs, i, f) {
		const char *name = json_string_value(json_object_get(f, "vmsd_name"));
		json_t *ver = json_object_get(f, "version");
		size_t l;
		char fb[300], sb[300];

		if (!name || !json_is_integer(ver))
			return walk_json_error(w, vmdesc_at, "a subsection without \"vmsd_name\" or \"version\"");
		if (w->pos >= w->n || w->n - w->pos < 2) {
			sv_report(w->q->cx, CODE(C_DEV_SHORT), w->base + w->n,
				  "device %s: state ends after %zu octets, before subsection %s",
				  w->dev, w->n, shown(name, fb, sizeof(fb)));
			return false;
		}
		if (w->b[w->pos] != SEC_SUBSECTION) {
			sv_report(w->q->cx, CODE(C_DEV_SUBSECTION), w->base + w->pos,
				  "device %s: octet 0x%02x where subsection %s begins",
				  w->dev, w->b[w->pos], shown(name, fb, sizeof(fb)));
			return false;
		}
		l = w->b[w->pos + 1];
		if (w->n - w->pos < 2 + l + 4) {
			sv_report(w->q->cx, CODE(C_DEV_SHORT), w->base + w->n,
				  "device %s: state ends inside the header of subsection %s",
				  w->dev, shown(name, fb, sizeof(fb)));
			return false;
		}
		if (l != strlen(name) || memcmp(w->b + w->pos + 2, name, l) != 0) {
			char got[257];
			memcpy(got, w->b + w->pos + 2, l);
			got[l] = '\0';
			sv_report(w->q->cx, CODE(C_DEV_SUBSECTION), w->base + w->pos + 1,
				  "device %s: subsection \"%s\" where the description has %s",
				  w->dev, shown(got, sb, sizeof(sb)), shown(name, fb, sizeof(fb)));
			return false;
		}
		if ((json_int_t)ld32(w->b + w->pos + 2 + l) != json_integer_value(ver)) {
			sv_report(w->q->cx, CODE(C_DEV_SUBSECTION), w->base + w->pos + 2 + l,
				  "device %s: subsection %s version %u, the description says %lld",
				  w->dev, shown(name, fb, sizeof(fb)), ld32(w->b + w->pos + 2 + l),
				  (long long)json_integer_value(ver));
			return false;
		}
		w->pos += 2 + l + 4;
		if (!walk_desc(w, f, depth + 1, vmdesc_at))
			return false;
	}
	return true;
}

typedef struct dev_ref {
	const char *name;
	json_int_t instance;
	size_t order;   /* position in its list */
	json_t *j;      /* vmdesc entry, or NULL for a section */
} dev_ref;

static int cmp_ref(const void *a, const void *b)
{
	const dev_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->instance != y->instance)
		return x->instance < y->instance ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void walk_device(qemu_state *q, sect *s, json_t *dev, uint64_t vmdesc_at)
{
	char nb[300];
	walk w = { q, q->store + s->store_off, (size_t)s->body_len, 0, s->body_off,
		   shown(s->name, nb, sizeof(nb)), false };

	if (!walk_desc(&w, dev, 0, vmdesc_at))
		return;
	if (w.pos < w.n)
		sv_report(q->cx, CODE(C_DEV_LONG), w.base + w.pos,
			  "device %s: %zu octets of state after the %zu its description lists",
			  w.dev, w.n - w.pos, w.pos);
}

/* The vmdesc's devices against the device sections, then each one walked. */
static void match_devices(qemu_state *q, json_t *devs, uint64_t vmdesc_at)
{
	size_t nd = json_array_size(devs), ns = 0, i = 0, j = 0;
	dev_ref *d = calloc(nd ? nd : 1, sizeof(*d));
	dev_ref *sr = calloc(q->nsecs ? q->nsecs : 1, sizeof(*sr));
	bool unwalked = false;

	if (!d || !sr)
		goto out;
	for (size_t k = 0; k < nd; k++) {
		json_t *e = json_array_get(devs, k);
		const char *name = json_string_value(json_object_get(e, "name"));
		json_t *inst = json_object_get(e, "instance_id");

		if (!name || !json_is_integer(inst)) {
			sv_report(q->cx, CODE(C_VMDESC_JSON), vmdesc_at,
				  "device %zu of the VMDESCRIPTION has no \"name\" or \"instance_id\"", k);
			goto out;
		}
		d[k] = (dev_ref){ name, json_integer_value(inst), k, e };
	}
	for (size_t k = 0; k < q->nsecs; k++)
		if (q->secs[k].kind == KIND_DEVICE && !q->secs[k].in_package)
			sr[ns++] = (dev_ref){ q->secs[k].name, q->secs[k].instance, k, NULL };
	qsort(d, nd, sizeof(*d), cmp_ref);
	qsort(sr, ns, sizeof(*sr), cmp_ref);
	while (i < ns || j < nd) {
		int c = i >= ns ? 1 : j >= nd ? -1 :
			strcmp(sr[i].name, d[j].name) ? strcmp(sr[i].name, d[j].name) :
			sr[i].instance < d[j].instance ? -1 : sr[i].instance > d[j].instance;
		char nb[300];

		if (sv_stopped(q->cx))
			break;
		if (c < 0) {
			sect *s = &q->secs[sr[i].order];
			sv_report(q->cx, CODE(C_DEV_MISSING), s->hdr_off,
				  "section %u (%s instance %u) is not among the VMDESCRIPTION's devices",
				  s->id, shown(s->name, nb, sizeof(nb)), s->instance);
			i++;
		} else if (c > 0) {
			sv_report(q->cx, CODE(C_DEV_EXTRA), vmdesc_at,
				  "VMDESCRIPTION device %s instance %lld has no section in the stream",
				  shown(d[j].name, nb, sizeof(nb)), (long long)d[j].instance);
			j++;
		} else {
			sect *s = &q->secs[sr[i].order];
			json_t *ver = json_object_get(d[j].j, "version");

			if (json_is_integer(ver) && json_integer_value(ver) != (json_int_t)s->version)
				sv_report(q->cx, CODE(C_DEV_VERSION), s->ver_off,
					  "section %u (%s) has version %u, the VMDESCRIPTION %lld",
					  s->id, shown(s->name, nb, sizeof(nb)), s->version,
					  (long long)json_integer_value(ver));
			else if (s->stored)
				walk_device(q, s, d[j].j, vmdesc_at);
			else
				unwalked = true;
			i++;
			j++;
		}
	}
	if (unwalked || q->secs_full)
		sv_report(q->cx, CODE(C_DEV_NOT_WALKED), vmdesc_at,
			  "device states beyond %u KiB or %u sections are not walked",
			  STORE_MAX >> 10, SECTIONS_MAX);
out:
	free(d);
	free(sr);
}

/* After EOF: the VMDESCRIPTION (qemu_loadvm_state reads and drops it). */
static void after_eof(qemu_state *q)
{
	unsigned char h[4];
	uint64_t at = sv_offset(q->in), rem;
	size_t avail, got = 0;
	const unsigned char *p = sv_peek(q->in, 1, &avail);
	uint32_t len;
	char *buf;
	json_t *root, *devs;
	json_error_t err;

	if (!p || avail == 0) {
		/*
		 * should_send_vmdesc(): none after postcopy, or when suppressed;
		 * xen-save-devices-state never sends one.
		 */
		if (!q->postcopy && !sv_is_nested(q->cx))
			sv_report(q->cx, CODE(C_VMDESC_MISSING), at,
				  "the stream ends after EOF without a VMDESCRIPTION");
		return;
	}
	if (p[0] != SEC_VMDESC) {
		sv_report(q->cx, CODE(C_VMDESC_EXPECTED), at,
			  "octet 0x%02x after EOF where a VMDESCRIPTION (0x06) may be", p[0]);
		return;
	}
	q->index++;
	begin_record(q, "VMDESCRIPTION", at);
	sv_skip(q->in, 1);
	if (!need(q, h, 4, "VMDESCRIPTION length"))
		return;
	len = ld32(h);
	rem = sv_remaining(q->in);
	if (rem != UINT64_MAX && len > rem) {
		/* Passed over as a pipe would read it: the same bytes counted. */
		sv_skip(q->in, rem);
		sv_report_truncated(q->cx, at + 5, len, rem, "VMDESCRIPTION JSON");
		q->stop = true;
		return;
	}
	if (len > VMDESC_MAX) {
		sv_report(q->cx, CODE(C_VMDESC_LARGE), at + 1,
			  "VMDESCRIPTION of %u octets: not parsed, device fields not walked", len);
		skip_need(q, len, "VMDESCRIPTION JSON");
		goto trailing;
	}
	buf = sv_read_alloc(q->in, len, &got);
	if (!buf || got < len) {
		free(buf);
		sv_report_truncated(q->cx, at + 5, len, got, "VMDESCRIPTION JSON");
		q->stop = true;
		return;
	}
	q->vmdesc_seen = true;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	free(buf);
	if (!root) {
		sv_report(q->cx, CODE(C_VMDESC_JSON), at + 5 + (uint64_t)err.position,
			  "not JSON: %s", err.text);
		goto trailing;
	}
	devs = json_object_get(root, "devices");
	if (!json_is_object(root) || !json_is_array(devs)) {
		sv_report(q->cx, CODE(C_VMDESC_JSON), at + 5,
			  "the JSON is not an object with a \"devices\" array");
	} else {
		json_t *ps = json_object_get(root, "page_size");
		if (json_is_integer(ps) && (uint64_t)json_integer_value(ps) != q->page_size)
			sv_report(q->cx, CODE(C_VMDESC_JSON), at + 5,
				  "page_size %lld, but the stream's target page size is %llu",
				  (long long)json_integer_value(ps), (unsigned long long)q->page_size);
		if (sv_want_records(q->cx))
			sv_emit_record(q->cx, q->index, "VMDESCRIPTION", at, 5 + (uint64_t)len,
				       "%zu devices described", json_array_size(devs));
		match_devices(q, devs, at);
	}
	json_decref(root);
trailing:
	if (!q->stop && !sv_at_end(q->in))
		sv_report(q->cx, CODE(C_TRAILING), sv_offset(q->in),
			  "bytes follow the VMDESCRIPTION");
}

/* ---- header and configuration ------------------------------------------------ */

/* qemu_loadvm_state_header: magic and version. */
static bool stream_header(qemu_state *q)
{
	unsigned char h[8];
	uint64_t at = sv_offset(q->in);
	uint32_t v;

	sv_set_record(q->cx, q->index, "header");
	sv_count_record(q->cx);
	if (!need(q, h, 8, "QEMU stream header"))
		return false;
	if (ld32(h) != QEMU_MAGIC) {
		sv_report(q->cx, CODE(C_MAGIC), at, "magic 0x%08x, expected 0x%08x (\"QEVM\")",
			  ld32(h), QEMU_MAGIC);
		return false;
	}
	v = ld32(h + 4);
	if (v == QEMU_VERSION_COMPAT) {
		sv_report(q->cx, CODE(C_V2), at + 4,
			  "version 2: \"SaveVM v2 format is obsolete\" (QEMU loads version 3)");
		return false;
	}
	if (v != QEMU_VERSION) {
		sv_report(q->cx, CODE(C_VERSION), at + 4,
			  "version %u; QEMU loads version 3", v);
		return false;
	}
	q->index++;
	return true;
}

/*
 * vmstate_configuration: u32 len, the machine type, then optional
 * subsections (savevm.c: target-page-bits, capabilities, uuid).
 */
static bool configuration(qemu_state *q, uint64_t at)
{
	unsigned char h[4];
	uint32_t len;

	begin_record(q, "CONFIGURATION", at);
	q->have_config = true;
	if (!need(q, h, 4, "machine type length"))
		return false;
	len = ld32(h);
	if (len == 0 || len > MACHINE_NAME_MAX) {
		sv_report(q->cx, CODE(C_CONFIG_NAME), at + 1,
			  "machine type name of %u octets (QEMU's are 1 to %u)", len,
			  MACHINE_NAME_MAX);
		q->stop = true;
		return false;
	}
	if (!need(q, q->machine, len, "machine type"))
		return false;
	q->machine[len] = '\0';
	for (;;) {
		size_t avail;
		const unsigned char *p = sv_peek(q->in, 1, &avail);
		uint64_t sat = sv_offset(q->in);
		char name[257], nb[300];
		uint8_t l;

		if (!p || avail == 0 || p[0] != SEC_SUBSECTION)
			break;
		sv_skip(q->in, 1);
		if (!counted(q, name, &l, "configuration subsection name") ||
		    !need(q, h, 4, "configuration subsection version"))
			return false;
		if (strcmp(name, "configuration/target-page-bits") == 0) {
			uint32_t bits;
			if (!need(q, h, 4, "target page bits"))
				return false;
			bits = ld32(h);
			/* TARGET_PAGE_BITS of QEMU's targets: 10 (ARM) to 16. */
			if (bits < 10 || bits > 16) {
				sv_report(q->cx, CODE(C_CONFIG_SUB), sv_offset(q->in) - 4,
					  "target page bits %u (QEMU's targets use 10 to 16)", bits);
				q->stop = true;
				return false;
			}
			q->page_size = UINT64_C(1) << bits;
		} else if (strcmp(name, "configuration/capabilities") == 0) {
			uint32_t n;
			if (!need(q, h, 4, "capability count"))
				return false;
			n = ld32(h);
			if (n > CAPS_MAX) {
				sv_report(q->cx, CODE(C_CONFIG_SUB), sv_offset(q->in) - 4,
					  "%u capabilities (QEMU has fewer than %u)", n, CAPS_MAX);
				q->stop = true;
				return false;
			}
			for (uint32_t i = 0; i < n; i++) {
				char cap[257];
				uint8_t cl;
				if (!counted(q, cap, &cl, "capability name"))
					return false;
				if (strcmp(cap, "x-ignore-shared") == 0)
					q->ignore_shared = true;
				else if (strcmp(cap, "mapped-ram") == 0)
					q->mapped_ram = true;
			}
		} else if (strcmp(name, "configuration/uuid") == 0) {
			if (!skip_need(q, 16, "configuration uuid"))
				return false;
		} else if (strncmp(name, "configuration/", 14) == 0) {
			bool kept;
			uint64_t blen;
			sv_report(q->cx, CODE(C_CONFIG_SUB_UNKNOWN), sat,
				  "subsection %s: layout unknown here, skipped to the next section",
				  shown(name, nb, sizeof(nb)));
			return scan_body(q, 0, false, true, &kept, &blen);
		} else {
			/* vmstate_subsection_load stops at a name outside its vmsd's. */
			sv_report(q->cx, CODE(C_CONFIG_SUB), sat + 1,
				  "subsection \"%s\" does not belong to the configuration",
				  shown(name, nb, sizeof(nb)));
			q->stop = true;
			return false;
		}
	}
	if (sv_want_records(q->cx)) {
		char nb[300];
		sv_emit_record(q->cx, q->index, "CONFIGURATION", at, sv_offset(q->in) - at,
			       "machine %s%s%s", shown(q->machine, nb, sizeof(nb)),
			       q->mapped_ram ? ", mapped-ram" : "",
			       q->ignore_shared ? ", x-ignore-shared" : "");
	}
	return true;
}

/* ---- the section loop (qemu_loadvm_state_main) ------------------------------ */

static void sections(qemu_state *q)
{
	while (!q->stop && !sv_stopped(q->cx) && !q->package_quit) {
		uint64_t at = sv_offset(q->in);
		size_t avail;
		const unsigned char *p = sv_peek(q->in, 1, &avail);
		unsigned t;

		if (!p || avail == 0) {
			/* A package ends with its data; a stream needs EOF. */
			if (!q->in_package) {
				sv_record_none(q->cx);
				sv_report_truncated(q->cx, at, 1, 0, "section type (no EOF yet)");
				q->stop = true;
			}
			return;
		}
		t = p[0];
		sv_skip(q->in, 1);
		switch (t) {
		case SEC_START:
		case SEC_FULL:
			section_start_full(q, t, at);
			break;
		case SEC_PART:
		case SEC_END:
			section_part_end(q, t, at);
			break;
		case SEC_COMMAND:
			command(q, at);
			break;
		case SEC_EOF:
			begin_record(q, "EOF", at);
			if (sv_want_records(q->cx))
				sv_emit_record(q->cx, q->index, "EOF", at, 1, "end of sections");
			if (!q->in_package)
				after_eof(q);
			q->index++;
			return;
		default:
			sv_set_record(q->cx, q->index, "section");
			sv_report(q->cx, CODE(C_SECTION_TYPE), at,
				  "section type 0x%02x%s", t,
				  t == SEC_CONFIG ? " (CONFIGURATION belongs after the header only)" :
				  t == SEC_FOOTER ? " (a footer where a section begins)" :
				  t == SEC_SUBSECTION ? " (a subsection outside a device state)" :
				  t == SEC_VMDESC ? " (VMDESCRIPTION belongs after EOF)" : "");
			q->stop = true;
			return;
		}
		q->index++;
	}
}

/* ---- libvirt's save image header ------------------------------------------ */

static uint32_t bswap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xff00u) | (v << 8 & 0xff0000u) | v << 24;
}

/* virQEMUSaveDataRead / qemuSaveImageOpen: header, XML, then the stream. */
static bool libvirt_header(qemu_state *q)
{
	unsigned char h[LV_HEADER_SIZE];
	uint32_t version, data_len, compressed, cookie;
	bool swap = false;

	sv_set_record(q->cx, q->index, "libvirt header");
	sv_count_record(q->cx);
	if (!need(q, h, sizeof(h), "libvirt save image header"))
		return false;
	if (memcmp(h, LV_MAGIC_PART, LV_MAGIC_LEN) == 0)
		sv_report(q->cx, CODE(C_LV_PARTIAL), 0,
			  "magic \"LibvirtQemudPart\": the save did not complete");
	version = ld32le(h + 16);
	if (version > LV_VERSION_MAX) {
		/* libvirt byte-swaps a header written on the other endianness. */
		version = bswap32(version);
		swap = true;
	}
	if (version < 1 || version > LV_VERSION_MAX) {
		sv_report(q->cx, CODE(C_LV_VERSION), 16, "version %u (libvirt writes 1 and 2)",
			  ld32le(h + 16));
		return false;
	}
	data_len = swap ? bswap32(ld32le(h + 20)) : ld32le(h + 20);
	compressed = swap ? bswap32(ld32le(h + 28)) : ld32le(h + 28);
	cookie = swap ? bswap32(ld32le(h + 32)) : ld32le(h + 32);
	if (data_len == 0 || data_len > LV_DATA_MAX || cookie > data_len) {
		sv_report(q->cx, CODE(C_LV_DATA), cookie > data_len && data_len ? 32 : 20,
			  "XML length %u, cookie offset %u", data_len, cookie);
		return false;
	}
	if (compressed >= sizeof(lv_formats) / sizeof(lv_formats[0])) {
		sv_report(q->cx, CODE(C_LV_FORMAT), 28, "compression format %u", compressed);
		return false;
	}
	if (!skip_need(q, data_len, "libvirt domain XML"))
		return false;
	if (sv_want_records(q->cx))
		sv_emit_record(q->cx, q->index, "libvirt header", 0, LV_HEADER_SIZE + (uint64_t)data_len,
			       "version %u, %u octets of XML, QEMU stream %s", version,
			       data_len, lv_formats[compressed]);
	q->index++;
	if (compressed != 0) {
		sv_report(q->cx, CODE(C_LV_COMPRESSED), 28,
			  "the QEMU stream is %s-compressed: decompress it (or save with "
			  "format raw) to verify it", lv_formats[compressed]);
		return false;
	}
	return true;
}

/* ---- entry points ----------------------------------------------------------- */

static void emit_stats(qemu_state *q)
{
	char buf[1024];
	size_t used = 0;

	if (!sv_want_records(q->cx))
		return;
	if (q->have_config)
		sv_emit_stat(q->cx, "machine", "%s", shown(q->machine, buf, sizeof(buf)));
	sv_emit_stat(q->cx, "footers", "%s", q->footers == FOOTERS_YES ? "yes" :
		     q->footers == FOOTERS_NO ? "no" : "unknown");
	sv_emit_stat_u64(q->cx, "ram.total", q->ram_total);
	sv_emit_stat_u64(q->cx, "ram.blocks", q->nblocks);
	buf[0] = '\0';
	for (size_t i = 0; i < q->nblocks && used + 80 < sizeof(buf); i++) {
		char nb[300];
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s=%llu",
					 i ? " " : "", shown(q->blocks[i].name, nb, 64),
					 (unsigned long long)q->blocks[i].length);
	}
	if (q->nblocks)
		sv_emit_stat(q->cx, "ram.block.sizes", "%s", buf);
	sv_emit_stat_u64(q->cx, "pages.zero", q->pages_zero);
	sv_emit_stat_u64(q->cx, "pages.full", q->pages_full);
	sv_emit_stat_u64(q->cx, "pages.xbzrle", q->pages_xbzrle);
	if (q->pages_compressed)
		sv_emit_stat_u64(q->cx, "pages.compressed", q->pages_compressed);
	if (q->mapped_ram)
		sv_emit_stat_u64(q->cx, "pages.mapped", q->pages_mapped);
	sv_emit_stat_u64(q->cx, "devices", q->devices);
	sv_emit_stat(q->cx, "vmdesc", "%s", q->vmdesc_seen ? "yes" : "no");
}

static void state_free(qemu_state *q)
{
	free(q->secs);
	free(q->hash_id);
	free(q->hash_ix);
	free(q->blocks);
	free(q->sorted);
	free(q->store);
	free(q);
}

static void qemu_verify(sv_ctx *cx, sv_stream *in)
{
	qemu_state *q, *parent = package_parent;
	size_t avail;
	const unsigned char *p;

	if (parent) {
		/* A PACKAGED command's data: sections up to its end, no header. */
		sv_stream *outer = parent->in;

		package_parent = NULL;
		parent->in = in;
		parent->in_package = true;
		sections(parent);
		parent->in_package = false;
		parent->package_quit = false;
		parent->in = outer;
		return;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		sv_report(cx, &sv_core_codes[SV_CORE_IO], sv_offset(in), "out of memory");
		return;
	}
	q->cx = cx;
	q->in = in;
	q->page_size = 4096;
	q->cur_block = -1;
	q->walk_budget = WALK_BUDGET;
	p = sv_peek(in, LV_MAGIC_LEN, &avail);
	if (p && avail == LV_MAGIC_LEN && (memcmp(p, LV_MAGIC, LV_MAGIC_LEN) == 0 ||
					   memcmp(p, LV_MAGIC_PART, LV_MAGIC_LEN) == 0)) {
		if (!libvirt_header(q))
			goto out;
	}
	if (!stream_header(q))
		goto out;
	p = sv_peek(in, 1, &avail);
	if (p && avail && p[0] == SEC_CONFIG) {
		uint64_t at = sv_offset(in);
		sv_skip(in, 1);
		if (!configuration(q, at))
			goto out;
		q->index++;
	} else if (!sv_is_nested(cx)) {
		/* Xen's device state (nested in libxl) never has one. */
		sv_record_none(cx);
		sv_report(cx, CODE(C_CONFIG_MISSING), sv_offset(in),
			  "no CONFIGURATION section after the header");
	}
	sections(q);
out:
	emit_stats(q);
	state_free(q);
}

static int qemu_bid(const sv_bid_input *in)
{
	const unsigned char *p = in->head;
	size_t n = in->head_len;
	int score;

	if (in->is_dir)
		return 0;
	if (n >= LV_MAGIC_LEN && (memcmp(p, LV_MAGIC, LV_MAGIC_LEN) == 0 ||
				  memcmp(p, LV_MAGIC_PART, LV_MAGIC_LEN) == 0)) {
		uint32_t v;
		score = 80;
		if (n < 20)
			return score;
		v = ld32le(p + 16);
		if (v > LV_VERSION_MAX)
			v = bswap32(v);
		return v >= 1 && v <= LV_VERSION_MAX ? 100 : score;
	}
	if (n < 4 || ld32(p) != QEMU_MAGIC)
		return 0;
	score = 50;                          /* "QEVM" */
	if (n < 8)
		return score;
	if (ld32(p + 4) == QEMU_VERSION_COMPAT)
		return 80;                   /* v2: ours to name as obsolete */
	if (ld32(p + 4) != QEMU_VERSION)
		return score;
	score = 90;                          /* version 3 */
	if (n < 9)
		return score;
	/* CONFIGURATION, or (Xen, old machines) a first START/FULL section. */
	return p[8] == SEC_CONFIG || p[8] == SEC_START || p[8] == SEC_FULL ? 100 : score;
}

const sv_format sv_format_qemu = {
	.name = "qemu",
	.description = "QEMU migration stream / savevm state (v3), bare, in a libvirt "
		       "save image, or Xen's device state",
	.codes = qemu_codes,
	.ncodes = QEMU_NCODES,
	.bid = qemu_bid,
	.verify = qemu_verify,
	.verify_dir = NULL,
};

static const sv_format *self_format(void)
{
	return &sv_format_qemu;
}
