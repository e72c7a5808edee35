/* Jobs: runs of a model or script that wait in a device queue until an inference
 * worker takes them (SSC.JOBTAKE) and reports them (SSC.JOBDONE / SSC.JOBFAIL).
 * The contract with the worker is in ../PROTOCOL.md. Everything here runs on the
 * server's main thread. */
#ifndef SSCAI_JOBS_H
#define SSCAI_JOBS_H

#include "api.h"
#include "args.h"
#include "model.h"
#include "script.h"
#include "tensor.h"

enum job_kind { JOB_MODEL, JOB_SCRIPT };
/* How a script function is called: fn(*inputs); fn(*inputs[:v], inputs[v:]) for
 * SCRIPTRUN's "$"; fn(inputs, keys, args) for SCRIPTEXECUTE. Models: positional. */
enum job_call { CALL_POSITIONAL, CALL_LIST, CALL_EXECUTE };
enum job_state { JOB_QUEUED, JOB_RUNNING };

typedef struct Waiter {
    RedisModuleBlockedClient *bc;
    struct Waiter *next;
} Waiter;

struct Device;

typedef struct Job {
    uint64_t id;
    int kind, call, state;
    int variadic; /* CALL_LIST: index of the first input of the list */
    RedisModuleString *key;
    Model *model;   /* JOB_MODEL: one reference */
    Script *script; /* JOB_SCRIPT: one reference */
    RedisModuleString *fn;
    int ninputs, noutputs, nkeys, nargs;
    Tensor **inputs; /* one reference each */
    RedisModuleString **outputs, **keys, **args;
    struct Device *device;
    mstime_t queued_at;
    long long timeout_ms; /* 0: none */
    unsigned long long worker; /* client id of the worker running it */
    Waiter *waiters;
    struct Job *prev, *next;
} Job;

typedef struct JobList {
    Job *head, *tail;
    long long len;
} JobList;

typedef struct Take {
    RedisModuleBlockedClient *bc;
    RedisModuleTimerID timer;
    struct Device *device;
    struct Take *next;
} Take;

typedef struct Device {
    char name[DEVICE_MAX];
    JobList queue, running;
    Take *takers;           /* workers blocked in SSC.JOBTAKE, oldest first */
    int workers;            /* connections registered for this device */
    mstime_t orphaned_since; /* since when no worker has been registered */
    struct Device *next;
} Device;

/* --- jobs.c ---------------------------------------------------------------------------- */

/* An empty job for key (held); the caller fills it and hands it to jobs_submit. */
Job *job_new(int kind, RedisModuleString *key);
void job_free(Job *job);
const char *job_what(const Job *job); /* "model" or "script" */
RunStats *job_stats(Job *job);

/* Whether the calling client may be blocked (not inside MULTI, a script, or a context
 * that denies blocking). */
int client_may_block(RedisModuleCtx *ctx);

/* Queue job (or join an identical queued/running one) and block the calling client
 * until it resolves. Replies (an error) itself when the client cannot block. */
int jobs_submit(RedisModuleCtx *ctx, Job *job);

/* Answer every waiter and free the job (unlinking it from its device list). */
void job_resolve_ok(Job *job);
void job_resolve_timedout(Job *job);
void job_resolve_error(Job *job, const char *error);

/* The next queued job of d, moved to its running list for worker; jobs that waited
 * past their TIMEOUT are answered +TIMEDOUT on the way. NULL when none is left. */
Job *jobs_take(Device *d, unsigned long long worker);
Job *jobs_find_running(uint64_t id);

/* Re-arm the deadline timer (after the worker count of a device changed). */
void jobs_schedule(RedisModuleCtx *ctx);

/* --- devices.c ------------------------------------------------------------------------- */

Device *devices_first(void);
Device *device_get(const char *name); /* created on first use */
void job_list_push(JobList *list, Job *job);
void job_list_remove(JobList *list, Job *job);

/* Register the calling connection as a worker for device (SSC.JOBTAKE). NULL with *err
 * when it already serves another device. */
Device *workers_register(unsigned long long client, const char *device, char *err, size_t size);

/* A worker blocked in SSC.JOBTAKE: woken (unblocked) when a job arrives on its device,
 * after block_ms, or dropped when it disconnects. */
void devices_add_taker(RedisModuleCtx *ctx, Device *d, RedisModuleBlockedClient *bc,
                       long long block_ms);
void devices_wake_taker(RedisModuleCtx *ctx, Device *d);

/* Subscribe to client disconnections: a worker's running jobs fail when it goes. */
int devices_init(RedisModuleCtx *ctx);

#endif
