/* service.c - what a capture that runs for months needs besides reading packets: a heartbeat in
 * its run row (so `tlsaudit status` can tell a running capture from a dead one and say how it
 * does), the last error it logged, and SIGHUP: re-read the --config file and the endpoint list
 * in force, and apply what can change without stopping the capture.
 *
 * Threads: everything here but the filter hand-over runs on the store writer thread, from its
 * tick (ta__service_tick, at least every TA_WRITER_TICK_US), which owns the store. A new BPF
 * filter is published in a box (lock + generation number); each reader installs it on its own
 * handle between two reads (ta__filter_follow), because libpcap's handle, filter included, is
 * not to be touched by another thread while it reads. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_int.h"
#include "tlsaudit/clock.h"
#include "tlsaudit/common.h"

#define HB_INTERVAL_US (TA_HEARTBEAT_S * 1000000ull)
#define RATE_WINDOW_US 60000000ull    /* handshakes per second and drops over the last minute */

/* Stores the error lines the capture logs (ta_log_observe), for the heartbeat. */
static void on_error_line(void *arg, const char *line)
{
    struct ta__service *s = arg;
    pthread_mutex_lock(&s->err_mu);
    snprintf(s->last_error, sizeof(s->last_error), "%s", line);
    pthread_mutex_unlock(&s->err_mu);
}

/* See capture_int.h. */
int ta__service_init(struct ta__service *s, struct ta__capture_opts *o)
{
    memset(s, 0, sizeof(*s));
    s->o = o;
    s->cur = &o->cfg;
    pthread_mutex_init(&s->err_mu, NULL);
    pthread_mutex_init(&s->filter.mu, NULL);
    atomic_init(&s->filter.gen, 0);
    snprintf(s->filter.text, sizeof(s->filter.text), "%s", o->filter ? o->filter : "");
    o->filters = &s->filter;
    ta_log_observe(on_error_line, s);
    return TA_OK;
}

/* Run one UPDATE or SELECT-less statement on db with up to n int64/text values; used at the
 * run's start only. TA_OK or TA_ERR_IO. */
static int exec_begun(sqlite3 *db, int64_t run_id, const char *host, const char *config,
                      uint64_t wall_us)
{
    sqlite3_stmt *st = NULL;
    char when[40];
    int rc = TA_ERR_IO;

    ta__service_iso(wall_us, when, sizeof(when));
    if (sqlite3_prepare_v2(db, "UPDATE runs SET pid = ?1, host = ?2, config = ?3, "
                           "heartbeat_us = ?4, heartbeat = ?5, hs_rate = 0, recent_drops = 0 "
                           "WHERE id = ?6", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)getpid());
        sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
        if (config)
            sqlite3_bind_text(st, 3, config, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)wall_us);
        sqlite3_bind_text(st, 5, when, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 6, run_id);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = TA_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* See capture_int.h. The row is written at once (autocommit: no batch is open yet), so a
 * status right after the run row appears already sees pid and host. */
int ta__service_run_begun(struct ta__service *s, struct ta_store *st, int64_t run_id)
{
    char host[256] = "";
    uint64_t wall = ta_clock_wall_us();

    s->run_id = run_id;
    s->next_hb_us = ta_clock_mono_us() + HB_INTERVAL_US;
    s->ring[0].t_us = ta_clock_mono_us();
    s->nring = 1;
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "unknown");
    if (exec_begun(ta_store_db(st), run_id, host, s->o->config, wall) != TA_OK) {
        TA_LOG(TA_LOG_WARN, "run %lld: cannot write pid and host: %s", (long long)run_id,
               sqlite3_errmsg(ta_store_db(st)));
        return TA_ERR_IO;
    }
    return TA_OK;
}

/* Read the run's counters back from its row (the sources' ticks keep them current): records
 * written and drops (the kernel's, ours, and packets the snap length cut short: what their
 * hellos said is lost as well). False when they cannot be read. */
static bool read_counters(struct ta__service *s, sqlite3 *db, struct ta__hb_sample *out)
{
    static const char sql[] = "SELECT handshakes, drops + if_drops, pool_exhausted + truncated "
                              "FROM runs WHERE id = ?1";
    bool ok = false;
    if (!s->sel && sqlite3_prepare_v2(db, sql, -1, &s->sel, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_int64(s->sel, 1, s->run_id);
    if (sqlite3_step(s->sel) == SQLITE_ROW) {
        out->records = (uint64_t)sqlite3_column_int64(s->sel, 0);
        out->drops = (uint64_t)sqlite3_column_int64(s->sel, 1) +
                     (uint64_t)sqlite3_column_int64(s->sel, 2);
        ok = true;
    }
    sqlite3_reset(s->sel);
    return ok;
}

/* The sample to measure the last minute from: the oldest kept that is at most a minute (plus
 * one interval) old; the ring keeps a sample per heartbeat. */
static const struct ta__hb_sample *window_start(const struct ta__service *s, uint64_t now_us)
{
    const struct ta__hb_sample *best = NULL;
    for (unsigned i = 0; i < s->nring; i++) {
        const struct ta__hb_sample *x = &s->ring[i];
        if (now_us - x->t_us <= RATE_WINDOW_US + HB_INTERVAL_US && (!best || x->t_us < best->t_us))
            best = x;
    }
    return best;
}

/* Write the heartbeat: time, rate and drops over the last minute, last error, reloads. Joins
 * the writer's open batch when there is one (committed with it within a second), else commits
 * on its own. */
static void heartbeat(struct ta__service *s, sqlite3 *db, uint64_t now_us)
{
    struct ta__hb_sample cur = { .t_us = now_us };
    const struct ta__hb_sample *from;
    double rate = 0;
    uint64_t drops = 0, wall = ta_clock_wall_us();
    char when[40], err[sizeof(s->last_error)];

    if (!read_counters(s, db, &cur))
        return;
    from = window_start(s, now_us);
    if (from && now_us > from->t_us) {
        rate = (double)(cur.records - from->records) * 1e6 / (double)(now_us - from->t_us);
        drops = cur.drops - from->drops;
    }
    s->ring[s->nring < TA_HB_SAMPLES ? s->nring++ : s->ring_next++ % TA_HB_SAMPLES] = cur;
    pthread_mutex_lock(&s->err_mu);
    memcpy(err, s->last_error, sizeof(err));
    pthread_mutex_unlock(&s->err_mu);
    ta__service_iso(wall, when, sizeof(when));
    if (!s->upd && sqlite3_prepare_v2(db, "UPDATE runs SET heartbeat_us = ?1, heartbeat = ?2, "
                                      "hs_rate = ?3, recent_drops = ?4, last_error = ?5, "
                                      "reloads = ?6, reloaded = ?7 WHERE id = ?8", -1, &s->upd,
                                      NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(s->upd, 1, (sqlite3_int64)wall);
    sqlite3_bind_text(s->upd, 2, when, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(s->upd, 3, rate);
    sqlite3_bind_int64(s->upd, 4, (sqlite3_int64)drops);
    if (err[0])
        sqlite3_bind_text(s->upd, 5, err, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s->upd, 5);
    sqlite3_bind_int(s->upd, 6, (int)s->reloads);
    if (s->reloaded[0])
        sqlite3_bind_text(s->upd, 7, s->reloaded, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s->upd, 7);
    sqlite3_bind_int64(s->upd, 8, s->run_id);
    if (sqlite3_step(s->upd) != SQLITE_DONE)
        TA_LOG(TA_LOG_DEBUG, "heartbeat: %s", sqlite3_errmsg(db));   /* busy: the next one */
    sqlite3_reset(s->upd);
}

/* See capture_int.h. */
void ta__service_tick(void *arg, struct ta_store *st, uint64_t now_us)
{
    struct ta__service *s = arg;

    if (s->src_tick)
        s->src_tick(s->src_arg, st, now_us);
    if (ta__capture_reload_take())
        ta__service_reload(s, st);
    if (now_us >= s->next_hb_us) {
        s->next_hb_us = now_us + HB_INTERVAL_US;
        heartbeat(s, ta_store_db(st), now_us);
    }
}

/* See capture_int.h. The last heartbeat carries what happened since the one before (a reload,
 * an error) into the row that the run's end then closes. */
void ta__service_end(struct ta__service *s, struct ta_store *st)
{
    if (st && s->run_id)
        heartbeat(s, ta_store_db(st), ta_clock_mono_us());
    sqlite3_finalize(s->sel);
    sqlite3_finalize(s->upd);
    s->sel = s->upd = NULL;
}

/* See capture_int.h. */
void ta__service_free(struct ta__service *s)
{
    if (!s->o)
        return;
    ta_log_observe(NULL, NULL);
    ta__service_end(s, NULL);
    if (s->cur != &s->o->cfg) {
        ta__config_free(&s->owned);
        s->cur = &s->o->cfg;
    }
    pthread_mutex_destroy(&s->err_mu);
    pthread_mutex_destroy(&s->filter.mu);
    s->o = NULL;
}

/* See capture_int.h. */
bool ta__filter_take(struct ta__filter_box *fb, unsigned *seen, char text[TA_FILTER_MAX])
{
    unsigned g;
    if (!fb || (g = atomic_load_explicit(&fb->gen, memory_order_acquire)) == *seen)
        return false;
    *seen = g;
    pthread_mutex_lock(&fb->mu);
    memcpy(text, fb->text, TA_FILTER_MAX);
    pthread_mutex_unlock(&fb->mu);
    return true;
}

/* See capture_int.h. */
void ta__filter_follow(struct ta__filter_box *fb, pcap_t *p, const char *name, unsigned *seen)
{
    char text[TA_FILTER_MAX];
    struct bpf_program prog;

    if (!ta__filter_take(fb, seen, text))
        return;
    if (pcap_compile(p, &prog, text, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        TA_LOG(TA_LOG_ERROR, "%s: new filter '%s': %s (the previous one stays)", name, text,
               pcap_geterr(p));
        return;
    }
    if (pcap_setfilter(p, &prog) < 0)
        TA_LOG(TA_LOG_ERROR, "%s: new filter '%s': %s", name, text, pcap_geterr(p));
    pcap_freecode(&prog);
}
