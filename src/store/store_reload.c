/* store_reload.c - SIGHUP for the store: the Office 365 endpoint list used by the insert-time
 * verdicts (store_o365.c) is loaded once per run; a service that runs for months is told to
 * load the list in force again (a new `endpoints import` by the refresh timer) without ending
 * its run.
 *
 * The rows written before keep their verdicts. Whether those stand is decided exactly as at the
 * end of a run (ta__store_o365_run_end: DNS answers out of order, another connection stored an
 * endpoint list, e.g. that import, or DNS answers, a lost batch); when they may not, the run keeps owing the end-of-run pass
 * (ta_store_run_needs_classify), which recomputes every row of the run with the list then in
 * force. The new classifier is loaded by the next row, inside its batch, as at a run's start.
 * When the verdicts stood, it goes on comparing with what the old one compared with: commits by
 * other connections since the reload (also before its first row, and a run that ends before that
 * row owes no pass), and the latest time of the rows whose verdict read dns_answers, so that a
 * DNS answer a little older than those rows (live workers) is still checked against them
 * (ta__store_o365_reload, store_o365.c). */
#include "store_int.h"
#include "tlsaudit/store.h"

/* See store.h. */
void ta_store_o365_reload(struct ta_store *st)
{
    if (!st || st->run_id == 0 || !st->o365_insert)
        return;                       /* no verdicts at insert time: the pass reads the list */
    ta__store_o365_reload(st);
}
