/* Helpers the commands share: reading arguments (keywords, counts, backends, devices),
 * looking keys up, and error texts. */
#ifndef SSCAI_ARGS_H
#define SSCAI_ARGS_H

#include "api.h"

#define DEVICE_MAX 16 /* "GPU:" + up to 5 digits, as RedisAI allows, plus room */

enum backend { BACKEND_TF, BACKEND_TFLITE, BACKEND_TORCH, BACKEND_ONNX, BACKEND_COUNT };

/* Whether arg is the keyword word (ASCII, case-insensitive, whole argument). */
int arg_is(const RedisModuleString *arg, const char *word);

/* The backend named by arg (case-insensitive), or -1. */
int backend_parse(const RedisModuleString *arg);
const char *backend_name(int backend);

/* Copy arg into out (upper-cased) when it names a device RedisAI accepts: CPU, GPU,
 * CPU:<digits>, GPU:<digits> (under 10 characters). REDISMODULE_ERR otherwise. */
int device_parse(const RedisModuleString *arg, char out[DEVICE_MAX]);

/* Read a device name saved (SaveStringBuffer) with a model or script into out;
 * REDISMODULE_ERR when it is empty or too long (a payload this module did not write). */
int load_device(RedisModuleIO *io, char out[DEVICE_MAX]);

/* The queue a device's jobs go to: CPU and CPU:<n> -> CPU, GPU -> GPU:0, GPU:<n> as is. */
void device_queue(const char *device, char out[DEVICE_MAX]);

/* A non-negative integer argument; REDISMODULE_ERR when it is not one. */
int arg_unsigned(const RedisModuleString *arg, long long *out);

/* A positive (> 0) integer argument; REDISMODULE_ERR, *out untouched, when it is not. */
int arg_positive(const RedisModuleString *arg, long long *out);

/* Whether the open key holds a value of the module type. */
int key_holds(RedisModuleKey *key, RedisModuleType *type);

/* Whether key is empty or holds a value of the module type. */
int key_empty_or(RedisModuleCtx *ctx, RedisModuleString *key, RedisModuleType *type);

/* The value of the module type stored at key; NULL with *err set to empty_error (key
 * empty) or WRONGTYPE (another type). No reference is taken. */
void *key_lookup(RedisModuleCtx *ctx, RedisModuleString *key, RedisModuleType *type,
                 const char *empty_error, const char **err);

/* Reply with s, or with "" when s is NULL (an unset TAG or function name). */
int reply_string_or_empty(RedisModuleCtx *ctx, RedisModuleString *s);

/* Delete key, replicate the command as sent, reply +OK (AI.MODELDEL, AI.SCRIPTDEL). */
int key_delete_reply(RedisModuleCtx *ctx, RedisModuleString *key);

/* printf into buf, with CR/LF replaced by spaces so it can be an error reply. */
void error_text(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* At most max bytes of a (binary-safe) key name as printable text, for messages. */
void printable_name(const RedisModuleString *name, char *out, size_t size);

#endif
