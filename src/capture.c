/* capture.c - `tlsaudit capture`: libpcap sources (files in order, or a live interface) into the
 * engine, records into the store, run bookkeeping, clean stop on SIGINT/SIGTERM.
 *
 * libpcap's create -> set options -> activate sequence is followed for live capture; warnings
 * (positive codes) from pcap_activate are reported and capture goes on. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "tlsaudit/capture.h"
#include "tlsaudit/dns.h"
#include "tlsaudit/engine.h"
#include "tlsaudit/o365.h"
#include "tlsaudit/packet.h"
#include "tlsaudit/store.h"

#define TA_MAX_FILES 256
#define TA_DISPATCH_BATCH 4096        /* packets per pcap_dispatch call */
#define TA_STATS_INTERVAL_S 60        /* run row update (drop counts) during long live runs */

struct capture_opts {
    const char *db;
    const char *files[TA_MAX_FILES];
    int nfiles;
    const char *iface;
    const char *filter;
    const char *user;
    int snaplen;
    int buffer_mib;
    struct ta_engine_config ecfg;
};

struct capture_run {
    struct ta_store *store;
    struct ta_engine *engine;
    int dlt;
    uint64_t packets;
    uint64_t store_errors;     /* records the store refused (disk full, read-only ...) */
    uint64_t caplen_bytes;
};

static volatile sig_atomic_t stop_requested;
static pcap_t *volatile current_pcap;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (current_pcap)
        pcap_breakloop(current_pcap);
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Engine sink adapters: records and DNS answers go to the store. */
static void sink_record(void *arg, const struct ta_hs *hs)
{
    struct capture_run *r = arg;
    int rc = ta_store_add(r->store, hs);
    /* One message, not one per record: a full disk would otherwise flood the terminal. */
    if (rc != TA_OK && r->store_errors++ == 0)
        TA_LOG(TA_LOG_ERROR, "cannot store a record: %s (further failures counted)", ta_strerror(rc));
}

static void sink_dns(void *arg, uint64_t ts_us, const uint8_t *msg, size_t len)
{
    struct capture_run *r = arg;
    (void)ta_dns_feed_store(r->store, ts_us, msg, len);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct capture_run *r = (struct capture_run *)user;
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
        "  -f BPF             capture filter (pcap-filter(7))\n"
        "  -s SNAPLEN         snapshot length for live capture (default 65535)\n"
        "  -B MiB             kernel capture buffer size for live capture (default 64)\n"
        "  -Z USER            after opening the interface and database, drop root to USER\n"
        "  --max-flows N      flow table cap (default 262144); the oldest flow is evicted beyond it\n"
        "  --max-analyzing N  flows whose handshake is read at once (default 4096;\n"
        "                     beyond it the oldest analysis is settled early)\n"
        "  --idle-timeout S   TCP idle timeout in seconds (default 300)\n"
        "  --no-ndpi          do not classify flows with nDPI\n"
        "  -v / -q            more / less logging\n");
}

/* Parse capture options. Returns 0, or 2 on a usage error (message printed). */
static int parse_opts(int argc, char **argv, struct capture_opts *o)
{
    enum { O_DB = 256, O_MAXFLOWS, O_MAXAN, O_IDLE, O_NONDPI, O_HELP };
    static const struct option longs[] = {
        { "db", required_argument, NULL, O_DB },
        { "max-flows", required_argument, NULL, O_MAXFLOWS },
        { "max-analyzing", required_argument, NULL, O_MAXAN },
        { "idle-timeout", required_argument, NULL, O_IDLE },
        { "no-ndpi", no_argument, NULL, O_NONDPI },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 }
    };
    int ch;

    memset(o, 0, sizeof(*o));
    o->snaplen = 65535;
    o->buffer_mib = 64;
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
    if (!o->db || (o->nfiles == 0) == (o->iface == NULL)) {
        fprintf(stderr, "tlsaudit capture: need --db and either -r FILE or -i IFACE\n");
        usage(stderr);
        return 2;
    }
    if (o->ecfg.max_flows < 16 || o->snaplen <= 0 || o->buffer_mib <= 0) {
        fprintf(stderr, "tlsaudit capture: --max-flows must be >= 16, -s and -B positive\n");
        return 2;
    }
    return 0;
}

/* Open a live interface: create, set options, activate. NULL with a message on failure. */
static pcap_t *open_live(const struct capture_opts *o, char *errbuf)
{
    char pe[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(o->iface, pe);
    int rc;

    if (!p) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", o->iface, pe);
        return NULL;
    }
    pcap_set_snaplen(p, o->snaplen);
    pcap_set_promisc(p, 1);
    pcap_set_timeout(p, 250);
    pcap_set_buffer_size(p, o->buffer_mib * 1024 * 1024);
    rc = pcap_activate(p);
    if (rc < 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", o->iface, pcap_geterr(p));
        pcap_close(p);
        return NULL;
    }
    if (rc > 0)
        TA_LOG(TA_LOG_WARN, "%s: %s", o->iface, pcap_geterr(p));
    return p;
}

/* Check the link type and install the filter. 0, or -1 with a message. */
static int prepare_handle(pcap_t *p, const char *name, const char *filter, int *dlt, char *errbuf)
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

/* Read one handle until EOF, error or stop. Returns 0, or -1 with a message (data lost). */
static int run_handle(pcap_t *p, const char *name, bool live, struct capture_run *r,
                      struct ta_run_stats *rs, char *errbuf)
{
    uint64_t next_stats = mono_us() + TA_STATS_INTERVAL_S * 1000000ull;

    current_pcap = p;
    while (!stop_requested) {
        int n = pcap_dispatch(p, live ? -1 : TA_DISPATCH_BATCH, on_packet, (u_char *)r);
        uint64_t now = mono_us();
        if (n == PCAP_ERROR) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s (stopped after %llu packets)", name,
                     pcap_geterr(p), (unsigned long long)r->packets);
            current_pcap = NULL;
            return -1;
        }
        if (n == PCAP_ERROR_BREAK || (n == 0 && !live))
            break;
        ta_store_maybe_commit(r->store, now);
        if (live) {
            ta_engine_expire(r->engine, wall_us());
            if (now >= next_stats) {
                struct pcap_stat ps;
                struct ta_run_stats cur = *rs;
                next_stats = now + TA_STATS_INTERVAL_S * 1000000ull;
                cur.packets += r->packets;
                if (pcap_stats(p, &ps) == 0) {
                    cur.drops += ps.ps_drop;
                    cur.if_drops += ps.ps_ifdrop;
                }
                ta_engine_stats(r->engine, &cur);
                ta_store_run_update(r->store, &cur);
            }
        }
    }
    current_pcap = NULL;
    if (live) {
        struct pcap_stat ps;
        if (pcap_stats(p, &ps) == 0) {
            rs->drops += ps.ps_drop;
            rs->if_drops += ps.ps_ifdrop;
        }
    }
    return 0;
}

/* Join the sources into the run's description. */
static void describe_sources(const struct capture_opts *o, char *buf, size_t len)
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

/* Read every source into the engine. Returns 0, or -1 with errbuf set when a source failed. */
static int read_sources(const struct capture_opts *o, pcap_t *live, struct capture_run *r,
                        struct ta_run_stats *rs, char *errbuf)
{
    if (live) {
        if (prepare_handle(live, o->iface, o->filter, &r->dlt, errbuf) < 0)
            return -1;
        return run_handle(live, o->iface, true, r, rs, errbuf);
    }
    for (int i = 0; i < o->nfiles && !stop_requested; i++) {
        char pe[PCAP_ERRBUF_SIZE] = "";
        pcap_t *p = pcap_open_offline_with_tstamp_precision(o->files[i], PCAP_TSTAMP_PRECISION_MICRO, pe);
        int rc;
        if (!p) {
            /* libpcap's message usually names the file already; make sure it does. */
            if (strstr(pe, o->files[i]))
                snprintf(errbuf, TA_ERRBUF_SIZE, "%s", pe);
            else
                snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", o->files[i], pe);
            return -1;
        }
        rc = prepare_handle(p, o->files[i], o->filter, &r->dlt, errbuf);
        if (rc == 0)
            rc = run_handle(p, o->files[i], false, r, rs, errbuf);
        pcap_close(p);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int ta_cmd_capture(int argc, char **argv)
{
    struct capture_opts o;
    struct capture_run r = { 0 };
    struct ta_run_stats rs = { 0 };
    struct ta_engine_sink sink = { sink_record, sink_dns, &r };
    struct sigaction sa;
    char errbuf[TA_ERRBUF_SIZE] = "", src[1024];
    pcap_t *live = NULL;
    int64_t run_id = 0;
    int rc, status = 0;

    rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    /* An unknown -Z user is a usage error found before anything is opened or created. */
    if (o.user && !getpwnam(o.user)) {
        fprintf(stderr, "tlsaudit capture: -Z %s: no such user\n", o.user);
        return 2;
    }
    if (o.iface && !(live = open_live(&o, errbuf))) {
        fprintf(stderr, "tlsaudit capture: %s\n", errbuf);
        return 1;
    }
    if (ta_store_open(o.db, &r.store, errbuf) != TA_OK) {
        fprintf(stderr, "tlsaudit capture: %s\n", errbuf);
        if (live)
            pcap_close(live);
        return 1;
    }
    describe_sources(&o, src, sizeof(src));
    r.engine = ta_engine_new(&o.ecfg, &sink, errbuf);
    if (!r.engine || ta_store_run_begin(r.store, src, o.filter, &run_id) != TA_OK ||
        (o.user && drop_privileges(o.user, o.db, errbuf) < 0)) {
        fprintf(stderr, "tlsaudit capture: %s\n", errbuf[0] ? errbuf : "cannot start the run");
        ta_engine_free(r.engine);
        ta_store_close(r.store);
        if (live)
            pcap_close(live);
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (read_sources(&o, live, &r, &rs, errbuf) < 0) {
        fprintf(stderr, "tlsaudit capture: %s\n", errbuf);
        status = 1;
    }
    if (live)
        pcap_close(live);
    ta_engine_flush(r.engine);
    if (r.store_errors) {
        if (status == 0)
            snprintf(errbuf, sizeof(errbuf), "%llu records could not be stored",
                     (unsigned long long)r.store_errors);
        fprintf(stderr, "tlsaudit capture: %llu records could not be stored\n",
                (unsigned long long)r.store_errors);
        status = 1;
    }
    rs.packets += r.packets;
    ta_engine_stats(r.engine, &rs);
    if (ta_store_run_end(r.store, &rs, status == 0, status ? errbuf : NULL) != TA_OK)
        status = 1;
    if (ta_o365_classify_run(ta_store_db(r.store), run_id, errbuf) != TA_OK) {
        fprintf(stderr, "tlsaudit capture: Office 365 classification: %s\n", errbuf);
        status = 1;
    }
    TA_LOG(TA_LOG_INFO, "%llu packets, %llu flows, %llu handshakes, %llu evicted",
           (unsigned long long)rs.packets, (unsigned long long)rs.flows,
           (unsigned long long)rs.handshakes, (unsigned long long)rs.flows_evicted);
    ta_engine_free(r.engine);
    ta_store_close(r.store);
    return status;
}
