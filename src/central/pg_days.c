/* pg_days.c - day partitions of the central per-connection tables: made on demand through
 * tlsaudit.ensure_day (SECURITY DEFINER, so the sync role needs no CREATE right), each in its
 * own short transaction before the batch that needs it, so the batch never holds the lock that
 * creating a partition takes on its parent. A small per-connection cache skips the call for
 * days already seen. */
#include <stdio.h>
#include <string.h>

#include "central_int.h"

/* See central_int.h. */
int ta__pg_ensure_day(struct ta_central *c, const char *table, const char *day, char *errbuf)
{
    char key[40];
    snprintf(key, sizeof key, "%s %s", table, day);
    for (int i = 0; i < c->ndays; i++)
        if (strcmp(c->days[i], key) == 0)
            return TA_OK;
    const char *vals[2] = { table, day };
    if (ta__pg_params(c, "SELECT tlsaudit.ensure_day($1, $2::date)", 2, vals,
                      "making a day partition", NULL, errbuf) != TA_OK)
        return TA_ERR_IO;
    snprintf(c->days[c->next_day], sizeof c->days[0], "%s", key);
    c->next_day = (c->next_day + 1) % TA__PG_DAYS_CACHE;
    if (c->ndays < TA__PG_DAYS_CACHE)
        c->ndays++;
    return TA_OK;
}
