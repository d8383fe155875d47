/* names.c - labels for wire values: protocol versions, cipher suites (IANA registry, RFC 8447),
 * SSLv2 cipher specs (SSL 2.0 draft, appendix C) and alert descriptions (RFC 8446 6, RFC 5246 7.2).
 * Every label tlsaudit prints comes from one table here; the store only keeps the numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsaudit/handshake.h"
#include "tlsaudit/names.h"
#include "names_int.h"

/* Fixed version labels. TLS 1.3 drafts (0x7F00 | n) and GREASE are computed, not listed.
 * Experimental TLS 1.3 code points seen in the wild:
 *  - 0x7E01..0x7E03: Google's (BoringSSL/Chrome 62-64) "TLS 1.3 experiment" variants, used while
 *    middlebox breakage was measured; Chrome 63 canary sends 0x7E01 (zeek's test trace).
 *  - 0xFB17, 0xFB1A: Facebook's Fizz, TLS 1.3 draft 23 and draft 26 (Wireshark's ssl_versions
 *    table names exactly these two).
 * Every label fits the 32-byte buffer names.h promises callers, hence "Google 0x7E01" rather
 * than a longer "Google experiment" wording. */
struct version_label {
    uint16_t v;
    const char *label;
};

static const struct version_label version_labels[] = {
    { 0x0002, "SSL 2.0" },
    { 0x0300, "SSL 3.0" },
    { 0x0301, "TLS 1.0" },
    { 0x0302, "TLS 1.1" },
    { 0x0303, "TLS 1.2" },
    { 0x0304, "TLS 1.3" },
    { 0x7E01, "TLS 1.3 (Google 0x7E01)" },
    { 0x7E02, "TLS 1.3 (Google 0x7E02)" },
    { 0x7E03, "TLS 1.3 (Google 0x7E03)" },
    { 0xFB17, "TLS 1.3 (Facebook 0xFB17)" },
    { 0xFB1A, "TLS 1.3 (Facebook 0xFB1A)" },
    { 0xFEFF, "DTLS 1.0" },
    { 0xFEFD, "DTLS 1.2" },
    { 0xFEFC, "DTLS 1.3" },
};

/* Label of a protocol version into buf. Returns buf ("" for 0, "0x1234" when unknown). A buffer
 * shorter than the label gets a truncated, still NUL-terminated label; buflen 0 returns "". */
const char *ta_version_label(uint16_t v, char *buf, size_t buflen)
{
    if (buf == NULL || buflen == 0)
        return "";
    buf[0] = '\0';
    if (v == 0)
        return buf;
    for (size_t i = 0; i < TA_ARRAY_LEN(version_labels); i++) {
        if (version_labels[i].v == v) {
            snprintf(buf, buflen, "%s", version_labels[i].label);
            return buf;
        }
    }
    if (ta_is_grease(v))
        snprintf(buf, buflen, "GREASE");
    else if ((v & 0xFF00) == 0x7F00 && (v & 0xFF) != 0)
        snprintf(buf, buflen, "TLS 1.3 draft %u", (unsigned)(v & 0xFF));
    else
        snprintf(buf, buflen, "0x%04X", (unsigned)v);
    return buf;
}

static int cipher_cmp(const void *key, const void *elem)
{
    uint16_t id = *(const uint16_t *)key;
    const struct ta__cipher_entry *e = elem;
    return (id > e->id) - (id < e->id);
}

/* IANA name of a TLS cipher suite (binary search in the generated table), "GREASE" for the RFC
 * 8701 values, NULL when unassigned. */
const char *ta_cipher_name(uint16_t id)
{
    const struct ta__cipher_entry *e =
        bsearch(&id, ta__cipher_table, ta__cipher_table_len, sizeof(ta__cipher_table[0]), cipher_cmp);
    return e ? e->name : NULL;
}

/* The weak-suite rule, in one place and read off the IANA name, so a suite added to the registry
 * is classified without touching code. A suite is weak when its name shows any of:
 *   no encryption (_WITH_NULL_, and the integrity-only TLS_SHA256_SHA256/TLS_SHA384_SHA384 of
 *   RFC 9150), export grade (_EXPORT), RC4 (RFC 7465), RC2, single DES or DES40, 3DES (64-bit
 *   blocks, Sweet32), IDEA (RFC 5469 made IDEA and DES historic), anonymous key exchange
 *   (DH_anon / ECDH_anon: no server authentication), or an MD5 MAC (name ends in _MD5).
 * Unassigned ids, GREASE and the two signalling values (0x00FF, 0x5600) are not weak: they are
 * not suites a connection can end up using. */
static const char *const weak_markers[] = {
    "_WITH_NULL_", "_EXPORT", "_RC4_", "_RC2_", "_DES_", "_DES40_", "_3DES_", "_IDEA_", "_anon_",
};

bool ta_cipher_weak(uint16_t id)
{
    const char *name = ta_cipher_name(id);
    if (name == NULL)
        return false;
    for (size_t i = 0; i < TA_ARRAY_LEN(weak_markers); i++) {
        if (strstr(name, weak_markers[i]) != NULL)
            return true;
    }
    size_t n = strlen(name);
    if (n >= 4 && strcmp(name + n - 4, "_MD5") == 0)
        return true;
    return strcmp(name, "TLS_SHA256_SHA256") == 0 || strcmp(name, "TLS_SHA384_SHA384") == 0;
}

/* SSLv2 CIPHER-SPECs (3 bytes, SSL 2.0 draft appendix C). All seven are weak by today's rules. */
struct v2_spec {
    uint32_t spec;
    const char *name;
};

static const struct v2_spec v2_specs[] = {
    { 0x010080, "SSL_CK_RC4_128_WITH_MD5" },
    { 0x020080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5" },
    { 0x030080, "SSL_CK_RC2_128_CBC_WITH_MD5" },
    { 0x040080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5" },
    { 0x050080, "SSL_CK_IDEA_128_CBC_WITH_MD5" },
    { 0x060040, "SSL_CK_DES_64_CBC_WITH_MD5" },
    { 0x0700C0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5" },
};

/* Name of an SSLv2 cipher spec, or NULL. An SSLv2-compatible ClientHello also carries TLS suites
 * as 0x00XXXX specs: those are not SSLv2 specs and give NULL here (look them up with
 * ta_cipher_name on the low 16 bits). */
const char *ta_cipher_v2_name(uint32_t spec)
{
    for (size_t i = 0; i < TA_ARRAY_LEN(v2_specs); i++) {
        if (v2_specs[i].spec == spec)
            return v2_specs[i].name;
    }
    return NULL;
}

/* Alert descriptions: the IANA TLS Alerts registry (RFC 8446 6.2, RFC 5246 7.2, RFC 9146 for 52,
 * ECH for 121), keeping the values later RFCs retired because old peers still send them:
 * decryption_failed 21, decompression_failure 30, no_certificate 41 (SSL 3.0),
 * export_restriction 60. Indexed by the description byte. */
static const char *const alert_names[256] = {
    [0] = "close_notify",
    [10] = "unexpected_message",
    [20] = "bad_record_mac",
    [21] = "decryption_failed",
    [22] = "record_overflow",
    [30] = "decompression_failure",
    [40] = "handshake_failure",
    [41] = "no_certificate",
    [42] = "bad_certificate",
    [43] = "unsupported_certificate",
    [44] = "certificate_revoked",
    [45] = "certificate_expired",
    [46] = "certificate_unknown",
    [47] = "illegal_parameter",
    [48] = "unknown_ca",
    [49] = "access_denied",
    [50] = "decode_error",
    [51] = "decrypt_error",
    [52] = "too_many_cids_requested",
    [60] = "export_restriction",
    [70] = "protocol_version",
    [71] = "insufficient_security",
    [80] = "internal_error",
    [86] = "inappropriate_fallback",
    [90] = "user_canceled",
    [100] = "no_renegotiation",
    [109] = "missing_extension",
    [110] = "unsupported_extension",
    [111] = "certificate_unobtainable",
    [112] = "unrecognized_name",
    [113] = "bad_certificate_status_response",
    [114] = "bad_certificate_hash_value",
    [115] = "unknown_psk_identity",
    [116] = "certificate_required",
    [120] = "no_application_protocol",
    [121] = "ech_required",
};

/* Name of an alert description, or NULL when unassigned. */
const char *ta_alert_name(uint8_t desc)
{
    return alert_names[desc];
}
