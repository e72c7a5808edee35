/* The module API this module uses, resolved by name at load time.
 *
 * No vendored header: the server hands RedisModule_OnLoad a context whose first
 * pointer-sized field is its GetApi function; api_init() looks every function
 * listed below up through it (Valkey registers each API as ValkeyModule_<X> and
 * RedisModule_<X>, Redis as RedisModule_<X>, so the RedisModule_ names load in
 * both). Only what this module calls is declared here, with the types the
 * servers' own headers give them. */
#ifndef SSCAI_API_H
#define SSCAI_API_H

#include <stddef.h>
#include <stdint.h>

#define REDISMODULE_OK 0
#define REDISMODULE_ERR 1
#define REDISMODULE_APIVER_1 1

#define REDISMODULE_READ (1 << 0)
#define REDISMODULE_WRITE (1 << 1)

#define REDISMODULE_KEYTYPE_EMPTY 0
#define REDISMODULE_KEYTYPE_MODULE 6
#define REDISMODULE_NO_EXPIRE -1

#define REDISMODULE_CTX_FLAGS_LUA (1 << 0)
#define REDISMODULE_CTX_FLAGS_MULTI (1 << 1)
#define REDISMODULE_CTX_FLAGS_DENY_BLOCKING (1 << 21)

#define REDISMODULE_EVENT_CLIENT_CHANGE 4
#define REDISMODULE_SUBEVENT_CLIENT_CHANGE_DISCONNECTED 1

/* Type methods: version 4 is understood by Redis 7.0 and by Valkey 8. */
#define REDISMODULE_TYPE_METHOD_VERSION 4

#define REDISMODULE_ERRORMSG_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

typedef struct RedisModuleCtx RedisModuleCtx;
typedef struct RedisModuleKey RedisModuleKey;
typedef struct RedisModuleString RedisModuleString;
typedef struct RedisModuleIO RedisModuleIO;
typedef struct RedisModuleType RedisModuleType;
typedef struct RedisModuleBlockedClient RedisModuleBlockedClient;
typedef struct RedisModuleDigest RedisModuleDigest;
typedef uint64_t RedisModuleTimerID;
typedef long long mstime_t;

typedef int (*RedisModuleCmdFunc)(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
typedef void (*RedisModuleDisconnectFunc)(RedisModuleCtx *ctx, RedisModuleBlockedClient *bc);
typedef void (*RedisModuleTimerProc)(RedisModuleCtx *ctx, void *data);
typedef void (*RedisModuleFreePrivdataFunc)(RedisModuleCtx *ctx, void *privdata);

typedef struct RedisModuleEvent {
    uint64_t id;
    uint64_t dataver;
} RedisModuleEvent;

typedef void (*RedisModuleEventCallback)(RedisModuleCtx *ctx, RedisModuleEvent eid,
                                         uint64_t subevent, void *data);

/* What a CLIENT_CHANGE event carries (version 1 of the structure). */
typedef struct RedisModuleClientInfo {
    uint64_t version;
    uint64_t flags;
    uint64_t id;
    char addr[46];
    uint16_t port;
    uint16_t db;
} RedisModuleClientInfo;

typedef void *(*RedisModuleTypeLoadFunc)(RedisModuleIO *rdb, int encver);
typedef void (*RedisModuleTypeSaveFunc)(RedisModuleIO *rdb, void *value);
typedef void (*RedisModuleTypeRewriteFunc)(RedisModuleIO *aof, RedisModuleString *key,
                                           void *value);
typedef size_t (*RedisModuleTypeMemUsageFunc)(const void *value);
typedef void (*RedisModuleTypeFreeFunc)(void *value);
typedef void *(*RedisModuleTypeCopyFunc)(RedisModuleString *fromkey, RedisModuleString *tokey,
                                         const void *value);

/* The leading fields of the servers' RedisModuleTypeMethods, up to version 4. */
typedef struct RedisModuleTypeMethods {
    uint64_t version;
    RedisModuleTypeLoadFunc rdb_load;
    RedisModuleTypeSaveFunc rdb_save;
    RedisModuleTypeRewriteFunc aof_rewrite;
    RedisModuleTypeMemUsageFunc mem_usage;
    void (*digest)(RedisModuleDigest *digest, void *value);
    RedisModuleTypeFreeFunc free;
    int (*aux_load)(RedisModuleIO *rdb, int encver, int when);
    void (*aux_save)(RedisModuleIO *rdb, int when);
    int aux_save_triggers;
    size_t (*free_effort)(RedisModuleString *key, const void *value);
    void (*unlink)(RedisModuleString *key, const void *value);
    RedisModuleTypeCopyFunc copy;
    void *defrag;
    void *mem_usage2;
    void *free_effort2;
    void *unlink2;
    void *copy2;
} RedisModuleTypeMethods;

/* X(return type, name, parameter list) for every API function used. */
#define SSCAI_API_FUNCTIONS(X)                                                                    \
    X(void, SetModuleAttribs, (RedisModuleCtx * ctx, const char *name, int ver, int apiver))     \
    X(int, CreateCommand, (RedisModuleCtx * ctx, const char *name, RedisModuleCmdFunc func,      \
                           const char *flags, int firstkey, int lastkey, int keystep))           \
    X(RedisModuleType *, CreateDataType, (RedisModuleCtx * ctx, const char *name, int encver,    \
                                          void *typemethods))                                    \
    X(int, SubscribeToServerEvent, (RedisModuleCtx * ctx, RedisModuleEvent event,                \
                                    RedisModuleEventCallback callback))                          \
    X(void, Log, (RedisModuleCtx * ctx, const char *level, const char *fmt, ...))                \
    X(int, GetContextFlags, (RedisModuleCtx * ctx))                                              \
    X(unsigned long long, GetClientId, (RedisModuleCtx * ctx))                                   \
    X(mstime_t, Milliseconds, (void))                                                            \
    X(RedisModuleKey *, OpenKey, (RedisModuleCtx * ctx, RedisModuleString * name, int mode))     \
    X(void, CloseKey, (RedisModuleKey * key))                                                    \
    X(int, KeyType, (RedisModuleKey * key))                                                      \
    X(int, DeleteKey, (RedisModuleKey * key))                                                    \
    X(RedisModuleType *, ModuleTypeGetType, (RedisModuleKey * key))                              \
    X(void *, ModuleTypeGetValue, (RedisModuleKey * key))                                        \
    X(int, ModuleTypeSetValue, (RedisModuleKey * key, RedisModuleType * mt, void *value))        \
    X(int, ModuleTypeReplaceValue, (RedisModuleKey * key, RedisModuleType * mt, void *new_value, \
                                    void **old_value))                                           \
    X(mstime_t, GetExpire, (RedisModuleKey * key))                                               \
    X(int, IsKeysPositionRequest, (RedisModuleCtx * ctx))                                        \
    X(void, KeyAtPos, (RedisModuleCtx * ctx, int pos))                                           \
    X(int, WrongArity, (RedisModuleCtx * ctx))                                                   \
    X(int, ReplyWithError, (RedisModuleCtx * ctx, const char *err))                              \
    X(int, ReplyWithSimpleString, (RedisModuleCtx * ctx, const char *msg))                       \
    X(int, ReplyWithLongLong, (RedisModuleCtx * ctx, long long ll))                              \
    X(int, ReplyWithDouble, (RedisModuleCtx * ctx, double d))                                    \
    X(int, ReplyWithArray, (RedisModuleCtx * ctx, long len))                                     \
    X(int, ReplyWithStringBuffer, (RedisModuleCtx * ctx, const char *buf, size_t len))           \
    X(int, ReplyWithString, (RedisModuleCtx * ctx, RedisModuleString * str))                     \
    X(int, ReplyWithCString, (RedisModuleCtx * ctx, const char *buf))                            \
    X(int, ReplyWithNull, (RedisModuleCtx * ctx))                                                \
    X(int, Replicate, (RedisModuleCtx * ctx, const char *cmdname, const char *fmt, ...))         \
    X(int, ReplicateVerbatim, (RedisModuleCtx * ctx))                                            \
    X(RedisModuleString *, CreateString, (RedisModuleCtx * ctx, const char *ptr, size_t len))    \
    X(RedisModuleString *, CreateStringFromLongLong, (RedisModuleCtx * ctx, long long ll))       \
    X(RedisModuleString *, HoldString, (RedisModuleCtx * ctx, RedisModuleString * str))          \
    X(void, FreeString, (RedisModuleCtx * ctx, RedisModuleString * str))                         \
    X(const char *, StringPtrLen, (const RedisModuleString *str, size_t *len))                   \
    X(int, StringToLongLong, (const RedisModuleString *str, long long *ll))                      \
    X(int, StringToDouble, (const RedisModuleString *str, double *d))                            \
    X(int, StringCompare, (const RedisModuleString *a, const RedisModuleString *b))              \
    X(void, SaveUnsigned, (RedisModuleIO * io, uint64_t value))                                  \
    X(uint64_t, LoadUnsigned, (RedisModuleIO * io))                                              \
    X(void, SaveSigned, (RedisModuleIO * io, int64_t value))                                     \
    X(int64_t, LoadSigned, (RedisModuleIO * io))                                                 \
    X(void, SaveString, (RedisModuleIO * io, RedisModuleString * s))                             \
    X(void, SaveStringBuffer, (RedisModuleIO * io, const char *str, size_t len))                 \
    X(char *, LoadStringBuffer, (RedisModuleIO * io, size_t *len))                               \
    X(RedisModuleString *, LoadString, (RedisModuleIO * io))                                     \
    X(void, EmitAOF, (RedisModuleIO * io, const char *cmdname, const char *fmt, ...))            \
    X(void *, Alloc, (size_t bytes))                                                             \
    X(void *, Calloc, (size_t nmemb, size_t size))                                               \
    X(void *, Realloc, (void *ptr, size_t bytes))                                                \
    X(void, Free, (void *ptr))                                                                   \
    X(RedisModuleBlockedClient *, BlockClient,                                                   \
      (RedisModuleCtx * ctx, RedisModuleCmdFunc reply_callback,                                  \
       RedisModuleCmdFunc timeout_callback, RedisModuleFreePrivdataFunc free_privdata,           \
       long long timeout_ms))                                                                    \
    X(int, UnblockClient, (RedisModuleBlockedClient * bc, void *privdata))                       \
    X(void, SetDisconnectCallback, (RedisModuleBlockedClient * bc,                               \
                                    RedisModuleDisconnectFunc callback))                         \
    X(void *, GetBlockedClientPrivateData, (RedisModuleCtx * ctx))                               \
    X(RedisModuleTimerID, CreateTimer, (RedisModuleCtx * ctx, mstime_t period,                   \
                                        RedisModuleTimerProc callback, void *data))              \
    X(int, StopTimer, (RedisModuleCtx * ctx, RedisModuleTimerID id, void **data))

#define SSCAI_DECLARE_API(ret, name, params) extern ret(*RedisModule_##name) params;
SSCAI_API_FUNCTIONS(SSCAI_DECLARE_API)
#undef SSCAI_DECLARE_API

/* Resolve every function above through the GetApi pointer in ctx; REDISMODULE_ERR
 * (after logging nothing: Log itself may be missing) when one is not found, with
 * its name in *missing. */
int api_init(RedisModuleCtx *ctx, const char **missing);

#endif
