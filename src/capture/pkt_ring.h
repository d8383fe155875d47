/* pkt_ring.h - private to the capture layer: a single-producer single-consumer ring of captured
 * packets, allocated once, between the reader thread of `capture -r --workers N` and one engine
 * thread (source_file_mt.c). Packets are copied in (header + bytes, 8-byte aligned), never
 * allocated one by one.
 *
 * Positions are byte counters that only grow; the producer publishes its position in batches
 * (every TA__RING_PUBLISH records) and the consumer hands space back in batches, so the two
 * threads touch the shared cache lines rarely. A side that finds nothing to do sleeps on a
 * condition variable and is woken only when the other side sees its sleeping flag. */
#ifndef TA_PKT_RING_H
#define TA_PKT_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define TA__RING_BYTES (1u << 20)     /* per ring; holds ~2,500 handshake-sized packets */
#define TA__RING_PUBLISH 64           /* records written before the producer publishes them */
#define TA__RING_MAX_CAPLEN 262144u   /* libpcap's largest snapshot length; longer is cut */

enum ta__ring_kind {
    TA__RING_PACKET = 1,              /* a captured frame follows the header */
    TA__RING_TICK = 2,                /* no bytes: the reader's packet time, for idle timeouts */
    TA__RING_WRAP = 3,                /* the rest of the buffer is unused: go on at its start */
    TA__RING_DATAGRAM = 4,            /* a struct ta_pkt_outer, then an IP datagram rebuilt
                                       * from fragments (ta_engine_datagram) */
};

/* One record: this header, then caplen bytes, padded to 8. */
struct ta__ring_rec {
    uint64_t ts_us;
    uint32_t caplen;
    uint32_t wire_len;
    int32_t dlt;
    uint32_t kind;                    /* enum ta__ring_kind */
};

struct ta__pkt_ring {
    uint8_t *buf;                     /* TA__RING_BYTES */
    _Atomic uint64_t head;            /* consumer: bytes handed back */
    _Atomic uint64_t tail;            /* producer: bytes published */
    uint64_t wpos;                    /* producer only: bytes written, published or not */
    uint32_t unpublished;             /* producer only: records since the last publication */
    _Atomic bool eof;                 /* the producer wrote its last record */
    _Atomic bool consumer_sleeps, producer_sleeps;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
};

/* Allocate the buffer and the locks. TA_OK or TA_ERR_NOMEM. */
int ta__ring_init(struct ta__pkt_ring *r);
/* Free what ta__ring_init made (a zeroed ring is accepted). */
void ta__ring_destroy(struct ta__pkt_ring *r);

/* Producer: copy one record (caplen bytes of data; none for a tick) into the ring, waiting while
 * it is full. caplen above TA__RING_MAX_CAPLEN is cut to it. */
void ta__ring_put(struct ta__pkt_ring *r, enum ta__ring_kind kind, int dlt, uint64_t ts_us,
                  const uint8_t *data, uint32_t caplen, uint32_t wire_len);
/* Producer: make every record written so far visible to the consumer. */
void ta__ring_publish(struct ta__pkt_ring *r);
/* Producer: publish and say that nothing more will come. */
void ta__ring_close(struct ta__pkt_ring *r);

/* Consumer: call fn for every record published, in order, until the producer closed the ring
 * and every record was read. Hands space back to the producer as it goes. */
typedef void (*ta__ring_fn)(void *arg, const struct ta__ring_rec *rec, const uint8_t *data);
void ta__ring_consume(struct ta__pkt_ring *r, ta__ring_fn fn, void *arg);

#endif
