/* test_names.c - label tables (versions, IANA cipher suites, SSLv2 specs, alerts) and the record
 * helpers of src/record/handshake.c (negotiated / client max version, application name). */
#include "check.h"
#include "names_int.h"
#include "tlsaudit/handshake.h"
#include "tlsaudit/names.h"

static void test_version_labels(void)
{
    char buf[32];
    static const struct { uint16_t v; const char *want; } cases[] = {
        { 0x0000, "" },
        { 0x0002, "SSL 2.0" },
        { 0x0300, "SSL 3.0" },
        { 0x0301, "TLS 1.0" },
        { 0x0302, "TLS 1.1" },
        { 0x0303, "TLS 1.2" },
        { 0x0304, "TLS 1.3" },
        { 0x7F1C, "TLS 1.3 draft 28" },
        { 0x7F12, "TLS 1.3 draft 18" },
        { 0x7F17, "TLS 1.3 draft 23" },
        { 0x7E01, "TLS 1.3 (Google 0x7E01)" },
        { 0x7E02, "TLS 1.3 (Google 0x7E02)" },
        { 0xFB1A, "TLS 1.3 (Facebook 0xFB1A)" },
        { 0xFB17, "TLS 1.3 (Facebook 0xFB17)" },
        { 0x0A0A, "GREASE" },
        { 0xFAFA, "GREASE" },
        { 0x3A3A, "GREASE" },
        { 0xFEFF, "DTLS 1.0" },
        { 0xFEFD, "DTLS 1.2" },
        { 0xFEFC, "DTLS 1.3" },
        { 0x0305, "0x0305" },
        { 0x7F00, "0x7F00" },
        { 0x0A0B, "0x0A0B" },
        { 0xFB18, "0xFB18" },
        { 0x1234, "0x1234" },
    };
    for (size_t i = 0; i < TA_ARRAY_LEN(cases); i++) {
        const char *got = ta_version_label(cases[i].v, buf, sizeof(buf));
        CHECK(got == buf);
        CHECK_STR(got, cases[i].want);
    }
    /* names.h promises 32 bytes are enough: no label of any 16-bit value is cut at 32. */
    int too_long = 0;
    for (uint32_t v = 0; v <= 0xFFFF; v++) {
        char big[64];
        ta_version_label((uint16_t)v, big, sizeof(big));
        if (strlen(big) >= 32)
            too_long++;
    }
    CHECK_INT(too_long, 0);
    /* Short buffer: truncated but terminated. */
    char small[4];
    CHECK_STR(ta_version_label(0x0303, small, sizeof(small)), "TLS");
    CHECK_STR(ta_version_label(0x0303, NULL, 0), "");
}

/* Every table entry: ascending (so bsearch works), unique, named, found by lookup. */
static void test_cipher_table_integrity(void)
{
    int unsorted = 0, unnamed = 0, lookup_fail = 0, grease = 0;
    for (size_t i = 0; i < ta__cipher_table_len; i++) {
        const struct ta__cipher_entry *e = &ta__cipher_table[i];
        if (i > 0 && ta__cipher_table[i - 1].id >= e->id)
            unsorted++;
        if (e->name == NULL || e->name[0] == '\0')
            unnamed++;
        if (ta_cipher_name(e->id) != e->name)
            lookup_fail++;
        if (ta_is_grease(e->id))
            grease++;
        else if (e->name && strncmp(e->name, "TLS_", 4) != 0)
            unnamed++;
    }
    CHECK_INT(unsorted, 0);
    CHECK_INT(unnamed, 0);
    CHECK_INT(lookup_fail, 0);
    CHECK_INT(grease, 16);
    CHECK_INT(ta__cipher_table_len, 352 + 16);   /* IANA assignments in the CSV + GREASE */
}

static void test_cipher_names(void)
{
    CHECK_STR(ta_cipher_name(0x0000), "TLS_NULL_WITH_NULL_NULL");
    CHECK_STR(ta_cipher_name(0x0005), "TLS_RSA_WITH_RC4_128_SHA");
    CHECK_STR(ta_cipher_name(0x000A), "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
    CHECK_STR(ta_cipher_name(0x002F), "TLS_RSA_WITH_AES_128_CBC_SHA");
    CHECK_STR(ta_cipher_name(0x009C), "TLS_RSA_WITH_AES_128_GCM_SHA256");
    CHECK_STR(ta_cipher_name(0x00FF), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
    CHECK_STR(ta_cipher_name(0x1301), "TLS_AES_128_GCM_SHA256");
    CHECK_STR(ta_cipher_name(0x1302), "TLS_AES_256_GCM_SHA384");
    CHECK_STR(ta_cipher_name(0x1303), "TLS_CHACHA20_POLY1305_SHA256");
    CHECK_STR(ta_cipher_name(0x1305), "TLS_AES_128_CCM_8_SHA256");
    CHECK_STR(ta_cipher_name(0x5600), "TLS_FALLBACK_SCSV");
    CHECK_STR(ta_cipher_name(0xC02F), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    CHECK_STR(ta_cipher_name(0xC030), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    CHECK_STR(ta_cipher_name(0xC0AE), "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");
    CHECK_STR(ta_cipher_name(0xCCA8), "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    CHECK_STR(ta_cipher_name(0xCCA9), "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    CHECK_STR(ta_cipher_name(0xD005), "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256");
    CHECK_STR(ta_cipher_name(0x0A0A), "GREASE");
    CHECK_STR(ta_cipher_name(0xDADA), "GREASE");
    /* Unassigned: gaps inside and outside the assigned ranges, edges of the table. */
    CHECK(ta_cipher_name(0x001C) == NULL);
    CHECK(ta_cipher_name(0x0060) == NULL);
    CHECK(ta_cipher_name(0x1300) == NULL);
    CHECK(ta_cipher_name(0xD004) == NULL);
    CHECK(ta_cipher_name(0xFF85) == NULL);
    CHECK(ta_cipher_name(0xFFFF) == NULL);
}

static void test_cipher_weak(void)
{
    static const uint16_t weak[] = { 0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007,
        0x0009, 0x000A, 0x0017, 0x0018, 0x001B, 0x0022, 0x0034, 0x003B, 0x006C, 0x008A, 0x00A6,
        0xC002, 0xC006, 0xC011, 0xC012, 0xC015, 0xC018, 0xC039, 0xC0B4, 0xC0B5 };
    static const uint16_t strong[] = { 0x002F, 0x0035, 0x009C, 0x009E, 0x1301, 0x1302, 0x1303,
        0x1304, 0xC013, 0xC02B, 0xC02F, 0xC030, 0xCCA8, 0xCCA9, 0xC09C, 0x0041, 0xD001,
        /* not suites a connection can use: signalling values, GREASE, unassigned */
        0x00FF, 0x5600, 0x0A0A, 0xFF85 };
    for (size_t i = 0; i < TA_ARRAY_LEN(weak); i++) {
        if (!ta_cipher_weak(weak[i]))
            fprintf(stderr, "0x%04X %s should be weak\n", weak[i], ta_cipher_name(weak[i]));
        CHECK(ta_cipher_weak(weak[i]));
    }
    for (size_t i = 0; i < TA_ARRAY_LEN(strong); i++) {
        if (ta_cipher_weak(strong[i]))
            fprintf(stderr, "0x%04X %s should not be weak\n", strong[i], ta_cipher_name(strong[i]));
        CHECK(!ta_cipher_weak(strong[i]));
    }
    /* CBC with a SHA-1 MAC is weak under SSL 3.0/TLS 1.0 only; AEAD and SHA-256 MACs never. */
    CHECK(ta_cipher_weak_in(0x002F, 0x0301));  /* TLS_RSA_WITH_AES_128_CBC_SHA */
    CHECK(ta_cipher_weak_in(0xC013, 0x0300));  /* TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA */
    CHECK(!ta_cipher_weak_in(0xC013, 0x0302));
    CHECK(!ta_cipher_weak_in(0xC013, 0x0303));
    CHECK(!ta_cipher_weak_in(0xC013, 0));
    CHECK(!ta_cipher_weak_in(0x003C, 0x0301)); /* ..._CBC_SHA256 */
    CHECK(!ta_cipher_weak_in(0xC02F, 0x0301)); /* GCM */
    CHECK(ta_cipher_weak_in(0x0005, 0x0303));  /* RC4 whatever the version */
    /* Over the whole table: every RC4/DES/anon/EXPORT/NULL name is flagged. */
    int missed = 0;
    for (size_t i = 0; i < ta__cipher_table_len; i++) {
        const char *n = ta__cipher_table[i].name;
        bool must = strstr(n, "RC4") || strstr(n, "DES") || strstr(n, "anon") || strstr(n, "EXPORT") ||
                    strstr(n, "NULL") || strstr(n, "IDEA") || strstr(n, "MD5");
        if (must && !ta_cipher_weak(ta__cipher_table[i].id)) {
            fprintf(stderr, "not flagged: %s\n", n);
            missed++;
        }
    }
    CHECK_INT(missed, 0);
}

static void test_v2_and_alerts(void)
{
    CHECK_STR(ta_cipher_v2_name(0x010080), "SSL_CK_RC4_128_WITH_MD5");
    CHECK_STR(ta_cipher_v2_name(0x020080), "SSL_CK_RC4_128_EXPORT40_WITH_MD5");
    CHECK_STR(ta_cipher_v2_name(0x030080), "SSL_CK_RC2_128_CBC_WITH_MD5");
    CHECK_STR(ta_cipher_v2_name(0x040080), "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5");
    CHECK_STR(ta_cipher_v2_name(0x050080), "SSL_CK_IDEA_128_CBC_WITH_MD5");
    CHECK_STR(ta_cipher_v2_name(0x060040), "SSL_CK_DES_64_CBC_WITH_MD5");
    CHECK_STR(ta_cipher_v2_name(0x0700C0), "SSL_CK_DES_192_EDE3_CBC_WITH_MD5");
    CHECK(ta_cipher_v2_name(0x00002F) == NULL);
    CHECK(ta_cipher_v2_name(0x080080) == NULL);

    CHECK_STR(ta_alert_name(0), "close_notify");
    CHECK_STR(ta_alert_name(10), "unexpected_message");
    CHECK_STR(ta_alert_name(20), "bad_record_mac");
    CHECK_STR(ta_alert_name(21), "decryption_failed");
    CHECK_STR(ta_alert_name(40), "handshake_failure");
    CHECK_STR(ta_alert_name(42), "bad_certificate");
    CHECK_STR(ta_alert_name(48), "unknown_ca");
    CHECK_STR(ta_alert_name(60), "export_restriction");
    CHECK_STR(ta_alert_name(70), "protocol_version");
    CHECK_STR(ta_alert_name(71), "insufficient_security");
    CHECK_STR(ta_alert_name(80), "internal_error");
    CHECK_STR(ta_alert_name(86), "inappropriate_fallback");
    CHECK_STR(ta_alert_name(90), "user_canceled");
    CHECK_STR(ta_alert_name(100), "no_renegotiation");
    CHECK_STR(ta_alert_name(109), "missing_extension");
    CHECK_STR(ta_alert_name(112), "unrecognized_name");
    CHECK_STR(ta_alert_name(116), "certificate_required");
    CHECK_STR(ta_alert_name(120), "no_application_protocol");
    CHECK(ta_alert_name(1) == NULL);
    CHECK(ta_alert_name(255) == NULL);
    int named = 0;
    for (int d = 0; d < 256; d++)
        named += ta_alert_name((uint8_t)d) != NULL;
    CHECK_INT(named, 36);
}

static struct ta_hs hs;   /* large: static, zeroed per test */

static void set_versions(const uint16_t *v, uint8_t n)
{
    for (uint8_t i = 0; i < n; i++)
        hs.ch.versions[i] = v[i];
    hs.ch.nversions = n;
    hs.ch.has_supported_versions = true;
}

static void test_client_max_version(void)
{
    memset(&hs, 0, sizeof(hs));
    CHECK_INT(ta_hs_client_max_version(&hs), 0);          /* no ClientHello */
    CHECK_INT(ta_hs_client_max_version(NULL), 0);
    hs.ch.present = true;
    hs.ch.legacy_version = 0x0301;
    CHECK_INT(ta_hs_client_max_version(&hs), 0x0301);     /* no supported_versions */

    static const uint16_t chrome[] = { 0x0a0a, 0x0304, 0x0303 };
    set_versions(chrome, 3);
    hs.ch.legacy_version = 0x0303;
    CHECK_INT(ta_hs_client_max_version(&hs), 0x0304);

    static const uint16_t grease_last[] = { 0x0303, 0x0302, 0xfafa };
    set_versions(grease_last, 3);
    CHECK_INT(ta_hs_client_max_version(&hs), 0x0303);

    static const uint16_t drafts[] = { 0x7f17, 0x7f1c, 0x0303 };   /* draft 28 ranks as 1.3 */
    set_versions(drafts, 3);
    CHECK_INT(ta_hs_client_max_version(&hs), 0x7f1c);

    static const uint16_t final_and_draft[] = { 0x7f1c, 0x0304, 0x0303 };
    set_versions(final_and_draft, 3);
    CHECK_INT(ta_hs_client_max_version(&hs), 0x0304);

    static const uint16_t experiment[] = { 0x2a2a, 0x7e01, 0x0303, 0x0302, 0x0301 };
    set_versions(experiment, 5);
    CHECK_INT(ta_hs_client_max_version(&hs), 0x7e01);

    static const uint16_t fizz[] = { 0xfb1a, 0x7f1c, 0x0303 };     /* draft 28 > Fizz draft 26 */
    set_versions(fizz, 3);
    CHECK_INT(ta_hs_client_max_version(&hs), 0x7f1c);

    static const uint16_t dtls[] = { 0xfefc, 0xfefd };              /* DTLS excluded: legacy */
    set_versions(dtls, 2);
    hs.ch.legacy_version = 0x0303;
    CHECK_INT(ta_hs_client_max_version(&hs), 0x0303);

    static const uint16_t only_grease[] = { 0x5a5a };
    set_versions(only_grease, 1);
    CHECK_INT(ta_hs_client_max_version(&hs), 0x0303);

    /* Pure SSLv2 hello, and an SSLv2-compatible hello offering TLS 1.0. */
    memset(&hs, 0, sizeof(hs));
    hs.ch.present = true;
    hs.ch.sslv2 = true;
    hs.ch.legacy_version = 0x0002;
    CHECK_INT(ta_hs_client_max_version(&hs), 0x0002);
    hs.ch.legacy_version = 0;
    CHECK_INT(ta_hs_client_max_version(&hs), 0x0002);
    hs.ch.legacy_version = 0x0301;
    CHECK_INT(ta_hs_client_max_version(&hs), 0x0301);
}

static void test_negotiated_version(void)
{
    memset(&hs, 0, sizeof(hs));
    CHECK_INT(ta_hs_negotiated_version(&hs), 0);
    CHECK_INT(ta_hs_negotiated_version(NULL), 0);
    hs.sh.hrr = true;                                       /* HRR alone: nothing negotiated */
    hs.sh.legacy_version = 0x0303;
    hs.sh.selected_version = 0x0304;
    CHECK_INT(ta_hs_negotiated_version(&hs), 0);
    hs.sh.present = true;
    CHECK_INT(ta_hs_negotiated_version(&hs), 0x0304);
    hs.sh.selected_version = 0;
    hs.sh.legacy_version = 0x0301;
    CHECK_INT(ta_hs_negotiated_version(&hs), 0x0301);
    hs.sh.selected_version = 0x7f1c;
    CHECK_INT(ta_hs_negotiated_version(&hs), 0x7f1c);
    memset(&hs.sh, 0, sizeof(hs.sh));
    hs.sh.present = true;
    hs.sh.sslv2 = true;
    CHECK_INT(ta_hs_negotiated_version(&hs), 0x0002);
}

static const char *app_of(uint8_t app, uint16_t port)
{
    memset(&hs, 0, sizeof(hs));
    hs.app = app;
    hs.server_port = port;
    return ta_app_name(&hs);
}

static void test_app_names(void)
{
    CHECK_STR(app_of(TA_APP_SMTP, 25), "smtp");
    CHECK_STR(app_of(TA_APP_SMTP, 587), "smtp");
    CHECK_STR(app_of(TA_APP_IMAP, 143), "imap");
    CHECK_STR(app_of(TA_APP_POP3, 110), "pop3");
    CHECK_STR(app_of(TA_APP_FTP, 21), "ftp");
    static const struct { uint16_t port; const char *want; } tls[] = {
        { 443, "https" }, { 8443, "https" }, { 4443, "https" }, { 465, "smtps" }, { 587, "smtps" },
        { 993, "imaps" }, { 995, "pop3s" }, { 990, "ftps" }, { 636, "ldaps" }, { 853, "dot" },
        { 5061, "sips" }, { 5223, "xmpps" }, { 3389, "rdp" }, { 7001, "tls" }, { 0, "tls" },
    };
    for (size_t i = 0; i < TA_ARRAY_LEN(tls); i++)
        CHECK_STR(app_of(TA_APP_TLS, tls[i].port), tls[i].want);
    static const struct { uint16_t port; const char *want; } other[] = {
        { 5222, "xmpp" }, { 5269, "xmpp" }, { 389, "ldap" }, { 5432, "postgresql" },
        { 3306, "mysql" }, { 6667, "irc" }, { 1080, "socks" }, { 3389, "rdp" }, { 21, "ftp" },
        { 143, "imap" }, { 110, "pop3" }, { 25, "smtp" }, { 443, "other" },
    };
    for (size_t i = 0; i < TA_ARRAY_LEN(other); i++)
        CHECK_STR(app_of(TA_APP_OTHER, other[i].port), other[i].want);
    CHECK_STR(app_of(TA_APP_UNKNOWN, 443), "unknown");
    hs.ch.present = true;                        /* undecided app but a ClientHello: by port */
    CHECK_STR(ta_app_name(&hs), "https");
    CHECK_STR(ta_app_name(NULL), "unknown");
}

int main(void)
{
    test_version_labels();
    test_cipher_table_integrity();
    test_cipher_names();
    test_cipher_weak();
    test_v2_and_alerts();
    test_client_max_version();
    test_negotiated_version();
    test_app_names();
    return CHECK_DONE();
}
