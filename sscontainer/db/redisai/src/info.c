/* Module settings (load-time arguments, AI.CONFIG) and run statistics (AI.INFO). */
#include <string.h>

#include "args.h"
#include "config.h"
#include "model.h"
#include "script.h"

long long config_model_chunk_size = 535822336; /* RedisAI's default, 511 MiB */
long long config_worker_wait_ms = 10000;
static char *backends_path = NULL; /* accepted for RedisAI compatibility, unused */

/* RedisAI's load-time settings: accepted so a RedisAI command line loads, but the
 * inference worker, not the module, runs the backends. */
static const char *const ignored_settings[] = {
    "BACKENDSPATH", "THREADS_PER_QUEUE", "INTRA_OP_PARALLELISM", "INTER_OP_PARALLELISM",
    "MODEL_EXECUTION_TIMEOUT", "BACKEND_MEMORY_LIMIT", "TF", "TFLITE", "TORCH", "ONNX", NULL,
};

static void set_backends_path(const RedisModuleString *value) {
    size_t len;
    const char *text = RedisModule_StringPtrLen(value, &len);
    RedisModule_Free(backends_path);
    backends_path = RedisModule_Alloc(len + 1);
    memcpy(backends_path, text, len);
    backends_path[len] = '\0';
}

static int is_ignored(const RedisModuleString *name) {
    for (int i = 0; ignored_settings[i]; i++) {
        if (arg_is(name, ignored_settings[i])) return 1;
    }
    return 0;
}

int config_load_args(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc % 2 != 0) {
        RedisModule_Log(ctx, "warning", "sscai: load arguments come in NAME VALUE pairs");
        return REDISMODULE_ERR;
    }
    for (int i = 0; i < argc; i += 2) {
        const char *name = RedisModule_StringPtrLen(argv[i], NULL);
        int status = REDISMODULE_OK;
        if (arg_is(argv[i], "MODEL_CHUNK_SIZE")) {
            status = arg_positive(argv[i + 1], &config_model_chunk_size);
        } else if (arg_is(argv[i], "WORKER_WAIT_MS")) {
            status = arg_positive(argv[i + 1], &config_worker_wait_ms);
        } else if (arg_is(argv[i], "BACKENDSPATH")) {
            set_backends_path(argv[i + 1]);
        } else if (is_ignored(argv[i])) {
            RedisModule_Log(ctx, "notice", "sscai: %s is a RedisAI setting with no effect here",
                            name);
        } else {
            RedisModule_Log(ctx, "warning",
                            "sscai: unknown load argument %s (use MODEL_CHUNK_SIZE or "
                            "WORKER_WAIT_MS)", name);
            return REDISMODULE_ERR;
        }
        if (status != REDISMODULE_OK) {
            RedisModule_Log(ctx, "warning", "sscai: %s needs a positive integer, got %s", name,
                            RedisModule_StringPtrLen(argv[i + 1], NULL));
            return REDISMODULE_ERR;
        }
    }
    return REDISMODULE_OK;
}

void config_free(void) {
    RedisModule_Free(backends_path);
    backends_path = NULL;
}

static int config_get(RedisModuleCtx *ctx, const RedisModuleString *name) {
    if (arg_is(name, "MODEL_CHUNK_SIZE")) {
        return RedisModule_ReplyWithLongLong(ctx, config_model_chunk_size);
    }
    if (arg_is(name, "BACKENDSPATH")) {
        return RedisModule_ReplyWithCString(ctx, backends_path ? backends_path : "");
    }
    return RedisModule_ReplyWithNull(ctx);
}

/* AI.CONFIG MODEL_CHUNK_SIZE <n> | GET <name> | BACKENDSPATH <path> |
 *           LOADBACKEND <backend> <path> */
int config_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2) return RedisModule_WrongArity(ctx);
    const RedisModuleString *sub = argv[1];
    if (arg_is(sub, "LOADBACKEND")) {
        if (argc < 4) return RedisModule_WrongArity(ctx);
        if (backend_parse(argv[2]) < 0) return RedisModule_ReplyWithError(ctx, "ERR unsupported backend");
        return RedisModule_ReplyWithSimpleString(ctx, "OK"); /* the worker loads backends */
    }
    if (arg_is(sub, "BACKENDSPATH")) {
        if (argc < 3) return RedisModule_ReplyWithError(ctx, "ERR BACKENDSPATH: missing path argument");
        set_backends_path(argv[2]);
        return RedisModule_ReplyWithSimpleString(ctx, "OK");
    }
    if (arg_is(sub, "MODEL_CHUNK_SIZE")) {
        if (argc < 3) return RedisModule_ReplyWithError(ctx, "ERR MODEL_CHUNK_SIZE: missing chunk size");
        if (arg_positive(argv[2], &config_model_chunk_size) != REDISMODULE_OK) {
            return RedisModule_ReplyWithError(ctx, "ERR MODEL_CHUNK_SIZE: invalid chunk size");
        }
        return RedisModule_ReplyWithSimpleString(ctx, "OK");
    }
    if (arg_is(sub, "GET")) {
        if (argc < 3) return RedisModule_WrongArity(ctx);
        return config_get(ctx, argv[2]);
    }
    return RedisModule_ReplyWithError(ctx, "ERR unsupported subcommand");
}

/* AI.INFO <key> [RESETSTAT] */
int info_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 3) return RedisModule_WrongArity(ctx);
    const char *ignored;
    Model *m = model_lookup(ctx, argv[1], &ignored);
    Script *s = m ? NULL : script_lookup(ctx, argv[1], &ignored);
    if (m == NULL && s == NULL) {
        return RedisModule_ReplyWithError(ctx, "ERR cannot find run info for key");
    }
    RunStats *stats = m ? &m->stats : &s->stats;
    if (argc == 3 && arg_is(argv[2], "RESETSTAT")) {
        memset(stats, 0, sizeof *stats);
        return RedisModule_ReplyWithSimpleString(ctx, "OK");
    }
    RedisModuleString *tag = m ? m->tag : s->tag;
    RedisModule_ReplyWithArray(ctx, 18);
    RedisModule_ReplyWithCString(ctx, "key");
    RedisModule_ReplyWithString(ctx, argv[1]);
    RedisModule_ReplyWithCString(ctx, "type");
    RedisModule_ReplyWithCString(ctx, m ? "MODEL" : "SCRIPT");
    RedisModule_ReplyWithCString(ctx, "backend");
    RedisModule_ReplyWithCString(ctx, backend_name(m ? m->backend : BACKEND_TORCH));
    RedisModule_ReplyWithCString(ctx, "device");
    RedisModule_ReplyWithCString(ctx, m ? m->device : s->device);
    RedisModule_ReplyWithCString(ctx, "tag");
    reply_string_or_empty(ctx, tag);
    RedisModule_ReplyWithCString(ctx, "duration");
    RedisModule_ReplyWithLongLong(ctx, stats->duration_us);
    RedisModule_ReplyWithCString(ctx, "samples");
    RedisModule_ReplyWithLongLong(ctx, m ? stats->samples : -1);
    RedisModule_ReplyWithCString(ctx, "calls");
    RedisModule_ReplyWithLongLong(ctx, stats->calls);
    RedisModule_ReplyWithCString(ctx, "errors");
    return RedisModule_ReplyWithLongLong(ctx, stats->errors);
}
