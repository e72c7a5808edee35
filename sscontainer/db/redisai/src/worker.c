/* The inference worker's commands (../PROTOCOL.md): SSC.JOBTAKE, SSC.ASSETGET,
 * SSC.JOBDONE, SSC.JOBFAIL and SSC.WORKERS. They take no keys: a worker talks to its
 * own shard only. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "jobs.h"
#include "strarray.h"

#define MAX_TAKE 1024   /* jobs one SSC.JOBTAKE hands out at most */

static const char *const call_names[] = {"POSITIONAL", "LIST", "EXECUTE"};

/* Job ids are positive. */
static int parse_id(const RedisModuleString *arg, uint64_t *id) {
    long long value;
    if (arg_positive(arg, &value) != REDISMODULE_OK) return REDISMODULE_ERR;
    *id = (uint64_t)value;
    return REDISMODULE_OK;
}

/* One taken job, inputs included (the worker needs no further round trip for them). */
static void reply_job(RedisModuleCtx *ctx, const Job *job, mstime_t now) {
    const Model *m = job->model;
    const Script *s = job->script;
    RedisModule_ReplyWithArray(ctx, 17);
    RedisModule_ReplyWithLongLong(ctx, (long long)job->id);
    RedisModule_ReplyWithCString(ctx, job->kind == JOB_MODEL ? "MODEL" : "SCRIPT");
    RedisModule_ReplyWithString(ctx, job->key);
    RedisModule_ReplyWithCString(ctx, m ? m->version : s->version);
    RedisModule_ReplyWithCString(ctx, backend_name(m ? m->backend : BACKEND_TORCH));
    RedisModule_ReplyWithCString(ctx, m ? m->device : s->device);
    RedisModule_ReplyWithLongLong(ctx, m ? m->batchsize : 0);
    RedisModule_ReplyWithLongLong(ctx, m ? m->minbatchsize : 0);
    RedisModule_ReplyWithLongLong(ctx, m ? m->minbatchtimeout : 0);
    reply_string_or_empty(ctx, job->fn);
    RedisModule_ReplyWithArray(ctx, job->ninputs);
    for (int i = 0; i < job->ninputs; i++) {
        const Tensor *t = job->inputs[i];
        RedisModule_ReplyWithArray(ctx, 3);
        RedisModule_ReplyWithCString(ctx, dtypes[t->dtype].name);
        tensor_reply_dims(ctx, t);
        RedisModule_ReplyWithString(ctx, t->blob);
    }
    RedisModule_ReplyWithLongLong(ctx, job->noutputs);
    RedisModule_ReplyWithLongLong(ctx, now - job->queued_at);
    RedisModule_ReplyWithCString(ctx, call_names[job->call]);
    RedisModule_ReplyWithLongLong(ctx, job->variadic);
    strarray_reply(ctx, job->keys, job->nkeys);
    strarray_reply(ctx, job->args, job->nargs);
}

static int reply_jobs(RedisModuleCtx *ctx, Device *d, long long max) {
    unsigned long long client = RedisModule_GetClientId(ctx);
    long long n = max < MAX_TAKE ? max : MAX_TAKE, count = 0;
    Job **taken = RedisModule_Alloc(sizeof(Job *) * (size_t)n);
    Job *job;
    while (count < n && (job = jobs_take(d, client)) != NULL) taken[count++] = job;
    mstime_t now = RedisModule_Milliseconds();
    RedisModule_ReplyWithArray(ctx, count);
    for (long long i = 0; i < count; i++) reply_job(ctx, taken[i], now);
    RedisModule_Free(taken);
    return REDISMODULE_OK;
}

/* SSC.JOBTAKE <device> <max> <block_ms> */
static const char *parse_take(RedisModuleString **argv, char queue[DEVICE_MAX], long long *max,
                              long long *block_ms) {
    char device[DEVICE_MAX];
    if (device_parse(argv[1], device) != REDISMODULE_OK) {
        return "ERR invalid device: use CPU or GPU:<n>";
    }
    device_queue(device, queue);
    if (arg_positive(argv[2], max) != REDISMODULE_OK) {
        return "ERR invalid job count: give a positive integer";
    }
    if (arg_unsigned(argv[3], block_ms) != REDISMODULE_OK) {
        return "ERR invalid block time: give milliseconds >= 0";
    }
    return NULL;
}

/* A blocked SSC.JOBTAKE was woken (a job arrived, or its time is up): take now. */
static int take_reply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argc;
    char queue[DEVICE_MAX];
    long long max, block_ms;
    if (parse_take(argv, queue, &max, &block_ms) != NULL) return RedisModule_ReplyWithArray(ctx, 0);
    return reply_jobs(ctx, device_get(queue), max);
}

int job_take_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 4) return RedisModule_WrongArity(ctx);
    char queue[DEVICE_MAX], err[256];
    long long max, block_ms;
    const char *bad = parse_take(argv, queue, &max, &block_ms);
    if (bad) return RedisModule_ReplyWithError(ctx, bad);
    Device *d = workers_register(RedisModule_GetClientId(ctx), queue, err, sizeof err);
    if (d == NULL) return RedisModule_ReplyWithError(ctx, err);
    if (d->queue.head != NULL || block_ms == 0 || !client_may_block(ctx)) {
        return reply_jobs(ctx, d, max);
    }
    RedisModuleBlockedClient *bc = RedisModule_BlockClient(ctx, take_reply, NULL, NULL, 0);
    if (bc == NULL) return reply_jobs(ctx, d, max);
    devices_add_taker(ctx, d, bc, block_ms);
    return REDISMODULE_OK;
}

/* SSC.ASSETGET <job id>: the model or script a taken job runs, as it was queued. */
int asset_get_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    uint64_t id;
    Job *job = parse_id(argv[1], &id) == REDISMODULE_OK ? jobs_find_running(id) : NULL;
    if (job == NULL) {
        char err[96];
        error_text(err, sizeof err, "ERR unknown job %s", RedisModule_StringPtrLen(argv[1], NULL));
        return RedisModule_ReplyWithError(ctx, err);
    }
    const Model *m = job->model;
    const Script *s = job->script;
    RedisModule_ReplyWithArray(ctx, 7);
    RedisModule_ReplyWithCString(ctx, m ? "MODEL" : "SCRIPT");
    RedisModule_ReplyWithCString(ctx, m ? m->version : s->version);
    RedisModule_ReplyWithCString(ctx, backend_name(m ? m->backend : BACKEND_TORCH));
    RedisModule_ReplyWithCString(ctx, m ? m->device : s->device);
    strarray_reply(ctx, m ? m->inputs : NULL, m ? m->ninputs : 0);
    strarray_reply(ctx, m ? m->outputs : NULL, m ? m->noutputs : 0);
    return RedisModule_ReplyWithString(ctx, m ? m->blob : s->source);
}

/* One "<dtype> <ndims> <d1>...<dn> <blob>" output at *pos; NULL with *err when bad. */
static Tensor *parse_output(RedisModuleString **argv, int argc, int *pos, const char **err) {
    if (*pos + 2 > argc) return *err = "an output is missing", NULL;
    int dtype = dtype_parse(argv[*pos]);
    long long ndims;
    if (dtype < 0) return *err = "an output has a dtype a tensor cannot hold", NULL;
    if (arg_unsigned(argv[*pos + 1], &ndims) != REDISMODULE_OK || ndims > MAX_DIMS ||
        *pos + 2 + ndims + 1 > argc) {
        return *err = "an output has a bad dimension count", NULL;
    }
    long long dims[MAX_DIMS];
    for (long long i = 0; i < ndims; i++) {
        if (RedisModule_StringToLongLong(argv[*pos + 2 + i], &dims[i]) != REDISMODULE_OK ||
            dims[i] <= 0) {
            return *err = "an output has an empty or invalid dimension", NULL;
        }
    }
    RedisModuleString *blob = argv[*pos + 2 + ndims];
    size_t bytes, len;
    RedisModule_StringPtrLen(blob, &len);
    if (tensor_bytes(dtype, (int)ndims, dims, &bytes) != REDISMODULE_OK || bytes != len) {
        return *err = "an output's data does not match its shape and dtype", NULL;
    }
    *pos += (int)ndims + 3;
    return tensor_new(dtype, (int)ndims, dims, RedisModule_HoldString(NULL, blob));
}

static void free_outputs(Tensor **outs, long long n) {
    for (long long i = 0; i < n; i++) tensor_unref(outs[i]);
    RedisModule_Free(outs);
}

static void fail_job(Job *job, const char *fmt, const char *detail) {
    char name[128], error[512];
    printable_name(job->key, name, sizeof name);
    error_text(error, sizeof error, fmt, job_what(job), name, detail);
    job_stats(job)->calls++;
    job_stats(job)->errors++;
    job_resolve_error(job, error);
}

/* SSC.JOBDONE <id> <duration_us> <samples> <n> [<dtype> <ndims> <dims>... <blob>]... */
int job_done_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 5) return RedisModule_WrongArity(ctx);
    uint64_t id;
    long long duration, samples, n;
    if (parse_id(argv[1], &id) != REDISMODULE_OK || arg_unsigned(argv[2], &duration) ||
        arg_unsigned(argv[3], &samples) || arg_unsigned(argv[4], &n) || n > argc) {
        return RedisModule_ReplyWithError(ctx, "ERR malformed SSC.JOBDONE: id, duration, samples "
                                               "and output count must be integers");
    }
    Job *job = jobs_find_running(id);
    if (job == NULL) return RedisModule_ReplyWithLongLong(ctx, 0);
    Tensor **outs = RedisModule_Calloc((size_t)n + 1, sizeof *outs);
    const char *err = NULL;
    int pos = 5;
    for (long long i = 0; i < n && err == NULL; i++) {
        outs[i] = parse_output(argv, argc, &pos, &err);
    }
    if (err == NULL && pos != argc) err = "there are arguments after the last output";
    if (err != NULL) {
        free_outputs(outs, n);
        fail_job(job, "ERR the inference worker sent an unusable result for %s '%s': %s", err);
        char reply[160];
        error_text(reply, sizeof reply, "ERR malformed SSC.JOBDONE: %s", err);
        return RedisModule_ReplyWithError(ctx, reply);
    }
    if (n != job->noutputs) {
        char detail[96];
        snprintf(detail, sizeof detail, "%lld outputs but %d output keys were given", n,
                 job->noutputs);
        free_outputs(outs, n);
        fail_job(job, "ERR %s '%s' returned %s", detail);
        return RedisModule_ReplyWithLongLong(ctx, 1);
    }
    RunStats *stats = job_stats(job);
    stats->duration_us += duration;
    stats->samples += samples;
    stats->calls++;
    int delivered = job->waiters != NULL;
    for (long long i = 0; i < n; i++) {
        if (delivered) {
            tensor_store(ctx, job->outputs[i], outs[i]); /* the key takes the reference */
        } else {
            tensor_unref(outs[i]); /* every caller left: nothing is written */
        }
    }
    RedisModule_Free(outs);
    job_resolve_ok(job);
    return RedisModule_ReplyWithLongLong(ctx, delivered);
}

/* SSC.JOBFAIL <id> <message> */
int job_fail_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    uint64_t id;
    if (parse_id(argv[1], &id) != REDISMODULE_OK) {
        return RedisModule_ReplyWithError(ctx, "ERR malformed SSC.JOBFAIL: the id is an integer");
    }
    Job *job = jobs_find_running(id);
    if (job == NULL) return RedisModule_ReplyWithLongLong(ctx, 0);
    size_t len;
    const char *message = RedisModule_StringPtrLen(argv[2], &len);
    char *error = RedisModule_Alloc(len + 5);
    memcpy(error, "ERR ", 4);
    for (size_t i = 0; i < len; i++) {
        char c = message[i];
        error[4 + i] = (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
    }
    error[4 + len] = '\0';
    job_stats(job)->calls++;
    job_stats(job)->errors++;
    job_resolve_error(job, error);
    RedisModule_Free(error);
    return RedisModule_ReplyWithLongLong(ctx, 1);
}

/* SSC.WORKERS: [device, workers, queued, running] for every device seen. */
int workers_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    if (argc != 1) return RedisModule_WrongArity(ctx);
    long n = 0;
    for (Device *d = devices_first(); d; d = d->next) n++;
    RedisModule_ReplyWithArray(ctx, n);
    for (Device *d = devices_first(); d; d = d->next) {
        RedisModule_ReplyWithArray(ctx, 4);
        RedisModule_ReplyWithCString(ctx, d->name);
        RedisModule_ReplyWithLongLong(ctx, d->workers);
        RedisModule_ReplyWithLongLong(ctx, d->queue.len);
        RedisModule_ReplyWithLongLong(ctx, d->running.len);
    }
    return REDISMODULE_OK;
}
