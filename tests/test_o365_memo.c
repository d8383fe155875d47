/* test_o365_memo.c - the memo of the Office 365 'dns' rule (src/o365/o365_dns_memo.c) never
 * changes a verdict: a classifier that remembers, and one that forgets before every row (so it
 * walks the passive DNS in full each time), classify the same rows of a real SQLite file while
 * A and CNAME answers arrive in between: mostly later in time, sometimes dated before rows
 * already classified, chains that begin to match, bursts that push a matching answer out of the
 * 16 the rule reads per address, answers for
 * names the list holds and names it does not, and answers deleted (retention) followed by
 * ta__o365_cls_forget. Every verdict (o365, service, reason) must be the same. A third classifier
 * is told when answers may have grown (ta__o365_cls_watch_answers: an epoch moved at every
 * answer added, as the store writer does) and must agree too.
 *
 * Through the store itself (rows classified at insert time, which the writer watches with its
 * own epoch): a row to an address no answer names yet, then an answer naming it for Office 365,
 * then a later row to it: the later row is Office 365 by the dns rule, read before the run
 * ends (the end-of-run pass would hide a stale memo). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "hs_fixture.h"
#include "store_fixture.h"
#include "o365_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/store.h"

static char dir[] = "/tmp/ta_o365_memo_XXXXXX";

#define TEST_RNG_SEED 0x9e3779b97f4a7c15ull
#include "test_rng.h"

static const char *const addrs[] = { "52.96.1.1", "52.96.1.2", "203.0.113.7", "2603:1036::5",
                                     "198.51.100.9", "40.96.3.3" };
/* names the built-in list matches, names it does not, and chain links */
static const char *const names[] = { "outlook.office365.com", "x.sharepoint.com",
                                     "teams.microsoft.com", "www.example.com", "cdn.example.net",
                                     "a.example.org", "edge.example.com", "ha.example.com" };

static uint64_t epoch;   /* the watched classifier's: moved at every answer added */

static void add_answer(sqlite3 *db, int64_t ts, const char *name, const char *addr,
                       const char *cname)
{
    epoch++;
    sqlite3_stmt *s = NULL;
    CHECK_INT(sqlite3_prepare_v2(db, "INSERT INTO dns_answers(ts, ts_us, name, ipver, addr, cname) "
                                 "VALUES ('2026-01-05T09:00:00Z', ?1, ?2, 4, ?3, ?4)", -1, &s, NULL),
              SQLITE_OK);
    sqlite3_bind_int64(s, 1, ts);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    if (addr)
        sqlite3_bind_text(s, 3, addr, -1, SQLITE_STATIC);
    if (cname)
        sqlite3_bind_text(s, 4, cname, -1, SQLITE_STATIC);
    CHECK_INT(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
}

static int differ(const char *what, const char *addr, int64_t ts,
                  const struct ta__o365_verdict *a, const struct ta__o365_verdict *b)
{
    if (a->o365 == b->o365 && strcmp(a->service, b->service) == 0 &&
        strcmp(a->reason, b->reason) == 0)
        return 0;
    fprintf(stderr, "%s at %lld: %s %d '%s' '%s', walk %d '%s' '%s'\n", addr, (long long)ts,
            what, a->o365, a->service, a->reason, b->o365, b->service, b->reason);
    return 1;
}

/* One row without SNI through the three classifiers; counts the differences. */
static int classify_both(struct ta__o365_cls *memo, struct ta__o365_cls *watched,
                         struct ta__o365_cls *full, const char *addr, int64_t ts)
{
    struct ta__o365_row r = { .server_ip = addr, .ts_us = ts };
    struct ta__o365_verdict a, w, b;

    ta__o365_cls_row(memo, &r, &a);
    ta__o365_cls_row(watched, &r, &w);
    ta__o365_cls_forget(full);
    ta__o365_cls_row(full, &r, &b);
    return differ("memo", addr, ts, &a, &b) + differ("watched", addr, ts, &w, &b);
}

/* n random steps around a clock that moves forward; late answers and late rows included. */
static void run_steps(sqlite3 *db, struct ta__o365_cls *memo, struct ta__o365_cls *watched,
                      struct ta__o365_cls *full, int n, int *rows, int *diffs, int *matched)
{
    int64_t now = 1000000;

    for (int i = 0; i < n; i++) {
        unsigned k = rnd(100);
        const char *addr = addrs[rnd(TA_ARRAY_LEN(addrs))];
        /* names the list holds are the rarer ones, so both verdicts stay common */
        const char *name = rnd(100) < 2 ? names[rnd(3)] : names[3 + rnd(TA_ARRAY_LEN(names) - 3)];
        now += rnd(5000);
        if (k < 30) {                              /* A/AAAA answer, usually "now" */
            int64_t ts = rnd(10) == 0 ? now - (int64_t)rnd(200000) : now;
            add_answer(db, ts, name, addr, NULL);
        } else if (k < 33) {                       /* CNAME: someone pointed at name */
            const char *from = rnd(100) < 15 ? names[rnd(3)] : names[3 + rnd(TA_ARRAY_LEN(names) - 3)];
            int64_t ts = rnd(8) == 0 ? now - (int64_t)rnd(200000) : now;
            if (strcmp(from, name) != 0)
                add_answer(db, ts, from, NULL, name);
        } else if (k < 34) {                       /* retention: old answers go */
            char sql[128];
            snprintf(sql, sizeof(sql), "DELETE FROM dns_answers WHERE ts_us < %lld",
                     (long long)(now - 300000));
            CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
            ta__o365_cls_forget(memo);
            ta__o365_cls_forget(watched);
        } else if (k < 36) {                       /* a burst of lookups of other names */
            for (unsigned j = 4 + rnd(16); j > 0; j--)
                add_answer(db, now, names[3 + rnd(TA_ARRAY_LEN(names) - 3)], addr, NULL);
        } else {                                   /* a row, usually a little in the past */
            int64_t ts = now - (int64_t)rnd(rnd(6) == 0 ? 100000 : 3000);
            struct ta__o365_row r = { .server_ip = addr, .ts_us = ts };
            struct ta__o365_verdict v;
            *diffs += classify_both(memo, watched, full, addr, ts);
            ta__o365_cls_row(full, &r, &v);
            *matched += strncmp(v.reason, "dns:", 4) == 0;
            (*rows)++;
        }
    }
}

/* A handshake to addr without SNI or certificate at ts (microseconds): only the dns rule can
 * name it (203.0.113.0/24 is in no Office 365 range). */
static void hs_to(struct ta_hs *hs, const char *addr, int64_t ts)
{
    hs_fixture(hs, "10.9.9.9", 40001, addr, 443);
    hs->ch.present = true;
    hs->ch.ts_us = (uint64_t)ts;
    hs->ch.legacy_version = 0x0303;
    hs->ch.ciphers[0] = 0x002f;
    hs->ch.nciphers = 1;
}

/* See the file comment: the store writer's own epoch, through ta_store_add_dns. */
static void test_store_at_insert(void)
{
    char sdir[] = "/tmp/ta_o365_memo_store_XXXXXX", path[1100];
    struct ta_store *st = fixture_store(sdir, "ins.db", path, sizeof(path));
    struct ta_hs hs;
    struct ta_addr a;
    int64_t run = 0, t0 = 1767603600000000LL;   /* 2026-01-05T09:00:00Z */
    if (!st)
        return;
    ta_store_o365_at_insert(st, true);
    CHECK_INT(ta_store_run_begin(st, "unit", NULL, &run), TA_OK);
    hs_to(&hs, "203.0.113.80", t0);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    hs_fixture_addr(&a, "203.0.113.80");
    CHECK_INT(ta_store_add_dns(st, (uint64_t)(t0 + 1000000), "outlook.office365.com", 4, &a, NULL),
              TA_OK);
    hs_to(&hs, "203.0.113.80", t0 + 2000000);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    sqlite3_stmt *s = NULL;
    CHECK_INT(sqlite3_prepare_v2(ta_store_db(st), "SELECT group_concat(o365 || ' ' || "
                                 "COALESCE(o365_reason, ''), '|') FROM (SELECT * FROM handshakes "
                                 "ORDER BY id)", -1, &s, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(s, 0),
              "0 |1 dns:outlook.office365.com");
    sqlite3_finalize(s);
    ta_store_close(st);
    check_dir_done(sdir);
}

int main(void)
{
    char db_path[1100], errbuf[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = NULL;
    struct ta__o365_cls *memo = NULL, *watched = NULL, *full = NULL;
    int rows = 0, diffs = 0, matched = 0;

    st = fixture_store(dir, "memo.db", db_path, sizeof(db_path));
    if (!st)
        return CHECK_DONE();
    sqlite3 *db = ta_store_db(st);
    CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    /* answers stored before the classifiers exist are read by the walks, not by the memo */
    add_answer(db, 500000, "outlook.office365.com", "52.96.1.1", NULL);
    add_answer(db, 600000, "www.example.com", "203.0.113.7", NULL);
    CHECK_INT(ta__o365_cls_open(db, &memo, errbuf), TA_OK);
    CHECK_INT(ta__o365_cls_open(db, &watched, errbuf), TA_OK);
    CHECK_INT(ta__o365_cls_open(db, &full, errbuf), TA_OK);
    ta__o365_cls_watch_answers(watched, &epoch);
    if (memo && watched && full) {
        run_steps(db, memo, watched, full, 60000, &rows, &diffs, &matched);
        CHECK_INT(diffs, 0);
        /* the test means something only if both kinds of verdicts were many */
        CHECK(rows > 30000);
        CHECK(matched > rows / 10);
        CHECK(matched < rows - rows / 10);
        printf("%d rows, %d Office 365 by the dns rule, %d differences\n", rows, matched, diffs);
    }
    ta__o365_cls_free(memo);
    ta__o365_cls_free(watched);
    ta__o365_cls_free(full);
    CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    ta_store_close(st);
    check_dir_done(dir);
    test_store_at_insert();
    return CHECK_DONE();
}
