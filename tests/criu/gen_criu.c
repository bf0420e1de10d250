/*
 * gen_criu: writes CRIU image fixtures with the project's own protobuf-c
 * code.
 *
 *   gen_criu --all DIR         every fixture, and DIR/manifest: one line per
 *                              file: path, expected code ("-" for clean),
 *                              offset ("-" for none), expected exit status
 *   gen_criu --demo DIR        one valid image, one broken one
 *   gen_criu --pagemap N -o F  a pagemap image of N entries (benchmarks)
 *   gen_criu --files N -o F    a files.img of N entries of every file kind
 *   gen_criu --v3-dump SRC DST MODE  the dump SRC rewritten as image version 3
 *                              (compressed pages; MODE 1 per page, 2 per region)
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <lz4.h>

#include "streamverify.h"
#include "criu/criu_writer.h"
#include "formats/criu/schema/schema.h"

static const char *out_dir;
static FILE *manifest;

static const criu_image_type *T(criu_type_id id)
{
	return &criu_image_types[id];
}

static char *path_of(const char *rel)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", out_dir, rel);
	return buf;
}

static void mkdir_p(const char *rel)
{
	if (mkdir(path_of(rel), 0755) != 0 && errno != EEXIST) {
		perror(rel);
		exit(2);
	}
}

/* Record what verifying rel must give: a code at an offset, or clean. */
static void expect(const char *rel, const char *code_id, long offset)
{
	int status = 0;

	if (code_id) {
		const sv_code *c = sv_code_find(code_id);
		if (!c) {
			fprintf(stderr, "gen_criu: unknown code %s\n", code_id);
			exit(2);
		}
		status = c->severity == SV_ERROR ? 1 : 0;
	}
	if (offset < 0)
		fprintf(manifest, "%s\t%s\t-\t%d\n", rel, code_id ? code_id : "-", status);
	else
		fprintf(manifest, "%s\t%s\t%ld\t%d\n", rel, code_id, offset, status);
}

/* The file name CRIU gives an image of type t (id 1 where it has one). */
static void name_of(const criu_image_type *t, char *buf, size_t n)
{
	for (size_t i = 0; i < criu_image_name_count; i++) {
		const criu_image_name *nm = &criu_image_names[i];
		if (nm->type != t)
			continue;
		snprintf(buf, n, "%s%s%s", nm->prefix, nm->id == CRIU_ID_NONE ? "" : "1",
			 nm->suffix);
		return;
	}
	snprintf(buf, n, "%s.img", t->name);
}

/* ---- valid images ---------------------------------------------------------- */

static void blob(FILE *f, size_t n, unsigned char seed)
{
	for (size_t i = 0; i < n; i++)
		fputc((int)(unsigned char)(seed + i * 31), f);
}

/* Make a filled message of the type's entry obey the type's rules. */
static void fix_entry(const criu_image_type *t, ProtobufCMessage *m, unsigned k)
{
	switch (t->id) {
	case CRIU_T_INVENTORY: {
		InventoryEntry *e = (InventoryEntry *)m;
		e->img_version = 2;
		e->has_fdinfo_per_id = e->fdinfo_per_id = 1;
		e->has_pre_dump_mode = 0;
		e->has_tcp_close = 0;
		/* Image version 3 fields go with img_version 3 only. */
		e->has_compress = e->has_compress_region_size = 0;
		break;
	}
	case CRIU_T_PIPES_DATA:
	case CRIU_T_FIFO_DATA:
		((PipeDataEntry *)m)->bytes = 11 + k;
		break;
	case CRIU_T_SK_QUEUES: {
		SkPacketEntry *e = (SkPacketEntry *)m;
		e->length = 20 + k;
		protobuf_c_message_free_unpacked(&e->scm[1]->base, NULL);
		e->n_scm = 1;
		e->scm[0]->type = 1;
		break;
	}
	case CRIU_T_TCP_STREAM: {
		TcpStreamEntry *e = (TcpStreamEntry *)m;
		e->inq_len = 5;
		e->outq_len = 7;
		e->opt_mask = 0x7;
		break;
	}
	case CRIU_T_BPFMAP_DATA: {
		BpfmapDataEntry *e = (BpfmapDataEntry *)m;
		e->keys_bytes = 8;
		e->values_bytes = 16;
		e->count = 2;
		break;
	}
	case CRIU_T_IPCNS_SHM: {
		IpcShmEntry *e = (IpcShmEntry *)m;
		e->size = 4096;
		e->has_in_pagemaps = e->in_pagemaps = 1;
		break;
	}
	case CRIU_T_IPCNS_SEM:
		((IpcSemEntry *)m)->nsems = 3 + k;
		break;
	case CRIU_T_IPCNS_MSG: {
		IpcMsgEntry *e = (IpcMsgEntry *)m;
		e->qnum = 2;
		e->qbytes = 16384;
		break;
	}
	case CRIU_T_SECCOMP: {
		SeccompEntry *e = (SeccompEntry *)m;
		e->seccomp_filters[0]->has_prev = 0;
		e->seccomp_filters[1]->has_prev = 1;
		e->seccomp_filters[1]->prev = 0;
		break;
	}
	default:
		break;
	}
}

/* The blob after entry m of type t (what fix_entry asked for). */
static void write_blob(FILE *f, const criu_image_type *t, const ProtobufCMessage *m)
{
	switch (t->blob) {
	case CRIU_BLOB_PIPE_DATA:
		blob(f, ((const PipeDataEntry *)m)->bytes, 'p');
		break;
	case CRIU_BLOB_SK_QUEUE:
		blob(f, ((const SkPacketEntry *)m)->length, 's');
		break;
	case CRIU_BLOB_TCP_QUEUES:
		blob(f, ((const TcpStreamEntry *)m)->inq_len, 'i');
		blob(f, ((const TcpStreamEntry *)m)->outq_len, 'o');
		break;
	case CRIU_BLOB_BPFMAP_DATA:
		blob(f, 24, 'b');
		break;
	case CRIU_BLOB_IPC_SEM: {
		uint32_t n = ((const IpcSemEntry *)m)->nsems;
		blob(f, 2 * n, 1);
		cw_fill(f, 0, (8 - (2 * n) % 8) % 8);
		break;
	}
	case CRIU_BLOB_IPC_MSG:
		for (uint32_t q = 0; q < ((const IpcMsgEntry *)m)->qnum; q++) {
			IpcMsg msg = IPC_MSG__INIT;
			msg.mtype = 1 + q;
			msg.msize = 5 + 4 * q;
			cw_entry(f, &msg.base);
			blob(f, msg.msize, 'm');
			cw_fill(f, 0, (8 - msg.msize % 8) % 8);
		}
		break;
	default:
		break;
	}
}

static void write_pagemap(FILE *f, uint64_t n, bool v11)
{
	PagemapHead h = PAGEMAP_HEAD__INIT;
	PagemapEntry e = PAGEMAP_ENTRY__INIT;
	uint64_t va = 0x400000;

	(void)v11;
	h.pages_id = 1;
	cw_entry(f, &h.base);
	for (uint64_t i = 0; i < n; i++) {
		e.vaddr = va;
		e.nr_pages = 1 + (uint32_t)(i % 5);
		e.has_flags = 1;
		e.flags = i % 3 == 0 ? 4 : i % 3 == 1 ? 6 : 1;
		cw_entry(f, &e.base);
		va += (uint64_t)(e.nr_pages + 1 + i % 2) * 4096;
	}
}

static void write_ghost_plain(FILE *f)
{
	GhostFileEntry g = GHOST_FILE_ENTRY__INIT;
	g.uid = 1000;
	g.gid = 1000;
	g.mode = 0100644;
	g.has_dev = g.has_ino = 1;
	g.dev = 0x803;
	g.ino = 131075;
	cw_entry(f, &g.base);
	blob(f, 300, 'g');
}

static void write_ghost_chunks(FILE *f)
{
	GhostFileEntry g = GHOST_FILE_ENTRY__INIT;
	GhostChunkEntry c = GHOST_CHUNK_ENTRY__INIT;
	g.uid = 0;
	g.mode = 0100600;
	g.has_chunks = g.chunks = 1;
	g.has_size = 1;
	g.size = 65536;
	cw_entry(f, &g.base);
	c.off = 0;
	c.len = 4096;
	cw_entry(f, &c.base);
	blob(f, c.len, 'a');
	c.off = 32768;
	c.len = 8192;
	cw_entry(f, &c.base);
	blob(f, c.len, 'b');
}

/* One valid image of every type with a magic, in layout version `version`. */
static void valid_images(const char *dir, int version)
{
	mkdir_p(dir);
	for (size_t i = 0; i < CRIU_T_COUNT; i++) {
		const criu_image_type *t = T((criu_type_id)i);
		char name[128], rel[256];

		if (t->layout == CRIU_LAYOUT_RAW)
			continue;
		name_of(t, name, sizeof(name));
		snprintf(rel, sizeof(rel), "%s/%s", dir, name);
		FILE *f = cw_open(path_of(rel));
		cw_magic(f, t, version);
		if (t->layout == CRIU_LAYOUT_PAGEMAP) {
			write_pagemap(f, 40, version == 2);
		} else if (t->layout == CRIU_LAYOUT_GHOST_FILE) {
			write_ghost_chunks(f);
		} else {
			unsigned n = t->flags & CRIU_IMG_SINGLE ? 1 : 3;
			for (unsigned k = 0; k < n; k++) {
				ProtobufCMessage *m = cw_new_filled(t->entry, k);
				fix_entry(t, m, k);
				cw_entry(f, m);
				write_blob(f, t, m);
				protobuf_c_message_free_unpacked(m, NULL);
			}
		}
		cw_close(f);
		expect(rel, NULL, -1);
	}
}

/* ---- raw images ------------------------------------------------------------ */

static void tar_octal(unsigned char *f, size_t n, uint64_t v)
{
	snprintf((char *)f, n, "%0*" PRIo64, (int)n - 1, v);
}

static void tar_sum(unsigned char h[512])
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

static void tar_header(unsigned char h[512], const char *name, uint64_t size, char type)
{
	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	tar_octal(h + 100, 8, 0644);
	tar_octal(h + 108, 8, 0);
	tar_octal(h + 116, 8, 0);
	tar_octal(h + 124, 12, size);
	tar_octal(h + 136, 12, 1700000000);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar  ", 8);
	tar_sum(h);
}

/* A tmpfs archive; breaking: 0 none, 1 checksum, 2 size field, 3 no end. */
static long write_tmpfs(const char *rel, int breaking, bool gzip)
{
	unsigned char tar[512 * 8] = { 0 }, *p = tar;
	size_t len;
	long bad = -1;

	tar_header(p, "./", 0, '5');
	p += 512;
	tar_header(p, "./hello.txt", 13, '0');
	if (breaking == 1)
		p[0] ^= 1;
	if (breaking == 2) {
		memcpy(p + 124, "12x4", 4);
		tar_sum(p);
	}
	if (breaking == 1 || breaking == 2)
		bad = p - tar;
	p += 512;
	memcpy(p, "hello, world\n", 13);
	p += 512;
	if (breaking == 3)
		bad = p - tar;
	else
		p += 1024; /* two zero blocks */
	len = (size_t)(p - tar);

	if (!gzip) {
		FILE *f = cw_open(path_of(rel));
		cw_bytes(f, tar, len);
		cw_close(f);
		return bad;
	}
	gzFile g = gzopen(path_of(rel), "wb");
	if (!g || gzwrite(g, tar, (unsigned)len) != (int)len || gzclose(g) != Z_OK) {
		fprintf(stderr, "gen_criu: cannot write %s\n", rel);
		exit(2);
	}
	return bad;
}

static void write_iproute(const char *rel, uint32_t magic, int msgs, uint32_t bad_len)
{
	FILE *f = cw_open(path_of(rel));
	cw_u32(f, magic);
	for (int i = 0; i < msgs; i++) {
		uint32_t len = bad_len && i == msgs - 1 ? bad_len : 52;
		cw_u32(f, len);
		cw_u32(f, 24 | 0x2 << 16); /* RTM_NEWROUTE, NLM_F_MULTI */
		cw_u32(f, 1 + (uint32_t)i);
		cw_u32(f, 0);
		if (len >= 16)
			blob(f, len - 16, 'r');
	}
	cw_close(f);
}

/* An amdgpu plugin image: u64 size (x86-64 size_t), message; extra bytes after. */
static long write_plugin(FILE *f, const ProtobufCMessageDescriptor *d, size_t extra)
{
	ProtobufCMessage *m = cw_new_filled(d, 3);
	size_t n = protobuf_c_message_get_packed_size(m);
	unsigned char *buf = malloc(n ? n : 1);

	if (!buf)
		exit(2);
	protobuf_c_message_pack(m, buf);
	cw_u32(f, (uint32_t)n);
	cw_u32(f, 0);
	cw_bytes(f, buf, n);
	cw_fill(f, 0, extra);
	free(buf);
	protobuf_c_message_free_unpacked(m, NULL);
	return 8 + (long)n;
}

static void raw_images(void)
{
	mkdir_p("valid/raw");
	FILE *f = cw_open(path_of("valid/raw/pages-1.img"));
	blob(f, 3 * 4096, 'P');
	cw_close(f);
	expect("valid/raw/pages-1.img", NULL, -1);
	write_tmpfs("valid/raw/tmpfs-dev-5.tar.gz.img", 0, true);
	expect("valid/raw/tmpfs-dev-5.tar.gz.img", NULL, -1);
	write_iproute("valid/raw/route-7.img", 0x45311224, 3, 0);
	expect("valid/raw/route-7.img", NULL, -1);
	write_iproute("valid/raw/route6-7.img", 0x45311224, 0, 0);
	expect("valid/raw/route6-7.img", NULL, -1);
	write_iproute("valid/raw/ifaddr-7.img", 0x47361222, 2, 0);
	expect("valid/raw/ifaddr-7.img", NULL, -1);
	write_iproute("valid/raw/rule-7.img", 0x71706986, 1, 0);
	expect("valid/raw/rule-7.img", NULL, -1);
	f = cw_open(path_of("valid/raw/iptables-7.img"));
	fputs("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", f);
	cw_close(f);
	expect("valid/raw/iptables-7.img", NULL, -1);

	/* The amdgpu plugin's images: an 8-octet size, then one message. */
	static const struct { const char *name; const ProtobufCMessageDescriptor *d; } amd[] = {
		{ "valid/raw/amdgpu-kfd-1.img", &criu_kfd__descriptor },
		{ "valid/raw/amdgpu-renderD-1.img", &criu_render_node__descriptor },
		{ "valid/raw/amdgpu-dmabuf_1.img", &criu_dmabuf_node__descriptor },
	};
	for (size_t i = 0; i < sizeof(amd) / sizeof(amd[0]); i++) {
		f = cw_open(path_of(amd[i].name));
		write_plugin(f, amd[i].d, 0);
		cw_close(f);
		expect(amd[i].name, NULL, -1);
	}
	f = cw_open(path_of("valid/raw/amdgpu-pages-1-00c1.img"));
	blob(f, 8192, 'G');
	cw_close(f);
	expect("valid/raw/amdgpu-pages-1-00c1.img", NULL, -1);
	f = cw_open(path_of("valid/raw/amdgpu-drm-pages-1-128-0003.img"));
	blob(f, 4096, 'D');
	cw_close(f);
	expect("valid/raw/amdgpu-drm-pages-1-128-0003.img", NULL, -1);
}

/* ---- broken images: each breaks exactly one rule -------------------------------- */

static FILE *broken(const char *rel, criu_type_id id)
{
	FILE *f = cw_open(path_of(rel));
	cw_magic(f, T(id), 2);
	return f;
}

static void broken_images(void)
{
	FILE *f;
	long off;
	mkdir_p("broken");

	/* magic */
	f = cw_open(path_of("broken/unknown-magic.img"));
	cw_u32(f, 0x12345678);
	cw_close(f);
	expect("broken/unknown-magic.img", "criu.magic.unknown", 0);

	f = cw_open(path_of("broken/pstree.img"));
	cw_u32(f, CRIU_IMG_SERVICE_MAGIC);
	cw_u32(f, T(CRIU_T_PSTREE)->magic);
	cw_close(f);
	expect("broken/pstree.img", "criu.magic.head", 0);

	mkdir_p("broken/common-on-service");
	f = cw_open(path_of("broken/common-on-service/stats-dump"));
	cw_u32(f, CRIU_IMG_COMMON_MAGIC);
	cw_u32(f, T(CRIU_T_STATS)->magic);
	cw_close(f);
	expect("broken/common-on-service/stats-dump", "criu.magic.head", 0);

	f = cw_open(path_of("broken/inventory.img"));
	cw_u32(f, CRIU_IMG_COMMON_MAGIC);
	cw_u32(f, T(CRIU_T_INVENTORY)->magic);
	{
		InventoryEntry e = INVENTORY_ENTRY__INIT;
		e.img_version = 2;
		e.has_fdinfo_per_id = e.fdinfo_per_id = 1;
		cw_entry(f, &e.base);
	}
	cw_close(f);
	expect("broken/inventory.img", "criu.magic.inventory-head", 0);

	f = broken("broken/core-7.img", CRIU_T_PSTREE);
	cw_close(f);
	expect("broken/core-7.img", "criu.magic.name", 4);

	/* framing */
	mkdir_p("broken/trunc-size");
	f = broken("broken/trunc-size/pstree.img", CRIU_T_PSTREE);
	cw_bytes(f, "\x05\x00", 2);
	cw_close(f);
	expect("broken/trunc-size/pstree.img", "input.truncated", 8);

	mkdir_p("broken/trunc-body");
	f = broken("broken/trunc-body/pstree.img", CRIU_T_PSTREE);
	cw_u32(f, 5);
	cw_bytes(f, "\x08\x01", 2);
	cw_close(f);
	expect("broken/trunc-body/pstree.img", "input.truncated", 12);

	mkdir_p("broken/malformed");
	f = broken("broken/malformed/pstree.img", CRIU_T_PSTREE);
	off = cw_raw_entry(f, "\x08\x01\x0f", 3); /* wire type 7 */
	cw_close(f);
	expect("broken/malformed/pstree.img", "criu.entry.malformed", off + 4 + 2);

	mkdir_p("broken/required");
	f = broken("broken/required/pstree.img", CRIU_T_PSTREE);
	off = cw_raw_entry(f, "\x10\x01\x18\x01\x20\x01", 6); /* no pid */
	cw_close(f);
	expect("broken/required/pstree.img", "criu.entry.required", off);

	mkdir_p("broken/enum");
	f = broken("broken/enum/fdinfo-2.img", CRIU_T_FDINFO);
	{
		FdinfoEntry e = FDINFO_ENTRY__INIT;
		e.id = 3;
		e.flags = 0;
		e.type = 99;
		e.fd = 4;
		off = cw_entry(f, &e.base);
	}
	cw_close(f);
	expect("broken/enum/fdinfo-2.img", "criu.entry.enum", off);

	mkdir_p("broken/unknown-field");
	f = broken("broken/unknown-field/pstree.img", CRIU_T_PSTREE);
	off = cw_raw_entry(f, "\x08\x01\x10\x00\x18\x01\x20\x01\xb8\x01\x05", 11); /* field 23 */
	cw_close(f);
	expect("broken/unknown-field/pstree.img", "criu.entry.unknown-field", off);

	mkdir_p("broken/too-large");
	f = broken("broken/too-large/pstree.img", CRIU_T_PSTREE);
	cw_u32(f, 65u << 20);
	cw_close(f);
	if (truncate(path_of("broken/too-large/pstree.img"), 12 + (65 << 20)) != 0) {
		perror("truncate");
		exit(2);
	}
	expect("broken/too-large/pstree.img", "criu.entry.too-large", 8);

	/* Issue 22: 64 MiB + 1 bytes of garbage after a valid entry is an error. */
	mkdir_p("broken/too-large-1");
	f = broken("broken/too-large-1/pstree.img", CRIU_T_PSTREE);
	{
		PstreeEntry e = PSTREE_ENTRY__INIT;
		e.pid = e.pgid = e.sid = 1;
		cw_entry(f, &e.base);
		off = ftell(f);
		cw_u32(f, (64u << 20) + 1);
		cw_fill(f, 0xff, 4096);
	}
	cw_close(f);
	if (truncate(path_of("broken/too-large-1/pstree.img"), off + 4 + (64 << 20) + 1) != 0) {
		perror("truncate");
		exit(2);
	}
	expect("broken/too-large-1/pstree.img", "criu.entry.too-large", off);

	/* amdgpu plugin images, each broken once (under raw/: no magic, no pipe). */
	mkdir_p("broken/raw");
	f = cw_open(path_of("broken/raw/amdgpu-kfd-2.img"));
	off = write_plugin(f, &criu_kfd__descriptor, 3);
	cw_close(f);
	expect("broken/raw/amdgpu-kfd-2.img", "criu.plugin.trailing", off);
	f = cw_open(path_of("broken/raw/amdgpu-renderD-3.img"));
	off = write_plugin(f, &criu_render_node__descriptor, 0);
	cw_close(f);
	if (truncate(path_of("broken/raw/amdgpu-renderD-3.img"), off - 1) != 0) {
		perror("truncate");
		exit(2);
	}
	expect("broken/raw/amdgpu-renderD-3.img", "input.truncated", 8);
	f = cw_open(path_of("broken/raw/amdgpu-dmabuf_4.img"));
	cw_u32(f, 0); /* criu_dmabuf_node without its gem_handle */
	cw_u32(f, 0);
	cw_close(f);
	expect("broken/raw/amdgpu-dmabuf_4.img", "criu.entry.required", 0);
	f = cw_open(path_of("broken/raw/amdgpu-dmabuf_5.img"));
	cw_u32(f, 3); /* gem_handle: a varint that runs past the end */
	cw_u32(f, 0);
	cw_bytes(f, "\x08\xff\xff", 3);
	cw_close(f);
	expect("broken/raw/amdgpu-dmabuf_5.img", "criu.entry.malformed", 9);

	mkdir_p("broken/empty");
	f = broken("broken/empty/core-1.img", CRIU_T_CORE);
	cw_close(f);
	expect("broken/empty/core-1.img", "criu.image.empty", 8);

	mkdir_p("broken/extra");
	f = broken("broken/extra/ids-1.img", CRIU_T_IDS);
	{
		TaskKobjIdsEntry e = TASK_KOBJ_IDS_ENTRY__INIT;
		e.vm_id = e.files_id = e.fs_id = e.sighand_id = 2;
		cw_entry(f, &e.base);
		off = cw_entry(f, &e.base);
	}
	cw_close(f);
	expect("broken/extra/ids-1.img", "criu.image.extra-entry", off);

	/* inventory rules */
	static const struct { const char *dir, *code; uint32_t ver; int fdinfo, cg; } inv[] = {
		{ "broken/inv-version", "criu.inventory.version", 4, 1, 1 },
		{ "broken/inv-fdinfo", "criu.inventory.fdinfo-per-id", 2, 0, 1 },
		{ "broken/inv-cgset", "criu.inventory.root-cg-set", 2, 1, 0 },
	};
	for (size_t i = 0; i < sizeof(inv) / sizeof(inv[0]); i++) {
		char rel[256];
		InventoryEntry e = INVENTORY_ENTRY__INIT;
		mkdir_p(inv[i].dir);
		snprintf(rel, sizeof(rel), "%s/inventory.img", inv[i].dir);
		f = cw_open(path_of(rel));
		cw_u32(f, T(CRIU_T_INVENTORY)->magic);
		e.img_version = inv[i].ver;
		e.has_fdinfo_per_id = 1;
		e.fdinfo_per_id = inv[i].fdinfo;
		e.has_root_cg_set = 1;
		e.root_cg_set = (uint32_t)inv[i].cg;
		off = cw_entry(f, &e.base);
		cw_close(f);
		expect(rel, inv[i].code, off);
	}

	/* pagemap rules: entry 2 breaks one */
	static const struct { const char *dir, *code; uint64_t va; uint32_t nr; int has_flags; uint32_t flags; } pm[] = {
		{ "broken/pm-unaligned", "criu.pagemap.unaligned", 0x500100, 1, 1, 4 },
		{ "broken/pm-zero", "criu.pagemap.zero-pages", 0x500000, 0, 1, 4 },
		{ "broken/pm-range", "criu.pagemap.range", 0xfffffffffffff000ull, 2, 1, 4 },
		{ "broken/pm-order", "criu.pagemap.order", 0x300000, 1, 1, 4 },
		{ "broken/pm-overlap", "criu.pagemap.overlap", 0x401000, 1, 1, 4 },
		{ "broken/pm-flags", "criu.pagemap.flags", 0x500000, 1, 1, 0x14 },
		{ "broken/pm-conflict", "criu.pagemap.flags-conflict", 0x500000, 1, 1, 5 },
	};
	for (size_t i = 0; i < sizeof(pm) / sizeof(pm[0]); i++) {
		char rel[256];
		PagemapHead h = PAGEMAP_HEAD__INIT;
		PagemapEntry e = PAGEMAP_ENTRY__INIT;
		mkdir_p(pm[i].dir);
		snprintf(rel, sizeof(rel), "%s/pagemap-1.img", pm[i].dir);
		f = broken(rel, CRIU_T_PAGEMAP);
		h.pages_id = 1;
		cw_entry(f, &h.base);
		e.vaddr = 0x400000;
		e.nr_pages = 2;
		e.has_flags = 1;
		e.flags = 4;
		cw_entry(f, &e.base);
		e.vaddr = pm[i].va;
		e.nr_pages = pm[i].nr;
		e.has_flags = pm[i].has_flags;
		e.flags = pm[i].flags;
		off = cw_entry(f, &e.base);
		cw_close(f);
		expect(rel, pm[i].code, off);
	}

	mkdir_p("broken/pm-new-layout");
	f = broken("broken/pm-new-layout/pagemap-1.img", CRIU_T_PAGEMAP);
	{
		PagemapHead h = PAGEMAP_HEAD__INIT;
		h.pages_id = 1;
		cw_entry(f, &h.base);
		/* vaddr 0x400000, nr_pages 0, flags 4, field 5 = 3 */
		off = cw_raw_entry(f, "\x08\x80\x80\x80\x02\x10\x00\x20\x04\x28\x03", 11);
	}
	cw_close(f);
	expect("broken/pm-new-layout/pagemap-1.img", "criu.pagemap.new-layout", off);

	mkdir_p("broken/pm-empty");
	f = broken("broken/pm-empty/pagemap-1.img", CRIU_T_PAGEMAP);
	cw_close(f);
	expect("broken/pm-empty/pagemap-1.img", "criu.image.empty", 8);

	/* ghost files */
	{
		GhostFileEntry g = GHOST_FILE_ENTRY__INIT;
		GhostChunkEntry c = GHOST_CHUNK_ENTRY__INIT;
		long coff;

		mkdir_p("broken/ghost-nosize");
		f = broken("broken/ghost-nosize/ghost-file-1.img", CRIU_T_GHOST_FILE);
		g.mode = 0100644;
		g.has_chunks = g.chunks = 1;
		off = cw_entry(f, &g.base);
		cw_close(f);
		expect("broken/ghost-nosize/ghost-file-1.img", "criu.ghost.no-size", off);

		g.has_size = 1;
		g.size = 16384;
		mkdir_p("broken/ghost-order");
		f = broken("broken/ghost-order/ghost-file-1.img", CRIU_T_GHOST_FILE);
		cw_entry(f, &g.base);
		c.off = 4096;
		c.len = 4096;
		cw_entry(f, &c.base);
		blob(f, 4096, 'x');
		c.off = 0;
		coff = cw_entry(f, &c.base);
		blob(f, 4096, 'y');
		cw_close(f);
		expect("broken/ghost-order/ghost-file-1.img", "criu.ghost.chunk-order", coff);

		mkdir_p("broken/ghost-range");
		f = broken("broken/ghost-range/ghost-file-1.img", CRIU_T_GHOST_FILE);
		cw_entry(f, &g.base);
		c.off = 16000;
		c.len = 1000;
		coff = cw_entry(f, &c.base);
		blob(f, 1000, 'z');
		cw_close(f);
		expect("broken/ghost-range/ghost-file-1.img", "criu.ghost.chunk-range", coff);

		mkdir_p("broken/ghost-chunk-trunc");
		f = broken("broken/ghost-chunk-trunc/ghost-file-1.img", CRIU_T_GHOST_FILE);
		cw_entry(f, &g.base);
		c.off = 0;
		c.len = 4096;
		cw_entry(f, &c.base);
		coff = ftell(f);
		blob(f, 100, 'z');
		cw_close(f);
		expect("broken/ghost-chunk-trunc/ghost-file-1.img", "input.truncated", coff);

		GhostFileEntry d = GHOST_FILE_ENTRY__INIT;
		mkdir_p("broken/ghost-contents");
		f = broken("broken/ghost-contents/ghost-file-1.img", CRIU_T_GHOST_FILE);
		d.mode = 040755;
		off = cw_entry(f, &d.base);
		long at = ftell(f);
		blob(f, 10, 'd');
		cw_close(f);
		(void)off;
		expect("broken/ghost-contents/ghost-file-1.img", "criu.ghost.contents", at);

		mkdir_p("broken/ghost-rdev");
		f = broken("broken/ghost-rdev/ghost-file-1.img", CRIU_T_GHOST_FILE);
		d.mode = 020644;
		off = cw_entry(f, &d.base);
		cw_close(f);
		expect("broken/ghost-rdev/ghost-file-1.img", "criu.ghost.rdev", off);

		mkdir_p("broken/ghost-symlink");
		f = broken("broken/ghost-symlink/ghost-file-1.img", CRIU_T_GHOST_FILE);
		d.mode = 0120777;
		off = cw_entry(f, &d.base);
		cw_close(f);
		expect("broken/ghost-symlink/ghost-file-1.img", "criu.ghost.symlink", off);

		GhostFileEntry p = GHOST_FILE_ENTRY__INIT;
		mkdir_p("broken/ghost-size");
		f = broken("broken/ghost-size/ghost-file-1.img", CRIU_T_GHOST_FILE);
		p.mode = 0100644;
		p.has_size = 1;
		p.size = 100;
		cw_entry(f, &p.base);
		at = ftell(f);
		blob(f, 90, 'q');
		cw_close(f);
		expect("broken/ghost-size/ghost-file-1.img", "criu.ghost.size", at);
	}

	/* blobs */
	{
		PipeDataEntry pd = PIPE_DATA_ENTRY__INIT;
		mkdir_p("broken/pipe-trunc");
		f = broken("broken/pipe-trunc/pipes-data.img", CRIU_T_PIPES_DATA);
		pd.pipe_id = 77;
		pd.bytes = 100;
		off = cw_entry(f, &pd.base);
		long at = ftell(f);
		blob(f, 60, 'p');
		cw_close(f);
		(void)off;
		expect("broken/pipe-trunc/pipes-data.img", "input.truncated", at);

		IpcShmEntry shm = IPC_SHM_ENTRY__INIT;
		IpcDescEntry desc = IPC_DESC_ENTRY__INIT;
		desc.key = 1;
		desc.uid = desc.gid = desc.cuid = desc.cgid = 0;
		desc.mode = 0600;
		desc.id = 5;
		shm.desc = &desc;
		shm.size = 5;
		mkdir_p("broken/shm-padding");
		f = broken("broken/shm-padding/ipcns-shm-1.img", CRIU_T_IPCNS_SHM);
		cw_entry(f, &shm.base);
		blob(f, 5, 'h');
		at = ftell(f);
		cw_bytes(f, "\0\1\0", 3);
		cw_close(f);
		expect("broken/shm-padding/ipcns-shm-1.img", "criu.ipc.shm-padding", at + 1);

		IpcSemEntry sem = IPC_SEM_ENTRY__INIT;
		sem.desc = &desc;
		sem.nsems = 3;
		mkdir_p("broken/sem-padding");
		f = broken("broken/sem-padding/ipcns-sem-1.img", CRIU_T_IPCNS_SEM);
		cw_entry(f, &sem.base);
		blob(f, 6, 1);
		at = ftell(f);
		cw_bytes(f, "\0\7", 2);
		cw_close(f);
		expect("broken/sem-padding/ipcns-sem-1.img", "criu.ipc.sem-padding", at + 1);

		IpcMsgEntry q = IPC_MSG_ENTRY__INIT;
		IpcMsg msg = IPC_MSG__INIT;
		q.desc = &desc;
		q.qbytes = 16384;
		q.qnum = 1;
		mkdir_p("broken/msg-padding");
		f = broken("broken/msg-padding/ipcns-msg-1.img", CRIU_T_IPCNS_MSG);
		cw_entry(f, &q.base);
		msg.mtype = 1;
		msg.msize = 3;
		cw_entry(f, &msg.base);
		blob(f, 3, 'm');
		at = ftell(f);
		cw_bytes(f, "\0\0\0\0\x09", 5);
		cw_close(f);
		expect("broken/msg-padding/ipcns-msg-1.img", "criu.ipc.msg-padding", at + 4);

		mkdir_p("broken/msg-size");
		f = broken("broken/msg-size/ipcns-msg-1.img", CRIU_T_IPCNS_MSG);
		cw_entry(f, &q.base);
		msg.msize = 8200;
		off = cw_entry(f, &msg.base);
		blob(f, 8200, 'm');
		cw_close(f);
		expect("broken/msg-size/ipcns-msg-1.img", "criu.ipc.msg-size", off);

		mkdir_p("broken/msg-missing");
		f = broken("broken/msg-missing/ipcns-msg-1.img", CRIU_T_IPCNS_MSG);
		q.qnum = 2;
		cw_entry(f, &q.base);
		msg.msize = 8;
		cw_entry(f, &msg.base);
		blob(f, 8, 'm');
		at = ftell(f);
		cw_close(f);
		expect("broken/msg-missing/ipcns-msg-1.img", "input.truncated", at);

		SkPacketEntry pk = SK_PACKET_ENTRY__INIT;
		ScmEntry scm = SCM_ENTRY__INIT, *scms[2] = { &scm, &scm };
		uint32_t rights[1] = { 9 };
		scm.type = 2;
		scm.n_rights = 1;
		scm.rights = rights;
		pk.id_for = 4;
		pk.length = 3;
		pk.n_scm = 1;
		pk.scm = scms;
		mkdir_p("broken/skq-scm");
		f = broken("broken/skq-scm/sk-queues.img", CRIU_T_SK_QUEUES);
		off = cw_entry(f, &pk.base);
		blob(f, 3, 'k');
		cw_close(f);
		expect("broken/skq-scm/sk-queues.img", "criu.skq.scm", off);

		scm.type = 1;
		pk.n_scm = 2;
		mkdir_p("broken/skq-scm2");
		f = broken("broken/skq-scm2/sk-queues.img", CRIU_T_SK_QUEUES);
		off = cw_entry(f, &pk.base);
		blob(f, 3, 'k');
		cw_close(f);
		expect("broken/skq-scm2/sk-queues.img", "criu.skq.scm", off);
	}

	/* TCP */
	static const struct { const char *dir, *code; int unsq, wscale, ts; } tcp[] = {
		{ "broken/tcp-unsq", "criu.tcp.unsq-len", 0, 1, 1 },
		{ "broken/tcp-wscale", "criu.tcp.wscale", 1, 0, 1 },
		{ "broken/tcp-ts", "criu.tcp.timestamp", 1, 1, 0 },
	};
	for (size_t i = 0; i < sizeof(tcp) / sizeof(tcp[0]); i++) {
		char rel[256];
		TcpStreamEntry e = TCP_STREAM_ENTRY__INIT;
		mkdir_p(tcp[i].dir);
		snprintf(rel, sizeof(rel), "%s/tcp-stream-2b37.img", tcp[i].dir);
		f = broken(rel, CRIU_T_TCP_STREAM);
		e.inq_len = 2;
		e.outq_len = 3;
		e.opt_mask = 5;
		e.snd_wscale = 7;
		e.mss_clamp = 65483;
		e.has_unsq_len = tcp[i].unsq;
		e.has_rcv_wscale = tcp[i].wscale;
		e.rcv_wscale = 7;
		e.has_timestamp = tcp[i].ts;
		e.timestamp = 12345;
		off = cw_entry(f, &e.base);
		blob(f, 5, 't');
		cw_close(f);
		expect(rel, tcp[i].code, off);
	}

	/* seccomp */
	{
		SeccompEntry se = SECCOMP_ENTRY__INIT;
		SeccompFilter a = SECCOMP_FILTER__INIT, b = SECCOMP_FILTER__INIT, *fl[2] = { &a, &b };
		uint8_t code8[12] = { 6, 0, 0, 0, 0, 0, 0xff, 0x7f };
		a.filter.len = 8;
		a.filter.data = code8;
		b.filter.len = 12;
		b.filter.data = code8;
		b.has_prev = 1;
		b.prev = 0;
		se.n_seccomp_filters = 2;
		se.seccomp_filters = fl;
		mkdir_p("broken/seccomp-len");
		f = broken("broken/seccomp-len/seccomp.img", CRIU_T_SECCOMP);
		off = cw_entry(f, &se.base);
		cw_close(f);
		expect("broken/seccomp-len/seccomp.img", "criu.seccomp.filter-len", off);

		b.filter.len = 8;
		b.prev = 1;
		mkdir_p("broken/seccomp-prev");
		f = broken("broken/seccomp-prev/seccomp.img", CRIU_T_SECCOMP);
		off = cw_entry(f, &se.base);
		cw_close(f);
		expect("broken/seccomp-prev/seccomp.img", "criu.seccomp.prev", off);
	}

	/* raw */
	mkdir_p("broken/pages");
	f = cw_open(path_of("broken/pages/pages-1.img"));
	blob(f, 4097, 'P');
	cw_close(f);
	/* Alone, a pages file may be compressed (image version 3): no verdict. */
	expect("broken/pages/pages-1.img", "criu.pages.unsized", 4096);

	mkdir_p("broken/tmpfs-plain");
	write_tmpfs("broken/tmpfs-plain/tmpfs-dev-5.tar.gz.img", 0, false);
	expect("broken/tmpfs-plain/tmpfs-dev-5.tar.gz.img", "criu.tmpfs.not-gzip", 0);
	mkdir_p("broken/tar-checksum");
	off = write_tmpfs("broken/tar-checksum/tmpfs-dev-5.tar.gz.img", 1, true);
	expect("broken/tar-checksum/tmpfs-dev-5.tar.gz.img", "criu.tar.checksum", off);
	mkdir_p("broken/tar-size");
	off = write_tmpfs("broken/tar-size/tmpfs-dev-5.tar.gz.img", 2, true);
	expect("broken/tar-size/tmpfs-dev-5.tar.gz.img", "criu.tar.header", off);
	mkdir_p("broken/tar-end");
	off = write_tmpfs("broken/tar-end/tmpfs-dev-5.tar.gz.img", 3, true);
	expect("broken/tar-end/tmpfs-dev-5.tar.gz.img", "criu.tar.end", off);

	mkdir_p("broken/iproute-magic");
	write_iproute("broken/iproute-magic/rule-7.img", 0x45311224, 1, 0);
	expect("broken/iproute-magic/rule-7.img", "criu.iproute.magic", 0);
	mkdir_p("broken/iproute-nlmsg");
	write_iproute("broken/iproute-nlmsg/route-7.img", 0x45311224, 2, 8);
	expect("broken/iproute-nlmsg/route-7.img", "criu.iproute.nlmsg", 4 + 52);
}

/* ---- benchmark images ------------------------------------------------------------ */

static void big_files(FILE *f, uint64_t n)
{
	/* Every kind of open file and the member of file_entry that holds it. */
	static const struct { int type; const char *member; } kinds[] = {
		{ FD_TYPES__REG, "reg" }, { FD_TYPES__INETSK, "isk" },
		{ FD_TYPES__NS, "nsf" }, { FD_TYPES__PACKETSK, "psk" },
		{ FD_TYPES__NETLINKSK, "nlsk" }, { FD_TYPES__EVENTFD, "efd" },
		{ FD_TYPES__EVENTPOLL, "epfd" }, { FD_TYPES__SIGNALFD, "sgfd" },
		{ FD_TYPES__TUNF, "tunf" }, { FD_TYPES__TIMERFD, "tfd" },
		{ FD_TYPES__INOTIFY, "ify" }, { FD_TYPES__FANOTIFY, "ffy" },
		{ FD_TYPES__EXT, "ext" }, { FD_TYPES__UNIXSK, "usk" },
		{ FD_TYPES__FIFO, "fifo" }, { FD_TYPES__PIPE, "pipe" },
		{ FD_TYPES__TTY, "tty" }, { FD_TYPES__MEMFD, "memfd" },
		{ FD_TYPES__BPFMAP, "bpf" },
	};
	enum { NK = sizeof(kinds) / sizeof(kinds[0]) };
	/* One filled message per kind, written again and again with new ids. */
	FileEntry *proto[NK];

	for (size_t k = 0; k < NK; k++) {
		FileEntry *e = (FileEntry *)cw_new(&file_entry__descriptor);
		const ProtobufCFieldDescriptor *fd =
			protobuf_c_message_descriptor_get_field_by_name(&file_entry__descriptor,
									kinds[k].member);
		ProtobufCMessage *sub = cw_new_filled(fd->descriptor, (unsigned)k);

		e->type = kinds[k].type;
		memcpy((char *)e + fd->offset, &sub, sizeof(sub));
		proto[k] = e;
	}
	for (uint64_t i = 0; i < n; i++) {
		FileEntry *e = proto[i % NK];
		e->id = (uint32_t)i + 1;
		cw_entry(f, &e->base);
	}
	for (size_t k = 0; k < NK; k++)
		protobuf_c_message_free_unpacked(&proto[k]->base, NULL);
}

static void usage(void)
{
	fprintf(stderr, "usage: gen_criu --all DIR | --demo DIR | --pagemap N -o FILE | --files N -o FILE\n");
	exit(2);
}

/* ---- image version 3: compressed pages ------------------------------------------ */

static FILE *manifest_pages; /* dir, code, offset, file: checked by tool_pages */

static void expect_pages(const char *dir, const char *code_id, long offset, const char *file)
{
	if (code_id && !sv_code_find(code_id)) {
		fprintf(stderr, "gen_criu: unknown code %s\n", code_id);
		exit(2);
	}
	fprintf(manifest_pages, "%s\t%s\t%ld\t%s\n", dir, code_id ? code_id : "-",
		code_id ? offset : -1L, file ? file : "-");
}

/* Page contents: 0 zeros, 1 compressible text, 2 noise (incompressible). */
static void page_fill(unsigned char *pg, int kind, unsigned seed)
{
	uint32_t x = 0x9e3779b9u ^ seed * 2654435761u;

	for (size_t i = 0; i < CRIU_PAGE_SIZE; i++) {
		if (kind == 0) {
			pg[i] = 0;
		} else if (kind == 1) {
			pg[i] = (unsigned char)("criu compressed page "[(i + seed) % 21]);
		} else {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			pg[i] = (unsigned char)x;
		}
	}
}

/* How a fixture is broken on purpose. */
enum v3_break {
	V3_OK,
	V3_LZ4_SHORT,    /* the first LZ4 block decodes to half its size */
	V3_LZ4_GARBAGE,  /* the first LZ4 block is no LZ4 block */
	V3_TOTAL,        /* total_compressed_size one more than the sum */
	V3_BLOCKS,       /* one compressed size too few */
	V3_BLOCK_SIZE,   /* a block's size above its raw size */
	V3_SHORT_FILE,   /* the pages file one octet short */
	V3_LONG_FILE,    /* the pages file one octet long */
	V3_FORGE,        /* entry 0's first size is v3_forged, its total to match */
};

static uint32_t v3_forged;

typedef struct v3_entry {
	uint64_t vaddr;
	uint32_t pages;
	uint32_t flags;        /* PE_* (8: PE_PAYLOAD_ALIGNED) */
	uint32_t region_pages; /* 0: per-page mode; else region mode */
	bool compress;         /* carries compression fields */
	const char *kinds;     /* per page: '0', '1', '2' */
} v3_entry;

typedef struct v3_result {
	long entry_off[8];      /* pagemap offsets of the entries */
	long first_lz4_at;      /* pages-file offset of the LZ4 block broken */
	long pages_size;
} v3_result;

/*
 * Write dir/pagemap-1.img and dir/pages-1.img for the entries, as CRIU's
 * image version 3 stores them, broken as brk says.  layout42 writes the
 * page count in field 5 and field 2 as 0 (CRIU 4.2).
 */
static v3_result write_v3(const char *dir, const v3_entry *ents, size_t n,
			  enum v3_break brk, bool layout42)
{
	char rel[512];
	v3_result r = { .first_lz4_at = -1 };
	static unsigned char raw[4u << 20];
	static char comp[LZ4_COMPRESSBOUND(4u << 20)];

	mkdir_p(dir);
	snprintf(rel, sizeof(rel), "%s/pagemap-1.img", dir);
	FILE *pm = cw_open(path_of(rel));
	snprintf(rel, sizeof(rel), "%s/pages-1.img", dir);
	FILE *pg = cw_open(path_of(rel));
	cw_magic(pm, T(CRIU_T_PAGEMAP), 2);
	PagemapHead h = PAGEMAP_HEAD__INIT;
	h.pages_id = 1;
	cw_entry(pm, &h.base);
	long pos = 0;
	bool broke = false;
	unsigned lz4_seen = 0;

	for (size_t i = 0; i < n; i++) {
		const v3_entry *v = &ents[i];
		PagemapEntry e = PAGEMAP_ENTRY__INIT;
		uint32_t sizes[64];
		size_t nb = 0;
		uint64_t total = 0;

		e.vaddr = v->vaddr;
		if (layout42) {
			e.nr_pages = 0;
			e.has_nr_pages64 = 1;
			e.nr_pages64 = v->pages;
		} else {
			e.nr_pages = v->pages;
		}
		e.has_flags = 1;
		e.flags = v->flags;
		if ((v->flags & 8) && pos % 4096) {
			cw_fill(pg, 0, (size_t)(4096 - pos % 4096));
			pos += 4096 - pos % 4096;
		}
		uint32_t bp = v->region_pages ? v->region_pages : 1;
		for (uint32_t p0 = 0; v->compress && p0 < v->pages; p0 += bp) {
			uint32_t np = v->pages - p0 < bp ? v->pages - p0 : bp;
			size_t rawn = (size_t)np * CRIU_PAGE_SIZE;
			bool zero = true;
			for (uint32_t k = 0; k < np; k++) {
				int kind = v->kinds[p0 + k] - '0';
				page_fill(raw + (size_t)k * CRIU_PAGE_SIZE, kind, p0 + k);
				zero = zero && kind == 0;
			}
			if (zero && (v->flags & 4)) {
				sizes[nb++] = 0;
				continue;
			}
			int c = LZ4_compress_default((const char *)raw, comp, (int)rawn,
						     (int)sizeof(comp));
			if (!(v->flags & 4)) {
				sizes[nb++] = (uint32_t)(c > 0 ? c : 0); /* fields only */
				continue;
			}
			if (c <= 0 || (size_t)c >= rawn) {
				cw_bytes(pg, raw, rawn);
				sizes[nb++] = (uint32_t)rawn;
				pos += (long)rawn;
				continue;
			}
			lz4_seen++;
			/* The first LZ4 block decodes short; the second is garbage. */
			if (!broke && (brk == V3_LZ4_SHORT ||
				       (brk == V3_LZ4_GARBAGE && lz4_seen == 2))) {
				broke = true;
				r.first_lz4_at = pos;
				if (brk == V3_LZ4_SHORT)
					c = LZ4_compress_default((const char *)raw, comp,
								 (int)rawn / 2, (int)sizeof(comp));
				else
					memset(comp, 0xf0, (size_t)c);
			}
			cw_bytes(pg, comp, (size_t)c);
			sizes[nb++] = (uint32_t)c;
			pos += c;
		}
		if (v->compress) {
			if (brk == V3_FORGE && i == 0)
				sizes[0] = v3_forged;
			for (size_t k = 0; k < nb; k++)
				total += sizes[k];
			if (brk == V3_BLOCK_SIZE && i == n - 1)
				sizes[0] = (uint32_t)bp * CRIU_PAGE_SIZE + 1;
			e.n_compressed_size = brk == V3_BLOCKS && i == n - 1 ? nb - 1 : nb;
			e.compressed_size = sizes;
			e.has_total_compressed_size = 1;
			e.total_compressed_size = total + (brk == V3_TOTAL && i == n - 1);
			if (v->region_pages) {
				e.has_region_pages = 1;
				e.region_pages = v->region_pages;
			}
		} else if (v->flags & 4) {
			for (uint32_t k = 0; k < v->pages; k++) {
				page_fill(raw, v->kinds[k] - '0', k);
				cw_bytes(pg, raw, CRIU_PAGE_SIZE);
			}
			pos += (long)v->pages * CRIU_PAGE_SIZE;
		}
		r.entry_off[i] = cw_entry(pm, &e.base);
	}
	if (brk == V3_LONG_FILE) {
		cw_fill(pg, 0, 1);
		pos++;
	}
	cw_close(pm);
	cw_close(pg);
	if (brk == V3_SHORT_FILE) {
		pos--;
		if (truncate(path_of(rel), pos) != 0) {
			perror("truncate");
			exit(2);
		}
	}
	r.pages_size = pos;
	return r;
}

static void write_v3_inventory(const char *dir, uint32_t ver, int compress, int region)
{
	char rel[512];
	InventoryEntry e = INVENTORY_ENTRY__INIT;

	mkdir_p(dir);
	snprintf(rel, sizeof(rel), "%s/inventory.img", dir);
	FILE *f = cw_open(path_of(rel));
	cw_u32(f, T(CRIU_T_INVENTORY)->magic);
	e.img_version = ver;
	e.has_fdinfo_per_id = e.fdinfo_per_id = 1;
	if (compress >= 0) {
		e.has_compress = 1;
		e.compress = (uint32_t)compress;
	}
	if (region >= 0) {
		e.has_compress_region_size = 1;
		e.compress_region_size = (uint32_t)region;
	}
	long off = cw_entry(f, &e.base);
	cw_close(f);
	(void)off;
}

static void v3_images(void)
{
	/* Per-page mode: zero, text and noise pages; an aligned raw range. */
	static const v3_entry page_mode[] = {
		{ 0x400000, 4, 4, 0, true, "1021" },
		{ 0x500000, 2, 4 | 8, 0, false, "21" },     /* HugeTLB-like: raw, aligned */
		{ 0x600000, 3, 6, 0, true, "112" },
		{ 0x700000, 2, 1, 0, false, "00" },         /* in the parent */
	};
	/* Region mode, 4 pages a region: 10 pages give 4 + 4 + 2. */
	static const v3_entry region_mode[] = {
		{ 0x400000, 10, 4, 4, true, "1111000021" },
		{ 0x800000, 5, 4 | 8, 4, true, "21111" },
	};
	static const v3_entry parent_compressed[] = {
		{ 0x400000, 2, 4, 0, true, "11" },
		{ 0x500000, 2, 1, 0, true, "11" },          /* PE_PARENT with sizes */
	};
	static const v3_entry parent_aligned[] = {
		{ 0x400000, 2, 1 | 8, 0, false, "11" },
	};
	static const v3_entry bad_region[] = {
		{ 0x400000, 2, 4, 2000, true, "11" },
	};
	v3_result r;

	mkdir_p("v3");
	mkdir_p("v3-broken");
	write_v3_inventory("v3/page-mode", 3, 1, -1);
	r = write_v3("v3/page-mode", page_mode, 4, V3_OK, false);
	expect("v3/page-mode/inventory.img", NULL, -1);
	expect("v3/page-mode/pagemap-1.img", NULL, -1);
	expect_pages("v3/page-mode", NULL, -1, NULL);

	write_v3_inventory("v3/region-mode", 3, 2, 4 * 4096);
	r = write_v3("v3/region-mode", region_mode, 2, V3_OK, false);
	expect("v3/region-mode/inventory.img", NULL, -1);
	expect("v3/region-mode/pagemap-1.img", NULL, -1);
	expect_pages("v3/region-mode", NULL, -1, NULL);

	/* CRIU 4.2's layout, uncompressed and compressed: field 5 counts. */
	static const v3_entry plain42[] = {
		{ 0x400000, 3, 4, 0, false, "121" },
		{ 0x500000, 1, 6, 0, false, "2" },
	};
	r = write_v3("v3/layout42", plain42, 2, V3_OK, true);
	expect("v3/layout42/pagemap-1.img", "criu.pagemap.new-layout", r.entry_off[0]);
	expect_pages("v3/layout42", NULL, -1, NULL);
	r = write_v3("v3/layout42-compressed", region_mode, 2, V3_OK, true);
	expect("v3/layout42-compressed/pagemap-1.img", "criu.pagemap.new-layout", r.entry_off[0]);
	expect_pages("v3/layout42-compressed", NULL, -1, NULL);

	/* Broken: one rule each. */
	r = write_v3("v3-broken/lz4-short", page_mode, 4, V3_LZ4_SHORT, false);
	expect("v3-broken/lz4-short/pagemap-1.img", NULL, -1);
	expect_pages("v3-broken/lz4-short", "criu.pages.lz4", r.first_lz4_at, "pages-1.img");
	r = write_v3("v3-broken/lz4-region-short", region_mode, 2, V3_LZ4_SHORT, false);
	expect_pages("v3-broken/lz4-region-short", "criu.pages.lz4", r.first_lz4_at, "pages-1.img");
	r = write_v3("v3-broken/lz4-garbage", region_mode, 2, V3_LZ4_GARBAGE, false);
	expect_pages("v3-broken/lz4-garbage", "criu.pages.lz4", r.first_lz4_at, "pages-1.img");
	r = write_v3("v3-broken/short-file", page_mode, 4, V3_SHORT_FILE, false);
	expect_pages("v3-broken/short-file", "criu.pages.payload-size", r.pages_size, "pages-1.img");
	r = write_v3("v3-broken/short-file-region-mode", region_mode, 2, V3_SHORT_FILE, false);
	expect_pages("v3-broken/short-file-region-mode", "criu.pages.payload-size", r.pages_size,
		     "pages-1.img");
	r = write_v3("v3-broken/long-file", region_mode, 2, V3_LONG_FILE, false);
	expect_pages("v3-broken/long-file", "criu.pages.payload-size", r.pages_size - 1,
		     "pages-1.img");
	r = write_v3("v3-broken/total", region_mode, 2, V3_TOTAL, false);
	expect("v3-broken/total/pagemap-1.img", "criu.pagemap.total", r.entry_off[1]);
	r = write_v3("v3-broken/blocks", region_mode, 2, V3_BLOCKS, false);
	expect("v3-broken/blocks/pagemap-1.img", "criu.pagemap.blocks", r.entry_off[1]);
	r = write_v3("v3-broken/block-size", region_mode, 2, V3_BLOCK_SIZE, false);
	expect("v3-broken/block-size/pagemap-1.img", "criu.pagemap.block-size", r.entry_off[1]);
	r = write_v3("v3-broken/parent-compressed", parent_compressed, 2, V3_OK, false);
	expect("v3-broken/parent-compressed/pagemap-1.img", "criu.pagemap.compress-not-present",
	       r.entry_off[1]);
	r = write_v3("v3-broken/parent-aligned", parent_aligned, 1, V3_OK, false);
	expect("v3-broken/parent-aligned/pagemap-1.img", "criu.pagemap.compress-not-present",
	       r.entry_off[0]);
	r = write_v3("v3-broken/region-pages", bad_region, 1, V3_OK, false);
	expect("v3-broken/region-pages/pagemap-1.img", "criu.pagemap.region-pages",
	       r.entry_off[0]);

	/*
	 * Hostile: entry 0's first block size forged (its total made to
	 * match), checked by pages.sh under a 64 MiB address-space limit.
	 */
	static const uint32_t forged[] = { 0, 1, 0x7fffffff, 0x80000000u, 0xffffffffu };
	static const v3_entry big_region[] = {
		{ 0x400000, 1024, 4, 1024, true, NULL },
	};
	static char kinds[1025];
	memset(kinds, '1', 1024);
	v3_entry big = big_region[0];
	big.kinds = kinds;
	mkdir_p("v3-hostile");
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		char dir[64];
		v3_forged = forged[i];
		snprintf(dir, sizeof(dir), "v3-hostile/size-%" PRIx32, forged[i]);
		write_v3(dir, region_mode, 2, V3_FORGE, false);
		fprintf(manifest_pages, "%s\thostile\t-\t-\n", dir);
		snprintf(dir, sizeof(dir), "v3-hostile/region-size-%" PRIx32, forged[i]);
		write_v3(dir, &big, 1, V3_FORGE, false);
		fprintf(manifest_pages, "%s\thostile\t-\t-\n", dir);
	}

	/* Inventory: the mode, the version, the region size. */
	write_v3_inventory("v3-broken/inv-mode", 3, 3, -1);
	expect("v3-broken/inv-mode/inventory.img", "criu.inventory.compress", 4);
	write_v3_inventory("v3-broken/inv-v2-compress", 2, 1, -1);
	expect("v3-broken/inv-v2-compress/inventory.img", "criu.inventory.compress", 4);
	write_v3_inventory("v3-broken/inv-region-odd", 3, 2, 5000);
	expect("v3-broken/inv-region-odd/inventory.img", "criu.inventory.region-size", 4);
	write_v3_inventory("v3-broken/inv-region-big", 3, 2, 8 << 20);
	expect("v3-broken/inv-region-big/inventory.img", "criu.inventory.region-size", 4);
	write_v3_inventory("v3-broken/inv-region-missing", 3, 2, -1);
	expect("v3-broken/inv-region-missing/inventory.img", "criu.inventory.region-size", 4);
	write_v3_inventory("v3-broken/inv-region-page-mode", 3, 1, 4096);
	expect("v3-broken/inv-region-page-mode/inventory.img", "criu.inventory.region-size", 4);
}

/* ---- a real dump rewritten as image version 3 ------------------------------------ */

static unsigned char *slurp_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(2);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * --v3-dump SRC DST MODE: the dump SRC (image version 2) as CRIU's image
 * version 3 writes it, compressed per page (MODE 1) or per 4-page region
 * (MODE 2): inventory img_version 3 and compress, every pagemap's present
 * entries with their block sizes, every pages file LZ4-compressed.  The
 * other images are copied as they are.
 */
static int v3_dump(const char *src, const char *dst, int mode)
{
	DIR *d = opendir(src);
	struct dirent *de;
	char sp[4096], dp[4096];
	static unsigned char raw[4u << 20];
	static char comp[LZ4_COMPRESSBOUND(4u << 20)];
	uint32_t bp = mode == 2 ? 4 : 1;

	if (!d || (mkdir(dst, 0755) != 0 && errno != EEXIST)) {
		perror(dst);
		return 2;
	}
	while ((de = readdir(d))) {
		size_t len;
		if (de->d_name[0] == '.' || strncmp(de->d_name, "pages-", 6) == 0)
			continue;
		snprintf(sp, sizeof(sp), "%s/%s", src, de->d_name);
		snprintf(dp, sizeof(dp), "%s/%s", dst, de->d_name);
		struct stat st;
		if (stat(sp, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		unsigned char *b = slurp_file(sp, &len);
		FILE *f = cw_open(dp);
		if (strcmp(de->d_name, "inventory.img") == 0) {
			InventoryEntry *e = inventory_entry__unpack(NULL, rd32(b + 4), b + 8);
			if (!e)
				exit(2);
			e->img_version = 3;
			e->has_compress = 1;
			e->compress = (uint32_t)mode;
			if (mode == 2) {
				e->has_compress_region_size = 1;
				e->compress_region_size = bp * CRIU_PAGE_SIZE;
			}
			cw_u32(f, rd32(b));
			cw_entry(f, &e->base);
			inventory_entry__free_unpacked(e, NULL);
		} else if (strncmp(de->d_name, "pagemap-", 8) == 0) {
			size_t at = 8;
			PagemapHead *h = pagemap_head__unpack(NULL, rd32(b + at), b + at + 4);
			if (!h)
				exit(2);
			at += 4 + rd32(b + at);
			cw_bytes(f, b, 8);
			cw_entry(f, &h->base);
			char pname[64];
			snprintf(pname, sizeof(pname), "pages-%" PRIu32 ".img", h->pages_id);
			snprintf(sp, sizeof(sp), "%s/%s", src, pname);
			snprintf(dp, sizeof(dp), "%s/%s", dst, pname);
			size_t plen;
			unsigned char *pages = slurp_file(sp, &plen);
			size_t pat = 0;
			FILE *pg = cw_open(dp);
			while (at + 4 <= len) {
				uint32_t n = rd32(b + at);
				PagemapEntry *e = pagemap_entry__unpack(NULL, n, b + at + 4);
				uint32_t sizes[4096];
				size_t nb = 0;
				uint64_t total = 0;
				if (!e)
					exit(2);
				at += 4 + n;
				uint32_t flags = e->has_flags ? e->flags : e->in_parent ? 1 : 4;
				for (uint32_t p0 = 0; (flags & 4) && p0 < e->nr_pages && nb < 4096; p0 += bp) {
					uint32_t np = e->nr_pages - p0 < bp ? e->nr_pages - p0 : bp;
					size_t rawn = (size_t)np * CRIU_PAGE_SIZE;
					if (pat + rawn > plen)
						exit(2);
					memcpy(raw, pages + pat, rawn);
					pat += rawn;
					bool zero = true;
					for (size_t k = 0; k < rawn && zero; k++)
						zero = raw[k] == 0;
					if (zero) {
						sizes[nb++] = 0;
						continue;
					}
					int c = LZ4_compress_default((const char *)raw, comp, (int)rawn,
								     (int)sizeof(comp));
					if (c <= 0 || (size_t)c >= rawn) {
						cw_bytes(pg, raw, rawn);
						sizes[nb++] = (uint32_t)rawn;
					} else {
						cw_bytes(pg, comp, (size_t)c);
						sizes[nb++] = (uint32_t)c;
					}
				}
				if (nb) {
					for (size_t k = 0; k < nb; k++)
						total += sizes[k];
					e->n_compressed_size = nb;
					e->compressed_size = sizes;
					e->has_total_compressed_size = 1;
					e->total_compressed_size = total;
					if (mode == 2) {
						e->has_region_pages = 1;
						e->region_pages = bp;
					}
				}
				cw_entry(f, &e->base);
				e->n_compressed_size = 0;
				e->compressed_size = NULL;
				pagemap_entry__free_unpacked(e, NULL);
			}
			cw_close(pg);
			free(pages);
			pagemap_head__free_unpacked(h, NULL);
		} else {
			cw_bytes(f, b, len);
		}
		cw_close(f);
		free(b);
	}
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && (strcmp(argv[1], "--all") == 0 || strcmp(argv[1], "--demo") == 0)) {
		out_dir = argv[2];
		if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
			perror(out_dir);
			return 2;
		}
		if (strcmp(argv[1], "--demo") == 0) {
			FILE *f = cw_open(path_of("pagemap-1.img"));
			cw_magic(f, T(CRIU_T_PAGEMAP), 2);
			write_pagemap(f, 8, true);
			cw_close(f);
			f = cw_open(path_of("pagemap-2.img"));
			cw_magic(f, T(CRIU_T_PAGEMAP), 2);
			PagemapHead h = PAGEMAP_HEAD__INIT;
			PagemapEntry e = PAGEMAP_ENTRY__INIT;
			cw_entry(f, &h.base);
			e.vaddr = 0x400000;
			e.nr_pages = 4;
			cw_entry(f, &e.base);
			e.vaddr = 0x402000; /* overlaps the entry before */
			cw_entry(f, &e.base);
			cw_u32(f, 40); /* and the file ends inside an entry */
			cw_close(f);
			return 0;
		}
		manifest = cw_open(path_of("manifest"));
		valid_images("valid", 2);
		valid_images("valid-v1", 1);
		raw_images();
		mkdir_p("valid/ghost");
		FILE *f = cw_open(path_of("valid/ghost/ghost-file-a.img"));
		cw_magic(f, T(CRIU_T_GHOST_FILE), 2);
		write_ghost_plain(f);
		cw_close(f);
		expect("valid/ghost/ghost-file-a.img", NULL, -1);
		broken_images();
		manifest_pages = cw_open(path_of("manifest-pages"));
		v3_images();
		cw_close(manifest_pages);
		cw_close(manifest);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "--v3-dump") == 0)
		return v3_dump(argv[2], argv[3], atoi(argv[4]) == 2 ? 2 : 1);
	if (argc == 5 && strcmp(argv[3], "-o") == 0) {
		char *end;
		unsigned long long n = strtoull(argv[2], &end, 10);
		if (*end)
			usage();
		FILE *f = cw_open(argv[4]);
		if (strcmp(argv[1], "--pagemap") == 0) {
			cw_magic(f, T(CRIU_T_PAGEMAP), 2);
			write_pagemap(f, n, true);
		} else if (strcmp(argv[1], "--files") == 0) {
			cw_magic(f, T(CRIU_T_FILES), 2);
			big_files(f, n);
		} else {
			usage();
		}
		cw_close(f);
		return 0;
	}
	usage();
	return 2;
}
