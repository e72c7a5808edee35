/* The job life cycle on the caller's side: submit (joining an identical job), block,
 * resolve (reply to every waiter), deadlines (queue TIMEOUT, no worker). */
#include "jobs.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "strarray.h"

enum outcome_status { OUTCOME_OK, OUTCOME_TIMEDOUT, OUTCOME_ERROR };

/* What a blocked caller is answered (one per waiter; freed by the server's callback). */
typedef struct Outcome {
    int status;
    char error[];
} Outcome;

static uint64_t last_job_id = 0;
static RedisModuleTimerID deadline_timer;
static int deadline_armed = 0;
static mstime_t deadline_due = 0;

/* --- jobs ---------------------------------------------------------------------------- */

Job *job_new(int kind, RedisModuleString *key) {
    Job *job = RedisModule_Calloc(1, sizeof *job);
    job->kind = kind;
    job->call = CALL_POSITIONAL;
    job->variadic = -1;
    job->key = RedisModule_HoldString(NULL, key);
    return job;
}

void job_free(Job *job) {
    if (job == NULL) return;
    RedisModule_FreeString(NULL, job->key);
    model_unref(job->model);
    script_unref(job->script);
    if (job->fn) RedisModule_FreeString(NULL, job->fn);
    for (int i = 0; i < job->ninputs; i++) tensor_unref(job->inputs[i]);
    RedisModule_Free(job->inputs);
    strarray_free(job->outputs, job->noutputs);
    strarray_free(job->keys, job->nkeys);
    strarray_free(job->args, job->nargs);
    RedisModule_Free(job);
}

const char *job_what(const Job *job) { return job->kind == JOB_MODEL ? "model" : "script"; }

RunStats *job_stats(Job *job) {
    return job->kind == JOB_MODEL ? &job->model->stats : &job->script->stats;
}

static const char *job_device(const Job *job) {
    return job->kind == JOB_MODEL ? job->model->device : job->script->device;
}

static int same_strings(RedisModuleString **a, RedisModuleString **b, int n) {
    for (int i = 0; i < n; i++) {
        if (RedisModule_StringCompare(a[i], b[i]) != 0) return 0;
    }
    return 1;
}

/* The same request: a re-sent command (SmartRedis re-sends on a socket timeout). The
 * very same model/script and input tensor objects, so the same values. */
static int same_job(const Job *a, const Job *b) {
    if (a->kind != b->kind || a->call != b->call || a->variadic != b->variadic ||
        a->model != b->model || a->script != b->script || a->ninputs != b->ninputs ||
        a->noutputs != b->noutputs || a->nkeys != b->nkeys || a->nargs != b->nargs) {
        return 0;
    }
    if (RedisModule_StringCompare(a->key, b->key) != 0) return 0;
    if ((a->fn == NULL) != (b->fn == NULL)) return 0;
    if (a->fn && RedisModule_StringCompare(a->fn, b->fn) != 0) return 0;
    for (int i = 0; i < a->ninputs; i++) {
        if (a->inputs[i] != b->inputs[i]) return 0;
    }
    return same_strings(a->outputs, b->outputs, a->noutputs) &&
           same_strings(a->keys, b->keys, a->nkeys) && same_strings(a->args, b->args, a->nargs);
}

static Job *find_same(Device *d, const Job *job) {
    for (Job *j = d->queue.head; j; j = j->next) {
        if (same_job(j, job)) return j;
    }
    for (Job *j = d->running.head; j; j = j->next) {
        if (same_job(j, job)) return j;
    }
    return NULL;
}

/* --- blocked callers ----------------------------------------------------------------- */

static int caller_reply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    const Outcome *o = RedisModule_GetBlockedClientPrivateData(ctx);
    if (o == NULL) return RedisModule_ReplyWithError(ctx, "ERR the job ended without an answer");
    if (o->status == OUTCOME_OK) return RedisModule_ReplyWithSimpleString(ctx, "OK");
    if (o->status == OUTCOME_TIMEDOUT) return RedisModule_ReplyWithSimpleString(ctx, "TIMEDOUT");
    return RedisModule_ReplyWithError(ctx, o->error);
}

static void caller_free(RedisModuleCtx *ctx, void *privdata) {
    (void)ctx;
    RedisModule_Free(privdata);
}

static void unlink_job(Job *job) {
    JobList *list = job->state == JOB_QUEUED ? &job->device->queue : &job->device->running;
    job_list_remove(list, job);
}

/* Detach the waiter whose blocked client is bc; *owner is its job. */
static Waiter *detach_waiter(RedisModuleBlockedClient *bc, Job **owner) {
    for (Device *d = devices_first(); d; d = d->next) {
        JobList *lists[2] = {&d->queue, &d->running};
        for (int l = 0; l < 2; l++) {
            for (Job *j = lists[l]->head; j; j = j->next) {
                for (Waiter **at = &j->waiters; *at; at = &(*at)->next) {
                    if ((*at)->bc != bc) continue;
                    Waiter *w = *at;
                    *at = w->next;
                    *owner = j;
                    return w;
                }
            }
        }
    }
    return NULL;
}

/* A caller disconnected: it stops waiting. A queued job nobody waits for is dropped; a
 * running one stays until its worker reports (its outputs are then discarded). */
static void caller_gone(RedisModuleCtx *ctx, RedisModuleBlockedClient *bc) {
    (void)ctx;
    Job *job = NULL;
    Waiter *w = detach_waiter(bc, &job);
    if (w == NULL) return; /* already answered: its reply is on the way */
    RedisModule_Free(w);
    RedisModule_UnblockClient(bc, NULL);
    if (job->waiters == NULL && job->state == JOB_QUEUED) {
        unlink_job(job);
        job_free(job);
    }
}

static void resolve(Job *job, int status, const char *error) {
    unlink_job(job);
    size_t len = error ? strlen(error) : 0;
    for (Waiter *w = job->waiters, *next; w; w = next) {
        next = w->next;
        Outcome *o = RedisModule_Alloc(sizeof(Outcome) + len + 1);
        o->status = status;
        memcpy(o->error, error ? error : "", len + 1);
        RedisModule_UnblockClient(w->bc, o);
        RedisModule_Free(w);
    }
    job->waiters = NULL;
    job_free(job);
}

void job_resolve_ok(Job *job) { resolve(job, OUTCOME_OK, NULL); }
void job_resolve_timedout(Job *job) { resolve(job, OUTCOME_TIMEDOUT, NULL); }
void job_resolve_error(Job *job, const char *error) { resolve(job, OUTCOME_ERROR, error); }

/* --- deadlines ----------------------------------------------------------------------- */

static int timed_out(const Job *job, mstime_t now) {
    return job->timeout_ms > 0 && now - job->queued_at >= job->timeout_ms;
}

static mstime_t orphan_deadline(const Job *job) {
    const Device *d = job->device;
    if (d->workers > 0) return LLONG_MAX;
    mstime_t since = job->queued_at > d->orphaned_since ? job->queued_at : d->orphaned_since;
    if (config_worker_wait_ms > LLONG_MAX - since) return LLONG_MAX; /* no wrap-around */
    return since + config_worker_wait_ms;
}

/* Compared as a span: queued_at + a TIMEOUT near LLONG_MAX would overflow. */
static mstime_t job_deadline(const Job *job) {
    mstime_t due = orphan_deadline(job);
    if (job->timeout_ms > 0 && job->timeout_ms < due - job->queued_at) {
        due = job->queued_at + job->timeout_ms;
    }
    return due;
}

static void fail_orphan(Job *job) {
    char error[256];
    error_text(error, sizeof error,
               "ERR no inference worker serves device %s on this database (sscontainer starts "
               "one beside every database it launches; start one with python -m "
               "sscontainer.ml.worker)",
               job->device->name);
    job_resolve_error(job, error);
}

static void on_deadline(RedisModuleCtx *ctx, void *data);

static void arm(RedisModuleCtx *ctx, mstime_t due) {
    if (due == LLONG_MAX) return;
    if (deadline_armed && deadline_due <= due) return;
    if (deadline_armed) RedisModule_StopTimer(ctx, deadline_timer, NULL);
    mstime_t delay = due - RedisModule_Milliseconds();
    deadline_timer = RedisModule_CreateTimer(ctx, delay > 0 ? delay : 1, on_deadline, NULL);
    deadline_armed = 1;
    deadline_due = due;
}

/* Answer the queued jobs whose deadline passed; re-arm for the next one. */
static void on_deadline(RedisModuleCtx *ctx, void *data) {
    (void)data;
    deadline_armed = 0;
    mstime_t now = RedisModule_Milliseconds(), next = LLONG_MAX;
    for (Device *d = devices_first(); d; d = d->next) {
        for (Job *job = d->queue.head, *after; job; job = after) {
            after = job->next;
            if (timed_out(job, now)) {
                job_resolve_timedout(job);
            } else if (now >= orphan_deadline(job)) {
                fail_orphan(job);
            } else {
                mstime_t due = job_deadline(job); /* the branches above free job */
                if (due < next) next = due;
            }
        }
    }
    arm(ctx, next);
}

void jobs_schedule(RedisModuleCtx *ctx) {
    mstime_t next = LLONG_MAX;
    for (Device *d = devices_first(); d; d = d->next) {
        for (Job *job = d->queue.head; job; job = job->next) {
            mstime_t due = job_deadline(job);
            if (due < next) next = due;
        }
    }
    arm(ctx, next);
}

/* --- submitting and taking ----------------------------------------------------------- */

int client_may_block(RedisModuleCtx *ctx) {
    int flags = RedisModule_GetContextFlags(ctx);
    return !(flags & (REDISMODULE_CTX_FLAGS_MULTI | REDISMODULE_CTX_FLAGS_LUA |
                      REDISMODULE_CTX_FLAGS_DENY_BLOCKING));
}

int jobs_submit(RedisModuleCtx *ctx, Job *job) {
    if (!client_may_block(ctx)) {
        job_free(job);
        return RedisModule_ReplyWithError(
            ctx, "ERR this command waits for the inference worker and cannot run inside "
                 "MULTI/EXEC or a script: send it on its own");
    }
    char queue[DEVICE_MAX];
    device_queue(job_device(job), queue);
    Device *d = device_get(queue);
    RedisModuleBlockedClient *bc = RedisModule_BlockClient(ctx, caller_reply, NULL, caller_free, 0);
    if (bc == NULL) {
        job_free(job);
        return RedisModule_ReplyWithError(ctx, "ERR the server refused to block this client");
    }
    RedisModule_SetDisconnectCallback(bc, caller_gone);
    Waiter *w = RedisModule_Alloc(sizeof *w);
    w->bc = bc;
    Job *same = find_same(d, job);
    if (same != NULL) { /* a re-sent request: wait for the same run */
        w->next = same->waiters;
        same->waiters = w;
        job_free(job);
        return REDISMODULE_OK;
    }
    w->next = NULL;
    job->waiters = w;
    job->id = ++last_job_id;
    job->device = d;
    job->state = JOB_QUEUED;
    job->queued_at = RedisModule_Milliseconds();
    job_list_push(&d->queue, job);
    arm(ctx, job_deadline(job));
    devices_wake_taker(ctx, d);
    return REDISMODULE_OK;
}

Job *jobs_take(Device *d, unsigned long long worker) {
    mstime_t now = RedisModule_Milliseconds();
    while (d->queue.head != NULL) {
        Job *job = d->queue.head;
        if (timed_out(job, now)) {
            job_resolve_timedout(job);
            continue;
        }
        job_list_remove(&d->queue, job);
        job->state = JOB_RUNNING;
        job->worker = worker;
        job_list_push(&d->running, job);
        return job;
    }
    return NULL;
}

Job *jobs_find_running(uint64_t id) {
    for (Device *d = devices_first(); d; d = d->next) {
        for (Job *job = d->running.head; job; job = job->next) {
            if (job->id == id) return job;
        }
    }
    return NULL;
}
