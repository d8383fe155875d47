/* sync_loop.c - push a sensor database once, or with follow again every interval for as long
 * as the caller lets it run, reconnecting with back-off (1 s doubling to 60 s) after a failure:
 * the loop of `tlsaudit sync [--follow]` and of the capture's own sync (sync_to). What happens
 * is told through the caller's say(): a line per push that carried rows, a line per failure. */
#include <stdio.h>
#include <time.h>

#include "central_int.h"
#include "tlsaudit/central.h"

#define SYNC_BACKOFF_MAX_S 60.0

/* Sleep s seconds in short steps, returning early once *stop is set. */
static void sync_sleep(double s, atomic_int *stop)
{
    for (double left = s; left > 0 && !(stop && atomic_load(stop)); left -= 0.1) {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* One line saying what a push carried. */
static void sync_news(const struct ta_sync_loop *l, const struct ta_central *c,
                      const struct ta_sync_stats *s)
{
    char line[512];
    snprintf(line, sizeof line, "%s: %llu runs, %llu handshakes, %llu mail sessions, "
             "%llu DNS answers, %llu inventory rows, %llu rollup days, %llu changes "
             "in %llu transactions", ta_central_target(c), (unsigned long long)s->runs,
             (unsigned long long)s->handshakes, (unsigned long long)s->mail_sessions,
             (unsigned long long)s->dns_answers, (unsigned long long)s->inventory,
             (unsigned long long)s->rollup_days, (unsigned long long)s->changes,
             (unsigned long long)s->batches);
    l->say(l->ctx, false, line);
}

/* See central.h. */
int ta_sync_loop(const struct ta_sync_loop *l, sqlite3 *db)
{
    struct ta_central *c = NULL;
    char err[TA_ERRBUF_SIZE], line[TA_ERRBUF_SIZE + 64];
    atomic_int *stop = l->opts.stop;
    double backoff = 1.0;
    int status = 0;
    do {
        struct ta_sync_stats st = { 0 };
        int rc = c ? TA_OK : ta_central_open(l->to, &c, err);
        if (rc == TA_OK)
            rc = ta_sync_push(c, db, l->db_path, &l->opts, &st, err);
        if (rc == TA_OK) {
            if (!l->follow || st.batches > 1)
                sync_news(l, c, &st);
            backoff = 1.0;
            status = 0;
            if (l->follow)
                sync_sleep(l->interval_s, stop);
            continue;
        }
        l->say(l->ctx, true, err);
        status = rc == TA_ERR_ARG ? 2 : 1;
        if (!l->follow || rc == TA_ERR_ARG)
            break;
        if (ta_central_broken(c)) {
            ta_central_close(c);
            c = NULL;
        }
        snprintf(line, sizeof line, "retrying in %.0f s", backoff);
        l->say(l->ctx, true, line);
        sync_sleep(backoff, stop);
        backoff = backoff * 2 > SYNC_BACKOFF_MAX_S ? SYNC_BACKOFF_MAX_S : backoff * 2;
    } while (l->follow && !(stop && *stop));
    ta_central_close(c);
    return stop && *stop ? 0 : status;
}
