/* flow.h - the flow table: fixed slots allocated at start-up, an open-addressing index, an
 * approximate LRU list for idle timeouts and eviction. Nothing is allocated per packet. */
#ifndef TLSAUDIT_FLOW_H
#define TLSAUDIT_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include "tlsaudit/packet.h"

#define TA_FLOW_NONE UINT32_MAX

/* Bidirectional key: endpoint a is the lower (address, port) of the two, so both directions of
 * a connection find the same slot. */
struct ta_flow_key {
    struct ta_addr a, b;
    uint16_t pa, pb;
    uint8_t l4, ipver;
};

enum ta_flow_state {
    TA_FLOW_FREE = 0,
    TA_FLOW_NEW,       /* SYN seen, no payload yet */
    TA_FLOW_ANALYZE,   /* payload seen: an analysis context is attached */
    TA_FLOW_DONE       /* record written or not interesting: later packets cost a lookup only */
};

struct ta_flow {
    struct ta_flow_key key;
    uint8_t state;          /* enum ta_flow_state */
    uint8_t client_is_a;    /* 1: endpoint a is the client */
    uint8_t syn_seen;       /* bit 0: client SYN seen, bit 1: server SYN+ACK seen */
    uint8_t fin_seen;       /* bit 0: client FIN, bit 1: server FIN */
    uint32_t isn[2];        /* initial sequence numbers per direction (valid per syn_seen bit) */
    uint32_t ctx;           /* analysis context index, or TA_FLOW_NONE */
    uint32_t lru_prev, lru_next;
    uint32_t hash;
    uint64_t ts_first_us, ts_last_us;
    uint64_t ts_lru_us;     /* ts_last_us when the flow last moved to the LRU head */
};

struct ta_flow_table;

/* Create a table for at most max_flows flows (index sized to a power of two >= 2x). NULL when
 * memory is short. */
struct ta_flow_table *ta_flow_table_new(uint32_t max_flows);
void ta_flow_table_free(struct ta_flow_table *ft);

/* Build the canonical key of a packet; *from_a is true when the packet was sent by endpoint a. */
void ta_flow_key_make(const struct ta_pkt *pkt, struct ta_flow_key *key, bool *from_a);

/* Find the flow of key, or NULL. hash_out receives the key's hash for a following insert. */
struct ta_flow *ta_flow_find(struct ta_flow_table *ft, const struct ta_flow_key *key,
                             uint32_t *hash_out);
/* Insert a new flow (the caller checked it is absent). NULL when the table is full: the caller
 * must evict (ta_flow_oldest + ta_flow_remove) first. */
struct ta_flow *ta_flow_insert(struct ta_flow_table *ft, const struct ta_flow_key *key,
                               uint32_t hash, uint64_t ts_us);
/* Mark activity: moves the flow to the LRU head at most once per second of packet time. */
void ta_flow_touch(struct ta_flow_table *ft, struct ta_flow *f, uint64_t ts_us);
/* Least recently active flow, or NULL when empty. */
struct ta_flow *ta_flow_oldest(struct ta_flow_table *ft);
/* The flow active next after f (toward the most recent), or NULL: with ta_flow_oldest, a walk
 * over every flow that may remove the one it stands on. */
struct ta_flow *ta_flow_newer(struct ta_flow_table *ft, const struct ta_flow *f);
void ta_flow_remove(struct ta_flow_table *ft, struct ta_flow *f);

uint32_t ta_flow_count(const struct ta_flow_table *ft);
uint32_t ta_flow_capacity(const struct ta_flow_table *ft);
uint32_t ta_flow_index(const struct ta_flow_table *ft, const struct ta_flow *f);
struct ta_flow *ta_flow_at(struct ta_flow_table *ft, uint32_t idx);

#endif
