/* query_clients.c - the distinct clients of every `query summary` section (version by Office 365
 * or not, application, transport, legacy group) in one pass over the inventory (issue 12).
 *
 * The rows come ordered by client_ip from the covering index inventory_clients(client_ip,
 * client_max_version, o365, version, app, legacy, transport) (schemas 010, 011), so all rows of a
 * client are adjacent: each client gets a number, and a key counts a client when the number it
 * last counted differs. That is count(DISTINCT client_ip) of every key at once, with no temporary
 * B-tree and nothing kept per client. A few keys per section: found by a linear search. */
#include <stdlib.h>
#include <string.h>

#include "query_clients.h"
#include "tlsaudit/common.h"

/* A new key (o365, version) or text/len at the end of keys. NULL: out of memory. */
static struct ta__q_ckey *key_new(struct ta__q_ckeys *keys, int o365, long long version,
                                  const char *text, size_t len)
{
    if (keys->n == keys->cap) {
        size_t cap = keys->cap ? keys->cap * 2 : 8;
        struct ta__q_ckey *t = realloc(keys->k, cap * sizeof *t);
        if (!t)
            return NULL;
        keys->k = t;
        keys->cap = cap;
    }
    struct ta__q_ckey *k = &keys->k[keys->n];
    memset(k, 0, sizeof *k);
    k->o365 = o365;
    k->version = version;
    k->last = -1;
    if (text) {
        if (!(k->text = malloc(len + 1)))
            return NULL;
        memcpy(k->text, text, len);
        k->text[len] = '\0';
        k->len = len;
    }
    keys->n++;
    return k;
}

/* The key with (o365, version) or text/len in keys, added when missing. NULL: out of memory. */
static struct ta__q_ckey *key_get(struct ta__q_ckeys *keys, int o365, long long version,
                                  const char *text, size_t len)
{
    for (size_t i = 0; i < keys->n; i++) {
        struct ta__q_ckey *k = &keys->k[i];
        if (text ? k->len == len && memcmp(k->text, text, len) == 0
                 : k->o365 == o365 && k->version == version)
            return k;
    }
    return key_new(keys, o365, version, text, len);
}

/* Count client number `client` in k once. */
static void key_count(struct ta__q_ckey *k, long client)
{
    if (k->last != client) {
        k->last = client;
        k->clients++;
    }
}

/* Remember row id in transport key k. Returns 0 or -1 (out of memory). */
static int key_add_id(struct ta__q_ckey *k, int64_t id)
{
    if (k->nids == k->capids) {
        size_t cap = k->capids ? k->capids * 2 : 64;
        int64_t *t = realloc(k->ids, cap * sizeof *t);
        if (!t)
            return -1;
        k->ids = t;
        k->capids = cap;
    }
    k->ids[k->nids++] = id;
    return 0;
}

/* The version key (o365, version): by the direct table for wire values, else by key_get. */
static struct ta__q_ckey *ver_get(struct ta__q_clients *c, int o365, long long version)
{
    if (version < 0 || version > 0xffff)
        return key_get(&c->ver, o365, version, NULL, 0);
    if (!c->ver_at && !(c->ver_at = calloc(2 * 0x10000, sizeof *c->ver_at)))
        return NULL;
    int32_t *at = &c->ver_at[o365 * 0x10000 + version];
    if (*at)
        return &c->ver.k[*at - 1];
    struct ta__q_ckey *k = key_new(&c->ver, o365, version, NULL, 0);
    if (k)
        *at = (int32_t)(k - c->ver.k) + 1;
    return k;
}

/* Arguments of the fold function, in this order. */
enum { C_IP, C_O365, C_VERSION, C_APP, C_LEGACY, C_TRANSPORT, C_ID, C_N };

/* The pass's state, the fold function's user data. */
struct pass {
    struct ta__q_clients *c;
    char *prev;                  /* the current client's address */
    size_t prevlen, prevcap;
    long client;                 /* its number, -1 before the first row */
    int err;                     /* 0, SQLITE_NOMEM, or SQLITE_MISUSE: rows out of client order */
};

/* Text of argument v (never NULL: NULL is "") and its length. */
static const char *arg_text(sqlite3_value *v, size_t *len)
{
    const char *t = (const char *)sqlite3_value_text(v);
    *len = t ? (size_t)sqlite3_value_bytes(v) : 0;
    return t ? t : "";
}

/* Fold one row into p->c. Returns 0 or SQLITE_NOMEM / SQLITE_MISUSE. */
static int fold(struct pass *p, sqlite3_value **v)
{
    struct ta__q_clients *c = p->c;
    size_t len, applen, trlen;
    const char *ip = arg_text(v[C_IP], &len);
    const char *app = arg_text(v[C_APP], &applen), *tr = arg_text(v[C_TRANSPORT], &trlen);
    int o365 = sqlite3_value_int(v[C_O365]);
    if (p->client < 0 || len != p->prevlen || memcmp(ip, p->prev, len) != 0) {
        /* SQLite's BINARY order: bytes, then the shorter first */
        int d = p->client < 0 ? 1 : memcmp(ip, p->prev, len < p->prevlen ? len : p->prevlen);
        if (d < 0 || (d == 0 && len < p->prevlen))
            return SQLITE_MISUSE;
        if (len + 1 > p->prevcap) {
            char *t = realloc(p->prev, len + 64);
            if (!t)
                return SQLITE_NOMEM;
            p->prev = t;
            p->prevcap = len + 64;
        }
        memcpy(p->prev, ip, len);
        p->prevlen = len;
        p->client++;
    }
    struct ta__q_ckey *kv = ver_get(c, o365 == 1, sqlite3_value_int64(v[C_VERSION]));
    struct ta__q_ckey *ka = key_get(&c->app, 0, 0, app, applen);
    struct ta__q_ckey *kt = key_get(&c->tr, 0, 0, tr, trlen);
    if (!kv || !ka || !kt || key_add_id(kt, sqlite3_value_int64(v[C_ID])))
        return SQLITE_NOMEM;
    key_count(kv, p->client);
    key_count(ka, p->client);
    key_count(kt, p->client);
    if (sqlite3_value_int(v[C_LEGACY]) == 1) {
        int g[3] = { o365 == 1, o365 == 0, 1 };
        for (int i = 0; i < 3; i++)
            if (g[i] && c->legacy_last[i] != p->client) {
                c->legacy_last[i] = p->client;
                c->legacy[i]++;
            }
    }
    return 0;
}

/* SQL function ta_q_clients_fold(client_ip, o365, version, app, legacy, transport, id): folds
 * the row, returns 0 (so that no row reaches the caller); an error stops the statement. */
static void fold_fn(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
    struct pass *p = sqlite3_user_data(ctx);
    if (argc != C_N || (p->err = fold(p, v)) != 0) {
        sqlite3_result_error(ctx, "ta_q_clients_fold", -1);
        return;
    }
    sqlite3_result_int(ctx, 0);
}

/* See query_clients.h. The rows are folded by an SQL function called in the WHERE clause of a
 * scan ordered by client_ip, so no row is handed over through sqlite3_column_*() (seven calls a
 * row, each taking the connection's mutex: half the time of a pass at 370,000 rows). The filter
 * terms come first in a CASE, so that only the rows they keep are folded. Should SQLite ever
 * sort instead of reading the index in order, the rows reach the function out of client order:
 * it notices, and the caller counts another way rather than miscount. */
int ta__q_clients_count(sqlite3 *db, const struct ta_qopts *o, struct ta__q_clients *c)
{
    char sql[1024] = "SELECT 1 FROM inventory h WHERE CASE WHEN 1";
    struct pass p = { .c = c, .client = -1 };
    int rc;
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 3; i++)
        c->legacy_last[i] = -1;
    ta__q_where(o, TA_Q_INV, sql, sizeof sql);
    ta__q_cat(sql, sizeof sql, " THEN ta_q_clients_fold(h.client_ip, h.o365, h.version, h.app,"
                               " h.legacy, h.transport, h.id) ELSE 0 END ORDER BY h.client_ip");
    if (sqlite3_create_function(db, "ta_q_clients_fold", C_N, SQLITE_UTF8, &p, fold_fn, NULL,
                                NULL) != SQLITE_OK) {
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
        return -1;
    }
    rc = ta__q_fold_run(db, o, sql, &p.err);
    sqlite3_create_function(db, "ta_q_clients_fold", C_N, SQLITE_UTF8, NULL, NULL, NULL, NULL);
    free(p.prev);
    return rc == SQLITE_DONE ? 0 : p.err == SQLITE_MISUSE ? 1 : -1;
}

/* See query_clients.h. */
const struct ta__q_ckey *ta__q_clients_ver(const struct ta__q_clients *c, int o365,
                                           long long version)
{
    for (size_t i = 0; i < c->ver.n; i++)
        if (c->ver.k[i].o365 == o365 && c->ver.k[i].version == version)
            return &c->ver.k[i];
    return NULL;
}

/* See query_clients.h. */
const struct ta__q_ckey *ta__q_clients_text(const struct ta__q_ckeys *keys, const char *text)
{
    size_t len = strlen(text);
    for (size_t i = 0; i < keys->n; i++)
        if (keys->k[i].len == len && memcmp(keys->k[i].text, text, len) == 0)
            return &keys->k[i];
    return NULL;
}

/* See query_clients.h. The handshakes counts are not in the index (they change at every flush,
 * and an index on them would cost the writer at every update), so the rows of every transport
 * but the one with the most rows are read by id, and that one gets the rest of total: in a
 * network of TCP and a little QUIC, a few reads instead of the whole inventory. The caller's
 * total (the daily rollups' handshakes under the same filters) equals the inventory's: the
 * writer folds every handshake into both in one transaction. */
int ta__q_clients_transport_hs(sqlite3 *db, const struct ta_qopts *o,
                               const struct ta__q_clients *c, long total, long *hs)
{
    size_t most = 0;
    long rest = total;
    int rc = SQLITE_DONE;
    sqlite3_stmt *s = NULL;
    for (size_t i = 0; i < c->tr.n; i++) {
        hs[i] = 0;
        if (c->tr.k[i].nids > c->tr.k[most].nids)
            most = i;
    }
    if (c->tr.n > 1 && sqlite3_prepare_v2(db, "SELECT handshakes FROM inventory WHERE id = ?1",
                                          -1, &s, NULL) != SQLITE_OK)
        rc = SQLITE_ERROR;
    for (size_t i = 0; rc == SQLITE_DONE && i < c->tr.n; i++) {
        const struct ta__q_ckey *k = &c->tr.k[i];
        for (size_t j = 0; i != most && j < k->nids; j++) {
            sqlite3_bind_int64(s, 1, k->ids[j]);
            if ((rc = sqlite3_step(s)) == SQLITE_ROW)
                hs[i] += (long)sqlite3_column_int64(s, 0);
            else if (rc != SQLITE_DONE)
                break;
            rc = sqlite3_reset(s) == SQLITE_OK ? SQLITE_DONE : SQLITE_ERROR;
        }
        rest -= hs[i];
    }
    if (c->tr.n > 0)
        hs[most] = rest;
    if (rc != SQLITE_DONE)
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void keys_free(struct ta__q_ckeys *keys)
{
    for (size_t i = 0; i < keys->n; i++) {
        free(keys->k[i].text);
        free(keys->k[i].ids);
    }
    free(keys->k);
}

/* See query_clients.h. */
void ta__q_clients_free(struct ta__q_clients *c)
{
    keys_free(&c->ver);
    keys_free(&c->app);
    keys_free(&c->tr);
    free(c->ver_at);
    memset(c, 0, sizeof *c);
}
