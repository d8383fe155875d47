/* options.c - the options of `tlsaudit capture` (see its usage text and man/tlsaudit.1). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"
#include "tlsaudit/common.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: tlsaudit capture --db FILE (-r FILE [-r FILE ...] | -i IFACE) [options]\n"
        "  --db FILE          SQLite database to write (created if absent)\n"
        "  -r FILE            read a pcap or pcapng file (repeatable, read in order)\n"
        "  -i IFACE           capture live on IFACE (promiscuous)\n"
        "  --workers N        live capture threads, 1 to %d (default 1): N capture handles in\n"
        "                     one PACKET_FANOUT group, flows spread by hash; with -r, one\n"
        "                     reader thread and N engine threads, flows spread by hash\n"
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
    if (o->workers < 0 || o->workers > TA_MAX_WORKERS) {
        fprintf(stderr, "tlsaudit capture: --workers must be 1 to %d\n", TA_MAX_WORKERS);
        return 2;
    }
    return 0;
}

/* See capture_int.h. */
int ta__capture_parse(int argc, char **argv, struct ta__capture_opts *o)
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
