/* gen_seed.c - read seed captures into replicable TCP flow templates and work out, from the
 * hellos themselves, the ground truth of each flow (RFC 8446 4.1.2/4.1.3 and 4.2.1 for
 * supported_versions, RFC 6066 3 for server_name, RFC 6101 E.1 for the SSLv2 CLIENT-HELLO).
 * This parser is deliberately separate from tlsaudit's dissectors: it is the referee. */
#include "gen.h"

#include <ctype.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsaudit/cursor.h"

#define SEED_MAX_FLOWS 4096u
#define SEED_MAX_PKTS 65536u

/* A segment as read, before the client side and the ISNs are known. */
struct raw_pkt {
    bool from_a;
    uint8_t flags, optlen;
    uint8_t opt[GEN_MAX_OPT];
    uint16_t win;
    uint32_t seq, ack, paylen;
    uint8_t *pay;
};

struct raw_flow {
    uint8_t a[16], b[16];
    uint16_t pa, pb;
    struct raw_pkt *pk;
    size_t npk, cap;
};

struct raw_set {
    struct raw_flow f[SEED_MAX_FLOWS];
    size_t n;
};

/* Strip the link layer of one frame: the cursor is left on the IP header and *ethertype says
 * which IP (0x0800/0x86dd). Returns false for anything that is not IP. */
static bool seed_link(int dlt, struct ta_cur *c, uint16_t *ethertype)
{
    uint8_t v;
    uint32_t fam32;
    switch (dlt) {
    case DLT_EN10MB:
        if (!ta_cur_skip(c, 12) || !ta_cur_u16(c, ethertype))
            return false;
        while (*ethertype == 0x8100 || *ethertype == 0x88a8)
            if (!ta_cur_skip(c, 2) || !ta_cur_u16(c, ethertype))
                return false;
        return true;
    case DLT_LINUX_SLL:
        return ta_cur_skip(c, 14) && ta_cur_u16(c, ethertype);
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        return ta_cur_u16(c, ethertype) && ta_cur_skip(c, 18);
#endif
    case DLT_NULL:
    case DLT_LOOP:
        if (ta_cur_left(c) < 4)
            return false;
        memcpy(&fam32, c->p, 4);
        c->p += 4;
        fam32 = (fam32 & 0xff) | (fam32 >> 24);   /* either byte order: 2 = inet, 24/28/30 = inet6 */
        *ethertype = fam32 == 2 ? 0x0800 : 0x86dd;
        return true;
    default: /* DLT_RAW and friends: the version nibble decides */
        if (!ta_cur_peek8(c, 0, &v))
            return false;
        *ethertype = (v >> 4) == 4 ? 0x0800 : 0x86dd;
        return true;
    }
}

/* Read the IP header: addresses as 16 bytes (IPv4 in the first 4), the cursor moved to the
 * transport header, *proto set. Fragments and IPv6 extension headers are not used by seeds. */
static bool seed_ip(uint16_t ethertype, struct ta_cur *c, uint8_t src[16], uint8_t dst[16],
                    uint8_t *proto)
{
    uint8_t vihl, b;
    uint16_t total, frag;
    memset(src, 0, 16);
    memset(dst, 0, 16);
    if (ethertype == 0x0800) {
        struct ta_cur ip = *c;
        if (!ta_cur_u8(&ip, &vihl) || (vihl >> 4) != 4 || (vihl & 15) < 5 || !ta_cur_skip(&ip, 1)
            || !ta_cur_u16(&ip, &total) || !ta_cur_skip(&ip, 2) || !ta_cur_u16(&ip, &frag)
            || !ta_cur_skip(&ip, 1) || !ta_cur_u8(&ip, proto) || !ta_cur_skip(&ip, 2)
            || ta_cur_left(&ip) < 8 || (frag & 0x3fff) != 0)
            return false;
        memcpy(src, ip.p, 4);
        memcpy(dst, ip.p + 4, 4);
        if (total < (vihl & 15) * 4u || total > ta_cur_left(c))
            return false;
        c->end = c->p + total;
        return ta_cur_skip(c, (vihl & 15) * 4u);
    }
    if (ethertype != 0x86dd || !ta_cur_u8(c, &b) || (b >> 4) != 6 || !ta_cur_skip(c, 3)
        || !ta_cur_u16(c, &total) || !ta_cur_u8(c, proto) || !ta_cur_skip(c, 1)
        || ta_cur_left(c) < 32u + total)
        return false;
    memcpy(src, c->p, 16);
    memcpy(dst, c->p + 16, 16);
    c->p += 32;
    c->end = c->p + total;
    return true;
}

/* Find or add the flow of a segment; *from_a tells the direction. NULL when the table is full. */
static struct raw_flow *seed_flow(struct raw_set *rs, const uint8_t src[16], const uint8_t dst[16],
                                  uint16_t sp, uint16_t dp, bool *from_a)
{
    for (size_t i = 0; i < rs->n; i++) {
        struct raw_flow *f = &rs->f[i];
        if (f->pa == sp && f->pb == dp && !memcmp(f->a, src, 16) && !memcmp(f->b, dst, 16)) {
            *from_a = true;
            return f;
        }
        if (f->pa == dp && f->pb == sp && !memcmp(f->a, dst, 16) && !memcmp(f->b, src, 16)) {
            *from_a = false;
            return f;
        }
    }
    if (rs->n == SEED_MAX_FLOWS)
        return NULL;
    struct raw_flow *f = &rs->f[rs->n++];
    memset(f, 0, sizeof(*f));
    memcpy(f->a, src, 16);
    memcpy(f->b, dst, 16);
    f->pa = sp;
    f->pb = dp;
    *from_a = true;
    return f;
}

/* Parse the TCP header at c and keep the segment in its flow. Returns false on a full table. */
static bool seed_tcp(struct raw_set *rs, const uint8_t src[16], const uint8_t dst[16],
                     struct ta_cur *c)
{
    uint16_t sp, dp, offflags, win;
    uint32_t seq, ack;
    if (!ta_cur_u16(c, &sp) || !ta_cur_u16(c, &dp) || !ta_cur_u32(c, &seq) || !ta_cur_u32(c, &ack)
        || !ta_cur_u16(c, &offflags) || !ta_cur_u16(c, &win) || !ta_cur_skip(c, 4))
        return true;                                  /* truncated: not a usable segment */
    size_t optlen = ((offflags >> 12) * 4u);
    if (optlen < 20 || optlen - 20 > ta_cur_left(c))
        return true;
    optlen -= 20;
    bool from_a;
    struct raw_flow *f = seed_flow(rs, src, dst, sp, dp, &from_a);
    if (f == NULL || f->npk == SEED_MAX_PKTS)
        return false;
    if (f->npk == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 64;
        struct raw_pkt *np = realloc(f->pk, ncap * sizeof(*np));
        if (np == NULL)
            return false;
        f->pk = np;
        f->cap = ncap;
    }
    struct raw_pkt *p = &f->pk[f->npk++];
    memset(p, 0, sizeof(*p));
    p->from_a = from_a;
    p->flags = (uint8_t)(offflags & 0x3f);
    p->win = win;
    p->seq = seq;
    p->ack = ack;
    p->optlen = (uint8_t)optlen;
    memcpy(p->opt, c->p, optlen);
    c->p += optlen;
    p->paylen = (uint32_t)ta_cur_left(c);
    if (p->paylen) {
        p->pay = malloc(p->paylen);
        if (p->pay == NULL)
            return false;
        memcpy(p->pay, c->p, p->paylen);
    }
    return true;
}

/* Read every frame of the capture into rs. Returns false with a message on failure. */
static bool seed_read(struct raw_set *rs, const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (pc == NULL) {
        fprintf(stderr, "gen: %s: %s\n", path, err);
        return false;
    }
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    bool ok = true;
    while (ok && (rc = pcap_next_ex(pc, &h, &data)) == 1) {
        struct ta_cur c = ta_cur_make(data, h->caplen);
        uint16_t et;
        uint8_t src[16], dst[16], proto;
        if (!seed_link(dlt, &c, &et) || !seed_ip(et, &c, src, dst, &proto) || proto != 6)
            continue;
        ok = seed_tcp(rs, src, dst, &c);
        if (!ok)
            fprintf(stderr, "gen: %s: too many flows or segments, or out of memory\n", path);
    }
    pcap_close(pc);
    return ok;
}

/* Append a segment's bytes to a direction's stream when they continue it (retransmissions and
 * overlaps are trimmed, gaps end the stream). */
static void seed_stream_add(uint8_t *buf, size_t *len, uint32_t rseq, const uint8_t *pay,
                            uint32_t paylen)
{
    if (rseq > *len || rseq + (uint64_t)paylen <= *len)
        return;
    size_t skip = *len - rseq, n = paylen - skip;
    if (n > GEN_STREAM_CAP - *len)
        n = GEN_STREAM_CAP - *len;
    memcpy(buf + *len, pay + skip, n);
    *len += n;
}

/* Case-insensitive search for needle in a byte buffer. */
static bool seed_contains(const uint8_t *b, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        size_t j = 0;
        while (j < k && tolower(b[i + j]) == needle[j])
            j++;
        if (j == k)
            return true;
    }
    return false;
}

/* Names of Microsoft 365 as they appear in SNIs, certificates and mail greetings. A seed that
 * carries one is always placed on Microsoft addresses: in reality those names resolve there. */
static bool seed_ms_named(const uint8_t *b, size_t n)
{
    static const char *const names[] = {
        "office365.com", "outlook.com", "outlook.office.com", "microsoftonline.com",
        "onmicrosoft.com", "sharepoint.com", "lync.com", "teams.microsoft.com", "skype.com",
        "office.net", "microsoft esmtp", "exchange online", "protection.outlook",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (seed_contains(b, n, names[i]))
            return true;
    return false;
}

/* Offset of the first TLS handshake record carrying message type hs_type (1 or 2), or of an
 * SSLv2 hello at the start of the stream (type 1 client, 4 server). SIZE_MAX when none. */
static size_t seed_find_hello(const uint8_t *b, size_t n, uint8_t hs_type, bool *v2)
{
    *v2 = false;
    if (n >= 5 && (b[0] & 0x80) && b[2] == (hs_type == 1 ? 1 : 4)) {
        *v2 = true;
        return 0;
    }
    for (size_t i = 0; i + 6 <= n; i++)
        if (b[i] == 0x16 && b[i + 1] == 3 && b[i + 2] <= 4 && b[i + 5] == hs_type)
            return i;
    return SIZE_MAX;
}

/* Highest non-GREASE version in a supported_versions list (client form: u8 length). */
static uint16_t seed_max_version(struct ta_cur ext, bool client)
{
    uint16_t v, best = 0;
    uint8_t l8;
    if (!client)
        return ta_cur_u16(&ext, &v) ? v : 0;
    if (!ta_cur_u8(&ext, &l8) || l8 > ta_cur_left(&ext))
        return 0;
    ext.end = ext.p + l8;
    while (ta_cur_u16(&ext, &v)) {
        if ((v & 0x0f0f) == 0x0a0a)
            continue;
        uint16_t cmp = (v >> 8) == 0x7f ? 0x0304 : v;     /* TLS 1.3 drafts */
        if (cmp > best)
            best = cmp;
    }
    return best;
}

/* Read the server_name host (first entry of type 0) into sni. */
static void seed_sni(struct ta_cur ext, char sni[GEN_SNI_MAX])
{
    uint16_t list, nlen;
    uint8_t type;
    if (!ta_cur_u16(&ext, &list) || !ta_cur_u8(&ext, &type) || type != 0 || !ta_cur_u16(&ext, &nlen)
        || nlen > ta_cur_left(&ext) || nlen >= GEN_SNI_MAX)
        return;
    memcpy(sni, ext.p, nlen);
    sni[nlen] = '\0';
}

/* Parse a hello body (after the 4-byte handshake header). Client: offered max and SNI; server:
 * negotiated version and whether it is a HelloRetryRequest. Returns false when malformed. */
static bool seed_hello_body(struct ta_cur c, bool client, struct gen_tmpl *t, bool *hrr)
{
    static const uint8_t hrr_random[8] = { 0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11 };
    uint16_t legacy, l16, type, elen;
    uint8_t l8;
    if (!ta_cur_u16(&c, &legacy) || ta_cur_left(&c) < 32)
        return false;
    *hrr = !client && memcmp(c.p, hrr_random, 8) == 0;
    if (!ta_cur_skip(&c, 32) || !ta_cur_u8(&c, &l8) || !ta_cur_skip(&c, l8))
        return false;
    if (client ? !ta_cur_u16(&c, &l16) || !ta_cur_skip(&c, l16) || !ta_cur_u8(&c, &l8)
                     || !ta_cur_skip(&c, l8)
               : !ta_cur_skip(&c, 3))
        return false;
    uint16_t version = legacy;
    if (ta_cur_u16(&c, &l16) && l16 <= ta_cur_left(&c)) {
        c.end = c.p + l16;
        while (ta_cur_u16(&c, &type) && ta_cur_u16(&c, &elen) && elen <= ta_cur_left(&c)) {
            struct ta_cur ext = ta_cur_make(c.p, elen);
            if (type == 43 && seed_max_version(ext, client))
                version = seed_max_version(ext, client);
            if (type == 0 && client && t->sni[0] == '\0')
                seed_sni(ext, t->sni);
            c.p += elen;
        }
    }
    if (client && (t->offered_max == 0 || version > t->offered_max))
        t->offered_max = version;
    if (!client && !*hrr)
        t->negotiated = version;
    return true;
}

/* Walk the TLS records of one direction from off: collect handshake bytes (hellos may be split
 * over records) and hand hello messages to seed_hello_body; note alerts and application data.
 * Stops at the end of the stream. */
static void seed_walk(const uint8_t *b, size_t n, size_t off, bool client, struct gen_tmpl *t)
{
    static uint8_t hs[GEN_STREAM_CAP];
    size_t hlen = 0, hpos = 0;
    bool done = false;
    struct ta_cur c = ta_cur_make(b + off, n - off);
    uint8_t ctype;
    uint16_t ver, rlen;
    while (ta_cur_u8(&c, &ctype) && ta_cur_u16(&c, &ver) && ta_cur_u16(&c, &rlen)) {
        if (rlen > ta_cur_left(&c) || (ver >> 8) != 3)
            break;
        if (ctype == 23)
            t->appdata = true;
        if (ctype == 21 && !client && !done && !t->server_hello)
            t->alert_first = true;
        if (ctype == 22 && !done) {
            memcpy(hs + hlen, c.p, rlen);            /* hlen + rlen <= n <= GEN_STREAM_CAP */
            hlen += rlen;
            struct ta_cur m = ta_cur_make(hs + hpos, hlen - hpos);
            uint8_t mtype;
            uint32_t mlen;
            while (!done && ta_cur_u8(&m, &mtype) && ta_cur_u24(&m, &mlen) && mlen <= ta_cur_left(&m)) {
                bool hrr = false;
                if (mtype == (client ? 1 : 2) && seed_hello_body(ta_cur_make(m.p, mlen), client, t, &hrr)) {
                    if (hrr)
                        t->hrr = true;
                    else if (!client)
                        t->server_hello = done = true;
                    else
                        done = true;       /* the first ClientHello says what is offered */
                }
                m.p += mlen;
                hpos = (size_t)(m.p - hs);
            }
        }
        c.p += rlen;
    }
}

/* Bytes of the TLS record that is still open after the first `pre` bytes of a stream, walking
 * records from off (the hello); 0 when aligned or when the stream is not TLS records. */
static uint32_t seed_rec_left(const uint8_t *b, size_t n, size_t off, size_t pre)
{
    size_t pos = off;
    while (pos + 5 <= n && pos < pre && b[pos + 1] == 3 && b[pos] >= 20 && b[pos] <= 23)
        pos += 5u + (size_t)(b[pos + 3] << 8 | b[pos + 4]);
    return pos > pre && off < pre ? (uint32_t)(pos - pre) : 0;
}

/* Fill the ground truth of t from its two reassembled streams. */
static void seed_truth(struct gen_tmpl *t, const uint8_t *cs, size_t cn, const uint8_t *ss, size_t sn)
{
    bool v2;
    size_t off = seed_find_hello(cs, cn, 1, &v2);
    t->ms_named = seed_ms_named(cs, cn) || seed_ms_named(ss, sn);
    if (off == SIZE_MAX)
        return;
    t->tls = true;
    if (!v2)
        t->rec_left[GEN_C2S] = seed_rec_left(cs, cn, off, t->next_rseq[GEN_C2S] - t->base[GEN_C2S]);
    if (v2) {
        t->sslv2 = true;
        t->offered_max = cn >= 5 ? (uint16_t)(cs[3] << 8 | cs[4]) : 2;
    } else {
        seed_walk(cs, cn, off, true, t);
    }
    size_t soff = seed_find_hello(ss, sn, 2, &v2);
    if (soff != SIZE_MAX && v2) {
        t->server_hello = true;
        t->negotiated = sn >= 7 ? (uint16_t)(ss[5] << 8 | ss[6]) : 2;
    } else if (soff != SIZE_MAX) {
        /* A server stream that opens with an alert before its ServerHello refused a first
         * handshake on this connection; the client then tried again on it. */
        if (soff > 0 && sn >= 5 && ss[0] == 21 && ss[1] == 3)
            t->alert_first = true;
        seed_walk(ss, sn, soff, false, t);
        t->rec_left[GEN_S2C] = seed_rec_left(ss, sn, soff, t->next_rseq[GEN_S2C] - t->base[GEN_S2C]);
    } else if (sn >= 5 && ss[0] == 21 && ss[1] == 3) {
        t->alert_first = true;
    }
}

/* Append one segment (already relative) to t, cut into pieces that fit GEN_SEG_ROOM. */
static bool tmpl_push(struct gen_tmpl *t, size_t *cap, const struct raw_pkt *r, bool dir_s2c,
                      uint32_t rseq, uint32_t rack)
{
    uint32_t room = GEN_SEG_ROOM - r->optlen, done = 0;
    do {
        uint32_t n = r->paylen - done < room ? r->paylen - done : room;
        if (t->npk == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            struct gen_pkt *np = realloc(t->pk, *cap * sizeof(*np));
            if (np == NULL)
                return false;
            t->pk = np;
        }
        struct gen_pkt *p = &t->pk[t->npk++];
        p->dir = dir_s2c ? GEN_S2C : GEN_C2S;
        bool last = done + n == r->paylen;
        p->flags = last ? r->flags : (uint8_t)(r->flags & ~(GEN_TH_FIN | GEN_TH_PSH | GEN_TH_RST));
        p->optlen = r->optlen;
        memcpy(p->opt, r->opt, r->optlen);
        p->win = r->win;
        p->rseq = rseq + done;
        p->rack = rack;
        p->paylen = n;
        p->pay = n ? r->pay + done : NULL;
        done += n;
    } while (done < r->paylen);
    return true;
}

/* Turn one raw flow into a template: pick the client (the SYN sender, else the higher port),
 * make sequence numbers relative, cut segments, reassemble and read the hellos. */
static bool tmpl_build(struct gen_tmpl *t, const struct raw_flow *f, const char *fname, size_t no)
{
    bool a_client = f->pa > f->pb;
    for (size_t i = 0; i < f->npk; i++) {
        const struct raw_pkt *r = &f->pk[i];
        if ((r->flags & (GEN_TH_SYN | GEN_TH_ACK)) == GEN_TH_SYN) { a_client = r->from_a; break; }
        if ((r->flags & (GEN_TH_SYN | GEN_TH_ACK)) == (GEN_TH_SYN | GEN_TH_ACK)) { a_client = !r->from_a; break; }
    }
    uint32_t isn[2] = { 0, 0 };
    bool have[2] = { false, false };
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < f->npk; i++) {
        int d = f->pk[i].from_a == a_client ? GEN_C2S : GEN_S2C;
        if (!have[d]) {
            isn[d] = f->pk[i].seq;
            t->base[d] = (f->pk[i].flags & GEN_TH_SYN) ? 1 : 0;
            have[d] = true;
        }
    }
    snprintf(t->seed, sizeof(t->seed), "%s#%zu", fname, no);
    t->server_port = a_client ? f->pb : f->pa;
    static uint8_t cs[GEN_STREAM_CAP], ss[GEN_STREAM_CAP];
    size_t cn = 0, sn = 0, cap = 0;
    t->close_at = SIZE_MAX;
    for (size_t i = 0; i < f->npk; i++) {
        const struct raw_pkt *r = &f->pk[i];
        bool s2c = r->from_a != a_client;
        uint32_t rseq = r->seq - isn[s2c], rack = (r->flags & GEN_TH_ACK) ? r->ack - isn[!s2c] : 0;
        if ((r->flags & (GEN_TH_FIN | GEN_TH_RST)) && t->close_at == SIZE_MAX && r->paylen) {
            /* data riding on the FIN: keep it before the bulk, the bare FIN after it */
            struct raw_pkt data = *r, fin = *r;
            data.flags = (uint8_t)(r->flags & ~(GEN_TH_FIN | GEN_TH_RST));
            fin.paylen = 0;
            fin.pay = NULL;
            uint32_t end = rseq + r->paylen;
            if ((int32_t)(end - t->next_rseq[s2c]) > 0)
                t->next_rseq[s2c] = end;
            seed_stream_add(s2c ? ss : cs, s2c ? &sn : &cn, rseq - t->base[s2c], r->pay, r->paylen);
            t->close_at = t->npk + 1;
            if (!tmpl_push(t, &cap, &data, s2c, rseq, rack) || !tmpl_push(t, &cap, &fin, s2c, end, rack))
                return false;
            continue;
        }
        if ((r->flags & (GEN_TH_FIN | GEN_TH_RST)) && t->close_at == SIZE_MAX)
            t->close_at = t->npk;
        if (t->close_at == SIZE_MAX) {
            uint32_t end = rseq + r->paylen + ((r->flags & GEN_TH_SYN) ? 1u : 0u);
            if ((int32_t)(end - t->next_rseq[s2c]) > 0)
                t->next_rseq[s2c] = end;
        }
        if (r->paylen)
            seed_stream_add(s2c ? ss : cs, s2c ? &sn : &cn, rseq - t->base[s2c], r->pay, r->paylen);
        if (!tmpl_push(t, &cap, r, s2c, rseq, rack))
            return false;
    }
    t->has_close = t->close_at != SIZE_MAX;
    if (!t->has_close)
        t->close_at = t->npk;
    seed_truth(t, cs, cn, ss, sn);
    return true;
}

int gen_seed_load(struct gen_seeds *s, const char *path)
{
    static struct raw_set rs;
    rs.n = 0;
    int added = -1;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (!seed_read(&rs, path))
        goto out;
    added = 0;
    for (size_t i = 0; i < rs.n; i++) {
        const struct raw_flow *f = &rs.f[i];
        size_t payload = 0;
        for (size_t k = 0; k < f->npk; k++)
            payload += f->pk[k].paylen;
        if (payload == 0)
            continue;                                  /* scans, refused connections */
        if (s->n == s->cap) {
            size_t ncap = s->cap ? s->cap * 2 : 32;
            struct gen_tmpl *nt = realloc(s->t, ncap * sizeof(*nt));
            if (nt == NULL) { added = -1; goto out; }
            s->t = nt;
            s->cap = ncap;
        }
        if (!tmpl_build(&s->t[s->n], f, base, i)) { added = -1; goto out; }
        s->n++;
        added++;
    }
out:
    for (size_t i = 0; i < rs.n; i++)
        free(rs.f[i].pk);                              /* payloads stay: templates point at them */
    return added;
}

bool gen_tmpl_legacy(const struct gen_tmpl *t)
{
    uint16_t v = t->server_hello ? t->negotiated : t->offered_max;
    /* A first ClientHello refused with an alert counts by what it offered, even when a later
     * handshake on the same connection succeeded (each handshake is its own row). */
    if (t->tls && t->alert_first && t->offered_max != 0 && t->offered_max < 0x0303)
        return true;
    return t->tls && v != 0 && v < 0x0303;
}

const char *gen_version_name(uint16_t v)
{
    switch (v) {
    case 0x0002: return "SSL 2.0";
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    default: return v ? "other" : "-";
    }
}
