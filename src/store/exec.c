/* exec.c - one statement with up to three integer parameters, run once: the store's SQL that
 * moves rows in bulk (retention.c, inv_merge.c, inv_refresh.c) is many such statements;
 * retention keeps its own prepared and steps them here too. And one integer read (retention's
 * pragmas and counts, the Office 365 verdicts' look at other connections' commits). */
#include "store_int.h"

/* See store_int.h. */
bool ta__step3(sqlite3_stmt *s, int64_t a, int64_t b, int64_t c)
{
    int n = sqlite3_bind_parameter_count(s);
    if (n >= 1)
        sqlite3_bind_int64(s, 1, a);
    if (n >= 2)
        sqlite3_bind_int64(s, 2, b);
    if (n >= 3)
        sqlite3_bind_int64(s, 3, c);
    int rc = sqlite3_step(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

/* See store_int.h. */
int64_t ta__one_int(sqlite3 *db, const char *sql, int64_t dflt)
{
    sqlite3_stmt *s = NULL;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
        sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* See store_int.h. */
bool ta__exec3(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t c)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return false;
    bool ok = ta__step3(s, a, b, c);
    sqlite3_finalize(s);
    return ok;
}
