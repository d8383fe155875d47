/* source_live.c - the live source of `tlsaudit capture -i IFACE [--workers N]`: N libpcap handles
 * on one interface, joined to one PACKET_FANOUT group (packet(7)) so the kernel spreads packets
 * over them by the pair of IP addresses (fanout.c: a connection, both directions and its IP
 * fragments reach the same handle), and one worker thread per handle with an engine of its own
 * (flow table, nDPI module, pools). Records go to the one store writer thread (writer.h).
 *
 * Thread safety of what a worker calls: the engine and everything under it keep their state in
 * the engine (the dissectors' scratch buffer and certificate cache included: ta_dis_mem); nDPI
 * is one detection module per engine, created on the main thread; a log line is formatted first
 * and written with one call (util.c), so lines never interleave. The writer queue is the only
 * shared object. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_int.h"
#include "tlsaudit/clock.h"
#include "tlsaudit/common.h"
#include "tlsaudit/packet.h"


static void live_close(void *state);

struct live_worker {
    unsigned idx;
    const struct ta__capture_opts *o;
    pcap_t *p;
    struct ta_engine *e;
    int dlt;
    pthread_t thread;
    bool started;
    uint64_t packets;                 /* the worker's own; read by others only after the join */
    int rc;                           /* TA_OK, or TA_ERR_IO with errbuf set */
    char errbuf[TA_ERRBUF_SIZE];
    struct ta__snap snap;             /* latest counters, for the periodic run row */
};

struct ta__live {
    const struct ta__capture_opts *o;
    unsigned n;
    struct ta_engine_config ecfg;     /* one worker's share */
    uint64_t next_update_us;          /* writer thread only */
    uint64_t next_wake_us;            /* writer thread only */
    struct live_worker w[TA_MAX_WORKERS];
};

/* Create, set options and activate one handle on o->iface. NULL with a message on failure;
 * warnings from pcap_activate (positive codes) are logged and capture goes on. */
static pcap_t *open_handle(const struct ta__capture_opts *o, char *errbuf)
{
    char pe[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(o->iface, pe);
    int rc;

    if (!p) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", o->iface, pe);
        return NULL;
    }
    pcap_set_snaplen(p, o->snaplen);
    pcap_set_promisc(p, 1);
    pcap_set_timeout(p, 250);
    pcap_set_buffer_size(p, o->buffer_mib * 1024 * 1024);
    rc = pcap_activate(p);
    if (rc < 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", o->iface, pcap_geterr(p));
        pcap_close(p);
        return NULL;
    }
    if (rc > 0)
        TA_LOG(TA_LOG_WARN, "%s: %s", o->iface, pcap_geterr(p));
    return p;
}

/* Open o->workers handles on o->iface (create, options, activate), check the link type, install
 * the filter, and with more than one join them to one PACKET_FANOUT group (fanout.c: by address
 * pair; the first handle gives the group its program). --max-flows and --max-analyzing are
 * totals: each worker gets an even share. Nothing stays open on failure. */
static int live_open(const struct ta__capture_opts *o, void **state, char *errbuf)
{
    struct ta__live *lv = calloc(1, sizeof(*lv));
    uint16_t group = (uint16_t)(getpid() & 0xffff);

    *state = NULL;
    if (!lv) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory");
        return TA_ERR_NOMEM;
    }
    lv->o = o;
    lv->n = o->workers > 0 ? (unsigned)o->workers : 1;
    lv->ecfg = o->ecfg;
    lv->ecfg.max_flows = ta__capture_share(o->ecfg.max_flows, lv->n, 16);
    lv->ecfg.max_analyzing = ta__capture_share(o->ecfg.max_analyzing, lv->n, 16);
    lv->ecfg.stream_bufs = ta__capture_share(o->ecfg.stream_bufs, lv->n, 64);
    for (unsigned i = 0; i < lv->n; i++) {
        struct live_worker *wk = &lv->w[i];
        wk->idx = i;
        wk->o = o;
        ta__snap_init(&wk->snap);
        wk->p = open_handle(o, errbuf);
        if (!wk->p || ta__capture_prepare(wk->p, o->iface, o->filter, &wk->dlt, errbuf) != TA_OK ||
            (lv->n > 1 && ta__fanout_join(wk->p, o->iface, group, i == 0, errbuf) != TA_OK)) {
            lv->n = i + 1;
            live_close(lv);
            return TA_ERR_IO;
        }
    }
    *state = lv;
    return TA_OK;
}

/* One engine per worker, all writing into sink. */
static int live_engines(void *state, const struct ta_engine_sink *sink, char *errbuf)
{
    struct ta__live *lv = state;
    for (unsigned i = 0; i < lv->n; i++) {
        lv->w[i].e = ta_engine_new(&lv->ecfg, sink, errbuf);
        if (!lv->w[i].e)
            return TA_ERR_NOMEM;
    }
    return TA_OK;
}

/* Publish the worker's counters for the periodic run-row update. */
static void worker_snapshot(struct live_worker *wk, uint64_t now)
{
    struct ta_run_stats cur = { 0 };
    struct pcap_stat ps;

    cur.packets = wk->packets;
    if (pcap_stats(wk->p, &ps) == 0) {
        cur.drops = ps.ps_drop;
        cur.if_drops = ps.ps_ifdrop;
    }
    ta_engine_stats(wk->e, &cur);
    ta__snap_put(&wk->snap, &cur, now);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct live_worker *wk = (struct live_worker *)(void *)user;
    uint64_t ts = ta__pcap_ts_us(&h->ts);

    wk->packets++;
    ta_engine_packet(wk->e, wk->dlt, ts, bytes, h->caplen, h->len);
}

/* A worker thread: read its handle until a stop or an error (an error stops every worker: the
 * capture is incomplete either way), then settle its flows, publish its final counters and free
 * this thread's certificate cache. */
static void *worker_main(void *arg)
{
    struct live_worker *wk = arg;
    unsigned filter_seen = 0;         /* generation of the filter installed (service.c) */

    while (!ta__capture_stopping()) {
        int n = pcap_dispatch(wk->p, -1, on_packet, (u_char *)wk);
        uint64_t now = ta_clock_mono_us();
        if (n == PCAP_ERROR) {
            snprintf(wk->errbuf, sizeof(wk->errbuf), "%s: %s (stopped after %llu packets)",
                     wk->idx ? "worker" : "capture", pcap_geterr(wk->p),
                     (unsigned long long)wk->packets);
            wk->rc = TA_ERR_IO;
            ta__capture_stop();
            break;
        }
        if (n == PCAP_ERROR_BREAK && ta__capture_stopping())
            break;
        ta__filter_follow(wk->o->filters, wk->p, wk->o->iface, &filter_seen);
        ta_engine_expire(wk->e, ta_clock_wall_us());
        if (ta__snap_due(&wk->snap, now))
            worker_snapshot(wk, now);
    }
    ta_engine_flush(wk->e);
    worker_snapshot(wk, ta_clock_mono_us());
    return NULL;
}

/* Add src's counters into dst (the list in counters.h says how: if_drops counts the interface,
 * not the handle, so every handle reports the same figure and the largest is taken). */
static void stats_merge(struct ta_run_stats *dst, const struct ta_run_stats *src)
{
    ta_run_stats_merge(dst, src);
}

/* Writer tick: every TA_STATS_INTERVAL_S, the run row gets the workers' latest counters (drop
 * counts of a long run are visible before it ends). Runs on the writer thread, which owns st. */
static void live_tick(void *arg, struct ta_store *st, uint64_t now_us)
{
    struct ta__live *lv = arg;
    struct ta_run_stats sum = { 0 };
    struct ta_worker_count share[TA_MAX_WORKERS];

    /* An idle handle's read waits for a packet (TPACKET_V3 polls without a timeout), so its
     * worker would publish nothing: wake the workers every second, each then publishes its
     * counters and expires idle flows, and the run row stays current on a quiet link. */
    if (now_us >= lv->next_wake_us) {
        ta__capture_wake();
        lv->next_wake_us = now_us + TA_SNAP_INTERVAL_US;
    }
    if (!ta__snap_update_due(&lv->next_update_us, now_us))
        return;
    for (unsigned i = 0; i < lv->n; i++) {
        struct ta_run_stats part;
        ta__snap_get(&lv->w[i].snap, &part);
        stats_merge(&sum, &part);
        share[i].packets = part.packets;
        share[i].drops = part.drops;
    }
    (void)ta_store_run_update(st, &sum);
    if (lv->n > 1)
        (void)ta_store_run_workers(st, share, lv->n);
}

/* Run the workers until a stop or an error; each flushes its engine before it ends. The first
 * worker's error goes to errbuf. Workers start with SIGINT and SIGTERM blocked, so the handler runs on the
 * main thread (waiting in pthread_join) and breaks every worker's loop through the watch list. */
static int live_run(void *state, char *errbuf)
{
    struct ta__live *lv = state;
    int rc = TA_OK;

    for (unsigned i = 0; i < lv->n; i++)
        ta__capture_watch(i, lv->w[i].p);
    for (unsigned i = 0; i < lv->n; i++) {
        int e = ta__capture_thread(&lv->w[i].thread, worker_main, &lv->w[i]);
        if (e) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "cannot start capture thread %u: %s", i, strerror(e));
            rc = TA_ERR_IO;
            ta__capture_stop();
            break;
        }
        lv->w[i].started = true;
    }
    for (unsigned i = 0; i < lv->n; i++) {
        if (lv->w[i].started)
            pthread_join(lv->w[i].thread, NULL);
        ta__capture_watch(i, NULL);
    }
    for (unsigned i = 0; lv->n > 1 && i < lv->n; i++)     /* how evenly they shared the link */
        TA_LOG(TA_LOG_INFO, "%s: worker %u read %llu packets", lv->o->iface, i,
               (unsigned long long)lv->w[i].packets);
    for (unsigned i = 0; i < lv->n && rc == TA_OK; i++) {
        if (lv->w[i].rc) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s", lv->w[i].errbuf);
            rc = TA_ERR_IO;
        }
    }
    return rc;
}

/* Every worker's counters: packets, drops and engine counters summed; if_drops (a counter of the
 * interface, the same for every handle) taken once. After live_run: no lock needed. */
static void live_stats(const void *state, struct ta_run_stats *rs)
{
    const struct ta__live *lv = state;
    uint64_t if_drops = 0;

    for (unsigned i = 0; i < lv->n; i++) {
        const struct live_worker *wk = &lv->w[i];
        rs->packets += wk->packets;
        rs->drops += wk->snap.rs.drops;
        if (wk->snap.rs.if_drops > if_drops)
            if_drops = wk->snap.rs.if_drops;
        if (wk->e)
            ta_engine_stats(wk->e, rs);
    }
    rs->if_drops += if_drops;
}

/* Each worker's packets and kernel drops, for the run row's workers column (status shows how
 * the address-pair spread shares the link). After live_run: no lock needed. */
static unsigned live_workers(const void *state, struct ta_worker_count *w, unsigned max)
{
    const struct ta__live *lv = state;

    if (lv->n < 2 || lv->n > max)
        return 0;
    for (unsigned i = 0; i < lv->n; i++) {
        w[i].packets = lv->w[i].packets;
        w[i].drops = lv->w[i].snap.rs.drops;
    }
    return lv->n;
}

/* Close the handles and free the engines. */
static void live_close(void *state)
{
    struct ta__live *lv = state;
    if (!lv)
        return;
    for (unsigned i = 0; i < lv->n; i++) {
        if (lv->w[i].p)
            pcap_close(lv->w[i].p);
        ta_engine_free(lv->w[i].e);
        ta__snap_destroy(&lv->w[i].snap);
    }
    free(lv);
}

const struct ta__source_ops ta__source_live = {
    .name = "live",
    .open = live_open,
    .engines = live_engines,
    .tick = live_tick,
    .run = live_run,
    .stats = live_stats,
    .workers = live_workers,
    .close = live_close,
};
