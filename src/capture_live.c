/* capture_live.c - live capture for `tlsaudit capture -i IFACE [--workers N]`: N libpcap handles
 * on one interface, joined to one PACKET_FANOUT group (packet(7)) so the kernel spreads flows
 * over them by a symmetric flow hash (both directions of a connection reach the same handle),
 * and one worker thread per handle with an engine of its own (flow table, nDPI module, pools).
 * Records go to the one store writer thread (writer.h).
 *
 * Thread safety of what a worker calls: the engine and everything under it keep their state in
 * the engine (or _Thread_local: the TLS scratch buffer and certificate cache); nDPI is one
 * detection module per engine, created on the main thread; the log macro writes to stderr
 * through stdio, whose calls lock the stream one by one (lines from two threads could interleave,
 * never corrupt memory). The writer queue is the only shared object. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_packet.h>
#include <sys/socket.h>

#include "capture_int.h"
#include "tls_cert_cache.h"
#include "tlsaudit/common.h"
#include "tlsaudit/packet.h"

#ifndef PACKET_FANOUT_FLAG_DEFRAG
#define PACKET_FANOUT_FLAG_DEFRAG 0x8000
#endif

#define SNAP_INTERVAL_US 1000000u     /* how often a worker publishes its counters */

struct live_worker {
    unsigned idx;
    pcap_t *p;
    struct ta_engine *e;
    int dlt;
    pthread_t thread;
    bool started;
    uint64_t packets;                 /* the worker's own; read by others only after the join */
    int rc;                           /* 0, or -1 with errbuf set */
    char errbuf[TA_ERRBUF_SIZE];
    pthread_mutex_t snap_mu;
    struct ta_run_stats snap;         /* latest counters, for the periodic run row; under snap_mu */
};

struct ta__live {
    const struct ta__capture_opts *o;
    unsigned n;
    struct ta_engine_config ecfg;     /* one worker's share */
    uint64_t next_update_us;          /* writer thread only */
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

/* Join p's packet socket to fanout group id: PACKET_FANOUT_HASH spreads by the kernel's
 * symmetric flow hash; FLAG_DEFRAG reassembles IP fragments before hashing, since only the
 * first fragment carries the ports. 0, or -1 with a message naming the interface. */
static int join_fanout(pcap_t *p, const char *iface, uint16_t id, char *errbuf)
{
    /* unsigned: the DEFRAG flag shifted into bit 31 does not fit a signed int */
    uint32_t val = id | (uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16;
    int fd = pcap_fileno(p);

    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, sizeof(val)) != 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot join PACKET_FANOUT group %u: %s", iface,
                 (unsigned)id, fd < 0 ? "no socket" : strerror(errno));
        return -1;
    }
    return 0;
}

/* One worker's share of a total, never below floor (0 stays 0: "default"). */
static uint32_t share(uint32_t total, unsigned n, uint32_t floor)
{
    uint32_t v = total / n;
    if (total == 0)
        return 0;
    return v < floor ? floor : v;
}

/* See capture_int.h. */
int ta__live_open(const struct ta__capture_opts *o, struct ta__live **out, char *errbuf)
{
    struct ta__live *lv = calloc(1, sizeof(*lv));
    uint16_t group = (uint16_t)(getpid() & 0xffff);

    *out = NULL;
    if (!lv) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    lv->o = o;
    lv->n = o->workers > 0 ? (unsigned)o->workers : 1;
    lv->ecfg = o->ecfg;
    lv->ecfg.max_flows = share(o->ecfg.max_flows, lv->n, 16);
    lv->ecfg.max_analyzing = share(o->ecfg.max_analyzing, lv->n, 16);
    lv->ecfg.stream_bufs = share(o->ecfg.stream_bufs, lv->n, 64);
    for (unsigned i = 0; i < lv->n; i++) {
        struct live_worker *wk = &lv->w[i];
        wk->idx = i;
        pthread_mutex_init(&wk->snap_mu, NULL);
        wk->p = open_handle(o, errbuf);
        if (!wk->p || ta__capture_prepare(wk->p, o->iface, o->filter, &wk->dlt, errbuf) < 0 ||
            (lv->n > 1 && join_fanout(wk->p, o->iface, group, errbuf) < 0)) {
            lv->n = i + 1;
            ta__live_close(lv);
            return -1;
        }
    }
    *out = lv;
    return 0;
}

/* See capture_int.h. */
int ta__live_engines(struct ta__live *lv, const struct ta_engine_sink *sink, char *errbuf)
{
    for (unsigned i = 0; i < lv->n; i++) {
        lv->w[i].e = ta_engine_new(&lv->ecfg, sink, errbuf);
        if (!lv->w[i].e)
            return -1;
    }
    return 0;
}

/* Publish the worker's counters for the periodic run-row update. */
static void worker_snapshot(struct live_worker *wk)
{
    struct ta_run_stats cur = { 0 };
    struct pcap_stat ps;

    cur.packets = wk->packets;
    if (pcap_stats(wk->p, &ps) == 0) {
        cur.drops = ps.ps_drop;
        cur.if_drops = ps.ps_ifdrop;
    }
    ta_engine_stats(wk->e, &cur);
    pthread_mutex_lock(&wk->snap_mu);
    wk->snap = cur;
    pthread_mutex_unlock(&wk->snap_mu);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct live_worker *wk = (struct live_worker *)(void *)user;
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;

    wk->packets++;
    ta_engine_packet(wk->e, wk->dlt, ts, bytes, h->caplen, h->len);
}

/* A worker thread: read its handle until a stop or an error (an error stops every worker: the
 * capture is incomplete either way), then settle its flows, publish its final counters and free
 * this thread's certificate cache. */
static void *worker_main(void *arg)
{
    struct live_worker *wk = arg;
    uint64_t next_snap = 0;

    while (!ta__capture_stopping()) {
        int n = pcap_dispatch(wk->p, -1, on_packet, (u_char *)wk);
        uint64_t now = ta__mono_us();
        if (n == PCAP_ERROR) {
            snprintf(wk->errbuf, sizeof(wk->errbuf), "%s: %s (stopped after %llu packets)",
                     wk->idx ? "worker" : "capture", pcap_geterr(wk->p),
                     (unsigned long long)wk->packets);
            wk->rc = -1;
            ta__capture_stop();
            break;
        }
        if (n == PCAP_ERROR_BREAK)
            break;
        ta_engine_expire(wk->e, ta__wall_us());
        if (now >= next_snap) {
            worker_snapshot(wk);
            next_snap = now + SNAP_INTERVAL_US;
        }
    }
    ta_engine_flush(wk->e);
    worker_snapshot(wk);
    ta__tls_cert_cache_free();
    return NULL;
}

/* Add src's counters into dst; if_drops counts the interface, not the handle, so every
 * handle reports the same figure: take it once (the largest). */
static void stats_merge(struct ta_run_stats *dst, const struct ta_run_stats *src)
{
    dst->packets += src->packets;
    dst->bytes += src->bytes;
    dst->drops += src->drops;
    if (src->if_drops > dst->if_drops)
        dst->if_drops = src->if_drops;
    dst->flows += src->flows;
    dst->flows_evicted += src->flows_evicted;
    dst->flows_timed_out += src->flows_timed_out;
    dst->handshakes += src->handshakes;
    dst->ip_fragments += src->ip_fragments;
    dst->malformed += src->malformed;
    dst->non_ip += src->non_ip;
    dst->pool_exhausted += src->pool_exhausted;
    dst->tunneled += src->tunneled;
    dst->undecoded_mpls += src->undecoded_mpls;
    dst->undecoded_pppoe += src->undecoded_pppoe;
    dst->undecoded_gre += src->undecoded_gre;
    dst->undecoded_erspan += src->undecoded_erspan;
    dst->undecoded_vxlan += src->undecoded_vxlan;
    dst->undecoded_geneve += src->undecoded_geneve;
    dst->undecoded_cmd += src->undecoded_cmd;
    dst->undecoded_ipip += src->undecoded_ipip;
    dst->tunnel_too_deep += src->tunnel_too_deep;
}

/* See capture_int.h. Runs on the writer thread, which owns st. */
void ta__live_tick(void *arg, struct ta_store *st, uint64_t now_us)
{
    struct ta__live *lv = arg;
    struct ta_run_stats sum = { 0 };

    if (lv->next_update_us == 0)
        lv->next_update_us = now_us + TA_STATS_INTERVAL_S * 1000000ull;
    if (now_us < lv->next_update_us)
        return;
    lv->next_update_us = now_us + TA_STATS_INTERVAL_S * 1000000ull;
    for (unsigned i = 0; i < lv->n; i++) {
        struct live_worker *wk = &lv->w[i];
        pthread_mutex_lock(&wk->snap_mu);
        stats_merge(&sum, &wk->snap);
        pthread_mutex_unlock(&wk->snap_mu);
    }
    (void)ta_store_run_update(st, &sum);
}

/* See capture_int.h. Workers start with SIGINT and SIGTERM blocked, so the handler runs on the
 * main thread (waiting in pthread_join) and breaks every worker's loop through the watch list. */
int ta__live_run(struct ta__live *lv, char *errbuf)
{
    sigset_t block, old;
    int rc = 0;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    for (unsigned i = 0; i < lv->n; i++)
        ta__capture_watch(i, lv->w[i].p);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (unsigned i = 0; i < lv->n; i++) {
        int e = pthread_create(&lv->w[i].thread, NULL, worker_main, &lv->w[i]);
        if (e) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "cannot start capture thread %u: %s", i, strerror(e));
            rc = -1;
            ta__capture_stop();
            break;
        }
        lv->w[i].started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    for (unsigned i = 0; i < lv->n; i++) {
        if (lv->w[i].started)
            pthread_join(lv->w[i].thread, NULL);
        ta__capture_watch(i, NULL);
    }
    for (unsigned i = 0; i < lv->n && rc == 0; i++) {
        if (lv->w[i].rc) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s", lv->w[i].errbuf);
            rc = -1;
        }
    }
    return rc;
}

/* See capture_int.h. After ta__live_run: the workers' final counters need no lock. */
void ta__live_stats(const struct ta__live *lv, struct ta_run_stats *rs)
{
    uint64_t if_drops = 0;

    for (unsigned i = 0; i < lv->n; i++) {
        const struct live_worker *wk = &lv->w[i];
        rs->packets += wk->packets;
        rs->drops += wk->snap.drops;
        if (wk->snap.if_drops > if_drops)
            if_drops = wk->snap.if_drops;
        if (wk->e)
            ta_engine_stats(wk->e, rs);
    }
    rs->if_drops += if_drops;
}

/* See capture_int.h. */
void ta__live_close(struct ta__live *lv)
{
    if (!lv)
        return;
    for (unsigned i = 0; i < lv->n; i++) {
        if (lv->w[i].p)
            pcap_close(lv->w[i].p);
        ta_engine_free(lv->w[i].e);
        pthread_mutex_destroy(&lv->w[i].snap_mu);
    }
    free(lv);
}
