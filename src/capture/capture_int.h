/* capture_int.h - private to the capture layer: the options of `tlsaudit capture` (options.c),
 * run control shared by every reader (run_control.c: the stop flag, signals, handle checks), and
 * the packet sources behind one ops table (source_file.c, source_live.c), as libpcap keeps its
 * file and live backends behind read_op_t. capture.c runs a capture without asking which source
 * it has. */
#ifndef TA_CAPTURE_INT_H
#define TA_CAPTURE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "tlsaudit/engine.h"
#include "tlsaudit/store.h"
#include "tlsaudit/writer.h"

#define TA_MAX_FILES 256
#define TA_MAX_WORKERS 16
#define TA_STATS_INTERVAL_S 60        /* run row update (drop counts) during long live runs */

struct ta__capture_opts {
    const char *db;
    const char *files[TA_MAX_FILES];
    int nfiles;
    const char *iface;
    const char *filter;
    const char *user;
    int snaplen;
    int buffer_mib;
    int workers;                      /* live capture or file engine threads (1..TA_MAX_WORKERS); 0 = not given */
    const char *sensor;               /* --sensor, NULL = the host name (store default) */
    int retain_days;                  /* --retain-days, default 30; 0 = keep for ever */
    int64_t max_db_bytes;             /* --max-db-size, 0 = no cap */
    struct ta_engine_config ecfg;     /* totals; live workers share them (see source_live.c) */
};

/* Parse `tlsaudit capture` arguments into o (options.c). Returns 0, or 2 on a usage error
 * (message printed); --help prints the usage and exits 0. */
int ta__capture_parse(int argc, char **argv, struct ta__capture_opts *o);

/* Run control (run_control.c). */
/* True once a stop was asked (signal, error in another reader). */
bool ta__capture_stopping(void);
/* Ask every reader to stop: set the flag, pcap_breakloop every watched handle. Async-signal-safe;
 * callable from any thread. */
void ta__capture_stop(void);
/* Watch handle p in slot i (< TA_MAX_WORKERS) so a stop breaks its loop; NULL unwatches. Only
 * the main thread calls this, while no reader of that slot runs. */
void ta__capture_watch(unsigned i, pcap_t *p);
/* SIGINT and SIGTERM ask for a stop from now on. */
void ta__capture_signals(void);
/* Check p's link type and install the filter (NULL = none). TA_OK, or TA_ERR_IO with a message
 * naming name in errbuf (TA_ERRBUF_SIZE). */
int ta__capture_prepare(pcap_t *p, const char *name, const char *filter, int *dlt, char *errbuf);

/* A packet source: the files of -r, or the live handles of -i. Every function gets the state
 * its open made. Return values: TA_OK, or TA_ERR_* with a message in errbuf (TA_ERRBUF_SIZE). */
struct ta__source_ops {
    const char *name;
    /* Allocate the state; open what must be open before the run begins (live handles, so that
     * privileges can be dropped after). Nothing stays open on failure. */
    int (*open)(const struct ta__capture_opts *o, void **state, char *errbuf);
    /* One engine per reader thread, all writing into sink. */
    int (*engines)(void *state, const struct ta_engine_sink *sink, char *errbuf);
    /* Called on the writer thread at each writer tick (periodic run-row counters), or NULL. */
    ta_writer_tick_fn tick;
    /* Read until the end of input, a stop or an error; every engine is flushed before it
     * returns. */
    int (*run)(void *state, char *errbuf);
    /* Add the source's counters (packets, drops, every engine's) into rs. After run. */
    void (*stats)(const void *state, struct ta_run_stats *rs);
    /* Close what is open and free the state. NULL is accepted. */
    void (*close)(void *state);
};

extern const struct ta__source_ops ta__source_file;   /* source_file.c */
extern const struct ta__source_ops ta__source_live;   /* source_live.c */
extern const struct ta__source_ops ta__source_file_mt; /* source_file_mt.c: -r with --workers */

#endif
