/* query_route.c - where `query legacy` and `query summary` read: the inventory and the daily
 * tables (schema 004), which answer in milliseconds whatever the traffic, or the retained
 * handshakes rows (the scan of earlier versions, --from-rows).
 *
 * The choice (documented in tlsaudit(1), TIME WINDOWS):
 *   --from-rows, or a rebuild pending after a re-classification (store_meta 'refresh')  rows
 *   no --since/--until                                                      inventory
 *   legacy with --since/--until (the inventory has no time axis but first/last seen)  rows
 *   summary with bounds on whole UTC days and no --server/--sni/--version   daily_clients, exact;
 *       daily_rollups when some of those days' client keys were pruned (distinct clients are
 *       then summed per day: a note says so)
 *   summary with other bounds or those filters                               rows
 * Rows exist only for the retention period: the inventory and rollups keep what was pruned. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "query_int.h"
#include "tlsaudit/common.h"

#define DAY_US (86400LL * 1000000LL)

/* One text value of a query (bound ?1), copied to buf; false when no row or NULL. */
static bool one_text(sqlite3 *db, const char *sql, const char *arg, char *buf, size_t len)
{
    sqlite3_stmt *s = NULL;
    bool ok = false;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        if (arg)
            sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
            snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
            ok = true;
        }
    }
    sqlite3_finalize(s);
    return ok;
}

/* "YYYY-MM-DD" of a time in microseconds (UTC). */
static void day_of(long long us, char *buf, size_t len)
{
    time_t t = (time_t)(us / 1000000LL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
}

/* See query_int.h. */
int ta__q_route(sqlite3 *db, struct ta_qopts *o, int r)
{
    char v[64];
    bool bounded = o->has_since || o->has_until;
    o->src = TA_QSRC_ROWS;
    if (o->from_rows)
        return 0;
    /* a rebuild pending after a re-classification: the rows hold the current verdicts */
    if (one_text(db, "SELECT value FROM store_meta WHERE key = 'refresh'", NULL, v, sizeof v))
        return 0;
    if (!bounded) {
        o->src = TA_QSRC_INV;
        return 0;
    }
    if (r != 2 || o->server || o->sni || o->version)
        return 0;
    if ((o->has_since && o->since_us % DAY_US != 0) || (o->has_until && o->until_us % DAY_US != 0))
        return 0;
    snprintf(o->since_day, sizeof o->since_day, "0000-00-00");
    snprintf(o->until_day, sizeof o->until_day, "9999-99-99");
    if (o->has_since)
        day_of(o->since_us, o->since_day, sizeof o->since_day);
    if (o->has_until)
        day_of(o->until_us, o->until_day, sizeof o->until_day);
    o->src = TA_QSRC_DAYS;
    /* days of the window whose client keys were pruned: only the rollups remain for them */
    if (!one_text(db, "SELECT min(day) FROM daily_clients", NULL, v, sizeof v))
        snprintf(v, sizeof v, "9999-99-99");
    if (strcmp(o->since_day, v) < 0) {
        char first[64];
        sqlite3_stmt *s = NULL;
        bool older = false;
        if (sqlite3_prepare_v2(db, "SELECT 1 FROM daily_rollups WHERE day >= ?1 AND day < ?2 "
                               "AND day < ?3 LIMIT 1", -1, &s, NULL) == SQLITE_OK) {
            sqlite3_bind_text(s, 1, o->since_day, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, o->until_day, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, v, -1, SQLITE_STATIC);
            older = sqlite3_step(s) == SQLITE_ROW;
        }
        sqlite3_finalize(s);
        if (older && o->client) {
            o->src = TA_QSRC_ROWS;   /* the rollups have no client column */
        } else if (older) {
            o->src = TA_QSRC_ROLLUPS;
            snprintf(first, sizeof first, "%s", v);
            ta_fprint_errf(o->err, "tlsaudit query: ", "%s: per-client data of the days before %s "
                           "was pruned; clients are summed per day (an upper bound)", o->db,
                           first);
        }
    }
    return 0;
}
