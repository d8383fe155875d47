/* query_int.h - internals shared by the query reports (src/query*.c). */
#ifndef TLSAUDIT_QUERY_INT_H
#define TLSAUDIT_QUERY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sqlite3.h>

#include "tlsaudit/output.h"

/* A handshake that counts as legacy: it negotiated SSL 2.0, SSL 3.0, TLS 1.0 or TLS 1.1, or it
 * negotiated nothing (refused, unanswered) and the best the client offered was TLS 1.1 or less.
 * Alias h = handshakes. */
#define TA_Q_LEGACY_SQL \
    "(h.version IN (2, 768, 769, 770) OR (h.version IS NULL AND h.client_hello = 1 " \
    "AND h.client_max_version BETWEEN 1 AND 770))"

/* Options of one query command line. */
struct ta_qopts {
    const char *report;          /* sessions, legacy, summary, plaintext, runs */
    const char *db;
    enum ta_out_format fmt;
    bool has_since, has_until;
    long long since_us, until_us;   /* rows with since_us <= ts_us < until_us */
    const char *client, *server; /* CIDR texts, validated */
    const char *sni, *app;
    const char *sensor;          /* central store: the one sensor to read (NULL: all) */
    unsigned version;            /* wire value, 0 = any */
    int o365;                    /* -1 not given, 0 --all, 1 --o365 */
    bool fail_if_found;
    bool no_starttls, offered_unused;   /* plaintext only */
    bool wide;                   /* sessions, legacy, table format: every column */
    bool from_rows;              /* legacy, summary: scan the rows, not the inventory/rollups */
    int src;                     /* enum ta_qsrc: where legacy/summary read (ta__q_route) */
    char since_day[16], until_day[16];   /* TA_QSRC_DAYS/ROLLUPS: since_day <= day < until_day */
    FILE *out, *err;
};

/* Which table the common filters apply to: handshakes (alias h), mail_sessions (alias m),
 * inventory (alias h; no time filter), daily_clients or daily_rollups (alias h; day bounds,
 * --client, --app and --o365 only), daily_rollups over all days (alias h; --app, --o365). */
enum ta_qkind { TA_Q_HS, TA_Q_MAIL, TA_Q_INV, TA_Q_DAY, TA_Q_ROLL };

/* Where legacy and summary read (query_route.c): the retained rows (the scan), the inventory,
 * the daily client keys (exact, retained days) or the daily rollups (days whose client keys were
 * pruned: distinct clients summed per day). */
enum ta_qsrc { TA_QSRC_ROWS, TA_QSRC_INV, TA_QSRC_DAYS, TA_QSRC_ROLLUPS };

/* Choose o->src for report r (1 legacy, 2 summary) and fill the day bounds. Prints a note to
 * o->err when an answer can only be approximate. Returns 0, or -1 after printing an error. */
int ta__q_route(sqlite3 *db, struct ta_qopts *o, int r);

/* Append text to the SQL in buf (bounded: what does not fit is left out). */
void ta__q_cat(char *buf, size_t buflen, const char *text);

/* Append the filter conditions of o as " AND ..." terms with named parameters to buf. */
void ta__q_where(const struct ta_qopts *o, enum ta_qkind kind, char *buf, size_t buflen);

/* Prepare sql and bind the named parameters the filter terms use. Prints the SQLite error to
 * o->err and returns NULL on failure. */
sqlite3_stmt *ta__q_prepare(sqlite3 *db, const struct ta_qopts *o, const char *sql);
/* Run a folding statement to its end: an SQL function in its WHERE clause does the work (the
 * one-pass reports of query_clients.c and query_legacy.c). *err is that function's own error,
 * read after each step: SQLITE_NOMEM is printed, SQLITE_MISUSE (rows out of client order: the
 * caller counts another way) is not. Returns the last step's code, SQLITE_DONE when whole. */
int ta__q_fold_run(sqlite3 *db, const struct ta_qopts *o, const char *sql, const int *err);

/* Version label of column col ("" when NULL or 0) into buf (>= 32 bytes). */
const char *ta__q_version(sqlite3_stmt *s, int col, char *buf, size_t buflen);

/* Column col as text, or NULL when SQL NULL. */
const char *ta__q_text(sqlite3_stmt *s, int col);

/* Run before a report: reads of the file go through a memory map of up to TA_Q_MMAP_SIZE bytes
 * (no read() call and no copy per page), and the report's statements share one read transaction:
 * every section of a report sees the same state of a file that a capture keeps writing, and
 * SQLite takes the file's locks once instead of once per statement (`query legacy` runs one per
 * client). The transaction only reads and lasts as long as the report. map = false for the
 * reports that read a few narrow indexes in order (the default legacy table, the unfiltered
 * summary): there the map's page faults and its teardown cost more than the reads they save
 * (full-size month: legacy 110 -> 90 ms, summary 90 -> 80 ms). Returns 0, or -1 after printing
 * an error to o->err. */
#define TA_Q_MMAP_SIZE "8589934592"
int ta__q_snapshot(sqlite3 *db, const struct ta_qopts *o, bool map);
/* The one-pass forms, read from narrow indexes in client order by an SQL function: `summary`
 * from the inventory without client, server, SNI or version filters (query_clients.c), and the
 * default `legacy` table toward Office 365 from the inventory (query_legacy.c). The reports and
 * ta__q_snapshot's map decide by these, so the two cannot disagree. */
bool ta__q_summary_one_pass(const struct ta_qopts *o);
bool ta__q_legacy_one_pass(const struct ta_qopts *o);

/* The reports. Each returns the number of rows it reported (for --fail-if-found; for summary the
 * number of legacy handshakes), or -1 after printing an error to o->err. */
long ta__q_sessions(sqlite3 *db, const struct ta_qopts *o);
long ta__q_legacy(sqlite3 *db, const struct ta_qopts *o);
long ta__q_summary(sqlite3 *db, const struct ta_qopts *o);
long ta__q_plaintext(sqlite3 *db, const struct ta_qopts *o);
long ta__q_runs(sqlite3 *db, const struct ta_qopts *o);

#endif
