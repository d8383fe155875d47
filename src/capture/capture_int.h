/* capture_int.h - private to capture.c (options, offline files, the run) and capture_live.c
 * (live interface: N capture handles in one PACKET_FANOUT group, one worker thread each). */
#ifndef TA_CAPTURE_INT_H
#define TA_CAPTURE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "tlsaudit/engine.h"
#include "tlsaudit/store.h"

#define TA_MAX_FILES 256
#define TA_MAX_WORKERS 16

struct ta__capture_opts {
    const char *db;
    const char *files[TA_MAX_FILES];
    int nfiles;
    const char *iface;
    const char *filter;
    const char *user;
    int snaplen;
    int buffer_mib;
    int workers;                      /* live capture threads (1..TA_MAX_WORKERS); 0 = not given */
    const char *sensor;               /* --sensor, NULL = the host name (store default) */
    int retain_days;                  /* --retain-days, default 30; 0 = keep for ever */
    int64_t max_db_bytes;             /* --max-db-size, 0 = no cap */
    struct ta_engine_config ecfg;     /* totals; live workers share them (see ta__live_open) */
};

/* Stop handling, shared by the signal handler, the offline loop and the live workers. */
bool ta__capture_stopping(void);
/* Ask every reader to stop: set the flag, pcap_breakloop every watched handle. Async-signal-safe;
 * callable from any thread. */
void ta__capture_stop(void);
/* Watch handle p in slot i (< TA_MAX_WORKERS) so a stop breaks its loop; NULL unwatches. Only
 * the main thread calls this, while no reader of that slot runs. */
void ta__capture_watch(unsigned i, pcap_t *p);

/* Check p's link type and install the filter (NULL = none). 0, or -1 with a message naming
 * name in errbuf (TA_ERRBUF_SIZE). */
int ta__capture_prepare(pcap_t *p, const char *name, const char *filter, int *dlt, char *errbuf);

uint64_t ta__mono_us(void);
uint64_t ta__wall_us(void);

/* Live capture (capture_live.c). */
struct ta__live;

/* Open o->workers handles on o->iface (create, options, activate), check the link type, install
 * the filter, and with more than one join them to one PACKET_FANOUT group (flow hash, IP
 * fragments reassembled first so they hash together). --max-flows and --max-analyzing are
 * totals: each worker gets an even share. Returns 0, or -1 with a message naming the
 * interface; nothing stays open on failure. */
int ta__live_open(const struct ta__capture_opts *o, struct ta__live **out, char *errbuf);
/* One engine per worker, all writing into sink. 0, or -1 with a message. */
int ta__live_engines(struct ta__live *lv, const struct ta_engine_sink *sink, char *errbuf);
/* Writer tick (ta_writer_tick_fn): every TA_STATS_INTERVAL_S, the run row gets the workers'
 * latest counters (drop counts of a long run are visible before it ends). */
void ta__live_tick(void *arg, struct ta_store *st, uint64_t now_us);
/* Run the workers until a stop or an error; each flushes its engine before it ends. Returns 0,
 * or -1 with the first worker's error in errbuf. */
int ta__live_run(struct ta__live *lv, char *errbuf);
/* Add every worker's counters into rs: packets, drops and engine counters summed; if_drops (a
 * counter of the interface, the same for every handle) taken once. */
void ta__live_stats(const struct ta__live *lv, struct ta_run_stats *rs);
/* Close the handles and free the engines. NULL is accepted. */
void ta__live_close(struct ta__live *lv);

#define TA_STATS_INTERVAL_S 60        /* run row update (drop counts) during long live runs */

#endif
