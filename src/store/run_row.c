/* run_row.c - the runs table: one row per capture, begun at its start, its counters rewritten
 * periodically and finally at its end. The counters come from the one list in counters.h. */
#include <stdio.h>
#include <string.h>

#include "store_int.h"
#include "tlsaudit/clock.h"
#include "tlsaudit/store.h"

#ifndef TA_VERSION
#define TA_VERSION "unknown"
#endif

/* See store.h. The run row is committed at once so that a query during a long live capture
 * already lists it. */
int ta_store_run_begin(struct ta_store *st, const char *source, const char *filter,
                       int64_t *run_id)
{
    char started[32];
    sqlite3_stmt *s = NULL;
    int rc = TA_ERR_IO;
    ta__iso_time_us(ta_clock_wall_us(), started, sizeof started);
    if (ta__store_batch_begin(st) != TA_OK)
        return TA_ERR_IO;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO runs(source, filter, started, tool_version, clean,"
                           " sensor) VALUES (?, ?, ?, ?, 0, ?)", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, source ? source : "", -1, SQLITE_TRANSIENT);
        if (filter)
            sqlite3_bind_text(s, 2, filter, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, started, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 4, TA_VERSION, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, st->sensor, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_DONE) {
            st->run_id = sqlite3_last_insert_rowid(st->db);
            rc = TA_OK;
        }
    }
    if (rc != TA_OK)
        TA_LOG(TA_LOG_ERROR, "%s: run: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    if (run_id)
        *run_id = rc == TA_OK ? st->run_id : 0;
    if (ta_store_commit(st) != TA_OK)
        rc = TA_ERR_IO;
    ta__store_o365_run_begin(st, rc == TA_OK);
    return rc;
}

/* "packets = ?1, bytes = ?2, ..." for every counter of the list, into buf. */
static void counter_assignments(char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < TA_RUN_COUNTER_COUNT && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s = ?%d", i ? ", " : "",
                                ta_run_counter_names[i], i + 1);
}

/* See store_int.h. */
int ta__store_prepare_run(struct ta_store *st)
{
    char set[1024], sql[1280];
    int n = TA_RUN_COUNTER_COUNT;
    counter_assignments(set, sizeof set);
    snprintf(sql, sizeof sql, "UPDATE runs SET %s WHERE id = ?%d", set, n + 1);
    int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->upd_run, NULL);
    if (rc == SQLITE_OK) {
        snprintf(sql, sizeof sql, "UPDATE runs SET %s, ended = ?%d, clean = ?%d, error = ?%d "
                 "WHERE id = ?%d", set, n + 1, n + 2, n + 3, n + 4);
        rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->end_run, NULL);
    }
    return rc == SQLITE_OK ? TA_OK : TA_ERR_IO;
}

/* Bind the counters of rs to parameters 1..TA_RUN_COUNTER_COUNT of s, in list order. */
static void bind_run_stats(sqlite3_stmt *s, const struct ta_run_stats *rs)
{
    uint64_t v[TA_RUN_COUNTER_COUNT];
    ta_run_stats_values(rs, v);
    for (int i = 0; i < TA_RUN_COUNTER_COUNT; i++)
        sqlite3_bind_int64(s, i + 1, (sqlite3_int64)v[i]);
}

/* See store.h. The update joins the open batch; it is committed with it. */
int ta_store_run_update(struct ta_store *st, const struct ta_run_stats *rs)
{
    int rc = TA_OK;
    if (st->run_id == 0)
        return TA_ERR_ARG;
    if (ta__store_batch_begin(st) != TA_OK)
        return TA_ERR_IO;
    bind_run_stats(st->upd_run, rs);
    sqlite3_bind_int64(st->upd_run, TA_RUN_COUNTER_COUNT + 1, st->run_id);
    if (sqlite3_step(st->upd_run) != SQLITE_DONE) {
        TA_LOG(TA_LOG_ERROR, "%s: run update: %s", st->path, sqlite3_errmsg(st->db));
        rc = TA_ERR_IO;
    }
    sqlite3_reset(st->upd_run);
    return rc;
}

/* See store.h. Written with one statement prepared per call: a few times a minute. */
int ta_store_run_workers(struct ta_store *st, const struct ta_worker_count *w, unsigned n)
{
    char json[TA_STORE_WORKERS_MAX * 64 + 4];  /* 62 bytes per worker at most */
    size_t off = 0;
    sqlite3_stmt *s = NULL;
    int rc = TA_ERR_IO;

    if (st->run_id == 0 || n == 0 || n > TA_STORE_WORKERS_MAX)
        return TA_ERR_ARG;
    json[off++] = '[';
    for (unsigned i = 0; i < n; i++)
        off += (size_t)snprintf(json + off, sizeof json - off, "%s{\"packets\":%llu,\"drops\":%llu}",
                                i ? "," : "", (unsigned long long)w[i].packets,
                                (unsigned long long)w[i].drops);
    json[off++] = ']';
    if (ta__store_batch_begin(st) != TA_OK)
        return TA_ERR_IO;
    if (sqlite3_prepare_v2(st->db, "UPDATE runs SET workers = ?1 WHERE id = ?2", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(s, 1, json, (int)off, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, st->run_id);
        if (sqlite3_step(s) == SQLITE_DONE)
            rc = TA_OK;
    }
    if (rc != TA_OK)
        TA_LOG(TA_LOG_ERROR, "%s: run workers: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return rc;
}

/* The final counters, end time, clean flag and error of the run row, committed. */
static int run_end_row(struct ta_store *st, const struct ta_run_stats *rs, bool clean,
                       const char *error)
{
    char ended[32];
    int rc = TA_OK;
    if (st->run_id == 0)
        return TA_ERR_ARG;
    if (ta__store_batch_begin(st) != TA_OK)
        return TA_ERR_IO;
    ta__iso_time_us(ta_clock_wall_us(), ended, sizeof ended);
    bind_run_stats(st->end_run, rs);
    sqlite3_bind_text(st->end_run, TA_RUN_COUNTER_COUNT + 1, ended, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st->end_run, TA_RUN_COUNTER_COUNT + 2, clean ? 1 : 0);
    if (error)
        sqlite3_bind_text(st->end_run, TA_RUN_COUNTER_COUNT + 3, error, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st->end_run, TA_RUN_COUNTER_COUNT + 3);
    sqlite3_bind_int64(st->end_run, TA_RUN_COUNTER_COUNT + 4, st->run_id);
    if (sqlite3_step(st->end_run) != SQLITE_DONE) {
        TA_LOG(TA_LOG_ERROR, "%s: run end: %s", st->path, sqlite3_errmsg(st->db));
        rc = TA_ERR_IO;
    }
    sqlite3_reset(st->end_run);
    if (ta_store_commit(st) != TA_OK)
        rc = TA_ERR_IO;
    return rc;
}

/* See store.h. Then decides whether the run's Office 365 verdicts need the pass (store_o365.c). */
int ta_store_run_end(struct ta_store *st, const struct ta_run_stats *rs, bool clean,
                     const char *error)
{
    int rc = run_end_row(st, rs, clean, error);
    ta__store_o365_run_end(st);
    return rc;
}

/* See store.h. */
void ta_store_set_sensor(struct ta_store *st, const char *name)
{
    snprintf(st->sensor, sizeof st->sensor, "%s", name ? name : "");
}
