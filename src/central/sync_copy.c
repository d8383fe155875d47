/* sync_copy.c - the batch primitive of sync and its transaction: rows streamed from an SQLite
 * SELECT into a COPY to a temporary stage table, then one INSERT ... SELECT ... ON CONFLICT (key)
 * DO UPDATE into the central table, between a BEGIN and a COMMIT checked to be one. COPY is the
 * fast path for bulk rows and carries them as data, never as SQL; the upsert makes a repeated
 * batch replace what it wrote the first time. */
#include <stdio.h>
#include <string.h>

#include "sync_int.h"

/* Append ", " (unless at the start) and text to a bounded list. Returns false when full. */
static bool list_add(char *list, size_t cap, const char *a, const char *b, const char *c)
{
    size_t n = strlen(list);
    int k = snprintf(list + n, cap - n, "%s%s%s%s", n ? ", " : "", a, b ? b : "", c ? c : "");
    return k >= 0 && (size_t)k < cap - n;
}

/* True when name is a plain lower-case identifier: the catalogs give us the names, and they
 * are used quoted anyway, but a name we would have to escape is not one of ours. */
static bool plain_ident(const char *name)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

/* True when col is one of the comma-separated key columns. */
static bool in_key(const char *key, const char *col)
{
    size_t n = strlen(col);
    for (const char *p = key; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t k = strcspn(p, ", ");
        if (k == n && strncmp(p, col, n) == 0)
            return true;
        p += k;
    }
    return false;
}

/* See sync_int.h. */
int ta__sync_cols_load(struct ta__sync_ctx *x, const struct ta__sync_table *t,
                       struct ta__sync_cols *tc)
{
    PGresult *r = NULL;
    sqlite3_stmt *s = NULL;
    const char *vals[1] = { t->name };
    int idx = 0, rc = TA_ERR_IO;
    memset(tc, 0, sizeof *tc);
    tc->t = t;
    tc->id_idx = tc->updated_idx = -1;
    if (ta__pg_params(x->c, "SELECT column_name FROM information_schema.columns WHERE "
                            "table_schema = 'tlsaudit' AND table_name = $1", 1, vals,
                      "reading the central columns", &r, x->errbuf) != TA_OK)
        return TA_ERR_IO;
    if (t->by_day) {
        list_add(tc->sel, sizeof tc->sel, "substr(ts, 1, 10)", NULL, NULL);
        list_add(tc->pg, sizeof tc->pg, "day", NULL, NULL);
        idx++;
    }
    if (sqlite3_prepare_v2(x->db, "SELECT name FROM pragma_table_info(?1)", -1, &s, NULL) !=
        SQLITE_OK)
        goto sqlerr;
    sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *local = (const char *)sqlite3_column_text(s, 0);
        const char *central = strcmp(local, "sensor") == 0 ? "local_sensor" : local;
        bool found = false;
        for (int i = 0; i < PQntuples(r) && !found; i++)
            found = strcmp(PQgetvalue(r, i, 0), central) == 0;
        if (!found || !plain_ident(local))
            continue;
        if (!list_add(tc->sel, sizeof tc->sel, "\"", local, "\"") ||
            !list_add(tc->pg, sizeof tc->pg, "\"", central, "\"") ||
            (!in_key(t->key, central) &&
             !list_add(tc->set, sizeof tc->set, central, " = EXCLUDED.", central)))
            goto toolong;
        if (strcmp(local, "id") == 0)
            tc->id_idx = idx;
        if (strcmp(local, "updated_us") == 0)
            tc->updated_idx = idx;
        idx++;
    }
    rc = TA_OK;
    goto out;
toolong:
    snprintf(x->errbuf, TA_ERRBUF_SIZE, "%s: too many columns", t->name);
    goto out;
sqlerr:
    snprintf(x->errbuf, TA_ERRBUF_SIZE, "%s: %s", x->path, sqlite3_errmsg(x->db));
out:
    sqlite3_finalize(s);
    PQclear(r);
    return rc;
}

/* See sync_int.h. */
sqlite3_stmt *ta__sync_select(struct ta__sync_ctx *x, const struct ta__sync_cols *tc,
                              const char *where)
{
    char sql[TA__SYNC_LIST_MAX + 512];
    sqlite3_stmt *s = NULL;
    snprintf(sql, sizeof sql, "SELECT %s FROM %s %s", tc->sel, tc->t->name, where);
    if (sqlite3_prepare_v2(x->db, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(x->errbuf, TA_ERRBUF_SIZE, "%s: %s", x->path, sqlite3_errmsg(x->db));
        return NULL;
    }
    return s;
}

/* Make the temp stage table of tc on this connection (once): same columns as the central table,
 * emptied at every commit. */
static int stage_ensure(struct ta__sync_ctx *x, struct ta__sync_cols *tc)
{
    char sql[256];
    if (tc->staged)
        return TA_OK;
    snprintf(sql, sizeof sql, "CREATE TEMP TABLE IF NOT EXISTS stage_%s (LIKE tlsaudit.%s) "
             "ON COMMIT DELETE ROWS", tc->t->name, tc->t->name);
    if (ta__pg_exec(x->c, sql, "making the stage table", x->errbuf) != TA_OK)
        return TA_ERR_IO;
    tc->staged = true;
    return TA_OK;
}

/* See sync_int.h. */
int ta__sync_copy(struct ta__sync_ctx *x, struct ta__sync_cols *tc, sqlite3_stmt *s,
                  uint64_t *rows, int64_t *last_id, int64_t *last_updated)
{
    struct ta__copy *w = &x->c->copy;
    char sql[5 * TA__SYNC_LIST_MAX];
    int rc, ncols = sqlite3_column_count(s);
    uint64_t n = 0;
    if (stage_ensure(x, tc) != TA_OK)
        return TA_ERR_IO;
    snprintf(sql, sizeof sql, "COPY stage_%s (sensor, %s) FROM STDIN", tc->t->name, tc->pg);
    if (ta__copy_begin(w, x->c, sql, x->errbuf) != TA_OK)
        return TA_ERR_IO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ta__copy_field(w, x->tgt.sensor, strlen(x->tgt.sensor), true);
        for (int i = 0; i < ncols; i++) {
            const char *v = sqlite3_column_type(s, i) == SQLITE_NULL
                                ? NULL : (const char *)sqlite3_column_text(s, i);
            ta__copy_field(w, v, v ? (size_t)sqlite3_column_bytes(s, i) : 0, false);
        }
        ta__copy_end_row(w);
        if (last_id && tc->id_idx >= 0)
            *last_id = sqlite3_column_int64(s, tc->id_idx);
        if (last_updated && tc->updated_idx >= 0)
            *last_updated = sqlite3_column_int64(s, tc->updated_idx);
        n++;
    }
    if (rc != SQLITE_DONE) {
        w->failed = true;
        ta__copy_finish(w, x->errbuf);
        snprintf(x->errbuf, TA_ERRBUF_SIZE, "%s: reading %s: %s", x->path, tc->t->name,
                 sqlite3_errmsg(x->db));
        return TA_ERR_IO;
    }
    if (ta__copy_finish(w, x->errbuf) != TA_OK)
        return TA_ERR_IO;
    snprintf(sql, sizeof sql, "INSERT INTO tlsaudit.%s (sensor, %s) SELECT sensor, %s FROM "
             "stage_%s ON CONFLICT (%s) DO UPDATE SET %s", tc->t->name, tc->pg, tc->pg,
             tc->t->name, tc->t->key, tc->set);
    if (n > 0 && ta__pg_exec(x->c, sql, tc->t->name, x->errbuf) != TA_OK)
        return TA_ERR_IO;
    *rows = n;
    return TA_OK;
}

/* See sync_int.h. */
int ta__sync_txn_begin(struct ta__sync_ctx *x)
{
    return ta__pg_exec(x->c, "BEGIN", "BEGIN", x->errbuf);
}

/* COMMIT, and make sure it was one: in a failed transaction the server answers COMMIT with
 * ROLLBACK, which is not an error status. */
int ta__sync_txn_commit(struct ta__sync_ctx *x)
{
    PGresult *r = PQexec(x->c->conn, "COMMIT");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    if (!ok)
        snprintf(x->errbuf, TA_ERRBUF_SIZE, "%s: COMMIT: %s", x->c->target,
                 PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : "rolled back");
    PQclear(r);
    if (ok)
        x->stats->batches++;
    return ok ? TA_OK : TA_ERR_IO;
}
