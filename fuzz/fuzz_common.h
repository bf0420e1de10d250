/*
 * Shared by the libFuzzer targets: the input is handed to the library
 * through a memfd (by path or descriptor, as the CLI and library users
 * do) or as a buffer, and the findings go to a counting sink.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "streamverify.h"

/* A path naming a memfd that holds exactly data[0..size). */
const char *fuzz_memfd_path(const uint8_t *data, size_t size);
/* The same memfd, positioned at its start. */
int fuzz_memfd(const uint8_t *data, size_t size);

/* A sink that only counts; records and stats are asked for, so the
 * modules' --verbose paths are fuzzed too. */
extern const sv_sink fuzz_counting_sink;

#endif
