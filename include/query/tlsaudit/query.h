/* query.h - `tlsaudit query`: reports read from the database (sessions, legacy, summary,
 * plaintext, runs) in table, CSV, JSON or JSON-lines form. Options and columns: tlsaudit(1). */
#ifndef TLSAUDIT_QUERY_H
#define TLSAUDIT_QUERY_H

#include <stdio.h>

/* Exit codes of the query command. */
#define TA_QUERY_EXIT_OK 0      /* report written (with or without rows) */
#define TA_QUERY_EXIT_FOUND 1   /* --fail-if-found and at least one row was reported */
#define TA_QUERY_EXIT_ERROR 2   /* bad usage, unreadable or refused database, SQL error */

/* The subcommand entry point called by main: argv[0] is "query", argv[1] the report name.
 * Writes to stdout, messages to stderr. Returns a TA_QUERY_EXIT_* code. */
int ta_cmd_query(int argc, char **argv);

/* The same, writing the report to out and messages (errors, --help goes to out) to err; for
 * tests, which capture both with open_memstream. */
int ta_query_main(int argc, char **argv, FILE *out, FILE *err);

/* A database that is not a SQLite file the query opens itself: the central store, read through
 * a private SQLite copy the caller keeps (src/central/central_view.c). path: that copy; rows:
 * called before a report reads retained rows, to add those of table ("handshakes",
 * "mail_sessions") with since_us <= ts_us < until_us; returns 0, or -1 with errbuf set. */
struct ta_query_source {
    const char *path;
    int (*rows)(void *ctx, const char *table, long long since_us, long long until_us,
                char *errbuf);
    void *ctx;
};

/* ta_query_main over src (NULL: --db is a SQLite file). --db is still required: it names the
 * database in messages; --sensor (which sensor of a central store to read) is accepted only
 * with a src. */
int ta_query_main_src(int argc, char **argv, FILE *out, FILE *err,
                      const struct ta_query_source *src);

/* Parse a TLS/SSL version as users spell it ("TLS 1.0", "1.0", "tls1.0", "TLSv1", "tls10",
 * "ssl3", "SSLv3", "SSL 2.0", "0x0301", "769") into its wire value. Returns 0 when unknown. */
unsigned ta_query_parse_version(const char *s);

/* Parse an ISO-8601 UTC date "YYYY-MM-DD" or date-time "YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z]"
 * into microseconds since the epoch. *date_only tells whether only a date was given. Returns 0,
 * or -1 when the text is not such a time. */
int ta_query_parse_time(const char *s, long long *us, int *date_only);

#endif
