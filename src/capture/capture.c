/* capture.c - `tlsaudit capture`: the run. Opens the store and the writer thread, begins the run
 * row, reads the source (file or live, behind ta__source_ops), ends the run row and classifies
 * for Office 365 when the verdicts written with the rows cannot stand. Options are parsed in
 * options.c, the stop on SIGINT/SIGTERM is run_control.c's.
 *
 * Threads: the engines never touch the store; their records go through the writer queue
 * (writer.h) to the one thread that owns the store while packets are read. The main thread has
 * the store before (run begin) and after (run end, classification). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_int.h"
#include "tlsaudit/capture.h"
#include "tlsaudit/engine.h"
#include "tlsaudit/o365.h"
#include "tlsaudit/store.h"
#include "tlsaudit/writer.h"

/* Drop root to user: chown the database files first so the capture can keep writing them. */
static int drop_privileges(const char *user, const char *db, char *errbuf)
{
    struct passwd *pw = getpwnam(user);
    static const char *const suffix[] = { "", "-wal", "-shm" };

    if (!pw) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "-Z %s: no such user", user);
        return TA_ERR_IO;
    }
    for (size_t i = 0; i < TA_ARRAY_LEN(suffix); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s%s", db, suffix[i]);
        if (chown(path, pw->pw_uid, pw->pw_gid) != 0 && errno != ENOENT) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "chown %.200s: %s", path, strerror(errno));
            return TA_ERR_IO;
        }
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "-Z %s: cannot drop privileges: %s", user, strerror(errno));
        return TA_ERR_IO;
    }
    if (setuid(0) == 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "-Z %s: root could be regained; refusing to run", user);
        return TA_ERR_IO;
    }
    return TA_OK;
}

/* Join the sources into the run's description. Names that do not fit (a glob of many files)
 * are not cut: the list ends with how many files there were in all. */
static void describe_sources(const struct ta__capture_opts *o, char *buf, size_t len)
{
    char more[48];
    size_t off = 0;

    buf[0] = '\0';
    if (o->iface) {
        snprintf(buf, len, "live:%s", o->iface);
        return;
    }
    snprintf(more, sizeof(more), ",... (%d files)", o->nfiles);
    for (int i = 0; i < o->nfiles; i++) {
        size_t need = strlen(o->files[i]) + (i ? 1 : 0);
        size_t tail = i + 1 < o->nfiles ? strlen(more) : 0;
        if (i > 0 && off + need + tail >= len) {
            snprintf(buf + off, len - off, "%s", more);
            return;
        }
        snprintf(buf + off, len - off, "%s%s", i ? "," : "", o->files[i]);
        off = strlen(buf);
    }
}

/* Everything one capture holds, so that setup and teardown are one function each. */
struct capture {
    struct ta__capture_opts o;
    struct ta_store *store;
    struct ta_writer *writer;
    const struct ta__source_ops *src; /* file (-r) or live (-i) */
    void *src_state;
    int64_t run_id;
    struct ta__service svc;           /* heartbeat, last error, SIGHUP (service.c) */
    struct ta__companion sync;        /* --sync-to (companion.c) */
};

/* Open the sources, the store and the engines, begin the run, drop privileges, start the writer.
 * Returns 0, or the exit status (1) after printing why; c is then released by capture_free. */
static int capture_setup(struct capture *c, char *errbuf)
{
    struct ta_engine_sink sink;
    char src[1024];
    const struct ta__capture_opts *o = &c->o;

    c->src = o->iface ? &ta__source_live : o->workers ? &ta__source_file_mt : &ta__source_file;
    if (c->src->open(o, &c->src_state, errbuf) != TA_OK)
        goto fail;
    if (ta_store_open(o->db, &c->store, errbuf) != TA_OK)
        goto fail;
    ta_store_o365_at_insert(c->store, true);   /* capture_end classifies only when needed */
    if (o->sensor)
        ta_store_set_sensor(c->store, o->sensor);
    /* a sensor keeps 30 days by default; reading capture files keeps what they hold (an old
     * capture spanning months would otherwise lose rows counted back from its newest) */
    ta_store_set_retention(c->store, o->retain_days >= 0 ? o->retain_days : o->iface ? 30 : 0,
                           o->max_db_bytes);
    if (ta_writer_new(0, &c->writer, errbuf) != TA_OK)
        goto fail;
    ta_writer_sink(c->writer, &sink);
    if (c->src->engines(c->src_state, &sink, errbuf) != TA_OK)
        goto fail;
    describe_sources(o, src, sizeof(src));
    if (ta_store_run_begin(c->store, src, o->filter, &c->run_id) != TA_OK)
        goto fail;
    (void)ta__service_run_begun(&c->svc, c->store, c->run_id);   /* a warning if not */
    c->svc.src_tick = c->src->tick;
    c->svc.src_arg = c->src_state;
    if ((o->user && drop_privileges(o->user, o->db, errbuf) != TA_OK) ||
        ta_writer_start(c->writer, c->store, ta__service_tick, &c->svc, errbuf) != TA_OK)
        goto fail;
    return 0;
fail:
    ta_print_err("tlsaudit capture: ", errbuf[0] ? errbuf : "cannot start the run");
    return 1;
}

/* Release what capture_setup opened (any part may be missing). */
static void capture_free(struct capture *c)
{
    ta_writer_finish(c->writer, NULL);
    ta__service_free(&c->svc);        /* its statements go before the store closes */
    if (c->src)
        c->src->close(c->src_state);
    ta_store_close(c->store);
    ta__capture_opts_free(&c->o);
}

/* After reading: drain the writer, decide the status, end the run row, classify the run's rows
 * for Office 365 when the verdicts written with the rows cannot stand (see
 * ta_store_run_needs_classify). status: 0, or 1 with errbuf saying why (a source failed).
 * Returns the exit status. */
static int capture_end(struct capture *c, int status, char *errbuf)
{
    struct ta_run_stats rs = { 0 };
    struct ta_writer_counts wc;

    ta_writer_finish(c->writer, &wc);
    c->writer = NULL;
    ta__service_end(&c->svc, c->store);
    if (wc.store_errors) {
        if (status == 0)
            snprintf(errbuf, TA_ERRBUF_SIZE, "%llu records could not be stored",
                     (unsigned long long)wc.store_errors);
        fprintf(stderr, "tlsaudit capture: %llu records could not be stored\n",
                (unsigned long long)wc.store_errors);
        status = 1;
    }
    if (wc.dns_cut)
        TA_LOG(TA_LOG_WARN, "%llu DNS messages over %d bytes were not read",
               (unsigned long long)wc.dns_cut, TA_WRITER_DNS_MAX);
    c->src->stats(c->src_state, &rs);
    /* batches given up during the run (a disk full for a while) are lost even when the disk
     * has room again by the end and the last commit succeeds: the run says so and fails */
    uint64_t lost = ta_store_rows_lost(c->store);
    if (lost && status == 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%llu rows (records, DNS answers) could not be committed",
                 (unsigned long long)lost);
        status = 1;
    }
    if (c->src->workers) {
        struct ta_worker_count share[TA_MAX_WORKERS];
        unsigned n = c->src->workers(c->src_state, share, TA_MAX_WORKERS);
        if (n > 1)
            (void)ta_store_run_workers(c->store, share, n);
    }
    if (ta_store_run_end(c->store, &rs, status == 0, status ? errbuf : NULL) != TA_OK)
        status = 1;
    lost = ta_store_rows_unsaved(c->store);
    if (lost)
        fprintf(stderr, "tlsaudit capture: %llu rows (records, DNS answers) could not be "
                "committed to the database\n", (unsigned long long)lost);
    if (ta_store_run_needs_classify(c->store) &&
        (ta_o365_classify_run(ta_store_db(c->store), c->run_id, errbuf) != TA_OK ||
         ta_store_refresh(ta_store_db(c->store), errbuf) != TA_OK)) {
        ta_print_err("tlsaudit capture: Office 365 classification: ", errbuf);
        status = 1;
    }
    TA_LOG(TA_LOG_INFO, "%llu flows evicted, %llu timed out", (unsigned long long)rs.flows_evicted,
           (unsigned long long)rs.flows_timed_out);
    ta__capture_warn_incomplete(&rs);
    /* files out of time order give the rows they give one by one: a note; a live clock that
     * went back cut the connections open then: a warning */
    if (rs.time_back && c->o.iface)
        TA_LOG(TA_LOG_WARN, "the clock went back %llu time%s: the connections open then were "
               "ended, as at the end of a file", (unsigned long long)rs.time_back,
               rs.time_back == 1 ? "" : "s");
    else if (rs.time_back)
        TA_LOG(TA_LOG_INFO, "the packets' time went back %llu time%s (files not given in time "
               "order): the flows of the later time were ended, as at the end of a file",
               (unsigned long long)rs.time_back, rs.time_back == 1 ? "" : "s");
    if (!c->o.quiet)
        ta__capture_summary(ta_store_db(c->store), c->run_id, &rs, c->o.db);
    return status;
}

int ta_cmd_capture(int argc, char **argv)
{
    return ta_capture_main(argc, argv, NULL);
}

/* See capture.h. */
int ta_capture_main(int argc, char **argv, const struct ta_capture_hooks *hooks)
{
    struct capture c;
    char errbuf[TA_ERRBUF_SIZE] = "";
    int rc, status = 0;

    memset(&c, 0, sizeof(c));
    /* From here SIGINT/SIGTERM stop the run and SIGHUP asks for a reload, also during the
     * start-up: a service manager may send either at any time, and SIGHUP's default action
     * would end the process. A reload asked before the run starts is taken at its first tick. */
    ta__capture_signals();
    rc = ta__capture_parse(argc, argv, &c.o);
    /* An unknown -Z user is a usage error found before anything is opened or created. */
    if (rc == 0 && c.o.user && !getpwnam(c.o.user)) {
        ta_fprint_errf(stderr, "tlsaudit capture: ", "-Z %s: no such user", c.o.user);
        rc = 2;
    }
    /* a connection string the sync would refuse (a password in it) is a usage error */
    if (rc == 0 && c.o.sync_to && hooks && hooks->check &&
        hooks->check(c.o.sync_to, errbuf) != 0) {
        ta_print_err("tlsaudit capture: --sync-to: ", errbuf);
        rc = 2;
    }
    if (rc) {
        ta__capture_opts_free(&c.o);
        return rc;
    }
    ta_log_level = c.o.log_level;
    ta__service_init(&c.svc, &c.o);
    if (capture_setup(&c, errbuf) != 0) {
        capture_free(&c);
        return 1;
    }
    if (ta__companion_start(&c.sync, hooks, &c.o, errbuf) != TA_OK) {
        ta_print_err("tlsaudit capture: ", errbuf);
        status = 1;
    }
    rc = status ? TA_OK : c.src->run(c.src_state, errbuf);
    if (rc != TA_OK) {
        ta_print_err("tlsaudit capture: ", errbuf);
        status = 1;
    }
    bool by_itself = !ta__capture_stopping();
    status = capture_end(&c, status, errbuf);
    /* after the last commit: a run that ended by itself gets its last rows pushed too */
    ta__companion_stop(&c.sync, by_itself);
    capture_free(&c);
    return status;
}
