/* store_int.h - internals shared by the store files (src/store*.c) and the query tool. */
#ifndef TLSAUDIT_STORE_INT_H
#define TLSAUDIT_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "tlsaudit/common.h"

#define TA_STORE_BATCH_ROWS 10000      /* rows per transaction before a forced commit */
#define TA_STORE_BATCH_US 1000000u     /* ... or age of the batch's first row */

/* The write side of the store. One connection, statements prepared once at open. */
struct ta_store {
    sqlite3 *db;
    sqlite3_stmt *ins_hs, *ins_mail, *ins_dns, *upd_run, *end_run;
    bool in_tx;                 /* a batch transaction is open */
    uint32_t batch_n;           /* rows in the open batch */
    uint32_t batch_rows;        /* commit threshold */
    uint64_t batch_start_us;    /* caller's clock when the batch was first seen open, 0 = not yet */
    int64_t run_id;             /* current run, 0 = none (rows get run_id NULL) */
    char path[512];
};

/* Open the batch transaction if none is open. Returns TA_OK or TA_ERR_IO. */
int ta__store_batch_begin(struct ta_store *st);
/* Prepare the insert statements of store_write.c. Returns SQLITE_OK or an SQLite code. */
int ta__store_prepare_writes(struct ta_store *st);

/* Register the SQL functions every tlsaudit connection has (rw and ro): ta_version, ta_cipher,
 * ta_cipher_weak, ta_alert, ta_ip_in, ta_sni_match. Returns SQLITE_OK or an SQLite code. */
int ta__store_register_functions(sqlite3 *db);


/* Case-insensitive (ASCII) match of s against a pattern where '*' matches any run of bytes and
 * every other byte matches itself. */
bool ta__glob_ci(const char *s, const char *pat);

/* ISO-8601 UTC text with microseconds ("2026-11-23T09:29:47.123456Z") of a time in microseconds
 * since the epoch. buf >= 32 bytes. */
void ta__iso_time_us(uint64_t ts_us, char *buf, size_t buflen);

/* Highest schema version embedded in the binary (the NNN of the last schema/NNN_*.sql), and the
 * name of that file (for messages). */
int ta__schema_latest(const char **name);

#endif
