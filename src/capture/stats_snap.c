/* stats_snap.c - a reading thread's counters handed to the store writer's tick (capture_int.h):
 * the one way every source (one-thread file, file with engine threads, live workers) keeps its
 * run row current while it runs. A lock per publishing thread: the writer copies, never waits
 * on a reader for longer than a struct copy. */
#include "capture_int.h"

/* See capture_int.h. */
void ta__snap_init(struct ta__snap *s)
{
    pthread_mutex_init(&s->mu, NULL);
    s->next_us = 0;
}

/* See capture_int.h. */
void ta__snap_destroy(struct ta__snap *s)
{
    pthread_mutex_destroy(&s->mu);
}

/* See capture_int.h. */
bool ta__snap_due(const struct ta__snap *s, uint64_t now)
{
    return now >= s->next_us;
}

/* See capture_int.h. */
void ta__snap_put(struct ta__snap *s, const struct ta_run_stats *rs, uint64_t now)
{
    pthread_mutex_lock(&s->mu);
    s->rs = *rs;
    pthread_mutex_unlock(&s->mu);
    s->next_us = now + TA_SNAP_INTERVAL_US;
}

/* See capture_int.h. */
void ta__snap_get(struct ta__snap *s, struct ta_run_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->rs;
    pthread_mutex_unlock(&s->mu);
}

/* See capture_int.h. */
bool ta__snap_update_due(uint64_t *next, uint64_t now_us)
{
    if (*next == 0)
        *next = now_us + TA_STATS_INTERVAL_S * 1000000ull;
    if (now_us < *next)
        return false;
    *next = now_us + TA_STATS_INTERVAL_S * 1000000ull;
    return true;
}
