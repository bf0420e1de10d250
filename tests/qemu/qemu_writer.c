/*
 * Stream writer and fixture builder for the QEMU format tests.  Layouts
 * follow QEMU's migration code (migration/savevm.c, ram.c) and what QEMU 7.2 really writes
 * (tests/data/qemu): the device descriptions below are shaped like a real
 * vmdesc (compressed arrays, a struct array, a subsection, an old-style
 * "data" buffer).  Every broken fixture deviates from a valid shape in
 * exactly one place and records where.
 */
#include <stdlib.h>
#include <string.h>

#include "qemu_writer.h"

/* ---- buffer ----------------------------------------------------------- */

void qw_init(qw *w)
{
	memset(w, 0, sizeof(*w));
}

void qw_free(qw *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

static void qw_grow(qw *w, size_t n)
{
	size_t cap;
	unsigned char *p;

	if (w->len + n <= w->cap)
		return;
	cap = w->cap ? w->cap : 4096;
	while (cap < w->len + n)
		cap *= 2;
	p = realloc(w->p, cap);
	if (!p)
		abort();
	w->p = p;
	w->cap = cap;
}

void qw_raw(qw *w, const void *p, size_t n)
{
	qw_grow(w, n);
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

void qw_fill(qw *w, int byte, size_t n)
{
	qw_grow(w, n);
	memset(w->p + w->len, byte, n);
	w->len += n;
}

static void qw_int(qw *w, uint64_t v, unsigned n)
{
	qw_grow(w, n);
	for (unsigned i = 0; i < n; i++)
		w->p[w->len + i] = (unsigned char)(v >> (8 * (n - 1 - i)));
	w->len += n;
}

void qw_u8(qw *w, uint8_t v) { qw_int(w, v, 1); }
void qw_be16(qw *w, uint16_t v) { qw_int(w, v, 2); }
void qw_be32(qw *w, uint32_t v) { qw_int(w, v, 4); }
void qw_be64(qw *w, uint64_t v) { qw_int(w, v, 8); }

static void qw_le32(qw *w, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		qw_u8(w, (uint8_t)(v >> (8 * i)));
}

void qw_str(qw *w, const char *s)
{
	qw_u8(w, (uint8_t)strlen(s));
	qw_raw(w, s, strlen(s));
}

/* ---- the format's numbers ------------------------------------------------ */

/* Commands (enum qemu_vm_cmd). */
enum { CMD_OPEN_RETURN_PATH = 1, CMD_PING, CMD_ADVISE, CMD_LISTEN, CMD_RUN, CMD_DISCARD,
       CMD_PACKAGED, CMD_COLO, CMD_RESUME, CMD_RECV_BITMAP, CMD_SWITCHOVER_START };
enum { S_EOF, S_START, S_PART, S_END, S_FULL, S_SUB, S_VMDESC, S_CONFIG, S_COMMAND,
       S_FOOTER = 0x7e };
#define F_ZERO 0x02u
#define F_MEM_SIZE 0x04u
#define F_PAGE 0x08u
#define F_EOS 0x10u
#define F_CONT 0x20u
#define F_XBZRLE 0x40u
#define F_HOOK 0x80u
#define F_COMPRESS 0x100u
#define F_MULTIFD 0x200u
#define PAGE 4096u
#define RAM_ID 2u

/* ---- fixtures ---------------------------------------------------------------- */

#define V(name, shape) { name, shape, "", NULL }
#define B(name, shape, brk, code) { name, shape, brk, code }

const qfixture qemu_fixtures[] = {
	V("valid-precopy", "precopy"),
	B("valid-old-machine", "old", "", "qemu.configuration.missing"),
	B("valid-no-vmdesc", "novmdesc", "", "qemu.vmdesc.missing"),
	B("valid-xen-devstate", "xen", "", "qemu.configuration.missing"),
	V("valid-mapped-ram", "mapped"),
	V("valid-postcopy", "postcopy"),
	V("valid-libvirt", "libvirt"),
	V("valid-xbzrle", "xbzrle"),
	B("valid-multifd", "multifd", "", "qemu.ram.multifd"),
	V("valid-commands", "commands"),
	V("valid-hugepage", "hugepage"),
	V("valid-no-footers-vmdesc", "nofooter"),
	B("bad-magic", "precopy", "magic", "qemu.header.magic"),
	B("bad-v2", "precopy", "v2", "qemu.header.obsolete-v2"),
	B("bad-version", "precopy", "version", "qemu.header.version"),
	B("bad-config-name", "precopy", "config-name", "qemu.configuration.name-length"),
	B("bad-config-page-bits", "precopy", "config-page-bits", "qemu.configuration.subsection"),
	B("bad-config-caps", "precopy", "config-caps", "qemu.configuration.subsection"),
	B("bad-config-foreign", "precopy", "config-foreign", "qemu.configuration.subsection"),
	B("note-config-unknown", "precopy", "config-unknown", "qemu.configuration.subsection-unknown"),
	B("bad-section-type", "precopy", "section-type", "qemu.section.type"),
	B("bad-idstr", "precopy", "idstr", "qemu.section.idstr"),
	B("bad-unknown-id", "precopy", "unknown-id", "qemu.section.unknown-id"),
	B("bad-after-end", "precopy", "after-end", "qemu.section.after-end"),
	B("bad-no-end", "precopy", "no-end", "qemu.section.no-end"),
	B("bad-no-end-xen", "xen", "no-end-xen", "qemu.section.no-end"),
	B("bad-footer-missing", "precopy", "footer-missing", "qemu.footer.missing"),
	B("bad-footer-mismatch", "precopy", "footer-mismatch", "qemu.footer.mismatch"),
	B("bad-cmd-unknown", "commands", "cmd-unknown", "qemu.command.unknown"),
	B("bad-cmd-length", "commands", "cmd-length", "qemu.command.length"),
	B("bad-advise-length", "postcopy", "advise-length", "qemu.command.length"),
	B("bad-packaged-size", "postcopy", "packaged-size", "qemu.command.packaged-size"),
	B("bad-packaged-nested", "postcopy", "packaged-nested", "qemu.command.packaged-nested"),
	B("warn-vmdesc-expected", "precopy", "vmdesc-expected", "qemu.vmdesc.expected"),
	B("bad-vmdesc-json", "precopy", "vmdesc-json", "qemu.vmdesc.json"),
	B("bad-vmdesc-shape", "precopy", "vmdesc-shape", "qemu.vmdesc.json"),
	B("bad-vmdesc-truncated", "precopy", "vmdesc-truncated", "input.truncated"),
	B("note-vmdesc-large", "precopy", "vmdesc-large", "qemu.vmdesc.too-large"),
	B("bad-device-missing", "precopy", "dev-missing", "qemu.vmdesc.device-missing"),
	B("bad-device-extra", "precopy", "dev-extra", "qemu.vmdesc.device-extra"),
	B("bad-device-version", "precopy", "dev-version", "qemu.vmdesc.version"),
	B("bad-device-short", "precopy", "dev-short", "qemu.device.short"),
	B("bad-device-long", "precopy", "dev-long", "qemu.device.long"),
	B("bad-device-subsection", "precopy", "dev-subsection", "qemu.device.subsection"),
	B("warn-trailing", "precopy", "trailing", "qemu.trailing-data"),
	B("note-device-not-walked", "precopy", "dev-huge", "qemu.device.not-walked"),
	B("bad-ram-version", "precopy", "ram-version", "qemu.ram.version"),
	B("bad-ram-flags", "precopy", "ram-flags", "qemu.ram.flags"),
	B("bad-ram-continue", "precopy", "ram-continue", "qemu.ram.continue"),
	B("bad-ram-block", "precopy", "ram-block", "qemu.ram.block-unknown"),
	B("bad-ram-offset", "precopy", "ram-offset", "qemu.ram.offset"),
	B("bad-ram-zero", "precopy", "ram-zero", "qemu.ram.zero-fill"),
	B("bad-ram-xbzrle", "xbzrle", "ram-xbzrle", "qemu.ram.xbzrle"),
	B("bad-ram-compress", "xbzrle", "ram-compress", "qemu.ram.compressed-length"),
	B("bad-ram-mem-size", "precopy", "mem-size", "qemu.ram.mem-size"),
	B("bad-ram-block-name", "precopy", "block-name", "qemu.ram.block-name"),
	B("bad-ram-block-count", "precopy", "block-count", "qemu.ram.block-count"),
	B("bad-ram-hook", "precopy", "ram-hook", "qemu.ram.hook"),
	B("bad-ram-page-in-mapped", "mapped", "mapped-page", "qemu.ram.flags"),
	B("bad-mapped-version", "mapped", "mr-version", "qemu.mapped-ram.version"),
	B("bad-mapped-page-size", "mapped", "mr-page-size", "qemu.mapped-ram.page-size"),
	B("bad-mapped-alignment", "mapped", "mr-align", "qemu.mapped-ram.alignment"),
	B("bad-mapped-bitmap", "mapped", "mr-bitmap", "qemu.mapped-ram.bitmap"),
	B("bad-mapped-truncated", "mapped", "mr-truncated", "input.truncated"),
	B("bad-libvirt-partial", "libvirt", "lv-partial", "qemu.libvirt.partial"),
	B("bad-libvirt-version", "libvirt", "lv-version", "qemu.libvirt.version"),
	B("bad-libvirt-data", "libvirt", "lv-data", "qemu.libvirt.data-length"),
	B("note-libvirt-compressed", "libvirt", "lv-compressed", "qemu.libvirt.compressed"),
	B("bad-libvirt-format", "libvirt", "lv-format", "qemu.libvirt.format"),
	B("bad-truncated-page", "precopy", "truncated", "input.truncated"),
	B("bad-no-eof", "precopy", "no-eof", "input.truncated"),
};
const size_t qemu_nfixtures = sizeof(qemu_fixtures) / sizeof(qemu_fixtures[0]);

const qfixture *qemu_fixture_find(const char *name)
{
	for (size_t i = 0; i < qemu_nfixtures; i++)
		if (strcmp(qemu_fixtures[i].name, name) == 0)
			return &qemu_fixtures[i];
	return NULL;
}

/* ---- the builder --------------------------------------------------------------- */

typedef struct bld {
	qw *w;
	fx_expect *e;
	const char *brk;
	bool config, footers, vmdesc, ram, mapped, postcopy, libvirt, xbzrle,
	     multifd, commands, hugepage;
} bld;

static bool is(const bld *b, const char *brk)
{
	return strcmp(b->brk, brk) == 0;
}

static void mark(bld *b, const char *code, uint64_t off)
{
	if (!b->e->code) {
		b->e->code = code;
		b->e->off = off;
	} else {
		b->e->code2 = code;
		b->e->off2 = off;
	}
}

static void footer(bld *b, uint32_t id)
{
	if (!b->footers)
		return;
	qw_u8(b->w, S_FOOTER);
	qw_be32(b->w, id);
}

/* A device: section id, idstr, instance, version, body and description. */
typedef struct device {
	uint32_t id;
	const char *name;
	uint32_t version;
	const char *json;
} device;

static const device devices[] = {
	{ 0, "timer", 2,
	  "{\"name\": \"timer\", \"instance_id\": 0, \"vmsd_name\": \"timer\", \"version\": 2, "
	  "\"fields\": [{\"name\": \"cpu_ticks_offset\", \"type\": \"int64\", \"size\": 8}, "
	  "{\"name\": \"unused\", \"type\": \"unused_buffer\", \"size\": 8}, "
	  "{\"name\": \"cpu_clock_offset\", \"type\": \"int64\", \"size\": 8}]}" },
	{ 1, "cpu", 12,
	  "{\"name\": \"cpu\", \"instance_id\": 0, \"vmsd_name\": \"cpu\", \"version\": 12, "
	  "\"fields\": [{\"name\": \"env.regs\", \"array_len\": 16, \"type\": \"uint64\", \"size\": 8}, "
	  "{\"name\": \"env.segs\", \"array_len\": 2, \"type\": \"struct\", \"struct\": "
	  "{\"vmsd_name\": \"seg\", \"version\": 1, \"fields\": [{\"name\": \"base\", \"type\": \"uint64\", \"size\": 8}, "
	  "{\"name\": \"limit\", \"type\": \"uint32\", \"size\": 4}, {\"name\": \"flags\", \"type\": \"uint32\", \"size\": 4}]}, "
	  "\"size\": 16}], \"subsections\": [{\"vmsd_name\": \"cpu/poll_control_msr\", \"version\": 1, "
	  "\"fields\": [{\"name\": \"env.poll_control_msr\", \"type\": \"uint64\", \"size\": 8}]}]}" },
	{ 3, "0000:00:03.0/virtio-balloon", 1,
	  "{\"name\": \"0000:00:03.0/virtio-balloon\", \"instance_id\": 0, \"size\": 20, "
	  "\"fields\": [{\"name\": \"data\", \"size\": 20, \"type\": \"buffer\"}]}" },
	{ 4, "globalstate", 1,
	  "{\"name\": \"globalstate\", \"instance_id\": 0, \"vmsd_name\": \"globalstate\", \"version\": 1, "
	  "\"fields\": [{\"name\": \"size\", \"type\": \"uint32\", \"size\": 4}, "
	  "{\"name\": \"runstate\", \"type\": \"buffer\", \"size\": 100}]}" },
};
#define NDEV (sizeof(devices) / sizeof(devices[0]))

/* The body of device i, as its description lists it. */
static void device_body(bld *b, size_t i, uint64_t *body_end)
{
	qw *w = b->w;

	switch (i) {
	case 0:
		qw_be64(w, 0x123456789aULL);
		qw_fill(w, 0, 8);
		qw_be64(w, 0x42);
		if (is(b, "dev-long")) {
			mark(b, "qemu.device.long", w->len);
			qw_be32(w, 0xdeadbeef);
		}
		break;
	case 1:
		/* A register holding what looks like a footer of this section. */
		qw_u8(w, S_FOOTER);
		qw_be32(w, 1);
		qw_raw(w, "\xaa\xbb\xcc", 3);
		for (int r = 1; r < 16; r++)
			qw_be64(w, 0x1111111111111111ULL * (unsigned)r);
		for (int s = 0; s < 2; s++) {
			qw_be64(w, 0xf0000ULL * (unsigned)s);
			qw_be32(w, 0xffff);
			qw_be32(w, 0x93);
		}
		qw_u8(w, S_SUB);
		if (is(b, "dev-subsection")) {
			mark(b, "qemu.device.subsection", w->len);
			qw_str(w, "cpu/poll_control_msX");
		} else {
			qw_str(w, "cpu/poll_control_msr");
		}
		qw_be32(w, 1);
		if (!is(b, "dev-short"))
			qw_be64(w, 1);
		else
			qw_be32(w, 1);
		break;
	case 2:
		for (int k = 0; k < 20; k++)
			qw_u8(w, (uint8_t)(k * 13));
		break;
	default:
		qw_be32(w, 8);
		qw_raw(w, "running", 8);
		qw_fill(w, 0, 100 - 8);
		break;
	}
	*body_end = w->len;
}

static void section_header(qw *w, uint8_t type, uint32_t id, const char *name,
			   uint32_t instance, uint32_t version)
{
	qw_u8(w, type);
	qw_be32(w, id);
	qw_str(w, name);
	qw_be32(w, instance);
	qw_be32(w, version);
}

static void devices_out(bld *b)
{
	qw *w = b->w;

	for (size_t i = 0; i < NDEV; i++) {
		const device *d = &devices[i];
		uint64_t at = w->len, end;

		if (i == 1 && is(b, "idstr")) {
			mark(b, "qemu.section.idstr", at + 5);
			section_header(w, S_FULL, d->id, "", 0, d->version);
		} else {
			section_header(w, S_FULL, d->id, d->name, 0, d->version);
		}
		if (i == 2 && is(b, "dev-missing"))
			mark(b, "qemu.vmdesc.device-missing", at);
		if (i == 0 && is(b, "dev-version"))
			mark(b, "qemu.vmdesc.version", w->len - 4);
		if (i == NDEV - 1 && is(b, "no-end"))
			mark(b, "qemu.section.no-end", w->len);
		if (i == NDEV - 1 && is(b, "no-end-xen"))
			mark(b, "qemu.section.no-end", w->len);
		device_body(b, i, &end);
		if (i == 1 && is(b, "dev-short"))
			mark(b, "qemu.device.short", end);
		if (i == NDEV - 1 && (is(b, "no-end") || is(b, "no-end-xen"))) {
			/* The stream ends inside the last device's state. */
			w->len -= 95;
			return;
		}
		footer(b, d->id);
	}
}

/* A device state larger than the verifier keeps (512 KiB). */
#define HUGE_DEV 600000u

static void huge_device_out(bld *b)
{
	section_header(b->w, S_FULL, 5, "bigdev", 0, 1);
	qw_fill(b->w, 0x21, HUGE_DEV);
	footer(b, 5);
}

static void vmdesc_out(bld *b)
{
	qw *w = b->w;
	char json[8192];
	size_t n = 0;
	uint64_t at = w->len;

	if (is(b, "vmdesc-shape")) {
		snprintf(json, sizeof(json), "[1, 2, 3]");
		mark(b, "qemu.vmdesc.json", at + 5);
	} else {
		n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"page_size\": %u, \"devices\": [", PAGE);
		for (size_t i = 0; i < NDEV; i++) {
			if (i == 2 && is(b, "dev-missing"))
				continue;
			if (i == 0 && is(b, "dev-version")) {
				n += (size_t)snprintf(json + n, sizeof(json) - n,
						      "{\"name\": \"timer\", \"instance_id\": 0, \"version\": 3, \"fields\": []}");
				continue;
			}
			n += (size_t)snprintf(json + n, sizeof(json) - n, "%s%s",
					      i ? ", " : "", devices[i].json);
		}
		if (is(b, "dev-huge")) {
			n += (size_t)snprintf(json + n, sizeof(json) - n,
					      ", {\"name\": \"bigdev\", \"instance_id\": 0, \"fields\": "
					      "[{\"name\": \"data\", \"type\": \"buffer\", \"size\": %u}]}", HUGE_DEV);
			mark(b, "qemu.device.not-walked", at);
		}
		if (is(b, "dev-extra")) {
			n += (size_t)snprintf(json + n, sizeof(json) - n,
					      ", {\"name\": \"serial\", \"instance_id\": 0, \"fields\": []}");
			mark(b, "qemu.vmdesc.device-extra", at);
		}
		n += (size_t)snprintf(json + n, sizeof(json) - n, "]");
		/* QEMU 8.2+ describes the configuration too (its uuid subsection). */
		if (!b->mapped)
			n += (size_t)snprintf(json + n, sizeof(json) - n,
					      ", \"configuration\": {\"vmsd_name\": \"configuration\", \"version\": 1, "
					      "\"fields\": [{\"name\": \"len\", \"type\": \"uint32\", \"size\": 4}, "
					      "{\"name\": \"name\", \"type\": \"buffer\", \"size\": 13}], \"subsections\": "
					      "[{\"vmsd_name\": \"configuration/uuid\", \"version\": 1, \"fields\": "
					      "[{\"name\": \"uuid.data\", \"array_len\": 16, \"type\": \"uint8\", \"size\": 1}]}]}");
		n += (size_t)snprintf(json + n, sizeof(json) - n, "}");
		if (is(b, "vmdesc-json")) {
			/* A corrupted tail: the closing brace gone. */
			json[n - 1] = ' ';
			mark(b, "qemu.vmdesc.json", at + 5 + n);
		}
	}
	if (is(b, "vmdesc-large")) {
		mark(b, "qemu.vmdesc.too-large", at + 1);
		qw_u8(w, S_VMDESC);
		qw_be32(w, (2u << 20));
		qw_raw(w, json, strlen(json));
		qw_fill(w, ' ', (2u << 20) - strlen(json));
		return;
	}
	qw_u8(w, S_VMDESC);
	qw_be32(w, (uint32_t)strlen(json));
	if (is(b, "vmdesc-truncated")) {
		mark(b, "input.truncated", at + 5);
		qw_raw(w, json, strlen(json) / 2);
		return;
	}
	qw_raw(w, json, strlen(json));
	if (is(b, "trailing")) {
		mark(b, "qemu.trailing-data", w->len);
		qw_raw(w, "\0\0\0\0", 4);
	}
}

static void configuration_out(bld *b)
{
	qw *w = b->w;
	const char *machine = "pc-i440fx-9.0";

	qw_u8(w, S_CONFIG);
	if (is(b, "config-name")) {
		mark(b, "qemu.configuration.name-length", w->len);
		qw_be32(w, 0);
		return;
	}
	qw_be32(w, (uint32_t)strlen(machine));
	qw_raw(w, machine, strlen(machine));
	if (is(b, "config-page-bits")) {
		qw_u8(w, S_SUB);
		qw_str(w, "configuration/target-page-bits");
		qw_be32(w, 1);
		mark(b, "qemu.configuration.subsection", w->len);
		qw_be32(w, 40);
	}
	if (b->mapped || is(b, "config-caps")) {
		qw_u8(w, S_SUB);
		qw_str(w, "configuration/capabilities");
		qw_be32(w, 1);
		if (is(b, "config-caps"))
			mark(b, "qemu.configuration.subsection", w->len);
		qw_be32(w, is(b, "config-caps") ? 100000 : 1);
		qw_str(w, "mapped-ram");
	}
	if (is(b, "config-foreign")) {
		mark(b, "qemu.configuration.subsection", w->len + 1);
		qw_u8(w, S_SUB);
		qw_str(w, "timer/extra");
		qw_be32(w, 1);
	}
	if (is(b, "config-unknown")) {
		mark(b, "qemu.configuration.subsection-unknown", w->len);
		qw_u8(w, S_SUB);
		qw_str(w, "configuration/future");
		qw_be32(w, 1);
		qw_be64(w, 0x0102030405060708ULL);
	}
	/* The uuid subsection (validate-uuid) of a real configuration. */
	qw_u8(w, S_SUB);
	qw_str(w, "configuration/uuid");
	qw_be32(w, 1);
	qw_fill(w, 0x5a, 16);
}

static void command_out(qw *w, uint16_t cmd, uint16_t len)
{
	qw_u8(w, S_COMMAND);
	qw_be16(w, cmd);
	qw_be16(w, len);
}

#define BLOCK0 "pc.ram"
#define BLOCK0_LEN 0x100000u
#define BLOCK1 "/rom@etc/acpi/tables"
#define BLOCK1_LEN 0x20000u

/* parse_ramblock_mapped_ram's header, bitmap and pages for one block. */
static void mapped_block(bld *b, uint64_t len)
{
	qw *w = b->w;
	uint64_t hdr = w->len, npages = len / PAGE, bmsize = (npages + 63) / 64 * 8;
	uint64_t bmo = hdr + 28, pgo = (bmo + bmsize + (1u << 20) - 1) / (1u << 20) * (1u << 20);

	if (is(b, "mr-version"))
		mark(b, "qemu.mapped-ram.version", hdr);
	qw_be32(w, is(b, "mr-version") ? 2 : 1);
	if (is(b, "mr-page-size"))
		mark(b, "qemu.mapped-ram.page-size", w->len);
	qw_be64(w, is(b, "mr-page-size") ? 8192 : PAGE);
	if (is(b, "mr-bitmap")) {
		mark(b, "qemu.mapped-ram.bitmap", w->len);
		bmo = hdr + 20;
	}
	qw_be64(w, bmo);
	if (is(b, "mr-align")) {
		mark(b, "qemu.mapped-ram.alignment", w->len);
		pgo += PAGE;
	}
	qw_be64(w, pgo);
	if (is(b, "mr-bitmap") || is(b, "mr-align") || is(b, "mr-version") ||
	    is(b, "mr-page-size"))
		b->brk = "done"; /* one block breaks */
	qw_fill(w, 0, bmo > w->len ? bmo - w->len : 0);
	qw_u8(w, 0x07); /* pages 0-2 present */
	qw_fill(w, 0, bmsize - 1);
	qw_fill(w, 0, pgo - w->len);
	qw_fill(w, 0x33, len);
	if (is(b, "mr-truncated")) {
		mark(b, "input.truncated", bmo + bmsize); /* the skip to the pages' end */
		w->len = pgo + len / 2;
		b->brk = "stop";
	}
}

static void mem_size_out(bld *b)
{
	qw *w = b->w;

	if (is(b, "block-count")) {
		qw_be64(w, (uint64_t)1025 * PAGE | F_MEM_SIZE);
		for (unsigned i = 0; i < 1025; i++) {
			char name[16];
			snprintf(name, sizeof(name), "b%u", i);
			if (i == 1024)
				mark(b, "qemu.ram.block-count", w->len);
			qw_str(w, name);
			qw_be64(w, PAGE);
		}
		return;
	}
	qw_be64(w, ((uint64_t)BLOCK0_LEN + BLOCK1_LEN) | F_MEM_SIZE);
	if (is(b, "block-name")) {
		mark(b, "qemu.ram.block-name", w->len);
		qw_str(w, "");
		qw_be64(w, BLOCK0_LEN);
		return;
	}
	qw_str(w, BLOCK0);
	qw_be64(w, BLOCK0_LEN);
	if (b->hugepage)
		qw_be64(w, 2u << 20);
	if (b->mapped)
		mapped_block(b, BLOCK0_LEN);
	if (is(b, "stop"))
		return;
	qw_str(w, BLOCK1);
	if (is(b, "mem-size")) {
		mark(b, "qemu.ram.mem-size", w->len);
		qw_be64(w, BLOCK1_LEN + PAGE);
		return;
	}
	qw_be64(w, BLOCK1_LEN);
	if (b->mapped)
		mapped_block(b, BLOCK1_LEN);
}

static void page_rec(qw *w, uint64_t addr, unsigned flags, const char *block)
{
	qw_be64(w, addr | flags);
	if (!(flags & F_CONT))
		qw_str(w, block);
}

/* The pages of one RAM part (none with mapped-ram). */
static void pages_out(bld *b, int part)
{
	qw *w = b->w;

	if (b->mapped) {
		if (is(b, "mapped-page")) {
			mark(b, "qemu.ram.flags", w->len);
			page_rec(w, 0, F_ZERO, BLOCK0);
			qw_u8(w, 0);
			b->brk = "done";
		}
		return;
	}
	if (part == 0) {
		if (is(b, "ram-continue")) {
			mark(b, "qemu.ram.continue", w->len);
			page_rec(w, 0, F_ZERO | F_CONT, BLOCK0);
		} else if (is(b, "ram-block")) {
			uint64_t at = w->len;
			page_rec(w, 0, F_ZERO, "pc.rom");
			mark(b, "qemu.ram.block-unknown", at + 8);
		} else {
			page_rec(w, 0, F_ZERO, BLOCK0);
		}
		if (is(b, "ram-zero"))
			mark(b, "qemu.ram.zero-fill", w->len);
		qw_u8(w, is(b, "ram-zero") ? 1 : 0);
		if (is(b, "ram-offset"))
			mark(b, "qemu.ram.offset", w->len);
		page_rec(w, is(b, "ram-offset") ? BLOCK0_LEN : PAGE, F_ZERO | F_CONT, NULL);
		qw_u8(w, 0);
		page_rec(w, 2 * PAGE, F_PAGE | F_CONT, NULL);
		if (is(b, "truncated")) {
			mark(b, "input.truncated", w->len);
			qw_fill(w, 0x44, PAGE / 2);
			b->brk = "stop";
			return;
		}
		qw_fill(w, 0x44, PAGE);
		if (is(b, "ram-hook")) {
			mark(b, "qemu.ram.hook", w->len);
			qw_be64(w, F_HOOK);
		}
		page_rec(w, 0, F_PAGE, BLOCK1);
		qw_fill(w, 0x55, PAGE);
		if (b->xbzrle) {
			page_rec(w, PAGE, F_XBZRLE | F_CONT, NULL);
			qw_u8(w, 1);
			if (is(b, "ram-xbzrle"))
				mark(b, "qemu.ram.xbzrle", w->len);
			qw_be16(w, is(b, "ram-xbzrle") ? PAGE + 1 : 10);
			qw_fill(w, 0x66, 10);
			page_rec(w, 2 * PAGE, F_COMPRESS | F_CONT, NULL);
			if (is(b, "ram-compress"))
				mark(b, "qemu.ram.compressed-length", w->len);
			qw_be32(w, is(b, "ram-compress") ? 5000 : 20);
			qw_fill(w, 0x77, 20);
		}
		if (b->multifd) {
			mark(b, "qemu.ram.multifd", w->len);
			qw_be64(w, F_MULTIFD);
		}
		if (is(b, "ram-flags")) {
			mark(b, "qemu.ram.flags", w->len);
			qw_be64(w, 0x01);
		}
	} else {
		/* The next part continues the block the previous part named. */
		page_rec(w, 3 * PAGE, F_PAGE | F_CONT, NULL);
		qw_fill(w, 0x88, PAGE);
	}
}

static void ram_section(bld *b, uint8_t type, int part)
{
	qw *w = b->w;
	uint64_t at = w->len;

	if (type == S_START) {
		section_header(w, S_START, RAM_ID, "ram", 0, is(b, "ram-version") ? 3 : 4);
		if (is(b, "ram-version")) {
			mark(b, "qemu.ram.version", w->len - 4);
			return;
		}
		mem_size_out(b);
		if (is(b, "stop") || is(b, "block-name") || is(b, "mem-size") ||
		    is(b, "block-count"))
			return;
	} else {
		qw_u8(w, type);
		qw_be32(w, RAM_ID);
		pages_out(b, part);
		if (is(b, "stop"))
			return;
	}
	qw_be64(w, F_EOS);
	if (type == S_PART && is(b, "footer-missing")) {
		mark(b, "qemu.footer.missing", w->len);
		return;
	}
	if (type == S_PART && is(b, "footer-mismatch") && b->footers) {
		qw_u8(w, S_FOOTER);
		mark(b, "qemu.footer.mismatch", w->len);
		qw_be32(w, 7);
		return;
	}
	footer(b, RAM_ID);
	(void)at;
}

static void packaged_out(bld *b)
{
	qw *w = b->w;
	qw pk;
	bld inner = *b;

	qw_init(&pk);
	inner.w = &pk;
	command_out(&pk, CMD_LISTEN, 0);
	if (is(b, "packaged-nested")) {
		mark(b, "qemu.command.packaged-nested", w->len + 9 + pk.len);
		command_out(&pk, CMD_PACKAGED, 4);
		qw_be32(&pk, 0);
	}
	devices_out(&inner);
	command_out(&pk, CMD_RUN, 0);
	/* QEMU stops reading a package at POSTCOPY_RUN: what follows is ignored. */
	qw_raw(&pk, "\xff\xfe", 2);
	command_out(w, CMD_PACKAGED, 4);
	if (is(b, "packaged-size")) {
		mark(b, "qemu.command.packaged-size", w->len);
		qw_be32(w, (1u << 24) + 1);
	} else {
		qw_be32(w, (uint32_t)pk.len);
	}
	qw_raw(w, pk.p, pk.len);
	qw_free(&pk);
}

static void stream_out(bld *b)
{
	qw *w = b->w;
	uint64_t base = w->len;

	if (is(b, "magic"))
		mark(b, "qemu.header.magic", base);
	qw_be32(w, is(b, "magic") ? 0x51454d55u : 0x5145564du);
	if (is(b, "v2"))
		mark(b, "qemu.header.obsolete-v2", w->len);
	if (is(b, "version"))
		mark(b, "qemu.header.version", w->len);
	qw_be32(w, is(b, "v2") ? 2 : is(b, "version") ? 4 : 3);
	if (b->config)
		configuration_out(b);
	else
		mark(b, "qemu.configuration.missing", w->len);
	if (b->commands) {
		command_out(w, CMD_OPEN_RETURN_PATH, 0);
		if (is(b, "cmd-unknown")) {
			mark(b, "qemu.command.unknown", w->len + 1);
			command_out(w, 0x20, 0);
		}
		if (is(b, "cmd-length")) {
			mark(b, "qemu.command.length", w->len + 3);
			command_out(w, CMD_PING, 2);
			qw_be16(w, 1);
		} else {
			command_out(w, CMD_PING, 4);
			qw_be32(w, 1);
		}
	}
	if (b->postcopy) {
		if (is(b, "advise-length")) {
			mark(b, "qemu.command.length", w->len + 3);
			command_out(w, CMD_ADVISE, 8);
			qw_be64(w, PAGE);
		} else {
			command_out(w, CMD_ADVISE, 16);
			qw_be64(w, PAGE);
			qw_be64(w, PAGE);
		}
	}
	if (b->ram) {
		ram_section(b, S_START, 0);
		if (is(b, "stop") || is(b, "ram-version") || is(b, "block-name") ||
		    is(b, "mem-size") || is(b, "block-count"))
			return;
		if (b->commands)
			command_out(w, CMD_SWITCHOVER_START, 0);
		ram_section(b, S_PART, 0);
		if (is(b, "stop"))
			return;
		if (is(b, "footer-missing")) {
			/* END where the PART's footer belongs. */
			qw_u8(w, S_END);
			qw_be32(w, RAM_ID);
			qw_be64(w, F_EOS);
			footer(b, RAM_ID);
			return;
		}
		if (b->postcopy) {
			packaged_out(b);
			ram_section(b, S_PART, 1);
		}
		if (is(b, "unknown-id")) {
			mark(b, "qemu.section.unknown-id", w->len + 1);
			qw_u8(w, S_PART);
			qw_be32(w, 99);
			qw_be64(w, F_EOS);
			footer(b, 99);
		}
		ram_section(b, S_END, 1);
		if (is(b, "after-end")) {
			mark(b, "qemu.section.after-end", w->len);
			qw_u8(w, S_PART);
			qw_be32(w, RAM_ID);
			qw_be64(w, F_EOS);
			footer(b, RAM_ID);
		}
	}
	if (!b->postcopy)
		devices_out(b);
	if (is(b, "dev-huge"))
		huge_device_out(b);
	if (is(b, "no-end") || is(b, "no-end-xen"))
		return;
	if (is(b, "section-type")) {
		mark(b, "qemu.section.type", w->len);
		qw_u8(w, 0x09);
		return;
	}
	if (is(b, "no-eof")) {
		mark(b, "input.truncated", w->len);
		return;
	}
	qw_u8(w, S_EOF);
	if (is(b, "vmdesc-expected")) {
		mark(b, "qemu.vmdesc.expected", w->len);
		qw_raw(w, "\x42\x42", 2);
		return;
	}
	if (b->vmdesc)
		vmdesc_out(b);
	else if (!b->postcopy)
		mark(b, "qemu.vmdesc.missing", w->len);
}

static void libvirt_out(bld *b)
{
	qw *w = b->w;
	const char *xml = "<domain type='kvm'><name>fixture</name><memory unit='KiB'>1024</memory></domain>";
	uint32_t data_len = 4096;

	qw_raw(w, is(b, "lv-partial") ? "LibvirtQemudPart" : "LibvirtQemudSave", 16);
	if (is(b, "lv-partial"))
		mark(b, "qemu.libvirt.partial", 0);
	if (is(b, "lv-version"))
		mark(b, "qemu.libvirt.version", w->len);
	qw_le32(w, is(b, "lv-version") ? 7 : 2);
	if (is(b, "lv-data"))
		mark(b, "qemu.libvirt.data-length", w->len);
	qw_le32(w, is(b, "lv-data") ? 0 : data_len);
	qw_le32(w, 1);
	if (is(b, "lv-compressed"))
		mark(b, "qemu.libvirt.compressed", w->len);
	if (is(b, "lv-format"))
		mark(b, "qemu.libvirt.format", w->len);
	qw_le32(w, is(b, "lv-compressed") ? 1 : is(b, "lv-format") ? 9 : 0);
	qw_le32(w, 0);
	qw_fill(w, 0, 14 * 4);
	qw_raw(w, xml, strlen(xml) + 1);
	qw_fill(w, 0, data_len - strlen(xml) - 1);
}

void qemu_fixture_build(const qfixture *f, qw *w, fx_expect *e)
{
	bld b;
	const char *s = f->shape;

	memset(e, 0, sizeof(*e));
	e->off = e->off2 = UINT64_MAX;
	memset(&b, 0, sizeof(b));
	b.w = w;
	b.e = e;
	b.brk = f->brk;
	b.config = b.footers = b.vmdesc = b.ram = true;
	if (strcmp(s, "old") == 0 || strcmp(s, "xen") == 0)
		b.config = b.footers = false;
	if (strcmp(s, "nofooter") == 0)
		b.footers = false;
	if (strcmp(s, "xen") == 0)
		b.ram = false;
	if (strcmp(s, "novmdesc") == 0 || strcmp(s, "xen") == 0 || strcmp(s, "postcopy") == 0)
		b.vmdesc = false;
	b.mapped = strcmp(s, "mapped") == 0;
	b.postcopy = strcmp(s, "postcopy") == 0;
	b.libvirt = strcmp(s, "libvirt") == 0;
	b.xbzrle = strcmp(s, "xbzrle") == 0;
	b.multifd = strcmp(s, "multifd") == 0;
	b.commands = strcmp(s, "commands") == 0;
	b.hugepage = strcmp(s, "hugepage") == 0;
	if (b.libvirt) {
		libvirt_out(&b);
		if (is(&b, "lv-version") || is(&b, "lv-data") || is(&b, "lv-compressed") ||
		    is(&b, "lv-format"))
			return;
	}
	stream_out(&b);
}

void qemu_build_many_sections(qw *w, unsigned sections)
{
	qw_be32(w, 0x5145564du);
	qw_be32(w, 3);
	qw_u8(w, S_CONFIG);
	qw_be32(w, 2);
	qw_raw(w, "pc", 2);
	for (unsigned i = 0; i < sections; i++) {
		char name[32];
		snprintf(name, sizeof(name), "dev%u", i);
		section_header(w, S_FULL, i + 10, name, 0, 1);
		qw_be32(w, i);
		qw_u8(w, S_FOOTER);
		qw_be32(w, i + 10);
	}
	qw_u8(w, S_EOF);
}

static int out_bytes(FILE *out, const void *p, size_t n)
{
	return fwrite(p, 1, n, out) == n ? 0 : -1;
}

int qemu_write_big(FILE *out, uint64_t bytes, bool seekable)
{
	qw w;
	uint64_t pages = bytes / PAGE, blk = pages * PAGE;
	static const unsigned char zeros[PAGE];
	int rc = 0;

	if (pages == 0)
		pages = 1, blk = PAGE;
	qw_init(&w);
	qw_be32(&w, 0x5145564du);
	qw_be32(&w, 3);
	qw_u8(&w, S_CONFIG);
	qw_be32(&w, 13);
	qw_raw(&w, "pc-i440fx-9.0", 13);
	section_header(&w, S_START, RAM_ID, "ram", 0, 4);
	qw_be64(&w, blk | F_MEM_SIZE);
	qw_str(&w, "pc.ram");
	qw_be64(&w, blk);
	qw_be64(&w, F_EOS);
	qw_u8(&w, S_FOOTER);
	qw_be32(&w, RAM_ID);
	rc |= out_bytes(out, w.p, w.len);
	for (uint64_t i = 0; i < pages && rc == 0; i++) {
		unsigned char h[24];
		size_t hn = 0;

		if (i % 65536 == 0) {
			/* A PART every 256 MiB, as iterations do. */
			if (i) {
				qw_init(&w);
				qw_be64(&w, F_EOS);
				qw_u8(&w, S_FOOTER);
				qw_be32(&w, RAM_ID);
				rc |= out_bytes(out, w.p, w.len);
				qw_free(&w);
			}
			h[hn++] = S_PART;
			for (int k = 3; k >= 0; k--)
				h[hn++] = (unsigned char)(RAM_ID >> (8 * k));
		}
		{
			uint64_t word = i * PAGE | F_PAGE | (i % 65536 ? F_CONT : 0);
			for (int k = 7; k >= 0; k--)
				h[hn++] = (unsigned char)(word >> (8 * k));
			if (!(i % 65536)) {
				h[hn++] = 6;
				memcpy(h + hn, "pc.ram", 6);
				hn += 6;
			}
		}
		rc |= out_bytes(out, h, hn);
		if (seekable)
			rc |= fseeko(out, PAGE, SEEK_CUR) ? -1 : 0;
		else
			rc |= out_bytes(out, zeros, PAGE);
	}
	qw_free(&w);
	qw_init(&w);
	qw_be64(&w, F_EOS);
	qw_u8(&w, S_FOOTER);
	qw_be32(&w, RAM_ID);
	section_header(&w, S_FULL, 0, "timer", 0, 2);
	qw_fill(&w, 0, 24);
	qw_u8(&w, S_FOOTER);
	qw_be32(&w, 0);
	qw_u8(&w, S_EOF);
	{
		const char *json = "{\"page_size\": 4096, \"devices\": [{\"name\": \"timer\", "
				   "\"instance_id\": 0, \"version\": 2, \"fields\": ["
				   "{\"name\": \"a\", \"type\": \"int64\", \"size\": 8, \"array_len\": 3}]}]}";
		qw_u8(&w, S_VMDESC);
		qw_be32(&w, (uint32_t)strlen(json));
		qw_raw(&w, json, strlen(json));
	}
	rc |= out_bytes(out, w.p, w.len);
	qw_free(&w);
	return rc;
}

size_t qemu_length_fields(qw *w, qemu_len_field *out, size_t max)
{
	size_t n = 0;
	const unsigned char *p = w->p;
	size_t len = w->len;

	/* Walk the valid-precopy layout: fields at known places. */
	for (size_t i = 0; i + 5 < len && n < max; i++) {
		/* configuration name length */
		if (i == 9) {
			out[n++] = (qemu_len_field){ "configuration name length", i, 4 };
			continue;
		}
		/* START/FULL idstr lengths: a section type, id, then a length and name */
		if ((p[i] == S_START || p[i] == S_FULL) && i + 6 < len && p[i + 5] > 0 &&
		    i + 6 + p[i + 5] <= len &&
		    (memcmp(p + i + 6, "ram", 3) == 0 || memcmp(p + i + 6, "timer", 5) == 0 ||
		     memcmp(p + i + 6, "cpu", 3) == 0)) {
			out[n++] = (qemu_len_field){ "section idstr length", i + 5, 1 };
		}
		/* MEM_SIZE total and block name lengths */
		if (i + 8 <= len && p[i] == 0 && p[i + 7] == (F_MEM_SIZE & 0xff) &&
		    p[i + 8] == 6 && memcmp(p + i + 9, BLOCK0, 6) == 0) {
			out[n++] = (qemu_len_field){ "RAM total (block count)", i, 8 };
			out[n++] = (qemu_len_field){ "RAM block name length", i + 8, 1 };
			out[n++] = (qemu_len_field){ "RAM block length", i + 15, 8 };
		}
		if (p[i] == S_VMDESC && i + 5 < len && p[i + 5] == '{') {
			out[n++] = (qemu_len_field){ "vmdesc length", i + 1, 4 };
		}
	}
	return n;
}
