/* store.c - the SQLite store: open (create, migrate), read-only open for queries, batches, runs.
 *
 * Schema: the SQL files schema/NNN_name.sql are embedded in the binary (ta_embedded_files, sorted
 * by name); NNN is the schema version. PRAGMA user_version records the last file applied. Each
 * pending file is applied in its own transaction together with the new user_version, so a crash
 * leaves the database at a whole version. A database newer than the binary is refused.
 *
 * Concurrency: WAL mode, busy_timeout 5 s, and every write transaction is BEGIN IMMEDIATE. Two
 * captures writing the same file therefore both work: each takes the write lock for one batch
 * (at most ~1 s or 1000 rows) and the other waits for it, instead of failing with SQLITE_BUSY
 * on a read-to-write upgrade (which busy_timeout cannot retry in WAL mode). Readers never block.
 *
 * Permissions: the database may reveal who talks to whom; it is created under umask 027 and
 * chmod 0640. SQLite gives the -wal and -shm files the mode of the database file. An existing
 * file keeps the mode its owner chose.
 *
 * Creation is atomic (create_new): a new database appears under its name already migrated. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"
#include "tlsaudit/embedded.h"
#include "tlsaudit/store.h"

#ifndef TA_VERSION
#define TA_VERSION "unknown"
#endif

#define BUSY_TIMEOUT_MS 5000

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
static int check_version(sqlite3 *db, const char *path, bool want_current, char *errbuf)
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
static int migrate(sqlite3 *db, const char *path, char *errbuf)
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

/* Connection settings for the writer: WAL (checked: a file on a filesystem without shared memory
 * may refuse it), NORMAL sync (WAL keeps the database consistent; a power cut loses at most the
 * last batch), foreign keys enforced. A 16 MiB page cache (default 2 MiB) keeps the five
 * handshakes indexes, which take random keys (addresses, SNI), in memory: with 2 MiB every batch
 * re-read and re-wrote index pages through the WAL (handshake-heavy bench: 199k pread, 172k
 * pwrite). Checkpoints every 4000 WAL pages instead of 1000 halve the fsyncs; the WAL file may
 * reach ~16 MB while capturing and is removed at close. Neither changes what a crash loses:
 * commits stay as frequent as before. */
static int configure_rw(sqlite3 *db, const char *path, char *errbuf)
{
    sqlite3_stmt *s = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(s, 0);
        ok = mode && strcmp(mode, "wal") == 0;
    }
    sqlite3_finalize(s);
    if (!ok) {
        int rc = sqlite3_errcode(db);
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", path, rc == SQLITE_NOTADB
                 ? "not an SQLite database" : rc != SQLITE_OK ? sqlite3_errmsg(db)
                 : "cannot switch to WAL journal mode");
        return TA_ERR_IO;
    }
    if (sqlite3_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                     "PRAGMA cache_size=-16384; PRAGMA wal_autocheckpoint=4000", NULL, NULL,
                     NULL) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", path, sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    return TA_OK;
}

/* Create a new database atomically: build it fully migrated under a temporary name in the same
 * directory, then link() it into place. A capture killed at any moment therefore leaves either
 * no database or a complete one (never an empty file that queries would refuse), and of two
 * captures creating the same file at once the second link fails with EEXIST and both then open
 * the one that won. Where hard links are not supported, rename() is the fallback (racy only for
 * that concurrent-creation case). A kill during creation can leave "<path>.new-<pid>" behind.
 * Returns TA_OK or TA_ERR_IO with errbuf set. */
static int create_new(const char *path, char *errbuf)
{
    char tmp[600];
    sqlite3 *db = NULL;
    int rc = TA_ERR_IO;
    errbuf[0] = '\0';
    snprintf(tmp, sizeof tmp, "%s.new-%ld", path, (long)getpid());
    unlink(tmp);
    if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot create: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        unlink(tmp);
        return TA_ERR_IO;
    }
    if (chmod(tmp, 0640) != 0)
        TA_LOG(TA_LOG_WARN, "%s: chmod 0640: %s", tmp, strerror(errno));
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (ta__store_register_functions(db) == SQLITE_OK && migrate(db, path, errbuf) == TA_OK)
        rc = TA_OK;
    else if (errbuf[0] == '\0')
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot create: %s", path, sqlite3_errmsg(db));
    if (sqlite3_close(db) != SQLITE_OK && rc == TA_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot create: close failed", path);
        rc = TA_ERR_IO;
    }
    if (rc == TA_OK && link(tmp, path) != 0 && errno != EEXIST) {
        struct stat sb;
        if (stat(path, &sb) != 0 && rename(tmp, path) != 0) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot create: %s", path, strerror(errno));
            rc = TA_ERR_IO;
        }
    }
    unlink(tmp);
    return rc;
}

/* Open the file for writing with a restrictive mode; see the file comment. */
static int open_rw_file(const char *path, sqlite3 **db, char *errbuf)
{
    struct stat sb;
    bool existed = stat(path, &sb) == 0;
    mode_t old = umask(027);
    if (!existed && errno == ENOENT) {
        int crc = create_new(path, errbuf);
        if (crc != TA_OK) {
            umask(old);
            return crc;
        }
        existed = true;
    }
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK && !existed && chmod(path, 0640) != 0)
        TA_LOG(TA_LOG_WARN, "%s: chmod 0640: %s", path, strerror(errno));
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
        rc = configure_rw(*db, path, errbuf);
    } else {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot open: %s", path,
                 *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        rc = TA_ERR_IO;
    }
    umask(old);
    return rc == SQLITE_OK ? TA_OK : TA_ERR_IO;
}

/* See store.h. */
int ta_store_open(const char *path, struct ta_store **out, char *errbuf)
{
    sqlite3 *db = NULL;
    struct ta_store *st;
    *out = NULL;
    if (open_rw_file(path, &db, errbuf) != TA_OK)
        goto fail;
    if (ta__store_register_functions(db) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    if (check_version(db, path, false, errbuf) != TA_OK || migrate(db, path, errbuf) != TA_OK)
        goto fail;
    st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: out of memory", path);
        goto fail;
    }
    st->db = db;
    st->batch_rows = TA_STORE_BATCH_ROWS;
    st->o365_pass = true;
    snprintf(st->path, sizeof st->path, "%s", path);
    if (ta__store_prepare_writes(st) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: preparing statements: %s", path,
                 sqlite3_errmsg(db));
        st->db = NULL;
        ta_store_close(st);
        goto fail;
    }
    *out = st;
    return TA_OK;
fail:
    sqlite3_close(db);
    return TA_ERR_IO;
}

/* See store.h. The file must exist; nothing is created or migrated. */
int ta_store_open_ro(const char *path, sqlite3 **out, char *errbuf)
{
    sqlite3 *db = NULL;
    int rc;
    *out = NULL;
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot open: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return TA_ERR_IO;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (ta__store_register_functions(db) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return TA_ERR_IO;
    }
    if (check_version(db, path, true, errbuf) != TA_OK) {
        sqlite3_close(db);
        return TA_ERR_IO;
    }
    *out = db;
    return TA_OK;
}

sqlite3 *ta_store_db(struct ta_store *st)
{
    return st->db;
}

/* Open the batch transaction if none is open. */
void ta__store_row_error(struct ta_store *st, const char *what)
{
    if (st->row_errors++ == 0)
        TA_LOG(TA_LOG_ERROR, "%s: cannot write (%s): %s; further write failures are not logged", st->path, what,
               sqlite3_errmsg(st->db));
}

int ta__store_batch_begin(struct ta_store *st)
{
    if (st->in_tx)
        return TA_OK;
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        ta__store_row_error(st, "begin");
        ta__store_o365_unsure(st);
        return TA_ERR_IO;
    }
    st->in_tx = true;
    st->batch_n = 0;
    st->batch_start_us = 0;
    return TA_OK;
}

/* See store.h. */
uint64_t ta_store_rows_unsaved(const struct ta_store *st)
{
    return st->rows_lost + (st->in_tx ? st->batch_n : 0);
}

/* See store.h. Committing with no open batch is a no-op. */
int ta_store_commit(struct ta_store *st)
{
    if (!st->in_tx)
        return TA_OK;
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        ta__store_row_error(st, "commit");
        ta__store_o365_unsure(st);
        if (sqlite3_get_autocommit(st->db)) {
            /* SQLite rolled the batch back (disk full, I/O error): its rows are gone. */
            st->rows_lost += st->batch_n;
            st->in_tx = false;
            st->batch_n = 0;
            st->batch_start_us = 0;
        }
        return TA_ERR_IO;
    }
    st->in_tx = false;
    st->batch_n = 0;
    st->batch_start_us = 0;
    return TA_OK;
}

/* See store.h. ta_store_add has no clock, so the batch's age starts at the first call that finds
 * it open; callers call this often (every packet batch or second), so the error is small. */
int ta_store_maybe_commit(struct ta_store *st, uint64_t now_us)
{
    if (!st->in_tx)
        return TA_OK;
    if (st->batch_start_us == 0) {
        st->batch_start_us = now_us ? now_us : 1;
        if (st->batch_n < st->batch_rows)
            return TA_OK;
    }
    if (st->batch_n >= st->batch_rows || now_us - st->batch_start_us >= TA_STORE_BATCH_US)
        return ta_store_commit(st);
    return TA_OK;
}

/* See store.h. Commits what is pending; NULL is accepted. */
void ta_store_close(struct ta_store *st)
{
    if (!st)
        return;
    if (st->db)
        ta_store_commit(st);
    ta__store_o365_free(st);
    sqlite3_finalize(st->ins_hs);
    sqlite3_finalize(st->ins_mail);
    sqlite3_finalize(st->ins_dns);
    sqlite3_finalize(st->upd_run);
    sqlite3_finalize(st->end_run);
    if (st->db) {
        sqlite3_exec(st->db, "PRAGMA optimize", NULL, NULL, NULL);
        if (sqlite3_close(st->db) != SQLITE_OK)
            TA_LOG(TA_LOG_WARN, "%s: close: %s", st->path, sqlite3_errmsg(st->db));
    }
    free(st);
}

/* Current wall time in microseconds (UTC). */
static uint64_t now_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* See store.h. The run row is committed at once so that a query during a long live capture
 * already lists it. */
int ta_store_run_begin(struct ta_store *st, const char *source, const char *filter,
                       int64_t *run_id)
{
    char started[32];
    sqlite3_stmt *s = NULL;
    int rc = TA_ERR_IO;
    ta__iso_time_us(now_wall_us(), started, sizeof started);
    if (ta__store_batch_begin(st) != TA_OK)
        return TA_ERR_IO;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO runs(source, filter, started, tool_version, clean)"
                           " VALUES (?, ?, ?, ?, 0)", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, source ? source : "", -1, SQLITE_TRANSIENT);
        if (filter)
            sqlite3_bind_text(s, 2, filter, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, started, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 4, TA_VERSION, -1, SQLITE_STATIC);
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

/* Bind the 12 counters of rs to parameters 1..12 of s. */
static void bind_run_stats(sqlite3_stmt *s, const struct ta_run_stats *rs)
{
    const uint64_t v[] = { rs->packets, rs->bytes, rs->drops, rs->if_drops, rs->flows,
                           rs->flows_evicted, rs->flows_timed_out, rs->handshakes,
                           rs->ip_fragments, rs->malformed, rs->non_ip, rs->pool_exhausted };
    /* schema 003: parameters 17.. (13-16 are the run's id, end time, clean flag, error) */
    const uint64_t t[] = { rs->tunneled, rs->undecoded_mpls, rs->undecoded_pppoe,
                           rs->undecoded_gre, rs->undecoded_erspan, rs->undecoded_vxlan,
                           rs->undecoded_geneve, rs->undecoded_cmd, rs->undecoded_ipip,
                           rs->tunnel_too_deep };
    for (int i = 0; i < 12; i++)
        sqlite3_bind_int64(s, i + 1, (sqlite3_int64)v[i]);
    for (int i = 0; i < (int)TA_ARRAY_LEN(t); i++)
        sqlite3_bind_int64(s, i + 17, (sqlite3_int64)t[i]);
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
    sqlite3_bind_int64(st->upd_run, 13, st->run_id);
    if (sqlite3_step(st->upd_run) != SQLITE_DONE) {
        TA_LOG(TA_LOG_ERROR, "%s: run update: %s", st->path, sqlite3_errmsg(st->db));
        rc = TA_ERR_IO;
    }
    sqlite3_reset(st->upd_run);
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
    ta__iso_time_us(now_wall_us(), ended, sizeof ended);
    bind_run_stats(st->end_run, rs);
    sqlite3_bind_text(st->end_run, 13, ended, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st->end_run, 14, clean ? 1 : 0);
    if (error)
        sqlite3_bind_text(st->end_run, 15, error, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st->end_run, 15);
    sqlite3_bind_int64(st->end_run, 16, st->run_id);
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
