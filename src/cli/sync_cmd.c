/* sync_cmd.c - `tlsaudit sync --db SENSOR.db --to CONNINFO [--sensor NAME] [--follow]`: push a
 * sensor database to the central PostgreSQL (src/central/), once or, with --follow, next to a
 * running capture for as long as it runs, reconnecting with back-off when the central side or
 * the network goes away.
 *
 * The connection string may come from the environment (TLSAUDIT_SYNC_TO) instead of the
 * command line; a password in it is refused either way (libpq reads ~/.pgpass, PGPASSFILE,
 * PGPASSWORD). Messages name the target as host:port/dbname only. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tlsaudit/central.h"
#include "tlsaudit/commands.h"
#include "tlsaudit/common.h"
#include "tlsaudit/store.h"

struct sync_cmd_opts {
    const char *db, *to, *sensor;
    bool follow, quiet;
    double interval_s;
    int batch_rows;
};

static atomic_int sync_stop;          /* set by the signal handler: lock-free */

static void sync_on_signal(int sig)
{
    (void)sig;
    atomic_store(&sync_stop, 1);
}

static void sync_usage(FILE *fp)
{
    fprintf(fp,
        "usage: tlsaudit sync --db SENSOR.db --to 'postgresql://[user@]host[:port]/db[?...]'\n"
        "                     [--sensor NAME] [--follow] [--interval SECONDS] [--batch ROWS] [-q]\n"
        "Push runs, handshakes, mail sessions, DNS answers, inventory and rollups added or\n"
        "changed since the last sync. --to may be left out when TLSAUDIT_SYNC_TO is set.\n"
        "Passwords: ~/.pgpass, PGPASSFILE or PGPASSWORD, never in the connection string.\n");
}

/* Parse the options. Returns 0, 1 for --help, 2 after a usage message. */
static int sync_parse(int argc, char **argv, struct sync_cmd_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return 1;
        if (strcmp(a, "--follow") == 0 || strcmp(a, "-q") == 0) {
            *(a[1] == 'q' ? &o->quiet : &o->follow) = true;
            continue;
        }
        if (!v || (strcmp(a, "--db") && strcmp(a, "--to") && strcmp(a, "--sensor") &&
                   strcmp(a, "--interval") && strcmp(a, "--batch"))) {
            ta_print_err("tlsaudit sync: unknown option or missing value: ", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--db") == 0)
            o->db = v;
        else if (strcmp(a, "--to") == 0)
            o->to = v;
        else if (strcmp(a, "--sensor") == 0)
            o->sensor = v;
        else if (strcmp(a, "--batch") == 0)
            o->batch_rows = atoi(v);
        else
            o->interval_s = strtod(v, NULL);
    }
    if (!o->to)
        o->to = getenv("TLSAUDIT_SYNC_TO");
    if (!o->db || !o->to) {
        fprintf(stderr, "tlsaudit sync: --db FILE and --to CONNINFO (or TLSAUDIT_SYNC_TO) are "
                        "required\n");
        return 2;
    }
    if (o->batch_rows < 1 || o->batch_rows > 100000 || !(o->interval_s >= 0.1 &&
                                                         o->interval_s <= 86400)) {
        fprintf(stderr, "tlsaudit sync: --batch 1..100000 rows, --interval 0.1..86400 s\n");
        return 2;
    }
    if (o->sensor && (!o->sensor[0] || strlen(o->sensor) > 100)) {
        fprintf(stderr, "tlsaudit sync: --sensor: 1 to 100 characters\n");
        return 2;
    }
    return 0;
}

/* The loop's news on standard error; -q keeps only failures. */
static void sync_say(void *ctx, bool err, const char *line)
{
    const struct sync_cmd_opts *o = ctx;
    if (err || !o->quiet)
        ta_print_err("tlsaudit sync: ", line);
}

/* See commands.h. */
int ta_cmd_sync(int argc, char **argv)
{
    struct sync_cmd_opts o = { .interval_s = 5.0, .batch_rows = 5000 };
    struct ta_store *st = NULL;
    struct stat sb;
    char err[TA_ERRBUF_SIZE];
    int rc = sync_parse(argc, argv, &o);
    if (rc != 0) {
        sync_usage(rc == 1 ? stdout : stderr);
        return rc == 1 ? 0 : 2;
    }
    if (stat(o.db, &sb) != 0) {
        ta_fprint_errf(stderr, "tlsaudit sync: ", "%s: no such database", o.db);
        return 1;
    }
    if (ta_store_open(o.db, &st, err) != TA_OK) {
        ta_print_err("tlsaudit sync: ", err);
        return 1;
    }
    signal(SIGINT, sync_on_signal);
    signal(SIGTERM, sync_on_signal);
    signal(SIGPIPE, SIG_IGN);
    struct ta_sync_loop l = { .to = o.to, .db_path = o.db, .follow = o.follow,
                              .interval_s = o.interval_s, .say = sync_say, .ctx = &o,
                              .opts = { .sensor = o.sensor, .batch_rows = o.batch_rows,
                                        .stop = &sync_stop } };
    rc = ta_sync_loop(&l, ta_store_db(st));
    ta_store_close(st);
    return rc;
}
