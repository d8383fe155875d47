/* engine_quic.c - the engine's UDP path for QUIC: a flow table and a pool of analysis contexts
 * of its own (so a flood of QUIC Initials can neither evict TCP flows nor take their contexts),
 * the QUIC dissector fed with each long-header datagram of a flow, records out through the
 * engine's sink with nDPI's name when nDPI is on.
 *
 * Cost model: a UDP packet that is not a long-header QUIC packet costs two byte checks; one of a
 * flow whose record is written costs an index probe; a client's first Initial costs one key
 * derivation and one AEAD open before a flow is created (ta_quic_probe), so garbage creates
 * nothing. Only a flow's first datagrams are read (the dissector's budget). */
#include <stdlib.h>
#include <string.h>

#include "engine_quic.h"
#include "tlsaudit/cursor.h"
#include "tlsaudit/dissector.h"
#include "tlsaudit/fingerprint.h"
#include "tlsaudit/flow.h"
#include "tlsaudit/quic.h"

/* One QUIC analysis context, followed by the nDPI flow struct when nDPI is on. */
struct qx {
    struct ta_ctx c;
    struct ta_quic_state q;
    struct ta_ndpi_state cls;
    uint32_t flow;            /* flow slot index */
    uint32_t next_free;
    uint32_t age_prev, age_next; /* contexts in use, oldest first */
};

struct ta__quic_engine {
    struct ta_engine_sink sink;
    struct ta_ndpi *cls;
    struct ta_dis_mem *dis_mem;       /* the engine's dissector memory, given to every context */
    struct ta_flow_table *flows;
    struct ta_quic_crypto *qc;
    uint8_t *ctx_mem;
    size_t stride;
    uint32_t nctx, ctx_free, ctx_fresh, ctx_in_use, age_head, age_tail;
    uint64_t idle_us;
    uint64_t flows_created, flows_evicted, flows_timed_out, records, ctx_exhausted;
    uint64_t truncated;       /* datagrams of analysed flows cut short by the snap length */
};

static inline struct qx *qx_at(struct ta__quic_engine *q, uint32_t i)
{
    return (struct qx *)(void *)(q->ctx_mem + (size_t)i * q->stride);
}

static inline void *qx_nflow(struct qx *x)
{
    return (uint8_t *)x + ((sizeof(*x) + 7u) & ~(size_t)7u);
}

struct ta__quic_engine *ta__quic_engine_new(const struct ta_engine_config *cfg,
                                            struct ta_ndpi *cls,
                                            const struct ta_engine_sink *sink,
                                            struct ta_dis_mem *dis_mem)
{
    struct ta__quic_engine *q = calloc(1, sizeof(*q));
    uint32_t nflows = cfg->max_flows / 4 > 16 ? cfg->max_flows / 4 : 16;
    if (!q)
        return NULL;
    q->sink = *sink;
    q->cls = cls;
    q->dis_mem = dis_mem;
    q->nctx = cfg->max_analyzing / 4 > 4 ? cfg->max_analyzing / 4 : 4;
    if (q->nctx > nflows)
        q->nctx = nflows;
    q->idle_us = (uint64_t)cfg->idle_timeout_s * 1000000u;
    q->stride = ((sizeof(struct qx) + 7u) & ~(size_t)7u) + (cls ? ta_ndpi_flow_size() : 0);
    q->flows = ta_flow_table_new(nflows);
    q->qc = ta_quic_crypto_new();
    /* calloc: pages of contexts never used are never touched (no resident memory). */
    q->ctx_mem = calloc(q->nctx, q->stride);
    q->ctx_free = q->age_head = q->age_tail = TA_FLOW_NONE;
    if (!q->flows || !q->qc || !q->ctx_mem) {
        ta__quic_engine_free(q);
        return NULL;
    }
    return q;
}

void ta__quic_engine_free(struct ta__quic_engine *q)
{
    if (!q)
        return;
    ta_flow_table_free(q->flows);
    ta_quic_crypto_free(q->qc);
    free(q->ctx_mem);
    free(q);
}

static void flow_settle(struct ta__quic_engine *q, struct ta_flow *f);

/* Take a context for flow f; when all are in use the oldest analysis is settled early (its
 * record written with what it has), counted in pool_exhausted, so stalled handshakes cannot
 * lock out new ones. */
static bool ctx_take(struct ta__quic_engine *q, struct ta_flow *f)
{
    struct qx *x;
    uint32_t i;
    if (q->ctx_free == TA_FLOW_NONE && q->ctx_fresh >= q->nctx && q->age_head != TA_FLOW_NONE) {
        q->ctx_exhausted++;
        flow_settle(q, ta_flow_at(q->flows, qx_at(q, q->age_head)->flow));
    }
    i = q->ctx_free;
    if (i != TA_FLOW_NONE) {
        q->ctx_free = qx_at(q, i)->next_free;
    } else if (q->ctx_fresh < q->nctx) {
        i = q->ctx_fresh++;
    } else {
        q->ctx_exhausted++;
        return false;
    }
    x = qx_at(q, i);
    memset(x, 0, sizeof(*x));
    x->c.mem = q->dis_mem;
    if (q->cls)
        ta_ndpi_reset(&x->cls, qx_nflow(x));
    x->flow = ta_flow_index(q->flows, f);
    x->c.hs.ts_first_us = f->ts_first_us;
    x->age_next = TA_FLOW_NONE;
    x->age_prev = q->age_tail;
    if (q->age_tail != TA_FLOW_NONE)
        qx_at(q, q->age_tail)->age_next = i;
    else
        q->age_head = i;
    q->age_tail = i;
    f->ctx = i;
    q->ctx_in_use++;
    return true;
}

static void ctx_put(struct ta__quic_engine *q, struct ta_flow *f)
{
    struct qx *x = qx_at(q, f->ctx);
    if (x->age_prev != TA_FLOW_NONE)
        qx_at(q, x->age_prev)->age_next = x->age_next;
    else
        q->age_head = x->age_next;
    if (x->age_next != TA_FLOW_NONE)
        qx_at(q, x->age_next)->age_prev = x->age_prev;
    else
        q->age_tail = x->age_prev;
    x->next_free = q->ctx_free;
    q->ctx_free = f->ctx;
    f->ctx = TA_FLOW_NONE;
    q->ctx_in_use--;
}

/* The analysis of f is over: settle the dissector, write the record when a hello was read,
 * release the context, and mark the flow DONE (later packets cost an index probe). */
static void flow_settle(struct ta__quic_engine *q, struct ta_flow *f)
{
    struct qx *x;
    struct ta_hs *hs;
    if (f->state != TA_FLOW_ANALYZE || f->ctx == TA_FLOW_NONE) {
        f->state = TA_FLOW_DONE;
        return;
    }
    x = qx_at(q, f->ctx);
    hs = &x->c.hs;
    ta_quic_finish(&x->c, &x->q);
    if (hs->ch.present || hs->sh.present) {
        ta__engine_fill_endpoints(f, hs);
        ta_hs_fingerprint(hs);
        if (q->cls)
            ta_ndpi_finish(q->cls, &x->cls, qx_nflow(x), hs->ndpi_name, sizeof hs->ndpi_name);
        hs->ndpi_master = x->cls.master;
        hs->ndpi_app = x->cls.app;
        if (q->sink.record)
            q->sink.record(q->sink.arg, hs);
        q->records++;
    } else if (q->cls) {
        ta_ndpi_finish(q->cls, &x->cls, qx_nflow(x), NULL, 0);
    }
    ctx_put(q, f);
    f->state = TA_FLOW_DONE;
}

static void flow_end(struct ta__quic_engine *q, struct ta_flow *f)
{
    flow_settle(q, f);
    ta_flow_remove(q->flows, f);
}

/* A new flow for a client's first Initial (already accepted by ta_quic_probe), the oldest
 * flow evicted when the table is full. NULL when no slot could be had. */
static struct ta_flow *flow_new(struct ta__quic_engine *q, const struct ta_pkt *pkt,
                                const struct ta_flow_key *key, uint32_t hash, bool from_a)
{
    struct ta_flow *f;
    if (ta_flow_count(q->flows) >= ta_flow_capacity(q->flows)) {
        struct ta_flow *old = ta_flow_oldest(q->flows);
        if (old) {
            flow_end(q, old);
            q->flows_evicted++;
        }
    }
    f = ta_flow_insert(q->flows, key, hash, pkt->ts_us);
    if (!f)
        return NULL;
    q->flows_created++;
    f->client_is_a = (uint8_t)from_a;
    if (ctx_take(q, f)) {
        struct qx *x = qx_at(q, f->ctx);
        f->state = TA_FLOW_ANALYZE;
        ta_quic_start(&x->c, &x->q, pkt->payload, pkt->payload_len);
    } else {
        f->state = TA_FLOW_DONE;
    }
    return f;
}

void ta__quic_engine_packet(struct ta__quic_engine *q, const struct ta_pkt *pkt)
{
    struct ta_cur c;
    struct ta_flow_key key;
    struct ta_flow *f;
    struct qx *x;
    uint32_t hash;
    uint8_t first;
    bool from_a;
    /* Long header: form bit set; the smallest one (RFC 8999 5.1) has 7 bytes. (An empty
     * payload has no pointer at all: the cursor is made only after the length check.) */
    if (!q || pkt->payload_len < 7)
        return;
    c = ta_cur_make(pkt->payload, pkt->payload_len);
    if (!ta_cur_peek8(&c, 0, &first) || !(first & 0x80))
        return;
    ta_flow_key_make(pkt, &key, &from_a);
    f = ta_flow_find(q->flows, &key, &hash);
    if (!f) {
        if (ta_quic_probe(q->qc, pkt->payload, pkt->payload_len, pkt->truncated) != TA_OK)
            return;
        f = flow_new(q, pkt, &key, hash, from_a);
        if (!f)
            return;
    } else {
        ta_flow_touch(q->flows, f, pkt->ts_us);
    }
    if (f->state != TA_FLOW_ANALYZE)
        return;
    x = qx_at(q, f->ctx);
    if (q->cls && !x->cls.done)
        ta_ndpi_packet(q->cls, &x->cls, qx_nflow(x), pkt->l3, pkt->l3_len, pkt->ts_us);
    x->c.hs.ts_last_us = pkt->ts_us;
    if (pkt->truncated)
        q->truncated++;
    if (ta_quic_datagram(q->qc, &x->c, &x->q, from_a == (bool)f->client_is_a ? TA_DIR_C2S : TA_DIR_S2C,
                         pkt->payload, pkt->payload_len, pkt->truncated) == TA_DONE)
        flow_settle(q, f);
}

void ta__quic_engine_expire(struct ta__quic_engine *q, uint64_t now_us)
{
    struct ta_flow *f;
    if (!q)
        return;
    while ((f = ta_flow_oldest(q->flows)) != NULL && f->ts_last_us + q->idle_us < now_us) {
        flow_end(q, f);
        q->flows_timed_out++;
    }
}

void ta__quic_engine_end_after(struct ta__quic_engine *q, uint64_t after_us)
{
    struct ta_flow *f = q ? ta_flow_oldest(q->flows) : NULL;
    while (f) {
        struct ta_flow *next = ta_flow_newer(q->flows, f);
        if (f->ts_last_us > after_us)
            flow_end(q, f);
        f = next;
    }
}

void ta__quic_engine_flush(struct ta__quic_engine *q)
{
    struct ta_flow *f;
    if (!q)
        return;
    while ((f = ta_flow_oldest(q->flows)) != NULL)
        flow_end(q, f);
}

void ta__quic_engine_stats(const struct ta__quic_engine *q, struct ta_run_stats *rs)
{
    if (!q)
        return;
    rs->flows += q->flows_created;
    rs->flows_evicted += q->flows_evicted;
    rs->flows_timed_out += q->flows_timed_out;
    rs->handshakes += q->records;
    rs->pool_exhausted += q->ctx_exhausted;
    rs->truncated += q->truncated;
}

void ta__quic_engine_usage(const struct ta__quic_engine *q, uint32_t *flows, uint32_t *max_flows,
                           uint32_t *contexts, uint32_t *max_contexts)
{
    *flows = ta_flow_count(q->flows);
    *max_flows = ta_flow_capacity(q->flows);
    *contexts = q->ctx_in_use;
    *max_contexts = q->nctx;
}
