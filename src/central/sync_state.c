/* sync_state.c - the sensor side of sync (SQLite schema 007): which targets this database is
 * synced to, under which sensor name, and the watermarks. Each write is its own short
 * transaction, made after the central commit it records, so a crash between the two repeats a
 * batch (harmless: the central upsert replaces it) and never skips one. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "central_int.h"

/* Run a statement with text parameters (NULL-terminated) to completion. */
static int st_exec(sqlite3 *db, const char *sql, const char *a, const char *b, const char *c2,
                   int64_t n)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        const char *v[3] = { a, b, c2 };
        for (int i = 0; i < 3; i++)
            if (v[i])
                sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_STATIC);
        if (sqlite3_bind_parameter_count(s) >= 4)
            sqlite3_bind_int64(s, 4, n);
        rc = sqlite3_step(s);
        rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
    }
    sqlite3_finalize(s);
    return rc;
}

/* First column of the first row of sql (one text parameter) into out; "" when no row. */
static int st_text(sqlite3 *db, const char *sql, const char *a, char *out, size_t outlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    out[0] = '\0';
    if (rc == SQLITE_OK) {
        if (a)
            sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW && sqlite3_column_text(s, 0))
            snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(s, 0));
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Now as ISO-8601 UTC. */
static void now_iso(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A random id for this database (store_meta 'sync_db_id'), made once: it tells the central
 * database which sensor database owns a sensor name. */
static int db_id_load(sqlite3 *db, char *out, size_t outlen)
{
    unsigned char r[16];
    int rc = st_text(db, "SELECT value FROM store_meta WHERE key = 'sync_db_id'", NULL, out,
                     outlen);
    if (rc != SQLITE_OK || out[0])
        return rc;
    FILE *fp = fopen("/dev/urandom", "rb");
    size_t got = fp ? fread(r, 1, sizeof r, fp) : 0;
    if (fp)
        fclose(fp);
    if (got != sizeof r)
        return SQLITE_IOERR;
    for (size_t i = 0; i < sizeof r && 2 * i + 2 < outlen; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    rc = st_exec(db, "INSERT OR IGNORE INTO store_meta(key, value) VALUES ('sync_db_id', ?1)", out,
                 NULL, NULL, 0);
    return rc == SQLITE_OK ? st_text(db, "SELECT value FROM store_meta WHERE key = 'sync_db_id'",
                                     NULL, out, outlen) : rc;
}

/* See central_int.h. */
int ta__sync_target_load(sqlite3 *db, const char *path, const char *target,
                         const char *address, const char *opts_sensor, struct ta__sync_target *t, char *errbuf)
{
    char fixed[128], now[32];
    memset(t, 0, sizeof *t);
    snprintf(t->target, sizeof t->target, "%s", target);
    if (db_id_load(db, t->db_id, sizeof t->db_id) != SQLITE_OK ||
        st_text(db, "SELECT sensor FROM sync_targets WHERE target = ?1", target, fixed,
                sizeof fixed) != SQLITE_OK)
        goto sqlerr;
    if (fixed[0] && opts_sensor && strcmp(fixed, opts_sensor) != 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: already synced to %s as sensor '%s'; syncing it "
                 "as '%s' would store its rows twice there", path, address, fixed, opts_sensor);
        return TA_ERR_ARG;
    }
    if (fixed[0])
        snprintf(t->sensor, sizeof t->sensor, "%s", fixed);
    else if (opts_sensor && opts_sensor[0])
        snprintf(t->sensor, sizeof t->sensor, "%s", opts_sensor);
    else if (st_text(db, "SELECT sensor FROM runs WHERE sensor <> '' ORDER BY id DESC LIMIT 1",
                     NULL, t->sensor, sizeof t->sensor) != SQLITE_OK)
        goto sqlerr;
    if (!t->sensor[0] && gethostname(t->sensor, sizeof t->sensor - 1) != 0)
        snprintf(t->sensor, sizeof t->sensor, "unnamed");
    if (!fixed[0]) {
        /* A new central id at an address synced before: that database was made anew, so its
         * old watermarks (and the changes kept for it) will never be used again. */
        if (st_exec(db, "DELETE FROM sync_state WHERE target IN (SELECT target FROM sync_targets "
                        "WHERE address = ?1 AND target <> ?2)", address, target, NULL, 0) !=
                SQLITE_OK ||
            st_exec(db, "DELETE FROM sync_targets WHERE address = ?1 AND target <> ?2", address,
                    target, NULL, 0) != SQLITE_OK)
            goto sqlerr;
        now_iso(now, sizeof now);
        if (st_exec(db, "INSERT INTO sync_targets(target, sensor, first_sync, address) "
                        "VALUES (?1, ?2, ?3, '')", target, t->sensor, now, 0) != SQLITE_OK)
            goto sqlerr;
    }
    if (st_exec(db, "UPDATE sync_targets SET address = ?2 WHERE target = ?1", target, address,
                NULL, 0) != SQLITE_OK)
        goto sqlerr;
    return TA_OK;
sqlerr:
    snprintf(errbuf, TA_ERRBUF_SIZE, "%s: sync state: %s", path, sqlite3_errmsg(db));
    return TA_ERR_IO;
}

/* See central_int.h. */
int64_t ta__sync_mark_get(sqlite3 *db, const char *target, const char *tbl)
{
    sqlite3_stmt *s = NULL;
    int64_t m = 0;
    if (sqlite3_prepare_v2(db, "SELECT mark FROM sync_state WHERE target = ?1 AND tbl = ?2", -1,
                           &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, target, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, tbl, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            m = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return m;
}

/* See central_int.h. */
int ta__sync_mark_set(sqlite3 *db, const char *path, const char *target, const char *tbl,
                      int64_t mark, char *errbuf)
{
    if (st_exec(db, "INSERT INTO sync_state(target, tbl, mark) VALUES (?1, ?2, ?4) "
                    "ON CONFLICT(target, tbl) DO UPDATE SET mark = excluded.mark",
                target, tbl, NULL, mark) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: saving the sync watermark: %s", path,
                 sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    return TA_OK;
}

/* See central_int.h. */
int ta__sync_done(sqlite3 *db, const char *path, const char *target, char *errbuf)
{
    char now[32];
    now_iso(now, sizeof now);
    if (st_exec(db, "UPDATE sync_targets SET last_sync = ?2 WHERE target = ?1", target, now, NULL,
                0) != SQLITE_OK ||
        st_exec(db, "DELETE FROM sync_changes WHERE seq <= (SELECT min(COALESCE(s.mark, 0)) "
                    "FROM sync_targets t LEFT JOIN sync_state s ON s.target = t.target "
                    "AND s.tbl = 'changes')", NULL, NULL, NULL, 0) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: sync state: %s", path, sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    return TA_OK;
}
