/* query_clients.h - distinct clients of every `query summary` section in one pass over the
 * inventory in client order (query_clients.c). Private to src/query. */
#ifndef TLSAUDIT_QUERY_CLIENTS_H
#define TLSAUDIT_QUERY_CLIENTS_H

#include <stdint.h>

#include "query_int.h"

/* One key of a section and the distinct clients that have an inventory row with it. */
struct ta__q_ckey {
    int o365;                    /* version keys: o365 = 1 (1) or not (0) */
    long long version;           /* version keys: the inventory's version (0 = none) */
    char *text;                  /* app and transport keys: the column's text */
    size_t len;
    long clients;
    long last;                   /* number of the last client counted (pass order) */
    int64_t *ids;                /* transport keys: the rows (inventory.id) */
    size_t nids, capids;
};

struct ta__q_ckeys {
    struct ta__q_ckey *k;
    size_t n, cap;
};

/* The pass's answer. legacy[]: clients with a legacy row toward Office 365 (o365 = 1), toward
 * the rest (o365 = 0), anywhere. */
struct ta__q_clients {
    struct ta__q_ckeys ver, app, tr;
    int32_t *ver_at;             /* version keys: 1 + index in ver of (o365, version) for wire
                                  * versions (0..0xffff), 0 when none yet: a capture of hostile
                                  * servers can hold thousands of negotiated versions */
    long legacy[3], legacy_last[3];
};

/* Count the distinct clients of the inventory rows that pass o's filters (TA_Q_INV terms) per
 * (o365 = 1, version), app, transport and legacy group, in one read of the rows ordered by
 * client_ip. Returns 0; 1 when SQLite did not hand the rows over in client order (nothing
 * printed: count another way); or -1 after printing an error to o->err. c is to be freed in
 * every case. */
int ta__q_clients_count(sqlite3 *db, const struct ta_qopts *o, struct ta__q_clients *c);

/* The key of c's version section for (o365 = 1, version), or NULL when no row has it. */
const struct ta__q_ckey *ta__q_clients_ver(const struct ta__q_clients *c, int o365,
                                           long long version);

/* The key of the app or transport section (keys) with that text, or NULL. */
const struct ta__q_ckey *ta__q_clients_text(const struct ta__q_ckeys *keys, const char *text);

/* Handshakes per transport into hs[i] (for c->tr.k[i]), given total, the handshakes of every
 * row the pass read. See query_clients.c. Returns 0, or -1 after printing an error. */
int ta__q_clients_transport_hs(sqlite3 *db, const struct ta_qopts *o,
                               const struct ta__q_clients *c, long total, long *hs);

void ta__q_clients_free(struct ta__q_clients *c);

#endif
