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

#endif
