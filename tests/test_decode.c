/* test_decode.c - packet decoder: every link type, VLAN stacks, IPv6 extension headers,
 * fragments, truncation at every length, and every packet of a few real captures. */
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tlsaudit/packet.h"

/* A frame being built. Tests write wire bytes directly; only the decoder reads them. */
struct frame {
    uint8_t b[2048];
    size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void put8(struct frame *f, uint8_t v) { f->b[f->n++] = v; }
static void put16(struct frame *f, uint16_t v) { put8(f, (uint8_t)(v >> 8)); put8(f, (uint8_t)v); }
static void put32(struct frame *f, uint32_t v) { put16(f, (uint16_t)(v >> 16)); put16(f, (uint16_t)v); }
static void put_le32(struct frame *f, uint32_t v)
{
    put8(f, (uint8_t)v); put8(f, (uint8_t)(v >> 8)); put8(f, (uint8_t)(v >> 16)); put8(f, (uint8_t)(v >> 24));
}
static void zeros(struct frame *f, size_t n) { memset(f->b + f->n, 0, n); f->n += n; }

static const uint8_t SRC4[4] = { 192, 0, 2, 1 }, DST4[4] = { 198, 51, 100, 7 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34 };
static const uint8_t PAYLOAD[] = "\x16\x03\x01 hello, TLS";
#define PLEN ((uint32_t)sizeof(PAYLOAD) - 1)

/* TCP header with 20 bytes of options (doff 10), then the payload. */
static void tcp_seg(struct frame *f, const uint8_t *pl, uint32_t plen)
{
    static const uint8_t opts[20] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10,
                                      0, 0, 0, 1, 0, 0, 0, 2 };
    put16(f, 49152);
    put16(f, 443);
    put32(f, 0xDEADBEEF);
    put32(f, 0x01020304);
    put8(f, 10 << 4);
    put8(f, 0x18); /* PSH ACK */
    put16(f, 65535);
    put16(f, 0);
    put16(f, 0);
    put(f, opts, sizeof(opts));
    put(f, pl, plen);
}
#define TCP_HLEN 40u

static void udp_dgram(struct frame *f, const uint8_t *pl, uint32_t plen, uint16_t ulen)
{
    put16(f, 5353);
    put16(f, 53);
    put16(f, ulen);
    put16(f, 0);
    put(f, pl, plen);
}

static void ipv4_hdr(struct frame *f, uint8_t proto, uint32_t l4len, uint16_t frag)
{
    put8(f, 0x45);
    put8(f, 0);
    put16(f, (uint16_t)(20 + l4len));
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put(f, SRC4, 4);
    put(f, DST4, 4);
}

static void ipv6_hdr(struct frame *f, uint8_t nh, uint32_t plen)
{
    put32(f, 0x60000000);
    put16(f, (uint16_t)plen);
    put8(f, nh);
    put8(f, 64);
    put(f, SRC6, 16);
    put(f, DST6, 16);
}

/* IPv4 + TCP + payload. */
static void ip4_tcp(struct frame *f)
{
    ipv4_hdr(f, 6, TCP_HLEN + PLEN, 0x4000 /* DF only: not a fragment */);
    tcp_seg(f, PAYLOAD, PLEN);
}

static void ip6_tcp(struct frame *f)
{
    ipv6_hdr(f, 6, TCP_HLEN + PLEN);
    tcp_seg(f, PAYLOAD, PLEN);
}

static void eth_hdr(struct frame *f, uint16_t type)
{
    static const uint8_t macs[12] = { 0, 1, 2, 3, 4, 5, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
    put(f, macs, sizeof(macs));
    put16(f, type);
}

/* Decode from an exact-size heap copy, so that AddressSanitizer sees any over-read. */
static int decode(int dlt, const struct frame *f, size_t len, struct ta_pkt *p,
                  struct ta_decode_stats *st)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;
    memcpy(copy, f->b, len);
    memset(p, 0, sizeof(*p));
    rc = ta_decode(dlt, copy, (uint32_t)len, p, st);
    /* Pointers into the copy die with it: rebase them onto the frame for the checks. */
    if (p->l3)
        p->l3 = f->b + (p->l3 - copy);
    if (p->payload)
        p->payload = f->b + (p->payload - copy);
    free(copy);
    return rc;
}

/* The TCP segment of tcp_seg() with PAYLOAD, from the given addresses. */
static void check_tcp(int rc, const struct ta_pkt *p, uint8_t ipver, const struct frame *f,
                      size_t l3_off, uint32_t l3_len)
{
    char a[64], b[64];
    CHECK_INT(rc, TA_OK);
    CHECK_INT(p->ipver, ipver);
    CHECK_INT(p->l4, TA_L4_TCP);
    CHECK_STR(ta_addr_str(&p->src, p->ipver, a, sizeof(a)), ipver == 4 ? "192.0.2.1" : "2001:db8::1");
    CHECK_STR(ta_addr_str(&p->dst, p->ipver, b, sizeof(b)),
              ipver == 4 ? "198.51.100.7" : "2001:db8::1234");
    CHECK_INT(p->sport, 49152);
    CHECK_INT(p->dport, 443);
    CHECK_INT(p->seq, 0xDEADBEEF);
    CHECK_INT(p->ack, 0x01020304);
    CHECK_INT(p->tcp_flags, TA_TCP_PSH | TA_TCP_ACK);
    CHECK(!p->ip_fragment);
    CHECK(!p->truncated);
    CHECK_INT(p->payload_len, PLEN);
    CHECK(p->payload && memcmp(p->payload, PAYLOAD, PLEN) == 0);
    CHECK(p->l3 == f->b + l3_off);
    CHECK_INT(p->l3_len, l3_len);
}

static void test_ethernet(void)
{
    struct frame f = { .n = 0 };
    struct ta_pkt p;
    struct ta_decode_stats st = { 0 };
    const uint32_t l3len = 20 + TCP_HLEN + PLEN;

    eth_hdr(&f, 0x0800);
    ip4_tcp(&f);
    check_tcp(decode(1, &f, f.n, &p, &st), &p, 4, &f, 14, l3len);
    CHECK_INT(p.vlan_depth, 0);
    /* IPv4-mapped storage. */
    CHECK(p.src.b[10] == 0xFF && p.src.b[11] == 0xFF && p.src.b[0] == 0 && p.src.b[9] == 0);
    /* Ethernet padding after the IP packet is not payload. */
    zeros(&f, 6);
    check_tcp(decode(1, &f, f.n, &p, &st), &p, 4, &f, 14, l3len);
    /* ts_us and wire_len are the caller's. */
    p.ts_us = 42;
    p.wire_len = 99;
    CHECK_INT(ta_decode(1, f.b, (uint32_t)f.n, &p, NULL), TA_OK);
    CHECK_INT(p.ts_us, 42);
    CHECK_INT(p.wire_len, 99);
    /* IPv6 over Ethernet. */
    f.n = 0;
    eth_hdr(&f, 0x86DD);
    ip6_tcp(&f);
    check_tcp(decode(1, &f, f.n, &p, &st), &p, 6, &f, 14, 40 + TCP_HLEN + PLEN);
    CHECK_INT(st.packets, 3);
    CHECK_INT(st.malformed + st.non_ip + st.other_l4 + st.truncated + st.ip_fragments, 0);
}

static void test_vlan(void)
{
    struct frame f = { .n = 0 };
    struct ta_pkt p;
    const uint32_t l3len = 20 + TCP_HLEN + PLEN;
    static const uint16_t tpids[][2] = { { 0x88A8, 0x8100 }, { 0x9100, 0x8100 }, { 0x8100, 0x8100 } };

    /* 802.1Q */
    eth_hdr(&f, 0x8100);
    put16(&f, 0x0064);
    put16(&f, 0x0800);
    ip4_tcp(&f);
    check_tcp(decode(1, &f, f.n, &p, NULL), &p, 4, &f, 18, l3len);
    CHECK_INT(p.vlan_depth, 1);
    /* QinQ with each outer TPID */
    for (size_t i = 0; i < TA_ARRAY_LEN(tpids); i++) {
        f.n = 0;
        eth_hdr(&f, tpids[i][0]);
        put16(&f, 0x0010);
        put16(&f, tpids[i][1]);
        put16(&f, 0x0064);
        put16(&f, 0x86DD);
        ip6_tcp(&f);
        check_tcp(decode(1, &f, f.n, &p, NULL), &p, 6, &f, 22, 40 + TCP_HLEN + PLEN);
        CHECK_INT(p.vlan_depth, 2);
    }
    /* Eight tags are fine, nine are not. */
    for (int depth = 8; depth <= 9; depth++) {
        f.n = 0;
        eth_hdr(&f, 0x8100);
        for (int i = 0; i < depth; i++) {
            put16(&f, (uint16_t)i);
            put16(&f, i + 1 < depth ? 0x8100 : 0x0800);
        }
        ip4_tcp(&f);
        if (depth == 8) {
            check_tcp(decode(1, &f, f.n, &p, NULL), &p, 4, &f, 14 + 4 * 8, l3len);
            CHECK_INT(p.vlan_depth, 8);
        } else {
            CHECK_INT(decode(1, &f, f.n, &p, NULL), TA_MALFORMED);
        }
    }
    /* A tag cut short. */
    f.n = 0;
    eth_hdr(&f, 0x8100);
    put16(&f, 1);
    CHECK_INT(decode(1, &f, f.n, &p, NULL), TA_MALFORMED);
}

static void sll_hdr(struct frame *f, uint16_t proto)
{
    put16(f, 0);        /* packet type: to us */
    put16(f, 1);        /* ARPHRD_ETHER */
    put16(f, 6);
    zeros(f, 8);
    put16(f, proto);
}

static void sll2_hdr(struct frame *f, uint16_t proto)
{
    put16(f, proto);
    put16(f, 0);
    put32(f, 3);        /* ifindex */
    put16(f, 1);
    put8(f, 4);         /* outgoing */
    put8(f, 6);
    zeros(f, 8);
}

static void test_cooked(void)
{
    struct frame f = { .n = 0 };
    struct ta_pkt p;

    sll_hdr(&f, 0x0800);
    ip4_tcp(&f);
    check_tcp(decode(113, &f, f.n, &p, NULL), &p, 4, &f, 16, 20 + TCP_HLEN + PLEN);
    /* VLAN tag left in the frame: protocol 0x8100, then TCI and the real protocol. */
    f.n = 0;
    sll_hdr(&f, 0x8100);
    put16(&f, 0x0005);
    put16(&f, 0x86DD);
    ip6_tcp(&f);
    check_tcp(decode(113, &f, f.n, &p, NULL), &p, 6, &f, 20, 40 + TCP_HLEN + PLEN);
    CHECK_INT(p.vlan_depth, 1);
    f.n = 0;
    sll_hdr(&f, 0x0806);
    zeros(&f, 28);
    CHECK_INT(decode(113, &f, f.n, &p, NULL), TA_UNSUPPORTED);
    /* SLL2 */
    f.n = 0;
    sll2_hdr(&f, 0x86DD);
    ip6_tcp(&f);
    check_tcp(decode(276, &f, f.n, &p, NULL), &p, 6, &f, 20, 40 + TCP_HLEN + PLEN);
    f.n = 0;
    sll2_hdr(&f, 0x8100);
    put16(&f, 0x0005);
    put16(&f, 0x0800);
    ip4_tcp(&f);
    check_tcp(decode(276, &f, f.n, &p, NULL), &p, 4, &f, 24, 20 + TCP_HLEN + PLEN);
    f.n = 10;
    CHECK_INT(decode(276, &f, f.n, &p, NULL), TA_MALFORMED);
}

static void test_raw_and_loopback(void)
{
    struct frame v4 = { .n = 0 }, v6 = { .n = 0 }, f;
    struct ta_pkt p;
    static const int raw_dlts[] = { 12, 14, 101 };
    static const uint32_t af6[] = { 10, 23, 24, 28, 30 };

    ip4_tcp(&v4);
    ip6_tcp(&v6);
    for (size_t i = 0; i < TA_ARRAY_LEN(raw_dlts); i++) {
        CHECK(ta_decode_linktype_supported(raw_dlts[i]));
        check_tcp(decode(raw_dlts[i], &v4, v4.n, &p, NULL), &p, 4, &v4, 0, (uint32_t)v4.n);
        check_tcp(decode(raw_dlts[i], &v6, v6.n, &p, NULL), &p, 6, &v6, 0, (uint32_t)v6.n);
    }
    check_tcp(decode(228, &v4, v4.n, &p, NULL), &p, 4, &v4, 0, (uint32_t)v4.n);
    check_tcp(decode(229, &v6, v6.n, &p, NULL), &p, 6, &v6, 0, (uint32_t)v6.n);
    CHECK_INT(decode(228, &v6, v6.n, &p, NULL), TA_MALFORMED); /* link says v4, packet is v6 */
    CHECK_INT(decode(229, &v4, v4.n, &p, NULL), TA_MALFORMED);

    /* DLT_NULL in both byte orders, DLT_LOOP in network order. */
    for (int order = 0; order < 2; order++) {
        f.n = 0;
        order ? put32(&f, 2) : put_le32(&f, 2);
        put(&f, v4.b, v4.n);
        check_tcp(decode(0, &f, f.n, &p, NULL), &p, 4, &f, 4, (uint32_t)v4.n);
        for (size_t i = 0; i < TA_ARRAY_LEN(af6); i++) {
            f.n = 0;
            order ? put32(&f, af6[i]) : put_le32(&f, af6[i]);
            put(&f, v6.b, v6.n);
            check_tcp(decode(0, &f, f.n, &p, NULL), &p, 6, &f, 4, (uint32_t)v6.n);
            if (!order)
                CHECK_INT(decode(108, &f, f.n, &p, NULL), TA_UNSUPPORTED);
            else
                check_tcp(decode(108, &f, f.n, &p, NULL), &p, 6, &f, 4, (uint32_t)v6.n);
        }
    }
    f.n = 0;
    put32(&f, 2);
    put(&f, v4.b, v4.n);
    check_tcp(decode(108, &f, f.n, &p, NULL), &p, 4, &f, 4, (uint32_t)v4.n);
    f.n = 0;
    put_le32(&f, 7); /* AF_ISO or whatever: not IP */
    put(&f, v4.b, v4.n);
    CHECK_INT(decode(0, &f, f.n, &p, NULL), TA_UNSUPPORTED);
    /* Unknown link types. */
    CHECK(!ta_decode_linktype_supported(105));
    CHECK_INT(decode(105, &v4, v4.n, &p, NULL), TA_UNSUPPORTED);
}

/* IPv6 with extension headers before the transport. */
static void test_ipv6_ext(void)
{
    struct frame f = { .n = 0 };
    struct ta_pkt p;
    struct ta_decode_stats st = { 0 };
    const uint32_t l4 = TCP_HLEN + PLEN;

    /* hop-by-hop (8 bytes) -> destination options (16 bytes) -> TCP */
    ipv6_hdr(&f, 0, 8 + 16 + l4);
    put8(&f, 60); put8(&f, 0); put8(&f, 1); put8(&f, 4); zeros(&f, 4);    /* PadN */
    put8(&f, 6); put8(&f, 1); put8(&f, 1); put8(&f, 12); zeros(&f, 12);
    tcp_seg(&f, PAYLOAD, PLEN);
    check_tcp(decode(101, &f, f.n, &p, &st), &p, 6, &f, 0, (uint32_t)f.n);
    /* routing -> AH (len 4 => 24 bytes) -> atomic fragment -> TCP */
    f.n = 0;
    ipv6_hdr(&f, 43, 8 + 24 + 8 + l4);
    put8(&f, 51); put8(&f, 0); put8(&f, 0); put8(&f, 0); zeros(&f, 4);
    put8(&f, 44); put8(&f, 4); zeros(&f, 22);
    put8(&f, 6); put8(&f, 0); put16(&f, 0); put32(&f, 0xabcd);
    tcp_seg(&f, PAYLOAD, PLEN);
    check_tcp(decode(101, &f, f.n, &p, &st), &p, 6, &f, 0, (uint32_t)f.n);
    /* A real fragment (M = 1), and a later one (offset 1448). */
    for (int later = 0; later < 2; later++) {
        f.n = 0;
        ipv6_hdr(&f, 44, 8 + l4);
        put8(&f, 6); put8(&f, 0); put16(&f, later ? (uint16_t)(181 << 3) : 1); put32(&f, 7);
        tcp_seg(&f, PAYLOAD, PLEN);
        CHECK_INT(decode(101, &f, f.n, &p, &st), TA_OK);
        CHECK(p.ip_fragment);
        CHECK_INT(p.l4, TA_L4_OTHER);
        CHECK_INT(p.sport, 0);
    }
    CHECK_INT(st.ip_fragments, 2);
    /* ESP and no-next-header end the walk as other transport. */
    f.n = 0;
    ipv6_hdr(&f, 60, 8 + 16);
    put8(&f, 50); put8(&f, 0); zeros(&f, 6);
    zeros(&f, 16);
    CHECK_INT(decode(101, &f, f.n, &p, &st), TA_OK);
    CHECK_INT(p.l4, TA_L4_OTHER);
    f.n = 0;
    ipv6_hdr(&f, 59, 0);
    CHECK_INT(decode(101, &f, f.n, &p, &st), TA_OK);
    CHECK_INT(p.l4, TA_L4_OTHER);
    CHECK_INT(st.other_l4, 2);
    /* An extension header longer than the payload length, one cut by the capture, and a
     * chain longer than the cap. */
    f.n = 0;
    ipv6_hdr(&f, 0, 8);
    put8(&f, 6); put8(&f, 1); zeros(&f, 14);
    CHECK_INT(decode(101, &f, f.n, &p, &st), TA_MALFORMED);
    f.n = 0;
    ipv6_hdr(&f, 0, 16);
    put8(&f, 6); put8(&f, 1); zeros(&f, 6);
    CHECK_INT(decode(101, &f, f.n, &p, &st), TA_MALFORMED);
    f.n = 0;
    ipv6_hdr(&f, 60, 8 * 40);
    for (int i = 0; i < 40; i++) {
        put8(&f, 60); put8(&f, 0); zeros(&f, 6);
    }
    CHECK_INT(decode(101, &f, f.n, &p, &st), TA_MALFORMED);
    CHECK_INT(st.malformed, 3);
}

static void test_ipv4_cases(void)
{
    struct frame f = { .n = 0 };
    struct ta_pkt p;
    struct ta_decode_stats st = { 0 };
    static const uint8_t dns[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };
    char a[64];

    /* Fragments: first (MF) and later (offset), with the transport left alone. */
    for (int later = 0; later < 2; later++) {
        f.n = 0;
        eth_hdr(&f, 0x0800);
        ipv4_hdr(&f, 6, TCP_HLEN + PLEN, later ? 185 : 0x2000);
        tcp_seg(&f, PAYLOAD, PLEN);
        CHECK_INT(decode(1, &f, f.n, &p, &st), TA_OK);
        CHECK(p.ip_fragment);
        CHECK_INT(p.l4, TA_L4_OTHER);
        CHECK_INT(p.ipver, 4);
        CHECK_STR(ta_addr_str(&p.src, 4, a, sizeof(a)), "192.0.2.1");
        CHECK_INT(p.payload_len, 0);
    }
    CHECK_INT(st.ip_fragments, 2);
    /* IP options (IHL 6). */
    f.n = 0;
    ipv4_hdr(&f, 6, 4 + TCP_HLEN + PLEN, 0);
    f.b[0] = 0x46;
    put32(&f, 0x01010100); /* NOP NOP NOP EOL */
    tcp_seg(&f, PAYLOAD, PLEN);
    check_tcp(decode(12, &f, f.n, &p, &st), &p, 4, &f, 0, (uint32_t)f.n);
    /* UDP */
    f.n = 0;
    ipv4_hdr(&f, 17, 8 + sizeof(dns), 0);
    udp_dgram(&f, dns, sizeof(dns), 8 + sizeof(dns));
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_OK);
    CHECK_INT(p.l4, TA_L4_UDP);
    CHECK_INT(p.sport, 5353);
    CHECK_INT(p.dport, 53);
    CHECK_INT(p.payload_len, sizeof(dns));
    CHECK(p.payload && memcmp(p.payload, dns, sizeof(dns)) == 0);
    /* UDP length shorter than the IP payload: the tail is not payload. */
    f.n = 0;
    ipv4_hdr(&f, 17, 8 + sizeof(dns), 0);
    udp_dgram(&f, dns, sizeof(dns), 8 + 4);
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_OK);
    CHECK_INT(p.payload_len, 4);
    /* UDP length longer than the IP payload, or shorter than its header. */
    f.b[20 + 5] = 0xFF;
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_MALFORMED);
    f.b[20 + 5] = 7;
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_MALFORMED);
    /* UDP over IPv6 too. */
    f.n = 0;
    ipv6_hdr(&f, 17, 8 + sizeof(dns));
    udp_dgram(&f, dns, sizeof(dns), 8 + sizeof(dns));
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_OK);
    CHECK_INT(p.l4, TA_L4_UDP);
    CHECK_INT(p.payload_len, sizeof(dns));
    /* ICMP echo */
    f.n = 0;
    eth_hdr(&f, 0x0800);
    ipv4_hdr(&f, 1, 8, 0);
    put32(&f, 0x08000000);
    put32(&f, 1);
    CHECK_INT(decode(1, &f, f.n, &p, &st), TA_OK);
    CHECK_INT(p.l4, TA_L4_OTHER);
    CHECK_INT(p.l3_len, 28);
    CHECK_INT(st.other_l4, 1);
    /* ARP */
    f.n = 0;
    eth_hdr(&f, 0x0806);
    put16(&f, 1); put16(&f, 0x0800); put8(&f, 6); put8(&f, 4); put16(&f, 1); zeros(&f, 20);
    CHECK_INT(decode(1, &f, f.n, &p, &st), TA_UNSUPPORTED);
    CHECK_INT(st.non_ip, 1);
    /* Zero total length (segmentation offload on the capturing host): use what was captured. */
    f.n = 0;
    ip4_tcp(&f);
    f.b[2] = f.b[3] = 0;
    check_tcp(decode(12, &f, f.n, &p, &st), &p, 4, &f, 0, (uint32_t)f.n);
    CHECK_INT(st.malformed, 2);
}

/* Headers that lie. */
static void test_malformed(void)
{
    struct frame f = { .n = 0 };
    struct ta_pkt p;
    struct ta_decode_stats st = { 0 };

    ip4_tcp(&f);
    f.b[0] = 0x44; /* IHL 4 */
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_MALFORMED);
    f.b[0] = 0x55; /* version 5 */
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_MALFORMED);
    f.b[0] = 0x4F; /* IHL 15: 60 bytes, more than the TCP header allows after it */
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_MALFORMED); /* too little left for TCP */
    f.b[0] = 0x45;
    f.b[3] = 19; /* total length < IHL */
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_MALFORMED);
    f.b[3] = 20 + 19; /* room for less than a TCP header */
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_MALFORMED);
    f.b[3] = (uint8_t)(20 + TCP_HLEN + PLEN);
    f.b[20 + 12] = 4 << 4; /* data offset 4 */
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_MALFORMED);
    f.b[20 + 12] = 15 << 4; /* 60-byte header: beyond the segment */
    f.b[3] = 20 + 50;
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_MALFORMED);
    CHECK_INT(st.malformed, 7);
    /* Raw IP with a version that is neither 4 nor 6; and nothing at all. */
    f.b[0] = 0x75;
    CHECK_INT(decode(12, &f, f.n, &p, &st), TA_MALFORMED);
    CHECK_INT(decode(12, &f, 0, &p, &st), TA_MALFORMED);
    CHECK_INT(ta_decode(12, NULL, 0, &p, &st), TA_MALFORMED);
    CHECK_INT(st.packets, 10);
    CHECK_INT(st.malformed, 10);
}

/* Every prefix of an Ethernet/IPv4/TCP frame: short headers are malformed, a cut payload is
 * TA_OK with truncated set and exactly the captured payload bytes. */
static void test_truncation(void)
{
    struct frame f = { .n = 0 };
    struct ta_pkt p;
    struct ta_decode_stats st = { 0 };
    const size_t hdrs = 14 + 20 + TCP_HLEN;
    int bad = 0;

    eth_hdr(&f, 0x0800);
    ip4_tcp(&f);
    for (size_t len = 0; len <= f.n; len++) {
        int rc = decode(1, &f, len, &p, &st);
        if (len < hdrs) {
            if (rc != TA_MALFORMED)
                bad++, fprintf(stderr, "len %zu: rc %d\n", len, rc);
            continue;
        }
        if (rc != TA_OK || p.l4 != TA_L4_TCP || p.truncated != (len < f.n) ||
            p.payload_len != len - hdrs || p.l3_len != len - 14 ||
            (p.payload_len && memcmp(p.payload, PAYLOAD, p.payload_len) != 0))
            bad++, fprintf(stderr, "len %zu: rc %d truncated %d payload %u\n", len, rc,
                           p.truncated, p.payload_len);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(st.malformed, hdrs);
    CHECK_INT(st.truncated, f.n - hdrs);
    /* Same for IPv6 in SLL2, and for UDP: no crash, only the two outcomes. */
    f.n = 0;
    sll2_hdr(&f, 0x86DD);
    ipv6_hdr(&f, 0, 8 + 8 + PLEN);
    put8(&f, 17); put8(&f, 0); zeros(&f, 6);
    udp_dgram(&f, PAYLOAD, PLEN, (uint16_t)(8 + PLEN));
    bad = 0;
    for (size_t len = 0; len <= f.n; len++) {
        int rc = decode(276, &f, len, &p, NULL);
        if (len < 20 + 40 + 8 + 8 ? rc != TA_MALFORMED
                                  : rc != TA_OK || p.l4 != TA_L4_UDP || p.truncated != (len < f.n))
            bad++;
    }
    CHECK_INT(bad, 0);
}

static void test_addr_str(void)
{
    struct ta_addr a = { { 0 } };
    char buf[64], small[4];

    a.b[10] = a.b[11] = 0xFF;
    a.b[12] = 10; a.b[15] = 1;
    CHECK_STR(ta_addr_str(&a, 4, buf, sizeof(buf)), "10.0.0.1");
    CHECK_STR(ta_addr_str(&a, 6, buf, sizeof(buf)), "::ffff:10.0.0.1");
    CHECK_STR(ta_addr_str(&a, 4, small, sizeof(small)), "");
    memset(&a, 0, sizeof(a));
    a.b[15] = 1;
    CHECK_STR(ta_addr_str(&a, 6, buf, sizeof(buf)), "::1");
}

/* Decode every packet of a real capture; returns the number of packets with TCP/UDP payload. */
/* Expected numbers per capture, as counted by tshark: packets with TCP/UDP payload and the sum
 * of their payload bytes (tcp.len, udp.length - 8). */
struct cap_want {
    const char *name;
    int dlt;
    long with_payload;
    unsigned long long tcp_bytes, udp_bytes;
    long vlan, ipv6;       /* packets with a VLAN tag removed, IPv6 packets */
};

static long decode_capture(const char *dir, const struct cap_want *w)
{
    const char *name = w->name;
    int want_dlt = w->dlt;
    unsigned long long tcp_bytes = 0, udp_bytes = 0;
    char path[1024], err[PCAP_ERRBUF_SIZE];
    struct ta_decode_stats st = { 0 };
    struct pcap_pkthdr *h;
    const u_char *data;
    long with_payload = 0, tcp = 0, udp = 0, vlan = 0, ipv6 = 0;
    pcap_t *pc;
    int dlt;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    pc = pcap_open_offline(path, err);
    CHECK(pc != NULL);
    if (!pc) {
        fprintf(stderr, "%s: %s\n", name, err);
        return 0;
    }
    dlt = pcap_datalink(pc);
    CHECK_INT(dlt, want_dlt);
    CHECK(ta_decode_linktype_supported(dlt));
    while (pcap_next_ex(pc, &h, &data) == 1) {
        struct ta_pkt p;
        if (ta_decode(dlt, data, h->caplen, &p, &st) != TA_OK)
            continue;
        vlan += p.vlan_depth > 0;
        ipv6 += p.ipver == 6;
        tcp += p.l4 == TA_L4_TCP;
        udp += p.l4 == TA_L4_UDP;
        with_payload += (p.l4 != TA_L4_OTHER && p.payload_len > 0);
        if (p.l4 == TA_L4_TCP)
            tcp_bytes += p.payload_len;
        else if (p.l4 == TA_L4_UDP)
            udp_bytes += p.payload_len;
    }
    pcap_close(pc);
    printf("%-34s dlt %3d: %4llu packets, %ld tcp, %ld udp, %ld with payload, %llu malformed, "
           "%llu non-ip, %llu fragments, %llu other, %llu truncated\n", name, dlt,
           (unsigned long long)st.packets, tcp, udp, with_payload,
           (unsigned long long)st.malformed, (unsigned long long)st.non_ip,
           (unsigned long long)st.ip_fragments, (unsigned long long)st.other_l4,
           (unsigned long long)st.truncated);
    CHECK(st.packets > 0);
    CHECK_INT(st.malformed, 0);
    CHECK_INT(with_payload, w->with_payload);
    CHECK_INT(tcp_bytes, w->tcp_bytes);
    CHECK_INT(udp_bytes, w->udp_bytes);
    CHECK_INT(vlan, w->vlan);
    CHECK_INT(ipv6, w->ipv6);
    return with_payload;
}

static void test_captures(void)
{
    const char *dir = getenv("TA_SHARED_PCAPS");
    char probe[1024];
    FILE *fp;

    if (dir) {
        snprintf(probe, sizeof(probe), "%s/SOURCES.tsv", dir);
        fp = fopen(probe, "r");
        if (fp)
            fclose(fp);
        else
            dir = NULL;
    }
    if (!dir) {
        printf("SKIPPED: shared pcaps not found (TA_SHARED_PCAPS); real-capture decoding not tested\n");
        return;
    }
    static const struct cap_want caps[] = {
        { "flowtest__tls10.pcap", 1, 12, 6107, 0, 26, 0 },          /* Ethernet + 802.1Q */
        { "ndpi__KakaoTalk_talk.pcap", 113, 3113, 19888, 271516, 0, 0 }, /* Linux cooked */
        { "ndpi__ocs.pcap", 12, 40, 12054, 307, 0, 0 },            /* raw IP */
        { "tcpdump__quic_handshake.pcap", 0, 18, 0, 4554, 0, 18 },  /* BSD loopback, IPv6 */
        { "ndpi__quic-v2.pcapng", 113, 19, 0, 11754, 0, 19 },       /* cooked + IPv6 */
        { "zeek__openjdk-25.0.2-zeek.org.pcap", 276, 2, 3377, 0, 0, 0 }, /* Linux cooked v2 */
    };
    for (size_t i = 0; i < TA_ARRAY_LEN(caps); i++)
        CHECK(decode_capture(dir, &caps[i]) > 0);
}

int main(void)
{
    test_ethernet();
    test_vlan();
    test_cooked();
    test_raw_and_loopback();
    test_ipv6_ext();
    test_ipv4_cases();
    test_malformed();
    test_truncation();
    test_addr_str();
    test_captures();
    return CHECK_DONE();
}
