/* Helpers the commands share: reading arguments (keywords, counts, backends, devices),
 * looking keys up, and error texts. */
#include "args.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const backend_names[BACKEND_COUNT] = {"TF", "TFLITE", "TORCH", "ONNX"};

int arg_is(const RedisModuleString *arg, const char *word) {
    size_t len;
    const char *text = RedisModule_StringPtrLen(arg, &len);
    return len == strlen(word) && strncasecmp(text, word, len) == 0;
}

int backend_parse(const RedisModuleString *arg) {
    for (int i = 0; i < BACKEND_COUNT; i++) {
        if (arg_is(arg, backend_names[i])) return i;
    }
    return -1;
}

const char *backend_name(int backend) {
    return backend >= 0 && backend < BACKEND_COUNT ? backend_names[backend] : "UNKNOWN";
}

int device_parse(const RedisModuleString *arg, char out[DEVICE_MAX]) {
    size_t len;
    const char *text = RedisModule_StringPtrLen(arg, &len);
    if (len < 3 || len >= 10) return REDISMODULE_ERR;
    if (strncasecmp(text, "CPU", 3) != 0 && strncasecmp(text, "GPU", 3) != 0) {
        return REDISMODULE_ERR;
    }
    if (len > 3) {
        if (text[3] != ':' || len == 4) return REDISMODULE_ERR;
        for (size_t i = 4; i < len; i++) {
            if (!isdigit((unsigned char)text[i])) return REDISMODULE_ERR;
        }
    }
    for (size_t i = 0; i < len; i++) out[i] = (char)toupper((unsigned char)text[i]);
    out[len] = '\0';
    return REDISMODULE_OK;
}

int load_device(RedisModuleIO *io, char out[DEVICE_MAX]) {
    size_t len;
    char *device = RedisModule_LoadStringBuffer(io, &len);
    int ok = len > 0 && len < DEVICE_MAX;
    if (ok) {
        memcpy(out, device, len);
        out[len] = '\0';
    }
    RedisModule_Free(device);
    return ok ? REDISMODULE_OK : REDISMODULE_ERR;
}

void device_queue(const char *device, char out[DEVICE_MAX]) {
    if (strncmp(device, "CPU", 3) == 0) {
        snprintf(out, DEVICE_MAX, "CPU");
    } else if (strcmp(device, "GPU") == 0) {
        snprintf(out, DEVICE_MAX, "GPU:0");
    } else {
        snprintf(out, DEVICE_MAX, "%s", device);
    }
}

int arg_unsigned(const RedisModuleString *arg, long long *out) {
    long long value;
    if (RedisModule_StringToLongLong(arg, &value) != REDISMODULE_OK || value < 0) {
        return REDISMODULE_ERR;
    }
    *out = value;
    return REDISMODULE_OK;
}

int arg_positive(const RedisModuleString *arg, long long *out) {
    long long value;
    if (RedisModule_StringToLongLong(arg, &value) != REDISMODULE_OK || value <= 0) {
        return REDISMODULE_ERR;
    }
    *out = value;
    return REDISMODULE_OK;
}

int key_holds(RedisModuleKey *key, RedisModuleType *type) {
    return RedisModule_KeyType(key) == REDISMODULE_KEYTYPE_MODULE &&
           RedisModule_ModuleTypeGetType(key) == type;
}

int key_empty_or(RedisModuleCtx *ctx, RedisModuleString *key, RedisModuleType *type) {
    RedisModuleKey *k = RedisModule_OpenKey(ctx, key, REDISMODULE_READ);
    int ok = RedisModule_KeyType(k) == REDISMODULE_KEYTYPE_EMPTY || key_holds(k, type);
    RedisModule_CloseKey(k);
    return ok;
}

void *key_lookup(RedisModuleCtx *ctx, RedisModuleString *key, RedisModuleType *type,
                 const char *empty_error, const char **err) {
    RedisModuleKey *k = RedisModule_OpenKey(ctx, key, REDISMODULE_READ);
    void *value = NULL;
    if (RedisModule_KeyType(k) == REDISMODULE_KEYTYPE_EMPTY) {
        *err = empty_error;
    } else if (!key_holds(k, type)) {
        *err = REDISMODULE_ERRORMSG_WRONGTYPE;
    } else {
        value = RedisModule_ModuleTypeGetValue(k);
    }
    RedisModule_CloseKey(k);
    return value;
}

int reply_string_or_empty(RedisModuleCtx *ctx, RedisModuleString *s) {
    return s ? RedisModule_ReplyWithString(ctx, s) : RedisModule_ReplyWithCString(ctx, "");
}

int key_delete_reply(RedisModuleCtx *ctx, RedisModuleString *key) {
    RedisModuleKey *k = RedisModule_OpenKey(ctx, key, REDISMODULE_READ | REDISMODULE_WRITE);
    RedisModule_DeleteKey(k);
    RedisModule_CloseKey(k);
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

void error_text(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++) {
        if (*p == '\r' || *p == '\n') *p = ' ';
    }
}

void printable_name(const RedisModuleString *name, char *out, size_t size) {
    size_t len, n = 0;
    const char *text = RedisModule_StringPtrLen(name, &len);
    for (size_t i = 0; i < len && n + 5 < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (isprint(c) && c != '\\') {
            out[n++] = (char)c;
        } else {
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
        }
    }
    out[n] = '\0';
}
