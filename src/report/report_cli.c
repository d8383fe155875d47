/* report_cli.c - `tlsaudit report`: options, the period in whole UTC days, and which output.
 *
 * The report works in whole days because its trend and its handshake counts come from daily
 * rollups: --since D starts at 00:00 UTC of D, --until D includes the whole of D (as a date-only
 * --until of `tlsaudit query` does). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "report_model.h"
#include "tlsaudit/common.h"
#include "tlsaudit/report.h"

#define DEFAULT_MAX_ROWS 250

static void usage(FILE *fp)
{
    fprintf(fp,
        "usage: tlsaudit report --db FILE [options]\n"
        "  the compliance report: one self-contained HTML page (no script, nothing fetched,\n"
        "  prints on A4 and Letter), or its tables as CSV or JSON\n\n"
        "options:\n"
        "  --db FILE          database written by tlsaudit capture (required), or the\n"
        "                     central store: postgresql://... (tlsaudit sync)\n"
        "  --out FILE         write to FILE (default: standard output; '-' too)\n"
        "  --format FMT       html (default), csv or json\n"
        "  --table NAME       csv (and json when given): summary, offenders (default), trend,\n"
        "                     versions, services, apps, ciphers, mail\n"
        "  --since DAY        first UTC day of the period (YYYY-MM-DD)\n"
        "  --until DAY        last UTC day of the period, included (YYYY-MM-DD)\n"
        "  --sensor NAME      only what the sensor NAME captured\n"
        "  --all              offender table over every destination, not only Office 365\n"
        "  --max-rows N       page: rows per long list and client details (default %d);\n"
        "                     csv/json are always complete\n", DEFAULT_MAX_ROWS);
}

/* "YYYY-MM-DD" (a date-time is refused: the report counts whole days) to midnight UTC in
 * seconds. Returns 0 or -1. */
static int parse_day(const char *s, time_t *t)
{
    struct tm tm = { 0 };
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return -1;
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31)
        return -1;
    *t = timegm(&tm);
    return *t == (time_t)-1 ? -1 : 0;
}

/* Day text of t into buf (TA_RD_DAY). */
static void day_of(time_t t, char *buf)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, TA_RD_DAY, "%Y-%m-%d", &tm);
}

struct ropts {
    const char *db, *out, *table;
    int json, csv;
    size_t max_rows;
    struct ta_rd_filter f;
};

/* Parse argv into o. Returns -1 on a usage error (message written), 1 for --help, else 0. */
static int parse(int argc, char **argv, struct ropts *o, FILE *out, FILE *err)
{
    time_t t;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(out);
            return 1;
        }
        if (strcmp(a, "--all") == 0) {
            o->f.all = true;
            continue;
        }
        if (!v || strncmp(a, "--", 2) != 0) {
            ta_fprint_errf(err, "tlsaudit report: ", "%s: %s", a, v ? "unknown option" :
                           "missing value or unknown option");
            return -1;
        }
        i++;
        if (strcmp(a, "--db") == 0) {
            o->db = v;
        } else if (strcmp(a, "--out") == 0) {
            o->out = v;
        } else if (strcmp(a, "--table") == 0) {
            o->table = v;
        } else if (strcmp(a, "--sensor") == 0) {
            o->f.sensor = v;
        } else if (strcmp(a, "--format") == 0) {
            o->json = strcmp(v, "json") == 0;
            o->csv = strcmp(v, "csv") == 0;
            if (!o->json && !o->csv && strcmp(v, "html") != 0) {
                ta_fprint_errf(err, "tlsaudit report: ", "--format: html, csv or json, not '%s'",
                               v);
                return -1;
            }
        } else if (strcmp(a, "--max-rows") == 0) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*end || n == 0 || n > 1000000) {
                fprintf(err, "tlsaudit report: --max-rows: a number from 1 to 1000000\n");
                return -1;
            }
            o->max_rows = n;
        } else if (strcmp(a, "--since") == 0 || strcmp(a, "--until") == 0) {
            bool since = a[2] == 's';
            if (parse_day(v, &t) != 0) {
                ta_fprint_errf(err, "tlsaudit report: ", "%s: a UTC day YYYY-MM-DD, not '%s' (the "
                               "report counts whole days)", a, v);
                return -1;
            }
            if (since) {
                day_of(t, o->f.since);
                o->f.since_us = (long long)t * 1000000LL;
            } else {
                day_of(t, o->f.until_last);
                day_of(t + 86400, o->f.until);
                o->f.until_us = (long long)(t + 86400) * 1000000LL;
            }
        } else {
            ta_fprint_errf(err, "tlsaudit report: ", "%s: unknown option", a);
            return -1;
        }
    }
    if (!o->db) {
        fprintf(err, "tlsaudit report: --db FILE is required\n");
        return -1;
    }
    if (o->f.since[0] && o->f.until[0] && strcmp(o->f.since, o->f.until) >= 0) {
        fprintf(err, "tlsaudit report: --since is after --until\n");
        return -1;
    }
    return 0;
}

/* Open a new file beside path (tmp gets its name) for the report, made readable as a plain
 * fopen would (0666 less the umask). Written whole and then renamed over path, so a failed
 * write (a full disk) leaves an earlier report whole and no partial file behind. */
static FILE *out_open(const char *path, char *tmp, size_t len)
{
    mode_t mask = umask(0);
    umask(mask);
    if (snprintf(tmp, len, "%s.tmp.XXXXXX", path) >= (int)len) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = mkstemp(tmp);
    if (fd < 0)
        return NULL;
    FILE *fp = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w") : NULL;
    if (!fp) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
    }
    return fp;
}

/* See report.h. */
int ta_report_main(int argc, char **argv, FILE *out, FILE *err)
{
    return ta_report_main_src(argc, argv, out, err, NULL);
}

/* See report.h. */
int ta_report_main_src(int argc, char **argv, FILE *out, FILE *err,
                       const struct ta_report_source *rs)
{
    struct ropts o = { .max_rows = DEFAULT_MAX_ROWS };
    char errbuf[TA_ERRBUF_SIZE];
    struct ta_rp rp;
    int p = parse(argc, argv, &o, out, err), rc = TA_REPORT_EXIT_OK, w;
    if (p)
        return p > 0 ? TA_REPORT_EXIT_OK : TA_REPORT_EXIT_ERROR;
    struct ta_rd *src = ta__rd_open_sqlite(rs ? rs->path : o.db, errbuf);
    if (!src || (rs && rs->period(rs->ctx, o.f.since_us,
                                         o.f.until_us ? o.f.until_us : LLONG_MAX, errbuf) != 0)) {
        ta_fprint_err(err, "tlsaudit report: ", errbuf);
        if (src)
            ta__rd_ops(src)->close(src);
        return TA_REPORT_EXIT_ERROR;
    }
    ta__rd_set_source(src, rs);
    if (ta__rp_build(src, &o.f, &rp) != 0) {
        ta_fprint_errf(err, "tlsaudit report: ", "%s: %s", o.db, ta__rd_error(src));
        ta__rp_free(&rp);
        ta__rd_ops(src)->close(src);
        return TA_REPORT_EXIT_ERROR;
    }
    FILE *fp = out;
    char tmp[4096] = "";
    if (o.out && strcmp(o.out, "-") != 0 && !(fp = out_open(o.out, tmp, sizeof tmp))) {
        ta_fprint_errf(err, "tlsaudit report: ", "%s: cannot write: %s", o.out, strerror(errno));
        rc = TA_REPORT_EXIT_ERROR;
    }
    if (fp) {
        if (o.json || o.csv)
            w = ta__rp_export(fp, &rp, o.json, o.table);
        else
            w = ta__rp_html(fp, src, &rp, o.max_rows);
        if (w == -2)
            fprintf(err, "tlsaudit report: --table: summary, offenders, trend, versions, "
                    "services, apps, ciphers or mail\n");
        else if (w != 0)
            ta_fprint_err(err, "tlsaudit report: ", ta__rd_error(src)[0] ? ta__rd_error(src) :
                          "write failed");
        if (fflush(fp) != 0 || ferror(fp) || (fp != out && fsync(fileno(fp)) != 0))
            w = -1;
        int e = errno;
        if (fp != out && fclose(fp) != 0)
            w = -1, e = errno;
        if (fp != out && w == 0 && rename(tmp, o.out) != 0)
            w = -1, e = errno;
        if (fp != out && w != 0) {
            unlink(tmp);
            ta_fprint_errf(err, "tlsaudit report: ", "%s: not written (%s); any earlier file is "
                           "unchanged", o.out, strerror(e));
        }
        if (w != 0)
            rc = TA_REPORT_EXIT_ERROR;
    }
    ta__rp_free(&rp);
    ta__rd_ops(src)->close(src);
    return rc;
}

int ta_cmd_report(int argc, char **argv)
{
    return ta_report_main(argc, argv, stdout, stderr);
}
