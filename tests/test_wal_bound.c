/* test_wal_bound.c - the -wal file of a store under --max-db-size stays bounded (issue 12: a disk
 * sized for the cap). With a 4 MiB cap the WAL is checkpointed at a quarter of the cap (256
 * pages of 4 KiB) and kept to twice that (journal_size_limit, 2 MiB):
 *  - written alone, batch after batch, the -wal file never passes 2 MiB (it used to reach ~64 MB
 *    before its first checkpoint);
 *  - a reader holding an old snapshot lets it grow past (checkpoints cannot finish), and once the
 *    reader is gone the next batches cut it back to 2 MiB.
 * Sizes, not times: what the file holds after each commit, on a real SQLite file. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "hs_fixture.h"
#include "store_fixture.h"
#include "tlsaudit/store.h"

#define T0 1767600000000000LL   /* 2026-01-05T08:00:00Z */
#define CAP (4LL << 20)
#define WAL_MAX (CAP / 2)       /* twice the checkpoint threshold (a quarter of the cap) */
#define BATCH 150               /* handshakes per commit: well under the threshold's 256 pages */

static char dir[] = "/tmp/ta_test_wal_bound.XXXXXX";
static char path[128], wal[160];
static int next_hs;

static long long wal_size(void)
{
    struct stat sb;
    return stat(wal, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* One batch of BATCH handshakes of 300 clients: the rows grow to the cap, the inventory stays
 * small (900 keys). */
static void batch(struct ta_store *st)
{
    struct ta_hs hs;
    for (int k = 0; k < BATCH; k++, next_hs++) {
        char cli[32];
        snprintf(cli, sizeof cli, "10.0.%d.%d", next_hs % 300 / 256, next_hs % 300 % 256);
        hs_fixture(&hs, cli, (uint16_t)(40000 + next_hs % 20000), "192.0.2.7", 443);
        hs.ch.present = true;
        hs.ch.ts_us = (uint64_t)(T0 + (long long)next_hs * 1000000LL);
        hs.ch.legacy_version = 0x0303;
        hs.ch.ciphers[0] = 0x002f;
        hs.ch.nciphers = 1;
        snprintf(hs.ch.sni, sizeof hs.ch.sni, "host%d.example", next_hs % 3);
        hs.sh.present = true;
        hs.sh.legacy_version = 0x0303;
        hs.sh.cipher = 0x002f;
        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    }
    CHECK_INT(ta_store_commit(st), TA_OK);
}

int main(void)
{
    struct ta_store *st = fixture_store(dir, "wal.db", path, sizeof path);
    if (!st)
        return CHECK_DONE();
    snprintf(wal, sizeof wal, "%s-wal", path);
    ta_store_set_sensor(st, "unit");
    ta_store_set_retention(st, 0, CAP);
    int64_t run_id = 0;
    CHECK_INT(ta_store_run_begin(st, "unit-wal", NULL, &run_id), TA_OK);

    /* alone: 60 batches (9,000 handshakes, several checkpoints and restarts) */
    long long worst = 0;
    for (int b = 0; b < 60; b++) {
        batch(st);
        if (wal_size() > worst)
            worst = wal_size();
    }
    printf("alone: largest -wal %lld KiB (bound %lld KiB)\n", worst >> 10, WAL_MAX >> 10);
    CHECK(worst > 0);
    CHECK(worst <= WAL_MAX);

    /* a reader holds the snapshot of now: no checkpoint can finish, the -wal file grows */
    sqlite3 *r = NULL;
    char err[TA_ERRBUF_SIZE];
    CHECK_INT(ta_store_open_ro(path, &r, err), TA_OK);
    if (!r) {
        ta_store_close(st);
        return CHECK_DONE();
    }
    CHECK_INT(sqlite3_exec(r, "BEGIN; SELECT count(*) FROM handshakes", NULL, NULL, NULL),
              SQLITE_OK);
    for (int b = 0; b < 40; b++)
        batch(st);
    long long grown = wal_size();
    printf("with a reader: -wal %lld KiB\n", grown >> 10);
    CHECK(grown > WAL_MAX);
    CHECK_INT(sqlite3_exec(r, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(r);

    /* the reader gone: a checkpoint finishes, the WAL restarts and is cut back */
    for (int b = 0; b < 20; b++)
        batch(st);
    long long after = wal_size();
    printf("reader gone: -wal %lld KiB\n", after >> 10);
    CHECK(after <= WAL_MAX);

    ta_store_close(st);
    check_dir_done(dir);
    return CHECK_DONE();
}
