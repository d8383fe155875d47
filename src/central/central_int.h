/* central_int.h - what the files of the central layer share: the connection object, libpq
 * helpers, the COPY sink and the sensor-side sync state. */
#ifndef TA_CENTRAL_INT_H
#define TA_CENTRAL_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <sqlite3.h>

#include "tlsaudit/central.h"
#include "tlsaudit/common.h"

#define TA__PG_DAYS_CACHE 64    /* partitions known to exist, remembered per connection */
#define TA__PG_DAYS_BATCH 32    /* distinct days one batch of rows may touch */

/* The COPY sink (pg_copy.c): rows of text fields in PostgreSQL's COPY text format, streamed to
 * the server through a fixed buffer. */
struct ta_central;
struct ta__copy {
    struct ta_central *c;
    size_t len;
    bool failed;
    char buf[65536];
};
struct ta_central {
    struct ta__copy copy;            /* the COPY buffer of this connection */
    PGconn *conn;
    char target[256];                /* host:port/dbname, for messages */
    char id[64];                     /* tlsaudit.instance id: the key of the watermarks */
    char days[TA__PG_DAYS_CACHE][40];   /* "table YYYY-MM-DD" of partitions made or seen */
    int ndays, next_day;
};

/* Run one command without parameters; on failure errbuf gets "what: server message". Returns
 * TA_OK or TA_ERR_IO. */
/* Connect (the password check, libpq's connection, the session's settings), without the schema
 * (ta_central_open adds it). TA_OK, or TA_ERR_* with errbuf naming the target, never a password. */
int ta__pg_connect(const char *conninfo, struct ta_central **out, char *errbuf);
int ta__pg_exec(struct ta_central *c, const char *sql, const char *what, char *errbuf);
/* The same with text parameters (PQexecParams); *res gets the result when res is non-NULL and
 * the command succeeded (the caller PQclears it). */
int ta__pg_params(struct ta_central *c, const char *sql, int n, const char *const *vals,
                  const char *what, PGresult **res, char *errbuf);
/* Roll back an open transaction (if any), ignoring errors: the connection may be gone. */
void ta__pg_rollback(struct ta_central *c);

/* The version the central database is at: 0 when it has no tlsaudit schema, -1 on error. */
int ta__pg_schema_version(struct ta_central *c, char *errbuf);

/* Bring the central schema to the latest embedded version (pg_schema.c). */
int ta__pg_schema_migrate(struct ta_central *c, char *errbuf);

/* Make sure the day partition of table exists (cached; pg_days.c). day is "YYYY-MM-DD". */
int ta__pg_ensure_day(struct ta_central *c, const char *table, const char *day, char *errbuf);

/* Start COPY table (cols) FROM STDIN. Returns TA_OK or TA_ERR_IO. */
int ta__copy_begin(struct ta__copy *w, struct ta_central *c, const char *sql, char *errbuf);
/* One field: s (len bytes; NULL = SQL NULL) escaped for COPY text format, made valid UTF-8
 * (each invalid byte and NUL becomes U+FFFD, as the JSON sink does): the one escaping function
 * of this sink. first: the first field of a row (no tab before it). */
void ta__copy_field(struct ta__copy *w, const char *s, size_t len, bool first);
/* End the current row. */
void ta__copy_end_row(struct ta__copy *w);
/* Finish the COPY; TA_OK only when the server accepted every row. */
int ta__copy_finish(struct ta__copy *w, char *errbuf);

/* Sensor-side state (sync_state.c). */
struct ta__sync_target {
    char target[64];
    char sensor[128];
    char db_id[40];
};
/* Load or create the target's row (sync_targets) and the database id; resolve the sensor name:
 * opts_sensor, else the name fixed at the first sync, else the newest run's sensor, else the
 * host name. A sensor name that differs from the one fixed at the first sync is refused. */
int ta__sync_target_load(sqlite3 *db, const char *path, const char *target,
                         const char *address, const char *opts_sensor, struct ta__sync_target *t, char *errbuf);
/* Watermark of (target, tbl); 0 when none. */
int64_t ta__sync_mark_get(sqlite3 *db, const char *target, const char *tbl);
/* Store a watermark (own transaction). Returns TA_OK or TA_ERR_IO. */
int ta__sync_mark_set(sqlite3 *db, const char *path, const char *target, const char *tbl,
                      int64_t mark, char *errbuf);
/* Record a completed sync and drop sync_changes rows every target has pushed. */
int ta__sync_done(sqlite3 *db, const char *path, const char *target, char *errbuf);

/* The work folder of a central view (view_dir.c): first remove the folders of central reads
 * whose process died (not locked, older than a minute), then make TMPDIR/tlsaudit-central-XXXXXX
 * and hold an flock on it in *lockfd until ta__view_dir_remove. Returns TA_OK or TA_ERR_IO. */
int ta__view_dir_make(char *dir, size_t n, int *lockfd, char *errbuf);
/* Delete the view's files and folder, release the lock, and empty dir. */
void ta__view_dir_remove(char *dir, int lockfd);

#endif
