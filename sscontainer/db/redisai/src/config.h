/* Module settings: load-time arguments and AI.CONFIG. */
#ifndef SSCAI_CONFIG_H
#define SSCAI_CONFIG_H

#include "api.h"

extern long long config_model_chunk_size; /* what AI.CONFIG GET MODEL_CHUNK_SIZE answers */
extern long long config_worker_wait_ms;   /* how long a job waits for a missing worker */

/* Apply "NAME value" pairs given after the module path; REDISMODULE_ERR (logged) on
 * an unknown name or a bad value. */
int config_load_args(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
void config_free(void);

int config_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int info_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

#endif
