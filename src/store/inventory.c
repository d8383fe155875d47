/* inventory.c - the client inventory and the daily rollups, kept by the store writer in the same
 * transaction as the handshakes rows they summarise (schema/004_inventory.sql).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsaudit/clock.h"
#include "inv_int.h"
#include "store_int.h"
#include "tlsaudit/fingerprint.h"

/* Keys per flush (powers of two): 16,384 inventory keys (~5 MB) and daily client keys (~2 MB)
 * hold what a batch of 40,000 rows of the generated month brings (bench/RESULTS.md, session 6:
 * with 8,192 and 10,000-row batches the month took 21% longer); 32,768 cost 7 MiB more peak
 * RSS for 2% less time. */
#define INV_SLOTS 16384
#define DC_SLOTS 16384
#define RL_SLOTS 512          /* daily rollup keys per flush */
#define INV_CACHE (1u << 16)  /* remembered inventory row ids (two-way sets by key hash) */
#define DC_KNOWN (1u << 16)   /* daily client keys known to have a row (direct-mapped hashes) */
#define DAY_LEN 11            /* "2026-01-05" + NUL */
#define SMALL 24              /* app, transport labels, service areas */
#define SNI_CAP (TA_SNI_MAX + 1)
#define CN_CAP (TA_TEXT_MAX + 1)
#define REASON_CAP TA__O365_REASON_MAX
/* The long texts of the inventory entries (SNI, certificate name, reason: up to 833 bytes, a
 * few dozen in practice) live in one arena per flush, not in every slot: the slots are a third
 * of the size (peak RSS, issue 15) and an entry takes what its texts take. A fold that might not
 * fit flushes first. */
#define TEXT_ARENA (1u << 20)
#define TEXT_FOLD_MAX (SNI_CAP + CN_CAP + REASON_CAP)
#define SENSOR_CAP 64         /* struct ta_store's sensor */

struct inv_e {
    uint64_t hash;            /* 0 = free slot */
    char client[TA__ADDR_TEXT_LEN], server[TA__ADDR_TEXT_LEN], transport[8], app[SMALL];
    char ja3[TA_JA3_HEX], ja4[TA_JA4_LEN], service[TA__O365_AREA_MAX];
    const char *sni, *reason, *cn;    /* in the text arena of struct ta__inv ("" = none) */
    const char *sensor;       /* the store's (a batch's rows), or in the arena (pruned rows) */
    uint16_t port;
    int version, cipher_id, cipher_v2, cmax, o365;
    int64_t hs, est, first_us, last_us;
};

struct dc_e {
    uint64_t hash;
    char day[DAY_LEN], service[TA__O365_AREA_MAX], app[SMALL], client[TA__ADDR_TEXT_LEN];
    int version, legacy, o365;
    int64_t hs;
};

struct rl_e {
    uint64_t hash;
    char day[DAY_LEN], service[TA__O365_AREA_MAX], app[SMALL];
    int version, legacy, o365;
    int64_t hs, est, clients;
};

struct ta__inv {
    struct inv_e *inv;
    struct dc_e *dc;
    struct rl_e *rl;
    uint32_t ninv, ndc, nrl;
    sqlite3_stmt *sel_hash, *ins_inv, *upd_id, *ins_dc, *upd_dc, *up_rl;
    sqlite3_stmt *upd_pr, *ins_pr;    /* pruned counts (ta__inv_prune_add) */
    uint64_t hash_mask;       /* key_hash bits kept (ta__inv_hash_mask) */
    uint64_t *ckey;           /* INV_CACHE slots: key hash -> inventory row id (cid) */
    int64_t *cid;
    uint64_t *dc_known;       /* DC_KNOWN slots: hashes of daily client keys with a row */
    char *text;               /* TEXT_ARENA bytes: the entries' long texts, emptied per flush */
    char first_ts[32], last_ts[32];   /* the times of the entry being written, as text */
    size_t text_used;
};

/* FNV-1a over a string (its NUL included, so "ab","c" and "a","bc" differ); NULL = "". */
static uint64_t h_str(uint64_t h, const char *s)
{
    for (s = s ? s : "";; s++) {
        h ^= (uint8_t)*s;
        h *= 1099511628211ULL;
        if (!*s)
            return h;
    }
}

static uint64_t h_int(uint64_t h, int64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8) {
        h ^= (uint8_t)v;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Copy s (NULL = "") into a field of cap bytes, cut to fit. */
static void put(char *dst, size_t cap, const char *s)
{
    size_t n = s ? strnlen(s, cap - 1) : 0;
    memcpy(dst, s ? s : "", n);
    dst[n] = '\0';
}

/* A copy of s (NULL = "") cut to cap - 1 bytes in the text arena, which has room (the caller
 * checked TEXT_FOLD_MAX). */
static const char *arena_put(struct ta__inv *t, const char *s, size_t cap)
{
    size_t n = s ? strnlen(s, cap - 1) : 0;
    if (n == 0)
        return "";
    char *d = t->text + t->text_used;
    memcpy(d, s, n);
    d[n] = '\0';
    t->text_used += n + 1;
    return d;
}

/* True when a string field equals s (NULL = ""), compared as put() would store it. */
static bool same(const char *field, size_t cap, const char *s)
{
    return strncmp(field, s ? s : "", cap - 1) == 0;
}

/* The legacy flag of the inventory (schema README): negotiated SSL 2.0 to TLS 1.1, or nothing
 * negotiated and nothing newer than TLS 1.1 offered. */
static int legacy_of(int version, int cmax)
{
    return version == 2 || version == 768 || version == 769 || version == 770 ||
           (version == 0 && cmax >= 1 && cmax <= 770);
}

#define ISIZE(m) sizeof(((struct inv_e *)0)->m)

/* Is slot e the inventory key of r (of sensor)? */
static bool inv_eq(const struct inv_e *e, const struct ta__inv_row *r, const char *sensor,
                   const char *service, const char *reason)
{
    return e->port == r->server_port && e->version == r->version &&
           e->cipher_id == r->cipher_id && e->cipher_v2 == r->cipher_v2 &&
           e->cmax == r->client_max_version && e->o365 == r->v->o365 &&
           (e->sensor == sensor || strcmp(e->sensor, sensor) == 0) &&
           same(e->client, ISIZE(client), r->client) && same(e->server, ISIZE(server), r->server) &&
           same(e->transport, ISIZE(transport), r->transport) && same(e->app, ISIZE(app), r->app) &&
           same(e->sni, SNI_CAP, r->sni) && same(e->ja3, ISIZE(ja3), r->ja3) &&
           same(e->ja4, ISIZE(ja4), r->ja4) && same(e->service, ISIZE(service), service) &&
           same(e->reason, REASON_CAP, reason);
}

/* Fold r into the inventory table as a key of sensor (a free slot is found: the caller keeps it
 * below 3/4). sensor is the store's own (kept as a pointer) or, with own false, copied to the
 * arena. */
static void inv_fold(struct ta__inv *t, const struct ta__inv_row *r, const char *sensor, bool own,
                     const char *service, const char *reason)
{
    /* every key field: the hash also picks the remembered row id (write_entry), so keys that
     * differ only in, say, JA3 (GREASE) must not share it or they evict each other's id */
    uint64_t h = 14695981039346656037ULL;
    h = h_str(h, sensor);
    h = h_str(h, r->client), h = h_str(h, r->server), h = h_str(h, r->sni);
    h = h_str(h, r->ja4), h = h_str(h, r->ja3), h = h_str(h, reason), h = h_str(h, service);
    h = h_str(h, r->transport), h = h_str(h, r->app);
    h = h_int(h, r->server_port), h = h_int(h, r->version), h = h_int(h, r->cipher_id);
    h = h_int(h, r->cipher_v2), h = h_int(h, r->v->o365);
    h = h_int(h, r->client_max_version) | 1;
    uint32_t i = (uint32_t)h & (INV_SLOTS - 1);
    struct inv_e *e;
    for (;; i = (i + 1) & (INV_SLOTS - 1)) {
        e = &t->inv[i];
        if (e->hash == 0 || (e->hash == h && inv_eq(e, r, sensor, service, reason)))
            break;
    }
    if (e->hash == 0) {
        e->hash = h;
        e->sensor = own ? sensor : arena_put(t, sensor, SENSOR_CAP);
        put(e->client, sizeof e->client, r->client), put(e->server, sizeof e->server, r->server);
        put(e->transport, sizeof e->transport, r->transport), put(e->app, sizeof e->app, r->app);
        e->sni = arena_put(t, r->sni, SNI_CAP), put(e->ja3, sizeof e->ja3, r->ja3);
        put(e->ja4, sizeof e->ja4, r->ja4), put(e->service, sizeof e->service, service);
        e->reason = arena_put(t, reason, REASON_CAP);
        e->cn = "";
        e->port = r->server_port, e->version = r->version, e->cipher_id = r->cipher_id;
        e->cipher_v2 = r->cipher_v2, e->cmax = r->client_max_version, e->o365 = r->v->o365;
        e->hs = e->est = 0;
        e->first_us = e->last_us = r->ts_us;
        t->ninv++;
    }
    e->hs++;
    e->est += r->established;
    if (r->ts_us < e->first_us)
        e->first_us = r->ts_us;
    if (r->ts_us >= e->last_us) {
        e->last_us = r->ts_us;
        if (r->cert_cn && *r->cert_cn && !same(e->cn, CN_CAP, r->cert_cn))
            e->cn = arena_put(t, r->cert_cn, CN_CAP);
    } else if (!e->cn[0] && r->cert_cn && *r->cert_cn) {
        e->cn = arena_put(t, r->cert_cn, CN_CAP);
    }
}

/* Hash of a rollup key (day, version, legacy, o365, service, app), optionally with a client. */
static uint64_t day_hash(const char *day, int version, int legacy, int o365, const char *service,
                         const char *app, const char *client)
{
    uint64_t h = 14695981039346656037ULL;
    h = h_str(h, day), h = h_int(h, version), h = h_int(h, legacy * 2 + o365);
    h = h_str(h, service), h = h_str(h, app);
    if (client)
        h = h_str(h, client);
    return h | 1;
}

/* Fold r into the daily client and rollup tables. */
static void day_fold(struct ta__inv *t, const struct ta__inv_row *r, const char *service)
{
    char day[DAY_LEN];
    int legacy = legacy_of(r->version, r->client_max_version), o365 = r->v->o365;
    const char *app = r->app ? r->app : "";
    put(day, sizeof day, r->ts);
    uint64_t h = day_hash(day, r->version, legacy, o365, service, app, r->client);
    uint32_t i = (uint32_t)h & (DC_SLOTS - 1);
    struct dc_e *d;
    for (;; i = (i + 1) & (DC_SLOTS - 1)) {
        d = &t->dc[i];
        if (d->hash == 0 || (d->hash == h && d->version == r->version && d->legacy == legacy &&
                             d->o365 == o365 && strcmp(d->day, day) == 0 &&
                             same(d->service, sizeof d->service, service) &&
                             same(d->app, sizeof d->app, app) &&
                             same(d->client, sizeof d->client, r->client)))
            break;
    }
    if (d->hash == 0) {
        d->hash = h, d->version = r->version, d->legacy = legacy, d->o365 = o365, d->hs = 0;
        put(d->day, sizeof d->day, day), put(d->service, sizeof d->service, service);
        put(d->app, sizeof d->app, app), put(d->client, sizeof d->client, r->client);
        t->ndc++;
    }
    d->hs++;
    h = day_hash(day, r->version, legacy, o365, service, app, NULL);
    struct rl_e *l;
    for (i = (uint32_t)h & (RL_SLOTS - 1);; i = (i + 1) & (RL_SLOTS - 1)) {
        l = &t->rl[i];
        if (l->hash == 0 || (l->hash == h && l->version == r->version && l->legacy == legacy &&
                             l->o365 == o365 && strcmp(l->day, day) == 0 &&
                             same(l->service, sizeof l->service, service) &&
                             same(l->app, sizeof l->app, app)))
            break;
    }
    if (l->hash == 0) {
        l->hash = h, l->version = r->version, l->legacy = legacy, l->o365 = o365;
        l->hs = l->est = l->clients = 0;
        put(l->day, sizeof l->day, day), put(l->service, sizeof l->service, service);
        put(l->app, sizeof l->app, app);
        t->nrl++;
    }
    l->hs++;
    l->est += r->established;
}

/* See inv_int.h. */
int ta__inv_add(struct ta_store *st, const struct ta__inv_row *r)
{
    struct ta__inv *t = st->inv;
    if (!t)
        return TA_OK;
    if ((t->ninv >= INV_SLOTS * 3 / 4 || t->ndc >= DC_SLOTS * 3 / 4 ||
         t->nrl >= RL_SLOTS * 3 / 4 || t->text_used + TEXT_FOLD_MAX > TEXT_ARENA) &&
        ta__inv_flush(st) != TA_OK)
        return TA_ERR_IO;
    const char *service = r->v->o365 ? r->v->service : "";
    const char *reason = r->v->reason;   /* also with o365 = 0: "excluded-name: ..." */
    inv_fold(t, r, st->sensor, true, service, reason);
    day_fold(t, r, service);
    return TA_OK;
}

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
    sqlite3_bind_int(s, 17, legacy_of(e->version, e->cmax));
    if (e->cn[0])
        bt(s, 18, e->cn);
    else
        sqlite3_bind_null(s, 18);
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

/* Write every inventory entry with w. */
static bool flush_inv(struct ta_store *st, struct ta__inv *t, const struct writes *w, int64_t now)
{
    for (uint32_t i = 0; i < INV_SLOTS && t->ninv; i++) {
        struct inv_e *e = &t->inv[i];
        if (!e->hash)
            continue;
        if (!write_entry(st, t, w, e, now))
            return false;
        e->hash = 0;
        t->ninv--;
    }
    return true;
}

/* Find the rollup entry of a daily client entry (it exists: both were folded together). */
static struct rl_e *rl_of(struct ta__inv *t, const struct dc_e *d)
{
    uint64_t h = day_hash(d->day, d->version, d->legacy, d->o365, d->service, d->app, NULL);
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

/* Insert each daily client key (a new one counts one more client in its rollup) or add its
 * handshakes to the existing row. A key written by an earlier batch is remembered (dc_known),
 * and its update is tried first: one statement instead of a failed insert and an update. The
 * hint is only a guess: an update that changes nothing (retention or a rebuild deleted the row,
 * its batch was rolled back) goes on with the insert, so the counts never depend on it. */
static bool flush_dc(struct ta_store *st, struct ta__inv *t)
{
    for (uint32_t i = 0; i < DC_SLOTS && t->ndc; i++) {
        struct dc_e *d = &t->dc[i];
        if (!d->hash)
            continue;
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
        d->hash = 0;
        t->ndc--;
    }
    return true;
}

static bool flush_rl(struct ta_store *st, struct ta__inv *t, int64_t now)
{
    sqlite3_stmt *s = t->up_rl;
    for (uint32_t i = 0; i < RL_SLOTS && t->nrl; i++) {
        struct rl_e *l = &t->rl[i];
        if (!l->hash)
            continue;
        bt(s, 1, l->day), bt(s, 2, st->sensor), sqlite3_bind_int(s, 3, l->version);
        sqlite3_bind_int(s, 4, l->legacy), sqlite3_bind_int(s, 5, l->o365);
        bt(s, 6, l->service), bt(s, 7, l->app);
        sqlite3_bind_int64(s, 8, l->hs), sqlite3_bind_int64(s, 9, l->est);
        sqlite3_bind_int64(s, 10, l->clients), sqlite3_bind_int64(s, 11, now);
        if (!run(s))
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
    t->text_used = 0;
}

/* True when s (NULL = "") fits a field of cap bytes whole. */
static bool fits(const char *s, size_t cap)
{
    return !s || strnlen(s, cap) < cap;
}

/* See inv_int.h. The batch's entries were written by the flush before retention: the tables are
 * empty but for pruned keys. */
int ta__inv_prune_add(struct ta_store *st, const struct ta__inv_row *r, const char *sensor,
                      const char *service, const char *reason)
{
    struct ta__inv *t = st->inv;
    if (!fits(r->client, ISIZE(client)) || !fits(r->server, ISIZE(server)) ||
        !fits(r->transport, ISIZE(transport)) || !fits(r->app, ISIZE(app)) ||
        !fits(r->sni, SNI_CAP) || !fits(r->ja3, ISIZE(ja3)) || !fits(r->ja4, ISIZE(ja4)) ||
        !fits(service, ISIZE(service)) || !fits(reason, REASON_CAP) || !fits(sensor, SENSOR_CAP))
        return TA__INV_UNFIT;
    if ((t->ninv >= INV_SLOTS * 3 / 4 ||
         t->text_used + TEXT_FOLD_MAX + SENSOR_CAP > TEXT_ARENA) &&
        ta__inv_prune_flush(st) != TA_OK)
        return TA_ERR_IO;
    inv_fold(t, r, sensor ? sensor : "", false, service, reason);
    return TA_OK;
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

/* A new row of entry e (?27 = its key_hash); its name from SNI, certificate or, without both,
 * the latest DNS answer for the server seen by then. One row of VALUES, not INSERT ... SELECT:
 * a single-row insert needs no statement journal (bench/RESULTS.md, "The inventory's keys"). */
#define INV_DNS_NAME                                                                           \
    "(SELECT name FROM dns_answers WHERE addr = ?3 AND ts_us <= ?23 "                          \
    "ORDER BY ts_us DESC, id DESC LIMIT 1)"
#define INS_INV_SQL                                                                            \
    "INSERT INTO inventory(" TA__INV_KEY_COLS ", legacy, name, name_source, handshakes, "       \
    "established, refused, first_seen_us, first_seen, last_seen_us, last_seen, updated_us) "   \
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?27, ?17, " \
    "CASE WHEN ?7 <> '' THEN ?7 WHEN ?18 IS NOT NULL THEN ?18 "                                \
    "ELSE COALESCE(" INV_DNS_NAME ", '') END, "                                                \
    "CASE WHEN ?7 <> '' THEN 'sni' WHEN ?18 IS NOT NULL THEN 'cert' "                          \
    "WHEN " INV_DNS_NAME " IS NOT NULL THEN 'dns' ELSE '' END, "                               \
    "?19, ?20, ?19 - ?20, ?21, ?22, ?23, ?24, ?25)"
static const char INS_INV[] = INS_INV_SQL;
#define UPD_SET                                                                                \
    "UPDATE inventory SET handshakes = handshakes + ?19, established = established + ?20, "     \
    "refused = refused + (?19 - ?20), "                                                        \
    "first_seen = CASE WHEN ?21 < first_seen_us THEN ?22 ELSE first_seen END, "                \
    "first_seen_us = min(first_seen_us, ?21), "                                                \
    "last_seen = CASE WHEN ?23 >= last_seen_us THEN ?24 ELSE last_seen END, "                  \
    "last_seen_us = max(last_seen_us, ?23), "                                                  \
    "name = CASE WHEN ?18 IS NOT NULL AND name_source <> 'sni' THEN ?18 ELSE name END, "       \
    "name_source = CASE WHEN ?18 IS NOT NULL AND name_source <> 'sni' THEN 'cert' "            \
    "ELSE name_source END, updated_us = ?25 "
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
    t->text = malloc(TEXT_ARENA);
    t->hash_mask = ta__inv_hash_mask();
    st->inv = t;
    if (!t->inv || !t->dc || !t->rl || !t->ckey || !t->cid || !t->dc_known || !t->text) {
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
