/* capture_cmd.c - `tlsaudit capture` with what the capture layer cannot reach itself: its own
 * push to the central store (--sync-to, `sync_to` in the service's config), run by
 * src/central's sync loop in the capture's companion thread, with its own database connection
 * and its news in the log. */
#include <stdio.h>

#include "tlsaudit/capture.h"
#include "tlsaudit/central.h"
#include "tlsaudit/commands.h"
#include "tlsaudit/common.h"
#include "tlsaudit/store.h"

static void capture_sync_say(void *ctx, bool err, const char *line)
{
    (void)ctx;
    TA_LOG(err ? TA_LOG_WARN : TA_LOG_INFO, "sync: %s", line);
}

static int capture_sync_check(const char *to, char *errbuf)
{
    return ta_central_check_conninfo(to, errbuf) == TA_OK ? 0 : -1;
}

/* The hook: follow until the capture stops, then (a run that ended by itself) push once more. */
static void capture_sync(const char *db_path, const char *to, double interval_s,
                         atomic_int *stop, atomic_int *final)
{
    struct ta_store *st = NULL;
    char err[TA_ERRBUF_SIZE];
    if (ta_store_open(db_path, &st, err) != TA_OK) {
        TA_LOG(TA_LOG_ERROR, "sync: %s", err);
        return;
    }
    struct ta_sync_loop l = { .to = to, .db_path = db_path, .follow = true,
                              .interval_s = interval_s, .say = capture_sync_say,
                              .opts = { .batch_rows = 5000, .stop = stop } };
    int rc = ta_sync_loop(&l, ta_store_db(st));
    if (rc != 2 && atomic_load(final)) {
        l.follow = false;
        l.opts.stop = NULL;
        ta_sync_loop(&l, ta_store_db(st));
    }
    ta_store_close(st);
}

/* See commands.h. */
int ta_cli_capture(int argc, char **argv)
{
    static const struct ta_capture_hooks hooks = { .check = capture_sync_check,
                                                   .sync = capture_sync };
    return ta_capture_main(argc, argv, &hooks);
}
