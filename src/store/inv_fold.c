/* inv_fold.c - rows into the batch aggregate of the inventory and daily rollups (inv_agg.h):
 * three fixed-size hash tables (inventory keys, daily client keys, daily rollup keys) and an
 * arena for the long texts, filled per stored row and emptied by the write-back (inventory.c)
 * when the batch commits or a table is three quarters full. Retention folds the rows it deletes
 * here too, as pruned counts. Nothing is allocated per row. */
#include <string.h>

#include "inv_agg.h"

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
    if (e->hs == 0)
        t->dq_inv[t->dq_inv_tail++ & (INV_SLOTS - 1)] = i;
    e->hs++;
    e->est += r->established;
    if (r->ts_us < e->first_us)
        e->first_us = r->ts_us;
    if (r->ts_us > e->last_us)
        e->last_us = r->ts_us;
    /* the name of the latest certificate by time, whatever order rows come in; at the same
     * microsecond the greater name (as the rebuild and the update's SQL choose) */
    if (r->cert_cn && *r->cert_cn &&
        (!e->cn[0] || r->ts_us > e->cn_us ||
         (r->ts_us == e->cn_us && strncmp(r->cert_cn, e->cn, CN_CAP) > 0))) {
        if (!same(e->cn, CN_CAP, r->cert_cn))
            e->cn = arena_put(t, r->cert_cn, CN_CAP);
        e->cn_us = r->ts_us;
    }
}

/* Fold r into the daily client and rollup tables. */
static void day_fold(struct ta__inv *t, const struct ta__inv_row *r, const char *service)
{
    char day[DAY_LEN];
    int legacy = ta__inv_legacy_of(r->version, r->client_max_version), o365 = r->v->o365;
    const char *app = r->app ? r->app : "";
    put(day, sizeof day, r->ts);
    uint64_t h = ta__inv_day_hash(day, r->version, legacy, o365, service, app, r->client);
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
    if (d->hs == 0)
        t->dq_dc[t->dq_dc_tail++ & (DC_SLOTS - 1)] = i;
    d->hs++;
    h = ta__inv_day_hash(day, r->version, legacy, o365, service, app, NULL);
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
