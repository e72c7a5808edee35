/* Tensors: an immutable, reference-counted module value (type "ssctensor").
 *
 * AI.TENSORSET always makes a new tensor; a queued job holds references to its
 * inputs, so it runs on the values they had when it was queued. The bytes live in
 * a server string (the BLOB argument itself when one was sent: no copy). */
#ifndef SSCAI_TENSOR_H
#define SSCAI_TENSOR_H

#include <stdatomic.h>

#include "api.h"

enum dtype_kind { KIND_FLOAT, KIND_INT, KIND_UINT, KIND_BOOL };

typedef struct DType {
    const char *name;
    size_t size;
    int kind;
} DType;

/* Indexed by dtype code (the code is what RDB files store: append, never reorder). */
extern const DType dtypes[];
extern const int dtype_count;

/* Dimensions a tensor read from an RDB payload or a worker's output may have: far
 * beyond any model, and small enough for a stack array. */
#define MAX_DIMS 1024

typedef struct Tensor {
    atomic_uint refs;
    int dtype;
    int ndims;
    RedisModuleString *blob; /* exactly product(dims) * dtypes[dtype].size bytes */
    long long dims[];
} Tensor;

extern RedisModuleType *TensorType;

int tensor_type_register(RedisModuleCtx *ctx);

/* The dtype an argument names (case-insensitive), or -1. */
int dtype_parse(const RedisModuleString *arg);

/* The byte size of a tensor of this dtype and shape; REDISMODULE_ERR on overflow. */
int tensor_bytes(int dtype, int ndims, const long long *dims, size_t *bytes);

/* A new tensor owning blob (whose length the caller has checked), one reference. */
Tensor *tensor_new(int dtype, int ndims, const long long *dims, RedisModuleString *blob);
Tensor *tensor_ref(Tensor *t);
void tensor_unref(Tensor *t);
const char *tensor_data(const Tensor *t, size_t *len);
size_t tensor_count(const Tensor *t);

/* The tensor stored at key. NULL with *err set to RedisAI's text when the key is
 * empty or holds another type. No reference is taken. */
Tensor *tensor_lookup(RedisModuleCtx *ctx, RedisModuleString *key, const char **err);

/* Whether key may receive a tensor (empty or already a tensor). */
int tensor_key_writable(RedisModuleCtx *ctx, RedisModuleString *key);

/* Set the open (READ|WRITE) key to t, taking over the caller's reference. An existing
 * tensor without a TTL is swapped in place (cheaper than a delete and re-add, and an
 * overwrite is the common case); anything else is replaced. REDISMODULE_ERR if the
 * server refused (t is then still the caller's). */
int tensor_set_key(RedisModuleKey *key, Tensor *t);

/* Store t at key (the key takes over the caller's reference) and propagate it to
 * replicas/AOF as AI.TENSORSET. REDISMODULE_ERR (t released) if it cannot be set. */
int tensor_store(RedisModuleCtx *ctx, RedisModuleString *key, Tensor *t);

/* Reply with [dtype, *dims] pieces: used by TENSORGET and the worker commands. */
int tensor_reply_dims(RedisModuleCtx *ctx, const Tensor *t);

int tensor_set_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int tensor_get_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

#endif
