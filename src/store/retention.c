/* retention.c - bounded storage: the per-handshake rows (handshakes, mail_sessions, dns_answers)
 * are kept for --retain-days and under --max-db-size; the inventory and the daily rollups are
 * kept for ever (schema/README.md, "Schema 004").
 *
 * The writer deletes inside its own batch transaction, just before the COMMIT: twice the rows
 * the batch added up to RETAIN_MAX, never fewer than those rows plus RETAIN_MIN, so deletion
 * keeps pace with the traffic without one long transaction that would hold the queue up.
 * Before a handshakes row goes, its counts move to the pruned_* columns of its inventory and
 * rollup rows, so the inventory stays "pruned + retained rows" (the invariant the kill -9 test
 * checks): the batch's own inventory and daily rows and the deletes commit together.
 *
 * Memory: the deletes go in chunks of RETAIN_CHUNK rows, each under a SAVEPOINT of its own (a
 * failed chunk is undone alone; the chunks before it are whole). A savepoint keeps the original
 * of every page written after it opens in its sub-journal, which temp_store=MEMORY puts on the
 * heap, and deleting touches pages all over the client_ip index and the inventory: one savepoint
 * over a whole step (up to RETAIN_MAX rows) held tens of MB at the peak (--retain-days 7 on a
 * month: 86 MB peak RSS against 72 MB with 30 days; bench/RESULTS.md, "Peak memory"). Released
 * after each chunk, the journal holds one chunk's pages: with 500 rows a chunk, a sensor at its
 * --max-db-size still peaked 8 MiB above a fresh capture (70.2 MiB on handshake-s1); with 125,
 * 62.4 MiB. Retention's statements are prepared once (stmt_of), so that four times the chunks
 * cost no more time (bench/RESULTS.md, "Session 7"). (A temp file instead of memory costs
 * ~500,000 write() calls on a 181 MB month; a transaction of its own after the COMMIT would let
 * a reader or a kill -9 see the batch's daily client keys of a day whose keys retention drops.)
 *
 * Age is counted from the newest row written (st->max_ts_us), not the wall clock: a live sensor
 * sees the same thing, and replaying an old capture keeps its last N days instead of nothing.
 * Rows dated more than a day past the clock do not move that origin (age_origin).
 * Size: new databases use auto_vacuum=INCREMENTAL; pages freed by deletion are reused, and when
 * the file is over the cap its free pages are returned with incremental_vacuum, so a file at its
 * cap stops growing (the -wal file is checkpointed at a quarter of the cap: wal_bound). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsaudit/clock.h"
#include "inv_int.h"
#include "store_int.h"
#include "tlsaudit/store.h"

#define RETAIN_MIN 1000       /* rows deleted per commit at least (when over a limit) */
#define RETAIN_MAX 20000      /* ... and at most */
#define RETAIN_CHUNK 125      /* rows per savepoint: bounds its in-memory journal */

/* Retention's statement sql (a string literal of this file: its address is the key), prepared
 * once per store and kept until it closes (ta__retain_free); NULL when it cannot be prepared
 * (sqlite3_errmsg says why). A chunk runs about a dozen. */
static sqlite3_stmt *stmt_of(struct ta_store *st, const char *sql)
{
    int i = 0;
    for (; i < TA__RETAIN_STMTS && st->ret_sql[i]; i++)
        if (st->ret_sql[i] == sql)
            return st->ret_stmt[i];
    sqlite3_stmt *s = NULL;
    if (i == TA__RETAIN_STMTS ||
        sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
        return NULL;
    st->ret_sql[i] = sql;
    st->ret_stmt[i] = s;
    return s;
}

/* Run statement sql (stmt_of) once with ?1..?3 = a, b, c where it has them; false on an error. */
static bool run3(struct ta_store *st, const char *sql, int64_t a, int64_t b, int64_t c)
{
    sqlite3_stmt *s = stmt_of(st, sql);
    if (!s)
        return false;
    bool ok = ta__step3(s, a, b, c);
    sqlite3_reset(s);
    return ok;
}

/* See inv_int.h. */
void ta__retain_free(struct ta_store *st)
{
    for (int i = 0; i < TA__RETAIN_STMTS && st->ret_sql[i]; i++) {
        sqlite3_finalize(st->ret_stmt[i]);
        st->ret_sql[i] = NULL;
        st->ret_stmt[i] = NULL;
    }
}

/* Bytes the database pages in use take (free pages excluded), and the file's pages. */
static int64_t used_bytes(sqlite3 *db, int64_t *file_bytes)
{
    int64_t ps = ta__one_int(db, "PRAGMA page_size", 4096);
    int64_t pc = ta__one_int(db, "PRAGMA page_count", 0);
    int64_t fl = ta__one_int(db, "PRAGMA freelist_count", 0);
    *file_bytes = pc * ps;
    return (pc - fl) * ps;
}

/* Move the counts of the rows listed in temp.ta_prune to the pruned_* columns (ta__inv_merge: a
 * key without a row gets one, holding them). The SQL way, for a store without the aggregate (the
 * inventory off, TA_BENCH_NO_INVENTORY); prune_inventory folds them in C otherwise. */
static const char PRUNE_INV_COLS[] =
    TA__INV_KEY_COLS ", legacy, handshakes, established, refused, first_seen_us, first_seen, "
    "last_seen_us, last_seen, pruned_handshakes, pruned_established, pruned_refused, "
    "pruned_first_seen_us, pruned_first_seen, pruned_last_seen_us, pruned_last_seen, updated_us";
static const char PRUNE_INV_FILL[] =
    "SELECT " TA__INV_KEY_SQL ", max(" TA__INV_LEGACY_SQL "), count(*), sum(h.established), "
    "count(*) - sum(h.established), min(h.ts_us), min(h.ts), max(h.ts_us), max(h.ts), count(*), "
    "sum(h.established), count(*) - sum(h.established), min(h.ts_us), min(h.ts), max(h.ts_us), "
    "max(h.ts), ?1 FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id "
    "WHERE h.id IN (SELECT id FROM temp.ta_prune) GROUP BY " TA__INV_KEY_SQL;
static const char PRUNE_INV_SET[] =
    "pruned_handshakes = i.pruned_handshakes + x.pruned_handshakes, "
    "pruned_established = i.pruned_established + x.pruned_established, "
    "pruned_refused = i.pruned_refused + x.pruned_refused, "
    "pruned_first_seen = CASE WHEN i.pruned_handshakes = 0 OR x.pruned_first_seen_us < "
    "i.pruned_first_seen_us THEN x.pruned_first_seen ELSE i.pruned_first_seen END, "
    "pruned_first_seen_us = CASE WHEN i.pruned_handshakes = 0 THEN x.pruned_first_seen_us "
    "ELSE min(i.pruned_first_seen_us, x.pruned_first_seen_us) END, "
    "pruned_last_seen = CASE WHEN x.pruned_last_seen_us >= i.pruned_last_seen_us THEN "
    "x.pruned_last_seen ELSE i.pruned_last_seen END, "
    "pruned_last_seen_us = max(i.pruned_last_seen_us, x.pruned_last_seen_us), "
    "updated_us = x.updated_us";

/* The chunk's handshakes rows: the key values as the SQL above groups them, then what the
 * pruned counts take. */
static const char PRUNE_ROWS[] =
    "SELECT " TA__INV_KEY16_SQL ", h.ts_us, h.ts, h.established FROM handshakes h "
    "LEFT JOIN runs r ON r.id = h.run_id WHERE h.id IN (SELECT id FROM temp.ta_prune)";

/* The SQL way of prune_inventory, for a store without the aggregate or a chunk with a value the
 * aggregate cannot hold. */
static bool prune_inventory_sql(struct ta_store *st, int64_t now, int64_t *newest)
{
    *newest = ta__one_int(st->db, "SELECT max(ts_us) FROM handshakes WHERE id IN (SELECT id FROM "
                                  "temp.ta_prune)", -1);
    return ta__inv_merge(st->db, PRUNE_INV_COLS, PRUNE_INV_FILL, PRUNE_INV_SET, now, 0);
}

/* Move the counts of the rows listed in temp.ta_prune to the pruned_* columns, and the newest
 * ts_us among them to *newest (which the caller set to -1): each row is folded into the writer's
 * aggregate (inventory.c), then written one statement per key, by the row id it remembers or its
 * key hash. The SQL way (a GROUP BY, an UPDATE ... FROM, an INSERT ... WHERE NOT EXISTS) took
 * 3.4 s of the 11.3 s the generated month took with --retain-days 7; this takes 1.1 s
 * (bench/RESULTS.md, "Session 7"). */
static bool prune_inventory(struct ta_store *st, int64_t now, int64_t *newest)
{
    if (!st->inv)
        return prune_inventory_sql(st, now, newest);
    if (ta__inv_flush(st) != TA_OK)      /* the batch's entries, already written: none */
        return false;
    sqlite3_stmt *s = stmt_of(st, PRUNE_ROWS);
    if (!s)
        return false;
    struct ta__o365_verdict v = { 0 };   /* only .o365 is read */
    int rc, added = TA_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
#define T(i) ((const char *)sqlite3_column_text(s, (i)))
#define I(i) sqlite3_column_int(s, (i))
        v.o365 = I(13);
        const struct ta__inv_row r = {
            .client = T(1), .server = T(2), .server_port = (uint16_t)I(3), .transport = T(4),
            .app = T(5), .sni = T(6), .version = I(7), .cipher_id = I(8), .cipher_v2 = I(9),
            .client_max_version = I(10), .ja3 = T(11), .ja4 = T(12), .v = &v,
            .ts_us = sqlite3_column_int64(s, 16), .ts = T(17), .established = I(18) != 0,
        };
        if (r.ts_us > *newest)
            *newest = r.ts_us;
        if ((added = ta__inv_prune_add(st, &r, T(0), T(14), T(15))) != TA_OK)
            break;
#undef T
#undef I
    }
    sqlite3_reset(s);
    /* nothing of the chunk is written yet (its RETAIN_CHUNK rows never fill the aggregate, which
     * would flush): it goes the SQL way whole */
    if (added == TA__INV_UNFIT) {
        ta__inv_discard(st);
        return prune_inventory_sql(st, now, newest);
    }
    if (rc != SQLITE_DONE) {
        ta__inv_discard(st);
        return false;
    }
    return ta__inv_prune_flush(st) == TA_OK;
}

static const char PRUNE_ROLLUP[] =
    "INSERT INTO daily_rollups(day, sensor, version, legacy, o365, o365_service, app, handshakes, "
    "established, refused, clients, pruned_handshakes, updated_us) "
    "SELECT substr(h.ts, 1, 10), COALESCE(r.sensor, ''), COALESCE(h.version, 0), "
    TA__INV_LEGACY_SQL ", h.o365, COALESCE(h.o365_service, ''), COALESCE(h.app, ''), count(*), "
    "sum(h.established), count(*) - sum(h.established), count(DISTINCT h.client_ip), count(*), ?1 "
    "FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id "
    "WHERE h.id IN (SELECT id FROM temp.ta_prune) GROUP BY 1, 2, 3, 4, 5, 6, 7 "
    "ON CONFLICT(day, sensor, version, legacy, o365, o365_service, app) DO UPDATE SET "
    "pruned_handshakes = pruned_handshakes + excluded.pruned_handshakes, "
    "updated_us = excluded.updated_us";

/* Choose the handshakes to delete: older than cut (age), or the oldest n (size). Returns how
 * many were chosen, or -1 on an error. */
static int64_t choose(struct ta_store *st, bool by_size, int64_t cut, int64_t n)
{
    if (!run3(st, "DELETE FROM temp.ta_prune", 0, 0, 0) ||
        !run3(st, by_size ? "INSERT INTO temp.ta_prune(id) SELECT id FROM handshakes "
                            "ORDER BY ts_us LIMIT ?1"
                          : "INSERT INTO temp.ta_prune(id) SELECT id FROM handshakes "
                            "WHERE ts_us < ?2 ORDER BY ts_us LIMIT ?1", n, cut, 0))
        return -1;
    return sqlite3_changes64(st->db);
}

/* Delete the chosen handshakes (chosen of them; the newest one's ts_us to *newest, -1 when none)
 * and the mail sessions and DNS answers older than the cut (by age), or than the newest handshake
 * deleted (by size, or the cut when later), n of each at most. */
static bool prune(struct ta_store *st, int64_t chosen, bool by_size, int64_t cut, int64_t n,
                  int64_t *newest)
{
    sqlite3 *db = st->db;
    int64_t now = (int64_t)ta_clock_wall_us();
    *newest = -1;
    if (chosen > 0 &&
        (!prune_inventory(st, now, newest) ||
         !run3(st, PRUNE_ROLLUP, now, 0, 0) ||
         !run3(st, "DELETE FROM mail_sessions WHERE handshake_id IN (SELECT id FROM "
                   "temp.ta_prune)", 0, 0, 0)))
        return false;
    int64_t upto_us = by_size ? (*newest >= 0 ? *newest + 1 : 0) : cut;
    if (by_size && cut > upto_us)
        upto_us = cut;
    if (!run3(st, "DELETE FROM mail_sessions WHERE id IN (SELECT id FROM mail_sessions "
                  "WHERE ts_us < ?1 ORDER BY ts_us LIMIT ?2)", upto_us, n, 0) ||
        !run3(st, "DELETE FROM dns_answers WHERE id IN (SELECT id FROM dns_answers WHERE "
                  "ts_us < ?1 ORDER BY ts_us LIMIT ?2)", upto_us, n, 0))
        return false;
    if (sqlite3_changes(db) > 0)
        ta__store_o365_dns_deleted(st);   /* the dns rule's memo may rest on a deleted answer */
    if (*newest < 0)
        return true;
    return run3(st, "DELETE FROM handshakes WHERE id IN (SELECT id FROM temp.ta_prune)", 0, 0, 0)
        && run3(st, "DELETE FROM daily_clients WHERE day < COALESCE((SELECT substr(ts, 1, 10) "
                "FROM handshakes ORDER BY ts_us LIMIT 1), '9999')", 0, 0, 0)
        && run3(st, "INSERT INTO store_meta(key, value) VALUES ('pruned_until_us', ?1) "
                "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
                *newest, 0, 0);
}

static const char SP_OPEN[] = "SAVEPOINT ta_retain";
static const char SP_RELEASE[] = "RELEASE ta_retain";
static const char SP_UNDO[] = "ROLLBACK TO ta_retain";

/* A step failed: say why (before the rollback replaces the message) and undo it. */
static void undo(struct ta_store *st)
{
    TA_LOG(TA_LOG_WARN, "%s: retention: %s", st->path, sqlite3_errmsg(st->db));
    (void)run3(st, SP_UNDO, 0, 0, 0);
}

/* Run sql under SAVEPOINT ta_retain: released when it worked, undone when not. */
static bool savepoint(struct ta_store *st, const char *sql)
{
    if (sqlite3_exec(st->db, "SAVEPOINT ta_retain", NULL, NULL, NULL) != SQLITE_OK)
        return false;
    bool ok = sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        undo(st);
    sqlite3_exec(st->db, "RELEASE ta_retain", NULL, NULL, NULL);
    return ok;
}

/* One chunk of at most k rows of each table, under a savepoint of its own (see the file
 * comment): choose, move the counts, delete. *newest: the newest handshake deleted, -1 when
 * none was. Returns false (the chunk undone and logged) on an error. */
static bool chunk(struct ta_store *st, bool by_size, int64_t cut, int64_t k, int64_t *newest)
{
    *newest = -1;
    if (!run3(st, SP_OPEN, 0, 0, 0))
        return false;
    int64_t chosen = choose(st, by_size, cut, k);
    bool ok = chosen >= 0 && prune(st, chosen, by_size, cut, k, newest);
    if (!ok) {
        undo(st);
        *newest = -1;
    }
    (void)run3(st, SP_RELEASE, 0, 0, 0);
    return ok;
}

/* The time --retain-days counts back from: the newest row written, but never more than a day
 * past the clock. A capture file is hostile input, and one record dated decades ahead (a
 * corrupt header, a crafted file) would otherwise make every row before it "older than N days"
 * and delete the evidence of the whole retention period. Rows dated later are kept and said
 * once. */
static int64_t age_origin(struct ta_store *st)
{
    int64_t limit = (int64_t)ta_clock_wall_us() + TA__RETAIN_AHEAD_US;
    if (st->max_ts_us <= limit)
        return st->max_ts_us;
    if (!st->future_warned) {
        char when[32];
        st->future_warned = true;
        ta__iso_time_us((uint64_t)st->max_ts_us, when, sizeof when);
        TA_LOG(TA_LOG_WARN, "%s: rows dated up to %s, after this host's clock: --retain-days "
               "counts back from the clock instead", st->path, when);
    }
    return limit;
}

/* See inv_int.h. */
void ta__retain_step(struct ta_store *st)
{
    if ((!st->retain_us && !st->max_bytes) || !st->in_tx)
        return;
    int64_t n = 2 * (int64_t)st->batch_hs;
    n = n < RETAIN_MIN ? RETAIN_MIN : n > RETAIN_MAX ? RETAIN_MAX : n;
    /* never fewer than the batch added (and some backlog): a fast -r read makes batches of up
     * to TA_STORE_BATCH_ROWS rows, more than RETAIN_MAX, and would otherwise end days behind */
    if (n < (int64_t)st->batch_hs + RETAIN_MIN)
        n = (int64_t)st->batch_hs + RETAIN_MIN;
    int64_t file = 0, used = st->max_bytes ? used_bytes(st->db, &file) : 0;
    int64_t target = st->max_bytes - st->max_bytes / 20;   /* 5% headroom for a batch */
    bool by_size = st->max_bytes && used > target;
    if (by_size) {
        /* about what the excess holds (a row and its index entries take ~1 KiB), not a full
         * pace: deleting more only empties the file below its cap */
        int64_t need = (used - target) / 1024 + 16;
        if (need < n)
            n = need;
    }
    int64_t newest_ts = age_origin(st);
    int64_t cut = st->retain_us && newest_ts > st->retain_us ? newest_ts - st->retain_us : 0;
    bool ok = true;
    if (!by_size && cut <= 0 && !(st->max_bytes && file > st->max_bytes))
        return;
    /* by size, a few rounds: the bytes a row frees vary (index pages are shared) */
    for (int round = 0; ok && (by_size || cut > 0) && round < 4; round++) {
        int64_t newest = -1;
        for (int64_t left = n; ok && left > 0; left -= RETAIN_CHUNK) {
            int64_t k = left < RETAIN_CHUNK ? left : RETAIN_CHUNK;
            int64_t before = sqlite3_total_changes64(st->db);
            ok = chunk(st, by_size, cut, k, &newest);
            if (newest < 0 && sqlite3_total_changes64(st->db) == before)
                break;   /* nothing of any table left to delete */
        }
        if (!by_size || newest < 0)
            break;
        used = used_bytes(st->db, &file);
        if (used <= target)
            break;
        n = (used - target) / 1024 + 16;
    }
    if (ok && by_size && st->max_bytes && ta__one_int(st->db, "SELECT count(*) FROM (SELECT 1 FROM "
                                                      "handshakes LIMIT 1)", 0) == 0 &&
        !st->cap_warned) {
        st->cap_warned = true;
        TA_LOG(TA_LOG_WARN, "%s: every handshake row is deleted and the file is still near "
               "--max-db-size: the inventory and rollups alone take ~%lld MB; raise the cap",
               st->path, (long long)(used >> 20));
    }
    if (ok && st->max_bytes && file > st->max_bytes)
        (void)savepoint(st, "PRAGMA incremental_vacuum");
}

/* See inv_int.h. */
void ta__retain_prepare(struct ta_store *st)
{
    /* two calls: SQLite refuses to change temp_store inside a transaction once temporary
     * storage is open, and the table must be made even then */
    if (ta__one_int(st->db, "PRAGMA temp_store", 2) != 2)
        sqlite3_exec(st->db, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL);
    sqlite3_exec(st->db, "CREATE TEMP TABLE IF NOT EXISTS ta_prune(id INTEGER PRIMARY KEY)", NULL,
                 NULL, NULL);
    if (ta__one_int(st->db, "PRAGMA auto_vacuum", 2) == 2)
        return;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    TA_LOG(TA_LOG_INFO, "%s: converting to incremental auto-vacuum (one VACUUM, once)", st->path);
    if (sqlite3_exec(st->db, "PRAGMA auto_vacuum=INCREMENTAL; VACUUM", NULL, NULL, NULL) !=
        SQLITE_OK) {
        TA_LOG(TA_LOG_WARN, "%s: VACUUM: %s; freed pages are reused but the file does not "
               "shrink", st->path, sqlite3_errmsg(st->db));
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    TA_LOG(TA_LOG_INFO, "%s: converted in %.1f s", st->path,
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
}

/* The -wal file takes disk space beside the capped file. Under a cap it is checkpointed once it
 * holds a quarter of the cap (TA__CKPT_MIN_PAGES at least, TA__CKPT_PAGES at most) instead of at
 * ~64 MB, which on a disk sized for the cap ran out of space and lost whole batches. It restarts
 * from its beginning after each checkpoint, so it stays near that size plus a batch; a reader
 * that holds an old snapshot can make it grow past, and journal_size_limit cuts it back to
 * twice the threshold at the next restart (not to the threshold itself: that cut and regrew it
 * at every checkpoint, ~10% slower at a 150M cap, bench/RESULTS.md session 8). Without a cap:
 * the defaults of configure_rw (store.c), the -wal file kept at its largest until close. */
static void wal_bound(struct ta_store *st)
{
    int64_t ps = ta__one_int(st->db, "PRAGMA page_size", 4096);
    int64_t pages = TA__CKPT_PAGES, limit = -1;
    char sql[64];
    if (st->max_bytes && ps > 0) {
        pages = st->max_bytes / 4 / ps;
        pages = pages < TA__CKPT_MIN_PAGES ? TA__CKPT_MIN_PAGES
                : pages > TA__CKPT_PAGES ? TA__CKPT_PAGES : pages;
        limit = 2 * pages * ps;
    }
    sqlite3_wal_autocheckpoint(st->db, (int)pages);
    snprintf(sql, sizeof sql, "PRAGMA journal_size_limit=%lld", (long long)limit);
    sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

/* The limits of ta_store_set_retention and ta_store_change_retention; convert: whether an old
 * file may be converted to incremental auto-vacuum now (one VACUUM: at open only). */
static void set_limits(struct ta_store *st, int days, int64_t max_bytes, bool convert)
{
    st->retain_us = days > 0 ? (int64_t)days * 86400LL * 1000000LL : 0;
    st->max_bytes = max_bytes > 0 ? max_bytes : 0;
    /* A capped file may go over its cap by about one batch (the man page): a batch is kept to
     * about a sixteenth of the cap (~1.6 KB a row with its indexes), 1,000 rows at least. */
    st->batch_rows = st->batch_rows_max;
    if (st->max_bytes) {
        int64_t rows = st->max_bytes / 16 / 1600;
        if (rows < 1000)
            rows = 1000;
        if (rows < (int64_t)st->batch_rows)
            st->batch_rows = (uint32_t)rows;
    }
    wal_bound(st);
    st->max_ts_us = ta__one_int(st->db, "SELECT max(ts_us) FROM handshakes", 0);
    if (!(st->retain_us || st->max_bytes))
        return;
    if (convert || ta__one_int(st->db, "PRAGMA auto_vacuum", 2) == 2)
        ta__retain_prepare(st);
    else
        TA_LOG(TA_LOG_WARN, "%s: a file made before schema 4: freed pages are reused, but the "
               "file only shrinks after the next start converts it (one VACUUM)", st->path);
}

/* See store.h. */
void ta_store_set_retention(struct ta_store *st, int days, int64_t max_bytes)
{
    set_limits(st, days, max_bytes, true);
}

/* See store.h. */
void ta_store_change_retention(struct ta_store *st, int days, int64_t max_bytes)
{
    set_limits(st, days, max_bytes, false);
}

/* See store.h. "64M", "2G", "500k", "1048576" (bytes); K/M/G/T are powers of 1024, an optional
 * trailing B or iB is accepted. */
int ta_store_parse_size(const char *s, int64_t *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return -1;
    int64_t mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1LL << 10; end++; break;
    case 'm': case 'M': mul = 1LL << 20; end++; break;
    case 'g': case 'G': mul = 1LL << 30; end++; break;
    case 't': case 'T': mul = 1LL << 40; end++; break;
    default: break;
    }
    if (mul > 1 && *end == 'i')
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || v * (double)mul > 9e18)
        return -1;
    *out = (int64_t)(v * (double)mul);
    return 0;
}
