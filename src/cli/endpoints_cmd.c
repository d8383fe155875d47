/* endpoints_cmd.c - `tlsaudit endpoints {import FILE.json|show}`: load Microsoft's endpoint feed
 * into a database (then re-classify the stored rows), or show which list is in force. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "tlsaudit/commands.h"
#include "tlsaudit/common.h"
#include "tlsaudit/embedded.h"
#include "tlsaudit/o365.h"
#include "tlsaudit/output.h"
#include "tlsaudit/store.h"

#define JSON_FILE_MAX (64u << 20)   /* Microsoft's worldwide feed is ~100 KB */

struct ep_opts {
    const char *sub, *file, *db, *instance, *version, *format;
    bool list, help;
};

static void usage(FILE *fp)
{
    fputs("usage: tlsaudit endpoints import FILE.json --db DB [--instance Worldwide|USGovDoD|"
          "USGovGCCHigh|China]\n"
          "                           [--version YYYYMMDDNN]\n"
          "       tlsaudit endpoints show --db DB [--format table|csv|json|jsonl] [--list]\n"
          "\n"
          "import  replace the list of that instance (default Worldwide) by FILE.json, the output\n"
          "        of Microsoft's endpoints web service (an array of endpoint sets), then\n"
          "        re-classify every stored row. The version is --version, else the 10-digit\n"
          "        YYYYMMDDNN in the file name, else today's date.\n"
          "show    the list in force (built-in or imported): instance, version, source, date,\n"
          "        URL patterns and ranges per service area; --list prints every pattern/range.\n",
          fp);
}

/* Parse argv (argv[0] = "endpoints"). Returns 0, or 2 on a usage error (message printed). */
static int parse_args(int argc, char **argv, struct ep_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->instance = "Worldwide";
    o->format = "table";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = true;
            return 0;
        } else if (strcmp(a, "--list") == 0) {
            o->list = true;
            continue;
        } else if (strcmp(a, "--db") == 0) {
            slot = &o->db;
        } else if (strcmp(a, "--instance") == 0) {
            slot = &o->instance;
        } else if (strcmp(a, "--version") == 0) {
            slot = &o->version;
        } else if (strcmp(a, "--format") == 0) {
            slot = &o->format;
        } else if (a[0] == '-' && a[1]) {
            ta_print_err("tlsaudit endpoints: unknown option ", a);
            return 2;
        } else if (!o->sub) {
            o->sub = a;
            continue;
        } else if (!o->file) {
            o->file = a;
            continue;
        } else {
            ta_print_err("tlsaudit endpoints: unexpected argument ", a);
            return 2;
        }
        if (++i >= argc) {
            ta_fprint_errf(stderr, "tlsaudit endpoints: ", "%s needs a value", a);
            return 2;
        }
        *slot = argv[i];
    }
    return 0;
}

/* Canonical spelling of a service instance name, or NULL (Germany was retired in 2021). */
static const char *canonical_instance(const char *s)
{
    static const char *const names[] = { "Worldwide", "USGovDoD", "USGovGCCHigh", "China" };
    for (size_t i = 0; i < TA_ARRAY_LEN(names); i++)
        if (strcasecmp(s, names[i]) == 0)
            return names[i];
    return NULL;
}

/* Whole file as a NUL-terminated string (caller frees), or NULL with errbuf set. */
static char *read_file(const char *path, char *errbuf)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (!fp) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot open", path);
        return NULL;
    }
    for (;;) {
        if (cap - n < 65536) {
            char *nb = cap < JSON_FILE_MAX ? realloc(buf, cap + 65537) : NULL;
            if (!nb) {
                snprintf(errbuf, TA_ERRBUF_SIZE, "%s: larger than %u MiB", path,
                         JSON_FILE_MAX >> 20);
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = nb;
            cap += 65536;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    fclose(fp);
    buf[n] = '\0';
    if (strlen(buf) != n) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: contains NUL bytes, not JSON text", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* Version: the first run of exactly 10 digits in the file's base name, else today (UTC). */
static void version_for(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (const char *p = base; *p; p++) {
        size_t d = 0;
        while (isdigit((unsigned char)p[d]))
            d++;
        if (d == 10 && (p == base || !isdigit((unsigned char)p[-1]))) {
            snprintf(out, cap, "%.10s", p);
            return;
        }
        if (d)
            p += d - 1;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, cap, "%Y%m%d00", &tm);
}

/* One integer from a query without parameters (-1 on error). */
static long long count_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void print_error(const char *msg)
{
    fputs("tlsaudit endpoints: ", stderr);
    ta_out_table_text(stderr, msg);
    fputc('\n', stderr);
}

static int cmd_import(const struct ep_opts *o, sqlite3 *db)
{
    char errbuf[TA_ERRBUF_SIZE], version[32];
    const char *inst = canonical_instance(o->instance);
    char *json;
    int rc;

    if (!inst) {
        fprintf(stderr, "tlsaudit endpoints: --instance must be Worldwide, USGovDoD, "
                "USGovGCCHigh or China\n");
        return 2;
    }
    if (o->version)
        snprintf(version, sizeof(version), "%s", o->version);
    else
        version_for(o->file, version, sizeof(version));
    if (!(json = read_file(o->file, errbuf))) {
        print_error(errbuf);
        return 1;
    }
    rc = ta_o365_import(db, json, inst, version, o->file, false, errbuf);
    free(json);
    if (rc == TA_OK)
        rc = ta_o365_classify(db, errbuf);
    if (rc == TA_OK)   /* the inventory follows the new verdicts */
        rc = ta_store_refresh(db, errbuf);
    if (rc != TA_OK) {
        print_error(errbuf);
        return 1;
    }
    printf("imported %lld endpoint sets: %lld URL patterns, %lld address ranges (%s, version ",
           count_of(db, "SELECT count(DISTINCT endpoint_id) FROM (SELECT endpoint_id FROM "
                    "endpoint_urls WHERE set_id = (SELECT max(id) FROM endpoint_sets) UNION ALL "
                    "SELECT endpoint_id FROM endpoint_ips WHERE set_id = (SELECT max(id) FROM "
                    "endpoint_sets))"),
           count_of(db, "SELECT count(*) FROM endpoint_urls WHERE set_id = (SELECT max(id) "
                    "FROM endpoint_sets)"),
           count_of(db, "SELECT count(*) FROM endpoint_ips WHERE set_id = (SELECT max(id) "
                    "FROM endpoint_sets)"), inst);
    ta_out_table_text(stdout, version);
    printf(")\nre-classified: %lld of %lld handshakes and %lld of %lld mail sessions are "
           "Office 365\n", count_of(db, "SELECT count(*) FROM handshakes WHERE o365 = 1"),
           count_of(db, "SELECT count(*) FROM handshakes"),
           count_of(db, "SELECT count(*) FROM mail_sessions WHERE o365 = 1"),
           count_of(db, "SELECT count(*) FROM mail_sessions"));
    return 0;
}

/* Run a query and print its rows with the output writer; every column is text. */
static int print_query(sqlite3 *db, const char *sql, enum ta_out_format fmt,
                       const struct ta_out_col *cols, size_t ncols)
{
    sqlite3_stmt *s = NULL;
    const char *cells[16];
    struct ta_out *o;
    int rc = 0;
    if (ncols > TA_ARRAY_LEN(cells) || sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        print_error(sqlite3_errmsg(db));
        return 1;
    }
    if (!(o = ta_out_new(stdout, fmt, cols, ncols))) {
        sqlite3_finalize(s);
        return 1;
    }
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        for (size_t i = 0; i < ncols; i++)
            cells[i] = (const char *)sqlite3_column_text(s, (int)i);
        rc = ta_out_row(o, cells) == 0 ? 0 : 1;
    }
    sqlite3_finalize(s);
    return ta_out_end(o) == 0 ? rc : 1;
}

/* The list in force, one row per service area with its counts. */
#define SQL_SUMMARY \
    "WITH cur AS (SELECT * FROM endpoint_sets ORDER BY id DESC LIMIT 1), " \
    "areas AS (SELECT service_area FROM endpoint_urls WHERE set_id = (SELECT id FROM cur) " \
    "          UNION SELECT service_area FROM endpoint_ips WHERE set_id = (SELECT id FROM cur)) " \
    "SELECT CASE WHEN cur.builtin THEN 'built-in' ELSE 'imported' END AS list, cur.instance, " \
    "cur.version, cur.source, cur.imported_at, a.service_area, " \
    "(SELECT count(*) FROM endpoint_urls u WHERE u.set_id = cur.id " \
    "   AND u.service_area = a.service_area) AS url_patterns, " \
    "(SELECT count(*) FROM endpoint_ips i WHERE i.set_id = cur.id " \
    "   AND i.service_area = a.service_area AND i.ipver = 4) AS ipv4_ranges, " \
    "(SELECT count(*) FROM endpoint_ips i WHERE i.set_id = cur.id " \
    "   AND i.service_area = a.service_area AND i.ipver = 6) AS ipv6_ranges " \
    "FROM cur, areas a ORDER BY a.service_area"

static const char SQL_LIST[] =
    "SELECT * FROM (SELECT service_area, endpoint_id, 'url' AS type, pattern AS value, tcp_ports, "
    "category, required FROM endpoint_urls WHERE set_id = (SELECT max(id) FROM endpoint_sets) "
    "UNION ALL SELECT service_area, endpoint_id, 'ipv' || ipver, cidr, NULL, NULL, NULL "
    "FROM endpoint_ips WHERE set_id = (SELECT max(id) FROM endpoint_sets)) "
    "ORDER BY service_area, endpoint_id, type <> 'url', type, value";

/* For the built-in list: which publication of Microsoft's list it is, from the wrapper object of
 * data/o365_endpoints.json. A database keeps the built-in list it was first given; when that is
 * not this binary's (version differs), say so instead. */
static void print_builtin_origin(sqlite3 *db, const char *version)
{
    const struct ta_embedded *e = ta_embedded_find(TA_O365_BUILTIN);
    sqlite3_stmt *s = NULL;
    if (e && version && sqlite3_prepare_v2(db, "SELECT json_extract(?1, '$.version') = ?2, "
                                           "json_extract(?1, '$.docsDate'), "
                                           "json_extract(?1, '$.version'), "
                                           "json_extract(?1, '$.generated') "
                                           "WHERE json_valid(?1)", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, (const char *)e->data, (int)e->len, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, version, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 2)) {
            const char *date = (const char *)sqlite3_column_text(s, 1);
            const char *gen = (const char *)sqlite3_column_text(s, 3);
            if (sqlite3_column_int(s, 0)) {
                fputs("published:     Microsoft 365 URLs and IP address ranges, last updated ",
                      stdout);
                ta_out_table_text(stdout, date ? date : "?");
                fputs("; worldwide endpoints generated ", stdout);
                ta_out_table_text(stdout, gen ? gen : "?");
            } else {
                fputs("note:          this tlsaudit's built-in list is version ", stdout);
                ta_out_table_text(stdout, (const char *)sqlite3_column_text(s, 2));
                fputs("; the database keeps the one it was created with", stdout);
            }
            fputc('\n', stdout);
        }
    }
    sqlite3_finalize(s);
}

static int cmd_show(const struct ep_opts *o, sqlite3 *db)
{
    static const struct ta_out_col sum_cols[] = {
        { "list", false }, { "instance", false }, { "version", false }, { "source", false },
        { "imported_at", false }, { "service_area", false }, { "url_patterns", true },
        { "ipv4_ranges", true }, { "ipv6_ranges", true },
    };
    static const struct ta_out_col area_cols[] = {
        { "service_area", false }, { "url_patterns", true }, { "ipv4_ranges", true },
        { "ipv6_ranges", true },
    };
    static const struct ta_out_col list_cols[] = {
        { "service_area", false }, { "endpoint_id", true }, { "type", false },
        { "value", false }, { "tcp_ports", false }, { "category", false }, { "required", true },
    };
    enum ta_out_format fmt;
    char errbuf[TA_ERRBUF_SIZE];

    if (ta_out_format_parse(o->format, &fmt) != 0) {
        fprintf(stderr, "tlsaudit endpoints: --format must be table, csv, json or jsonl\n");
        return 2;
    }
    if (ta_o365_ensure_default(db, errbuf) != TA_OK) {
        print_error(errbuf);
        return 1;
    }
    if (fmt != TA_OUT_TABLE)   /* machine formats: one result set, the list or the summary */
        return o->list ? print_query(db, SQL_LIST, fmt, list_cols, TA_ARRAY_LEN(list_cols))
                       : print_query(db, SQL_SUMMARY, fmt, sum_cols, TA_ARRAY_LEN(sum_cols));
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT CASE WHEN builtin THEN 'built-in' ELSE 'imported' END, "
                           "instance, version, source, imported_at, builtin FROM endpoint_sets "
                           "ORDER BY id DESC LIMIT 1", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        static const char *const label[] = { "list in force: ", "instance:      ",
                                             "version:       ", "source:        ",
                                             "loaded:        " };
        for (int i = 0; i < 5; i++) {
            fputs(label[i], stdout);
            ta_out_table_text(stdout, (const char *)sqlite3_column_text(s, i));
            fputc('\n', stdout);
        }
        if (sqlite3_column_int(s, 5))
            print_builtin_origin(db, (const char *)sqlite3_column_text(s, 2));
        fputc('\n', stdout);
    }
    sqlite3_finalize(s);
    int rc = print_query(db, "SELECT service_area, url_patterns, ipv4_ranges, ipv6_ranges "
                         "FROM (" SQL_SUMMARY ")",
                         fmt, area_cols, TA_ARRAY_LEN(area_cols));
    if (rc == 0 && o->list) {
        fputc('\n', stdout);
        rc = print_query(db, SQL_LIST, fmt, list_cols, TA_ARRAY_LEN(list_cols));
    }
    return rc;
}

int ta_cmd_endpoints(int argc, char **argv)
{
    struct ep_opts o;
    struct ta_store *st = NULL;
    char errbuf[TA_ERRBUF_SIZE];
    struct stat sb;
    int rc = parse_args(argc, argv, &o);

    if (rc || o.help) {
        usage(rc ? stderr : stdout);
        return rc;
    }
    bool import = o.sub && strcmp(o.sub, "import") == 0;
    bool show = o.sub && strcmp(o.sub, "show") == 0;
    if ((!import && !show) || !o.db || (import && !o.file) || (show && o.file)) {
        usage(stderr);
        return 2;
    }
    if (show && stat(o.db, &sb) != 0) {   /* show never creates a database */
        ta_fprint_errf(stderr, "tlsaudit endpoints: ", "%s: no such database", o.db);
        return 1;
    }
    if (ta_store_open(o.db, &st, errbuf) != TA_OK) {
        print_error(errbuf);
        return 1;
    }
    rc = import ? cmd_import(&o, ta_store_db(st)) : cmd_show(&o, ta_store_db(st));
    ta_store_close(st);
    return rc;
}
