/* Resolving the module API by name (see api.h). */
#include "api.h"

#include <string.h>

#define SSCAI_DEFINE_API(ret, name, params) ret(*RedisModule_##name) params = NULL;
SSCAI_API_FUNCTIONS(SSCAI_DEFINE_API)
#undef SSCAI_DEFINE_API

typedef int (*GetApiFunc)(const char *name, void *out);

int api_init(RedisModuleCtx *ctx, const char **missing) {
    void *first_field;
    GetApiFunc get_api;
    /* The first pointer-sized field of the context is the server's GetApi. */
    memcpy(&first_field, (const void *)ctx, sizeof first_field);
    memcpy(&get_api, &first_field, sizeof get_api);
    if (get_api == NULL) {
        *missing = "GetApi";
        return REDISMODULE_ERR;
    }
#define SSCAI_RESOLVE_API(ret, name, params)                                                      \
    if (get_api("RedisModule_" #name, (void *)&RedisModule_##name) != REDISMODULE_OK) {          \
        *missing = "RedisModule_" #name;                                                          \
        return REDISMODULE_ERR;                                                                   \
    }
    SSCAI_API_FUNCTIONS(SSCAI_RESOLVE_API)
#undef SSCAI_RESOLVE_API
    return REDISMODULE_OK;
}
