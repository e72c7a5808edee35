/* Models: a reference-counted module value (type "ssc_model") holding the model's
 * bytes and RedisAI's settings. The module never runs it: the inference worker
 * fetches it (SSC.ASSETGET) and keeps it loaded per version. */
#ifndef SSCAI_MODEL_H
#define SSCAI_MODEL_H

#include <stdatomic.h>

#include "api.h"
#include "args.h"
#include "digest.h"
#include "stats.h"

typedef struct Model {
    atomic_uint refs;
    int backend;
    char device[DEVICE_MAX];
    RedisModuleString *tag; /* NULL: none */
    long long batchsize, minbatchsize, minbatchtimeout;
    int ninputs, noutputs; /* declared names (TF only; 0 otherwise) */
    RedisModuleString **inputs, **outputs;
    RedisModuleString *blob;
    char version[VERSION_LEN + 1];
    RunStats stats;
} Model;

extern RedisModuleType *ModelType;

int model_type_register(RedisModuleCtx *ctx);

/* A model taking ownership of every string given (inputs/outputs arrays included). */
Model *model_new(int backend, const char *device, RedisModuleString *tag, long long batchsize,
                 long long minbatchsize, long long minbatchtimeout, int ninputs,
                 RedisModuleString **inputs, int noutputs, RedisModuleString **outputs,
                 RedisModuleString *blob);
Model *model_ref(Model *m);
void model_unref(Model *m);

/* The model stored at key; NULL with RedisAI's error text in *err. No reference. */
Model *model_lookup(RedisModuleCtx *ctx, RedisModuleString *key, const char **err);

int model_store_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int model_get_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int model_del_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

#endif
