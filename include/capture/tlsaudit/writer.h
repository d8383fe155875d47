/* writer.h - the store writer thread: capture threads hand connection records and DNS messages to
 * a bounded queue, and one thread owns the store and writes them, so reading packets never waits
 * on SQLite or fsync (only on a full queue).
 *
 * The queue's slots are allocated once at start; a record is copied whole (sizeof struct ta_hs),
 * a DNS message up to TA_WRITER_DNS_MAX bytes. A producer that finds the queue full waits: nothing
 * handed to the writer is ever dropped (offline, the file waits; live, the kernel ring absorbs the
 * pause and pcap_stats counts what it could not). Producers may be on any number of threads. */
#ifndef TLSAUDIT_WRITER_H
#define TLSAUDIT_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include "tlsaudit/engine.h"
#include "tlsaudit/handshake.h"
#include "tlsaudit/store.h"

#define TA_WRITER_SLOTS 256         /* default queue length (records or DNS messages): 1.5 MB */
#define TA_WRITER_DNS_MAX 4096      /* longest DNS message queued; longer ones are counted, not stored */
#define TA_WRITER_TICK_US 250000u   /* the writer wakes at least this often when idle */

struct ta_writer;

/* What the writer did, read after ta_writer_finish. */
struct ta_writer_counts {
    uint64_t records;          /* records the store accepted */
    uint64_t store_errors;     /* records the store refused (disk full, read-only ...) */
    uint64_t dns;              /* DNS messages handed to ta_dns_feed_store */
    uint64_t dns_cut;          /* DNS messages over TA_WRITER_DNS_MAX bytes, not stored */
    uint64_t full_waits;       /* times a producer found the queue full and waited */
};

/* Called on the writer thread at every wake-up (at least every TA_WRITER_TICK_US), after the
 * timed commit, with the store the writer owns: periodic run-row updates go here. */
typedef void (*ta_writer_tick_fn)(void *arg, struct ta_store *st, uint64_t now_us);

/* Allocate a writer and its queue of slots entries (0 = TA_WRITER_SLOTS); no thread yet, so
 * engines can be given its sink before the run begins. Returns TA_OK, or TA_ERR_NOMEM with a
 * message in errbuf (TA_ERRBUF_SIZE). */
int ta_writer_new(uint32_t slots, struct ta_writer **out, char *errbuf);

/* Start the writer thread on st; from now until ta_writer_finish only it may use st. tick may be
 * NULL. The thread blocks SIGINT and SIGTERM, so the capture's handler runs on the thread that
 * installed it. Returns TA_OK, or TA_ERR_IO with a message in errbuf. */
int ta_writer_start(struct ta_writer *w, struct ta_store *st, ta_writer_tick_fn tick,
                    void *tick_arg, char *errbuf);

/* Queue a copy of hs (it may be reused at once). Waits while the queue is full. Thread-safe. */
void ta_writer_record(struct ta_writer *w, const struct ta_hs *hs);

/* Queue a copy of one DNS message seen at ts_us. Waits while the queue is full. Thread-safe. */
void ta_writer_dns(struct ta_writer *w, uint64_t ts_us, const uint8_t *msg, size_t len);

/* Fill an engine sink whose callbacks queue into w (the engine's per-packet path then never
 * touches the store). */
void ta_writer_sink(struct ta_writer *w, struct ta_engine_sink *sink);

/* Drain the queue into the store, join the writer thread (if started) and free w. Every producer must have
 * stopped. The store belongs to the caller again afterwards; rows still in its open batch are
 * committed by the caller's ta_store_run_end or ta_store_commit. out may be NULL, and so may w. */
void ta_writer_finish(struct ta_writer *w, struct ta_writer_counts *out);

#endif
