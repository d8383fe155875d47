/* query_legacy.c - the legacy report: one row per client that still speaks SSL 2.0/3.0 or
 * TLS 1.0/1.1 (TA_Q_LEGACY_SQL), with what it used, where to, and how often.
 *
 * Rows come from SQL ordered by client; the distinct sets are built here in C because SQLite's
 * group_concat(DISTINCT ...) can neither take a separator nor an order. */
#include <stdlib.h>
#include <string.h>

#include "query_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/names.h"
#include "tlsaudit/strset.h"

#define MAX_VERSIONS 32

/* One client being aggregated. */
struct lclient {
    char *ip;
    uint16_t versions[MAX_VERSIONS];
    size_t nversions;
    struct ta_strset apps, dests, reasons, ja3, ja4, ciphers, sensors;
    long handshakes, refused;
    long long first_us, last_us;
    char first_ts[40], last_ts[40];
    char maxv[48];               /* the highest version it ever offered (max_offered) */
};

static void client_free(struct lclient *c)
{
    free(c->ip);
    ta_strset_free(&c->apps);
    ta_strset_free(&c->dests);
    ta_strset_free(&c->reasons);
    ta_strset_free(&c->ja3);
    ta_strset_free(&c->ja4);
    ta_strset_free(&c->ciphers);
    ta_strset_free(&c->sensors);
}

/* Columns of the row query. A row is one handshake (L_HS 1) or one inventory row (L_HS its
 * handshakes, L_ESTABLISHED how many were established, L_FIRST_* / L_TS* its first and last). */
enum { L_IP, L_TS_US, L_TS, L_VERSION, L_MAX, L_APP, L_DEST, L_SERVICE, L_ESTABLISHED,
       L_REASON, L_JA3, L_JA4, L_CIPHER, L_CIPHER_V2, L_HS, L_FIRST_US, L_FIRST_TS, L_SENSOR };

/* The same columns from the handshakes rows (the scan) and from the inventory (legacy IS 1, as
 * the partial index inventory_legacy_cover says it, schema 011 says why not = 1; since schema
 * 017 that index holds only the Office 365 rows, and these forms read through inventory_clients,
 * as fast at full size: bench/RESULTS.md, session 15). */
static const char ROWS_SQL[] =
    "SELECT h.client_ip, h.ts_us, h.ts, h.version, h.client_max_version, h.app,"
    " COALESCE(NULLIF(h.sni, ''), h.server_ip), h.o365_service, h.established,"
    " h.o365_reason, h.ja3, h.ja4, h.cipher_id, h.cipher_v2, 1, h.ts_us, h.ts,"
    " COALESCE(r.sensor, '') FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id"
    " WHERE " TA_Q_LEGACY_SQL;
static const char INV_SQL[] =
    "SELECT h.client_ip, h.last_seen_us, h.last_seen, NULLIF(h.version, 0),"
    " NULLIF(h.client_max_version, 0), h.app, COALESCE(NULLIF(h.sni, ''), h.server_ip),"
    " h.o365_service, h.established, h.o365_reason, h.ja3, h.ja4, NULLIF(h.cipher_id, -1),"
    " NULLIF(h.cipher_v2, 0), h.handshakes, h.first_seen_us, h.first_seen, h.sensor"
    " FROM inventory h WHERE h.legacy IS 1";
/* The same for the default table (fold_row narrow): NULL for the columns it does not show. */
static const char INV_NARROW_SQL[] =
    "SELECT h.client_ip, h.last_seen_us, h.last_seen, NULLIF(h.version, 0),"
    " NULLIF(h.client_max_version, 0), NULL, COALESCE(NULLIF(h.sni, ''), h.server_ip),"
    " h.o365_service, h.established, NULL, NULL, NULL, NULL, NULL, h.handshakes,"
    " h.first_seen_us, NULL, NULL FROM inventory h WHERE h.legacy IS 1";

/* Copy src (NULL: "") into dst of size bytes, cut as snprintf "%s" would. */
static void copy_cut(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = size - 1;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Append src to the text of length *off in dst of size bytes, cut to what fits. The cells of a
 * client are built by hand: 16,000 clients, seven printf calls each, were 5% of a report. */
static void append_cut(char *dst, size_t size, size_t *off, const char *src)
{
    if (*off + 1 >= size)
        return;
    copy_cut(dst + *off, size - *off, src);
    *off += strlen(dst + *off);
}

/* Decimal text of v into buf (at least 21 bytes), as "%ld". */
static void fmt_long(char *buf, long v)
{
    char t[24];
    size_t n = 0, i = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do
        t[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        buf[i++] = '-';
    while (n > 0)
        buf[i++] = t[--n];
    buf[i] = '\0';
}

/* Fold what every form shows of one row into client c: the version v it used (or offered),
 * its destination d (service: the Office 365 service, or NULL / ""), hs handshakes of which
 * established were, the first and last time. first may be NULL (the default table does not
 * show it). Returns 0 or -1 (out of memory). */
static int fold_common(struct lclient *c, uint16_t v, const char *d, const char *service,
                       long hs, long established, long long first_us, const char *first,
                       long long last_us, const char *last)
{
    char dest[600];
    size_t i;
    for (i = 0; i < c->nversions && c->versions[i] != v; i++)
        ;
    if (i == c->nversions && i < MAX_VERSIONS)
        c->versions[c->nversions++] = v;
    const char *key = d ? d : "";
    size_t dlen = strlen(key), slen = service ? strlen(service) : 0;
    /* "d (service)", or d; cut to dest[] as snprintf would (by hand: once a row) */
    if (slen > 0 && dlen + slen + 3 < sizeof dest) {
        memcpy(dest, key, dlen);
        memcpy(dest + dlen, " (", 2);
        memcpy(dest + dlen + 2, service, slen);
        memcpy(dest + dlen + 2 + slen, ")", 2);
        key = dest;
    } else if (slen > 0 || dlen >= sizeof dest) {
        if (slen > 0)
            snprintf(dest, sizeof dest, "%s (%s)", key, service);
        else
            snprintf(dest, sizeof dest, "%s", key);
        key = dest;
    }
    if (ta_strset_add(&c->dests, key))
        return -1;
    /* ties keep the earlier row's first and take the later row's last, as rows in time order */
    if (c->handshakes == 0 || first_us < c->first_us) {
        copy_cut(c->first_ts, sizeof c->first_ts, first);
        c->first_us = first_us;
    }
    if (c->handshakes == 0 || last_us >= c->last_us) {
        copy_cut(c->last_ts, sizeof c->last_ts, last);
        c->last_us = last_us;
    }
    c->handshakes += hs;
    c->refused += hs - established;
    return 0;
}

/* Fold one legacy handshake (or inventory) row into client c. narrow: only what the default
 * table shows (versions, destinations, counts, last seen): the sets of the other columns stay
 * empty. Returns 0 or -1 (out of memory). */
static int fold_row(struct lclient *c, sqlite3_stmt *s, bool narrow)
{
    int col = sqlite3_column_type(s, L_VERSION) != SQLITE_NULL ? L_VERSION : L_MAX;
    uint16_t v = (uint16_t)sqlite3_column_int(s, col);
    const char *cipher = NULL;
    if (narrow)
        ;
    else if (sqlite3_column_type(s, L_CIPHER) != SQLITE_NULL)
        cipher = ta_cipher_name((uint16_t)sqlite3_column_int(s, L_CIPHER));
    else if (sqlite3_column_type(s, L_CIPHER_V2) != SQLITE_NULL)
        cipher = ta_cipher_v2_name((uint32_t)sqlite3_column_int64(s, L_CIPHER_V2));
    if (!narrow && (ta_strset_add(&c->apps, ta__q_text(s, L_APP)) ||
                    ta_strset_add(&c->reasons, ta__q_text(s, L_REASON)) ||
                    ta_strset_add(&c->ja3, ta__q_text(s, L_JA3)) ||
                    ta_strset_add(&c->ja4, ta__q_text(s, L_JA4)) ||
                    ta_strset_add(&c->ciphers, cipher) ||
                    ta_strset_add(&c->sensors, ta__q_text(s, L_SENSOR))))
        return -1;
    return fold_common(c, v, ta__q_text(s, L_DEST), ta__q_text(s, L_SERVICE),
                       sqlite3_column_int(s, L_HS), sqlite3_column_int(s, L_ESTABLISHED),
                       sqlite3_column_int64(s, L_FIRST_US), ta__q_text(s, L_FIRST_TS),
                       sqlite3_column_int64(s, L_TS_US), ta__q_text(s, L_TS));
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Strings in strcmp order (the order of ta_strset_join). */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One client in the print order: its last time, the sort key, copied next to it. */
struct lorder {
    long long last_us;
    struct lclient *c;
};

/* Most recent first; ties by address text. */
static int cmp_order(const void *a, const void *b)
{
    const struct lorder *x = a, *y = b;
    if (x->last_us != y->last_us)
        return x->last_us > y->last_us ? -1 : 1;
    return strcmp(x->c->ip, y->c->ip);
}

static const struct ta_out_col legacy_cols[] = {
    { "client_ip", false }, { "versions", false }, { "client_max_version", false },
    { "apps", false }, { "destinations", false }, { "handshakes", true }, { "refused", true },
    { "first_seen", false }, { "last_seen", false }, { "reason", false }, { "ja3", false },
    { "ja4", false }, { "ciphers", false }, { "sensors", false },
};

/* The default table (no --wide) fits a 120-column terminal for an IPv4 client: apps,
 * fingerprints, ciphers, reasons and first_seen are left to --wide, last_seen is shown to the
 * minute, the best offered version gets a shorter heading, and destinations shows the first
 * one (cut to NARROW_DEST characters) and how many more. Each entry is the index of the
 * legacy_cols cell shown. */
#define NARROW_DEST 34
static const struct ta_out_col narrow_cols[] = {
    { "client_ip", false }, { "versions", false }, { "max_offered", false },
    { "handshakes", true }, { "refused", true }, { "last_seen", false },
    { "destinations", false },
};
static const size_t narrow_from[] = { 0, 1, 2, 5, 6, 8, 4 };
_Static_assert(TA_ARRAY_LEN(narrow_cols) == TA_ARRAY_LEN(narrow_from), "narrow legacy columns");

/* Print one client. */
static int print_client(struct ta_out *out, struct lclient *c, bool narrow)
{
    char versions[MAX_VERSIONS * 24] = "", nh[24], nr[24];
    size_t off = 0;
    if (c->nversions > 1)
        qsort(c->versions, c->nversions, sizeof c->versions[0], cmp_u16);
    for (size_t i = 0; i < c->nversions; i++) {
        char lab[48];
        ta_version_label(c->versions[i], lab, sizeof lab);
        if (i)
            append_cut(versions, sizeof versions, &off, " ");
        append_cut(versions, sizeof versions, &off, lab);
    }
    fmt_long(nh, c->handshakes);
    fmt_long(nr, c->refused);
    char *apps = NULL, *dests = NULL, *reasons = NULL, *ja3 = NULL, *ja4 = NULL;
    char *ciphers = NULL, *sensors = NULL;
    if (narrow && c->dests.n > 1) {
        /* the narrow cells join nothing: only the destinations' order (set_join's) matters */
        qsort(c->dests.v, c->dests.n, sizeof *c->dests.v, cmp_str);
    } else if (!narrow) {
        apps = ta_strset_join(&c->apps, " ");
        dests = ta_strset_join(&c->dests, ", ");
        reasons = ta_strset_join(&c->reasons, "; ");
        ja3 = ta_strset_join(&c->ja3, " ");
        ja4 = ta_strset_join(&c->ja4, " ");
        ciphers = ta_strset_join(&c->ciphers, " ");
        sensors = ta_strset_join(&c->sensors, " ");
    }
    const char *cells[] = { c->ip, versions, c->maxv, apps, dests, nh, nr, c->first_ts,
                            c->last_ts, reasons, ja3, ja4, ciphers, sensors };
    const char *ncells[TA_ARRAY_LEN(narrow_from)];
    char minute[24] = "", ndest[NARROW_DEST + 32] = "";   /* minute: zeros past its text */
    /* sorted as set_join does: the first destination, then how many others */
    if (narrow && c->dests.n > 0) {
        size_t dlen = 0;
        /* the first NARROW_DEST - 1 bytes, then an ellipsis when cut */
        copy_cut(ndest, NARROW_DEST, c->dests.v[0]);
        dlen = strlen(ndest);
        if (strlen(c->dests.v[0]) > NARROW_DEST - 1)
            append_cut(ndest, sizeof ndest, &dlen, "\xe2\x80\xa6");
        if (c->dests.n > 1) {
            char more[32];
            more[0] = ' ';
            more[1] = '+';
            fmt_long(more + 2, (long)(c->dests.n - 1));
            append_cut(ndest, sizeof ndest, &dlen, more);
        }
    }
    /* "2026-11-23T10:25:05.188488Z" -> "2026-11-23 10:25" */
    copy_cut(minute, 17, c->last_ts);
    if (minute[10] == 'T')     /* a text shorter than that (a hand edit) leaves a zero there */
        minute[10] = ' ';
    for (size_t i = 0; i < TA_ARRAY_LEN(narrow_from); i++)
        ncells[i] = narrow_from[i] == 8 ? minute : narrow_from[i] == 4 ? ndest
                  : cells[narrow_from[i]];
    int rc = narrow ? ta_out_row(out, ncells)
           : apps && dests && reasons && ja3 && ja4 && ciphers && sensors ? ta_out_row(out, cells)
           : -1;
    free(sensors);
    free(apps);
    free(dests);
    free(reasons);
    free(ja3);
    free(ja4);
    free(ciphers);
    return rc;
}

/* Read every legacy row into clients[]. Returns the count, or -1. */
static long collect(sqlite3 *db, const struct ta_qopts *o, struct lclient **out, bool narrow)
{
    bool inv = o->src == TA_QSRC_INV;
    char sql[2048];
    struct lclient *cl = NULL;
    size_t n = 0, cap = 0;
    int rc;
    snprintf(sql, sizeof sql, "%s", !inv ? ROWS_SQL : narrow ? INV_NARROW_SQL : INV_SQL);
    ta__q_where(o, inv ? TA_Q_INV : TA_Q_HS, sql, sizeof sql);
    ta__q_cat(sql, sizeof sql, inv ? " ORDER BY h.client_ip" : " ORDER BY h.client_ip, h.ts_us, h.id");
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *ip = ta__q_text(s, L_IP);
        if (!ip)
            continue;
        if (n == 0 || strcmp(cl[n - 1].ip, ip) != 0) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                struct lclient *t = realloc(cl, cap * sizeof *t);
                if (!t) {
                    rc = SQLITE_NOMEM;
                    break;
                }
                cl = t;
            }
            memset(&cl[n], 0, sizeof cl[n]);
            cl[n].ip = strdup(ip);
            n++;
            if (!cl[n - 1].ip) {
                rc = SQLITE_NOMEM;
                break;
            }
        }
        if (fold_row(&cl[n - 1], s, narrow) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db,
                       rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
    sqlite3_finalize(s);
    *out = cl;
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < n; i++)
            client_free(&cl[i]);
        free(cl);
        *out = NULL;
        return -1;
    }
    return (long)n;
}

/* Arguments of ta_q_legacy_fold, in this order: what the default table shows of an inventory
 * row, all of it in the index inventory_legacy_cover (schema 011). */
enum { F_IP, F_VERSION, F_MAX, F_SNI, F_SERVER, F_SERVICE, F_HS, F_ESTABLISHED, F_LAST_US,
       F_LAST_TS, F_OFFER, F_N };

/* The folded pass's state, the fold function's user data. */
struct lpass {
    struct lclient *cl;
    size_t n, cap;
    int err;                     /* 0, SQLITE_NOMEM, or SQLITE_MISUSE: rows out of client order */
};

/* Whether address ip (NULL: no) is not the client last folded: its first row. */
static bool pass_new(const struct lpass *p, const char *ip)
{
    return ip && (p->n == 0 || strcmp(ip, p->cl[p->n - 1].ip) != 0);
}

/* Fold one inventory row (arguments v, see F_*) into the pass: a new client when its address
 * follows the last one, with its highest offer (F_OFFER, given on a client's first row only).
 * Returns 0 or SQLITE_NOMEM / SQLITE_MISUSE. */
static int fold_value_row(struct lpass *p, sqlite3_value **v)
{
    const char *ip = (const char *)sqlite3_value_text(v[F_IP]);
    if (!ip)
        return 0;   /* as collect: a row without a client is not one */
    int d = p->n == 0 ? 1 : strcmp(ip, p->cl[p->n - 1].ip);
    if (d < 0)
        return SQLITE_MISUSE;
    if (d > 0) {
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 1024;
            struct lclient *t = realloc(p->cl, cap * sizeof *t);
            if (!t)
                return SQLITE_NOMEM;
            p->cl = t;
            p->cap = cap;
        }
        struct lclient *c = &p->cl[p->n];
        memset(c, 0, sizeof *c);
        if (!(c->ip = strdup(ip)))
            return SQLITE_NOMEM;
        p->n++;
        /* as ta__q_version: a label for a wire value, "" for none */
        long long offer = sqlite3_value_int64(v[F_OFFER]);
        if (sqlite3_value_type(v[F_OFFER]) != SQLITE_NULL && offer > 0 && offer <= 0xffff)
            ta_version_label((uint16_t)offer, c->maxv, sizeof c->maxv);
    }
    /* the inventory's "none" is 0 / '': NULLIF(version, 0), COALESCE(NULLIF(sni, ''), server) */
    long long ver = sqlite3_value_int64(v[F_VERSION]);
    uint16_t vv = (uint16_t)(ver != 0 ? ver : sqlite3_value_int64(v[F_MAX]));
    const char *sni = (const char *)sqlite3_value_text(v[F_SNI]);
    const char *dest = sni && *sni ? sni : (const char *)sqlite3_value_text(v[F_SERVER]);
    if (fold_common(&p->cl[p->n - 1], vv, dest, (const char *)sqlite3_value_text(v[F_SERVICE]),
                    (long)sqlite3_value_int64(v[F_HS]), (long)sqlite3_value_int64(v[F_ESTABLISHED]),
                    0, NULL, sqlite3_value_int64(v[F_LAST_US]),
                    (const char *)sqlite3_value_text(v[F_LAST_TS])) != 0)
        return SQLITE_NOMEM;
    return 0;
}

/* SQL function ta_q_legacy_fold(client_ip, version, client_max_version, sni, server_ip,
 * o365_service, handshakes, established, last_seen_us, last_seen): folds the row, returns 0
 * (so that no row reaches the caller); an error stops the statement. */
static void fold_fn(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
    struct lpass *p = sqlite3_user_data(ctx);
    if (argc != F_N || (p->err = fold_value_row(p, v)) != 0) {
        sqlite3_result_error(ctx, "ta_q_legacy_fold", -1);
        return;
    }
    sqlite3_result_int(ctx, 0);
}

/* SQL function ta_q_legacy_new(client_ip): 1 on the first row of a client (see pass_new), so
 * that the statement seeks its highest offer once a client, not once a row. */
static void new_fn(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
    const struct lpass *p = sqlite3_user_data(ctx);
    sqlite3_result_int(ctx, argc == 1 && pass_new(p, (const char *)sqlite3_value_text(v[0])));
}

/* The default table's clients from the inventory (o->o365 == 1), read from the covering index
 * inventory_legacy_cover in client order and folded by an SQL function in the WHERE clause, so
 * that no row is fetched from the table nor handed over through sqlite3_column_*() (ten calls a
 * row, each taking the connection's mutex), as query_clients.c does for the summary. The filter
 * terms come first in a CASE, so only the rows they keep are folded. Returns the count of
 * clients in *out, -1 on error, or -2 when the rows came out of client order (SQLite sorted
 * instead of reading the index in order): then nothing is kept and the caller reads them by
 * collect. */
static long collect_folded(sqlite3 *db, const struct ta_qopts *o, struct lclient **out)
{
    /* the highest offer as the separate lookup in ta__q_legacy asks it */
    static const char *const offer_sql[2] = {
        "(SELECT max(i.client_max_version) FROM inventory i INDEXED BY inventory_clients"
        " WHERE i.client_ip = h.client_ip)",
        "(SELECT max(i.client_max_version) FROM inventory i WHERE i.client_ip = h.client_ip"
        " AND i.sensor = :sensor)",
    };
    /* both terms as the condition of inventory_legacy_cover says them (schema 017): with
     * o365 = 1, SQLite does not see that the index covers the rows (195 ms instead of 72 at
     * full size) */
    char sql[2048] = "SELECT 1 FROM inventory h WHERE h.legacy IS 1 AND h.o365 IS 1"
                     " AND CASE WHEN 1";
    struct lpass p = { 0 };
    int rc = SQLITE_ERROR;
    ta__q_where(o, TA_Q_INV, sql, sizeof sql);
    ta__q_cat(sql, sizeof sql, " THEN ta_q_legacy_fold(h.client_ip, h.version,"
              " h.client_max_version, h.sni, h.server_ip, h.o365_service, h.handshakes,"
              " h.established, h.last_seen_us, h.last_seen, CASE WHEN"
              " ta_q_legacy_new(h.client_ip) THEN ");
    ta__q_cat(sql, sizeof sql, offer_sql[o->sensor != NULL]);
    ta__q_cat(sql, sizeof sql, " END) ELSE 0 END ORDER BY h.client_ip");
    if (sqlite3_create_function(db, "ta_q_legacy_fold", F_N, SQLITE_UTF8, &p, fold_fn, NULL,
                                NULL) != SQLITE_OK ||
        sqlite3_create_function(db, "ta_q_legacy_new", 1, SQLITE_UTF8, &p, new_fn, NULL,
                                NULL) != SQLITE_OK) {
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
        return -1;
    }
    rc = ta__q_fold_run(db, o, sql, &p.err);
    sqlite3_create_function(db, "ta_q_legacy_fold", F_N, SQLITE_UTF8, NULL, NULL, NULL, NULL);
    sqlite3_create_function(db, "ta_q_legacy_new", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL);
    if (rc == SQLITE_DONE) {
        *out = p.cl;
        return (long)p.n;
    }
    for (size_t i = 0; i < p.n; i++)
        client_free(&p.cl[i]);
    free(p.cl);
    return p.err == SQLITE_MISUSE ? -2 : -1;
}

long ta__q_legacy(sqlite3 *db, const struct ta_qopts *o)
{
    struct lclient *cl = NULL;
    sqlite3_stmt *max_stmt = NULL;
    bool narrow = o->fmt == TA_OUT_TABLE && !o->wide;
    long n = ta__q_legacy_one_pass(o) ? collect_folded(db, o, &cl) : -2;
    bool offers = n >= 0;   /* collect_folded found each client's highest offer */
    if (n == -2)
        n = collect(db, o, &cl, narrow);
    long rc = n;
    if (n < 0)
        return -1;
    /* with --sensor, what that sensor saw the client offer */
    static const char *const max_sql[2][2] = {
        { "SELECT max(client_max_version) FROM handshakes WHERE client_ip = ?1",
          "SELECT max(client_max_version) FROM handshakes WHERE client_ip = ?1"
          " AND run_id IN (SELECT id FROM runs WHERE sensor = ?2)" },
        /* the narrow index (schema 010; 011 puts client_max_version second: one seek) rather
         * than another that starts with client_ip (inventory_key, up to schema 011) */
        { "SELECT max(client_max_version) FROM inventory INDEXED BY inventory_clients"
          " WHERE client_ip = ?1",
          "SELECT max(client_max_version) FROM inventory WHERE client_ip = ?1 AND sensor = ?2" },
    };
    if (sqlite3_prepare_v2(db, max_sql[o->src == TA_QSRC_INV][o->sensor != NULL], -1, &max_stmt,
                           NULL) != SQLITE_OK) {
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
        rc = -1;
    }
    if (max_stmt && o->sensor)
        sqlite3_bind_text(max_stmt, 2, o->sensor, -1, SQLITE_STATIC);
    /* the highest offers in client order (the order of collect): neighbouring lookups share
     * the index pages they read, which the order of the table does not */
    for (long i = 0; max_stmt && !offers && i < n; i++) {
        sqlite3_bind_text(max_stmt, 1, cl[i].ip, -1, SQLITE_STATIC);
        if (sqlite3_step(max_stmt) == SQLITE_ROW)
            ta__q_version(max_stmt, 0, cl[i].maxv, sizeof cl[i].maxv);
        sqlite3_reset(max_stmt);
    }
    /* the print order sorted by key, not the clients themselves (hundreds of bytes each) */
    struct lorder *by = n > 0 ? malloc((size_t)n * sizeof *by) : NULL;
    if (n > 0 && !by && rc >= 0) {
        fprintf(o->err, "tlsaudit query: out of memory\n");
        rc = -1;
    }
    for (long i = 0; by && i < n; i++) {
        by[i].last_us = cl[i].last_us;
        by[i].c = &cl[i];
    }
    if (by && n > 1)
        qsort(by, (size_t)n, sizeof *by, cmp_order);
    struct ta_out *out = rc < 0 ? NULL
                       : narrow ? ta_out_new(o->out, o->fmt, narrow_cols, TA_ARRAY_LEN(narrow_cols))
                       : ta_out_new(o->out, o->fmt, legacy_cols, TA_ARRAY_LEN(legacy_cols));
    for (long i = 0; out && by && i < n; i++)
        if (print_client(out, by[i].c, narrow) != 0) {
            fprintf(o->err, "tlsaudit query: out of memory\n");
            rc = -1;
            break;
        }
    if (rc >= 0 && !out) {
        fprintf(o->err, "tlsaudit query: out of memory\n");
        rc = -1;
    }
    ta_out_end(out);
    sqlite3_finalize(max_stmt);
    free(by);
    for (long i = 0; i < n; i++)
        client_free(&cl[i]);
    free(cl);
    return rc;
}
