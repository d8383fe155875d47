/* sync_push.c - one push of a sensor database to the central store, table by table.
 *
 * handshakes, mail_sessions, dns_answers  rows are appended with growing ids: the watermark is
 *     the last id pushed; a batch is at most batch_rows rows and TA__PG_DAYS_BATCH days, whose
 *     partitions are made first.
 * runs        re-pushed from the oldest run still open (its counters move until it ends).
 * sync_changes  rows the triggers of schema 007 recorded: re-classified handshakes and mail
 *     sessions are pushed again, inventory rows that disappeared are deleted centrally.
 * inventory   rows with updated_us above the watermark (less TA__SYNC_LOOKBACK_US, against
 *     small wall-clock steps back), in (updated_us, id) order.
 * store_meta / endpoint_sets  replaced whole at every push (a few rows: sync_meta.c).
 * daily_rollups / daily_clients  per day: every day with a changed rollup row is replaced
 *     whole for this sensor (counts move between keys of a day when rows are re-classified);
 *     a day whose daily_clients retention pruned locally keeps its central ones.
 * Every batch is one central transaction, and its watermark is saved after its COMMIT. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sync_int.h"

#define TA__SYNC_LOOKBACK_US 2000000LL

static const struct ta__sync_table sync_runs = { "runs", "sensor, id", false };
static const struct ta__sync_table sync_append[] = {
    { "handshakes", "sensor, id, day", true },
    { "mail_sessions", "sensor, id, day", true },
    { "dns_answers", "sensor, id, day", true },
};
static const struct ta__sync_table sync_inventory = { "inventory", "sensor, id", false };
static const struct ta__sync_table sync_rollups = {
    "daily_rollups", "sensor, day, local_sensor, version, legacy, o365, o365_service, app", false };
static const struct ta__sync_table sync_clients = {
    "daily_clients",
    "sensor, day, local_sensor, version, legacy, o365, o365_service, app, client_ip", false };

static int sql_fail(struct ta__sync_ctx *x)
{
    snprintf(x->errbuf, TA_ERRBUF_SIZE, "%s: %s", x->path, sqlite3_errmsg(x->db));
    return TA_ERR_IO;
}

static bool stopped(const struct ta__sync_ctx *x)
{
    return x->opts->stop && atomic_load(x->opts->stop);
}

/* True for "YYYY-MM-DD" (digits and dashes where they belong). */
static bool day_ok(const char *d)
{
    if (!d || strlen(d) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? d[i] != '-' : (d[i] < '0' || d[i] > '9'))
            return false;
    return true;
}

/* One integer from a one-row SQLite query with up to two integer parameters. */
static int64_t sql_int(struct ta__sync_ctx *x, const char *sql, int64_t a, int64_t b, bool *err)
{
    sqlite3_stmt *s = NULL;
    int64_t v = 0;
    if (sqlite3_prepare_v2(x->db, sql, -1, &s, NULL) != SQLITE_OK) {
        *err = true;
        return 0;
    }
    sqlite3_bind_int64(s, 1, a);
    if (sqlite3_bind_parameter_count(s) >= 2)
        sqlite3_bind_int64(s, 2, b);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    else
        *err = true;
    sqlite3_finalize(s);
    return v;
}

/* The next batch of an append table after mark: the last id it holds (*hi) when it stops at
 * batch_rows rows or before a day beyond TA__PG_DAYS_BATCH; each day's partition is made.
 * Returns the number of rows (0: nothing new) or -1. */
static long append_plan(struct ta__sync_ctx *x, sqlite3_stmt *pre, const char *table,
                        int64_t mark, int64_t *hi, int64_t *hi_ts)
{
    char days[TA__PG_DAYS_BATCH][11];
    int nd = 0, rc;
    long rows = 0;
    sqlite3_reset(pre);
    sqlite3_bind_int64(pre, 1, mark);
    sqlite3_bind_int(pre, 2, x->opts->batch_rows);
    while ((rc = sqlite3_step(pre)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(pre, 1);
        int i = 0;
        if (!day_ok(d)) {
            snprintf(x->errbuf, TA_ERRBUF_SIZE, "%s: %s row %lld: ts is not a UTC time", x->path,
                     table, (long long)sqlite3_column_int64(pre, 0));
            sqlite3_reset(pre);
            return -1;
        }
        while (i < nd && strcmp(days[i], d) != 0)
            i++;
        if (i == nd) {
            if (nd == TA__PG_DAYS_BATCH)
                break;
            memcpy(days[nd++], d, 11);
        }
        *hi = sqlite3_column_int64(pre, 0);
        *hi_ts = sqlite3_column_int64(pre, 2);
        rows++;
    }
    sqlite3_reset(pre);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_fail(x), -1;
    for (int i = 0; i < nd; i++)
        if (ta__pg_ensure_day(x->c, table, days[i], x->errbuf) != TA_OK)
            return -1;
    return rows;
}

/* Push the new rows of one append table, batch by batch. */
static int pass_append(struct ta__sync_ctx *x, const struct ta__sync_table *t, uint64_t *count)
{
    struct ta__sync_cols tc;
    char sql[160], key[48];
    sqlite3_stmt *pre = NULL, *sel = NULL;
    int rc = TA_ERR_IO;
    int64_t mark = ta__sync_mark_get(x->db, x->tgt.target, t->name);
    if (ta__sync_cols_load(x, t, &tc) != TA_OK)
        return TA_ERR_IO;
    snprintf(sql, sizeof sql, "SELECT id, substr(ts, 1, 10), ts_us FROM %s WHERE id > ?1 ORDER "
             "BY id LIMIT ?2", t->name);
    if (sqlite3_prepare_v2(x->db, sql, -1, &pre, NULL) != SQLITE_OK) {
        sql_fail(x);
        goto out;
    }
    if (!(sel = ta__sync_select(x, &tc, "WHERE id > ?1 AND id <= ?2 ORDER BY id")))
        goto out;
    /* SQLite gives a new row max(id) + 1: a table retention emptied starts again at 1, under
     * the watermark, and those ids are already taken centrally. The ts_us of the row at the
     * watermark, kept with it, tells: say so rather than skip those rows or overwrite. */
    snprintf(key, sizeof key, "%s#ts", t->name);
    snprintf(sql, sizeof sql, "SELECT COALESCE((SELECT ts_us FROM %s WHERE id = ?1), -1) + 0 * ?2",
             t->name);
    bool err = false;
    int64_t mark_ts = ta__sync_mark_get(x->db, x->tgt.target, key);
    int64_t now_ts = sql_int(x, sql, mark, 0, &err);
    snprintf(sql, sizeof sql, "SELECT COALESCE(max(id), ?1) + 0 * ?2 FROM %s", t->name);
    int64_t top = err ? 0 : sql_int(x, sql, mark, 0, &err);
    if (err) {
        sql_fail(x);
        goto out;
    }
    if (top < mark || (mark_ts != 0 && now_ts != -1 && now_ts != mark_ts)) {
        snprintf(x->errbuf, TA_ERRBUF_SIZE, "%s: the ids of %s went back below what was synced "
                 "(id %lld): the table was emptied and its ids are being reused; sync this "
                 "database under a new --sensor name after clearing sync_targets and sync_state",
                 x->path, t->name, (long long)mark);
        goto out;
    }
    while (!stopped(x)) {
        int64_t hi = mark, hi_ts = 0, last = 0;
        uint64_t n = 0;
        long planned = append_plan(x, pre, t->name, mark, &hi, &hi_ts);
        if (planned < 0)
            goto out;
        if (planned == 0)
            break;
        sqlite3_reset(sel);
        sqlite3_bind_int64(sel, 1, mark);
        sqlite3_bind_int64(sel, 2, hi);
        if (ta__sync_txn_begin(x) != TA_OK || ta__sync_copy(x, &tc, sel, &n, &last, NULL) != TA_OK ||
            ta__sync_txn_commit(x) != TA_OK)
            goto out;
        sqlite3_reset(sel);
        /* the id and its ts_us move together (one SQLite transaction) */
        if (sqlite3_exec(x->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            sql_fail(x);
            goto out;
        }
        if (ta__sync_mark_set(x->db, x->path, x->tgt.target, key, hi_ts, x->errbuf) != TA_OK ||
            ta__sync_mark_set(x->db, x->path, x->tgt.target, t->name, hi, x->errbuf) != TA_OK ||
            sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            if (!sqlite3_get_autocommit(x->db))
                sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        mark = hi;
        *count += n;
    }
    rc = TA_OK;
out:
    if (rc != TA_OK)
        ta__pg_rollback(x->c);
    sqlite3_finalize(pre);
    sqlite3_finalize(sel);
    return rc;
}

/* Runs: everything from the oldest run still open; the watermark stops below it. */
static int pass_runs(struct ta__sync_ctx *x)
{
    struct ta__sync_cols tc;
    sqlite3_stmt *sel = NULL;
    bool err = false;
    uint64_t n = 0;
    int rc = TA_ERR_IO;
    int64_t mark = ta__sync_mark_get(x->db, x->tgt.target, "runs");
    int64_t next = sql_int(x, "SELECT COALESCE((SELECT min(id) FROM runs WHERE id > ?1 AND "
                              "ended IS NULL) - 1, (SELECT max(id) FROM runs), ?1)", mark, 0, &err);
    if (err)
        return sql_fail(x);
    if (ta__sync_cols_load(x, &sync_runs, &tc) != TA_OK ||
        !(sel = ta__sync_select(x, &tc, "WHERE id > ?1 ORDER BY id")))
        goto out;
    sqlite3_bind_int64(sel, 1, mark);
    if (ta__sync_txn_begin(x) != TA_OK || ta__sync_copy(x, &tc, sel, &n, NULL, NULL) != TA_OK ||
        ta__sync_txn_commit(x) != TA_OK)
        goto out;
    x->stats->runs += n;
    rc = next > mark ? ta__sync_mark_set(x->db, x->path, x->tgt.target, "runs", next, x->errbuf)
                     : TA_OK;
out:
    if (rc != TA_OK)
        ta__pg_rollback(x->c);
    sqlite3_finalize(sel);
    return rc;
}

/* Re-push the rows of table t listed in sync_changes (seq in (lo, hi]): their partitions first,
 * then one transaction. */
static int changes_rows(struct ta__sync_ctx *x, const struct ta__sync_table *t, int64_t lo,
                        int64_t hi, uint64_t *count)
{
    struct ta__sync_cols tc;
    char where[256], sql[384];
    sqlite3_stmt *days = NULL, *sel = NULL;
    uint64_t n = 0;
    int rc = TA_ERR_IO, src;
    snprintf(where, sizeof where, "WHERE id IN (SELECT row_id FROM sync_changes WHERE seq > ?1 "
             "AND seq <= ?2 AND tbl = '%s')", t->name);
    snprintf(sql, sizeof sql, "SELECT DISTINCT substr(ts, 1, 10) FROM %s %s", t->name, where);
    if (sqlite3_prepare_v2(x->db, sql, -1, &days, NULL) != SQLITE_OK) {
        sql_fail(x);
        goto out;
    }
    sqlite3_bind_int64(days, 1, lo);
    sqlite3_bind_int64(days, 2, hi);
    while ((src = sqlite3_step(days)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(days, 0);
        if (!day_ok(d) || ta__pg_ensure_day(x->c, t->name, d, x->errbuf) != TA_OK) {
            if (!day_ok(d))
                snprintf(x->errbuf, TA_ERRBUF_SIZE, "%s: %s: ts is not a UTC time", x->path,
                         t->name);
            goto out;
        }
    }
    if (src != SQLITE_DONE) {
        sql_fail(x);
        goto out;
    }
    if (ta__sync_cols_load(x, t, &tc) != TA_OK || !(sel = ta__sync_select(x, &tc, where)))
        goto out;
    sqlite3_bind_int64(sel, 1, lo);
    sqlite3_bind_int64(sel, 2, hi);
    if (ta__sync_txn_begin(x) != TA_OK || ta__sync_copy(x, &tc, sel, &n, NULL, NULL) != TA_OK ||
        ta__sync_txn_commit(x) != TA_OK)
        goto out;
    *count += n;
    rc = TA_OK;
out:
    sqlite3_finalize(days);
    sqlite3_finalize(sel);
    return rc;
}

/* Delete centrally the inventory rows recorded as gone in (lo, hi] that are still gone. */
static int changes_gone(struct ta__sync_ctx *x, int64_t lo, int64_t hi, uint64_t *count)
{
    sqlite3_stmt *s = NULL;
    char ids[32];
    int rc = TA_OK;
    if (sqlite3_prepare_v2(x->db, "SELECT c.row_id FROM sync_changes c WHERE c.seq > ?1 AND "
                                  "c.seq <= ?2 AND c.tbl = 'inventory' AND NOT EXISTS (SELECT 1 "
                                  "FROM inventory i WHERE i.id = c.row_id)", -1, &s, NULL) !=
        SQLITE_OK)
        return sql_fail(x);
    sqlite3_bind_int64(s, 1, lo);
    sqlite3_bind_int64(s, 2, hi);
    if (ta__sync_txn_begin(x) != TA_OK)
        rc = TA_ERR_IO;
    while (rc == TA_OK && sqlite3_step(s) == SQLITE_ROW) {
        snprintf(ids, sizeof ids, "%lld", (long long)sqlite3_column_int64(s, 0));
        const char *vals[2] = { x->tgt.sensor, ids };
        rc = ta__pg_params(x->c, "DELETE FROM tlsaudit.inventory WHERE sensor = $1 AND id = "
                                 "$2::bigint", 2, vals, "inventory", NULL, x->errbuf);
        (*count)++;
    }
    sqlite3_finalize(s);
    if (rc == TA_OK)
        rc = ta__sync_txn_commit(x);
    return rc;
}

/* The sync_changes rows after this target's watermark, batch by batch. */
static int pass_changes(struct ta__sync_ctx *x)
{
    int64_t mark = ta__sync_mark_get(x->db, x->tgt.target, "changes");
    while (!stopped(x)) {
        bool err = false;
        int64_t hi = sql_int(x, "SELECT COALESCE(max(seq), 0) FROM (SELECT seq FROM sync_changes "
                                "WHERE seq > ?1 ORDER BY seq LIMIT ?2)", mark,
                             x->opts->batch_rows, &err);
        if (err)
            return sql_fail(x);
        if (hi <= mark)
            break;
        if (changes_rows(x, &sync_append[0], mark, hi, &x->stats->changes) != TA_OK ||
            changes_rows(x, &sync_append[1], mark, hi, &x->stats->changes) != TA_OK ||
            changes_gone(x, mark, hi, &x->stats->changes) != TA_OK ||
            ta__sync_mark_set(x->db, x->path, x->tgt.target, "changes", hi, x->errbuf) != TA_OK) {
            ta__pg_rollback(x->c);
            return TA_ERR_IO;
        }
        mark = hi;
    }
    return TA_OK;
}

/* Inventory rows changed since the watermark, in (updated_us, id) order. */
static int pass_inventory(struct ta__sync_ctx *x)
{
    struct ta__sync_cols tc;
    sqlite3_stmt *sel = NULL;
    bool err = false;
    int rc = TA_ERR_IO;
    int64_t mark = ta__sync_mark_get(x->db, x->tgt.target, "inventory");
    int64_t snap = sql_int(x, "SELECT COALESCE(max(updated_us), 0) + 0 * ?1 FROM inventory", 0, 0,
                           &err);
    int64_t lo = mark > 0 ? mark - TA__SYNC_LOOKBACK_US : -1, cu = lo, ci = INT64_MAX;
    if (err)
        return sql_fail(x);
    if (snap <= mark)
        return TA_OK;   /* nothing written since: no re-push of the look-back window */
    if (ta__sync_cols_load(x, &sync_inventory, &tc) != TA_OK ||
        !(sel = ta__sync_select(x, &tc, "WHERE updated_us > ?1 AND updated_us <= ?2 AND "
                                        "(updated_us, id) > (?3, ?4) ORDER BY updated_us, id "
                                        "LIMIT ?5")))
        goto out;
    while (!stopped(x)) {
        uint64_t n = 0;
        int64_t lid = ci, lu = cu;
        sqlite3_reset(sel);
        sqlite3_bind_int64(sel, 1, lo);
        sqlite3_bind_int64(sel, 2, snap);
        sqlite3_bind_int64(sel, 3, cu);
        sqlite3_bind_int64(sel, 4, ci);
        sqlite3_bind_int(sel, 5, x->opts->batch_rows);
        if (ta__sync_txn_begin(x) != TA_OK || ta__sync_copy(x, &tc, sel, &n, &lid, &lu) != TA_OK ||
            ta__sync_txn_commit(x) != TA_OK)
            goto out;
        sqlite3_reset(sel);
        x->stats->inventory += n;
        if (n == 0)
            break;
        if (lu - 1 > mark &&
            ta__sync_mark_set(x->db, x->path, x->tgt.target, "inventory", lu - 1, x->errbuf) !=
                TA_OK)
            goto out;
        cu = lu;
        ci = lid;
        if (n < (uint64_t)x->opts->batch_rows)
            break;
    }
    rc = stopped(x) || snap <= mark ? TA_OK
         : ta__sync_mark_set(x->db, x->path, x->tgt.target, "inventory", snap, x->errbuf);
out:
    if (rc != TA_OK)
        ta__pg_rollback(x->c);
    sqlite3_finalize(sel);
    return rc;
}

/* Replace one batch of days of this sensor's daily_rollups and daily_clients centrally. days:
 * the batch as a JSON array (for SQLite) and as a text[] literal (for PostgreSQL); cdays: the
 * days among them that still have daily_clients locally (NULL: none). */
static int days_replace(struct ta__sync_ctx *x, struct ta__sync_cols *rt, struct ta__sync_cols *ct,
                        const char *json, const char *arr, const char *cdays)
{
    sqlite3_stmt *r = ta__sync_select(x, rt, "WHERE day IN (SELECT value FROM json_each(?1))");
    sqlite3_stmt *cl = r ? ta__sync_select(x, ct, "WHERE day IN (SELECT value FROM json_each(?1))")
                         : NULL;
    const char *v1[2] = { x->tgt.sensor, arr }, *v2[2] = { x->tgt.sensor, cdays };
    uint64_t n = 0, m = 0;
    int rc = TA_ERR_IO;
    if (!cl)
        goto out;
    sqlite3_bind_text(r, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(cl, 1, json, -1, SQLITE_STATIC);
    if (ta__sync_txn_begin(x) != TA_OK ||
        ta__pg_params(x->c, "DELETE FROM tlsaudit.daily_rollups WHERE sensor = $1 AND day = "
                            "ANY($2::text[])", 2, v1, "daily_rollups", NULL, x->errbuf) != TA_OK ||
        (cdays && ta__pg_params(x->c, "DELETE FROM tlsaudit.daily_clients WHERE sensor = $1 AND "
                                      "day = ANY($2::text[])", 2, v2, "daily_clients", NULL,
                                x->errbuf) != TA_OK) ||
        ta__sync_copy(x, rt, r, &n, NULL, NULL) != TA_OK ||
        ta__sync_copy(x, ct, cl, &m, NULL, NULL) != TA_OK || ta__sync_txn_commit(x) != TA_OK)
        goto out;
    rc = TA_OK;
out:
    sqlite3_finalize(r);
    sqlite3_finalize(cl);
    return rc;
}

/* Days with a rollup row changed since the watermark, TA__PG_DAYS_BATCH days per transaction. */
static int pass_days(struct ta__sync_ctx *x)
{
    struct ta__sync_cols rt, ct;
    sqlite3_stmt *q = NULL;
    bool err = false;
    char after[11] = "", json[TA__PG_DAYS_BATCH * 16], arr[TA__PG_DAYS_BATCH * 16],
         cdays[TA__PG_DAYS_BATCH * 16];
    int rc = TA_ERR_IO;
    int64_t mark = ta__sync_mark_get(x->db, x->tgt.target, "daily_rollups");
    int64_t snap = sql_int(x, "SELECT COALESCE(max(updated_us), 0) + 0 * ?1 FROM daily_rollups",
                           0, 0, &err);
    int64_t lo = mark > 0 ? mark - TA__SYNC_LOOKBACK_US : -1;
    if (err)
        return sql_fail(x);
    if (snap <= mark)
        return TA_OK;
    if (ta__sync_cols_load(x, &sync_rollups, &rt) != TA_OK ||
        ta__sync_cols_load(x, &sync_clients, &ct) != TA_OK)
        return TA_ERR_IO;
    if (sqlite3_prepare_v2(x->db,
            "WITH d AS (SELECT DISTINCT day FROM daily_rollups WHERE updated_us > ?1 AND "
            "updated_us <= ?2 AND day > ?3 AND day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' "
            "ORDER BY day LIMIT ?4) "
            "SELECT json_group_array(day), '{' || group_concat(day) || '}', max(day), "
            "(SELECT '{' || group_concat(DISTINCT c.day) || '}' FROM daily_clients c WHERE c.day "
            "IN (SELECT day FROM d)) FROM d", -1, &q, NULL) != SQLITE_OK)
        return sql_fail(x);
    while (!stopped(x)) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, lo);
        sqlite3_bind_int64(q, 2, snap);
        sqlite3_bind_text(q, 3, after, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 4, TA__PG_DAYS_BATCH);
        if (sqlite3_step(q) != SQLITE_ROW) {
            sql_fail(x);
            goto out;
        }
        if (sqlite3_column_type(q, 2) == SQLITE_NULL)
            break;
        snprintf(json, sizeof json, "%s", (const char *)sqlite3_column_text(q, 0));
        snprintf(arr, sizeof arr, "%s", (const char *)sqlite3_column_text(q, 1));
        snprintf(after, sizeof after, "%s", (const char *)sqlite3_column_text(q, 2));
        bool has_clients = sqlite3_column_type(q, 3) != SQLITE_NULL;
        if (has_clients)
            snprintf(cdays, sizeof cdays, "%s", (const char *)sqlite3_column_text(q, 3));
        int days = 1;
        for (const char *p = json; *p; p++)
            days += *p == ',';
        sqlite3_reset(q);
        if (days_replace(x, &rt, &ct, json, arr, has_clients ? cdays : NULL) != TA_OK)
            goto out;
        x->stats->rollup_days += (uint64_t)days;
    }
    rc = stopped(x) || snap <= mark ? TA_OK
         : ta__sync_mark_set(x->db, x->path, x->tgt.target, "daily_rollups", snap, x->errbuf);
out:
    if (rc != TA_OK)
        ta__pg_rollback(x->c);
    sqlite3_finalize(q);
    return rc;
}

/* Claim the sensor name centrally for this database (tlsaudit.sensors): a second database that
 * uses a name already taken would overwrite the first one's rows, so it is refused. */
static int claim_sensor(struct ta__sync_ctx *x)
{
    PGresult *r = NULL;
    const char *vals[2] = { x->tgt.sensor, x->tgt.db_id };
    int rc = ta__pg_params(x->c, "INSERT INTO tlsaudit.sensors AS s (sensor, db_id) VALUES ($1, $2) "
                                 "ON CONFLICT (sensor) DO UPDATE SET last_sync = now() "
                                 "RETURNING s.db_id", 2, vals, "claiming the sensor name", &r,
                           x->errbuf);
    if (rc == TA_OK && (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), x->tgt.db_id) != 0)) {
        snprintf(x->errbuf, TA_ERRBUF_SIZE, "%s: sensor name '%s' is already used there by another "
                 "sensor database; sync this one with --sensor OTHER-NAME", x->c->target,
                 x->tgt.sensor);
        rc = TA_ERR_ARG;
    }
    PQclear(r);
    return rc;
}

/* See central.h. */
int ta_sync_push(struct ta_central *c, sqlite3 *db, const char *db_path,
                 const struct ta_sync_opts *opts, struct ta_sync_stats *stats, char *errbuf)
{
    struct ta__sync_ctx x = { .c = c, .db = db, .path = db_path, .opts = opts, .stats = stats,
                              .errbuf = errbuf };
    int rc = ta__sync_target_load(db, db_path, c->id, c->target, opts->sensor, &x.tgt, errbuf);
    if (rc != TA_OK || (rc = claim_sensor(&x)) != TA_OK || (rc = pass_runs(&x)) != TA_OK)
        return rc;
    uint64_t *counts[3] = { &stats->handshakes, &stats->mail_sessions, &stats->dns_answers };
    for (size_t i = 0; i < TA_ARRAY_LEN(sync_append); i++)
        if ((rc = pass_append(&x, &sync_append[i], counts[i])) != TA_OK)
            return rc;
    if ((rc = pass_changes(&x)) != TA_OK || (rc = pass_inventory(&x)) != TA_OK ||
        (rc = pass_days(&x)) != TA_OK || (rc = ta__sync_pass_meta(&x)) != TA_OK)
        return rc;
    return stopped(&x) ? TA_OK : ta__sync_done(db, db_path, c->id, errbuf);
}
