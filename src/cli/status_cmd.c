/* status_cmd.c - `tlsaudit status --db FILE`: is a capture running into FILE, and is it healthy.
 * For people (text) and for monitoring (--format json, and the exit status: 0 healthy,
 * 1 degraded, 2 not running).
 *
 * "Running" must be true, not hoped: a capture rewrites its run row's heartbeat every few
 * seconds (src/capture/service.c, schema 006). A run counts as running when its heartbeat is
 * recent and, on this host, its pid is alive and is a tlsaudit process (a pid reused after a
 * kill -9 or a reboot is not). A run whose pid is gone never ended cleanly: it shows as not
 * running at once, whatever its heartbeat says. The database is opened read-only. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "tlsaudit/clock.h"
#include "tlsaudit/commands.h"
#include "tlsaudit/common.h"
#include "tlsaudit/output.h"
#include "tlsaudit/store.h"

#define HEARTBEAT_DEAD_S 30           /* 6 heartbeats missed (TA_HEARTBEAT_S is 5) */
#define LIST_STALE_DAYS 30            /* an endpoint list older than this is a warning */
/* Free space under which a running capture is degraded: what its -wal file may take before a
 * checkpoint (16,000 pages, ~64 MB), or 2% of the file system if that is more. */
#define DISK_LOW_BYTES (64LL << 20)
#define DISK_LOW_PCT 2

enum { ST_HEALTHY = 0, ST_DEGRADED = 1, ST_DOWN = 2 };

/* What status found; text columns as read (NULL when absent). */
struct status {
    bool have_run, running, unresponsive, same_host, pid_alive;
    long long run_id, pid, packets, drops, if_drops, own_drops, handshakes, recent_drops;
    long long hb_age_s, reloads;
    double hs_rate;
    char source[256], started[40], ended[40], host[256], heartbeat[40], last_error[512];
    char config[256], reloaded[40];
    long long db_bytes, wal_bytes;
    bool disk_known;
    long long disk_free, disk_total;  /* bytes an unprivileged writer may still use, and all */
    char oldest_day[16];
    bool list_builtin, list_loaded;
    char list_version[40], list_imported[40], list_instance[40];
    long long list_age_days;
    unsigned nworkers;                /* live workers' share of the link (schema 018); 0: one */
    long long wpackets[TA_STORE_WORKERS_MAX], wdrops[TA_STORE_WORKERS_MAX];
    char reasons[640];
    int code;
};

static void usage(FILE *fp)
{
    fputs("usage: tlsaudit status --db FILE [--format text|json|jsonl|csv]\n"
          "Is a capture running into FILE and is it healthy: since when, its packets and\n"
          "drops (with --workers, each thread's), handshakes per second over the last\n"
          "minute, database size and oldest day,\n"
          "the endpoint list's version and age, the last error.\n"
          "Exit status: 0 healthy, 1 degraded (drops in the last minute, endpoint list older\n"
          "than 30 days, an error logged, no heartbeat from a live process, less than 64 MiB\n"
          "or 2% free on the database's file system), 2 not running.\n",
          fp);
}

/* Copy column i of s (text or NULL) into buf. */
static void col_text(sqlite3_stmt *s, int i, char *buf, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(buf, cap, "%s", t ? (const char *)t : "");
}

/* True when pid is a live tlsaudit process here (EPERM: alive, someone else's; a comm that
 * cannot be read is given the benefit of the doubt). */
static bool pid_is_tlsaudit(long long pid)
{
    char path[64], comm[64] = "";
    FILE *f;

    if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno != EPERM))
        return false;
    snprintf(path, sizeof(path), "/proc/%lld/comm", pid);
    if (!(f = fopen(path, "r")))
        return true;
    if (!fgets(comm, sizeof(comm), f))
        comm[0] = '\0';
    fclose(f);
    return comm[0] == '\0' || strncmp(comm, "tlsaudit", 8) == 0;
}

#define RUN_COLS "id, source, started, ended, pid, host, heartbeat_us, heartbeat, packets, " \
                 "drops, if_drops, pool_exhausted, handshakes, hs_rate, recent_drops, " \
                 "COALESCE(last_error, error), reloads, reloaded, config"

/* Fill st from the run row at s. */
static void read_run(sqlite3_stmt *s, struct status *st)
{
    char host[256] = "";
    long long hb_us = sqlite3_column_int64(s, 6);

    st->have_run = true;
    st->run_id = sqlite3_column_int64(s, 0);
    col_text(s, 1, st->source, sizeof(st->source));
    col_text(s, 2, st->started, sizeof(st->started));
    col_text(s, 3, st->ended, sizeof(st->ended));
    st->pid = sqlite3_column_int64(s, 4);
    col_text(s, 5, st->host, sizeof(st->host));
    col_text(s, 7, st->heartbeat, sizeof(st->heartbeat));
    st->packets = sqlite3_column_int64(s, 8);
    st->drops = sqlite3_column_int64(s, 9);
    st->if_drops = sqlite3_column_int64(s, 10);
    st->own_drops = sqlite3_column_int64(s, 11);
    st->handshakes = sqlite3_column_int64(s, 12);
    st->hs_rate = sqlite3_column_double(s, 13);
    st->recent_drops = sqlite3_column_int64(s, 14);
    col_text(s, 15, st->last_error, sizeof(st->last_error));
    st->reloads = sqlite3_column_int64(s, 16);
    col_text(s, 17, st->reloaded, sizeof(st->reloaded));
    col_text(s, 18, st->config, sizeof(st->config));
    st->hb_age_s = hb_us > 0 ? (long long)(ta_clock_wall_us() / 1000000u) - hb_us / 1000000 : -1;
    if (gethostname(host, sizeof(host) - 1) != 0)
        host[0] = '\0';
    st->same_host = st->host[0] && strcmp(host, st->host) == 0;
    st->pid_alive = st->same_host && pid_is_tlsaudit(st->pid);
    if (st->ended[0] || sqlite3_column_type(s, 4) == SQLITE_NULL)
        return;                       /* ended, or a capture too old to heartbeat */
    if (st->same_host && !st->pid_alive)
        return;                       /* died without ending its run (kill -9, crash) */
    if (st->hb_age_s >= 0 && st->hb_age_s <= HEARTBEAT_DEAD_S)
        st->running = true;
    else if (st->pid_alive)
        st->running = st->unresponsive = true;
}

/* The current run: the newest unended run that is running, else the newest run. */
static int find_run(sqlite3 *db, struct status *st)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT " RUN_COLS " FROM runs WHERE ended IS NULL AND "
                                "pid IS NOT NULL ORDER BY id DESC LIMIT 16", -1, &s, NULL);
    while (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        memset(st, 0, sizeof(*st));
        read_run(s, st);
        if (st->running)
            break;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_OK)
        return rc;
    if (st->running)
        return SQLITE_OK;
    memset(st, 0, sizeof(*st));
    rc = sqlite3_prepare_v2(db, "SELECT " RUN_COLS " FROM runs ORDER BY id DESC LIMIT 1", -1,
                            &s, NULL);
    if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        read_run(s, st);
    sqlite3_finalize(s);
    return rc;
}

/* The run's workers (runs.workers, schema 018): each one's packets and kernel drops. A value
 * that is not an array of such objects, as SQLite's JSON functions read it, counts as none. */
static void read_workers(sqlite3 *db, struct status *st)
{
    sqlite3_stmt *s = NULL;
    unsigned n = 0;
    bool ok = true;

    if (!st->have_run ||
        sqlite3_prepare_v2(db, "SELECT json_extract(value, '$.packets'), "
                           "json_extract(value, '$.drops') FROM json_each((SELECT CASE WHEN "
                           "json_valid(workers) AND json_type(workers) = 'array' THEN workers "
                           "END FROM runs WHERE id = ?1)) ORDER BY key", -1, &s, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(s);
        return;
    }
    sqlite3_bind_int64(s, 1, st->run_id);
    while (ok && sqlite3_step(s) == SQLITE_ROW) {
        ok = n < TA_STORE_WORKERS_MAX && sqlite3_column_type(s, 0) == SQLITE_INTEGER &&
             sqlite3_column_type(s, 1) == SQLITE_INTEGER && sqlite3_column_int64(s, 0) >= 0 &&
             sqlite3_column_int64(s, 1) >= 0;
        if (ok) {
            st->wpackets[n] = sqlite3_column_int64(s, 0);
            st->wdrops[n++] = sqlite3_column_int64(s, 1);
        }
    }
    sqlite3_finalize(s);
    st->nworkers = ok && n > 1 ? n : 0;
}

/* Days since "YYYY-MM-DD..." (UTC), or -1. */
static long long days_since(const char *ymd)
{
    struct tm tm;
    int y, m, d;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(ymd, "%4d-%2d-%2d", &y, &m, &d) != 3 &&
        sscanf(ymd, "%4d%2d%2d", &y, &m, &d) != 3)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : ((long long)time(NULL) - (long long)t) / 86400;
}

/* The database's size, its oldest retained day, the endpoint list in force and its age: from
 * the import for an imported list, from the publication (the version's date) for the built-in
 * one, whose loading says nothing of its age. */
static void read_store(sqlite3 *db, const char *path, struct status *st)
{
    static const char *const suffix[] = { "", "-wal" };
    sqlite3_stmt *s = NULL;
    struct stat sb;

    struct statvfs vfs;

    for (size_t i = 0; i < TA_ARRAY_LEN(suffix); i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (stat(p, &sb) == 0) {
            st->db_bytes += (long long)sb.st_size;
            if (i == 1)
                st->wal_bytes = (long long)sb.st_size;
        }
    }
    if (statvfs(path, &vfs) == 0) {
        st->disk_known = true;
        st->disk_free = (long long)vfs.f_bavail * (long long)vfs.f_frsize;
        st->disk_total = (long long)vfs.f_blocks * (long long)vfs.f_frsize;
    }
    if (sqlite3_prepare_v2(db, "SELECT substr(ts, 1, 10) FROM handshakes ORDER BY ts_us LIMIT 1",
                           -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        col_text(s, 0, st->oldest_day, sizeof(st->oldest_day));
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT instance, version, imported_at, builtin FROM endpoint_sets "
                           "ORDER BY id DESC LIMIT 1", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        st->list_loaded = true;
        col_text(s, 0, st->list_instance, sizeof(st->list_instance));
        col_text(s, 1, st->list_version, sizeof(st->list_version));
        col_text(s, 2, st->list_imported, sizeof(st->list_imported));
        st->list_builtin = sqlite3_column_int(s, 3) != 0;
        st->list_age_days = days_since(st->list_builtin ? st->list_version : st->list_imported);
    }
    sqlite3_finalize(s);
}

/* Append a reason to st->reasons. */
static void reason(struct status *st, const char *r)
{
    size_t off = strlen(st->reasons);
    snprintf(st->reasons + off, sizeof(st->reasons) - off, "%s%s", off ? "; " : "", r);
}

/* Too little room left for the database to go on (DISK_LOW_*). */
static bool disk_low(const struct status *st)
{
    return st->disk_known && (st->disk_free < DISK_LOW_BYTES ||
                              st->disk_free < st->disk_total / 100 * DISK_LOW_PCT);
}

/* A worker's share of the packets, in percent (0 when none were read). */
static double worker_share(const struct status *st, unsigned i)
{
    long long all = 0;
    for (unsigned j = 0; j < st->nworkers; j++)
        all += st->wpackets[j];
    return all > 0 ? 100.0 * (double)st->wpackets[i] / (double)all : 0.0;
}

/* Drops with several workers: when nine tenths of the kernel's drops are one worker's and it
 * reads half as much again as its even share, say so. The link is spread by address pair, so
 * a NAT address or one front end carrying most of the traffic loads one worker (README). */
static void worker_reason(struct status *st)
{
    long long all = 0;
    unsigned k = 0;
    char r[160];

    for (unsigned i = 0; i < st->nworkers; i++) {
        all += st->wdrops[i];
        if (st->wdrops[i] > st->wdrops[k])
            k = i;
    }
    if (all == 0 || st->wdrops[k] < all - all / 10 ||
        worker_share(st, k) * st->nworkers < 150.0)
        return;
    snprintf(r, sizeof(r), "kernel drops on worker %u, which reads %.0f%% of the packets (one "
             "address pair may carry most of the link)", k, worker_share(st, k));
    reason(st, r);
}

/* The verdict: not running, degraded (and why) or healthy. */
static void judge(struct status *st)
{
    char r[128];
    st->code = ST_HEALTHY;
    if (!st->running) {
        st->code = ST_DOWN;
        return;
    }
    if (st->unresponsive)
        reason(st, "no heartbeat from a live process");
    if (st->recent_drops > 0) {
        snprintf(r, sizeof(r), "%lld packets or handshakes dropped or cut short in the last minute",
                 st->recent_drops);
        reason(st, r);
    }
    if (st->recent_drops > 0 && st->nworkers > 1)
        worker_reason(st);
    if (!st->list_loaded || st->list_age_days < 0 || st->list_age_days > LIST_STALE_DAYS) {
        snprintf(r, sizeof(r), "endpoint list %s", st->list_loaded ? "older than 30 days"
                 : "not loaded");
        reason(st, r);
    }
    if (st->last_error[0])
        reason(st, "an error was logged");
    if (disk_low(st)) {
        snprintf(r, sizeof(r), "%.1f MiB free on the database's file system",
                 (double)st->disk_free / 1048576.0);
        reason(st, r);
    }
    if (st->reasons[0])
        st->code = ST_DEGRADED;
}

/* "12.3 MiB" or "4.5 GiB" into buf[24]. */
static const char *size_text(long long bytes, char buf[24])
{
    double mib = (double)bytes / 1048576.0;
    if (mib >= 1024.0)
        snprintf(buf, 24, "%.1f GiB", mib / 1024.0);
    else
        snprintf(buf, 24, "%.1f MiB", mib);
    return buf;
}

/* "label  value" with value escaped for the terminal. */
static void line(const char *label, const char *value)
{
    printf("  %-15s", label);
    ta_out_table_text(stdout, value);
    putchar('\n');
}

static void print_text(const struct status *st, const char *path)
{
    static const char *const verdict[] = { "healthy", "degraded", "not running" };
    char buf[1024];

    if (!st->have_run) {
        printf("tlsaudit: not running: no capture has written into this database\n");
    } else if (st->running) {
        fputs("tlsaudit: running since ", stdout);
        ta_out_table_text(stdout, st->started);     /* the file's text: escaped like the host */
        printf(" (run %lld, pid %lld on ", st->run_id, st->pid);
        ta_out_table_text(stdout, st->host);
        printf(")%s\n", st->unresponsive ? ", but its heartbeat stopped" : "");
    } else if (st->ended[0]) {
        fputs("tlsaudit: not running since ", stdout);
        ta_out_table_text(stdout, st->ended);
        printf(" (run %lld ended)\n", st->run_id);
    } else {
        fputs("tlsaudit: not running since ", stdout);
        ta_out_table_text(stdout, st->heartbeat[0] ? st->heartbeat : st->started);
        printf(" (run %lld, pid %lld: died without ending its run; last heartbeat)\n",
               st->run_id, st->pid);
    }
    if (st->have_run) {
        line("source:", st->source);
        snprintf(buf, sizeof(buf), "%s (%lld s ago)", st->heartbeat[0] ? st->heartbeat : "none",
                 st->hb_age_s);
        line("heartbeat:", buf);
        snprintf(buf, sizeof(buf), "%lld (kernel drops %lld, own drops %lld; %lld in the last "
                 "minute)", st->packets, st->drops + st->if_drops, st->own_drops,
                 st->recent_drops);
        line("packets:", buf);
        if (st->nworkers > 1) {
            size_t off = (size_t)snprintf(buf, sizeof(buf), "%u, packets", st->nworkers);
            for (unsigned i = 0; i < st->nworkers && off < sizeof(buf); i++)
                off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s %.1f%%",
                                        i ? " /" : "", worker_share(st, i));
            for (unsigned i = 0; i < st->nworkers && off < sizeof(buf); i++)
                off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s %lld",
                                        i ? " /" : ", kernel drops", st->wdrops[i]);
            line("workers:", buf);
        }
        snprintf(buf, sizeof(buf), "%lld (%.1f per second over the last minute)",
                 st->handshakes, st->hs_rate);
        line("handshakes:", buf);
    }
    snprintf(buf, sizeof(buf), "%s, %.1f MiB, oldest day %s", path,
             (double)st->db_bytes / 1048576.0, st->oldest_day[0] ? st->oldest_day : "none");
    line("database:", buf);
    if (st->disk_known) {
        char fr[24], tot[24], wal[24];
        snprintf(buf, sizeof(buf), "%s free of %s (the -wal file: %s)%s",
                 size_text(st->disk_free, fr), size_text(st->disk_total, tot),
                 size_text(st->wal_bytes, wal),
                 disk_low(st) ? ": WARNING: nearly full, a capture may lose batches" : "");
        line("disk:", buf);
    }
    if (st->list_loaded)
        snprintf(buf, sizeof(buf), "%s %s, %s %s (%lld days old)%s", st->list_instance,
                 st->list_version, st->list_builtin ? "built-in, loaded" : "imported",
                 st->list_imported, st->list_age_days,
                 st->list_age_days > LIST_STALE_DAYS ? ": WARNING: older than 30 days, run "
                 "tlsaudit endpoints import" : "");
    else
        snprintf(buf, sizeof(buf), "none loaded yet (the built-in list is loaded by a capture)");
    line("endpoint list:", buf);
    line("last error:", st->last_error[0] ? st->last_error : "none");
    if (st->config[0]) {
        snprintf(buf, sizeof(buf), "%s, reloaded %lld time%s%s%s", st->config, st->reloads,
                 st->reloads == 1 ? "" : "s", st->reloaded[0] ? ", last " : "", st->reloaded);
        line("config:", buf);
    }
    printf("status: %s", verdict[st->code]);
    if (st->reasons[0]) {
        fputs(": ", stdout);
        ta_out_table_text(stdout, st->reasons);
    }
    putchar('\n');
}

/* One row for monitoring, through the output writer (its escaping, its formats). */
static int print_machine(const struct status *st, const char *path, enum ta_out_format fmt)
{
    static const char *const state[] = { "healthy", "degraded", "not_running" };
    static const struct ta_out_col cols[] = {
        { "status", false }, { "exit", true }, { "running", true }, { "reasons", false },
        { "run_id", true }, { "since", false }, { "ended", false }, { "pid", true },
        { "host", false }, { "source", false }, { "heartbeat", false },
        { "heartbeat_age_s", true }, { "packets", true }, { "kernel_drops", true },
        { "own_drops", true }, { "recent_drops", true }, { "handshakes", true },
        { "handshakes_per_s", true }, { "db", false }, { "db_bytes", true },
        { "oldest_day", false }, { "endpoints_instance", false },
        { "endpoints_version", false }, { "endpoints_builtin", true },
        { "endpoints_loaded_at", false }, { "endpoints_age_days", true },
        { "last_error", false }, { "config", false }, { "reloads", true }, { "reloaded", false },
        { "wal_bytes", true }, { "disk_free_bytes", true }, { "disk_total_bytes", true },
        { "workers", true }, { "worker_packets", false }, { "worker_drops", false },
    };
    char wp[TA_STORE_WORKERS_MAX * 21], wd[TA_STORE_WORKERS_MAX * 21];
    char num[24][32];
    const char *cells[TA_ARRAY_LEN(cols)];
    struct ta_out *o;
    int n = 0, c = 0;

#define NUM(v) (snprintf(num[n], sizeof(num[n]), "%lld", (long long)(v)), num[n++])
#define TXT(v) ((v)[0] ? (v) : NULL)
    cells[c++] = state[st->code];
    cells[c++] = NUM(st->code);
    cells[c++] = NUM(st->running);
    cells[c++] = TXT(st->reasons);
    cells[c++] = st->have_run ? NUM(st->run_id) : NULL;
    cells[c++] = TXT(st->started);
    cells[c++] = TXT(st->ended);
    cells[c++] = st->pid ? NUM(st->pid) : NULL;
    cells[c++] = TXT(st->host);
    cells[c++] = TXT(st->source);
    cells[c++] = TXT(st->heartbeat);
    cells[c++] = st->hb_age_s >= 0 ? NUM(st->hb_age_s) : NULL;
    cells[c++] = NUM(st->packets);
    cells[c++] = NUM(st->drops + st->if_drops);
    cells[c++] = NUM(st->own_drops);
    cells[c++] = NUM(st->recent_drops);
    cells[c++] = NUM(st->handshakes);
    snprintf(num[n], sizeof(num[n]), "%.2f", isfinite(st->hs_rate) ? st->hs_rate : 0.0);
    cells[c++] = num[n++];
    cells[c++] = path;
    cells[c++] = NUM(st->db_bytes);
    cells[c++] = TXT(st->oldest_day);
    cells[c++] = TXT(st->list_instance);
    cells[c++] = TXT(st->list_version);
    cells[c++] = st->list_loaded ? NUM(st->list_builtin) : NULL;
    cells[c++] = TXT(st->list_imported);
    cells[c++] = st->list_loaded && st->list_age_days >= 0 ? NUM(st->list_age_days) : NULL;
    cells[c++] = TXT(st->last_error);
    cells[c++] = TXT(st->config);
    cells[c++] = NUM(st->reloads);
    cells[c++] = TXT(st->reloaded);
    cells[c++] = NUM(st->wal_bytes);
    cells[c++] = st->disk_known ? NUM(st->disk_free) : NULL;
    cells[c++] = st->disk_known ? NUM(st->disk_total) : NULL;
    cells[c++] = st->nworkers ? NUM(st->nworkers) : NULL;
    wp[0] = wd[0] = '\0';
    for (unsigned i = 0, op = 0, od = 0; i < st->nworkers; i++) {
        op += (unsigned)snprintf(wp + op, sizeof(wp) - op, "%s%lld", i ? " " : "", st->wpackets[i]);
        od += (unsigned)snprintf(wd + od, sizeof(wd) - od, "%s%lld", i ? " " : "", st->wdrops[i]);
    }
    cells[c++] = TXT(wp);
    cells[c++] = TXT(wd);
#undef NUM
#undef TXT
    if (!(o = ta_out_new(stdout, fmt, cols, TA_ARRAY_LEN(cols))))
        return -1;
    if (ta_out_row(o, cells) != 0) {
        ta_out_end(o);
        return -1;
    }
    return ta_out_end(o);
}

/* See commands.h. */
int ta_cmd_status(int argc, char **argv)
{
    const char *db_path = NULL, *format = "text";
    char errbuf[TA_ERRBUF_SIZE];
    enum ta_out_format fmt = TA_OUT_TABLE;
    struct status st;
    struct stat sb;
    sqlite3 *db = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db_path = argv[++i];
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            format = argv[++i];
        } else {
            ta_fprint_errf(stderr, "tlsaudit status: ", "unexpected argument '%s'", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (strcmp(format, "text") != 0 &&
        (ta_out_format_parse(format, &fmt) != 0 || fmt == TA_OUT_TABLE))
        db_path = NULL;               /* refused below with the usage */
    if (!db_path) {
        usage(stderr);
        return 2;
    }
    memset(&st, 0, sizeof(st));
    if (stat(db_path, &sb) != 0) {
        fputs("tlsaudit: not running: ", stdout);
        ta_out_table_text(stdout, db_path);
        fputs(": no such database\n", stdout);
        return ST_DOWN;
    }
    if (ta_store_open_ro(db_path, &db, errbuf) != TA_OK) {
        fprintf(stderr, "tlsaudit status: ");
        ta_out_table_text(stderr, errbuf);
        fputc('\n', stderr);
        return ST_DOWN;
    }
    if (find_run(db, &st) != SQLITE_OK) {
        ta_fprint_errf(stderr, "tlsaudit status: ", "%s: %s", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return ST_DOWN;
    }
    read_workers(db, &st);
    read_store(db, db_path, &st);
    sqlite3_close(db);
    judge(&st);
    if (strcmp(format, "text") == 0)
        print_text(&st, db_path);
    else if (print_machine(&st, db_path, fmt) != 0)
        return ST_DOWN;
    return st.code;
}
