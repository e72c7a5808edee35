/* The model value: creation, references, persistence (type "ssc_model"). */
#include "model.h"

#include <string.h>

#include "strarray.h"

#define MODEL_ENCVER 1

RedisModuleType *ModelType = NULL;

static void compute_version(Model *m) {
    uint64_t h = digest_number(0, m->backend);
    h = digest_bytes(h, m->device, strlen(m->device));
    h = digest_string(h, m->tag);
    h = digest_number(h, m->batchsize);
    h = digest_number(h, m->minbatchsize);
    h = digest_number(h, m->minbatchtimeout);
    h = digest_number(h, m->ninputs);
    for (int i = 0; i < m->ninputs; i++) h = digest_string(h, m->inputs[i]);
    h = digest_number(h, m->noutputs);
    for (int i = 0; i < m->noutputs; i++) h = digest_string(h, m->outputs[i]);
    h = digest_string(h, m->blob);
    digest_format(h, m->version);
}

Model *model_new(int backend, const char *device, RedisModuleString *tag, long long batchsize,
                 long long minbatchsize, long long minbatchtimeout, int ninputs,
                 RedisModuleString **inputs, int noutputs, RedisModuleString **outputs,
                 RedisModuleString *blob) {
    Model *m = RedisModule_Calloc(1, sizeof *m);
    atomic_init(&m->refs, 1);
    m->backend = backend;
    memcpy(m->device, device, strlen(device) + 1);
    m->tag = tag;
    m->batchsize = batchsize;
    m->minbatchsize = minbatchsize;
    m->minbatchtimeout = minbatchtimeout;
    m->ninputs = ninputs;
    m->inputs = inputs;
    m->noutputs = noutputs;
    m->outputs = outputs;
    m->blob = blob;
    compute_version(m);
    return m;
}

Model *model_ref(Model *m) {
    atomic_fetch_add(&m->refs, 1);
    return m;
}

void model_unref(Model *m) {
    if (m == NULL || atomic_fetch_sub(&m->refs, 1) != 1) return;
    if (m->tag) RedisModule_FreeString(NULL, m->tag);
    strarray_free(m->inputs, m->ninputs);
    strarray_free(m->outputs, m->noutputs);
    RedisModule_FreeString(NULL, m->blob);
    RedisModule_Free(m);
}

Model *model_lookup(RedisModuleCtx *ctx, RedisModuleString *key, const char **err) {
    return key_lookup(ctx, key, ModelType, "ERR model key is empty", err);
}

/* --- type methods -------------------------------------------------------------------- */

static void model_rdb_save(RedisModuleIO *io, void *value) {
    const Model *m = value;
    RedisModule_SaveUnsigned(io, (uint64_t)m->backend);
    RedisModule_SaveStringBuffer(io, m->device, strlen(m->device));
    RedisModule_SaveUnsigned(io, m->tag != NULL);
    if (m->tag) RedisModule_SaveString(io, m->tag);
    RedisModule_SaveSigned(io, m->batchsize);
    RedisModule_SaveSigned(io, m->minbatchsize);
    RedisModule_SaveSigned(io, m->minbatchtimeout);
    strarray_save(io, m->inputs, m->ninputs);
    strarray_save(io, m->outputs, m->noutputs);
    RedisModule_SaveString(io, m->blob);
}

static void *model_rdb_load(RedisModuleIO *io, int encver) {
    if (encver != MODEL_ENCVER) return NULL; /* not an encoding this module wrote */
    uint64_t backend = RedisModule_LoadUnsigned(io);
    char dev[DEVICE_MAX];
    /* the device is read before the backend is judged: the stream's order */
    if (load_device(io, dev) != REDISMODULE_OK || backend >= BACKEND_COUNT) return NULL;
    RedisModuleString *tag = RedisModule_LoadUnsigned(io) ? RedisModule_LoadString(io) : NULL;
    long long batch = RedisModule_LoadSigned(io), minbatch = RedisModule_LoadSigned(io);
    long long mintimeout = RedisModule_LoadSigned(io);
    int nin = 0, nout = 0;
    RedisModuleString **inputs = strarray_load(io, &nin);
    RedisModuleString **outputs = inputs ? strarray_load(io, &nout) : NULL;
    if (inputs == NULL || outputs == NULL) {
        if (tag) RedisModule_FreeString(NULL, tag);
        if (inputs) strarray_free(inputs, nin);
        return NULL;
    }
    RedisModuleString *blob = RedisModule_LoadString(io);
    return model_new((int)backend, dev, tag, batch, minbatch, mintimeout, nin, inputs, nout,
                     outputs, blob);
}

/* Arguments of the AI.MODELSTORE that recreates m (for the AOF). */
/* Most words of an AI.MODELSTORE besides the names: key, backend, device, four options with
 * their values, INPUTS n OUTPUTS n, BLOB and the blob. */
#define STORE_WORDS 17

static RedisModuleString **store_args(RedisModuleString *key, const Model *m, size_t *n) {
    RedisModuleString **args = RedisModule_Calloc(
        STORE_WORDS + (size_t)m->ninputs + (size_t)m->noutputs, sizeof *args);
    size_t i = 0;
    const char *backend = backend_name(m->backend);
    args[i++] = RedisModule_HoldString(NULL, key);
    args[i++] = RedisModule_CreateString(NULL, backend, strlen(backend));
    args[i++] = RedisModule_CreateString(NULL, m->device, strlen(m->device));
    if (m->tag) {
        args[i++] = RedisModule_CreateString(NULL, "TAG", 3);
        args[i++] = RedisModule_HoldString(NULL, m->tag);
    }
    if (m->batchsize) {
        args[i++] = RedisModule_CreateString(NULL, "BATCHSIZE", 9);
        args[i++] = RedisModule_CreateStringFromLongLong(NULL, m->batchsize);
    }
    if (m->minbatchsize) {
        args[i++] = RedisModule_CreateString(NULL, "MINBATCHSIZE", 12);
        args[i++] = RedisModule_CreateStringFromLongLong(NULL, m->minbatchsize);
    }
    if (m->minbatchtimeout) {
        args[i++] = RedisModule_CreateString(NULL, "MINBATCHTIMEOUT", 15);
        args[i++] = RedisModule_CreateStringFromLongLong(NULL, m->minbatchtimeout);
    }
    if (m->ninputs || m->noutputs) {
        args[i++] = RedisModule_CreateString(NULL, "INPUTS", 6);
        args[i++] = RedisModule_CreateStringFromLongLong(NULL, m->ninputs);
        for (int j = 0; j < m->ninputs; j++) args[i++] = RedisModule_HoldString(NULL, m->inputs[j]);
        args[i++] = RedisModule_CreateString(NULL, "OUTPUTS", 7);
        args[i++] = RedisModule_CreateStringFromLongLong(NULL, m->noutputs);
        for (int j = 0; j < m->noutputs; j++) args[i++] = RedisModule_HoldString(NULL, m->outputs[j]);
    }
    args[i++] = RedisModule_CreateString(NULL, "BLOB", 4);
    args[i++] = RedisModule_HoldString(NULL, m->blob);
    *n = i;
    return args;
}

static void model_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    size_t n;
    RedisModuleString **args = store_args(key, value, &n);
    RedisModule_EmitAOF(aof, "AI.MODELSTORE", "v", args, n);
    strarray_free(args, (int)n);
}

static size_t model_mem_usage(const void *value) {
    const Model *m = value;
    size_t len;
    RedisModule_StringPtrLen(m->blob, &len);
    return sizeof *m + len + strarray_mem(m->inputs, m->ninputs) +
           strarray_mem(m->outputs, m->noutputs);
}

static void model_free(void *value) { model_unref(value); }

/* COPY makes an independent model (its own statistics, as a fresh store would). */
static void *model_copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    (void)from;
    (void)to;
    const Model *m = value;
    return model_new(m->backend, m->device, m->tag ? string_copy(m->tag) : NULL, m->batchsize,
                     m->minbatchsize, m->minbatchtimeout, m->ninputs,
                     strarray_copy(m->inputs, m->ninputs), m->noutputs,
                     strarray_copy(m->outputs, m->noutputs), string_copy(m->blob));
}

int model_type_register(RedisModuleCtx *ctx) {
    RedisModuleTypeMethods methods = {
        .version = REDISMODULE_TYPE_METHOD_VERSION,
        .rdb_load = model_rdb_load,
        .rdb_save = model_rdb_save,
        .aof_rewrite = model_aof_rewrite,
        .mem_usage = model_mem_usage,
        .free = model_free,
        .copy = model_copy,
    };
    ModelType = RedisModule_CreateDataType(ctx, "ssc_model", MODEL_ENCVER, &methods);
    return ModelType != NULL ? REDISMODULE_OK : REDISMODULE_ERR;
}
