/* source_file.c - the file source of `tlsaudit capture -r FILE ...`: pcap and pcapng files (or
 * "-" for stdin) read in order by one engine on the calling thread. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"
#include "tlsaudit/clock.h"
#include "tlsaudit/common.h"

#define TA_DISPATCH_BATCH 4096        /* packets per pcap_dispatch call */

/* The files of the run and the one engine that reads them. */
struct offline_run {
    const struct ta__capture_opts *o;
    struct ta_engine *engine;
    uint64_t packets;
    uint64_t file_drops;              /* what the files' recorders dropped (ta__rfile_drops) */
    unsigned filter_seen;             /* generation of o->filters installed */
    struct ta__progress progress;     /* on a terminal: bytes read, rate, ETA */
    uint64_t next_update_us;          /* writer thread */
    struct ta__snap snap;             /* latest counters, for the periodic run row */
};

/* Between two batches: publish the counters every second (the writer's tick puts them in the
 * run row, so `tlsaudit status` sees a long file being read), show the progress, and install a
 * filter a SIGHUP changed. */
static void between_batches(struct offline_run *r, struct ta__rfile *rf, const char *name)
{
    uint64_t now = ta_clock_mono_us();
    struct ta_run_stats cur = { 0 };
    bool snap = ta__snap_due(&r->snap, now);

    if (snap || r->progress.on) {
        cur.packets = r->packets;
        ta_engine_stats(r->engine, &cur);
    }
    if (snap)
        ta__snap_put(&r->snap, &cur, now);
    ta__progress_show(&r->progress, rf->f, now, cur.handshakes);
    ta__rfile_follow(r->o->filters, rf, name, &r->filter_seen);
}

/* Writer tick: every TA_STATS_INTERVAL_S, the run row gets the reader's latest counters. */
static void file_tick(void *arg, struct ta_store *st, uint64_t now_us)
{
    struct offline_run *r = arg;
    struct ta_run_stats cur;

    if (!ta__snap_update_due(&r->next_update_us, now_us))
        return;
    ta__snap_get(&r->snap, &cur);
    (void)ta_store_run_update(st, &cur);
}

static void on_packet(void *user, int dlt, const struct pcap_pkthdr *h, const uint8_t *bytes)
{
    struct offline_run *r = user;
    uint64_t ts = ta__pcap_ts_us(&h->ts);

    r->packets++;
    ta_engine_packet(r->engine, dlt, ts, bytes, h->caplen, h->len);
}

/* Read one file until EOF, error or stop. Returns TA_OK, or TA_ERR_IO with a message (data lost). */
static int read_file(struct ta__rfile *rf, const char *name, struct offline_run *r, char *errbuf)
{
    int rc = TA_OK;
    uint64_t first = r->packets;    /* of the files before this one */
    char why[TA_ERRBUF_SIZE];

    ta__capture_watch(0, rf->p);
    while (!ta__capture_stopping()) {
        int n = ta__rfile_dispatch(rf, TA_DISPATCH_BATCH, on_packet, r, name, why);
        if (n == PCAP_ERROR) {
            ta__rfile_read_error(why, name, r->packets - first, errbuf);
            rc = TA_ERR_IO;
            break;
        }
        if ((n == PCAP_ERROR_BREAK && ta__capture_stopping()) || n == 0)
            break;
        between_batches(r, rf, name);
    }
    ta__progress_file_done(&r->progress, rf->f);
    ta__capture_watch(0, NULL);
    return rc;
}


/* Read every file in order into the engine, then settle its flows. Returns TA_OK, or TA_ERR_IO with
 * errbuf set when a file failed. */
static int read_files(void *state, char *errbuf)
{
    struct offline_run *r = state;
    const struct ta__capture_opts *o = r->o;
    int rc = TA_OK;
    char *buf = malloc(TA_FILE_BUFFER);   /* one for all files; without it, stdio's default */

    for (int i = 0; i < o->nfiles && !ta__capture_stopping() && rc == TA_OK; i++) {
        struct ta__rfile rf;
        rc = ta__rfile_open(&rf, o->files[i], buf, errbuf);
        if (rc != TA_OK)
            break;
        rc = ta__rfile_prepare(&rf, o->files[i], o->filter, errbuf);
        r->filter_seen = 0;           /* a filter a SIGHUP installed applies to this file too */
        if (rc == TA_OK)
            rc = read_file(&rf, o->files[i], r, errbuf);
        r->file_drops += ta__rfile_drops(&rf);
        ta__rfile_close(&rf);
    }
    free(buf);
    ta_engine_flush(r->engine);
    ta__progress_end(&r->progress);
    return rc;
}

/* Files are opened one at a time as they are read: only the state is made here. */
static int file_open(const struct ta__capture_opts *o, void **state, char *errbuf)
{
    struct offline_run *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory");
        return TA_ERR_NOMEM;
    }
    r->o = o;
    ta__snap_init(&r->snap);
    ta__progress_start(&r->progress, o);
    *state = r;
    return TA_OK;
}

/* One engine, on the reading thread. */
static int file_engines(void *state, const struct ta_engine_sink *sink, char *errbuf)
{
    struct offline_run *r = state;
    r->engine = ta_engine_new(&r->o->ecfg, sink, errbuf);
    return r->engine ? TA_OK : TA_ERR_NOMEM;
}

/* Packets read and the engine's counters. */
static void file_stats(const void *state, struct ta_run_stats *rs)
{
    const struct offline_run *r = state;
    rs->packets += r->packets;
    rs->drops += r->file_drops;
    if (r->engine)
        ta_engine_stats(r->engine, rs);
}

static void file_close(void *state)
{
    struct offline_run *r = state;
    if (!r)
        return;
    ta_engine_free(r->engine);
    ta__snap_destroy(&r->snap);
    free(r);
}

const struct ta__source_ops ta__source_file = {
    .name = "file",
    .open = file_open,
    .engines = file_engines,
    .tick = file_tick,
    .run = read_files,
    .stats = file_stats,
    .close = file_close,
};
