/* schema.c - the schema's versions: which embedded schema/NNN_*.sql a database is at, and the
 * migration that brings it to the binary's.
 *
 * The SQL files schema/NNN_name.sql are embedded in the binary (ta_embedded_files, sorted by
 * name); NNN is the schema version. PRAGMA user_version records the last file applied. Each
 * pending file is applied in its own transaction together with the new user_version, so a crash
 * leaves the database at a whole version. A database newer than the binary is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "tlsaudit/embedded.h"

/* Schema version of an embedded file name "schema/NNN_*.sql", or -1 for other files. */
static int schema_file_version(const char *name)
{
    const char *p = name;
    int v = 0, digits = 0;
    if (strncmp(p, "schema/", 7) != 0)
        return -1;
    p += 7;
    while (*p >= '0' && *p <= '9' && digits < 6) {
        v = v * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || *p != '_')
        return -1;
    size_t n = strlen(name);
    if (n < 4 || strcmp(name + n - 4, ".sql") != 0)
        return -1;
    return v;
}

/* See store_int.h. 0 when the binary embeds no schema at all (a build error). */
int ta__schema_latest(const char **name)
{
    int latest = 0;
    if (name)
        *name = "(none)";
    for (const struct ta_embedded *e = ta_embedded_files; e->name; e++) {
        int v = schema_file_version(e->name);
        if (v > latest) {
            latest = v;
            if (name)
                *name = e->name;
        }
    }
    return latest;
}

/* Read PRAGMA user_version. Returns the SQLite code of the first failing call (SQLITE_NOTADB
 * for a file that is not a database). */
static int read_user_version(sqlite3 *db, int *v)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

/* Number of user objects (tables, indexes, views) in the file, or -1 on error. */
static int count_objects(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
                           -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* Check that the file is one we may use: an SQLite file, not newer than the binary, and either
 * empty or a tlsaudit database. want_current: also refuse an older schema (read-only use).
 * Returns TA_OK or TA_ERR_IO with errbuf set. */
int ta__schema_check(sqlite3 *db, const char *path, bool want_current, char *errbuf)
{
    const char *latest_name;
    int latest = ta__schema_latest(&latest_name);
    int uv = 0, rc = read_user_version(db, &uv);
    if (rc == SQLITE_NOTADB) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: not an SQLite database", path);
        return TA_ERR_IO;
    }
    if (rc != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot read schema version: %s", path,
                 sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    if (uv > latest) {
        snprintf(errbuf, TA_ERRBUF_SIZE,
                 "%s: schema version %d is newer than this tlsaudit %s knows (%d, %s); "
                 "use a newer tlsaudit", path, uv, TA_VERSION, latest, latest_name);
        return TA_ERR_IO;
    }
    if (uv == 0 && (want_current || count_objects(db) != 0)) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: empty or not a tlsaudit database "
                 "(schema version 0)", path);
        return TA_ERR_IO;
    }
    if (want_current && uv < latest) {
        snprintf(errbuf, TA_ERRBUF_SIZE,
                 "%s: schema version %d is older than this tlsaudit's (%d, %s); run a capture "
                 "into it once (tlsaudit capture --db %s ...) to migrate it", path, uv, latest,
                 latest_name, path);
        return TA_ERR_IO;
    }
    return TA_OK;
}

/* Apply one schema file if the database is below its version: BEGIN IMMEDIATE, re-read the
 * version (another process may have migrated meanwhile), run the SQL, set user_version, COMMIT.
 * Returns TA_OK or TA_ERR_IO with errbuf naming the file. */
static int apply_schema_file(sqlite3 *db, const char *path, const struct ta_embedded *e, int ver,
                             char *errbuf)
{
    char *msg = NULL, sql[64];
    int uv = 0;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    if (read_user_version(db, &uv) != SQLITE_OK) {
        msg = sqlite3_mprintf("%s", sqlite3_errmsg(db));
        goto fail;
    }
    if (uv >= ver)
        return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? TA_OK : TA_ERR_IO;
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", ver);
    if (sqlite3_exec(db, (const char *)e->data, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    return TA_OK;
fail:
    snprintf(errbuf, TA_ERRBUF_SIZE, "%s: applying %s (version %d): %s", path, e->name, ver,
             msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return TA_ERR_IO;
}

/* Apply every embedded schema file newer than the database, in name order. */
int ta__schema_migrate(sqlite3 *db, const char *path, char *errbuf)
{
    int uv = 0;
    if (read_user_version(db, &uv) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", path, sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    for (const struct ta_embedded *e = ta_embedded_files; e->name; e++) {
        int ver = schema_file_version(e->name);
        if (ver <= uv)
            continue;
        int rc = apply_schema_file(db, path, e, ver, errbuf);
        if (rc != TA_OK)
            return rc;
        TA_LOG(TA_LOG_INFO, "%s: applied %s (schema version %d)", path, e->name, ver);
    }
    return TA_OK;
}
