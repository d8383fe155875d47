/* writer.c - the store writer thread (see writer.h): a bounded ring of fixed slots between the
 * capture threads and the one thread that owns the SQLite store.
 *
 * Locking: one mutex guards head, tail, the waiting flags and the producers' counters. A
 * producer copies its record into the slot at tail while holding it (a few KB of memcpy, once
 * per connection, not per packet). The writer reads the slots [head, tail) without the mutex,
 * writes them to the store, and only then advances head, WRITER_CHUNK slots at a time, so a slot
 * is never overwritten while it is read.
 *
 * Wake-ups cost two futex calls each, so both sides batch them: an idle writer is woken only
 * once wake_writer slots are queued (otherwise it finds them at its next timed wake-up, within
 * TA_WRITER_TICK_US), and producers blocked on a full queue only once half of it is free. One
 * wake-up per record measured 83,000 futex calls and 1.5 s of system time on the handshake-heavy
 * benchmark (36,000 records). */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsaudit/clock.h"
#include "tlsaudit/common.h"
#include "tlsaudit/store.h"
#include "tlsaudit/writer.h"
#include "capture_int.h"

#define WRITER_CHUNK 32   /* slots written before they are handed back to the producers */

enum slot_kind { SLOT_RECORD = 1, SLOT_DNS = 2 };

struct slot {
    uint8_t kind;                     /* enum slot_kind */
    union {
        struct ta_hs hs;
        struct {
            uint64_t ts_us;
            uint32_t len;
            uint8_t msg[TA_WRITER_DNS_MAX];
        } dns;
    } u;
};

struct ta_writer {
    struct ta_store *st;
    struct slot *slots;               /* nslots, allocated once */
    uint32_t nslots;
    uint32_t wake_writer;             /* queued slots that wake an idle writer */
    pthread_mutex_t mu;
    pthread_cond_t not_empty;         /* the writer waits here when the queue is empty */
    pthread_cond_t not_full;          /* producers wait here when it is full */
    uint64_t head, tail;              /* [head, tail) queued; guarded by mu */
    bool closing;                     /* guarded by mu */
    bool writer_waiting;              /* guarded by mu */
    uint32_t producers_waiting;       /* guarded by mu */
    pthread_t thread;
    bool started;
    ta_writer_tick_fn tick;
    void *tick_arg;
    /* records, store_errors, dns: the writer thread's; dns_cut, full_waits: under mu. Read by
     * ta_writer_finish after the join. */
    struct ta_writer_counts counts;
};

/* Write one slot to the store. A refused record is logged once and counted after that, so a
 * full disk does not flood the terminal; the capture reports the count at the end. */
static void write_slot(struct ta_writer *w, const struct slot *s)
{
    int rc;

    if (s->kind == SLOT_DNS) {
        w->counts.dns++;
        (void)ta_dns_feed_store(w->st, s->u.dns.ts_us, s->u.dns.msg, s->u.dns.len);
        return;
    }
    rc = ta_store_add(w->st, &s->u.hs);
    if (rc == TA_OK)
        w->counts.records++;
    else if (w->counts.store_errors++ == 0)
        TA_LOG(TA_LOG_ERROR, "cannot store a record: %s (further failures counted)", ta_strerror(rc));
}

/* Timed commit and the caller's tick, on the writer thread. */
static void writer_tick(struct ta_writer *w)
{
    uint64_t now = ta_clock_mono_us();

    (void)ta_store_maybe_commit(w->st, now);
    if (w->tick)
        w->tick(w->tick_arg, w->st, now);
}

/* Wait (mu held) until a producer signals or TA_WRITER_TICK_US passes. */
static void wait_for_work(struct ta_writer *w)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)TA_WRITER_TICK_US * 1000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
    }
    w->writer_waiting = true;
    (void)pthread_cond_timedwait(&w->not_empty, &w->mu, &ts);
    w->writer_waiting = false;
}

/* The writer thread: take what is queued, write it, hand the slots back; tick when idle. Ends
 * when closing is set and the queue is empty, so everything queued before is written. */
static void *writer_main(void *arg)
{
    struct ta_writer *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        uint64_t head = w->head, n = w->tail - head;
        if (n == 0) {
            if (w->closing)
                break;
            pthread_mutex_unlock(&w->mu);
            int did = ta_store_idle(w->st);
            pthread_mutex_lock(&w->mu);
            if (did > 0)
                continue;              /* look at the queue again before more */
            if (w->tail != w->head || w->closing)
                continue;
            wait_for_work(w);
            pthread_mutex_unlock(&w->mu);
            writer_tick(w);
            pthread_mutex_lock(&w->mu);
            continue;
        }
        if (n > WRITER_CHUNK)
            n = WRITER_CHUNK;
        pthread_mutex_unlock(&w->mu);
        for (uint64_t i = 0; i < n; i++)
            write_slot(w, &w->slots[(head + i) % w->nslots]);
        writer_tick(w);
        pthread_mutex_lock(&w->mu);
        w->head = head + n;
        if (w->producers_waiting && w->tail - w->head <= w->nslots / 2)
            pthread_cond_broadcast(&w->not_full);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Lock the queue and return the free slot at tail, waiting while the queue is full. The caller
 * fills it and calls slot_publish. */
static struct slot *slot_claim(struct ta_writer *w)
{
    pthread_mutex_lock(&w->mu);
    if (w->tail - w->head >= w->nslots) {
        w->counts.full_waits++;
        w->producers_waiting++;
        while (w->tail - w->head >= w->nslots)
            pthread_cond_wait(&w->not_full, &w->mu);
        w->producers_waiting--;
    }
    return &w->slots[w->tail % w->nslots];
}

/* Make the claimed slot visible to the writer and unlock. */
static void slot_publish(struct ta_writer *w)
{
    w->tail++;
    if (w->writer_waiting && w->tail - w->head >= w->wake_writer)
        pthread_cond_signal(&w->not_empty);
    pthread_mutex_unlock(&w->mu);
}

/* See writer.h. */
void ta_writer_record(struct ta_writer *w, const struct ta_hs *hs)
{
    struct slot *s = slot_claim(w);
    s->kind = SLOT_RECORD;
    memcpy(&s->u.hs, hs, sizeof(*hs));
    slot_publish(w);
}

/* See writer.h. A message over the cap is counted, not cut and parsed: the parser validates the
 * whole message before reporting any answer, so a truncated copy would yield nothing anyway. */
void ta_writer_dns(struct ta_writer *w, uint64_t ts_us, const uint8_t *msg, size_t len)
{
    struct slot *s;

    if (len > TA_WRITER_DNS_MAX) {
        pthread_mutex_lock(&w->mu);
        w->counts.dns_cut++;
        pthread_mutex_unlock(&w->mu);
        return;
    }
    s = slot_claim(w);
    s->kind = SLOT_DNS;
    s->u.dns.ts_us = ts_us;
    s->u.dns.len = (uint32_t)len;
    memcpy(s->u.dns.msg, msg, len);
    slot_publish(w);
}

static void sink_record(void *arg, const struct ta_hs *hs)
{
    ta_writer_record(arg, hs);
}

static void sink_dns(void *arg, uint64_t ts_us, const uint8_t *msg, size_t len)
{
    ta_writer_dns(arg, ts_us, msg, len);
}

/* See writer.h. */
void ta_writer_sink(struct ta_writer *w, struct ta_engine_sink *sink)
{
    sink->record = sink_record;
    sink->dns = sink_dns;
    sink->arg = w;
}

/* Initialise the mutex and the condition variables (the writer's on the monotonic clock, the
 * same clock as the store's batch age). Returns 0 or an errno value. */
static int writer_sync_init(struct ta_writer *w)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);

    if (rc)
        return rc;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (!rc)
        rc = pthread_cond_init(&w->not_empty, &ca);
    pthread_condattr_destroy(&ca);
    if (rc)
        return rc;
    if ((rc = pthread_cond_init(&w->not_full, NULL)) != 0) {
        pthread_cond_destroy(&w->not_empty);
        return rc;
    }
    if ((rc = pthread_mutex_init(&w->mu, NULL)) != 0) {
        pthread_cond_destroy(&w->not_empty);
        pthread_cond_destroy(&w->not_full);
    }
    return rc;
}

static void writer_sync_destroy(struct ta_writer *w)
{
    pthread_cond_destroy(&w->not_empty);
    pthread_cond_destroy(&w->not_full);
    pthread_mutex_destroy(&w->mu);
}

/* See writer.h. */
int ta_writer_new(uint32_t slots, struct ta_writer **out, char *errbuf)
{
    struct ta_writer *w = calloc(1, sizeof(*w));
    int rc;

    *out = NULL;
    if (w) {
        w->nslots = slots ? slots : TA_WRITER_SLOTS;
        w->wake_writer = w->nslots / 8 > WRITER_CHUNK ? WRITER_CHUNK : w->nslots / 8;
        if (w->wake_writer == 0)
            w->wake_writer = 1;
    }
    /* calloc: slots never reached are never touched, so a quiet link costs little memory. */
    if (!w || !(w->slots = calloc(w->nslots, sizeof(struct slot)))) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "out of memory allocating the writer queue");
        free(w);
        return TA_ERR_NOMEM;
    }
    if ((rc = writer_sync_init(w)) != 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "writer queue: %s", strerror(rc));
        free(w->slots);
        free(w);
        return TA_ERR_NOMEM;
    }
    *out = w;
    return TA_OK;
}

/* See writer.h. Started by ta__capture_thread: the new thread has SIGINT and SIGTERM blocked,
 * so the capture's signal handler never runs on it. */
int ta_writer_start(struct ta_writer *w, struct ta_store *st, ta_writer_tick_fn tick,
                    void *tick_arg, char *errbuf)
{
    int rc;

    w->st = st;
    w->tick = tick;
    w->tick_arg = tick_arg;
    rc = ta__capture_thread(&w->thread, writer_main, w);
    if (rc) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "cannot start the writer thread: %s", strerror(rc));
        return TA_ERR_IO;
    }
    w->started = true;
    return TA_OK;
}

/* See writer.h. */
void ta_writer_finish(struct ta_writer *w, struct ta_writer_counts *out)
{
    if (!w) {
        if (out)
            memset(out, 0, sizeof(*out));
        return;
    }
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->closing = true;
        if (w->writer_waiting)
            pthread_cond_signal(&w->not_empty);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    if (out)
        *out = w->counts;
    writer_sync_destroy(w);
    free(w->slots);
    free(w);
}
