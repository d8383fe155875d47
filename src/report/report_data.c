/* report_data.c - the report's questions answered by the SQLite store: every SQL statement of
 * the report layer is in this file (contract of the tables: schema/README.md, "Schema 004").
 *
 * Where figures come from:
 *   handshake counts by day, version, destination group: daily_rollups (exact per day);
 *   distinct clients: daily_clients for days that still have them, plus the inventory rows first
 *     seen on or before the day retention pruned up to (their clients, not exact per day);
 *   per client, per destination, per cipher: inventory rows seen in the period (last_seen >=
 *     since and first_seen < until): the counts of such a row are its whole life;
 *   coverage: runs; endpoint list: endpoint_sets; plaintext mail: mail_sessions; per-client
 *     detail over time: the retained handshakes.
 * The period and the sensor are bound parameters (:since/:until days, :since_us/:until_us,
 * :sensor NULL = every sensor, :all); user text never reaches the SQL text. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "report_data.h"
#include "tlsaudit/common.h"
#include "tlsaudit/report.h"
#include "tlsaudit/store.h"

struct ta_rd {
    const struct ta_rd_ops *ops;
    sqlite3 *db;
    char pday[TA_RD_DAY];          /* day retention pruned up to, "" when nothing was pruned */
    char err[TA_ERRBUF_SIZE];
    const struct ta_report_source *rs;   /* central store: fetches rows on demand */
    char fetched[64];              /* the client whose handshakes were fetched last */
};

/* Inventory rows seen in the period (alias i). */
#define INV_PERIOD " i.last_seen >= :since AND i.first_seen < :until" \
                   " AND (:sensor IS NULL OR i.sensor = :sensor)"
/* Rollup or client-key rows of days in the period (alias x). */
#define DAY_PERIOD " x.day >= :since AND x.day < :until AND (:sensor IS NULL OR x.sensor = :sensor)"
/* Retained rows in the period (alias h for handshakes or mail_sessions, r for runs). */
#define ROW_PERIOD " h.ts_us >= :since_us AND h.ts_us < :until_us" \
                   " AND (:sensor IS NULL OR COALESCE(r.sensor, '') = :sensor)"
/* The client keys behind distinct counts: daily_clients, plus inventory rows of pruned days. */
#define CLIENT_KEYS(cols) \
    "SELECT " cols " FROM daily_clients x WHERE" DAY_PERIOD \
    " UNION ALL SELECT " cols " FROM inventory x WHERE x.last_seen >= :since" \
    " AND x.first_seen < :until AND (:sensor IS NULL OR x.sensor = :sensor)" \
    " AND :pday <> '' AND substr(x.first_seen, 1, 10) <= :pday"
/* The legacy definition of schema 004 on a handshakes row (alias h). */
#define HS_LEGACY "(COALESCE(h.version, 0) IN (2, 768, 769, 770) OR (COALESCE(h.version, 0) = 0" \
                  " AND COALESCE(h.client_max_version, 0) BETWEEN 1 AND 770))"

void *ta__rd_push(struct ta_rd_vec *vec)
{
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 16;
        void *t = realloc(vec->v, cap * vec->elsize);
        if (!t)
            return NULL;
        vec->v = t;
        vec->cap = cap;
    }
    void *e = (char *)vec->v + vec->n++ * vec->elsize;
    memset(e, 0, vec->elsize);
    return e;
}

void ta__rd_vec_free(struct ta_rd_vec *vec)
{
    free(vec->v);
    vec->v = NULL;
    vec->n = vec->cap = 0;
}

const struct ta_rd_ops *ta__rd_ops(const struct ta_rd *src)
{
    return src->ops;
}

void ta__rd_set_source(struct ta_rd *src, const struct ta_report_source *rs)
{
    src->rs = rs;
}

/* A central store's copy holds a client's handshakes only once they were asked for: fetch them
 * before the first question about that client (the details ask two in a row). */
static int need_client(struct ta_rd *src, const struct ta_rd_filter *f, const char *ip)
{
    if (!src->rs || strcmp(src->fetched, ip) == 0)
        return 0;
    if (src->rs->client(src->rs->ctx, ip, f->since_us,
                        f->until_us ? f->until_us : LLONG_MAX, src->err) != 0)
        return -1;
    snprintf(src->fetched, sizeof src->fetched, "%s", ip);
    return 0;
}

const char *ta__rd_error(const struct ta_rd *src)
{
    return src->err;
}

/* Copy column col as text into buf (cut to fit; "" when NULL). */
static void col_text(sqlite3_stmt *s, int col, char *buf, size_t len)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(buf, len, "%s", t ? (const char *)t : "");
}

/* Prepare sql and bind every named parameter it uses from f (and ip, n for the per-client
 * questions). Returns NULL after setting src->err. */
static sqlite3_stmt *prep(struct ta_rd *src, const struct ta_rd_filter *f, const char *sql,
                          const char *ip, int n)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(src->db, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(src->err, sizeof src->err, "%s", sqlite3_errmsg(src->db));
        return NULL;
    }
    for (int i = 1; i <= sqlite3_bind_parameter_count(s); i++) {
        const char *p = sqlite3_bind_parameter_name(s, i);
        if (!p)
            continue;
        if (strcmp(p, ":since") == 0)
            sqlite3_bind_text(s, i, f->since[0] ? f->since : "0000", -1, SQLITE_TRANSIENT);
        else if (strcmp(p, ":until") == 0)
            sqlite3_bind_text(s, i, f->until[0] ? f->until : "9999", -1, SQLITE_TRANSIENT);
        else if (strcmp(p, ":since_us") == 0)
            sqlite3_bind_int64(s, i, f->since_us);
        else if (strcmp(p, ":until_us") == 0)
            sqlite3_bind_int64(s, i, f->until_us ? f->until_us : LLONG_MAX);
        else if (strcmp(p, ":sensor") == 0 && f->sensor)
            sqlite3_bind_text(s, i, f->sensor, -1, SQLITE_TRANSIENT);
        else if (strcmp(p, ":all") == 0)
            sqlite3_bind_int(s, i, f->all);
        else if (strcmp(p, ":pday") == 0)
            sqlite3_bind_text(s, i, src->pday, -1, SQLITE_TRANSIENT);
        else if (strcmp(p, ":ip") == 0)
            sqlite3_bind_text(s, i, ip ? ip : "", -1, SQLITE_TRANSIENT);
        else if (strcmp(p, ":n") == 0)
            sqlite3_bind_int(s, i, n);
    }
    return s;
}

/* Finish a statement: 0 when the last step was SQLITE_DONE (or ROW for one-row questions). */
static int done(struct ta_rd *src, sqlite3_stmt *s, int rc)
{
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        snprintf(src->err, sizeof src->err, "%s",
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(src->db));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* Runs that overlap the period by their wall-clock span, or that wrote a retained row in it
 * (a run over an old capture file has packet times far from its own start). */
#define RUNS_IN_PERIOD \
    " FROM runs r WHERE (:sensor IS NULL OR r.sensor = :sensor) AND ((r.started < :until" \
    " AND COALESCE(r.ended, '9999') >= :since) OR r.id IN (SELECT h.run_id FROM handshakes h" \
    " WHERE h.ts_us >= :since_us AND h.ts_us < :until_us))"

/* Coverage, sensors, endpoint list, retention state. */
static int sq_meta(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_meta *m)
{
    sqlite3_stmt *s = prep(src, f, "SELECT count(*), COALESCE(sum(clean = 0 AND ended IS NOT NULL"
        "), 0), COALESCE(sum(ended IS NULL), 0), COALESCE(sum(packets), 0), COALESCE(sum(bytes),"
        " 0), COALESCE(sum(drops), 0), COALESCE(sum(if_drops), 0), COALESCE(sum(pool_exhausted),"
        " 0), COALESCE(sum(flows_evicted), 0), COALESCE(min(started), ''), COALESCE(max(ended),"
        " ''), COALESCE(sum(truncated), 0), COALESCE(sum(ip_incomplete), 0)" RUNS_IN_PERIOD,
        NULL, 0);
    int rc;
    if (!s)
        return -1;
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        m->cov.runs = sqlite3_column_int(s, 0);
        m->cov.runs_unclean = sqlite3_column_int(s, 1);
        m->cov.runs_open = sqlite3_column_int(s, 2);
        m->cov.packets = (unsigned long long)sqlite3_column_int64(s, 3);
        m->cov.bytes = (unsigned long long)sqlite3_column_int64(s, 4);
        m->cov.drops = (unsigned long long)sqlite3_column_int64(s, 5);
        m->cov.if_drops = (unsigned long long)sqlite3_column_int64(s, 6);
        m->cov.pool_exhausted = (unsigned long long)sqlite3_column_int64(s, 7);
        m->cov.flows_evicted = (unsigned long long)sqlite3_column_int64(s, 8);
        col_text(s, 9, m->cov.first_started, sizeof m->cov.first_started);
        col_text(s, 10, m->cov.last_ended, sizeof m->cov.last_ended);
        m->cov.truncated = (unsigned long long)sqlite3_column_int64(s, 11);
        m->cov.ip_incomplete = (unsigned long long)sqlite3_column_int64(s, 12);
    }
    if (done(src, s, rc))
        return -1;
    s = prep(src, f, "SELECT DISTINCT r.sensor" RUNS_IN_PERIOD " ORDER BY 1", NULL, 0);
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (m->nsensors < TA_ARRAY_LEN(m->sensors))
            col_text(s, 0, m->sensors[m->nsensors++], sizeof m->sensors[0]);
        else
            m->more_sensors++;
    }
    if (done(src, s, rc))
        return -1;
    s = prep(src, f, "SELECT COALESCE(min(i.first_seen), ''), COALESCE(max(i.last_seen), '')"
             " FROM inventory i WHERE" INV_PERIOD, NULL, 0);
    if (!s)
        return -1;
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        col_text(s, 0, m->data_first, sizeof m->data_first);
        col_text(s, 1, m->data_last, sizeof m->data_last);
    }
    if (done(src, s, rc))
        return -1;
    s = prep(src, f, "SELECT instance, version, source, imported_at, builtin FROM endpoint_sets"
             " ORDER BY id DESC LIMIT 1", NULL, 0);
    if (!s)
        return -1;
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        m->has_list = true;
        col_text(s, 0, m->list_instance, sizeof m->list_instance);
        col_text(s, 1, m->list_version, sizeof m->list_version);
        col_text(s, 2, m->list_source, sizeof m->list_source);
        col_text(s, 3, m->list_imported, sizeof m->list_imported);
        m->list_builtin = sqlite3_column_int(s, 4);
    }
    if (done(src, s, rc))
        return -1;
    s = prep(src, f, "SELECT (SELECT strftime('%Y-%m-%dT%H:%M:%SZ', value / 1000000, 'unixepoch')"
             " FROM store_meta WHERE key = 'pruned_until_us'), EXISTS (SELECT 1 FROM store_meta"
             " WHERE key = 'refresh')", NULL, 0);
    if (!s)
        return -1;
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        col_text(s, 0, m->pruned_until, sizeof m->pruned_until);
        m->refresh_pending = sqlite3_column_int(s, 1) != 0;
    }
    return done(src, s, rc);
}

/* Headline counts: handshakes from the rollups, distinct clients from the client keys. */
static int sq_counts(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_counts *c)
{
    sqlite3_stmt *s = prep(src, f, "SELECT COALESCE(sum(handshakes) FILTER (WHERE o365 = 1), 0),"
        " COALESCE(sum(handshakes) FILTER (WHERE o365 = 1 AND legacy = 1), 0),"
        " COALESCE(sum(handshakes), 0), COALESCE(sum(handshakes) FILTER (WHERE legacy = 1), 0)"
        " FROM daily_rollups x WHERE" DAY_PERIOD, NULL, 0);
    int rc;
    if (!s)
        return -1;
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        c->o365_hs = sqlite3_column_int64(s, 0);
        c->o365_legacy_hs = sqlite3_column_int64(s, 1);
        c->all_hs = sqlite3_column_int64(s, 2);
        c->all_legacy_hs = sqlite3_column_int64(s, 3);
    }
    if (done(src, s, rc))
        return -1;
    s = prep(src, f, "WITH c AS (" CLIENT_KEYS("x.client_ip, x.o365, x.legacy") ")"
             " SELECT count(DISTINCT client_ip) FILTER (WHERE o365 = 1),"
             " count(DISTINCT client_ip) FILTER (WHERE o365 = 1 AND legacy = 1),"
             " count(DISTINCT client_ip), count(DISTINCT client_ip) FILTER (WHERE legacy = 1)"
             " FROM c", NULL, 0);
    if (!s)
        return -1;
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        c->o365_clients = sqlite3_column_int(s, 0);
        c->o365_legacy_clients = sqlite3_column_int(s, 1);
        c->all_clients = sqlite3_column_int(s, 2);
        c->all_legacy_clients = sqlite3_column_int(s, 3);
    }
    return done(src, s, rc);
}

/* Find the point (day, version, o365) in pts, or NULL. pts is small (days x versions x 2). */
static struct ta_rd_point *find_point(struct ta_rd_vec *pts, const char *day, uint16_t v, int o)
{
    for (size_t i = pts->n; i-- > 0;) {
        struct ta_rd_point *p = TA_RD_AT(pts, struct ta_rd_point, i);
        if (p->version == v && p->o365 == o && strcmp(p->day, day) == 0)
            return p;
    }
    return NULL;
}

/* Per day legacy handshakes by version and group (rollups), then the exact distinct clients
 * where the day's client keys remain; the TA_RD_ALLV rows are every legacy version together. */
static int sq_trend(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *pts)
{
    static const char *const sql[3] = {
        "SELECT day, version, o365, sum(handshakes), max(clients) FROM daily_rollups x"
        " WHERE legacy = 1 AND" DAY_PERIOD " GROUP BY day, version, o365"
        " UNION ALL SELECT day, 65535, o365, sum(handshakes), max(clients) FROM daily_rollups x"
        " WHERE legacy = 1 AND" DAY_PERIOD " GROUP BY day, o365 ORDER BY 1, 3 DESC, 2",
        "SELECT day, version, o365, count(DISTINCT client_ip) FROM daily_clients x"
        " WHERE legacy = 1 AND" DAY_PERIOD " GROUP BY day, version, o365",
        "SELECT day, 65535, o365, count(DISTINCT client_ip) FROM daily_clients x"
        " WHERE legacy = 1 AND" DAY_PERIOD " GROUP BY day, o365",
    };
    for (int q = 0; q < 3; q++) {
        sqlite3_stmt *s = prep(src, f, sql[q], NULL, 0);
        int rc;
        if (!s)
            return -1;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            char day[TA_RD_DAY];
            col_text(s, 0, day, sizeof day);
            uint16_t v = (uint16_t)sqlite3_column_int(s, 1);
            int o = sqlite3_column_int(s, 2);
            struct ta_rd_point *p = q ? find_point(pts, day, v, o) : ta__rd_push(pts);
            if (!p) {
                if (q)
                    continue;
                rc = SQLITE_NOMEM;
                break;
            }
            if (q == 0) {
                snprintf(p->day, sizeof p->day, "%s", day);
                p->version = v;
                p->o365 = o;
                p->hs = sqlite3_column_int64(s, 3);
                p->clients = sqlite3_column_int(s, 4);
            } else {
                p->clients = sqlite3_column_int(s, 3);
                p->clients_exact = true;
            }
        }
        if (done(src, s, rc))
            return -1;
    }
    return 0;
}

/* Handshakes (rollups) and distinct clients (client keys) by group and negotiated version. */
static int sq_versions(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *g)
{
    sqlite3_stmt *s = prep(src, f, "SELECT o365, version, sum(handshakes),"
        " sum(handshakes) FILTER (WHERE legacy = 1), sum(refused) FILTER (WHERE legacy = 1)"
        " FROM daily_rollups x WHERE" DAY_PERIOD " GROUP BY o365, version"
        " ORDER BY o365 DESC, version = 0, version DESC", NULL, 0);
    int rc;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ta_rd_group *r = ta__rd_push(g);
        if (!r) {
            rc = SQLITE_NOMEM;
            break;
        }
        r->o365 = sqlite3_column_int(s, 0);
        r->version = (uint16_t)sqlite3_column_int(s, 1);
        r->hs = sqlite3_column_int64(s, 2);
        r->legacy_hs = sqlite3_column_int64(s, 3);
        r->legacy_refused = sqlite3_column_int64(s, 4);
    }
    if (done(src, s, rc))
        return -1;
    s = prep(src, f, "WITH c AS (" CLIENT_KEYS("x.client_ip, x.o365, x.version") ")"
             " SELECT o365, version, count(DISTINCT client_ip) FROM c GROUP BY o365, version",
             NULL, 0);
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        for (size_t i = 0; i < g->n; i++) {
            struct ta_rd_group *r = TA_RD_AT(g, struct ta_rd_group, i);
            if (r->o365 == sqlite3_column_int(s, 0) && r->version == sqlite3_column_int(s, 1))
                r->clients = sqlite3_column_int(s, 2);
        }
    return done(src, s, rc);
}

/* A grouped count over the inventory rows of the period: group columns then the figures. */
static int inv_groups(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *g,
                      const char *sql, bool by_service)
{
    sqlite3_stmt *s = prep(src, f, sql, NULL, 0);
    int rc;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ta_rd_group *r = ta__rd_push(g);
        if (!r) {
            rc = SQLITE_NOMEM;
            break;
        }
        r->o365 = by_service;
        col_text(s, 0, r->service, sizeof r->service);
        r->port = sqlite3_column_int(s, 1);
        col_text(s, 2, r->app, sizeof r->app);
        r->hs = sqlite3_column_int64(s, 3);
        r->legacy_hs = sqlite3_column_int64(s, 4);
        r->legacy_refused = sqlite3_column_int64(s, 5);
        r->clients = sqlite3_column_int(s, 6);
        r->legacy_clients = sqlite3_column_int(s, 7);
    }
    return done(src, s, rc);
}

#define INV_FIGURES \
    " COALESCE(sum(i.handshakes), 0), COALESCE(sum(i.handshakes) FILTER (WHERE i.legacy = 1), 0)," \
    " COALESCE(sum(i.refused) FILTER (WHERE i.legacy = 1), 0), count(DISTINCT i.client_ip)," \
    " count(DISTINCT i.client_ip) FILTER (WHERE i.legacy = 1) FROM inventory i WHERE"

static int sq_services(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *g)
{
    return inv_groups(src, f, g, "SELECT i.o365_service, i.server_port, max(i.app)," INV_FIGURES
                      " i.o365 = 1 AND" INV_PERIOD " GROUP BY 1, 2 ORDER BY 5 DESC, 4 DESC, 1, 2",
                      true);
}

static int sq_apps(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *g)
{
    return inv_groups(src, f, g, "SELECT '', 0, i.app," INV_FIGURES INV_PERIOD
                      " GROUP BY i.app ORDER BY 5 DESC, 4 DESC, 3", false);
}

/* Negotiated suites by version and group; the page decides which are weak or lack forward
 * secrecy from the names table. */
static int sq_ciphers(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *c)
{
    sqlite3_stmt *s = prep(src, f, "SELECT i.cipher_id, i.cipher_v2, i.version, i.o365,"
        " sum(i.handshakes), count(DISTINCT i.client_ip) FROM inventory i WHERE"
        " (i.cipher_id >= 0 OR i.cipher_v2 <> 0) AND" INV_PERIOD
        " GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC", NULL, 0);
    int rc;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ta_rd_cipher *r = ta__rd_push(c);
        if (!r) {
            rc = SQLITE_NOMEM;
            break;
        }
        r->cipher_id = sqlite3_column_int(s, 0);
        r->cipher_v2 = (uint32_t)sqlite3_column_int64(s, 1);
        r->version = (uint16_t)sqlite3_column_int(s, 2);
        r->o365 = sqlite3_column_int(s, 3);
        r->hs = sqlite3_column_int64(s, 4);
        r->clients = sqlite3_column_int(s, 5);
    }
    return done(src, s, rc);
}

/* The inventory columns read_inv() expects, alias i; the two subqueries use the unique key's
 * client_ip prefix. "Modern" is TLS 1.2 or 1.3 negotiated toward the same kind of destination. */
#define INV_COLS \
    "SELECT i.client_ip, i.server_ip, i.sni, i.name, i.o365_service, i.app, i.transport," \
    " i.o365_reason, i.ja3, i.ja4, i.server_port, i.o365, i.legacy, i.version," \
    " i.client_max_version, (SELECT max(a.client_max_version) FROM inventory a" \
    " WHERE a.client_ip = i.client_ip), i.cipher_id, i.cipher_v2, i.handshakes, i.refused," \
    " i.first_seen_us, i.last_seen_us, (SELECT max(b.last_seen_us) FROM inventory b" \
    " WHERE b.client_ip = i.client_ip AND b.version IN (771, 772) AND (:all OR b.o365 = 1)" \
    " AND b.last_seen >= :since AND b.first_seen < :until" \
    " AND (:sensor IS NULL OR b.sensor = :sensor)), i.first_seen, i.last_seen FROM inventory i"

static void read_inv(sqlite3_stmt *s, struct ta_rd_inv *r)
{
    col_text(s, 0, r->client_ip, sizeof r->client_ip);
    col_text(s, 1, r->server_ip, sizeof r->server_ip);
    col_text(s, 2, r->sni, sizeof r->sni);
    col_text(s, 3, r->name, sizeof r->name);
    col_text(s, 4, r->service, sizeof r->service);
    col_text(s, 5, r->app, sizeof r->app);
    col_text(s, 6, r->transport, sizeof r->transport);
    col_text(s, 7, r->reason, sizeof r->reason);
    col_text(s, 8, r->ja3, sizeof r->ja3);
    col_text(s, 9, r->ja4, sizeof r->ja4);
    r->port = sqlite3_column_int(s, 10);
    r->o365 = sqlite3_column_int(s, 11);
    r->legacy = sqlite3_column_int(s, 12);
    r->version = (uint16_t)sqlite3_column_int(s, 13);
    r->client_max = (uint16_t)sqlite3_column_int(s, 14);
    r->client_max_all = (uint16_t)sqlite3_column_int(s, 15);
    r->cipher_id = sqlite3_column_int(s, 16);
    r->cipher_v2 = (uint32_t)sqlite3_column_int64(s, 17);
    r->hs = sqlite3_column_int64(s, 18);
    r->refused = sqlite3_column_int64(s, 19);
    r->first_us = sqlite3_column_int64(s, 20);
    r->last_us = sqlite3_column_int64(s, 21);
    r->last_modern_us = sqlite3_column_int64(s, 22);
    col_text(s, 23, r->first_seen, sizeof r->first_seen);
    col_text(s, 24, r->last_seen, sizeof r->last_seen);
}

/* Run an INV_COLS statement into inv. */
static int inv_rows(struct ta_rd *src, const struct ta_rd_filter *f, const char *sql,
                    const char *ip, struct ta_rd_vec *inv)
{
    sqlite3_stmt *s = prep(src, f, sql, ip, 0);
    int rc;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ta_rd_inv *r = ta__rd_push(inv);
        if (!r) {
            rc = SQLITE_NOMEM;
            break;
        }
        read_inv(s, r);
    }
    return done(src, s, rc);
}

static int sq_legacy_rows(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *inv)
{
    /* legacy IS 1, as the partial index inventory_legacy_cover says it (schema 011); since
     * schema 017 it holds the Office 365 rows only, and this reads through inventory_clients,
     * the report as fast at full size (bench/RESULTS.md, session 15) */
    return inv_rows(src, f, INV_COLS " WHERE i.legacy IS 1 AND (:all OR i.o365 = 1) AND"
                    INV_PERIOD " ORDER BY i.client_ip, i.first_seen_us", NULL, inv);
}

static int sq_client_rows(struct ta_rd *src, const struct ta_rd_filter *f, const char *ip,
                          struct ta_rd_vec *inv)
{
    return inv_rows(src, f, INV_COLS " WHERE i.client_ip = :ip AND" INV_PERIOD
                    " ORDER BY i.legacy DESC, i.handshakes DESC, i.last_seen_us DESC", ip, inv);
}

/* One client's retained handshakes per day. */
static int sq_client_days(struct ta_rd *src, const struct ta_rd_filter *f, const char *ip,
                          struct ta_rd_vec *days)
{
    if (need_client(src, f, ip) != 0)
        return -1;
    sqlite3_stmt *s = prep(src, f, "SELECT substr(h.ts, 1, 10), count(*),"
        " count(*) FILTER (WHERE " HS_LEGACY "), count(*) FILTER (WHERE h.established = 0)"
        " FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id WHERE h.client_ip = :ip AND"
        ROW_PERIOD " GROUP BY 1 ORDER BY 1", ip, 0);
    int rc;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ta_rd_cday *d = ta__rd_push(days);
        if (!d) {
            rc = SQLITE_NOMEM;
            break;
        }
        col_text(s, 0, d->day, sizeof d->day);
        d->hs = sqlite3_column_int64(s, 1);
        d->legacy_hs = sqlite3_column_int64(s, 2);
        d->refused = sqlite3_column_int64(s, 3);
    }
    return done(src, s, rc);
}

/* One client's most recent retained handshakes, newest first. */
static int sq_client_recent(struct ta_rd *src, const struct ta_rd_filter *f, const char *ip,
                            int max, struct ta_rd_vec *out)
{
    if (need_client(src, f, ip) != 0)
        return -1;
    sqlite3_stmt *s = prep(src, f, "SELECT h.ts, h.server_ip, COALESCE(h.sni, ''),"
        " COALESCE(h.app, ''), h.server_port, h.established, COALESCE(h.cipher_id, -1),"
        " COALESCE(h.version, 0), COALESCE(h.client_max_version, 0) FROM handshakes h"
        " LEFT JOIN runs r ON r.id = h.run_id WHERE h.client_ip = :ip AND" ROW_PERIOD
        " ORDER BY h.ts_us DESC, h.id DESC LIMIT :n", ip, max);
    int rc;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ta_rd_hs *h = ta__rd_push(out);
        if (!h) {
            rc = SQLITE_NOMEM;
            break;
        }
        col_text(s, 0, h->ts, sizeof h->ts);
        col_text(s, 1, h->server_ip, sizeof h->server_ip);
        col_text(s, 2, h->sni, sizeof h->sni);
        col_text(s, 3, h->app, sizeof h->app);
        h->port = sqlite3_column_int(s, 4);
        h->established = sqlite3_column_int(s, 5);
        h->cipher_id = sqlite3_column_int(s, 6);
        h->version = (uint16_t)sqlite3_column_int(s, 7);
        h->client_max = (uint16_t)sqlite3_column_int(s, 8);
    }
    return done(src, s, rc);
}

/* Mail sessions that exposed something: AUTH in clear, STARTTLS offered but not used, or a
 * session to Exchange Online that never got TLS. */
static int sq_mail(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *out)
{
    sqlite3_stmt *s = prep(src, f, "SELECT client_ip, server_ip, app, host, service, port, o365,"
        " kinds, count(*), sum(mic), min(ts), max(ts), max(banner) FROM (SELECT h.client_ip,"
        " h.server_ip, COALESCE(h.greeting, '') AS banner,"
        " COALESCE(h.app, '') AS app, COALESCE(h.greeting_host, '') AS host,"
        " COALESCE(h.o365_service, '') AS service, h.server_port AS port, h.o365,"
        " (h.auth_in_clear <> 0) | ((h.starttls_offered <> 0 AND h.starttls_sent = 0) << 1)"
        " | ((h.o365 = 1 AND h.starttls_accepted = 0) << 2) AS kinds,"
        " h.mail_in_clear <> 0 AS mic, h.ts FROM mail_sessions h"
        " LEFT JOIN runs r ON r.id = h.run_id WHERE" ROW_PERIOD ") WHERE kinds <> 0"
        " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY kinds DESC, 9 DESC, 1", NULL, 0);
    int rc;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ta_rd_mail *m = ta__rd_push(out);
        if (!m) {
            rc = SQLITE_NOMEM;
            break;
        }
        col_text(s, 0, m->client_ip, sizeof m->client_ip);
        col_text(s, 1, m->server_ip, sizeof m->server_ip);
        col_text(s, 2, m->app, sizeof m->app);
        col_text(s, 3, m->host, sizeof m->host);
        col_text(s, 4, m->service, sizeof m->service);
        m->port = sqlite3_column_int(s, 5);
        m->o365 = sqlite3_column_int(s, 6);
        m->kinds = sqlite3_column_int(s, 7);
        m->sessions = sqlite3_column_int64(s, 8);
        m->mail_in_clear = sqlite3_column_int64(s, 9);
        col_text(s, 10, m->first_seen, sizeof m->first_seen);
        col_text(s, 11, m->last_seen, sizeof m->last_seen);
        col_text(s, 12, m->banner, sizeof m->banner);
    }
    return done(src, s, rc);
}

static void sq_close(struct ta_rd *src)
{
    if (!src)
        return;
    sqlite3_close(src->db);
    free(src);
}

static const struct ta_rd_ops sqlite_ops = {
    .name = "sqlite",
    .meta = sq_meta,
    .counts = sq_counts,
    .trend = sq_trend,
    .versions = sq_versions,
    .services = sq_services,
    .apps = sq_apps,
    .ciphers = sq_ciphers,
    .legacy_rows = sq_legacy_rows,
    .client_rows = sq_client_rows,
    .client_days = sq_client_days,
    .client_recent = sq_client_recent,
    .mail = sq_mail,
    .close = sq_close,
};

/* See report_data.h. The day retention pruned up to is read once here. */
struct ta_rd *ta__rd_open_sqlite(const char *path, char *errbuf)
{
    struct ta_rd *src = calloc(1, sizeof *src);
    sqlite3_stmt *s = NULL;
    if (!src) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    src->ops = &sqlite_ops;
    if (ta_store_open_ro(path, &src->db, errbuf) != 0) {
        free(src);
        return NULL;
    }
    if (sqlite3_prepare_v2(src->db, "SELECT strftime('%Y-%m-%d', value / 1000000, 'unixepoch')"
                           " FROM store_meta WHERE key = 'pruned_until_us'", -1, &s, NULL)
        != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", path, sqlite3_errmsg(src->db));
        sq_close(src);
        return NULL;
    }
    if (sqlite3_step(s) == SQLITE_ROW)
        col_text(s, 0, src->pday, sizeof src->pday);
    sqlite3_finalize(s);
    return src;
}
