/* row_error.c - the store's one place that reports a failed write: logged the first time, counted
 * after that (a full disk fails every row). Called by the batches, the rows and the inventory.
 * Also what SQLite's message leaves out of a failure of the file system (ta__db_why). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"

/* See store_int.h. */
void ta__store_row_error(struct ta_store *st, const char *what)
{
    if (st->row_errors++ == 0) {
        char why[256];
        TA_LOG(TA_LOG_ERROR, "%s: cannot write (%s): %s; further write failures are not logged",
               st->path, what, ta__db_why(st->db, why, sizeof why));
    }
}

/* See store_int.h. */
const char *ta__db_why(sqlite3 *db, char *buf, size_t n)
{
    const char *msg = sqlite3_errmsg(db);
    int code = sqlite3_errcode(db), e = sqlite3_system_errno(db);
    if (e > 0 && (code == SQLITE_IOERR || code == SQLITE_CANTOPEN || code == SQLITE_FULL ||
                  code == SQLITE_READONLY)) {
        snprintf(buf, n, "%s (%s)", msg, strerror(e));
        return buf;
    }
    return msg;
}
