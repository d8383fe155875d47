/* export_cmd.c - `tlsaudit export --db FILE --format ecs [--follow] [--since T] [--cursor F]`:
 * the handshakes and mail sessions of a database as ECS JSON lines on stdout (src/cli/ecs.c), for
 * the shippers people already run (Filebeat, Vector, Fluent Bit) to carry to their SIEM.
 *
 * Rows go out in id order (the order the writer committed them), handshakes first, then mail
 * sessions, in batches of at most EXPORT_BATCH rows so memory does not grow with the backlog.
 * --cursor FILE remembers the last id written of each table; it is rewritten (write, fsync,
 * rename) after each batch has been flushed to stdout, so a restarted export neither repeats nor
 * skips rows (a crash between the flush and the rename repeats at most that one batch).
 * --follow polls for new rows until SIGINT/SIGTERM, which end it cleanly (exit 0). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecs_int.h"
#include "tlsaudit/commands.h"
#include "tlsaudit/common.h"
#include "tlsaudit/query.h"
#include "tlsaudit/store.h"

#define EXPORT_BATCH 1000
#define CURSOR_MAGIC "tlsaudit-export-cursor 1"

struct export_opts {
    const char *db, *cursor;
    bool follow;
    long long since_us;
    double interval_s;
};

/* Position in each table: the last id written. */
struct export_cursor {
    long long hs, mail;
};

typedef void (*ecs_row_fn)(FILE *, sqlite3_stmt *);

static volatile sig_atomic_t export_stop;

static void export_on_signal(int sig)
{
    (void)sig;
    export_stop = 1;
}

static void export_usage(FILE *fp)
{
    fprintf(fp,
        "usage: tlsaudit export --db FILE --format ecs [--follow] [--since TIME]\n"
        "                       [--cursor FILE] [--interval SECONDS]\n"
        "One Elastic Common Schema (ECS %s) JSON object per line per handshake and per mail\n"
        "session. --cursor FILE keeps the position across runs; --follow waits for new rows.\n",
        TA_ECS_VERSION);
}

/* Read the cursor file; a missing file is position zero. Returns 0, or -1 (message printed)
 * when the file exists but is not a cursor: better stop than re-export or skip everything. */
static int cursor_load(const char *path, struct export_cursor *c)
{
    char magic[64];
    FILE *fp = fopen(path, "r");
    c->hs = c->mail = 0;
    if (!fp && errno == ENOENT)
        return 0;
    if (!fp) {
        ta_fprint_errf(stderr, "", "%s: %s", path, strerror(errno));   /* perror's wording */
        return -1;
    }
    int ok = fgets(magic, sizeof magic, fp) && strncmp(magic, CURSOR_MAGIC, strlen(CURSOR_MAGIC)) == 0 &&
             fscanf(fp, " handshakes %lld mail_sessions %lld", &c->hs, &c->mail) == 2 &&
             c->hs >= 0 && c->mail >= 0;
    fclose(fp);
    if (!ok)
        ta_fprint_errf(stderr, "tlsaudit export: ", "%s: not an export cursor file", path);
    return ok ? 0 : -1;
}

/* Replace the cursor file atomically: write PATH.tmp, fsync, rename. Returns 0 or -1. */
static int cursor_save(const char *path, const struct export_cursor *c)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -1;
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        return -1;
    fprintf(fp, "%s\nhandshakes %lld\nmail_sessions %lld\n", CURSOR_MAGIC, c->hs, c->mail);
    int rc = fflush(fp) == 0 && fsync(fileno(fp)) == 0 ? 0 : -1;
    if (fclose(fp) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    return rc;
}

/* Write one batch of rows after *last from stmt s (prepared from an ecs SELECT), flush stdout.
 * Returns the rows written (and moves *last), or -1 on a database or write error. */
static long export_batch(sqlite3 *db, sqlite3_stmt *s, ecs_row_fn row, long long *last,
                         long long since_us)
{
    long n = 0;
    long long at = *last;
    int rc;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, at);
    sqlite3_bind_int64(s, 2, since_us);
    sqlite3_bind_int(s, 3, EXPORT_BATCH);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        row(stdout, s);
        at = sqlite3_column_int64(s, 0);
        n++;
    }
    if (rc != SQLITE_DONE) {
        ta_print_err("tlsaudit export: ", sqlite3_errmsg(db));
        return -1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ta_print_err("tlsaudit export: writing the output: ", strerror(errno));
        return -1;
    }
    *last = at;
    return n;
}

/* Export everything after the cursor once, batch by batch, saving the cursor after each.
 * Returns 0 or -1. */
static int export_pass(sqlite3 *db, sqlite3_stmt *hs, sqlite3_stmt *mail,
                       const struct export_opts *o, struct export_cursor *c)
{
    long n;
    for (int t = 0; t < 2; t++) {
        do {
            n = t == 0 ? export_batch(db, hs, ta__ecs_handshake, &c->hs, o->since_us)
                       : export_batch(db, mail, ta__ecs_mail, &c->mail, o->since_us);
            if (n < 0)
                return -1;
            if (n > 0 && o->cursor && cursor_save(o->cursor, c) != 0) {
                ta_fprint_errf(stderr, "tlsaudit export: ", "%s: cannot write the cursor: %s",
                               o->cursor, strerror(errno));
                return -1;
            }
        } while (n == EXPORT_BATCH && !export_stop);
    }
    return 0;
}

/* Parse the options into o. Returns 0, 1 for --help, or 2 after a usage message. */
static int export_parse(int argc, char **argv, struct export_opts *o)
{
    const char *fmt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return 1;
        if (strcmp(a, "--follow") == 0) {
            o->follow = true;
            continue;
        }
        if (!v || (strcmp(a, "--db") && strcmp(a, "--format") && strcmp(a, "--since") &&
                   strcmp(a, "--cursor") && strcmp(a, "--interval"))) {
            ta_print_err("tlsaudit export: unknown option or missing value: ", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--db") == 0) {
            o->db = v;
        } else if (strcmp(a, "--format") == 0) {
            fmt = v;
        } else if (strcmp(a, "--cursor") == 0) {
            o->cursor = v;
        } else if (strcmp(a, "--since") == 0) {
            int date_only;
            if (ta_query_parse_time(v, &o->since_us, &date_only) != 0) {
                ta_print_err("tlsaudit export: --since: not a UTC date or time: ", v);
                return 2;
            }
        } else {
            char *end;
            o->interval_s = strtod(v, &end);
            if (*end || !(o->interval_s >= 0.05 && o->interval_s <= 3600)) {
                fprintf(stderr, "tlsaudit export: --interval: 0.05 to 3600 seconds\n");
                return 2;
            }
        }
    }
    if (!o->db || !fmt || strcmp(fmt, "ecs") != 0) {
        fprintf(stderr, "tlsaudit export: --db FILE and --format ecs are required\n");
        return 2;
    }
    return 0;
}

/* Sleep s seconds in short steps, returning early when a signal asked us to stop. */
static void export_sleep(double s)
{
    for (double left = s; left > 0 && !export_stop; left -= 0.05) {
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* See commands.h. */
int ta_cmd_export(int argc, char **argv)
{
    struct export_opts o = { .interval_s = 1.0 };
    struct export_cursor c = { 0, 0 };
    char err[TA_ERRBUF_SIZE];
    sqlite3 *db = NULL;
    sqlite3_stmt *hs = NULL, *mail = NULL;
    int rc = export_parse(argc, argv, &o);
    if (rc != 0) {
        export_usage(rc == 1 ? stdout : stderr);
        return rc == 1 ? 0 : 2;
    }
    if (o.cursor && cursor_load(o.cursor, &c) != 0)
        return 1;
    if (ta_store_open_ro(o.db, &db, err) != TA_OK) {
        ta_print_err("tlsaudit export: ", err);
        return 1;
    }
    if (sqlite3_prepare_v2(db, ta__ecs_handshake_sql, -1, &hs, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, ta__ecs_mail_sql, -1, &mail, NULL) != SQLITE_OK) {
        ta_fprint_errf(stderr, "tlsaudit export: ", "%s: %s", o.db, sqlite3_errmsg(db));
        rc = 1;
        goto out;
    }
    signal(SIGINT, export_on_signal);
    signal(SIGTERM, export_on_signal);
    signal(SIGPIPE, SIG_IGN);
    do {
        if (export_pass(db, hs, mail, &o, &c) != 0) {
            rc = 1;
            break;
        }
        if (o.follow)
            export_sleep(o.interval_s);
    } while (o.follow && !export_stop);
out:
    sqlite3_finalize(hs);
    sqlite3_finalize(mail);
    sqlite3_close(db);
    return rc;
}
