/* AI.TENSORSET and AI.TENSORGET, with RedisAI's arguments, replies and error texts. */
#include <stdint.h>
#include <string.h>

#include "args.h"
#include "tensor.h"

enum { FMT_NONE = 0, FMT_META = 1, FMT_BLOB = 2, FMT_VALUES = 4 };

/* A tensor made without data (AI.TENSORSET k FLOAT 2 2) is zero-filled; this bounds
 * what such a request may allocate. */
#define MAX_ZERO_TENSOR_BYTES ((size_t)1 << 30)

static size_t saturating_mul(size_t a, long long b) {
    size_t out;
    return __builtin_mul_overflow(a, (size_t)b, &out) ? SIZE_MAX : out;
}

/* Store one VALUES argument at element i of buf. */
static int set_value(const RedisModuleString *arg, int dtype, char *buf, size_t i) {
    const DType *type = &dtypes[dtype];
    char *at = buf + i * type->size;
    if (type->kind == KIND_FLOAT) {
        double d;
        if (RedisModule_StringToDouble(arg, &d) != REDISMODULE_OK) return REDISMODULE_ERR;
        if (type->size == 4) {
            float f = (float)d;
            memcpy(at, &f, sizeof f);
        } else {
            memcpy(at, &d, sizeof d);
        }
        return REDISMODULE_OK;
    }
    long long v;
    if (RedisModule_StringToLongLong(arg, &v) != REDISMODULE_OK) return REDISMODULE_ERR;
    int bits = (int)type->size * 8;
    if (type->kind == KIND_BOOL && (v < 0 || v > 1)) return REDISMODULE_ERR;
    if (type->kind == KIND_UINT && (v < 0 || v >= (1LL << bits))) return REDISMODULE_ERR;
    if (type->kind == KIND_INT && bits < 64 &&
        (v >= (1LL << (bits - 1)) || v < -(1LL << (bits - 1)))) {
        return REDISMODULE_ERR;
    }
    /* little-endian hosts: the low bytes of v are the narrower integer */
    memcpy(at, &v, type->size);
    return REDISMODULE_OK;
}

static RedisModuleString *values_blob(RedisModuleString **args, size_t n, int dtype,
                                      size_t bytes, const char **err) {
    char *buf = RedisModule_Calloc(1, bytes ? bytes : 1);
    for (size_t i = 0; i < n; i++) {
        if (set_value(args[i], dtype, buf, i) != REDISMODULE_OK) {
            RedisModule_Free(buf);
            *err = "ERR invalid value";
            return NULL;
        }
    }
    RedisModuleString *blob = RedisModule_CreateString(NULL, buf, bytes);
    RedisModule_Free(buf);
    return blob;
}

static RedisModuleString *zero_blob(size_t bytes, const char **err) {
    if (bytes > MAX_ZERO_TENSOR_BYTES) {
        *err = "ERR a tensor over 1 GiB cannot be created without data: send it with BLOB";
        return NULL;
    }
    char *buf = RedisModule_Calloc(1, bytes ? bytes : 1);
    RedisModuleString *blob = RedisModule_CreateString(NULL, buf, bytes);
    RedisModule_Free(buf);
    return blob;
}

/* AI.TENSORSET <key> <dtype> <d1> ... [BLOB <bytes> | VALUES <v1> ...] */
#define STACK_DIMS 16 /* shapes this short are parsed without an allocation */

static Tensor *parse_tensorset(RedisModuleString **argv, int argc, const char **err) {
    int dtype = dtype_parse(argv[2]);
    if (dtype < 0) {
        *err = "ERR invalid data type";
        return NULL;
    }
    long long stack[STACK_DIMS];
    long long *dims = argc <= STACK_DIMS ? stack : RedisModule_Alloc(sizeof(long long) * (size_t)argc);
    int ndims = 0, fmt = FMT_NONE, pos = 3;
    size_t count = 1;
    for (; pos < argc; pos++) {
        if (arg_is(argv[pos], "BLOB")) {
            fmt = FMT_BLOB;
            if (argc - 1 - pos != 1) {
                *err = "ERR a single binary string should come after the BLOB argument in "
                       "'AI.TENSORSET' command";
                goto fail;
            }
            pos++;
            break;
        }
        if (arg_is(argv[pos], "VALUES")) {
            fmt = FMT_VALUES;
            if ((size_t)(argc - 1 - pos) != count) {
                *err = "ERR wrong number of values was given in 'AI.TENSORSET' command";
                goto fail;
            }
            pos++;
            break;
        }
        long long dim;
        if (RedisModule_StringToLongLong(argv[pos], &dim) != REDISMODULE_OK || dim <= 0) {
            *err = "ERR invalid or negative value found in tensor shape";
            goto fail;
        }
        dims[ndims++] = dim;
        count = saturating_mul(count, dim);
    }
    size_t bytes = 0;
    int sized = tensor_bytes(dtype, ndims, dims, &bytes) == REDISMODULE_OK;
    RedisModuleString *blob = NULL;
    if (fmt == FMT_BLOB) {
        size_t len;
        RedisModule_StringPtrLen(argv[pos], &len);
        if (!sized || len != bytes) {
            *err = "ERR data length does not match tensor shape and type";
            goto fail;
        }
        blob = RedisModule_HoldString(NULL, argv[pos]);
    } else if (!sized) {
        *err = "ERR data length does not match tensor shape and type";
        goto fail;
    } else if (fmt == FMT_VALUES) {
        blob = values_blob(argv + pos, count, dtype, bytes, err);
    } else {
        blob = zero_blob(bytes, err);
    }
    if (blob == NULL) goto fail;
    Tensor *t = tensor_new(dtype, ndims, dims, blob);
    if (dims != stack) RedisModule_Free(dims);
    return t;
fail:
    if (dims != stack) RedisModule_Free(dims);
    return NULL;
}

int tensor_set_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4) return RedisModule_WrongArity(ctx);
    /* one key handle for the type check and the write: this is the hot path */
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    if (RedisModule_KeyType(key) != REDISMODULE_KEYTYPE_EMPTY && !key_holds(key, TensorType)) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    }
    const char *err = NULL;
    Tensor *t = parse_tensorset(argv, argc, &err);
    int status = t ? tensor_set_key(key, t) : REDISMODULE_ERR;
    RedisModule_CloseKey(key);
    if (t == NULL) return RedisModule_ReplyWithError(ctx, err);
    if (status != REDISMODULE_OK) {
        tensor_unref(t);
        return RedisModule_ReplyWithError(ctx, "ERR could not save tensor");
    }
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* META / BLOB / VALUES flags from the arguments after the key (none: META BLOB). */
static int parse_format(RedisModuleString **argv, int argc, const char **err) {
    if (argc == 2) return FMT_META | FMT_BLOB;
    int fmt = FMT_NONE;
    for (int i = 2; i < argc; i++) {
        if (arg_is(argv[i], "META")) {
            fmt |= FMT_META;
        } else if (arg_is(argv[i], "BLOB")) {
            fmt |= FMT_BLOB;
        } else if (arg_is(argv[i], "VALUES")) {
            fmt |= FMT_VALUES;
        } else {
            *err = "ERR unsupported data format";
            return FMT_NONE;
        }
    }
    if ((fmt & FMT_BLOB) && (fmt & FMT_VALUES)) {
        *err = "ERR both BLOB and VALUES specified";
        return FMT_NONE;
    }
    return fmt;
}

static int reply_values(RedisModuleCtx *ctx, const Tensor *t) {
    const DType *type = &dtypes[t->dtype];
    size_t n = tensor_count(t), len;
    const char *data = tensor_data(t, &len);
    RedisModule_ReplyWithArray(ctx, (long)n);
    for (size_t i = 0; i < n; i++) {
        const char *at = data + i * type->size;
        if (type->kind == KIND_FLOAT) {
            double d;
            if (type->size == 4) {
                float f;
                memcpy(&f, at, sizeof f);
                d = f;
            } else {
                memcpy(&d, at, sizeof d);
            }
            RedisModule_ReplyWithDouble(ctx, d);
            continue;
        }
        long long v = 0;
        switch (type->size) {
        case 1: v = type->kind == KIND_INT ? (long long)*(const int8_t *)at : *(const uint8_t *)at; break;
        case 2: {
            int16_t s;
            uint16_t u;
            memcpy(&s, at, 2);
            memcpy(&u, at, 2);
            v = type->kind == KIND_INT ? s : u;
            break;
        }
        case 4: {
            int32_t s;
            memcpy(&s, at, 4);
            v = s;
            break;
        }
        default: memcpy(&v, at, 8); break;
        }
        RedisModule_ReplyWithLongLong(ctx, v);
    }
    return REDISMODULE_OK;
}

int tensor_get_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 4) return RedisModule_WrongArity(ctx);
    const char *err = NULL;
    Tensor *t = tensor_lookup(ctx, argv[1], &err);
    if (t == NULL) return RedisModule_ReplyWithError(ctx, err);
    int fmt = parse_format(argv, argc, &err);
    if (fmt == FMT_NONE) return RedisModule_ReplyWithError(ctx, err);
    if (!(fmt & FMT_META)) {
        if (fmt & FMT_BLOB) return RedisModule_ReplyWithString(ctx, t->blob);
        return reply_values(ctx, t);
    }
    RedisModule_ReplyWithArray(ctx, (fmt & (FMT_BLOB | FMT_VALUES)) ? 6 : 4);
    RedisModule_ReplyWithCString(ctx, "dtype");
    RedisModule_ReplyWithCString(ctx, dtypes[t->dtype].name);
    RedisModule_ReplyWithCString(ctx, "shape");
    tensor_reply_dims(ctx, t);
    if (fmt & FMT_BLOB) {
        RedisModule_ReplyWithCString(ctx, "blob");
        return RedisModule_ReplyWithString(ctx, t->blob);
    }
    if (fmt & FMT_VALUES) {
        RedisModule_ReplyWithCString(ctx, "values");
        return reply_values(ctx, t);
    }
    return REDISMODULE_OK;
}
