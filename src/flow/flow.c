/* flow.c - fixed-slot flow table with an open-addressing index and an approximate LRU list.
 *
 * Slots live in one array allocated at start-up and are recycled through a free list. The index
 * is a power-of-two array of (hash, slot) pairs probed linearly; removal uses backward-shift
 * deletion so no tombstones accumulate on a long-running sensor. The LRU list is updated at most
 * once per second of packet time per flow, which keeps the per-packet cost to the index probe
 * while ordering flows well enough for second-granularity timeouts. */
#include <stdlib.h>
#include <string.h>

#include "tlsaudit/flow.h"

struct ta_flow_ix {
    uint32_t hash;
    uint32_t slot1;  /* slot index + 1; 0 = empty, so a calloc'ed index is empty and untouched */
};

struct ta_flow_table {
    struct ta_flow *slots;
    uint32_t max_flows;
    uint32_t count;
    uint32_t free_head;          /* returned slots, threaded through lru_next */
    uint32_t fresh;              /* slots never used start here: their pages stay untouched */
    struct ta_flow_ix *ix;
    uint32_t ix_mask;
    uint32_t lru_head, lru_tail; /* head = most recent */
};

_Static_assert(sizeof(struct ta_flow) <= 128, "flow slot must stay small: it is per flow");

/* Mix function for the key hash (a 64-bit finaliser applied to 8-byte words). */
static inline uint64_t mix64(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static uint32_t key_hash(const struct ta_flow_key *k)
{
    uint64_t w[4];
    uint64_t h = ((uint64_t)k->pa << 32) | ((uint64_t)k->pb << 16) | ((uint64_t)k->l4 << 8) | k->ipver;
    memcpy(w, k->a.b, 16);
    memcpy(w + 2, k->b.b, 16);
    for (int i = 0; i < 4; i++)
        h = mix64(h, w[i]);
    return (uint32_t)(h ^ (h >> 32));
}

static inline bool key_eq(const struct ta_flow_key *x, const struct ta_flow_key *y)
{
    return x->pa == y->pa && x->pb == y->pb && x->l4 == y->l4 && x->ipver == y->ipver &&
           memcmp(x->a.b, y->a.b, 16) == 0 && memcmp(x->b.b, y->b.b, 16) == 0;
}

struct ta_flow_table *ta_flow_table_new(uint32_t max_flows)
{
    struct ta_flow_table *ft;
    uint32_t ixsize = 16;

    if (max_flows == 0 || max_flows > (1u << 28))
        return NULL;
    while (ixsize < max_flows * 2u)
        ixsize <<= 1;
    ft = calloc(1, sizeof(*ft));
    if (!ft)
        return NULL;
    ft->slots = calloc(max_flows, sizeof(*ft->slots));
    ft->ix = calloc(ixsize, sizeof(*ft->ix));
    if (!ft->slots || !ft->ix) {
        ta_flow_table_free(ft);
        return NULL;
    }
    ft->ix_mask = ixsize - 1;
    ft->max_flows = max_flows;
    ft->free_head = TA_FLOW_NONE;
    ft->lru_head = ft->lru_tail = TA_FLOW_NONE;
    return ft;
}

void ta_flow_table_free(struct ta_flow_table *ft)
{
    if (!ft)
        return;
    free(ft->slots);
    free(ft->ix);
    free(ft);
}

/* Canonical key: the endpoint with the lower (address, port) becomes a. */
void ta_flow_key_make(const struct ta_pkt *pkt, struct ta_flow_key *key, bool *from_a)
{
    int c = memcmp(pkt->src.b, pkt->dst.b, 16);
    bool src_is_a = c < 0 || (c == 0 && pkt->sport <= pkt->dport);

    memset(key, 0, sizeof(*key));
    key->l4 = pkt->l4;
    key->ipver = pkt->ipver;
    if (src_is_a) {
        key->a = pkt->src; key->pa = pkt->sport;
        key->b = pkt->dst; key->pb = pkt->dport;
    } else {
        key->a = pkt->dst; key->pa = pkt->dport;
        key->b = pkt->src; key->pb = pkt->sport;
    }
    *from_a = src_is_a;
}

struct ta_flow *ta_flow_find(struct ta_flow_table *ft, const struct ta_flow_key *key,
                             uint32_t *hash_out)
{
    uint32_t h = key_hash(key);
    uint32_t i = h & ft->ix_mask;

    *hash_out = h;
    for (;;) {
        struct ta_flow_ix *e = &ft->ix[i];
        if (e->slot1 == 0)
            return NULL;
        if (e->hash == h && key_eq(&ft->slots[e->slot1 - 1].key, key))
            return &ft->slots[e->slot1 - 1];
        i = (i + 1) & ft->ix_mask;
    }
}

static void lru_unlink(struct ta_flow_table *ft, struct ta_flow *f)
{
    if (f->lru_prev != TA_FLOW_NONE)
        ft->slots[f->lru_prev].lru_next = f->lru_next;
    else
        ft->lru_head = f->lru_next;
    if (f->lru_next != TA_FLOW_NONE)
        ft->slots[f->lru_next].lru_prev = f->lru_prev;
    else
        ft->lru_tail = f->lru_prev;
}

static void lru_push_head(struct ta_flow_table *ft, struct ta_flow *f, uint32_t idx)
{
    f->lru_prev = TA_FLOW_NONE;
    f->lru_next = ft->lru_head;
    if (ft->lru_head != TA_FLOW_NONE)
        ft->slots[ft->lru_head].lru_prev = idx;
    ft->lru_head = idx;
    if (ft->lru_tail == TA_FLOW_NONE)
        ft->lru_tail = idx;
}

struct ta_flow *ta_flow_insert(struct ta_flow_table *ft, const struct ta_flow_key *key,
                               uint32_t hash, uint64_t ts_us)
{
    uint32_t idx = ft->free_head, i;
    struct ta_flow *f;

    if (idx != TA_FLOW_NONE) {
        f = &ft->slots[idx];
        ft->free_head = f->lru_next;
    } else if (ft->fresh < ft->max_flows) {
        idx = ft->fresh++;
        f = &ft->slots[idx];
    } else {
        return NULL;
    }
    memset(f, 0, sizeof(*f));
    f->key = *key;
    f->hash = hash;
    f->state = TA_FLOW_NEW;
    f->ctx = TA_FLOW_NONE;
    f->ts_first_us = f->ts_last_us = f->ts_lru_us = ts_us;
    lru_push_head(ft, f, idx);
    for (i = hash & ft->ix_mask; ft->ix[i].slot1 != 0; i = (i + 1) & ft->ix_mask)
        ;
    ft->ix[i].hash = hash;
    ft->ix[i].slot1 = idx + 1;
    ft->count++;
    return f;
}

void ta_flow_touch(struct ta_flow_table *ft, struct ta_flow *f, uint64_t ts_us)
{
    if (ts_us > f->ts_last_us)
        f->ts_last_us = ts_us;
    if (f->ts_last_us - f->ts_lru_us >= 1000000u) {
        uint32_t idx = (uint32_t)(f - ft->slots);
        f->ts_lru_us = f->ts_last_us;
        if (ft->lru_head != idx) {
            lru_unlink(ft, f);
            lru_push_head(ft, f, idx);
        }
    }
}

struct ta_flow *ta_flow_oldest(struct ta_flow_table *ft)
{
    return ft->lru_tail == TA_FLOW_NONE ? NULL : &ft->slots[ft->lru_tail];
}

struct ta_flow *ta_flow_newer(struct ta_flow_table *ft, const struct ta_flow *f)
{
    return f->lru_prev == TA_FLOW_NONE ? NULL : &ft->slots[f->lru_prev];
}

/* Remove from the index with backward-shift deletion, then return the slot to the free list. */
void ta_flow_remove(struct ta_flow_table *ft, struct ta_flow *f)
{
    uint32_t idx = (uint32_t)(f - ft->slots);
    uint32_t i = f->hash & ft->ix_mask, j;

    while (ft->ix[i].slot1 != idx + 1)
        i = (i + 1) & ft->ix_mask;
    j = i;
    for (;;) {
        uint32_t home;
        j = (j + 1) & ft->ix_mask;
        if (ft->ix[j].slot1 == 0)
            break;
        home = ft->ix[j].hash & ft->ix_mask;
        /* Entry j may fill hole i only if its home is not cyclically within (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            ft->ix[i] = ft->ix[j];
            i = j;
        }
    }
    ft->ix[i].slot1 = 0;
    lru_unlink(ft, f);
    f->state = TA_FLOW_FREE;
    f->lru_next = ft->free_head;
    ft->free_head = idx;
    ft->count--;
}

uint32_t ta_flow_count(const struct ta_flow_table *ft) { return ft->count; }
uint32_t ta_flow_capacity(const struct ta_flow_table *ft) { return ft->max_flows; }
uint32_t ta_flow_index(const struct ta_flow_table *ft, const struct ta_flow *f)
{
    return (uint32_t)(f - ft->slots);
}
struct ta_flow *ta_flow_at(struct ta_flow_table *ft, uint32_t idx)
{
    return idx < ft->max_flows ? &ft->slots[idx] : NULL;
}
