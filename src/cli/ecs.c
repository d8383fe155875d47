/* ecs.c - one handshakes or mail_sessions row as an Elastic Common Schema (ECS 8.11) document.
 *
 * ECS names the fields shippers and SIEMs already understand (source.*, destination.*, tls.*,
 * network.*, observer.*, event.*); what ECS has no field for lives under tlsaudit.* (Office 365
 * verdict, JA4, the highest version the client offered, the mail session's STARTTLS story).
 * Objects are nested (ECS's canonical form); a field whose value is NULL or '' is left out, as
 * ECS documents do, instead of being written as null. Types follow the ECS field reference:
 * keyword and ip and date as JSON strings, long as numbers, boolean as true/false, and fields
 * ECS normalises to arrays (event.category, event.type, tls.client.supported_ciphers,
 * x509.subject.common_name, x509.alternative_names) as arrays. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_int.h"
#include "tlsaudit/names.h"
#include "tlsaudit/output.h"

/* Columns of the handshake SELECT, in order: one list for the SQL and the reader. */
#define ECS_HS_COLS(X) \
    X(ID, "h.id") X(TS, "h.ts") X(CIP, "h.client_ip") X(CPORT, "h.client_port") \
    X(SIP, "h.server_ip") X(SPORT, "h.server_port") X(IPVER, "h.ipver") \
    X(TRANSPORT, "h.transport") X(APP, "h.app") X(STARTTLS, "h.starttls") X(SNI, "h.sni") \
    X(VERSION, "h.version") X(CIPHER, "h.cipher_id") X(CIPHER_V2, "h.cipher_v2") \
    X(ESTABLISHED, "h.established") X(RESUMED, "h.resumed") X(ALPN, "h.alpn") \
    X(OFFERED, "h.ciphers_offered") X(JA3, "h.ja3") X(JA3S, "h.ja3s") X(JA4, "h.ja4") \
    X(CN, "h.cert_cn") X(ISSUER, "h.cert_issuer") X(SANS, "h.cert_sans") \
    X(NOT_BEFORE, "h.cert_not_before") X(NOT_AFTER, "h.cert_not_after") \
    X(KEY_TYPE, "h.cert_key_type") X(KEY_BITS, "h.cert_key_bits") \
    X(MAXVER, "h.client_max_version") X(ALERT_LEVEL, "h.alert_level") \
    X(ALERT_DESC, "h.alert_desc") X(ALERT_DIR, "h.alert_dir") X(O365, "h.o365") \
    X(O365_SERVICE, "h.o365_service") X(O365_REASON, "h.o365_reason") X(RUN, "h.run_id") \
    X(SENSOR, "COALESCE(r.sensor, '')") X(NDPI, "h.ndpi_name")

#define ECS_MAIL_COLS(X) \
    X(ID, "m.id") X(TS, "m.ts") X(CIP, "m.client_ip") X(CPORT, "m.client_port") \
    X(SIP, "m.server_ip") X(SPORT, "m.server_port") X(APP, "m.app") \
    X(GCODE, "m.greeting_code") X(GHOST, "m.greeting_host") X(GREETING, "m.greeting") \
    X(CNAME, "m.client_name") X(CAPS, "m.capabilities") X(OFFERED, "m.starttls_offered") \
    X(SENT, "m.starttls_sent") X(ACCEPTED, "m.starttls_accepted") \
    X(REFUSED, "m.starttls_refused") X(AUTH_CLEAR, "m.auth_in_clear") \
    X(MAIL_CLEAR, "m.mail_in_clear") X(HS_ID, "m.handshake_id") X(O365, "m.o365") \
    X(O365_SERVICE, "m.o365_service") X(O365_REASON, "m.o365_reason") X(RUN, "m.run_id") \
    X(SENSOR, "COALESCE(r.sensor, '')")

#define ECS_ENUM(name, expr) HS_##name,
enum { ECS_HS_COLS(ECS_ENUM) HS_NCOLS };
#undef ECS_ENUM
#define ECS_ENUM(name, expr) M_##name,
enum { ECS_MAIL_COLS(ECS_ENUM) M_NCOLS };
#undef ECS_ENUM

#define ECS_SEL(name, expr) expr ", "
const char ta__ecs_handshake_sql[] =
    "SELECT " ECS_HS_COLS(ECS_SEL) "1 FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id "
    "WHERE h.id > ?1 AND h.ts_us >= ?2 ORDER BY h.id LIMIT ?3";
const char ta__ecs_mail_sql[] =
    "SELECT " ECS_MAIL_COLS(ECS_SEL) "1 FROM mail_sessions m LEFT JOIN runs r ON r.id = m.run_id "
    "WHERE m.id > ?1 AND m.ts_us >= ?2 ORDER BY m.id LIMIT ?3";
#undef ECS_SEL

#define JW_DEPTH 8

/* A nested-object JSON writer: keys and strings through ta_out_json_string only. */
struct jw {
    FILE *fp;
    int depth;
    bool first[JW_DEPTH];
};

static void jw_key(struct jw *w, const char *key)
{
    if (!w->first[w->depth])
        fputc(',', w->fp);
    w->first[w->depth] = false;
    ta_out_json_string(w->fp, key);
    fputc(':', w->fp);
}

static void jw_open(struct jw *w, const char *key)
{
    if (key)
        jw_key(w, key);
    fputc('{', w->fp);
    if (w->depth < JW_DEPTH - 1)
        w->depth++;
    w->first[w->depth] = true;
}

static void jw_close(struct jw *w)
{
    fputc('}', w->fp);
    if (w->depth > 0)
        w->depth--;
}

/* A string field; left out when s is NULL or "". */
static void jw_str(struct jw *w, const char *key, const char *s)
{
    if (!s || !*s)
        return;
    jw_key(w, key);
    ta_out_json_string(w->fp, s);
}

static void jw_long(struct jw *w, const char *key, long long v)
{
    jw_key(w, key);
    fprintf(w->fp, "%lld", v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
    jw_key(w, key);
    fputs(v ? "true" : "false", w->fp);
}

/* An array of one string (ECS keyword fields normalised to arrays); left out when empty. */
static void jw_str_array1(struct jw *w, const char *key, const char *s)
{
    if (!s || !*s)
        return;
    jw_key(w, key);
    fputc('[', w->fp);
    ta_out_json_string(w->fp, s);
    fputc(']', w->fp);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

static bool col_null(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL;
}

/* ECS tls.version / tls.version_protocol of a wire version: "1.0".."1.3" with "tls", "2.0" and
 * "3.0" with "ssl" (drafts and vendor variants of 1.3 count as "1.3"). NULL when ECS has no
 * spelling for it (0, DTLS, unknown values): the fields are then left out. */
static const char *ecs_version(int64_t v, const char **proto)
{
    *proto = "tls";
    switch (v) {
    case 0x0002: *proto = "ssl"; return "2.0";
    case 0x0300: *proto = "ssl"; return "3.0";
    case 0x0301: return "1.0";
    case 0x0302: return "1.1";
    case 0x0303: return "1.2";
    case 0x0304: return "1.3";
    default:
        if ((v & 0xFF00) == 0x7F00 || v == 0x7E01 || v == 0x7E02 || v == 0x7E03 || v == 0xFB17 ||
            v == 0xFB1A)
            return "1.3";
        return NULL;
    }
}

/* tls.client.supported_ciphers from the stored list "[49199,255]": IANA names, "0xNNNN" for
 * values without one. Numbers are read digit by digit; anything else in the text is skipped. */
static void ecs_ciphers(struct jw *w, const char *list)
{
    bool any = false;
    if (!list)
        return;
    for (const char *p = list; *p;) {
        if (*p < '0' || *p > '9') {
            p++;
            continue;
        }
        unsigned long v = 0;
        while (*p >= '0' && *p <= '9') {
            if (v <= 0xFFFFF)
                v = v * 10 + (unsigned long)(*p - '0');
            p++;
        }
        char hex[8];
        const char *name = v <= 0xFFFF ? ta_cipher_name((uint16_t)v) : NULL;
        if (!name) {
            snprintf(hex, sizeof hex, "0x%04lX", v & 0xFFFF);
            name = hex;
        }
        if (!any) {
            jw_key(w, "supported_ciphers");
            fputc('[', w->fp);
        } else {
            fputc(',', w->fp);
        }
        any = true;
        ta_out_json_string(w->fp, name);
    }
    if (any)
        fputc(']', w->fp);
}

/* x509.alternative_names from the stored comma-separated SAN list. */
static void ecs_sans(struct jw *w, const char *sans)
{
    char item[256];
    bool any = false;
    if (!sans || !*sans)
        return;
    jw_key(w, "alternative_names");
    fputc('[', w->fp);
    for (const char *p = sans;;) {
        size_t n = strcspn(p, ",");
        if (n > 0) {
            size_t k = n < sizeof item ? n : sizeof item - 1;
            memcpy(item, p, k);
            item[k] = '\0';
            if (any)
                fputc(',', w->fp);
            any = true;
            ta_out_json_string(w->fp, item);
        }
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    fputc(']', w->fp);
}

/* The fields every document shares: @timestamp, event.*, observer.*, source.*, destination.*
 * (without closing destination, so the caller can add destination.domain). outcome: ECS
 * event.outcome ("success" / "failure"), or NULL to leave it out. */
static void ecs_common(struct jw *w, sqlite3_stmt *s, int c_ts, int c_sensor, const char *dataset,
                       const char *kind_id, const char *outcome, int c_id, int c_cip,
                       int c_cport, int c_sip, int c_sport)
{
    char id[48];
    jw_open(w, NULL);
    jw_str(w, "@timestamp", col_text(s, c_ts));
    jw_open(w, "ecs");
    jw_str(w, "version", TA_ECS_VERSION);
    jw_close(w);
    snprintf(id, sizeof id, "%s-%lld", kind_id, (long long)sqlite3_column_int64(s, c_id));
    jw_open(w, "event");
    jw_str(w, "kind", "event");
    jw_key(w, "category");
    fputs("[\"network\"]", w->fp);
    jw_key(w, "type");
    fputs("[\"connection\",\"protocol\"]", w->fp);
    jw_str(w, "module", "tlsaudit");
    jw_str(w, "dataset", dataset);
    jw_str(w, "id", id);
    jw_str(w, "outcome", outcome);
    jw_close(w);
    jw_open(w, "observer");
    jw_str(w, "name", col_text(s, c_sensor));
    jw_str(w, "product", "tlsaudit");
    jw_str(w, "vendor", "tlsaudit");
    jw_str(w, "version", TA_VERSION);
    jw_close(w);
    jw_open(w, "source");
    jw_str(w, "ip", col_text(s, c_cip));
    jw_long(w, "port", sqlite3_column_int64(s, c_cport));
    jw_close(w);
    jw_open(w, "destination");
    jw_str(w, "ip", col_text(s, c_sip));
    jw_long(w, "port", sqlite3_column_int64(s, c_sport));
}

/* The tls.server part: ja3s and the leaf certificate's x509 fields. */
static void ecs_tls_server(struct jw *w, sqlite3_stmt *s)
{
    const char *cn = col_text(s, HS_CN), *issuer = col_text(s, HS_ISSUER);
    const char *sans = col_text(s, HS_SANS), *kt = col_text(s, HS_KEY_TYPE);
    bool cert = (cn && *cn) || (issuer && *issuer) || (sans && *sans) || (kt && *kt);
    const char *ja3s = col_text(s, HS_JA3S);
    if (!cert && !(ja3s && *ja3s))
        return;
    jw_open(w, "server");
    jw_str(w, "ja3s", ja3s);
    if (cert) {
        jw_open(w, "x509");
        if (cn && *cn) {
            jw_open(w, "subject");
            jw_str_array1(w, "common_name", cn);
            jw_close(w);
        }
        if (issuer && *issuer) {
            jw_open(w, "issuer");
            jw_str(w, "distinguished_name", issuer);
            jw_close(w);
        }
        ecs_sans(w, sans);
        jw_str(w, "not_before", col_text(s, HS_NOT_BEFORE));
        jw_str(w, "not_after", col_text(s, HS_NOT_AFTER));
        jw_str(w, "public_key_algorithm", kt);
        if (!col_null(s, HS_KEY_BITS))
            jw_long(w, "public_key_size", sqlite3_column_int64(s, HS_KEY_BITS));
        jw_close(w);
    }
    jw_close(w);
}

/* The tls object: negotiated version and suite, outcome, the client's offer, the server. */
static void ecs_tls(struct jw *w, sqlite3_stmt *s)
{
    const char *proto, *ver = ecs_version(sqlite3_column_int64(s, HS_VERSION), &proto);
    jw_open(w, "tls");
    if (ver) {
        jw_str(w, "version", ver);
        jw_str(w, "version_protocol", proto);
    }
    if (!col_null(s, HS_CIPHER)) {
        char hex[8];
        int64_t id = sqlite3_column_int64(s, HS_CIPHER);
        const char *name = id >= 0 && id <= 0xFFFF ? ta_cipher_name((uint16_t)id) : NULL;
        snprintf(hex, sizeof hex, "0x%04X", (unsigned)(id & 0xFFFF));
        jw_str(w, "cipher", name ? name : hex);
    } else if (!col_null(s, HS_CIPHER_V2)) {
        const char *name = ta_cipher_v2_name((uint32_t)sqlite3_column_int64(s, HS_CIPHER_V2));
        jw_str(w, "cipher", name);
    }
    jw_bool(w, "established", sqlite3_column_int64(s, HS_ESTABLISHED) != 0);
    jw_bool(w, "resumed", sqlite3_column_int64(s, HS_RESUMED) != 0);
    jw_str(w, "next_protocol", col_text(s, HS_ALPN));
    jw_open(w, "client");
    jw_str(w, "server_name", col_text(s, HS_SNI));
    jw_str(w, "ja3", col_text(s, HS_JA3));
    ecs_ciphers(w, col_text(s, HS_OFFERED));
    jw_close(w);
    ecs_tls_server(w, s);
    jw_close(w);
}

/* The network object; protocol is the application label in lower case (ECS convention). */
static void ecs_network(struct jw *w, const char *transport, int64_t ipver, const char *app)
{
    char proto[32];
    size_t i = 0;
    jw_open(w, "network");
    jw_str(w, "transport", transport);
    if (ipver == 4 || ipver == 6)
        jw_str(w, "type", ipver == 4 ? "ipv4" : "ipv6");
    for (; app && app[i] && i < sizeof proto - 1; i++)
        proto[i] = (char)(app[i] >= 'A' && app[i] <= 'Z' ? app[i] - 'A' + 'a' : app[i]);
    proto[i] = '\0';
    jw_str(w, "protocol", proto);
    jw_close(w);
}

/* The Office 365 verdict, the same three fields for both kinds of rows. */
static void ecs_o365(struct jw *w, sqlite3_stmt *s, int c_o365, int c_service, int c_reason)
{
    jw_open(w, "o365");
    jw_bool(w, "match", sqlite3_column_int64(s, c_o365) != 0);
    jw_str(w, "service", col_text(s, c_service));
    jw_str(w, "reason", col_text(s, c_reason));
    jw_close(w);
}

/* See ecs_int.h. */
void ta__ecs_handshake(FILE *fp, sqlite3_stmt *s)
{
    struct jw w = { .fp = fp, .depth = 0, .first = { true } };
    char label[32];
    ecs_common(&w, s, HS_TS, HS_SENSOR, "tlsaudit.handshake", "handshake",
               sqlite3_column_int64(s, HS_ESTABLISHED) ? "success" : "failure", HS_ID, HS_CIP,
               HS_CPORT, HS_SIP, HS_SPORT);
    jw_str(&w, "domain", col_text(s, HS_SNI));
    jw_close(&w);
    ecs_network(&w, col_text(s, HS_TRANSPORT), sqlite3_column_int64(s, HS_IPVER),
                col_text(s, HS_APP));
    ecs_tls(&w, s);
    jw_open(&w, "tlsaudit");
    jw_long(&w, "id", sqlite3_column_int64(s, HS_ID));
    if (!col_null(s, HS_RUN))
        jw_long(&w, "run_id", sqlite3_column_int64(s, HS_RUN));
    jw_str(&w, "app", col_text(s, HS_APP));
    jw_bool(&w, "starttls", sqlite3_column_int64(s, HS_STARTTLS) != 0);
    jw_str(&w, "version", ta_version_label((uint16_t)sqlite3_column_int64(s, HS_VERSION), label,
                                           sizeof label));
    jw_str(&w, "client_max_version",
           ta_version_label((uint16_t)sqlite3_column_int64(s, HS_MAXVER), label, sizeof label));
    jw_str(&w, "ja4", col_text(s, HS_JA4));
    jw_str(&w, "ndpi", col_text(s, HS_NDPI));
    if (!col_null(s, HS_ALERT_DESC)) {
        const char *an = ta_alert_name((uint8_t)sqlite3_column_int64(s, HS_ALERT_DESC));
        jw_open(&w, "alert");
        jw_long(&w, "level", sqlite3_column_int64(s, HS_ALERT_LEVEL));
        jw_long(&w, "description", sqlite3_column_int64(s, HS_ALERT_DESC));
        jw_str(&w, "name", an);
        jw_str(&w, "direction", col_text(s, HS_ALERT_DIR));
        jw_close(&w);
    }
    ecs_o365(&w, s, HS_O365, HS_O365_SERVICE, HS_O365_REASON);
    jw_close(&w);
    jw_close(&w);
    fputc('\n', fp);
}

/* See ecs_int.h. */
void ta__ecs_mail(FILE *fp, sqlite3_stmt *s)
{
    struct jw w = { .fp = fp, .depth = 0, .first = { true } };
    ecs_common(&w, s, M_TS, M_SENSOR, "tlsaudit.mail_session", "mail_session", NULL, M_ID,
               M_CIP, M_CPORT, M_SIP, M_SPORT);
    jw_close(&w);
    ecs_network(&w, "tcp", 0, col_text(s, M_APP));
    jw_open(&w, "tlsaudit");
    jw_long(&w, "id", sqlite3_column_int64(s, M_ID));
    if (!col_null(s, M_RUN))
        jw_long(&w, "run_id", sqlite3_column_int64(s, M_RUN));
    jw_str(&w, "app", col_text(s, M_APP));
    jw_open(&w, "mail");
    if (!col_null(s, M_GCODE))
        jw_long(&w, "greeting_code", sqlite3_column_int64(s, M_GCODE));
    jw_str(&w, "greeting_host", col_text(s, M_GHOST));
    jw_str(&w, "greeting", col_text(s, M_GREETING));
    jw_str(&w, "client_name", col_text(s, M_CNAME));
    jw_str(&w, "capabilities", col_text(s, M_CAPS));
    jw_bool(&w, "starttls_offered", sqlite3_column_int64(s, M_OFFERED) != 0);
    jw_bool(&w, "starttls_sent", sqlite3_column_int64(s, M_SENT) != 0);
    jw_bool(&w, "starttls_accepted", sqlite3_column_int64(s, M_ACCEPTED) != 0);
    jw_bool(&w, "starttls_refused", sqlite3_column_int64(s, M_REFUSED) != 0);
    jw_bool(&w, "auth_in_clear", sqlite3_column_int64(s, M_AUTH_CLEAR) != 0);
    jw_bool(&w, "mail_in_clear", sqlite3_column_int64(s, M_MAIL_CLEAR) != 0);
    if (!col_null(s, M_HS_ID))
        jw_long(&w, "handshake_id", sqlite3_column_int64(s, M_HS_ID));
    jw_close(&w);
    ecs_o365(&w, s, M_O365, M_O365_SERVICE, M_O365_REASON);
    jw_close(&w);
    jw_close(&w);
    fputc('\n', fp);
}
