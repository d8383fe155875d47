/* test_retention_mem.c - retention's memory and pace on real SQLite files (issues #12, #15): a
 * store fed 6 days of handshakes in batches with --retain-days 2 must
 *  - delete in bounded steps: no commit removes more than max(1000, 2 x its batch) rows, and
 *    every commit past the first two days removes some;
 *  - keep SQLite's heap bounded while it deletes: the peak of sqlite3_memory_highwater over a
 *    commit that prunes stays within PRUNE_HEAP_MAX of the heap before it. Retention used to
 *    run under one SAVEPOINT per step whose sub-journal (in memory: temp_store=MEMORY) held the
 *    original of every page the step's deletes touched: it grew with the step (up to 20,000
 *    rows), 80 MB more peak RSS on a full-size month;
 *  - end with the same inventory and daily rollups as a store that kept everything, the
 *    inventory counting every handshake (pruned_handshakes = the rows deleted).
 * Memory, not time: the figures are SQLite's own allocation counters, the same on a loaded
 * machine. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hs_fixture.h"
#include "store_fixture.h"
#include "tlsaudit/store.h"

#define T0 1767600000000000LL   /* 2026-01-05T08:00:00Z */
#define DAY 86400000000LL
#define DAYS 6
#define PER_DAY 20000           /* handshakes a day */
#define BATCH 10000             /* handshakes per commit (the store's batch): two a day */
#define CLIENTS 3000
/* Between what a pruning commit of 10,000 rows adds now (4.4 MiB: the batch's inventory flush
 * and statement journals, retention's savepoints of RETAIN_CHUNK rows) and what it added with
 * one savepoint over the whole step (7.6 MiB), with SQLite 3.40 */
#define PRUNE_HEAP_MAX (6LL << 20)

static char dir[64];

static const char *path_of(const char *name)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}


/* Handshake i of day d: clients and servers spread so that the deletes touch pages all over the
 * client_ip index and the inventory, as real traffic does. */
static void rec(struct ta_hs *hs, int d, int i)
{
    char cli[32], srv[32];
    unsigned c = (unsigned)(i * 7919 + d * 104729) % CLIENTS;
    snprintf(cli, sizeof cli, "10.%u.%u.%u", c >> 16 & 255, c >> 8 & 255, c & 255);
    snprintf(srv, sizeof srv, "192.0.2.%u", (unsigned)(i % 50) + 1);
    hs_fixture(hs, cli, (uint16_t)(40000 + i % 20000), srv, 443);
    hs->ch.present = true;
    hs->ch.ts_us = (uint64_t)(T0 + (long long)d * DAY + (long long)i * (DAY / PER_DAY));
    hs->ch.legacy_version = i % 4 ? 0x0303 : 0x0301;
    hs->ch.ciphers[0] = 0x002f;
    hs->ch.nciphers = 1;
    snprintf(hs->ch.sni, sizeof hs->ch.sni, "host%d.example", i % 40);
    hs->sh.present = true;
    hs->sh.legacy_version = hs->ch.legacy_version;
    hs->sh.cipher = 0x002f;
}

/* The inventory and rollups without ids and write times, as one text. */
static void dump(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *s = NULL;
    size_t n = 0;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "sql failed: %s: %s\n", sql, sqlite3_errmsg(db));
        return;
    }
    while (sqlite3_step(s) == SQLITE_ROW && n + 1 < cap) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        int w = snprintf(out + n, cap - n, "%s\n", t ? (const char *)t : "");
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
    sqlite3_finalize(s);
}

static const char INV_DUMP[] =
    "SELECT client_ip || '|' || server_ip || '|' || server_port || '|' || sni || '|' || version "
    "|| '|' || handshakes || '|' || established || '|' || first_seen_us || '|' || last_seen_us "
    "FROM inventory ORDER BY client_ip, server_ip, server_port, sni, version";
static const char ROLLUP_DUMP[] =
    "SELECT day || '|' || version || '|' || legacy || '|' || handshakes || '|' || clients "
    "FROM daily_rollups ORDER BY day, version, legacy";

/* Feed the month; with days > 0 check the pace and heap of every commit. */
static void feed(const char *db, int days)
{
    char err[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct ta_hs hs;
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st)
        return;
    ta_store_set_sensor(st, "unit");
    ta_store_set_retention(st, days, 0);
    int64_t run_id = 0;
    CHECK_INT(ta_store_run_begin(st, "unit-month", NULL, &run_id), TA_OK);
    sqlite3 *h = ta_store_db(st);
    /* a small page cache, full after the first days, so that what a commit adds to the heap is
     * its statements' own memory and not the cache filling up */
    CHECK_INT(sqlite3_exec(h, "PRAGMA cache_size=-1024", NULL, NULL, NULL), SQLITE_OK);
    long long worst_heap = 0, worst_step = 0, pruning_commits = 0, idle_commits = 0;
    for (int d = 0; d < DAYS; d++) {
        for (int b = 0; b < PER_DAY / BATCH; b++) {
            for (int i = b * BATCH; i < (b + 1) * BATCH; i++) {
                rec(&hs, d, i);
                CHECK_INT(ta_store_add(st, &hs), TA_OK);
            }
            long long before_rows = one(h, "SELECT count(*) FROM handshakes");
            long long before_heap = (long long)sqlite3_memory_used();
            sqlite3_memory_highwater(1);
            CHECK_INT(ta_store_commit(st), TA_OK);
            long long peak = (long long)sqlite3_memory_highwater(0) - before_heap;
            long long gone = before_rows - one(h, "SELECT count(*) FROM handshakes");
            if (days <= 0 || d < days + 2)
                continue;
            if (gone > 0)
                pruning_commits++;
            else
                idle_commits++;
            if (gone > worst_step)
                worst_step = gone;
            if (peak > worst_heap)
                worst_heap = peak;
        }
    }
    ta_store_close(st);
    if (days <= 0)
        return;
    printf("retention: %lld pruning commits, largest step %lld rows, largest heap rise %lld KiB\n",
           pruning_commits, worst_step, worst_heap >> 10);
    CHECK(pruning_commits >= (DAYS - days - 2) * (PER_DAY / BATCH) / 2);
    CHECK(worst_step <= (2 * BATCH > 1000 ? 2 * BATCH : 1000));
    CHECK(worst_heap < PRUNE_HEAP_MAX);
}

static void test_month(void)
{
    char err[TA_ERRBUF_SIZE];
    const char *all = strdup(path_of("all.db"));
    const char *two = strdup(path_of("two.db"));
    feed(all, 0);
    feed(two, 2);
    sqlite3 *ra = NULL, *rt = NULL;
    CHECK_INT(ta_store_open_ro(all, &ra, err), TA_OK);
    CHECK_INT(ta_store_open_ro(two, &rt, err), TA_OK);
    if (ra && rt) {
        long long total = one(ra, "SELECT count(*) FROM handshakes");
        long long kept = one(rt, "SELECT count(*) FROM handshakes");
        CHECK_INT(total, (long long)DAYS * PER_DAY);
        CHECK(kept > 0 && kept <= 4LL * PER_DAY);
        CHECK_INT(one(rt, "SELECT count(*) FROM handshakes WHERE ts_us < (SELECT max(ts_us) FROM "
                          "handshakes) - 2 * 86400000000"), 0);
        CHECK_INT(one(rt, "SELECT sum(handshakes) FROM inventory"), total);
        CHECK_INT(one(rt, "SELECT sum(pruned_handshakes) FROM inventory"), total - kept);
        static char a[1 << 21], b[1 << 21];
        dump(ra, INV_DUMP, a, sizeof a);
        dump(rt, INV_DUMP, b, sizeof b);
        CHECK(strlen(a) > 1000);
        CHECK_STR(a, b);
        dump(ra, ROLLUP_DUMP, a, sizeof a);
        dump(rt, ROLLUP_DUMP, b, sizeof b);
        CHECK(strlen(a) > 100);
        CHECK_STR(a, b);
    }
    sqlite3_close(ra);
    sqlite3_close(rt);
    free((void *)all);
    free((void *)two);
}

/* Pace with batches larger than half of RETAIN_MAX (20,000 rows): a fast `capture -r` makes
 * batches of up to 40,000 rows, and a step of at most twice a batch but no more than 20,000
 * deleted fewer rows than each batch added, so a 7-day file of a generated month ended 8.4 days
 * long. Here: 4 days of 30,000 handshakes, one commit a day, 1 day kept; after every commit no
 * row may be older than a day before the newest. */
static void test_pace_large_batches(void)
{
    char err[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct ta_hs hs;
    const int per_day = 30000;
    CHECK_INT(ta_store_open(path_of("pace.db"), &st, err), TA_OK);
    if (!st)
        return;
    ta_store_set_retention(st, 1, 0);
    int64_t run_id = 0;
    CHECK_INT(ta_store_run_begin(st, "unit-pace", NULL, &run_id), TA_OK);
    sqlite3 *h = ta_store_db(st);
    for (int d = 0; d < 4; d++) {
        for (int i = 0; i < per_day; i++) {
            rec(&hs, d, i);
            hs.ch.ts_us = (uint64_t)(T0 + (long long)d * DAY + (long long)i * (DAY / per_day));
            CHECK_INT(ta_store_add(st, &hs), TA_OK);
        }
        CHECK_INT(ta_store_commit(st), TA_OK);
        CHECK_INT(one(h, "SELECT count(*) FROM handshakes WHERE ts_us < (SELECT max(ts_us) FROM "
                         "handshakes) - 86400000000"), 0);
    }
    CHECK_INT(one(h, "SELECT sum(handshakes) FROM inventory"), 4LL * per_day);
    ta_store_close(st);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ta_test_retention_mem.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_month();
    test_pace_large_batches();
    check_dir_done(dir);
    return CHECK_DONE();
}
