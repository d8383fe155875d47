/* sync_int.h - one push of a sensor database (sync_push.c) and the per-table column mapping and
 * batch primitive it uses (sync_copy.c). */
#ifndef TA_SYNC_INT_H
#define TA_SYNC_INT_H

#include "central_int.h"

#define TA__SYNC_LIST_MAX 6144

/* The tables sync pushes, their central conflict key, and whether rows carry a day. */
struct ta__sync_table {
    const char *name;
    const char *key;          /* central key, the ON CONFLICT target */
    bool by_day;              /* partitioned centrally: a day field follows the sensor */
};

/* The columns both sides have, as the three lists the statements need. The SQLite table's own
 * `sensor` column is local_sensor centrally. Built from the catalogs at each push, so a column
 * the SQLite schema adds later is simply not pushed until the central schema adds it too. */
struct ta__sync_cols {
    const struct ta__sync_table *t;
    char sel[TA__SYNC_LIST_MAX];      /* SQLite select list ("substr(ts,1,10)" first by day) */
    char pg[TA__SYNC_LIST_MAX];       /* central columns in the same order, after sensor */
    char set[2 * TA__SYNC_LIST_MAX];  /* "c = EXCLUDED.c, ..." for the non-key columns */
    int id_idx, updated_idx;          /* select positions of id / updated_us, or -1 */
    bool staged;                      /* the temp stage table exists on this connection */
};

struct ta__sync_ctx {
    struct ta_central *c;
    sqlite3 *db;
    const char *path;
    struct ta__sync_target tgt;
    const struct ta_sync_opts *opts;
    struct ta_sync_stats *stats;
    char *errbuf;
};

/* Build the column lists of table t. Returns TA_OK or TA_ERR_IO. */
int ta__sync_cols_load(struct ta__sync_ctx *x, const struct ta__sync_table *t,
                       struct ta__sync_cols *tc);

/* Inside an open central transaction: COPY the rows of s (a prepared, bound SQLite SELECT of
 * tc->sel) into the stage table, then upsert them into the central table. *rows gets the row
 * count; last_id / last_updated (when non-NULL) the id / updated_us of the last row. Returns
 * TA_OK or TA_ERR_IO (the caller rolls back). */
int ta__sync_copy(struct ta__sync_ctx *x, struct ta__sync_cols *tc, sqlite3_stmt *s,
                  uint64_t *rows, int64_t *last_id, int64_t *last_updated);

/* Prepare "SELECT <tc->sel> FROM <table> <where>"; NULL (errbuf set) on error. */
sqlite3_stmt *ta__sync_select(struct ta__sync_ctx *x, const struct ta__sync_cols *tc,
                              const char *where);

/* BEGIN, and COMMIT made sure it was one (a failed transaction answers COMMIT with ROLLBACK);
 * a commit counts one batch. TA_OK or TA_ERR_IO with x->errbuf set. */
int ta__sync_txn_begin(struct ta__sync_ctx *x);
int ta__sync_txn_commit(struct ta__sync_ctx *x);

/* Replace this sensor's central store_meta (the keys the reports read) and endpoint_sets in one
 * transaction (sync_meta.c). TA_OK or TA_ERR_IO. */
int ta__sync_pass_meta(struct ta__sync_ctx *x);

#endif
