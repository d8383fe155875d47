/* central_view.c - the central store as the reports read it: `query` and `report` with
 * --db postgresql://... run their own SQL, unchanged, over a private SQLite file with the
 * sensor schema that this file fills from PostgreSQL with the slice the question needs.
 *
 * Why a copy and not the same SQL on PostgreSQL: the reports' SQL and its formatting are one
 * code path, so the central answer is byte-identical to the sensor file's by construction, and a
 * change to a report cannot forget its central twin. What makes it cheap is what the reports
 * read: the inventory and the daily tables grow with clients and days, never with traffic; rows
 * (handshakes, mail sessions, DNS answers) are fetched only for the window, client or runs the
 * question names (ta_central_view_rows), with the day partitions pruned by PostgreSQL. And of
 * the rest only what the question reads (the caller says which: TA_VIEW_* in central.h): `query
 * legacy` takes only the legacy part of the inventory, sessions no inventory at all, a report
 * only the daily rows of its period (ta_central_view_days, once the report knows it).
 *
 * The load is a bulk load: rows come through a cursor a few thousand at a time, an empty
 * table's plain indexes are built after it rather than kept up to date row by row, and the
 * copy has a page cache large enough for the b-trees written in key order they do not come in
 * (bench/sync.sh measures it; bench/RESULTS.md, "Central store").
 *
 * Rows keep their local ids when one sensor is read; with N sensors an id becomes
 * id * N + (the sensor's place in name order), as do run_id and handshake_id, so rows of
 * different sensors never collide and a sensor's rows keep their order. The SQLite `sensor`
 * column gets the name the sensor is synced under. Keys that meet (a sensor database that wrote
 * under two names) are merged: counts summed, first seen the earliest, last seen the latest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "central_int.h"
#include "tlsaudit/store.h"

#define VIEW_COLS 96
#define VIEW_SENSORS 256
#define VIEW_SQL 8192
#define VIEW_TABLES 10    /* the tables a view copies (T_DETAIL counts apart) */
#define VIEW_IDX 16       /* plain indexes of one table */
#define VIEW_FETCH 4096   /* rows per FETCH */
#define VIEW_CACHE_KIB "65536"   /* the copy's SQLite page cache */

struct view_cols;
struct ta_central_view {
    struct ta_central *c;
    struct view_cols *cols[VIEW_TABLES];   /* view_cols of each table, made at its first copy */
    const void *cols_of[VIEW_TABLES];
    bool prepared[VIEW_TABLES];            /* view_copy_client's statement of cols_of[i] */
    sqlite3 *db;
    char dir[160], path[192];
    int lockfd;                            /* flock on dir while we read through it (view_dir.c) */
    char sensors[VIEW_SENSORS][128];
    int nsensors;
    /* the names as a text[] literal, for $1: every byte of a name may need its backslash */
    char array[VIEW_SENSORS * (2 * 128 + 3) + 2];
};

/* Merge clauses of the tables whose keys can meet (see the top of the file). */
static const char INV_MERGE[] =
    " ON CONFLICT DO UPDATE SET handshakes = handshakes + excluded.handshakes,"
    " established = established + excluded.established, refused = refused + excluded.refused,"
    " first_seen = CASE WHEN excluded.first_seen_us < first_seen_us THEN excluded.first_seen"
    " ELSE first_seen END, first_seen_us = min(first_seen_us, excluded.first_seen_us),"
    " last_seen = CASE WHEN excluded.last_seen_us > last_seen_us THEN excluded.last_seen"
    " ELSE last_seen END, last_seen_us = max(last_seen_us, excluded.last_seen_us),"
    " pruned_handshakes = pruned_handshakes + excluded.pruned_handshakes,"
    " pruned_established = pruned_established + excluded.pruned_established,"
    " pruned_refused = pruned_refused + excluded.pruned_refused,"
    " pruned_first_seen = CASE WHEN excluded.pruned_first_seen_us <> 0 AND (pruned_first_seen_us"
    " = 0 OR excluded.pruned_first_seen_us < pruned_first_seen_us) THEN excluded.pruned_first_seen"
    " ELSE pruned_first_seen END, pruned_first_seen_us = CASE WHEN excluded.pruned_first_seen_us"
    " <> 0 AND (pruned_first_seen_us = 0 OR excluded.pruned_first_seen_us < pruned_first_seen_us)"
    " THEN excluded.pruned_first_seen_us ELSE pruned_first_seen_us END,"
    " pruned_last_seen = CASE WHEN excluded.pruned_last_seen_us > pruned_last_seen_us THEN"
    " excluded.pruned_last_seen ELSE pruned_last_seen END,"
    " pruned_last_seen_us = max(pruned_last_seen_us, excluded.pruned_last_seen_us),"
    " updated_us = max(updated_us, excluded.updated_us)";
static const char ROLL_MERGE[] =
    " ON CONFLICT DO UPDATE SET handshakes = handshakes + excluded.handshakes,"
    " established = established + excluded.established, refused = refused + excluded.refused,"
    " clients = clients + excluded.clients,"
    " pruned_handshakes = pruned_handshakes + excluded.pruned_handshakes,"
    " updated_us = max(updated_us, excluded.updated_us)";
static const char CLIENT_MERGE[] =
    " ON CONFLICT DO UPDATE SET handshakes = handshakes + excluded.handshakes";

/* The unique key the inventory merge above needs (the sensor schema's inventory_key up to
 * schema 011, dropped by 012): made on the private copy only, before its inventory is loaded. */
#define VIEW_INV_KEY                                                                           \
    "CREATE UNIQUE INDEX view_inventory_key ON inventory(client_ip, server_ip, server_port, "   \
    "transport, app, sni, version, cipher_id, cipher_v2, client_max_version, ja3, ja4, o365, " \
    "o365_service, o365_reason, sensor)"

/* What `query legacy` reads of the inventory (query_legacy.c): its legacy rows, and for each
 * client that has one, max(client_max_version) over all the client's rows; so the legacy rows
 * and, of the other rows of those clients, the ones that hold that maximum. Every row of a key
 * is legacy or none is (legacy is a function of version and client_max_version, both in the
 * key), so rows that merge are all copied or all left out, and a merge never changes
 * client_max_version: the copy answers exactly as the whole inventory would. */
static const char INV_LEGACY[] =
    " AND (x.legacy = 1 OR (x.client_ip, x.client_max_version) IN (SELECT i.client_ip,"
    " max(i.client_max_version) FROM tlsaudit.inventory i WHERE i.sensor = ANY($1::text[])"
    " GROUP BY i.client_ip HAVING max(i.legacy) = 1))";

/* The tables a view copies, the SQLite columns whose values are ids of this sensor's rows, and
 * what a key collision does. */
struct view_table {
    const char *name;
    bool has_sensor;      /* the central table has local_sensor (the SQLite sensor column) */
    const char *merge;    /* clause for key collisions; NULL: rows never collide */
    const char *const *only;   /* copy only these columns (NULL: every one) */
};

static const struct view_table T_RUNS = { "runs", true, NULL, NULL };
static const struct view_table T_INV = { "inventory", true, INV_MERGE, NULL };
static const struct view_table T_ROLL = { "daily_rollups", true, ROLL_MERGE, NULL };
static const struct view_table T_CLIENTS = { "daily_clients", true, CLIENT_MERGE, NULL };
static const struct view_table T_META = { "store_meta", false, NULL, NULL };
static const struct view_table T_SETS = { "endpoint_sets", false, NULL, NULL };
static const struct view_table T_ROWS[] = {
    { "handshakes", false, NULL, NULL },
    { "mail_sessions", false, NULL, NULL },
    { "dns_answers", false, NULL, NULL },
};
/* A client's handshakes for the report's client details: the columns its two queries read
 * (report_data.c, sq_client_days and sq_client_recent: the day and time, the legacy test, the
 * destination, the outcome, the run for --sensor) and those SQLite requires (NOT NULL without
 * a default); the other 54 stay NULL. A row already in the copy whole (a run mark) is kept
 * whole. Measured over 1.7 M handshakes of one sensor: the 250 detailed clients' rows were most
 * of what a report copied. */
static const char *const DETAIL_COLS[] = {
    "id", "run_id", "ts", "ts_us", "client_ip", "client_port", "server_ip", "server_port",
    "ipver", "transport", "sni", "app", "established", "cipher_id", "version",
    "client_max_version", NULL,
};
static const struct view_table T_DETAIL = { "handshakes", false, NULL, DETAIL_COLS };

static bool is_id_col(const char *c)
{
    return strcmp(c, "id") == 0 || strcmp(c, "run_id") == 0 || strcmp(c, "handshake_id") == 0;
}

/* Append text to a bounded buffer; false when it does not fit. */
static bool cat(char *buf, size_t cap, const char *a, const char *b, const char *c)
{
    size_t n = strlen(buf);
    int k = snprintf(buf + n, cap - n, "%s%s%s", a, b ? b : "", c ? c : "");
    return k >= 0 && (size_t)k < cap - n;
}

static int sq_fail(struct ta_central_view *v, const char *what, char *errbuf)
{
    snprintf(errbuf, TA_ERRBUF_SIZE, "central view: %s: %s", what, sqlite3_errmsg(v->db));
    return TA_ERR_IO;
}

/* The sensors to read (one, or every one in name order), and their text[] literal. */
static int load_sensors(struct ta_central_view *v, const char *sensor, char *errbuf)
{
    PGresult *r = NULL;
    const char *vals[1] = { sensor };
    if (ta__pg_params(v->c, "SELECT sensor FROM tlsaudit.sensors WHERE $1::text IS NULL OR "
                            "sensor = $1 ORDER BY sensor", 1, vals, "reading the sensors", &r,
                      errbuf) != TA_OK)
        return TA_ERR_IO;
    int n = PQntuples(r);
    if (n == 0 || n > VIEW_SENSORS) {
        if (n == 0 && sensor)
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: no sensor named '%s' has synced there",
                     v->c->target, sensor);
        else if (n == 0)
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: no sensor has synced there yet", v->c->target);
        else
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %d sensors; a report reads at most %d (name "
                     "one with --sensor)", v->c->target, n, VIEW_SENSORS);
        PQclear(r);
        return TA_ERR_ARG;
    }
    /* an array literal: each name quoted, with " and \ escaped */
    size_t o = 0;
    v->array[o++] = '{';
    for (int i = 0; i < n; i++) {
        snprintf(v->sensors[i], sizeof v->sensors[i], "%s", PQgetvalue(r, i, 0));
        if (i)
            v->array[o++] = ',';
        v->array[o++] = '"';
        for (const char *p = v->sensors[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                v->array[o++] = '\\';
            v->array[o++] = *p;
        }
        v->array[o++] = '"';
    }
    v->array[o++] = '}';
    v->array[o] = '\0';
    v->nsensors = n;
    PQclear(r);
    return TA_OK;
}

/* The SQLite columns of t (name, declared type) that the central table has too, as a select
 * list for PostgreSQL (ids mapped, the sensor from the central key) and an insert statement. */
struct view_cols {
    int n;
    char names[VIEW_COLS][64];
    bool integer[VIEW_COLS], real[VIEW_COLS];
    char pg[VIEW_SQL], ins[VIEW_SQL];
};

static int view_cols(struct ta_central_view *v, const struct view_table *t, struct view_cols *vc,
                     char *errbuf)
{
    PGresult *r = NULL;
    sqlite3_stmt *s = NULL;
    const char *vals[1] = { t->name };
    char n_s[16], ph[VIEW_SQL] = "";
    int rc = TA_ERR_IO;
    memset(vc, 0, sizeof *vc);
    snprintf(n_s, sizeof n_s, "%d", v->nsensors);
    if (ta__pg_params(v->c, "SELECT column_name FROM information_schema.columns WHERE "
                            "table_schema = 'tlsaudit' AND table_name = $1", 1, vals,
                      "reading the central columns", &r, errbuf) != TA_OK)
        return TA_ERR_IO;
    if (sqlite3_prepare_v2(v->db, "SELECT name, upper(type) FROM pragma_table_info(?1)", -1, &s,
                           NULL) != SQLITE_OK)
        goto sqlerr;
    sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
    snprintf(vc->ins, sizeof vc->ins, "INSERT INTO %s (", t->name);
    while (sqlite3_step(s) == SQLITE_ROW && vc->n < VIEW_COLS) {
        const char *col = (const char *)sqlite3_column_text(s, 0);
        const char *type = (const char *)sqlite3_column_text(s, 1);
        const char *central = t->has_sensor && strcmp(col, "sensor") == 0 ? "local_sensor" : col;
        bool found = false;
        for (int i = 0; i < PQntuples(r) && !found; i++)
            found = strcmp(PQgetvalue(r, i, 0), central) == 0;
        for (const char *const *o = t->only; found && o && *o; o++)
            if (strcmp(*o, col) == 0)
                break;
            else if (!o[1])
                found = false;
        if (!found || strlen(col) >= sizeof vc->names[0])
            continue;
        bool ok = true;
        if (vc->n)
            ok = cat(vc->pg, sizeof vc->pg, ", ", NULL, NULL) && cat(vc->ins, sizeof vc->ins, ", ",
                                                                      NULL, NULL) &&
                 cat(ph, sizeof ph, ", ", NULL, NULL);
        if (t->has_sensor && strcmp(col, "sensor") == 0)
            ok = ok && cat(vc->pg, sizeof vc->pg, "x.sensor", NULL, NULL);
        else if (is_id_col(col))
            ok = ok && cat(vc->pg, sizeof vc->pg, "x.\"", col, "\" * ") &&
                 cat(vc->pg, sizeof vc->pg, n_s,
                     " + array_position($1::text[], x.sensor) - 1", NULL);
        else
            ok = ok && cat(vc->pg, sizeof vc->pg, "x.\"", col, "\"");
        ok = ok && cat(vc->ins, sizeof vc->ins, "\"", col, "\"") && cat(ph, sizeof ph, "?", NULL,
                                                                         NULL);
        if (!ok) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "central view: %s: too many columns", t->name);
            goto out;
        }
        snprintf(vc->names[vc->n], sizeof vc->names[0], "%s", col);
        vc->integer[vc->n] = type && strstr(type, "INT") != NULL;
        vc->real[vc->n] = type && (strstr(type, "REAL") || strstr(type, "FLOA") ||
                                   strstr(type, "DOUB"));
        vc->n++;
    }
    if (!cat(vc->ins, sizeof vc->ins, ") VALUES (", ph, ")") ||
        !cat(vc->ins, sizeof vc->ins, t->merge ? t->merge : " ON CONFLICT DO NOTHING", NULL,
             NULL)) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "central view: %s: too many columns", t->name);
        goto out;
    }
    rc = TA_OK;
    goto out;
sqlerr:
    rc = sq_fail(v, t->name, errbuf);
out:
    sqlite3_finalize(s);
    PQclear(r);
    return rc;
}

/* True for a text that SQLite would take as an integer (store_meta.value has no type). */
static bool int_text(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* The columns of table t (view_cols), read once per view: a report fetches a client's rows
 * hundreds of times, and information_schema is slow to ask. NULL with errbuf set on failure. */
static struct view_cols *cols_of(struct ta_central_view *v, const struct view_table *t,
                                 int *slot, char *errbuf)
{
    int i = 0;
    while (i < VIEW_TABLES && v->cols_of[i] && v->cols_of[i] != t)
        i++;
    if (slot)
        *slot = i;
    if (i < VIEW_TABLES && v->cols_of[i] == t)
        return v->cols[i];
    struct view_cols *vc = malloc(sizeof *vc);
    if (!vc) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    if (view_cols(v, t, vc, errbuf) != TA_OK) {
        free(vc);
        return NULL;
    }
    if (i == VIEW_TABLES) {   /* cannot happen: VIEW_TABLES is the number of tables */
        free(vc);
        snprintf(errbuf, TA_ERRBUF_SIZE, "central view: too many tables");
        return NULL;
    }
    v->cols_of[i] = t;
    v->cols[i] = vc;
    return vc;
}

/* Plain indexes of a table, dropped for a bulk load into it and built after it. */
struct view_idx {
    int n;
    char *sql[VIEW_IDX];
};

static void idx_free(struct view_idx *ix)
{
    for (int i = 0; i < ix->n; i++)
        free(ix->sql[i]);
    ix->n = 0;
}

/* When table is empty, drop its plain (not UNIQUE) indexes and keep their SQL in ix: one sorted
 * build after a bulk load costs less than keeping each index up to date row by row (a copy of
 * an inventory or of a day of rows is that bulk load). UNIQUE indexes stay: the merge clauses
 * need them. idx_build runs the same SQL in the same order, so the copy ends with the indexes
 * ta_store_open made and the reports' SQL is planned as before. A table with rows (the second
 * fetch of a report's client details) keeps its indexes: rebuilding them would cost more. */
static int idx_drop(struct ta_central_view *v, const char *table, struct view_idx *ix,
                    char *errbuf)
{
    sqlite3_stmt *s = NULL;
    char sql[160];
    bool empty = false;
    ix->n = 0;
    snprintf(sql, sizeof sql, "SELECT NOT EXISTS (SELECT 1 FROM \"%s\")", table);
    if (sqlite3_prepare_v2(v->db, sql, -1, &s, NULL) != SQLITE_OK)
        return sq_fail(v, table, errbuf);
    if (sqlite3_step(s) == SQLITE_ROW)
        empty = sqlite3_column_int(s, 0) != 0;
    sqlite3_finalize(s);
    if (!empty)
        return TA_OK;
    if (sqlite3_prepare_v2(v->db, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                           "tbl_name = ?1 AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' "
                           "ORDER BY rowid", -1, &s, NULL) != SQLITE_OK)
        return sq_fail(v, table, errbuf);
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    char names[VIEW_IDX][64];
    while (ix->n < VIEW_IDX && sqlite3_step(s) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        if (strlen(name) >= sizeof names[0] || !(ix->sql[ix->n] =
                                                     strdup((const char *)sqlite3_column_text(s, 1))))
            break;
        snprintf(names[ix->n], sizeof names[0], "%s", name);
        ix->n++;
    }
    sqlite3_finalize(s);
    for (int i = 0; i < ix->n; i++) {
        snprintf(sql, sizeof sql, "DROP INDEX \"%.63s\"", names[i]);
        if (sqlite3_exec(v->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            /* the ones dropped so far are built again by idx_build */
            int rc = sq_fail(v, sql, errbuf);
            for (int j = i; j < ix->n; j++)
                free(ix->sql[j]);
            ix->n = i;
            return rc;
        }
    }
    return TA_OK;
}

/* Build the indexes idx_drop dropped (see there). */
static int idx_build(struct ta_central_view *v, struct view_idx *ix, char *errbuf)
{
    int rc = TA_OK;
    for (int i = 0; i < ix->n && rc == TA_OK; i++)
        if (sqlite3_exec(v->db, ix->sql[i], NULL, NULL, NULL) != SQLITE_OK)
            rc = sq_fail(v, "building an index", errbuf);
    idx_free(ix);
    return rc;
}

/* Insert the rows of one fetched batch r into the SQLite table. */
static int put_rows(struct ta_central_view *v, const struct view_table *t,
                    const struct view_cols *vc, sqlite3_stmt *ins, PGresult *r, uint64_t *n,
                    char *errbuf)
{
    bool meta = strcmp(t->name, "store_meta") == 0;
    for (int row = 0; row < PQntuples(r); row++) {
        sqlite3_reset(ins);
        for (int i = 0; i < vc->n; i++) {
            if (PQgetisnull(r, row, i)) {
                sqlite3_bind_null(ins, i + 1);
                continue;
            }
            const char *val = PQgetvalue(r, row, i);
            if (vc->integer[i] || (!vc->real[i] && meta && int_text(val)))
                sqlite3_bind_int64(ins, i + 1, strtoll(val, NULL, 10));
            else if (vc->real[i])
                sqlite3_bind_double(ins, i + 1, strtod(val, NULL));
            else
                sqlite3_bind_text(ins, i + 1, val, PQgetlength(r, row, i), SQLITE_STATIC);
        }
        if (sqlite3_step(ins) != SQLITE_DONE)
            return sq_fail(v, t->name, errbuf);
        (*n)++;
    }
    return TA_OK;
}

/* Copy "SELECT <cols> FROM tlsaudit.<t> x WHERE x.sensor = ANY($1) <where>" (with the extra
 * parameters p2.. after the sensors) into the SQLite table, VIEW_FETCH rows at a time through a
 * cursor in a read-only transaction: memory stays one batch whatever the slice, without the
 * cost of one result object per row (libpq's single-row mode, measured: ~10% of the client's
 * CPU in malloc and free). *rows gets the count. */
static int view_copy(struct ta_central_view *v, const struct view_table *t, const char *where,
                     int nextra, const char *const *extra, uint64_t *rows, char *errbuf)
{
    struct view_cols *vc = NULL;
    char *sql = malloc(3 * VIEW_SQL);
    const char *vals[8] = { v->array };
    struct view_idx ix = { 0 };
    sqlite3_stmt *ins = NULL;
    PGresult *r = NULL;
    char what[64];
    int rc = TA_ERR_IO;
    uint64_t n = 0;
    if (!sql || !(vc = cols_of(v, t, NULL, errbuf))) {
        if (!sql)
            snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory");
        goto out;
    }
    for (int i = 0; i < nextra && i < 7; i++)
        vals[i + 1] = extra[i];
    snprintf(sql, 3 * VIEW_SQL, "DECLARE ta_view NO SCROLL CURSOR FOR SELECT %s FROM tlsaudit.%s"
             " x WHERE x.sensor = ANY($1::text[])%s", vc->pg, t->name, where ? where : "");
    if (sqlite3_prepare_v2(v->db, vc->ins, -1, &ins, NULL) != SQLITE_OK) {
        rc = sq_fail(v, t->name, errbuf);
        goto out;
    }
    snprintf(what, sizeof what, "reading %s", t->name);
    if (ta__pg_exec(v->c, "BEGIN READ ONLY", what, errbuf) != TA_OK)
        goto out;
    rc = ta__pg_params(v->c, sql, 1 + nextra, vals, what, NULL, errbuf);
    if (rc == TA_OK)
        rc = idx_drop(v, t->name, &ix, errbuf);
    snprintf(sql, 3 * VIEW_SQL, "FETCH %d FROM ta_view", VIEW_FETCH);
    for (int got = VIEW_FETCH; rc == TA_OK && got == VIEW_FETCH;) {
        if ((rc = ta__pg_params(v->c, sql, 0, NULL, what, &r, errbuf)) != TA_OK)
            break;
        got = PQntuples(r);
        rc = put_rows(v, t, vc, ins, r, &n, errbuf);
        PQclear(r);
    }
    if (rc == TA_OK)
        rc = ta__pg_exec(v->c, "COMMIT", what, errbuf);
    else
        ta__pg_rollback(v->c);
    if (rc == TA_OK)
        rc = idx_build(v, &ix, errbuf);
    if (rows)
        *rows = n;
out:
    idx_free(&ix);
    sqlite3_finalize(ins);
    free(sql);
    return rc;
}

/* view_copy for one client's rows (a report's client details: hundreds of calls). Planning
 * that query over every day partition cost more than running it (79 partitions: 13 ms a
 * client planned each time, 7 ms with one generic plan whose days are pruned when it runs), so
 * it is prepared once per view and table with a generic plan, and read in single-row mode:
 * a client's rows are few, but nothing bounds them. */
static int view_copy_client(struct ta_central_view *v, const struct view_table *t,
                            const char *where, int nextra, const char *const *extra,
                            char *errbuf)
{
    int k = 0;
    struct view_cols *vc = cols_of(v, t, &k, errbuf);
    const char *vals[8] = { v->array };
    struct view_idx ix = { 0 };
    sqlite3_stmt *ins = NULL;
    char name[48], what[64];
    int rc = TA_ERR_IO;
    uint64_t n = 0;
    if (!vc)
        return TA_ERR_IO;
    for (int i = 0; i < nextra && i < 7; i++)
        vals[i + 1] = extra[i];
    snprintf(name, sizeof name, "ta_view_client_%d", k);
    snprintf(what, sizeof what, "reading %s", t->name);
    if (!v->prepared[k]) {
        char *sql = malloc(3 * VIEW_SQL);
        PGresult *r = NULL;
        if (!sql) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory");
            return TA_ERR_NOMEM;
        }
        snprintf(sql, 3 * VIEW_SQL, "SELECT %s FROM tlsaudit.%s x WHERE x.sensor = "
                 "ANY($1::text[])%s", vc->pg, t->name, where);
        /* only this session's named statements are planned generically: PQexecParams's
         * unnamed ones are always planned for their values */
        rc = ta__pg_exec(v->c, "SET plan_cache_mode = force_generic_plan", what, errbuf);
        if (rc == TA_OK) {
            r = PQprepare(v->c->conn, name, sql, 1 + nextra, NULL);
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s: %s", v->c->target, what,
                         PQresultErrorMessage(r));
                rc = TA_ERR_IO;
            }
            PQclear(r);
        }
        free(sql);
        if (rc != TA_OK)
            return rc;
        v->prepared[k] = true;
    }
    if (sqlite3_prepare_v2(v->db, vc->ins, -1, &ins, NULL) != SQLITE_OK)
        return sq_fail(v, t->name, errbuf);
    if ((rc = idx_drop(v, t->name, &ix, errbuf)) != TA_OK)
        goto out;
    if (!PQsendQueryPrepared(v->c->conn, name, 1 + nextra, vals, NULL, NULL, 0) ||
        !PQsetSingleRowMode(v->c->conn)) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s: %s", v->c->target, what,
                 PQerrorMessage(v->c->conn));
        rc = TA_ERR_IO;
        goto out;
    }
    PGresult *r;
    while ((r = PQgetResult(v->c->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && rc == TA_OK)
            rc = put_rows(v, t, vc, ins, r, &n, errbuf);
        else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc == TA_OK) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s: %s", v->c->target, what,
                     PQresultErrorMessage(r));
            rc = TA_ERR_IO;
        }
        PQclear(r);
    }
    if (rc == TA_OK)
        rc = idx_build(v, &ix, errbuf);
out:
    idx_free(&ix);
    sqlite3_finalize(ins);
    return rc;
}

static int exec(struct ta_central_view *v, const char *sql, char *errbuf)
{
    return sqlite3_exec(v->db, sql, NULL, NULL, NULL) == SQLITE_OK ? TA_OK
                                                                   : sq_fail(v, sql, errbuf);
}

/* See central.h. */
int ta_central_view_open(const char *conninfo, const struct ta_central_ask *ask,
                         struct ta_central_view **out, char *errbuf)
{
    unsigned what = ask->tables;
    struct ta_central_view *v = calloc(1, sizeof *v);
    struct ta_store *st = NULL;
    int rc;
    if (!v) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory");
        return TA_ERR_NOMEM;
    }
    v->lockfd = -1;
    if ((rc = ta__pg_connect(conninfo, &v->c, errbuf)) != TA_OK)
        goto fail;
    int ver = ta__pg_schema_version(v->c, errbuf), want = ta_central_schema_latest();
    if (ver < 0 || ver != want) {
        if (ver >= 0)
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: the central schema is at version %d and this "
                     "tlsaudit reads version %d: %s", v->c->target, ver, want,
                     ver < want ? "sync with this tlsaudit first (it migrates)"
                                : "use a newer tlsaudit");
        rc = TA_ERR_IO;
        goto fail;
    }
    if ((rc = load_sensors(v, ask->sensor, errbuf)) != TA_OK)
        goto fail;
    if ((rc = ta__view_dir_make(v->dir, sizeof v->dir, &v->lockfd, errbuf)) != TA_OK)
        goto fail;
    snprintf(v->path, sizeof v->path, "%s/view.db", v->dir);
    if ((rc = ta_store_open(v->path, &st, errbuf)) != TA_OK)
        goto fail;
    ta_store_close(st);
    if (sqlite3_open_v2(v->path, &v->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = sq_fail(v, v->path, errbuf);
        goto fail;
    }
    /* a private copy rebuilt at every open: no journal to keep; a page cache that holds the
     * b-trees a bulk load writes at random (daily_clients, the inventory's unique key). That
     * key is this copy's own: a sensor file has none (schema 012), and INV_MERGE needs it. */
    if ((rc = exec(v, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                      "PRAGMA cache_size = -" VIEW_CACHE_KIB "; BEGIN; " VIEW_INV_KEY "; "
                      "DELETE FROM endpoint_ips; DELETE FROM endpoint_urls; DELETE FROM endpoint_sets; "
                      "DELETE FROM store_meta", errbuf)) != TA_OK)
        goto fail;
    const struct {
        const struct view_table *t;
        bool copy;
        const char *where;
        int nextra;
    } base[] = {
        { &T_RUNS, true, NULL, 0 },
        { &T_INV, (what & (TA_VIEW_INVENTORY | TA_VIEW_INV_LEGACY)) != 0,
          what & TA_VIEW_INVENTORY ? NULL : INV_LEGACY, 0 },
        { &T_ROLL, (what & TA_VIEW_ROLLUPS) != 0, NULL, 0 },
        { &T_CLIENTS, (what & TA_VIEW_CLIENTS) != 0, NULL, 0 },
        { &T_META, true, NULL, 0 },
        { &T_SETS, true, NULL, 0 },
    };
    for (size_t i = 0; i < TA_ARRAY_LEN(base); i++)
        if (base[i].copy && (rc = view_copy(v, base[i].t, base[i].where, base[i].nextra,
                                            NULL, NULL, errbuf)) != TA_OK)
            goto fail;
    if ((rc = exec(v, "COMMIT", errbuf)) != TA_OK)
        goto fail;
    *out = v;
    return TA_OK;
fail:
    ta_central_view_close(v);
    return rc;
}

/* See central.h. */
const char *ta_central_view_path(const struct ta_central_view *v)
{
    return v->path;
}

/* See central.h. */
const char *ta_central_view_target(const struct ta_central_view *v)
{
    return v->c->target;
}

/* The day bounds of [since_us, until_us) as text, so PostgreSQL prunes day partitions. */
static void day_text(int64_t us, char *buf, size_t len)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (us <= 0) {
        snprintf(buf, len, "0001-01-01");
        return;
    }
    if (us >= INT64_MAX / 2 || !gmtime_r(&t, &tm) || tm.tm_year > 9000) {
        snprintf(buf, len, "9999-12-31");
        return;
    }
    strftime(buf, len, "%Y-%m-%d", &tm);
}

/* Add the rows of t in [since_us, until_us), of one client when client is non-NULL. */
static int view_rows(struct ta_central_view *v, const struct view_table *t, int64_t since_us,
                     int64_t until_us, const char *client, char *errbuf)
{
    char s_us[24], u_us[24], s_day[16], u_day[16];
    const char *extra[5] = { s_us, u_us, s_day, u_day, client };
    snprintf(s_us, sizeof s_us, "%lld", (long long)since_us);
    snprintf(u_us, sizeof u_us, "%lld", (long long)until_us);
    day_text(since_us, s_day, sizeof s_day);
    day_text(until_us, u_day, sizeof u_day);
    bool one = client && strcmp(t->name, "dns_answers") != 0;
    const char *where = one
        ? " AND x.ts_us >= $2::bigint AND x.ts_us < $3::bigint AND x.day >= $4::date"
          " AND x.day <= $5::date AND x.client_ip = $6"
        : " AND x.ts_us >= $2::bigint AND x.ts_us < $3::bigint AND x.day >= $4::date"
          " AND x.day <= $5::date";
    int rc = exec(v, "BEGIN", errbuf);
    if (rc == TA_OK && one)
        rc = view_copy_client(v, t, where, 5, extra, errbuf);
    else if (rc == TA_OK)
        rc = view_copy(v, t, where, 4, extra, NULL, errbuf);
    if (rc == TA_OK)
        return exec(v, "COMMIT", errbuf);
    sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* See central.h. */
int ta_central_view_rows(struct ta_central_view *v, const char *table, int64_t since_us,
                         int64_t until_us, const char *client, char *errbuf)
{
    for (size_t i = 0; i < TA_ARRAY_LEN(T_ROWS); i++)
        if (strcmp(T_ROWS[i].name, table) == 0)
            return view_rows(v, &T_ROWS[i], since_us, until_us, client, errbuf);
    snprintf(errbuf, TA_ERRBUF_SIZE, "central view: no table %s", table);
    return TA_ERR_ARG;
}

/* See central.h. */
int ta_central_view_detail(struct ta_central_view *v, const char *client, int64_t since_us,
                           int64_t until_us, char *errbuf)
{
    return view_rows(v, &T_DETAIL, since_us, until_us, client, errbuf);
}

/* See central.h. day is "YYYY-MM-DD" text in these two tables: compared byte by byte,
 * whatever the database's collation. */
int ta_central_view_days(struct ta_central_view *v, unsigned tables, int64_t since_us,
                         int64_t until_us, char *errbuf)
{
    static const char DAYS[] = " AND x.day COLLATE \"C\" >= $2::text AND x.day COLLATE \"C\" <="
                               " $3::text";
    char first[16], last[16];
    const char *days[2] = { first, last };
    day_text(since_us, first, sizeof first);
    day_text(until_us == INT64_MAX ? until_us : until_us - 1, last, sizeof last);
    int rc = exec(v, "BEGIN", errbuf);
    if (rc == TA_OK && (tables & TA_VIEW_ROLLUPS))
        rc = view_copy(v, &T_ROLL, DAYS, 2, days, NULL, errbuf);
    if (rc == TA_OK && (tables & TA_VIEW_CLIENTS))
        rc = view_copy(v, &T_CLIENTS, DAYS, 2, days, NULL, errbuf);
    if (rc == TA_OK)
        return exec(v, "COMMIT", errbuf);
    sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* See central.h. */
int ta_central_view_run_marks(struct ta_central_view *v, int64_t since_us, int64_t until_us,
                              char *errbuf)
{
    char s_us[24], u_us[24], s_day[16], u_day[16];
    const char *extra[4] = { s_us, u_us, s_day, u_day };
    snprintf(s_us, sizeof s_us, "%lld", (long long)since_us);
    snprintf(u_us, sizeof u_us, "%lld", (long long)until_us);
    day_text(since_us, s_day, sizeof s_day);
    day_text(until_us, u_day, sizeof u_day);
    int rc = exec(v, "BEGIN", errbuf);
    if (rc == TA_OK)
        rc = view_copy(v, &T_ROWS[0],
                       " AND (x.sensor, x.id) IN (SELECT sensor, min(id) FROM tlsaudit.handshakes"
                       " WHERE sensor = ANY($1::text[]) AND ts_us >= $2::bigint AND ts_us <"
                       " $3::bigint AND day >= $4::date AND day <= $5::date GROUP BY sensor,"
                       " run_id)", 4, extra, NULL, errbuf);
    if (rc == TA_OK)
        return exec(v, "COMMIT", errbuf);
    sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* See central.h. */
void ta_central_view_close(struct ta_central_view *v)
{
    if (!v)
        return;
    if (v->db)
        sqlite3_close(v->db);
    if (v->c)
        ta_central_close(v->c);
    for (int i = 0; i < VIEW_TABLES; i++)
        free(v->cols[i]);
    ta__view_dir_remove(v->dir, v->lockfd);
    free(v);
}

/* See central.h. */
bool ta_central_is_conninfo(const char *db)
{
    static const char *const prefix[] = { "postgresql://", "postgres://", "host=", "hostaddr=",
                                          "dbname=", "service=" };
    for (size_t i = 0; db && i < TA_ARRAY_LEN(prefix); i++)
        if (strncmp(db, prefix[i], strlen(prefix[i])) == 0)
            return true;
    return false;
}
