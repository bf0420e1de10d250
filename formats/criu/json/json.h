/*
 * CRIU images as crit-compatible JSON, both ways: the converter behind
 * `streamverify decode | encode | info` for the criu module.
 */
#ifndef SV_CRIU_JSON_H
#define SV_CRIU_JSON_H

#include <stddef.h>

#include "module.h"

extern const sv_converter criu_converter;

/* The converter's codes: their part of the criu module's one table (criu.c). */
extern const sv_code *const criu_json_codes;

#endif /* SV_CRIU_JSON_H */
