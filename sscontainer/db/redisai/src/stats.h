/* Run statistics of a model or script, as AI.INFO reports them. They belong to the
 * stored object (storing the key again starts from zero, as in RedisAI) and are not
 * persisted. Updated and read on the main thread only. */
#ifndef SSCAI_STATS_H
#define SSCAI_STATS_H

typedef struct RunStats {
    long long duration_us;
    long long samples;
    long long calls;
    long long errors;
} RunStats;

#endif
