/* Device queues, the workers serving them, and workers blocked waiting for work. */
#include <stdio.h>
#include <string.h>

#include "jobs.h"

typedef struct Worker {
    unsigned long long client;
    Device *device;
    struct Worker *next;
} Worker;

static Device *devices = NULL;
static Worker *workers = NULL;

Device *devices_first(void) { return devices; }

Device *device_get(const char *name) {
    Device **at = &devices;
    for (; *at; at = &(*at)->next) {
        if (strcmp((*at)->name, name) == 0) return *at;
    }
    Device *d = RedisModule_Calloc(1, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->orphaned_since = RedisModule_Milliseconds();
    *at = d; /* appended: SSC.WORKERS lists devices in the order they were first seen */
    return d;
}

void job_list_push(JobList *list, Job *job) {
    job->next = NULL;
    job->prev = list->tail;
    if (list->tail) {
        list->tail->next = job;
    } else {
        list->head = job;
    }
    list->tail = job;
    list->len++;
}

void job_list_remove(JobList *list, Job *job) {
    if (job->prev) {
        job->prev->next = job->next;
    } else {
        list->head = job->next;
    }
    if (job->next) {
        job->next->prev = job->prev;
    } else {
        list->tail = job->prev;
    }
    job->prev = job->next = NULL;
    list->len--;
}

/* --- workers ------------------------------------------------------------------------- */

Device *workers_register(unsigned long long client, const char *device, char *err, size_t size) {
    for (Worker *w = workers; w; w = w->next) {
        if (w->client != client) continue;
        if (strcmp(w->device->name, device) == 0) return w->device;
        error_text(err, size,
                   "ERR this connection already takes jobs for device %s: use one connection "
                   "per device",
                   w->device->name);
        return NULL;
    }
    Worker *w = RedisModule_Alloc(sizeof *w);
    w->client = client;
    w->device = device_get(device);
    w->device->workers++;
    w->next = workers;
    workers = w;
    return w->device;
}

/* A worker's connection closed: the jobs it took and did not report fail now. */
static void worker_gone(RedisModuleCtx *ctx, unsigned long long client) {
    for (Worker **at = &workers; *at; at = &(*at)->next) {
        Worker *w = *at;
        if (w->client != client) continue;
        *at = w->next;
        Device *d = w->device;
        RedisModule_Free(w);
        for (Job *job = d->running.head, *after; job; job = after) {
            after = job->next;
            if (job->worker != client) continue;
            char name[128], error[320];
            printable_name(job->key, name, sizeof name);
            error_text(error, sizeof error,
                       "ERR the inference worker running this job exited before it finished "
                       "(%s '%s')",
                       job_what(job), name);
            job_resolve_error(job, error);
        }
        if (--d->workers == 0) {
            d->orphaned_since = RedisModule_Milliseconds();
            jobs_schedule(ctx); /* queued jobs now have a no-worker deadline */
        }
        return;
    }
}

static void on_client_change(RedisModuleCtx *ctx, RedisModuleEvent eid, uint64_t subevent,
                             void *data) {
    (void)eid;
    if (subevent != REDISMODULE_SUBEVENT_CLIENT_CHANGE_DISCONNECTED || data == NULL) return;
    const RedisModuleClientInfo *info = data;
    worker_gone(ctx, info->id);
}

int devices_init(RedisModuleCtx *ctx) {
    RedisModuleEvent event = {REDISMODULE_EVENT_CLIENT_CHANGE, 1};
    return RedisModule_SubscribeToServerEvent(ctx, event, on_client_change);
}

/* --- workers waiting for work -------------------------------------------------------- */

static void unlink_taker(Take *t) {
    for (Take **at = &t->device->takers; *at; at = &(*at)->next) {
        if (*at == t) {
            *at = t->next;
            return;
        }
    }
}

/* Let the worker's SSC.JOBTAKE answer (its reply callback takes what is queued). */
static void release_taker(Take *t) {
    unlink_taker(t);
    RedisModule_UnblockClient(t->bc, NULL);
    RedisModule_Free(t);
}

static void taker_expired(RedisModuleCtx *ctx, void *data) {
    (void)ctx;
    release_taker(data);
}

static void taker_gone(RedisModuleCtx *ctx, RedisModuleBlockedClient *bc) {
    for (Device *d = devices; d; d = d->next) {
        for (Take *t = d->takers; t; t = t->next) {
            if (t->bc != bc) continue;
            RedisModule_StopTimer(ctx, t->timer, NULL);
            release_taker(t);
            return;
        }
    }
}

void devices_add_taker(RedisModuleCtx *ctx, Device *d, RedisModuleBlockedClient *bc,
                       long long block_ms) {
    Take *t = RedisModule_Alloc(sizeof *t);
    t->bc = bc;
    t->device = d;
    t->next = NULL;
    t->timer = RedisModule_CreateTimer(ctx, block_ms, taker_expired, t);
    Take **at = &d->takers;
    while (*at) at = &(*at)->next;
    *at = t;
    RedisModule_SetDisconnectCallback(bc, taker_gone);
}

void devices_wake_taker(RedisModuleCtx *ctx, Device *d) {
    Take *t = d->takers;
    if (t == NULL) return;
    RedisModule_StopTimer(ctx, t->timer, NULL);
    release_taker(t);
}
