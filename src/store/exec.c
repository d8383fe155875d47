/* exec.c - one statement with up to three integer parameters, run once: the store's SQL that
 * moves rows in bulk (retention.c, inv_merge.c, inv_refresh.c) is many such statements;
 * retention keeps its own prepared and steps them here too. */
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
bool ta__exec3(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t c)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return false;
    bool ok = ta__step3(s, a, b, c);
    sqlite3_finalize(s);
    return ok;
}
