/* source_file_mt.c - the file source of `tlsaudit capture -r FILE ... --workers N`: the calling
 * thread reads the files in order and hands each packet to one of N engine threads, chosen by a
 * symmetric hash of the flow (both directions of a connection reach the same engine; the live
 * source spreads by address pair instead, fanout.c). Each engine thread has an engine of its
 * own, exactly as a live worker; records go to the one store writer thread (writer.h).
 *
 * What stays on the reader: DNS (TCP or UDP port 53) and what the engine would only count (frames
 * that do not decode) go to a small engine of the reader's own, so DNS answers reach the writer
 * in packet order and never after a record that came later in the file: the Office 365 verdicts
 * written with each row then stand as in a one-thread run (store_o365.c). IP fragments go to it
 * too: it rebuilds their datagrams, and each goes on to the engine thread of its flow.
 *
 * Packet time, not wall time: every TA_FILE_TICK packets the reader sends each engine thread the
 * latest packet time it has read, and the engine ends the flows idle for longer than the timeout,
 * at the same cadence as the one-thread engine. At those ticks, at most once a second, the reader
 * and each engine thread also publish their counters (stats_snap.c), which the writer's tick
 * merges into the run row. Packets are copied into a ring per engine thread, allocated once
 * (pkt_ring.h): nothing is allocated per packet. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"
#include "pkt_ring.h"
#include "tlsaudit/clock.h"
#include "tlsaudit/common.h"
#include "tlsaudit/packet.h"
#include "tlsaudit/pkt_clock.h"

#define TA_FILE_BATCH 4096            /* packets per pcap_dispatch call */
#define TA_FILE_TICK 256              /* packets read between packet-time ticks to the engines */
#define TA_DGRAM_MAX 65575u           /* the longest datagram reassembly rebuilds (IPv6: 40 + 65,535) */

struct mt_worker {
    unsigned idx;
    struct ta_engine *e;
    struct ta__pkt_ring ring;
    pthread_t thread;
    bool started;
    struct ta__snap snap;             /* its engine's counters */
};

struct mt_run {
    const struct ta__capture_opts *o;
    unsigned n;
    struct ta_engine_config ecfg;     /* one engine thread's share */
    struct ta_engine *local;          /* the reader's: DNS, frames that do not decode */
    uint64_t packets;
    uint64_t file_drops;              /* what the files' recorders dropped (ta__rfile_drops) */
    struct ta_pkt_clock clock;        /* packet time read, as the engines follow it */
    uint64_t time_back;               /* how often clock went back (the engines follow) */
    uint32_t since_tick;
    unsigned filter_seen;             /* generation of o->filters installed */
    struct ta__snap snap;             /* the reader's: packets, file drops, time back, its engine */
    uint64_t next_update_us;          /* writer thread */
    bool snaps_ready;                 /* the snapshots' mutexes exist */
    struct mt_worker w[TA_MAX_WORKERS];
    uint8_t dgram[sizeof(struct ta_pkt_outer) + TA_DGRAM_MAX]; /* a datagram on its way out */
};

static void mt_close(void *state);

/* The reader's counters, as mt_stats counts them (its engine, the files' drops, time back). */
static void reader_stats(const struct mt_run *r, struct ta_run_stats *rs)
{
    rs->packets += r->packets;
    rs->drops += r->file_drops;
    if (r->local)
        ta_engine_stats(r->local, rs);
}


/* 64-bit finaliser (MurmurHash3's fmix64) for the flow hash. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* A hash of the flow that is the same in both directions: each endpoint (address, port) is mixed
 * alone and the two are added, so swapping them changes nothing. */
static uint64_t flow_hash(const struct ta_pkt *p)
{
    uint64_t a[2], b[2];

    memcpy(a, p->src.b, sizeof(a));
    memcpy(b, p->dst.b, sizeof(b));
    return mix64(mix64(a[0] ^ mix64(a[1] ^ p->sport)) + mix64(b[0] ^ mix64(b[1] ^ p->dport)) +
                 p->l4);
}

/* Which engine takes this decoded packet: the reader's own (NULL) for DNS, else the engine
 * thread of the flow's hash. */
static struct mt_worker *route_pkt(struct mt_run *r, const struct ta_pkt *pkt)
{
    if ((pkt->l4 == TA_L4_UDP || pkt->l4 == TA_L4_TCP) && (pkt->sport == 53 || pkt->dport == 53))
        return NULL;
    return &r->w[r->n == 1 ? 0 : flow_hash(pkt) % r->n];
}

/* Which engine takes this frame: the reader's own (NULL) for DNS and for what does not decode,
 * and for IP fragments (its engine rebuilds their datagrams and gives them to mt_datagram). */
static struct mt_worker *route(struct mt_run *r, int dlt, const uint8_t *data, uint32_t caplen)
{
    struct ta_decode_stats scratch;
    struct ta_pkt pkt;

    memset(&scratch, 0, sizeof(scratch));
    if (ta_decode(dlt, data, caplen, &pkt, &scratch) != TA_OK || pkt.ip_fragment)
        return NULL;
    return route_pkt(r, &pkt);
}

/* A datagram the reader's engine rebuilt from fragments goes where its flow's packets go: to
 * an engine thread, as its outer context followed by the packet (on_record), or back to the
 * reader's engine (false) for DNS and for what does not decode. */
static bool mt_datagram(void *arg, uint64_t ts_us, const struct ta_pkt_outer *outer,
                        const uint8_t *ip, uint32_t len)
{
    struct mt_run *r = arg;
    struct ta_pkt pkt;
    struct mt_worker *wk;

    if (len > TA_DGRAM_MAX ||
        ta_decode_datagram(outer, ip, len, &pkt, NULL) != TA_OK || pkt.ip_fragment)
        return false;
    wk = route_pkt(r, &pkt);
    if (!wk)
        return false;
    memcpy(r->dgram, outer, sizeof(*outer));
    memcpy(r->dgram + sizeof(*outer), ip, len);
    ta__ring_put(&wk->ring, TA__RING_DATAGRAM, 0, ts_us, r->dgram,
                 (uint32_t)sizeof(*outer) + len, len);
    return true;
}

static void on_packet(void *user, int dlt, const struct pcap_pkthdr *h, const uint8_t *bytes)
{
    struct mt_run *r = user;
    uint64_t ts = ta__pcap_ts_us(&h->ts);
    struct mt_worker *wk = route(r, dlt, bytes, h->caplen);

    r->packets++;
    if (ta_pkt_clock_see(&r->clock, ts))  /* went back: the engines follow at the next tick */
        r->time_back++;
    if (wk)
        ta__ring_put(&wk->ring, TA__RING_PACKET, dlt, ts, bytes, h->caplen, h->len);
    else
        ta_engine_packet(r->local, dlt, ts, bytes, h->caplen, h->len);
    if (++r->since_tick >= TA_FILE_TICK) {
        uint64_t now = ta_clock_mono_us();
        r->since_tick = 0;
        for (unsigned i = 0; i < r->n; i++)
            ta__ring_put(&r->w[i].ring, TA__RING_TICK, 0, r->clock.now_us, NULL, 0, 0);
        if (ta__snap_due(&r->snap, now)) {
            struct ta_run_stats cur = { .time_back = r->time_back };
            reader_stats(r, &cur);
            ta__snap_put(&r->snap, &cur, now);
        }
    }
}

/* One ring record on an engine thread. */
static void on_record(void *arg, const struct ta__ring_rec *rec, const uint8_t *data)
{
    struct mt_worker *wk = arg;

    if (rec->kind == TA__RING_PACKET) {
        ta_engine_packet(wk->e, rec->dlt, rec->ts_us, data, rec->caplen, rec->wire_len);
    } else if (rec->kind == TA__RING_DATAGRAM && rec->caplen >= sizeof(struct ta_pkt_outer)) {
        struct ta_pkt_outer outer;
        memcpy(&outer, data, sizeof(outer));
        ta_engine_datagram(wk->e, rec->ts_us, &outer, data + sizeof(outer),
                           rec->caplen - (uint32_t)sizeof(outer));
    }
    if (rec->kind == TA__RING_TICK) {
        uint64_t now = ta_clock_mono_us();
        ta_engine_expire(wk->e, rec->ts_us);
        if (ta__snap_due(&wk->snap, now)) {
            struct ta_run_stats cur = { 0 };
            ta_engine_stats(wk->e, &cur);
            ta__snap_put(&wk->snap, &cur, now);
        }
    }
}

/* Writer tick: every TA_STATS_INTERVAL_S, the run row gets the latest published counters of
 * the reader and the engine threads, merged (the end of the run writes mt_stats's exact sum). */
static void mt_tick(void *arg, struct ta_store *st, uint64_t now_us)
{
    struct mt_run *r = arg;
    struct ta_run_stats cur, part;

    if (!ta__snap_update_due(&r->next_update_us, now_us))
        return;
    ta__snap_get(&r->snap, &cur);
    for (unsigned i = 0; i < r->n; i++) {
        ta__snap_get(&r->w[i].snap, &part);
        ta_run_stats_merge(&cur, &part);
    }
    (void)ta_store_run_update(st, &cur);
}

/* An engine thread: every record of its ring until the reader closes it, then settle its flows. */
static void *worker_main(void *arg)
{
    struct mt_worker *wk = arg;

    ta__ring_consume(&wk->ring, on_record, wk);
    ta_engine_flush(wk->e);
    return NULL;
}


/* Read one file until EOF, error or stop. TA_OK, or TA_ERR_IO with a message (data lost). */
static int read_file(struct ta__rfile *rf, const char *name, struct mt_run *r, char *errbuf)
{
    int rc = TA_OK;
    uint64_t first = r->packets;    /* of the files before this one */
    char why[TA_ERRBUF_SIZE];

    ta__capture_watch(0, rf->p);
    while (!ta__capture_stopping()) {
        int n = ta__rfile_dispatch(rf, TA_FILE_BATCH, on_packet, r, name, why);
        if (n == PCAP_ERROR) {
            ta__rfile_read_error(why, name, r->packets - first, errbuf);
            rc = TA_ERR_IO;
            break;
        }
        /* A break that is not a stop is a SIGHUP publishing a filter (reload.c wakes every
         * watched handle): the file goes on, under the new filter from the next batch. */
        if ((n == PCAP_ERROR_BREAK && ta__capture_stopping()) || n == 0)
            break;
        ta__rfile_follow(r->o->filters, rf, name, &r->filter_seen);
    }
    ta__capture_watch(0, NULL);
    return rc;
}

/* Read every file in order on this thread. TA_OK, or TA_ERR_IO with errbuf set. */
static int read_all(struct mt_run *r, char *errbuf)
{
    const struct ta__capture_opts *o = r->o;
    char *buf = malloc(TA_FILE_BUFFER);   /* one for all files; without it, stdio's default */
    int rc = TA_OK;

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
    return rc;
}

/* Start the engine threads (SIGINT and SIGTERM blocked in them, so the handler runs on the
 * reader), read every file, close the rings and join: each engine thread settles its flows
 * after its ring is drained. The reader's engine is flushed last. */
static int mt_run(void *state, char *errbuf)
{
    struct mt_run *r = state;
    int rc = TA_OK;

    for (unsigned i = 0; i < r->n; i++) {
        int e = ta__capture_thread(&r->w[i].thread, worker_main, &r->w[i]);
        if (e) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "cannot start engine thread %u: %s", i, strerror(e));
            rc = TA_ERR_IO;
            break;
        }
        r->w[i].started = true;
    }
    if (rc == TA_OK)
        rc = read_all(r, errbuf);
    for (unsigned i = 0; i < r->n; i++) {
        ta__ring_close(&r->w[i].ring);
        if (r->w[i].started)
            pthread_join(r->w[i].thread, NULL);
    }
    ta_engine_flush(r->local);
    return rc;
}

/* The state and the rings (the files are opened one at a time as they are read). Caps given as
 * totals (--max-flows, --max-analyzing) are shared evenly by the engine threads. */
static int mt_open(const struct ta__capture_opts *o, void **state, char *errbuf)
{
    struct mt_run *r = calloc(1, sizeof(*r));

    *state = NULL;
    if (!r) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory");
        return TA_ERR_NOMEM;
    }
    r->o = o;
    r->n = o->workers > 0 ? (unsigned)o->workers : 1;
    ta__snap_init(&r->snap);
    for (unsigned i = 0; i < TA_MAX_WORKERS; i++)
        ta__snap_init(&r->w[i].snap);
    r->snaps_ready = true;
    r->ecfg = o->ecfg;
    ta_pkt_clock_init(&r->clock, ta_engine_back_us(&o->ecfg));
    r->ecfg.max_flows = ta__capture_share(o->ecfg.max_flows, r->n, 16);
    r->ecfg.max_analyzing = ta__capture_share(o->ecfg.max_analyzing, r->n, 16);
    r->ecfg.stream_bufs = ta__capture_share(o->ecfg.stream_bufs, r->n, 64);
    for (unsigned i = 0; i < r->n; i++) {
        r->w[i].idx = i;
        if (ta__ring_init(&r->w[i].ring) != TA_OK) {
            r->n = i + 1;
            mt_close(r);
            snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory allocating the packet rings");
            return TA_ERR_NOMEM;
        }
    }
    *state = r;
    return TA_OK;
}

/* One engine per engine thread, and the reader's small one (no nDPI, a few flows: it never
 * tracks a flow, DNS and uncountable frames return before the flow table). */
static int mt_engines(void *state, const struct ta_engine_sink *sink, char *errbuf)
{
    struct mt_run *r = state;
    struct ta_engine_config lc = r->o->ecfg;

    lc.max_flows = 16;
    lc.max_analyzing = 16;
    lc.stream_bufs = 16;
    lc.ndpi = false;
    r->local = ta_engine_new(&lc, sink, errbuf);
    if (!r->local)
        return TA_ERR_NOMEM;
    ta_engine_on_datagram(r->local, mt_datagram, r);
    for (unsigned i = 0; i < r->n; i++) {
        r->w[i].e = ta_engine_new(&r->ecfg, sink, errbuf);
        if (!r->w[i].e)
            return TA_ERR_NOMEM;
    }
    return TA_OK;
}

/* Packets read, and every engine's counters (each frame went to exactly one engine). The time
 * went back as often as the reader's clock says: an engine thread that had no packets of a
 * step's time may not have seen it. */
static void mt_stats(const void *state, struct ta_run_stats *rs)
{
    const struct mt_run *r = state;

    reader_stats(r, rs);
    for (unsigned i = 0; i < r->n; i++)
        if (r->w[i].e)
            ta_engine_stats(r->w[i].e, rs);
    if (r->time_back > rs->time_back)
        rs->time_back = r->time_back;
}

static void mt_close(void *state)
{
    struct mt_run *r = state;

    if (!r)
        return;
    for (unsigned i = 0; i < r->n; i++) {
        ta_engine_free(r->w[i].e);
        ta__ring_destroy(&r->w[i].ring);
    }
    ta_engine_free(r->local);
    for (unsigned i = 0; r->snaps_ready && i < TA_MAX_WORKERS; i++)
        ta__snap_destroy(&r->w[i].snap);
    if (r->snaps_ready)
        ta__snap_destroy(&r->snap);
    free(r);
}

const struct ta__source_ops ta__source_file_mt = {
    .name = "file (engine threads)",
    .open = mt_open,
    .engines = mt_engines,
    .tick = mt_tick,
    .run = mt_run,
    .stats = mt_stats,
    .close = mt_close,
};
