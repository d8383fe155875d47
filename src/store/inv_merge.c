/* inv_merge.c - add a set of inventory keys to the inventory from SQL (retention's pruned counts,
 * the rebuild after a re-classification): the upsert by key, without a unique index on the key.
 *
 * Schema 012 dropped the 16-column unique index `inventory_key`: it was one more wide B-tree
 * insert for every new key on the store writer, the thread that bounds a capture (issues 12 and
 * 15), and the writer never used it to find a row (it seeks the narrow key_hash index and
 * compares the key on the row, inventory.c). Without it, INSERT ... ON CONFLICT has no target, so
 * the statements that added a GROUP BY's keys with one upsert now take three steps in the
 * caller's transaction, each key found the writer's way:
 *   1. the keys and their new values go to temp.ta_inv_add (one row per key: the caller's GROUP
 *      BY, so each key once);
 *   2. UPDATE ... FROM adds them to the rows that have the key (a seek by key_hash per key, the
 *      16 columns compared);
 *   3. INSERT ... WHERE NOT EXISTS (the same seek) adds a row for each key that had none.
 * Step 2 before step 3, so a key is either added to or inserted, never both; each key stays one
 * row because the writer and these steps alike insert only after finding no row of the key, and
 * all of them run inside a write transaction. Every row's key_hash must be the hash of its key
 * (schema 012 repairs the rows of older files; every writer of a file uses the same hash). */
#include <stdio.h>

#include "inv_int.h"
#include "store_int.h"

/* The key of inventory row i equals the key of the new values x (key_hash first: the seek). */
#define KEY_MATCH                                                                              \
    "i.key_hash = x.key_hash AND i.client_ip = x.client_ip AND i.server_ip = x.server_ip AND " \
    "i.server_port = x.server_port AND i.transport = x.transport AND i.app = x.app AND "       \
    "i.sni = x.sni AND i.version = x.version AND i.cipher_id = x.cipher_id AND "               \
    "i.cipher_v2 = x.cipher_v2 AND i.client_max_version = x.client_max_version AND "           \
    "i.ja3 = x.ja3 AND i.ja4 = x.ja4 AND i.o365 = x.o365 AND i.o365_service = x.o365_service " \
    "AND i.o365_reason = x.o365_reason AND i.sensor = x.sensor"

#define MERGE_SQL 8192

/* See inv_int.h. temp.ta_inv_add has the inventory's columns and no constraint; it is emptied
 * before and after use, so a later call (or a failed one) never sees old keys. */
bool ta__inv_merge(sqlite3 *db, const char *cols, const char *fill, const char *set, int64_t a,
                   int64_t b)
{
    char sql[MERGE_SQL];
    if (!ta__exec3(db, "CREATE TEMP TABLE IF NOT EXISTS ta_inv_add AS SELECT * FROM main.inventory "
                   "WHERE 0", 0, 0, 0) ||
        !ta__exec3(db, "DELETE FROM temp.ta_inv_add", 0, 0, 0))
        return false;
    int n = snprintf(sql, sizeof sql, "INSERT INTO temp.ta_inv_add(%s) %s", cols, fill);
    if (n < 0 || (size_t)n >= sizeof sql || !ta__exec3(db, sql, a, b, 0))
        return false;
    n = snprintf(sql, sizeof sql, "UPDATE main.inventory AS i SET %s FROM temp.ta_inv_add AS x "
                 "WHERE " KEY_MATCH, set);
    if (n < 0 || (size_t)n >= sizeof sql || !ta__exec3(db, sql, a, b, 0))
        return false;
    n = snprintf(sql, sizeof sql, "INSERT INTO main.inventory(%s) SELECT %s FROM "
                 "temp.ta_inv_add AS x WHERE NOT EXISTS (SELECT 1 FROM main.inventory AS i "
                 "WHERE " KEY_MATCH ")", cols, cols);
    if (n < 0 || (size_t)n >= sizeof sql || !ta__exec3(db, sql, a, b, 0))
        return false;
    return ta__exec3(db, "DELETE FROM temp.ta_inv_add", 0, 0, 0);
}
