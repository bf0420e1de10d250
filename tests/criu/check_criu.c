/* Unit tests of the CRIU module's tables and protobuf helpers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/criu/image/walk.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/schema/fieldopts.h"
#include "formats/criu/schema/pb.h"
#include "formats/criu/schema/schema.h"

START_TEST(magic_lookup)
{
	/* Values from CRIU 3.17.1 criu/include/magic.h. */
	ck_assert_ptr_eq(criu_image_by_magic(0x58313116), &criu_image_types[CRIU_T_INVENTORY]);
	ck_assert_ptr_eq(criu_image_by_magic(0x56084025), &criu_image_types[CRIU_T_PAGEMAP]);
	ck_assert_ptr_eq(criu_image_by_magic(0x59255647), &criu_image_types[CRIU_T_SIGNAL]);
	ck_assert_ptr_eq(criu_image_by_magic(0x67343323), &criu_image_types[CRIU_T_BINFMT_MISC]);
	ck_assert_ptr_null(criu_image_by_magic(0));
	ck_assert_ptr_null(criu_image_by_magic(CRIU_IMG_COMMON_MAGIC));
	/* Every type magic names one type. */
	for (size_t i = 0; i < CRIU_T_COUNT; i++) {
		const criu_image_type *t = &criu_image_types[i];
		ck_assert_int_eq(t->id, (int)i);
		ck_assert_ptr_eq(criu_image_by_name(t->name), t);
		if (t->magic)
			ck_assert_ptr_eq(criu_image_by_magic(t->magic), t);
		ck_assert(t->layout == CRIU_LAYOUT_RAW ? t->entry == NULL : t->entry != NULL);
	}
}
END_TEST

START_TEST(file_names)
{
	uint64_t id;
	const criu_image_name *n;

	n = criu_image_match_file("pagemap-shmem-12.img", &id);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->type->id, CRIU_T_PAGEMAP);
	ck_assert_uint_eq(id, 12);
	n = criu_image_match_file("tcp-stream-2b37.img", &id);
	ck_assert_int_eq(n->type->id, CRIU_T_TCP_STREAM);
	ck_assert_uint_eq(id, 0x2b37);
	n = criu_image_match_file("tmpfs-dev-5.tar.gz.img", &id);
	ck_assert_int_eq(n->type->id, CRIU_T_TMPFS_DEV);
	ck_assert_int_eq(criu_image_match_file("stats-dump", NULL)->type->id, CRIU_T_STATS);
	ck_assert_int_eq(criu_image_match_file("netns-ct-3.img", NULL)->type->id, CRIU_T_NETNF_CT);
	ck_assert_int_eq(criu_image_match_file("pages-1.img", NULL)->type->id, CRIU_T_PAGES);
	ck_assert_ptr_null(criu_image_match_file("core-.img", NULL));
	ck_assert_ptr_null(criu_image_match_file("core-1.img.bak", NULL));
	ck_assert_ptr_null(criu_image_match_file("core-99999999999999999999999.img", NULL));
	ck_assert_ptr_null(criu_image_match_file("dump.log", NULL));
	/* The amdgpu plugin's names (amdgpu_plugin_util.h). */
	n = criu_image_match_file("amdgpu-pages-7-00c1.img", &id);
	ck_assert_int_eq(n->type->id, CRIU_T_AMDGPU_PAGES);
	ck_assert_uint_eq(id, 7);
	n = criu_image_match_file("amdgpu-drm-pages-7-128-0003.img", &id);
	ck_assert_int_eq(n->type->id, CRIU_T_AMDGPU_DRM_PAGES);
	ck_assert_uint_eq(id, 7);
	ck_assert_int_eq(criu_image_match_file("amdgpu-kfd-7.img", NULL)->type->id, CRIU_T_AMDGPU_KFD);
	ck_assert_int_eq(criu_image_match_file("amdgpu-renderD-7.img", NULL)->type->id,
			 CRIU_T_AMDGPU_RENDER);
	ck_assert_int_eq(criu_image_match_file("amdgpu-dmabuf_7.img", NULL)->type->id,
			 CRIU_T_AMDGPU_DMABUF);
	ck_assert_ptr_null(criu_image_match_file("amdgpu-pages-7.img", NULL));
	ck_assert_ptr_null(criu_image_match_file("amdgpu-drm-pages-7-128.img", NULL));
	ck_assert_int_eq(criu_image_match_file("pidfd.img", NULL)->type->id, CRIU_T_PIDFD);
}
END_TEST

START_TEST(field_options)
{
	const criu_field_opt *o = criu_field_opt_find(&pagemap_entry__descriptor, "vaddr");
	ck_assert_ptr_nonnull(o);
	ck_assert(o->flags & CRIU_OPT_HEX);
	o = criu_field_opt_find(&pagemap_entry__descriptor, "flags");
	ck_assert_str_eq(o->flags_dict, "pmap.flags");
	ck_assert_ptr_null(criu_field_opt_find(&pagemap_entry__descriptor, "nr_pages"));
	ck_assert_uint_eq(criu_field_opt_count, 103);
}
END_TEST

START_TEST(diagnose)
{
	criu_pb_diag d;
	/* pstree_entry without pid */
	static const uint8_t no_pid[] = { 0x10, 1, 0x18, 1, 0x20, 1 };
	ck_assert_int_eq(criu_pb_diagnose(&pstree_entry__descriptor, no_pid, sizeof(no_pid), &d),
			 CRIU_PB_REQUIRED);
	ck_assert_ptr_nonnull(strstr(d.what, "pstree_entry.pid"));
	/* a length running past the end */
	static const uint8_t long_len[] = { 0x08, 1, 0x2a, 0x7f };
	ck_assert_int_eq(criu_pb_diagnose(&pstree_entry__descriptor, long_len, sizeof(long_len), &d),
			 CRIU_PB_MALFORMED);
	ck_assert_uint_eq(d.at, 2);
	/* apparmor namespaces nested 100 deep, built from the inside out */
	uint8_t deep[1024];
	size_t start = sizeof(deep);
	for (int i = 0; i < 100; i++) {
		size_t len = sizeof(deep) - start;
		uint8_t tag = i == 99 ? 0x0a : 0x1a; /* apparmor_entry.namespaces / aa_namespace.namespaces */
		if (len >= 128) {
			deep[--start] = (uint8_t)(len >> 7);
			deep[--start] = (uint8_t)(len | 0x80);
		} else {
			deep[--start] = (uint8_t)len;
		}
		deep[--start] = tag;
	}
	ck_assert_int_eq(criu_pb_diagnose(&apparmor_entry__descriptor, deep + start,
					  sizeof(deep) - start, &d), CRIU_PB_TOO_DEEP);
	ck_assert(criu_pb_recursive(&apparmor_entry__descriptor));
	ck_assert(!criu_pb_recursive(&core_entry__descriptor));
	ck_assert(!criu_pb_recursive(&pagemap_entry__descriptor));
}
END_TEST

START_TEST(arena)
{
	criu_arena a;
	criu_arena_init(&a);
	for (int round = 0; round < 3; round++) {
		for (size_t sz = 1; sz < 300000; sz *= 3) {
			unsigned char *p = a.pc.alloc(a.pc.allocator_data, sz);
			ck_assert_ptr_nonnull(p);
			memset(p, 0xab, sz);
		}
		criu_arena_reset(&a);
	}
	criu_arena_free(&a);
}
END_TEST

START_TEST(layout_primitives)
{
	const unsigned char b[8] = { 0x16, 0x31, 0x31, 0x58, 0x01, 0x00, 0x00, 0x80 };
	unsigned char out[4];

	ck_assert_uint_eq(criu_le32(b), 0x58313116u); /* INVENTORY */
	ck_assert_uint_eq(criu_le64(b), 0x8000000158313116ull);
	criu_le32_put(out, 0x54564319u);
	ck_assert_uint_eq(criu_le32(out), CRIU_IMG_COMMON_MAGIC);
	ck_assert_uint_eq(criu_pad_len(6, 8), 2);
	ck_assert_uint_eq(criu_pad_len(16, 8), 0);
	ck_assert_uint_eq(criu_pad_len(UINT64_MAX, 4), 1);
	ck_assert_uint_eq(criu_round_up(4097, CRIU_PAGE_SIZE), 2 * CRIU_PAGE_SIZE);

	const uint8_t v300[] = { 0xac, 0x02 }, vmax[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
							   0xff, 0xff, 0xff, 0xff, 0x01 };
	const uint8_t v65[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
	const uint8_t *p = v300;
	uint64_t v = 0;
	ck_assert(criu_varint(&p, v300 + 2, &v, 10));
	ck_assert_uint_eq(v, 300);
	ck_assert_ptr_eq(p, v300 + 2);
	p = v300;
	ck_assert(!criu_varint(&p, v300 + 1, &v, 10)); /* cut short */
	p = vmax;
	ck_assert(criu_varint(&p, vmax + 10, &v, 10));
	ck_assert_uint_eq(v, UINT64_MAX);
	p = vmax;
	ck_assert(!criu_varint(&p, vmax + 10, &v, 5)); /* longer than allowed */
	p = v65;
	ck_assert(!criu_varint(&p, v65 + 10, &v, 10)); /* beyond 64 bits */
}
END_TEST

/* Records what criu_walk_blobs hands over, as "item", "piece:K:LEN", "pad:LEN". */
typedef struct walk_log {
	char text[256];
	const ProtobufCMessage *items[4];
} walk_log;

static void logf_(walk_log *l, const char *what, unsigned long a, unsigned long b)
{
	size_t n = strlen(l->text);
	snprintf(l->text + n, sizeof(l->text) - n, "%s%s:%lu:%lu", n ? " " : "", what, a, b);
}

static bool log_item(void *arg, uint64_t k, const ProtobufCMessage **m)
{
	walk_log *l = arg;
	logf_(l, "item", (unsigned long)k, 0);
	*m = l->items[k];
	return true;
}

static bool log_piece(void *arg, const ProtobufCMessage *m, uint64_t item, unsigned piece,
		      uint64_t len)
{
	(void)m;
	logf_(arg, "piece", (unsigned long)(item * 10 + piece), (unsigned long)len);
	return true;
}

static bool log_padding(void *arg, uint64_t len)
{
	logf_(arg, "pad", (unsigned long)len, 0);
	return true;
}

static const char *walk(criu_blob_kind kind, const ProtobufCMessage *m, walk_log *l)
{
	criu_blob_events ev = { l, log_item, log_piece, log_padding };

	l->text[0] = '\0';
	ck_assert(criu_walk_blobs(kind, m, &ev));
	return l->text;
}

START_TEST(blob_layouts)
{
	walk_log l = { .text = "" };

	for (unsigned k = 0; k < CRIU_BLOB_KIND_COUNT; k++) {
		const criu_blob_layout *bl = &criu_blob_layouts[k];
		ck_assert_uint_le(bl->pieces, CRIU_BLOB_MAX_PIECES);
		ck_assert_uint_le(bl->align, CRIU_BLOB_MAX_ALIGN);
		ck_assert_uint_ge(bl->align, 1);
		ck_assert_uint_ge(bl->value_size, 1);
	}
	/* Every type with a blob names a kind with pieces. */
	for (unsigned t = 0; t < CRIU_T_COUNT; t++)
		ck_assert(criu_image_types[t].blob == CRIU_BLOB_NONE ||
			  criu_blob_layouts[criu_image_types[t].blob].pieces > 0);

	PipeDataEntry pd = PIPE_DATA_ENTRY__INIT;
	pd.bytes = 5;
	ck_assert_str_eq(walk(CRIU_BLOB_PIPE_DATA, &pd.base, &l), "piece:0:5");
	ck_assert_str_eq(walk(CRIU_BLOB_NONE, &pd.base, &l), "");

	TcpStreamEntry tcp = TCP_STREAM_ENTRY__INIT;
	tcp.inq_len = 3;
	tcp.outq_len = 9;
	ck_assert_str_eq(walk(CRIU_BLOB_TCP_QUEUES, &tcp.base, &l), "piece:0:3 piece:1:9");

	BpfmapDataEntry bpf = BPFMAP_DATA_ENTRY__INIT;
	bpf.keys_bytes = 4;
	bpf.values_bytes = 12;
	ck_assert_str_eq(walk(CRIU_BLOB_BPFMAP_DATA, &bpf.base, &l), "piece:0:16");

	IpcShmEntry shm = IPC_SHM_ENTRY__INIT;
	shm.size = 5;
	ck_assert_str_eq(walk(CRIU_BLOB_IPC_SHM, &shm.base, &l), "piece:0:5 pad:3:0");
	shm.has_in_pagemaps = shm.in_pagemaps = true;
	ck_assert_str_eq(walk(CRIU_BLOB_IPC_SHM, &shm.base, &l), "");

	IpcSemEntry sem = IPC_SEM_ENTRY__INIT;
	sem.nsems = 3;
	ck_assert_str_eq(walk(CRIU_BLOB_IPC_SEM, &sem.base, &l), "piece:0:6 pad:2:0");

	IpcMsgEntry q = IPC_MSG_ENTRY__INIT;
	IpcMsg m1 = IPC_MSG__INIT, m2 = IPC_MSG__INIT;
	m1.msize = 8;
	m2.msize = 13;
	q.qnum = 2;
	l.items[0] = &m1.base;
	l.items[1] = &m2.base;
	ck_assert_ptr_eq(criu_blob_layouts[CRIU_BLOB_IPC_MSG].item, &ipc_msg__descriptor);
	ck_assert_str_eq(walk(CRIU_BLOB_IPC_MSG, &q.base, &l),
			 "item:0:0 piece:0:8 pad:0:0 item:1:0 piece:10:13 pad:3:0");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("criu");
	TCase *tc = tcase_create("tables");

	tcase_add_test(tc, magic_lookup);
	tcase_add_test(tc, file_names);
	tcase_add_test(tc, field_options);
	tcase_add_test(tc, diagnose);
	tcase_add_test(tc, arena);
	tcase_add_test(tc, layout_primitives);
	tcase_add_test(tc, blob_layouts);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
