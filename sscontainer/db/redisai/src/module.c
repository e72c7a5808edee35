/* sscai: the RedisAI command surface SmartRedis uses, for Valkey and Redis (>= 7.0).
 *
 * Tensors, models and scripts are module data types; AI.MODELEXECUTE / AI.SCRIPTRUN /
 * AI.SCRIPTEXECUTE queue jobs that sscontainer's Python inference worker takes and
 * reports through the SSC.* commands (../PROTOCOL.md). Load with
 *     loadmodule /path/to/sscai.so [MODEL_CHUNK_SIZE <bytes>] [WORKER_WAIT_MS <ms>]
 */
#include "api.h"
#include "commands.h"
#include "config.h"
#include "jobs.h"
#include "model.h"
#include "script.h"
#include "tensor.h"

#define MODULE_NAME "sscai"
#define MODULE_VERSION 1

typedef struct CommandSpec {
    const char *name;
    RedisModuleCmdFunc handler;
    const char *flags;
    int firstkey, lastkey, keystep;
} CommandSpec;

/* Key positions let a cluster route each command (and answer CROSSSLOT); the run
 * commands report all their keys through getkeys-api. SSC.* take no keys: a worker
 * only ever talks to its own shard. */
static const CommandSpec commands[] = {
    {"ai.tensorset", tensor_set_command, "write deny-oom", 1, 1, 1},
    {"ai.tensorget", tensor_get_command, "readonly", 1, 1, 1},
    {"ai.modelstore", model_store_command, "write deny-oom", 1, 1, 1},
    {"ai.modelget", model_get_command, "readonly", 1, 1, 1},
    {"ai.modeldel", model_del_command, "write", 1, 1, 1},
    {"ai.modelexecute", model_execute_command, "write deny-oom getkeys-api", 1, 1, 1},
    {"ai.scriptset", script_set_command, "write deny-oom", 1, 1, 1},
    {"ai.scriptstore", script_store_command, "write deny-oom", 1, 1, 1},
    {"ai.scriptget", script_get_command, "readonly", 1, 1, 1},
    {"ai.scriptdel", script_del_command, "write", 1, 1, 1},
    {"ai.scriptrun", script_run_command, "write deny-oom getkeys-api", 1, 1, 1},
    {"ai.scriptexecute", script_execute_command, "write deny-oom getkeys-api", 1, 1, 1},
    {"ai.info", info_command, "readonly", 1, 1, 1},
    {"ai.config", config_command, "write", 0, 0, 0},
    {"ssc.jobtake", job_take_command, "", 0, 0, 0},
    {"ssc.assetget", asset_get_command, "readonly", 0, 0, 0},
    {"ssc.jobdone", job_done_command, "write", 0, 0, 0},
    {"ssc.jobfail", job_fail_command, "", 0, 0, 0},
    {"ssc.workers", workers_command, "readonly", 0, 0, 0},
};

static int fail(RedisModuleCtx *ctx, const char *what) {
    RedisModule_Log(ctx, "warning", "sscai: could not %s", what);
    return REDISMODULE_ERR;
}

__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx,
                                                              RedisModuleString **argv, int argc) {
    const char *missing = NULL;
    if (api_init(ctx, &missing) != REDISMODULE_OK) {
        if (RedisModule_Log) {
            RedisModule_Log(ctx, "warning", "sscai: this server has no %s (Redis >= 7.0 or "
                            "Valkey needed)", missing);
        }
        return REDISMODULE_ERR;
    }
    RedisModule_SetModuleAttribs(ctx, MODULE_NAME, MODULE_VERSION, REDISMODULE_APIVER_1);
    if (config_load_args(ctx, argv, argc) != REDISMODULE_OK) return REDISMODULE_ERR;
    if (tensor_type_register(ctx) != REDISMODULE_OK) return fail(ctx, "register type ssctensor");
    if (model_type_register(ctx) != REDISMODULE_OK) return fail(ctx, "register type ssc_model");
    if (script_type_register(ctx) != REDISMODULE_OK) return fail(ctx, "register type sscscript");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const CommandSpec *c = &commands[i];
        if (RedisModule_CreateCommand(ctx, c->name, c->handler, c->flags, c->firstkey, c->lastkey,
                                      c->keystep) != REDISMODULE_OK) {
            return fail(ctx, c->name);
        }
    }
    if (devices_init(ctx) != REDISMODULE_OK) return fail(ctx, "subscribe to client events");
    RedisModule_Log(ctx, "notice", "sscai %d loaded (model chunk size %lld, worker wait %lld ms)",
                    MODULE_VERSION, config_model_chunk_size, config_worker_wait_ms);
    return REDISMODULE_OK;
}
