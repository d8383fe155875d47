/* central_read_cmd.c - `tlsaudit query` and `tlsaudit report` with --db naming the central
 * PostgreSQL store: open a view of it (src/central/central_view.c: a private SQLite copy of the
 * slice the reports read), run the same report code over that copy, fetch retained rows when a
 * report asks for them, and delete the copy. A --db that is a file goes straight to the report
 * layers. Messages name the store by host:port/dbname, never by the string given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsaudit/central.h"
#include "tlsaudit/commands.h"
#include "tlsaudit/common.h"
#include "tlsaudit/query.h"
#include "tlsaudit/report.h"

/* The value of option name in argv (either "name value" or "name=value"), and its index. */
static const char *find_opt(int argc, char **argv, const char *name, int *at)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], name, n) != 0)
            continue;
        if (argv[i][n] == '=') {
            *at = i;
            return argv[i] + n + 1;
        }
        if (argv[i][n] == '\0' && i + 1 < argc) {
            *at = i + 1;
            return argv[i + 1];
        }
    }
    return NULL;
}

static int view_rows(void *ctx, const char *table, long long lo, long long hi, char *errbuf)
{
    return ta_central_view_rows(ctx, table, lo, hi, NULL, errbuf) == TA_OK ? 0 : -1;
}

/* The report's period, as the report parsed it: its days of the daily tables, its mail
 * sessions, and the runs that wrote rows in it. */
static int view_period(void *ctx, long long lo, long long hi, char *errbuf)
{
    return ta_central_view_days(ctx, TA_VIEW_ROLLUPS | TA_VIEW_CLIENTS, lo, hi, errbuf) ==
                   TA_OK &&
           ta_central_view_rows(ctx, "mail_sessions", lo, hi, NULL, errbuf) == TA_OK &&
           ta_central_view_run_marks(ctx, lo, hi, errbuf) == TA_OK ? 0 : -1;
}

static int view_client(void *ctx, const char *ip, long long lo, long long hi, char *errbuf)
{
    return ta_central_view_detail(ctx, ip, lo, hi, errbuf) == TA_OK ? 0 : -1;
}

/* What the question reads (TA_VIEW_*), so the view copies no more: the report reads the
 * inventory, and the daily tables of its period (added by view_period); `query legacy` the legacy part of the inventory (or, with --since/--until/--from-rows,
 * retained rows, fetched later); `query summary` the inventory and the rollups, and
 * daily_clients when bounded by days (query_route.c); sessions, plaintext and runs read only
 * retained rows and runs. Unknown subcommands copy nothing: the query code refuses them. */
static unsigned view_needs(int argc, char **argv, bool report)
{
    int at;
    if (report)
        return TA_VIEW_INVENTORY;
    if (argc < 2)
        return 0;
    if (strcmp(argv[1], "legacy") == 0)
        return TA_VIEW_INV_LEGACY;
    if (strcmp(argv[1], "summary") == 0)
        return TA_VIEW_INVENTORY | TA_VIEW_ROLLUPS |
               (find_opt(argc, argv, "--since", &at) || find_opt(argc, argv, "--until", &at)
                    ? TA_VIEW_CLIENTS : 0u);
    return 0;
}

/* Run a query (report = false) or a report over the central store named by --db. */
static int central_read(int argc, char **argv, bool report)
{
    const char *who = report ? "tlsaudit report: " : "tlsaudit query: ";
    char errbuf[TA_ERRBUF_SIZE], name[300], eq[310];
    int at = -1, sat = -1, rc;
    const char *db = find_opt(argc, argv, "--db", &at);
    const char *sensor = find_opt(argc, argv, "--sensor", &sat);
    struct ta_central_view *v = NULL;
    struct ta_central_ask ask = { .sensor = sensor, .tables = view_needs(argc, argv, report) };
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) {
        fprintf(stderr, "%sout of memory\n", who);
        return 2;
    }
    if (ta_central_view_open(db, &ask, &v, errbuf) != TA_OK) {
        ta_print_err(who, errbuf);
        free(args);
        return 2;
    }
    /* the reports name their database in messages: the target, not the string given */
    snprintf(name, sizeof name, "postgresql %s", ta_central_view_target(v));
    for (int i = 0; i < argc; i++)
        args[i] = argv[i];
    snprintf(eq, sizeof eq, "--db=%s", name);
    args[at] = argv[at] == db ? name : eq;   /* "--db VALUE" or "--db=VALUE" */
    if (report) {
        struct ta_report_source rs = { .path = ta_central_view_path(v), .period = view_period,
                                       .client = view_client, .ctx = v };
        rc = ta_report_main_src(argc, args, stdout, stderr, &rs);
    } else {
        struct ta_query_source qs = { .path = ta_central_view_path(v), .rows = view_rows,
                                      .ctx = v };
        rc = ta_query_main_src(argc, args, stdout, stderr, &qs);
    }
    ta_central_view_close(v);
    free(args);
    return rc;
}

/* See commands.h. */
int ta_cli_query(int argc, char **argv)
{
    int at;
    if (ta_central_is_conninfo(find_opt(argc, argv, "--db", &at)))
        return central_read(argc, argv, false);
    return ta_cmd_query(argc, argv);
}

/* See commands.h. */
int ta_cli_report(int argc, char **argv)
{
    int at;
    if (ta_central_is_conninfo(find_opt(argc, argv, "--db", &at)))
        return central_read(argc, argv, true);
    return ta_cmd_report(argc, argv);
}
