/* AI.MODELEXECUTE, AI.SCRIPTRUN and AI.SCRIPTEXECUTE: parse as RedisAI does, check the
 * model/script and every input at once, then queue a job and block the caller
 * (jobs.c). Each also reports its keys (getkeys-api) so a cluster routes it. */
#include <string.h>

#include "commands.h"
#include "jobs.h"
#include "strarray.h"

/* Keys and names taken from argv (borrowed, not held). */
typedef struct RunArgs {
    RedisModuleString **inputs, **outputs, **keys, **args;
    int ninputs, noutputs, nkeys, nargs;
    int variadic;
    long long timeout;
} RunArgs;

static void run_args_init(RunArgs *r, int argc) {
    memset(r, 0, sizeof *r);
    size_t n = (size_t)argc + 1;
    r->inputs = RedisModule_Calloc(n, sizeof(RedisModuleString *));
    r->outputs = RedisModule_Calloc(n, sizeof(RedisModuleString *));
    r->keys = RedisModule_Calloc(n, sizeof(RedisModuleString *));
    r->args = RedisModule_Calloc(n, sizeof(RedisModuleString *));
    r->variadic = -1;
}

static void run_args_free(RunArgs *r) {
    RedisModule_Free(r->inputs);
    RedisModule_Free(r->outputs);
    RedisModule_Free(r->keys);
    RedisModule_Free(r->args);
}

static const char *parse_timeout(const RedisModuleString *arg, long long *timeout) {
    return arg_positive(arg, timeout) == REDISMODULE_OK ? NULL : "ERR Invalid value for TIMEOUT";
}

/* Fill job from r: input tensors (each must exist now), output keys (must be empty or
 * tensors), script keys and args. NULL on success, else the error text. */
static const char *fill_job(RedisModuleCtx *ctx, Job *job, const RunArgs *r) {
    job->inputs = RedisModule_Calloc((size_t)r->ninputs + 1, sizeof(Tensor *));
    for (int i = 0; i < r->ninputs; i++) {
        const char *err = NULL;
        Tensor *t = tensor_lookup(ctx, r->inputs[i], &err);
        if (t == NULL) return err;
        job->inputs[job->ninputs++] = tensor_ref(t);
    }
    for (int i = 0; i < r->noutputs; i++) {
        if (!tensor_key_writable(ctx, r->outputs[i])) return REDISMODULE_ERRORMSG_WRONGTYPE;
    }
    job->outputs = strarray_hold(r->outputs, r->noutputs);
    job->noutputs = r->noutputs;
    job->keys = strarray_hold(r->keys, r->nkeys);
    job->nkeys = r->nkeys;
    job->args = strarray_hold(r->args, r->nargs);
    job->nargs = r->nargs;
    job->variadic = r->variadic;
    job->timeout_ms = r->timeout;
    return NULL;
}

static int submit(RedisModuleCtx *ctx, Job *job, const RunArgs *r) {
    const char *err = fill_job(ctx, job, r);
    if (err != NULL) {
        job_free(job);
        return RedisModule_ReplyWithError(ctx, err);
    }
    return jobs_submit(ctx, job);
}

/* "<count> <item>..." at *pos into items: the positions RedisAI's MODELEXECUTE uses. */
static int counted(RedisModuleString **argv, int argc, int *pos, long long *count) {
    if (*pos >= argc || RedisModule_StringToLongLong(argv[*pos], count) != REDISMODULE_OK) {
        return REDISMODULE_ERR;
    }
    (*pos)++;
    return REDISMODULE_OK;
}

/* --- AI.MODELEXECUTE <key> INPUTS <n> <in>... OUTPUTS <m> <out>... [TIMEOUT <ms>] ---- */

static const char *parse_model_execute(RedisModuleString **argv, int argc, const Model *m,
                                       RunArgs *r, char *errbuf, size_t size) {
    long long n;
    int pos = 3;
    if (!arg_is(argv[2], "INPUTS")) return "ERR INPUTS not specified";
    if (counted(argv, argc, &pos, &n) != REDISMODULE_OK) return "ERR Invalid argument for input_count";
    if (n <= 0) return "ERR Input count must be a positive integer";
    if (m->ninputs > 0 && n != m->ninputs) {
        return "Number of keys given as INPUTS here does not match model definition";
    }
    if (pos + n > argc) {
        return "ERR number of input keys to AI.MODELEXECUTE command does not match the number "
               "of given arguments";
    }
    for (; r->ninputs < n; pos++) r->inputs[r->ninputs++] = argv[pos];
    if (pos >= argc || !arg_is(argv[pos], "OUTPUTS")) return "ERR OUTPUTS not specified";
    pos++;
    if (counted(argv, argc, &pos, &n) != REDISMODULE_OK) return "ERR Invalid argument for output_count";
    if (n <= 0) return "ERR Output count must be a positive integer";
    if (m->noutputs > 0 && n != m->noutputs) {
        return "Number of keys given as OUTPUTS here does not match model definition";
    }
    if (pos + n > argc) {
        return "ERR number of output keys to AI.MODELEXECUTE command does not match the number "
               "of given arguments";
    }
    for (; r->noutputs < n; pos++) r->outputs[r->noutputs++] = argv[pos];
    if (pos < argc && arg_is(argv[pos], "TIMEOUT")) {
        if (++pos >= argc) return "ERR No value provided for TIMEOUT";
        const char *err = parse_timeout(argv[pos++], &r->timeout);
        if (err) return err;
    }
    if (pos < argc) {
        error_text(errbuf, size, "Invalid argument: %s", RedisModule_StringPtrLen(argv[pos], NULL));
        return errbuf;
    }
    return NULL;
}

static int model_execute_keys(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    RedisModule_KeyAtPos(ctx, 1);
    long long n;
    int pos = 3;
    if (argc < 4 || counted(argv, argc, &pos, &n) != REDISMODULE_OK) return REDISMODULE_OK;
    for (long long i = 0; i < n && pos < argc; i++) RedisModule_KeyAtPos(ctx, pos++);
    pos++; /* OUTPUTS */
    if (counted(argv, argc, &pos, &n) != REDISMODULE_OK) return REDISMODULE_OK;
    for (long long i = 0; i < n && pos < argc; i++) RedisModule_KeyAtPos(ctx, pos++);
    return REDISMODULE_OK;
}

int model_execute_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RedisModule_IsKeysPositionRequest(ctx)) return model_execute_keys(ctx, argv, argc);
    if (argc < 8) {
        return RedisModule_ReplyWithError(
            ctx, "ERR wrong number of arguments for 'AI.MODELEXECUTE' command");
    }
    const char *err = NULL;
    Model *m = model_lookup(ctx, argv[1], &err);
    if (m == NULL) return RedisModule_ReplyWithError(ctx, err);
    char errbuf[256];
    RunArgs r;
    run_args_init(&r, argc);
    err = parse_model_execute(argv, argc, m, &r, errbuf, sizeof errbuf);
    int status;
    if (err != NULL) {
        status = RedisModule_ReplyWithError(ctx, err);
    } else {
        Job *job = job_new(JOB_MODEL, argv[1]);
        job->model = model_ref(m);
        status = submit(ctx, job, &r);
    }
    run_args_free(&r);
    return status;
}

/* --- AI.SCRIPTRUN <key> <fn> [TIMEOUT t] INPUTS [$] <in>... OUTPUTS <out>... --------- */

static const char *parse_script_run(RedisModuleString **argv, int argc, RunArgs *r) {
    int in_inputs = 0, in_outputs = 0, inputs_done = 0, timeout_set = 0;
    for (int pos = 3; pos < argc; pos++) {
        RedisModuleString *arg = argv[pos];
        if (arg_is(arg, "TIMEOUT")) {
            if (timeout_set) return "ERR Already encountered an TIMEOUT section in SCRIPTRUN";
            if (++pos >= argc) return "ERR No value provided for TIMEOUT";
            const char *err = parse_timeout(argv[pos], &r->timeout);
            if (err) return err;
            timeout_set = 1;
        } else if (arg_is(arg, "INPUTS")) {
            if (inputs_done) return "ERR Already encountered an INPUTS section in SCRIPTRUN";
            if (in_inputs) return "ERR Already encountered an INPUTS keyword in SCRIPTRUN";
            in_inputs = 1;
            in_outputs = 0;
        } else if (arg_is(arg, "OUTPUTS")) {
            if (in_outputs) return "ERR Already encountered an OUTPUTS keyword in SCRIPTRUN";
            in_inputs = 0;
            in_outputs = 1;
            inputs_done = 1;
        } else if (arg_is(arg, "$")) {
            if (!in_inputs) {
                return "ERR Encountered a variable size list of tensors outside of input section";
            }
            if (r->variadic >= 0) return "ERR Already encountered a variable size list of tensors";
            r->variadic = r->ninputs;
        } else if (in_inputs) {
            r->inputs[r->ninputs++] = arg;
        } else if (in_outputs) {
            r->outputs[r->noutputs++] = arg;
        } else {
            return "ERR Unrecongnized parameter to SCRIPTRUN"; /* sic: RedisAI's text */
        }
    }
    return NULL;
}

static int script_run_keys(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    RedisModule_KeyAtPos(ctx, 1);
    int section = 0; /* 1 inputs, 2 outputs */
    for (int pos = 3; pos < argc; pos++) {
        if (arg_is(argv[pos], "TIMEOUT")) {
            pos++;
        } else if (arg_is(argv[pos], "INPUTS")) {
            section = 1;
        } else if (arg_is(argv[pos], "OUTPUTS")) {
            section = 2;
        } else if (section && !arg_is(argv[pos], "$")) {
            RedisModule_KeyAtPos(ctx, pos);
        }
    }
    return REDISMODULE_OK;
}

static int script_job(RedisModuleCtx *ctx, RedisModuleString **argv, Script *s, RunArgs *r,
                      int call) {
    Job *job = job_new(JOB_SCRIPT, argv[1]);
    job->script = script_ref(s);
    job->fn = RedisModule_HoldString(NULL, argv[2]);
    job->call = call;
    return submit(ctx, job, r);
}

int script_run_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RedisModule_IsKeysPositionRequest(ctx)) return script_run_keys(ctx, argv, argc);
    if (argc < 3) {
        return RedisModule_ReplyWithError(ctx,
                                          "ERR wrong number of arguments for 'AI.SCRIPTRUN' command");
    }
    const char *err = NULL;
    Script *s = script_lookup(ctx, argv[1], &err);
    if (s == NULL) return RedisModule_ReplyWithError(ctx, err);
    RunArgs r;
    run_args_init(&r, argc);
    err = parse_script_run(argv, argc, &r);
    int status = err ? RedisModule_ReplyWithError(ctx, err)
                     : script_job(ctx, argv, s, &r, r.variadic >= 0 ? CALL_LIST : CALL_POSITIONAL);
    run_args_free(&r);
    return status;
}

/* --- AI.SCRIPTEXECUTE <key> <fn> [KEYS n k...] [INPUTS n i...] [ARGS n a...]
 *     [OUTPUTS n o...] [TIMEOUT t]: fn(inputs, keys, args) ---------------------------- */

typedef struct Scope {
    const char *name;
    RedisModuleString **dst;
    int *n;
    int done;
} Scope;

/* "<count> <item>..." after a scope keyword at *pos. */
static const char *parse_scope(RedisModuleString **argv, int argc, int *pos, Scope *s,
                               char *errbuf, size_t size) {
    long long n;
    int is_keys = strcmp(s->name, "KEYS") == 0;
    if (is_keys && argc - *pos < 2) return "ERR Missing arguments after KEYS keyword";
    if (*pos >= argc) return "ERR Invalid arguments provided to AI.SCRIPTEXECUTE";
    if (RedisModule_StringToLongLong(argv[*pos], &n) != REDISMODULE_OK || n < 0 ||
        (is_keys && n == 0)) {
        if (is_keys) return "ERR Invalid or negative value found in number of KEYS";
        error_text(errbuf, size, "ERR Invalid argument for %s count in AI.SCRIPTEXECUTE",
                   strcmp(s->name, "ARGS") == 0 ? "keys" : strcmp(s->name, "INPUTS") == 0
                                                               ? "inputs" : "outputs");
        return errbuf;
    }
    (*pos)++;
    if (*pos + n > argc) {
        if (is_keys) {
            return "ERR Number of pre declared KEYS to be used in the command does not match "
                   "the number of given arguments";
        }
        error_text(errbuf, size,
                   "ERR number of %s to AI.SCRIPTEXECUTE command does not match the number of "
                   "given arguments",
                   strcmp(s->name, "ARGS") == 0 ? "args" : strcmp(s->name, "INPUTS") == 0
                                                               ? "inputs" : "outputs");
        return errbuf;
    }
    for (long long i = 0; i < n; i++) s->dst[(*s->n)++] = argv[(*pos)++];
    s->done = 1;
    return NULL;
}

static const char *parse_script_execute(RedisModuleString **argv, int argc, RunArgs *r,
                                        char *errbuf, size_t size) {
    Scope scopes[4] = {{"KEYS", r->keys, &r->nkeys, 0}, {"INPUTS", r->inputs, &r->ninputs, 0},
                       {"ARGS", r->args, &r->nargs, 0}, {"OUTPUTS", r->outputs, &r->noutputs, 0}};
    if (!arg_is(argv[3], "KEYS") && !arg_is(argv[3], "INPUTS")) {
        return "ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command";
    }
    int pos = 3;
    while (pos < argc) {
        RedisModuleString *word = argv[pos++];
        if (arg_is(word, "TIMEOUT")) {
            if (pos >= argc) return "ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE";
            const char *err = parse_timeout(argv[pos++], &r->timeout);
            if (err) return err;
            break;
        }
        Scope *scope = NULL;
        for (int i = 0; i < 4; i++) {
            if (arg_is(word, scopes[i].name)) scope = &scopes[i];
        }
        if (scope == NULL) {
            error_text(errbuf, size,
                       "ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: %s",
                       RedisModule_StringPtrLen(word, NULL));
            return errbuf;
        }
        if (scope->done) {
            error_text(errbuf, size,
                       "ERR Already Encountered %s scope in AI.SCRIPTEXECUTE command", scope->name);
            return errbuf;
        }
        const char *err = parse_scope(argv, argc, &pos, scope, errbuf, size);
        if (err) return err;
    }
    if (pos != argc) return "ERR Encountered problem parsing AI.SCRIPTEXECUTE";
    return NULL;
}

static int script_execute_keys(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    RedisModule_KeyAtPos(ctx, 1);
    for (int pos = 3; pos < argc;) {
        int is_keylist = arg_is(argv[pos], "KEYS") || arg_is(argv[pos], "INPUTS") ||
                         arg_is(argv[pos], "OUTPUTS");
        int is_args = arg_is(argv[pos], "ARGS");
        long long n;
        pos++;
        if (!(is_keylist || is_args) || counted(argv, argc, &pos, &n) != REDISMODULE_OK) continue;
        for (long long i = 0; i < n && pos < argc; i++, pos++) {
            if (is_keylist) RedisModule_KeyAtPos(ctx, pos);
        }
    }
    return REDISMODULE_OK;
}

int script_execute_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RedisModule_IsKeysPositionRequest(ctx)) return script_execute_keys(ctx, argv, argc);
    if (argc < 4) {
        return RedisModule_ReplyWithError(
            ctx, "ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command");
    }
    const char *err = NULL;
    Script *s = script_lookup(ctx, argv[1], &err);
    if (s == NULL) return RedisModule_ReplyWithError(ctx, err);
    char errbuf[256];
    RunArgs r;
    run_args_init(&r, argc);
    err = parse_script_execute(argv, argc, &r, errbuf, sizeof errbuf);
    int status = err ? RedisModule_ReplyWithError(ctx, err)
                     : script_job(ctx, argv, s, &r, CALL_EXECUTE);
    run_args_free(&r);
    return status;
}
