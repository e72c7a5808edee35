/* Arrays of server strings: free, hold, copy, reply, RDB save/load, memory usage. */
#include "strarray.h"

void strarray_free(RedisModuleString **items, int n) {
    for (int i = 0; i < n; i++) RedisModule_FreeString(NULL, items[i]);
    RedisModule_Free(items);
}

RedisModuleString **strarray_hold(RedisModuleString **items, int n) {
    RedisModuleString **out = RedisModule_Calloc((size_t)n + 1, sizeof *out);
    for (int i = 0; i < n; i++) out[i] = RedisModule_HoldString(NULL, items[i]);
    return out;
}

RedisModuleString *string_copy(const RedisModuleString *s) {
    size_t len;
    const char *text = RedisModule_StringPtrLen(s, &len);
    return RedisModule_CreateString(NULL, text, len);
}

RedisModuleString **strarray_copy(RedisModuleString **items, int n) {
    RedisModuleString **out = RedisModule_Calloc((size_t)n + 1, sizeof *out);
    for (int i = 0; i < n; i++) out[i] = string_copy(items[i]);
    return out;
}

void strarray_reply(RedisModuleCtx *ctx, RedisModuleString **items, int n) {
    RedisModule_ReplyWithArray(ctx, n);
    for (int i = 0; i < n; i++) RedisModule_ReplyWithString(ctx, items[i]);
}

void strarray_save(RedisModuleIO *io, RedisModuleString **items, int n) {
    RedisModule_SaveUnsigned(io, (uint64_t)n);
    for (int i = 0; i < n; i++) RedisModule_SaveString(io, items[i]);
}

RedisModuleString **strarray_load(RedisModuleIO *io, int *n) {
    uint64_t count = RedisModule_LoadUnsigned(io);
    if (count > STRARRAY_RDB_MAX) return NULL;
    RedisModuleString **items = RedisModule_Calloc(count + 1, sizeof *items);
    for (uint64_t i = 0; i < count; i++) items[i] = RedisModule_LoadString(io);
    *n = (int)count;
    return items;
}

size_t strarray_mem(RedisModuleString **items, int n) {
    size_t total = 0, len;
    for (int i = 0; i < n; i++) {
        RedisModule_StringPtrLen(items[i], &len);
        total += len + sizeof(void *);
    }
    return total;
}
