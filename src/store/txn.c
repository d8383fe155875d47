/* txn.c - the write batches: one BEGIN IMMEDIATE transaction holds up to TA_STORE_BATCH_ROWS rows
 * or about a second of data, so a crash loses at most the open batch and a second capture
 * writing the same file waits for one batch instead of failing. */
#include <stdio.h>
#include <stdlib.h>

#include "inv_int.h"
#include "store_int.h"
#include "tlsaudit/store.h"


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
    st->dns_epoch++;            /* the new snapshot may hold other connections' answers */
    ta__store_o365_batch_begun(st);
    st->batch_n = st->batch_hs = 0;
    st->batch_start_us = 0;
    return TA_OK;
}

/* See store_int.h. TA_TEST_BATCH_ROWS=N (undocumented, for tests only) makes batches of at
 * most N rows: the kill -9 tests need commits in the middle of captures shorter than a batch. */
uint32_t ta__store_batch_rows_max(void)
{
    const char *v = getenv("TA_TEST_BATCH_ROWS");
    long n = v ? strtol(v, NULL, 10) : 0;
    return n >= 1 && n < TA_STORE_BATCH_ROWS ? (uint32_t)n : TA_STORE_BATCH_ROWS;
}

/* See store.h. */
uint64_t ta_store_rows_unsaved(const struct ta_store *st)
{
    return st->rows_lost + (st->in_tx ? st->batch_n : 0);
}

/* See store.h. */
uint64_t ta_store_rows_lost(const struct ta_store *st)
{
    return st->rows_lost;
}

/* The open batch is over: committed, or (lost) rolled back with its rows. */
static void batch_end(struct ta_store *st, bool lost)
{
    if (lost)
        st->rows_lost += st->batch_n;
    st->in_tx = false;
    st->batch_n = st->batch_hs = 0;
    st->batch_start_us = 0;
}

/* Give up the open batch: its inventory could not be written, and rows without their inventory
 * would break its invariant. */
static int batch_give_up(struct ta_store *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    ta__store_o365_unsure(st);
    batch_end(st, true);
    return TA_ERR_IO;
}

/* See store.h. Committing with no open batch is a no-op. */
int ta_store_commit(struct ta_store *st)
{
    if (!st->in_tx)
        return TA_OK;
    ta__store_o365_batch_ending(st);
    if (ta__inv_flush(st) != TA_OK)
        return batch_give_up(st);
    ta__retain_step(st);
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        ta__store_row_error(st, "commit");
        ta__store_o365_unsure(st);
        if (sqlite3_get_autocommit(st->db))
            batch_end(st, true);   /* SQLite rolled it back (disk full, I/O error) */
        return TA_ERR_IO;
    }
    batch_end(st, false);
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

/* See store.h. */
int ta_store_idle(struct ta_store *st)
{
    if (!st->in_tx)
        return 0;
    int n = ta__inv_write_some(st, TA_STORE_IDLE_WRITES);
    if (n < 0) {
        (void)batch_give_up(st);
        return 0;
    }
    return n;
}
