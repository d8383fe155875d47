/* test_decode_tunnel.c - the tunnel decoder (src/decode/decode_tunnel.c) packet by packet, on the
 * captures of tests/data/encap/: each frame of a rewritten capture wraps the frame of the same
 * index of inner.pcap (real openssl handshakes), so both must decode to the same innermost packet
 * (addresses, ports, sequence numbers, flags, the IP packet nDPI gets, the payload bytes), with
 * the expected context; every frame cut at every length never reads past its end (exact-size
 * copies, for AddressSanitizer) and is counted exactly once; the nesting bound; --vxlan-port. */
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tlsaudit/packet.h"

#define MAX_FRAMES 128
#define MAX_FRAME 20000

struct capture {
    size_t n;
    uint32_t len[MAX_FRAMES];
    uint8_t *data[MAX_FRAMES];
};

/* Read every frame of tests/data/encap/NAME (Ethernet). False when absent. */
static bool load(const char *name, struct capture *cap)
{
    const char *src = getenv("TA_SRC");
    char path[1024], err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    pcap_t *pc;

    snprintf(path, sizeof path, "%s/tests/data/encap/%s", src ? src : ".", name);
    memset(cap, 0, sizeof *cap);
    pc = pcap_open_offline(path, err);
    if (!pc) {
        fprintf(stderr, "%s\n", err);
        return false;
    }
    CHECK_INT(pcap_datalink(pc), 1);
    while (pcap_next_ex(pc, &h, &d) == 1 && cap->n < MAX_FRAMES) {
        cap->data[cap->n] = malloc(h->caplen ? h->caplen : 1);
        memcpy(cap->data[cap->n], d, h->caplen);
        cap->len[cap->n++] = h->caplen;
    }
    pcap_close(pc);
    return cap->n > 0;
}

static void unload(struct capture *cap)
{
    for (size_t i = 0; i < cap->n; i++)
        free(cap->data[i]);
}

/* Decode the first len bytes of frame from an exact-size heap copy; the views of *p point into
 * the copy, so compare them before the next call (the copy is kept in *keep). */
static int decode_copy(const struct ta_decode_opts *o, const uint8_t *frame, size_t len,
                       struct ta_pkt *p, struct ta_decode_stats *st, uint8_t **keep)
{
    free(*keep);
    *keep = malloc(len ? len : 1);
    memcpy(*keep, frame, len);
    memset(p, 0, sizeof *p);
    return ta_decode_with(o, 1, *keep, (uint32_t)len, p, st);
}

/* Same innermost packet: addresses, ports, TCP fields, the IP packet and the payload. */
static bool same_inner(const struct ta_pkt *a, const struct ta_pkt *b)
{
    return a->ipver == b->ipver && a->l4 == b->l4 && a->sport == b->sport &&
           a->dport == b->dport && a->seq == b->seq && a->ack == b->ack &&
           a->tcp_flags == b->tcp_flags && !memcmp(&a->src, &b->src, sizeof a->src) &&
           !memcmp(&a->dst, &b->dst, sizeof a->dst) && a->l3_len == b->l3_len &&
           !memcmp(a->l3, b->l3, a->l3_len) && a->payload_len == b->payload_len &&
           (a->payload_len == 0 || !memcmp(a->payload, b->payload, a->payload_len)) &&
           a->truncated == b->truncated;
}

struct kind_want {
    const char *file;
    uint8_t tunnel, depth, has;
    uint16_t vlan, sgt;
    uint32_t vni;
};

/* Every frame of the capture against the frame of the same index of inner.pcap. */
static void test_kind(const struct kind_want *w, const struct capture *inner)
{
    struct capture cap;
    uint8_t *k1 = NULL, *k2 = NULL;
    int bad = 0, tagged = 0;

    if (!load(w->file, &cap)) {
        CHECK(!"capture missing");
        return;
    }
    CHECK_INT(cap.n, inner->n);
    for (size_t i = 0; i < cap.n && i < inner->n; i++) {
        struct ta_pkt a, b;
        int ra = decode_copy(NULL, inner->data[i], inner->len[i], &a, NULL, &k1);
        int rb = decode_copy(NULL, cap.data[i], cap.len[i], &b, NULL, &k2);
        bool ok = ra == TA_OK && rb == TA_OK && same_inner(&a, &b);
        /* cmd.pcap tags only the client's frames */
        bool untagged = w->tunnel == TA_TUN_NONE && w->has == TA_ENC_SGT && b.tun_depth == 0;
        if (!untagged)
            ok = ok && b.enc.tunnel == w->tunnel && b.tun_depth == w->depth &&
                 b.enc.has == w->has && (!(w->has & TA_ENC_VLAN) || b.enc.vlan == w->vlan) &&
                 (!(w->has & TA_ENC_VNI) || b.enc.vni == w->vni) &&
                 (!(w->has & TA_ENC_SGT) || b.enc.sgt == w->sgt);
        tagged += !untagged;
        if (!ok) {
            bad++;
            fprintf(stderr, "%s frame %zu: rc %d/%d tunnel %u depth %u has %u vlan %u vni %u "
                    "sgt %u\n", w->file, i, ra, rb, b.enc.tunnel, b.tun_depth, b.enc.has,
                    b.enc.vlan, b.enc.vni, b.enc.sgt);
        }
    }
    CHECK_INT(bad, 0);
    CHECK(tagged > 0);
    free(k1);
    free(k2);
    unload(&cap);
}

/* Every frame of a capture cut at every length: no over-read, each call counted exactly once
 * (decoded, or in one failure counter), and a cut inside a decoded segment's payload flagged
 * as truncated. */
static void test_cuts(const char *file)
{
    struct capture cap;
    uint8_t *keep = NULL;
    uint64_t calls = 0;
    int bad = 0;

    if (!load(file, &cap)) {
        CHECK(!"capture missing");
        return;
    }
    for (size_t i = 0; i < cap.n; i++) {
        for (size_t len = 0; len <= cap.len[i] && len < MAX_FRAME; len++) {
            struct ta_decode_stats st = { 0 };
            struct ta_pkt p;
            uint64_t failed = 0;
            int rc = decode_copy(NULL, cap.data[i], len, &p, &st, &keep);
            calls++;
            failed = st.malformed + st.non_ip + st.tunnel_too_deep;
            for (int k = 0; k < TA_TUN_COUNT; k++)
                failed += st.undecoded[k];
            if (st.packets != 1 || failed != (rc != TA_OK) ||
                (rc == TA_OK && len < cap.len[i] && p.l4 == TA_L4_TCP && !p.truncated &&
                 p.payload_len > 0))
                bad++, fprintf(stderr, "%s frame %zu len %zu: rc %d failed %llu\n", file, i, len,
                               rc, (unsigned long long)failed);
        }
    }
    CHECK_INT(bad, 0);
    CHECK(calls > 1000);
    free(keep);
    unload(&cap);
}

/* Five nested encapsulations: all refused and counted as too deep; four decode. */
static void test_depth(void)
{
    struct capture cap;
    struct ta_decode_stats st = { 0 };
    uint8_t *keep = NULL;

    if (!load("too-deep.pcap", &cap)) {
        CHECK(!"capture missing");
        return;
    }
    for (size_t i = 0; i < cap.n; i++) {
        struct ta_pkt p;
        CHECK_INT(decode_copy(NULL, cap.data[i], cap.len[i], &p, &st, &keep) != TA_OK, 1);
        CHECK(p.tun_too_deep);
    }
    CHECK_INT(st.tunnel_too_deep, cap.n);
    CHECK_INT(st.malformed + st.tunneled, 0);
    unload(&cap);
    free(keep);
}

/* undecodable.pcap: frame i is broken in way i % 8, each charged to its own kind. */
static void test_undecodable(void)
{
    static const uint8_t kind_of[8] = { TA_TUN_GRE, TA_TUN_VXLAN, TA_TUN_MPLS, TA_TUN_GENEVE,
                                        TA_TUN_PPPOE, TA_TUN_CMD, TA_TUN_ERSPAN2,
                                        TA_TUN_IP4IN4 };
    struct capture cap;
    uint8_t *keep = NULL;
    int bad = 0;

    if (!load("undecodable.pcap", &cap)) {
        CHECK(!"capture missing");
        return;
    }
    for (size_t i = 0; i < cap.n; i++) {
        struct ta_decode_stats st = { 0 };
        struct ta_pkt p;
        int rc = decode_copy(NULL, cap.data[i], cap.len[i], &p, &st, &keep);
        if (rc == TA_OK || p.tun_failed != kind_of[i % 8] || st.undecoded[kind_of[i % 8]] != 1 ||
            st.malformed || st.non_ip)
            bad++, fprintf(stderr, "frame %zu: rc %d failed kind %u\n", i, rc, p.tun_failed);
    }
    CHECK_INT(bad, 0);
    unload(&cap);
    free(keep);
}

/* GRE whose payload is not IP, directly (PPP, as PPTP sends) or one tunnel further down (MPLS
 * carrying an Ethernet frame with ARP): refused, and charged to GRE, never to non_ip. */
static void test_gre_not_ip(void)
{
    static const uint8_t ppp[] = {
        0x45, 0, 0, 32, 0, 0, 0, 0, 64, 47, 0, 0, 192, 0, 2, 1, 198, 51, 100, 1, /* IPv4, GRE */
        0x00, 0x00, 0x88, 0x0B,                    /* GRE: no options, protocol PPP */
        0xFF, 0x03, 0x00, 0x21, 0x45, 0, 0, 0,     /* a PPP frame */
    };
    static const uint8_t mpls_arp[] = {
        0x45, 0, 0, 60, 0, 0, 0, 0, 64, 47, 0, 0, 192, 0, 2, 1, 198, 51, 100, 1, /* IPv4, GRE */
        0x00, 0x00, 0x88, 0x47,                    /* GRE: MPLS unicast */
        0x00, 0x01, 0x01, 0x40,                    /* label 16, bottom of stack */
        0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,        /* Ethernet without control word: dst */
        0x02, 0, 0, 0, 0, 1, 0x08, 0x06,           /* src, ARP */
        0, 1, 8, 0, 6, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    const struct { const uint8_t *f; size_t len; } cases[] = {
        { ppp, sizeof ppp }, { mpls_arp, sizeof mpls_arp },
    };
    for (size_t i = 0; i < TA_ARRAY_LEN(cases); i++) {
        struct ta_decode_stats st = { 0 };
        struct ta_pkt p = { 0 };
        CHECK_INT(ta_decode(DLT_RAW, cases[i].f, (uint32_t)cases[i].len, &p, &st), TA_UNSUPPORTED);
        CHECK_INT(p.tun_failed, TA_TUN_GRE);
        CHECK_INT(st.undecoded[TA_TUN_GRE], 1);
        CHECK_INT(st.non_ip + st.malformed + st.tunneled, 0);
    }
}

/* VXLAN on another UDP port: plain UDP by default, the inner packet with the option. */
static void test_vxlan_port(void)
{
    struct capture cap;
    struct ta_decode_opts o = { .vxlan_port = 8472 };
    uint8_t *keep = NULL;
    int moved = 0;

    if (!load("vxlan.pcap", &cap)) {
        CHECK(!"capture missing");
        return;
    }
    for (size_t i = 0; i < cap.n; i++) {
        struct ta_pkt p;
        uint8_t *f = cap.data[i];
        size_t udp;
        if (cap.len[i] < 42 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 17)
            continue;
        udp = 14 + (size_t)(f[14] & 15) * 4;
        if (f[udp + 2] != 0x12 || f[udp + 3] != 0xB5) /* 4789 */
            continue;
        f[udp + 2] = 0x21, f[udp + 3] = 0x18;          /* 8472 */
        CHECK_INT(decode_copy(NULL, f, cap.len[i], &p, NULL, &keep), TA_OK);
        CHECK(p.l4 == TA_L4_UDP && p.dport == 8472 && p.tun_depth == 0);
        if (decode_copy(&o, f, cap.len[i], &p, NULL, &keep) == TA_OK) {
            CHECK(p.enc.tunnel == TA_TUN_VXLAN && p.enc.vni == 42);
            moved += p.l4 == TA_L4_TCP; /* the rest: neighbour discovery inside */
        }
    }
    CHECK(moved > 20);
    unload(&cap);
    free(keep);
}

int main(void)
{
    static const struct kind_want kinds[] = {
        { "qinq.pcap", TA_TUN_NONE, 0, TA_ENC_VLAN, 200, 0, 0 },
        { "mpls-ip.pcap", TA_TUN_MPLS, 1, 0, 0, 0, 0 },
        { "mpls-pw.pcap", TA_TUN_MPLS, 1, 0, 0, 0, 0 },
        { "mpls-pw-nocw.pcap", TA_TUN_MPLS, 1, 0, 0, 0, 0 },
        { "pppoe.pcap", TA_TUN_PPPOE, 1, 0, 0, 0, 0 },
        { "cmd.pcap", TA_TUN_NONE, 1, TA_ENC_SGT, 0, 1234, 0 },
        { "gre-ip.pcap", TA_TUN_GRE, 1, 0, 0, 0, 0 },
        { "gre-opts.pcap", TA_TUN_GRE, 1, 0, 0, 0, 0 },
        { "gretap.pcap", TA_TUN_GRE, 1, 0, 0, 0, 0 },
        { "erspan1.pcap", TA_TUN_ERSPAN1, 1, 0, 0, 0, 0 },
        { "erspan2.pcap", TA_TUN_ERSPAN2, 1, 0, 0, 0, 0 },
        { "erspan3.pcap", TA_TUN_ERSPAN3, 1, TA_ENC_VLAN | TA_ENC_SGT, 55, 4321, 0 },
        { "ip6erspan2.pcap", TA_TUN_ERSPAN2, 1, 0, 0, 0, 0 },
        { "geneve.pcap", TA_TUN_GENEVE, 1, TA_ENC_VNI, 0, 0, 4242 },
        { "geneve-ip.pcap", TA_TUN_GENEVE, 1, TA_ENC_VNI, 0, 0, 4343 },
        { "nested.pcap", TA_TUN_MPLS, 4, TA_ENC_VNI | TA_ENC_SGT, 0, 77, 31337 },
    };
    struct capture inner;

    if (!load("inner.pcap", &inner)) {
        fprintf(stderr, "tests/data/encap/inner.pcap not found (TA_SRC)\n");
        return 1;
    }
    for (size_t i = 0; i < TA_ARRAY_LEN(kinds); i++)
        test_kind(&kinds[i], &inner);
    unload(&inner);
    test_cuts("nested.pcap");
    test_cuts("erspan3.pcap");
    test_cuts("geneve.pcap");
    test_cuts("pppoe.pcap");
    test_cuts("ip-in-ip6.pcap");
    test_depth();
    test_undecodable();
    test_gre_not_ip();
    test_vxlan_port();
    return CHECK_DONE();
}
