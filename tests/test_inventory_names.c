/* test_inventory_names.c - the inventory's name for a destination without SNI or certificate
 * name: the passive-DNS answer for its server address at or before the key's last handshake
 * (schema/README.md, inventory.name). On real SQLite files:
 *   - a key written ahead of its batch's COMMIT (ta_store_idle) and folded again after a newer
 *     answer takes the newer name; a key first seen before any answer gets one when it recurs;
 *     an answer after the last handshake is not taken; a key with an SNI keeps it; a key whose
 *     certificate was renewed under another name takes the latest certificate's name, also
 *     when the older certificate's rows come in a later batch (files read out of time order),
 *     and at the same microsecond the greater name, whichever comes first (schema 016); a
 *     certificate name with quotes and SQL in it is stored as it came;
 *   - the same records written with a COMMIT after each one and no write ahead give the same
 *     names: they do not depend on when a key was written;
 *   - the rebuild after a re-classification (ta_store_refresh) gives every row the same name
 *     again, instead of dropping the DNS names and taking the greatest certificate name. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hs_fixture.h"
#include "store_fixture.h"
#include "tlsaudit/store.h"

#define T0 1767600000000000LL   /* 2026-01-05T08:00:00Z */
/* A certificate name that would end an SQL string and a statement if it were spliced in. */
#define EVIL_CN "x'); DROP TABLE inventory; -- \"<b>"

/* The name and its source of the inventory row of client cli (one row each here). */
static void name_of(sqlite3 *db, const char *cli, char *out, size_t cap)
{
    sqlite3_stmt *s = NULL;
    snprintf(out, cap, "(no row)");
    if (sqlite3_prepare_v2(db, "SELECT name || '|' || name_source FROM inventory WHERE "
                           "client_ip = ?1", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, cli, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
}

/* One DNS answer: name resolves to the IPv4 address addr at T0 + dt. */
static void answer(struct ta_store *st, long long dt, const char *name, const char *addr)
{
    struct ta_addr a;
    hs_fixture_addr(&a, addr);
    CHECK_INT(ta_store_add_dns(st, (uint64_t)(T0 + dt), name, 4, &a, NULL), TA_OK);
}

/* One TLS 1.2 handshake from cli to srv:443 at T0 + dt, with sni or none (NULL), and a
 * certificate named cn or none (NULL). */
static void hello_cert(struct ta_store *st, long long dt, const char *cli, const char *srv,
                       const char *sni, const char *cn)
{
    struct ta_hs hs;
    hs_fixture(&hs, cli, 40000, srv, 443);
    hs.ch.present = true;
    hs.ch.ts_us = (uint64_t)(T0 + dt);
    hs.ch.legacy_version = 0x0303;
    hs.ch.ciphers[0] = 0x002f;
    hs.ch.nciphers = 1;
    if (sni)
        snprintf(hs.ch.sni, sizeof hs.ch.sni, "%s", sni);
    hs.sh.present = true;
    hs.sh.legacy_version = 0x0303;
    hs.sh.cipher = 0x002f;
    if (cn) {
        hs.cert.present = true;
        snprintf(hs.cert.subject_cn, sizeof hs.cert.subject_cn, "%s", cn);
    }
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
}

static void hello(struct ta_store *st, long long dt, const char *cli, const char *srv,
                  const char *sni)
{
    hello_cert(st, dt, cli, srv, sni, NULL);
}

/* Step k of the capture, in time order. ahead: write the aggregate ahead where a writer with
 * an empty queue would; otherwise COMMIT after every record. */
static void step(struct ta_store *st, bool ahead)
{
    if (ahead) {
        while (ta_store_idle(st) > 0) {
        }
    } else {
        CHECK_INT(ta_store_commit(st), TA_OK);
    }
}

/* Rows without SNI or certificate whose name is not the latest answer up to their last
 * handshake (or '' without one). */
static const char WRONG_NAMES[] =
    "SELECT count(*) FROM inventory i WHERE i.name_source IN ('', 'dns') AND i.name IS NOT "
    "COALESCE((SELECT d.name FROM dns_answers d WHERE d.addr = i.server_ip AND d.ts_us <= "
    "i.last_seen_us ORDER BY d.ts_us DESC, d.id DESC LIMIT 1), '')";


/* Write the capture (ahead or not) into a new store; check its names, then rebuild and check
 * them again. */
static void run(bool ahead)
{
    char dir[] = "/tmp/ta-test-invnames.XXXXXX", path[128], err[TA_ERRBUF_SIZE], got[300];
    struct ta_store *st = fixture_store(dir, "names.db", path, sizeof path);
    if (!st)
        return;
    ta_store_set_sensor(st, "unit");
    answer(st, 10, "a-old.example.net", "192.0.2.10");
    hello(st, 100, "10.0.0.1", "192.0.2.10", NULL);          /* a-old, for now */
    hello(st, 120, "10.0.0.2", "198.51.100.7", NULL);        /* nothing answered yet */
    step(st, ahead);
    answer(st, 200, "a-new.example.net", "192.0.2.10");
    answer(st, 210, "b.example.net", "198.51.100.7");
    answer(st, 210, "b-same-time.example.net", "198.51.100.7"); /* stored later: it wins */
    hello(st, 300, "10.0.0.1", "192.0.2.10", NULL);
    hello(st, 310, "10.0.0.2", "198.51.100.7", NULL);
    hello(st, 320, "10.0.0.3", "192.0.2.10", "sni.example.org");
    hello_cert(st, 330, "10.0.0.5", "192.0.2.10", NULL, "zzz-old.example.net");
    step(st, ahead);
    hello_cert(st, 340, "10.0.0.5", "192.0.2.10", NULL, "aaa-new.example.net"); /* renewed */
    hello_cert(st, 500, "10.0.0.6", "192.0.2.20", NULL, "late.example.net");
    hello_cert(st, 600, "10.0.0.7", "192.0.2.20", NULL, "bbb-tie.example.net");
    hello_cert(st, 600, "10.0.0.8", "192.0.2.20", NULL, "aaa-tie.example.net");
    hello_cert(st, 700, "10.0.0.9", "192.0.2.20", NULL, "x-late.example.net");
    hello_cert(st, 650, "10.0.0.9", "192.0.2.20", NULL, "y-early.example.net"); /* same batch */
    step(st, ahead);
    /* a file of older rows read after a later one: their certificates do not rename the keys */
    hello_cert(st, 450, "10.0.0.6", "192.0.2.20", NULL, "early.example.net");
    hello(st, 460, "10.0.0.6", "192.0.2.20", NULL);          /* a resumed session, no cert */
    hello_cert(st, 600, "10.0.0.7", "192.0.2.20", NULL, "aaa-tie.example.net");
    hello_cert(st, 600, "10.0.0.8", "192.0.2.20", NULL, "bbb-tie.example.net");
    hello_cert(st, 610, "10.0.0.10", "192.0.2.20", NULL, EVIL_CN);  /* a hostile certificate */
    step(st, ahead);
    answer(st, 1000, "a-after.example.net", "192.0.2.10");   /* after every handshake */
    hello(st, 900, "10.0.0.4", "203.0.113.9", NULL);          /* never answered */
    CHECK_INT(ta_store_commit(st), TA_OK);
    sqlite3 *db = ta_store_db(st);
    for (int pass = 0; pass < 2; pass++) {
        name_of(db, "10.0.0.1", got, sizeof got);
        CHECK_STR(got, "a-new.example.net|dns");
        name_of(db, "10.0.0.2", got, sizeof got);
        CHECK_STR(got, "b-same-time.example.net|dns");
        name_of(db, "10.0.0.3", got, sizeof got);
        CHECK_STR(got, "sni.example.org|sni");
        name_of(db, "10.0.0.4", got, sizeof got);
        CHECK_STR(got, "|");
        name_of(db, "10.0.0.5", got, sizeof got);      /* the latest certificate's name */
        CHECK_STR(got, "aaa-new.example.net|cert");
        name_of(db, "10.0.0.6", got, sizeof got);      /* by time, not by the order read */
        CHECK_STR(got, "late.example.net|cert");
        CHECK_INT(one(db, "SELECT name_us - 1767600000000000 FROM inventory WHERE client_ip = "
                          "'10.0.0.6'"), 500);
        name_of(db, "10.0.0.7", got, sizeof got);      /* the same microsecond: the greater */
        CHECK_STR(got, "bbb-tie.example.net|cert");
        name_of(db, "10.0.0.8", got, sizeof got);
        CHECK_STR(got, "bbb-tie.example.net|cert");
        name_of(db, "10.0.0.9", got, sizeof got);
        CHECK_STR(got, "x-late.example.net|cert");
        name_of(db, "10.0.0.10", got, sizeof got);     /* bound, never spliced into SQL */
        CHECK_STR(got, EVIL_CN "|cert");
        CHECK_INT(one(db, "SELECT count(*) FROM inventory WHERE (name_source = 'cert') <> "
                          "(name_us IS NOT NULL)"), 0);
        CHECK_INT(one(db, WRONG_NAMES), 0);
        CHECK_INT(one(db, "SELECT count(*) FROM inventory"), 10);
        if (pass == 0) {     /* a re-classification of everything: the inventory is rebuilt */
            CHECK_INT(ta_store_refresh_mark(db, 0, err), TA_OK);
            CHECK_INT(ta_store_refresh(db, err), TA_OK);
        }
    }
    ta_store_close(st);
    check_dir_done(dir);
}

int main(void)
{
    run(true);
    run(false);
    return CHECK_DONE();
}
