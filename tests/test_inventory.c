/* test_inventory.c - the store's inventory and daily rollups on real SQLite files: --max-db-size
 * parsing, the per-batch aggregate against a recomputation from the rows (more distinct keys
 * than the aggregate holds, so it flushes mid-batch; repeated keys; "none" values that differ
 * from real zeros: cipher 0x0000, no ServerHello, SSLv2), two writers on one file, the
 * writer's remembered row ids and daily client keys going stale under it, and the key hash
 * (schema 009) cut to 2 bits so that nearly every key shares its hash with others. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "hs_fixture.h"
#include "store_fixture.h"
#include "tlsaudit/store.h"

#define T0 1767600000000000LL   /* 2026-01-05T08:00:00Z */
#define DAY 86400000000LL

static char dir[64];

static const char *path_of(const char *name)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}


static void test_parse_size(void)
{
    int64_t v = 0;
    CHECK_INT(ta_store_parse_size("64M", &v), 0);
    CHECK_INT(v, 64LL << 20);
    CHECK_INT(ta_store_parse_size("2G", &v), 0);
    CHECK_INT(v, 2LL << 30);
    CHECK_INT(ta_store_parse_size("512k", &v), 0);
    CHECK_INT(v, 512LL << 10);
    CHECK_INT(ta_store_parse_size("1.5GiB", &v), 0);
    CHECK_INT(v, 3LL << 29);
    CHECK_INT(ta_store_parse_size("1048576", &v), 0);
    CHECK_INT(v, 1048576);
    CHECK_INT(ta_store_parse_size("", &v), -1);
    CHECK_INT(ta_store_parse_size("12X", &v), -1);
    CHECK_INT(ta_store_parse_size("-1M", &v), -1);
    CHECK_INT(ta_store_parse_size("0", &v), -1);
    CHECK_INT(ta_store_parse_size("M", &v), -1);
}

/* Record i: client i % nclients, one of three outcomes, spread over days. */
static void rec(struct ta_hs *hs, int i, int nclients)
{
    char cli[32];
    snprintf(cli, sizeof cli, "10.%d.%d.%d", (i % nclients) >> 16 & 255, (i % nclients) >> 8 & 255,
             (i % nclients) & 255);
    hs_fixture(hs, cli, (uint16_t)(40000 + i % 20000), i % 3 ? "192.0.2.10" : "198.51.100.7", 443);
    hs->ch.present = true;
    hs->ch.ts_us = (uint64_t)(T0 + (long long)(i % 5) * DAY + i);
    hs->ch.legacy_version = i % 4 ? 0x0303 : 0x0301;
    hs->ch.ciphers[0] = 0x002f;
    hs->ch.ciphers[1] = 0x0000;
    hs->ch.nciphers = 2;
    if (i % 7)
        snprintf(hs->ch.sni, sizeof hs->ch.sni, "host%d.example", i % 5);
    switch (i % 3) {
    case 0:   /* refused: no ServerHello, a fatal alert */
        hs->alert.present = true;
        hs->alert.level = 2;
        hs->alert.description = 70;
        break;
    case 1:   /* the real cipher suite 0x0000, which must not read as "none" */
        hs->sh.present = true;
        hs->sh.legacy_version = hs->ch.legacy_version;
        hs->sh.cipher = 0x0000;
        break;
    default:
        hs->sh.present = true;
        hs->sh.legacy_version = hs->ch.legacy_version;
        hs->sh.cipher = 0x002f;
    }
}

/* Distinct inventory keys of the rows, computed from the rows alone. */
static const char ROW_KEYS[] =
    "SELECT count(*) FROM (SELECT DISTINCT h.client_ip, h.server_ip, h.server_port, "
    "COALESCE(h.app, ''), COALESCE(h.sni, ''), COALESCE(h.version, 0), COALESCE(h.cipher_id, -1), "
    "COALESCE(h.cipher_v2, 0), COALESCE(h.client_max_version, 0), COALESCE(h.ja3, ''), "
    "COALESCE(h.ja4, ''), h.o365 FROM handshakes h)";

/* Every inventory row's counts against the rows' (full 16-column key; the writers of these
 * tests name their sensor "unit" and start no run): mismatched keys. */
static const char KEY_MISMATCH[] =
    "WITH exp AS (SELECT 'unit' AS sensor, h.client_ip, h.server_ip, "
    "h.server_port, h.transport, COALESCE(h.app, ''), COALESCE(h.sni, ''), "
    "COALESCE(h.version, 0), COALESCE(h.cipher_id, -1), COALESCE(h.cipher_v2, 0), "
    "COALESCE(h.client_max_version, 0), COALESCE(h.ja3, ''), COALESCE(h.ja4, ''), h.o365, "
    "COALESCE(h.o365_service, ''), COALESCE(h.o365_reason, ''), count(*), sum(h.established), "
    "min(h.ts_us), max(h.ts_us) FROM handshakes h "
    "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), "
    "act AS (SELECT sensor, client_ip, server_ip, server_port, transport, app, sni, version, "
    "cipher_id, cipher_v2, client_max_version, ja3, ja4, o365, o365_service, o365_reason, "
    "handshakes, established, first_seen_us, last_seen_us FROM inventory) "
    "SELECT (SELECT count(*) FROM (SELECT * FROM exp EXCEPT SELECT * FROM act)) + "
    "(SELECT count(*) FROM (SELECT * FROM act EXCEPT SELECT * FROM exp))";
/* Distinct keys of the inventory rows: their count when each key is one row. */
static const char KEYS_DISTINCT[] =
    "SELECT count(*) FROM (SELECT DISTINCT sensor, client_ip, server_ip, server_port, transport, "
    "app, sni, version, cipher_id, cipher_v2, client_max_version, ja3, ja4, o365, o365_service, "
    "o365_reason FROM inventory)";
/* The unique index of schemas 004 to 011 (012 drops it), to make a file of schema 011. */
#define SCHEMA_011_KEY                                                                          \
    "CREATE UNIQUE INDEX inventory_key ON inventory(client_ip, server_ip, server_port, "        \
    "transport, app, sni, version, cipher_id, cipher_v2, client_max_version, ja3, ja4, o365, "  \
    "o365_service, o365_reason, sensor)"
/* What files after 013 added, undone when a test takes a file back to an older version. */
#define UNDO_AFTER_013                                                                     \
    "ALTER TABLE runs DROP COLUMN truncated; ALTER TABLE runs DROP COLUMN ip_reassembled; "  \
    "ALTER TABLE runs DROP COLUMN ip_incomplete; ALTER TABLE inventory DROP COLUMN name_us; " \
    "ALTER TABLE runs DROP COLUMN workers; ALTER TABLE runs DROP COLUMN time_back"
/* Rows whose key_hash is not the hash of their key (the connection's ta_inv_key_hash). */
static const char BAD_HASH[] =
    "SELECT count(*) FROM inventory WHERE key_hash <> ta_inv_key_hash(sensor, client_ip, "
    "server_ip, server_port, transport, app, sni, version, cipher_id, cipher_v2, "
    "client_max_version, ja3, ja4, o365, o365_service, o365_reason)";

static void test_aggregate(void)
{
    const char *db = path_of("agg.db");
    char err[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct ta_hs hs;
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st)
        return;
    ta_store_set_sensor(st, "unit");
    /* 9,000 clients in one batch: more keys than the aggregate holds before it flushes */
    for (int i = 0; i < 9000; i++) {
        rec(&hs, i, 9000);
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    }
    CHECK_INT(ta_store_commit(st), TA_OK);
    /* then the same clients again, in small batches: existing keys are updated */
    for (int i = 0; i < 3000; i++) {
        rec(&hs, i, 9000);
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
        if (i % 500 == 499)
            CHECK_INT(ta_store_commit(st), TA_OK);
    }
    ta_store_close(st);
    sqlite3 *ro = NULL;
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (!ro)
        return;
    CHECK_INT(one(ro, "SELECT count(*) FROM handshakes"), 12000);
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory"), 12000);
    CHECK_INT(one(ro, "SELECT count(*) FROM inventory"), one(ro, ROW_KEYS));
    CHECK_INT(one(ro, BAD_HASH), 0);
    CHECK(one(ro, "SELECT count(DISTINCT key_hash) FROM inventory") > 8000);
    CHECK_INT(one(ro, "SELECT sum(refused) FROM inventory"),
              one(ro, "SELECT count(*) FROM handshakes WHERE established = 0"));
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory WHERE cipher_id = 0"),
              one(ro, "SELECT count(*) FROM handshakes WHERE cipher_id = 0"));
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory WHERE cipher_id = -1"),
              one(ro, "SELECT count(*) FROM handshakes WHERE cipher_id IS NULL"));
    CHECK(one(ro, "SELECT count(*) FROM handshakes WHERE cipher_id = 0") > 0);
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory WHERE legacy = 1"),
              one(ro, "SELECT count(*) FROM handshakes WHERE version IN (769, 770) OR "
                      "(version IS NULL AND client_max_version BETWEEN 1 AND 770)"));
    CHECK_INT(one(ro, "SELECT count(DISTINCT sensor) FROM inventory WHERE sensor = 'unit'"), 1);
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM daily_rollups"), 12000);
    CHECK_INT(one(ro, "SELECT count(DISTINCT day) FROM daily_rollups"), 5);
    /* clients of a rollup row = its daily client keys = distinct clients of its rows */
    CHECK_INT(one(ro, "SELECT sum(clients) FROM daily_rollups"),
              one(ro, "SELECT count(*) FROM daily_clients"));
    CHECK_INT(one(ro, "SELECT count(*) FROM daily_clients"),
              one(ro, "SELECT count(*) FROM (SELECT DISTINCT substr(ts, 1, 10), COALESCE(version, 0), "
                      "o365, app, client_max_version, version IS NULL, client_ip FROM handshakes)"));
    /* first and last seen: the earliest and latest row of the key, and its text (the join
     * pairs every inventory row with its rows' group: counted first) */
#define SEEN_JOIN "FROM inventory i JOIN (SELECT client_ip, server_ip, "                        \
    "COALESCE(sni, '') AS s, COALESCE(version, 0) AS v, COALESCE(cipher_id, -1) AS c, "         \
    "COALESCE(client_max_version, 0) AS m, COALESCE(ja3, '') AS j, min(ts_us) AS f, "           \
    "max(ts_us) AS l FROM handshakes GROUP BY 1, 2, 3, 4, 5, 6, 7) g ON g.client_ip = "         \
    "i.client_ip AND g.server_ip = i.server_ip AND g.s = i.sni AND g.v = i.version AND "        \
    "g.c = i.cipher_id AND g.m = i.client_max_version AND g.j = i.ja3"
    CHECK_INT(one(ro, "SELECT count(*) " SEEN_JOIN), one(ro, "SELECT count(*) FROM inventory"));
    CHECK_INT(one(ro, "SELECT count(*) " SEEN_JOIN
                      " WHERE g.f <> i.first_seen_us OR g.l <> i.last_seen_us"), 0);
    CHECK_INT(one(ro, "SELECT count(*) FROM inventory i WHERE i.first_seen <> (SELECT ts FROM "
                      "handshakes h WHERE h.ts_us = i.first_seen_us LIMIT 1)"), 0);
    sqlite3_close(ro);
}

/* Two processes write one file at once: each batch carries its own aggregate. */
static void test_two_writers(void)
{
    const char *db = path_of("two.db");
    pid_t pid[2];
    for (int k = 0; k < 2; k++) {
        pid[k] = fork();
        if (pid[k] == 0) {
            char err[TA_ERRBUF_SIZE];
            struct ta_store *st = NULL;
            struct ta_hs hs;
            int bad = 0;
            if (ta_store_open(db, &st, err) != TA_OK)
                _exit(1);
            for (int i = 0; i < 3000; i++) {
                rec(&hs, i + k * 1000, 700);
                bad |= ta_store_add(st, &hs) != TA_OK;
                if (i % 100 == 99)
                    bad |= ta_store_commit(st) != TA_OK;
            }
            ta_store_close(st);
            _exit(bad);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = -1;
        waitpid(pid[k], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    sqlite3 *ro = NULL;
    char err[TA_ERRBUF_SIZE];
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (!ro)
        return;
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory"), 6000);
    CHECK_INT(one(ro, "SELECT count(*) FROM inventory"), one(ro, ROW_KEYS));
    CHECK_INT(one(ro, "SELECT sum(clients) FROM daily_rollups"),
              one(ro, "SELECT count(*) FROM daily_clients"));
    sqlite3_close(ro);
}

/* The remembered inventory row ids and daily client keys are hints that every statement checks:
 * rows deleted behind the writer's back (as a rebuild deletes them) and their ids taken by other
 * keys must not receive the next batch's counts, and the counts still come out of the rows. */
static void test_stale_hints(void)
{
    const char *db = path_of("hints.db");
    char err[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct ta_hs hs;
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st)
        return;
    ta_store_set_sensor(st, "unit");
    for (int i = 0; i < 10; i++) {
        rec(&hs, i, 10);
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    }
    CHECK_INT(ta_store_commit(st), TA_OK);
    sqlite3 *w = ta_store_db(st);
    long long top = one(w, "SELECT max(id) FROM inventory");
    CHECK(top >= 10);
    CHECK_INT(sqlite3_exec(w, "DELETE FROM inventory; DELETE FROM daily_clients; "
                           "DELETE FROM daily_rollups; "
                           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                           "WHERE i < (SELECT max(id) FROM handshakes)) "
                           "INSERT INTO inventory(id, client_ip, server_ip, server_port, "
                           "transport, handshakes, established, first_seen_us, first_seen, "
                           "last_seen_us, last_seen) SELECT i, '203.0.113.' || i, '192.0.2.99', "
                           "1, 'tcp', 7, 7, 0, '', 0, '' FROM n", NULL, NULL, NULL), SQLITE_OK);
    long long foreign = one(w, "SELECT count(*) FROM inventory");
    CHECK(foreign >= top);
    for (int i = 0; i < 10; i++) {
        rec(&hs, i, 10);
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    }
    CHECK_INT(ta_store_commit(st), TA_OK);
    ta_store_close(st);
    sqlite3 *ro = NULL;
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (!ro)
        return;
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory WHERE server_ip = '192.0.2.99'"),
              7 * foreign);
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory WHERE server_ip <> '192.0.2.99'"),
              10);
    CHECK_INT(one(ro, "SELECT count(*) FROM inventory WHERE server_ip <> '192.0.2.99'"), 10);
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM daily_clients"), 10);
    CHECK_INT(one(ro, "SELECT count(*) FROM daily_clients"), 10);
    CHECK_INT(one(ro, "SELECT sum(clients) FROM daily_rollups"), 10);
    sqlite3_close(ro);
}

/* Write n records of nclients (i from i0) in batches of 400, on a fresh store (no remembered
 * ids: every key is found by its hash or inserted). */
static void write_recs(const char *db, int i0, int n, int nclients)
{
    char err[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct ta_hs hs;
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st)
        return;
    ta_store_set_sensor(st, "unit");
    for (int i = i0; i < i0 + n; i++) {
        rec(&hs, i, nclients);
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
        if (i % 400 == 399)
            CHECK_INT(ta_store_commit(st), TA_OK);
    }
    ta_store_close(st);
}

/* Key hashes cut to 2 bits (TA_TEST_INV_HASH_BITS): thousands of keys share 4 hash values, so
 * every lookup by hash meets other keys and must tell them apart on the row (schema 012: no
 * unique index on the key holds them apart); then a file at schema 011 with rows under a wrong
 * key_hash (which 011 allowed: its unique index found them) gets them repaired by migration 012
 * before its keys are written again; then a file from before schema 009 gets its key hashes
 * from the migration. */
static void test_hash_collisions(void)
{
    const char *db = path_of("coll.db");
    char err[TA_ERRBUF_SIZE];
    CHECK_INT(setenv("TA_TEST_INV_HASH_BITS", "2", 1), 0);
    write_recs(db, 0, 2000, 1500);
    write_recs(db, 1000, 2000, 1500);       /* half the keys again, found by their hash */
    sqlite3 *ro = NULL;
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (ro) {
        CHECK_INT(one(ro, "SELECT count(*) FROM sqlite_master WHERE name = 'inventory_key'"), 0);
        CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory"), 4000);
        CHECK_INT(one(ro, "SELECT count(*) FROM inventory"), one(ro, KEYS_DISTINCT));
        CHECK_INT(one(ro, "SELECT count(*) FROM inventory"), one(ro, ROW_KEYS));
        CHECK_INT(one(ro, KEY_MISMATCH), 0);
        sqlite3_close(ro);
    }
    sqlite3 *w = NULL;
    CHECK_INT(sqlite3_open(db, &w), SQLITE_OK);
    CHECK_INT(sqlite3_exec(w, "UPDATE inventory SET key_hash = key_hash + 100 WHERE id % 2 = 0",
                           NULL, NULL, NULL), SQLITE_OK);
    long long wrong = sqlite3_changes(w);
    CHECK(wrong > 100);
    CHECK_INT(sqlite3_exec(w, SCHEMA_011_KEY "; " UNDO_AFTER_013 "; PRAGMA user_version = 11",
                           NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(w);
    write_recs(db, 0, 4000, 1500);          /* every key again: half of them had a wrong hash */
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (ro) {
        CHECK_INT(one(ro, "PRAGMA user_version") >= 12, 1);
        CHECK_INT(one(ro, "SELECT count(*) FROM sqlite_master WHERE name = 'inventory_key'"), 0);
        CHECK_INT(one(ro, "SELECT count(*) FROM handshakes"), 8000);
        CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory"), 8000);
        CHECK_INT(one(ro, "SELECT count(DISTINCT key_hash) FROM inventory"), 4);
        CHECK(one(ro, "SELECT count(*) FROM inventory") > 1000);
        CHECK_INT(one(ro, "SELECT count(*) FROM inventory"), one(ro, KEYS_DISTINCT));
        CHECK_INT(one(ro, "SELECT count(*) FROM inventory"), one(ro, ROW_KEYS));
        CHECK_INT(one(ro, KEY_MISMATCH), 0);
        CHECK_INT(one(ro, BAD_HASH), 0);
        sqlite3_close(ro);
    }
    /* back to schema 8: the migration fills key_hash */
    CHECK_INT(sqlite3_open(db, &w), SQLITE_OK);
    /* (schema 8's indexes too: 010 and 011 rebuilt two of them, 012 dropped one) */
    CHECK_INT(sqlite3_exec(w, "DROP INDEX inventory_hash; ALTER TABLE inventory DROP COLUMN "
                           "key_hash; DROP INDEX inventory_legacy_cover; DROP INDEX "
                           "inventory_clients; " SCHEMA_011_KEY "; " UNDO_AFTER_013 "; "
                           "CREATE INDEX inventory_legacy ON inventory(legacy, "
                           "o365, client_ip); CREATE INDEX inventory_clients ON inventory(o365, "
                           "version, app, legacy, client_ip); PRAGMA user_version = 8",
                           NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(w);
    write_recs(db, 0, 800, 1500);
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (ro) {
        CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory"), 8800);
        CHECK_INT(one(ro, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                          "('inventory_hash', 'inventory_legacy_cover', 'inventory_legacy', "
                          "'inventory_key')"), 2);
        CHECK_INT(one(ro, "SELECT count(DISTINCT key_hash) FROM inventory"), 4);
        CHECK_INT(one(ro, "SELECT count(*) FROM inventory"), one(ro, KEYS_DISTINCT));
        CHECK_INT(one(ro, KEY_MISMATCH), 0);
        CHECK_INT(one(ro, BAD_HASH), 0);
        sqlite3_close(ro);
    }
    CHECK_INT(unsetenv("TA_TEST_INV_HASH_BITS"), 0);
}

/* Inventory rows whose count of retained rows (handshakes - pruned_handshakes) is not the
 * count of their key's handshakes rows (sensor "unit"). */
static const char RETAINED_MISMATCH[] =
    "SELECT count(*) FROM inventory i WHERE i.handshakes - i.pruned_handshakes <> (SELECT "
    "count(*) FROM handshakes h WHERE h.client_ip = i.client_ip AND h.server_ip = i.server_ip "
    "AND h.server_port = i.server_port AND h.transport = i.transport AND COALESCE(h.app, '') = "
    "i.app AND COALESCE(h.sni, '') = i.sni AND COALESCE(h.version, 0) = i.version AND "
    "COALESCE(h.cipher_id, -1) = i.cipher_id AND COALESCE(h.cipher_v2, 0) = i.cipher_v2 AND "
    "COALESCE(h.client_max_version, 0) = i.client_max_version AND COALESCE(h.ja3, '') = i.ja3 "
    "AND COALESCE(h.ja4, '') = i.ja4 AND h.o365 = i.o365) OR i.sensor <> 'unit'";

/* The SQL that adds keys to the inventory (retention's pruned counts, the rebuild after a
 * re-classification: inv_merge.c) under 2-bit key hashes: each of thousands of keys must find
 * its own row among the hundreds that share its hash, or be inserted once. Retention keeps 2 of
 * 5 days, the rebuild then puts every row back together: counts and keys as from the rows. */
static void test_merge_collisions(void)
{
    const char *db = path_of("merge.db");
    char err[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct ta_hs hs;
    CHECK_INT(setenv("TA_TEST_INV_HASH_BITS", "2", 1), 0);
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st)
        return;
    ta_store_set_sensor(st, "unit");
    ta_store_set_retention(st, 2, 0);
    struct ta_run_stats rs = { 0 };
    int64_t run = 0;       /* the rows' sensor, for the SQL's key (runs.sensor) */
    CHECK_INT(ta_store_run_begin(st, "merge.pcap", NULL, &run), TA_OK);
    for (int i = 0; i < 6000; i++) {
        rec(&hs, i, 1200);
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
        if (i % 500 == 499)
            CHECK_INT(ta_store_commit(st), TA_OK);
    }
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    sqlite3 *w = ta_store_db(st);
    long long kept = one(w, "SELECT count(*) FROM handshakes");
    CHECK(kept > 0 && kept < 5000);
    CHECK_INT(one(w, "SELECT sum(handshakes) FROM inventory"), 6000);
    CHECK_INT(one(w, "SELECT sum(pruned_handshakes) FROM inventory"), 6000 - kept);
    CHECK_INT(one(w, "SELECT count(*) FROM inventory"), one(w, KEYS_DISTINCT));
    CHECK_INT(one(w, RETAINED_MISMATCH), 0);
    CHECK_INT(one(w, BAD_HASH), 0);
    long long keys = one(w, "SELECT count(*) FROM inventory");
    /* a re-classification of everything: the rebuild adds the retained rows back by key */
    CHECK_INT(ta_store_refresh_mark(w, 0, err), TA_OK);
    CHECK_INT(ta_store_refresh(w, err), TA_OK);
    CHECK_INT(one(w, "SELECT count(*) FROM inventory"), keys);
    CHECK_INT(one(w, "SELECT count(*) FROM inventory"), one(w, KEYS_DISTINCT));
    CHECK_INT(one(w, "SELECT sum(handshakes) FROM inventory"), 6000);
    CHECK_INT(one(w, "SELECT count(DISTINCT key_hash) FROM inventory"), 4);
    CHECK_INT(one(w, RETAINED_MISMATCH), 0);
    CHECK_INT(one(w, BAD_HASH), 0);
    ta_store_close(st);
    CHECK_INT(unsetenv("TA_TEST_INV_HASH_BITS"), 0);
}

/* Long texts in one batch: 5,000 keys whose SNI takes 254 bytes need more than the
 * aggregate's 1 MiB text arena, so the writer must flush when it fills (before its slot tables
 * do), and every key still ends with its full name and its counts. */
static void test_long_texts(void)
{
    const char *db = path_of("long.db");
    char err[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct ta_hs hs;
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st)
        return;
    ta_store_set_sensor(st, "unit");
    for (int i = 0; i < 5000; i++) {
        rec(&hs, i, 5000);
        char *p = hs.ch.sni;
        size_t n = 0;
        n += (size_t)snprintf(p, TA_SNI_MAX, "k%05d.", i);
        while (n < TA_SNI_MAX - 1) {            /* labels of 59 letters and a dot: 254 bytes */
            p[n] = (char)((n % 60 == 59 || n == TA_SNI_MAX - 10) ? '.' : 'a' + n % 26);
            n++;
        }
        memcpy(p + TA_SNI_MAX - 9, "example", 8);
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    }
    CHECK_INT(ta_store_commit(st), TA_OK);
    ta_store_close(st);
    sqlite3 *ro = NULL;
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (!ro)
        return;
    CHECK_INT(one(ro, "SELECT count(*) FROM inventory WHERE length(sni) = 254 AND name = sni"),
              5000);
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory"), 5000);
    CHECK_INT(one(ro, "SELECT count(*) FROM inventory"), one(ro, ROW_KEYS));
    CHECK_INT(one(ro, KEY_MISMATCH), 0);
    CHECK_INT(one(ro, BAD_HASH), 0);
    sqlite3_close(ro);
}

/* The writer's idle work (ta_store_idle) writes aggregate entries ahead of the COMMIT: the
 * inventory and rollups end exactly as when the batch is written at once, also for keys folded
 * into again after they were written, and the rows are there before the COMMIT. */
#define INV_COLS "sensor, client_ip, server_ip, server_port, transport, app, sni, version, " \
    "cipher_id, cipher_v2, client_max_version, ja3, ja4, o365, o365_service, o365_reason, " \
    "legacy, name, name_source, handshakes, established, refused, first_seen_us, first_seen, " \
    "last_seen_us, last_seen, key_hash"
#define DC_COLS "day, sensor, version, legacy, o365, o365_service, app, client_ip, handshakes"
#define RL_COLS "day, sensor, version, legacy, o365, o365_service, app, handshakes, " \
    "established, refused, clients"
static void test_idle_writes(void)
{
    char err[TA_ERRBUF_SIZE];
    struct ta_hs hs;
    const char *name[2] = { "plain.db", "ahead.db" };
    char paths[2][600];
    int ahead_before_commit = -1, idle_after_all = -1, idle_written = 0;
    for (int k = 0; k < 2; k++) {
        struct ta_store *st = NULL;
        snprintf(paths[k], sizeof paths[k], "%s", path_of(name[k]));
        CHECK_INT(ta_store_open(paths[k], &st, err), TA_OK);
        if (!st)
            return;
        ta_store_set_sensor(st, "unit");
        /* 4,000 rows of 700 clients in batches of 1,000, rows of a key spread over batches and
         * over the writes ahead (every third row), the first rows late in time */
        for (int i = 0; i < 4000; i++) {
            rec(&hs, (i * 7) % 4000, 700);
            CHECK_INT(ta_store_add(st, &hs), TA_OK);
            if (k == 1 && i % 3 == 2) {
                int n = ta_store_idle(st);
                CHECK(n >= 0 && n <= TA_STORE_IDLE_WRITES);
                idle_written += n;
            }
            if (k == 1 && i == 500) {
                while (ta_store_idle(st) > 0) {
                }
                ahead_before_commit = (int)one(ta_store_db(st), "SELECT sum(handshakes) FROM inventory");
                idle_after_all = ta_store_idle(st);
            }
            if (i % 1000 == 999)
                CHECK_INT(ta_store_commit(st), TA_OK);
        }
        ta_store_close(st);
    }
    CHECK_INT(ahead_before_commit, 501);      /* rows 0..500, all in the open batch */
    CHECK_INT(idle_after_all, 0);             /* nothing left to write ahead */
    CHECK(idle_written > 1000);
    sqlite3 *db = NULL;
    CHECK_INT(ta_store_open_ro(paths[0], &db, err), TA_OK);
    if (!db)
        return;
    char sql[1400];
    snprintf(sql, sizeof sql, "ATTACH '%s' AS b", paths[1]);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    static const char *const diff[] = {
        "SELECT count(*) FROM (SELECT " INV_COLS " FROM main.inventory EXCEPT SELECT " INV_COLS
        " FROM b.inventory)",
        "SELECT count(*) FROM (SELECT " INV_COLS " FROM b.inventory EXCEPT SELECT " INV_COLS
        " FROM main.inventory)",
        "SELECT count(*) FROM (SELECT " DC_COLS " FROM main.daily_clients EXCEPT SELECT " DC_COLS
        " FROM b.daily_clients)",
        "SELECT count(*) FROM (SELECT " DC_COLS " FROM b.daily_clients EXCEPT SELECT " DC_COLS
        " FROM main.daily_clients)",
        "SELECT count(*) FROM (SELECT " RL_COLS " FROM main.daily_rollups EXCEPT SELECT " RL_COLS
        " FROM b.daily_rollups)",
        "SELECT count(*) FROM (SELECT " RL_COLS " FROM b.daily_rollups EXCEPT SELECT " RL_COLS
        " FROM main.daily_rollups)",
    };
    for (size_t i = 0; i < sizeof diff / sizeof diff[0]; i++)
        CHECK_INT(one(db, diff[i]), 0);
    CHECK_INT(one(db, "SELECT count(*) FROM b.inventory"), one(db, "SELECT count(*) FROM main.inventory"));
    CHECK_INT(one(db, "SELECT sum(handshakes) FROM b.inventory"), 4000);
    CHECK_INT(one(db, "SELECT sum(clients) FROM b.daily_rollups"),
              one(db, "SELECT count(*) FROM b.daily_clients"));
    sqlite3_close(db);
}

/* A write ahead that fails (here a trigger refuses new inventory rows, as a full disk would
 * refuse pages) gives the open batch up, as a failed COMMIT does: its rows are counted lost,
 * the batches committed before it are all there, and the next batch is written whole. */
static void test_idle_write_fails(void)
{
    const char *db = path_of("idlefail.db");
    char err[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct ta_hs hs;
    sqlite3 *rw = NULL;
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st)
        return;
    for (int i = 0; i < 100; i++) {           /* committed before the failure */
        rec(&hs, i, 50);
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    }
    CHECK_INT(ta_store_commit(st), TA_OK);
    ta_store_close(st);
    CHECK_INT(sqlite3_open(db, &rw), SQLITE_OK);
    CHECK_INT(sqlite3_exec(rw, "CREATE TRIGGER refuse BEFORE INSERT ON inventory BEGIN "
                               "SELECT RAISE(ABORT, 'refused'); END", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(rw);
    st = NULL;
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st)
        return;
    for (int i = 0; i < 10; i++) {            /* new keys: their write ahead is an insert */
        rec(&hs, 1000 + i, 5000);
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    }
    CHECK_INT(ta_store_idle(st), 0);          /* failed: nothing written, the batch given up */
    CHECK_INT((int)ta_store_rows_lost(st), 10);
    CHECK_INT(sqlite3_exec(ta_store_db(st), "DROP TRIGGER refuse", NULL, NULL, NULL), SQLITE_OK);
    for (int i = 0; i < 20; i++) {            /* the next batch */
        rec(&hs, 2000 + i, 5000);
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    }
    CHECK(ta_store_idle(st) > 0);
    CHECK_INT(ta_store_commit(st), TA_OK);
    CHECK_INT((int)ta_store_rows_lost(st), 10);
    ta_store_close(st);
    sqlite3 *ro = NULL;
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (!ro)
        return;
    CHECK_INT(one(ro, "SELECT count(*) FROM handshakes"), 120);
    CHECK_INT(one(ro, "SELECT sum(handshakes) FROM inventory"), 120);
    CHECK_INT(one(ro, "SELECT count(*) FROM inventory"), one(ro, ROW_KEYS));
    sqlite3_close(ro);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ta_test_inventory.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_parse_size();
    test_aggregate();
    test_two_writers();
    test_stale_hints();
    test_hash_collisions();
    test_merge_collisions();
    test_long_texts();
    test_idle_writes();
    test_idle_write_fails();
    check_dir_done(dir);
    return CHECK_DONE();
}
