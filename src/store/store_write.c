/* store_write.c - rows of the store: one handshake record (struct ta_hs) becomes a handshakes row
 * and/or a mail_sessions row; passive DNS answers become dns_answers rows.
 *
 * Statements are prepared once (ta__store_prepare_writes); each row binds every column, steps and
 * resets. Text is bound SQLITE_STATIC: strings of the record live in *hs, and the formatted ones
 * (times, addresses, lists, fingerprints) in a struct row_text on the caller's stack, both valid
 * until the step; SQLITE_TRANSIENT made SQLite malloc and copy every text column of every row.
 * Wire strings are bound as TEXT with their exact bytes (possibly invalid UTF-8): the output
 * layer escapes them, the store never rewrites evidence. Lists are JSON arrays of integers in
 * wire order with GREASE kept. The Office 365 columns are computed here too, from the same text as
 * is bound (store_o365.c). Column meanings: schema/README.md. */
#include <stdio.h>
#include <string.h>

#include "tlsaudit/o365_rules.h"
#include "inv_int.h"
#include "store_int.h"
#include "tlsaudit/fingerprint.h"
#include "tlsaudit/handshake.h"
#include "tlsaudit/store.h"

/* Columns of the handshakes insert, in bind order (parameter i+1 is hs_cols[i]). */
static const char *const hs_cols[] = {
    "run_id", "ts", "ts_us", "client_ip", "client_port", "server_ip", "server_port", "ipver",
    "transport", "app", "starttls", "sni", "client_hello", "sslv2_hello",
    "client_record_version", "client_legacy_version", "client_versions", "client_max_version",
    "ciphers_offered", "extensions", "groups", "point_formats", "sigalgs", "key_shares",
    "alpn_offered", "session_ticket", "psk", "ems", "reneg_info", "etm", "fallback_scsv",
    "server_hello", "hrr", "server_legacy_version", "version", "cipher_id", "cipher_v2",
    "server_extensions", "alpn", "resumed", "server_key_share", "established", "alert_level",
    "alert_desc", "alert_dir", "cert_cn", "cert_issuer", "cert_sans", "cert_not_before",
    "cert_not_after", "cert_key_type", "cert_key_bits", "cert_chain_len", "ja3", "ja3s", "ja4",
    "ndpi_master", "ndpi_app", "ndpi_name", "greeting_host", "greeting", "anomalies",
    "o365", "o365_service", "o365_reason", "tunnel", "vlan", "vni", "sgt",
};

/* Parameter numbers, same order as hs_cols. */
enum {
    H_RUN_ID = 1, H_TS, H_TS_US, H_CLIENT_IP, H_CLIENT_PORT, H_SERVER_IP, H_SERVER_PORT, H_IPVER,
    H_TRANSPORT, H_APP, H_STARTTLS, H_SNI, H_CLIENT_HELLO, H_SSLV2_HELLO,
    H_CLIENT_RECORD_VERSION, H_CLIENT_LEGACY_VERSION, H_CLIENT_VERSIONS, H_CLIENT_MAX_VERSION,
    H_CIPHERS_OFFERED, H_EXTENSIONS, H_GROUPS, H_POINT_FORMATS, H_SIGALGS, H_KEY_SHARES,
    H_ALPN_OFFERED, H_SESSION_TICKET, H_PSK, H_EMS, H_RENEG_INFO, H_ETM, H_FALLBACK_SCSV,
    H_SERVER_HELLO, H_HRR, H_SERVER_LEGACY_VERSION, H_VERSION, H_CIPHER_ID, H_CIPHER_V2,
    H_SERVER_EXTENSIONS, H_ALPN, H_RESUMED, H_SERVER_KEY_SHARE, H_ESTABLISHED, H_ALERT_LEVEL,
    H_ALERT_DESC, H_ALERT_DIR, H_CERT_CN, H_CERT_ISSUER, H_CERT_SANS, H_CERT_NOT_BEFORE,
    H_CERT_NOT_AFTER, H_CERT_KEY_TYPE, H_CERT_KEY_BITS, H_CERT_CHAIN_LEN, H_JA3, H_JA3S, H_JA4,
    H_NDPI_MASTER, H_NDPI_APP, H_NDPI_NAME, H_GREETING_HOST, H_GREETING, H_ANOMALIES,
    H_O365, H_O365_SERVICE, H_O365_REASON, H_TUNNEL, H_VLAN, H_VNI, H_SGT,
    H_NCOLS = H_SGT
};
_Static_assert(TA_ARRAY_LEN(hs_cols) == H_NCOLS, "hs_cols and the H_ enum disagree");

static const char *const mail_cols[] = {
    "run_id", "ts", "ts_us", "client_ip", "client_port", "server_ip", "server_port", "app",
    "greeting_code", "greeting_host", "greeting", "client_name", "capabilities",
    "starttls_offered", "starttls_sent", "starttls_accepted", "starttls_refused",
    "auth_in_clear", "mail_in_clear", "handshake_id", "o365", "o365_service", "o365_reason",
};
#define M_O365 21   /* parameter of "o365" in mail_cols */
_Static_assert(TA_ARRAY_LEN(mail_cols) == M_O365 + 2, "mail_cols and M_O365 disagree");

/* Build "INSERT INTO table(c1, ...) VALUES (?1, ...)" and prepare it. */
static int prepare_insert(sqlite3 *db, const char *table, const char *const *cols, size_t n,
                          sqlite3_stmt **out)
{
    char sql[4096];
    size_t off = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s(", table);
    for (size_t i = 0; i < n && off < sizeof sql; i++)
        off += (size_t)snprintf(sql + off, sizeof sql - off, "%s%s", i ? ", " : "", cols[i]);
    for (size_t i = 0; i < n && off < sizeof sql; i++)
        off += (size_t)snprintf(sql + off, sizeof sql - off, "%s?%zu", i ? ", " : ") VALUES (",
                                i + 1);
    if (off + 2 >= sizeof sql)
        return SQLITE_TOOBIG;
    memcpy(sql + off, ")", 2);
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
}

/* See store_int.h. SQLite's code is left in the connection for the caller's message. */
int ta__store_prepare_writes(struct ta_store *st)
{
    int rc = prepare_insert(st->db, "handshakes", hs_cols, TA_ARRAY_LEN(hs_cols), &st->ins_hs);
    if (rc == SQLITE_OK)
        rc = prepare_insert(st->db, "mail_sessions", mail_cols, TA_ARRAY_LEN(mail_cols),
                            &st->ins_mail);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(st->db, "INSERT INTO dns_answers(run_id, ts, ts_us, name, ipver,"
                                " addr, cname) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
                                SQLITE_PREPARE_PERSISTENT, &st->ins_dns, NULL);
    return rc == SQLITE_OK ? TA_OK : TA_ERR_IO;
}

/* Text formatted for one row, valid until its step (bound SQLITE_STATIC). Sized for the capped
 * lists: a 16-bit value is at most 5 digits plus a comma. */
#define LIST_BYTES(n) ((n) * 6 + 4)
struct row_text {
    char ts[32], client[TA__ADDR_TEXT_LEN], server[TA__ADDR_TEXT_LEN];
    char ja3[TA_JA3_HEX], ja3s[TA_JA3_HEX], ja4[TA_JA4_LEN];
    char not_before[TA__ISO_DATE_LEN], not_after[TA__ISO_DATE_LEN];
    char lists[LIST_BYTES(TA_MAX_VERSIONS) + LIST_BYTES(TA_MAX_CIPHERS) + 3 * LIST_BYTES(TA_MAX_EXTS)
               + LIST_BYTES(TA_MAX_GROUPS) + LIST_BYTES(TA_MAX_POINTFMTS)
               + LIST_BYTES(TA_MAX_SIGALGS) + LIST_BYTES(TA_MAX_KEYSHARES)];
    size_t lists_used;
};

/* Bind a NUL-terminated char array of at most cap bytes; NULL when empty. Bytes as given; the
 * array must outlive the step (a field of the record). */
static void bind_str(sqlite3_stmt *s, int i, const char *str, size_t cap)
{
    size_t n = strnlen(str, cap);
    if (n == 0)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_text(s, i, str, (int)n, SQLITE_STATIC);
}

/* Spare room for the rule input of a record field that fills its array without a NUL. */
#define FIELD_SIZE(m) sizeof(((struct ta_hs *)0)->m)
struct rule_text {
    char sni[FIELD_SIZE(ch.sni) + 1], cn[FIELD_SIZE(cert.subject_cn) + 1];
    char sans[FIELD_SIZE(cert.sans) + 1], ndpi[FIELD_SIZE(ndpi_name) + 1];
    char ghost[FIELD_SIZE(mail.greeting_host) + 1], greeting[FIELD_SIZE(mail.greeting) + 1];
};

/* The text bind_str stores for a field, as a C string for the Office 365 rules: NULL when
 * empty; copied into spare (cap + 1 bytes) only when the array holds no NUL. */
static const char *rule_str(const char *str, size_t cap, char *spare)
{
    size_t n = strnlen(str, cap);
    if (n == 0)
        return NULL;
    if (n < cap)
        return str;
    memcpy(spare, str, cap);
    spare[cap] = '\0';
    return spare;
}

/* Bind a wire value that means "none" when 0. */
static void bind_nz(sqlite3_stmt *s, int i, int64_t v)
{
    if (v == 0)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int64(s, i, v);
}

/* Bind a JSON array of integers "[1,2,3]" (n values of width w bytes each: 1, 2 or 4, at most
 * cap of them) formatted into the row's list space. */
static void bind_json(sqlite3_stmt *s, int i, struct row_text *rt, const void *vals, size_t n,
                      size_t cap, int w)
{
    char *buf = rt->lists + rt->lists_used;
    size_t len = ta__store_json_list(buf, sizeof rt->lists - rt->lists_used, vals,
                                     n < cap ? n : cap, w);
    rt->lists_used += len;
    sqlite3_bind_text(s, i, buf, (int)len, SQLITE_STATIC);
}

/* Bind Unix seconds as ISO text "2026-01-31T23:59:59Z" formatted into buf; NULL when the value
 * cannot be shown. */
static void bind_date(sqlite3_stmt *s, int i, int64_t secs, char buf[TA__ISO_DATE_LEN])
{
    if (ta__iso_date(secs, buf))
        sqlite3_bind_text(s, i, buf, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* Endpoint and time columns shared by both row types (parameters 1..7 in both inserts). */
static void bind_endpoints(struct ta_store *st, sqlite3_stmt *s, const struct ta_hs *hs,
                           uint64_t ts_us, struct row_text *rt)
{
    size_t n;
    if (st->run_id)
        sqlite3_bind_int64(s, H_RUN_ID, st->run_id);
    else
        sqlite3_bind_null(s, H_RUN_ID);
    ta__iso_time_us(ts_us, rt->ts, sizeof rt->ts);
    sqlite3_bind_text(s, H_TS, rt->ts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, H_TS_US, (sqlite3_int64)ts_us);
    n = ta__store_addr_text(&hs->client, hs->ipver, rt->client);
    sqlite3_bind_text(s, H_CLIENT_IP, rt->client, (int)n, SQLITE_STATIC);
    sqlite3_bind_int(s, H_CLIENT_PORT, hs->client_port);
    n = ta__store_addr_text(&hs->server, hs->ipver, rt->server);
    sqlite3_bind_text(s, H_SERVER_IP, rt->server, (int)n, SQLITE_STATIC);
    sqlite3_bind_int(s, H_SERVER_PORT, hs->server_port);
}

/* ClientHello columns (NULL lists when there was no ClientHello). */
static void bind_client_hello(sqlite3_stmt *s, const struct ta_hs *hs, struct row_text *rt)
{
    const struct ta_client_hello *ch = &hs->ch;
    /* Flags are NOT NULL columns: bound even without a ClientHello (all false then). */
    sqlite3_bind_int(s, H_CLIENT_HELLO, ch->present || ch->cut_version);
    sqlite3_bind_int(s, H_SSLV2_HELLO, ch->present && ch->sslv2);
    sqlite3_bind_int(s, H_SESSION_TICKET, ch->session_ticket ? (ch->session_ticket_data ? 2 : 1)
                                                             : 0);
    sqlite3_bind_int(s, H_PSK, ch->psk);
    sqlite3_bind_int(s, H_EMS, ch->ems);
    sqlite3_bind_int(s, H_RENEG_INFO, ch->reneg_info);
    sqlite3_bind_int(s, H_ETM, ch->etm);
    sqlite3_bind_int(s, H_FALLBACK_SCSV, ch->fallback_scsv);
    if (!ch->present) {
        /* a hello cut short: its version as sent, and the highest offered when that proves it */
        bind_nz(s, H_CLIENT_LEGACY_VERSION, ch->cut_version);
        bind_nz(s, H_CLIENT_MAX_VERSION, ta_hs_client_max_version(hs));
        return;
    }
    bind_str(s, H_SNI, ch->sni, sizeof ch->sni);
    bind_nz(s, H_CLIENT_RECORD_VERSION, ch->record_version);
    bind_nz(s, H_CLIENT_LEGACY_VERSION, ch->legacy_version);
    if (ch->has_supported_versions)
        bind_json(s, H_CLIENT_VERSIONS, rt, ch->versions, ch->nversions, TA_MAX_VERSIONS, 2);
    bind_nz(s, H_CLIENT_MAX_VERSION, ta_hs_client_max_version(hs));
    bind_json(s, H_CIPHERS_OFFERED, rt, ch->ciphers, ch->nciphers, TA_MAX_CIPHERS, 2);
    bind_json(s, H_EXTENSIONS, rt, ch->exts, ch->nexts, TA_MAX_EXTS, 2);
    bind_json(s, H_GROUPS, rt, ch->groups, ch->ngroups, TA_MAX_GROUPS, 2);
    bind_json(s, H_POINT_FORMATS, rt, ch->point_formats, ch->npoint_formats, TA_MAX_POINTFMTS, 1);
    bind_json(s, H_SIGALGS, rt, ch->sigalgs, ch->nsigalgs, TA_MAX_SIGALGS, 2);
    bind_json(s, H_KEY_SHARES, rt, ch->key_shares, ch->nkey_shares, TA_MAX_KEYSHARES, 2);
    bind_str(s, H_ALPN_OFFERED, ch->alpn, sizeof ch->alpn);
    if (rt->ja3[0])
        sqlite3_bind_text(s, H_JA3, rt->ja3, -1, SQLITE_STATIC);
    if (rt->ja4[0])
        sqlite3_bind_text(s, H_JA4, rt->ja4, -1, SQLITE_STATIC);
}

/* ServerHello, alert and outcome columns. */
static void bind_server_hello(sqlite3_stmt *s, const struct ta_hs *hs, struct row_text *rt)
{
    const struct ta_server_hello *sh = &hs->sh;
    bool fatal = hs->alert.present && hs->alert.level == 2;
    bool answered = ta_hs_server_answered(hs);   /* a ServerHello, whole or cut short */
    sqlite3_bind_int(s, H_SERVER_HELLO, answered);
    sqlite3_bind_int(s, H_HRR, sh->hrr);
    sqlite3_bind_int(s, H_ESTABLISHED, answered && !fatal);
    sqlite3_bind_int(s, H_RESUMED, sh->present && sh->resumed);
    bind_nz(s, H_VERSION, ta_hs_negotiated_version(hs));
    if (hs->alert.present) {
        sqlite3_bind_int(s, H_ALERT_LEVEL, hs->alert.level);
        sqlite3_bind_int(s, H_ALERT_DESC, hs->alert.description);
        sqlite3_bind_text(s, H_ALERT_DIR, hs->alert.dir == TA_DIR_C2S ? "client" : "server", -1,
                          SQLITE_STATIC);
    }
    if (!sh->present) {
        bind_nz(s, H_SERVER_LEGACY_VERSION, sh->cut_version);   /* a hello cut short, or 0 */
        return;
    }
    bind_nz(s, H_SERVER_LEGACY_VERSION, sh->legacy_version);
    if (sh->sslv2)
        bind_nz(s, H_CIPHER_V2, sh->cipher_v2);
    else
        sqlite3_bind_int(s, H_CIPHER_ID, sh->cipher);
    bind_json(s, H_SERVER_EXTENSIONS, rt, sh->exts, sh->nexts, TA_MAX_EXTS, 2);
    bind_str(s, H_ALPN, sh->alpn, sizeof sh->alpn);
    bind_nz(s, H_SERVER_KEY_SHARE, sh->key_share);
    if (rt->ja3s[0])
        sqlite3_bind_text(s, H_JA3S, rt->ja3s, -1, SQLITE_STATIC);
}

/* Encapsulation context columns (schema/003_tunnel.sql): NULL where the packets had none.
 * ta_tunnel_name returns string literals. */
static void bind_encap(sqlite3_stmt *s, const struct ta_encap *enc)
{
    const char *t = ta_tunnel_name(enc->tunnel);
    if (t)
        sqlite3_bind_text(s, H_TUNNEL, t, -1, SQLITE_STATIC);
    if (enc->has & TA_ENC_VLAN)
        sqlite3_bind_int(s, H_VLAN, enc->vlan);
    if (enc->has & TA_ENC_VNI)
        sqlite3_bind_int64(s, H_VNI, enc->vni);
    if (enc->has & TA_ENC_SGT)
        sqlite3_bind_int(s, H_SGT, enc->sgt);
}

/* Certificate, nDPI, mail-prelude and anomaly columns. */
static void bind_extra(sqlite3_stmt *s, const struct ta_hs *hs, struct row_text *rt)
{
    const struct ta_cert *c = &hs->cert;
    if (c->present) {
        bind_str(s, H_CERT_CN, c->subject_cn, sizeof c->subject_cn);
        bind_str(s, H_CERT_ISSUER, c->issuer, sizeof c->issuer);
        bind_str(s, H_CERT_SANS, c->sans, sizeof c->sans);
        if (c->not_before || c->not_after) {
            bind_date(s, H_CERT_NOT_BEFORE, c->not_before, rt->not_before);
            bind_date(s, H_CERT_NOT_AFTER, c->not_after, rt->not_after);
        }
        bind_str(s, H_CERT_KEY_TYPE, c->key_type, sizeof c->key_type);
        bind_nz(s, H_CERT_KEY_BITS, c->key_bits);
        sqlite3_bind_int(s, H_CERT_CHAIN_LEN, c->chain_len);
    }
    bind_nz(s, H_NDPI_MASTER, hs->ndpi_master);
    bind_nz(s, H_NDPI_APP, hs->ndpi_app);
    bind_str(s, H_NDPI_NAME, hs->ndpi_name, sizeof hs->ndpi_name);
    if (hs->mail.present) {
        bind_str(s, H_GREETING_HOST, hs->mail.greeting_host, sizeof hs->mail.greeting_host);
        bind_str(s, H_GREETING, hs->mail.greeting, sizeof hs->mail.greeting);
    }
    sqlite3_bind_int64(s, H_ANOMALIES, hs->anomalies);
    bind_encap(s, &hs->enc);
}

/* Step a fully bound insert, then reset it and clear its bindings (unbound = NULL next time). */
static int step_reset(struct ta_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) {
        ta__store_row_error(st, what);
        return TA_ERR_IO;
    }
    st->batch_n++;
    return TA_OK;
}

/* The handshake columns the Office 365 rules read (sni, cert_cn, cert_sans, ndpi_name), as
 * bind_client_hello and bind_extra bind them. */
static void rule_tls(const struct ta_hs *hs, struct ta__o365_row *r, struct rule_text *sp)
{
    const struct ta_cert *c = &hs->cert;
    r->sni = hs->ch.present ? rule_str(hs->ch.sni, sizeof hs->ch.sni, sp->sni) : NULL;
    r->cert_cn = c->present ? rule_str(c->subject_cn, sizeof c->subject_cn, sp->cn) : NULL;
    r->cert_sans = c->present ? rule_str(c->sans, sizeof c->sans, sp->sans) : NULL;
    r->ndpi_name = rule_str(hs->ndpi_name, sizeof hs->ndpi_name, sp->ndpi);
}

/* Fold the row just stored into the inventory aggregate, from the values that were bound. */
static int inventory_add(struct ta_store *st, const struct ta_hs *hs, const struct ta__o365_row *r,
                         const struct row_text *rt, const struct ta__o365_verdict *v,
                         uint64_t ts_us)
{
    const struct ta_server_hello *sh = &hs->sh;
    struct ta__inv_row ir = {
        .client = rt->client, .server = rt->server, .transport = hs->transport == 17 ? "quic" : "tcp",
        .app = ta_app_name(hs), .sni = r->sni, .ja3 = rt->ja3, .ja4 = rt->ja4,
        .cert_cn = r->cert_cn, .ts = rt->ts, .ts_us = (int64_t)ts_us,
        .server_port = hs->server_port, .version = ta_hs_negotiated_version(hs),
        .cipher_id = sh->present && !sh->sslv2 ? sh->cipher : -1,
        .cipher_v2 = sh->present && sh->sslv2 ? (int)sh->cipher_v2 : 0,
        .client_max_version = ta_hs_client_max_version(hs),
        .v = v, .established = ta_hs_server_answered(hs) &&
                               !(hs->alert.present && hs->alert.level == 2),
    };
    st->batch_hs++;
    if ((int64_t)ts_us > st->max_ts_us)
        st->max_ts_us = (int64_t)ts_us;
    return ta__inv_add(st, &ir);
}

/* Write the handshakes row of hs; its rowid goes to *id, its verdict to *vp. r holds its
 * rule_tls columns. */
static int add_handshake(struct ta_store *st, const struct ta_hs *hs, struct ta__o365_row *r,
                         struct rule_text *sp, int64_t *id, struct ta__o365_verdict *vp)
{
    sqlite3_stmt *s = st->ins_hs;
    struct row_text rt;
    struct ta__o365_verdict v;
    uint64_t ts_us = hs->ch.ts_us ? hs->ch.ts_us : hs->ts_first_us;
    rt.lists_used = 0;
    /* as the engine computed them (ta_hs_fingerprint), or hashed here for a record that comes
     * without; the inventory reads the same texts */
    ta_hs_fingerprints(hs, rt.ja3, rt.ja3s, rt.ja4);
    bind_endpoints(st, s, hs, ts_us, &rt);
    sqlite3_bind_int(s, H_IPVER, hs->ipver);
    sqlite3_bind_text(s, H_TRANSPORT, hs->transport == 17 ? "quic" : "tcp", -1, SQLITE_STATIC);
    /* ta_app_name returns string literals */
    sqlite3_bind_text(s, H_APP, ta_app_name(hs), -1, SQLITE_STATIC);
    sqlite3_bind_int(s, H_STARTTLS, hs->starttls);
    bind_client_hello(s, hs, &rt);
    bind_server_hello(s, hs, &rt);
    bind_extra(s, hs, &rt);
    r->server_ip = rt.server;
    r->ts_us = (int64_t)ts_us;
    r->greeting_host = hs->mail.present ? rule_str(hs->mail.greeting_host,
                                                   sizeof hs->mail.greeting_host, sp->ghost) : NULL;
    r->greeting = hs->mail.present ? rule_str(hs->mail.greeting, sizeof hs->mail.greeting,
                                              sp->greeting) : NULL;
    memset(&v, 0, sizeof v);
    ta__store_o365_bind(st, s, H_O365, r, &v);
    int rc = step_reset(st, s, "handshake");
    *id = rc == TA_OK ? sqlite3_last_insert_rowid(st->db) : 0;
    if (rc == TA_OK)
        rc = inventory_add(st, hs, r, &rt, &v, ts_us);
    *vp = v;
    r->server_ip = NULL;       /* rt ends with this call; add_mail sets its own */
    return rc;
}

/* Write the mail_sessions row of hs, linked to handshake hs_id (0 = no TLS row). r holds the
 * rule_tls columns of that handshake, hv its verdict. */
static int add_mail(struct ta_store *st, const struct ta_hs *hs, int64_t hs_id,
                    struct ta__o365_row *r, struct rule_text *sp, const struct ta__o365_verdict *hv)
{
    sqlite3_stmt *s = st->ins_mail;
    const struct ta_mail *m = &hs->mail;
    struct row_text rt;
    struct ta__o365_verdict v;
    uint64_t ts_us = hs->ts_first_us ? hs->ts_first_us : hs->ch.ts_us;
    int i = 8;
    bind_endpoints(st, s, hs, ts_us, &rt);
    sqlite3_bind_text(s, i++, ta_app_name(hs), -1, SQLITE_STATIC);
    if (m->greeting[0])
        sqlite3_bind_int(s, i++, m->greeting_code);
    else
        sqlite3_bind_null(s, i++);    /* no greeting seen (lost, or the clients' side only) */
    bind_str(s, i++, m->greeting_host, sizeof m->greeting_host);
    bind_str(s, i++, m->greeting, sizeof m->greeting);
    bind_str(s, i++, m->client_name, sizeof m->client_name);
    bind_str(s, i++, m->capabilities, sizeof m->capabilities);
    sqlite3_bind_int(s, i++, m->starttls_offered);
    sqlite3_bind_int(s, i++, m->starttls_sent);
    sqlite3_bind_int(s, i++, m->starttls_accepted);
    sqlite3_bind_int(s, i++, m->starttls_refused);
    sqlite3_bind_int(s, i++, m->auth_in_clear);
    sqlite3_bind_int(s, i++, m->mail_in_clear);
    bind_nz(s, i, hs_id);
    /* the classifier joins the mail row to its handshake: without one, no TLS columns */
    if (!hs_id)
        r->sni = r->cert_cn = r->cert_sans = r->ndpi_name = NULL;
    r->server_ip = rt.server;
    r->ts_us = (int64_t)ts_us;
    r->greeting_host = rule_str(m->greeting_host, sizeof m->greeting_host, sp->ghost);
    r->greeting = rule_str(m->greeting, sizeof m->greeting, sp->greeting);
    ta__store_o365_bind_mail(st, s, M_O365, r, hs_id ? hv : NULL, &v);
    r->server_ip = NULL;       /* rt ends with this call */
    return step_reset(st, s, "mail session");
}

/* See store.h. A record with neither hello, alert nor text prelude writes nothing. */
int ta_store_add(struct ta_store *st, const struct ta_hs *hs)
{
    int64_t hs_id = 0;
    int rc = TA_OK;
    bool tls = ta_hs_has_hello(hs) || hs->alert.present;
    struct ta__o365_row r;
    struct ta__o365_verdict hv;
    struct rule_text sp;   /* not initialised: written only for an unterminated field */
    if (!tls && !hs->mail.present)
        return TA_OK;
    if (ta__store_batch_begin(st) != TA_OK)
        return TA_ERR_IO;
    rule_tls(hs, &r, &sp);
    if (tls)
        rc = add_handshake(st, hs, &r, &sp, &hs_id, &hv);
    /* A connection's later handshakes (hs->seq > 0) carry its prelude for the banner, but the
     * mail session row was written with the first. */
    if (rc == TA_OK && hs->mail.present && hs->seq == 0)
        rc = add_mail(st, hs, hs_id, &r, &sp, &hv);
    return rc;
}

/* See store.h. */
int ta_store_add_dns(struct ta_store *st, uint64_t ts_us, const char *name, uint8_t ipver,
                     const struct ta_addr *addr, const char *cname)
{
    sqlite3_stmt *s = st->ins_dns;
    char ts[32], ip[TA__ADDR_TEXT_LEN];
    size_t n;
    if (!name)
        return TA_ERR_ARG;
    if (ta__store_batch_begin(st) != TA_OK)
        return TA_ERR_IO;
    ta__store_o365_dns(st, (int64_t)ts_us);
    st->dns_epoch++;
    if (st->run_id)
        sqlite3_bind_int64(s, 1, st->run_id);
    /* all text outlives the step: locals of this call and the caller's strings */
    ta__iso_time_us(ts_us, ts, sizeof ts);
    sqlite3_bind_text(s, 2, ts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)ts_us);
    sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
    if (addr) {
        sqlite3_bind_int(s, 5, ipver);
        n = ta__store_addr_text(addr, ipver, ip);
        sqlite3_bind_text(s, 6, ip, (int)n, SQLITE_STATIC);
    }
    if (cname)
        sqlite3_bind_text(s, 7, cname, -1, SQLITE_STATIC);
    int rc = step_reset(st, s, "dns answer");
    if (rc == TA_OK)
        st->dns_own_max = sqlite3_last_insert_rowid(st->db);
    return rc;
}
