/* sync_meta.c - the small tables a sensor's reports read besides its rows: the store_meta keys
 * 'pruned_until_us' and 'refresh', and the endpoint list versions. A few rows, so each push
 * replaces them whole for the sensor in one transaction: a key the sensor dropped (a rebuild
 * done, a list deleted) is dropped centrally too. */
#include <string.h>

#include "sync_int.h"

static const struct ta__sync_table sync_meta = { "store_meta", "sensor, key", false };
static const struct ta__sync_table sync_sets = { "endpoint_sets", "sensor, id", false };

/* See sync_int.h. */
int ta__sync_pass_meta(struct ta__sync_ctx *x)
{
    struct ta__sync_cols mc, ec;
    sqlite3_stmt *m = NULL, *e = NULL;
    const char *v[1] = { x->tgt.sensor };
    uint64_t n = 0;
    int rc = TA_ERR_IO;
    if (ta__sync_cols_load(x, &sync_meta, &mc) != TA_OK ||
        ta__sync_cols_load(x, &sync_sets, &ec) != TA_OK)
        return TA_ERR_IO;
    if (!(m = ta__sync_select(x, &mc, "WHERE key IN ('pruned_until_us', 'refresh')")) ||
        !(e = ta__sync_select(x, &ec, "")))
        goto out;
    if (ta__sync_txn_begin(x) != TA_OK ||
        ta__pg_params(x->c, "DELETE FROM tlsaudit.store_meta WHERE sensor = $1", 1, v,
                      "store_meta", NULL, x->errbuf) != TA_OK ||
        ta__pg_params(x->c, "DELETE FROM tlsaudit.endpoint_sets WHERE sensor = $1", 1, v,
                      "endpoint_sets", NULL, x->errbuf) != TA_OK ||
        ta__sync_copy(x, &mc, m, &n, NULL, NULL) != TA_OK ||
        ta__sync_copy(x, &ec, e, &n, NULL, NULL) != TA_OK || ta__sync_txn_commit(x) != TA_OK)
        goto out;
    rc = TA_OK;
out:
    if (rc != TA_OK)
        ta__pg_rollback(x->c);
    sqlite3_finalize(m);
    sqlite3_finalize(e);
    return rc;
}
