/* defrag.h - IP fragment reassembly: IPv4 (RFC 791 3.2) and IPv6 (RFC 8200 4.5) datagrams
 * rebuilt from their fragments in a fixed table, so that a ServerHello an ERSPAN or GRE mirror
 * fragmented on its way to the sensor is read like any other. */
#ifndef TLSAUDIT_DEFRAG_H
#define TLSAUDIT_DEFRAG_H

#include <stdint.h>
#include "tlsaudit/packet.h"

#define TA_DEFRAG_SLOTS 128        /* datagrams being reassembled at once, per table */
#define TA_DEFRAG_TIMEOUT_S 30     /* a datagram not whole after this long is given up (Linux's
                                    * ipfrag_time) */

struct ta_defrag_stats {
    uint64_t reassembled;          /* datagrams made whole */
    uint64_t incomplete;           /* datagrams given up: a fragment never came (timeout, table
                                    * full, end of input), lengths that contradict each other or
                                    * exceed 65,535 bytes, a fragment cut by the snap length */
};

struct ta_defrag;

/* A table of TA_DEFRAG_SLOTS datagrams; all its memory is allocated here (pages are touched
 * only when a datagram uses them). NULL when out of memory. */
struct ta_defrag *ta_defrag_new(void);
void ta_defrag_free(struct ta_defrag *d);

/* Take the fragment pkt (pkt->ip_fragment set) seen at ts_us. TA_OK when it made its datagram
 * whole: *ip and *len are the datagram as one IP packet (a plain IPv4 or IPv6 header rebuilt
 * from the fragments', without options or the Fragment header, then the payload), *outer what
 * was outside its fragments; they stay valid until the next call on d. TA_NEED_MORE otherwise.
 * Overlapping fragments: the bytes that came first are kept (as in TCP reassembly here). */
int ta_defrag_add(struct ta_defrag *d, const struct ta_pkt *pkt, uint64_t ts_us,
                  const uint8_t **ip, uint32_t *len, struct ta_pkt_outer *outer);
/* Give up the datagrams whose first fragment came TA_DEFRAG_TIMEOUT_S before now_us. */
void ta_defrag_expire(struct ta_defrag *d, uint64_t now_us);
/* End of input: give up every datagram still incomplete. */
void ta_defrag_flush(struct ta_defrag *d);
const struct ta_defrag_stats *ta_defrag_stats(const struct ta_defrag *d);

#endif
