/* test_quic_flood.c - floods of QUIC Initials against the engine's QUIC side with small caps (64
 * engine flows -> 16 QUIC flows, 16 analysis contexts -> 4): forged Initials create nothing;
 * valid Initials from thousands of clients never hold more than the caps, every one still ends
 * as a record, and the heap does not grow; one client repeating Initials is read once and then
 * costs an index probe. */
#include <malloc.h>
#include <string.h>

#include "check.h"
#include "dis_mem_fixture.h"
#include "engine_quic.h"
#include "quic_int.h"
#include "test_tls_build.h"

static struct ta_quic_crypto *qc;
static long records, with_sni;

static void on_record(void *arg, const struct ta_hs *hs)
{
    (void)arg;
    records++;
    with_sni += strcmp(hs->ch.sni, "example.com") == 0 && hs->transport == TA_L4_UDP;
}

/* A UDP packet from 10.0.x.y:port to 192.0.2.1:443 carrying payload. */
static void make_pkt(struct ta_pkt *p, uint32_t client, uint16_t port, const uint8_t *payload,
                     size_t n, uint64_t ts)
{
    memset(p, 0, sizeof(*p));
    p->ts_us = ts;
    p->ipver = 4;
    p->l4 = TA_L4_UDP;
    p->src.b[10] = p->src.b[11] = 0xff;
    p->src.b[12] = 10; p->src.b[13] = 0;
    p->src.b[14] = (uint8_t)(client >> 8); p->src.b[15] = (uint8_t)client;
    p->dst.b[10] = p->dst.b[11] = 0xff;
    p->dst.b[12] = 192; p->dst.b[13] = 0; p->dst.b[14] = 2; p->dst.b[15] = 1;
    p->sport = port;
    p->dport = 443;
    p->payload = payload;
    p->payload_len = (uint32_t)n;
    p->wire_len = (uint32_t)n + 28;
}

/* A client's first Initial: DCID from seed, one CRYPTO frame with the ClientHello, padded. */
static size_t client_initial(uint32_t seed, uint8_t *out, size_t cap)
{
    static struct bld ch;
    static uint8_t frames[1200];
    uint8_t dcid[8];
    struct ta__quic_keys k;
    const struct ta__quic_ver *v1 = ta__quic_version(1);
    if (ch.n == 0)
        b_client_hello(&ch, 0, 0x001d);
    for (int i = 0; i < 8; i++)
        dcid[i] = (uint8_t)(seed >> (8 * (i % 4))) ^ (uint8_t)i;
    memset(frames, 0, sizeof frames);
    frames[0] = 0x06; frames[1] = 0x40; frames[2] = 0x00;
    frames[3] = (uint8_t)(0x40 | (ch.n >> 8)); frames[4] = (uint8_t)ch.n;
    memcpy(frames + 5, ch.b, ch.n);
    if (ta__quic_keys_derive(qc, v1, dcid, 8, TA_DIR_C2S, &k) != TA_OK)
        return 0;
    return ta__quic_seal_initial(qc, &k, v1, dcid, 8, (const uint8_t *)"cccc", 4, 0, frames,
                                 sizeof frames, out, cap);
}

/* Heap bytes in use (glibc): arena blocks plus mmap'ed ones. (Under ASan, whose allocator
 * glibc does not see, this reads 0 and the check is void: run it in the normal build.) */
static size_t heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

int main(void)
{
    struct ta_engine_config cfg;
    struct ta_engine_sink sink = { on_record, NULL, NULL };
    struct ta__quic_engine *q;
    struct ta_run_stats rs;
    struct ta_pkt p;
    static uint8_t buf[1400];
    uint32_t flows, max_flows, ctxs, max_ctxs, peak_flows = 0, peak_ctxs = 0;
    uint64_t ts = 1700000000000000ull;
    size_t base, peak = 0, n;

    (void)b_records;
    (void)b_server_hello;
    qc = ta_quic_crypto_new();
    ta_engine_config_default(&cfg);
    cfg.max_flows = 64;
    cfg.max_analyzing = 16;
    cfg.ndpi = false;
    q = ta__quic_engine_new(&cfg, NULL, &sink, test_dis_mem());
    CHECK(qc != NULL && q != NULL);
    if (!qc || !q)
        return CHECK_DONE();
    ta__quic_engine_usage(q, &flows, &max_flows, &ctxs, &max_ctxs);
    CHECK_INT(max_flows, 16);
    CHECK_INT(max_ctxs, 4);

    /* 1. 20000 forged Initials: a plausible header, bytes that do not authenticate. */
    n = client_initial(1, buf, sizeof buf);
    CHECK(n > 1200);
    for (uint32_t i = 0; i < 20000; i++) {
        /* another DCID each time (never the sealing one, whose byte 2 is 0x02): keys no longer fit */
        buf[6] = (uint8_t)i;
        buf[7] = (uint8_t)(i >> 8);
        buf[8] = 0xEE;
        make_pkt(&p, i, (uint16_t)(1024 + i % 60000), buf, n, ts += 10);
        ta__quic_engine_packet(q, &p);
    }
    memset(&rs, 0, sizeof rs);
    ta__quic_engine_stats(q, &rs);
    ta__quic_engine_usage(q, &flows, &max_flows, &ctxs, &max_ctxs);
    CHECK_INT(rs.flows, 0);
    CHECK_INT(flows, 0);
    CHECK_INT(records, 0);

    /* 2. 5000 valid first Initials from 5000 clients. */
    base = heap_used();
    for (uint32_t i = 0; i < 5000; i++) {
        n = client_initial(1000 + i, buf, sizeof buf);
        make_pkt(&p, i, (uint16_t)(2000 + i), buf, n, ts += 10);
        ta__quic_engine_packet(q, &p);
        ta__quic_engine_usage(q, &flows, &max_flows, &ctxs, &max_ctxs);
        peak_flows = flows > peak_flows ? flows : peak_flows;
        peak_ctxs = ctxs > peak_ctxs ? ctxs : peak_ctxs;
        if (heap_used() > base && heap_used() - base > peak)
            peak = heap_used() - base;
    }
    CHECK_INT(peak_flows, 16);
    CHECK_INT(peak_ctxs, 4);
    if (peak >= 65536)
        fprintf(stderr, "heap grew by %zu bytes during the flood\n", peak);
    CHECK(peak < 65536);
    ta__quic_engine_flush(q);
    memset(&rs, 0, sizeof rs);
    ta__quic_engine_stats(q, &rs);
    CHECK_INT(rs.flows, 5000);
    CHECK_INT(rs.flows_evicted, 5000 - 16);
    CHECK(rs.pool_exhausted >= 5000 - 4);
    CHECK_INT(records, 5000);
    CHECK_INT(with_sni, 5000);
    ta__quic_engine_usage(q, &flows, &max_flows, &ctxs, &max_ctxs);
    CHECK_INT(flows, 0);
    CHECK_INT(ctxs, 0);

    /* 3. One client repeating its Initial 10000 times: read within the flow's budget, one
     * record, then nothing more. */
    records = 0;
    n = client_initial(77, buf, sizeof buf);
    for (uint32_t i = 0; i < 10000; i++) {
        make_pkt(&p, 7, 4444, buf, n, ts += 10);
        ta__quic_engine_packet(q, &p);
    }
    ta__quic_engine_usage(q, &flows, &max_flows, &ctxs, &max_ctxs);
    CHECK_INT(flows, 1);
    CHECK_INT(ctxs, 0);
    CHECK_INT(records, 1);
    ta__quic_engine_flush(q);
    CHECK_INT(records, 1);

    ta__quic_engine_free(q);
    ta_quic_crypto_free(qc);
    return CHECK_DONE();
}
