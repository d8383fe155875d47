/* store.c - the SQLite store's connections: open for writing (create atomically, migrate through
 * schema.c, configure), open read-only for queries, close. Batches are in txn.c, the run rows in
 * run_row.c, the rows themselves in store_write.c.
 *
 * Concurrency: WAL mode, busy_timeout 5 s, and every write transaction is BEGIN IMMEDIATE. Two
 * captures writing the same file therefore both work: each takes the write lock for one batch
 * (at most ~1 s or TA_STORE_BATCH_ROWS rows) and the other waits for it, instead of failing with SQLITE_BUSY
 * on a read-to-write upgrade (which busy_timeout cannot retry in WAL mode). Readers never block.
 *
 * Permissions: the database may reveal who talks to whom; it is created under umask 027 and
 * chmod 0640. SQLite gives the -wal and -shm files the mode of the database file. An existing
 * file keeps the mode its owner chose.
 *
 * Creation is atomic (create_new): a new database appears under its name already migrated. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "inv_int.h"
#include "store_int.h"
#include "tlsaudit/embedded.h"
#include "tlsaudit/store.h"

#ifndef TA_VERSION
#define TA_VERSION "unknown"
#endif

#define BUSY_TIMEOUT_MS 5000

/* Every connection of the store belongs to one thread at a time (the writer thread owns the
 * capture's; see writer.c), so it needs none of SQLite's per-call mutexes: SQLITE_OPEN_NOMUTEX.
 * In the default serialized mode each bind, step, column and reset takes and releases the
 * connection's mutex, and with memory statistics on every allocation takes a global one: 8% of
 * the CPU of a handshake-heavy capture (bench/RESULTS.md, session 12). Statistics are turned off
 * once, before SQLite initialises; nothing here reads them. */
#define OPEN_FLAGS SQLITE_OPEN_NOMUTEX

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);   /* SQLITE_MISUSE if already initialised */
}

static void lib_init(void)
{
    (void)pthread_once(&lib_once, lib_setup);
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
        char why[256];
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", path, rc == SQLITE_NOTADB
                 ? "not an SQLite database" : rc != SQLITE_OK ? ta__db_why(db, why, sizeof why)
                 : "cannot switch to WAL journal mode");
        return TA_ERR_IO;
    }
    /* a checkpoint every TA__CKPT_PAGES WAL pages (16,000, ~64 MB), not 4,000: -9% wall on the
     * month with the inventory, -4% on handshake-heavy, bulk unchanged (bench/RESULTS.md,
     * session 5); ta_store_set_retention lowers it under a size cap */
    if (sqlite3_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                     "PRAGMA cache_size=-16384", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_wal_autocheckpoint(db, TA__CKPT_PAGES) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", path, sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    return TA_OK;
}

/* fsync a closed file by name. 0 or -1 with errno set. */
static int sync_file(const char *name)
{
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Create a new database atomically: build it fully migrated under a temporary name in the same
 * directory, then link() it into place. A capture killed at any moment therefore leaves either
 * no database or a complete one (never an empty file that queries would refuse), and of two
 * captures creating the same file at once the second link fails with EEXIST and both then open
 * the one that won. Where hard links are not supported, rename() is the fallback (racy only for
 * that concurrent-creation case). A kill during creation can leave "<path>.new-<pid>" behind.
 * The temporary file is built without a journal on disk and without syncs (a crash leaves only
 * that file, which nobody opens) and synced once before it is linked: the schema's dozens of
 * small transactions took ~36 fdatasync calls, ~0.1-0.2 s of every capture into a new file.
 * Returns TA_OK or TA_ERR_IO with errbuf set. */
static int create_new(const char *path, char *errbuf)
{
    char tmp[600];
    sqlite3 *db = NULL;
    int rc = TA_ERR_IO;
    errbuf[0] = '\0';
    snprintf(tmp, sizeof tmp, "%s.new-%ld", path, (long)getpid());
    unlink(tmp);
    if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | OPEN_FLAGS, NULL) !=
        SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot create: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        unlink(tmp);
        return TA_ERR_IO;
    }
    if (chmod(tmp, 0640) != 0)
        TA_LOG(TA_LOG_WARN, "%s: chmod 0640: %s", tmp, strerror(errno));
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* before the first table, or it takes a VACUUM: freed pages can be returned (retention.c) */
    sqlite3_exec(db, "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=MEMORY; "
                 "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    /* born in WAL mode: otherwise its first openers switch it, and two switching at once (each
     * holding a read lock and wanting to write) get "database is locked" without waiting */
    if (ta__store_register_functions(db) == SQLITE_OK && ta__schema_migrate(db, path, errbuf) == TA_OK &&
        sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) == SQLITE_OK)
        rc = TA_OK;
    else if (errbuf[0] == '\0')
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot create: %s", path, sqlite3_errmsg(db));
    if (sqlite3_close(db) != SQLITE_OK && rc == TA_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot create: close failed", path);
        rc = TA_ERR_IO;
    }
    if (rc == TA_OK && sync_file(tmp) != 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot create: fsync: %s", path, strerror(errno));
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
    lib_init();
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
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | OPEN_FLAGS, NULL);
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

/* The inventory aggregate, unless TA_BENCH_NO_INVENTORY=1 (undocumented: only for measuring
 * what the inventory costs, bench/run.sh). Off, the inventory would go stale: a rebuild is
 * marked pending, queries read the rows until the next writer open performs it. A rebuild left
 * pending by a crash is done here. */
static int inventory_open(struct ta_store *st, char *errbuf)
{
    const char *off = getenv("TA_BENCH_NO_INVENTORY");
    if (off && strcmp(off, "1") == 0) {
        TA_LOG(TA_LOG_WARN, "%s: inventory off (TA_BENCH_NO_INVENTORY=1): rebuilt at next open",
               st->path);
        return ta_store_refresh_mark(st->db, 0, errbuf);
    }
    if (ta_store_refresh(st->db, errbuf) != TA_OK)
        return TA_ERR_IO;
    return ta__inv_open(st) == TA_OK ? TA_OK : TA_ERR_IO;
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
    if (ta__schema_check(db, path, false, errbuf) != TA_OK || ta__schema_migrate(db, path, errbuf) != TA_OK)
        goto fail;
    st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: out of memory", path);
        goto fail;
    }
    st->db = db;
    st->batch_rows = st->batch_rows_max = ta__store_batch_rows_max();
    st->o365_pass = true;
    snprintf(st->path, sizeof st->path, "%s", path);
    if (gethostname(st->sensor, sizeof st->sensor - 1) != 0)
        st->sensor[0] = '\0';
    st->sensor[sizeof st->sensor - 1] = '\0';
    if (ta__store_prepare_writes(st) != TA_OK || ta__store_prepare_run(st) != TA_OK ||
        inventory_open(st, errbuf) != TA_OK) {
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
    lib_init();
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | OPEN_FLAGS, NULL);
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
    if (ta__schema_check(db, path, true, errbuf) != TA_OK) {
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

/* See store.h. Commits what is pending; NULL is accepted. */
void ta_store_close(struct ta_store *st)
{
    if (!st)
        return;
    if (st->db)
        ta_store_commit(st);
    ta__store_o365_free(st);
    ta__inv_free(st);
    ta__retain_free(st);
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
