/* inv_open.c - the batch aggregate's memory (allocated once per store: nothing per row) and the
 * statements the write-back (inventory.c) runs, prepared once per store. */
#include <stdlib.h>

#include "inv_agg.h"

/* A new row of entry e (?27 = its key_hash); its name from SNI, certificate or, without both,
 * the latest DNS answer for the server up to the entry's last handshake. One row of VALUES, not
 * INSERT ... SELECT: a single-row insert needs no statement journal (bench/RESULTS.md, "The
 * inventory's keys"). */
#define INV_DNS_NAME TA__INV_DNS_NAME("?3", "?23")
/* The same answer for an update: up to the row's last handshake with this entry's. */
#define UPD_DNS_NAME TA__INV_DNS_NAME("?3", "max(last_seen_us, ?23)")
#define INS_INV_SQL                                                                            \
    "INSERT INTO inventory(" TA__INV_KEY_COLS ", legacy, name, name_source, name_us, "          \
    "handshakes, established, refused, first_seen_us, first_seen, last_seen_us, last_seen, "   \
    "updated_us) "                                                                             \
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?27, ?17, " \
    "CASE WHEN ?7 <> '' THEN ?7 WHEN ?18 IS NOT NULL THEN ?18 "                                \
    "ELSE COALESCE(" INV_DNS_NAME ", '') END, "                                                \
    "CASE WHEN ?7 <> '' THEN 'sni' WHEN ?18 IS NOT NULL THEN 'cert' "                          \
    "WHEN " INV_DNS_NAME " IS NOT NULL THEN 'dns' ELSE '' END, "                               \
    "CASE WHEN ?7 = '' THEN ?28 END, ?19, ?20, ?19 - ?20, ?21, ?22, ?23, ?24, ?25)"
static const char INS_INV[] = INS_INV_SQL;
/* The entry's certificate (?18, seen at ?28) names the row: no SNI, and no certificate name of
 * a later handshake stored (at the same microsecond, the greater name); NULL name_us is a row
 * named before schema 016. Every SET term reads the row as it was. */
#define CN_NAMES                                                                               \
    "(?18 IS NOT NULL AND name_source <> 'sni' AND (name_source <> 'cert' OR name_us IS NULL " \
    "OR ?28 > name_us OR (?28 = name_us AND ?18 >= name)))"
#define UPD_SET                                                                                \
    "UPDATE inventory SET handshakes = handshakes + ?19, established = established + ?20, "     \
    "refused = refused + (?19 - ?20), "                                                        \
    "first_seen = CASE WHEN ?21 < first_seen_us THEN ?22 ELSE first_seen END, "                \
    "first_seen_us = min(first_seen_us, ?21), "                                                \
    "last_seen = CASE WHEN ?23 >= last_seen_us THEN ?24 ELSE last_seen END, "                  \
    "last_seen_us = max(last_seen_us, ?23), "                                                  \
    "name = CASE WHEN " CN_NAMES " THEN ?18 "                                                 \
    "WHEN name_source IN ('', 'dns') THEN COALESCE(" UPD_DNS_NAME ", name) ELSE name END, "    \
    "name_source = CASE WHEN " CN_NAMES " THEN 'cert' "                                       \
    "WHEN name_source = '' AND " UPD_DNS_NAME " IS NOT NULL THEN 'dns' "                       \
    "ELSE name_source END, name_us = CASE WHEN " CN_NAMES " THEN ?28 ELSE name_us END, "        \
    "updated_us = ?25 "
#define KEY_EQ                                                                                 \
    "client_ip = ?2 AND server_ip = ?3 AND server_port = ?4 AND transport = ?5 AND "           \
    "app = ?6 AND sni = ?7 AND version = ?8 AND cipher_id = ?9 AND cipher_v2 = ?10 AND "       \
    "client_max_version = ?11 AND ja3 = ?12 AND ja4 = ?13 AND o365 = ?14 AND "                 \
    "o365_service = ?15 AND o365_reason = ?16 AND sensor = ?1 AND ?17 = legacy"
/* By the remembered row id; the key is compared on the row, so a stale id (or a remembered
 * hash that another key shares) only misses. No RETURNING: changes() says whether it hit, and
 * a RETURNING clause costs an ephemeral table per statement (~30% of these updates). */
static const char UPD_ID[] = UPD_SET "WHERE id = ?26 AND " KEY_EQ;

/* The row of a key by its key hash (schema 009), the key compared on the row. */
static const char SEL_HASH[] = "SELECT id FROM inventory WHERE key_hash = ?27 AND " KEY_EQ;

/* Pruned counts (retention): added to the pruned_* part of the key's row (its handshakes already
 * count them), the times of the pruned part kept as retention.c's SQL did; a key without a row
 * gets one that holds them as both counts. Parameters as bind_entry binds them. */
static const char UPD_PR[] =
    "UPDATE inventory SET pruned_handshakes = pruned_handshakes + ?19, "
    "pruned_established = pruned_established + ?20, "
    "pruned_refused = pruned_refused + (?19 - ?20), "
    "pruned_first_seen = CASE WHEN pruned_handshakes = 0 OR ?21 < pruned_first_seen_us THEN ?22 "
    "ELSE pruned_first_seen END, "
    "pruned_first_seen_us = CASE WHEN pruned_handshakes = 0 THEN ?21 "
    "ELSE min(pruned_first_seen_us, ?21) END, "
    "pruned_last_seen = CASE WHEN ?23 >= pruned_last_seen_us THEN ?24 ELSE pruned_last_seen END, "
    "pruned_last_seen_us = max(pruned_last_seen_us, ?23), updated_us = ?25 "
    "WHERE id = ?26 AND " KEY_EQ;
static const char INS_PR[] =
    "INSERT INTO inventory(" TA__INV_KEY_COLS ", legacy, handshakes, established, refused, "
    "first_seen_us, first_seen, last_seen_us, last_seen, pruned_handshakes, pruned_established, "
    "pruned_refused, pruned_first_seen_us, pruned_first_seen, pruned_last_seen_us, "
    "pruned_last_seen, updated_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
    "?13, ?14, ?15, ?16, ?27, ?17, ?19, ?20, ?19 - ?20, ?21, ?22, ?23, ?24, ?19, ?20, ?19 - ?20, "
    "?21, ?22, ?23, ?24, ?25)";

static const char INS_DC[] =
    "INSERT OR IGNORE INTO daily_clients(day, sensor, version, legacy, o365, o365_service, app, "
    "client_ip, handshakes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char UPD_DC[] =
    "UPDATE daily_clients SET handshakes = handshakes + ?9 WHERE day = ?1 AND sensor = ?2 AND "
    "version = ?3 AND legacy = ?4 AND o365 = ?5 AND o365_service = ?6 AND app = ?7 AND "
    "client_ip = ?8";
static const char UPSERT_RL[] =
    "INSERT INTO daily_rollups(day, sensor, version, legacy, o365, o365_service, app, handshakes, "
    "established, refused, clients, updated_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?8 - ?9, ?10, ?11) ON CONFLICT(day, sensor, version, legacy, o365, o365_service, app) DO "
    "UPDATE SET handshakes = handshakes + excluded.handshakes, established = established + "
    "excluded.established, refused = refused + excluded.refused, clients = clients + "
    "excluded.clients, updated_us = excluded.updated_us";

/* See inv_int.h. */
int ta__inv_open(struct ta_store *st)
{
    struct ta__inv *t = calloc(1, sizeof *t);
    if (!t)
        return TA_ERR_NOMEM;
    t->inv = calloc(INV_SLOTS, sizeof *t->inv);
    t->dc = calloc(DC_SLOTS, sizeof *t->dc);
    t->rl = calloc(RL_SLOTS, sizeof *t->rl);
    t->ckey = calloc(INV_CACHE, sizeof *t->ckey);
    t->cid = calloc(INV_CACHE, sizeof *t->cid);
    t->dc_known = calloc(DC_KNOWN, sizeof *t->dc_known);
    t->dq_inv = calloc(INV_SLOTS, sizeof *t->dq_inv);
    t->dq_dc = calloc(DC_SLOTS, sizeof *t->dq_dc);
    t->text = malloc(TEXT_ARENA);
    t->hash_mask = ta__inv_hash_mask();
    st->inv = t;
    if (!t->inv || !t->dc || !t->rl || !t->ckey || !t->cid || !t->dc_known || !t->text ||
        !t->dq_inv || !t->dq_dc) {
        ta__inv_free(st);
        return TA_ERR_NOMEM;
    }
    const unsigned f = SQLITE_PREPARE_PERSISTENT;
    if (sqlite3_prepare_v3(st->db, INS_INV, -1, f, &t->ins_inv, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(st->db, SEL_HASH, -1, f, &t->sel_hash, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(st->db, UPD_ID, -1, f, &t->upd_id, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(st->db, INS_DC, -1, f, &t->ins_dc, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(st->db, UPD_DC, -1, f, &t->upd_dc, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(st->db, UPSERT_RL, -1, f, &t->up_rl, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(st->db, UPD_PR, -1, f, &t->upd_pr, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(st->db, INS_PR, -1, f, &t->ins_pr, NULL) != SQLITE_OK) {
        ta__inv_free(st);
        return TA_ERR_IO;
    }
    return TA_OK;
}

/* See inv_int.h. */
void ta__inv_free(struct ta_store *st)
{
    struct ta__inv *t = st->inv;
    if (!t)
        return;
    sqlite3_finalize(t->ins_inv);
    sqlite3_finalize(t->sel_hash);
    sqlite3_finalize(t->upd_id);
    free(t->ckey);
    free(t->cid);
    free(t->dc_known);
    free(t->dq_inv);
    free(t->dq_dc);
    free(t->text);
    sqlite3_finalize(t->ins_dc);
    sqlite3_finalize(t->upd_dc);
    sqlite3_finalize(t->up_rl);
    sqlite3_finalize(t->upd_pr);
    sqlite3_finalize(t->ins_pr);
    free(t->inv);
    free(t->dc);
    free(t->rl);
    free(t);
    st->inv = NULL;
}
