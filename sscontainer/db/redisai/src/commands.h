/* Command handlers defined in execute.c and worker.c (the others are declared beside
 * their types: tensor.h, model.h, script.h, config.h). */
#ifndef SSCAI_COMMANDS_H
#define SSCAI_COMMANDS_H

#include "api.h"

int model_execute_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int script_run_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int script_execute_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

int job_take_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int asset_get_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int job_done_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int job_fail_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int workers_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

#endif
