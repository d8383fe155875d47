/* inv_int.h - the inventory and daily rollups kept by the store writer (inventory.c), retention
 * (retention.c) and the rebuild after a re-classification (inv_refresh.c). Private to the store
 * layer. Tables and columns: schema/004_inventory.sql, schema/README.md "Schema 004". */
#ifndef TLSAUDIT_INV_INT_H
#define TLSAUDIT_INV_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "tlsaudit/o365_rules.h"
#include "tlsaudit/handshake.h"

struct ta_store;

/* What one stored handshakes row contributes: the inventory key, its day and its outcome. Text
 * fields are C strings owned by the caller, valid for the call; NULL or "" means none. */
struct ta__inv_row {
    const char *client, *server, *transport, *app, *sni, *ja3, *ja4, *cert_cn;
    const char *ts;                       /* ISO text as stored in handshakes.ts */
    int64_t ts_us;
    uint16_t server_port;
    int version, cipher_id, cipher_v2, client_max_version;   /* 0 / -1 / 0 / 0 = none */
    const struct ta__o365_verdict *v;     /* o365 0: service and reason are not used */
    bool established;
};

/* The 16 key values of an inventory row, as stored (schema 004; "" and 0 / -1 for none). */
struct ta__inv_key {
    const char *sensor, *client, *server, *transport, *app, *sni, *ja3, *ja4, *service, *reason;
    int64_t port, version, cipher_id, cipher_v2, cmax, o365;
};

/* The inventory's key_hash column for key k (schema 009; inv_hash.c), kept to the bits of mask
 * (ta__inv_hash_mask: all 64 unless a test asks for collisions). */
uint64_t ta__inv_key_hash(const struct ta__inv_key *k, uint64_t mask);
uint64_t ta__inv_hash_mask(void);
/* SQL ta_inv_key_hash(<16 key values in TA__INV_KEY16_COLS order>), registered on every
 * connection by ta__store_register_functions. */
void ta__inv_fn_key_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* Allocate the batch aggregate (fixed-size tables, once per store) and prepare its statements.
 * TA_OK, TA_ERR_NOMEM or TA_ERR_IO (sqlite3_errmsg says why). */
int ta__inv_open(struct ta_store *st);
void ta__inv_free(struct ta_store *st);

/* Fold one row into the open batch's aggregate; flushes first when a table is nearly full.
 * TA_OK or TA_ERR_IO (the flush failed: the caller's batch must be rolled back). */
int ta__inv_add(struct ta_store *st, const struct ta__inv_row *r);

/* Write the aggregate into inventory, daily_clients and daily_rollups inside the open batch
 * transaction, then empty it. TA_OK or TA_ERR_IO. */
int ta__inv_flush(struct ta_store *st);

/* Write up to budget entries of the aggregate whose counts changed since they were last written
 * (inventory keys, then daily clients; rollups wait for the flush), inside the open batch, and
 * keep them as clean entries; the writer thread does this while its queue is empty, so that the
 * flush at COMMIT or at a full table has little left to write. Returns how many were written
 * (0: nothing left), or -1 on error (the aggregate is discarded: the caller's batch must be
 * rolled back, as after a failed ta__inv_flush). */
int ta__inv_write_some(struct ta_store *st, uint32_t budget);

/* Forget the aggregate without writing it (its batch was rolled back). */
void ta__inv_discard(struct ta_store *st);

/* Retention (retention.c), with the batch's aggregate flushed: fold one handshakes row about to
 * be deleted, as the pruned counts of its key (sensor: its run's; service and reason: the row's
 * columns as stored, "" for none), then write them with ta__inv_prune_flush, which empties the
 * aggregate whether it succeeds or not. A key whose row the write-back finds gets its pruned_*
 * columns added to; a key without a row gets one holding them. TA_OK, TA_ERR_IO (the caller's
 * savepoint undoes it), or TA__INV_UNFIT: a value longer than the aggregate keeps (the writer
 * never stores one; a hand edit or another tool might), which the caller must move with SQL
 * (ta__inv_merge) after ta__inv_discard. Needs the aggregate (st->inv). */
#define TA__INV_UNFIT 1
int ta__inv_prune_add(struct ta_store *st, const struct ta__inv_row *r, const char *sensor,
                      const char *service, const char *reason);
int ta__inv_prune_flush(struct ta_store *st);

/* Retention inside the open batch, just before its COMMIT (retention.c): delete up to a batch of
 * the oldest rows beyond the age or size limit, moving their counts to the pruned_* columns.
 * Errors are logged; the batch itself is kept (a savepoint undoes a failed step). */
void ta__retain_step(struct ta_store *st);
/* Once after open: convert the file to incremental auto-vacuum (one VACUUM, logged) when it is
 * not already. */
void ta__retain_prepare(struct ta_store *st);
/* Finalize retention's prepared statements (before the store's connection closes). */
void ta__retain_free(struct ta_store *st);

/* Key expressions of a handshakes row h joined with runs r, in inventory key order, then the
 * key hash of those values (shared by the SQL that rebuilds and prunes: a row it inserts carries
 * its key_hash, schema 009). TA__INV_KEY16_* are the 16 key columns alone. */
#define TA__INV_KEY16_SQL                                                                        \
    "COALESCE(r.sensor, ''), h.client_ip, h.server_ip, h.server_port, h.transport, "            \
    "COALESCE(h.app, ''), COALESCE(h.sni, ''), COALESCE(h.version, 0), "                        \
    "COALESCE(h.cipher_id, -1), COALESCE(h.cipher_v2, 0), COALESCE(h.client_max_version, 0), "  \
    "COALESCE(h.ja3, ''), COALESCE(h.ja4, ''), h.o365, COALESCE(h.o365_service, ''), "          \
    "COALESCE(h.o365_reason, '')"
#define TA__INV_KEY_SQL TA__INV_KEY16_SQL ", ta_inv_key_hash(" TA__INV_KEY16_SQL ")"
/* The name of an inventory row without SNI or certificate name (schema/README.md, inventory.name):
 * that of the latest passive-DNS answer for the server address addr at or before the key's last
 * handshake (bound), the latest stored of answers at the same microsecond. One expression for
 * the writer's insert and update (inv_open.c) and the rebuild (inv_refresh.c), so the name does
 * not depend on when a key was written; NULL when no answer is retained. */
#define TA__INV_DNS_NAME(addr, bound)                                                           \
    "(SELECT d.name FROM dns_answers AS d WHERE d.addr = " addr " AND d.ts_us <= " bound        \
    " ORDER BY d.ts_us DESC, d.id DESC LIMIT 1)"
#define TA__INV_KEY16_COLS                                                                       \
    "sensor, client_ip, server_ip, server_port, transport, app, sni, version, cipher_id, "      \
    "cipher_v2, client_max_version, ja3, ja4, o365, o365_service, o365_reason"
#define TA__INV_KEY_COLS TA__INV_KEY16_COLS ", key_hash"
/* Add the inventory rows of a GROUP BY over the key (schema 012: no unique index on the key;
 * every key is found by key_hash and compared column by column, inv_merge.c). fill is
 * "SELECT <cols values>", one row per key; cols the inventory columns it yields (TA__INV_KEY_COLS
 * first); set the UPDATE's SET clause for a key that has a row: its columns are the row's as
 * `i.<col>`, the new values as `x.<col>`. ?1 = a and ?2 = b in fill (each bound when used).
 * true on success; the caller's transaction or savepoint undoes a failure. */
bool ta__inv_merge(sqlite3 *db, const char *cols, const char *fill, const char *set, int64_t a,
                   int64_t b);
/* legacy of a handshakes row h (the inventory's legacy column). */
#define TA__INV_LEGACY_SQL                                                                       \
    "(COALESCE(h.version, 0) IN (2, 768, 769, 770) OR (COALESCE(h.version, 0) = 0 AND "         \
    "COALESCE(h.client_max_version, 0) BETWEEN 1 AND 770))"


#endif
