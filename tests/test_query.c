/* test_query.c - the query reports on a small real database built with ta_store_add: full
 * expected CSV of sessions (with every filter, and a record filling every wide column), every
 * column in JSON, narrow and --wide tables, legacy (Office 365 and --all), summary, plaintext
 * and runs; exit codes of --fail-if-found and of bad usage; the registry labels. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "hs_fixture.h"
#include "tlsaudit/common.h"
#include "tlsaudit/fingerprint.h"
#include "tlsaudit/handshake.h"
#include "tlsaudit/names.h"
#include "tlsaudit/query.h"
#include "tlsaudit/store.h"

#define T0 1795161600000000ULL   /* 2026-11-20T08:00:00Z */
#define SEC 1000000ULL

static char dir[64], db[128];
static char fp[10][128];         /* "ja3,ja3s,ja4" of record i, as the CSV shows them */

/* A record: ClientHello with legacy version lv and one cipher; a ServerHello choosing sv and
 * the same cipher unless sv is 0. */
static void mk(struct ta_hs *hs, const char *cli, uint16_t cport, const char *srv,
               uint16_t sport, uint64_t ts, uint16_t lv, uint16_t sv, uint16_t cipher,
               const char *sni)
{
    hs_fixture(hs, cli, cport, srv, sport);
    hs->ts_first_us = ts;
    hs->ch.present = true;
    hs->ch.ts_us = ts;
    hs->ch.legacy_version = lv;
    hs->ch.record_version = 0x0301;
    hs->ch.ciphers[0] = cipher;
    hs->ch.nciphers = 1;
    hs->ch.exts[0] = 0;
    hs->ch.nexts = 1;
    snprintf(hs->ch.sni, sizeof hs->ch.sni, "%s", sni);
    if (sv) {
        hs->sh.present = true;
        hs->sh.legacy_version = sv > 0x0303 ? 0x0303 : sv;
        hs->sh.selected_version = sv > 0x0303 ? sv : 0;
        hs->sh.cipher = cipher;
    }
}

/* Fatal protocol_version alert from the server. */
static void refuse(struct ta_hs *hs)
{
    hs->alert.present = true;
    hs->alert.dir = TA_DIR_S2C;
    hs->alert.level = 2;
    hs->alert.description = 70;
}

/* Remember the fingerprints the store computed for record i, as they appear in the CSV. */
static void remember_fp(int i, const struct ta_hs *hs)
{
    char ja3[TA_JA3_HEX] = "", ja3s[TA_JA3_HEX] = "", ja4[TA_JA4_LEN] = "";
    ta_ja3(&hs->ch, ja3, NULL, 0);
    if (hs->sh.present)
        ta_ja3s(&hs->sh, ja3s, NULL, 0);
    ta_ja4(&hs->ch, 't', ja4);
    snprintf(fp[i], sizeof fp[i], "%s,%s,%s", ja3, ja3s, ja4);
}

/* Records 1..9; o365 columns set by SQL as the classifier would. */
static int build_db(void)
{
    char err[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct ta_hs hs;
    struct ta_run_stats rs = { .packets = 100, .bytes = 9000, .flows = 9, .handshakes = 7 };
    int64_t run;
    if (ta_store_open(db, &st, err) != TA_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    ta_store_run_begin(st, "test.pcap", "tcp", &run);
    mk(&hs, "10.0.0.1", 50001, "52.96.0.1", 443, T0 + 1 * SEC, 0x0301, 0x0301, 0x002f,
       "outlook.office365.com");
    remember_fp(1, &hs);
    ta_store_add(st, &hs);
    mk(&hs, "10.0.0.1", 50002, "52.96.0.1", 443, T0 + 2 * SEC, 0x0303, 0x0303, 0xc02f,
       "Outlook.Office365.com");
    remember_fp(2, &hs);
    ta_store_add(st, &hs);
    /* 3: SMTP STARTTLS toward Office 365 by IP, TLS 1.1 hello refused */
    mk(&hs, "10.0.0.2", 40000, "52.96.0.2", 25, T0 + 86400 * SEC + 3600 * SEC, 0x0302, 0,
       0x002f, "");
    hs.app = TA_APP_SMTP;
    hs.starttls = true;
    hs.mail.present = true;
    hs.mail.greeting_code = 220;
    strcpy(hs.mail.greeting_host, "mx.office365.example");
    hs.mail.starttls_offered = hs.mail.starttls_sent = hs.mail.starttls_accepted = true;
    refuse(&hs);
    remember_fp(3, &hs);
    ta_store_add(st, &hs);
    /* 4: TLS 1.3 over IPv6 */
    mk(&hs, "2001:db8::5", 50004, "2001:db8::443", 443, T0 + 3 * SEC, 0x0303, 0x0304, 0x1301,
       "www.example.com");
    hs.ch.versions[0] = 0x0304;
    hs.ch.versions[1] = 0x0303;
    hs.ch.nversions = 2;
    hs.ch.has_supported_versions = true;
    remember_fp(4, &hs);
    ta_store_add(st, &hs);
    mk(&hs, "10.1.0.9", 50005, "93.184.216.34", 443, T0 + 4 * SEC, 0x0301, 0x0301, 0x0035,
       "legacy.example.org");
    remember_fp(5, &hs);
    ta_store_add(st, &hs);
    mk(&hs, "2001:db8::6", 50006, "2001:db8::443", 443, T0 + 5 * SEC, 0x0300, 0x0300, 0x000a,
       "old.example.net");
    remember_fp(6, &hs);
    ta_store_add(st, &hs);
    /* 7: implicit TLS submission, TLS 1.1 refused */
    mk(&hs, "10.0.0.1", 50007, "52.96.0.7", 587, T0 + 6 * SEC, 0x0302, 0, 0x002f,
       "smtp.office365.com");
    refuse(&hs);
    remember_fp(7, &hs);
    ta_store_add(st, &hs);
    /* 8: SMTP without STARTTLS offered; 9: POP3 with STLS offered, unused */
    memset(&hs, 0, sizeof hs);
    hs.ipver = 4;
    hs.transport = 6;
    hs_fixture_addr(&hs.client, "10.0.0.8");
    hs_fixture_addr(&hs.server, "10.9.9.9");
    hs.client_port = 40008;
    hs.server_port = 25;
    hs.ts_first_us = T0 + 7 * SEC;
    hs.app = TA_APP_SMTP;
    hs.mail.present = true;
    hs.mail.greeting_code = 220;
    strcpy(hs.mail.greeting_host, "old.mail.example");
    hs.mail.auth_in_clear = hs.mail.mail_in_clear = true;
    ta_store_add(st, &hs);
    hs_fixture_addr(&hs.client, "10.0.0.9");
    hs.client_port = 40009;
    hs.server_port = 110;
    hs.ts_first_us = T0 + 8 * SEC;
    hs.app = TA_APP_POP3;
    hs.mail.greeting_code = 0;
    strcpy(hs.mail.greeting_host, "pop.example");
    hs.mail.starttls_offered = true;
    hs.mail.mail_in_clear = false;
    ta_store_add(st, &hs);
    ta_store_run_end(st, &rs, true, NULL);
    sqlite3 *h = ta_store_db(st);
    int rc = sqlite3_exec(h,
        "UPDATE handshakes SET o365 = 1, o365_service = 'Exchange', o365_reason = 'sni ' ||"
        " lower(sni) WHERE sni LIKE '%office365.com';"
        "UPDATE handshakes SET o365 = 1, o365_service = 'Exchange', o365_reason ="
        " 'ip 52.96.0.0/14' WHERE server_ip = '52.96.0.2';"
        "UPDATE mail_sessions SET o365 = 1 WHERE server_ip = '52.96.0.2';"
        "UPDATE runs SET started = '2026-11-20T09:00:00.000000Z',"
        " ended = '2026-11-20T09:00:01.500000Z'", NULL, NULL, NULL);
    ta_store_close(st);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Expected CSV line of handshake record i; {FP} stands for its fingerprints. */
static const char *const session_line[] = {
    [1] = "2026-11-20T08:00:01.000000Z,10.0.0.1,50001,52.96.0.1,443,tcp,https,0,"
          "outlook.office365.com,TLS 1.0,TLS 1.0,TLS 1.0,TLS 1.0,TLS_RSA_WITH_AES_128_CBC_SHA,"
          "0x002F,1,,{FP},,,1,Exchange,sni outlook.office365.com",
    [2] = "2026-11-20T08:00:02.000000Z,10.0.0.1,50002,52.96.0.1,443,tcp,https,0,"
          "Outlook.Office365.com,TLS 1.2,TLS 1.2,TLS 1.2,TLS 1.2,"
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,0xC02F,1,,{FP},,,1,Exchange,"
          "sni outlook.office365.com",
    [3] = "2026-11-21T09:00:00.000000Z,10.0.0.2,40000,52.96.0.2,25,tcp,smtp,1,,TLS 1.1,"
          "TLS 1.1,TLS 1.1,,,,0,fatal protocol_version (server),{FP},,,1,Exchange,"
          "ip 52.96.0.0/14",
    [4] = "2026-11-20T08:00:03.000000Z,2001:db8::5,50004,2001:db8::443,443,tcp,https,0,"
          "www.example.com,TLS 1.2,TLS 1.3,TLS 1.3 TLS 1.2,TLS 1.3,TLS_AES_128_GCM_SHA256,"
          "0x1301,1,,{FP},,,0,,",
    [5] = "2026-11-20T08:00:04.000000Z,10.1.0.9,50005,93.184.216.34,443,tcp,https,0,"
          "legacy.example.org,TLS 1.0,TLS 1.0,TLS 1.0,TLS 1.0,TLS_RSA_WITH_AES_256_CBC_SHA,"
          "0x0035,1,,{FP},,,0,,",
    [6] = "2026-11-20T08:00:05.000000Z,2001:db8::6,50006,2001:db8::443,443,tcp,https,0,"
          "old.example.net,SSL 3.0,SSL 3.0,SSL 3.0,SSL 3.0,TLS_RSA_WITH_3DES_EDE_CBC_SHA,"
          "0x000A,1,,{FP},,,0,,",
    [7] = "2026-11-20T08:00:06.000000Z,10.0.0.1,50007,52.96.0.7,587,tcp,smtps,0,"
          "smtp.office365.com,TLS 1.1,TLS 1.1,TLS 1.1,,,,0,fatal protocol_version (server),"
          "{FP},,,1,Exchange,sni smtp.office365.com",
};

/* The columns the sessions report had before the wide ones were appended (scripts rely on
 * them, in this order), then the wide columns. */
#define NARROW_HEADER \
    "time,client_ip,client_port,server_ip,server_port,transport,app,starttls,sni," \
    "client_version,client_max_version,offered_versions,version,cipher,cipher_id,established," \
    "alert,ja3,ja3s,ja4,cert_cn,ndpi,o365,o365_service,o365_reason"
#define WIDE_HEADER \
    "cipher_weak,ciphers_offered,extensions,server_extensions,groups,point_formats,sigalgs," \
    "key_shares,server_key_share,alpn_offered,alpn,hrr,resumed,session_ticket,psk,ems," \
    "reneg_info,etm,fallback_scsv,sslv2_hello,client_record_version,server_legacy_version," \
    "alert_level,alert_desc,alert_dir,cert_issuer,cert_sans,cert_not_before,cert_not_after," \
    "cert_key_type,cert_key_bits,cert_chain_len,greeting_host,anomalies,ndpi_master,ndpi_app"
static const char session_header[] = NARROW_HEADER "," WIDE_HEADER "\n";

/* The wide columns of records 1..7: one offered cipher, extension server_name only, record
 * version TLS 1.0, no flags, no certificate. {weak, offered cipher, server legacy version,
 * alert (3 cells), greeting host}. */
static const char *const session_wide[][5] = {
    /* CBC with SHA-1 under TLS 1.0 is weak (ta_cipher_weak_in) */
    [1] = { "1", "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS 1.0", ",,", "" },
    [2] = { "0", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS 1.2", ",,", "" },
    [3] = { "", "TLS_RSA_WITH_AES_128_CBC_SHA", "", "fatal,protocol_version,server",
            "mx.office365.example" },
    [4] = { "0", "TLS_AES_128_GCM_SHA256", "TLS 1.2", ",,", "" },
    [5] = { "1", "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS 1.0", ",,", "" },
    [6] = { "1", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "SSL 3.0", ",,", "" },
    [7] = { "", "TLS_RSA_WITH_AES_128_CBC_SHA", "", "fatal,protocol_version,server", "" },
};

/* Replace the first "{FP}" in src by rep; result in a static buffer. */
static const char *subst(const char *src, const char *rep)
{
    static char out[1024];
    const char *p = strstr(src, "{FP}");
    if (!p)
        return src;
    snprintf(out, sizeof out, "%.*s%s%s", (int)(p - src), src, rep, p + 4);
    return out;
}

/* The expected sessions CSV for records listed (0-terminated). */
static char *sessions_csv(const int *recs)
{
    static char out[16384];
    size_t off = (size_t)snprintf(out, sizeof out, "%s", session_header);
    for (; *recs; recs++) {
        const char *const *w = session_wide[*recs];
        off += (size_t)snprintf(out + off, sizeof out - off,
                                "%s,%s,%s,server_name,,,,,,,,,0,0,0,0,0,0,0,0,0,TLS 1.0,%s,%s,"
                                ",,,,,,,%s,,,\n", subst(session_line[*recs], fp[*recs]),
                                w[0], w[1], w[2], w[3], w[4]);
    }
    return out;
}

/* Run `tlsaudit query ARGS...` (NULL-terminated) and capture stdout, stderr and the status. */
static char qout[65536], qerr[4096];
static int query(const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    argv[argc++] = (char *)"query";
    argv[argc++] = (char *)first;
    va_start(ap, first);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 30; )
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    char *ob = NULL, *eb = NULL;
    size_t ol = 0, el = 0;
    FILE *o = open_memstream(&ob, &ol), *e = open_memstream(&eb, &el);
    int rc = ta_query_main(argc, argv, o, e);
    fclose(o);
    fclose(e);
    snprintf(qout, sizeof qout, "%s", ob);
    snprintf(qerr, sizeof qerr, "%s", eb);
    free(ob);
    free(eb);
    return rc;
}

#define SESSIONS(...) query("sessions", "--db", db, "--format", "csv", __VA_ARGS__, (char *)NULL)

static void test_sessions(void)
{
    CHECK_INT(SESSIONS("--all"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 1, 2, 4, 5, 6, 7, 3, 0 }));
    CHECK_STR(qerr, "");
    CHECK_INT(SESSIONS("--client", "10.0.0.0/24"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 1, 2, 7, 3, 0 }));
    CHECK_INT(SESSIONS("--client", "10.0.0.1"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 1, 2, 7, 0 }));
    CHECK_INT(SESSIONS("--client", "2001:db8::/64"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 4, 6, 0 }));
    CHECK_INT(SESSIONS("--client=2001:db8::6/128"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 6, 0 }));
    CHECK_INT(SESSIONS("--server", "52.96.0.0/14"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 1, 2, 7, 3, 0 }));
    CHECK_INT(SESSIONS("--version", "TLS 1.0"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 1, 5, 0 }));
    CHECK_INT(SESSIONS("--version", "tls1.1"), 0);   /* refused: the client's best offer */
    CHECK_STR(qout, sessions_csv((const int[]){ 7, 3, 0 }));
    CHECK_INT(SESSIONS("--version", "SSLv3"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 6, 0 }));
    CHECK_INT(SESSIONS("--since", "2026-11-21"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 3, 0 }));
    CHECK_INT(SESSIONS("--until", "2026-11-20"), 0);   /* date only: the whole day */
    CHECK_STR(qout, sessions_csv((const int[]){ 1, 2, 4, 5, 6, 7, 0 }));
    CHECK_INT(SESSIONS("--since", "2026-11-20T08:00:02", "--until", "2026-11-20 08:00:05Z"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 2, 4, 5, 0 }));
    CHECK_INT(SESSIONS("--sni", "*.OFFICE365.com"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 1, 2, 7, 0 }));
    CHECK_INT(SESSIONS("--app", "SMTP"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 3, 0 }));
    CHECK_INT(SESSIONS("--o365", "--client", "10.0.0.1"), 0);
    CHECK_STR(qout, sessions_csv((const int[]){ 1, 2, 7, 0 }));
    CHECK_INT(SESSIONS("--client", "192.168.0.0/16", "--fail-if-found"), 0);
    CHECK_STR(qout, session_header);
    CHECK_INT(SESSIONS("--version", "1.2", "--fail-if-found"), 1);
    CHECK_STR(qout, sessions_csv((const int[]){ 2, 0 }));
}

/* A second database with one record that fills every field the sessions report shows. */
static char db2[160];
static char fp_full[128];

static void fill_full(struct ta_hs *hs)
{
    static const uint16_t vers[] = { 0x1A1A, 0x0304, 0x0303 };
    static const uint16_t ciphers[] = { 0x0A0A, 0x1301, 0xC02F, 0x000A, 0x00FF, 0x5600, 0xFEFE };
    static const uint16_t exts[] = { 0x2A2A, 0, 10, 11, 13, 16, 23, 43, 51, 17513, 65281, 60000 };
    static const uint16_t groups[] = { 0x3A3A, 29, 23, 24, 0x11EC, 0x6399, 0x0105 };
    static const uint8_t pfs[] = { 0, 1, 7 };
    static const uint16_t sigalgs[] = { 0x0403, 0x0804, 0x0401, 0x0303, 0x0807 };
    static const uint16_t shares[] = { 0x3A3A, 0x11EC, 29 };
    static const uint16_t sexts[] = { 65281, 23, 16, 11 };
    mk(hs, "192.0.2.10", 51000, "198.51.100.20", 443, T0 + 30 * SEC, 0x0303, 0x0303, 0xc02f,
       "full.example.com");
    memcpy(hs->ch.versions, vers, sizeof vers);
    hs->ch.nversions = TA_ARRAY_LEN(vers);
    hs->ch.has_supported_versions = true;
    memcpy(hs->ch.ciphers, ciphers, sizeof ciphers);
    hs->ch.nciphers = TA_ARRAY_LEN(ciphers);
    memcpy(hs->ch.exts, exts, sizeof exts);
    hs->ch.nexts = TA_ARRAY_LEN(exts);
    memcpy(hs->ch.groups, groups, sizeof groups);
    hs->ch.ngroups = TA_ARRAY_LEN(groups);
    memcpy(hs->ch.point_formats, pfs, sizeof pfs);
    hs->ch.npoint_formats = TA_ARRAY_LEN(pfs);
    memcpy(hs->ch.sigalgs, sigalgs, sizeof sigalgs);
    hs->ch.nsigalgs = TA_ARRAY_LEN(sigalgs);
    memcpy(hs->ch.key_shares, shares, sizeof shares);
    hs->ch.nkey_shares = TA_ARRAY_LEN(shares);
    strcpy(hs->ch.alpn, "h2,http/1.1");
    hs->ch.session_ticket = hs->ch.session_ticket_data = true;
    hs->ch.psk = hs->ch.ems = hs->ch.reneg_info = hs->ch.etm = hs->ch.fallback_scsv = true;
    memcpy(hs->sh.exts, sexts, sizeof sexts);
    hs->sh.nexts = TA_ARRAY_LEN(sexts);
    hs->sh.key_share = 29;
    strcpy(hs->sh.alpn, "h2");
    hs->sh.resumed = hs->sh.hrr = true;
    hs->alert.present = true;
    hs->alert.dir = TA_DIR_C2S;
    hs->alert.level = 1;
    hs->alert.description = 90;
    hs->cert.present = true;
    hs->cert.chain_len = 3;
    strcpy(hs->cert.subject_cn, "full.example.com");
    strcpy(hs->cert.issuer, "CN=Test CA,O=Example");
    strcpy(hs->cert.sans, "full.example.com,www.full.example.com");
    hs->cert.not_before = 1767225600;   /* 2026-01-01T00:00:00Z */
    hs->cert.not_after = 1798761600;    /* 2027-01-01T00:00:00Z */
    strcpy(hs->cert.key_type, "EC");
    hs->cert.key_bits = 256;
    hs->ndpi_master = 91;
    hs->ndpi_app = 219;
    strcpy(hs->ndpi_name, "TLS.Microsoft365");
    hs->anomalies = TA_AN_LIST_CAPPED | TA_AN_LONG_LINE | (1u << 20);
}

static int build_db2(void)
{
    char err[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct ta_hs hs;
    int64_t run;
    if (ta_store_open(db2, &st, err) != TA_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    ta_store_run_begin(st, "full.pcap", NULL, &run);
    fill_full(&hs);
    char ja3[TA_JA3_HEX] = "", ja3s[TA_JA3_HEX] = "", ja4[TA_JA4_LEN] = "";
    ta_ja3(&hs.ch, ja3, NULL, 0);
    ta_ja3s(&hs.sh, ja3s, NULL, 0);
    ta_ja4(&hs.ch, 't', ja4);
    snprintf(fp_full, sizeof fp_full, "%s,%s,%s", ja3, ja3s, ja4);
    int rc = ta_store_add(st, &hs);
    ta_store_close(st);
    return rc == TA_OK ? 0 : -1;
}

/* Every field of the full record, as the CSV shows it: labels from src/record/names.c, GREASE named,
 * unknown values as numbers (extensions, point formats: decimal; the rest: hex). */
static void test_sessions_full(void)
{
    char want[4096];
    snprintf(want, sizeof want, "%s"
        "2026-11-20T08:00:30.000000Z,192.0.2.10,51000,198.51.100.20,443,tcp,https,0,"
        "full.example.com,TLS 1.2,TLS 1.3,TLS 1.3 TLS 1.2,TLS 1.2,"
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,0xC02F,1,warning user_canceled (client),%s,"
        "full.example.com,TLS.Microsoft365,0,,,"
        "0,GREASE TLS_AES_128_GCM_SHA256 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 "
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA TLS_EMPTY_RENEGOTIATION_INFO_SCSV TLS_FALLBACK_SCSV 0xFEFE,"
        "GREASE server_name supported_groups ec_point_formats signature_algorithms "
        "application_layer_protocol_negotiation extended_master_secret supported_versions "
        "key_share application_settings_old renegotiation_info 60000,"
        "renegotiation_info extended_master_secret application_layer_protocol_negotiation "
        "ec_point_formats,"
        "GREASE x25519 secp256r1 secp384r1 X25519MLKEM768 X25519Kyber768Draft00 0x0105,"
        "uncompressed ansiX962_compressed_prime 7,"
        "ecdsa_secp256r1_sha256 rsa_pss_rsae_sha256 rsa_pkcs1_sha256 0x0303 ed25519,"
        "GREASE X25519MLKEM768 x25519,x25519,\"h2,http/1.1\",h2,1,1,2,1,1,1,1,1,0,"
        "TLS 1.0,TLS 1.2,warning,user_canceled,client,\"CN=Test CA,O=Example\","
        "\"full.example.com,www.full.example.com\",2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,"
        "EC,256,3,,list_capped long_line 0x100000,91,219\n", session_header, fp_full);
    CHECK_INT(query("sessions", "--db", db2, "--format", "csv", (char *)NULL), 0);
    CHECK_STR(qout, want);
    CHECK_STR(qerr, "");
}

/* JSON and JSON lines carry every column, in report order, on every row; the table shows the
 * narrow set unless --wide, which only the sessions report accepts. */
static void test_sessions_columns(void)
{
    char names[] = NARROW_HEADER "," WIDE_HEADER;
    const char *dbs[] = { db, db2 };
    int ncols = 0;
    for (char *p = names; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
        ncols++;
    CHECK_INT(ncols, 61);
    for (int d = 0; d < 2; d++) {
        CHECK_INT(query("sessions", "--db", dbs[d], "--format", "jsonl", (char *)NULL), 0);
        int rows = 0;
        for (char *line = qout, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
            *nl = '\0';
            const char *at = line;
            char copy[sizeof names], *save = NULL;
            memcpy(copy, names, sizeof names);
            for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
                char key[64];
                snprintf(key, sizeof key, "\"%s\":", c);
                const char *hit = strstr(at, key);
                if (!hit)
                    fprintf(stderr, "row %d: no key %s after offset %td\n", rows, key, at - line);
                CHECK(hit != NULL);
                at = hit ? hit + strlen(key) : at;
            }
            rows++;
        }
        CHECK_INT(rows, d == 0 ? 7 : 1);
    }
    CHECK_INT(query("sessions", "--db", db2, "--format", "json", (char *)NULL), 0);
    CHECK(strncmp(qout, "[\n{\"time\":\"2026-11-20T08:00:30.000000Z\",", 40) == 0);
    CHECK(strstr(qout, "\"cert_key_bits\":256,\"cert_chain_len\":3,\"greeting_host\":null,"
                       "\"anomalies\":\"list_capped long_line 0x100000\",\"ndpi_master\":91,"
                       "\"ndpi_app\":219}\n]\n") != NULL);
    CHECK_INT(query("sessions", "--db", db2, (char *)NULL), 0);
    CHECK(strncmp(qout, "time  ", 6) == 0);
    CHECK(strstr(qout, "o365_reason\n") != NULL);
    CHECK(strstr(qout, "cipher_weak") == NULL && strstr(qout, "X25519MLKEM768") == NULL);
    CHECK_INT(query("sessions", "--db", db2, "--wide", (char *)NULL), 0);
    CHECK(strstr(qout, "  o365_reason  cipher_weak  ciphers_offered  ") != NULL);
    CHECK(strstr(qout, "  ndpi_master  ndpi_app\n") != NULL);
    CHECK(strstr(qout, "GREASE X25519MLKEM768 x25519") != NULL);
    CHECK_INT(query("sessions", "--help", (char *)NULL), 0);
    CHECK(strstr(qout, "  --wide                table format: every column") != NULL);
    CHECK_INT(query("summary", "--db", db2, "--wide", (char *)NULL), 2);
    CHECK_STR(qerr, "tlsaudit query summary: unknown option '--wide'\n");
}

/* The registry labels behind the wide columns (src/record/names.c). */
static void test_labels(void)
{
    char buf[256];
    CHECK_STR(ta_group_name(29), "x25519");
    CHECK_STR(ta_group_name(23), "secp256r1");
    CHECK_STR(ta_group_name(0x0100), "ffdhe2048");
    CHECK_STR(ta_group_name(0x11EC), "X25519MLKEM768");
    CHECK_STR(ta_group_name(0x6399), "X25519Kyber768Draft00");
    CHECK_STR(ta_group_name(0xFF02), "arbitrary_explicit_char2_curves");
    CHECK_STR(ta_group_name(0xFAFA), "GREASE");
    CHECK(ta_group_name(0x0105) == NULL && ta_group_name(0) == NULL);
    CHECK_STR(ta_sigalg_name(0x0804), "rsa_pss_rsae_sha256");
    CHECK_STR(ta_sigalg_name(0x0403), "ecdsa_secp256r1_sha256");
    CHECK_STR(ta_sigalg_name(0x0201), "rsa_pkcs1_sha1");
    CHECK_STR(ta_sigalg_name(0x0807), "ed25519");
    CHECK_STR(ta_sigalg_name(0x081C), "ecdsa_brainpoolP512r1tls13_sha512");
    CHECK_STR(ta_sigalg_name(0x0906), "mldsa87");
    CHECK(ta_sigalg_name(0x0303) == NULL && ta_sigalg_name(0x0402) == NULL);
    CHECK_STR(ta_ext_name(0), "server_name");
    CHECK_STR(ta_ext_name(10), "supported_groups");
    CHECK_STR(ta_ext_name(43), "supported_versions");
    CHECK_STR(ta_ext_name(0xFE0D), "encrypted_client_hello");
    CHECK_STR(ta_ext_name(0xFF01), "renegotiation_info");
    CHECK_STR(ta_ext_name(0x1A1A), "GREASE");
    CHECK(ta_ext_name(40) == NULL && ta_ext_name(60000) == NULL);
    CHECK_STR(ta_point_format_name(0), "uncompressed");
    CHECK(ta_point_format_name(3) == NULL);
    CHECK_STR(ta_anomalies_label(0, buf, sizeof buf), "");
    CHECK_STR(ta_anomalies_label(TA_AN_TRUNCATED_HELLO | TA_AN_LONG_LINE, buf, sizeof buf),
              "truncated_hello long_line");
    CHECK_STR(ta_anomalies_label(0x1FFF, buf, sizeof buf),
              "truncated_hello bad_record bad_handshake bad_extension list_capped stream_gap "
              "no_tls_after_starttls cert_unparsed duplicate_hello cap_reached not_tls "
              "dir_swapped long_line");
    CHECK_STR(ta_anomalies_label(TA_AN_NOT_TLS | 0x80000000u, buf, sizeof buf),
              "not_tls 0x80000000");
    CHECK_STR(ta_anomalies_label(TA_AN_STREAM_GAP | TA_AN_DIR_SWAPPED, buf, 10), "stream_ga");
}

static const char legacy_header[] =
    "client_ip,versions,client_max_version,apps,destinations,handshakes,refused,first_seen,"
    "last_seen,reason,ja3,ja4,ciphers,sensors\n";

/* ja3 (field 0) or ja4 (field 2) of record i. */
static const char *fp_field(int i, int field)
{
    static char buf[4][64];
    static int k;
    const char *p = fp[i];
    k = (k + 1) % 4;
    for (int f = 0; f < field; f++)
        p = strchr(p, ',') + 1;
    snprintf(buf[k], sizeof buf[k], "%.*s", (int)strcspn(p, ","), p);
    return buf[k];
}

/* "a b" sorted. */
static const char *pair(const char *a, const char *b)
{
    static char buf[2][160];
    static int k;
    k = (k + 1) % 2;
    if (strcmp(a, b) == 0)
        snprintf(buf[k], sizeof buf[k], "%s", a);
    else if (strcmp(a, b) < 0)
        snprintf(buf[k], sizeof buf[k], "%s %s", a, b);
    else
        snprintf(buf[k], sizeof buf[k], "%s %s", b, a);
    return buf[k];
}

static void test_legacy(void)
{
    char want[4096], row2[512], row1[768], row6[512], row5[512], host[256] = "";
    /* the sensor column: the store's default sensor name is the host name */
    gethostname(host, sizeof host - 1);
    snprintf(row2, sizeof row2, "10.0.0.2,TLS 1.1,TLS 1.1,smtp,52.96.0.2 (Exchange),1,1,"
             "2026-11-21T09:00:00.000000Z,2026-11-21T09:00:00.000000Z,ip 52.96.0.0/14,%s,%s,,%s\n",
             fp_field(3, 0), fp_field(3, 2), host);
    snprintf(row1, sizeof row1, "10.0.0.1,TLS 1.0 TLS 1.1,TLS 1.2,https smtps,"
             "\"outlook.office365.com (Exchange), smtp.office365.com (Exchange)\",2,1,"
             "2026-11-20T08:00:01.000000Z,2026-11-20T08:00:06.000000Z,"
             "sni outlook.office365.com; sni smtp.office365.com,%s,%s,"
             "TLS_RSA_WITH_AES_128_CBC_SHA,%s\n",
             pair(fp_field(1, 0), fp_field(7, 0)), pair(fp_field(1, 2), fp_field(7, 2)), host);
    snprintf(row6, sizeof row6, "2001:db8::6,SSL 3.0,SSL 3.0,https,old.example.net,1,0,"
             "2026-11-20T08:00:05.000000Z,2026-11-20T08:00:05.000000Z,,%s,%s,"
             "TLS_RSA_WITH_3DES_EDE_CBC_SHA,%s\n", fp_field(6, 0), fp_field(6, 2), host);
    snprintf(row5, sizeof row5, "10.1.0.9,TLS 1.0,TLS 1.0,https,legacy.example.org,1,0,"
             "2026-11-20T08:00:04.000000Z,2026-11-20T08:00:04.000000Z,,%s,%s,"
             "TLS_RSA_WITH_AES_256_CBC_SHA,%s\n", fp_field(5, 0), fp_field(5, 2), host);

    /* Default: Office 365 only; rows found, so --fail-if-found exits 1. */
    CHECK_INT(query("legacy", "--db", db, "--format", "csv", "--fail-if-found", (char *)NULL), 1);
    snprintf(want, sizeof want, "%s%s%s", legacy_header, row2, row1);
    CHECK_STR(qout, want);
    CHECK_INT(query("legacy", "--db", db, "--format", "csv", (char *)NULL), 0);
    CHECK_STR(qout, want);
    CHECK_INT(query("legacy", "--db", db, "--format", "csv", "--all", (char *)NULL), 0);
    snprintf(want, sizeof want, "%s%s%s%s%s", legacy_header, row2, row1, row6, row5);
    CHECK_STR(qout, want);
    CHECK_INT(query("legacy", "--db", db, "--format", "csv", "--all", "--client",
                    "2001:db8::/32", (char *)NULL), 0);
    snprintf(want, sizeof want, "%s%s", legacy_header, row6);
    CHECK_STR(qout, want);
    CHECK_INT(query("legacy", "--db", db, "--format", "csv", "--client", "10.1.0.0/16",
                    "--fail-if-found", (char *)NULL), 0);
    CHECK_STR(qout, legacy_header);
}

static void test_summary(void)
{
    CHECK_INT(query("summary", "--db", db, "--format", "csv", (char *)NULL), 0);
    CHECK_STR(qout, "section,key,handshakes,clients,percent\n"
                    "o365_version,TLS 1.2,1,1,25.0\n"
                    "o365_version,TLS 1.0,1,1,25.0\n"
                    "o365_version,none,2,2,50.0\n"
                    "other_version,TLS 1.3,1,1,33.3\n"
                    "other_version,TLS 1.0,1,1,33.3\n"
                    "other_version,SSL 3.0,1,1,33.3\n"
                    "app,https,5,4,71.4\n"
                    "app,smtp,1,1,14.3\n"
                    "app,smtps,1,1,14.3\n"
                    "transport,tcp,7,5,100.0\n"
                    "legacy,o365,3,2,75.0\n"
                    "legacy,other,2,2,66.7\n"
                    "legacy,all,5,4,71.4\n");
    CHECK_INT(query("summary", "--db", db, "--format", "jsonl", "--client", "2001:db8::5",
                    "--fail-if-found", (char *)NULL), 0);
    CHECK_STR(qout,
        "{\"section\":\"other_version\",\"key\":\"TLS 1.3\",\"handshakes\":1,\"clients\":1,"
        "\"percent\":100.0}\n"
        "{\"section\":\"app\",\"key\":\"https\",\"handshakes\":1,\"clients\":1,\"percent\":100.0}\n"
        "{\"section\":\"transport\",\"key\":\"tcp\",\"handshakes\":1,\"clients\":1,"
        "\"percent\":100.0}\n"
        "{\"section\":\"legacy\",\"key\":\"o365\",\"handshakes\":0,\"clients\":0,\"percent\":0.0}\n"
        "{\"section\":\"legacy\",\"key\":\"other\",\"handshakes\":0,\"clients\":0,"
        "\"percent\":0.0}\n"
        "{\"section\":\"legacy\",\"key\":\"all\",\"handshakes\":0,\"clients\":0,\"percent\":0.0}\n");
    CHECK_INT(query("summary", "--db", db, "--o365", "--fail-if-found", (char *)NULL), 1);
    CHECK_STR(qout,
        "Office 365 handshakes by negotiated version\n"
        "version  handshakes  clients  share\n"
        "-------  ----------  -------  -----\n"
        "TLS 1.2           1        1  25.0%\n"
        "TLS 1.0           1        1  25.0%\n"
        "none              2        2  50.0%\n"
        "\n"
        "Other handshakes by negotiated version\n"
        "(no handshakes)\n"
        "\n"
        "Handshakes by application\n"
        "app    handshakes  clients  share\n"
        "-----  ----------  -------  -----\n"
        "https           2        1  50.0%\n"
        "smtp            1        1  25.0%\n"
        "smtps           1        1  25.0%\n"
        "\n"
        "Handshakes by transport (tcp, or quic: TLS inside QUIC over UDP)\n"
        "transport  handshakes  clients   share\n"
        "---------  ----------  -------  ------\n"
        "tcp                 4        2  100.0%\n"
        "\n"
        "Legacy handshakes (SSL 2.0 to TLS 1.1 negotiated, or refused or unanswered with nothing "
        "newer offered)\n"
        "group  handshakes  clients  share\n"
        "-----  ----------  -------  -----\n"
        "o365            3        2  75.0%\n"
        "other           0        0   0.0%\n"
        "all             3        2  75.0%\n");
}

static void test_plaintext_runs(void)
{
    static const char hdr[] = "time,client_ip,server_ip,server_port,app,greeting_host,"
        "starttls_offered,starttls_sent,starttls_accepted,starttls_refused,auth_in_clear,"
        "mail_in_clear,o365\n";
    static const char r3[] = "2026-11-21T09:00:00.000000Z,10.0.0.2,52.96.0.2,25,smtp,"
        "mx.office365.example,1,1,1,0,0,0,1\n";
    static const char r8[] = "2026-11-20T08:00:07.000000Z,10.0.0.8,10.9.9.9,25,smtp,"
        "old.mail.example,0,0,0,0,1,1,0\n";
    static const char r9[] = "2026-11-20T08:00:08.000000Z,10.0.0.9,10.9.9.9,110,pop3,"
        "pop.example,1,0,0,0,1,0,0\n";
    char want[2048];
    CHECK_INT(query("plaintext", "--db", db, "--format", "csv", (char *)NULL), 0);
    snprintf(want, sizeof want, "%s%s%s%s", hdr, r8, r9, r3);
    CHECK_STR(qout, want);
    CHECK_INT(query("plaintext", "--db", db, "--format", "csv", "--no-starttls", (char *)NULL), 0);
    snprintf(want, sizeof want, "%s%s", hdr, r8);
    CHECK_STR(qout, want);
    CHECK_INT(query("plaintext", "--db", db, "--format", "csv", "--offered-unused",
                    "--fail-if-found", (char *)NULL), 1);
    snprintf(want, sizeof want, "%s%s", hdr, r9);
    CHECK_STR(qout, want);
    CHECK_INT(query("plaintext", "--db", db, "--format", "csv", "--o365", "--sni", "MX.*",
                    (char *)NULL), 0);
    snprintf(want, sizeof want, "%s%s", hdr, r3);
    CHECK_STR(qout, want);

    CHECK_INT(query("runs", "--db", db, "--format", "csv", (char *)NULL), 0);
    snprintf(want, sizeof want, "id,source,filter,started,ended,packets,bytes,drops,if_drops,"
             "flows,flows_evicted,flows_timed_out,handshakes,ip_fragments,malformed,non_ip,"
             "pool_exhausted,tunneled,undecoded_mpls,undecoded_pppoe,undecoded_gre,undecoded_erspan,"
             "undecoded_vxlan,undecoded_geneve,undecoded_cmd,undecoded_ipip,tunnel_too_deep,"
             "truncated,ip_reassembled,ip_incomplete,time_back,clean,error,tool_version\n"
             "1,test.pcap,tcp,2026-11-20T09:00:00.000000Z,2026-11-20T09:00:01.500000Z,100,9000,"
             "0,0,9,0,0,7,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,,%s\n", TA_VERSION);
    CHECK_STR(qout, want);
    CHECK_INT(query("runs", "--db", db, "--format", "csv", "--since", "2026-11-21",
                    (char *)NULL), 0);
    CHECK_STR(qout, "id,source,filter,started,ended,packets,bytes,drops,if_drops,"
              "flows,flows_evicted,flows_timed_out,handshakes,ip_fragments,malformed,non_ip,"
              "pool_exhausted,tunneled,undecoded_mpls,undecoded_pppoe,undecoded_gre,undecoded_erspan,"
              "undecoded_vxlan,undecoded_geneve,undecoded_cmd,undecoded_ipip,tunnel_too_deep,"
              "truncated,ip_reassembled,ip_incomplete,time_back,clean,error,tool_version\n");
}

/* Usage errors exit 2 with a message and print no report. */
static void test_errors(void)
{
    CHECK_INT(query("sessions", "--db", db, "--client", "10.0.0.0/33", (char *)NULL), 2);
    CHECK_STR(qerr, "tlsaudit query: invalid --client value '10.0.0.0/33'\n");
    CHECK_STR(qout, "");
    CHECK_INT(query("sessions", "--format", "csv", (char *)NULL), 2);
    CHECK_STR(qerr, "tlsaudit query sessions: --db FILE is required\n");
    CHECK_INT(query("sessions", "--db", db, "--version", "TLS 9", (char *)NULL), 2);
    CHECK_STR(qerr, "tlsaudit query: invalid --version value 'TLS 9'\n");
    CHECK_INT(query("sessions", "--db", db, "--since", "yesterday", (char *)NULL), 2);
    CHECK_STR(qerr, "tlsaudit query: invalid --since value 'yesterday'\n");
    CHECK_INT(query("sessions", "--db", db, "--format", "xml", (char *)NULL), 2);
    CHECK_INT(query("sessions", "--db", db, "--bogus", (char *)NULL), 2);
    CHECK_STR(qerr, "tlsaudit query sessions: unknown option '--bogus'\n");
    CHECK_INT(query("sessions", "--db", (char *)NULL), 2);
    CHECK_STR(qerr, "tlsaudit query: --db needs a value\n");
    CHECK_INT(query("runs", "--db", db, "--client", "10.0.0.1", (char *)NULL), 2);
    CHECK_STR(qerr, "tlsaudit query runs: --client, --server, --sni, --version, --app, --o365 "
              "and --all do not apply to this report\n");
    CHECK_INT(query("runs", "--db", db, "--o365", (char *)NULL), 2);
    CHECK_INT(query("runs", "--db", db, "--all", (char *)NULL), 2);   /* every run is listed */
    CHECK(strstr(qerr, "and --all do not apply") != NULL);
    CHECK_INT(query("runs", "--db", db, "--format", "jsonl", (char *)NULL), 0);
    CHECK(strncmp(qout, "{\"id\":1,\"source\":\"test.pcap\",\"filter\":\"tcp\",", 40) == 0);
    CHECK_INT(query("plaintext", "--db", db, "--version", "1.0", (char *)NULL), 2);
    CHECK_INT(query("nosuch", "--db", db, (char *)NULL), 2);
    CHECK(strstr(qerr, "unknown report 'nosuch'") != NULL);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing.db", dir);
    CHECK_INT(query("sessions", "--db", missing, (char *)NULL), 2);
    CHECK(strncmp(qerr, "tlsaudit query: ", 16) == 0 && strstr(qerr, "missing.db") != NULL);
    CHECK_INT(query("legacy", "--help", (char *)NULL), 0);
    CHECK(strstr(qout, "usage: tlsaudit query legacy --db FILE") != NULL);
    CHECK(strstr(qout, "--o365                Office 365 destinations only (default)") != NULL);
    CHECK_INT(query("plaintext", "--help", (char *)NULL), 0);
    CHECK(strstr(qout, "--offered-unused") != NULL);
}

static void test_parsers(void)
{
    static const struct { const char *in; unsigned v; } vs[] = {
        { "TLS 1.0", 0x0301 }, { "1.0", 0x0301 }, { "tls1.0", 0x0301 }, { "TLSv1", 0x0301 },
        { "tls10", 0x0301 }, { "TLSv1.1", 0x0302 }, { "1.2", 0x0303 }, { "TLS_1_3", 0x0304 },
        { "ssl3", 0x0300 }, { "SSLv3", 0x0300 }, { "SSL 3.0", 0x0300 }, { "3.0", 0x0300 },
        { "ssl2", 0x0002 }, { "SSL 2.0", 0x0002 }, { "0x0301", 0x0301 }, { "769", 0x0301 },
        { "tls3.0", 0 }, { "tls2", 0 }, { "ssl1.0", 0 }, { "TLS 9", 0 }, { "", 0 },
        { "0x", 0 }, { "70000", 0 },
    };
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        unsigned got = ta_query_parse_version(vs[i].in);
        if (got != vs[i].v)
            fprintf(stderr, "version '%s'\n", vs[i].in);
        CHECK_INT(got, vs[i].v);
    }
    long long us;
    int d;
    CHECK_INT(ta_query_parse_time("2026-11-20", &us, &d), 0);
    CHECK_INT(us, (long long)(T0 - 8 * 3600 * SEC));
    CHECK_INT(d, 1);
    CHECK_INT(ta_query_parse_time("2026-11-20T08:00:00.5Z", &us, &d), 0);
    CHECK_INT(us, (long long)(T0 + 500000));
    CHECK_INT(d, 0);
    CHECK_INT(ta_query_parse_time("2026-11-20 08:00", &us, &d), 0);
    CHECK_INT(us, (long long)T0);
    CHECK_INT(ta_query_parse_time("2026-13-01", &us, &d), -1);
    CHECK_INT(ta_query_parse_time("2026-11-20T08", &us, &d), -1);
    CHECK_INT(ta_query_parse_time("2026-11-20T08:00:00+02:00", &us, &d), -1);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ta_test_query.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(db, sizeof db, "%s/q.db", dir);
    snprintf(db2, sizeof db2, "%s/full.db", dir);
    CHECK_INT(build_db(), 0);
    CHECK_INT(build_db2(), 0);
    test_sessions();
    test_sessions_full();
    test_sessions_columns();
    test_labels();
    test_legacy();
    test_summary();
    test_plaintext_runs();
    test_errors();
    test_parsers();
    check_dir_done(dir);
    return CHECK_DONE();
}
