/* pg_schema.c - the central schema's versions: schema/pg/NNN_name.sql, embedded in the binary
 * like the SQLite schema, applied in order; tlsaudit.schema_version holds one row per version
 * applied. Each file runs in its own transaction with its version row, under an advisory lock,
 * so two sensors starting at once migrate once, and a failure leaves a whole version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central_int.h"
#include "tlsaudit/embedded.h"

#define PG_SCHEMA_PREFIX "schema/pg/"
#define PG_SCHEMA_LOCK "7413001"    /* advisory lock key of migrations */

/* Version of an embedded "schema/pg/NNN_*.sql", or -1 for any other file. */
static int pg_file_version(const char *name)
{
    size_t plen = strlen(PG_SCHEMA_PREFIX), n = strlen(name);
    int v = 0, digits = 0;
    if (strncmp(name, PG_SCHEMA_PREFIX, plen) != 0 || n < plen + 5 ||
        strcmp(name + n - 4, ".sql") != 0)
        return -1;
    for (const char *p = name + plen; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
        v = v * 10 + (*p - '0');
    return digits > 0 && name[plen + (size_t)digits] == '_' ? v : -1;
}

/* See central.h. */
int ta_central_schema_latest(void)
{
    int latest = 0;
    for (const struct ta_embedded *e = ta_embedded_files; e->name; e++) {
        int v = pg_file_version(e->name);
        if (v > latest)
            latest = v;
    }
    return latest;
}

/* See central_int.h. */
int ta__pg_schema_version(struct ta_central *c, char *errbuf)
{
    PGresult *r = NULL;
    int v = -1;
    if (ta__pg_params(c, "SELECT to_regclass('tlsaudit.schema_version') IS NOT NULL", 0, NULL,
                      "reading the schema version", &r, errbuf) != TA_OK || PQntuples(r) != 1)
        goto out;
    v = 0;
    if (strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
        PQclear(r);
        r = NULL;
        v = -1;
        if (ta__pg_params(c, "SELECT COALESCE(max(version), 0) FROM tlsaudit.schema_version", 0,
                          NULL, "reading the schema version", &r, errbuf) == TA_OK &&
            PQntuples(r) == 1)
            v = atoi(PQgetvalue(r, 0, 0));
    }
out:
    PQclear(r);
    return v;
}

/* Apply one file when the database is still below its version. */
static int pg_apply(struct ta_central *c, const struct ta_embedded *e, int ver, char *errbuf)
{
    char what[160], sql[96];
    snprintf(what, sizeof what, "applying %s", e->name);
    if (ta__pg_exec(c, "BEGIN; SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ")", what,
                    errbuf) != TA_OK)
        goto fail;
    int cur = ta__pg_schema_version(c, errbuf);
    if (cur < 0)
        goto fail;
    if (cur < ver) {
        snprintf(sql, sizeof sql, "INSERT INTO tlsaudit.schema_version(version) VALUES (%d)",
                 ver);
        if (ta__pg_exec(c, (const char *)e->data, what, errbuf) != TA_OK ||
            ta__pg_exec(c, sql, what, errbuf) != TA_OK)
            goto fail;
    }
    if (ta__pg_exec(c, "COMMIT", what, errbuf) != TA_OK)
        goto fail;
    if (cur < ver)
        TA_LOG(TA_LOG_INFO, "%s: applied %s (central schema version %d)", c->target, e->name, ver);
    return TA_OK;
fail:
    ta__pg_rollback(c);
    return TA_ERR_IO;
}

/* See central_int.h. A database newer than the binary is refused (its tables may hold columns
 * this sync would not fill). */
int ta__pg_schema_migrate(struct ta_central *c, char *errbuf)
{
    int latest = ta_central_schema_latest();
    int cur = ta__pg_schema_version(c, errbuf);
    if (cur < 0)
        return TA_ERR_IO;
    if (cur > latest) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: central schema version %d is newer than this "
                 "tlsaudit %s knows (%d); use a newer tlsaudit", c->target, cur, TA_VERSION,
                 latest);
        return TA_ERR_IO;
    }
    for (const struct ta_embedded *e = ta_embedded_files; e->name && cur < latest; e++) {
        int ver = pg_file_version(e->name);
        if (ver <= cur)
            continue;
        if (pg_apply(c, e, ver, errbuf) != TA_OK) {
            size_t n = strlen(errbuf);
            snprintf(errbuf + n, TA_ERRBUF_SIZE - n, " (the central schema is at version %d "
                     "and needs %d: run the first sync as the schema owner, see "
                     "schema/pg/README.md)", cur, latest);
            return TA_ERR_IO;
        }
    }
    return TA_OK;
}
