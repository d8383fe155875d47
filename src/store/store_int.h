/* store_int.h - internals shared by the files of the store layer (src/store/). Private: no other
 * layer can include it (CMake gives src/store/ to this library only). */
#ifndef TLSAUDIT_STORE_INT_H
#define TLSAUDIT_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "tlsaudit/common.h"
#include "tlsaudit/addr.h"

#define TA_STORE_BATCH_ROWS 40000      /* rows per transaction before a forced commit: a key
                                        * that repeats in a batch is one inventory write, so
                                        * fewer, larger batches write less (session 6) */
#define TA_STORE_BATCH_US 1000000u     /* ... or age of the batch's first row */
/* WAL pages that start a checkpoint (~64 MB) when the file has no size cap: the inventory dirties
 * the same pages batch after batch, and each checkpoint copies them again (bench/RESULTS.md,
 * session 5). Under a cap: a quarter of it, at least TA__CKPT_MIN_PAGES (retention.c). */
#define TA__CKPT_PAGES 16000
#define TA__CKPT_MIN_PAGES 64
/* How far past this host's clock a row's date may move the origin of --retain-days (retention.c:
 * clocks of capture hosts differ; decades do not). */
#define TA__RETAIN_AHEAD_US (86400LL * 1000000LL)
/* Run sql once with ?1 = a, ?2 = b, ?3 = c, each bound only when the statement has it (exec.c).
 * True when it ran to the end. */
bool ta__exec3(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t c);
/* One integer from a query without parameters; dflt when no row, NULL or an error. */
int64_t ta__one_int(sqlite3 *db, const char *sql, int64_t dflt);
/* The same for a prepared statement s: bind, one step (the caller resets or finalizes it). */
bool ta__step3(sqlite3_stmt *s, int64_t a, int64_t b, int64_t c);
/* TA_STORE_BATCH_ROWS, or fewer under the tests' TA_TEST_BATCH_ROWS (txn.c). */
uint32_t ta__store_batch_rows_max(void);

/* The write side of the store. One connection, statements prepared once at open. */
#define TA__RETAIN_STMTS 24      /* retention's prepared statements at most */

struct ta_store {
    sqlite3 *db;
    sqlite3_stmt *ins_hs, *ins_mail, *ins_dns, *upd_run, *end_run;
    bool in_tx;                 /* a batch transaction is open */
    uint32_t batch_n;           /* rows in the open batch */
    uint32_t batch_rows;        /* commit threshold */
    uint32_t batch_rows_max;    /* ... without a size cap (ta__store_batch_rows_max, at open) */
    uint64_t batch_start_us;    /* caller's clock when the batch was first seen open, 0 = not yet */
    int64_t run_id;             /* current run, 0 = none (rows get run_id NULL) */
    char path[512];
    struct ta__store_o365 *o365; /* Office 365 verdicts at insert time (store_o365.c), or NULL */
    bool o365_insert;           /* ta_store_o365_at_insert: verdicts at insert time asked for */
    bool o365_pass;             /* the run's rows need ta_o365_classify_run (see store.h) */
    uint64_t row_errors;        /* begin/commit/insert failures while writing rows */
    uint64_t rows_lost;         /* rows of batches SQLite rolled back when their COMMIT failed */
    struct ta__inv *inv;        /* the open batch's inventory aggregate (inventory.c); NULL = off */
    char sensor[64];            /* runs.sensor and the inventory's sensor (ta_store_set_sensor) */
    int64_t max_ts_us;          /* newest row time written: retention counts days from it */
    int64_t retain_us;          /* --retain-days as microseconds, 0 = keep for ever */
    int64_t max_bytes;          /* --max-db-size, 0 = no cap */
    uint32_t batch_hs;          /* handshakes rows in the open batch (retention pace) */
    bool cap_warned;            /* the size cap is below what the kept-for-ever tables take */
    bool future_warned;         /* rows dated past the clock were said (retention.c) */
    uint64_t dns_epoch;         /* moves when dns_answers may have grown: an answer inserted, a
                                 * transaction begun (ta__o365_cls_watch_answers) */
    int64_t dns_own_max;        /* id of this connection's last dns_answers row (store_o365.c) */
    /* retention's statements, prepared once (retention.c; finalized by ta__retain_free) */
    const char *ret_sql[TA__RETAIN_STMTS];
    sqlite3_stmt *ret_stmt[TA__RETAIN_STMTS];
};

/* A begin, commit or insert failed: logged the first time only (a full disk or a read-only file
 * fails every row; the capture counts and reports the lost records itself). */
void ta__store_row_error(struct ta_store *st, const char *what);
/* sqlite3_errmsg(db), followed by the system's reason when a file operation failed ("disk I/O
 * error (No space left on device)", "... (Disk quota exceeded)"), written in buf[n]. */
const char *ta__db_why(sqlite3 *db, char *buf, size_t n);

/* Open the batch transaction if none is open. Returns TA_OK or TA_ERR_IO. */
int ta__store_batch_begin(struct ta_store *st);
/* Prepare the insert statements of store_write.c (ta__store_prepare_writes) and the run-row
 * updates of run_row.c (ta__store_prepare_run). TA_OK or TA_ERR_IO (sqlite3_errmsg says why). */
int ta__store_prepare_writes(struct ta_store *st);
int ta__store_prepare_run(struct ta_store *st);

/* Schema versions (schema.c). check: the file is an SQLite file of ours, not newer than the
 * binary (and, with want_current, not older either). migrate: apply every embedded schema file
 * newer than the database. TA_OK, or TA_ERR_* with a message naming the file in errbuf. */
int ta__schema_check(sqlite3 *db, const char *path, bool want_current, char *errbuf);
int ta__schema_migrate(sqlite3 *db, const char *path, char *errbuf);

/* Office 365 verdicts at insert time (store_o365.c). run_begin arms the run's classifier when
 * armed (the run row was written; loaded by the first row, on the writer thread); run_end
 * decides o365_pass and frees it; free releases it at close. */
struct ta__o365_row;
void ta__store_o365_run_begin(struct ta_store *st, bool armed);
void ta__store_o365_run_end(struct ta_store *st);
void ta__store_o365_free(struct ta_store *st);
/* Bind the verdict for r to parameters col, col+1, col+2 (o365, o365_service, o365_reason) of s:
 * 0 and NULLs when the run has no classifier. v must outlive the step (text bound static). */
struct ta__o365_verdict;
void ta__store_o365_bind(struct ta_store *st, sqlite3_stmt *s, int col,
                         const struct ta__o365_row *r, struct ta__o365_verdict *v);
/* ta__store_o365_bind for the mail session row of a record whose handshake row was just bound
 * with verdict hv (NULL: no handshake row). The rules read the same inputs for both rows but
 * ts_us, which only the 'dns' rule reads: when hv did not try it, hv is the mail row's verdict. */
void ta__store_o365_bind_mail(struct ta_store *st, sqlite3_stmt *s, int col,
                              const struct ta__o365_row *r, const struct ta__o365_verdict *hv,
                              struct ta__o365_verdict *v);
/* A dns_answers row with this ts_us is being stored: note whether a row already classified could
 * have seen it. */
void ta__store_o365_dns(struct ta_store *st, int64_t ts_us);
/* A batch may have been lost (begin or commit failed): the verdicts must be recomputed. */
void ta__store_o365_unsure(struct ta_store *st);
/* A batch has begun: note whether another connection committed what a verdict reads. */
void ta__store_o365_batch_begun(struct ta_store *st);
/* A batch is about to commit: check the DNS answers that came a little after rows they could
 * name (store_o365.c). */
void ta__store_o365_batch_ending(struct ta_store *st);
/* dns_answers rows were deleted (retention): the classifier forgets what it remembered of them. */
void ta__store_o365_dns_deleted(struct ta_store *st);

/* Register the SQL functions every tlsaudit connection has (rw and ro): ta_version, ta_cipher,
 * ta_cipher_weak, ta_alert, ta_ip_in, ta_sni_match. Returns SQLITE_OK or an SQLite code. */
int ta__store_register_functions(sqlite3 *db);


/* Case-insensitive (ASCII) match of s against a pattern where '*' matches any run of bytes and
 * every other byte matches itself. */
bool ta__glob_ci(const char *s, const char *pat);

/* ISO-8601 UTC text with microseconds ("2026-11-23T09:29:47.123456Z") of a time in microseconds
 * since the epoch. buf >= 32 bytes. Formatted by hand (store_text.c), as gmtime_r + snprintf
 * would print it. */
void ta__iso_time_us(uint64_t ts_us, char *buf, size_t buflen);

/* "2026-01-31T23:59:59Z" of Unix seconds (negative and far-future values through gmtime_r).
 * Returns false when the time cannot be shown. */
#define TA__ISO_DATE_LEN 40
bool ta__iso_date(int64_t secs, char buf[TA__ISO_DATE_LEN]);

/* Address text exactly as inet_ntop writes it (IPv4 from the last 4 bytes of the mapped form
 * when ipver is 4); returns its length. */
#define TA__ADDR_TEXT_LEN 48
size_t ta__store_addr_text(const struct ta_addr *a, uint8_t ipver, char buf[TA__ADDR_TEXT_LEN]);

/* JSON array "[1,2,3]" of n values of w bytes each (1, 2 or 4) into buf (no NUL); values that
 * do not fit in cap are left out. Returns the length (0 when cap < 3). */
size_t ta__store_json_list(char *buf, size_t cap, const void *vals, size_t n, int w);

/* Highest schema version embedded in the binary (the NNN of the last schema/NNN_*.sql), and the
 * name of that file (for messages). */
int ta__schema_latest(const char **name);

#endif
