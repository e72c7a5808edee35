/* Arrays of server strings (model input/output names, script entry points, job keys
 * and arguments): allocated with one spare NULL slot, owned element by element. */
#ifndef SSCAI_STRARRAY_H
#define SSCAI_STRARRAY_H

#include "api.h"

/* Most strings an RDB payload may declare in one array (bounds a corrupt count). */
#define STRARRAY_RDB_MAX 4096

/* Free each of the n strings, then the array (NULL with n == 0 is fine). */
void strarray_free(RedisModuleString **items, int n);

/* A new array holding (HoldString) each of the n strings: cheap, for argv slices. */
RedisModuleString **strarray_hold(RedisModuleString **items, int n);

/* An independent copy of one string / of n strings (COPY must not share them). */
RedisModuleString *string_copy(const RedisModuleString *s);
RedisModuleString **strarray_copy(RedisModuleString **items, int n);

/* Reply with an array of the n strings. */
void strarray_reply(RedisModuleCtx *ctx, RedisModuleString **items, int n);

/* RDB: the count (unsigned), then each string. load returns NULL when the count is
 * over STRARRAY_RDB_MAX (nothing else is read then); *n is set only on success. */
void strarray_save(RedisModuleIO *io, RedisModuleString **items, int n);
RedisModuleString **strarray_load(RedisModuleIO *io, int *n);

/* Bytes the strings take, for MEMORY USAGE: each string's length plus a pointer. */
size_t strarray_mem(RedisModuleString **items, int n);

#endif
