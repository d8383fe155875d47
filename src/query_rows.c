/* query_rows.c - the row-per-record reports: sessions (handshakes), plaintext (mail sessions)
 * and runs. Numbers from the database become labels here (versions, cipher names, alerts). */
#include <stdlib.h>
#include <string.h>

#include "query_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/handshake.h"
#include "tlsaudit/names.h"

#define QCELL 256   /* bytes of one formatted cell (labels lists are the longest) */

/* Run a prepared report statement: each row goes through fmt_row into cells, then to the
 * writer. Returns the row count or -1. */
static long emit(sqlite3 *db, const struct ta_qopts *o, sqlite3_stmt *s,
                 const struct ta_out_col *cols, size_t ncols,
                 void (*fmt_row)(sqlite3_stmt *, const char **, char (*)[QCELL]))
{
    const char *cells[40];
    char bufs[40][QCELL];
    long n = 0;
    int rc;
    struct ta_out *out = ta_out_new(o->out, o->fmt, cols, ncols);
    if (!out) {
        fprintf(o->err, "tlsaudit query: out of memory\n");
        return -1;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        fmt_row(s, cells, bufs);
        if (ta_out_row(out, cells) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        n++;
    }
    if (ta_out_end(out) != 0 && rc == SQLITE_DONE)
        fprintf(o->err, "tlsaudit query: write error\n");
    if (rc != SQLITE_DONE) {
        fprintf(o->err, "tlsaudit query: %s: %s\n", o->db, sqlite3_errmsg(db));
        n = -1;
    }
    sqlite3_finalize(s);
    return n;
}

/* The client's offered versions: supported_versions (JSON array, GREASE skipped) as labels
 * joined by ' ', else the label of the legacy version. */
static const char *offered_versions(const char *json, const char *legacy, char *buf, size_t n)
{
    char lab[48];
    size_t off = 0;
    buf[0] = '\0';
    if (!json)
        return legacy;
    for (const char *p = json; *p; ) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        p = end;
        if (v == 0 || v > 0xffff || ta_is_grease((uint16_t)v))
            continue;
        ta_version_label((uint16_t)v, lab, sizeof lab);
        if (off < n)
            off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? " " : "", lab);
    }
    return buf;
}

/* sessions: column numbers of the SELECT below. */
enum { S_TS, S_CIP, S_CPORT, S_SIP, S_SPORT, S_TRANSPORT, S_APP, S_STARTTLS, S_SNI, S_LEGACY,
       S_MAX, S_VERSIONS, S_VERSION, S_CIPHER, S_CIPHER_V2, S_ESTABLISHED, S_ALERT_LEVEL,
       S_ALERT_DESC, S_ALERT_DIR, S_JA3, S_JA3S, S_JA4, S_CERT_CN, S_NDPI, S_O365,
       S_O365_SERVICE, S_O365_REASON };

static const struct ta_out_col session_cols[] = {
    { "time", false }, { "client_ip", false }, { "client_port", true }, { "server_ip", false },
    { "server_port", true }, { "transport", false }, { "app", false }, { "starttls", true },
    { "sni", false }, { "client_version", false }, { "client_max_version", false },
    { "offered_versions", false }, { "version", false }, { "cipher", false },
    { "cipher_id", false }, { "established", true }, { "alert", false }, { "ja3", false },
    { "ja3s", false }, { "ja4", false }, { "cert_cn", false }, { "ndpi", false },
    { "o365", true }, { "o365_service", false }, { "o365_reason", false },
};

/* Cipher name and hex id: a TLS suite ("0x002F") or an SSLv2 cipher spec ("0x010080"). */
static void session_cipher(sqlite3_stmt *s, const char **name, char *id, size_t n)
{
    *name = "";
    id[0] = '\0';
    if (sqlite3_column_type(s, S_CIPHER) != SQLITE_NULL) {
        long long c = sqlite3_column_int64(s, S_CIPHER);
        const char *nm = c >= 0 && c <= 0xffff ? ta_cipher_name((uint16_t)c) : NULL;
        *name = nm ? nm : "";
        snprintf(id, n, "0x%04llX", c);
    } else if (sqlite3_column_type(s, S_CIPHER_V2) != SQLITE_NULL) {
        long long c = sqlite3_column_int64(s, S_CIPHER_V2);
        const char *nm = c >= 0 && c <= 0xffffff ? ta_cipher_v2_name((uint32_t)c) : NULL;
        *name = nm ? nm : "";
        snprintf(id, n, "0x%06llX", c);
    }
}

/* "fatal unknown_ca (client)"; "" when no alert. */
static const char *session_alert(sqlite3_stmt *s, char *buf, size_t n)
{
    buf[0] = '\0';
    if (sqlite3_column_type(s, S_ALERT_LEVEL) == SQLITE_NULL)
        return buf;
    int level = sqlite3_column_int(s, S_ALERT_LEVEL);
    int desc = sqlite3_column_int(s, S_ALERT_DESC);
    const char *name = desc >= 0 && desc <= 255 ? ta_alert_name((uint8_t)desc) : NULL;
    const char *dir = ta__q_text(s, S_ALERT_DIR);
    char lv[16], ds[16];
    snprintf(lv, sizeof lv, "%d", level);
    snprintf(ds, sizeof ds, "%d", desc);
    snprintf(buf, n, "%s %s (%s)", level == 1 ? "warning" : level == 2 ? "fatal" : lv,
             name ? name : ds, dir ? dir : "?");
    return buf;
}

static void session_row(sqlite3_stmt *s, const char **c, char (*b)[QCELL])
{
    static const int direct[] = { S_TS, S_CIP, S_CPORT, S_SIP, S_SPORT, S_TRANSPORT, S_APP,
                                  S_STARTTLS, S_SNI };
    for (size_t i = 0; i < TA_ARRAY_LEN(direct); i++)
        c[i] = ta__q_text(s, direct[i]);
    c[9] = ta__q_version(s, S_LEGACY, b[9], sizeof b[9]);
    c[10] = ta__q_version(s, S_MAX, b[10], sizeof b[10]);
    c[11] = offered_versions(ta__q_text(s, S_VERSIONS), c[9], b[11], sizeof b[11]);
    c[12] = ta__q_version(s, S_VERSION, b[12], sizeof b[12]);
    session_cipher(s, &c[13], b[14], sizeof b[14]);
    c[14] = b[14];
    c[15] = ta__q_text(s, S_ESTABLISHED);
    c[16] = session_alert(s, b[16], sizeof b[16]);
    c[17] = ta__q_text(s, S_JA3);
    c[18] = ta__q_text(s, S_JA3S);
    c[19] = ta__q_text(s, S_JA4);
    c[20] = ta__q_text(s, S_CERT_CN);
    c[21] = ta__q_text(s, S_NDPI);
    c[22] = ta__q_text(s, S_O365);
    c[23] = ta__q_text(s, S_O365_SERVICE);
    c[24] = ta__q_text(s, S_O365_REASON);
    /* NULL text columns print as empty cells (JSON: null) */
}

long ta__q_sessions(sqlite3 *db, const struct ta_qopts *o)
{
    char sql[2048] =
        "SELECT h.ts, h.client_ip, h.client_port, h.server_ip, h.server_port, h.transport, h.app,"
        " h.starttls, h.sni, h.client_legacy_version, h.client_max_version, h.client_versions,"
        " h.version, h.cipher_id, h.cipher_v2, h.established, h.alert_level, h.alert_desc,"
        " h.alert_dir, h.ja3, h.ja3s, h.ja4, h.cert_cn, h.ndpi_name, h.o365, h.o365_service,"
        " h.o365_reason FROM handshakes h WHERE 1";
    ta__q_where(o, TA_Q_HS, sql, sizeof sql);
    strncat(sql, " ORDER BY h.ts_us, h.id", sizeof sql - strlen(sql) - 1);
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    return emit(db, o, s, session_cols, TA_ARRAY_LEN(session_cols), session_row);
}

static const struct ta_out_col plaintext_cols[] = {
    { "time", false }, { "client_ip", false }, { "server_ip", false }, { "server_port", true },
    { "app", false }, { "greeting_host", false }, { "starttls_offered", true },
    { "starttls_sent", true }, { "starttls_accepted", true }, { "starttls_refused", true },
    { "auth_in_clear", true }, { "mail_in_clear", true }, { "o365", true },
};

/* Rows whose columns are printed as stored. */
static void plain_row(sqlite3_stmt *s, const char **c, char (*b)[QCELL])
{
    (void)b;
    for (int i = 0; i < sqlite3_column_count(s) && i < 40; i++)
        c[i] = ta__q_text(s, i);
}

long ta__q_plaintext(sqlite3 *db, const struct ta_qopts *o)
{
    char sql[2048] =
        "SELECT m.ts, m.client_ip, m.server_ip, m.server_port, m.app, m.greeting_host,"
        " m.starttls_offered, m.starttls_sent, m.starttls_accepted, m.starttls_refused,"
        " m.auth_in_clear, m.mail_in_clear, m.o365 FROM mail_sessions m WHERE 1";
    ta__q_where(o, TA_Q_MAIL, sql, sizeof sql);
    if (o->no_starttls)
        strncat(sql, " AND m.starttls_offered = 0", sizeof sql - strlen(sql) - 1);
    if (o->offered_unused)
        strncat(sql, " AND m.starttls_offered = 1 AND m.starttls_sent = 0",
                sizeof sql - strlen(sql) - 1);
    strncat(sql, " ORDER BY m.ts_us, m.id", sizeof sql - strlen(sql) - 1);
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    return emit(db, o, s, plaintext_cols, TA_ARRAY_LEN(plaintext_cols), plain_row);
}

static const struct ta_out_col run_cols[] = {
    { "id", true }, { "source", false }, { "filter", false }, { "started", false },
    { "ended", false }, { "packets", true }, { "bytes", true }, { "drops", true },
    { "if_drops", true }, { "flows", true }, { "flows_evicted", true },
    { "flows_timed_out", true }, { "handshakes", true }, { "ip_fragments", true },
    { "malformed", true }, { "non_ip", true }, { "pool_exhausted", true }, { "clean", true },
    { "error", false }, { "tool_version", false },
};

/* runs: --since/--until select on the start time (ISO text compares in time order). */
long ta__q_runs(sqlite3 *db, const struct ta_qopts *o)
{
    char sql[1024] =
        "SELECT id, source, filter, started, ended, packets, bytes, drops, if_drops, flows,"
        " flows_evicted, flows_timed_out, handshakes, ip_fragments, malformed, non_ip,"
        " pool_exhausted, clean, error, tool_version FROM runs WHERE 1";
    if (o->has_since)
        strncat(sql, " AND started >= strftime('%Y-%m-%dT%H:%M:%f', :since / 1e6, 'unixepoch')",
                sizeof sql - strlen(sql) - 1);
    if (o->has_until)
        strncat(sql, " AND started < strftime('%Y-%m-%dT%H:%M:%f', :until / 1e6, 'unixepoch')",
                sizeof sql - strlen(sql) - 1);
    strncat(sql, " ORDER BY id", sizeof sql - strlen(sql) - 1);
    sqlite3_stmt *s = ta__q_prepare(db, o, sql);
    if (!s)
        return -1;
    return emit(db, o, s, run_cols, TA_ARRAY_LEN(run_cols), plain_row);
}
