/* test_o365.c - Office 365 classification on a real SQLite file: each rule and its near misses,
 * the exclusion table of Microsoft's consumer and marketing names and the nDPI labels that count
 * (checked against the names the installed nDPI prints), every name of the built-in list keeping
 * its SNI verdict, the built-in list, importing Microsoft's format (a row flips, a reason changes), refusing a
 * file that is not an endpoint array (previous list kept), the CLI, 100k rows in time, and the
 * verdicts a capture's store writes with each row: equal to the end-of-run pass's, and left to
 * that pass when a DNS answer arrives after a row it could change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ndpi_api.h>

#include "check.h"
#include "store_fixture.h"
#include "hs_fixture.h"
#include "o365_int.h"
#include "tlsaudit/cidr.h"
#include "tlsaudit/commands.h"
#include "tlsaudit/common.h"
#include "tlsaudit/o365.h"
#include "tlsaudit/store.h"

static char dir[] = "/tmp/ta_o365_XXXXXX";

static void test_patterns(void)
{
    CHECK(ta_o365_pattern_match("*.outlook.com", "x.outlook.com"));
    CHECK(ta_o365_pattern_match("*.outlook.com", "a.b.OUTLOOK.com."));
    CHECK(!ta_o365_pattern_match("*.outlook.com", "outlook.com"));
    CHECK(!ta_o365_pattern_match("*.outlook.com", "notoutlook.com"));
    CHECK(!ta_o365_pattern_match("*.outlook.com", "outlook.com.evil.example"));
    CHECK(!ta_o365_pattern_match("*.outlook.com", "x.outlook.co"));
    CHECK(ta_o365_pattern_match("*.mail.protection.outlook.com",
                                "contoso-com.mail.protection.outlook.com"));
    CHECK(!ta_o365_pattern_match("*.mail.protection.outlook.com", "mail.protection.outlook.com"));
    CHECK(ta_o365_pattern_match("autodiscover.*.onmicrosoft.com",
                                "autodiscover.contoso.onmicrosoft.com"));
    CHECK(ta_o365_pattern_match("autodiscover.*.onmicrosoft.com",
                                "Autodiscover.a.b.onmicrosoft.com"));
    CHECK(!ta_o365_pattern_match("autodiscover.*.onmicrosoft.com", "autodiscover.onmicrosoft.com"));
    CHECK(!ta_o365_pattern_match("autodiscover.*.onmicrosoft.com", "x.contoso.onmicrosoft.com"));
    CHECK(ta_o365_pattern_match("*cdn.onenote.net", "abccdn.onenote.net"));
    CHECK(ta_o365_pattern_match("*cdn.onenote.net", "cdn.onenote.net"));
    CHECK(!ta_o365_pattern_match("*cdn.onenote.net", "a.cdn.onenote.net"));
    CHECK(ta_o365_pattern_match("smtp.office365.com", "SMTP.Office365.com."));
    CHECK(!ta_o365_pattern_match("smtp.office365.com", "smtp.office365.com.au"));
    CHECK(!ta_o365_pattern_match("smtp.office365.com", ""));
    CHECK(!ta_o365_pattern_match("smtp.office365.com", "smtp..office365.com"));
    /* A wildcard certificate name matches a wildcard pattern label for label. */
    CHECK(ta_o365_pattern_match("*.outlook.com", "*.outlook.com"));

    uint8_t net[16];
    unsigned bits;
    int ver;
    CHECK(ta_cidr_parse("40.96.0.0/13", net, &bits, &ver));
    CHECK_INT(bits, 96 + 13);
    CHECK_INT(ver, 4);
    CHECK_INT(net[10], 0xff);
    CHECK_INT(net[12], 40);
    CHECK(ta_cidr_parse("2603:1006::/40", net, &bits, &ver));
    CHECK_INT(bits, 40);
    CHECK_INT(ver, 6);
    CHECK(ta_cidr_parse("10.1.2.3/8", net, &bits, &ver));
    CHECK_INT(net[13], 0);   /* host bits cleared */
    CHECK(!ta_cidr_parse("1.2.3.4/33", net, &bits, &ver));
    CHECK(!ta_cidr_parse("1.2.3/8", net, &bits, &ver));
    CHECK(!ta_cidr_parse("1.2.3.4/", net, &bits, &ver));
    CHECK(!ta_cidr_parse("::/129", net, &bits, &ver));
    CHECK(!ta_cidr_parse("1.2.3.4/8x", net, &bits, &ver));
}

/* The why of the exclusion matching name, or "-" when none does. */
static const char *excl_why(const char *name)
{
    const struct ta__o365_excl *x = ta__o365_excluded(name);
    return x ? x->why : "-";
}

/* The exclusion table: names it holds (any case, trailing dot), near misses it must not take. */
static void test_exclusions(void)
{
    char longname[400];
    CHECK_STR(excl_why("login.live.com"), "consumer Microsoft account");
    CHECK_STR(excl_why("LOGIN.Live.COM."), "consumer Microsoft account");
    CHECK_STR(excl_why("onedrive.live.com"), "consumer OneDrive");
    CHECK_STR(excl_why("storage.live.com"), "consumer Microsoft services on live.com");
    CHECK_STR(excl_why("live.com"), "consumer Microsoft services on live.com");
    CHECK_STR(excl_why("www.microsoft.com"), excl_why("microsoft.com"));
    CHECK(strstr(excl_why("target.microsoft.com"), "does not name") != NULL);
    CHECK_STR(excl_why("img-prod-cms-rt-microsoft-com.akamaized.net"),
              "Microsoft marketing web content on Akamai");
    CHECK_STR(excl_why("statics-marketingsites-eus-ms-com.akamaized.net"),
              "Microsoft marketing web content on Akamai");
    CHECK_STR(excl_why("outlook.com"), "consumer Outlook.com");
    CHECK_STR(excl_why("account.xbox.com"), "Xbox, consumer gaming");
    CHECK_STR(excl_why("www.linkedin.com"), "LinkedIn");
    CHECK_STR(excl_why("www.bing.com"), "Bing, consumer search");
    CHECK_STR(excl_why("skype.com"), "consumer Skype");
    CHECK_STR(excl_why("x.blob.core.windows.net"), "shared Azure hosting, any Azure customer");
    /* Not Microsoft's, or Office 365 names the table must leave to the list. */
    static const char *const keep[] = {
        "x.outlook.com", "outlook.office365.com", "web.skype.com", "teams.cloud.microsoft",
        "notmicrosoft.com", "microsoft.com.evil.example", "evil-live.com", "live.com.evil.example",
        "a248.e.akamai.net", "other-host.akamaized.net", "microsoft.co", "", "." };
    for (size_t i = 0; i < TA_ARRAY_LEN(keep); i++)
        CHECK_STR(excl_why(keep[i]), "-");
    CHECK(ta__o365_excluded(NULL) == NULL);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    memcpy(longname + sizeof(longname) - 15, ".microsoft.com", 15);
    CHECK(ta__o365_excluded(longname) == NULL);   /* over TA__O365_NAME_MAX: never matched */
}

/* The nDPI labels that count, by the names the installed nDPI prints for its protocol ids: the
 * Microsoft 365 services count, the generic Microsoft and Azure labels and consumer ones never. */
static void test_ndpi_labels(void)
{
    static const struct { u_int16_t id; const char *area; } ids[] = {
        { NDPI_PROTOCOL_MICROSOFT_365, "Common" }, { NDPI_PROTOCOL_MSTEAMS, "Skype" },
        { NDPI_PROTOCOL_SKYPE_TEAMS, "Skype" }, { NDPI_PROTOCOL_MS_ONE_DRIVE, "SharePoint" },
        { NDPI_PROTOCOL_MICROSOFT, "-" }, { NDPI_PROTOCOL_MICROSOFT_AZURE, "-" },
        { NDPI_PROTOCOL_HOTMAIL, "-" }, { NDPI_PROTOCOL_SKYPE_CALL, "-" },
        { NDPI_PROTOCOL_XBOX, "-" }, { NDPI_PROTOCOL_LINKEDIN, "-" },
        { NDPI_PROTOCOL_TEAMSPEAK, "-" }, { NDPI_PROTOCOL_TEAMVIEWER, "-" },
        { NDPI_PROTOCOL_WINDOWS_UPDATE, "-" },
    };
    struct ndpi_detection_module_struct *nd = ndpi_init_detection_module(ndpi_no_prefs);
    CHECK(nd != NULL);
    for (size_t i = 0; nd && i < TA_ARRAY_LEN(ids); i++) {
        char label[80];
        const char *name = ndpi_get_proto_name(nd, ids[i].id), *area;
        snprintf(label, sizeof(label), "TLS.%s", name ? name : "?");
        area = ta__o365_ndpi_area(label);
        CHECK_STR(area ? area : "-", ids[i].area);
        area = ta__o365_ndpi_area(name);            /* without a master protocol */
        CHECK_STR(area ? area : "-", ids[i].area);
    }
    if (nd)
        ndpi_exit_detection_module(nd);
    CHECK_STR(ta__o365_ndpi_area("QUIC.Outlook"), "Exchange");   /* later nDPI's protocol 21 */
    CHECK_STR(ta__o365_ndpi_area("teams"), "Skype");
    static const char *const no[] = { "TLS.Teams2", "TLS.XTeams", "Microsoft 365", "TLS.",
                                      ".", "", "TLS.Microsoft365x" };
    for (size_t i = 0; i < TA_ARRAY_LEN(no); i++)
        CHECK(ta__o365_ndpi_area(no[i]) == NULL);
    CHECK(ta__o365_ndpi_area(NULL) == NULL);
}

/* ---- database helpers ---- */
static int64_t exec_id(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "SQL failed: %s\n  %s\n", err, sql);
        sqlite3_free(err);
        return -1;
    }
    return sqlite3_last_insert_rowid(db);
}

/* Insert a handshake row; NULL strings become NULL. Returns its id. */
static int64_t add_hs(sqlite3 *db, int64_t ts, const char *ip, const char *sni, const char *cn,
                      const char *sans, const char *ghost, const char *greeting,
                      const char *ndpi)
{
    sqlite3_stmt *s = NULL;
    int64_t id = -1;
    const char *sql = "INSERT INTO handshakes(ts, ts_us, client_ip, client_port, server_ip, "
                      "server_port, ipver, transport, sni, cert_cn, cert_sans, greeting_host, "
                      "greeting, ndpi_name) VALUES ('2026-01-01T00:00:00.000000Z', ?1, "
                      "'192.168.1.10', 50000, ?2, 443, CASE WHEN instr(?2, ':') THEN 6 ELSE 4 "
                      "END, 'tcp', ?3, ?4, ?5, ?6, ?7, ?8)";
    const char *txt[] = { ip, sni, cn, sans, ghost, greeting, ndpi };
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s\n", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(s, 1, ts);
    for (int i = 0; i < 7; i++)
        if (txt[i])
            sqlite3_bind_text(s, i + 2, txt[i], -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_DONE)
        id = sqlite3_last_insert_rowid(db);
    else
        fprintf(stderr, "%s\n", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return id;
}

static void add_dns(sqlite3 *db, int64_t ts, const char *name, const char *addr, const char *cname)
{
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO dns_answers(ts, ts_us, name, ipver, addr, cname) VALUES "
                       "('2026-01-01T00:00:00.000000Z', ?1, ?2, ?3, ?4, ?5)", -1, &s, NULL);
    sqlite3_bind_int64(s, 1, ts);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    if (addr) {
        sqlite3_bind_int(s, 3, strchr(addr, ':') ? 6 : 4);
        sqlite3_bind_text(s, 4, addr, -1, SQLITE_STATIC);
    }
    if (cname)
        sqlite3_bind_text(s, 5, cname, -1, SQLITE_STATIC);
    CHECK_INT(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
}

/* The verdict stored for a row, as "o365|service|reason" (NULL shown as "-"). */
static const char *verdict(sqlite3 *db, const char *table, int64_t id)
{
    static char buf[512];
    char sql[160];
    sqlite3_stmt *s = NULL;
    snprintf(sql, sizeof(sql), "SELECT o365, coalesce(o365_service, '-'), "
             "coalesce(o365_reason, '-') FROM %s WHERE id = %lld", table, (long long)id);
    snprintf(buf, sizeof(buf), "(no row)");
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        snprintf(buf, sizeof(buf), "%d|%s|%s", sqlite3_column_int(s, 0),
                 sqlite3_column_text(s, 1), sqlite3_column_text(s, 2));
    sqlite3_finalize(s);
    return buf;
}


static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

#define T0 1700000000000000LL

struct rows {
    int64_t smtp, outlook_exact, mailprot, autodisc, notoutlook, evil, sni_then_ip, just_out4,
        in6, out6, dns_chain, dns_late, dns_with_sni, cert, banner_host, banner_imap, ndpi,
        ndpi_teams, dns_loop, mail_ip, mail_linked, mx, cloud, teams_cloud, excl_ip, excl_cert,
        excl_banner, excl_onedrive, listed_bing, near_excl, ndpi_generic, ndpi_azure,
        ndpi_teamspeak, ndpi_hotmail;
};

static void add_rows(sqlite3 *db, struct rows *r)
{
    r->smtp = add_hs(db, T0, "52.96.1.1", "smtp.office365.com", NULL, NULL, NULL, NULL, NULL);
    r->outlook_exact = add_hs(db, T0, "192.0.2.1", "Outlook.Office365.COM.", NULL, NULL, NULL,
                              NULL, NULL);
    r->mailprot = add_hs(db, T0, "192.0.2.2", "contoso-com.mail.protection.outlook.com", NULL,
                         NULL, NULL, NULL, NULL);
    r->autodisc = add_hs(db, T0, "192.0.2.3", "autodiscover.contoso.onmicrosoft.com", NULL, NULL,
                         NULL, NULL, NULL);
    r->notoutlook = add_hs(db, T0, "192.0.2.10", "notoutlook.com", NULL, NULL, NULL, NULL, NULL);
    r->evil = add_hs(db, T0, "198.51.100.7", "outlook.com.evil.example", NULL, NULL, NULL, NULL,
                     NULL);
    r->sni_then_ip = add_hs(db, T0, "40.96.0.1", "example.com", NULL, NULL, NULL, NULL, NULL);
    r->just_out4 = add_hs(db, T0, "40.106.0.0", NULL, NULL, NULL, NULL, NULL, NULL);
    r->in6 = add_hs(db, T0, "2603:1026::1", NULL, NULL, NULL, NULL, NULL, NULL);
    r->out6 = add_hs(db, T0, "2603:1026:1000::1", NULL, NULL, NULL, NULL, NULL, NULL);
    /* outlook.office.com -> outlook-office-com.k-0002.k-msedge.net -> k-0002... A 203.0.113.5 */
    add_dns(db, T0 - 300, "outlook.office.com", NULL, "outlook-office-com.k-0002.k-msedge.net");
    add_dns(db, T0 - 300, "outlook-office-com.k-0002.k-msedge.net", NULL, "k-0002.k-msedge.net");
    add_dns(db, T0 - 300, "k-0002.k-msedge.net", "203.0.113.5", NULL);
    r->dns_chain = add_hs(db, T0, "203.0.113.5", NULL, NULL, NULL, NULL, NULL, NULL);
    add_dns(db, T0 + 5000000, "outlook.office365.com", "203.0.113.6", NULL);   /* after it */
    r->dns_late = add_hs(db, T0, "203.0.113.6", NULL, NULL, NULL, NULL, NULL, NULL);
    add_dns(db, T0 - 10, "outlook.office365.com", "203.0.113.7", NULL);
    r->dns_with_sni = add_hs(db, T0, "203.0.113.7", "example.net", NULL, NULL, NULL, NULL, NULL);
    r->cert = add_hs(db, T0, "192.0.2.30", NULL, "foo.example", "foo.example,*.outlook.com",
                     NULL, NULL, NULL);
    r->banner_host = add_hs(db, T0, "192.0.2.40", NULL, NULL, NULL,
                            "AM0PR01CA0001.outlook.office365.com",
                            "AM0PR01CA0001.outlook.office365.com Microsoft ESMTP MAIL Service",
                            NULL);
    r->banner_imap = add_hs(db, T0, "192.0.2.41", NULL, NULL, NULL, NULL,
                            "* OK The Microsoft Exchange IMAP4 service is ready.", NULL);
    r->ndpi = add_hs(db, T0, "192.0.2.50", NULL, NULL, NULL, NULL, NULL, "TLS.Microsoft365");
    r->ndpi_teams = add_hs(db, T0, "192.0.2.51", NULL, NULL, NULL, NULL, NULL, "TLS.Teams");
    add_dns(db, T0 - 5, "loop-a.example", NULL, "loop-b.example");
    add_dns(db, T0 - 5, "loop-b.example", NULL, "loop-a.example");
    add_dns(db, T0 - 5, "loop-b.example", "192.0.2.60", NULL);
    r->dns_loop = add_hs(db, T0, "192.0.2.60", NULL, NULL, NULL, NULL, NULL, NULL);
    /* The list's newest names, and the Microsoft names it leaves out on purpose: an address in
     * Entra ID's or Exchange Online's ranges, an Exchange greeting, nDPI's generic labels. */
    r->mx = add_hs(db, T0, "192.0.2.70", "contoso-com.o-v1.mx.microsoft", NULL, NULL, NULL, NULL,
                   NULL);
    r->cloud = add_hs(db, T0, "192.0.2.71", "outlook.cloud.microsoft", NULL, NULL, NULL, NULL, NULL);
    r->teams_cloud = add_hs(db, T0, "192.0.2.72", "x.teams.cloud.microsoft", NULL, NULL, NULL,
                            NULL, NULL);
    r->excl_ip = add_hs(db, T0, "40.126.24.84", "login.live.com", "login.live.com", NULL, NULL,
                        NULL, "TLS.Microsoft");
    r->excl_cert = add_hs(db, T0, "40.96.0.2", NULL, "www.microsoft.com",
                          "DNS:www.microsoft.com, DNS:privacy.microsoft.com", NULL, NULL,
                          "TLS.Microsoft365");
    r->excl_banner = add_hs(db, T0, "52.96.0.9", "hotmail.com", NULL, NULL, "BY5P.outlook.com",
                            "BY5P.outlook.com Microsoft ESMTP MAIL Service", NULL);
    r->excl_onedrive = add_hs(db, T0, "13.107.42.13", "onedrive.live.com", "onedrive.com",
                              "onedrive.com, *.odwebb.svc.ms", NULL, NULL, "TLS.MS_OneDrive");
    r->listed_bing = add_hs(db, T0, "192.0.2.73", "officespeech.platform.bing.com", NULL, NULL,
                            NULL, NULL, "TLS.Microsoft");
    r->near_excl = add_hs(db, T0, "40.96.0.3", "microsoft.com.evil.example", NULL, NULL, NULL,
                          NULL, NULL);
    r->ndpi_generic = add_hs(db, T0, "192.0.2.74", NULL, NULL, NULL, NULL, NULL, "TLS.Microsoft");
    r->ndpi_azure = add_hs(db, T0, "192.0.2.75", NULL, NULL, NULL, NULL, NULL, "TLS.Azure");
    r->ndpi_teamspeak = add_hs(db, T0, "192.0.2.76", NULL, NULL, NULL, NULL, NULL, "TLS.TeamSpeak");
    r->ndpi_hotmail = add_hs(db, T0, "192.0.2.77", NULL, NULL, NULL, NULL, NULL, "TLS.Hotmail");
    r->mail_ip = exec_id(db, "INSERT INTO mail_sessions(ts, ts_us, client_ip, client_port, "
                         "server_ip, server_port, app) VALUES ('2026-01-01T00:00:00.000000Z', "
                         "1700000000000000, '192.168.1.10', 50001, '52.96.0.5', 25, 'smtp')");
    char sql[400];
    snprintf(sql, sizeof(sql), "INSERT INTO mail_sessions(ts, ts_us, client_ip, client_port, "
             "server_ip, server_port, app, handshake_id) VALUES ('2026-01-01T00:00:00.000000Z', "
             "1700000000000000, '192.168.1.10', 50002, '192.0.2.99', 587, 'smtp', %lld)",
             (long long)r->smtp);
    r->mail_linked = exec_id(db, sql);
}

/* The built-in list: every rule, and the near misses. */
static void check_builtin(sqlite3 *db, const struct rows *r)
{
    CHECK_STR(verdict(db, "handshakes", r->smtp), "1|Exchange|sni:smtp.office365.com");
    CHECK_STR(verdict(db, "handshakes", r->outlook_exact), "1|Exchange|sni:outlook.office365.com");
    CHECK_STR(verdict(db, "handshakes", r->mailprot),
              "1|Exchange|sni:*.mail.protection.outlook.com");
    CHECK_STR(verdict(db, "handshakes", r->autodisc),
              "1|Exchange|sni:autodiscover.*.onmicrosoft.com");
    CHECK_STR(verdict(db, "handshakes", r->notoutlook), "0|-|-");
    CHECK_STR(verdict(db, "handshakes", r->evil), "0|-|-");
    CHECK_STR(verdict(db, "handshakes", r->sni_then_ip), "1|Exchange|ip:40.96.0.0/13");
    CHECK_STR(verdict(db, "handshakes", r->just_out4), "0|-|-");
    CHECK_STR(verdict(db, "handshakes", r->in6), "1|Exchange|ip:2603:1026::/36");
    CHECK_STR(verdict(db, "handshakes", r->out6), "0|-|-");
    CHECK_STR(verdict(db, "handshakes", r->dns_chain), "1|Exchange|dns:outlook.office.com");
    CHECK_STR(verdict(db, "handshakes", r->dns_late), "0|-|-");
    CHECK_STR(verdict(db, "handshakes", r->dns_with_sni), "0|-|-");
    CHECK_STR(verdict(db, "handshakes", r->cert), "1|Exchange|cert:*.outlook.com");
    CHECK_STR(verdict(db, "handshakes", r->banner_host),
              "1|Exchange|banner:AM0PR01CA0001.outlook.office365.com");
    CHECK_STR(verdict(db, "handshakes", r->banner_imap), "1|Exchange|banner:Microsoft Exchange");
    CHECK_STR(verdict(db, "handshakes", r->ndpi), "1|Common|ndpi:TLS.Microsoft365");
    CHECK_STR(verdict(db, "handshakes", r->ndpi_teams), "1|Skype|ndpi:TLS.Teams");
    CHECK_STR(verdict(db, "handshakes", r->dns_loop), "0|-|-");
    CHECK_STR(verdict(db, "mail_sessions", r->mail_ip), "1|Exchange|ip:52.96.0.0/14");
    CHECK_STR(verdict(db, "mail_sessions", r->mail_linked), "1|Exchange|sni:smtp.office365.com");
    CHECK_STR(verdict(db, "handshakes", r->mx), "1|Exchange|sni:*.mx.microsoft");
    CHECK_STR(verdict(db, "handshakes", r->cloud), "1|Exchange|sni:outlook.cloud.microsoft");
    CHECK_STR(verdict(db, "handshakes", r->teams_cloud), "1|Skype|sni:*.teams.cloud.microsoft");
    CHECK_STR(verdict(db, "handshakes", r->excl_ip),
              "0|-|excluded-name: login.live.com (consumer Microsoft account)");
    CHECK_STR(verdict(db, "handshakes", r->excl_cert), "0|-|excluded-name: www.microsoft.com "
              "(microsoft.com host the list does not name: corporate and marketing web)");
    CHECK_STR(verdict(db, "handshakes", r->excl_banner),
              "0|-|excluded-name: hotmail.com (consumer Outlook.com, formerly Hotmail)");
    /* An excluded SNI also keeps the certificate rule out: *.svc.ms is in the list. */
    CHECK_STR(verdict(db, "handshakes", r->excl_onedrive),
              "0|-|excluded-name: onedrive.live.com (consumer OneDrive)");
    CHECK_STR(verdict(db, "handshakes", r->listed_bing),
              "1|Common|sni:officespeech.platform.bing.com");
    CHECK_STR(verdict(db, "handshakes", r->near_excl), "1|Exchange|ip:40.96.0.0/13");
    CHECK_STR(verdict(db, "handshakes", r->ndpi_generic), "0|-|-");
    CHECK_STR(verdict(db, "handshakes", r->ndpi_azure), "0|-|-");
    CHECK_STR(verdict(db, "handshakes", r->ndpi_teamspeak), "0|-|-");
    CHECK_STR(verdict(db, "handshakes", r->ndpi_hotmail), "0|-|-");
    CHECK_INT(one(db, "SELECT count(*) FROM handshakes WHERE o365 = 0 AND o365_service "
                     "IS NOT NULL"), 0);
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_sets WHERE builtin = 1 AND "
                     "instance = 'Worldwide' AND source = 'built-in'"), 1);
    /* Every set, pattern and range of data/o365_endpoints.json (worldwide endpoints version
     * 2025013000 less the sets left out, plus 9001) was imported: none was dropped. */
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_sets WHERE version = '2025013000'"), 1);
    CHECK_INT(one(db, "SELECT count(DISTINCT endpoint_id) FROM (SELECT endpoint_id FROM "
                     "endpoint_urls UNION ALL SELECT endpoint_id FROM endpoint_ips)"), 61);
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_urls"), 168);
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_ips WHERE ipver = 4"), 53);
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_ips WHERE ipver = 6"), 78);
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_urls WHERE pattern IN ('*.mx.microsoft', "
                     "'*.cloud.microsoft', 'outlook.cloud.microsoft', 'teams.cloud.microsoft')"), 4);
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_urls WHERE pattern = "
                     "'smtp-legacy.office365.com' AND endpoint_id > 9000"), 1);
}

/* Every name of the built-in list keeps its SNI verdict, whatever the exclusion table says (it
 * holds live.com, bing and linkedin names that the list names too): each URL pattern, its '*'
 * written as "x", is one handshake's SNI. The rows are removed again. */
static void check_listed_names(sqlite3 *db)
{
    char errbuf[TA_ERRBUF_SIZE];
    exec_id(db, "INSERT INTO handshakes(ts, ts_us, client_ip, client_port, server_ip, server_port, "
            "ipver, transport, sni) SELECT DISTINCT '2026-01-01T00:00:00.000000Z', 1, "
            "'192.168.1.11', 1, '192.0.2.250', 443, 4, 'tcp', replace(pattern, '*', 'x') "
            "FROM endpoint_urls WHERE set_id = (SELECT max(id) FROM endpoint_sets)");
    CHECK_INT(ta_o365_classify(db, errbuf), TA_OK);
    CHECK(one(db, "SELECT count(*) FROM handshakes WHERE server_ip = '192.0.2.250'") > 150);
    CHECK_INT(one(db, "SELECT count(*) FROM handshakes WHERE server_ip = '192.0.2.250' AND "
                     "(o365 = 0 OR o365_reason NOT LIKE 'sni:%')"), 0);
    CHECK_INT(one(db, "SELECT count(*) FROM handshakes WHERE server_ip = '192.0.2.250' AND "
                     "sni IN ('g.live.com', 'platform.linkedin.com', 'x.officeapps.live.com', "
                     "'www.outlook.com', 'x.skype.com') AND o365 = 1"), 5);
    exec_id(db, "DELETE FROM handshakes WHERE server_ip = '192.0.2.250'");
}

/* Import the sample: a row flips to Office 365, a reason changes; bad files change nothing. */
static void check_import(sqlite3 *db, const struct rows *r)
{
    char errbuf[TA_ERRBUF_SIZE] = "", path[1024];
    const char *src = getenv("TA_SRC");
    snprintf(path, sizeof(path), "%s/tests/data/endpoints-sample.json", src ? src : ".");
    char *json = slurp(path);
    CHECK(json != NULL);
    if (!json)
        return;
    CHECK_INT(ta_o365_import(db, json, "Worldwide", "2099010100", "endpoints-sample.json", false,
                             errbuf), TA_OK);
    free(json);
    CHECK_INT(ta_o365_classify(db, errbuf), TA_OK);
    CHECK_STR(verdict(db, "handshakes", r->evil), "1|Exchange|ip:198.51.100.0/24");
    CHECK_STR(verdict(db, "handshakes", r->mailprot), "1|Exchange|sni:*.outlook.com");
    /* smtp.office365.com and 52.96.1.1 are not in the sample: back to not Office 365. */
    CHECK_STR(verdict(db, "handshakes", r->smtp), "0|-|-");
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_sets"), 1);   /* built-in replaced */
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_sets WHERE version = '2099010100' AND "
                     "builtin = 0 AND source = 'endpoints-sample.json'"), 1);

    /* Not an array: the version web method's answer. Refused, previous list kept. */
    errbuf[0] = '\0';
    CHECK_INT(ta_o365_import(db, "{\"instance\": \"Worldwide\", \"latest\": \"2025040200\"}",
                             "Worldwide", "1", "version.json", false, errbuf), TA_MALFORMED);
    CHECK(strstr(errbuf, "version.json: not a JSON array of endpoint sets") != NULL);
    CHECK_INT(ta_o365_import(db, "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"ips\": ",
                             "Worldwide", "1", "cut.json", false, errbuf), TA_MALFORMED);
    CHECK(strstr(errbuf, "cut.json: not valid JSON") != NULL);
    CHECK_INT(ta_o365_import(db, "[{\"id\": 1, \"serviceArea\": \"Exchange\"}, {\"id\": \"2\"}]",
                             "Worldwide", "1", "bad.json", false, errbuf), TA_MALFORMED);
    CHECK(strstr(errbuf, "element 1 of the array") != NULL);
    CHECK_INT(ta_o365_import(db, "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"ips\": "
                             "[\"40.96.0.0/13\", \"40.96.0.0/40\"]}]", "Worldwide", "1",
                             "range.json", false, errbuf), TA_MALFORMED);
    CHECK(strstr(errbuf, "\"40.96.0.0/40\" is not an address range") != NULL);
    CHECK_INT(ta_o365_import(db, "[]", "Worldwide", "1", "empty.json", false, errbuf),
              TA_MALFORMED);
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_sets WHERE version = '2099010100'"), 1);
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_sets"), 1);
    CHECK_INT(ta_o365_classify(db, errbuf), TA_OK);
    CHECK_STR(verdict(db, "handshakes", r->evil), "1|Exchange|ip:198.51.100.0/24");
}

/* The CLI on a database file: import, show in every format, refusals, usage errors. */
static void check_cli(const char *db_path)
{
    char path[1024], bad[1024];
    const char *src = getenv("TA_SRC");
    snprintf(path, sizeof(path), "%s/tests/data/endpoints-sample.json", src ? src : ".");
    snprintf(bad, sizeof(bad), "%s/version.json", dir);
    FILE *f = fopen(bad, "w");
    if (f) {
        fputs("{\"instance\": \"Worldwide\", \"latest\": \"2025040200\"}\n", f);
        fclose(f);
    }
    char *imp[] = { "endpoints", "import", path, "--db", (char *)db_path, "--instance", "china",
                    NULL };
    CHECK_INT(ta_cmd_endpoints(7, imp), 0);
    char *imp_bad[] = { "endpoints", "import", bad, "--db", (char *)db_path, NULL };
    CHECK_INT(ta_cmd_endpoints(5, imp_bad), 1);
    char *show[] = { "endpoints", "show", "--db", (char *)db_path, "--list", NULL };
    CHECK_INT(ta_cmd_endpoints(5, show), 0);
    char *show_json[] = { "endpoints", "show", "--db", (char *)db_path, "--format", "json", NULL };
    CHECK_INT(ta_cmd_endpoints(6, show_json), 0);
    char *show_csv[] = { "endpoints", "show", "--db", (char *)db_path, "--format", "csv",
                         "--list", NULL };
    CHECK_INT(ta_cmd_endpoints(7, show_csv), 0);
    char *bad_fmt[] = { "endpoints", "show", "--db", (char *)db_path, "--format", "xml", NULL };
    CHECK_INT(ta_cmd_endpoints(6, bad_fmt), 2);
    char *bad_inst[] = { "endpoints", "import", path, "--db", (char *)db_path, "--instance",
                         "Germany", NULL };
    CHECK_INT(ta_cmd_endpoints(7, bad_inst), 2);
    char *no_db[] = { "endpoints", "show", NULL };
    CHECK_INT(ta_cmd_endpoints(2, no_db), 2);
    char *missing[] = { "endpoints", "show", "--db", "/nonexistent/x.db", NULL };
    CHECK_INT(ta_cmd_endpoints(4, missing), 1);
    char *help[] = { "endpoints", "--help", NULL };
    CHECK_INT(ta_cmd_endpoints(2, help), 0);

    /* The China import is a second set, newest, so in force; Worldwide's stays. */
    char errbuf[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    CHECK_INT(ta_store_open(db_path, &st, errbuf), TA_OK);
    if (!st)
        return;
    sqlite3 *db = ta_store_db(st);
    CHECK_INT(one(db, "SELECT count(*) FROM endpoint_sets"), 2);
    /* No --version and no YYYYMMDDNN in the file name: today's date. */
    CHECK_INT(one(db, "SELECT instance = 'China' AND version = strftime('%Y%m%d00', 'now') "
                     "AND source LIKE '%endpoints-sample.json' AND builtin = 0 "
                     "FROM endpoint_sets ORDER BY id DESC LIMIT 1"), 1);
    ta_store_close(st);
}

/* 100k rows: SNI, SNI-less with DNS, address only, nothing: every verdict right at volume (the
 * time is printed for information only). */
static void check_speed(sqlite3 *db)
{
    char errbuf[TA_ERRBUF_SIZE];
    struct timespec a, b;
    const int n = 100000;
    static const char *const snis[] = { "outlook.office365.com", "www.example.com",
                                        "x.sharepoint.com", "teams.microsoft.com", NULL };
    exec_id(db, "BEGIN");
    for (int i = 0; i < n; i++) {
        char ip[64], name[64];
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        if (i % 5 == 4 && i % 50 == 4) {
            snprintf(name, sizeof(name), "host%d.outlook.com", i);
            add_dns(db, T0 - 1, name, ip, NULL);
        }
        add_hs(db, T0 + i, ip, snis[i % 5], i % 7 == 0 ? "mail.example.org" : NULL,
               i % 7 == 0 ? "mail.example.org,www.example.org,a.example.org" : NULL, NULL,
               NULL, NULL);
    }
    exec_id(db, "COMMIT");
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_INT(ta_o365_classify(db, errbuf), TA_OK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("classified %d rows in %.3f s\n", n, secs);
    /* No limit on secs here: speed is the benchmark's business (bench/), never a timed test. */
    /* 3 of 5 SNIs match; of the SNI-less fifth, the rows with a DNS answer match. */
    CHECK_INT(one(db, "SELECT count(*) FROM handshakes WHERE ts_us >= 1700000000000000 AND "
                     "server_ip LIKE '10.%' AND o365 = 1"), n / 5 * 3 + n / 50);
    CHECK_INT(one(db, "SELECT count(*) FROM handshakes WHERE server_ip LIKE '10.%' AND "
                     "o365_reason LIKE 'dns:host%.outlook.com'"), n / 50);
    /* A second pass with nothing to change is cheaper still and changes nothing. */
    long long before = one(db, "SELECT total_changes()");
    CHECK_INT(ta_o365_classify(db, errbuf), TA_OK);
    CHECK_INT(one(db, "SELECT total_changes()"), before);
}

/* ---- verdicts written at insert time (store_o365.c) ---- */

/* A TLS record from 10.9.0.1 to srv at ts; sni, cn, sans, ndpi may be NULL. */
static void live_rec(struct ta_hs *hs, const char *srv, uint64_t ts, const char *sni,
                     const char *cn, const char *sans, const char *ndpi)
{
    static uint16_t port = 40000;
    hs_fixture(hs, "10.9.0.1", port++, srv, 443);
    hs->ts_first_us = ts - 1000;
    hs->ch.present = true;
    hs->ch.ts_us = ts;
    hs->ch.legacy_version = 0x0303;
    if (sni)
        snprintf(hs->ch.sni, sizeof(hs->ch.sni), "%s", sni);
    if (cn || sans) {
        hs->cert.present = true;
        snprintf(hs->cert.subject_cn, sizeof(hs->cert.subject_cn), "%s", cn ? cn : "");
        snprintf(hs->cert.sans, sizeof(hs->cert.sans), "%s", sans ? sans : "");
    }
    if (ndpi)
        snprintf(hs->ndpi_name, sizeof(hs->ndpi_name), "%s", ndpi);
}

/* Give hs an SMTP prelude (a mail_sessions row besides its handshake). */
static void live_mail(struct ta_hs *hs, const char *host, const char *greeting)
{
    hs->app = TA_APP_SMTP;
    hs->server_port = 25;
    hs->mail.present = true;
    hs->mail.greeting_code = 220;
    snprintf(hs->mail.greeting_host, sizeof(hs->mail.greeting_host), "%s", host);
    snprintf(hs->mail.greeting, sizeof(hs->mail.greeting), "%s", greeting);
}

/* Every verdict of a run, one line per row, for comparing before and after the pass. */
static char *run_verdicts(sqlite3 *db, int64_t run)
{
    static char buf[8192];
    char sql[300];
    size_t off = 0;
    sqlite3_stmt *s = NULL;
    snprintf(sql, sizeof(sql), "SELECT 'h', id, o365, o365_service, o365_reason FROM handshakes "
             "WHERE run_id = %lld UNION ALL SELECT 'm', id, o365, o365_service, o365_reason "
             "FROM mail_sessions WHERE run_id = %lld ORDER BY 1, 2", (long long)run,
             (long long)run);
    buf[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return buf;
    while (sqlite3_step(s) == SQLITE_ROW && off < sizeof(buf) - 400)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s %lld %d %s %s\n",
                                sqlite3_column_text(s, 0), (long long)sqlite3_column_int64(s, 1),
                                sqlite3_column_int(s, 2),
                                sqlite3_column_text(s, 3) ? (const char *)sqlite3_column_text(s, 3) : "-",
                                sqlite3_column_text(s, 4) ? (const char *)sqlite3_column_text(s, 4) : "-");
    sqlite3_finalize(s);
    return buf;
}

/* The verdict stored for the last row of table in run. */
static const char *last_verdict(sqlite3 *db, const char *table, int64_t run)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT max(id) FROM %s WHERE run_id = %lld", table,
             (long long)run);
    return verdict(db, table, one(db, sql));
}

/* Not asked for: rows keep o365 = 0 and the run needs the pass. */
static void check_live_off(struct ta_store *st)
{
    struct ta_run_stats rs = { 0 };
    struct ta_hs hs;
    int64_t run = 0;

    CHECK_INT(ta_store_run_begin(st, "off.pcap", NULL, &run), TA_OK);
    live_rec(&hs, "192.0.2.1", T0, "outlook.office365.com", NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(ta_store_db(st), "handshakes", run), "0|-|-");
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));
}

/* One run through the store with every rule, then the pass: it must find nothing to change. */
static void check_live_equal(struct ta_store *st)
{
    sqlite3 *db = ta_store_db(st);
    struct ta_run_stats rs = { 0 };
    struct ta_addr a;
    struct ta_hs hs;
    char errbuf[TA_ERRBUF_SIZE], before[8192];
    int64_t run = 0;
    const uint64_t t = T0 + 60000000;

    CHECK_INT(ta_store_run_begin(st, "live.pcap", NULL, &run), TA_OK);
    hs_fixture_addr(&a, "203.0.113.80");
    CHECK_INT(ta_store_add_dns(st, t - 900, "outlook.office.com", 0, NULL, "x.k-msedge.net"),
              TA_OK);
    CHECK_INT(ta_store_add_dns(st, t - 900, "x.k-msedge.net", 4, &a, NULL), TA_OK);
    hs_fixture_addr(&a, "203.0.113.82");   /* after the mail row below (t - 1000), before its TLS */
    CHECK_INT(ta_store_add_dns(st, t - 500, "smtp.office365.com", 4, &a, NULL), TA_OK);
    live_rec(&hs, "192.0.2.1", t, "outlook.office365.com", NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    live_rec(&hs, "203.0.113.80", t, NULL, NULL, NULL, NULL);       /* dns, via the CNAME */
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(db, "handshakes", run), "1|Exchange|dns:outlook.office.com");
    live_rec(&hs, "192.0.2.2", t, NULL, "a.example", "DNS:b.example, DNS:x.outlook.com", NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    live_rec(&hs, "40.96.0.9", t, "example.org", NULL, NULL, NULL);  /* ip */
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    live_rec(&hs, "192.0.2.3", t, NULL, NULL, NULL, "TLS.Microsoft365");
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    live_rec(&hs, "192.0.2.4", t, NULL, NULL, NULL, NULL);           /* nothing */
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    live_rec(&hs, "192.0.2.5", t, "smtp.office365.com", NULL, NULL, NULL);
    live_mail(&hs, "mx.example", "mx.example ESMTP");                /* mail row: its SNI */
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(db, "mail_sessions", run), "1|Exchange|sni:smtp.office365.com");
    live_rec(&hs, "192.0.2.6", t, NULL, NULL, NULL, "TLS.Teams");
    hs.ch.present = false;       /* plaintext only: no handshake row, so no nDPI name either */
    live_mail(&hs, "AM0P.outlook.com", "AM0P.outlook.com Microsoft ESMTP MAIL Service");
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(db, "mail_sessions", run), "1|Exchange|banner:AM0P.outlook.com");
    /* Excluded names: o365 = 0 with a reason, written the same at insert time as by the pass. */
    live_rec(&hs, "40.126.24.84", t, "login.live.com", "login.live.com", NULL, "TLS.Microsoft");
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(db, "handshakes", run),
              "0|-|excluded-name: login.live.com (consumer Microsoft account)");
    live_rec(&hs, "40.96.0.10", t, NULL, "www.microsoft.com", NULL, "TLS.Microsoft365");
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    live_rec(&hs, "52.96.0.9", t, "hotmail.com", NULL, NULL, NULL);
    live_mail(&hs, "BY5P.outlook.com", "BY5P.outlook.com Microsoft ESMTP MAIL Service");
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(db, "mail_sessions", run),
              "0|-|excluded-name: hotmail.com (consumer Outlook.com, formerly Hotmail)");
    /* STARTTLS without SNI: the mail row takes its handshake's verdict only when the 'dns' rule
     * was not tried; here the answer falls between the two rows' times (store_o365.c). */
    live_rec(&hs, "203.0.113.82", t, NULL, NULL, NULL, NULL);
    live_mail(&hs, "mx.example", "mx.example ESMTP");
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(db, "handshakes", run), "1|Exchange|dns:smtp.office365.com");
    CHECK_STR(last_verdict(db, "mail_sessions", run), "0|-|-");
    hs_fixture_addr(&a, "203.0.113.81");                             /* later than every row */
    CHECK_INT(ta_store_add_dns(st, t + 1, "outlook.office365.com", 4, &a, NULL), TA_OK);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(!ta_store_run_needs_classify(st));
    snprintf(before, sizeof(before), "%s", run_verdicts(db, run));
    CHECK_INT(one(db, "SELECT count(*) FROM handshakes WHERE o365 = 1 AND run_id = "
                     "(SELECT max(id) FROM runs)"), 7);
    CHECK_INT(one(db, "SELECT count(*) FROM handshakes WHERE o365 = 0 AND o365_reason LIKE "
                     "'excluded-name: %' AND run_id = (SELECT max(id) FROM runs)"), 3);
    int changes = sqlite3_total_changes(db);
    CHECK_INT(ta_o365_classify_run(db, run, errbuf), TA_OK);
    CHECK_INT(sqlite3_total_changes(db) - changes, 0);             /* no row rewritten */
    CHECK_STR(run_verdicts(db, run), before);
}

/* Begin run name, store and commit one row of client at ts (sni NULL: none); returns the run. */
static int64_t one_row(struct ta_store *st, const char *name, const char *client, uint64_t ts,
                       const char *sni)
{
    struct ta_hs hs;
    int64_t run = 0;

    CHECK_INT(ta_store_run_begin(st, name, NULL, &run), TA_OK);
    live_rec(&hs, client, ts, sni, NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_commit(st), TA_OK);
    return run;
}

/* A DNS answer stored after a row it names (files given out of time order), an empty run, and
 * another connection writing during the run: each leaves the verdicts to the pass. */
static void check_live_fallback(struct ta_store *st, const char *db_path)
{
    sqlite3 *db = ta_store_db(st), *other = NULL;
    struct ta_run_stats rs = { 0 };
    struct ta_addr a;
    struct ta_hs hs;
    char errbuf[TA_ERRBUF_SIZE];
    int64_t run = 0;
    const uint64_t t = T0 + 120000000;

    CHECK_INT(ta_store_run_begin(st, "late.pcap early.pcap", NULL, &run), TA_OK);
    live_rec(&hs, "203.0.113.90", t, NULL, NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    hs_fixture_addr(&a, "203.0.113.90");
    CHECK_INT(ta_store_add_dns(st, t, "outlook.office365.com", 4, &a, NULL), TA_OK);  /* = ts */
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));
    CHECK_STR(last_verdict(db, "handshakes", run), "0|-|-");
    CHECK_INT(ta_o365_classify_run(db, run, errbuf), TA_OK);
    CHECK_STR(last_verdict(db, "handshakes", run), "1|Exchange|dns:outlook.office365.com");

    CHECK_INT(ta_store_run_begin(st, "empty.pcap", NULL, &run), TA_OK);   /* no rows */
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));

    run = one_row(st, "busy.pcap", "203.0.113.91", t, NULL);
    CHECK_INT(sqlite3_open(db_path, &other), SQLITE_OK);
    sqlite3_busy_timeout(other, 5000);
    add_dns(other, (int64_t)t - 5, "outlook.office365.com", "203.0.113.91", NULL);
    sqlite3_close(other);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));
    CHECK_INT(ta_o365_classify_run(db, run, errbuf), TA_OK);
    CHECK_STR(last_verdict(db, "handshakes", run), "1|Exchange|dns:outlook.office365.com");
}

/* SQLite authorizer: refuse any statement prepared from now on that reads the cert_sans column
 * of table (arg), or runs PRAGMA data_version when arg is "data_version"; all else is allowed. */
static int deny_read(void *arg, int action, const char *a, const char *b, const char *db,
                     const char *trigger)
{
    const char *what = arg;
    (void)db, (void)trigger;
    if (action == SQLITE_READ && a && b && strcmp(a, what) == 0 && strcmp(b, "cert_sans") == 0)
        return SQLITE_DENY;
    if (action == SQLITE_PRAGMA && a && strcmp(a, what) == 0)
        return SQLITE_DENY;
    return SQLITE_OK;
}

/* Run name: a row without SNI to srv at t (with mail, a plaintext mail session instead, its row
 * at t - 1 ms), committed; after a SIGHUP reload (reload) or not, an answer for ans_addr as
 * ans_name at ans_ts; then a row without SNI to another server 5 s later; the run ended.
 * Returns whether it owes the pass; *run_out gets the run, first the verdict of its first row
 * of table. */
static bool late_run(struct ta_store *st, const char *name, const char *srv, bool mail,
                     uint64_t t, const char *ans_addr, uint64_t ans_ts, const char *ans_name,
                     bool reload, const char *table, int64_t *run_out, char *first,
                     size_t first_len)
{
    sqlite3 *db = ta_store_db(st);
    struct ta_run_stats rs = { 0 };
    struct ta_addr a;
    struct ta_hs hs;
    char sql[160];
    int64_t run = 0;

    CHECK_INT(ta_store_run_begin(st, name, NULL, &run), TA_OK);
    live_rec(&hs, srv, t, NULL, NULL, NULL, NULL);
    if (mail) {
        hs.ch.present = false;
        live_mail(&hs, "mx.example", "mx.example ESMTP");
    }
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_commit(st), TA_OK);
    if (reload)
        ta_store_o365_reload(st);
    hs_fixture_addr(&a, ans_addr);
    CHECK_INT(ta_store_add_dns(st, ans_ts, ans_name, 4, &a, NULL), TA_OK);
    live_rec(&hs, "198.51.100.1", t + 5000000, NULL, NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    *run_out = run;
    snprintf(sql, sizeof(sql), "SELECT min(id) FROM %s WHERE run_id = %lld", table,
             (long long)run);
    snprintf(first, first_len, "%s", verdict(db, table, one(db, sql)));
    return ta_store_run_needs_classify(st);
}

/* A DNS answer a little older than rows already written (with live --workers, one worker's DNS
 * packet can reach the writer after another worker's record): the rows without SNI dated from it
 * on are classified again before the batch commits, and only a verdict that would change leaves
 * the run to the pass. An answer far behind the rows is not checked: it always does. */
static void check_live_late(struct ta_store *st)
{
    sqlite3 *db = ta_store_db(st);
    struct ta_run_stats rs = { 0 };
    struct ta_addr a;
    struct ta_hs hs;
    char errbuf[TA_ERRBUF_SIZE], v[512];
    int64_t run = 0;
    const uint64_t t = T0 + 180000000;

    /* Late answers that name nothing a row reads: another address, a CNAME no walk looked up,
     * and the address of a row that has SNI (the rule is not tried). */
    CHECK_INT(ta_store_run_begin(st, "workers-unrelated", NULL, &run), TA_OK);
    live_rec(&hs, "203.0.113.100", t, NULL, NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    live_rec(&hs, "203.0.113.101", t, "example.org", NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_commit(st), TA_OK);
    hs_fixture_addr(&a, "203.0.113.102");
    CHECK_INT(ta_store_add_dns(st, t - 200000, "outlook.office365.com", 4, &a, NULL), TA_OK);
    CHECK_INT(ta_store_add_dns(st, t - 200000, "www.example.net", 0, NULL, "edge.example.net"),
              TA_OK);
    hs_fixture_addr(&a, "203.0.113.101");
    CHECK_INT(ta_store_add_dns(st, t - 100000, "smtp.office365.com", 4, &a, NULL), TA_OK);
    live_rec(&hs, "203.0.113.103", t + 1000, NULL, NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_commit(st), TA_OK);           /* the check, before this commit */
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(!ta_store_run_needs_classify(st));
    CHECK_STR(last_verdict(db, "handshakes", run), "0|-|-");

    /* A late answer that names a row's server: the run needs the pass, which gives the verdict. */
    CHECK(late_run(st, "workers-related", "203.0.113.104", false, t, "203.0.113.104", t - 300000,
                   "outlook.office365.com", false, "handshakes", &run, v, sizeof(v)));
    CHECK_STR(v, "0|-|-");
    CHECK_INT(ta_o365_classify_run(db, run, errbuf), TA_OK);
    CHECK_STR(last_verdict(db, "handshakes", run), "0|-|-");       /* the later row */
    CHECK_INT(one(db, "SELECT count(*) FROM handshakes WHERE o365_reason = "
                     "'dns:outlook.office365.com' AND server_ip = '203.0.113.104'"), 1);

    /* A plaintext mail session: its own time (t - 1 ms) is what the answer must come after. */
    CHECK(!late_run(st, "workers-mail", "203.0.113.106", true, t, "203.0.113.106", t + 1000000,
                    "smtp.office365.com", false, "mail_sessions", &run, v, sizeof(v)));
    CHECK_STR(v, "0|-|-");
    CHECK(late_run(st, "workers-mail-late", "203.0.113.108", true, t, "203.0.113.108",
                   t - 1000000, "smtp.office365.com", false, "mail_sessions", &run, v, sizeof(v)));
    CHECK_STR(v, "0|-|-");
    CHECK_INT(ta_o365_classify_run(db, run, errbuf), TA_OK);
    CHECK_INT(one(db, "SELECT count(*) FROM mail_sessions WHERE o365_reason = "
                     "'dns:smtp.office365.com' AND server_ip = '203.0.113.108'"), 1);

    /* A SIGHUP reload between the row and its late answer: the new classifier still checks it. */
    CHECK(late_run(st, "workers-reload", "203.0.113.112", false, t, "203.0.113.112", t - 100000,
                   "outlook.office365.com", true, "handshakes", &run, v, sizeof(v)));
    CHECK(!late_run(st, "workers-reload-unrelated", "203.0.113.114", false, t, "203.0.113.115",
                    t - 100000, "outlook.office365.com", true, "handshakes", &run, v, sizeof(v)));

    /* An answer more than 10 s behind the latest row that read the rule when it is stored (the
     * one at t): not checked. Just inside that, the same answer is checked and changes nothing. */
    CHECK(late_run(st, "workers-far", "203.0.113.110", false, t, "203.0.113.111", t - 10000001,
                   "www.example.net", false, "handshakes", &run, v, sizeof(v)));
    CHECK(!late_run(st, "workers-near", "203.0.113.110", false, t, "203.0.113.111", t - 10000000,
                    "www.example.net", false, "handshakes", &run, v, sizeof(v)));

    /* The same run when the check cannot read the rows (SQLite's authorizer refuses the query,
     * as an I/O error would fail it): counted as a change, the run owes the pass. */
    sqlite3_set_authorizer(db, deny_read, (void *)"handshakes");
    CHECK(late_run(st, "workers-near-unread", "203.0.113.110", false, t, "203.0.113.111",
                   t - 10000000, "www.example.net", false, "handshakes", &run, v, sizeof(v)));
    sqlite3_set_authorizer(db, NULL, NULL);
}

/* Another connection's endpoint list (as an import stores one), and taking it away again. */
static const char ADD_SET[] = "INSERT INTO endpoint_sets(instance, version, source, imported_at) "
                              "VALUES ('Worldwide', '2099010100', 'test', '2026-12-07T00:00:00Z')";
static const char DROP_SET[] = "DELETE FROM endpoint_sets WHERE source = 'test'";

/* Begin run name, store and commit one row of client at ts with SNI, then let other run sql. */
static void one_row_then(struct ta_store *st, const char *name, const char *client, uint64_t ts,
                         sqlite3 *other, const char *sql)
{
    (void)one_row(st, name, client, ts, "outlook.office365.com");
    CHECK_INT(sqlite3_exec(other, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* Another connection's commits: what a verdict reads (an endpoint list, DNS answers, also when
 * this store adds answers of its own afterwards) leaves the verdicts to the pass; a commit of
 * anything else (the --sync-to companion's watermarks) does not. */
static void check_live_foreign(struct ta_store *st, const char *db_path)
{
    sqlite3 *other = NULL;
    struct ta_run_stats rs = { 0 };
    struct ta_addr a;
    struct ta_hs hs;
    const uint64_t t = T0 + 240000000;

    CHECK_INT(sqlite3_open(db_path, &other), SQLITE_OK);
    sqlite3_busy_timeout(other, 5000);

    one_row_then(st, "synced.pcap", "192.0.2.30", t, other, "INSERT OR REPLACE INTO "
                 "store_meta(key, value) VALUES ('test_watermark', 1)");
    live_rec(&hs, "192.0.2.31", t + 10, "outlook.office365.com", NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);   /* a new batch: looks, finds nothing */
    CHECK_INT(ta_store_commit(st), TA_OK);
    CHECK_INT(sqlite3_exec(other, "UPDATE store_meta SET value = 2 WHERE key = "
                           "'test_watermark'", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(!ta_store_run_needs_classify(st));

    one_row_then(st, "imported.pcap", "192.0.2.32", t + 20, other, ADD_SET);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));
    CHECK_INT(sqlite3_exec(other, DROP_SET, NULL, NULL, NULL), SQLITE_OK);

    /* SIGHUP after an import, between batches: the rows written before owe the pass */
    one_row_then(st, "reloaded.pcap", "192.0.2.33", t + 21, other, ADD_SET);
    ta_store_o365_reload(st);
    live_rec(&hs, "192.0.2.34", t + 22, "outlook.office365.com", NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));
    CHECK_INT(sqlite3_exec(other, DROP_SET, NULL, NULL, NULL), SQLITE_OK);

    /* the other connection's answer comes between two batches; this store then adds one of its
     * own, whose id is above it: seen at the second batch's start, not only at the end */
    one_row_then(st, "shared.pcap", "203.0.113.95", t + 30, other, "SELECT 1");
    add_dns(other, (int64_t)t + 25, "outlook.office365.com", "203.0.113.95", NULL);
    hs_fixture_addr(&a, "203.0.113.96");
    CHECK_INT(ta_store_add_dns(st, t + 40, "smtp.office365.com", 4, &a, NULL), TA_OK);
    CHECK_INT(ta_store_commit(st), TA_OK);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));

    /* nothing committed by anyone else, but whether anything was cannot be read at the second
     * batch's start (the authorizer refuses PRAGMA data_version): counted as a foreign commit */
    one_row_then(st, "unread.pcap", "192.0.2.35", t + 50, other, "SELECT 1");
    sqlite3_set_authorizer(ta_store_db(st), deny_read, (void *)"data_version");
    live_rec(&hs, "192.0.2.36", t + 60, "outlook.office365.com", NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_commit(st), TA_OK);
    sqlite3_set_authorizer(ta_store_db(st), NULL, NULL);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));
    sqlite3_close(other);
}

/* The passive-DNS memo inside the writer's batch (o365_dns_memo.c): it reads new answers only
 * after the store reports one of its own, or when a batch begins (another connection may have
 * committed before). Each row's verdict is checked right after its insert, before any pass. */
static void check_live_memo(struct ta_store *st, const char *db_path)
{
    sqlite3 *db = ta_store_db(st), *other = NULL;
    struct ta_run_stats rs = { 0 };
    struct ta_addr a;
    struct ta_hs hs;
    int64_t run = 0;
    const uint64_t t = T0 + 180000000;

    CHECK_INT(ta_store_run_begin(st, "memo.pcap", NULL, &run), TA_OK);
    live_rec(&hs, "203.0.113.95", t, NULL, NULL, NULL, NULL);        /* nothing known yet */
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(db, "handshakes", run), "0|-|-");
    hs_fixture_addr(&a, "203.0.113.95");                           /* this batch's own answer */
    CHECK_INT(ta_store_add_dns(st, t + 10, "outlook.office365.com", 4, &a, NULL), TA_OK);
    live_rec(&hs, "203.0.113.95", t + 20, NULL, NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(db, "handshakes", run), "1|Exchange|dns:outlook.office365.com");

    live_rec(&hs, "203.0.113.96", t + 30, NULL, NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(db, "handshakes", run), "0|-|-");
    CHECK_INT(ta_store_commit(st), TA_OK);
    CHECK_INT(sqlite3_open(db_path, &other), SQLITE_OK);           /* between two batches */
    sqlite3_busy_timeout(other, 5000);
    add_dns(other, (int64_t)t + 35, "smtp.office365.com", "203.0.113.96", NULL);
    sqlite3_close(other);
    live_rec(&hs, "203.0.113.96", t + 40, NULL, NULL, NULL, NULL);  /* the next batch */
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_STR(last_verdict(db, "handshakes", run), "1|Exchange|dns:smtp.office365.com");
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
}

/* SIGHUP reloads whose run's verdicts stood: the new classifier keeps watching what the old one
 * watched (other connections' commits, also before its first row), a run that ends before that
 * row owes no pass, and a reload before the run's first row starts afresh. */
static void check_live_reload(struct ta_store *st, const char *db_path)
{
    sqlite3 *other = NULL;
    struct ta_run_stats rs = { 0 };
    struct ta_addr a;
    struct ta_hs hs;
    int64_t run = 0;
    const uint64_t t = T0 + 300000000;

    CHECK_INT(sqlite3_open(db_path, &other), SQLITE_OK);
    sqlite3_busy_timeout(other, 5000);

    /* nothing happens after the reload */
    one_row_then(st, "reload-quiet", "203.0.113.120", t, other, "SELECT 1");
    ta_store_o365_reload(st);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(!ta_store_run_needs_classify(st));

    /* a reload before the first row */
    CHECK_INT(ta_store_run_begin(st, "reload-first", NULL, &run), TA_OK);
    ta_store_o365_reload(st);
    live_rec(&hs, "203.0.113.121", t, "outlook.office365.com", NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(!ta_store_run_needs_classify(st));

    /* another connection's answer after the reload, naming a row written before it: seen when
     * the next row loads the new classifier, and when the run ends with no row after it */
    one_row_then(st, "reload-foreign", "203.0.113.122", t, other, "SELECT 1");
    ta_store_o365_reload(st);
    add_dns(other, (int64_t)t - 5, "outlook.office365.com", "203.0.113.122", NULL);
    live_rec(&hs, "203.0.113.123", t + 10, "example.org", NULL, NULL, NULL);
    CHECK_INT(ta_store_add(st, &hs), TA_OK);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));
    one_row_then(st, "reload-foreign-quiet", "203.0.113.124", t, other, "SELECT 1");
    ta_store_o365_reload(st);
    add_dns(other, (int64_t)t - 5, "outlook.office365.com", "203.0.113.124", NULL);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));

    /* ... and before an answer of this store's own, whose id is above it */
    one_row_then(st, "reload-foreign-own", "203.0.113.125", t, other, "SELECT 1");
    ta_store_o365_reload(st);
    add_dns(other, (int64_t)t - 5, "outlook.office365.com", "203.0.113.125", NULL);
    hs_fixture_addr(&a, "203.0.113.126");
    CHECK_INT(ta_store_add_dns(st, t + 20, "www.example.net", 4, &a, NULL), TA_OK);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));

    /* a late answer of this store's after the reload, with no row to check it with */
    (void)one_row(st, "reload-late-quiet", "203.0.113.127", t, NULL);
    ta_store_o365_reload(st);
    hs_fixture_addr(&a, "203.0.113.127");
    CHECK_INT(ta_store_add_dns(st, t - 100000, "outlook.office365.com", 4, &a, NULL), TA_OK);
    CHECK_INT(ta_store_run_end(st, &rs, true, NULL), TA_OK);
    CHECK(ta_store_run_needs_classify(st));
    sqlite3_close(other);
}

int main(void)
{
    char db_path[1100], errbuf[TA_ERRBUF_SIZE];
    struct ta_store *st = NULL;
    struct rows r;

    test_patterns();
    test_exclusions();
    test_ndpi_labels();
    st = fixture_store(dir, "o365.db", db_path, sizeof(db_path));
    if (!st)
        return CHECK_DONE();
    sqlite3 *db = ta_store_db(st);
    add_rows(db, &r);
    CHECK_INT(ta_o365_classify(db, errbuf), TA_OK);
    check_builtin(db, &r);
    check_listed_names(db);
    check_import(db, &r);
    ta_store_close(st);
    check_cli(db_path);

    snprintf(db_path, sizeof(db_path), "%s/speed.db", dir);
    CHECK_INT(ta_store_open(db_path, &st, errbuf), TA_OK);
    if (st) {
        check_speed(ta_store_db(st));
        ta_store_close(st);
    }
    snprintf(db_path, sizeof(db_path), "%s/live.db", dir);
    CHECK_INT(ta_store_open(db_path, &st, errbuf), TA_OK);
    if (st) {
        check_live_off(st);
        ta_store_o365_at_insert(st, true);
        check_live_equal(st);
        check_live_fallback(st, db_path);
        check_live_late(st);
        check_live_reload(st, db_path);
        check_live_foreign(st, db_path);
        check_live_memo(st, db_path);
        ta_store_close(st);
    }
    check_dir_done(dir);
    return CHECK_DONE();
}
