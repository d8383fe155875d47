/* central_open.c - opening the central store: connect (pg_conn.c), bring its schema to this
 * binary's (pg_schema.c), read its id. Kept apart so that the connection helpers and the
 * migrations, which use them, do not call each other. */
#include <stdio.h>

#include "central_int.h"
#include "tlsaudit/central.h"

/* Read this central database's id (tlsaudit.instance) into c->id. */
static int pg_instance_id(struct ta_central *c, char *errbuf)
{
    PGresult *r = NULL;
    int rc = ta__pg_params(c, "SELECT id FROM tlsaudit.instance ORDER BY created LIMIT 1", 0,
                           NULL, "reading the central id", &r, errbuf);
    if (rc == TA_OK && PQntuples(r) != 1) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: tlsaudit.instance is empty", c->target);
        rc = TA_ERR_IO;
    }
    if (rc == TA_OK)
        snprintf(c->id, sizeof c->id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

/* See central.h. */
int ta_central_open(const char *conninfo, struct ta_central **out, char *errbuf)
{
    struct ta_central *c = NULL;
    int rc = ta__pg_connect(conninfo, &c, errbuf);
    if (rc != TA_OK)
        return rc;
    if (ta__pg_schema_migrate(c, errbuf) != TA_OK || pg_instance_id(c, errbuf) != TA_OK) {
        ta_central_close(c);
        return TA_ERR_IO;
    }
    *out = c;
    return TA_OK;
}
