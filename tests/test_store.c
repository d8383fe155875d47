/* test_store.c - the SQLite store on a real file: creation (mode, WAL, schema version), rows
 * written from hand-built records read back column by column, batching seen from a second
 * read-only connection, runs, reopen, newer/older/foreign databases, SQL functions. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hs_fixture.h"
#include "store_int.h"
#include "tlsaudit/embedded.h"
#include "tlsaudit/store.h"

#define T0 1795161600000000ULL   /* 2026-11-20T08:00:00Z */

static char dir[64];

/* Path of a file in the test directory (static buffer rotated over 4 slots). */
static const char *path_of(const char *name)
{
    static char buf[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* Run sql and return every row as "c1|c2|..." lines joined by '\n' (NULL printed as NULL), like
 * the sqlite3 shell. Static buffer. */
__attribute__((format(printf, 2, 3))) static const char *q(sqlite3 *db, const char *fmt, ...)
{
    static char out[8192];
    char sql[1024];
    sqlite3_stmt *s = NULL;
    va_list ap;
    size_t off = 0;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(out, sizeof out, "SQL ERROR: %s", sqlite3_errmsg(db));
        return out;
    }
    while (sqlite3_step(s) == SQLITE_ROW && off < sizeof out - 1) {
        if (off)
            off += (size_t)snprintf(out + off, sizeof out - off, "\n");
        for (int i = 0; i < sqlite3_column_count(s) && off < sizeof out - 1; i++) {
            const char *t = (const char *)sqlite3_column_text(s, i);
            off += (size_t)snprintf(out + off, sizeof out - off, "%s%s", i ? "|" : "",
                                    t ? t : "NULL");
        }
    }
    sqlite3_finalize(s);
    return out;
}

/* A record with endpoints set: IPv4 unless the client text contains ':'. */
static void hs_init(struct ta_hs *hs, const char *cli, uint16_t cport, const char *srv,
                    uint16_t sport, uint64_t ts)
{
    hs_fixture(hs, cli, cport, srv, sport);
    hs->ts_first_us = ts - 1000;
    hs->ts_last_us = ts + 5000;
}

/* TLS 1.0 ClientHello + ServerHello with SNI and a certificate. */
static void rec_tls10(struct ta_hs *hs)
{
    hs_init(hs, "10.0.0.1", 50000, "52.96.0.1", 443, T0 + 123456);
    struct ta_client_hello *ch = &hs->ch;
    ch->present = true;
    ch->ts_us = T0 + 123456;
    ch->record_version = 0x0301;
    ch->legacy_version = 0x0301;
    ch->ciphers[0] = 0x002f; ch->ciphers[1] = 0x0035; ch->ciphers[2] = 0x000a;
    ch->nciphers = 3;
    ch->exts[0] = 0; ch->exts[1] = 10; ch->exts[2] = 11;
    ch->nexts = 3;
    ch->groups[0] = 23;
    ch->ngroups = 1;
    ch->npoint_formats = 1;
    ch->compression_methods = 1;
    strcpy(ch->sni, "outlook.office365.com");
    ch->reneg_info = true;
    hs->sh.present = true;
    hs->sh.record_version = 0x0301;
    hs->sh.legacy_version = 0x0301;
    hs->sh.cipher = 0x002f;
    hs->sh.exts[0] = 0xff01;
    hs->sh.nexts = 1;
    hs->sh.ts_us = T0 + 130000;
    hs->cert.present = true;
    hs->cert.chain_len = 2;
    strcpy(hs->cert.subject_cn, "outlook.com");
    strcpy(hs->cert.issuer, "CN=Test CA");
    strcpy(hs->cert.sans, "outlook.com,*.office365.com");
    hs->cert.not_before = 1767225600;   /* 2026-01-01T00:00:00Z */
    hs->cert.not_after = 1798761599;    /* 2026-12-31T23:59:59Z */
    strcpy(hs->cert.key_type, "RSA");
    hs->cert.key_bits = 2048;
    strcpy(hs->ndpi_name, "TLS.Microsoft365");
    hs->ndpi_master = 91;
    hs->ndpi_app = 219;
}

/* TLS 1.3 over IPv6 through supported_versions (GREASE first). */
static void rec_tls13(struct ta_hs *hs)
{
    hs_init(hs, "2001:db8::1", 50001, "2001:db8::443", 443, T0 + 2000000);
    struct ta_client_hello *ch = &hs->ch;
    ch->present = true;
    ch->ts_us = T0 + 2000000;
    ch->record_version = 0x0301;
    ch->legacy_version = 0x0303;
    ch->versions[0] = 0x0a0a; ch->versions[1] = 0x0304; ch->versions[2] = 0x0303;
    ch->nversions = 3;
    ch->has_supported_versions = true;
    ch->ciphers[0] = 0x0a0a; ch->ciphers[1] = 0x1301; ch->ciphers[2] = 0x1302;
    ch->nciphers = 3;
    ch->exts[0] = 43; ch->exts[1] = 51; ch->exts[2] = 16;
    ch->nexts = 3;
    ch->key_shares[0] = 29;
    ch->nkey_shares = 1;
    strcpy(ch->alpn, "h2,http/1.1");
    ch->psk = true;
    hs->sh.present = true;
    hs->sh.legacy_version = 0x0303;
    hs->sh.selected_version = 0x0304;
    hs->sh.cipher = 0x1301;
    hs->sh.key_share = 29;
    strcpy(hs->sh.alpn, "h2");
    hs->sh.exts[0] = 43; hs->sh.exts[1] = 51;
    hs->sh.nexts = 2;
}

/* TLS 1.1 ClientHello the server never answered; invalid UTF-8 in the SNI. */
static void rec_hello_only(struct ta_hs *hs)
{
    hs_init(hs, "10.0.0.2", 40000, "10.9.9.9", 993, T0 + 3000000);
    hs->ch.present = true;
    hs->ch.ts_us = 0;                   /* ts falls back to ts_first_us */
    hs->ch.record_version = 0x0301;
    hs->ch.legacy_version = 0x0302;
    hs->ch.ciphers[0] = 0x0005;
    hs->ch.nciphers = 1;
    strcpy(hs->ch.sni, "bad\xff\xc3name");
    hs->anomalies = TA_AN_TRUNCATED_HELLO;
}

/* TLS 1.2: ServerHello then a fatal unknown_ca alert from the client. */
static void rec_fatal(struct ta_hs *hs)
{
    hs_init(hs, "10.0.0.3", 40001, "10.9.9.8", 443, T0 + 4000000);
    hs->ch.present = true;
    hs->ch.ts_us = T0 + 4000000;
    hs->ch.legacy_version = 0x0303;
    hs->ch.ciphers[0] = 0xc02f;
    hs->ch.nciphers = 1;
    hs->sh.present = true;
    hs->sh.legacy_version = 0x0303;
    hs->sh.cipher = 0xc02f;
    hs->alert.present = true;
    hs->alert.dir = TA_DIR_C2S;
    hs->alert.level = 2;
    hs->alert.description = 48;
}

/* SMTP STARTTLS then a TLS 1.2 handshake; the banner holds a terminal escape. */
static void rec_smtp_tls(struct ta_hs *hs)
{
    hs_init(hs, "10.0.0.4", 40002, "52.96.0.2", 25, T0 + 5000000);
    hs->app = TA_APP_SMTP;
    hs->starttls = true;
    hs->mail.present = true;
    hs->mail.greeting_code = 220;
    strcpy(hs->mail.greeting_host, "mx.example.com");
    strcpy(hs->mail.greeting, "mx.example.com ESMTP \x1b[31mready");
    strcpy(hs->mail.client_name, "client.example");
    strcpy(hs->mail.capabilities, "PIPELINING STARTTLS 8BITMIME");
    hs->mail.starttls_offered = hs->mail.starttls_sent = hs->mail.starttls_accepted = true;
    hs->ch.present = true;
    hs->ch.ts_us = T0 + 5100000;
    hs->ch.legacy_version = 0x0303;
    hs->ch.ciphers[0] = 0xc030;
    hs->ch.nciphers = 1;
    hs->sh.present = true;
    hs->sh.legacy_version = 0x0303;
    hs->sh.cipher = 0xc030;
}

/* SMTP that never upgraded: STARTTLS offered, the client sent AUTH and MAIL in clear. */
static void rec_smtp_clear(struct ta_hs *hs)
{
    hs_init(hs, "10.0.0.5", 40003, "10.9.9.7", 25, T0 + 6000000);
    hs->app = TA_APP_SMTP;
    hs->mail.present = true;
    hs->mail.greeting_code = 220;
    strcpy(hs->mail.greeting_host, "relay.example");
    strcpy(hs->mail.greeting, "relay.example ESMTP");
    hs->mail.starttls_offered = true;
    hs->mail.auth_in_clear = hs->mail.mail_in_clear = true;
}

static int64_t count(sqlite3 *db, const char *table)
{
    return atoll(q(db, "SELECT count(*) FROM %s", table));
}

/* New file: mode, WAL, schema version, then every record type read back. */
static void test_create_and_rows(void)
{
    char err[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = NULL;
    struct ta_hs hs;
    struct stat sb;
    sqlite3 *ro = NULL;
    const char *db = path_of("a.db");
    int latest = ta__schema_latest(NULL);

    CHECK(latest >= 1);
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st) {
        fprintf(stderr, "open: %s\n", err);
        return;
    }
    CHECK_INT(stat(db, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0640);
    char tmpname[200];
    snprintf(tmpname, sizeof tmpname, "%s.new-%ld", db, (long)getpid());
    CHECK(access(tmpname, F_OK) != 0);   /* built under a temporary name, linked into place */
    CHECK_INT(atoi(q(ta_store_db(st), "PRAGMA user_version")), latest);
    CHECK_STR(q(ta_store_db(st), "PRAGMA journal_mode"), "wal");
    CHECK_STR(q(ta_store_db(st), "PRAGMA foreign_keys"), "1");
    CHECK_STR(q(ta_store_db(st), "PRAGMA synchronous"), "1");

    rec_tls10(&hs);        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    rec_tls13(&hs);        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    rec_hello_only(&hs);   CHECK_INT(ta_store_add(st, &hs), TA_OK);
    rec_fatal(&hs);        CHECK_INT(ta_store_add(st, &hs), TA_OK);
    rec_smtp_tls(&hs);     CHECK_INT(ta_store_add(st, &hs), TA_OK);
    rec_smtp_clear(&hs);   CHECK_INT(ta_store_add(st, &hs), TA_OK);
    hs_init(&hs, "10.0.0.6", 1, "10.0.0.7", 2, T0);   /* nothing seen: no row */
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    struct ta_addr a;
    hs_fixture_addr(&a, "52.96.0.1");
    CHECK_INT(ta_store_add_dns(st, T0 + 1, "outlook.office365.com", 4, &a, NULL), TA_OK);
    CHECK_INT(ta_store_add_dns(st, T0 + 2, "outlook.office365.com", 0, NULL,
                               "outlook.ha.office365.com"), TA_OK);

    /* Not yet committed: a second connection sees nothing. */
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (!ro) {
        fprintf(stderr, "open_ro: %s\n", err);
        ta_store_close(st);
        return;
    }
    CHECK_INT(count(ro, "handshakes"), 0);
    CHECK_INT(ta_store_commit(st), TA_OK);
    CHECK_INT(count(ro, "handshakes"), 5);
    CHECK_INT(count(ro, "mail_sessions"), 2);
    CHECK_INT(count(ro, "dns_answers"), 2);

    CHECK_STR(q(ro, "SELECT ts, ts_us, client_ip, client_port, server_ip, server_port, ipver, "
                "transport, app, starttls, sni, client_hello, sslv2_hello, client_record_version, "
                "client_legacy_version, client_versions, client_max_version FROM handshakes "
                "WHERE id = 1"),
              "2026-11-20T08:00:00.123456Z|1795161600123456|10.0.0.1|50000|52.96.0.1|443|4|tcp|"
              "https|0|outlook.office365.com|1|0|769|769|NULL|769");
    CHECK_STR(q(ro, "SELECT ciphers_offered, extensions, groups, point_formats, sigalgs, "
                "key_shares, alpn_offered, session_ticket, psk, ems, reneg_info, etm, "
                "fallback_scsv FROM handshakes WHERE id = 1"),
              "[47,53,10]|[0,10,11]|[23]|[0]|[]|[]|NULL|0|0|0|1|0|0");
    CHECK_STR(q(ro, "SELECT server_hello, hrr, server_legacy_version, version, cipher_id, "
                "cipher_v2, server_extensions, alpn, resumed, server_key_share, established, "
                "alert_level, alert_desc, alert_dir FROM handshakes WHERE id = 1"),
              "1|0|769|769|47|NULL|[65281]|NULL|0|NULL|1|NULL|NULL|NULL");
    CHECK_STR(q(ro, "SELECT cert_cn, cert_issuer, cert_sans, cert_not_before, cert_not_after, "
                "cert_key_type, cert_key_bits, cert_chain_len, ndpi_master, ndpi_app, ndpi_name, "
                "greeting_host, greeting, anomalies, o365, o365_service, o365_reason "
                "FROM handshakes WHERE id = 1"),
              "outlook.com|CN=Test CA|outlook.com,*.office365.com|2026-01-01T00:00:00Z|"
              "2026-12-31T23:59:59Z|RSA|2048|2|91|219|TLS.Microsoft365|NULL|NULL|0|0|NULL|NULL");
    /* Fingerprints: JA3 of "769,47-53-10,0-10-11,23,0"; JA4 part a from the same hello. */
    CHECK_STR(q(ro, "SELECT ja3 FROM handshakes WHERE id = 1"),
              "ec766bd2098c578c1a402843e947cc79");
    CHECK_STR(q(ro, "SELECT substr(ja4, 1, 11), length(ja4), length(ja3s) FROM handshakes "
                "WHERE id = 1"), "t10d030300_|36|32");
    /* Labels through the registered functions. */
    CHECK_STR(q(ro, "SELECT ta_version(version), ta_cipher(cipher_id), ta_cipher_weak(cipher_id)"
                " FROM handshakes WHERE id = 1"), "TLS 1.0|TLS_RSA_WITH_AES_128_CBC_SHA|0");

    /* TLS 1.3: negotiated from supported_versions, max offered skips GREASE. */
    CHECK_STR(q(ro, "SELECT client_ip, ipver, client_versions, client_max_version, version, "
                "ta_version(version), cipher_id, server_key_share, alpn_offered, alpn, psk, "
                "key_shares, established, ciphers_offered FROM handshakes WHERE id = 2"),
              "2001:db8::1|6|[2570,772,771]|772|772|TLS 1.3|4865|29|h2,http/1.1|h2|1|[29]|1|"
              "[2570,4865,4866]");
    /* ClientHello only: no version, not established, ts from the flow, raw SNI bytes kept. */
    CHECK_STR(q(ro, "SELECT ts_us, version, established, server_hello, client_max_version, "
                "hex(CAST(sni AS BLOB)), app, anomalies, ja3s, cipher_id FROM handshakes "
                "WHERE id = 3"),
              "1795161602999000|NULL|0|0|770|626164FFC36E616D65|imaps|1|NULL|NULL");
    /* Fatal alert after the ServerHello: version known, not established. */
    CHECK_STR(q(ro, "SELECT version, established, alert_level, alert_desc, alert_dir, "
                "ta_alert(alert_desc) FROM handshakes WHERE id = 4"),
              "771|0|2|48|client|unknown_ca");
    /* STARTTLS: app smtp, greeting copied, mail row linked to it. */
    CHECK_STR(q(ro, "SELECT app, starttls, greeting_host, greeting FROM handshakes WHERE id = 5"),
              "smtp|1|mx.example.com|mx.example.com ESMTP \x1b[31mready");
    CHECK_STR(q(ro, "SELECT m.client_ip, m.server_port, m.app, m.greeting_code, m.greeting_host,"
                " m.client_name, m.capabilities, m.starttls_offered, m.starttls_sent, "
                "m.starttls_accepted, m.starttls_refused, m.auth_in_clear, m.mail_in_clear, "
                "m.handshake_id, h.client_port FROM mail_sessions m JOIN handshakes h "
                "ON h.id = m.handshake_id"),
              "10.0.0.4|25|smtp|220|mx.example.com|client.example|PIPELINING STARTTLS 8BITMIME|"
              "1|1|1|0|0|0|5|40002");
    CHECK_STR(q(ro, "SELECT ts, client_ip, greeting, starttls_offered, starttls_sent, "
                "auth_in_clear, mail_in_clear, handshake_id FROM mail_sessions "
                "WHERE handshake_id IS NULL"),
              "2026-11-20T08:00:05.999000Z|10.0.0.5|relay.example ESMTP|1|0|1|1|NULL");
    CHECK_STR(q(ro, "SELECT ts, name, ipver, addr, cname FROM dns_answers ORDER BY id"),
              "2026-11-20T08:00:00.000001Z|outlook.office365.com|4|52.96.0.1|NULL\n"
              "2026-11-20T08:00:00.000002Z|outlook.office365.com|NULL|NULL|"
              "outlook.ha.office365.com");
    /* SQL functions registered on the read-only connection too. */
    CHECK_STR(q(ro, "SELECT ta_version(NULL), ta_version(0), ta_version(768), ta_cipher(NULL), "
                "ta_cipher_weak(10), ta_cipher_weak(4865), ta_alert(70)"),
              "||SSL 3.0||1|0|protocol_version");
    CHECK_STR(q(ro, "SELECT ta_ip_in('10.1.2.3', '10.0.0.0/8'), ta_ip_in('11.0.0.1', '10.0.0.0/8'),"
                " ta_ip_in('2001:db8::1', '2001:db8::/32'), ta_ip_in('2001:db9::1', '2001:db8::/32'),"
                " ta_ip_in('10.1.2.3', '::/0'), ta_ip_in('10.1.2.3', '0.0.0.0/0'),"
                " ta_ip_in('10.1.2.3', '10.1.2.3'), ta_ip_in('10.1.2.3', 'junk'),"
                " ta_ip_in('10.1.2.3', '10.0.0.0/33'), ta_ip_in(NULL, '10.0.0.0/8')"),
              "1|0|1|0|0|1|1|0|0|NULL");
    CHECK_STR(q(ro, "SELECT ta_sni_match('Outlook.Office365.com', '*.office365.COM'), "
                "ta_sni_match('office365.com', '*.office365.com'), ta_sni_match(NULL, '*'), "
                "ta_sni_match('a.b', 'a?b'), ta_sni_match('abc', '*')"),
              "1|0|0|0|1");
    sqlite3_close(ro);
    ta_store_close(st);
}

/* Batches: maybe_commit waits for 1 s of the caller's clock or batch_rows rows. */
static void test_batching(void)
{
    char err[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = NULL;
    struct ta_hs hs;
    sqlite3 *ro = NULL;
    const char *db = path_of("batch.db");
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (!st || !ro)
        return;
    rec_tls10(&hs);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_maybe_commit(st, 5000000), TA_OK);     /* batch age starts here */
    CHECK_INT(count(ro, "handshakes"), 0);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_maybe_commit(st, 5999999), TA_OK);
    CHECK_INT(count(ro, "handshakes"), 0);
    CHECK_INT(ta_store_maybe_commit(st, 6000000), TA_OK);     /* one second old */
    CHECK_INT(count(ro, "handshakes"), 2);
    /* TA_STORE_BATCH_ROWS - 1 rows: not yet; the next row commits at the next call whatever the
     * clock says. */
    for (int i = 0; i < TA_STORE_BATCH_ROWS - 1; i++)
        ta_store_add(st, &hs);
    CHECK_INT(ta_store_maybe_commit(st, 7000000), TA_OK);
    CHECK_INT(count(ro, "handshakes"), 2);
    ta_store_add(st, &hs);
    CHECK_INT(ta_store_maybe_commit(st, 7000001), TA_OK);
    CHECK_INT(count(ro, "handshakes"), 2 + TA_STORE_BATCH_ROWS);
    /* close commits the open batch */
    ta_store_add(st, &hs);
    CHECK_INT(count(ro, "handshakes"), 2 + TA_STORE_BATCH_ROWS);
    ta_store_close(st);
    CHECK_INT(count(ro, "handshakes"), 3 + TA_STORE_BATCH_ROWS);
    sqlite3_close(ro);
}

/* Runs: begin is visible at once; rows carry the run id; end writes counters and the outcome. */
static void test_runs(void)
{
    char err[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = NULL;
    struct ta_hs hs;
    sqlite3 *ro = NULL;
    int64_t run = 0;
    struct ta_run_stats rs = { .packets = 10, .bytes = 2000, .drops = 1, .if_drops = 2,
                               .flows = 3, .flows_evicted = 4, .flows_timed_out = 5,
                               .handshakes = 6, .ip_fragments = 7, .malformed = 8, .non_ip = 9,
                               .pool_exhausted = 11, .tunneled = 21, .undecoded_mpls = 22,
                               .undecoded_pppoe = 23, .undecoded_gre = 24, .undecoded_erspan = 25,
                               .undecoded_vxlan = 26, .undecoded_geneve = 27, .undecoded_cmd = 28,
                               .undecoded_ipip = 29, .tunnel_too_deep = 30 };
    const char *db = path_of("runs.db");
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (!st || !ro)
        return;
    CHECK_INT(ta_store_run_begin(st, "a.pcap b.pcap", "tcp port 443", &run), TA_OK);
    CHECK_INT(run, 1);
    CHECK_STR(q(ro, "SELECT id, source, filter, ended, packets, clean, error, tool_version, "
                "length(started), substr(started, 20, 1), substr(started, -1) FROM runs"),
              "1|a.pcap b.pcap|tcp port 443|NULL|0|0|NULL|" TA_VERSION "|27|.|Z");
    rec_tls13(&hs);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_run_update(st, &rs), TA_OK);
    CHECK_INT(ta_store_commit(st), TA_OK);
    CHECK_STR(q(ro, "SELECT packets, bytes, drops, if_drops, flows, flows_evicted, "
                "flows_timed_out, handshakes, ip_fragments, malformed, non_ip, pool_exhausted, "
                "clean, ended FROM runs"), "10|2000|1|2|3|4|5|6|7|8|9|11|0|NULL");
    CHECK_STR(q(ro, "SELECT tunneled, undecoded_mpls, undecoded_pppoe, undecoded_gre, "
                "undecoded_erspan, undecoded_vxlan, undecoded_geneve, undecoded_cmd, "
                "undecoded_ipip, tunnel_too_deep FROM runs"), "21|22|23|24|25|26|27|28|29|30");
    CHECK_STR(q(ro, "SELECT run_id FROM handshakes"), "1");
    rs.packets = 12;
    rs.undecoded_cmd = 31;
    CHECK_INT(ta_store_run_end(st, &rs, false, "x.pcap: truncated"), TA_OK);
    CHECK_STR(q(ro, "SELECT packets, clean, error, ended >= started, undecoded_cmd, "
                "tunnel_too_deep FROM runs"), "12|0|x.pcap: truncated|1|31|30");
    CHECK_INT(ta_store_run_begin(st, "eth0", NULL, &run), TA_OK);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK_STR(q(ro, "SELECT id, source, filter, clean, error FROM runs WHERE id = 2"),
              "2|eth0|NULL|1|NULL");
    sqlite3_close(ro);
    ta_store_close(st);

    /* Reopen: no migration is attempted again, rows and version unchanged. */
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st)
        return;
    CHECK_INT(count(ta_store_db(st), "handshakes"), 1);
    CHECK_INT(count(ta_store_db(st), "runs"), 2);
    CHECK_INT(atoi(q(ta_store_db(st), "PRAGMA user_version")), ta__schema_latest(NULL));
    ta_store_close(st);
}

/* Make a database by hand with the given SQL. */
static void make_db(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    unlink(path);
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Refusals: newer schema, foreign database, not SQLite, missing/empty for read-only. */
static void test_refusals(void)
{
    char err[TA_ERRBUF_SIZE] = "", want[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    sqlite3 *ro = NULL;
    const char *latest_name;
    int latest = ta__schema_latest(&latest_name);
    const char *db = path_of("new.db");

    make_db(db, "CREATE TABLE handshakes(id); PRAGMA user_version = 999");
    CHECK_INT(ta_store_open(db, &st, err), TA_ERR_IO);
    CHECK(st == NULL);
    snprintf(want, sizeof want, "%s: schema version 999 is newer than this tlsaudit %s knows "
             "(%d, %s); use a newer tlsaudit", db, TA_VERSION, latest, latest_name);
    CHECK_STR(err, want);
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_ERR_IO);
    CHECK(ro == NULL);
    CHECK_STR(err, want);

    db = path_of("foreign.db");
    make_db(db, "CREATE TABLE t(x)");
    CHECK_INT(ta_store_open(db, &st, err), TA_ERR_IO);
    snprintf(want, sizeof want, "%s: empty or not a tlsaudit database (schema version 0)", db);
    CHECK_STR(err, want);

    db = path_of("garbage.db");
    FILE *f = fopen(db, "w");
    fputs("this is not a database, it is a text file that is long enough to be a header....\n"
          "and a bit more text so that SQLite reads a full header page from it.\n", f);
    fclose(f);
    CHECK_INT(ta_store_open(db, &st, err), TA_ERR_IO);
    snprintf(want, sizeof want, "%s: not an SQLite database", db);
    CHECK_STR(err, want);
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_ERR_IO);
    CHECK_STR(err, want);

    db = path_of("missing.db");
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_ERR_IO);
    CHECK(strstr(err, "missing.db: cannot open") != NULL);
    CHECK(access(db, F_OK) != 0);   /* read-only open never creates */

    db = path_of("empty.db");
    f = fopen(db, "w");
    fclose(f);
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_ERR_IO);
    snprintf(want, sizeof want, "%s: empty or not a tlsaudit database (schema version 0)", db);
    CHECK_STR(err, want);
}

/* An older database (only 001 applied, by hand) is migrated to the latest version on open;
 * read-only opens refuse it until then. */
static void test_migrate_old(void)
{
    char err[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = NULL;
    sqlite3 *ro = NULL, *h = NULL;
    const struct ta_embedded *e = ta_embedded_find("schema/001_init.sql");
    const char *db = path_of("old.db");
    int latest = ta__schema_latest(NULL);
    CHECK(e != NULL);
    if (!e)
        return;
    unlink(db);
    CHECK_INT(sqlite3_open(db, &h), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h, (const char *)e->data, NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h, "PRAGMA user_version = 1; INSERT INTO runs(source, started, "
                           "tool_version) VALUES ('old', '2026-01-01T00:00:00.000000Z', '0.0')",
                           NULL, NULL, NULL), SQLITE_OK);
    int objects_v1 = atoi(q(h, "SELECT count(*) FROM sqlite_schema"));
    sqlite3_close(h);
    if (latest > 1) {
        CHECK_INT(ta_store_open_ro(db, &ro, err), TA_ERR_IO);
        CHECK(strstr(err, "schema version 1 is older") != NULL);
    }
    CHECK_INT(ta_store_open(db, &st, err), TA_OK);
    if (!st)
        return;
    CHECK_INT(atoi(q(ta_store_db(st), "PRAGMA user_version")), latest);
    CHECK_STR(q(ta_store_db(st), "SELECT source FROM runs"), "old");
    /* every later schema file added objects */
    if (latest > 1)
        CHECK(atoi(q(ta_store_db(st), "SELECT count(*) FROM sqlite_schema")) > objects_v1);
    else
        CHECK_INT(atoi(q(ta_store_db(st), "SELECT count(*) FROM sqlite_schema")), objects_v1);
    ta_store_close(st);
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    sqlite3_close(ro);
}

/* Four processes open one new file at the same instant (released together by a pipe), forty
 * times over: every open succeeds. A file created in rollback mode was switched to WAL by its
 * first opener; two openers switching at once each held a read lock and wanted to write, and
 * SQLite answers that deadlock with "database is locked" at once, without the busy handler. */
static void test_open_race(void)
{
    enum { ROUNDS = 40, PROCS = 4 };
    int failed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char name[32];
        snprintf(name, sizeof name, "race%d.db", round);
        const char *db = path_of(name);
        int go[2];
        pid_t pid[PROCS];
        if (pipe(go) != 0) {
            CHECK(!"pipe");
            return;
        }
        for (int k = 0; k < PROCS; k++) {
            pid[k] = fork();
            if (pid[k] < 0) {
                perror("fork");
                failed++;
            } else if (pid[k] == 0) {
                char err[TA_ERRBUF_SIZE], b;
                struct ta_store *st = NULL;
                close(go[1]);
                if (read(go[0], &b, 1) != 0)     /* released when the parent closes the pipe */
                    _exit(3);
                if (ta_store_open(db, &st, err) != TA_OK) {
                    fprintf(stderr, "round %d, process %d: %s\n", round, k, err);
                    _exit(1);
                }
                ta_store_close(st);
                _exit(0);
            }
        }
        close(go[0]);
        close(go[1]);
        for (int k = 0; k < PROCS; k++) {
            int status = -1;
            if (pid[k] < 0)
                continue;           /* counted above; waitpid(-1) would reap another child */
            waitpid(pid[k], &status, 0);
            failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
    }
    CHECK_INT(failed, 0);
}

/* Two writers on one file at once (two processes, both creating it): both succeed, every row
 * of both is there -- WAL, busy_timeout and BEGIN IMMEDIATE make the second one wait. */
static void test_two_writers(void)
{
    const char *db = path_of("two.db");
    pid_t pid[2];
    for (int k = 0; k < 2; k++) {
        pid[k] = fork();
        if (pid[k] == 0) {
            char err[TA_ERRBUF_SIZE];
            struct ta_store *st = NULL;
            struct ta_hs hs;
            int bad = 0;
            if (ta_store_open(db, &st, err) != TA_OK) {
                fprintf(stderr, "child %d: %s\n", k, err);
                _exit(1);
            }
            rec_tls13(&hs);
            for (int i = 0; i < 3000; i++) {
                bad |= ta_store_add(st, &hs) != TA_OK;
                if (i % 100 == 99)
                    bad |= ta_store_commit(st) != TA_OK;
            }
            ta_store_close(st);
            _exit(bad);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = -1;
        waitpid(pid[k], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    sqlite3 *ro = NULL;
    char err[TA_ERRBUF_SIZE];
    CHECK_INT(ta_store_open_ro(db, &ro, err), TA_OK);
    if (ro) {
        CHECK_INT(count(ro, "handshakes"), 6000);
        sqlite3_close(ro);
    }
}

/* The hand formatters of store_text.c give exactly what gmtime_r + snprintf and inet_ntop give
 * (the store wrote those before): edge values, then many pseudo-random ones. */
static void test_text_formatters(void)
{
    static const uint64_t edge_us[] = {
        0, 1, 999999, 1000000, T0, 951782400000000ULL /* 2000-02-29 */,
        4107542400000000ULL /* 2100-03-01 */, 94694399999999ULL /* 1972-12-31T23:59:59 */,
        253402300799999999ULL /* 9999-12-31T23:59:59.999999 */,
        253402300800000000ULL /* year 10000: libc path */, UINT64_MAX,
    };
    char got[64], want[64];
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    int bad = 0;
    for (size_t i = 0; i < 11 + 200000; i++) {
        uint64_t us;
        if (i < 11) {
            us = edge_us[i];
        } else {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            us = x >> (i % 3 == 0 ? 14 : 18);   /* up to year ~35000 and up to ~2500 */
        }
        struct tm tm;
        time_t t = (time_t)(us / 1000000u);
        if (!gmtime_r(&t, &tm))
            continue;
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(us % 1000000u));
        ta__iso_time_us(us, got, sizeof got);
        if (strcmp(got, want) != 0 && bad++ < 5)
            CHECK_STR(got, want);
        int64_t secs = (int64_t)(us / 1000000u) - (i % 2 ? 0 : 4000000000LL);  /* some < 1970 */
        t = (time_t)secs;
        if (gmtime_r(&t, &tm)) {
            snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
            if (!ta__iso_date(secs, got))
                snprintf(got, sizeof got, "(failed)");
            if (strcmp(got, want) != 0 && bad++ < 5)
                CHECK_STR(got, want);
        }
    }
    ta__iso_time_us(T0 + 5, got, 12);          /* truncated like snprintf */
    CHECK_STR(got, "2026-11-20T");
    CHECK_INT(bad, 0);

    /* Addresses: every pattern of zero/non-zero groups (the "::" choice), with group values of
     * 1 to 4 hex digits, the embedded-IPv4 forms, then random addresses; IPv4 bytes. */
    static const uint16_t vals[] = { 1, 0xffff, 0xabc, 0x10, 0x2001 };
    struct ta_addr a;
    char ref[INET6_ADDRSTRLEN];
    bad = 0;
    for (unsigned mask = 0; mask < 256 * 5 * 3; mask++) {
        unsigned pat = mask % 256, v = mask / 256 % 5, form = mask / 1280;
        for (int g = 0; g < 8; g++) {
            uint16_t w = (pat >> g & 1) ? (uint16_t)(vals[(v + (unsigned)g) % 5]) : 0;
            if (form == 1 && g == 5)
                w = 0xffff;                    /* ::ffff:a.b.c.d candidates */
            a.b[2 * g] = (uint8_t)(w >> 8);
            a.b[2 * g + 1] = (uint8_t)w;
        }
        if (form == 2)
            memset(a.b, 0, 12);                /* ::a.b.c.d candidates */
        inet_ntop(AF_INET6, a.b, ref, sizeof ref);
        size_t n = ta__store_addr_text(&a, 6, got);
        if ((strcmp(got, ref) != 0 || n != strlen(ref)) && bad++ < 5)
            CHECK_STR(got, ref);
    }
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        for (int k = 0; k < 16; k++)   /* sparse bytes so that zero groups are common */
            a.b[k] = (x >> (k * 4) & 3) ? 0 : (uint8_t)(x >> (k * 3 % 56));
        if (i % 7 == 0)
            memcpy(a.b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
        inet_ntop(AF_INET6, a.b, ref, sizeof ref);
        ta__store_addr_text(&a, 6, got);
        if (strcmp(got, ref) != 0 && bad++ < 5)
            CHECK_STR(got, ref);
        a.b[12] = (uint8_t)x;
        a.b[13] = (uint8_t)(x >> 8);
        a.b[14] = (uint8_t)(i % 3 ? x >> 16 : 0);
        a.b[15] = (uint8_t)(i % 5 ? x >> 24 : 255);
        inet_ntop(AF_INET, a.b + 12, ref, sizeof ref);
        ta__store_addr_text(&a, 4, got);
        if (strcmp(got, ref) != 0 && bad++ < 5)
            CHECK_STR(got, ref);
    }
    CHECK_INT(bad, 0);

    /* JSON lists: widths, empty, the largest 16-bit and 32-bit values. */
    const uint16_t l16[] = { 2570, 0, 65535 };
    const uint8_t l8[] = { 0, 255 };
    const uint32_t l32[] = { 4294967295u };
    size_t n = ta__store_json_list(got, sizeof got, l16, 3, 2);
    got[n] = '\0';
    CHECK_STR(got, "[2570,0,65535]");
    n = ta__store_json_list(got, sizeof got, l8, 2, 1);
    got[n] = '\0';
    CHECK_STR(got, "[0,255]");
    n = ta__store_json_list(got, sizeof got, l32, 1, 4);
    got[n] = '\0';
    CHECK_STR(got, "[4294967295]");
    n = ta__store_json_list(got, sizeof got, l16, 0, 2);
    got[n] = '\0';
    CHECK_STR(got, "[]");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ta_test_store.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_create_and_rows();
    test_batching();
    test_runs();
    test_refusals();
    test_migrate_old();
    test_two_writers();
    test_open_race();
    test_text_formatters();
    check_dir_done(dir);
    return CHECK_DONE();
}
