/* options.c - the options of `tlsaudit capture` (see its usage text and man/tlsaudit.1). Every
 * option has a long name, and the config file (config.c) is read through the same table: its
 * lines become "--key=value" arguments placed before the command line's. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/store.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: tlsaudit capture --db FILE (-r FILE [FILE ...] | -i IFACE) [options]\n"
        "  --config FILE      read options from FILE first (key = value lines, every long\n"
        "                     option below by its name); the command line wins\n"
        "  --db FILE          SQLite database to write (created if absent)\n"
        "  -r, --read FILE    read a pcap or pcapng file, gzipped or not (repeatable, read in\n"
        "                     order); the arguments after the options are files too\n"
        "  -i, --interface IFACE  capture live on IFACE (promiscuous)\n"
        "  --workers N        live capture threads, 1 to %d (default 1): N capture handles in\n"
        "                     one PACKET_FANOUT group, spread by IP address pair; with -r, one\n"
        "                     reader thread and N engine threads, flows spread by hash\n"
        "  -f, --filter BPF   capture filter (pcap-filter(7)); SIGHUP re-reads it from --config\n"
        "  -s, --snaplen N    snapshot length for live capture (default 65535)\n"
        "  -B, --buffer MiB   kernel capture buffer size for live capture, per worker (default 64)\n"
        "  -Z, --user USER    after opening the interface and database, drop root to USER\n"
        "  --max-flows N      flow table cap (default 262144), shared evenly by the workers;\n"
        "                     the oldest flow is evicted beyond it\n"
        "  --max-analyzing N  flows whose handshake is read at once (default 4096, shared by\n"
        "                     the workers; beyond it the oldest analysis is settled early)\n"
        "  --idle-timeout S   TCP and QUIC idle timeout in seconds (default 300)\n"
        "  --no-ndpi          do not classify flows with nDPI\n"
        "  --vxlan-port PORT  also decode UDP PORT as VXLAN (4789 always is)\n"
        "  --sensor NAME      this sensor's name in runs and the inventory (default the host name)\n"
        "  --retain-days N    keep handshake, mail and DNS rows N days (default 30 with -i, for\n"
        "                     ever with -r; 0 = for ever)\n"
        "                     the inventory and daily rollups are kept for ever\n"
        "  --max-db-size SIZE keep the database file under SIZE (64M, 2G, ...): oldest rows go first\n"
        "  --sync-to CONNINFO also push the database to this central PostgreSQL while capturing\n"
        "                     (as tlsaudit sync --follow; passwords from ~/.pgpass, PGPASSFILE)\n"
        "  --sync-interval S  seconds between pushes (default 60)\n"
        "  -v, --verbose / -q, --quiet  more / less logging (-q: no summary line either)\n"
        "  --log-level L      error, warning (default), info or debug\n", TA_MAX_WORKERS);
}

/* Check the options that depend on each other. Returns 0, or 2 on a usage error. */
static int check_opts(const struct ta__capture_opts *o)
{
    if (o->nfiles && o->iface) {
        fprintf(stderr, "tlsaudit capture: -i IFACE and capture files (-r FILE or arguments) "
                "cannot be mixed\n");
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
    if (o->workers < 0 || o->workers > TA_MAX_WORKERS) {
        fprintf(stderr, "tlsaudit capture: --workers must be 1 to %d\n", TA_MAX_WORKERS);
        return 2;
    }
    return 0;
}

#define TA__CAPTURE_SHORTS "r:i:f:s:B:Z:vqh"

enum { O_DB = 256, O_MAXFLOWS, O_MAXAN, O_IDLE, O_NONDPI, O_WORKERS, O_HELP, O_CONFIG,
       O_LOGLEVEL, O_VXLAN, O_SENSOR, O_RETAIN, O_MAXDB, O_SYNCTO, O_SYNCINT };

/* Every option of `tlsaudit capture`. A short option's long alias has the short letter as its
 * value, so both spellings reach the same case below, and config.c can name any of them. */
static const struct option longs[] = {
    { "db", required_argument, NULL, O_DB },
    { "read", required_argument, NULL, 'r' },
    { "interface", required_argument, NULL, 'i' },
    { "filter", required_argument, NULL, 'f' },
    { "snaplen", required_argument, NULL, 's' },
    { "buffer", required_argument, NULL, 'B' },
    { "user", required_argument, NULL, 'Z' },
    { "verbose", no_argument, NULL, 'v' },
    { "quiet", no_argument, NULL, 'q' },
    { "log-level", required_argument, NULL, O_LOGLEVEL },
    { "config", required_argument, NULL, O_CONFIG },
    { "max-flows", required_argument, NULL, O_MAXFLOWS },
    { "max-analyzing", required_argument, NULL, O_MAXAN },
    { "idle-timeout", required_argument, NULL, O_IDLE },
    { "no-ndpi", no_argument, NULL, O_NONDPI },
    { "workers", required_argument, NULL, O_WORKERS },
    { "vxlan-port", required_argument, NULL, O_VXLAN },
    { "sensor", required_argument, NULL, O_SENSOR },
    { "retain-days", required_argument, NULL, O_RETAIN },
    { "max-db-size", required_argument, NULL, O_MAXDB },
    { "sync-to", required_argument, NULL, O_SYNCTO },
    { "sync-interval", required_argument, NULL, O_SYNCINT },
    { "help", no_argument, NULL, O_HELP },
    { NULL, 0, NULL, 0 }
};

/* See capture_int.h. */
const struct option *ta__capture_longopts(void)
{
    return longs;
}

/* A --log-level name (or its number 0..3), or -1. */
static int log_level_parse(const char *s)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    for (int i = 0; i < (int)TA_ARRAY_LEN(names); i++)
        if (strcasecmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == '\0'))
            return i;
    return strcasecmp(s, "warn") == 0 ? TA_LOG_WARN : -1;
}

/* The option getopt refused (unknown, ambiguous, or its value missing), said escaped: glibc's
 * own message (opterr) would print the argument raw, and a file name from a shell glob may
 * start with "--" and hold terminal controls. */
static void bad_option(int argc, char **argv)
{
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (optopt > 0 && optopt < 128 && strncmp(arg, "--", 2) != 0)
        ta_fprint_errf(stderr, "tlsaudit capture: ", "unknown option or missing value: -%c",
                       optopt);
    else
        ta_fprint_errf(stderr, "tlsaudit capture: ", "unknown option or missing value: %s", arg);
}

/* Parse argv (the config file's arguments, then the command line's) into o, already set to
 * the defaults. Returns 0, or 2 on a usage error (message printed). */
static int parse_argv(int argc, char **argv, struct ta__capture_opts *o)
{
    int ch;
    char *end;

    optind = 0;   /* 0: glibc starts afresh, so the options can be parsed again (SIGHUP) */
    opterr = 0;   /* bad_option says what getopt refused */
    while ((ch = getopt_long(argc, argv, TA__CAPTURE_SHORTS, longs, NULL)) != -1) {
        switch (ch) {
        case O_DB: o->db = optarg; break;
        case 'r': o->files[o->nfiles++] = optarg; break;
        case 'i': o->iface = optarg; break;
        case 'f': o->filter = optarg; break;
        case 's': o->snaplen = atoi(optarg); break;
        case 'B': o->buffer_mib = atoi(optarg); break;
        case 'Z': o->user = optarg; break;
        case O_MAXFLOWS: o->ecfg.max_flows = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_MAXAN: o->ecfg.max_analyzing = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_IDLE: o->ecfg.idle_timeout_s = (uint32_t)strtoul(optarg, NULL, 10); break;
        case O_NONDPI: o->ecfg.ndpi = false; break;
        case O_VXLAN: {
            unsigned long port = strtoul(optarg, &end, 10);
            if (end == optarg || *end || port == 0 || port > 65535) {
                fprintf(stderr, "tlsaudit capture: --vxlan-port must be a UDP port, 1 to 65535\n");
                return 2;
            }
            o->ecfg.vxlan_port = (uint16_t)port;
            break;
        }
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
        case O_SYNCTO: o->sync_to = optarg; break;
        case O_SYNCINT:
            o->sync_interval_s = strtod(optarg, &end);
            if (end == optarg || *end || !(o->sync_interval_s >= 0.1 &&
                                           o->sync_interval_s <= 86400)) {
                fprintf(stderr, "tlsaudit capture: --sync-interval needs 0.1 to 86400 seconds\n");
                return 2;
            }
            break;
        case 'v': o->log_level++; break;
        case 'q': o->log_level = TA_LOG_ERROR; o->quiet = true; break;
        case O_LOGLEVEL:
            if ((o->log_level = log_level_parse(optarg)) < 0) {
                fprintf(stderr, "tlsaudit capture: --log-level must be error, warning, info "
                        "or debug\n");
                return 2;
            }
            break;
        case O_CONFIG:                 /* read before (ta__capture_parse) */
            if (!o->config) {          /* getopt took an abbreviation config_arg did not */
                fprintf(stderr, "tlsaudit capture: write --config in full\n");
                return 2;
            }
            break;
        case 'h': case O_HELP: usage(stdout); exit(0);
        case '?': bad_option(argc, argv); usage(stderr); return 2;
        default: usage(stderr); return 2;
        }
    }
    while (optind < argc)   /* files after the options, as a shell glob gives them */
        o->files[o->nfiles++] = argv[optind++];
    return check_opts(o);
}

/* The value of --config FILE / --config=FILE on the command line (the last one), or NULL. */
static const char *config_arg(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
    }
    return path;
}

/* Defaults of every option. */
static void opts_defaults(struct ta__capture_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->snaplen = 65535;
    o->buffer_mib = 64;
    o->retain_days = -1;   /* not given: 30 days live, for ever for files (capture_setup) */
    o->log_level = TA_LOG_WARN;
    ta_engine_config_default(&o->ecfg);
}

/* Parse argv[0], cfg's arguments, then argv[1..] into o (set to the defaults): getopt keeps the
 * last value of an option, so the command line wins. The merged array is kept in o (the option
 * strings point into it and into cfg). 0 or 2. */
static int parse_merged(const struct ta__config *cfg, int argc, char **argv,
                        struct ta__capture_opts *o)
{
    char **all = calloc((size_t)(argc + cfg->argc + 1), sizeof(*all));
    int n = 0;

    o->files = calloc((size_t)(argc + cfg->argc + 1), sizeof(*o->files)); /* one per argument */
    if (!all || !o->files) {
        free(all);
        fprintf(stderr, "tlsaudit capture: out of memory\n");
        return 2;
    }
    all[n++] = argv[0];
    for (int i = 0; i < cfg->argc; i++)
        all[n++] = cfg->argv[i];
    for (int i = 1; i < argc; i++)
        all[n++] = argv[i];
    o->argv_all = all;
    if (parse_argv(n, all, o) == 0)
        return 0;
    if (cfg->argc)   /* a value getopt took but the checks refused: say where it may be from */
        ta_fprint_errf(stderr, "tlsaudit capture: ", "options were read from %s, then from the "
                       "command line", cfg->path);
    return 2;
}

/* See capture_int.h. */
int ta__capture_parse(int argc, char **argv, struct ta__capture_opts *o)
{
    const char *cfg_path = config_arg(argc, argv);
    char errbuf[TA_ERRBUF_SIZE] = "";

    opts_defaults(o);
    o->config = cfg_path;
    o->cmd_argc = argc;
    o->cmd_argv = argv;
    if (cfg_path && ta__config_read(cfg_path, longs, &o->cfg, errbuf) != TA_OK) {
        ta_print_err("tlsaudit capture: ", errbuf);
        return 2;
    }
    ta__config_given(argc, argv, longs, o->cmdline_keys);
    return parse_merged(&o->cfg, argc, argv, o);
}

/* See capture_int.h. */
int ta__capture_reparse(const struct ta__capture_opts *o, const struct ta__config *cfg,
                        struct ta__capture_opts *out)
{
    opts_defaults(out);
    out->config = o->config;
    out->cmd_argc = o->cmd_argc;
    out->cmd_argv = o->cmd_argv;
    memcpy(out->cmdline_keys, o->cmdline_keys, sizeof(out->cmdline_keys));
    return parse_merged(cfg, o->cmd_argc, o->cmd_argv, out);
}

/* See capture_int.h. */
void ta__capture_opts_free(struct ta__capture_opts *o)
{
    ta__config_free(&o->cfg);
    free(o->argv_all);
    o->argv_all = NULL;
    free(o->files);
    o->files = NULL;
    o->nfiles = 0;
}
