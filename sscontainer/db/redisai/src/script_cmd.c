/* AI.SCRIPTSET, AI.SCRIPTSTORE, AI.SCRIPTGET and AI.SCRIPTDEL, as RedisAI has them. */
#include <string.h>

#include "script.h"
#include "strarray.h"

#define MISSING_SOURCE "ERR Insufficient arguments, missing script SOURCE"
#define MISSING_ENTRIES "ERR Insufficient arguments, missing script entry points"

static int store(RedisModuleCtx *ctx, RedisModuleString *key, Script *s) {
    RedisModuleKey *k = RedisModule_OpenKey(ctx, key, REDISMODULE_READ | REDISMODULE_WRITE);
    int status = RedisModule_ModuleTypeSetValue(k, ScriptType, s);
    RedisModule_CloseKey(k);
    if (status != REDISMODULE_OK) {
        script_unref(s);
        return RedisModule_ReplyWithError(ctx, "ERR could not save script");
    }
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* "<device> [TAG <tag>]" from argv[2]; *pos is left on the argument after them. */
static const char *parse_head(RedisModuleString **argv, int argc, char device[DEVICE_MAX],
                              RedisModuleString **tag, int *pos) {
    if (device_parse(argv[2], device) != REDISMODULE_OK) return "ERR Invalid DEVICE";
    *pos = 3;
    *tag = NULL;
    if (*pos + 1 < argc && arg_is(argv[*pos], "TAG")) {
        *tag = argv[*pos + 1];
        *pos += 2;
    }
    return NULL;
}

/* AI.SCRIPTSET <key> <device> [TAG <tag>] SOURCE <text> */
int script_set_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 5 && argc != 7) return RedisModule_WrongArity(ctx);
    char device[DEVICE_MAX];
    RedisModuleString *tag;
    int pos;
    const char *err = parse_head(argv, argc, device, &tag, &pos);
    if (err) return RedisModule_ReplyWithError(ctx, err);
    if (pos + 1 >= argc || !arg_is(argv[pos], "SOURCE")) {
        return RedisModule_ReplyWithError(ctx, MISSING_SOURCE);
    }
    if (!key_empty_or(ctx, argv[1], ScriptType)) {
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    }
    Script *s = script_new(device, tag ? RedisModule_HoldString(NULL, tag) : NULL,
                           RedisModule_HoldString(NULL, argv[pos + 1]), 0,
                           RedisModule_Calloc(1, sizeof(RedisModuleString *)));
    return store(ctx, argv[1], s);
}

/* AI.SCRIPTSTORE <key> <device> [TAG <tag>] ENTRY_POINTS <n> <fn>... SOURCE <text> */
int script_store_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 8) return RedisModule_WrongArity(ctx);
    char device[DEVICE_MAX];
    RedisModuleString *tag;
    int pos;
    const char *err = parse_head(argv, argc, device, &tag, &pos);
    if (err) return RedisModule_ReplyWithError(ctx, err);
    if (pos >= argc || !arg_is(argv[pos], "ENTRY_POINTS")) {
        return RedisModule_ReplyWithError(ctx, MISSING_ENTRIES);
    }
    long long n;
    if (pos + 1 >= argc || RedisModule_StringToLongLong(argv[pos + 1], &n) != REDISMODULE_OK) {
        return RedisModule_ReplyWithError(
            ctx, "ERR Non numeric entry points number provided to AI.SCRIPTSTORE command");
    }
    pos += 2;
    if (n <= 0 || argc - pos < n) return RedisModule_ReplyWithError(ctx, MISSING_ENTRIES);
    int first_entry = pos;
    pos += (int)n;
    if (pos + 1 >= argc || !arg_is(argv[pos], "SOURCE")) {
        return RedisModule_ReplyWithError(ctx, MISSING_SOURCE);
    }
    if (!key_empty_or(ctx, argv[1], ScriptType)) {
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    }
    Script *s = script_new(device, tag ? RedisModule_HoldString(NULL, tag) : NULL,
                           RedisModule_HoldString(NULL, argv[pos + 1]), (int)n,
                           strarray_hold(argv + first_entry, (int)n));
    return store(ctx, argv[1], s);
}

/* AI.SCRIPTGET <key> [META] [SOURCE]: SOURCE alone is the bulk source text. */
int script_get_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 4) return RedisModule_WrongArity(ctx);
    const char *err = NULL;
    Script *s = script_lookup(ctx, argv[1], &err);
    if (s == NULL) return RedisModule_ReplyWithError(ctx, err);
    int meta = 0, source = 0;
    for (int i = 2; i < argc; i++) {
        if (arg_is(argv[i], "META")) meta = 1;
        if (arg_is(argv[i], "SOURCE")) source = 1;
    }
    if (!meta && source) return RedisModule_ReplyWithString(ctx, s->source);
    int with_source = source || !meta;
    RedisModule_ReplyWithArray(ctx, with_source ? 8 : 6);
    RedisModule_ReplyWithCString(ctx, "device");
    RedisModule_ReplyWithCString(ctx, s->device);
    RedisModule_ReplyWithCString(ctx, "tag");
    reply_string_or_empty(ctx, s->tag);
    RedisModule_ReplyWithCString(ctx, "Entry Points");
    strarray_reply(ctx, s->entries, s->nentries);
    if (with_source) {
        RedisModule_ReplyWithCString(ctx, "source");
        RedisModule_ReplyWithString(ctx, s->source);
    }
    return REDISMODULE_OK;
}

int script_del_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    const char *err = NULL;
    if (script_lookup(ctx, argv[1], &err) == NULL) return RedisModule_ReplyWithError(ctx, err);
    return key_delete_reply(ctx, argv[1]);
}
