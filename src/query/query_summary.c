/* query_summary.c - the summary report: handshakes and distinct clients by negotiated version
 * (Office 365 destinations, then the rest), by application, by transport (TCP or QUIC), and the
 * share of legacy handshakes.
 *
 * CSV/JSON get flat rows (section, key, handshakes, clients, percent); the table form prints one
 * small titled table per section for a person to read. percent is the share of the section's
 * handshakes (legacy: of the group's handshakes), with one decimal. */
#include <stdlib.h>
#include <string.h>

#include "query_clients.h"
#include "query_int.h"
#include "tlsaudit/common.h"

struct srow {
    char section[16];
    char key[96];
    long hs, clients;
    long total;            /* denominator of percent */
};

struct sum {
    struct srow *r;
    size_t n, cap;
};

static int add_row(struct sum *sm, const char *section, const char *key, long hs, long clients)
{
    if (sm->n == sm->cap) {
        size_t cap = sm->cap ? sm->cap * 2 : 32;
        struct srow *t = realloc(sm->r, cap * sizeof *t);
        if (!t)
            return -1;
        sm->r = t;
        sm->cap = cap;
    }
    struct srow *r = &sm->r[sm->n++];
    snprintf(r->section, sizeof r->section, "%s", section);
    snprintf(r->key, sizeof r->key, "%s", key);
    r->hs = hs;
    r->clients = clients;
    r->total = 0;
    return 0;
}

/* Set total of every row of section to the sum of their handshakes. */
static void section_totals(struct sum *sm, const char *section)
{
    long t = 0;
    for (size_t i = 0; i < sm->n; i++)
        if (strcmp(sm->r[i].section, section) == 0)
            t += sm->r[i].hs;
    for (size_t i = 0; i < sm->n; i++)
        if (strcmp(sm->r[i].section, section) == 0)
            sm->r[i].total = t;
}

/* Run a grouped count: columns (group, key, handshakes, clients); the key is a version label
 * (versions: section by the group, Office 365 or not) or the text of the column (section
 * `section`). Returns 0 or -1. */
static int grouped(sqlite3 *db, const struct ta_qopts *o, struct sum *sm, const char *sql,
                   int versions, const char *section_name)
{
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    int rc;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char key[96];
        const char *section;
        if (versions) {
            section = sqlite3_column_int(s, 0) == 1 ? "o365_version" : "other_version";
            ta__q_version(s, 1, key, sizeof key);
            if (!key[0])
                snprintf(key, sizeof key, "none");
        } else {
            section = section_name;
            snprintf(key, sizeof key, "%s", ta__q_text(s, 1) ? ta__q_text(s, 1) : "");
        }
        if (add_row(sm, section, key, (long)sqlite3_column_int64(s, 2),
                    (long)sqlite3_column_int64(s, 3))) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Where the figures come from: the same three queries over the rows (one per handshake), the
 * inventory and daily_clients (a handshakes count per row, distinct clients exact) or
 * daily_rollups (clients per row, summed). Version 0 there is NULL in the rows. */
struct qsrc {
    const char *table, *hs, *clients, *legacy, *version, *version_none;
    enum ta_qkind kind;
};

static const struct qsrc sources[] = {
    [TA_QSRC_ROWS] = { "handshakes", "count(*)", "count(DISTINCT h.client_ip)", TA_Q_LEGACY_SQL,
                       "h.version", "h.version IS NULL", TA_Q_HS },
    [TA_QSRC_INV] = { "inventory", "sum(h.handshakes)", "count(DISTINCT h.client_ip)",
                      "h.legacy = 1", "NULLIF(h.version, 0)", "h.version = 0", TA_Q_INV },
    [TA_QSRC_DAYS] = { "daily_clients", "sum(h.handshakes)", "count(DISTINCT h.client_ip)",
                       "h.legacy = 1", "NULLIF(h.version, 0)", "h.version = 0", TA_Q_DAY },
    [TA_QSRC_ROLLUPS] = { "daily_rollups", "sum(h.handshakes)", "sum(h.clients)",
                          "h.legacy = 1", "NULLIF(h.version, 0)", "h.version = 0", TA_Q_DAY },
};

/* Legacy counts for one group: which = "h.o365 = 1", "h.o365 = 0" or "1". Adds the row with
 * total = all handshakes of the group. Returns the legacy handshake count or -1. */
static long legacy_group(sqlite3 *db, const struct ta_qopts *o, struct sum *sm, const char *key,
                         const char *which)
{
    const struct qsrc *q = &sources[o->src];
    char sql[2048];
    long v[4] = { 0, 0, 0, 0 };
    snprintf(sql, sizeof sql, "SELECT COALESCE(%s FILTER (WHERE %s), 0),"
             " COALESCE(%s FILTER (WHERE %s), 0), COALESCE(%s, 0)"
             " FROM %s h WHERE %s", q->hs, q->legacy, q->clients, q->legacy, q->hs, q->table,
             which);
    ta__q_where(o, q->kind, sql, sizeof sql);
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        for (int i = 0; i < 3; i++)
            v[i] = (long)sqlite3_column_int64(s, i);
    else
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW || add_row(sm, "legacy", key, v[0], v[1]))
        return -1;
    sm->r[sm->n - 1].total = v[2];
    return v[0];
}

/* Legacy counts of one group: handshakes from the rollups, clients (the pass's count) given. */
static long legacy_group_fast(sqlite3 *db, const struct ta_qopts *o, struct sum *sm,
                              const char *key, const char *which, long clients)
{
    char sql[2048], w[512] = "";
    long v[2] = { 0, 0 };
    ta__q_where(o, TA_Q_ROLL, w, sizeof w);
    snprintf(sql, sizeof sql, "SELECT COALESCE(sum(h.handshakes) FILTER (WHERE h.legacy = 1), 0),"
             " COALESCE(sum(h.handshakes), 0) FROM daily_rollups h WHERE %s%s", which, w);
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        for (int i = 0; i < 2; i++)
            v[i] = (long)sqlite3_column_int64(s, i);
    else
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW || add_row(sm, "legacy", key, v[0], clients))
        return -1;
    sm->r[sm->n - 1].total = v[1];
    return v[0];
}

/* The transport section (tcp, quic): from the rows or the inventory, which both have the column.
 * The daily tables have none, so a summary bounded by --since/--until has no transport section,
 * whichever table answers it, rather than one counted from whatever rows retention left (man
 * page, WHERE REPORTS READ). */
static int transport_section(sqlite3 *db, const struct ta_qopts *o, struct sum *sm,
                             const struct qsrc *q)
{
    char sql[2048];
    if (o->has_since || o->has_until)
        return 0;
    snprintf(sql, sizeof sql, "SELECT 0, h.transport, %s, %s FROM %s h WHERE 1", q->hs,
             q->clients, q->table);
    ta__q_where(o, q->kind, sql, sizeof sql);
    ta__q_cat(sql, sizeof sql, " GROUP BY h.transport ORDER BY 3 DESC, 2");
    return grouped(db, o, sm, sql, 0, "transport");
}

/* Rows of a rollups query (o365 = 1 or 0, version, handshakes) (versions: section by the
 * group) or (text, handshakes) (section `section`), with the clients the pass counted for the
 * key. Returns 0 or -1. */
static int fast_rows(sqlite3 *db, const struct ta_qopts *o, struct sum *sm, const char *sql,
                     const struct ta__q_clients *c, const char *section)
{
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    int rc;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char key[96];
        const struct ta__q_ckey *k;
        int hcol = section ? 1 : 2;
        if (!section) {
            ta__q_version(s, 1, key, sizeof key);
            if (!key[0])
                snprintf(key, sizeof key, "none");
            k = ta__q_clients_ver(c, sqlite3_column_int(s, 0), sqlite3_column_int64(s, 1));
        } else {
            const char *t = ta__q_text(s, 0) ? ta__q_text(s, 0) : "";
            snprintf(key, sizeof key, "%s", t);
            k = ta__q_clients_text(&c->app, t);
        }
        if (add_row(sm, section ? section : sqlite3_column_int(s, 0) == 1 ? "o365_version"
                                                                            : "other_version",
                    key, (long)sqlite3_column_int64(s, hcol), k ? k->clients : 0)) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Order of the transport section: most handshakes first, then by name (bytes, as SQLite). */
static int cmp_transport(const void *a, const void *b)
{
    const struct srow *x = a, *y = b;
    if (x->hs != y->hs)
        return x->hs > y->hs ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The transport section from the pass: distinct clients counted, handshakes as
 * ta__q_clients_transport_hs says, total the rollups' handshakes under the same filters. */
static int transport_fast(sqlite3 *db, const struct ta_qopts *o, struct sum *sm,
                          const struct ta__q_clients *c)
{
    char sql[1024], w[512] = "";
    long total = 0, *hs;
    int rc = -1;
    if (o->has_since || o->has_until || c->tr.n == 0)
        return 0;
    ta__q_where(o, TA_Q_ROLL, w, sizeof w);
    snprintf(sql, sizeof sql, "SELECT COALESCE(sum(h.handshakes), 0) FROM daily_rollups h"
             " WHERE 1%s", w);
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    if (sqlite3_step(s) == SQLITE_ROW) {
        total = (long)sqlite3_column_int64(s, 0);
    } else {
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_finalize(s);
    if (!(hs = calloc(c->tr.n, sizeof *hs))) {
        fprintf(o->err, "tlsaudit query: out of memory\n");
        return -1;
    }
    if (ta__q_clients_transport_hs(db, o, c, total, hs) == 0) {
        size_t first = sm->n;
        rc = 0;
        for (size_t i = 0; rc == 0 && i < c->tr.n; i++)
            rc = add_row(sm, "transport", c->tr.k[i].text, hs[i], c->tr.k[i].clients);
        if (rc == 0)
            qsort(sm->r + first, sm->n - first, sizeof *sm->r, cmp_transport);
    }
    free(hs);
    return rc;
}

/* Without filters on clients, servers, SNI or versions: handshakes from the daily rollups (a few
 * rows a day) and the distinct clients of every section from one pass over the inventory's
 * client-ordered index (query_clients.c), instead of reading every inventory row. Both hold
 * the same keys. Returns the legacy handshakes, -1 (error printed), or -2 when the pass could
 * not count (gather then runs the general queries). */
static long gather_fast(sqlite3 *db, const struct ta_qopts *o, struct sum *sm)
{
    char sql[2048], w[512] = "";
    struct ta__q_clients c;
    long legacy = -1;
    int rc = ta__q_clients_count(db, o, &c);
    if (rc != 0) {
        legacy = rc > 0 ? -2 : -1;
        goto out;
    }
    ta__q_where(o, TA_Q_ROLL, w, sizeof w);
    snprintf(sql, sizeof sql, "SELECT h.o365 = 1, h.version, sum(h.handshakes) FROM daily_rollups"
             " h WHERE 1%s GROUP BY 1, 2 ORDER BY 1 DESC, h.version = 0, h.version DESC", w);
    if (fast_rows(db, o, sm, sql, &c, NULL) != 0)
        goto out;
    snprintf(sql, sizeof sql, "SELECT h.app, sum(h.handshakes) FROM daily_rollups h WHERE 1%s"
             " GROUP BY 1 ORDER BY 2 DESC, 1", w);
    if (fast_rows(db, o, sm, sql, &c, "app") != 0 || transport_fast(db, o, sm, &c) != 0)
        goto out;
    section_totals(sm, "o365_version");
    section_totals(sm, "other_version");
    section_totals(sm, "app");
    section_totals(sm, "transport");
    if (legacy_group_fast(db, o, sm, "o365", "h.o365 = 1", c.legacy[0]) < 0 ||
        legacy_group_fast(db, o, sm, "other", "h.o365 = 0", c.legacy[1]) < 0)
        goto out;
    legacy = legacy_group_fast(db, o, sm, "all", "1", c.legacy[2]);
out:
    ta__q_clients_free(&c);
    return legacy;
}

/* Gather every section. Returns the number of legacy handshakes, or -1. */
static long gather(sqlite3 *db, const struct ta_qopts *o, struct sum *sm)
{
    const struct qsrc *q = &sources[o->src];
    char sql[2048];
    if (ta__q_summary_one_pass(o)) {
        long fast = gather_fast(db, o, sm);
        if (fast != -2)
            return fast;
    }
    snprintf(sql, sizeof sql, "SELECT h.o365 = 1, %s, %s, %s FROM %s h WHERE 1", q->version,
             q->hs, q->clients, q->table);
    ta__q_where(o, q->kind, sql, sizeof sql);
    snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " GROUP BY h.o365 = 1, h.version"
             " ORDER BY 1 DESC, %s, h.version DESC", q->version_none);
    if (grouped(db, o, sm, sql, 1, NULL) != 0)
        return -1;
    snprintf(sql, sizeof sql, "SELECT 0, h.app, %s, %s FROM %s h WHERE 1", q->hs, q->clients,
             q->table);
    ta__q_where(o, q->kind, sql, sizeof sql);
    ta__q_cat(sql, sizeof sql, " GROUP BY h.app ORDER BY 3 DESC, 2");
    if (grouped(db, o, sm, sql, 0, "app") != 0)
        return -1;
    if (transport_section(db, o, sm, q))
        return -1;
    section_totals(sm, "o365_version");
    section_totals(sm, "other_version");
    section_totals(sm, "app");
    section_totals(sm, "transport");
    if (legacy_group(db, o, sm, "o365", "h.o365 = 1") < 0 ||
        legacy_group(db, o, sm, "other", "h.o365 = 0") < 0)
        return -1;
    return legacy_group(db, o, sm, "all", "1");
}

static const struct ta_out_col flat_cols[] = {
    { "section", false }, { "key", false }, { "handshakes", true }, { "clients", true },
    { "percent", true },
};

/* One row's cells: key, handshakes, clients, percent (with '%' in tables). */
static void cells_of(const struct srow *r, char b[3][32], bool pct_sign)
{
    snprintf(b[0], 32, "%ld", r->hs);
    snprintf(b[1], 32, "%ld", r->clients);
    snprintf(b[2], 32, "%.1f%s", r->total ? 100.0 * (double)r->hs / (double)r->total : 0.0,
             pct_sign ? "%" : "");
}

/* Table form: a titled table per section. */
static void print_tables(const struct ta_qopts *o, const struct sum *sm)
{
    static const struct { const char *section, *title, *key; } sec[] = {
        { "o365_version", "Office 365 handshakes by negotiated version", "version" },
        { "other_version", "Other handshakes by negotiated version", "version" },
        { "app", "Handshakes by application", "app" },
        { "transport", "Handshakes by transport (tcp, or quic: TLS inside QUIC over UDP)",
          "transport" },
        { "legacy", "Legacy handshakes (SSL 2.0 to TLS 1.1 negotiated, or refused or "
                    "unanswered with nothing newer offered)", "group" },
    };
    for (size_t k = 0; k < TA_ARRAY_LEN(sec); k++) {
        const struct ta_out_col cols[] = { { sec[k].key, false }, { "handshakes", true },
                                           { "clients", true }, { "share", true } };
        size_t shown = 0;
        fprintf(o->out, "%s%s\n", k ? "\n" : "", sec[k].title);
        for (size_t i = 0; i < sm->n; i++)
            shown += strcmp(sm->r[i].section, sec[k].section) == 0;
        if (!shown) {
            fprintf(o->out, "(no handshakes)\n");
            continue;
        }
        struct ta_out *out = ta_out_new(o->out, TA_OUT_TABLE, cols, 4);
        for (size_t i = 0; out && i < sm->n; i++) {
            const struct srow *r = &sm->r[i];
            char b[3][32];
            if (strcmp(r->section, sec[k].section) != 0)
                continue;
            cells_of(r, b, true);
            const char *c[] = { r->key, b[0], b[1], b[2] };
            ta_out_row(out, c);
        }
        ta_out_end(out);
    }
}

long ta__q_summary(sqlite3 *db, const struct ta_qopts *o)
{
    struct sum sm = { 0 };
    long legacy = gather(db, o, &sm);
    if (legacy >= 0) {
        if (o->fmt == TA_OUT_TABLE) {
            print_tables(o, &sm);
        } else {
            struct ta_out *out = ta_out_new(o->out, o->fmt, flat_cols, 5);
            for (size_t i = 0; out && i < sm.n; i++) {
                char b[3][32];
                cells_of(&sm.r[i], b, false);
                const char *c[] = { sm.r[i].section, sm.r[i].key, b[0], b[1], b[2] };
                ta_out_row(out, c);
            }
            ta_out_end(out);
        }
    }
    free(sm.r);
    return legacy;
}
