/* report.h - `tlsaudit report`: the compliance report of a database as one self-contained HTML
 * page (no script, no external fetch, print CSS for A4 and Letter), or its tables as CSV / JSON.
 * Contents, options and how each figure is counted: tlsaudit(1), section REPORT. */
#ifndef TLSAUDIT_REPORT_H
#define TLSAUDIT_REPORT_H

#include <stdio.h>

/* Exit codes of the report command. */
#define TA_REPORT_EXIT_OK 0      /* report written */
#define TA_REPORT_EXIT_ERROR 2   /* bad usage, unreadable database, SQL or write error */

/* The subcommand entry point called by main: argv[0] is "report". Writes the report to the
 * --out file (stdout when absent or "-"), messages to stderr. Returns a TA_REPORT_EXIT_* code. */
int ta_cmd_report(int argc, char **argv);

/* The same with the default output and the message stream given (for tests). */
int ta_report_main(int argc, char **argv, FILE *out, FILE *err);

/* A database that is not a SQLite file the report opens itself: the central store, read through
 * a private SQLite copy the caller keeps (src/central/central_view.c). path: that copy. Before
 * the report reads retained rows it calls period (mail sessions of [since_us, until_us) and the
 * runs that wrote rows in it; until_us LLONG_MAX = open) once, and client (that client's
 * handshakes in the period) once per client it details. Each returns 0, or -1 with errbuf set. */
struct ta_report_source {
    const char *path;
    int (*period)(void *ctx, long long since_us, long long until_us, char *errbuf);
    int (*client)(void *ctx, const char *ip, long long since_us, long long until_us,
                  char *errbuf);
    void *ctx;
};

/* ta_report_main over src (NULL: --db is a SQLite file; --db still names it in messages). */
int ta_report_main_src(int argc, char **argv, FILE *out, FILE *err,
                       const struct ta_report_source *src);

#endif
