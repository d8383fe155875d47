/* test_tls_cert_cache.c - the parsed-certificate cache behind ta__tls_cert_der: hits return the
 * same fields as a fresh parse, a slot taken over by another certificate answers with that one's
 * fields, an evicted certificate is parsed again correctly, rejections and capped SAN lists are
 * replayed on a hit, and the cache never holds more than its capacity. Certificates are real
 * X.509 made by libcrypto at run time; key type and size are checked against OpenSSL's own
 * EVP_PKEY for RSA, EC (also with a point off its curve) and Ed25519. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "tls_cert_cache.h"
#include "tls_int.h"

static EVP_PKEY *key;
static struct ta__cert_cache *cc;   /* the cache under test (an engine owns one) */

/* A self-signed certificate for cn with the SAN list san (OpenSSL config syntax), as DER into
 * out (capacity cap), with key k. Returns its length. */
static size_t make_cert_key(EVP_PKEY *k, const char *cn, const char *san, long serial, uint8_t *out,
                            size_t cap)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_get_subject_name(x);
    X509V3_CTX v3;
    unsigned char *p = out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    ASN1_TIME_set(X509_getm_notBefore(x), 1700000000 + serial);
    ASN1_TIME_set(X509_getm_notAfter(x), 1800000000 + serial);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Cache Org", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, k);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x, k, EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519 ? NULL : EVP_sha256());
    int len = i2d_X509(x, NULL);
    CHECK(len > 0 && (size_t)len <= cap);
    if (len <= 0 || (size_t)len > cap)
        len = 0;
    else
        i2d_X509(x, &p);
    X509_free(x);
    return (size_t)len;
}

static size_t make_cert(const char *cn, const char *san, long serial, uint8_t *out, size_t cap)
{
    return make_cert_key(key, cn, san, serial, out, cap);
}

/* Parse der into a fresh record; returns the result of ta__tls_cert_der. */
static bool parse(struct ta_hs *hs, const uint8_t *der, size_t len)
{
    memset(hs, 0, sizeof *hs);
    return ta__tls_cert_der(cc, hs, der, len);
}

static uint64_t hits(void)
{
    struct ta__cert_cache_stats s;
    ta__tls_cert_cache_stats(cc, &s);
    return s.hits;
}

static uint64_t misses(void)
{
    struct ta__cert_cache_stats s;
    ta__tls_cert_cache_stats(cc, &s);
    return s.misses;
}

/* Expected fields of the certificate made for cn with serial and a single DNS SAN. */
static void check_fields(const struct ta_hs *hs, const char *cn, long serial)
{
    char issuer[128], san[128];
    snprintf(issuer, sizeof issuer, "CN=%s,O=Cache Org", cn);
    snprintf(san, sizeof san, "%s", cn);
    CHECK_STR(hs->cert.subject_cn, cn);
    CHECK_STR(hs->cert.issuer, issuer);
    CHECK_STR(hs->cert.sans, san);
    CHECK_INT(hs->cert.not_before, 1700000000 + serial);
    CHECK_INT(hs->cert.not_after, 1800000000 + serial);
    CHECK_STR(hs->cert.key_type, "EC");
    CHECK_INT(hs->cert.key_bits, 256);
    CHECK_INT(hs->anomalies, 0);
}

static uint8_t der[3][2048];
static size_t dlen[3];
static const char *const names[3] = { "a.example.com", "b.example.net", "c.example.org" };

/* A hit gives exactly the record a cache-less parse gives (whole struct compared). */
static void test_hit_equals_parse(void)
{
    static struct ta_hs ref, hs;
    CHECK(ta__tls_cert_cache_configure(cc, 0, 0));           /* disabled: plain libcrypto parse */
    CHECK(parse(&ref, der[0], dlen[0]));
    check_fields(&ref, names[0], 1);
    CHECK_INT(misses(), 0);
    CHECK(ta__tls_cert_cache_configure(cc, TA_CERT_CACHE_SETS, TA_CERT_CACHE_WAYS));
    CHECK(parse(&hs, der[0], dlen[0]));
    CHECK_INT(misses(), 1);
    CHECK_INT(hits(), 0);
    CHECK(memcmp(&hs, &ref, sizeof hs) == 0);
    CHECK(parse(&hs, der[0], dlen[0]));
    CHECK_INT(hits(), 1);
    CHECK(memcmp(&hs, &ref, sizeof hs) == 0);
    struct ta__cert_cache_stats s;
    ta__tls_cert_cache_stats(cc, &s);
    CHECK_INT(s.capacity, TA_CERT_CACHE_SETS * TA_CERT_CACHE_WAYS);
}

/* One set of two ways: the third certificate takes the least recently used slot; each lookup
 * still answers with its own certificate's fields, and evictions are counted. */
static void test_collision_replacement(void)
{
    static struct ta_hs hs;
    struct ta__cert_cache_stats s;
    CHECK(ta__tls_cert_cache_configure(cc, 1, 2));
    CHECK(parse(&hs, der[0], dlen[0])); check_fields(&hs, names[0], 1);   /* miss: A */
    CHECK(parse(&hs, der[1], dlen[1])); check_fields(&hs, names[1], 2);   /* miss: B */
    CHECK(parse(&hs, der[0], dlen[0])); check_fields(&hs, names[0], 1);   /* hit: A newer than B */
    CHECK_INT(hits(), 1);
    CHECK(parse(&hs, der[2], dlen[2])); check_fields(&hs, names[2], 3);   /* miss: C evicts B */
    ta__tls_cert_cache_stats(cc, &s);
    CHECK_INT(s.evictions, 1);
    CHECK(parse(&hs, der[0], dlen[0])); check_fields(&hs, names[0], 1);   /* A still there */
    CHECK_INT(hits(), 2);
    CHECK(parse(&hs, der[1], dlen[1])); check_fields(&hs, names[1], 2);   /* B again: evicts C */
    CHECK(parse(&hs, der[2], dlen[2])); check_fields(&hs, names[2], 3);   /* C again: evicts A */
    ta__tls_cert_cache_stats(cc, &s);
    CHECK_INT(s.hits, 2);
    CHECK_INT(s.misses, 5);
    CHECK_INT(s.evictions, 3);
    CHECK_INT(s.capacity, 2);
    /* Direct-mapped (one way): every other certificate replaces the slot. */
    CHECK(ta__tls_cert_cache_configure(cc, 1, 1));
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 3; i++) {
            CHECK(parse(&hs, der[i], dlen[i]));
            check_fields(&hs, names[i], i + 1);
        }
    ta__tls_cert_cache_stats(cc, &s);
    CHECK_INT(s.hits, 0);
    CHECK_INT(s.misses, 9);
    CHECK_INT(s.evictions, 8);
}

/* The key covers the whole DER: one flipped bit in the signature is another certificate (a new
 * miss), even though libcrypto parses the same fields (the signature is not verified here). */
static void test_key_is_whole_der(void)
{
    static uint8_t flipped[2048];
    static struct ta_hs hs;
    CHECK(ta__tls_cert_cache_configure(cc, TA_CERT_CACHE_SETS, TA_CERT_CACHE_WAYS));
    memcpy(flipped, der[0], dlen[0]);
    flipped[dlen[0] - 1] ^= 0x01;
    CHECK(parse(&hs, der[0], dlen[0]));
    CHECK(parse(&hs, flipped, dlen[0]));
    check_fields(&hs, names[0], 1);
    CHECK_INT(misses(), 2);
    CHECK_INT(hits(), 0);
}

/* A rejected DER is cached as rejected (false and nothing filled, on the miss and on the hit);
 * a SAN list cut at its cap raises TA_AN_LIST_CAPPED on the hit as on the miss. */
static void test_rejected_and_capped(void)
{
    static uint8_t bad[64], big[8192];
    static struct ta_hs hs;
    char san[4096];
    size_t off = 0;
    memset(bad, 0x30, sizeof bad);
    CHECK(ta__tls_cert_cache_configure(cc, TA_CERT_CACHE_SETS, TA_CERT_CACHE_WAYS));
    CHECK(!parse(&hs, bad, sizeof bad));
    CHECK(!parse(&hs, bad, sizeof bad));
    CHECK_STR(hs.cert.subject_cn, "");
    CHECK_INT(hs.anomalies, 0);
    CHECK_INT(misses(), 1);
    CHECK_INT(hits(), 1);
    for (int i = 0; i < 60; i++)
        off += (size_t)snprintf(san + off, sizeof san - off, "%sDNS:host-%02d.a-rather-long-domain.example",
                                i ? "," : "", i);
    size_t n = make_cert("many.example", san, 9, big, sizeof big);
    for (int pass = 0; pass < 2; pass++) {
        CHECK(parse(&hs, big, n));
        CHECK_STR(hs.cert.subject_cn, "many.example");
        CHECK(hs.anomalies & TA_AN_LIST_CAPPED);
        CHECK(strncmp(hs.cert.sans, "host-00.a-rather-long-domain.example,", 37) == 0);
        CHECK(strlen(hs.cert.sans) < TA_SAN_MAX);
    }
    CHECK_INT(hits(), 2);
}

/* Many more certificates than slots: the capacity holds, and each answer is still right. */
static void test_bounded(void)
{
    static uint8_t d[2048];
    static struct ta_hs hs;
    struct ta__cert_cache_stats s;
    char cn[64];
    CHECK(ta__tls_cert_cache_configure(cc, 4, 2));
    for (long i = 0; i < 40; i++) {
        snprintf(cn, sizeof cn, "h%ld.example", i);
        char san[80];
        snprintf(san, sizeof san, "DNS:%s", cn);
        size_t n = make_cert(cn, san, 100 + i, d, sizeof d);
        CHECK(parse(&hs, d, n));
        check_fields(&hs, cn, 100 + i);
    }
    ta__tls_cert_cache_stats(cc, &s);
    CHECK_INT(s.misses, 40);
    CHECK(s.evictions >= 40 - 8 && s.evictions < 40);   /* at most 8 slots ever filled */
    CHECK(!ta__tls_cert_cache_configure(cc, 1u << 16, 2));   /* absurd geometry refused */
}

/* Key type and bits as OpenSSL's own EVP_PKEY gives them ("" and 0 when it cannot decode the
 * key), the reference the light path must reproduce. */
static void reference_key(const uint8_t *d, size_t n, char *type, size_t cap, int *bits)
{
    const unsigned char *p = d;
    X509 *x = d2i_X509(NULL, &p, (long)n);
    EVP_PKEY *pk = x ? X509_get0_pubkey(x) : NULL;
    snprintf(type, cap, "%s", !pk ? "" : EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA ? "RSA"
             : EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC ? "EC"
             : EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519 ? "Ed25519" : "other");
    *bits = pk ? EVP_PKEY_get_bits(pk) : 0;
    X509_free(x);
    ERR_clear_error();
}

/* The public key's type and size: RSA and EC named curves are read without decoding the key
 * (light path), Ed25519 through the full path, and an EC point that is not on its curve gives
 * what OpenSSL gives (no key) rather than the curve's size. */
static void test_key_types(void)
{
    static uint8_t d[4096];
    static struct ta_hs hs;
    static const struct { const char *alg, *param, *type; int bits; } keys[] = {
        { "RSA", "2048", "RSA", 2048 }, { "RSA", "3072", "RSA", 3072 },
        { "EC", "P-384", "EC", 384 }, { "EC", "P-521", "EC", 521 },
        { "ED25519", NULL, "Ed25519", 256 },
    };
    char type[32];
    int bits;
    CHECK(ta__tls_cert_cache_configure(cc, 0, 0));   /* every parse goes to libcrypto */
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        EVP_PKEY *k = keys[i].param && strcmp(keys[i].alg, "RSA") == 0
                      ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(keys[i].param))
                      : keys[i].param ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", keys[i].param)
                      : EVP_PKEY_Q_keygen(NULL, NULL, keys[i].alg);
        CHECK(k != NULL);
        size_t n = make_cert_key(k, "k.example", "DNS:k.example", 50, d, sizeof d);
        reference_key(d, n, type, sizeof type, &bits);
        CHECK_STR(type, keys[i].type);
        CHECK_INT(bits, keys[i].bits);
        CHECK(parse(&hs, d, n));
        CHECK_STR(hs.cert.key_type, type);
        CHECK_INT(hs.cert.key_bits, bits);
        CHECK_STR(hs.cert.subject_cn, "k.example");
        if (strcmp(keys[i].alg, "EC") == 0) {
            /* Corrupt the point's x coordinate (uncompressed point 04 || x || y in the DER). */
            unsigned char *pt = NULL;
            int plen = i2d_PublicKey(k, &pt);
            uint8_t *at = NULL;
            for (size_t off = 0; plen > 0 && off + (size_t)plen <= n && !at; off++)
                if (memcmp(d + off, pt, (size_t)plen) == 0)
                    at = d + off;
            CHECK(at != NULL);
            if (at) {
                at[5] ^= 0x5A;
                reference_key(d, n, type, sizeof type, &bits);
                CHECK_STR(type, "");
                CHECK_INT(bits, 0);
                CHECK(parse(&hs, d, n));
                CHECK_STR(hs.cert.key_type, "");
                CHECK_INT(hs.cert.key_bits, 0);
                CHECK_STR(hs.cert.subject_cn, "k.example");
            }
            OPENSSL_free(pt);
        }
        EVP_PKEY_free(k);
    }
}

int main(void)
{
    char san[128];
    key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    CHECK(key != NULL);
    cc = ta__tls_cert_cache_new();
    CHECK(cc != NULL);
    for (int i = 0; i < 3; i++) {
        snprintf(san, sizeof san, "DNS:%s", names[i]);
        dlen[i] = make_cert(names[i], san, i + 1, der[i], sizeof der[i]);
    }
    test_hit_equals_parse();
    test_collision_replacement();
    test_key_is_whole_der();
    test_rejected_and_capped();
    test_bounded();
    test_key_types();
    ta__tls_cert_cache_free(cc);
    EVP_PKEY_free(key);
    return CHECK_DONE();
}
