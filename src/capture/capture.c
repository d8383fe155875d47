/* capture.c - `tlsaudit capture`: options, the run (store, writer thread, run row, Office 365
 * classification), offline files read in order on the main thread, and the clean stop on
 * SIGINT/SIGTERM. Live capture (N handles, one worker thread each) is in capture_live.c.
 *
 * Threads: the engines never touch the store; their records go through the writer queue
 * (writer.h) to the one thread that owns the store while packets are read. The main thread has
 * the store before (run begin) and after (run end, classification). */
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture_int.h"
#include "tlsaudit/capture.h"
#include "tlsaudit/engine.h"
#include "tlsaudit/o365.h"
#include "tlsaudit/packet.h"
#include "tlsaudit/store.h"
#include "tlsaudit/writer.h"

#define TA_DISPATCH_BATCH 4096        /* packets per pcap_dispatch call (files) */
#define TA_FILE_BUFFER (1u << 20)     /* stdio buffer of a capture file */

/* Offline reading: one engine on the main thread. */
struct offline_run {
    struct ta_engine *engine;
    int dlt;
    uint64_t packets;
};

/* Lock-free atomics: safe in a signal handler and between threads. */
static atomic_int stop_requested;
static pcap_t *volatile watched[TA_MAX_WORKERS];

/* See capture_int.h. */
bool ta__capture_stopping(void)
{
    return atomic_load_explicit(&stop_requested, memory_order_relaxed) != 0;
}

/* See capture_int.h. pcap_breakloop sets a flag and (Linux) writes an eventfd: both
 * async-signal-safe, and it may be called from another thread than the one in the loop. */
void ta__capture_stop(void)
{
    atomic_store(&stop_requested, 1);
    for (unsigned i = 0; i < TA_MAX_WORKERS; i++) {
        pcap_t *p = watched[i];
        if (p)
            pcap_breakloop(p);
    }
}

/* See capture_int.h. */
void ta__capture_watch(unsigned i, pcap_t *p)
{
    if (i < TA_MAX_WORKERS)
        watched[i] = p;
}

static void on_signal(int sig)
{
    (void)sig;
    ta__capture_stop();
}

/* See capture_int.h. */
uint64_t ta__mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* See capture_int.h. */
uint64_t ta__wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct offline_run *r = (struct offline_run *)(void *)user;
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;

    r->packets++;
    ta_engine_packet(r->engine, r->dlt, ts, bytes, h->caplen, h->len);
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: tlsaudit capture --db FILE (-r FILE [-r FILE ...] | -i IFACE) [options]\n"
        "  --db FILE          SQLite database to write (created if absent)\n"
        "  -r FILE            read a pcap or pcapng file (repeatable, read in order)\n"
        "  -i IFACE           capture live on IFACE (promiscuous)\n"
        "  --workers N        live capture threads, 1 to %d (default 1): N capture handles in\n"
        "                     one PACKET_FANOUT group, flows spread by hash\n"
        "  -f BPF             capture filter (pcap-filter(7))\n"
        "  -s SNAPLEN         snapshot length for live capture (default 65535)\n"
        "  -B MiB             kernel capture buffer size for live capture, per worker (default 64)\n"
        "  -Z USER            after opening the interface and database, drop root to USER\n"
        "  --max-flows N      flow table cap (default 262144), shared evenly by the workers;\n"
        "                     the oldest flow is evicted beyond it\n"
        "  --max-analyzing N  flows whose handshake is read at once (default 4096, shared by\n"
        "                     the workers; beyond it the oldest analysis is settled early)\n"
        "  --idle-timeout S   TCP idle timeout in seconds (default 300)\n"
        "  --no-ndpi          do not classify flows with nDPI\n"
        "  --sensor NAME      this sensor's name in runs and the inventory (default the host name)\n"
        "  --retain-days N    keep handshake, mail and DNS rows N days (default 30, 0 = for ever);\n"
        "                     the inventory and daily rollups are kept for ever\n"
        "  --max-db-size SIZE keep the database file under SIZE (64M, 2G, ...): oldest rows go first\n"
        "  -v / -q            more / less logging\n", TA_MAX_WORKERS);
}

/* Check the options that depend on each other. Returns 0, or 2 on a usage error. */
static int check_opts(const struct ta__capture_opts *o)
{
    if (!o->db || (o->nfiles == 0) == (o->iface == NULL)) {
        fprintf(stderr, "tlsaudit capture: need --db and either -r FILE or -i IFACE\n");
        usage(stderr);
        return 2;
    }
    if (o->ecfg.max_flows < 16 || o->snaplen <= 0 || o->buffer_mib <= 0) {
        fprintf(stderr, "tlsaudit capture: --max-flows must be >= 16, -s and -B positive\n");
        return 2;
    }
    if (o->workers && o->nfiles) {
        fprintf(stderr, "tlsaudit capture: --workers is for live capture (-i); files are read "
                "by one thread\n");
        return 2;
    }
    if (o->workers < 0 || o->workers > TA_MAX_WORKERS) {
        fprintf(stderr, "tlsaudit capture: --workers must be 1 to %d\n", TA_MAX_WORKERS);
        return 2;
    }
    return 0;
}

/* Parse capture options. Returns 0, or 2 on a usage error (message printed). */
static int parse_opts(int argc, char **argv, struct ta__capture_opts *o)
{
    enum { O_DB = 256, O_MAXFLOWS, O_MAXAN, O_IDLE, O_NONDPI, O_WORKERS, O_HELP, O_SENSOR,
           O_RETAIN, O_MAXDB };
    static const struct option longs[] = {
        { "db", required_argument, NULL, O_DB },
        { "max-flows", required_argument, NULL, O_MAXFLOWS },
        { "max-analyzing", required_argument, NULL, O_MAXAN },
        { "idle-timeout", required_argument, NULL, O_IDLE },
        { "no-ndpi", no_argument, NULL, O_NONDPI },
        { "workers", required_argument, NULL, O_WORKERS },
        { "help", no_argument, NULL, O_HELP },
        { "sensor", required_argument, NULL, O_SENSOR },
        { "retain-days", required_argument, NULL, O_RETAIN },
        { "max-db-size", required_argument, NULL, O_MAXDB },
        { NULL, 0, NULL, 0 }
    };
    int ch;
    char *end;

    memset(o, 0, sizeof(*o));
    o->snaplen = 65535;
    o->buffer_mib = 64;
    o->retain_days = 30;
    ta_engine_config_default(&o->ecfg);
    optind = 1;
    while ((ch = getopt_long(argc, argv, "r:i:f:s:B:Z:vqh", longs, NULL)) != -1) {
        switch (ch) {
        case O_DB: o->db = optarg; break;
        case 'r':
            if (o->nfiles >= TA_MAX_FILES) {
                fprintf(stderr, "tlsaudit capture: at most %d files\n", TA_MAX_FILES);
                return 2;
            }
            o->files[o->nfiles++] = optarg;
            break;
        case 'i': o->iface = optarg; break;
        case 'f': o->filter = optarg; break;
        case 's': o->snaplen = atoi(optarg); break;
        case 'B': o->buffer_mib = atoi(optarg); break;
        case 'Z': o->user = optarg; break;
        case O_MAXFLOWS: o->ecfg.max_flows = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_MAXAN: o->ecfg.max_analyzing = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_IDLE: o->ecfg.idle_timeout_s = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_NONDPI: o->ecfg.ndpi = false; break;
        case O_WORKERS:
            o->workers = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end || o->workers < 1)
                o->workers = -1;               /* refused by check_opts, with the range */
            break;
        case O_SENSOR: o->sensor = optarg; break;
        case O_RETAIN:
            o->retain_days = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end || o->retain_days < 0 || o->retain_days > 100000) {
                fprintf(stderr, "tlsaudit capture: --retain-days needs a number of days\n");
                return 2;
            }
            break;
        case O_MAXDB:
            if (ta_store_parse_size(optarg, &o->max_db_bytes) != 0 || o->max_db_bytes < (1 << 20)) {
                fprintf(stderr, "tlsaudit capture: --max-db-size needs a size of at least 1M "
                        "(64M, 2G, ...)\n");
                return 2;
            }
            break;
        case 'v': ta_log_level++; break;
        case 'q': ta_log_level = TA_LOG_ERROR; break;
        case 'h': case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tlsaudit capture: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return check_opts(o);
}

/* See capture_int.h. */
int ta__capture_prepare(pcap_t *p, const char *name, const char *filter, int *dlt, char *errbuf)
{
    struct bpf_program prog;

    *dlt = pcap_datalink(p);
    if (!ta_decode_linktype_supported(*dlt)) {
        const char *n = pcap_datalink_val_to_name(*dlt);
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: unsupported link type %s (%d)", name,
                 n ? n : "unknown", *dlt);
        return -1;
    }
    if (!filter)
        return 0;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(p, &prog) < 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: filter '%s': %s", name, filter, pcap_geterr(p));
        return -1;
    }
    pcap_freecode(&prog);
    return 0;
}

/* Drop root to user: chown the database files first so the capture can keep writing them. */
static int drop_privileges(const char *user, const char *db, char *errbuf)
{
    struct passwd *pw = getpwnam(user);
    static const char *const suffix[] = { "", "-wal", "-shm" };

    if (!pw) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "-Z %s: no such user", user);
        return -1;
    }
    for (size_t i = 0; i < TA_ARRAY_LEN(suffix); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s%s", db, suffix[i]);
        if (chown(path, pw->pw_uid, pw->pw_gid) != 0 && errno != ENOENT) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "chown %.200s: %s", path, strerror(errno));
            return -1;
        }
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "-Z %s: cannot drop privileges: %s", user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "-Z %s: root could be regained; refusing to run", user);
        return -1;
    }
    return 0;
}

/* Read one file until EOF, error or stop. Returns 0, or -1 with a message (data lost). */
static int read_file(pcap_t *p, const char *name, struct offline_run *r, char *errbuf)
{
    int rc = 0;

    ta__capture_watch(0, p);
    while (!ta__capture_stopping()) {
        int n = pcap_dispatch(p, TA_DISPATCH_BATCH, on_packet, (u_char *)r);
        if (n == PCAP_ERROR) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s (stopped after %llu packets)", name,
                     pcap_geterr(p), (unsigned long long)r->packets);
            rc = -1;
            break;
        }
        if (n == PCAP_ERROR_BREAK || n == 0)
            break;
    }
    ta__capture_watch(0, NULL);
    return rc;
}

/* Join the sources into the run's description. */
static void describe_sources(const struct ta__capture_opts *o, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    if (o->iface) {
        snprintf(buf, len, "live:%s", o->iface);
        return;
    }
    for (int i = 0; i < o->nfiles && off < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "", o->files[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

/* Open a capture file with buf (TA_FILE_BUFFER bytes, or NULL) as its stdio buffer: libpcap
 * reads each record through fread, and with glibc's default 4 KiB buffer a 2 GB file costs half
 * a million read(2) calls. buf must outlive pcap_close. "-" is stdin. NULL with libpcap's (or
 * errno's) message in pe. */
static pcap_t *open_file(const char *path, char *buf, char *pe)
{
    FILE *f;
    pcap_t *p;

    if (strcmp(path, "-") == 0)
        return pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, pe);
    f = fopen(path, "rb");
    if (!f) {
        snprintf(pe, PCAP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (buf)
        (void)setvbuf(f, buf, _IOFBF, TA_FILE_BUFFER);
    p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, pe);
    if (!p)
        fclose(f);
    return p;
}

/* Read every file in order into the engine, then settle its flows. Returns 0, or -1 with
 * errbuf set when a file failed. */
static int read_files(const struct ta__capture_opts *o, struct offline_run *r, char *errbuf)
{
    int rc = 0;
    char *buf = malloc(TA_FILE_BUFFER);   /* one for all files; without it, stdio's default */

    for (int i = 0; i < o->nfiles && !ta__capture_stopping() && rc == 0; i++) {
        char pe[PCAP_ERRBUF_SIZE] = "";
        pcap_t *p = open_file(o->files[i], buf, pe);
        if (!p) {
            /* libpcap's message usually names the file already; make sure it does. */
            if (strstr(pe, o->files[i]))
                snprintf(errbuf, TA_ERRBUF_SIZE, "%s", pe);
            else
                snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", o->files[i], pe);
            rc = -1;
            break;
        }
        rc = ta__capture_prepare(p, o->files[i], o->filter, &r->dlt, errbuf);
        if (rc == 0)
            rc = read_file(p, o->files[i], r, errbuf);
        pcap_close(p);
    }
    free(buf);
    ta_engine_flush(r->engine);
    return rc;
}

/* Everything one capture holds, so that setup and teardown are one function each. */
struct capture {
    struct ta__capture_opts o;
    struct ta_store *store;
    struct ta_writer *writer;
    struct ta__live *live;            /* -i */
    struct offline_run off;           /* -r */
    int64_t run_id;
};

/* Open the sources, the store and the engines, begin the run, drop privileges, start the writer.
 * Returns 0, or the exit status (1) after printing why; c is then released by capture_free. */
static int capture_setup(struct capture *c, char *errbuf)
{
    struct ta_engine_sink sink;
    char src[1024];
    const struct ta__capture_opts *o = &c->o;

    if (o->iface && ta__live_open(o, &c->live, errbuf) < 0)
        goto fail;
    if (ta_store_open(o->db, &c->store, errbuf) != TA_OK)
        goto fail;
    ta_store_o365_at_insert(c->store, true);   /* capture_end classifies only when needed */
    if (o->sensor)
        ta_store_set_sensor(c->store, o->sensor);
    ta_store_set_retention(c->store, o->retain_days, o->max_db_bytes);
    if (ta_writer_new(0, &c->writer, errbuf) != TA_OK)
        goto fail;
    ta_writer_sink(c->writer, &sink);
    if (c->live ? ta__live_engines(c->live, &sink, errbuf) < 0
                : !(c->off.engine = ta_engine_new(&o->ecfg, &sink, errbuf)))
        goto fail;
    describe_sources(o, src, sizeof(src));
    if (ta_store_run_begin(c->store, src, o->filter, &c->run_id) != TA_OK ||
        (o->user && drop_privileges(o->user, o->db, errbuf) < 0) ||
        ta_writer_start(c->writer, c->store, c->live ? ta__live_tick : NULL, c->live, errbuf) != TA_OK)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "tlsaudit capture: %s\n", errbuf[0] ? errbuf : "cannot start the run");
    return 1;
}

/* Release what capture_setup opened (any part may be missing). */
static void capture_free(struct capture *c)
{
    ta_writer_finish(c->writer, NULL);
    ta__live_close(c->live);
    ta_engine_free(c->off.engine);
    ta_store_close(c->store);
}

/* After reading: drain the writer, decide the status, end the run row, classify the run's rows
 * for Office 365 when the verdicts written with the rows cannot stand (see
 * ta_store_run_needs_classify). status: 0, or 1 with errbuf saying why (a source failed).
 * Returns the exit status. */
static int capture_end(struct capture *c, int status, char *errbuf)
{
    struct ta_run_stats rs = { 0 };
    struct ta_writer_counts wc;

    ta_writer_finish(c->writer, &wc);
    c->writer = NULL;
    if (wc.store_errors) {
        if (status == 0)
            snprintf(errbuf, TA_ERRBUF_SIZE, "%llu records could not be stored",
                     (unsigned long long)wc.store_errors);
        fprintf(stderr, "tlsaudit capture: %llu records could not be stored\n",
                (unsigned long long)wc.store_errors);
        status = 1;
    }
    if (wc.dns_cut)
        TA_LOG(TA_LOG_WARN, "%llu DNS messages over %d bytes were not read",
               (unsigned long long)wc.dns_cut, TA_WRITER_DNS_MAX);
    if (c->live) {
        ta__live_stats(c->live, &rs);
    } else {
        rs.packets += c->off.packets;
        ta_engine_stats(c->off.engine, &rs);
    }
    if (ta_store_run_end(c->store, &rs, status == 0, status ? errbuf : NULL) != TA_OK) {
        uint64_t lost = ta_store_rows_unsaved(c->store);
        if (lost)
            fprintf(stderr, "tlsaudit capture: %llu rows (records, DNS answers) could not be "
                    "committed to the database\n", (unsigned long long)lost);
        status = 1;
    }
    if (ta_store_run_needs_classify(c->store) &&
        (ta_o365_classify_run(ta_store_db(c->store), c->run_id, errbuf) != TA_OK ||
         ta_store_refresh(ta_store_db(c->store), errbuf) != TA_OK)) {
        fprintf(stderr, "tlsaudit capture: Office 365 classification: %s\n", errbuf);
        status = 1;
    }
    TA_LOG(TA_LOG_INFO, "%llu packets, %llu flows, %llu handshakes, %llu evicted",
           (unsigned long long)rs.packets, (unsigned long long)rs.flows,
           (unsigned long long)rs.handshakes, (unsigned long long)rs.flows_evicted);
    return status;
}

int ta_cmd_capture(int argc, char **argv)
{
    struct capture c;
    struct sigaction sa;
    char errbuf[TA_ERRBUF_SIZE] = "";
    int rc, status = 0;

    memset(&c, 0, sizeof(c));
    rc = parse_opts(argc, argv, &c.o);
    if (rc)
        return rc;
    /* An unknown -Z user is a usage error found before anything is opened or created. */
    if (c.o.user && !getpwnam(c.o.user)) {
        fprintf(stderr, "tlsaudit capture: -Z %s: no such user\n", c.o.user);
        return 2;
    }
    if (capture_setup(&c, errbuf) != 0) {
        capture_free(&c);
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    rc = c.live ? ta__live_run(c.live, errbuf) : read_files(&c.o, &c.off, errbuf);
    if (rc < 0) {
        fprintf(stderr, "tlsaudit capture: %s\n", errbuf);
        status = 1;
    }
    status = capture_end(&c, status, errbuf);
    capture_free(&c);
    return status;
}
