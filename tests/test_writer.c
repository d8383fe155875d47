/* test_writer.c - the store writer thread over a real SQLite file: two producer threads push
 * records and DNS messages through a small queue (so it wraps and fills), every row is stored
 * exactly once; a full queue blocks the producer instead of dropping; an idle writer still
 * commits within about a second; a store that refuses writes is counted, not silently lost;
 * an over-long DNS message is counted. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hs_fixture.h"
#include "store_fixture.h"
#include "tlsaudit/store.h"
#include "tlsaudit/writer.h"

#define T0 1795161600000000ULL    /* 2026-11-20T08:00:00Z */
#define PER_PRODUCER 3000         /* records per producer thread */
#define DNS_EVERY 10              /* one DNS message per this many records */

static char dir[64];

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}


/* A DNS response for name with one A answer 192.0.2.(n % 250 + 1) (RFC 1035 4.1). Returns the
 * message length. */
static size_t dns_msg(uint8_t *m, size_t cap, const char *name, unsigned n)
{
    static const uint8_t hdr[12] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };
    static const uint8_t ans[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2 };
    size_t off = sizeof(hdr);
    const char *p = name;

    memcpy(m, hdr, sizeof(hdr));
    while (*p) {
        size_t l = strcspn(p, ".");
        m[off++] = (uint8_t)l;
        memcpy(m + off, p, l);
        off += l;
        p += l + (p[l] == '.');
    }
    m[off++] = 0;
    memcpy(m + off, (const uint8_t[]){ 0, 1, 0, 1 }, 4);           /* QTYPE A, QCLASS IN */
    off += 4;
    memcpy(m + off, ans, sizeof(ans));
    off += sizeof(ans);
    m[off++] = (uint8_t)(n % 250 + 1);
    (void)cap;
    return off;
}

struct producer {
    struct ta_writer *w;
    int id;                       /* client 10.0.<id>.1 */
    int count;
    int done;                     /* records queued so far (read under gate_mu by the test) */
};

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_closed, in_tick, ticks;

/* Writer tick: counts calls; while the gate is closed it blocks, so the writer takes nothing
 * from the queue and producers must wait. */
static void tick(void *arg, struct ta_store *st, uint64_t now)
{
    (void)arg; (void)st; (void)now;
    pthread_mutex_lock(&gate_mu);
    ticks++;
    in_tick = 1;
    pthread_cond_broadcast(&gate_cv);
    while (gate_closed)
        pthread_cond_wait(&gate_cv, &gate_mu);
    in_tick = 0;
    pthread_mutex_unlock(&gate_mu);
}

static void *produce(void *arg)
{
    struct producer *pr = arg;
    char cli[32], name[64];
    uint8_t msg[512];
    struct ta_hs hs;

    snprintf(cli, sizeof(cli), "10.0.%d.1", pr->id);
    for (int i = 0; i < pr->count; i++) {
        hs_fixture(&hs, cli, (uint16_t)(1000 + i), "192.0.2.10", 443);
        hs.ts_first_us = T0 + (uint64_t)i;
        hs.ch.present = true;
        hs.ch.legacy_version = 0x0303;
        snprintf(hs.ch.sni, sizeof(hs.ch.sni), "p%d-%d.example.test", pr->id, i);
        ta_writer_record(pr->w, &hs);
        if (i % DNS_EVERY == 0) {
            snprintf(name, sizeof(name), "p%d-%d.example.test", pr->id, i);
            ta_writer_dns(pr->w, T0 + (uint64_t)i, msg, dns_msg(msg, sizeof(msg), name, (unsigned)i));
        }
        pthread_mutex_lock(&gate_mu);
        pr->done = i + 1;
        pthread_mutex_unlock(&gate_mu);
    }
    return NULL;
}

static struct ta_store *open_store(const char *name, char *path, size_t len)
{
    struct ta_store *st = NULL;
    char err[TA_ERRBUF_SIZE] = "";
    int64_t run_id = 0;

    snprintf(path, len, "%s/%s", dir, name);
    CHECK_INT(ta_store_open(path, &st, err), TA_OK);
    if (!st) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    CHECK_INT(ta_store_run_begin(st, "test", NULL, &run_id), TA_OK);
    return st;
}

/* Two producers through a 16-slot queue: every record and every DNS answer exactly once. */
static void test_two_producers(void)
{
    char path[128], err[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = open_store("two.db", path, sizeof(path));
    struct ta_writer *w = NULL;
    struct ta_writer_counts wc;
    struct producer pr[2];
    pthread_t th[2];
    uint8_t big[TA_WRITER_DNS_MAX + 1];
    sqlite3 *db;

    CHECK_INT(ta_writer_new(16, &w, err), TA_OK);
    CHECK_INT(ta_writer_start(w, st, tick, NULL, err), TA_OK);
    for (int i = 0; i < 2; i++) {
        pr[i] = (struct producer){ w, i + 1, PER_PRODUCER, 0 };
        CHECK_INT(pthread_create(&th[i], NULL, produce, &pr[i]), 0);
    }
    memset(big, 0, sizeof(big));
    ta_writer_dns(w, T0, big, sizeof(big));      /* over the cap: counted, not stored */
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ta_writer_finish(w, &wc);
    CHECK_INT(wc.records, 2 * PER_PRODUCER);
    CHECK_INT(wc.store_errors, 0);
    CHECK_INT(wc.dns, 2 * PER_PRODUCER / DNS_EVERY);
    CHECK_INT(wc.dns_cut, 1);
    CHECK(wc.full_waits > 0);               /* 16 slots for 6,600 items: producers did wait */
    CHECK(ticks > 0);
    CHECK_INT(ta_store_commit(st), TA_OK);
    db = ta_store_db(st);
    CHECK_INT(one(db, "SELECT count(*) FROM handshakes"), 2 * PER_PRODUCER);
    CHECK_INT(one(db, "SELECT count(DISTINCT client_ip || ' ' || client_port) FROM handshakes"),
              2 * PER_PRODUCER);
    CHECK_INT(one(db, "SELECT count(*) FROM handshakes WHERE sni = 'p' || "
                        "substr(client_ip, 6, 1) || '-' || (client_port - 1000) || '.example.test'"),
              2 * PER_PRODUCER);
    CHECK_INT(one(db, "SELECT count(*) FROM dns_answers"), 2 * PER_PRODUCER / DNS_EVERY);
    CHECK_INT(one(db, "SELECT count(DISTINCT name) FROM dns_answers"), 2 * PER_PRODUCER / DNS_EVERY);
    CHECK_INT(one(db, "SELECT count(*) FROM dns_answers WHERE name = 'p2-2990.example.test' "
                        "AND addr = '192.0.2.241'"), 1);
    ta_store_close(st);
}

/* A full queue blocks: with the writer held in its tick, a producer fills a 4-slot queue and
 * then waits (nothing is dropped); once the writer runs again, all 50 records are stored. */
static void test_full_blocks(void)
{
    char path[128], err[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = open_store("full.db", path, sizeof(path));
    struct ta_writer *w = NULL;
    struct ta_writer_counts wc;
    struct producer pr;
    pthread_t th;
    int done;

    gate_closed = 1;
    in_tick = 0;
    CHECK_INT(ta_writer_new(4, &w, err), TA_OK);
    CHECK_INT(ta_writer_start(w, st, tick, NULL, err), TA_OK);
    pthread_mutex_lock(&gate_mu);
    while (!in_tick)                          /* the writer's first timed wake-up */
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    pr = (struct producer){ w, 3, 50, 0 };
    CHECK_INT(pthread_create(&th, NULL, produce, &pr), 0);
    usleep(400000);
    pthread_mutex_lock(&gate_mu);
    done = pr.done;
    gate_closed = 0;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    CHECK_INT(done, 3);     /* 4 slots: records 0-2 and the DNS message of record 0; 3 waits */
    pthread_join(th, NULL);
    ta_writer_finish(w, &wc);
    CHECK_INT(wc.records, 50);
    CHECK(wc.full_waits >= 1);
    CHECK_INT(ta_store_commit(st), TA_OK);
    CHECK_INT(one(ta_store_db(st), "SELECT count(*) FROM handshakes"), 50);
    ta_store_close(st);
}

/* On an idle link the writer commits on its own: a record becomes visible to another
 * connection within about a second (the store's batch age), with no further input. */
static void test_idle_commit(void)
{
    char path[128], err[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = open_store("idle.db", path, sizeof(path));
    struct ta_writer *w = NULL;
    struct ta_hs hs;
    sqlite3 *ro = NULL;
    uint64_t t0, seen = 0;

    CHECK_INT(ta_writer_new(0, &w, err), TA_OK);
    CHECK_INT(ta_writer_start(w, st, NULL, NULL, err), TA_OK);
    CHECK_INT(sqlite3_open_v2(path, &ro, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    hs_fixture(&hs, "10.9.9.9", 5555, "192.0.2.10", 443);
    hs.ch.present = true;
    t0 = now_us();
    ta_writer_record(w, &hs);
    while (now_us() - t0 < 3000000u) {
        if (one(ro, "SELECT count(*) FROM handshakes") == 1) {
            seen = now_us() - t0;
            break;
        }
        usleep(20000);
    }
    CHECK(seen > 0);
    CHECK(seen < 2000000u);
    printf("idle commit visible after %llu ms\n", (unsigned long long)(seen / 1000));
    sqlite3_close(ro);
    ta_writer_finish(w, NULL);
    ta_store_close(st);
}

/* A store that refuses writes: every record is counted as an error, none silently lost. */
static void test_store_errors(void)
{
    char path[128], err[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = open_store("ro.db", path, sizeof(path));
    struct ta_writer *w = NULL;
    struct ta_writer_counts wc;
    struct producer pr = { NULL, 4, 20, 0 };

    CHECK_INT(ta_store_commit(st), TA_OK);
    CHECK_INT(sqlite3_exec(ta_store_db(st), "PRAGMA query_only = 1", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(ta_writer_new(8, &w, err), TA_OK);
    CHECK_INT(ta_writer_start(w, st, NULL, NULL, err), TA_OK);
    pr.w = w;
    ta_log_level = -1;                          /* the store logs each refused batch */
    produce(&pr);
    ta_writer_finish(w, &wc);
    ta_log_level = TA_LOG_ERROR;
    CHECK_INT(wc.records, 0);
    CHECK_INT(wc.store_errors, 20);
    CHECK_INT(ta_store_commit(st), TA_OK);      /* the batch holds nothing: commits */
    CHECK_INT(sqlite3_exec(ta_store_db(st), "PRAGMA query_only = 0", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(one(ta_store_db(st), "SELECT count(*) FROM handshakes"), 0);
    ta_store_close(st);
}

int main(void)
{
    char cmd[96];

    snprintf(dir, sizeof(dir), "/tmp/ta-test-writer.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    ta_log_level = TA_LOG_ERROR;
    test_two_producers();
    test_full_blocks();
    test_idle_commit();
    test_store_errors();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return CHECK_DONE();
}
