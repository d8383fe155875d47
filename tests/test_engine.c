/* test_engine.c - the per-packet path end to end on hand-built raw-IP packets: roles from the
 * SYN or from the ClientHello, out-of-order and retransmitted segments of a split hello, records
 * written at the right moment (handshake done, RST, idle timeout, end of input), floods of bare
 * ACKs creating nothing, and eviction at the flow cap. */
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "check.h"
#include "test_tls_build.h"
#include "tlsaudit/dissector.h"
#include "tlsaudit/engine.h"
#include "tlsaudit/packet.h"
#include "tlsaudit/names.h"

#define MAX_RECS 80

static struct ta_hs recs[MAX_RECS];
static int nrecs;

static void on_record(void *arg, const struct ta_hs *hs)
{
    (void)arg;
    if (nrecs < MAX_RECS)
        recs[nrecs] = *hs;
    nrecs++;
}

/* An IPv4/TCP packet from 10.0.0.<src>:sport to 10.0.0.<dst>:dport. Returns its length. */
static size_t mkpkt(uint8_t *out, uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport,
                    uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *pl, size_t plen)
{
    size_t tot = 40 + plen;
    memset(out, 0, 40);
    out[0] = 0x45;
    out[2] = (uint8_t)(tot >> 8); out[3] = (uint8_t)tot;
    out[8] = 64; out[9] = 6;
    out[12] = 10; out[15] = src;
    out[16] = 10; out[19] = dst;
    out[20] = (uint8_t)(sport >> 8); out[21] = (uint8_t)sport;
    out[22] = (uint8_t)(dport >> 8); out[23] = (uint8_t)dport;
    for (int i = 0; i < 4; i++) {
        out[24 + i] = (uint8_t)(seq >> (24 - 8 * i));
        out[28 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    out[32] = 0x50; out[33] = flags;
    out[34] = 0xff; out[35] = 0xff;
    if (plen)
        memcpy(out + 40, pl, plen);
    return tot;
}

static struct ta_engine *engine(uint32_t max_flows)
{
    struct ta_engine_config cfg;
    struct ta_engine_sink sink = { on_record, NULL, NULL };
    char err[TA_ERRBUF_SIZE];
    ta_engine_config_default(&cfg);
    cfg.max_flows = max_flows;
    cfg.max_analyzing = 64;
    cfg.stream_bufs = 32;
    cfg.idle_timeout_s = 300;
    nrecs = 0;
    return ta_engine_new(&cfg, &sink, err);
}

static void send_pkt(struct ta_engine *e, uint64_t ts, uint8_t src, uint16_t sport, uint8_t dst,
                     uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                     const uint8_t *pl, size_t plen)
{
    static uint8_t buf[70000];
    size_t n = mkpkt(buf, src, sport, dst, dport, seq, ack, flags, pl, plen);
    ta_engine_packet(e, DLT_RAW, ts, buf, (uint32_t)n, (uint32_t)n);
}

static struct bld ch, sh;
static uint8_t ch_rec[4096], sh_rec[4096];
static size_t ch_len, sh_len;

/* Full handshake, the ClientHello split in three segments sent 2, 1, 1 (again), 3. */
static void test_split_out_of_order(void)
{
    struct ta_engine *e = engine(1024);
    struct ta_run_stats rs = { 0 };
    size_t a = ch_len / 3, b = 2 * ch_len / 3;
    char ip[64];
    const uint32_t cisn = 0xFFFFFF00u, sisn = 5000; /* client sequence numbers wrap */

    send_pkt(e, 1000, 1, 40000, 2, 443, cisn, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, 1100, 2, 443, 1, 40000, sisn, cisn + 1, TA_TCP_SYN | TA_TCP_ACK, NULL, 0);
    send_pkt(e, 1200, 1, 40000, 2, 443, cisn + 1, sisn + 1, TA_TCP_ACK, NULL, 0);
    send_pkt(e, 1300, 1, 40000, 2, 443, cisn + 1 + (uint32_t)a, sisn + 1, TA_TCP_ACK, ch_rec + a, b - a);
    send_pkt(e, 1400, 1, 40000, 2, 443, cisn + 1, sisn + 1, TA_TCP_ACK, ch_rec, a);
    send_pkt(e, 1500, 1, 40000, 2, 443, cisn + 1, sisn + 1, TA_TCP_ACK, ch_rec, a);
    CHECK_INT(nrecs, 0);
    send_pkt(e, 1600, 1, 40000, 2, 443, cisn + 1 + (uint32_t)b, sisn + 1, TA_TCP_ACK | TA_TCP_PSH,
             ch_rec + b, ch_len - b);
    send_pkt(e, 1700, 2, 443, 1, 40000, sisn + 1, cisn + 1 + (uint32_t)ch_len, TA_TCP_ACK, sh_rec, sh_len);
    /* TLS 1.3: nothing more to learn after the ServerHello, the record is written at once */
    CHECK_INT(nrecs, 1);
    CHECK_STR(ta_addr_str(&recs[0].client, 4, ip, sizeof(ip)), "10.0.0.1");
    CHECK_INT(recs[0].client_port, 40000);
    CHECK_STR(ta_addr_str(&recs[0].server, 4, ip, sizeof(ip)), "10.0.0.2");
    CHECK_INT(recs[0].server_port, 443);
    CHECK_STR(recs[0].ch.sni, "example.com");
    CHECK_INT(ta_hs_negotiated_version(&recs[0]), 0x0304);
    CHECK_INT(recs[0].sh.cipher, 0x1301);
    CHECK_INT(recs[0].ts_first_us, 1000);
    CHECK_INT(recs[0].anomalies & TA_AN_STREAM_GAP, 0);
    /* later packets of the flow only cost a lookup: no second record */
    send_pkt(e, 1800, 1, 40000, 2, 443, cisn + 1 + (uint32_t)ch_len, sisn + 1 + (uint32_t)sh_len,
             TA_TCP_ACK, ch_rec, 100);
    ta_engine_flush(e);
    CHECK_INT(nrecs, 1);
    ta_engine_stats(e, &rs);
    CHECK_INT(rs.flows, 1);
    CHECK_INT(rs.handshakes, 1);
    ta_engine_free(e);
}

/* Mid-stream, no SYN: the ClientHello comes from port 443 to a high port; the ClientHello's
 * sender is the client all the same. A RST ends the flow and writes the record at once. */
static void test_midstream_roles_and_rst(void)
{
    struct ta_engine *e = engine(1024);
    char ip[64];

    send_pkt(e, 10, 7, 443, 3, 50000, 100, 900, TA_TCP_ACK, ch_rec, ch_len);
    CHECK_INT(nrecs, 0);
    send_pkt(e, 20, 3, 50000, 7, 443, 900, 100 + (uint32_t)ch_len, TA_TCP_RST, NULL, 0);
    CHECK_INT(nrecs, 1);
    CHECK_STR(ta_addr_str(&recs[0].client, 4, ip, sizeof(ip)), "10.0.0.7");
    CHECK_INT(recs[0].client_port, 443);
    CHECK_INT(recs[0].server_port, 50000);
    CHECK(recs[0].ch.present);
    CHECK(!recs[0].sh.present);
    CHECK_INT(ta_hs_negotiated_version(&recs[0]), 0);
    ta_engine_free(e);
}

/* Bare ACKs of unknown flows create no flow; SYNs beyond the cap evict the oldest. */
static void test_flood_and_eviction(void)
{
    struct ta_engine *e = engine(16);
    struct ta_run_stats rs = { 0 };

    for (uint16_t p = 1; p <= 1000; p++)
        send_pkt(e, p, 9, p, 2, 443, p, 1, TA_TCP_ACK, NULL, 0);
    ta_engine_stats(e, &rs);
    CHECK_INT(rs.flows, 0);
    for (uint16_t p = 1; p <= 40; p++)
        send_pkt(e, 2000 + p, 9, (uint16_t)(1000 + p), 2, 443, p, 0, TA_TCP_SYN, NULL, 0);
    memset(&rs, 0, sizeof(rs));
    ta_engine_stats(e, &rs);
    CHECK_INT(rs.flows, 40);
    CHECK_INT(rs.flows_evicted, 24);
    CHECK_INT(nrecs, 0); /* nothing to record about SYN-only flows */
    ta_engine_free(e);
}

/* A ClientHello never answered: written when the flow has been idle past the timeout. */
static void test_idle_timeout(void)
{
    struct ta_engine *e = engine(1024);
    struct ta_run_stats rs = { 0 };

    send_pkt(e, 1000000, 1, 41000, 2, 443, 1, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, 1000100, 1, 41000, 2, 443, 2, 0, TA_TCP_ACK, ch_rec, ch_len);
    ta_engine_expire(e, 1000100 + 299ull * 1000000);
    CHECK_INT(nrecs, 0);
    ta_engine_expire(e, 1000100 + 301ull * 1000000);
    CHECK_INT(nrecs, 1);
    ta_engine_stats(e, &rs);
    CHECK_INT(rs.flows_timed_out, 1);
    ta_engine_free(e);
}

/* The packets' time goes back (a file older than the one before it, a clock stepped back): a
 * few seconds of reordering, or one packet with a stray time (a corrupt record), change nothing;
 * sixteen packets in a row an hour back end the flows of the later time, and the flows of the
 * earlier time are read whole, though the idle checks that come every 256 packets compare them
 * with a time they are an hour behind. */
static void test_time_back(void)
{
    struct ta_engine *e = engine(1024);
    struct ta_run_stats rs = { 0 };
    const uint64_t t = 100000ull * 1000000, early = t - 3600ull * 1000000;

    send_pkt(e, t, 1, 42000, 2, 443, 1, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, early, 2, 443, 1, 42000, 500, 2, TA_TCP_SYN | TA_TCP_ACK, NULL, 0); /* stray */
    send_pkt(e, t + 50, 1, 42000, 2, 443, 2, 501, TA_TCP_ACK, NULL, 0);
    send_pkt(e, t + 100, 1, 42000, 2, 443, 2, 501, TA_TCP_ACK, ch_rec, ch_len);
    send_pkt(e, t - 10ull * 1000000, 3, 42001, 2, 443, 1, 0, TA_TCP_SYN, NULL, 0);
    CHECK_INT(nrecs, 0);                    /* a stray time, 10 s back: nothing ends */
    send_pkt(e, early, 4, 42002, 2, 443, 1000, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, early + 100, 2, 443, 4, 42002, 7000, 1001, TA_TCP_SYN | TA_TCP_ACK, NULL, 0);
    send_pkt(e, early + 200, 4, 42002, 2, 443, 1001, 7001, TA_TCP_ACK, ch_rec, ch_len);
    ta_engine_expire(e, t + 200);           /* a reader's tick that has not followed yet */
    CHECK_INT(nrecs, 0);                    /* three packets far back: not yet, none idle */
    for (uint32_t i = 0; i < 600; i++)     /* idle checks pass (bare ACKs make no flow) */
        send_pkt(e, early + 300 + i, 9, (uint16_t)(1 + i), 2, 443, i, 1, TA_TCP_ACK, NULL, 0);
    CHECK_INT(nrecs, 1);                    /* sixteen: the later flows ended, as at the end */
    CHECK_INT(recs[0].client_port, 42000);
    CHECK(recs[0].ch.present && !recs[0].sh.present);
    CHECK_INT(recs[0].ts_first_us, t);
    send_pkt(e, early + 1000, 2, 443, 4, 42002, 7001, 1001 + (uint32_t)ch_len, TA_TCP_ACK,
             sh_rec, sh_len);
    CHECK_INT(nrecs, 2);
    CHECK_INT(recs[1].client_port, 42002);
    CHECK(recs[1].ch.present && recs[1].sh.present);
    CHECK_INT(recs[1].ts_first_us, early);
    /* a live capture's expiry by the wall clock: a clock stepped back an hour ends the flows
     * before any packet comes; 10 s back is not a step */
    send_pkt(e, early + 2000, 5, 42003, 2, 443, 1, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, early + 2100, 5, 42003, 2, 443, 2, 0, TA_TCP_ACK, ch_rec, ch_len);
    ta_engine_expire(e, early - 10ull * 1000000);
    CHECK_INT(nrecs, 2);
    ta_engine_expire(e, early - 3600ull * 1000000);
    CHECK_INT(nrecs, 3);
    CHECK_INT(recs[2].client_port, 42003);
    ta_engine_flush(e);
    ta_engine_stats(e, &rs);
    CHECK_INT(rs.time_back, 2);
    CHECK_INT(rs.flows_timed_out, 0);
    CHECK_INT(rs.flows, 4);
    ta_engine_free(e);
}

/* Time goes back when the later flows are all closed: until sixteen packets confirm it, an idle
 * check at the later time (a reader's tick) ends none of the earlier flows. */
static void test_time_back_pending(void)
{
    struct ta_engine *e = engine(1024);
    const uint64_t t = 100000ull * 1000000, early = t - 3600ull * 1000000;

    send_pkt(e, t, 1, 43000, 2, 443, 1, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, t + 100, 1, 43000, 2, 443, 2, 0, TA_TCP_ACK, ch_rec, ch_len);
    send_pkt(e, t + 200, 2, 443, 1, 43000, 9, 2 + (uint32_t)ch_len, TA_TCP_RST, NULL, 0);
    CHECK_INT(nrecs, 1);                    /* the later flow: closed, written */
    send_pkt(e, early, 4, 43002, 2, 443, 1000, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, early + 100, 2, 443, 4, 43002, 7000, 1001, TA_TCP_SYN | TA_TCP_ACK, NULL, 0);
    send_pkt(e, early + 200, 4, 43002, 2, 443, 1001, 7001, TA_TCP_ACK, ch_rec, ch_len);
    ta_engine_expire(e, t + 300);
    CHECK_INT(nrecs, 1);
    send_pkt(e, early + 300, 2, 443, 4, 43002, 7001, 1001 + (uint32_t)ch_len, TA_TCP_ACK,
             sh_rec, sh_len);
    CHECK_INT(nrecs, 2);
    CHECK(recs[1].ch.present && recs[1].sh.present);
    CHECK_INT(recs[1].ts_first_us, early);
    ta_engine_free(e);
}

/* More stalled handshakes than analysis contexts (64 here): the oldest are settled early with
 * what they have, so every new ClientHello is still read. */
static void test_context_reclaim(void)
{
    struct ta_engine *e = engine(1024);
    struct ta_run_stats rs = { 0 };

    for (uint16_t p = 0; p < 70; p++)
        send_pkt(e, 100 + p, 5, (uint16_t)(20000 + p), 2, 443, 1, 0, TA_TCP_ACK, ch_rec, ch_len);
    CHECK_INT(nrecs, 6);
    CHECK_INT(recs[0].client_port, 20000);
    CHECK_INT(recs[5].client_port, 20005);
    CHECK(recs[0].ch.present);
    ta_engine_stats(e, &rs);
    CHECK_INT(rs.pool_exhausted, 6);
    ta_engine_flush(e);
    CHECK_INT(nrecs, 70);
    ta_engine_free(e);
}

/* Handshake of a SYN'd flow 10.0.0.1:port -> 10.0.0.2:443; returns the client's next seq. */
static uint32_t open_flow(struct ta_engine *e, uint64_t ts, uint16_t port, uint32_t cisn, uint32_t sisn)
{
    send_pkt(e, ts, 1, port, 2, 443, cisn, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, ts + 1, 2, 443, 1, port, sisn, cisn + 1, TA_TCP_SYN | TA_TCP_ACK, NULL, 0);
    return cisn + 1;
}

#define CH_RANDOM 6   /* offset of the random in a ClientHello message (type, length, version) */
static struct bld ch2, ch_retry;
static uint8_t ch2_rec[4096], ch_retry_rec[4096];
static size_t ch2_len, ch_retry_len;
/* Fatal protocol_version alert (RFC 8446 6.2), and a warning close_notify. */
static const uint8_t alert_fatal[] = { 21, 3, 3, 0, 2, 2, 70 };
static const uint8_t alert_close[] = { 21, 3, 3, 0, 2, 1, 0 };

/* Two ClientHellos before any answer (suricata's tls-duplicate-hello): one record each, the
 * first written when the second arrives, the second with the ServerHello. */
static void test_two_hellos(void)
{
    struct ta_engine *e = engine(1024);
    uint32_t c = open_flow(e, 100, 40100, 1000, 7000), s = 7001;

    send_pkt(e, 200, 1, 40100, 2, 443, c, s, TA_TCP_ACK, ch_rec, ch_len);
    c += (uint32_t)ch_len;
    CHECK_INT(nrecs, 0);
    send_pkt(e, 300, 1, 40100, 2, 443, c, s, TA_TCP_ACK, ch2_rec, ch2_len);
    c += (uint32_t)ch2_len;
    CHECK_INT(nrecs, 1);
    CHECK(recs[0].ch.present && !recs[0].sh.present);
    CHECK_INT(recs[0].seq, 0);
    CHECK_INT(recs[0].ch.key_shares[0], 0x001D);
    CHECK_INT(recs[0].anomalies & TA_AN_DUPLICATE_HELLO, 0);
    CHECK_INT(recs[0].ts_first_us, 100);
    send_pkt(e, 400, 2, 443, 1, 40100, s, c, TA_TCP_ACK, sh_rec, sh_len);
    CHECK_INT(nrecs, 2);
    CHECK_INT(recs[1].seq, 1);
    CHECK(recs[1].ch.present && recs[1].sh.present);
    CHECK_INT(recs[1].ch.key_shares[0], 0x0017);
    CHECK_INT(ta_hs_negotiated_version(&recs[1]), 0x0304);
    CHECK_INT(recs[1].client_port, 40100);
    CHECK_INT(recs[1].ts_first_us, 300);
    ta_engine_flush(e);
    CHECK_INT(nrecs, 2);
    ta_engine_free(e);
}

/* The clients' half of a TLS 1.3 handshake with a HelloRetryRequest (a span port fed one
 * direction): the second ClientHello has the first one's random (RFC 8446 4.1.2), so it answers
 * a HelloRetryRequest the capture does not hold: one record, with hrr and the first offer, no
 * anomaly. A third ClientHello with that random is a duplicate; one with another random begins
 * a new handshake. Where the server's packets are there and no HelloRetryRequest came, the same
 * random is Suricata's duplicate hello: two records, as in test_two_hellos. */
static void test_hrr_one_way(void)
{
    struct ta_engine *e = engine(1024);
    uint32_t c = 1001;

    send_pkt(e, 100, 1, 40150, 2, 443, 1000, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, 200, 1, 40150, 2, 443, c, 7001, TA_TCP_ACK, ch_rec, ch_len);
    c += (uint32_t)ch_len;
    send_pkt(e, 300, 1, 40150, 2, 443, c, 7001, TA_TCP_ACK, ch_retry_rec, ch_retry_len);
    CHECK_INT(nrecs, 0);
    ta_engine_flush(e);
    CHECK_INT(nrecs, 1);
    CHECK(recs[0].ch.present && !recs[0].sh.present);
    CHECK(recs[0].sh.hrr);
    CHECK_INT(recs[0].ch.key_shares[0], 0x001D);
    CHECK_INT(recs[0].anomalies, 0);
    CHECK_INT(recs[0].client_port, 40150);
    ta_engine_free(e);

    e = engine(1024);
    c = 1001;
    send_pkt(e, 100, 1, 40151, 2, 443, 1000, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, 200, 1, 40151, 2, 443, c, 7001, TA_TCP_ACK, ch_rec, ch_len);
    c += (uint32_t)ch_len;
    send_pkt(e, 300, 1, 40151, 2, 443, c, 7001, TA_TCP_ACK, ch_retry_rec, ch_retry_len);
    c += (uint32_t)ch_retry_len;
    send_pkt(e, 400, 1, 40151, 2, 443, c, 7001, TA_TCP_ACK, ch_retry_rec, ch_retry_len);
    c += (uint32_t)ch_retry_len;
    CHECK_INT(nrecs, 0);
    send_pkt(e, 500, 1, 40151, 2, 443, c, 7001, TA_TCP_ACK, ch2_rec, ch2_len);
    CHECK_INT(nrecs, 1);
    CHECK(recs[0].sh.hrr);
    CHECK(recs[0].anomalies & TA_AN_DUPLICATE_HELLO);
    ta_engine_flush(e);
    CHECK_INT(nrecs, 2);
    CHECK_INT(recs[1].seq, 1);
    CHECK(!recs[1].sh.hrr);
    CHECK_INT(recs[1].ch.key_shares[0], 0x0017);
    ta_engine_free(e);

    e = engine(1024);
    c = open_flow(e, 100, 40152, 1000, 7000);
    send_pkt(e, 200, 1, 40152, 2, 443, c, 7001, TA_TCP_ACK, ch_rec, ch_len);
    c += (uint32_t)ch_len;
    send_pkt(e, 300, 1, 40152, 2, 443, c, 7001, TA_TCP_ACK, ch_retry_rec, ch_retry_len);
    CHECK_INT(nrecs, 1);
    CHECK(!recs[0].sh.hrr);
    ta_engine_flush(e);
    CHECK_INT(nrecs, 2);
    CHECK(!recs[1].sh.hrr);
    CHECK_INT(recs[1].ch.key_shares[0], 0x0017);
    ta_engine_free(e);
}

/* Refused with a fatal alert, then the client tries again on the same connection: two records.
 * An alert after the record (the client's close_notify) and the FINs add none. */
static void test_retry_after_alert(void)
{
    struct ta_engine *e = engine(1024);
    struct ta_run_stats rs = { 0 };
    uint32_t c = open_flow(e, 100, 40200, 1000, 7000), s = 7001;

    send_pkt(e, 200, 1, 40200, 2, 443, c, s, TA_TCP_ACK, ch_rec, ch_len);
    c += (uint32_t)ch_len;
    send_pkt(e, 210, 2, 443, 1, 40200, s, c, TA_TCP_ACK, alert_fatal, sizeof(alert_fatal));
    s += sizeof(alert_fatal);
    CHECK_INT(nrecs, 1);
    CHECK(recs[0].alert.present);
    CHECK_INT(recs[0].alert.level, 2);
    CHECK_INT(recs[0].alert.description, 70);
    CHECK(!recs[0].sh.present);
    send_pkt(e, 300, 1, 40200, 2, 443, c, s, TA_TCP_ACK, ch2_rec, ch2_len);
    c += (uint32_t)ch2_len;
    send_pkt(e, 310, 2, 443, 1, 40200, s, c, TA_TCP_ACK, sh_rec, sh_len);
    CHECK_INT(nrecs, 2);
    CHECK_INT(recs[1].seq, 1);
    CHECK(!recs[1].alert.present);
    CHECK_INT(ta_hs_negotiated_version(&recs[1]), 0x0304);
    CHECK_INT(recs[1].ch.key_shares[0], 0x0017);
    ta_engine_flush(e);
    CHECK_INT(nrecs, 2);
    ta_engine_stats(e, &rs);
    CHECK_INT(rs.handshakes, 2);
    ta_engine_free(e);

    e = engine(1024);
    c = open_flow(e, 100, 40201, 1000, 7000);
    s = 7001;
    send_pkt(e, 200, 1, 40201, 2, 443, c, s, TA_TCP_ACK, ch_rec, ch_len);
    c += (uint32_t)ch_len;
    send_pkt(e, 210, 2, 443, 1, 40201, s, c, TA_TCP_ACK, alert_fatal, sizeof(alert_fatal));
    s += sizeof(alert_fatal);
    send_pkt(e, 220, 1, 40201, 2, 443, c, s, TA_TCP_ACK, alert_close, sizeof(alert_close));
    c += sizeof(alert_close);
    send_pkt(e, 230, 1, 40201, 2, 443, c, s, TA_TCP_ACK | TA_TCP_FIN, NULL, 0);
    send_pkt(e, 240, 2, 443, 1, 40201, s, c + 1, TA_TCP_ACK | TA_TCP_FIN, NULL, 0);
    CHECK_INT(nrecs, 1);
    ta_engine_flush(e);
    CHECK_INT(nrecs, 1);
    ta_engine_free(e);
}

/* A ClientHello repeated in one record (not at a record start) stays one record, flagged; a
 * client repeating its hello without end is cut at TA_MAX_HANDSHAKES_PER_FLOW records. */
static void test_duplicate_limits(void)
{
    static uint8_t two[8192];
    struct ta_engine *e = engine(1024);
    uint32_t c = open_flow(e, 100, 40300, 1000, 7000), s = 7001;
    static struct bld both;
    size_t n;

    b_bytes(&both, ch.b, ch.n);
    b_bytes(&both, ch2.b, ch2.n);
    n = b_records(two, 22, both.b, both.n, 16384);
    send_pkt(e, 200, 1, 40300, 2, 443, c, s, TA_TCP_ACK, two, n);
    ta_engine_flush(e);
    CHECK_INT(nrecs, 1);
    CHECK(recs[0].anomalies & TA_AN_DUPLICATE_HELLO);
    CHECK_INT(recs[0].ch.key_shares[0], 0x001D);
    ta_engine_free(e);

    e = engine(1024);
    c = open_flow(e, 100, 40301, 1000, 7000);
    for (int i = 0; i < 3 * TA_MAX_HANDSHAKES_PER_FLOW; i++) {
        static uint8_t rec[4096];
        memcpy(rec, ch_rec, ch_len);
        rec[5 + CH_RANDOM] = (uint8_t)i;  /* each a new handshake: a new random */
        send_pkt(e, 200 + (uint64_t)i, 1, 40301, 2, 443, c, s, TA_TCP_ACK, rec, ch_len);
        c += (uint32_t)ch_len;
    }
    CHECK_INT(nrecs, TA_MAX_HANDSHAKES_PER_FLOW - 1);
    ta_engine_flush(e);
    CHECK_INT(nrecs, TA_MAX_HANDSHAKES_PER_FLOW);
    CHECK_INT(recs[TA_MAX_HANDSHAKES_PER_FLOW - 1].seq, TA_MAX_HANDSHAKES_PER_FLOW - 1);
    CHECK(recs[TA_MAX_HANDSHAKES_PER_FLOW - 1].anomalies & TA_AN_DUPLICATE_HELLO);
    CHECK_INT(recs[0].anomalies & TA_AN_DUPLICATE_HELLO, 0);
    ta_engine_free(e);
}

/* The 4-tuple of a finished connection reused by a new SYN (its FIN never seen): a new flow and
 * a second record. A retransmitted SYN (same sequence number) is the same connection. */
static void test_port_reuse(void)
{
    struct ta_engine *e = engine(1024);
    struct ta_run_stats rs = { 0 };
    uint32_t c = open_flow(e, 100, 40400, 1000, 7000);

    send_pkt(e, 200, 1, 40400, 2, 443, c, 7001, TA_TCP_ACK, ch_rec, ch_len);
    send_pkt(e, 210, 2, 443, 1, 40400, 7001, c + (uint32_t)ch_len, TA_TCP_ACK, sh_rec, sh_len);
    CHECK_INT(nrecs, 1);
    send_pkt(e, 300, 1, 40400, 2, 443, 90000, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, 301, 1, 40400, 2, 443, 90000, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, 302, 2, 443, 1, 40400, 50000, 90001, TA_TCP_SYN | TA_TCP_ACK, NULL, 0);
    send_pkt(e, 400, 1, 40400, 2, 443, 90001, 50001, TA_TCP_ACK, ch2_rec, ch2_len);
    send_pkt(e, 410, 2, 443, 1, 40400, 50001, 90001 + (uint32_t)ch2_len, TA_TCP_ACK, sh_rec, sh_len);
    CHECK_INT(nrecs, 2);
    CHECK_INT(recs[1].seq, 0);
    CHECK_INT(recs[1].ts_first_us, 300);
    CHECK_INT(recs[1].ch.key_shares[0], 0x0017);
    ta_engine_stats(e, &rs);
    CHECK_INT(rs.flows, 2);
    ta_engine_free(e);
}

/* A packet whose capture kept only keep bytes of its payload (a snap length): the IP header
 * still claims all of it. */
static void send_cut(struct ta_engine *e, uint64_t ts, uint8_t src, uint16_t sport, uint8_t dst,
                     uint16_t dport, uint32_t seq, uint32_t ack, const char *pl, size_t plen,
                     size_t keep)
{
    static uint8_t buf[70000];
    size_t n = mkpkt(buf, src, sport, dst, dport, seq, ack, TA_TCP_ACK, (const uint8_t *)pl, plen);
    size_t cap = 40 + (keep < plen ? keep : plen);
    ta_engine_packet(e, DLT_RAW, ts, buf, (uint32_t)cap, (uint32_t)n);
}

/* An SMTP STARTTLS upgrade (the mission's printer) captured with a small snap length: every
 * segment cut after keep bytes; multi: a greeting of two lines, whose end is cut off. The
 * dialogue is followed past each cut at the next segment, the upgrade found, the TLS 1.0 proved
 * by the cut ClientHello; words cut short are not recorded. */
static void smtp_cut(size_t keep, bool multi)
{
    const char *greet = multi ? "220-mx.example.com ESMTP Postfix\r\n220 and a second line\r\n"
                              : "220 mx.example.com ESMTP Postfix\r\n";
    static const char ehlo[] = "EHLO client.example.org\r\n";
    static const char caps[] = "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                               "250-STARTTLS\r\n250 8BITMIME\r\n";
    static const char stls[] = "STARTTLS\r\n";
    static const char go[] = "220 2.0.0 Ready to start TLS\r\n";
    struct ta_engine *e = engine(1024);
    uint32_t c = 1001, s = 9001;
    uint8_t hello[4096];

    memcpy(hello, ch_rec, ch_len);
    hello[9] = 3, hello[10] = 1;   /* legacy_version TLS 1.0 */
    send_pkt(e, 100, 1, 40200, 2, 587, 1000, 0, TA_TCP_SYN, NULL, 0);
    send_pkt(e, 101, 2, 587, 1, 40200, 9000, c, TA_TCP_SYN | TA_TCP_ACK, NULL, 0);
    send_cut(e, 102, 2, 587, 1, 40200, s, c, greet, strlen(greet), keep);
    s += (uint32_t)strlen(greet);
    send_cut(e, 103, 1, 40200, 2, 587, c, s, ehlo, strlen(ehlo), keep);
    c += (uint32_t)strlen(ehlo);
    send_cut(e, 104, 2, 587, 1, 40200, s, c, caps, strlen(caps), keep);
    s += (uint32_t)strlen(caps);
    send_cut(e, 105, 1, 40200, 2, 587, c, s, stls, strlen(stls), keep);
    c += (uint32_t)strlen(stls);
    send_cut(e, 106, 2, 587, 1, 40200, s, c, go, strlen(go), keep);
    s += (uint32_t)strlen(go);
    send_cut(e, 107, 1, 40200, 2, 587, c, s, (const char *)hello, ch_len, keep);
    ta_engine_flush(e);
    CHECK_INT(nrecs, 1);
    CHECK_INT(recs[0].app, TA_APP_SMTP);
    CHECK(recs[0].starttls);
    CHECK(recs[0].mail.starttls_sent && recs[0].mail.starttls_accepted);
    CHECK(!recs[0].mail.starttls_refused);
    CHECK(!recs[0].ch.present);
    CHECK_INT(recs[0].ch.cut_version, 0x0301);
    CHECK(recs[0].anomalies & TA_AN_TRUNCATED_HELLO);
    /* A gap is stepped over only in the dialogue (the cut hello waits, as TLS does at a hole). */
    CHECK_INT(!!(recs[0].anomalies & TA_AN_STREAM_GAP), keep < strlen(caps));
    CHECK_INT(recs[0].mail.greeting_code, 220);
    if (multi) {
        /* the greeting's end was lost with its second line: the dialogue goes on all the same */
    } else if (keep >= strlen(greet) - 1) {   /* only the LF lost: the line is whole */
        CHECK_STR(recs[0].mail.greeting, "220 mx.example.com ESMTP Postfix");
    } else if (keep == 30) {
        CHECK_STR(recs[0].mail.greeting, "220 mx.example.com ESMTP");
        CHECK_STR(recs[0].mail.greeting_host, "mx.example.com");
    } else if (keep == 14) {
        CHECK_STR(recs[0].mail.greeting, "220");
        CHECK_STR(recs[0].mail.greeting_host, "");
    }
    CHECK_STR(recs[0].mail.client_name, keep >= strlen(ehlo) - 1 ? "client.example.org" : "");
    if (keep == 62)   /* "...250-SIZE 10240000\r\n250-ST": STARTTLS itself was cut */
        CHECK_STR(recs[0].mail.capabilities, "PIPELINING SIZE");
    else if (keep < 20)
        CHECK_STR(recs[0].mail.capabilities, "");
    CHECK_INT(recs[0].mail.starttls_offered, keep >= 68);  /* "250-STARTTLS\r" kept */
    ta_engine_free(e);
}

static void test_snap_cut_starttls(void)
{
    static const size_t keeps[] = { 11, 12, 14, 20, 23, 24, 30, 32, 33, 40, 62, 67, 68, 90 };

    for (size_t i = 0; i < TA_ARRAY_LEN(keeps); i++)
        smtp_cut(keeps[i], false), smtp_cut(keeps[i], true);
}

int main(void)
{
    b_client_hello(&ch, 0x11, 0x001D);
    ch_len = b_records(ch_rec, 22, ch.b, ch.n, 16384);
    b_server_hello(&sh, 0x11, 1, 0);
    sh_len = b_records(sh_rec, 22, sh.b, sh.n, 16384);
    b_client_hello(&ch2, 0x22, 0x0017);
    ch2.b[CH_RANDOM] = 0xCD;              /* a new handshake: a new random */
    ch2_len = b_records(ch2_rec, 22, ch2.b, ch2.n, 16384);
    b_client_hello(&ch_retry, 0x11, 0x0017); /* the answer to a HelloRetryRequest: same random */
    ch_retry_len = b_records(ch_retry_rec, 22, ch_retry.b, ch_retry.n, 16384);
    test_split_out_of_order();
    test_hrr_one_way();
    test_midstream_roles_and_rst();
    test_flood_and_eviction();
    test_idle_timeout();
    test_time_back();
    test_time_back_pending();
    test_context_reclaim();
    test_two_hellos();
    test_retry_after_alert();
    test_duplicate_limits();
    test_port_reuse();
    test_snap_cut_starttls();
    return CHECK_DONE();
}
