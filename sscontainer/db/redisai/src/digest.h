/* Versions of stored models and scripts: a 64-bit digest of what was stored, so a
 * worker reloads a model only when its bytes or settings change (storing the same
 * model again keeps the worker's loaded copy). Not cryptographic. */
#ifndef SSCAI_DIGEST_H
#define SSCAI_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"

#define VERSION_LEN 16

uint64_t digest_bytes(uint64_t h, const void *data, size_t len);
uint64_t digest_string(uint64_t h, const RedisModuleString *s); /* NULL: digests a marker */
uint64_t digest_number(uint64_t h, long long n);

/* The 16 lowercase hex digits of h, NUL-terminated. */
void digest_format(uint64_t h, char out[VERSION_LEN + 1]);

#endif
