/* Unit tests of the CRIU module's tables and protobuf helpers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	Suite *s = suite_create("criu");
	TCase *tc = tcase_create("tables");

	tcase_add_test(tc, magic_lookup);
	tcase_add_test(tc, file_names);
	tcase_add_test(tc, field_options);
	tcase_add_test(tc, diagnose);
	tcase_add_test(tc, arena);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
