/* The tensor value: creation, references, persistence (type "ssctensor"). */
#include "tensor.h"

#include <stdio.h>
#include <string.h>

#include "args.h"
#include "strarray.h"

#define TENSOR_ENCVER 1

const DType dtypes[] = {
    {"FLOAT", 4, KIND_FLOAT}, {"DOUBLE", 8, KIND_FLOAT}, {"INT8", 1, KIND_INT},
    {"INT16", 2, KIND_INT},   {"INT32", 4, KIND_INT},    {"INT64", 8, KIND_INT},
    {"UINT8", 1, KIND_UINT},  {"UINT16", 2, KIND_UINT},  {"BOOL", 1, KIND_BOOL},
};
const int dtype_count = (int)(sizeof dtypes / sizeof dtypes[0]);

RedisModuleType *TensorType = NULL;

int dtype_parse(const RedisModuleString *arg) {
    for (int i = 0; i < dtype_count; i++) {
        if (arg_is(arg, dtypes[i].name)) return i;
    }
    return -1;
}

int tensor_bytes(int dtype, int ndims, const long long *dims, size_t *bytes) {
    size_t total = dtypes[dtype].size;
    for (int i = 0; i < ndims; i++) {
        if (dims[i] <= 0 || __builtin_mul_overflow(total, (size_t)dims[i], &total)) {
            return REDISMODULE_ERR;
        }
    }
    *bytes = total;
    return REDISMODULE_OK;
}

Tensor *tensor_new(int dtype, int ndims, const long long *dims, RedisModuleString *blob) {
    Tensor *t = RedisModule_Alloc(sizeof(Tensor) + (size_t)ndims * sizeof(long long));
    atomic_init(&t->refs, 1);
    t->dtype = dtype;
    t->ndims = ndims;
    t->blob = blob;
    if (ndims > 0) memcpy(t->dims, dims, (size_t)ndims * sizeof(long long));
    return t;
}

Tensor *tensor_ref(Tensor *t) {
    atomic_fetch_add(&t->refs, 1);
    return t;
}

/* May run in a lazy-free thread (FLUSHALL ASYNC): the count is atomic, and the
 * string is freed only by its last holder. */
void tensor_unref(Tensor *t) {
    if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1) return;
    RedisModule_FreeString(NULL, t->blob);
    RedisModule_Free(t);
}

const char *tensor_data(const Tensor *t, size_t *len) {
    return RedisModule_StringPtrLen(t->blob, len);
}

size_t tensor_count(const Tensor *t) {
    size_t count = 1;
    for (int i = 0; i < t->ndims; i++) count *= (size_t)t->dims[i];
    return count;
}

Tensor *tensor_lookup(RedisModuleCtx *ctx, RedisModuleString *key, const char **err) {
    return key_lookup(ctx, key, TensorType, "ERR tensor key is empty or in a different shard", err);
}

int tensor_key_writable(RedisModuleCtx *ctx, RedisModuleString *key) {
    return key_empty_or(ctx, key, TensorType);
}

/* Dims as strings, for AI.TENSORSET in the replication stream and the AOF. */
static RedisModuleString **dim_strings(const Tensor *t) {
    RedisModuleString **dims = RedisModule_Calloc((size_t)t->ndims + 1, sizeof *dims);
    for (int i = 0; i < t->ndims; i++) dims[i] = RedisModule_CreateStringFromLongLong(NULL, t->dims[i]);
    return dims;
}

int tensor_set_key(RedisModuleKey *key, Tensor *t) {
    if (key_holds(key, TensorType) && RedisModule_GetExpire(key) == REDISMODULE_NO_EXPIRE) {
        void *old = NULL;
        if (RedisModule_ModuleTypeReplaceValue(key, TensorType, t, &old) == REDISMODULE_OK) {
            tensor_unref(old);
            return REDISMODULE_OK;
        }
    }
    return RedisModule_ModuleTypeSetValue(key, TensorType, t);
}

/* Set key to t (the key takes over the caller's reference); REDISMODULE_ERR (t
 * released) if it cannot be set. Nothing is propagated. */
static int tensor_put(RedisModuleCtx *ctx, RedisModuleString *key, Tensor *t) {
    RedisModuleKey *k = RedisModule_OpenKey(ctx, key, REDISMODULE_READ | REDISMODULE_WRITE);
    int status = tensor_set_key(k, t);
    RedisModule_CloseKey(k);
    if (status != REDISMODULE_OK) tensor_unref(t);
    return status;
}

int tensor_store(RedisModuleCtx *ctx, RedisModuleString *key, Tensor *t) {
    if (tensor_put(ctx, key, t) != REDISMODULE_OK) return REDISMODULE_ERR;
    RedisModuleString **dims = dim_strings(t);
    RedisModule_Replicate(ctx, "AI.TENSORSET", "scvcs", key, dtypes[t->dtype].name, dims,
                          (size_t)t->ndims, "BLOB", t->blob);
    strarray_free(dims, t->ndims);
    return REDISMODULE_OK;
}

int tensor_reply_dims(RedisModuleCtx *ctx, const Tensor *t) {
    RedisModule_ReplyWithArray(ctx, t->ndims);
    for (int i = 0; i < t->ndims; i++) RedisModule_ReplyWithLongLong(ctx, t->dims[i]);
    return REDISMODULE_OK;
}

/* --- type methods -------------------------------------------------------------------- */

static void *tensor_rdb_load(RedisModuleIO *io, int encver) {
    if (encver != TENSOR_ENCVER) return NULL; /* not an encoding this module wrote */
    uint64_t dtype = RedisModule_LoadUnsigned(io);
    uint64_t ndims = RedisModule_LoadUnsigned(io);
    if (dtype >= (uint64_t)dtype_count || ndims > MAX_DIMS) return NULL;
    long long dims[MAX_DIMS];
    for (uint64_t i = 0; i < ndims; i++) dims[i] = RedisModule_LoadSigned(io);
    RedisModuleString *blob = RedisModule_LoadString(io);
    size_t expected, len;
    RedisModule_StringPtrLen(blob, &len);
    if (tensor_bytes((int)dtype, (int)ndims, dims, &expected) != REDISMODULE_OK ||
        expected != len) {
        RedisModule_FreeString(NULL, blob);
        return NULL;
    }
    return tensor_new((int)dtype, (int)ndims, dims, blob);
}

static void tensor_rdb_save(RedisModuleIO *io, void *value) {
    const Tensor *t = value;
    RedisModule_SaveUnsigned(io, (uint64_t)t->dtype);
    RedisModule_SaveUnsigned(io, (uint64_t)t->ndims);
    for (int i = 0; i < t->ndims; i++) RedisModule_SaveSigned(io, t->dims[i]);
    RedisModule_SaveString(io, t->blob);
}

static void tensor_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    const Tensor *t = value;
    RedisModuleString **dims = dim_strings(t);
    RedisModule_EmitAOF(aof, "AI.TENSORSET", "scvcs", key, dtypes[t->dtype].name, dims,
                        (size_t)t->ndims, "BLOB", t->blob);
    strarray_free(dims, t->ndims);
}

static size_t tensor_mem_usage(const void *value) {
    const Tensor *t = value;
    size_t len;
    RedisModule_StringPtrLen(t->blob, &len);
    return sizeof(Tensor) + (size_t)t->ndims * sizeof(long long) + len;
}

static void tensor_free(void *value) { tensor_unref(value); }

/* Tensors never change, so a copy (COPY) shares the value. */
static void *tensor_copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    (void)from;
    (void)to;
    return tensor_ref((Tensor *)value);
}

int tensor_type_register(RedisModuleCtx *ctx) {
    RedisModuleTypeMethods methods = {
        .version = REDISMODULE_TYPE_METHOD_VERSION,
        .rdb_load = tensor_rdb_load,
        .rdb_save = tensor_rdb_save,
        .aof_rewrite = tensor_aof_rewrite,
        .mem_usage = tensor_mem_usage,
        .free = tensor_free,
        .copy = tensor_copy,
    };
    TensorType = RedisModule_CreateDataType(ctx, "ssctensor", TENSOR_ENCVER, &methods);
    return TensorType != NULL ? REDISMODULE_OK : REDISMODULE_ERR;
}
