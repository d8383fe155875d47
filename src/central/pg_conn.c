/* pg_conn.c - the connection to the central PostgreSQL: refuse credentials on the command line,
 * connect with sane timeouts, name the target without secrets, run commands.
 *
 * Passwords come from where libpq looks by itself (~/.pgpass, PGPASSFILE, PGPASSWORD, a
 * service file): a connection string that holds one is refused before anything is sent, and
 * no message repeats the string, whose other parts may be secret too (a libpq parse error would
 * quote it). TLS options (sslmode=verify-full, sslrootcert ...) pass through untouched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central_int.h"

/* True when the parsed options carry a password. *bad: the string did not parse. */
static bool conninfo_has_password(const char *conninfo, bool *bad)
{
    char *msg = NULL;
    bool pw = false;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
    *bad = opts == NULL;
    PQfreemem(msg);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0])
            pw = true;
    PQconninfoFree(opts);
    return pw;
}

/* The server's or libpq's message, one line (trailing newlines cut) into errbuf after what. */
static void pg_error(struct ta_central *c, const PGresult *r, const char *what, char *errbuf)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!m || !*m)
        m = PQerrorMessage(c->conn);
    int k = snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s: ", c->target, what);
    size_t at = k > 0 && k < TA_ERRBUF_SIZE ? (size_t)k : 0;
    /* libpq's messages span lines (DETAIL, HINT, a tab-indented hint): one line here. */
    for (; *m && at < TA_ERRBUF_SIZE - 1; m++) {
        char ch = *m == '\n' || *m == '\t' ? ' ' : *m;
        if (ch == ' ' && at > 0 && errbuf[at - 1] == ' ')
            continue;
        errbuf[at++] = ch;
    }
    while (at > 0 && errbuf[at - 1] == ' ')
        at--;
    errbuf[at] = '\0';
}

/* See central_int.h. */
int ta__pg_exec(struct ta_central *c, const char *sql, const char *what, char *errbuf)
{
    PGresult *r = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? TA_OK : TA_ERR_IO;
    if (rc != TA_OK)
        pg_error(c, r, what, errbuf);
    PQclear(r);
    return rc;
}

/* See central_int.h. */
int ta__pg_params(struct ta_central *c, const char *sql, int n, const char *const *vals,
                  const char *what, PGresult **res, char *errbuf)
{
    PGresult *r = PQexecParams(c->conn, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        pg_error(c, r, what, errbuf);
        PQclear(r);
        return TA_ERR_IO;
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return TA_OK;
}

/* See central_int.h. */
void ta__pg_rollback(struct ta_central *c)
{
    if (c->conn && PQstatus(c->conn) == CONNECTION_OK &&
        PQtransactionStatus(c->conn) != PQTRANS_IDLE)
        PQclear(PQexec(c->conn, "ROLLBACK"));
}

/* libpq prints server notices (NOTICE: relation already exists ...) on stderr by default:
 * they are expected here and say nothing to the user, so they go to the debug log. */
static void pg_notice(void *arg, const char *message)
{
    (void)arg;
    TA_LOG(TA_LOG_DEBUG, "postgresql: %s", message);
}

/* See central.h. */
int ta_central_check_conninfo(const char *conninfo, char *errbuf)
{
    bool bad;
    if (conninfo_has_password(conninfo, &bad)) {
        snprintf(errbuf, TA_ERRBUF_SIZE,
                 "the connection string holds a password: refused (it would be visible to "
                 "every user in the process list); put it in ~/.pgpass, PGPASSFILE or "
                 "PGPASSWORD");
        return TA_ERR_ARG;
    }
    if (bad) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "not a PostgreSQL connection URI or key=value string");
        return TA_ERR_ARG;
    }
    return TA_OK;
}

/* See central_int.h. */
int ta__pg_connect(const char *conninfo, struct ta_central **out, char *errbuf)
{
    *out = NULL;
    int rc = ta_central_check_conninfo(conninfo, errbuf);
    if (rc != TA_OK)
        return rc;
    struct ta_central *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory");
        return TA_ERR_NOMEM;
    }
    /* Keywords before dbname are defaults the string may override (expand_dbname). */
    const char *const keys[] = { "connect_timeout", "fallback_application_name", "keepalives_idle",
                                 "keepalives_interval", "keepalives_count", "dbname", NULL };
    const char *const vals[] = { "10", "tlsaudit-sync", "30", "10", "3", conninfo, NULL };
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (c->conn && PQstatus(c->conn) == CONNECTION_OK)
        snprintf(c->target, sizeof c->target, "%s:%s/%s", PQhost(c->conn), PQport(c->conn),
                 PQdb(c->conn));
    else
        snprintf(c->target, sizeof c->target, "%s:%s/%s",
                 c->conn && PQhost(c->conn) ? PQhost(c->conn) : "?",
                 c->conn && PQport(c->conn) ? PQport(c->conn) : "?",
                 c->conn && PQdb(c->conn) ? PQdb(c->conn) : "?");
    if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
        pg_error(c, NULL, "cannot connect", errbuf);
        ta_central_close(c);
        return TA_ERR_IO;
    }
    PQsetNoticeProcessor(c->conn, pg_notice, NULL);
    if (ta__pg_exec(c, "SET client_encoding = 'UTF8'; SET search_path = pg_catalog, pg_temp",
                    "session setup", errbuf) != TA_OK) {
        ta_central_close(c);
        return TA_ERR_IO;
    }
    *out = c;
    return TA_OK;
}

/* See central.h. */
void ta_central_close(struct ta_central *c)
{
    if (!c)
        return;
    PQfinish(c->conn);
    free(c);
}

/* See central.h. */
const char *ta_central_target(const struct ta_central *c)
{
    return c->target;
}

/* See central.h. */
bool ta_central_broken(const struct ta_central *c)
{
    return !c || !c->conn || PQstatus(c->conn) != CONNECTION_OK;
}
