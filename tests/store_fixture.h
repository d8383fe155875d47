/* store_fixture.h - a store in a new temporary folder, for the unit tests that write one, and
 * one integer read back from it. */
#ifndef TA_STORE_FIXTURE_H
#define TA_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "tlsaudit/store.h"

/* Make the folder dir (a mkdtemp template, filled in place), open the store dir/file in it and
 * write its path to path[cap]. NULL when either fails: a failed check says which. */
static inline struct ta_store *fixture_store(char *dir, const char *file, char *path, size_t cap)
{
    char errbuf[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = NULL;
    const char *made = mkdtemp(dir);
    CHECK(made != NULL);
    if (!made) {                /* this folder only: an earlier failed check is not ours */
        perror("mkdtemp");
        return NULL;
    }
    snprintf(path, cap, "%s/%s", dir, file);
    CHECK_INT(ta_store_open(path, &st, errbuf), TA_OK);
    if (!st)
        fprintf(stderr, "%s\n", errbuf);
    return st;
}

/* one(db, sql): the one integer a query without parameters gives; -1, and the error on
 * stderr, when it fails. */
static inline long long one(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    else
        fprintf(stderr, "sql failed: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return v;
}

#endif
