/* The script value: creation, references, persistence (type "sscscript"). */
#include "script.h"

#include <string.h>

#include "strarray.h"

#define SCRIPT_ENCVER 1

RedisModuleType *ScriptType = NULL;

static void compute_version(Script *s) {
    uint64_t h = digest_bytes(0, s->device, strlen(s->device));
    h = digest_string(h, s->tag);
    h = digest_number(h, s->nentries);
    for (int i = 0; i < s->nentries; i++) h = digest_string(h, s->entries[i]);
    h = digest_string(h, s->source);
    digest_format(h, s->version);
}

Script *script_new(const char *device, RedisModuleString *tag, RedisModuleString *source,
                   int nentries, RedisModuleString **entries) {
    Script *s = RedisModule_Calloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    memcpy(s->device, device, strlen(device) + 1);
    s->tag = tag;
    s->source = source;
    s->nentries = nentries;
    s->entries = entries;
    compute_version(s);
    return s;
}

Script *script_ref(Script *s) {
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void script_unref(Script *s) {
    if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1) return;
    if (s->tag) RedisModule_FreeString(NULL, s->tag);
    RedisModule_FreeString(NULL, s->source);
    strarray_free(s->entries, s->nentries);
    RedisModule_Free(s);
}

Script *script_lookup(RedisModuleCtx *ctx, RedisModuleString *key, const char **err) {
    return key_lookup(ctx, key, ScriptType, "ERR script key is empty", err);
}

/* --- type methods -------------------------------------------------------------------- */

static void script_rdb_save(RedisModuleIO *io, void *value) {
    const Script *s = value;
    RedisModule_SaveStringBuffer(io, s->device, strlen(s->device));
    RedisModule_SaveUnsigned(io, s->tag != NULL);
    if (s->tag) RedisModule_SaveString(io, s->tag);
    strarray_save(io, s->entries, s->nentries);
    RedisModule_SaveString(io, s->source);
}

static void *script_rdb_load(RedisModuleIO *io, int encver) {
    if (encver != SCRIPT_ENCVER) return NULL; /* not an encoding this module wrote */
    char dev[DEVICE_MAX];
    if (load_device(io, dev) != REDISMODULE_OK) return NULL;
    RedisModuleString *tag = RedisModule_LoadUnsigned(io) ? RedisModule_LoadString(io) : NULL;
    int n = 0;
    RedisModuleString **entries = strarray_load(io, &n);
    if (entries == NULL) {
        if (tag) RedisModule_FreeString(NULL, tag);
        return NULL;
    }
    RedisModuleString *source = RedisModule_LoadString(io);
    return script_new(dev, tag, source, n, entries);
}

/* AI.SCRIPTSET (no entry points) or AI.SCRIPTSTORE, as the script was stored. */
static void script_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    const Script *s = value;
    size_t n = 0;
    RedisModuleString **args = RedisModule_Calloc(8 + (size_t)s->nentries, sizeof *args);
    args[n++] = RedisModule_HoldString(NULL, key);
    args[n++] = RedisModule_CreateString(NULL, s->device, strlen(s->device));
    if (s->tag) {
        args[n++] = RedisModule_CreateString(NULL, "TAG", 3);
        args[n++] = RedisModule_HoldString(NULL, s->tag);
    }
    if (s->nentries) {
        args[n++] = RedisModule_CreateString(NULL, "ENTRY_POINTS", 12);
        args[n++] = RedisModule_CreateStringFromLongLong(NULL, s->nentries);
        for (int i = 0; i < s->nentries; i++) args[n++] = RedisModule_HoldString(NULL, s->entries[i]);
    }
    args[n++] = RedisModule_CreateString(NULL, "SOURCE", 6);
    args[n++] = RedisModule_HoldString(NULL, s->source);
    RedisModule_EmitAOF(aof, s->nentries ? "AI.SCRIPTSTORE" : "AI.SCRIPTSET", "v", args, n);
    strarray_free(args, (int)n);
}

static size_t script_mem_usage(const void *value) {
    const Script *s = value;
    size_t len;
    RedisModule_StringPtrLen(s->source, &len);
    return sizeof *s + len + strarray_mem(s->entries, s->nentries);
}

static void script_free(void *value) { script_unref(value); }

/* COPY makes an independent script (its own statistics). */
static void *script_copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    (void)from;
    (void)to;
    const Script *s = value;
    return script_new(s->device, s->tag ? string_copy(s->tag) : NULL, string_copy(s->source),
                      s->nentries, strarray_copy(s->entries, s->nentries));
}

int script_type_register(RedisModuleCtx *ctx) {
    RedisModuleTypeMethods methods = {
        .version = REDISMODULE_TYPE_METHOD_VERSION,
        .rdb_load = script_rdb_load,
        .rdb_save = script_rdb_save,
        .aof_rewrite = script_aof_rewrite,
        .mem_usage = script_mem_usage,
        .free = script_free,
        .copy = script_copy,
    };
    ScriptType = RedisModule_CreateDataType(ctx, "sscscript", SCRIPT_ENCVER, &methods);
    return ScriptType != NULL ? REDISMODULE_OK : REDISMODULE_ERR;
}
