/* query_rows.c - the row-per-record reports: sessions (handshakes), plaintext (mail sessions)
 * and runs. Numbers from the database become labels here (versions, cipher names, alerts). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "query_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/counters.h"
#include "tlsaudit/handshake.h"
#include "tlsaudit/names.h"

/* One row's formatted cells live in an arena allocated once per report (not per row): the
 * longest cell is the offered cipher list, TA_MAX_CIPHERS names of at most 45 characters. */
#define QROW_MAX 65536
#define QCOLS_MAX 80      /* cells of one row (sessions has the most) */

struct qarena {
    size_t off;
    char buf[QROW_MAX];
};

/* Start a new cell in a: returns where it begins (always NUL-terminated, possibly ""). */
static char *qa_start(struct qarena *a)
{
    if (a->off >= QROW_MAX)
        a->off = QROW_MAX - 1;
    a->buf[a->off] = '\0';
    return a->buf + a->off;
}

/* Append formatted text to the cell begun at start (bounded by the arena; cut when full). */
static void qa_cat(struct qarena *a, const char *start, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void qa_cat(struct qarena *a, const char *start, const char *fmt, ...)
{
    size_t at = (size_t)(start - a->buf) + strlen(start);
    va_list ap;
    if (at >= QROW_MAX - 1)
        return;
    va_start(ap, fmt);
    vsnprintf(a->buf + at, QROW_MAX - at, fmt, ap);
    va_end(ap);
}

/* Close the cell begun at start: the next cell starts after its NUL. Returns start. */
static const char *qa_end(struct qarena *a, char *start)
{
    a->off = (size_t)(start - a->buf) + strlen(start) + 1;
    return start;
}

/* A copy of text as a cell of its own. */
static const char *qa_str(struct qarena *a, const char *text)
{
    char *cell = qa_start(a);
    qa_cat(a, cell, "%s", text);
    return qa_end(a, cell);
}

typedef void (*fmt_row_fn)(sqlite3_stmt *, const char **, struct qarena *);

/* Run a prepared report statement: each row goes through fmt_row into cells, then to the
 * writer, which shows the first ncols of them. Returns the row count or -1. */
static long emit(sqlite3 *db, const struct ta_qopts *o, sqlite3_stmt *s,
                 const struct ta_out_col *cols, size_t ncols, fmt_row_fn fmt_row)
{
    const char *cells[QCOLS_MAX];
    long n = 0;
    int rc = SQLITE_NOMEM;
    struct qarena *a = malloc(sizeof *a);
    struct ta_out *out = a ? ta_out_new(o->out, o->fmt, cols, ncols) : NULL;
    if (!out) {
        fprintf(o->err, "tlsaudit query: out of memory\n");
        free(a);
        sqlite3_finalize(s);
        return -1;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(cells, 0, sizeof cells);
        a->off = 0;
        fmt_row(s, cells, a);
        if (ta_out_row(out, cells) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        n++;
    }
    if (ta_out_end(out) != 0 && rc == SQLITE_DONE)
        fprintf(o->err, "tlsaudit query: write error\n");
    if (rc != SQLITE_DONE) {
        ta_fprint_errf(o->err, "tlsaudit query: ", "%s: %s", o->db, sqlite3_errmsg(db));
        n = -1;
    }
    free(a);
    sqlite3_finalize(s);
    return n;
}

/* How the values of a stored JSON list are labelled. */
enum qlist { L_VERSIONS, L_CIPHERS, L_EXTS, L_GROUPS, L_POINTFMTS, L_SIGALGS };

/* Label of one list value into buf: the registry name from src/record/names.c, else the number
 * (extensions and point formats in decimal as JA3 writes them, the rest as 0x%04X). NULL for a
 * value the list skips (GREASE among the offered versions). */
static const char *list_label(enum qlist kind, unsigned long v, char *buf, size_t n)
{
    const char *name = NULL;
    bool dec = false;
    if (kind == L_VERSIONS)
        return v == 0 || v > 0xffff || ta_is_grease((uint16_t)v)
                   ? NULL : ta_version_label((uint16_t)v, buf, n);
    if (v > 0xffff)
        kind = L_EXTS;   /* not a wire value: print the number as stored */
    switch (kind) {
    case L_VERSIONS:
        break;
    case L_CIPHERS: name = ta_cipher_name((uint16_t)v); break;
    case L_EXTS: name = v <= 0xffff ? ta_ext_name((uint16_t)v) : NULL; dec = true; break;
    case L_GROUPS: name = ta_group_name((uint16_t)v); break;
    case L_POINTFMTS: name = v <= 0xff ? ta_point_format_name((uint8_t)v) : NULL; dec = true; break;
    case L_SIGALGS: name = ta_sigalg_name((uint16_t)v); break;
    }
    if (name)
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, dec ? "%lu" : "0x%04lX", v);
    return buf;
}

/* A JSON array of integers as stored ("[4865,4866]") to labels joined by ' ', in wire order.
 * NULL stays NULL (an empty cell; JSON null). */
static const char *list_cell(const char *json, enum qlist kind, struct qarena *a)
{
    char lab[64];
    if (!json)
        return NULL;
    char *cell = qa_start(a);
    for (const char *p = json; *p; ) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        p = end;
        if (list_label(kind, v, lab, sizeof lab))
            qa_cat(a, cell, "%s%s", cell[0] ? " " : "", lab);
    }
    return qa_end(a, cell);
}

/* sessions: column numbers of the SELECT below (the base report, then the wide columns). */
enum { S_TS, S_CIP, S_CPORT, S_SIP, S_SPORT, S_TRANSPORT, S_APP, S_STARTTLS, S_SNI, S_LEGACY,
       S_MAX, S_VERSIONS, S_VERSION, S_CIPHER, S_CIPHER_V2, S_ESTABLISHED, S_ALERT_LEVEL,
       S_ALERT_DESC, S_ALERT_DIR, S_JA3, S_JA3S, S_JA4, S_CERT_CN, S_NDPI, S_O365,
       S_O365_SERVICE, S_O365_REASON, S_NBASE };

static const char session_base_sql[] =
    "SELECT h.ts, h.client_ip, h.client_port, h.server_ip, h.server_port, h.transport, h.app,"
    " h.starttls, h.sni, h.client_legacy_version, h.client_max_version, h.client_versions,"
    " h.version, h.cipher_id, h.cipher_v2, h.established, h.alert_level, h.alert_desc,"
    " h.alert_dir, h.ja3, h.ja3s, h.ja4, h.cert_cn, h.ndpi_name, h.o365, h.o365_service,"
    " h.o365_reason";

/* The report columns. The first SESSION_NARROW are the original report, in their original
 * order (scripts read them by name and position): the table format shows only those unless
 * --wide. The rest follow the database columns of schema/001_init.sql. */
#define SESSION_NARROW 25
static const struct ta_out_col session_cols[] = {
    { "time", false }, { "client_ip", false }, { "client_port", true }, { "server_ip", false },
    { "server_port", true }, { "transport", false }, { "app", false }, { "starttls", true },
    { "sni", false }, { "client_version", false }, { "client_max_version", false },
    { "offered_versions", false }, { "version", false }, { "cipher", false },
    { "cipher_id", false }, { "established", true }, { "alert", false }, { "ja3", false },
    { "ja3s", false }, { "ja4", false }, { "cert_cn", false }, { "ndpi", false },
    { "o365", true }, { "o365_service", false }, { "o365_reason", false },
    /* wide: one per entry of wide_cols, same order */
    { "cipher_weak", true }, { "ciphers_offered", false }, { "extensions", false },
    { "server_extensions", false }, { "groups", false }, { "point_formats", false },
    { "sigalgs", false }, { "key_shares", false }, { "server_key_share", false },
    { "alpn_offered", false }, { "alpn", false }, { "hrr", true }, { "resumed", true },
    { "session_ticket", true }, { "psk", true }, { "ems", true }, { "reneg_info", true },
    { "etm", true }, { "fallback_scsv", true }, { "sslv2_hello", true },
    { "client_record_version", false }, { "server_legacy_version", false },
    { "alert_level", false }, { "alert_desc", false }, { "alert_dir", false },
    { "cert_issuer", false }, { "cert_sans", false }, { "cert_not_before", false },
    { "cert_not_after", false }, { "cert_key_type", false }, { "cert_key_bits", true },
    { "cert_chain_len", true }, { "greeting_host", false }, { "anomalies", false },
    { "ndpi_master", true }, { "ndpi_app", true },
};

/* How a wide column's SQL value becomes its cell. */
enum wkind { W_TEXT, W_LIST, W_VERSION, W_GROUP, W_ALERT_LEVEL, W_ALERT_DESC, W_ANOMALIES };

struct wide_col {
    const char *sql;      /* expression selected from handshakes h */
    uint8_t kind;         /* enum wkind */
    uint8_t list;         /* enum qlist, for W_LIST */
};

/* cipher_weak: the rule of ta_cipher_weak_in (src/record/names.c) for the negotiated version; every SSLv2
 * cipher spec is weak (40-bit export, RC2/RC4, DES, IDEA, all with MD5); empty when no cipher
 * was chosen. */
static const struct wide_col wide_cols[] = {
    { "CASE WHEN h.cipher_id IS NOT NULL THEN ta_cipher_weak(h.cipher_id, coalesce(h.version, 0))"
      " WHEN h.cipher_v2 IS NOT NULL THEN 1 END", W_TEXT, 0 },
    { "h.ciphers_offered", W_LIST, L_CIPHERS }, { "h.extensions", W_LIST, L_EXTS },
    { "h.server_extensions", W_LIST, L_EXTS }, { "h.groups", W_LIST, L_GROUPS },
    { "h.point_formats", W_LIST, L_POINTFMTS }, { "h.sigalgs", W_LIST, L_SIGALGS },
    { "h.key_shares", W_LIST, L_GROUPS }, { "h.server_key_share", W_GROUP, 0 },
    { "h.alpn_offered", W_TEXT, 0 }, { "h.alpn", W_TEXT, 0 }, { "h.hrr", W_TEXT, 0 },
    { "h.resumed", W_TEXT, 0 }, { "h.session_ticket", W_TEXT, 0 }, { "h.psk", W_TEXT, 0 },
    { "h.ems", W_TEXT, 0 }, { "h.reneg_info", W_TEXT, 0 }, { "h.etm", W_TEXT, 0 },
    { "h.fallback_scsv", W_TEXT, 0 }, { "h.sslv2_hello", W_TEXT, 0 },
    { "h.client_record_version", W_VERSION, 0 }, { "h.server_legacy_version", W_VERSION, 0 },
    { "h.alert_level", W_ALERT_LEVEL, 0 }, { "h.alert_desc", W_ALERT_DESC, 0 },
    { "h.alert_dir", W_TEXT, 0 }, { "h.cert_issuer", W_TEXT, 0 }, { "h.cert_sans", W_TEXT, 0 },
    { "h.cert_not_before", W_TEXT, 0 }, { "h.cert_not_after", W_TEXT, 0 },
    { "h.cert_key_type", W_TEXT, 0 }, { "h.cert_key_bits", W_TEXT, 0 },
    { "h.cert_chain_len", W_TEXT, 0 }, { "h.greeting_host", W_TEXT, 0 },
    { "h.anomalies", W_ANOMALIES, 0 }, { "h.ndpi_master", W_TEXT, 0 },
    { "h.ndpi_app", W_TEXT, 0 },
};
_Static_assert(SESSION_NARROW == S_NBASE - 2, "narrow columns: cipher_v2/alert_desc/dir fold");
_Static_assert(TA_ARRAY_LEN(session_cols) == SESSION_NARROW + TA_ARRAY_LEN(wide_cols),
               "session_cols and wide_cols disagree");
_Static_assert(TA_ARRAY_LEN(session_cols) <= QCOLS_MAX, "raise QCOLS_MAX");

/* Cipher name and hex id: a TLS suite ("0x002F") or an SSLv2 cipher spec ("0x010080"). */
static void session_cipher(sqlite3_stmt *s, const char **name, const char **id, struct qarena *a)
{
    char *cell = qa_start(a);
    *name = "";
    if (sqlite3_column_type(s, S_CIPHER) != SQLITE_NULL) {
        long long c = sqlite3_column_int64(s, S_CIPHER);
        const char *nm = c >= 0 && c <= 0xffff ? ta_cipher_name((uint16_t)c) : NULL;
        *name = nm ? nm : "";
        qa_cat(a, cell, "0x%04llX", c);
    } else if (sqlite3_column_type(s, S_CIPHER_V2) != SQLITE_NULL) {
        long long c = sqlite3_column_int64(s, S_CIPHER_V2);
        const char *nm = c >= 0 && c <= 0xffffff ? ta_cipher_v2_name((uint32_t)c) : NULL;
        *name = nm ? nm : "";
        qa_cat(a, cell, "0x%06llX", c);
    }
    *id = qa_end(a, cell);
}

/* Alert level label: "warning", "fatal", else the number; NULL when no alert. */
static const char *alert_level(sqlite3_stmt *s, int col, struct qarena *a)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return NULL;
    int level = sqlite3_column_int(s, col);
    char *cell = qa_start(a);
    qa_cat(a, cell, "%s", level == 1 ? "warning" : level == 2 ? "fatal" : "");
    if (!cell[0])
        qa_cat(a, cell, "%d", level);
    return qa_end(a, cell);
}

/* Alert description name ("protocol_version"), else the number; NULL when no alert. */
static const char *alert_desc(sqlite3_stmt *s, int col, struct qarena *a)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return NULL;
    int desc = sqlite3_column_int(s, col);
    const char *name = desc >= 0 && desc <= 255 ? ta_alert_name((uint8_t)desc) : NULL;
    char *cell = qa_start(a);
    if (name)
        qa_cat(a, cell, "%s", name);
    else
        qa_cat(a, cell, "%d", desc);
    return qa_end(a, cell);
}

/* "fatal unknown_ca (client)"; "" when no alert. */
static const char *session_alert(sqlite3_stmt *s, struct qarena *a)
{
    const char *lv = alert_level(s, S_ALERT_LEVEL, a);
    if (!lv)
        return "";
    const char *ds = alert_desc(s, S_ALERT_DESC, a);
    const char *dir = ta__q_text(s, S_ALERT_DIR);
    char *cell = qa_start(a);
    qa_cat(a, cell, "%s %s (%s)", lv, ds, dir ? dir : "?");
    return qa_end(a, cell);
}

/* Version label of column col into the arena. */
static const char *version_cell(sqlite3_stmt *s, int col, struct qarena *a)
{
    char buf[48];
    return qa_str(a, ta__q_version(s, col, buf, sizeof buf));
}

/* One wide column (wide_cols[i], SELECT column col) as its cell. */
static const char *wide_cell(sqlite3_stmt *s, size_t i, int col, struct qarena *a)
{
    const struct wide_col *w = &wide_cols[i];
    char buf[512];
    if (w->kind == W_LIST)
        return list_cell(ta__q_text(s, col), (enum qlist)w->list, a);
    if (w->kind == W_VERSION)
        return version_cell(s, col, a);
    if (w->kind == W_ALERT_LEVEL)
        return alert_level(s, col, a);
    if (w->kind == W_ALERT_DESC)
        return alert_desc(s, col, a);
    if (w->kind == W_TEXT || sqlite3_column_type(s, col) == SQLITE_NULL)
        return ta__q_text(s, col);
    long long v = sqlite3_column_int64(s, col);
    if (w->kind == W_GROUP)
        return qa_str(a, list_label(L_GROUPS, (unsigned long)v, buf, sizeof buf));
    return qa_str(a, ta_anomalies_label((uint32_t)v, buf, sizeof buf));   /* W_ANOMALIES */
}

static void session_row(sqlite3_stmt *s, const char **c, struct qarena *a)
{
    static const int direct[] = { S_TS, S_CIP, S_CPORT, S_SIP, S_SPORT, S_TRANSPORT, S_APP,
                                  S_STARTTLS, S_SNI };
    for (size_t i = 0; i < TA_ARRAY_LEN(direct); i++)
        c[i] = ta__q_text(s, direct[i]);
    c[9] = version_cell(s, S_LEGACY, a);
    c[10] = version_cell(s, S_MAX, a);
    /* without supported_versions the client offered up to its legacy_version, which is then
     * its client_max_version too, but for a hello cut short whose 0x0303 proves no maximum
     * (schema README, "Hellos cut short"): the offer is then unknown */
    c[11] = ta__q_text(s, S_VERSIONS) ? list_cell(ta__q_text(s, S_VERSIONS), L_VERSIONS, a)
                                      : c[9][0] ? c[10] : c[9];
    c[12] = version_cell(s, S_VERSION, a);
    session_cipher(s, &c[13], &c[14], a);
    c[15] = ta__q_text(s, S_ESTABLISHED);
    c[16] = session_alert(s, a);
    c[17] = ta__q_text(s, S_JA3);
    c[18] = ta__q_text(s, S_JA3S);
    c[19] = ta__q_text(s, S_JA4);
    c[20] = ta__q_text(s, S_CERT_CN);
    c[21] = ta__q_text(s, S_NDPI);
    c[22] = ta__q_text(s, S_O365);
    c[23] = ta__q_text(s, S_O365_SERVICE);
    c[24] = ta__q_text(s, S_O365_REASON);
    for (size_t i = 0; i < TA_ARRAY_LEN(wide_cols); i++)
        c[SESSION_NARROW + i] = wide_cell(s, i, S_NBASE + (int)i, a);
    /* NULL text columns print as empty cells (JSON: null) */
}

long ta__q_sessions(sqlite3 *db, const struct ta_qopts *o)
{
    char sql[4096];
    size_t off = (size_t)snprintf(sql, sizeof sql, "%s", session_base_sql);
    for (size_t i = 0; i < TA_ARRAY_LEN(wide_cols) && off < sizeof sql; i++)
        off += (size_t)snprintf(sql + off, sizeof sql - off, ", %s", wide_cols[i].sql);
    if (off < sizeof sql)
        snprintf(sql + off, sizeof sql - off, " FROM handshakes h WHERE 1");
    ta__q_where(o, TA_Q_HS, sql, sizeof sql);
    ta__q_cat(sql, sizeof sql, " ORDER BY h.ts_us, h.id");
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    /* csv/json always carry every column; the table is narrow unless --wide */
    size_t ncols = o->fmt == TA_OUT_TABLE && !o->wide ? SESSION_NARROW
                                                      : TA_ARRAY_LEN(session_cols);
    return emit(db, o, s, session_cols, ncols, session_row);
}

static const struct ta_out_col plaintext_cols[] = {
    { "time", false }, { "client_ip", false }, { "server_ip", false }, { "server_port", true },
    { "app", false }, { "greeting_host", false }, { "starttls_offered", true },
    { "starttls_sent", true }, { "starttls_accepted", true }, { "starttls_refused", true },
    { "auth_in_clear", true }, { "mail_in_clear", true }, { "o365", true },
};

/* Rows whose columns are printed as stored. */
static void plain_row(sqlite3_stmt *s, const char **c, struct qarena *a)
{
    (void)a;
    for (int i = 0; i < sqlite3_column_count(s) && i < QCOLS_MAX; i++)
        c[i] = ta__q_text(s, i);
}

long ta__q_plaintext(sqlite3 *db, const struct ta_qopts *o)
{
    char sql[2048] =
        "SELECT m.ts, m.client_ip, m.server_ip, m.server_port, m.app, m.greeting_host,"
        " m.starttls_offered, m.starttls_sent, m.starttls_accepted, m.starttls_refused,"
        " m.auth_in_clear, m.mail_in_clear, m.o365 FROM mail_sessions m WHERE 1";
    ta__q_where(o, TA_Q_MAIL, sql, sizeof sql);
    /* A client may send STARTTLS/STLS/AUTH TLS without asking for the capabilities first; a
     * server that accepted it did support it, offered or not. */
    if (o->no_starttls)
        ta__q_cat(sql, sizeof sql,
                  " AND m.starttls_offered = 0 AND m.starttls_accepted = 0");
    if (o->offered_unused)
        ta__q_cat(sql, sizeof sql, " AND m.starttls_offered = 1 AND m.starttls_sent = 0");
    ta__q_cat(sql, sizeof sql, " ORDER BY m.ts_us, m.id");
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    return emit(db, o, s, plaintext_cols, TA_ARRAY_LEN(plaintext_cols), plain_row);
}

/* runs: the run's identity, every counter of the one list in counters.h (in its order), then
 * how it ended. --since/--until select on the start time (ISO text compares in time order). */
long ta__q_runs(sqlite3 *db, const struct ta_qopts *o)
{
    static const struct ta_out_col head[] = {
        { "id", true }, { "source", false }, { "filter", false }, { "started", false },
        { "ended", false },
    };
    static const struct ta_out_col tail[] = {
        { "clean", true }, { "error", false }, { "tool_version", false },
    };
    struct ta_out_col cols[TA_ARRAY_LEN(head) + TA_RUN_COUNTER_COUNT + TA_ARRAY_LEN(tail)];
    size_t n = 0;
    char sql[2048] = "SELECT id, source, filter, started, ended";
    for (size_t i = 0; i < TA_ARRAY_LEN(head); i++)
        cols[n++] = head[i];
    for (int i = 0; i < TA_RUN_COUNTER_COUNT; i++) {
        cols[n++] = (struct ta_out_col){ ta_run_counter_names[i], true };
        ta__q_cat(sql, sizeof sql, ", ");
        ta__q_cat(sql, sizeof sql, ta_run_counter_names[i]);
    }
    for (size_t i = 0; i < TA_ARRAY_LEN(tail); i++)
        cols[n++] = tail[i];
    ta__q_cat(sql, sizeof sql, ", clean, error, tool_version FROM runs WHERE 1");
    if (o->has_since)
        ta__q_cat(sql, sizeof sql,
                  " AND started >= strftime('%Y-%m-%dT%H:%M:%f', :since / 1e6, 'unixepoch')");
    if (o->has_until)
        ta__q_cat(sql, sizeof sql,
                  " AND started < strftime('%Y-%m-%dT%H:%M:%f', :until / 1e6, 'unixepoch')");
    if (o->sensor)
        ta__q_cat(sql, sizeof sql, " AND sensor = :sensor");
    ta__q_cat(sql, sizeof sql, " ORDER BY id");
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    return emit(db, o, s, cols, n, plain_row);
}
