/* progress.c - what a person at a terminal sees of a capture: while `capture -r` reads a large
 * input, one line redrawn a few times a second (bytes read of the total, rate, ETA, handshakes
 * so far); at the end of every capture, one summary line with what to run next, after a warning
 * when the capture missed traffic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/output.h"

#define FIRST_SHOW_US 500000u

/* See capture_int.h. The total is the size of every regular file named by -r. */
void ta__progress_start(struct ta__progress *pg, const struct ta__capture_opts *o)
{
    struct stat sb;

    pg->on = !o->quiet && isatty(STDERR_FILENO);
    pg->every = getenv("TA_TEST_PROGRESS_EVERY") != NULL;
    pg->total = pg->before = 0;
    pg->shown = false;
    pg->start_us = pg->next_us = 0;
    for (int i = 0; pg->on && i < o->nfiles; i++) {
        if (stat(o->files[i], &sb) != 0 || !S_ISREG(sb.st_mode)) {
            pg->total = 0;             /* stdin or a pipe: bytes and rate, no percentage */
            break;
        }
        pg->total += (uint64_t)sb.st_size;
    }
}

/* Bytes read so far of f, or 0 when it cannot be told (a pipe). */
static uint64_t file_pos(FILE *f)
{
    long pos = f ? ftell(f) : -1;
    return pos > 0 ? (uint64_t)pos : 0;
}

/* "12.3 MiB" into buf. */
static void human(double bytes, char *buf, size_t cap)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    unsigned u = 0;
    while (bytes >= 1024 && u + 1 < TA_ARRAY_LEN(unit)) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

/* See capture_int.h. */
void ta__progress_show(struct ta__progress *pg, FILE *f, uint64_t now_us, uint64_t handshakes)
{
    char done_s[32], total_s[32], rate_s[32], eta[32] = "";
    double secs, rate;
    uint64_t done;

    if (!pg->on)
        return;
    if (pg->start_us == 0) {
        pg->start_us = now_us;
        pg->next_us = now_us + FIRST_SHOW_US;
    }
    if ((now_us < pg->next_us && !pg->every) || now_us == pg->start_us)
        return;                       /* (at the first call there is no rate to show yet) */
    pg->next_us = now_us + 1000000u / TA_PROGRESS_HZ;
    done = pg->before + file_pos(f);
    secs = (double)(now_us - pg->start_us) / 1e6;
    rate = secs > 0 ? (double)done / secs : 0;
    human((double)done, done_s, sizeof(done_s));
    human(rate, rate_s, sizeof(rate_s));
    if (pg->total && done <= pg->total) {
        human((double)pg->total, total_s, sizeof(total_s));
        if (rate > 0) {
            unsigned long left = (unsigned long)((double)(pg->total - done) / rate + 0.5);
            snprintf(eta, sizeof(eta), ", ETA %lu:%02lu", left / 60, left % 60);
        }
        fprintf(stderr, "\r\033[Kread %s of %s (%.0f%%), %s/s%s, %llu handshakes", done_s,
                total_s, 100.0 * (double)done / (double)pg->total, rate_s, eta,
                (unsigned long long)handshakes);
    } else {
        fprintf(stderr, "\r\033[Kread %s, %s/s, %llu handshakes", done_s, rate_s,
                (unsigned long long)handshakes);
    }
    fflush(stderr);
    pg->shown = true;
}

/* See capture_int.h. */
void ta__progress_file_done(struct ta__progress *pg, FILE *f)
{
    if (pg->on)
        pg->before += file_pos(f);
}

/* See capture_int.h. Clears the line so what follows starts on a clean one. */
void ta__progress_end(struct ta__progress *pg)
{
    if (pg->on && pg->shown)
        fputs("\r\033[K", stderr);
    pg->shown = false;
}

/* Distinct clients of run_id with a legacy handshake toward Office 365: the rows `query
 * legacy` lists (its TA_Q_LEGACY_SQL condition, Office 365 only), counted. -1 on error. */
static long long legacy_o365_clients(sqlite3 *db, int64_t run_id)
{
    sqlite3_stmt *s = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(DISTINCT client_ip) FROM handshakes h "
                           "WHERE h.run_id = ?1 AND h.o365 = 1 AND "
                           "(h.version IN (2, 768, 769, 770) OR (h.version IS NULL AND "
                           "h.client_hello = 1 AND h.client_max_version BETWEEN 1 AND 770))",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, run_id);
        if (sqlite3_step(s) == SQLITE_ROW)
            n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return n;
}

/* See capture_int.h. */
void ta__capture_summary(sqlite3 *db, int64_t run_id, const struct ta_run_stats *rs,
                         const char *dbpath)
{
    long long legacy = legacy_o365_clients(db, run_id);

    fprintf(stderr, "tlsaudit: %llu packets, %llu flows, %llu handshakes, ",
            (unsigned long long)rs->packets, (unsigned long long)rs->flows,
            (unsigned long long)rs->handshakes);
    if (legacy < 0) {
        fputs("legacy clients toward Office 365 not counted (", stderr);
        ta_out_table_text(stderr, sqlite3_errmsg(db));   /* it may quote the file's names */
        fputc(')', stderr);
    } else
        fprintf(stderr, "%lld legacy client%s toward Office 365", legacy, legacy == 1 ? "" : "s");
    fputs(" (list them: tlsaudit query legacy --db ", stderr);
    ta_out_table_text(stderr, dbpath);
    fputs(")\n", stderr);
}

/* When n is not 0, append "n what" to buf, after "; " when buf holds something already. */
static void part(char *buf, size_t size, unsigned long long n, const char *what)
{
    size_t len = strlen(buf);
    if (n && len < size)
        snprintf(buf + len, size - len, "%s%llu %s", len ? "; " : "", n, what);
}

/* See capture_int.h. */
void ta__capture_warn_incomplete(const struct ta_run_stats *rs)
{
    char buf[512] = "";

    part(buf, sizeof buf, (unsigned long long)(rs->drops + rs->if_drops),
         "packets were dropped by the kernel or the interface");
    part(buf, sizeof buf, (unsigned long long)rs->pool_exhausted,
         "flows could not be analysed (no analysis slot free)");
    part(buf, sizeof buf, (unsigned long long)rs->flows_evicted,
         "flows were evicted from a full flow table");
    part(buf, sizeof buf, (unsigned long long)rs->truncated,
         "packets were cut short by the capture's snap length, so the hellos in them could be "
         "read only in part (capture whole packets: tcpdump -s 0, no packet slicing)");
    part(buf, sizeof buf, (unsigned long long)rs->ip_incomplete,
         "IP datagrams were given up because some of their fragments never came");
    if (buf[0])
        TA_LOG(TA_LOG_WARN, "the capture was incomplete: %s. The real figures may be higher "
               "than shown.", buf);
}
