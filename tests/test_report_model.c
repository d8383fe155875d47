/* test_report_model.c - the report's derived labels: which negotiated suites lack forward
 * secrecy (read off the IANA names of the record layer's table), which are weak under their
 * version, what a port is for, the version and time labels of the page. */
#include <string.h>

#include "check.h"
#include "report_model.h"

static bool no_fs(int id)
{
    struct ta_rd_cipher c = { .cipher_id = id, .version = 0x0303 };
    return ta__rp_cipher_no_fs(&c);
}

static bool weak(int id, uint16_t v)
{
    struct ta_rd_cipher c = { .cipher_id = id, .version = v };
    return ta__rp_cipher_weak(&c);
}

int main(void)
{
    char b[64];
    /* static RSA key transport: no forward secrecy */
    CHECK(no_fs(0x002F));   /* TLS_RSA_WITH_AES_128_CBC_SHA */
    CHECK(no_fs(0x009C));   /* TLS_RSA_WITH_AES_128_GCM_SHA256 */
    CHECK(no_fs(0x000A));   /* TLS_RSA_WITH_3DES_EDE_CBC_SHA */
    CHECK(no_fs(0x0031));   /* TLS_DH_RSA_WITH_AES_128_CBC_SHA: static DH */
    CHECK(no_fs(0xC004));   /* TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA: static ECDH */
    /* ephemeral key exchange, and every TLS 1.3 suite: forward secrecy */
    CHECK(!no_fs(0x0033));  /* TLS_DHE_RSA_WITH_AES_128_CBC_SHA */
    CHECK(!no_fs(0xC02F));  /* TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
    CHECK(!no_fs(0x1301));  /* TLS_AES_128_GCM_SHA256 */
    CHECK(!no_fs(0x1303));  /* TLS_CHACHA20_POLY1305_SHA256 */
    CHECK(!no_fs(0xFFFF));  /* unassigned: not claimed either way */
    struct ta_rd_cipher v2 = { .cipher_id = -1, .cipher_v2 = 0x010080 };
    CHECK(ta__rp_cipher_no_fs(&v2));
    CHECK(ta__rp_cipher_weak(&v2));
    /* weak: by name, and CBC-SHA1 under TLS 1.0 only */
    CHECK(weak(0x0005, 0x0303));   /* RC4 */
    CHECK(weak(0xC013, 0x0301));   /* ECDHE-RSA-AES128-SHA under TLS 1.0 */
    CHECK(!weak(0xC013, 0x0303));  /* the same under TLS 1.2 */
    CHECK(!weak(0xC02F, 0x0303));
    CHECK_STR(ta__rp_cipher(0x002F, 0, b, sizeof b), "TLS_RSA_WITH_AES_128_CBC_SHA");
    CHECK_STR(ta__rp_cipher(0xFFFF, 0, b, sizeof b), "0xFFFF");
    CHECK_STR(ta__rp_cipher(-1, 0x010080, b, sizeof b), "SSL_CK_RC4_128_WITH_MD5");
    /* labels */
    CHECK_STR(ta__rp_port_role(587, "smtp"), "SMTP AUTH submission");
    CHECK_STR(ta__rp_port_role(25, "smtp"), "SMTP (MX, inbound mail)");
    CHECK_STR(ta__rp_port_role(993, "imaps"), "IMAP");
    CHECK_STR(ta__rp_port_role(995, "pop3s"), "POP");
    CHECK_STR(ta__rp_port_role(443, "https"), "HTTPS");
    CHECK_STR(ta__rp_port_role(8443, "https"), "https");
    CHECK_STR(ta__rp_version(0, b, sizeof b), "none");
    CHECK_STR(ta__rp_version(0x0301, b, sizeof b), "TLS 1.0");
    CHECK_STR(ta__rp_short_ts("2026-01-05T09:00:01.123456Z", b, sizeof b), "2026-01-05 09:00");
    CHECK_STR(ta__rp_short_ts("", b, sizeof b), "");
    CHECK_STR(ta__rp_hint_key(TA_RP_HINT_SERVER), "server");
    return CHECK_DONE();
}
