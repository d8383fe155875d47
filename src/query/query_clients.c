/* query_clients.c - the distinct clients of every `query summary` section (version by Office 365
 * or not, application, transport, legacy group) in one pass over the inventory (issue 12).
 *
 * The rows come ordered by client_ip from the covering index inventory_clients(client_ip, o365,
 * version, app, legacy, transport, client_max_version) (schema 010), so all rows of a client are
 * adjacent: each client gets a number, and a key counts a client when the number it last counted
 * differs. That is count(DISTINCT client_ip) of every key at once, with no temporary B-tree and
 * nothing kept per client. A few keys per section: found by a linear search. */
#include <stdlib.h>
#include <string.h>

#include "query_clients.h"

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

/* Columns of the pass. */
enum { C_IP, C_O365, C_VERSION, C_APP, C_LEGACY, C_TRANSPORT, C_ID };

/* Fold one row of client number `client` into c. Returns 0 or -1 (out of memory). */
static int fold(struct ta__q_clients *c, sqlite3_stmt *s, long client)
{
    int o365 = sqlite3_column_int(s, C_O365);
    const char *app = (const char *)sqlite3_column_text(s, C_APP);
    size_t applen = (size_t)sqlite3_column_bytes(s, C_APP);
    const char *tr = (const char *)sqlite3_column_text(s, C_TRANSPORT);
    size_t trlen = (size_t)sqlite3_column_bytes(s, C_TRANSPORT);
    struct ta__q_ckey *kv = key_get(&c->ver, o365 == 1, sqlite3_column_int64(s, C_VERSION),
                                    NULL, 0);
    struct ta__q_ckey *ka = key_get(&c->app, 0, 0, app ? app : "", app ? applen : 0);
    struct ta__q_ckey *kt = key_get(&c->tr, 0, 0, tr ? tr : "", tr ? trlen : 0);
    if (!kv || !ka || !kt || key_add_id(kt, sqlite3_column_int64(s, C_ID)))
        return -1;
    key_count(kv, client);
    key_count(ka, client);
    key_count(kt, client);
    if (sqlite3_column_int(s, C_LEGACY) == 1) {
        int g[3] = { o365 == 1, o365 == 0, 1 };
        for (int i = 0; i < 3; i++)
            if (g[i] && c->legacy_last[i] != client) {
                c->legacy_last[i] = client;
                c->legacy[i]++;
            }
    }
    return 0;
}

/* See query_clients.h. */
int ta__q_clients_count(sqlite3 *db, const struct ta_qopts *o, struct ta__q_clients *c)
{
    char sql[1024] = "SELECT h.client_ip, h.o365, h.version, h.app, h.legacy, h.transport, h.id"
                     " FROM inventory h WHERE 1";
    char *prev = NULL;
    size_t prevlen = 0, prevcap = 0;
    long client = -1;
    int rc;
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 3; i++)
        c->legacy_last[i] = -1;
    ta__q_where(o, TA_Q_INV, sql, sizeof sql);
    ta__q_cat(sql, sizeof sql, " ORDER BY h.client_ip");
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *ip = (const char *)sqlite3_column_text(s, C_IP);
        size_t len = (size_t)sqlite3_column_bytes(s, C_IP);
        if (!ip)
            continue;   /* count(DISTINCT) leaves NULL out (the column is NOT NULL) */
        if (client < 0 || len != prevlen || memcmp(ip, prev, len) != 0) {
            if (len + 1 > prevcap) {
                char *t = realloc(prev, len + 64);
                if (!t) {
                    rc = SQLITE_NOMEM;
                    break;
                }
                prev = t;
                prevcap = len + 64;
            }
            memcpy(prev, ip, len);
            prevlen = len;
            client++;
        }
        if (fold(c, s, client) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        fprintf(o->err, "tlsaudit query: %s: %s\n", o->db,
                rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
    sqlite3_finalize(s);
    free(prev);
    return rc == SQLITE_DONE ? 0 : -1;
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
        fprintf(o->err, "tlsaudit query: %s: %s\n", o->db, sqlite3_errmsg(db));
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
    memset(c, 0, sizeof *c);
}
