/* pcap_replay.c - test helper: one TCP flow of a capture, replayed with per-direction reassembly
 * (see pcap_replay.h). Packets are read through the cursor like every other packet we read. */
#include "pcap_replay.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsaudit/cursor.h"

struct tcpseg {
    uint8_t a[16], b[16];     /* source and destination address (v4 in the first 4 bytes) */
    uint16_t sport, dport;
    uint32_t seq;
    uint8_t flags;
    const uint8_t *pay;
    size_t len;
};

/* Per-direction reassembly state: bytes at their stream offset, which offsets are filled, and
 * the first offset not yet contiguous (everything before it was delivered). */
struct reasm {
    uint8_t buf[2][PCAP_REPLAY_MAX], have[2][PCAP_REPLAY_MAX];
    size_t next[2];
};

/* Decode Ethernet (802.1Q tags), BSD null/loopback, Linux cooked; IPv4 or IPv6; TCP. */
static bool decode_tcp(int dlt, const uint8_t *p, size_t caplen, struct tcpseg *t)
{
    struct ta_cur c = ta_cur_make(p, caplen), tcp;
    uint16_t et = 0, w;
    uint8_t b, proto = 0, ihl, off;
    uint32_t fam;

    if (dlt == DLT_EN10MB) {
        if (!ta_cur_skip(&c, 12) || !ta_cur_u16(&c, &et))
            return false;
        while ((et == 0x8100 || et == 0x88a8) && ta_cur_skip(&c, 2))
            if (!ta_cur_u16(&c, &et))
                return false;
    } else if (dlt == DLT_NULL || dlt == DLT_LOOP) {
        if (!ta_cur_u32(&c, &fam))
            return false;
        fam = (fam == 2 || fam == 0x02000000) ? 2 : 24;
        et = fam == 2 ? 0x0800 : 0x86dd;
    } else if (dlt == DLT_LINUX_SLL) {
        if (!ta_cur_skip(&c, 14) || !ta_cur_u16(&c, &et))
            return false;
    } else {
        return false;
    }
    memset(t, 0, sizeof(*t));
    if (et == 0x0800) {
        struct ta_cur ip = c;
        if (!ta_cur_u8(&ip, &b) || !ta_cur_skip(&ip, 1) || !ta_cur_u16(&ip, &w) ||
            !ta_cur_skip(&ip, 5) || !ta_cur_u8(&ip, &proto) || !ta_cur_skip(&ip, 2) ||
            ta_cur_left(&ip) < 8)
            return false;
        memcpy(t->a, ip.p, 4);
        memcpy(t->b, ip.p + 4, 4);
        ihl = (uint8_t)((b & 0x0f) * 4);
        if (w < ihl || w > ta_cur_left(&c))
            return false;
        c.end = c.p + w;
        if (!ta_cur_skip(&c, ihl))
            return false;
    } else if (et == 0x86dd) {
        if (!ta_cur_skip(&c, 4) || !ta_cur_u16(&c, &w) || !ta_cur_u8(&c, &proto) ||
            !ta_cur_skip(&c, 1) || ta_cur_left(&c) < 32 || w > ta_cur_left(&c) - 32)
            return false;
        memcpy(t->a, c.p, 16);
        memcpy(t->b, c.p + 16, 16);
        ta_cur_skip(&c, 32);
        c.end = c.p + w;
    } else {
        return false;
    }
    tcp = c;
    if (proto != 6 || !ta_cur_u16(&tcp, &t->sport) || !ta_cur_u16(&tcp, &t->dport) ||
        !ta_cur_u32(&tcp, &t->seq) || !ta_cur_skip(&tcp, 4) || !ta_cur_u8(&tcp, &off) ||
        !ta_cur_u8(&tcp, &t->flags) || !ta_cur_skip(&c, (size_t)(off >> 4) * 4))
        return false;
    t->pay = c.p;
    t->len = ta_cur_left(&c);
    return true;
}

/* Place n bytes of direction d at stream offset rel (the first copy wins) and deliver whatever
 * became contiguous. */
static void ra_segment(struct reasm *ra, enum ta_dir d, uint32_t rel, const uint8_t *p, size_t n,
                       pcap_replay_fn *deliver, void *arg)
{
    size_t start = ra->next[d];

    for (size_t i = 0; i < n && rel + i < PCAP_REPLAY_MAX; i++) {
        if (!ra->have[d][rel + i]) {
            ra->buf[d][rel + i] = p[i];
            ra->have[d][rel + i] = 1;
        }
    }
    while (ra->next[d] < PCAP_REPLAY_MAX && ra->have[d][ra->next[d]])
        ra->next[d]++;
    if (ra->next[d] > start)
        deliver(arg, d, ra->buf[d] + start, ra->next[d] - start);
}

/* See pcap_replay.h. */
bool pcap_replay_flow(const char *path, uint16_t port, int which, pcap_replay_fn *deliver,
                      void *arg, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const uint8_t *pkt;
    uint16_t ports[PCAP_REPLAY_FLOWS];
    int nflows = 0;
    uint32_t base[2] = { 0, 0 };
    bool based[2] = { false, false };
    struct reasm *ra;
    pcap_t *pc;

    pc = pcap_open_offline(path, perr);
    if (!pc) {
        snprintf(err, errlen, "%s", perr);
        return false;
    }
    ra = calloc(1, sizeof(*ra));
    if (!ra) {
        snprintf(err, errlen, "out of memory");
        pcap_close(pc);
        return false;
    }
    while (pcap_next_ex(pc, &h, &pkt) == 1) {
        struct tcpseg t;
        enum ta_dir d;
        uint16_t cport;
        if (!decode_tcp(pcap_datalink(pc), pkt, h->caplen, &t) ||
            (t.sport != port && t.dport != port))
            continue;
        cport = t.sport == port ? t.dport : t.sport;
        if (nflows == 0 || ports[nflows - 1] != cport) {
            int k = 0;
            while (k < nflows && ports[k] != cport)
                k++;
            if (k == nflows && nflows < PCAP_REPLAY_FLOWS)
                ports[nflows++] = cport;
        }
        if (which >= nflows || ports[which] != cport)
            continue;
        d = t.dport == port ? TA_DIR_C2S : TA_DIR_S2C;
        if (t.flags & 0x02) {
            base[d] = t.seq + 1;
            based[d] = true;
        }
        if (!t.len)
            continue;
        if (!based[d]) {
            base[d] = t.seq;
            based[d] = true;
        }
        ra_segment(ra, d, t.seq - base[d], t.pay, t.len, deliver, arg);
    }
    free(ra);
    pcap_close(pc);
    return true;
}
