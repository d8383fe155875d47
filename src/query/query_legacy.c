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

/* The same columns from the handshakes rows (the scan) and from the inventory. */
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
    " FROM inventory h WHERE h.legacy = 1";
/* The same for the default table (fold_row narrow): NULL for the columns it does not show. */
static const char INV_NARROW_SQL[] =
    "SELECT h.client_ip, h.last_seen_us, h.last_seen, NULLIF(h.version, 0),"
    " NULLIF(h.client_max_version, 0), NULL, COALESCE(NULLIF(h.sni, ''), h.server_ip),"
    " h.o365_service, h.established, NULL, NULL, NULL, NULL, NULL, h.handshakes,"
    " h.first_seen_us, NULL, NULL FROM inventory h WHERE h.legacy = 1";

/* Fold one legacy handshake (or inventory) row into client c. narrow: only what the default
 * table shows (versions, destinations, counts, last seen): the sets of the other columns stay
 * empty. Returns 0 or -1 (out of memory). */
static int fold_row(struct lclient *c, sqlite3_stmt *s, bool narrow)
{
    char dest[600];
    int col = sqlite3_column_type(s, L_VERSION) != SQLITE_NULL ? L_VERSION : L_MAX;
    uint16_t v = (uint16_t)sqlite3_column_int(s, col);
    size_t i;
    for (i = 0; i < c->nversions && c->versions[i] != v; i++)
        ;
    if (i == c->nversions && i < MAX_VERSIONS)
        c->versions[c->nversions++] = v;
    const char *service = ta__q_text(s, L_SERVICE);
    const char *d = ta__q_text(s, L_DEST) ? ta__q_text(s, L_DEST) : "";
    if (service && *service)
        snprintf(dest, sizeof dest, "%s (%s)", d, service);
    else
        snprintf(dest, sizeof dest, "%s", d);
    const char *cipher = NULL;
    if (narrow)
        ;
    else if (sqlite3_column_type(s, L_CIPHER) != SQLITE_NULL)
        cipher = ta_cipher_name((uint16_t)sqlite3_column_int(s, L_CIPHER));
    else if (sqlite3_column_type(s, L_CIPHER_V2) != SQLITE_NULL)
        cipher = ta_cipher_v2_name((uint32_t)sqlite3_column_int64(s, L_CIPHER_V2));
    if (ta_strset_add(&c->dests, dest))
        return -1;
    if (!narrow && (ta_strset_add(&c->apps, ta__q_text(s, L_APP)) ||
                    ta_strset_add(&c->reasons, ta__q_text(s, L_REASON)) ||
                    ta_strset_add(&c->ja3, ta__q_text(s, L_JA3)) ||
                    ta_strset_add(&c->ja4, ta__q_text(s, L_JA4)) ||
                    ta_strset_add(&c->ciphers, cipher) ||
                    ta_strset_add(&c->sensors, ta__q_text(s, L_SENSOR))))
        return -1;
    long hs = sqlite3_column_int(s, L_HS);
    long long first_us = sqlite3_column_int64(s, L_FIRST_US);
    long long last_us = sqlite3_column_int64(s, L_TS_US);
    const char *first = ta__q_text(s, L_FIRST_TS), *last = ta__q_text(s, L_TS);
    /* ties keep the earlier row's first and take the later row's last, as rows in time order */
    if (c->handshakes == 0 || first_us < c->first_us) {
        snprintf(c->first_ts, sizeof c->first_ts, "%s", first ? first : "");
        c->first_us = first_us;
    }
    if (c->handshakes == 0 || last_us >= c->last_us) {
        snprintf(c->last_ts, sizeof c->last_ts, "%s", last ? last : "");
        c->last_us = last_us;
    }
    c->handshakes += hs;
    c->refused += hs - sqlite3_column_int(s, L_ESTABLISHED);
    return 0;
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Most recent first; ties by address text. */
static int cmp_client(const void *a, const void *b)
{
    const struct lclient *x = a, *y = b;
    if (x->last_us != y->last_us)
        return x->last_us > y->last_us ? -1 : 1;
    return strcmp(x->ip, y->ip);
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

/* Print one client. max_stmt gives the highest version it ever offered (all its handshakes,
 * every destination and time: it tells whether the client could do better). */
static int print_client(struct ta_out *out, struct lclient *c, sqlite3_stmt *max_stmt,
                        bool narrow)
{
    char versions[MAX_VERSIONS * 24] = "", maxv[48] = "", nh[24], nr[24];
    size_t off = 0;
    if (c->nversions > 1)
        qsort(c->versions, c->nversions, sizeof c->versions[0], cmp_u16);
    for (size_t i = 0; i < c->nversions; i++) {
        char lab[48];
        ta_version_label(c->versions[i], lab, sizeof lab);
        off += (size_t)snprintf(versions + off, sizeof versions - off, "%s%s", i ? " " : "",
                                lab);
    }
    sqlite3_bind_text(max_stmt, 1, c->ip, -1, SQLITE_STATIC);
    if (sqlite3_step(max_stmt) == SQLITE_ROW)
        ta__q_version(max_stmt, 0, maxv, sizeof maxv);
    sqlite3_reset(max_stmt);
    snprintf(nh, sizeof nh, "%ld", c->handshakes);
    snprintf(nr, sizeof nr, "%ld", c->refused);
    char *apps = ta_strset_join(&c->apps, " "), *dests = ta_strset_join(&c->dests, ", ");
    char *reasons = ta_strset_join(&c->reasons, "; "), *ja3 = ta_strset_join(&c->ja3, " ");
    char *ja4 = ta_strset_join(&c->ja4, " "), *ciphers = ta_strset_join(&c->ciphers, " ");
    char *sensors = ta_strset_join(&c->sensors, " ");
    const char *cells[] = { c->ip, versions, maxv, apps, dests, nh, nr, c->first_ts,
                            c->last_ts, reasons, ja3, ja4, ciphers, sensors };
    const char *ncells[TA_ARRAY_LEN(narrow_from)];
    char minute[24], ndest[NARROW_DEST + 32] = "";
    /* set_join sorted the members: the first destination, then how many others */
    if (c->dests.n > 0) {
        size_t len = strlen(c->dests.v[0]);
        snprintf(ndest, sizeof ndest, "%.*s%s", NARROW_DEST - 1, c->dests.v[0],
                 len > NARROW_DEST - 1 ? "\xe2\x80\xa6" : "");
        if (c->dests.n > 1)
            snprintf(ndest + strlen(ndest), sizeof ndest - strlen(ndest), " +%zu",
                     c->dests.n - 1);
    }
    /* "2026-11-23T10:25:05.188488Z" -> "2026-11-23 10:25" */
    snprintf(minute, sizeof minute, "%.16s", c->last_ts);
    if (minute[10] == 'T')
        minute[10] = ' ';
    for (size_t i = 0; i < TA_ARRAY_LEN(narrow_from); i++)
        ncells[i] = narrow_from[i] == 8 ? minute : narrow_from[i] == 4 ? ndest
                  : cells[narrow_from[i]];
    int rc = apps && dests && reasons && ja3 && ja4 && ciphers && sensors
           ? ta_out_row(out, narrow ? ncells : cells) : -1;
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
        fprintf(o->err, "tlsaudit query: %s: %s\n", o->db,
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

long ta__q_legacy(sqlite3 *db, const struct ta_qopts *o)
{
    struct lclient *cl = NULL;
    sqlite3_stmt *max_stmt = NULL;
    bool narrow = o->fmt == TA_OUT_TABLE && !o->wide;
    long n = collect(db, o, &cl, narrow), rc = n;
    if (n < 0)
        return -1;
    /* with --sensor, what that sensor saw the client offer */
    static const char *const max_sql[2][2] = {
        { "SELECT max(client_max_version) FROM handshakes WHERE client_ip = ?1",
          "SELECT max(client_max_version) FROM handshakes WHERE client_ip = ?1"
          " AND run_id IN (SELECT id FROM runs WHERE sensor = ?2)" },
        /* the narrow index (schema 010) rather than inventory_key, whose wide entries SQLite
         * would otherwise pick */
        { "SELECT max(client_max_version) FROM inventory INDEXED BY inventory_clients"
          " WHERE client_ip = ?1",
          "SELECT max(client_max_version) FROM inventory WHERE client_ip = ?1 AND sensor = ?2" },
    };
    if (sqlite3_prepare_v2(db, max_sql[o->src == TA_QSRC_INV][o->sensor != NULL], -1, &max_stmt,
                           NULL) != SQLITE_OK) {
        fprintf(o->err, "tlsaudit query: %s: %s\n", o->db, sqlite3_errmsg(db));
        rc = -1;
    }
    if (max_stmt && o->sensor)
        sqlite3_bind_text(max_stmt, 2, o->sensor, -1, SQLITE_STATIC);
    if (n > 1)
        qsort(cl, (size_t)n, sizeof *cl, cmp_client);
    struct ta_out *out = rc < 0 ? NULL
                       : narrow ? ta_out_new(o->out, o->fmt, narrow_cols, TA_ARRAY_LEN(narrow_cols))
                       : ta_out_new(o->out, o->fmt, legacy_cols, TA_ARRAY_LEN(legacy_cols));
    for (long i = 0; out && i < n; i++)
        if (print_client(out, &cl[i], max_stmt, narrow) != 0) {
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
    for (long i = 0; i < n; i++)
        client_free(&cl[i]);
    free(cl);
    return rc;
}
