/* companion.c - the capture's own sync (--sync-to, `sync_to` in the service's config): the
 * caller's hook (the cli joins it to src/central, which the capture layer does not see) runs in
 * a thread of its own from the moment the database is ready until the run has ended, pushing
 * what the writer commits, with its own database connection. A run that ended by itself (files
 * read to the end) asks for one last push of what its final batch wrote; a stop by signal does
 * not wait for the central side (the next start continues from the watermarks). */
#include <pthread.h>
#include <stdio.h>

#include "capture_int.h"

static void *companion_main(void *arg)
{
    struct ta__companion *m = arg;
    m->hooks->sync(m->db, m->to, m->interval_s, &m->stop, &m->final);
    return NULL;
}

/* See capture_int.h. */
int ta__companion_start(struct ta__companion *m, const struct ta_capture_hooks *hooks,
                        const struct ta__capture_opts *o, char *errbuf)
{
    m->started = false;
    if (!o->sync_to)
        return TA_OK;
    if (!hooks || !hooks->sync) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "--sync-to: this build cannot sync");
        return TA_ERR_ARG;
    }
    m->hooks = hooks;
    m->db = o->db;
    m->to = o->sync_to;
    m->interval_s = o->sync_interval_s > 0 ? o->sync_interval_s : 60.0;
    atomic_store(&m->stop, 0);
    atomic_store(&m->final, 0);
    /* SIGINT and SIGTERM go to the main thread, as past every other thread of the capture */
    if (ta__capture_thread(&m->th, companion_main, m) != 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "--sync-to: cannot start its thread");
        return TA_ERR_IO;
    }
    m->started = true;
    return TA_OK;
}

/* See capture_int.h. */
void ta__companion_stop(struct ta__companion *m, bool final)
{
    if (!m->started)
        return;
    atomic_store(&m->final, final);
    atomic_store(&m->stop, 1);
    pthread_join(m->th, NULL);
    m->started = false;
}
