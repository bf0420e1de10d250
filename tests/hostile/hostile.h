/* Helpers of the hostile suite's Check programs. */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stddef.h>

/* The whole file at path, NUL-terminated (*len excludes the NUL). */
unsigned char *slurp(const char *path, size_t *len);
/* Write n bytes to path, replacing it. */
void spew(const char *path, const void *p, size_t n);
/* A 64 MiB address-space limit for this process (none under ASan). */
void limit_address_space(void);

#endif
