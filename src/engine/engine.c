/* engine.c - the per-packet path: decode, flow lookup, TCP bookkeeping, reassembly, dissector
 * dispatch (including the STARTTLS hand-off) and record emission.
 *
 * Cost model: a packet of a flow whose record is written (TA_FLOW_DONE) costs one decode and one
 * index probe. Only flows under analysis own an analysis context (dissector state, two stream
 * states, nDPI state), taken from a pool allocated at start-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_quic.h"
#include "tlsaudit/ndpi_label.h"
#include "tlsaudit/cursor.h"
#include "tlsaudit/defrag.h"
#include "tlsaudit/pkt_clock.h"
#include "tlsaudit/dissector.h"
#include "tlsaudit/engine.h"
#include "tlsaudit/fingerprint.h"
#include "tlsaudit/flow.h"
#include "tlsaudit/packet.h"
#include "tlsaudit/stream.h"

#define TA_PROBE_WAIT_MAX 64      /* bytes a direction may wait for a probe to decide */
#define TA_EXPIRE_EVERY 256       /* packets between idle-timeout checks */

/* One analysis context: what a flow needs while its handshake is being read. */
struct ta_ectx {
    struct ta_ctx c;
    struct ta_stream st[2];
    struct ta_ndpi_state cls;
    uint32_t flow;            /* flow slot index */
    uint32_t next_free;
    uint32_t age_prev, age_next; /* contexts in use, oldest first */
    bool dir_done[2];         /* the dissector wants nothing more from this direction */
    struct ta_encap enc;      /* encapsulation context for the record (ctx_encap) */
    uint8_t enc_client;       /* TA_ENC_* (and ENC_TUNNEL) fields of enc taken from the client */
    bool kick;                /* a hand-off happened: re-deliver the other direction's bytes */
    /* followed by the nDPI flow struct (ta_ndpi_flow_size bytes) */
};

struct ta_engine {
    struct ta_engine_config cfg;
    struct ta_engine_sink sink;
    struct ta_flow_table *flows;
    struct ta_bufpool *bufs;
    struct ta_ndpi *cls;
    struct ta_dis_mem *dis_mem; /* the dissectors' scratch and certificate cache (this engine's) */
    struct ta__quic_engine *quic; /* UDP flows carrying QUIC (engine_quic.c) */
    struct ta_defrag *defrag; /* IP datagrams being rebuilt from fragments */
    ta_engine_datagram_fn on_datagram; /* who reads them, when not this engine */
    void *on_datagram_arg;
    uint8_t *ctx_mem;         /* max_analyzing contexts of ctx_stride bytes */
    size_t ctx_stride;
    uint32_t ctx_free;        /* list of returned contexts */
    uint32_t ctx_fresh;       /* contexts never used yet start here (their pages are untouched) */
    uint32_t ctx_in_use;
    uint32_t age_head, age_tail; /* oldest and newest context in use */
    struct ta_pkt_clock clock; /* packet time, followed back when it goes back for good */
    uint64_t time_back;       /* how often time went back */
    uint32_t since_expire;
    struct ta_decode_stats dstats;
    struct ta_decode_opts dopts;
    uint64_t bytes;
    uint64_t flows_created, flows_evicted, flows_timed_out, records, handshakes;
    uint64_t ctx_exhausted;
    uint64_t truncated;       /* packets the analysis read whose payload the snap length cut */
};

/* Arguments of the stream sink for one delivery. */
struct sink_arg {
    struct ta_engine *e;
    struct ta_ectx *x;
    enum ta_dir dir;
    uint16_t server_port;
};

void ta_engine_config_default(struct ta_engine_config *cfg)
{
    cfg->max_flows = 262144;
    cfg->max_analyzing = 4096;
    cfg->stream_bufs = 4096;
    cfg->stream_buf_size = 32768;
    cfg->idle_timeout_s = 300;
    cfg->ndpi = true;
}

static inline struct ta_ectx *ctx_at(struct ta_engine *e, uint32_t i)
{
    return (struct ta_ectx *)(void *)(e->ctx_mem + (size_t)i * e->ctx_stride);
}

static inline void *ctx_nflow(struct ta_ectx *x)
{
    return (uint8_t *)x + ((sizeof(*x) + 7u) & ~(size_t)7u);
}

struct ta_engine *ta_engine_new(const struct ta_engine_config *cfg, const struct ta_engine_sink *sink,
                                char *errbuf)
{
    struct ta_engine *e = calloc(1, sizeof(*e));

    if (!e)
        goto nomem;
    e->cfg = *cfg;
    ta_pkt_clock_init(&e->clock, ta_engine_back_us(cfg));
    e->sink = *sink;
    e->dopts.vxlan_port = cfg->vxlan_port;
    if (e->cfg.max_analyzing == 0 || e->cfg.max_analyzing > e->cfg.max_flows)
        e->cfg.max_analyzing = e->cfg.max_flows;
    e->flows = ta_flow_table_new(e->cfg.max_flows);
    e->bufs = ta_bufpool_new(e->cfg.stream_bufs, e->cfg.stream_buf_size);
    if (e->cfg.ndpi) {
        e->cls = ta_ndpi_new();
        if (!e->cls) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "cannot initialise nDPI");
            ta_engine_free(e);
            return NULL;
        }
    }
    e->ctx_stride = ((sizeof(struct ta_ectx) + 7u) & ~(size_t)7u) +
                    (e->cfg.ndpi ? ta_ndpi_flow_size() : 0);
    /* calloc: pages of contexts never used are never touched, so they cost no resident memory. */
    e->ctx_mem = calloc(e->cfg.max_analyzing, e->ctx_stride);
    e->dis_mem = ta_dis_mem_new();
    e->quic = ta__quic_engine_new(&e->cfg, e->cls, &e->sink, e->dis_mem);
    e->defrag = ta_defrag_new();
    if (!e->flows || !e->bufs || !e->ctx_mem || !e->dis_mem || !e->quic || !e->defrag)
        goto nomem;
    e->ctx_free = TA_FLOW_NONE;
    e->age_head = e->age_tail = TA_FLOW_NONE;
    return e;
nomem:
    snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory allocating the flow tables");
    ta_engine_free(e);
    return NULL;
}

void ta_engine_free(struct ta_engine *e)
{
    if (!e)
        return;
    ta_flow_table_free(e->flows);
    ta_bufpool_free(e->bufs);
    ta_ndpi_free(e->cls);
    ta_dis_mem_free(e->dis_mem);
    ta__quic_engine_free(e->quic);
    ta_defrag_free(e->defrag);
    free(e->ctx_mem);
    free(e);
}

static void flow_settle(struct ta_engine *e, struct ta_flow *f);

/* Take an analysis context for flow f. When every context is in use, the oldest analysis is
 * settled early (its record written with what it has: typically a ClientHello that was never
 * answered, or a one-sided capture), so a flood of stalled connections cannot lock out new
 * handshakes. Counted in pool_exhausted. */
static bool ctx_take(struct ta_engine *e, struct ta_flow *f)
{
    struct ta_ectx *x;
    uint32_t i = e->ctx_free;

    if (i == TA_FLOW_NONE && e->ctx_fresh >= e->cfg.max_analyzing && e->age_head != TA_FLOW_NONE) {
        struct ta_flow *old = ta_flow_at(e->flows, ctx_at(e, e->age_head)->flow);
        e->ctx_exhausted++;
        flow_settle(e, old);
        i = e->ctx_free;
    }
    if (i != TA_FLOW_NONE) {
        x = ctx_at(e, i);
        e->ctx_free = x->next_free;
    } else if (e->ctx_fresh < e->cfg.max_analyzing) {
        i = e->ctx_fresh++;
        x = ctx_at(e, i);
    } else {
        e->ctx_exhausted++;
        return false;
    }
    memset(x, 0, sizeof(*x));
    x->c.mem = e->dis_mem;
    if (e->cls)
        ta_ndpi_reset(&x->cls, ctx_nflow(x));
    x->flow = ta_flow_index(e->flows, f);
    for (int d = 0; d < 2; d++) {
        ta_stream_init(&x->st[d]);
        if (f->syn_seen & (1u << d))
            ta_stream_set_isn(&x->st[d], f->isn[d]);
    }
    x->c.hs.ts_first_us = f->ts_first_us;
    x->c.dirs_seen = f->syn_seen;   /* the packets before this one: SYN, SYN+ACK */
    x->age_next = TA_FLOW_NONE;
    x->age_prev = e->age_tail;
    if (e->age_tail != TA_FLOW_NONE)
        ctx_at(e, e->age_tail)->age_next = i;
    else
        e->age_head = i;
    e->age_tail = i;
    f->ctx = i;
    e->ctx_in_use++;
    return true;
}

static void ctx_put(struct ta_engine *e, struct ta_flow *f)
{
    struct ta_ectx *x = ctx_at(e, f->ctx);

    for (int d = 0; d < 2; d++)
        ta_stream_release(&x->st[d], e->bufs);
    if (x->age_prev != TA_FLOW_NONE)
        ctx_at(e, x->age_prev)->age_next = x->age_next;
    else
        e->age_head = x->age_next;
    if (x->age_next != TA_FLOW_NONE)
        ctx_at(e, x->age_next)->age_prev = x->age_prev;
    else
        e->age_tail = x->age_prev;
    x->next_free = e->ctx_free;
    e->ctx_free = f->ctx;
    f->ctx = TA_FLOW_NONE;
    e->ctx_in_use--;
}

#define ENC_TUNNEL 0x80      /* bit of enc_client for enc.tunnel */

/* Keep the encapsulation context of a packet of the flow for its record: each field (tunnel,
 * VLAN, VNI, SGT) from the first packet that carries it, a packet of the client replacing one
 * of the server (a TrustSec span may tag only one direction; the client's tag describes the
 * client, and the rows are about clients). */
static void ctx_encap(struct ta_ectx *x, const struct ta_pkt *pkt, enum ta_dir dir)
{
    const struct ta_encap *p = &pkt->enc;
    uint8_t have = (uint8_t)(x->enc.has | (x->enc.tunnel ? ENC_TUNNEL : 0));
    uint8_t got = (uint8_t)(p->has | (p->tunnel ? ENC_TUNNEL : 0));
    uint8_t take = (uint8_t)(got & ~have);

    if (dir == TA_DIR_C2S)
        take |= (uint8_t)(got & have & ~x->enc_client);
    if (!take)
        return;
    if (take & ENC_TUNNEL)
        x->enc.tunnel = p->tunnel;
    if (take & TA_ENC_VLAN)
        x->enc.vlan = p->vlan;
    if (take & TA_ENC_VNI)
        x->enc.vni = p->vni;
    if (take & TA_ENC_SGT)
        x->enc.sgt = p->sgt;
    x->enc.has |= (uint8_t)(take & ~ENC_TUNNEL);
    if (dir == TA_DIR_C2S)
        x->enc_client |= take;
    else
        x->enc_client &= (uint8_t)~take;
}

/* Write the record of x, when it holds anything worth a row: the connection's first record
 * also for an alert or a text prelude alone, a later one (hs.seq > 0) only for a hello. */
static void record_write(struct ta_engine *e, struct ta_flow *f, struct ta_ectx *x)
{
    struct ta_hs *hs = &x->c.hs;
    bool hello = ta_hs_has_hello(hs);

    for (int d = 0; d < 2; d++)
        if (x->st[d].gap)
            hs->anomalies |= TA_AN_STREAM_GAP;
    if (hello || (hs->seq == 0 && (hs->alert.present || hs->mail.present))) {
        ta__engine_fill_endpoints(f, hs);
        ta_hs_fingerprint(hs);
        hs->enc = x->enc;
        if (e->cls)
            ta_ndpi_finish(e->cls, &x->cls, ctx_nflow(x), hs->ndpi_name, sizeof(hs->ndpi_name));
        hs->ndpi_master = x->cls.master;
        hs->ndpi_app = x->cls.app;
        if (e->sink.record)
            e->sink.record(e->sink.arg, hs);
        e->records++;
        if (hello)
            e->handshakes++;
    } else if (e->cls) {
        ta_ndpi_finish(e->cls, &x->cls, ctx_nflow(x), NULL, 0);
    }
}

/* Another handshake begins on a connection still in clear: write the record so far and start a
 * fresh one that keeps what describes the connection (application, STARTTLS, the text prelude
 * whose banner classifies it). The TLS dissector restarts both directions. */
static void record_next(struct ta_engine *e, struct ta_flow *f, struct ta_ectx *x)
{
    struct ta_hs *hs = &x->c.hs;
    struct ta_mail mail = hs->mail;
    uint8_t app = hs->app, seq = hs->seq;
    bool starttls = hs->starttls;

    record_write(e, f, x);
    memset(hs, 0, sizeof(*hs));
    hs->app = app;
    hs->starttls = starttls;
    hs->mail = mail;
    hs->seq = (uint8_t)(seq + 1);
    hs->ts_first_us = e->clock.now_us;
    ta_tls_restart(&x->c);
    x->dir_done[0] = x->dir_done[1] = false;
}

/* The flow's analysis is over: settle the dissectors, write the record if there is anything to
 * write, release the context, and mark the flow DONE. */
static void flow_settle(struct ta_engine *e, struct ta_flow *f)
{
    struct ta_ectx *x;
    uint8_t o0, o1;

    if (f->state != TA_FLOW_ANALYZE || f->ctx == TA_FLOW_NONE) {
        f->state = TA_FLOW_DONE;
        return;
    }
    x = ctx_at(e, f->ctx);
    o0 = x->c.owner[0];
    o1 = x->c.owner[1];
    if (o0 != TA_DIS_NONE && o0 < TA_DIS_COUNT && ta_dissectors[o0]->finish)
        ta_dissectors[o0]->finish(&x->c);
    if (o1 != o0 && o1 != TA_DIS_NONE && o1 < TA_DIS_COUNT && ta_dissectors[o1]->finish)
        ta_dissectors[o1]->finish(&x->c);
    record_write(e, f, x);
    ctx_put(e, f);
    f->state = TA_FLOW_DONE;
}

/* End a flow for good (close, timeout, eviction, end of input) and free its slot. */
static void flow_end(struct ta_engine *e, struct ta_flow *f)
{
    flow_settle(e, f);
    ta_flow_remove(e->flows, f);
}

/* Pick the dissector for a flow from the first bytes of direction dir. Returns the dissector id,
 * or TA_DIS_NONE when an earlier dissector in the registry still needs more bytes. */
static uint8_t choose_dissector(const uint8_t *data, size_t len, enum ta_dir dir, uint16_t sport)
{
    for (unsigned i = 1; i < TA_DIS_COUNT; i++) {
        const struct ta_dissector *d = ta_dissectors[i];
        int rc;
        if (!d || !d->probe)
            continue;
        rc = d->probe(dir, data, len, sport);
        if (rc == TA_OK)
            return (uint8_t)i;
        if (rc == TA_NEED_MORE && len < TA_PROBE_WAIT_MAX)
            return TA_DIS_NONE;
    }
    return TA_DIS_NONE;
}

/* Give both directions of the flow to dissector id. */
static void ctx_own(struct ta_ctx *c, uint8_t id)
{
    ta_dissectors[id]->start(c);
    c->owner[0] = c->owner[1] = id;
}

/* A text dissector's TA_HANDOFF: the rest of this direction is TLS's, and the other direction's
 * held bytes are offered again (flow_after_data), since what it accepts may have changed. */
static void dir_to_tls(struct sink_arg *sa)
{
    ta_tls_takeover(&sa->x->c, sa->dir);
    sa->x->c.owner[sa->dir] = TA_DIS_TLS;
    sa->x->kick = true;
}

/* Stream sink: give in-order bytes of one direction to the dissector that owns it. A text
 * dissector's TA_HANDOFF switches the direction to TLS at that exact byte and the rest of the
 * bytes go to TLS in the same call. Whatever a dissector rejects or no longer wants is consumed
 * here so the stream never holds it. */
static int engine_sink(void *arg, const uint8_t *data, size_t len, size_t *consumed)
{
    struct sink_arg *sa = arg;
    struct ta_ctx *c = &sa->x->c;
    size_t off = 0;
    int handoffs = 0;

    *consumed = 0;
    while (off < len && !sa->x->dir_done[sa->dir]) {
        uint8_t owner = c->owner[sa->dir];
        size_t used = 0;
        int rc;

        if (owner == TA_DIS_NONE) {
            owner = choose_dissector(data + off, len - off, sa->dir, sa->server_port);
            if (owner == TA_DIS_NONE)
                break; /* wait for more bytes */
            ctx_own(c, owner);
        }
        rc = ta_dissectors[owner]->feed(c, sa->dir, data + off, len - off, &used);
        if (used > len - off)
            used = len - off;
        off += used;
        if (rc == TA_OK) {
            break;
        } else if (rc == TA_RESTART && owner == TA_DIS_TLS) {
            record_next(sa->e, ta_flow_at(sa->e->flows, sa->x->flow), sa->x);
        } else if (rc == TA_HANDOFF && owner != TA_DIS_TLS && handoffs++ < 2) {
            dir_to_tls(sa);
        } else {
            /* TA_DONE, TA_MALFORMED or anything else: this direction is finished. */
            sa->x->dir_done[sa->dir] = true;
        }
    }
    if (sa->x->dir_done[sa->dir])
        off = len;
    *consumed = off;
    return TA_OK;
}

/* The dissector for a direction whose first bytes a loss cut short: the probes wait for a line
 * end that will never come, so they are shown the bytes as a whole line. */
static uint8_t choose_at_gap(const uint8_t *held, size_t len, enum ta_dir dir, uint16_t sport)
{
    uint8_t line[TA_PROBE_WAIT_MAX + 2];

    if (len == 0 || len >= TA_PROBE_WAIT_MAX)
        return TA_DIS_NONE;   /* nothing to go by, or the probes already declined these bytes */
    memcpy(line, held, len);
    line[len] = '\r';
    line[len + 1] = '\n';
    return choose_dissector(line, len + 2, dir, sport);
}

/* Stream gap callback: the snap length cut a segment of direction sa->dir. The dissector that
 * owns the direction (chosen now from the bytes there are, if none was yet) decides whether the
 * stream steps over the lost bytes; its answer is applied as the sink applies a feed's. */
static bool engine_gap(void *arg, const uint8_t *held, size_t len, uint32_t lost)
{
    struct sink_arg *sa = arg;
    struct ta_ctx *c = &sa->x->c;
    uint8_t owner = c->owner[sa->dir];
    int rc;

    if (owner == TA_DIS_NONE) {
        owner = choose_at_gap(held, len, sa->dir, sa->server_port);
        if (owner == TA_DIS_NONE)
            return false;
        ctx_own(c, owner);
    }
    if (!ta_dissectors[owner]->gap)
        return false;
    rc = ta_dissectors[owner]->gap(c, sa->dir, held, len, lost);
    if (rc == TA_NEED_MORE)
        return false;
    if (rc == TA_HANDOFF && owner != TA_DIS_TLS) {
        dir_to_tls(sa);
    } else if (rc != TA_OK) {
        sa->x->dir_done[sa->dir] = true;
    }
    return true;
}

/* Decide who is the client of a new flow from its first packet. */
static void flow_set_roles(struct ta_flow *f, const struct ta_pkt *pkt, bool from_a)
{
    bool sender_is_client;

    if ((pkt->tcp_flags & (TA_TCP_SYN | TA_TCP_ACK)) == TA_TCP_SYN)
        sender_is_client = true;
    else if (pkt->tcp_flags & TA_TCP_SYN)
        sender_is_client = false; /* SYN+ACK: the receiver opened the connection */
    else if (pkt->payload_len && ta_tls_probe_hello(pkt->payload, pkt->payload_len, true) == TA_OK)
        sender_is_client = true;
    else if (pkt->payload_len && ta_tls_probe_hello(pkt->payload, pkt->payload_len, false) == TA_OK)
        sender_is_client = false;
    else /* mid-stream, undecided: the side on a well-known port is the server */
        sender_is_client = !(pkt->sport < 1024 && pkt->dport >= 1024);
    f->client_is_a = (uint8_t)(sender_is_client == from_a);
}

/* Make room for one more flow by ending the least recently active one. */
static void flow_evict_one(struct ta_engine *e)
{
    struct ta_flow *old = ta_flow_oldest(e->flows);

    if (old) {
        flow_end(e, old);
        e->flows_evicted++;
    }
}

/* A handshake ended by a fatal alert while the connection is still in clear (a client refused
 * for its version): the record is written now, but the flow stays under analysis in case the
 * client tries again on the same connection. It costs a context until the connection closes,
 * which after a fatal alert is usually the next packet. */
static bool retry_possible(const struct ta_ctx *c)
{
    const struct ta_hs *hs = &c->hs;

    return hs->alert.present && hs->alert.level == 2 && c->owner[0] == TA_DIS_TLS &&
           c->owner[1] == TA_DIS_TLS && hs->seq + 1 < TA_MAX_HANDSHAKES_PER_FLOW &&
           ta_tls_in_clear(c);
}

/* After payload was delivered: re-deliver the other direction after a hand-off, and write the
 * record as soon as nothing more is to be learned. */
static void flow_after_data(struct ta_engine *e, struct ta_flow *f, struct ta_ectx *x,
                            enum ta_dir dir, uint16_t server_port)
{
    if (x->kick) {
        struct sink_arg other = { e, x, (enum ta_dir)!dir, server_port };
        x->kick = false;
        ta_stream_redeliver(&x->st[!dir], e->bufs, engine_sink, &other);
    }
    if (x->c.hs.handshake_done && retry_possible(&x->c))
        record_next(e, f, x);
    else if (x->c.hs.handshake_done || (x->dir_done[0] && x->dir_done[1]))
        flow_settle(e, f);
}

/* A packet of the other direction acknowledged bytes of direction dir that the capture missed
 * (ta_stream_skip_hole): the owner of dir decides, as for bytes a snap length cut, whether the
 * stream steps over them; what then became contiguous is delivered. Returns whether the flow is
 * still under analysis (the record may have been written and the context released). */
static bool ack_gap(struct ta_engine *e, struct ta_flow *f, struct ta_ectx *x, enum ta_dir dir,
                    uint32_t ack, uint16_t server_port)
{
    struct sink_arg sa = { e, x, dir, server_port };
    bool stepped = false;

    ta_stream_skip_hole(&x->st[dir], e->bufs, ack, engine_gap, &sa, engine_sink, &sa, &stepped);
    if (stepped)
        flow_after_data(e, f, x, dir, server_port);
    return f->state == TA_FLOW_ANALYZE;
}

/* TCP packet of flow f travelling in direction dir. */
static void tcp_packet(struct ta_engine *e, struct ta_flow *f, const struct ta_pkt *pkt,
                       enum ta_dir dir)
{
    uint8_t fl = pkt->tcp_flags;

    /* A repeated SYN or SYN+ACK with another sequence number replaces the first: some stacks
     * and middleboxes send several, and the peer acknowledges the last one. The stream ignores
     * it once data was delivered. */
    if ((fl & TA_TCP_SYN) && (!(f->syn_seen & (1u << dir)) || f->isn[dir] != pkt->seq)) {
        f->syn_seen |= (uint8_t)(1u << dir);
        f->isn[dir] = pkt->seq;
        if (f->state == TA_FLOW_ANALYZE)
            ta_stream_set_isn(&ctx_at(e, f->ctx)->st[dir], pkt->seq);
    }
    if (f->state == TA_FLOW_NEW && pkt->payload_len > 0)
        f->state = ctx_take(e, f) ? TA_FLOW_ANALYZE : TA_FLOW_DONE;
    else if (f->state == TA_FLOW_NEW && pkt->truncated)
        e->truncated++;   /* the snap length left none of the payload a new flow starts with */
    if (f->state == TA_FLOW_ANALYZE) {
        struct ta_ectx *x = ctx_at(e, f->ctx);
        uint16_t server_port = f->client_is_a ? f->key.pb : f->key.pa;
        if (e->cls && !x->cls.done)
            ta_ndpi_packet(e->cls, &x->cls, ctx_nflow(x), pkt->l3, pkt->l3_len, pkt->ts_us);
        ctx_encap(x, pkt, dir);
        x->c.dirs_seen |= (uint8_t)(1u << dir);
        if ((fl & TA_TCP_ACK) && x->st[!dir].nholes && !x->dir_done[!dir] &&
            !ack_gap(e, f, x, (enum ta_dir)!dir, pkt->ack, server_port)) {
            /* the gap let the analysis end: the record is written, nothing more to read */
        } else if ((pkt->payload_len > 0 || pkt->payload_lost > 0) && !x->dir_done[dir] &&
                   !x->st[dir].closed) {
            struct sink_arg sa = { e, x, dir, server_port };
            if (pkt->truncated)
                e->truncated++;
            /* Data on a SYN (TCP Fast Open, RFC 7413) starts after the SYN's own sequence
             * number: the first byte is ISN + 1, where a retransmission would put it too. */
            uint32_t seq = (fl & TA_TCP_SYN) ? pkt->seq + 1 : pkt->seq;
            ta_stream_segment(&x->st[dir], e->bufs, seq, pkt->payload, pkt->payload_len,
                              engine_sink, &sa);
            /* Bytes the snap length cut off never arrive: a plaintext dialogue steps over them
             * and goes on at the next segment; TLS waits, as at any hole. */
            if (pkt->payload_lost > 0 && !x->dir_done[dir])
                ta_stream_skip(&x->st[dir], e->bufs, seq + pkt->payload_len, pkt->payload_lost,
                               engine_gap, &sa);
            flow_after_data(e, f, x, dir, server_port);
        }
    }
    if (fl & TA_TCP_RST) {
        flow_end(e, f);
        return;
    }
    if (fl & TA_TCP_FIN) {
        f->fin_seen |= (uint8_t)(1u << dir);
        if (f->fin_seen == 3)
            flow_end(e, f);
    }
}

/* A SYN (without ACK) on a flow that already carried data or began closing, with a sequence
 * number other than the one seen before from that side: the 4-tuple was reused for a new
 * connection whose end we did not see (a capture that missed the FIN/RST, a client that
 * recycles its source port). The old flow is ended and a new one starts with this SYN. */
static bool new_connection(const struct ta_flow *f, const struct ta_pkt *pkt, bool from_a)
{
    unsigned dir = (from_a == (bool)f->client_is_a) ? TA_DIR_C2S : TA_DIR_S2C;

    if ((pkt->tcp_flags & (TA_TCP_SYN | TA_TCP_ACK)) != TA_TCP_SYN)
        return false;
    if (f->state == TA_FLOW_NEW && !f->fin_seen)
        return false;
    return !((f->syn_seen & (1u << dir)) && f->isn[dir] == pkt->seq);
}

static void engine_ip(struct ta_engine *e, struct ta_pkt *pkt);

/* A fragment: into the reassembly table, and when it made its datagram whole, the datagram on
 * through the engine (or to the hand-off of ta_engine_on_datagram, which may take it elsewhere). */
static void engine_fragment(struct ta_engine *e, const struct ta_pkt *frag, uint64_t ts_us)
{
    const uint8_t *ip;
    uint32_t len;
    struct ta_pkt_outer outer;

    if (ta_defrag_add(e->defrag, frag, ts_us, &ip, &len, &outer) != TA_OK)
        return;
    if (e->on_datagram && e->on_datagram(e->on_datagram_arg, ts_us, &outer, ip, len))
        return;
    ta_engine_datagram(e, ts_us, &outer, ip, len);
}

void ta_engine_on_datagram(struct ta_engine *e, ta_engine_datagram_fn fn, void *arg)
{
    e->on_datagram = fn;
    e->on_datagram_arg = arg;
}

void ta_engine_datagram(struct ta_engine *e, uint64_t ts_us, const struct ta_pkt_outer *outer,
                        const uint8_t *ip, uint32_t len)
{
    struct ta_pkt pkt;

    if (ta_decode_datagram(outer, ip, len, &pkt, &e->dstats) != TA_OK || pkt.ip_fragment)
        return;               /* a fragment inside a reassembled datagram is only counted */
    pkt.ts_us = ts_us;
    pkt.wire_len = len;
    engine_ip(e, &pkt);
}

/* The packets' time went back to ts_us (TA_PKT_CLOCK_CONFIRM packets in a row far back,
 * pkt_clock.h): a file older than the one read before it in the same run, or a clock stepped
 * back under a live capture. (One packet alone is a stray time: a corrupt or fuzzed record, seen in the shared
 * captures, and changes nothing.) The idle timeout compares a flow's last packet with the latest
 * time seen, so each flow of the earlier time would look idle at the next check and be cut into
 * pieces, and the flows of the later time would never look idle. The flows of the later time
 * end here, as at the end of the input (their records are written); those the earlier packets
 * began stay, and time goes on from theirs: a file read after a later one gives the rows it
 * gives alone. */
static void time_went_back(struct ta_engine *e, uint64_t ts_us)
{
    struct ta_flow *f = ta_flow_oldest(e->flows);

    while (f) {
        struct ta_flow *next = ta_flow_newer(e->flows, f);
        if (f->ts_last_us > ts_us + e->clock.back_us)
            flow_end(e, f);
        f = next;
    }
    ta__quic_engine_end_after(e->quic, ts_us + e->clock.back_us);
    ta_pkt_clock_set(&e->clock, ts_us);
    e->time_back++;
}

void ta_engine_packet(struct ta_engine *e, int dlt, uint64_t ts_us, const uint8_t *data,
                      uint32_t caplen, uint32_t wire_len)
{
    struct ta_pkt pkt;

    e->bytes += wire_len;
    if (ta_pkt_clock_see(&e->clock, ts_us))
        time_went_back(e, e->clock.now_us);
    if (++e->since_expire >= TA_EXPIRE_EVERY) {
        e->since_expire = 0;
        ta_engine_expire(e, e->clock.now_us);
    }
    if (ta_decode_with(&e->dopts, dlt, data, caplen, &pkt, &e->dstats) != TA_OK)
        return;
    if (pkt.ip_fragment) {
        engine_fragment(e, &pkt, ts_us);
        return;
    }
    pkt.ts_us = ts_us;
    pkt.wire_len = wire_len;
    engine_ip(e, &pkt);
}

/* One IP packet, decoded (or a datagram rebuilt from fragments): DNS, QUIC, TCP flows. */
static void engine_ip(struct ta_engine *e, struct ta_pkt *pkt)
{
    struct ta_flow_key key;
    struct ta_flow *f;
    uint64_t ts_us = pkt->ts_us;
    uint32_t hash;
    bool from_a;

    if (pkt->sport == 53 && pkt->truncated && (pkt->l4 == TA_L4_UDP || pkt->l4 == TA_L4_TCP))
        e->truncated++;       /* a DNS answer cut short cannot be read (nor its end found) */
    if (pkt->l4 == TA_L4_UDP) {
        if (pkt->sport == 53 && pkt->payload_len > 0 && e->sink.dns)
            e->sink.dns(e->sink.arg, ts_us, pkt->payload, pkt->payload_len);
        else if (pkt->sport != 53 && pkt->dport != 53)
            ta__quic_engine_packet(e->quic, pkt);
        return;
    }
    if (pkt->l4 != TA_L4_TCP)
        return;
    if (pkt->sport == 53 || pkt->dport == 53) {
        /* DNS over TCP: answers that fit one segment (2-byte length prefix, RFC 1035 4.2.2). */
        if (pkt->sport == 53 && pkt->payload_len > 2 && e->sink.dns) {
            struct ta_cur c = ta_cur_make(pkt->payload, pkt->payload_len);
            uint16_t n;
            if (ta_cur_u16(&c, &n) && n == ta_cur_left(&c))
                e->sink.dns(e->sink.arg, ts_us, c.p, n);
        }
        return;
    }
    ta_flow_key_make(pkt, &key, &from_a);
    f = ta_flow_find(e->flows, &key, &hash);
    if (f && new_connection(f, pkt, from_a)) {
        flow_end(e, f);
        f = NULL;
    }
    if (!f) {
        /* Bare ACKs, FINs and RSTs of unknown flows create nothing: floods of them cost a probe. */
        if ((pkt->tcp_flags & TA_TCP_RST) ||
            (!(pkt->tcp_flags & TA_TCP_SYN) && pkt->payload_len == 0))
            return;
        if (ta_flow_count(e->flows) >= ta_flow_capacity(e->flows))
            flow_evict_one(e);
        f = ta_flow_insert(e->flows, &key, hash, ts_us);
        if (!f)
            return;
        e->flows_created++;
        flow_set_roles(f, pkt, from_a);
    } else {
        ta_flow_touch(e->flows, f, ts_us);
        if (f->state == TA_FLOW_DONE && !(pkt->tcp_flags & (TA_TCP_FIN | TA_TCP_RST)))
            return; /* the common case on a busy link: one probe, nothing else */
    }
    tcp_packet(e, f, pkt, (from_a == (bool)f->client_is_a) ? TA_DIR_C2S : TA_DIR_S2C);
}

/* See engine.h. Past half the shorter timeout, the packets' flows would be cut by it (or their
 * IP fragments given up); below 1 s it would take mere reordering, which a live link's queues
 * make by microseconds, for a clock step. */
uint64_t ta_engine_back_us(const struct ta_engine_config *cfg)
{
    uint64_t t = cfg->idle_timeout_s < TA_DEFRAG_TIMEOUT_S ? cfg->idle_timeout_s
                 : TA_DEFRAG_TIMEOUT_S;
    return t < 2 ? 1000000u : t * 500000u;
}

void ta_engine_expire(struct ta_engine *e, uint64_t now_us)
{
    uint64_t idle = (uint64_t)e->cfg.idle_timeout_s * 1000000u;
    struct ta_flow *f;

    if (now_us + e->clock.back_us < e->clock.now_us) {
        time_went_back(e, now_us);     /* a reader's or the wall clock's time: no stray */
        return;
    }
    if (e->clock.behind)
        return;                        /* packets far back: the earlier flows are not idle */

    while ((f = ta_flow_oldest(e->flows)) != NULL && f->ts_last_us + idle < now_us) {
        flow_end(e, f);
        e->flows_timed_out++;
    }
    ta__quic_engine_expire(e->quic, now_us);
    ta_defrag_expire(e->defrag, now_us);
}

void ta_engine_flush(struct ta_engine *e)
{
    struct ta_flow *f;

    while ((f = ta_flow_oldest(e->flows)) != NULL)
        flow_end(e, f);
    ta__quic_engine_flush(e->quic);
    ta_defrag_flush(e->defrag);
}

void ta_engine_stats(const struct ta_engine *e, struct ta_run_stats *rs)
{
    rs->bytes += e->bytes;
    rs->flows += e->flows_created;
    rs->flows_evicted += e->flows_evicted;
    rs->flows_timed_out += e->flows_timed_out;
    rs->handshakes += e->handshakes;
    rs->ip_fragments += e->dstats.ip_fragments;
    rs->ip_reassembled += ta_defrag_stats(e->defrag)->reassembled;
    rs->ip_incomplete += ta_defrag_stats(e->defrag)->incomplete;
    if (e->time_back > rs->time_back)   /* every engine sees each step: counted once */
        rs->time_back = e->time_back;
    rs->malformed += e->dstats.malformed;
    rs->non_ip += e->dstats.non_ip;
    rs->pool_exhausted += e->ctx_exhausted + ta_bufpool_exhausted(e->bufs);
    rs->tunneled += e->dstats.tunneled;
    rs->undecoded_mpls += e->dstats.undecoded[TA_TUN_MPLS];
    rs->undecoded_pppoe += e->dstats.undecoded[TA_TUN_PPPOE];
    rs->undecoded_gre += e->dstats.undecoded[TA_TUN_GRE];
    rs->undecoded_erspan += e->dstats.undecoded[TA_TUN_ERSPAN1] +
                            e->dstats.undecoded[TA_TUN_ERSPAN2] + e->dstats.undecoded[TA_TUN_ERSPAN3];
    rs->undecoded_vxlan += e->dstats.undecoded[TA_TUN_VXLAN];
    rs->undecoded_geneve += e->dstats.undecoded[TA_TUN_GENEVE];
    rs->undecoded_cmd += e->dstats.undecoded[TA_TUN_CMD];
    rs->undecoded_ipip += e->dstats.undecoded[TA_TUN_IP4IN4] + e->dstats.undecoded[TA_TUN_IP6IN4] +
                          e->dstats.undecoded[TA_TUN_IP4IN6] + e->dstats.undecoded[TA_TUN_IP6IN6];
    rs->tunnel_too_deep += e->dstats.tunnel_too_deep;
    rs->truncated += e->truncated;
    ta__quic_engine_stats(e->quic, rs);
}
