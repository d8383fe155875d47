/* row_error.c - the store's one place that reports a failed write: logged the first time, counted
 * after that (a full disk fails every row). Called by the batches, the rows and the inventory. */
#include <stdio.h>

#include "store_int.h"

/* See store_int.h. */
void ta__store_row_error(struct ta_store *st, const char *what)
{
    if (st->row_errors++ == 0)
        TA_LOG(TA_LOG_ERROR, "%s: cannot write (%s): %s; further write failures are not logged", st->path, what,
               sqlite3_errmsg(st->db));
}
