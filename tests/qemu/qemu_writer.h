/*
 * Writing QEMU migration streams for tests: a growable byte buffer, one
 * builder that writes every shape (precopy, postcopy, mapped-ram, Xen
 * device state, libvirt wrapper, ...), and the fixture table (valid shapes,
 * and one stream per broken rule with the code and offset it must give).
 * Shared by gen_qemu (files + manifest) and check_qemu (in-process tests).
 */
#ifndef TESTS_QEMU_WRITER_H
#define TESTS_QEMU_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct qw {
	unsigned char *p;
	size_t len, cap;
} qw;

void qw_init(qw *w);
void qw_free(qw *w);
void qw_raw(qw *w, const void *p, size_t n);
void qw_fill(qw *w, int byte, size_t n);
void qw_u8(qw *w, uint8_t v);
void qw_be16(qw *w, uint16_t v);
void qw_be32(qw *w, uint32_t v);
void qw_be64(qw *w, uint64_t v);
void qw_str(qw *w, const char *s); /* u8 length + octets */

/* What verifying a fixture must report (codes with their offsets). */
typedef struct fx_expect {
	const char *code;   /* NULL: nothing at all */
	uint64_t off;
	const char *code2;  /* a second finding, or NULL */
	uint64_t off2;
} fx_expect;

typedef struct qfixture {
	const char *name;   /* file stem */
	const char *shape;  /* builder shape */
	const char *brk;    /* rule broken ("" for a valid shape) */
	const char *code;   /* expected first code (NULL: none) */
} qfixture;

extern const qfixture qemu_fixtures[];
extern const size_t qemu_nfixtures;

/* Build fixture f into w (initialised by the caller); fills *e. */
void qemu_fixture_build(const qfixture *f, qw *w, fx_expect *e);
const qfixture *qemu_fixture_find(const char *name);

/*
 * A valid precopy stream with `sections` device sections (no vmdesc), for
 * the many-sections test.
 */
void qemu_build_many_sections(qw *w, unsigned sections);

/*
 * Write a valid precopy stream of about `bytes` octets of RAM (full pages)
 * to out.  seekable: page contents are left as holes (fseeko), so a 4 GiB
 * file costs little.  Returns 0, or -1 on a write error.
 */
int qemu_write_big(FILE *out, uint64_t bytes, bool seekable);

/* The offsets of every length field of fixture "valid-precopy" (hostile). */
typedef struct qemu_len_field {
	const char *what;
	size_t off;
	unsigned width; /* 1, 4 or 8 octets */
} qemu_len_field;
size_t qemu_length_fields(qw *w, qemu_len_field *out, size_t max);

#endif
