/* store_int.h - internals shared by the store files (src/store*.c) and the query tool. */
#ifndef TLSAUDIT_STORE_INT_H
#define TLSAUDIT_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "tlsaudit/common.h"
#include "tlsaudit/packet.h"

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

/* Decimal of v at out (room for 10 digits, no NUL); returns the number of bytes written. */
size_t ta__store_put_u32(char *out, uint32_t v);

/* JSON array "[1,2,3]" of n values of w bytes each (1, 2 or 4) into buf (no NUL); values that
 * do not fit in cap are left out. Returns the length (0 when cap < 3). */
size_t ta__store_json_list(char *buf, size_t cap, const void *vals, size_t n, int w);

/* Highest schema version embedded in the binary (the NNN of the last schema/NNN_*.sql), and the
 * name of that file (for messages). */
int ta__schema_latest(const char **name);

#endif
