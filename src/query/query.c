/* query.c - `tlsaudit query`: command line, filters shared by every report, dispatch.
 *
 * Reports read the database through a read-only connection (ta_store_open_ro), so a query never
 * blocks or alters a capture writing the same file. Filters become SQL terms with named
 * parameters; values typed by the user are bound, never pasted into SQL. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "query_int.h"
#include "tlsaudit/cidr.h"
#include "tlsaudit/common.h"
#include "tlsaudit/names.h"
#include "tlsaudit/query.h"
#include "tlsaudit/store.h"

static const char *const report_names[] = { "sessions", "legacy", "summary", "plaintext", "runs" };

static const char *const report_help[] = {
    "one row per handshake (TLS connection or STARTTLS upgrade), oldest first",
    "one row per client that used SSL 2.0/3.0 or TLS 1.0/1.1 (or offered nothing newer and\n"
    "  was refused); Office 365 destinations only unless --all",
    "handshakes and clients by negotiated version (Office 365 and other), by application,\n"
    "  and the share of legacy handshakes",
    "mail/FTP sessions seen in clear: STARTTLS offered, used, refused; AUTH or MAIL in clear",
    "capture runs: source, filter, times, packet and flow counters, outcome",
};

/* Usage of one report (or of the command when r < 0) to fp. */
static void usage(FILE *fp, int r)
{
    if (r < 0) {
        fprintf(fp, "usage: tlsaudit query REPORT --db FILE [options]\nreports:\n");
        for (size_t i = 0; i < TA_ARRAY_LEN(report_names); i++)
            fprintf(fp, "  %-10s %s\n", report_names[i], report_help[i]);
        fprintf(fp, "Run 'tlsaudit query REPORT --help' for the options; see tlsaudit(1).\n");
        return;
    }
    fprintf(fp, "usage: tlsaudit query %s --db FILE [options]\n  %s\n\noptions:\n",
            report_names[r], report_help[r]);
    fprintf(fp,
        "  --db FILE             database written by tlsaudit capture (required), or a\n"
        "                        central store: postgresql://... (tlsaudit sync)\n"
        "  --sensor NAME         only what sensor NAME captured (default: every sensor)\n"
        "  --format FMT          table (default), csv, json or jsonl\n"
        "  --since T, --until T  UTC time window: since <= time < until; T is YYYY-MM-DD or\n"
        "                        YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z]; a date-only --until\n"
        "                        includes that whole day\n");
    if (r == 4) {
        fprintf(fp, "  --fail-if-found       exit 1 when any row is reported\n");
        return;
    }
    fprintf(fp,
        "  --client CIDR         client address in CIDR (IPv4 or IPv6; a bare address is /32,/128)\n"
        "  --server CIDR         server address in CIDR\n"
        "  --sni PATTERN         %s matches PATTERN ('*' wildcard, case-insensitive)\n",
        r == 3 ? "greeting host" : "SNI");
    if (r != 3)
        fprintf(fp,
            "  --version V           negotiated version V (or, when none was negotiated, the\n"
            "                        client's highest offered): TLS 1.0, 1.2, tls1.1, ssl3, ...\n");
    fprintf(fp,
        "  --app APP             application label: https, smtp, imaps, ...\n"
        "  --o365                Office 365 destinations only%s\n"
        "  --all                 every destination%s\n",
        r == 1 ? " (default)" : "", r == 1 ? "" : " (default)");
    if (r == 0)
        fprintf(fp,
            "  --wide                table format: every column (ciphers and extensions offered,\n"
            "                        groups, signature algorithms, flags, certificate, anomalies);\n"
            "                        csv, json and jsonl always carry every column\n");
    if (r == 1)
        fprintf(fp,
            "  --wide                table format: every column (first seen, reasons, JA3, JA4,\n"
            "                        ciphers); csv, json and jsonl always carry every column\n");
    if (r == 1 || r == 2)
        fprintf(fp,
            "  --from-rows           scan the retained handshakes rows instead of reading the\n"
            "                        inventory%s (the answer before retention deleted rows)\n",
            r == 2 ? " and daily rollups" : "");
    if (r == 3)
        fprintf(fp,
            "  --no-starttls         only sessions whose server neither offered nor accepted STARTTLS\n"
            "  --offered-unused      only sessions where STARTTLS was offered but the client\n"
            "                        stayed in clear\n");
    fprintf(fp, "  --fail-if-found       exit 1 when any row is reported%s\n",
            r == 2 ? " (summary: any legacy handshake)" : "");
}

/* See query.h. Spaces, '_' and a 'v' after the tls/ssl prefix are ignored, case too. */
unsigned ta_query_parse_version(const char *s)
{
    char b[32] = { 0 };
    size_t n = 0;
    const char *rest;
    bool ssl = false;
    if (!s)
        return 0;
    for (; *s && n < sizeof b - 1; s++)
        if (*s != ' ' && *s != '_')
            b[n++] = (char)tolower((unsigned char)*s);
    b[n] = '\0';
    if (*s)
        return 0;
    if (n > 2 && b[0] == '0' && b[1] == 'x' && strspn(b + 2, "0123456789abcdef") == n - 2) {
        unsigned long v = strtoul(b + 2, NULL, 16);
        return v > 0 && v <= 0xffff ? (unsigned)v : 0;
    }
    if (n >= 3 && strspn(b, "0123456789") == n) {
        unsigned long v = strtoul(b, NULL, 10);
        return v > 0xff && v <= 0xffff ? (unsigned)v : 0;
    }
    rest = b;
    if (strncmp(b, "tls", 3) == 0) {
        rest = b + 3;
    } else if (strncmp(b, "ssl", 3) == 0) {
        rest = b + 3;
        ssl = true;
    }
    if (rest != b && *rest == 'v')
        rest++;
    static const struct { const char *text; unsigned tls, ssl; } map[] = {
        { "1", 0x0301, 0 }, { "1.0", 0x0301, 0 }, { "10", 0x0301, 0 },
        { "1.1", 0x0302, 0 }, { "11", 0x0302, 0 }, { "1.2", 0x0303, 0 }, { "12", 0x0303, 0 },
        { "1.3", 0x0304, 0 }, { "13", 0x0304, 0 },
        { "3", 0, 0x0300 }, { "3.0", 0x0300, 0x0300 }, { "30", 0, 0x0300 },
        { "2", 0, 0x0002 }, { "2.0", 0x0002, 0x0002 }, { "20", 0, 0x0002 },
    };
    for (size_t i = 0; i < TA_ARRAY_LEN(map); i++)
        if (strcmp(rest, map[i].text) == 0)
            return ssl ? map[i].ssl : (rest == b || map[i].tls >= 0x0301 ? map[i].tls : 0);
    return 0;
}

/* Read exactly n digits from *p into *v. */
static bool digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return false;
        *v = *v * 10 + (**p - '0');
    }
    return true;
}

/* See query.h. */
int ta_query_parse_time(const char *s, long long *us, int *date_only)
{
    struct tm tm = { 0 };
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, fdig = 0;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return -1;
    *date_only = *p == '\0';
    if (!*date_only) {
        if ((*p != 'T' && *p != ' ') || (p++, !digits(&p, 2, &h)) || *p++ != ':' ||
            !digits(&p, 2, &mi))
            return -1;
        if (*p == ':' && (p++, !digits(&p, 2, &sec)))
            return -1;
        if (*p == '.') {
            for (p++; isdigit((unsigned char)*p); p++, fdig++)
                if (fdig < 6)
                    frac = frac * 10 + (*p - '0');
            if (fdig == 0)
                return -1;
            for (int k = fdig; k < 6; k++)
                frac *= 10;
        }
        if (*p == 'Z')
            p++;
        if (*p)
            return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *us = (long long)t * 1000000LL + frac;
    return 0;
}

/* See query_int.h. */
void ta__q_cat(char *buf, size_t buflen, const char *text)
{
    size_t n = strlen(buf);
    if (n < buflen)
        snprintf(buf + n, buflen - n, "%s", text);
}

static void where_summary_tables(const struct ta_qopts *o, enum ta_qkind kind, char *buf,
                                 size_t buflen);

/* See query_int.h. */
void ta__q_where(const struct ta_qopts *o, enum ta_qkind kind, char *buf, size_t buflen)
{
    bool hs = kind == TA_Q_HS;
    const char *a = hs ? "h." : "m.";
    char t[256];
    if (kind == TA_Q_INV || kind == TA_Q_DAY || kind == TA_Q_ROLL) {
        where_summary_tables(o, kind, buf, buflen);
        return;
    }
    if (o->has_since) {
        snprintf(t, sizeof t, " AND %sts_us >= :since", a);
        ta__q_cat(buf, buflen, t);
    }
    if (o->has_until) {
        snprintf(t, sizeof t, " AND %sts_us < :until", a);
        ta__q_cat(buf, buflen, t);
    }
    if (o->client) {
        snprintf(t, sizeof t, " AND ta_ip_in(%sclient_ip, :client)", a);
        ta__q_cat(buf, buflen, t);
    }
    if (o->server) {
        snprintf(t, sizeof t, " AND ta_ip_in(%sserver_ip, :server)", a);
        ta__q_cat(buf, buflen, t);
    }
    if (o->sni) {
        snprintf(t, sizeof t, " AND ta_sni_match(%s, :sni)", hs ? "h.sni" : "m.greeting_host");
        ta__q_cat(buf, buflen, t);
    }
    if (o->version && hs)
        ta__q_cat(buf, buflen, " AND (h.version = :version OR (h.version IS NULL"
                               " AND h.client_max_version = :version))");
    if (o->app) {
        snprintf(t, sizeof t, " AND lower(%sapp) = lower(:app)", a);
        ta__q_cat(buf, buflen, t);
    }
    if (o->o365 == 1) {
        snprintf(t, sizeof t, " AND %so365 = 1", a);
        ta__q_cat(buf, buflen, t);
    }
    if (o->sensor) {
        snprintf(t, sizeof t, " AND %srun_id IN (SELECT id FROM runs WHERE sensor = :sensor)", a);
        ta__q_cat(buf, buflen, t);
    }
}

/* The filter terms on the inventory and the daily tables (see query_int.h): their "none" is
 * '' / 0 where the rows have NULL, so SNI and version terms say so to select the same rows. */
static void where_summary_tables(const struct ta_qopts *o, enum ta_qkind kind, char *buf,
                                 size_t buflen)
{
    if (kind == TA_Q_DAY) {
        ta__q_cat(buf, buflen, " AND h.day >= :sday AND h.day < :uday");
    }
    if (o->client && kind != TA_Q_ROLL)
        ta__q_cat(buf, buflen, " AND ta_ip_in(h.client_ip, :client)");
    if (o->server && kind == TA_Q_INV)
        ta__q_cat(buf, buflen, " AND ta_ip_in(h.server_ip, :server)");
    if (o->sni && kind == TA_Q_INV)
        ta__q_cat(buf, buflen, " AND ta_sni_match(NULLIF(h.sni, ''), :sni)");
    if (o->version && kind == TA_Q_INV)
        ta__q_cat(buf, buflen, " AND (h.version = :version OR (h.version = 0"
                               " AND h.client_max_version = :version))");
    if (o->app)
        ta__q_cat(buf, buflen, " AND lower(h.app) = lower(:app)");
    if (o->o365 == 1)
        ta__q_cat(buf, buflen, " AND h.o365 = 1");
    if (o->sensor)
        ta__q_cat(buf, buflen, " AND h.sensor = :sensor");
}

/* Bind a named parameter if the statement uses it. */
static void bind_named_text(sqlite3_stmt *s, const char *name, const char *v)
{
    int i = sqlite3_bind_parameter_index(s, name);
    if (i > 0)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static void bind_named_int(sqlite3_stmt *s, const char *name, long long v)
{
    int i = sqlite3_bind_parameter_index(s, name);
    if (i > 0)
        sqlite3_bind_int64(s, i, v);
}

/* See query_int.h. */
sqlite3_stmt *ta__q_prepare(sqlite3 *db, const struct ta_qopts *o, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
        sqlite3_finalize(s);
        return NULL;
    }
    bind_named_int(s, ":since", o->since_us);
    bind_named_int(s, ":until", o->until_us);
    bind_named_text(s, ":client", o->client);
    bind_named_text(s, ":server", o->server);
    bind_named_text(s, ":sni", o->sni);
    bind_named_int(s, ":version", o->version);
    bind_named_text(s, ":app", o->app);
    bind_named_text(s, ":sday", o->since_day);
    bind_named_text(s, ":uday", o->until_day);
    bind_named_text(s, ":sensor", o->sensor);
    return s;
}

/* See query_int.h. */
bool ta__q_summary_one_pass(const struct ta_qopts *o)
{
    return o->src == TA_QSRC_INV && !o->client && !o->server && !o->sni && !o->version;
}

/* See query_int.h. */
bool ta__q_legacy_one_pass(const struct ta_qopts *o)
{
    return o->src == TA_QSRC_INV && o->o365 == 1 && o->fmt == TA_OUT_TABLE && !o->wide;
}

/* See query_int.h. */
int ta__q_fold_run(sqlite3 *db, const struct ta_qopts *o, const char *sql, const int *err)
{
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    int rc;
    if (!s)
        return SQLITE_ERROR;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE && *err != SQLITE_MISUSE)
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db,
                       *err == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return rc;
}

const char *ta__q_version(sqlite3_stmt *s, int col, char *buf, size_t buflen)
{
    long long v = sqlite3_column_int64(s, col);
    buf[0] = '\0';
    if (sqlite3_column_type(s, col) == SQLITE_NULL || v <= 0 || v > 0xffff)
        return buf;
    return ta_version_label((uint16_t)v, buf, buflen);
}

const char *ta__q_text(sqlite3_stmt *s, int col)
{
    return (const char *)sqlite3_column_text(s, col);
}

/* Value of an option at argv[*i]: "--opt=value" or "--opt value". NULL when missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

/* True when argv[i] is option name, with or without "=value". */
static bool is_opt(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/* Parse one value-taking option into o. Returns 0, or -1 after printing why. */
static int set_value(struct ta_qopts *o, const char *name, const char *v)
{
    int date_only = 0;
    uint8_t net[16];
    unsigned prefix;
    int fam;
    if (strcmp(name, "--db") == 0) {
        o->db = v;
    } else if (strcmp(name, "--sensor") == 0) {
        o->sensor = v;
    } else if (strcmp(name, "--format") == 0) {
        if (ta_out_format_parse(v, &o->fmt) != 0)
            goto bad;
    } else if (strcmp(name, "--since") == 0 || strcmp(name, "--until") == 0) {
        long long t;
        if (ta_query_parse_time(v, &t, &date_only) != 0)
            goto bad;
        if (name[2] == 's') {
            o->has_since = true;
            o->since_us = t;
        } else {
            o->has_until = true;
            o->until_us = date_only ? t + 86400LL * 1000000LL : t;
        }
    } else if (strcmp(name, "--client") == 0 || strcmp(name, "--server") == 0) {
        if (!ta_cidr_parse(v, net, &prefix, &fam))
            goto bad;
        if (name[2] == 'c')
            o->client = v;
        else
            o->server = v;
    } else if (strcmp(name, "--sni") == 0) {
        o->sni = v;
    } else if (strcmp(name, "--version") == 0) {
        o->version = ta_query_parse_version(v);
        if (!o->version)
            goto bad;
    } else if (strcmp(name, "--app") == 0) {
        o->app = v;
    }
    return 0;
bad:
    ta_fprint_errf(o->err, "tlsaudit query: ", "invalid %s value '%s'", name, v);
    return -1;
}

/* Parse the options after the report name. Returns 0, 1 for --help, or -1 on error. */
static int parse_args(int argc, char **argv, struct ta_qopts *o, int r)
{
    static const char *const valued[] = { "--db", "--format", "--since", "--until", "--client",
                                          "--server", "--sni", "--version", "--app", "--sensor" };
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool done = false;
        for (size_t k = 0; k < TA_ARRAY_LEN(valued) && !done; k++) {
            if (!is_opt(a, valued[k]))
                continue;
            const char *v = opt_value(argc, argv, &i, valued[k]);
            if (!v) {
                fprintf(o->err, "tlsaudit query: %s needs a value\n", valued[k]);
                return -1;
            }
            if (set_value(o, valued[k], v) != 0)
                return -1;
            done = true;
        }
        if (done)
            continue;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        else if (strcmp(a, "--o365") == 0)
            o->o365 = 1;
        else if (strcmp(a, "--all") == 0)
            o->o365 = 0;
        else if (strcmp(a, "--fail-if-found") == 0)
            o->fail_if_found = true;
        else if ((r == 0 || r == 1) && strcmp(a, "--wide") == 0)
            o->wide = true;
        else if ((r == 1 || r == 2) && strcmp(a, "--from-rows") == 0)
            o->from_rows = true;
        else if (r == 3 && strcmp(a, "--no-starttls") == 0)
            o->no_starttls = true;
        else if (r == 3 && strcmp(a, "--offered-unused") == 0)
            o->offered_unused = true;
        else {
            ta_fprint_errf(o->err, "tlsaudit query ", "%s: unknown option '%s'", report_names[r],
                           a);
            return -1;
        }
    }
    return 0;
}

/* Options that do not apply to a report are refused rather than silently ignored. */
static int check_applicable(const struct ta_qopts *o, int r)
{
    const char *bad = NULL;
    if (r == 4 && (o->client || o->server || o->sni || o->version || o->app || o->o365 != -1))
        bad = "--client, --server, --sni, --version, --app, --o365 and --all";
    else if (r == 3 && o->version)
        bad = "--version";
    if (bad) {
        fprintf(o->err, "tlsaudit query %s: %s do not apply to this report\n", report_names[r],
                bad);
        return -1;
    }
    if (!o->db) {
        fprintf(o->err, "tlsaudit query %s: --db FILE is required\n", report_names[r]);
        return -1;
    }
    return 0;
}

/* One read transaction for the whole report (see query_int.h). Returns 0 or -1 (printed). */
int ta__q_snapshot(sqlite3 *db, const struct ta_qopts *o, bool map)
{
    /* capped by SQLite's SQLITE_MAX_MMAP_SIZE (2 GiB in Debian's build); pages past the map
     * are read as before */
    if (map)
        sqlite3_exec(db, "PRAGMA mmap_size = " TA_Q_MMAP_SIZE, NULL, NULL, NULL);
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

/* The retained rows report r reads, fetched into a central store's copy before it runs. */
static int src_rows(const struct ta_query_source *src, const struct ta_qopts *o, int r)
{
    char errbuf[TA_ERRBUF_SIZE];
    long long lo = o->has_since ? o->since_us : 0, hi = o->has_until ? o->until_us : INT64_MAX;
    bool hs = r == 0 || ((r == 1 || r == 2) && o->src == TA_QSRC_ROWS);
    bool mail = r == 0 || r == 2 || r == 3;
    if ((hs && src->rows(src->ctx, "handshakes", lo, hi, errbuf) != 0) ||
        (mail && src->rows(src->ctx, "mail_sessions", lo, hi, errbuf) != 0)) {
        ta_fprint_err(o->err, "tlsaudit query: ", errbuf);
        return -1;
    }
    return 0;
}

/* See query.h. */
int ta_query_main(int argc, char **argv, FILE *out, FILE *err)
{
    return ta_query_main_src(argc, argv, out, err, NULL);
}

/* See query.h. */
int ta_query_main_src(int argc, char **argv, FILE *out, FILE *err,
                      const struct ta_query_source *src)
{
    static long (*const reports[])(sqlite3 *, const struct ta_qopts *) = {
        ta__q_sessions, ta__q_legacy, ta__q_summary, ta__q_plaintext, ta__q_runs,
    };
    struct ta_qopts o = { .fmt = TA_OUT_TABLE, .o365 = -1, .out = out, .err = err };
    char errbuf[TA_ERRBUF_SIZE];
    sqlite3 *db = NULL;
    int r = -1;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? err : out, -1);
        return argc < 2 ? TA_QUERY_EXIT_ERROR : TA_QUERY_EXIT_OK;
    }
    for (size_t i = 0; i < TA_ARRAY_LEN(report_names); i++)
        if (strcmp(argv[1], report_names[i]) == 0)
            r = (int)i;
    if (r < 0) {
        ta_fprint_errf(err, "tlsaudit query: ", "unknown report '%s'", argv[1]);
        usage(err, -1);
        return TA_QUERY_EXIT_ERROR;
    }
    o.report = report_names[r];
    int pr = parse_args(argc, argv, &o, r);
    if (pr == 1) {
        usage(out, r);
        return TA_QUERY_EXIT_OK;
    }
    if (pr < 0 || check_applicable(&o, r) != 0)
        return TA_QUERY_EXIT_ERROR;
    if (r == 1 && o.o365 < 0)
        o.o365 = 1;   /* the legacy report answers the Office 365 question unless told --all */
    if (ta_store_open_ro(src ? src->path : o.db, &db, errbuf) != TA_OK) {
        ta_fprint_err(err, "tlsaudit query: ", errbuf);
        return TA_QUERY_EXIT_ERROR;
    }
    if (((r == 1 || r == 2) && ta__q_route(db, &o, r) != 0) || (src && src_rows(src, &o, r))) {
        sqlite3_close(db);
        return TA_QUERY_EXIT_ERROR;
    }
    /* the one-pass forms read narrow indexes in order: no memory map (query_int.h) */
    bool index_only = (r == 2 && ta__q_summary_one_pass(&o)) ||
                      (r == 1 && ta__q_legacy_one_pass(&o));
    long n = ta__q_snapshot(db, &o, !index_only) == 0 ? reports[r](db, &o) : -1;
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    if (n < 0)
        return TA_QUERY_EXIT_ERROR;
    return o.fail_if_found && n > 0 ? TA_QUERY_EXIT_FOUND : TA_QUERY_EXIT_OK;
}

int ta_cmd_query(int argc, char **argv)
{
    return ta_query_main(argc, argv, stdout, stderr);
}
