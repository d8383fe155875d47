/* pkt_ring.c - the packet ring between the file reader and one engine thread (see pkt_ring.h).
 *
 * Ordering: the producer writes a record's bytes, then stores tail (seq_cst, so also a release);
 * the consumer loads tail before reading the bytes and stores head only after it is done with
 * them, and the producer loads head before writing over them. Sleeping uses the flag pattern:
 * a side sets its sleeping flag under the mutex and re-checks the position before waiting; the
 * other side stores the position first and then reads the flag, so with sequentially consistent
 * atomics one of the two always sees the other and no wake-up is lost. */
#include <stdlib.h>
#include <string.h>

#include "pkt_ring.h"
#include "tlsaudit/common.h"

#define REC_ALIGN(n) (((n) + 7u) & ~(size_t)7u)

_Static_assert(sizeof(struct ta__ring_rec) % 8 == 0, "ring records stay 8-byte aligned");
_Static_assert(REC_ALIGN(sizeof(struct ta__ring_rec) + TA__RING_MAX_CAPLEN) <= TA__RING_BYTES / 2,
               "the largest record fits the ring twice");

/* See pkt_ring.h. */
int ta__ring_init(struct ta__pkt_ring *r)
{
    memset(r, 0, sizeof(*r));
    r->buf = malloc(TA__RING_BYTES);
    if (!r->buf)
        return TA_ERR_NOMEM;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->not_empty, NULL);
    pthread_cond_init(&r->not_full, NULL);
    return TA_OK;
}

/* See pkt_ring.h. */
void ta__ring_destroy(struct ta__pkt_ring *r)
{
    if (!r->buf)
        return;
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->not_empty);
    pthread_cond_destroy(&r->not_full);
    free(r->buf);
    r->buf = NULL;
}

/* See pkt_ring.h. */
void ta__ring_publish(struct ta__pkt_ring *r)
{
    r->unpublished = 0;
    atomic_store(&r->tail, r->wpos);
    if (atomic_load(&r->consumer_sleeps)) {
        pthread_mutex_lock(&r->mu);
        pthread_cond_signal(&r->not_empty);
        pthread_mutex_unlock(&r->mu);
    }
}

/* Producer: wait until need more bytes fit after wpos (publishing first, so the consumer has
 * everything written so far to work on). */
static void wait_space(struct ta__pkt_ring *r, size_t need)
{
    if (r->wpos + need - atomic_load(&r->head) <= TA__RING_BYTES)
        return;
    ta__ring_publish(r);
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->producer_sleeps, true);
    while (r->wpos + need - atomic_load(&r->head) > TA__RING_BYTES)
        pthread_cond_wait(&r->not_full, &r->mu);
    atomic_store(&r->producer_sleeps, false);
    pthread_mutex_unlock(&r->mu);
}

/* See pkt_ring.h. A record never straddles the end of the buffer: the space left there is
 * skipped, marked by a WRAP header when one fits (the consumer skips a smaller rest by itself). */
void ta__ring_put(struct ta__pkt_ring *r, enum ta__ring_kind kind, int dlt, uint64_t ts_us,
                  const uint8_t *data, uint32_t caplen, uint32_t wire_len)
{
    struct ta__ring_rec h;
    size_t need, off, rest, skip = 0;

    if (caplen > TA__RING_MAX_CAPLEN)
        caplen = TA__RING_MAX_CAPLEN;
    if (!data)
        caplen = 0;
    need = REC_ALIGN(sizeof(h) + caplen);
    off = (size_t)(r->wpos % TA__RING_BYTES);
    rest = TA__RING_BYTES - off;
    if (rest < need)
        skip = rest;
    wait_space(r, skip + need);
    if (skip) {
        if (rest >= sizeof(h)) {
            memset(&h, 0, sizeof(h));
            h.kind = TA__RING_WRAP;
            memcpy(r->buf + off, &h, sizeof(h));
        }
        r->wpos += skip;
        off = 0;
    }
    h.ts_us = ts_us;
    h.caplen = caplen;
    h.wire_len = wire_len;
    h.dlt = dlt;
    h.kind = (uint32_t)kind;
    memcpy(r->buf + off, &h, sizeof(h));
    if (caplen)
        memcpy(r->buf + off + sizeof(h), data, caplen);
    r->wpos += need;
    if (++r->unpublished >= TA__RING_PUBLISH)
        ta__ring_publish(r);
}

/* See pkt_ring.h. */
void ta__ring_close(struct ta__pkt_ring *r)
{
    ta__ring_publish(r);
    atomic_store(&r->eof, true);
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->not_empty);
    pthread_mutex_unlock(&r->mu);
}

/* Consumer: hand the bytes before pos back to the producer, waking it if it waits for them. */
static void give_back(struct ta__pkt_ring *r, uint64_t pos)
{
    atomic_store(&r->head, pos);
    if (atomic_load(&r->producer_sleeps)) {
        pthread_mutex_lock(&r->mu);
        pthread_cond_signal(&r->not_full);
        pthread_mutex_unlock(&r->mu);
    }
}

/* Consumer: wait while nothing is published at pos and the ring is open. */
static void wait_data(struct ta__pkt_ring *r, uint64_t pos)
{
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->consumer_sleeps, true);
    while (atomic_load(&r->tail) == pos && !atomic_load(&r->eof))
        pthread_cond_wait(&r->not_empty, &r->mu);
    atomic_store(&r->consumer_sleeps, false);
    pthread_mutex_unlock(&r->mu);
}

/* See pkt_ring.h. */
void ta__ring_consume(struct ta__pkt_ring *r, ta__ring_fn fn, void *arg)
{
    uint64_t pos = atomic_load(&r->head);

    for (;;) {
        uint64_t end = atomic_load(&r->tail);
        unsigned n = 0;

        if (pos == end) {
            if (atomic_load(&r->eof) && atomic_load(&r->tail) == pos)
                break;
            wait_data(r, pos);
            continue;
        }
        while (pos < end) {
            size_t off = (size_t)(pos % TA__RING_BYTES);
            struct ta__ring_rec h;

            if (TA__RING_BYTES - off < sizeof(h)) {
                pos += TA__RING_BYTES - off;
                continue;
            }
            memcpy(&h, r->buf + off, sizeof(h));
            if (h.kind == TA__RING_WRAP) {
                pos += TA__RING_BYTES - off;
                continue;
            }
            fn(arg, &h, r->buf + off + sizeof(h));
            pos += REC_ALIGN(sizeof(h) + h.caplen);
            if (++n % TA__RING_PUBLISH == 0)
                give_back(r, pos);
        }
        give_back(r, pos);
    }
}
