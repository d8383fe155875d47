/* inv_refresh.c - rebuild the inventory and the daily tables after the Office 365 verdicts of
 * stored rows changed (`endpoints import`, the end-of-run pass), or after a capture that ran with
 * the inventory off.
 *
 * The o365 layer rewrites the rows' verdicts in its own transaction; it cannot reach the store.
 * So the caller first marks the rebuild as pending (ta_store_refresh_mark, committed), then
 * classifies, then rebuilds (ta_store_refresh), which clears the mark in the same transaction as
 * the rebuild. A crash in between leaves the mark: the next writer to open the file rebuilds, and
 * queries read the rows meanwhile.
 *
 * Rebuild of a set of clients (those of one run, or all): every inventory row of theirs goes
 * back to its pruned_* part (rows with none are deleted), then the retained rows are added again
 * with their current verdicts. Days: every day the set touched is recomputed from the rows,
 * unless retention has deleted rows of that day (their verdicts can no longer be recomputed:
 * such days keep the counts they had). Rows it inserts get their key_hash (schema 009) from
 * ta_inv_key_hash() of the key; keys are matched by it and by their columns (ta__inv_merge). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsaudit/clock.h"
#include "inv_int.h"
#include "store_int.h"
#include "tlsaudit/store.h"

/* Run one statement with ?1 = run (when the statement uses it) and ?2 = now. */
static int exec_run(sqlite3 *db, const char *sql, int64_t run, int64_t now, char *errbuf)
{
    if (ta__exec3(db, sql, run, now, 0))
        return TA_OK;
    snprintf(errbuf, TA_ERRBUF_SIZE, "inventory rebuild: %s", sqlite3_errmsg(db));
    return TA_ERR_IO;
}

/* See store.h. */
int ta_store_refresh_mark(sqlite3 *db, int64_t run_id, char *errbuf)
{
    char v[32];
    snprintf(v, sizeof v, run_id > 0 ? "%lld" : "all", (long long)run_id);
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO store_meta(key, value) VALUES ('refresh', ?1) "
                                "ON CONFLICT(key) DO UPDATE SET value = CASE WHEN value = "
                                "excluded.value THEN value ELSE 'all' END", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, v, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE)
        return TA_OK;
    snprintf(errbuf, TA_ERRBUF_SIZE, "inventory: %s", sqlite3_errmsg(db));
    return TA_ERR_IO;
}

/* The client filters: all clients, or those of run ?1. */
#define CL_RUN "client_ip IN (SELECT client_ip FROM handshakes WHERE run_id = ?1)"

/* The key's latest row with a certificate name, as the writer keeps it (the greatest name at
 * the same microsecond): its time in 20 digits, then the name; NULL without one. A format
 * string: %% is one %. */
#define LATEST_CN_KEY                                                                          \
    "max(CASE WHEN h.cert_cn <> '' THEN printf('%%020d', h.ts_us) || h.cert_cn END)"
/* ... its name, and its time (schema 016) */
#define LATEST_CN "substr(" LATEST_CN_KEY ", 21)"
#define LATEST_CN_US "CAST(substr(" LATEST_CN_KEY ", 1, 20) AS INTEGER)"

/* The retained rows of the clients, added back (ta__inv_merge: ?1 = run, ?2 = now). */
static const char INV_ADD_COLS[] =
    TA__INV_KEY_COLS ", legacy, name, name_source, name_us, handshakes, established, refused, "
    "first_seen_us, first_seen, last_seen_us, last_seen, updated_us";
static const char INV_ADD_FMT[] =
    "SELECT " TA__INV_KEY_SQL ", max(" TA__INV_LEGACY_SQL "), "
    "CASE WHEN COALESCE(h.sni, '') <> '' THEN h.sni ELSE COALESCE(" LATEST_CN ", '') END, "
    "CASE WHEN COALESCE(h.sni, '') <> '' THEN 'sni' WHEN " LATEST_CN " IS NOT NULL THEN 'cert' "
    "ELSE '' END, CASE WHEN COALESCE(h.sni, '') = '' THEN " LATEST_CN_US " END, count(*), "
    "sum(h.established), count(*) - sum(h.established), min(h.ts_us), "
    "min(h.ts), max(h.ts_us), max(h.ts), ?2 FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id "
    "WHERE %s GROUP BY " TA__INV_KEY_SQL;
static const char INV_ADD_SET[] =
    "handshakes = i.handshakes + x.handshakes, "
    "established = i.established + x.established, refused = i.refused + x.refused, "
    "first_seen = CASE WHEN i.handshakes = 0 OR x.first_seen_us < i.first_seen_us THEN "
    "x.first_seen ELSE i.first_seen END, first_seen_us = CASE WHEN i.handshakes = 0 THEN "
    "x.first_seen_us ELSE min(i.first_seen_us, x.first_seen_us) END, "
    "last_seen = CASE WHEN i.handshakes = 0 OR x.last_seen_us >= i.last_seen_us THEN "
    "x.last_seen ELSE i.last_seen END, last_seen_us = CASE WHEN i.handshakes = 0 THEN "
    "x.last_seen_us ELSE max(i.last_seen_us, x.last_seen_us) END, "
    "name = CASE WHEN x.name <> '' THEN x.name ELSE i.name END, "
    "name_source = CASE WHEN x.name <> '' THEN x.name_source ELSE i.name_source END, "
    "name_us = CASE WHEN x.name <> '' THEN x.name_us ELSE i.name_us END, "
    "updated_us = x.updated_us";

/* The DNS name of an inventory row (TA__INV_DNS_NAME) up to its last handshake. */
#define INV_DNS TA__INV_DNS_NAME("inventory.server_ip", "inventory.last_seen_us")

/* Rebuild the inventory rows of the clients of run (all clients when run <= 0). */
static int rebuild_inventory(sqlite3 *db, int64_t run, int64_t now, char *errbuf)
{
    char sql[4096];
    const char *where = run > 0 ? CL_RUN : "1";
    snprintf(sql, sizeof sql, "DELETE FROM inventory WHERE pruned_handshakes = 0 AND %s", where);
    int rc = exec_run(db, sql, run, now, errbuf);
    if (rc == TA_OK) {
        snprintf(sql, sizeof sql, "UPDATE inventory SET handshakes = pruned_handshakes, "
                 "established = pruned_established, refused = pruned_refused, "
                 "first_seen_us = pruned_first_seen_us, first_seen = pruned_first_seen, "
                 "last_seen_us = pruned_last_seen_us, last_seen = pruned_last_seen, "
                 "updated_us = ?2 WHERE %s", where);
        rc = exec_run(db, sql, run, now, errbuf);
    }
    if (rc == TA_OK) {
        snprintf(sql, sizeof sql, INV_ADD_FMT, run > 0 ? "h." CL_RUN : "1");
        if (!ta__inv_merge(db, INV_ADD_COLS, sql, INV_ADD_SET, run, now)) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "inventory rebuild: %s", sqlite3_errmsg(db));
            rc = TA_ERR_IO;
        }
    }
    if (rc == TA_OK) {      /* rows without SNI or certificate: their DNS name, as the writer's */
        snprintf(sql, sizeof sql, "UPDATE inventory SET name = COALESCE(" INV_DNS ", name), "
                 "name_source = CASE WHEN name_source = '' AND " INV_DNS " IS NOT NULL THEN "
                 "'dns' ELSE name_source END, updated_us = ?2 WHERE name_source IN ('', 'dns') "
                 "AND %s", where);
        rc = exec_run(db, sql, run, now, errbuf);
    }
    return rc;
}

/* Rebuild the daily tables for the days of run (every day when run <= 0) that retention has not
 * touched. temp.ta_days holds each day with its ts_us bounds. */
static int rebuild_days(sqlite3 *db, int64_t run, int64_t now, char *errbuf)
{
    static const char *const steps[] = {
        "CREATE TEMP TABLE IF NOT EXISTS ta_days(day TEXT PRIMARY KEY, lo INTEGER, hi INTEGER)",
        "DELETE FROM temp.ta_days",
        NULL,   /* the days: filled below */
        "DELETE FROM temp.ta_days WHERE day IN (SELECT day FROM daily_rollups "
        "WHERE pruned_handshakes > 0)",
        "DELETE FROM daily_clients WHERE day IN (SELECT day FROM temp.ta_days)",
        "DELETE FROM daily_rollups WHERE day IN (SELECT day FROM temp.ta_days)",
        "INSERT INTO daily_clients(day, sensor, version, legacy, o365, o365_service, app, "
        "client_ip, handshakes) SELECT t.day, COALESCE(r.sensor, ''), COALESCE(h.version, 0), "
        TA__INV_LEGACY_SQL ", h.o365, COALESCE(h.o365_service, ''), COALESCE(h.app, ''), "
        "h.client_ip, count(*) FROM temp.ta_days t JOIN handshakes h ON h.ts_us >= t.lo AND "
        "h.ts_us < t.hi LEFT JOIN runs r ON r.id = h.run_id GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
        "INSERT INTO daily_rollups(day, sensor, version, legacy, o365, o365_service, app, "
        "handshakes, established, refused, clients, updated_us) SELECT t.day, "
        "COALESCE(r.sensor, ''), COALESCE(h.version, 0), " TA__INV_LEGACY_SQL ", h.o365, "
        "COALESCE(h.o365_service, ''), COALESCE(h.app, ''), count(*), sum(h.established), "
        "count(*) - sum(h.established), count(DISTINCT h.client_ip), ?2 FROM temp.ta_days t "
        "JOIN handshakes h ON h.ts_us >= t.lo AND h.ts_us < t.hi LEFT JOIN runs r ON "
        "r.id = h.run_id GROUP BY 1, 2, 3, 4, 5, 6, 7",
    };
    int rc = TA_OK;
    for (size_t i = 0; i < TA_ARRAY_LEN(steps) && rc == TA_OK; i++) {
        const char *sql = steps[i];
        if (!sql)
            sql = run > 0
                ? "INSERT OR IGNORE INTO temp.ta_days SELECT DISTINCT substr(ts, 1, 10), "
                  "CAST(strftime('%s', substr(ts, 1, 10)) AS INTEGER) * 1000000, "
                  "CAST(strftime('%s', substr(ts, 1, 10)) AS INTEGER) * 1000000 + 86400000000 "
                  "FROM handshakes WHERE run_id = ?1"
                : "INSERT OR IGNORE INTO temp.ta_days SELECT DISTINCT substr(ts, 1, 10), "
                  "CAST(strftime('%s', substr(ts, 1, 10)) AS INTEGER) * 1000000, "
                  "CAST(strftime('%s', substr(ts, 1, 10)) AS INTEGER) * 1000000 + 86400000000 "
                  "FROM handshakes";
        rc = exec_run(db, sql, run, now, errbuf);
    }
    return rc;
}

/* The pending mark: 0 none, 1 a run (*run set), 2 all; -1 on error. */
static int pending(sqlite3 *db, int64_t *run)
{
    sqlite3_stmt *s = NULL;
    int r = -1;
    if (sqlite3_prepare_v2(db, "SELECT value FROM store_meta WHERE key = 'refresh'", -1, &s,
                           NULL) == SQLITE_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) {
            r = 0;
        } else if (rc == SQLITE_ROW) {
            const char *v = (const char *)sqlite3_column_text(s, 0);
            *run = v ? strtoll(v, NULL, 10) : 0;
            r = *run > 0 ? 1 : 2;
        }
    }
    sqlite3_finalize(s);
    return r;
}

/* See store.h. */
int ta_store_refresh(sqlite3 *db, char *errbuf)
{
    int64_t run = 0, now = (int64_t)ta_clock_wall_us();
    int p = pending(db, &run);
    if (p == 0)
        return TA_OK;
    if (p < 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "inventory: %s", sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "inventory rebuild: %s", sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    /* re-read under the write lock: another writer may have done it meanwhile */
    p = pending(db, &run);
    if (p == 1 || p == 2) {
        if (p == 2)
            run = 0;
        TA_LOG(TA_LOG_DEBUG, "inventory: rebuilding %s", p == 2 ? "everything" : "one run");
    }
    int rc = TA_OK;
    if (p < 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "inventory rebuild: %s", sqlite3_errmsg(db));
        rc = TA_ERR_IO;
    }
    if (rc == TA_OK && p > 0)
        rc = rebuild_inventory(db, run, now, errbuf);
    if (rc == TA_OK && p > 0)
        rc = rebuild_days(db, run, now, errbuf);
    if (rc == TA_OK && p > 0)
        rc = exec_run(db, "DELETE FROM store_meta WHERE key = 'refresh'", 0, 0, errbuf);
    if (rc == TA_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "inventory rebuild: %s", sqlite3_errmsg(db));
        rc = TA_ERR_IO;
    }
    if (rc != TA_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
