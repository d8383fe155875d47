/* test_defrag.c - IP fragment reassembly (src/flow/defrag.c) through the real decoder: IPv4
 * and IPv6 datagrams cut into fragments here, fed in order, reversed, duplicated, overlapping,
 * with one missing, cut by the snap length, inconsistent, from two VLANs, and more at once than
 * the table holds. Each rebuilt datagram is decoded again and compared with the original. */
#include <pcap/dlt.h>

#include "check.h"
#include "tlsaudit/defrag.h"
#include "tlsaudit/packet.h"

#define SEC 1000000ull

static uint8_t g_payload[4000];   /* the UDP or TCP datagram every test cuts up */

/* An Ethernet frame (with an 802.1Q tag when vlan is not 0) holding one IPv4 fragment of
 * g_payload[off, off + len) of a datagram of protocol proto and identification id. */
static uint32_t frame4(uint8_t *f, uint16_t vlan, uint16_t id, uint8_t proto, uint32_t off,
                       uint32_t len, bool more)
{
    uint32_t n = 0, tot = 20 + len;
    uint16_t fr = (uint16_t)((off / 8) | (more ? 0x2000 : 0));

    memset(f, 0, 18);
    n = 12;
    if (vlan) {
        f[n++] = 0x81, f[n++] = 0x00, f[n++] = (uint8_t)(vlan >> 8), f[n++] = (uint8_t)vlan;
    }
    f[n++] = 0x08, f[n++] = 0x00;
    uint8_t h[20] = { 0x45, 0, (uint8_t)(tot >> 8), (uint8_t)tot, (uint8_t)(id >> 8), (uint8_t)id,
                      (uint8_t)(fr >> 8), (uint8_t)fr, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
    memcpy(f + n, h, 20);
    /* past the end of g_payload (a fragment beyond 65,535 bytes), any bytes do */
    memcpy(f + n + 20, g_payload + (off + len <= sizeof(g_payload) ? off : 0), len);
    return n + 20 + len;
}

/* A raw IPv6 packet holding one fragment (Fragment header, next header proto) of g_payload. */
static uint32_t frame6(uint8_t *f, uint32_t id, uint8_t proto, uint32_t off, uint32_t len,
                       bool more)
{
    uint32_t plen = 8 + len;
    uint16_t fr = (uint16_t)(off | (more ? 1 : 0));

    memset(f, 0, 48);
    f[0] = 0x60;
    f[4] = (uint8_t)(plen >> 8), f[5] = (uint8_t)plen, f[6] = 44, f[7] = 64;
    f[8] = 0xfd, f[23] = 1, f[24] = 0xfd, f[39] = 2;
    f[40] = proto, f[42] = (uint8_t)(fr >> 8), f[43] = (uint8_t)fr;
    f[44] = (uint8_t)(id >> 24), f[45] = (uint8_t)(id >> 16), f[46] = (uint8_t)(id >> 8);
    f[47] = (uint8_t)id;
    memcpy(f + 48, g_payload + off, len);
    return 48 + len;
}

/* g_payload as a UDP datagram of len bytes from port 4444 to 5555 (checksum 0), the rest a
 * pattern that differs with seed. */
static void udp_payload(uint32_t len, uint8_t seed)
{
    for (uint32_t i = 0; i < sizeof(g_payload); i++)
        g_payload[i] = (uint8_t)(i * 7 + seed);
    g_payload[0] = 0x11, g_payload[1] = 0x5c, g_payload[2] = 0x15, g_payload[3] = 0xb3;
    g_payload[4] = (uint8_t)(len >> 8), g_payload[5] = (uint8_t)len;
    g_payload[6] = g_payload[7] = 0;
}

struct result {
    int rc;
    const uint8_t *ip;
    uint32_t len;
    struct ta_pkt_outer outer;
};

/* Decode a frame, check it is a fragment, and give it to the table. */
static struct result feed(struct ta_defrag *d, int dlt, const uint8_t *f, uint32_t caplen,
                          uint64_t ts)
{
    struct ta_pkt pkt;
    struct result r = { TA_MALFORMED, NULL, 0, { { 0 }, 0, 0, 0 } };

    CHECK_INT(ta_decode(dlt, f, caplen, &pkt, NULL), TA_OK);
    CHECK(pkt.ip_fragment);
    r.rc = ta_defrag_add(d, &pkt, ts, &r.ip, &r.len, &r.outer);
    return r;
}

/* The rebuilt datagram decodes as UDP 4444 -> 5555 carrying g_payload[8, len). */
static void check_udp(const struct result *r, uint32_t len, uint8_t ipver)
{
    struct ta_pkt pkt;

    CHECK_INT(r->rc, TA_OK);
    if (r->rc != TA_OK)
        return;
    CHECK_INT(ta_decode_datagram(&r->outer, r->ip, r->len, &pkt, NULL), TA_OK);
    CHECK(!pkt.ip_fragment);
    CHECK(!pkt.truncated);
    CHECK_INT(pkt.ipver, ipver);
    CHECK_INT(pkt.l4, TA_L4_UDP);
    CHECK_INT(pkt.sport, 4444);
    CHECK_INT(pkt.dport, 5555);
    CHECK_INT(pkt.payload_len, len - 8);
    CHECK(pkt.payload_len == len - 8 && memcmp(pkt.payload, g_payload + 8, len - 8) == 0);
}

/* Cut [0, len) at the given offsets (ascending, multiples of 8) into IPv4 frames. */
static unsigned cut4(uint8_t fr[][1600], uint32_t *fl, const uint32_t *at, unsigned n, uint32_t len,
                     uint16_t vlan, uint16_t id)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t end = i + 1 < n ? at[i + 1] : len;
        fl[i] = frame4(fr[i], vlan, id, 17, at[i], end - at[i], i + 1 < n);
    }
    return n;
}

static uint8_t g_fr[8][1600];
static uint32_t g_fl[8];

static void test_orders(void)
{
    static const uint32_t at[] = { 0, 1480, 2960 };
    static const unsigned orders[][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 }, { 2, 0, 1 } };
    struct ta_defrag *d = ta_defrag_new();

    udp_payload(3000, 1);
    for (unsigned o = 0; o < 4; o++) {
        struct result r = { 0 };
        cut4(g_fr, g_fl, at, 3, 3000, 0, (uint16_t)(100 + o));
        for (unsigned i = 0; i < 3; i++) {
            r = feed(d, DLT_EN10MB, g_fr[orders[o][i]], g_fl[orders[o][i]], SEC + i);
            if (i < 2)
                CHECK_INT(r.rc, TA_NEED_MORE);
        }
        check_udp(&r, 3000, 4);
    }
    CHECK_INT(ta_defrag_stats(d)->reassembled, 4);
    CHECK_INT(ta_defrag_stats(d)->incomplete, 0);
    ta_defrag_flush(d);
    CHECK_INT(ta_defrag_stats(d)->incomplete, 0);  /* whole ones are not given up */
    ta_defrag_free(d);
}

/* A copy of a fragment, before or after its datagram is whole, changes nothing; an overlap
 * that brings the same bytes either. */
static void test_duplicates(void)
{
    static const uint32_t at[] = { 0, 1480 };
    struct ta_defrag *d = ta_defrag_new();
    struct result r;
    uint8_t ov[1600];
    uint32_t ovl;

    udp_payload(2000, 2);
    cut4(g_fr, g_fl, at, 2, 2000, 0, 7);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[0], g_fl[0], SEC).rc, TA_NEED_MORE);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[0], g_fl[0], SEC).rc, TA_NEED_MORE);
    ovl = frame4(ov, 0, 7, 17, 1000, 800, true);   /* same bytes as fragments 0 and 1 hold */
    CHECK_INT(feed(d, DLT_EN10MB, ov, ovl, SEC).rc, TA_NEED_MORE);
    r = feed(d, DLT_EN10MB, g_fr[1], g_fl[1], SEC + 1);
    check_udp(&r, 2000, 4);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[1], g_fl[1], SEC + 2).rc, TA_NEED_MORE);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[0], g_fl[0], SEC + 3).rc, TA_NEED_MORE);
    ta_defrag_flush(d);
    CHECK_INT(ta_defrag_stats(d)->reassembled, 1);
    CHECK_INT(ta_defrag_stats(d)->incomplete, 0);
    ta_defrag_free(d);
}

/* The identification used again for a new datagram: after a whole one (its copy would be a
 * duplicate, but its bytes differ), and after one whose last fragment was lost. */
static void test_id_reuse(void)
{
    static const uint32_t at[] = { 0, 1480 };
    struct ta_defrag *d = ta_defrag_new();
    struct result r;

    udp_payload(2000, 3);
    cut4(g_fr, g_fl, at, 2, 2000, 0, 9);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[0], g_fl[0], SEC).rc, TA_NEED_MORE);
    check_udp((r = feed(d, DLT_EN10MB, g_fr[1], g_fl[1], SEC), &r), 2000, 4);
    udp_payload(2000, 4);                          /* new content, same id */
    cut4(g_fr, g_fl, at, 2, 2000, 0, 9);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[0], g_fl[0], 2 * SEC).rc, TA_NEED_MORE);
    /* its second fragment is lost; the id comes round again with other bytes */
    udp_payload(2000, 5);
    cut4(g_fr, g_fl, at, 2, 2000, 0, 9);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[0], g_fl[0], 3 * SEC).rc, TA_NEED_MORE);
    r = feed(d, DLT_EN10MB, g_fr[1], g_fl[1], 3 * SEC);
    check_udp(&r, 2000, 4);                        /* the seed-5 bytes, none of seed 4's */
    CHECK_INT(ta_defrag_stats(d)->reassembled, 2);
    CHECK_INT(ta_defrag_stats(d)->incomplete, 1);  /* the one whose fragment was lost */
    /* A longer datagram under the same id, its last fragment first: beyond the whole one's end,
     * so not a copy of it. */
    {
        static const uint32_t at3[] = { 0, 1480, 2960 };
        udp_payload(3000, 6);
        cut4(g_fr, g_fl, at3, 3, 3000, 0, 9);
        CHECK_INT(feed(d, DLT_EN10MB, g_fr[2], g_fl[2], 4 * SEC).rc, TA_NEED_MORE);
        CHECK_INT(feed(d, DLT_EN10MB, g_fr[0], g_fl[0], 4 * SEC).rc, TA_NEED_MORE);
        r = feed(d, DLT_EN10MB, g_fr[1], g_fl[1], 4 * SEC);
        check_udp(&r, 3000, 4);
    }
    ta_defrag_free(d);
}

/* What can never be whole: a fragment missing (given up at the timeout), one cut by the snap
 * length, a middle fragment not a multiple of 8 bytes, two ends, one longer than 65,535. */
static void test_given_up(void)
{
    static const uint32_t at[] = { 0, 1480, 2960 };
    struct ta_defrag *d = ta_defrag_new();
    uint8_t f[1600];
    uint32_t n;

    udp_payload(3000, 6);
    cut4(g_fr, g_fl, at, 3, 3000, 0, 20);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[0], g_fl[0], SEC).rc, TA_NEED_MORE);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[2], g_fl[2], SEC).rc, TA_NEED_MORE);
    ta_defrag_expire(d, SEC + (TA_DEFRAG_TIMEOUT_S - 1) * SEC);
    CHECK_INT(ta_defrag_stats(d)->incomplete, 0);
    ta_defrag_expire(d, 2 * SEC + TA_DEFRAG_TIMEOUT_S * SEC);
    CHECK_INT(ta_defrag_stats(d)->incomplete, 1);
    /* the missing middle comes after the timeout: it alone makes nothing */
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[1], g_fl[1], 40 * SEC).rc, TA_NEED_MORE);

    cut4(g_fr, g_fl, at, 3, 3000, 0, 21);          /* the last one cut by the snap length */
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[0], g_fl[0], 50 * SEC).rc, TA_NEED_MORE);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[1], g_fl[1], 50 * SEC).rc, TA_NEED_MORE);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[2], g_fl[2] - 8, 50 * SEC).rc, TA_NEED_MORE);
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[2], g_fl[2], 50 * SEC).rc, TA_NEED_MORE);

    /* Bytes beyond the end the last fragment sets, before it or after it: counted blocks would
     * add up to a whole datagram with a hole in it (block 184 never came). */
    n = frame4(f, 0, 25, 17, 1480, 100, false);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);
    n = frame4(f, 0, 25, 17, 1600, 8, true);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);
    n = frame4(f, 0, 25, 17, 0, 1472, true);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);
    n = frame4(f, 0, 26, 17, 0, 1472, true);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);
    n = frame4(f, 0, 26, 17, 1600, 8, true);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);
    n = frame4(f, 0, 26, 17, 1480, 100, false);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);

    n = frame4(f, 0, 22, 17, 0, 1476, true);       /* not a multiple of 8, with more to come */
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);
    n = frame4(f, 0, 22, 17, 1480, 100, false);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);
    n = frame4(f, 0, 22, 17, 1476, 4, true);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);

    n = frame4(f, 0, 23, 17, 1480, 100, false);    /* two last fragments that disagree */
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);
    n = frame4(f, 0, 23, 17, 1480, 200, false);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);
    n = frame4(f, 0, 23, 17, 0, 1480, true);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);

    n = frame4(f, 0, 24, 17, 0, 1480, true);       /* a last one beyond 65,535 bytes */
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);
    n = frame4(f, 0, 24, 17, 8191 * 8, 100, false);
    CHECK_INT(feed(d, DLT_EN10MB, f, n, 50 * SEC).rc, TA_NEED_MORE);

    CHECK_INT(ta_defrag_stats(d)->reassembled, 0);
    ta_defrag_flush(d);
    /* timed out; cut; two beyond the end; not a multiple of 8; two ends; too long; the lone
     * middle of the first */
    CHECK_INT(ta_defrag_stats(d)->incomplete, 8);
    ta_defrag_free(d);
}

/* The same addresses and identification on two VLANs are two datagrams. */
static void test_outer_context(void)
{
    static const uint32_t at[] = { 0, 1480 };
    struct ta_defrag *d = ta_defrag_new();
    uint8_t a[2][1600], b[2][1600];
    uint32_t al[2], bl[2];
    struct result r;

    udp_payload(2000, 7);
    cut4(a, al, at, 2, 2000, 10, 30);
    udp_payload(2000, 8);
    cut4(b, bl, at, 2, 2000, 20, 30);
    CHECK_INT(feed(d, DLT_EN10MB, a[0], al[0], SEC).rc, TA_NEED_MORE);
    CHECK_INT(feed(d, DLT_EN10MB, b[0], bl[0], SEC).rc, TA_NEED_MORE);
    r = feed(d, DLT_EN10MB, b[1], bl[1], SEC);
    check_udp(&r, 2000, 4);
    CHECK_INT(r.outer.enc.vlan, 20);
    udp_payload(2000, 7);
    r = feed(d, DLT_EN10MB, a[1], al[1], SEC);
    check_udp(&r, 2000, 4);
    CHECK_INT(r.outer.enc.vlan, 10);
    CHECK_INT(ta_defrag_stats(d)->incomplete, 0);
    ta_defrag_free(d);
}

/* More datagrams open at once than the table holds: the oldest gives way. */
static void test_table_full(void)
{
    static const uint32_t at[] = { 0, 1480 };
    struct ta_defrag *d = ta_defrag_new();
    struct result r;

    udp_payload(2000, 9);
    for (unsigned i = 0; i <= TA_DEFRAG_SLOTS; i++) {
        cut4(g_fr, g_fl, at, 2, 2000, 0, (uint16_t)(1000 + i));
        CHECK_INT(feed(d, DLT_EN10MB, g_fr[0], g_fl[0], SEC + i).rc, TA_NEED_MORE);
    }
    CHECK_INT(ta_defrag_stats(d)->incomplete, 1);
    cut4(g_fr, g_fl, at, 2, 2000, 0, 1000);        /* the oldest: its first fragment is gone */
    CHECK_INT(feed(d, DLT_EN10MB, g_fr[1], g_fl[1], 2 * SEC).rc, TA_NEED_MORE);
    cut4(g_fr, g_fl, at, 2, 2000, 0, (uint16_t)(1000 + TA_DEFRAG_SLOTS));
    r = feed(d, DLT_EN10MB, g_fr[1], g_fl[1], 2 * SEC);
    check_udp(&r, 2000, 4);
    ta_defrag_free(d);
}

/* IPv6: a TCP segment in three fragments, out of order. */
static void test_ipv6(void)
{
    struct ta_defrag *d = ta_defrag_new();
    struct result r;
    struct ta_pkt pkt;
    uint8_t f[3][1600];
    uint32_t fl[3];

    for (uint32_t i = 0; i < 3000; i++)
        g_payload[i] = (uint8_t)(i * 13);
    memset(g_payload, 0, 20);                      /* TCP 443 -> 50000, data offset 5, ACK */
    g_payload[0] = 0x01, g_payload[1] = 0xbb, g_payload[2] = 0xc3, g_payload[3] = 0x50;
    g_payload[12] = 0x50, g_payload[13] = 0x10;
    fl[0] = frame6(f[0], 0xdeadbeef, 6, 0, 1232, true);
    fl[1] = frame6(f[1], 0xdeadbeef, 6, 1232, 1232, true);
    fl[2] = frame6(f[2], 0xdeadbeef, 6, 2464, 536, false);
    CHECK_INT(feed(d, DLT_RAW, f[2], fl[2], SEC).rc, TA_NEED_MORE);
    CHECK_INT(feed(d, DLT_RAW, f[0], fl[0], SEC).rc, TA_NEED_MORE);
    r = feed(d, DLT_RAW, f[1], fl[1], SEC);
    CHECK_INT(r.rc, TA_OK);
    CHECK_INT(r.len, 40 + 3000);
    if (r.rc == TA_OK) {
        CHECK_INT(ta_decode_datagram(&r.outer, r.ip, r.len, &pkt, NULL), TA_OK);
        CHECK_INT(pkt.ipver, 6);
        CHECK_INT(pkt.l4, TA_L4_TCP);
        CHECK_INT(pkt.sport, 443);
        CHECK_INT(pkt.dport, 50000);
        CHECK_INT(pkt.payload_len, 2980);
        CHECK(pkt.payload_len == 2980 && memcmp(pkt.payload, g_payload + 20, 2980) == 0);
        CHECK_INT(pkt.src.b[0], 0xfd);
        CHECK_INT(pkt.dst.b[15], 2);
    }
    ta_defrag_free(d);
}

int main(void)
{
    test_orders();
    test_duplicates();
    test_id_reuse();
    test_given_up();
    test_outer_context();
    test_table_full();
    test_ipv6();
    return CHECK_DONE();
}
