#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "hostile.h"

unsigned char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *p;
	long n;

	ck_assert_msg(fp != NULL, "cannot read %s", path);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	p = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fread(p, 1, (size_t)n, fp), n);
	fclose(fp);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

void spew(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fwrite(p, 1, n, fp), n);
	ck_assert_int_eq(fclose(fp), 0);
}

void limit_address_space(void)
{
	const char *san = getenv("SV_SANITIZE");
	struct rlimit rl = { 64u << 20, 64u << 20 };

	/* ASan reserves terabytes of shadow memory: no limit there. */
	if (san && *san)
		return;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
}
