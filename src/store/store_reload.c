/* store_reload.c - SIGHUP for the store: the Office 365 endpoint list used by the insert-time
 * verdicts (store_o365.c) is loaded once per run; a service that runs for months is told to
 * load the list in force again (a new `endpoints import` by the refresh timer) without ending
 * its run.
 *
 * The rows written before keep their verdicts. Whether those stand is decided exactly as at the
 * end of a run (ta__store_o365_run_end: DNS answers out of order, another connection stored an
 * endpoint list, e.g. that import, or DNS answers, a lost batch); when they may not, the run keeps owing the end-of-run pass
 * (ta_store_run_needs_classify), which recomputes every row of the run with the list then in
 * force. The new classifier is loaded by the next row, inside its batch, as at a run's start;
 * it keeps the latest time of the rows whose verdict read dns_answers, so that a DNS answer that
 * comes a little after those rows (live workers) is checked against them as without a reload. */
#include "store_int.h"
#include "tlsaudit/store.h"

/* See store.h. */
void ta_store_o365_reload(struct ta_store *st)
{
    bool owed, dns_rows;
    int64_t dns_row_max = 0;

    if (!st || st->run_id == 0 || !st->o365_insert)
        return;                       /* no verdicts at insert time: the pass reads the list */
    dns_rows = ta__store_o365_dns_rows(st, &dns_row_max);
    ta__store_o365_run_end(st);       /* do the verdicts written so far stand? */
    owed = st->o365_pass;
    ta__store_o365_run_begin(st, true);
    if (owed)
        ta__store_o365_unsure(st);    /* the pass stays owed after the new list is loaded */
    if (dns_rows)                     /* a DNS answer a little late still finds those rows */
        ta__store_o365_set_dns_rows(st, dns_row_max);
}
