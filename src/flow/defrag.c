/* defrag.c - IP fragment reassembly in a fixed table (defrag.h).
 *
 * A datagram is known by what RFC 791 3.2 and RFC 8200 4.5 name (source, destination,
 * identification, and for IPv4 the protocol) and by what was outside it (VLAN, tunnel, VNI), so
 * two mirrored segments' fragments never mix. Its payload is held in a buffer of the largest
 * size an IP length allows, allocated once with the table; which 8-byte blocks of it arrived is a
 * bitmap (fragment offsets count in 8-byte units), so overlaps, duplicates and any order are
 * handled the same way: a block is written once, by the first fragment that brings it.
 *
 * Zeek and Suricata reassemble the same way before their TCP layer. Nothing is allocated per
 * packet; the table's cap bounds the memory, and when it is full the oldest datagram gives way. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tlsaudit/common.h"
#include "tlsaudit/defrag.h"

#define DF_MAX_PAYLOAD 65535u                  /* an IPv6 payload length's largest value */
#define DF_MAX_PAYLOAD_V4 (65535u - 20u)       /* a rebuilt IPv4 header's total length must fit */
#define DF_BLOCKS ((DF_MAX_PAYLOAD + 7u) / 8u)
#define DF_HEAD 40u                            /* room for the rebuilt header before the payload */

enum df_state {
    DF_FREE = 0,
    DF_OPEN,                  /* fragments are being gathered */
    DF_DONE,                  /* made whole: kept until it times out, so that a copy of one of
                               * its fragments (a duplicate on the wire) is known as one */
};

struct df_slot {
    uint8_t state;            /* enum df_state */
    bool broken;              /* can never be whole: absorbs its fragments until it times out */
    bool have_last;           /* the fragment without "more" came: total is known */
    uint8_t ipver;
    uint8_t proto;
    uint32_t id;
    struct ta_addr src, dst;
    struct ta_pkt_outer outer;
    uint64_t first_us;        /* time of its first fragment */
    uint32_t total;           /* payload length, when have_last */
    uint32_t blocks_have;     /* blocks of the bitmap set */
    uint32_t blocks_top;      /* blocks below this may be set (cleared on reuse) */
    uint8_t bits[(DF_BLOCKS + 7u) / 8u];
};

struct ta_defrag {
    struct df_slot *slots;    /* TA_DEFRAG_SLOTS */
    uint8_t *bufs;            /* TA_DEFRAG_SLOTS x (DF_HEAD + DF_MAX_PAYLOAD) */
    unsigned in_use;          /* slots not DF_FREE */
    struct ta_defrag_stats st;
};

#define DF_BUF_SIZE ((size_t)DF_HEAD + DF_MAX_PAYLOAD)

struct ta_defrag *ta_defrag_new(void)
{
    struct ta_defrag *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->slots = calloc(TA_DEFRAG_SLOTS, sizeof(*d->slots));
    d->bufs = malloc(TA_DEFRAG_SLOTS * DF_BUF_SIZE);
    if (!d->slots || !d->bufs) {
        ta_defrag_free(d);
        return NULL;
    }
    return d;
}

void ta_defrag_free(struct ta_defrag *d)
{
    if (!d)
        return;
    free(d->slots);
    free(d->bufs);
    free(d);
}

const struct ta_defrag_stats *ta_defrag_stats(const struct ta_defrag *d)
{
    return &d->st;
}

static uint8_t *slot_buf(struct ta_defrag *d, const struct df_slot *s)
{
    return d->bufs + (size_t)(s - d->slots) * DF_BUF_SIZE;
}

/* Free a slot; a datagram still open is counted as incomplete. */
static void slot_release(struct ta_defrag *d, struct df_slot *s)
{
    if (s->state == DF_OPEN)
        d->st.incomplete++;
    s->state = DF_FREE;
    d->in_use--;
}

static bool outer_equal(const struct ta_pkt_outer *a, const struct ta_pkt_outer *b)
{
    return a->enc.tunnel == b->enc.tunnel && a->enc.has == b->enc.has &&
           a->enc.vlan == b->enc.vlan && a->enc.sgt == b->enc.sgt && a->enc.vni == b->enc.vni &&
           a->vlan_depth == b->vlan_depth && a->tun_depth == b->tun_depth;
}

/* The slot of pkt's datagram, or NULL. */
static struct df_slot *slot_find(struct ta_defrag *d, const struct ta_pkt *pkt,
                                 const struct ta_pkt_outer *outer)
{
    if (d->in_use == 0)
        return NULL;
    for (unsigned i = 0; i < TA_DEFRAG_SLOTS; i++) {
        struct df_slot *s = &d->slots[i];
        if (s->state != DF_FREE && s->id == pkt->frag.id && s->ipver == pkt->ipver &&
            (pkt->ipver == 6 || s->proto == pkt->frag.proto) &&
            memcmp(s->src.b, pkt->src.b, sizeof(s->src.b)) == 0 &&
            memcmp(s->dst.b, pkt->dst.b, sizeof(s->dst.b)) == 0 && outer_equal(&s->outer, outer))
            return s;
    }
    return NULL;
}

/* Rank of a slot as the one a new datagram takes: a free one, else a whole one, else the
 * oldest open one (given up). */
static int slot_rank(const struct df_slot *s)
{
    return s->state == DF_FREE ? 0 : s->state == DF_DONE ? 1 : 2;
}

/* The slot s (or, when s is NULL, the best one to take) made ready for a new datagram. */
static struct df_slot *slot_take(struct ta_defrag *d, struct df_slot *s, const struct ta_pkt *pkt,
                                 const struct ta_pkt_outer *outer, uint64_t ts_us)
{
    if (!s) {
        s = &d->slots[0];
        for (unsigned i = 1; i < TA_DEFRAG_SLOTS && s->state != DF_FREE; i++) {
            struct df_slot *c = &d->slots[i];
            if (slot_rank(c) < slot_rank(s) ||
                (slot_rank(c) == slot_rank(s) && c->first_us < s->first_us))
                s = c;
        }
    }
    if (s->state != DF_FREE)
        slot_release(d, s);
    memset(s->bits, 0, (s->blocks_top + 7u) / 8u);
    s->state = DF_OPEN;
    s->broken = false;
    s->have_last = false;
    s->ipver = pkt->ipver;
    s->proto = pkt->frag.proto;
    s->id = pkt->frag.id;
    s->src = pkt->src;
    s->dst = pkt->dst;
    s->outer = *outer;
    s->first_us = ts_us;
    s->total = 0;
    s->blocks_have = 0;
    s->blocks_top = 0;
    d->in_use++;
    return s;
}

static bool bit_get(const struct df_slot *s, uint32_t b)
{
    return (s->bits[b >> 3] >> (b & 7u)) & 1u;
}

/* Whether the fragment fits what the slot knows; sets the total from a last fragment. */
static bool frag_fits(struct df_slot *s, const struct ta_pkt *pkt)
{
    uint32_t end = pkt->frag.offset + pkt->frag.len;
    uint32_t max = s->ipver == 4 ? DF_MAX_PAYLOAD_V4 : DF_MAX_PAYLOAD;

    if (pkt->frag.lost || end > max)
        return false;          /* cut by the snap length; longer than an IP length allows */
    if (pkt->frag.more) {
        /* RFC 791, RFC 8200: every fragment but the last is a multiple of 8 bytes long. */
        return (pkt->frag.len & 7u) == 0 && !(s->have_last && end > s->total);
    }
    if (s->have_last)
        return end == s->total;
    if (s->blocks_top > (end + 7u) / 8u)
        return false;          /* bytes came from beyond the end this fragment sets */
    s->have_last = true;
    s->total = end;
    return true;
}

/* Whether the fragment's bytes equal those the slot already holds where they overlap. */
static bool frag_agrees(struct ta_defrag *d, const struct df_slot *s, const struct ta_pkt *pkt)
{
    const uint8_t *payload = slot_buf(d, s) + DF_HEAD;
    uint32_t off = pkt->frag.offset, end = off + pkt->frag.len;
    uint32_t top = (end + 7u) / 8u < s->blocks_top ? (end + 7u) / 8u : s->blocks_top;

    for (uint32_t b = off / 8u; b < top; b++) {
        uint32_t from = b * 8u, to = from + 8u < end ? from + 8u : end;
        if (s->have_last && s->total < to)
            to = s->total > from ? s->total : from;
        if (bit_get(s, b) && memcmp(payload + from, pkt->frag.data + (from - off), to - from))
            return false;
    }
    return true;
}

/* Copy the fragment's blocks that have not come yet into the slot's buffer. */
static void frag_copy(struct ta_defrag *d, struct df_slot *s, const struct ta_pkt *pkt)
{
    uint8_t *payload = slot_buf(d, s) + DF_HEAD;
    uint32_t off = pkt->frag.offset, end = off + pkt->frag.len;
    uint32_t b = off / 8u, top = (end + 7u) / 8u;

    for (; b < top; b++) {
        uint32_t from = b * 8u, to = from + 8u < end ? from + 8u : end;
        if (bit_get(s, b))
            continue;
        memcpy(payload + from, pkt->frag.data + (from - off), to - from);
        s->bits[b >> 3] |= (uint8_t)(1u << (b & 7u));
        s->blocks_have++;
    }
    if (top > s->blocks_top)
        s->blocks_top = top;
}

/* Write the whole datagram's header before its payload; returns where the packet starts. */
static uint8_t *header_build(struct ta_defrag *d, const struct df_slot *s, uint32_t *len)
{
    uint8_t *payload = slot_buf(d, s) + DF_HEAD;
    uint8_t *h;

    if (s->ipver == 4) {
        uint32_t tot = 20u + s->total;
        h = payload - 20;
        memset(h, 0, 20);
        h[0] = 0x45;
        h[2] = (uint8_t)(tot >> 8);
        h[3] = (uint8_t)tot;
        h[4] = (uint8_t)(s->id >> 8);
        h[5] = (uint8_t)s->id;
        h[8] = 64;
        h[9] = s->proto;
        memcpy(h + 12, s->src.b + 12, 4);
        memcpy(h + 16, s->dst.b + 12, 4);
        *len = tot;
    } else {
        h = payload - 40;
        memset(h, 0, 40);
        h[0] = 0x60;
        h[4] = (uint8_t)(s->total >> 8);
        h[5] = (uint8_t)s->total;
        h[6] = s->proto;
        h[7] = 64;
        memcpy(h + 8, s->src.b, 16);
        memcpy(h + 24, s->dst.b, 16);
        *len = 40u + s->total;
    }
    return h;
}

int ta_defrag_add(struct ta_defrag *d, const struct ta_pkt *pkt, uint64_t ts_us,
                  const uint8_t **ip, uint32_t *len, struct ta_pkt_outer *outer)
{
    struct ta_pkt_outer o;
    struct df_slot *s;

    ta_pkt_outer_of(pkt, &o);
    s = slot_find(d, pkt, &o);
    if (s && s->first_us + (uint64_t)TA_DEFRAG_TIMEOUT_S * 1000000u < ts_us) {
        slot_release(d, s);                 /* a datagram that timed out between expiries */
        s = NULL;
    }
    /* Bytes that contradict what came before under the same key, or reach beyond a whole
     * datagram's end: the identification was reused for a new datagram (it wraps in under a
     * second on a busy mirror) after one whose fragment was lost, or after a whole one. The new
     * one starts over, so a lost fragment never corrupts the next datagram. A copy of a whole
     * datagram's fragment is ignored. */
    if (s && !s->broken) {
        bool inside = s->state != DF_DONE || pkt->frag.offset + pkt->frag.len <= s->total;
        if (!inside || !frag_agrees(d, s, pkt))
            s = slot_take(d, s, pkt, &o, ts_us);
        else if (s->state == DF_DONE)
            return TA_NEED_MORE;
    }
    if (!s)
        s = slot_take(d, NULL, pkt, &o, ts_us);
    if (s->broken)
        return TA_NEED_MORE;
    if (!frag_fits(s, pkt)) {
        s->broken = true;
        return TA_NEED_MORE;
    }
    frag_copy(d, s, pkt);
    if (!s->have_last || s->blocks_have != (s->total + 7u) / 8u)
        return TA_NEED_MORE;
    *ip = header_build(d, s, len);
    *outer = s->outer;
    d->st.reassembled++;
    s->state = DF_DONE;
    return TA_OK;
}

void ta_defrag_expire(struct ta_defrag *d, uint64_t now_us)
{
    uint64_t t = (uint64_t)TA_DEFRAG_TIMEOUT_S * 1000000u;

    for (unsigned i = 0; i < TA_DEFRAG_SLOTS && d->in_use; i++) {
        struct df_slot *s = &d->slots[i];
        if (s->state != DF_FREE && s->first_us + t < now_us)
            slot_release(d, s);
    }
}

void ta_defrag_flush(struct ta_defrag *d)
{
    for (unsigned i = 0; i < TA_DEFRAG_SLOTS && d->in_use; i++)
        if (d->slots[i].state != DF_FREE)
            slot_release(d, &d->slots[i]);
}
