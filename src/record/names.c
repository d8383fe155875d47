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

bool ta_cipher_weak_in(uint16_t id, uint16_t version)
{
    const char *name;
    size_t n;

    if (ta_cipher_weak(id))
        return true;
    if (version == 0 || version > 0x0301 || (name = ta_cipher_name(id)) == NULL)
        return false;
    n = strlen(name);
    return strstr(name, "_CBC_") != NULL && n >= 4 && strcmp(name + n - 4, "_SHA") == 0;
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

/* A wire code point and its registry name; the tables below are sorted by value (checked by
 * tests/test_query.c through the lookups) and searched linearly: they are short and only the
 * query tool reads them. */
struct code_name {
    uint16_t v;
    const char *name;
};

static const char *code_lookup(const struct code_name *t, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n && t[i].v <= v; i++) {
        if (t[i].v == v)
            return t[i].name;
    }
    return NULL;
}

/* TLS ExtensionType Values (IANA), plus three code points every capture of Chrome or old
 * Firefox shows that IANA never assigned: next_protocol_negotiation (NPN, draft-agl-tls-nextprotoneg)
 * and the two ALPS code points of draft-vvv-tls-alps (BoringSSL moved from 17513 to 17613). */
static const struct code_name ext_names[] = {
    { 0, "server_name" }, { 1, "max_fragment_length" }, { 2, "client_certificate_url" },
    { 3, "trusted_ca_keys" }, { 4, "truncated_hmac" }, { 5, "status_request" },
    { 6, "user_mapping" }, { 7, "client_authz" }, { 8, "server_authz" }, { 9, "cert_type" },
    { 10, "supported_groups" }, { 11, "ec_point_formats" }, { 12, "srp" },
    { 13, "signature_algorithms" }, { 14, "use_srtp" }, { 15, "heartbeat" },
    { 16, "application_layer_protocol_negotiation" }, { 17, "status_request_v2" },
    { 18, "signed_certificate_timestamp" }, { 19, "client_certificate_type" },
    { 20, "server_certificate_type" }, { 21, "padding" }, { 22, "encrypt_then_mac" },
    { 23, "extended_master_secret" }, { 24, "token_binding" }, { 25, "cached_info" },
    { 26, "tls_lts" }, { 27, "compress_certificate" }, { 28, "record_size_limit" },
    { 29, "pwd_protect" }, { 30, "pwd_clear" }, { 31, "password_salt" },
    { 32, "ticket_pinning" }, { 33, "tls_cert_with_extern_psk" },
    { 34, "delegated_credential" }, { 35, "session_ticket" }, { 36, "TLMSP" },
    { 37, "TLMSP_proxying" }, { 38, "TLMSP_delegate" }, { 39, "supported_ekt_ciphers" },
    { 41, "pre_shared_key" }, { 42, "early_data" }, { 43, "supported_versions" },
    { 44, "cookie" }, { 45, "psk_key_exchange_modes" }, { 47, "certificate_authorities" },
    { 48, "oid_filters" }, { 49, "post_handshake_auth" }, { 50, "signature_algorithms_cert" },
    { 51, "key_share" }, { 52, "transparency_info" }, { 53, "connection_id_deprecated" },
    { 54, "connection_id" }, { 55, "external_id_hash" }, { 56, "external_session_id" },
    { 57, "quic_transport_parameters" }, { 58, "ticket_request" }, { 59, "dnssec_chain" },
    { 13172, "next_protocol_negotiation" }, { 17513, "application_settings_old" },
    { 17613, "application_settings" }, { 64768, "ech_outer_extensions" },
    { 65037, "encrypted_client_hello" }, { 65281, "renegotiation_info" },
};

/* TLS Supported Groups (IANA registry, RFC 8422 / 7919 / 8446 and the post-quantum drafts).
 * 0x6399/0x639A are the pre-standard Kyber hybrids Chrome 124-130 sent, which IANA keeps
 * marked OBSOLETE; the label drops that remark to stay short. */
static const struct code_name group_names[] = {
    { 1, "sect163k1" }, { 2, "sect163r1" }, { 3, "sect163r2" }, { 4, "sect193r1" },
    { 5, "sect193r2" }, { 6, "sect233k1" }, { 7, "sect233r1" }, { 8, "sect239k1" },
    { 9, "sect283k1" }, { 10, "sect283r1" }, { 11, "sect409k1" }, { 12, "sect409r1" },
    { 13, "sect571k1" }, { 14, "sect571r1" }, { 15, "secp160k1" }, { 16, "secp160r1" },
    { 17, "secp160r2" }, { 18, "secp192k1" }, { 19, "secp192r1" }, { 20, "secp224k1" },
    { 21, "secp224r1" }, { 22, "secp256k1" }, { 23, "secp256r1" }, { 24, "secp384r1" },
    { 25, "secp521r1" }, { 26, "brainpoolP256r1" }, { 27, "brainpoolP384r1" },
    { 28, "brainpoolP512r1" }, { 29, "x25519" }, { 30, "x448" },
    { 31, "brainpoolP256r1tls13" }, { 32, "brainpoolP384r1tls13" },
    { 33, "brainpoolP512r1tls13" }, { 34, "GC256A" }, { 35, "GC256B" }, { 36, "GC256C" },
    { 37, "GC256D" }, { 38, "GC512A" }, { 39, "GC512B" }, { 40, "GC512C" },
    { 41, "curveSM2" }, { 256, "ffdhe2048" }, { 257, "ffdhe3072" }, { 258, "ffdhe4096" },
    { 259, "ffdhe6144" }, { 260, "ffdhe8192" }, { 512, "MLKEM512" }, { 513, "MLKEM768" },
    { 514, "MLKEM1024" }, { 4587, "SecP256r1MLKEM768" }, { 4588, "X25519MLKEM768" },
    { 4589, "SecP384r1MLKEM1024" }, { 25497, "X25519Kyber768Draft00" },
    { 25498, "SecP256r1Kyber768Draft00" }, { 65281, "arbitrary_explicit_prime_curves" },
    { 65282, "arbitrary_explicit_char2_curves" },
};

/* TLS SignatureScheme (IANA registry, RFC 8446 4.2.3 and later). The TLS 1.2 hash/signature
 * pairs IANA lists only as "Reserved for backward compatibility" (0x0202 dsa/sha1, 0x0303
 * ecdsa/sha224, ...) have no registry name and print as hex. */
static const struct code_name sigalg_names[] = {
    { 0x0201, "rsa_pkcs1_sha1" }, { 0x0203, "ecdsa_sha1" }, { 0x0401, "rsa_pkcs1_sha256" },
    { 0x0403, "ecdsa_secp256r1_sha256" }, { 0x0420, "rsa_pkcs1_sha256_legacy" },
    { 0x0501, "rsa_pkcs1_sha384" }, { 0x0503, "ecdsa_secp384r1_sha384" },
    { 0x0520, "rsa_pkcs1_sha384_legacy" }, { 0x0601, "rsa_pkcs1_sha512" },
    { 0x0603, "ecdsa_secp521r1_sha512" }, { 0x0620, "rsa_pkcs1_sha512_legacy" },
    { 0x0704, "eccsi_sha256" }, { 0x0705, "iso_ibs1" }, { 0x0706, "iso_ibs2" },
    { 0x0707, "iso_chinese_ibs" }, { 0x0708, "sm2sig_sm3" }, { 0x0709, "gostr34102012_256a" },
    { 0x070A, "gostr34102012_256b" }, { 0x070B, "gostr34102012_256c" },
    { 0x070C, "gostr34102012_256d" }, { 0x070D, "gostr34102012_512a" },
    { 0x070E, "gostr34102012_512b" }, { 0x070F, "gostr34102012_512c" },
    { 0x0804, "rsa_pss_rsae_sha256" }, { 0x0805, "rsa_pss_rsae_sha384" },
    { 0x0806, "rsa_pss_rsae_sha512" }, { 0x0807, "ed25519" }, { 0x0808, "ed448" },
    { 0x0809, "rsa_pss_pss_sha256" }, { 0x080A, "rsa_pss_pss_sha384" },
    { 0x080B, "rsa_pss_pss_sha512" }, { 0x081A, "ecdsa_brainpoolP256r1tls13_sha256" },
    { 0x081B, "ecdsa_brainpoolP384r1tls13_sha384" },
    { 0x081C, "ecdsa_brainpoolP512r1tls13_sha512" }, { 0x0904, "mldsa44" },
    { 0x0905, "mldsa65" }, { 0x0906, "mldsa87" },
};

/* EC Point Format registry (RFC 8422 5.1.2). */
static const struct code_name point_format_names[] = {
    { 0, "uncompressed" }, { 1, "ansiX962_compressed_prime" },
    { 2, "ansiX962_compressed_char2" },
};

/* GREASE (RFC 8701) reserves the same 0x?A?A values in the extension, group and signature
 * registries, so every lookup answers it first. */
const char *ta_ext_name(uint16_t type)
{
    return ta_is_grease(type) ? "GREASE" : code_lookup(ext_names, TA_ARRAY_LEN(ext_names), type);
}

const char *ta_group_name(uint16_t group)
{
    return ta_is_grease(group) ? "GREASE"
                               : code_lookup(group_names, TA_ARRAY_LEN(group_names), group);
}

const char *ta_sigalg_name(uint16_t scheme)
{
    return ta_is_grease(scheme) ? "GREASE"
                                : code_lookup(sigalg_names, TA_ARRAY_LEN(sigalg_names), scheme);
}

const char *ta_point_format_name(uint8_t fmt)
{
    return code_lookup(point_format_names, TA_ARRAY_LEN(point_format_names), fmt);
}

/* Names of the enum ta_anomaly bits (include/record/tlsaudit/handshake.h), indexed by bit number:
 * the enum name without TA_AN_, lower case. */
static const char *const anomaly_names[] = {
    "truncated_hello", "bad_record", "bad_handshake", "bad_extension", "list_capped",
    "stream_gap", "no_tls_after_starttls", "cert_unparsed", "duplicate_hello", "cap_reached",
    "not_tls", "dir_swapped", "long_line", "quic_retry", "quic_version_negotiation",
    "quic_undecrypted",
};
_Static_assert(TA_ARRAY_LEN(anomaly_names) == 16 && (1u << 15) == TA_AN_QUIC_UNDECRYPTED,
               "anomaly_names must follow enum ta_anomaly");

/* The anomaly names of mask, ' ' joined in bit order; a bit without a name prints as its value
 * ("0x10000"). Returns buf ("" for 0); a short buffer truncates, still NUL-terminated. */
const char *ta_anomalies_label(uint32_t mask, char *buf, size_t buflen)
{
    size_t off = 0;
    if (buf == NULL || buflen == 0)
        return "";
    buf[0] = '\0';
    for (unsigned bit = 0; bit < 32 && off < buflen; bit++) {
        if (!(mask & (1u << bit)))
            continue;
        const char *sep = off ? " " : "";
        int n = bit < TA_ARRAY_LEN(anomaly_names)
                    ? snprintf(buf + off, buflen - off, "%s%s", sep, anomaly_names[bit])
                    : snprintf(buf + off, buflen - off, "%s0x%X", sep, 1u << bit);
        off += n > 0 ? (size_t)n : 0;
    }
    return buf;
}
