/* gen.c - build large benchmark captures from real seed handshakes: every seed TCP flow is
 * replayed many times onto IPv4/IPv6 client and server addresses (Microsoft 365 ranges or
 * documentation ranges), flows interleave by timestamp, established sessions get bulk data
 * (full-size segments with ACKs, sequence numbers continued), and DNS lookups add UDP noise.
 * Beside the capture it writes the ground truth (FILE.truth.tsv, FILE.legacy-all.txt,
 * FILE.legacy-o365.txt, FILE.meta). Same seeds and options give byte-identical files.
 * Usage: gen --shape bulk|handshake [--scale F] [--seed N] --out FILE SEED.pcap... */
#include "gen.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_T0_US 1767603600000000ull  /* 2026-01-05T09:00:00Z: fixed, so output is reproducible */
#define GEN_BUF 2048u
#define GEN_REC 16406u                 /* one full TLS 1.2/1.3 application data record on the wire */

struct gen_cfg {
    const char *shape, *out;
    double scale, hs_share;            /* hs_share: target fraction of packets in seed flows */
    uint64_t seed, target_bytes;
    uint32_t clients, v6_pct, o365_pct, dns_pct, noise_pct;
    double link_mbps, rate_lo, rate_hi;    /* whole link, and per-flow bulk rate range */
    uint32_t days;                     /* --days N: flow starts spread over N days (0 = link rate) */
};

enum gen_phase { PH_DNSQ, PH_DNSR, PH_PRE, PH_BULK, PH_TAIL, PH_DONE };

/* One replicated flow (or a DNS-only exchange when t is NULL) being written. */
struct inst {
    uint64_t t_next, serial, t_seg;
    const struct gen_tmpl *t;
    enum gen_phase ph;
    size_t idx;
    int v6, last_dir;
    uint32_t client;
    uint8_t cip[16], sip[16];
    uint16_t cport, sport, dns_id, dns_port, ipid[2];
    uint32_t isn[2], tsoff[2], tsval[2], rtt_us;
    uint32_t bdir, nseg, seg, segsz, gap_us;
    uint64_t bbytes;                   /* bulk bytes: nseg segments, the last one shorter */
    uint32_t extra[2];                 /* bulk bytes added to each direction */
    bool ack_due;
    char qname[GEN_SNI_MAX];
};

struct gen_stats {
    uint64_t packets, bytes, hs_packets, bulk_packets, dns_packets, flows, tls_flows, legacy_flows;
    uint64_t planned_hs, planned_bulk, max_active, last_ts;
};

static uint64_t g_rng;
static uint8_t g_rand[1u << 20];

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t rnd(void)
{
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double rnd01(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }
static uint32_t rndn(uint32_t n) { return (uint32_t)(rnd() % n); }

/* Ones' complement sum over bytes, for the IPv4 header and TCP/UDP checksums. */
static uint64_t csum_add(uint64_t s, const uint8_t *p, size_t n)
{
    for (; n >= 2; p += 2, n -= 2)
        s += (uint32_t)(p[0] << 8 | p[1]);
    if (n)
        s += (uint32_t)(p[0] << 8);
    return s;
}
static uint16_t csum_fold(uint64_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }

/* Addresses. Clients: 10.16.0.0/12 and fd00:7a:1::/48; the resolver 10.0.0.53 / fd00:7a::53.
 * Servers: Microsoft 365 ranges of the built-in endpoint list (52.96.0.0/14, 40.96.0.0/13,
 * 2603:1036::/36) or documentation ranges (203.0.113/24, 198.51.100/24, 2001:db8::/32). */
static void addr_client(uint32_t i, int v6, uint8_t a[16])
{
    memset(a, 0, 16);
    if (!v6) {
        a[0] = 10; a[1] = (uint8_t)(16 + i / 62500); a[2] = (uint8_t)(i / 250 % 250); a[3] = (uint8_t)(i % 250 + 1);
        return;
    }
    a[0] = 0xfd; a[3] = 0x7a; a[5] = 1;
    put16(a + 6, i / 1000);
    put16(a + 14, i % 1000 + 1);
}
static void addr_server(bool ms, int v6, uint32_t k, uint8_t a[16])
{
    static const uint8_t doc4[2][3] = { { 203, 0, 113 }, { 198, 51, 100 } };
    memset(a, 0, 16);
    if (!v6 && ms) {
        a[0] = k & 1 ? 52 : 40;
        a[1] = (uint8_t)(k & 1 ? 96 + (k >> 1) % 4 : 96 + (k >> 1) % 8);
        a[2] = (uint8_t)(k * 37 % 256); a[3] = (uint8_t)(k % 250 + 4);
    } else if (!v6) {
        memcpy(a, doc4[k & 1], 3);
        a[3] = (uint8_t)((k >> 1) % 250 + 2);
    } else if (ms) {
        put16(a, 0x2603); put16(a + 2, 0x1036); put16(a + 4, k % 0x1000); put16(a + 14, 0x20 + k % 200);
    } else {
        put16(a, 0x2001); put16(a + 2, 0x0db8); put16(a + 4, 0x100 + k % 16); put16(a + 14, 0x10 + k % 200);
    }
}
static void addr_text(int v6, const uint8_t a[16], char *out, size_t n)
{
    inet_ntop(v6 ? AF_INET6 : AF_INET, a, out, (socklen_t)n);
}

/* Ethernet and IP headers for a packet of l4len transport bytes; returns the IP header length.
 * s2c: from the server side (the router MAC), else from the client. */
static size_t hdr_ip(struct inst *in, uint8_t *b, bool s2c, uint8_t proto, const uint8_t *src,
                     const uint8_t *dst, size_t l4len)
{
    static const uint8_t router[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    uint8_t cmac[6] = { 0x02, 0x1a, 0, 0, 0, 0 };
    put32(cmac + 2, in->client);
    memcpy(b, s2c ? cmac : router, 6);
    memcpy(b + 6, s2c ? router : cmac, 6);
    put16(b + 12, in->v6 ? 0x86dd : 0x0800);
    uint8_t *ip = b + 14;
    if (in->v6) {
        put32(ip, 0x60000000u | (in->client * 2654435761u & 0xfffff));
        put16(ip + 4, (uint32_t)l4len);
        ip[6] = proto;
        ip[7] = s2c ? 52 : 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
        return 40;
    }
    ip[0] = 0x45; ip[1] = 0;
    put16(ip + 2, (uint32_t)(20 + l4len));
    put16(ip + 4, in->ipid[s2c]++);
    put16(ip + 6, 0x4000);
    ip[8] = s2c ? 52 : 64;
    ip[9] = proto;
    put16(ip + 10, 0);
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    return 20;
}

/* Transport checksum with the pseudo header of either family. */
static void l4_csum(const struct inst *in, const uint8_t *ip, uint8_t *l4, size_t l4len, uint8_t proto,
                    size_t csum_off)
{
    uint8_t ph[8] = { 0 };
    uint64_t s = in->v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);
    put32(ph, (uint32_t)l4len);
    ph[7] = proto;
    s = csum_add(s, ph, 8);
    put16(l4 + csum_off, 0);
    uint16_t c = csum_fold(csum_add(s, l4, l4len));
    put16(l4 + csum_off, proto == 17 && c == 0 ? 0xffff : c);
}

/* Rewrite the seed's options for this instance: MSS to the path MTU, timestamps to this
 * flow's clock (so they continue into the bulk data). */
static void tcp_opts(struct inst *in, uint8_t *o, size_t n, int dir, uint64_t t_us, bool syn_only)
{
    for (size_t i = 0; i < n;) {
        if (o[i] == 0)
            break;
        if (o[i] == 1) { i++; continue; }
        if (i + 1 >= n || o[i + 1] < 2 || o[i + 1] > n - i)
            break;
        if (o[i] == 2 && o[i + 1] == 4)
            put16(o + i + 2, in->v6 ? 1440 : 1460);
        if (o[i] == 8 && o[i + 1] == 10) {
            in->tsval[dir] = in->tsoff[dir] + (uint32_t)((t_us - GEN_T0_US) / 1000);
            put32(o + i + 2, in->tsval[dir]);
            put32(o + i + 6, syn_only ? 0 : in->tsval[!dir]);
        }
        i += o[i + 1];
    }
}

/* Fill a bulk payload: pseudo-random bytes with TLS application data record headers where the
 * stream offset puts them; records are full size except the last, which ends with the data. */
static void bulk_fill(uint8_t *p, uint32_t n, uint64_t off, uint32_t salt, uint64_t total,
                      uint64_t first)
{
    memcpy(p, g_rand + (off * 7 + salt) % (sizeof(g_rand) - GEN_BUF), n);
    uint64_t r = off <= first ? first : off - (off - first) % GEN_REC;
    for (; r < off + n && r < total; r += GEN_REC) {
        uint64_t rl = total - r < GEN_REC ? total - r : GEN_REC;
        uint8_t rh[5] = { 0x17, 0x03, 0x03, (uint8_t)((rl - 5) >> 8), (uint8_t)(rl - 5) };
        for (unsigned k = 0; k < 5; k++)
            if (r + k >= off && r + k < off + n)
                p[r + k - off] = rh[k];
    }
}

/* Build one TCP segment into b; returns the frame length. */
static size_t build_tcp(struct inst *in, uint8_t *b, int dir, uint8_t flags, uint32_t seq, uint32_t ack,
                        uint16_t win, const uint8_t *opt, size_t optlen, const uint8_t *pay,
                        uint32_t paylen, uint64_t bulk_off)
{
    size_t l4len = 20 + optlen + paylen;
    size_t iph = hdr_ip(in, b, dir == GEN_S2C, 6, dir ? in->sip : in->cip, dir ? in->cip : in->sip, l4len);
    uint8_t *tcp = b + 14 + iph;
    put16(tcp, dir ? in->sport : in->cport);
    put16(tcp + 2, dir ? in->cport : in->sport);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = (uint8_t)((20 + optlen) / 4 << 4);
    tcp[13] = flags;
    put16(tcp + 14, win);
    put32(tcp + 16, 0);
    memcpy(tcp + 20, opt, optlen);
    tcp_opts(in, tcp + 20, optlen, dir, in->t_next, (flags & (GEN_TH_SYN | GEN_TH_ACK)) == GEN_TH_SYN);
    if (pay)
        memcpy(tcp + 20 + optlen, pay, paylen);
    else if (paylen)
        bulk_fill(tcp + 20 + optlen, paylen, bulk_off, in->client, in->bbytes, in->t->rec_left[dir]);
    l4_csum(in, b + 14, tcp, l4len, 6, 16);
    return 14 + iph + l4len;
}

/* Build the DNS query (or its answer) for in->qname; returns the frame length. */
static size_t build_dns(struct inst *in, uint8_t *b, bool answer)
{
    uint8_t rsv[16] = { 0 }, msg[600];
    if (in->v6) { put16(rsv, 0xfd00); put16(rsv + 2, 0x7a); put16(rsv + 14, 0x53); }
    else { rsv[0] = 10; rsv[3] = 53; }
    size_t n = 12, qstart = 12;
    put16(msg, in->dns_id);
    put16(msg + 2, answer ? 0x8180 : 0x0100);
    put16(msg + 4, 1); put16(msg + 6, answer ? 1 : 0); put32(msg + 8, 0);
    for (const char *l = in->qname; *l;) {
        const char *dot = strchr(l, '.');
        size_t ll = dot ? (size_t)(dot - l) : strlen(l);
        if (ll == 0 || ll > 63 || n + ll + 2 > 300)
            break;
        msg[n++] = (uint8_t)ll;
        memcpy(msg + n, l, ll);
        n += ll;
        l += ll + (dot ? 1 : 0);
    }
    msg[n++] = 0;
    uint16_t qtype = in->v6 ? 28 : 1;
    put16(msg + n, qtype); put16(msg + n + 2, 1);
    n += 4;
    if (answer) {
        put16(msg + n, 0xc000 | qstart); put16(msg + n + 2, qtype); put16(msg + n + 4, 1);
        put32(msg + n + 6, 300); put16(msg + n + 10, in->v6 ? 16 : 4);
        memcpy(msg + n + 12, in->sip, in->v6 ? 16 : 4);
        n += 12 + (in->v6 ? 16 : 4);
    }
    size_t l4len = 8 + n;
    size_t iph = hdr_ip(in, b, answer, 17, answer ? rsv : in->cip, answer ? in->cip : rsv, l4len);
    uint8_t *udp = b + 14 + iph;
    put16(udp, answer ? 53 : in->dns_port);
    put16(udp + 2, answer ? in->dns_port : 53);
    put16(udp + 4, (uint32_t)l4len);
    memcpy(udp + 8, msg, n);
    l4_csum(in, b + 14, udp, l4len, 17, 6);
    return 14 + iph + l4len;
}

/* Time of the next packet after one in direction dir, seen by a tap next to the clients: the
 * server answers one round trip after the client, the client 200 us after the server. */
static void next_time(struct inst *in, int next_dir)
{
    if (in->last_dir < 0 || next_dir == in->last_dir)
        in->t_next += 20;
    else
        in->t_next += next_dir == GEN_S2C ? in->rtt_us : 200;
    in->last_dir = next_dir;
}

/* Write the instance's current packet into b and move to the next one (t_next, phase).
 * Returns the frame length; *kind is 0 seed, 1 bulk, 2 dns. */
static size_t inst_step(struct inst *in, uint8_t *b, int *kind)
{
    size_t len = 0;
    const struct gen_tmpl *t = in->t;
    switch (in->ph) {
    case PH_DNSQ:
    case PH_DNSR:
        *kind = 2;
        len = build_dns(in, b, in->ph == PH_DNSR);
        in->t_next += in->ph == PH_DNSQ ? 1500 + in->rtt_us / 4 : 300;
        in->ph = in->ph == PH_DNSR && t ? PH_PRE : in->ph == PH_DNSQ ? PH_DNSR : PH_DONE;
        return len;
    case PH_PRE:
    case PH_TAIL: {
        *kind = 0;
        if (in->idx >= t->npk) {                       /* synthesized close: FIN, FIN, ACK */
            size_t k = in->idx - t->npk;
            int dir = k == 1 ? GEN_S2C : GEN_C2S;
            uint32_t c = in->isn[0] + t->next_rseq[0] + in->extra[0], s = in->isn[1] + t->next_rseq[1] + in->extra[1];
            static const uint8_t ts[12] = { 1, 1, 8, 10 };
            len = k == 0 ? build_tcp(in, b, dir, GEN_TH_FIN | GEN_TH_ACK, c, s, 2000, ts, 12, NULL, 0, 0)
                : k == 1 ? build_tcp(in, b, dir, GEN_TH_FIN | GEN_TH_ACK, s, c + 1, 2000, ts, 12, NULL, 0, 0)
                         : build_tcp(in, b, dir, GEN_TH_ACK, c + 1, s + 1, 2000, ts, 12, NULL, 0, 0);
            in->idx++;
            if (in->idx == t->npk + 3)
                in->ph = PH_DONE;
            else
                next_time(in, k == 0 ? GEN_S2C : GEN_C2S);
            return len;
        }
        const struct gen_pkt *p = &t->pk[in->idx];
        bool after = in->ph == PH_TAIL;
        uint32_t seq = in->isn[p->dir] + p->rseq + (after ? in->extra[p->dir] : 0);
        uint32_t ack = (p->flags & GEN_TH_ACK) ? in->isn[!p->dir] + p->rack + (after ? in->extra[!p->dir] : 0) : 0;
        len = build_tcp(in, b, p->dir, p->flags, seq, ack, p->win, p->opt, p->optlen, p->pay, p->paylen, 0);
        in->idx++;
        if (in->ph == PH_PRE && in->idx == t->close_at && in->nseg) {
            in->ph = PH_BULK;
            in->t_next += in->rtt_us;
            in->t_seg = in->t_next;
            in->last_dir = -1;
            return len;
        }
        bool synth = !t->has_close && in->nseg;
        if (in->idx == t->npk && !synth) {
            in->ph = PH_DONE;
            return len;
        }
        if (in->idx == t->close_at)
            in->ph = PH_TAIL;
        next_time(in, in->idx < t->npk ? t->pk[in->idx].dir : GEN_C2S);
        return len;
    }
    case PH_BULK: {
        *kind = 1;
        static const uint8_t ts[12] = { 1, 1, 8, 10 };
        uint32_t d = in->bdir;
        uint32_t base_d = in->isn[d] + t->next_rseq[d], base_o = in->isn[!d] + t->next_rseq[!d];
        if (in->ack_due) {                              /* the receiver acknowledges */
            uint64_t acked = (uint64_t)in->seg * in->segsz;
            len = build_tcp(in, b, (int)!d, GEN_TH_ACK, base_o,
                            base_d + (uint32_t)(acked < in->bbytes ? acked : in->bbytes), 3000,
                            ts, 12, NULL, 0, 0);
            in->ack_due = false;
        } else {
            uint64_t off = (uint64_t)in->seg * in->segsz;
            uint32_t n = in->bbytes - off < in->segsz ? (uint32_t)(in->bbytes - off) : in->segsz;
            len = build_tcp(in, b, (int)d, GEN_TH_ACK | (in->seg % 11 == 10 || in->seg + 1 == in->nseg ? GEN_TH_PSH : 0),
                            base_d + (uint32_t)off, base_o, 3000, ts, 12, NULL, n, off);
            in->seg++;
            in->ack_due = in->seg % 2 == 0 || in->seg == in->nseg;
        }
        if (!in->ack_due && in->seg == in->nseg) {
            in->extra[d] = (uint32_t)in->bbytes;
            in->ph = PH_TAIL;
            in->last_dir = GEN_C2S;
            in->t_next += in->rtt_us / 2 + 100;
        } else if (in->ack_due) {
            in->t_next += in->gap_us > 80 ? 40 : in->gap_us / 2;
        } else {
            in->t_seg += in->gap_us;
            in->t_next = in->t_seg > in->t_next ? in->t_seg : in->t_next + 1;
        }
        return len;
    }
    case PH_DONE:
        break;
    }
    return 0;
}

/* ---- scheduling: instances are created in time order and merged through a min-heap ---- */

struct heap {
    struct inst **a;
    size_t n, cap;
};

static bool inst_before(const struct inst *x, const struct inst *y)
{
    return x->t_next < y->t_next || (x->t_next == y->t_next && x->serial < y->serial);
}

static void heap_down(struct heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < h->n && inst_before(h->a[l], h->a[m])) m = l;
        if (l + 1 < h->n && inst_before(h->a[l + 1], h->a[m])) m = l + 1;
        if (m == i)
            return;
        struct inst *tmp = h->a[i]; h->a[i] = h->a[m]; h->a[m] = tmp;
        i = m;
    }
}

static bool heap_push(struct heap *h, struct inst *in)
{
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 1024;
        struct inst **na = realloc(h->a, ncap * sizeof(*na));
        if (na == NULL)
            return false;
        h->a = na;
        h->cap = ncap;
    }
    size_t i = h->n++;
    h->a[i] = in;
    while (i && inst_before(h->a[i], h->a[(i - 1) / 2])) {
        struct inst *tmp = h->a[i]; h->a[i] = h->a[(i - 1) / 2]; h->a[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
    return true;
}

/* Per-client state for addressing, ports and the legacy lists. */
struct client {
    uint32_t flows;
    uint8_t legacy, legacy_o365, used;
};

struct gen {
    struct gen_cfg cfg;
    struct gen_seeds seeds;
    struct client *cl;
    struct gen_stats st;
    FILE *truth;
    uint64_t serial;
};

/* Bytes a seed flow puts on the wire (frames without pcap headers), for planning. */
static uint64_t tmpl_bytes(const struct gen_tmpl *t)
{
    uint64_t b = 0;
    for (size_t i = 0; i < t->npk; i++)
        b += 74 + t->pk[i].optlen + t->pk[i].paylen;
    return b;
}

/* Make the next instance: a seed flow (or, noise_pct of the time, a lone DNS lookup) on a
 * client, a server and a start time; decide its bulk size from the packet budget and write its
 * ground-truth row. Returns NULL when out of memory; *planned gets its bytes. */
static struct inst *inst_new(struct gen *g, uint64_t start, uint64_t *planned)
{
    struct inst *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return NULL;
    const struct gen_cfg *c = &g->cfg;
    in->serial = g->serial++;
    in->t_next = start;
    in->last_dir = -1;
    in->client = (uint32_t)((in->serial * 2654435761u + 12345u) % c->clients);
    in->v6 = (in->client * 2246822519u >> 7) % 100 < c->v6_pct;
    addr_client(in->client, in->v6, in->cip);
    in->rtt_us = 2000 + rndn(78000);
    in->dns_id = (uint16_t)rnd();
    in->dns_port = (uint16_t)(1024 + rndn(64000));
    in->isn[0] = (uint32_t)rnd();
    in->isn[1] = (uint32_t)rnd();
    in->tsoff[0] = (uint32_t)rnd();
    in->tsoff[1] = (uint32_t)rnd();
    if (rndn(100) < c->noise_pct) {                    /* unrelated lookup: UDP noise */
        snprintf(in->qname, sizeof(in->qname), "img%u.cdn%u.example.org", rndn(5000), rndn(40));
        addr_server(false, in->v6, rndn(400), in->sip);
        in->ph = PH_DNSQ;
        *planned = 2 * 130;
        return in;
    }
    /* --days (a sensor's month): a client keeps its TLS stacks and destinations, as on a real
     * network: two templates and four servers of its own, one of each picked per flow */
    uint32_t pick = c->days ? (in->client * 2654435761u >> 3) : 0;
    const struct gen_tmpl *t = &g->seeds.t[c->days ? (pick + rndn(2)) % (uint32_t)g->seeds.n
                                                   : rndn((uint32_t)g->seeds.n)];
    in->t = t;
    bool ms = t->ms_named || (c->days ? (pick >> 8) % 100 : rndn(100)) < c->o365_pct;
    addr_server(ms, in->v6, c->days ? (pick + rndn(4)) % 400 : rndn(400), in->sip);
    in->sport = t->server_port;
    struct client *cl = &g->cl[in->client];
    in->cport = (uint16_t)(32768 + (cl->flows++ * 7919u + in->client * 131u) % 28000u);
    cl->used = 1;
    in->ph = PH_PRE;
    if (t->tls && t->sni[0] && rndn(100) < c->dns_pct) {
        snprintf(in->qname, sizeof(in->qname), "%s", t->sni);
        in->ph = PH_DNSQ;
        *planned += 2 * 130;
    }
    /* bulk: fill the packet budget so that seed packets stay hs_share of all packets */
    uint64_t hs = t->npk + (t->has_close ? 0 : 3);
    g->st.planned_hs += hs;
    in->segsz = in->v6 ? 1428 : 1448;
    if (t->appdata) {
        double want = (double)g->st.planned_hs * (1.0 - c->hs_share) / c->hs_share - (double)g->st.planned_bulk;
        double segs = want > 0 ? want / 1.5 * (0.5 + rnd01()) : 0;
        in->bdir = rndn(10) == 0 ? GEN_C2S : GEN_S2C;  /* one in ten sessions uploads */
        in->bbytes = (uint64_t)(segs * in->segsz);
        if (in->bbytes < t->rec_left[in->bdir] + 64)
            in->bbytes = t->rec_left[in->bdir] + 64;   /* finish the seed's open record */
        if ((in->bbytes - t->rec_left[in->bdir]) % GEN_REC < 64)
            in->bbytes += 64;                           /* no record shorter than its header */
        in->nseg = (uint32_t)((in->bbytes + in->segsz - 1) / in->segsz);
        double mbps = c->rate_lo * pow(c->rate_hi / c->rate_lo, rnd01());
        in->gap_us = (uint32_t)(in->segsz * 8 / mbps) + 1;
        g->st.planned_bulk += in->nseg + (in->nseg + 1) / 2;
    }
    if (!t->has_close && in->nseg == 0)
        g->st.planned_hs -= 3;
    *planned += tmpl_bytes(t) + in->bbytes + (uint64_t)in->nseg * 86u + (in->nseg + 1) / 2 * 86u;
    bool legacy = gen_tmpl_legacy(t);
    char cs[INET6_ADDRSTRLEN], ss[INET6_ADDRSTRLEN];
    addr_text(in->v6, in->cip, cs, sizeof(cs));
    addr_text(in->v6, in->sip, ss, sizeof(ss));
    fprintf(g->truth, "%llu\t%llu\t%s\t%s\t%u\t%s\t%u\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%llu\n",
            (unsigned long long)in->serial, (unsigned long long)start, t->seed, cs, in->cport, ss,
            in->sport, in->v6 ? 6 : 4, t->sni[0] ? t->sni : "-", gen_version_name(t->offered_max),
            t->server_hello ? gen_version_name(t->negotiated) : "-", t->tls, legacy, ms,
            (unsigned long long)in->bbytes);
    g->st.flows++;
    g->st.tls_flows += t->tls;
    g->st.legacy_flows += legacy;
    if (legacy) {
        cl->legacy = 1;
        cl->legacy_o365 |= ms;
    }
    return in;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Write the sorted client address list of those whose flag (legacy or legacy_o365) is set. */
static bool write_clients(const struct gen *g, const char *path, bool o365)
{
    FILE *f = fopen(path, "w");
    char **v = calloc(g->cfg.clients + 1u, sizeof(*v));
    size_t n = 0;
    if (f == NULL || v == NULL) {
        if (f) fclose(f);
        free(v);
        return false;
    }
    for (uint32_t i = 0; i < g->cfg.clients; i++) {
        if (!(o365 ? g->cl[i].legacy_o365 : g->cl[i].legacy))
            continue;
        uint8_t a[16];
        int v6 = (i * 2246822519u >> 7) % 100 < g->cfg.v6_pct;
        addr_client(i, v6, a);
        v[n] = malloc(INET6_ADDRSTRLEN);
        if (v[n] == NULL)
            break;
        addr_text(v6, a, v[n++], INET6_ADDRSTRLEN);
    }
    qsort(v, n, sizeof(*v), cmp_str);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s\n", v[i]);
        free(v[i]);
    }
    free(v);
    return fclose(f) == 0;
}

/* Merge all instances into the capture until the byte target is planned and everything is out. */
static bool gen_run(struct gen *g, pcap_dumper_t *d)
{
    struct heap h = { 0 };
    uint64_t next_start = GEN_T0_US, planned_total = 0;
    /* --days: the arrivals of a link-rate capture of target_bytes, stretched to fill the days;
     * each flow keeps its own timing (round trips, rates), so flows stay short and apart */
    double stretch = 1.0;
    if (g->cfg.days)
        stretch = (double)g->cfg.days * 86400e6 /
                  ((double)g->cfg.target_bytes * 8.0 / g->cfg.link_mbps);
    static uint8_t buf[GEN_BUF];
    for (;;) {
        while (planned_total < g->cfg.target_bytes && (h.n == 0 || next_start <= h.a[0]->t_next)) {
            uint64_t planned = 0;
            struct inst *in = inst_new(g, next_start, &planned);
            if (in == NULL || !heap_push(&h, in))
                return false;
            planned_total += planned;
            double mean_us = (double)planned * 8.0 / g->cfg.link_mbps;
            next_start += (uint64_t)(-log(1.0 - rnd01()) * mean_us * stretch) + 1;
        }
        if (h.n == 0)
            break;
        if (h.n > g->st.max_active)
            g->st.max_active = h.n;
        struct inst *in = h.a[0];
        struct pcap_pkthdr ph;
        int kind = 0;
        ph.ts.tv_sec = (time_t)(in->t_next / 1000000u);
        ph.ts.tv_usec = (suseconds_t)(in->t_next % 1000000u);
        g->st.last_ts = in->t_next;
        size_t len = inst_step(in, buf, &kind);
        ph.caplen = ph.len = (bpf_u_int32)len;
        pcap_dump((u_char *)d, &ph, buf);
        g->st.packets++;
        g->st.bytes += len;
        g->st.hs_packets += kind == 0;
        g->st.bulk_packets += kind == 1;
        g->st.dns_packets += kind == 2;
        if (in->ph == PH_DONE) {
            free(in);
            h.a[0] = h.a[--h.n];
        }
        if (h.n)
            heap_down(&h, 0);
    }
    free(h.a);
    return true;
}

static void usage(void)
{
    fprintf(stderr,
        "usage: gen --shape bulk|handshake --out FILE [--scale F] [--seed N] [--bytes N]\n"
        "           [--clients N] [--hs-share F] [--v6 PCT] [--o365 PCT] [--days N] [--dns PCT]\n"
        "           SEED.pcap...\n"
        "  --days N:  spread the flow starts over N simulated days (a month of a sensor)\n"
        "  --dns PCT: TLS flows preceded by a DNS lookup of their SNI (default 40)\n"
        "  bulk:      ~2 GB x scale, 2000 x scale clients, 2%% of packets in seed flows\n"
        "  handshake: ~400 MB x scale, 20000 x scale clients, 75%% of packets in seed flows\n");
}

/* Options into c; the shape sets the defaults, the others override. Returns false on error. */
static bool parse_args(int argc, char **argv, struct gen_cfg *c)
{
    static const struct option lo[] = {
        { "shape", 1, NULL, 'S' }, { "out", 1, NULL, 'o' }, { "scale", 1, NULL, 's' },
        { "seed", 1, NULL, 'r' }, { "bytes", 1, NULL, 'b' }, { "clients", 1, NULL, 'c' },
        { "hs-share", 1, NULL, 'H' }, { "v6", 1, NULL, '6' }, { "o365", 1, NULL, 'O' },
        { "days", 1, NULL, 'D' }, { "dns", 1, NULL, 'N' },
        { NULL, 0, NULL, 0 } };
    double scale = 1.0, hs = -1;
    uint64_t bytes = 0;
    long clients = 0;
    int o;
    memset(c, 0, sizeof(*c));
    c->seed = 1; c->v6_pct = 30; c->o365_pct = 30; c->dns_pct = 40; c->noise_pct = 10;
    while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (o) {
        case 'S': c->shape = optarg; break;
        case 'o': c->out = optarg; break;
        case 's': scale = atof(optarg); break;
        case 'r': c->seed = strtoull(optarg, NULL, 10); break;
        case 'b': bytes = strtoull(optarg, NULL, 10); break;
        case 'c': clients = atol(optarg); break;
        case 'H': hs = atof(optarg); break;
        case '6': c->v6_pct = (uint32_t)atoi(optarg); break;
        case 'O': c->o365_pct = (uint32_t)atoi(optarg); break;
        case 'D': c->days = (uint32_t)atoi(optarg); break;
        case 'N': c->dns_pct = (uint32_t)atoi(optarg); break;
        default: return false;
        }
    }
    if (c->shape == NULL || c->out == NULL || scale <= 0 || optind >= argc)
        return false;
    bool bulk = strcmp(c->shape, "bulk") == 0;
    if (!bulk && strcmp(c->shape, "handshake") != 0)
        return false;
    c->scale = scale;
    c->target_bytes = bytes ? bytes : (uint64_t)((bulk ? 2e9 : 4e8) * scale);
    c->clients = (uint32_t)(clients > 0 ? clients : (long)((bulk ? 2000 : 20000) * scale));
    if (c->clients < 20)
        c->clients = 20;
    c->hs_share = hs > 0 && hs <= 1 ? hs : bulk ? 0.02 : 0.75;
    c->link_mbps = bulk ? 1000 : 300;
    c->rate_lo = bulk ? 1 : 2;
    c->rate_hi = bulk ? 40 : 50;
    return true;
}

/* The meta file: parameters and what was written, one key=value a line. */
static void write_meta(const struct gen *g, FILE *f, int argc, char **argv)
{
    const struct gen_stats *s = &g->st;
    uint64_t used = 0, leg = 0, lego = 0;
    for (uint32_t i = 0; i < g->cfg.clients; i++) {
        used += g->cl[i].used;
        leg += g->cl[i].legacy;
        lego += g->cl[i].legacy_o365;
    }
    fprintf(f, "shape=%s\nscale=%g\nseed=%llu\nseeds=", g->cfg.shape, g->cfg.scale,
            (unsigned long long)g->cfg.seed);
    for (int i = optind; i < argc; i++)
        fprintf(f, "%s%s", i > optind ? "," : "", strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i]);
    fprintf(f, "\ntemplates=%zu\npackets=%llu\nbytes=%llu\nhs_packets=%llu\nbulk_packets=%llu\n"
            "dns_packets=%llu\nhs_share=%.4f\nflows=%llu\ntls_flows=%llu\nlegacy_flows=%llu\n"
            "clients=%u\nclients_used=%llu\nlegacy_clients=%llu\nlegacy_o365_clients=%llu\n"
            "duration_s=%.3f\nmax_concurrent=%llu\n",
            g->seeds.n, (unsigned long long)s->packets, (unsigned long long)s->bytes,
            (unsigned long long)s->hs_packets, (unsigned long long)s->bulk_packets,
            (unsigned long long)s->dns_packets, s->packets ? (double)s->hs_packets / (double)s->packets : 0,
            (unsigned long long)s->flows, (unsigned long long)s->tls_flows,
            (unsigned long long)s->legacy_flows, g->cfg.clients, (unsigned long long)used,
            (unsigned long long)leg, (unsigned long long)lego,
            (double)(s->last_ts - GEN_T0_US) / 1e6, (unsigned long long)s->max_active);
}

int main(int argc, char **argv)
{
    static struct gen g;
    char path[4096];
    if (!parse_args(argc, argv, &g.cfg)) {
        usage();
        return 2;
    }
    for (int i = optind; i < argc; i++)
        if (gen_seed_load(&g.seeds, argv[i]) < 0)
            return 1;
    if (g.seeds.n == 0) {
        fprintf(stderr, "gen: no TCP flow with payload in the seeds\n");
        return 1;
    }
    g_rng = g.cfg.seed;
    for (size_t i = 0; i < sizeof(g_rand); i += 8) {
        uint64_t r = rnd();
        memcpy(g_rand + i, &r, 8);
    }
    g.cl = calloc(g.cfg.clients, sizeof(*g.cl));
    snprintf(path, sizeof(path), "%s.truth.tsv", g.cfg.out);
    g.truth = fopen(path, "w");
    FILE *pf = fopen(g.cfg.out, "wb");
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    if (g.cl == NULL || g.truth == NULL || pf == NULL || dead == NULL) {
        perror("gen");
        return 1;
    }
    fprintf(g.truth, "flow\tstart_us\tseed\tclient_ip\tclient_port\tserver_ip\tserver_port\tipver\tsni"
            "\toffered_max\tnegotiated\ttls\tlegacy\to365\tbulk_bytes\n");
    static char iobuf[1 << 22];
    setvbuf(pf, iobuf, _IOFBF, sizeof(iobuf));
    pcap_dumper_t *d = pcap_dump_fopen(dead, pf);
    bool ok = d != NULL && gen_run(&g, d);
    if (d)
        pcap_dump_close(d);
    ok = fclose(g.truth) == 0 && ok;
    snprintf(path, sizeof(path), "%s.legacy-all.txt", g.cfg.out);
    ok = write_clients(&g, path, false) && ok;
    snprintf(path, sizeof(path), "%s.legacy-o365.txt", g.cfg.out);
    ok = write_clients(&g, path, true) && ok;
    snprintf(path, sizeof(path), "%s.meta", g.cfg.out);
    FILE *mf = fopen(path, "w");
    if (mf) {
        write_meta(&g, mf, argc, argv);
        ok = fclose(mf) == 0 && ok;
    }
    pcap_close(dead);
    if (!ok) {
        fprintf(stderr, "gen: writing %s failed\n", g.cfg.out);
        return 1;
    }
    return 0;
}
