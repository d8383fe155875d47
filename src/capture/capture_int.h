/* capture_int.h - private to the capture layer: the options of `tlsaudit capture` (options.c),
 * run control shared by every reader (run_control.c: the stop flag, signals, handle checks), and
 * the packet sources behind one ops table (source_file.c, source_live.c), as libpcap keeps its
 * file and live backends behind read_op_t. capture.c runs a capture without asking which source
 * it has. */
#ifndef TA_CAPTURE_INT_H
#define TA_CAPTURE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pcap/pcap.h>
#include <sqlite3.h>

#include "tlsaudit/capture.h"
#include "tlsaudit/common.h"
#include "tlsaudit/engine.h"
#include "tlsaudit/store.h"
#include "tlsaudit/writer.h"

#define TA_MAX_WORKERS 16
_Static_assert(TA_MAX_WORKERS <= TA_STORE_WORKERS_MAX, "the run row holds every worker");
#define TA_STATS_INTERVAL_S 5         /* run row update (counters, drops) during a run */
#define TA_SNAP_INTERVAL_US 1000000u  /* how often a reading thread publishes its counters */
#define TA_CONFIG_MAX_KEYS 128        /* long options the table may have (config.c) */
#define TA_HEARTBEAT_S 5              /* run-row heartbeat period (service.c); status: 6x = dead */
#define TA_HB_SAMPLES 16              /* heartbeats kept for the last minute's rates */
#define TA_FILTER_MAX 4096            /* longest BPF filter a SIGHUP can install */

struct option;

/* A config file read (config.c): its lines as "--key=value" arguments, and each entry with
 * its line for messages and for comparing two readings (SIGHUP). */
struct ta__config_entry {
    int key;                          /* index in the long options table */
    char *value;                      /* NULL for a flag that is on */
    int line;
};
struct ta__config {
    char *path;
    struct ta__config_entry *e;
    int n;
    char **argv;                      /* argc "--key[=value]" strings, owned */
    int argc;
};

struct ta__capture_opts {
    const char *db;
    const char **files;               /* -r FILE and the file arguments, in order (owned) */
    int nfiles;
    const char *iface;
    const char *filter;
    const char *user;
    int snaplen;
    int buffer_mib;
    int workers;                      /* live capture or file engine threads (1..TA_MAX_WORKERS); 0 = not given */
    const char *sensor;               /* --sensor, NULL = the host name (store default) */
    int retain_days;                  /* --retain-days; -1 = not given (30 live, 0 files) */
    int64_t max_db_bytes;             /* --max-db-size, 0 = no cap */
    const char *sync_to;              /* --sync-to CONNINFO, NULL = no sync of our own */
    double sync_interval_s;           /* --sync-interval, 0 = not given (60) */
    struct ta_engine_config ecfg;     /* totals; live workers share them (see source_live.c) */
    int log_level;                    /* -v, -q, --log-level: applied by the caller */
    bool quiet;                       /* -q: no progress, no summary line */
    const char *config;               /* --config FILE, or NULL */
    struct ta__config cfg;            /* what it held (the option strings point into it) */
    char **argv_all;                  /* argv[0], the file's arguments, the command line's */
    bool cmdline_keys[TA_CONFIG_MAX_KEYS]; /* options given on the command line (they win) */
    int cmd_argc;                     /* the command line, for SIGHUP's new reading */
    char **cmd_argv;
    struct ta__filter_box *filters;   /* the filter in force, replaced by SIGHUP (service.c) */
};

/* The capture's own sync (companion.c): the hook of capture.h in a thread beside the run. */
struct ta__companion {
    const struct ta_capture_hooks *hooks;
    pthread_t th;
    bool started;
    const char *db, *to;
    double interval_s;
    atomic_int stop, final;
};
/* Start the sync thread when o has --sync-to (else nothing). TA_OK, or TA_ERR_* with errbuf. */
int ta__companion_start(struct ta__companion *m, const struct ta_capture_hooks *hooks,
                        const struct ta__capture_opts *o, char *errbuf);
/* Stop it and wait for it; final: push once more what the run wrote last. */
void ta__companion_stop(struct ta__companion *m, bool final);

/* Parse `tlsaudit capture` arguments into o (options.c): the --config file's lines first,
 * then the command line, through one getopt table. Returns 0, or 2 on a usage error (message
 * printed, naming file and line for a bad config line); --help prints the usage and exits 0.
 * o holds allocations afterwards, whatever the result: ta__capture_opts_free. */
int ta__capture_parse(int argc, char **argv, struct ta__capture_opts *o);
void ta__capture_opts_free(struct ta__capture_opts *o);
/* Parse o's command line again, after the config reading cfg instead of o's, into out (for
 * SIGHUP; errors are printed). 0 or 2. out is to be freed with ta__capture_opts_free; it does
 * not own cfg. */
int ta__capture_reparse(const struct ta__capture_opts *o, const struct ta__config *cfg,
                        struct ta__capture_opts *out);
/* The long options table of `tlsaudit capture` (NULL-terminated). */
const struct option *ta__capture_longopts(void);

/* Config files (config.c). Read path: `key = value` lines, '#' comment lines, blank lines;
 * key is any long option of longs but config and help; a flag takes yes/no (true/false, on/off,
 * 1/0). TA_OK, or TA_ERR_ARG / TA_ERR_IO with "FILE:LINE: why" in errbuf. cfg is to be freed
 * with ta__config_free in every case. */
int ta__config_read(const char *path, const struct option *longs, struct ta__config *cfg,
                    char *errbuf);
void ta__config_free(struct ta__config *cfg);
/* Mark in given[] the long options present in a command line (either spelling). */
void ta__config_given(int argc, char **argv, const struct option *longs,
                      bool given[TA_CONFIG_MAX_KEYS]);
/* Mark in changed[] the options whose values differ between two readings, except those the
 * command line gives (they win over both). Returns how many. */
int ta__config_diff(const struct ta__config *a, const struct ta__config *b,
                    const bool given[TA_CONFIG_MAX_KEYS], bool changed[TA_CONFIG_MAX_KEYS]);

/* A reading thread's counters, published for the writer's tick (stats_snap.c): every source
 * keeps one per thread that reads or analyses packets, and its tick merges them into the run
 * row every TA_STATS_INTERVAL_S, so `tlsaudit status` sees a run progress. */
struct ta__snap {
    pthread_mutex_t mu;
    struct ta_run_stats rs;           /* under mu */
    uint64_t next_us;                 /* the publishing thread's own: when the next one is due */
};
void ta__snap_init(struct ta__snap *s);
void ta__snap_destroy(struct ta__snap *s);
/* Whether the publishing thread's next publication is due at now (monotonic microseconds). */
bool ta__snap_due(const struct ta__snap *s, uint64_t now);
/* Publish rs (the publishing thread); the next one is due TA_SNAP_INTERVAL_US after now. */
void ta__snap_put(struct ta__snap *s, const struct ta_run_stats *rs, uint64_t now);
/* The latest published counters (any thread). */
void ta__snap_get(struct ta__snap *s, struct ta_run_stats *out);
/* The writer tick's gate: true once every TA_STATS_INTERVAL_S (the first TA_STATS_INTERVAL_S
 * after the first call), *next being the tick's own. */
bool ta__snap_update_due(uint64_t *next, uint64_t now_us);

/* Run control (run_control.c). */
/* True once a stop was asked (signal, error in another reader). */
bool ta__capture_stopping(void);
/* Ask every reader to stop: set the flag, pcap_breakloop every watched handle. Async-signal-safe
 * (no lock); for the signal handler and the main thread, the one that unwatches and closes a
 * handle (another thread asks with ta__capture_wake's lock: see run_control.c). */
void ta__capture_stop(void);
/* Break every watched handle's read without asking for a stop: a reader whose read ends with
 * PCAP_ERROR_BREAK while no stop was asked goes on reading (SIGHUP wakes the readers so that an
 * idle one installs a new filter at once). Any thread. */
void ta__capture_wake(void);
/* How many wakes so far: a reader without a libpcap handle (a pcapng file, rfile.c) ends its
 * read after the packet at hand when this moved, as a broken handle does. Any thread. */
unsigned ta__capture_wakes(void);
/* Watch handle p in slot i (< TA_MAX_WORKERS) so a stop breaks its loop; NULL unwatches, after
 * which no wake uses the old handle and it may be closed. Only the main thread calls this,
 * while no reader of that slot runs. */
void ta__capture_watch(unsigned i, pcap_t *p);
/* Start a thread of the capture (writer, reader, worker, sync) with SIGINT and SIGTERM blocked
 * in it, so the handler always runs on the main thread (run_control.c says why). Returns
 * pthread_create's result: 0, or an errno value. */
int ta__capture_thread(pthread_t *th, void *(*fn)(void *), void *arg);
/* SIGINT and SIGTERM ask for a stop from now on; SIGHUP asks for a reload (service.c). */
void ta__capture_signals(void);
/* True once per SIGHUP received since the last call. Any thread. */
bool ta__capture_reload_take(void);
/* Join p's packet socket to PACKET_FANOUT group id, which spreads packets by their pair of IP
 * addresses (fanout.c); set_prog: give the group its program (the first member). TA_OK, or
 * TA_ERR_IO with a message naming iface in errbuf (TA_ERRBUF_SIZE). */
int ta__fanout_join(pcap_t *p, const char *iface, uint16_t id, bool set_prog, char *errbuf);
/* Check p's link type and install the filter (NULL = none). TA_OK, or TA_ERR_IO with a message
 * naming name in errbuf (TA_ERRBUF_SIZE). */
int ta__capture_prepare(pcap_t *p, const char *name, const char *filter, int *dlt, char *errbuf);

#define TA_FILE_BUFFER (1u << 20)     /* stdio buffer of a capture file */
/* gz_file.c: does path begin with the gzip magic; and path opened as a stream of its
 * decompressed bytes (NULL with a message in pe, PCAP_ERRBUF_SIZE). */
bool ta__gz_is(const char *path);
FILE *ta__gz_fopen(const char *path, char *pe);

/* One capture file of -r being read (rfile.c): a pcap file through libpcap, a pcapng file
 * through pcapng.c, whose packets each carry their interface's link type (libpcap 1.10 reads
 * one per file). The filter is compiled once per link type a pcapng file has. */
#define TA__RFILE_PROGS 8             /* link types with a program in one file */
struct ta__rfile_prog {
    int dlt;
    struct bpf_program bpf;
};
struct ta__ng_reader;
struct ta__rfile {
    pcap_t *p;                        /* a pcap file, or NULL */
    struct ta__ng_reader *ng;         /* a pcapng file, or NULL */
    FILE *f;                          /* what either reads (progress) */
    int dlt;                          /* a pcap file's link type; a pcapng's last packet's */
    char filter[TA_FILTER_MAX];       /* pcapng: the filter in force, "" = none */
    struct ta__rfile_prog prog[TA__RFILE_PROGS], *last;
    unsigned nprog;
    int warned[TA__RFILE_PROGS];      /* link types said to be not decoded */
    unsigned nwarned;
};
/* A packet of a file and its link type. */
typedef void (*ta__rfile_fn)(void *user, int dlt, const struct pcap_pkthdr *h,
                             const uint8_t *bytes);
/* Open path ("-" is stdin) with buf (TA_FILE_BUFFER bytes, or NULL) as its stdio buffer; buf
 * must outlive ta__rfile_close. TA_OK, or TA_ERR_* with a message naming the file in errbuf. */
int ta__rfile_open(struct ta__rfile *rf, const char *path, char *buf, char *errbuf);
/* Check a pcap file's link type; install the filter (NULL = none; on a pcapng file it must
 * compile for Ethernet now, and for each other link type at its first packet). */
int ta__rfile_prepare(struct ta__rfile *rf, const char *name, const char *filter, char *errbuf);
/* Up to max packets that pass the filter to fn, as pcap_dispatch: how many, 0 at the end,
 * PCAP_ERROR with the reason in errbuf (what came before stands), PCAP_ERROR_BREAK. */
int ta__rfile_dispatch(struct ta__rfile *rf, int max, ta__rfile_fn fn, void *user,
                       const char *name, char *errbuf);
/* ta__filter_follow for a file. */
void ta__rfile_follow(struct ta__filter_box *fb, struct ta__rfile *rf, const char *name,
                      unsigned *seen);
/* Packets the tool that recorded the file says it dropped: the Interface Statistics of a
 * pcapng file (pcapng.h); 0 for a pcap file, which has no place for them. */
uint64_t ta__rfile_drops(const struct ta__rfile *rf);
/* "name: why (stopped after N packets)" into errbuf (TA_ERRBUF_SIZE). */
void ta__rfile_read_error(const char *why, const char *name, uint64_t packets, char *errbuf);
void ta__rfile_close(struct ta__rfile *rf);
/* One reader thread's share of a total, never below floor (0 stays 0: "the default"): how the
 * live workers and the file engine threads split --max-flows and --max-analyzing. */
uint32_t ta__capture_share(uint32_t total, unsigned n, uint32_t floor);

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
    /* With several workers reading one link: each one's packets and kernel drops into
     * w[0..max), and how many there are; 0 for one reader (the run's counters say it all).
     * After run. NULL for sources that never have several. */
    unsigned (*workers)(const void *state, struct ta_worker_count *w, unsigned max);
    /* Close what is open and free the state. NULL is accepted. */
    void (*close)(void *state);
};

extern const struct ta__source_ops ta__source_file;   /* source_file.c */

/* The filter in force, as SIGHUP replaces it: text under mu, gen bumped after each change. */
struct ta__filter_box {
    pthread_mutex_t mu;
    atomic_uint gen;
    char text[TA_FILTER_MAX];         /* "" = every packet */
};
/* Called by a reader between two reads of p: when the filter changed since *seen, install it
 * (an error is logged and the previous filter stays). fb may be NULL. */
void ta__filter_follow(struct ta__filter_box *fb, pcap_t *p, const char *name, unsigned *seen);
/* The filter's text into text when it changed since *seen (then *seen moves); false when it did
 * not (or fb is NULL). What ta__filter_follow and ta__rfile_follow install. */
bool ta__filter_take(struct ta__filter_box *fb, unsigned *seen, char text[TA_FILTER_MAX]);

/* Progress of `capture -r` on a terminal (progress.c): bytes read of the total, rate, ETA and
 * handshakes so far on one stderr line, redrawn at most TA_PROGRESS_HZ times a second, from the
 * first half second on (a small input never shows it). Off with -q or when stderr is not a
 * terminal. */
#define TA_PROGRESS_HZ 4
struct ta__progress {
    bool on, shown;
    bool every;                       /* TA_TEST_PROGRESS_EVERY=1: redraw at every call, not a
                                       * few times a second (tests: a count that needs no clock) */
    uint64_t total;                   /* bytes of the -r files (0: unknown, e.g. stdin) */
    uint64_t before;                  /* bytes of the files already read */
    uint64_t start_us, next_us;
};
void ta__progress_start(struct ta__progress *pg, const struct ta__capture_opts *o);
void ta__progress_show(struct ta__progress *pg, FILE *f, uint64_t now_us, uint64_t handshakes);
void ta__progress_file_done(struct ta__progress *pg, FILE *f);
void ta__progress_end(struct ta__progress *pg);
/* The line every capture ends with unless -q (progress.c): packets, flows, handshakes, legacy
 * clients toward Office 365 in this run and the command that lists them. */
void ta__capture_summary(sqlite3 *db, int64_t run_id, const struct ta_run_stats *rs,
                         const char *dbpath);
/* The warning a capture ends with when it missed traffic (progress.c): packets dropped by the
 * kernel or the interface, flows not analysed or evicted, packets the snap length cut short -
 * what the report's banner says. Nothing when it missed none; a warning, so -q silences it. */
void ta__capture_warn_incomplete(const struct ta_run_stats *rs);

/* The service side of a capture (service.c, reload.c): heartbeat, last error, SIGHUP. */
struct ta__hb_sample {
    uint64_t t_us, records, drops;
};
struct ta__service {
    struct ta__capture_opts *o;
    const struct ta__config *cur;     /* the config reading in force: o->cfg or owned */
    struct ta__config owned;
    struct ta__filter_box filter;
    ta_writer_tick_fn src_tick;       /* the source's own tick, called first */
    void *src_arg;
    int64_t run_id;
    sqlite3_stmt *sel, *upd;          /* writer thread; finalized by ta__service_end */
    uint64_t next_hb_us;
    struct ta__hb_sample ring[TA_HB_SAMPLES];
    unsigned nring, ring_next;
    pthread_mutex_t err_mu;
    char last_error[512];             /* under err_mu */
    unsigned reloads;
    char reloaded[40];
};
/* Set up s for o (o->filters points into s; error lines are kept from now on). TA_OK. */
int ta__service_init(struct ta__service *s, struct ta__capture_opts *o);
/* The run row was written: add pid, host, config and the first heartbeat (main thread). */
int ta__service_run_begun(struct ta__service *s, struct ta_store *st, int64_t run_id);
/* The writer tick (ta_writer_tick_fn, arg = s): the source's tick, a pending SIGHUP, the
 * heartbeat every TA_HEARTBEAT_S. */
void ta__service_tick(void *arg, struct ta_store *st, uint64_t now_us);
/* SIGHUP, on the writer thread (reload.c): re-read the config and apply what can change, name
 * what cannot, reload the endpoint list of the insert-time verdicts. */
void ta__service_reload(struct ta__service *s, struct ta_store *st);
/* After the writer thread ended, with the store back on the calling thread: a last heartbeat
 * (st may be NULL: none), then the statements are finalized (the store is closed after). */
void ta__service_end(struct ta__service *s, struct ta_store *st);
void ta__service_free(struct ta__service *s);
/* "2026-01-31T23:59:59Z" of a wall time in microseconds. */
void ta__service_iso(uint64_t wall_us, char *buf, size_t cap);
extern const struct ta__source_ops ta__source_live;   /* source_live.c */
extern const struct ta__source_ops ta__source_file_mt; /* source_file_mt.c: -r with --workers */

/* The time of a libpcap record header, in microseconds since the epoch, for every source. A
 * classic pcap file stores unsigned 32-bit seconds (dates to 2106) and libpcap reads them as
 * signed: a negative value is a date past January 2038, taken as the unsigned field it is (as
 * Wireshark does), and so are microseconds outside 0..999,999 (a corrupt header). A date past
 * 9999-12-31 (a pcapng file can hold one) is held there: every stored time prints with a
 * four-digit year and fits the database's signed microseconds. */
#define TA__PCAP_TS_MAX_US 253402300799999999ULL   /* 9999-12-31T23:59:59.999999Z */
static inline uint64_t ta__pcap_ts_us(const struct timeval *tv)
{
    uint64_t s = tv->tv_sec < 0 ? (uint32_t)tv->tv_sec : (uint64_t)tv->tv_sec;
    uint64_t u = tv->tv_usec < 0 ? (uint32_t)tv->tv_usec : (uint64_t)tv->tv_usec;
    if (s > TA__PCAP_TS_MAX_US / 1000000u)
        return TA__PCAP_TS_MAX_US;
    uint64_t t = s * 1000000u + u;
    return t > TA__PCAP_TS_MAX_US ? TA__PCAP_TS_MAX_US : t;
}

#endif
