/* Scripts: a reference-counted module value (type "sscscript") holding TorchScript
 * source, its device and (AI.SCRIPTSTORE) its entry points. The inference worker
 * compiles and runs it. */
#ifndef SSCAI_SCRIPT_H
#define SSCAI_SCRIPT_H

#include <stdatomic.h>

#include "api.h"
#include "args.h"
#include "digest.h"
#include "stats.h"

typedef struct Script {
    atomic_uint refs;
    char device[DEVICE_MAX];
    RedisModuleString *tag; /* NULL: none */
    RedisModuleString *source;
    int nentries;
    RedisModuleString **entries;
    char version[VERSION_LEN + 1];
    RunStats stats;
} Script;

extern RedisModuleType *ScriptType;

int script_type_register(RedisModuleCtx *ctx);

/* A script taking ownership of the strings given (entries array included). */
Script *script_new(const char *device, RedisModuleString *tag, RedisModuleString *source,
                   int nentries, RedisModuleString **entries);
Script *script_ref(Script *s);
void script_unref(Script *s);

/* The script stored at key; NULL with RedisAI's error text in *err. No reference. */
Script *script_lookup(RedisModuleCtx *ctx, RedisModuleString *key, const char **err);

int script_set_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int script_store_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int script_get_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int script_del_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

#endif
