/* central.h - the central PostgreSQL store (libpq): connect safely, keep its schema current,
 * and push a sensor database's rows into it (`tlsaudit sync`; tlsaudit(1), schema/pg/README.md).
 *
 * The central key of every row is (sensor, local id): pushing a row again replaces it, so a
 * sync that was interrupted anywhere is run again and ends with exactly the sensor's rows.
 * Each batch is one central transaction; the sensor's watermark (SQLite schema 007) moves only
 * after that transaction committed. Rows stream from SQLite into COPY, so memory does not grow
 * with the backlog. */
#ifndef TLSAUDIT_CENTRAL_H
#define TLSAUDIT_CENTRAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

struct ta_central;

/* Rows pushed per table, for the summary line and the tests. */
struct ta_sync_stats {
    uint64_t runs, handshakes, mail_sessions, dns_answers, inventory, rollup_days, changes;
    uint64_t batches;
};

struct ta_sync_opts {
    const char *sensor;   /* name the rows carry centrally; NULL: the database's (see below) */
    int batch_rows;       /* rows per central transaction (1..100000) */
    atomic_int *stop;     /* when non-NULL and set, stop after the current batch (set by another
                           * thread or a signal handler: lock-free, so both may) */
};

/* Connect to conninfo (a libpq "postgresql://" URI or "key=value" string). Refused before any
 * connection when it holds a password (credentials come from ~/.pgpass, PGPASSFILE,
 * PGPASSWORD or the service's environment, never from the command line); no message ever
 * repeats the string itself, only host, port, database and user as libpq resolved them. Then
 * brings the central schema to the binary's version (schema/pg/NNN_*.sql, embedded), which
 * needs a role that may create in the database; the sync role of schema/pg/README.md only
 * checks it. Returns TA_OK, or TA_ERR_ARG (bad or password-bearing string) / TA_ERR_IO with
 * errbuf (TA_ERRBUF_SIZE) set. */
int ta_central_open(const char *conninfo, struct ta_central **out, char *errbuf);
void ta_central_close(struct ta_central *c);

/* "host:port/dbname" as libpq resolved it (never a password). */
const char *ta_central_target(const struct ta_central *c);

/* The central schema version the binary embeds (the highest schema/pg/NNN). */
int ta_central_schema_latest(void);

/* Push everything the sensor database db (open read-write, schema 7 or later) added or changed
 * since the last sync to this target: runs, handshakes, mail sessions, DNS answers, inventory,
 * daily rollups and clients, re-classified rows. Returns TA_OK when all is pushed (or opts->stop
 * was set), else TA_ERR_IO / TA_ERR_ARG with errbuf set; what was committed before stays. */
int ta_sync_push(struct ta_central *c, sqlite3 *db, const char *db_path,
                 const struct ta_sync_opts *opts, struct ta_sync_stats *stats, char *errbuf);

/* Push once, or (follow) again every interval_s until *opts.stop is set, reconnecting with
 * back-off (1 s doubling to 60 s) after a failure (sync_loop.c). say() gets one line per push
 * that carried rows (err false; with follow, only pushes with rows) and per failure or retry
 * (err true); lines name the target as host:port/dbname only. Returns 0 (pushed, or stopped),
 * 1 (the last push failed) or 2 (refused: a password in the string, a taken sensor name). */
struct ta_sync_loop {
    const char *to, *db_path;
    struct ta_sync_opts opts;
    bool follow;
    double interval_s;
    void (*say)(void *ctx, bool err, const char *line);
    void *ctx;
};
int ta_sync_loop(const struct ta_sync_loop *l, sqlite3 *db);

/* True when the connection is unusable (closed by the server, network gone): the caller must
 * open a new one. */
bool ta_central_broken(const struct ta_central *c);

/* The central store as `query` and `report` read it (central_view.c): a private SQLite file with
 * the sensor schema, filled with the runs, inventory, daily tables, store_meta keys and endpoint
 * list versions of one sensor (sensor non-NULL) or of every sensor, to which the retained rows a
 * report needs are added on demand. Needs only SELECT (the read role of schema/pg/README.md);
 * the central schema must be at this binary's version. The file is deleted by close. */
struct ta_central_view;
/* What a question reads beyond runs, store_meta and endpoint_sets (always copied: they are
 * small), so a view copies no more than it needs. */
enum {
    TA_VIEW_INVENTORY = 1u << 0,   /* every inventory row */
    TA_VIEW_INV_LEGACY = 1u << 1,  /* only what `query legacy` reads of the inventory: the legacy
                                    * rows, and for each client that has one the rows holding its
                                    * highest client_max_version (ignored with TA_VIEW_INVENTORY) */
    TA_VIEW_ROLLUPS = 1u << 2,     /* daily_rollups */
    TA_VIEW_CLIENTS = 1u << 3,     /* daily_clients */
};
/* What a view holds: a table left out of tables is empty in the copy (the report adds the
 * daily tables of its period later: ta_central_view_days). */
struct ta_central_ask {
    const char *sensor;     /* one sensor (the name synced under), NULL: every sensor */
    unsigned tables;        /* TA_VIEW_* */
};
int ta_central_view_open(const char *conninfo, const struct ta_central_ask *ask,
                         struct ta_central_view **out, char *errbuf);
const char *ta_central_view_path(const struct ta_central_view *v);
/* "host:port/dbname" (never a password), for messages. */
const char *ta_central_view_target(const struct ta_central_view *v);
/* Add the rows of table ("handshakes", "mail_sessions", "dns_answers") with since_us <= ts_us <
 * until_us and, when client is non-NULL (not for dns_answers), client_ip = client. A row already
 * there is kept once. TA_OK or TA_ERR_* with errbuf set. */
int ta_central_view_rows(struct ta_central_view *v, const char *table, int64_t since_us,
                         int64_t until_us, const char *client, char *errbuf);
/* Add client's handshakes with since_us <= ts_us < until_us for the report's client details:
 * only the columns those read (central_view.c, DETAIL_COLS: a report that reads another one of
 * a client's handshakes must add it there; it_central_read.sh compares the details), the others
 * NULL. */
int ta_central_view_detail(struct ta_central_view *v, const char *client, int64_t since_us,
                           int64_t until_us, char *errbuf);
/* Add the daily_rollups (TA_VIEW_ROLLUPS in tables) and daily_clients (TA_VIEW_CLIENTS) rows of
 * the UTC days that [since_us, until_us) touches (0 / INT64_MAX: open): the report reads those
 * tables only for its period, which it knows once it has parsed its options. */
int ta_central_view_days(struct ta_central_view *v, unsigned tables, int64_t since_us,
                         int64_t until_us, char *errbuf);
/* Add one handshake (the first) of every run that has retained handshakes in the period, so
 * "runs that wrote rows in the period" holds without fetching them all. */
int ta_central_view_run_marks(struct ta_central_view *v, int64_t since_us, int64_t until_us,
                              char *errbuf);
void ta_central_view_close(struct ta_central_view *v);

/* Whether conninfo is one ta_central_open would try: TA_OK, or TA_ERR_ARG with errbuf set (a
 * password in it, or not a libpq URI / key=value string). Connects to nothing. */
int ta_central_check_conninfo(const char *conninfo, char *errbuf);

/* True when a --db value names a central store: a "postgresql://" or "postgres://" URI, or a
 * libpq key=value string starting with host=, hostaddr=, dbname= or service=. */
bool ta_central_is_conninfo(const char *db);

#endif
