/* inventory.c - the client inventory and the daily rollups, kept by the store writer in the same
 * transaction as the handshakes rows they summarise (schema/004_inventory.sql). This file writes
 * the batch aggregate back; inv_fold.c fills it, inv_open.c allocates it and holds its SQL.
 *
 * Each stored row is folded into three fixed-size hash tables of the open batch: inventory keys,
 * daily client keys (day + rollup key + client) and daily rollup keys. At COMMIT (and when a
 * table is three quarters full) each distinct key becomes one upsert, so a batch of 40,000 rows
 * in which clients repeat costs far fewer statements than the rows. A crash loses the rows and
 * their aggregate together: both live in the one transaction.
 *
 * Distinct clients per day stay exact: a daily_clients row is inserted (OR IGNORE) per day, key
 * and client; when the insert made a new row the rollup's clients count grows by one. The tables
 * are allocated once when the store opens; nothing is allocated per row.
 *
 * Cost (bench/RESULTS.md, "A month of a sensor"): the flush is one statement per distinct key
 * per batch, and on a generated month nearly every handshake of a batch is its own key, so the
 * flush is about one inventory update and one daily client write per handshake. Two hints keep
 * each of them to a single statement where they can: the inventory row id remembered per key
 * (updated by id, without RETURNING) and the daily client keys written by earlier batches
 * (updated first). Both are checked by the statement itself, never trusted. A key not remembered
 * is looked up by its key hash (schema 009: a narrow index, the key compared on the row) and,
 * when new, inserted with a plain INSERT: no upsert, no RETURNING (bench/RESULTS.md, "The
 * inventory's keys"). That lookup is what keeps a key to one row: schema 012 has no unique index
 * on the key. */
#include <string.h>

#include "tlsaudit/clock.h"
#include "inv_agg.h"

/* Text of a field for binding: the field itself (static: it lives until the flush ends). */
static void bt(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Step and reset; false on error. */
static bool run(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE;
}

/* Bind entry e to s (the inventory statements share their parameter numbers; ?26 is a row id,
 * ?27 a key_hash, bound by the caller; the time texts are write_entry's, made for e). */
static void bind_entry(sqlite3_stmt *s, const struct ta__inv *t, const struct inv_e *e,
                       int64_t now)
{
    bt(s, 1, e->sensor), bt(s, 2, e->client), bt(s, 3, e->server);
    sqlite3_bind_int(s, 4, e->port);
    bt(s, 5, e->transport), bt(s, 6, e->app), bt(s, 7, e->sni);
    sqlite3_bind_int(s, 8, e->version), sqlite3_bind_int(s, 9, e->cipher_id);
    sqlite3_bind_int(s, 10, e->cipher_v2), sqlite3_bind_int(s, 11, e->cmax);
    bt(s, 12, e->ja3), bt(s, 13, e->ja4), sqlite3_bind_int(s, 14, e->o365);
    bt(s, 15, e->service), bt(s, 16, e->reason);
    sqlite3_bind_int(s, 17, ta__inv_legacy_of(e->version, e->cmax));
    if (e->cn[0]) {
        bt(s, 18, e->cn);
        sqlite3_bind_int64(s, 28, e->cn_us);
    } else {
        sqlite3_bind_null(s, 18);
        sqlite3_bind_null(s, 28);
    }
    sqlite3_bind_int64(s, 19, e->hs), sqlite3_bind_int64(s, 20, e->est);
    sqlite3_bind_int64(s, 21, e->first_us), bt(s, 22, t->first_ts);
    sqlite3_bind_int64(s, 23, e->last_us), bt(s, 24, t->last_ts);
    sqlite3_bind_int64(s, 25, now);
}

/* The key_hash of entry e (schema 009), over its key exactly as bound. */
static int64_t key_hash_of(const struct ta__inv *t, const struct inv_e *e)
{
    const struct ta__inv_key k = {
        .sensor = e->sensor, .client = e->client, .server = e->server, .port = e->port,
        .transport = e->transport, .app = e->app, .sni = e->sni, .version = e->version,
        .cipher_id = e->cipher_id, .cipher_v2 = e->cipher_v2, .cmax = e->cmax, .ja3 = e->ja3,
        .ja4 = e->ja4, .o365 = e->o365, .service = e->service, .reason = e->reason,
    };
    return (int64_t)ta__inv_key_hash(&k, t->hash_mask);
}

/* The statements that write an entry: the batch's counts, or the pruned counts of retention. */
struct writes {
    sqlite3_stmt *upd, *ins;
};

/* Update the row id with entry e (its key compared on the row); *hit when a row changed. */
static bool update_by_id(const struct ta_store *st, struct ta__inv *t, const struct writes *w,
                         const struct inv_e *e, int64_t now, int64_t id, bool *hit)
{
    bind_entry(w->upd, t, e, now);
    sqlite3_bind_int64(w->upd, 26, id);
    if (!run(w->upd))
        return false;
    *hit = sqlite3_changes(st->db) == 1;
    return true;
}

/* The id of the row of e's key, found by its key hash (narrow index; the key compared on the
 * row, so keys sharing a hash are told apart); 0 when there is none. -1 on error. */
static int64_t find_by_hash(struct ta__inv *t, const struct inv_e *e, int64_t now, int64_t kh)
{
    sqlite3_stmt *s = t->sel_hash;
    int64_t id = 0;
    bind_entry(s, t, e, now);
    sqlite3_bind_int64(s, 27, kh);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(s, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? id : -1;
}

/* Insert e as a new row (which also looks up a DNS name); its id to *id. The caller found no
 * row of its key by its key hash: the key's only row (schema 012 has no unique index on it). */
static bool insert_entry(const struct ta_store *st, struct ta__inv *t, const struct writes *w,
                         const struct inv_e *e, int64_t now, int64_t kh, int64_t *id)
{
    bind_entry(w->ins, t, e, now);
    sqlite3_bind_int64(w->ins, 27, kh);
    if (!run(w->ins))
        return false;
    *id = sqlite3_last_insert_rowid(st->db);
    return true;
}

/* Write one entry: by the row id the cache remembers for its key (a table seek; the key is
 * compared on the row, so a stale id only misses), else by the row its key hash finds (a seek in
 * the narrow key_hash index), else an insert. The id found is remembered. */
static bool write_entry(const struct ta_store *st, struct ta__inv *t, const struct writes *w,
                        const struct inv_e *e, int64_t now)
{
    /* two ways per set: direct-mapped, a quarter of the month's 19,700 keys lost their id to
     * another key at some point and were looked up again (24,000 extra lookups) */
    uint32_t c = (uint32_t)(e->hash >> 20) & (INV_CACHE - 2);
    if (t->ckey[c] != e->hash && t->ckey[c + 1] == e->hash)
        c++;
    bool hit = false;
    /* the texts of the first and last times, as the handshakes rows have them (store_write.c
     * formats ts from the same microseconds): made once per entry, for bind_entry, not kept in
     * every slot (peak RSS) */
    ta__iso_time_us((uint64_t)e->first_us, t->first_ts, sizeof t->first_ts);
    ta__iso_time_us((uint64_t)e->last_us, t->last_ts, sizeof t->last_ts);
    if (t->ckey[c] == e->hash) {
        if (!update_by_id(st, t, w, e, now, t->cid[c], &hit))
            return false;
        if (hit)
            return true;
    }
    int64_t kh = key_hash_of(t, e);
    int64_t id = find_by_hash(t, e, now, kh);
    if (id < 0)
        return false;
    if (id > 0 && (!update_by_id(st, t, w, e, now, id, &hit) || !hit))
        return false;
    if (id == 0 && !insert_entry(st, t, w, e, now, kh, &id))
        return false;
    if (t->ckey[c] != e->hash) {       /* not remembered: the newest goes first in its set */
        t->ckey[c + 1] = t->ckey[c], t->cid[c + 1] = t->cid[c];
    }
    t->ckey[c] = e->hash;
    t->cid[c] = id;
    return true;
}

/* Write every inventory entry with w and empty the table. A clean entry (its counts written by
 * ta__inv_write_some, nothing folded since: hs = 0) is only emptied. */
static bool flush_inv(struct ta_store *st, struct ta__inv *t, const struct writes *w, int64_t now)
{
    for (uint32_t i = 0; i < INV_SLOTS && t->ninv; i++) {
        struct inv_e *e = &t->inv[i];
        if (!e->hash)
            continue;
        if (e->hs && !write_entry(st, t, w, e, now))
            return false;
        e->hash = 0;
        t->ninv--;
    }
    t->dq_inv_head = t->dq_inv_tail = 0;
    return true;
}

/* Find the rollup entry of a daily client entry (it exists: both were folded together). */
static struct rl_e *rl_of(struct ta__inv *t, const struct dc_e *d)
{
    uint64_t h = ta__inv_day_hash(d->day, d->version, d->legacy, d->o365, d->service, d->app, NULL);
    for (uint32_t i = (uint32_t)h & (RL_SLOTS - 1);; i = (i + 1) & (RL_SLOTS - 1)) {
        struct rl_e *l = &t->rl[i];
        if (l->hash == 0)
            return NULL;
        if (l->hash == h && l->version == d->version && l->legacy == d->legacy &&
            l->o365 == d->o365 && strcmp(l->day, d->day) == 0 &&
            strcmp(l->service, d->service) == 0 && strcmp(l->app, d->app) == 0)
            return l;
    }
}

/* Insert the daily client key of d (a new one counts one more client in its rollup) or add its
 * handshakes to the existing row. A key written before is remembered (dc_known), and its update
 * is tried first: one statement instead of a failed insert and an update. The hint is only a
 * guess: an update that changes nothing (retention or a rebuild deleted the row, its batch was
 * rolled back) goes on with the insert, so the counts never depend on it. */
static bool write_dc(struct ta_store *st, struct ta__inv *t, const struct dc_e *d)
{
    uint64_t *known = &t->dc_known[(uint32_t)(d->hash >> 20) & (DC_KNOWN - 1)];
    int first = *known == d->hash;      /* 0: insert, then update; 1: update, then insert */
    for (int k = first; k < first + 2; k++) {
        sqlite3_stmt *s = k == 1 ? t->upd_dc : t->ins_dc;
        bt(s, 1, d->day), bt(s, 2, st->sensor), sqlite3_bind_int(s, 3, d->version);
        sqlite3_bind_int(s, 4, d->legacy), sqlite3_bind_int(s, 5, d->o365);
        bt(s, 6, d->service), bt(s, 7, d->app), bt(s, 8, d->client);
        sqlite3_bind_int64(s, 9, d->hs);
        if (!run(s))
            return false;
        if (sqlite3_changes(st->db) != 1)
            continue;                   /* insert ignored / nothing to update */
        if (k != 1) {
            struct rl_e *l = rl_of(t, d);
            if (l)
                l->clients++;
        }
        break;
    }
    *known = d->hash;
    return true;
}

/* Write every daily client entry and empty the table (a clean one, hs = 0, is only emptied). */
static bool flush_dc(struct ta_store *st, struct ta__inv *t)
{
    for (uint32_t i = 0; i < DC_SLOTS && t->ndc; i++) {
        struct dc_e *d = &t->dc[i];
        if (!d->hash)
            continue;
        if (d->hs && !write_dc(st, t, d))
            return false;
        d->hash = 0;
        t->ndc--;
    }
    t->dq_dc_head = t->dq_dc_tail = 0;
    return true;
}

/* Add the counts of rollup entry l to its row (an upsert). */
static bool write_rl(struct ta_store *st, struct ta__inv *t, const struct rl_e *l, int64_t now)
{
    sqlite3_stmt *s = t->up_rl;
    bt(s, 1, l->day), bt(s, 2, st->sensor), sqlite3_bind_int(s, 3, l->version);
    sqlite3_bind_int(s, 4, l->legacy), sqlite3_bind_int(s, 5, l->o365);
    bt(s, 6, l->service), bt(s, 7, l->app);
    sqlite3_bind_int64(s, 8, l->hs), sqlite3_bind_int64(s, 9, l->est);
    sqlite3_bind_int64(s, 10, l->clients), sqlite3_bind_int64(s, 11, now);
    return run(s);
}

/* Nothing folded into rollup entry l since its counts were last written. */
static bool rl_clean(const struct rl_e *l)
{
    return l->hs == 0 && l->est == 0 && l->clients == 0;
}

static bool flush_rl(struct ta_store *st, struct ta__inv *t, int64_t now)
{
    for (uint32_t i = 0; i < RL_SLOTS && t->nrl; i++) {
        struct rl_e *l = &t->rl[i];
        if (!l->hash)
            continue;
        if (!rl_clean(l) && !write_rl(st, t, l, now))
            return false;
        l->hash = 0;
        t->nrl--;
    }
    return true;
}

/* See inv_int.h. Daily clients before rollups: their inserts decide the new clients counted. */
int ta__inv_flush(struct ta_store *st)
{
    struct ta__inv *t = st->inv;
    if (!t || (!t->ninv && !t->ndc && !t->nrl))
        return TA_OK;
    int64_t now = (int64_t)ta_clock_wall_us();
    const struct writes w = { t->upd_id, t->ins_inv };
    bool ok = flush_inv(st, t, &w, now) && flush_dc(st, t) && flush_rl(st, t, now);
    if (!ok) {
        ta__store_row_error(st, "inventory");
        ta__inv_discard(st);
        return TA_ERR_IO;
    }
    t->text_used = 0;          /* every entry was written and emptied */
    return TA_OK;
}

/* See inv_int.h. Entries stay in their tables (a fold finds them, and open addressing needs
 * them in place), with their counts zeroed: clean until a row is folded into them again. Their
 * first and last times stay, so a later write binds what one write of the whole batch would
 * (min and max in the SQL make the repeat harmless). Rollups are left to the flush: a few
 * hundred keys that nearly every row touches, written ahead they would be written again and
 * again. The new clients that daily client inserts count wait in their rollup entries. */
int ta__inv_write_some(struct ta_store *st, uint32_t budget)
{
    struct ta__inv *t = st->inv;
    uint32_t done = 0;
    if (!t)
        return 0;
    int64_t now = (int64_t)ta_clock_wall_us();
    const struct writes w = { t->upd_id, t->ins_inv };
    bool ok = true;
    while (ok && done < budget && t->dq_inv_head != t->dq_inv_tail) {
        struct inv_e *e = &t->inv[t->dq_inv[t->dq_inv_head++ & (INV_SLOTS - 1)]];
        ok = write_entry(st, t, &w, e, now);
        e->hs = e->est = 0;
        done++;
    }
    while (ok && done < budget && t->dq_dc_head != t->dq_dc_tail) {
        struct dc_e *d = &t->dc[t->dq_dc[t->dq_dc_head++ & (DC_SLOTS - 1)]];
        ok = write_dc(st, t, d);
        d->hs = 0;
        done++;
    }
    if (!ok) {
        ta__store_row_error(st, "inventory");
        ta__inv_discard(st);
        return -1;
    }
    return (int)done;
}

/* See inv_int.h. */
void ta__inv_discard(struct ta_store *st)
{
    struct ta__inv *t = st->inv;
    if (!t)
        return;
    memset(t->inv, 0, INV_SLOTS * sizeof *t->inv);
    memset(t->dc, 0, DC_SLOTS * sizeof *t->dc);
    memset(t->rl, 0, RL_SLOTS * sizeof *t->rl);
    t->ninv = t->ndc = t->nrl = 0;
    t->dq_inv_head = t->dq_inv_tail = t->dq_dc_head = t->dq_dc_tail = 0;
    t->text_used = 0;
}

/* See inv_int.h. */
int ta__inv_prune_flush(struct ta_store *st)
{
    struct ta__inv *t = st->inv;
    const struct writes w = { t->upd_pr, t->ins_pr };
    if (!flush_inv(st, t, &w, (int64_t)ta_clock_wall_us())) {
        ta__inv_discard(st);
        return TA_ERR_IO;
    }
    t->text_used = 0;          /* every entry was written and emptied (not a memset of the
                                * tables: retention flushes every 125 rows) */
    return TA_OK;
}
