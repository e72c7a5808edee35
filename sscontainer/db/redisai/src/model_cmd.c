/* AI.MODELSTORE, AI.MODELGET and AI.MODELDEL, as RedisAI parses and answers them. */
#include <string.h>

#include "model.h"
#include "strarray.h"

typedef struct StoreArgs {
    int backend;
    char device[DEVICE_MAX];
    RedisModuleString *tag;
    long long batchsize, minbatchsize, minbatchtimeout;
    int ninputs, noutputs;
    RedisModuleString **inputs, **outputs; /* argv slices, not owned */
    int blob_pos;                          /* first BLOB chunk */
} StoreArgs;

/* "<KEYWORD> <unsigned>" at *pos, when present. */
static const char *optional_count(RedisModuleString **argv, int argc, int *pos,
                                  const char *keyword, long long *out, const char *invalid) {
    if (*pos >= argc || !arg_is(argv[*pos], keyword)) return NULL;
    if (*pos + 1 >= argc || arg_unsigned(argv[*pos + 1], out) != REDISMODULE_OK) return invalid;
    *pos += 2;
    return NULL;
}

/* TF's "INPUTS <n> <name>... OUTPUTS <n> <name>..." starting at *pos. */
static const char *parse_tf_names(RedisModuleString **argv, int argc, int *pos, StoreArgs *a) {
    long long n;
    if (*pos >= argc || !arg_is(argv[*pos], "INPUTS")) return "ERR INPUTS not specified for TF";
    if (*pos + 1 >= argc || arg_unsigned(argv[*pos + 1], &n) != REDISMODULE_OK || n == 0) {
        return "ERR Invalid argument for input_count";
    }
    *pos += 2;
    if (argc - *pos < n) {
        return "ERR number of model inputs does not match the number of given arguments";
    }
    a->ninputs = (int)n;
    a->inputs = argv + *pos;
    *pos += (int)n;
    if (*pos >= argc || !arg_is(argv[*pos], "OUTPUTS")) return "ERR OUTPUTS not specified for TF";
    if (*pos + 1 >= argc || arg_unsigned(argv[*pos + 1], &n) != REDISMODULE_OK || n == 0) {
        return "ERR Invalid argument for output_count";
    }
    *pos += 2;
    if (argc - *pos < n) {
        return "ERR number of model outputs does not match the number of given arguments";
    }
    a->noutputs = (int)n;
    a->outputs = argv + *pos;
    *pos += (int)n;
    return NULL;
}

/* AI.MODELSTORE <key> <backend> <device> [TAG t] [BATCHSIZE n [MINBATCHSIZE m
 * [MINBATCHTIMEOUT ms]]] [INPUTS n ... OUTPUTS n ...] BLOB <chunk>... */
static const char *parse_store(RedisModuleString **argv, int argc, StoreArgs *a) {
    memset(a, 0, sizeof *a);
    a->backend = backend_parse(argv[2]);
    if (a->backend < 0) return "ERR unsupported backend";
    if (device_parse(argv[3], a->device) != REDISMODULE_OK) return "ERR Invalid DEVICE";
    int pos = 4;
    if (pos + 1 < argc && arg_is(argv[pos], "TAG")) {
        a->tag = argv[pos + 1];
        pos += 2;
    }
    const char *err;
    if ((err = optional_count(argv, argc, &pos, "BATCHSIZE", &a->batchsize,
                              "ERR Invalid argument for BATCHSIZE"))) return err;
    if ((err = optional_count(argv, argc, &pos, "MINBATCHSIZE", &a->minbatchsize,
                              "ERR Invalid argument for MINBATCHSIZE"))) return err;
    if (a->batchsize == 0 && a->minbatchsize > 0) {
        return "ERR MINBATCHSIZE specified without BATCHSIZE";
    }
    if ((err = optional_count(argv, argc, &pos, "MINBATCHTIMEOUT", &a->minbatchtimeout,
                              "ERR Invalid argument for MINBATCHTIMEOUT"))) return err;
    if (a->minbatchsize == 0 && a->minbatchtimeout > 0) {
        return "ERR MINBATCHTIMEOUT specified without MINBATCHSIZE";
    }
    if (pos >= argc) return "ERR Insufficient arguments, missing model BLOB";
    if (a->backend == BACKEND_TF) {
        if ((err = parse_tf_names(argv, argc, &pos, a))) return err;
    } else if (arg_is(argv[pos], "INPUTS")) {
        return "ERR INPUTS argument should not be specified for this backend";
    }
    if (pos >= argc || !arg_is(argv[pos], "BLOB")) return "ERR Invalid argument, expected BLOB";
    if (++pos >= argc) return "ERR Insufficient arguments, missing model BLOB";
    a->blob_pos = pos;
    return NULL;
}

/* The model bytes: the single chunk itself, or the chunks joined (SmartRedis splits
 * models into MODEL_CHUNK_SIZE pieces). */
static RedisModuleString *join_chunks(RedisModuleString **chunks, int n) {
    if (n == 1) return RedisModule_HoldString(NULL, chunks[0]);
    size_t total = 0, len;
    for (int i = 0; i < n; i++) {
        RedisModule_StringPtrLen(chunks[i], &len);
        total += len;
    }
    char *buf = RedisModule_Alloc(total ? total : 1);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        const char *text = RedisModule_StringPtrLen(chunks[i], &len);
        memcpy(buf + at, text, len);
        at += len;
    }
    RedisModuleString *blob = RedisModule_CreateString(NULL, buf, total);
    RedisModule_Free(buf);
    return blob;
}

int model_store_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 6) return RedisModule_WrongArity(ctx);
    StoreArgs a;
    const char *err = parse_store(argv, argc, &a);
    if (err) return RedisModule_ReplyWithError(ctx, err);
    if (!key_empty_or(ctx, argv[1], ModelType)) {
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    }
    Model *m = model_new(a.backend, a.device, a.tag ? RedisModule_HoldString(NULL, a.tag) : NULL,
                         a.batchsize, a.minbatchsize, a.minbatchtimeout, a.ninputs,
                         strarray_hold(a.inputs, a.ninputs), a.noutputs,
                         strarray_hold(a.outputs, a.noutputs),
                         join_chunks(argv + a.blob_pos, argc - a.blob_pos));
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    int status = RedisModule_ModuleTypeSetValue(k, ModelType, m);
    RedisModule_CloseKey(k);
    if (status != REDISMODULE_OK) {
        model_unref(m);
        return RedisModule_ReplyWithError(ctx, "ERR could not save model");
    }
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* AI.MODELGET <key> [META] [BLOB]: BLOB alone is one bulk string (never chunks:
 * SmartRedis 0.6.1 cannot join them); otherwise RedisAI's field list. */
int model_get_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 4) return RedisModule_WrongArity(ctx);
    const char *err = NULL;
    Model *m = model_lookup(ctx, argv[1], &err);
    if (m == NULL) return RedisModule_ReplyWithError(ctx, err);
    int meta = 0, blob = 0;
    for (int i = 2; i < argc; i++) {
        if (arg_is(argv[i], "META")) meta = 1;
        if (arg_is(argv[i], "BLOB")) blob = 1;
    }
    if (!meta && blob) return RedisModule_ReplyWithString(ctx, m->blob);
    int with_blob = !meta || blob;
    RedisModule_ReplyWithArray(ctx, with_blob ? 18 : 16);
    RedisModule_ReplyWithCString(ctx, "backend");
    RedisModule_ReplyWithCString(ctx, backend_name(m->backend));
    RedisModule_ReplyWithCString(ctx, "device");
    RedisModule_ReplyWithCString(ctx, m->device);
    RedisModule_ReplyWithCString(ctx, "tag");
    reply_string_or_empty(ctx, m->tag);
    RedisModule_ReplyWithCString(ctx, "batchsize");
    RedisModule_ReplyWithLongLong(ctx, m->batchsize);
    RedisModule_ReplyWithCString(ctx, "minbatchsize");
    RedisModule_ReplyWithLongLong(ctx, m->minbatchsize);
    RedisModule_ReplyWithCString(ctx, "inputs");
    strarray_reply(ctx, m->inputs, m->ninputs);
    RedisModule_ReplyWithCString(ctx, "outputs");
    strarray_reply(ctx, m->outputs, m->noutputs);
    RedisModule_ReplyWithCString(ctx, "minbatchtimeout");
    RedisModule_ReplyWithLongLong(ctx, m->minbatchtimeout);
    if (with_blob) {
        RedisModule_ReplyWithCString(ctx, "blob");
        RedisModule_ReplyWithString(ctx, m->blob);
    }
    return REDISMODULE_OK;
}

int model_del_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    const char *err = NULL;
    if (model_lookup(ctx, argv[1], &err) == NULL) return RedisModule_ReplyWithError(ctx, err);
    return key_delete_reply(ctx, argv[1]);
}
