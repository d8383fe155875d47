/* tls_cert.c - the server's Certificate message in clear (TLS <= 1.2) and its leaf X.509.
 * RFC 5246 7.4.2 (Certificate), RFC 5280 (X.509 fields), parsed by OpenSSL's libcrypto.
 *
 * Strings are copied raw (escaping is the output's job), NUL-terminated and capped. Every
 * OpenSSL object taken here is freed here, and the thread's error queue is left empty.
 * Parsed leaves are kept in a bounded cache keyed by the SHA-256 of the DER (tls_cert_cache.c):
 * servers send the same certificate on every connection and d2i_X509 is the costly part. */
#include <arpa/inet.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls_cert_cache.h"
#include "tls_int.h"

/* Copy len bytes into dst (capacity cap), cut at cap - 1, a NUL inside as '?' (peer_text.h). */
static void cert_copy(char *dst, size_t cap, const unsigned char *src, size_t len)
{
    (void)ta__text_copy(dst, cap, src, len);
}

/* Subject commonName (the first one), as sent (a NUL as '?'). */
static void cert_cn(struct ta_cert *cert, X509 *x)
{
    X509_NAME *name = X509_get_subject_name(x);
    int idx = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    const ASN1_STRING *d;
    if (idx < 0)
        return;
    d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    if (d && ASN1_STRING_length(d) > 0)
        cert_copy(cert->subject_cn, sizeof cert->subject_cn, ASN1_STRING_get0_data(d),
                  (size_t)ASN1_STRING_length(d));
}

/* Issuer as one RFC 2253 line ("CN=R3,O=Let's Encrypt,C=US"). */
static void cert_issuer(struct ta_cert *cert, X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *text = NULL;
    long n;
    if (!bio)
        return;
    if (X509_NAME_print_ex(bio, X509_get_issuer_name(x), 0, XN_FLAG_RFC2253) >= 0) {
        n = BIO_get_mem_data(bio, &text);
        if (n > 0 && text)
            cert_copy(cert->issuer, sizeof cert->issuer, (const unsigned char *)text, (size_t)n);
    }
    BIO_free(bio);
}

/* Append item to the comma-separated SAN list; false when it does not fit. */
static bool cert_san_add(struct ta_cert *cert, const char *item, size_t len)
{
    size_t used = strlen(cert->sans);
    size_t need = len + (used ? 1 : 0);
    if (need >= sizeof cert->sans - used)
        return false;
    if (used)
        cert->sans[used++] = ',';
    memcpy(cert->sans + used, item, len);
    cert->sans[used + len] = '\0';
    return true;
}

/* DNS names and IP addresses of subjectAltName, in certificate order, capped (sets
 * TA_AN_LIST_CAPPED in *anomalies when cut). */
static void cert_sans(struct ta_cert *cert, uint32_t *anomalies, X509 *x)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    char ip[INET6_ADDRSTRLEN];
    if (!gens)
        return;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *s = NULL;
        const char *item = NULL;
        size_t len = 0;
        if (g->type == GEN_DNS) {
            s = g->d.dNSName;
            item = (const char *)ASN1_STRING_get0_data(s);
            len = (size_t)ASN1_STRING_length(s);
            if (memchr(item, ',', len) || memchr(item, '\0', len))
                continue;   /* would corrupt the list */
        } else if (g->type == GEN_IPADD) {
            s = g->d.iPAddress;
            int af = ASN1_STRING_length(s) == 4 ? AF_INET : ASN1_STRING_length(s) == 16 ? AF_INET6 : 0;
            if (!af || !inet_ntop(af, ASN1_STRING_get0_data(s), ip, sizeof ip))
                continue;
            item = ip;
            len = strlen(ip);
        } else {
            continue;
        }
        if (!cert_san_add(cert, item, len)) {
            *anomalies |= TA_AN_LIST_CAPPED;
            break;
        }
    }
    GENERAL_NAMES_free(gens);
}

/* An ASN1_TIME as Unix seconds (UTC); 0 when it does not convert. */
static int64_t cert_time(const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

/* Public key algorithm and size. */
static void cert_key(struct ta_cert *cert, X509 *x)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    const char *type;
    if (!pk)
        return;
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA: type = "RSA"; break;
    case EVP_PKEY_RSA_PSS: type = "RSA-PSS"; break;
    case EVP_PKEY_EC: type = "EC"; break;
    case EVP_PKEY_DSA: type = "DSA"; break;
    case EVP_PKEY_DH: type = "DH"; break;
    case EVP_PKEY_ED25519: type = "Ed25519"; break;
    case EVP_PKEY_ED448: type = "Ed448"; break;
    default: type = "other"; break;
    }
    cert_copy(cert->key_type, sizeof cert->key_type, (const unsigned char *)type, strlen(type));
    int bits = EVP_PKEY_get_bits(pk);
    cert->key_bits = bits > 0 && bits <= UINT16_MAX ? (uint16_t)bits : 0;
}

/* Bits of an RSAPublicKey (RFC 8017 A.1.1: SEQUENCE { modulus INTEGER, publicExponent
 * INTEGER }), read with libcrypto's generic DER reader; 0 unless it is exactly that with a
 * positive modulus. */
static int cert_rsa_bits(const unsigned char *key, int len)
{
    const unsigned char *p = key;
    STACK_OF(ASN1_TYPE) *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len);
    const ASN1_TYPE *n, *e;
    BIGNUM *bn;
    int bits = 0;
    if (!seq)
        return 0;
    n = sk_ASN1_TYPE_num(seq) == 2 ? sk_ASN1_TYPE_value(seq, 0) : NULL;
    e = n ? sk_ASN1_TYPE_value(seq, 1) : NULL;
    if (p == key + len && n && e && n->type == V_ASN1_INTEGER && e->type == V_ASN1_INTEGER &&
        (bn = ASN1_INTEGER_to_BN(n->value.integer, NULL)) != NULL) {
        bits = BN_num_bits(bn);
        BN_free(bn);
    }
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    return bits;
}

/* Order bits of a named curve when point is a valid point on it (what the provider decoder
 * checks); 0 otherwise. */
static int cert_ec_bits(int curve, const unsigned char *point, int len)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(curve);
    EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
    int bits = 0;
    if (pt && EC_POINT_oct2point(g, pt, point, (size_t)len, NULL) == 1)
        bits = EC_GROUP_order_bits(g);
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    return bits;
}

/* Key type and size from the SubjectPublicKeyInfo without an EVP_PKEY, for the common cases:
 * rsaEncryption and EC on a named curve. Gives what cert_key gives (EVP_PKEY_get_bits is the
 * modulus bits for RSA and the group order bits for EC). False for anything else or anything
 * odd: the caller then takes the full path. */
static bool cert_key_light(struct ta_cert *cert, X509 *x)
{
    ASN1_OBJECT *obj;
    const unsigned char *key;
    const void *pval;
    X509_ALGOR *alg;
    int len, ptype, bits;
    const char *type;
    if (!X509_PUBKEY_get0_param(&obj, &key, &len, &alg, X509_get_X509_PUBKEY(x)) ||
        len <= 0)
        return false;
    switch (OBJ_obj2nid(obj)) {
    case NID_rsaEncryption:
        type = "RSA";
        bits = cert_rsa_bits(key, len);
        break;
    case NID_X9_62_id_ecPublicKey:
        type = "EC";
        X509_ALGOR_get0(NULL, &ptype, &pval, alg);
        bits = ptype == V_ASN1_OBJECT ? cert_ec_bits(OBJ_obj2nid(pval), key, len) : 0;
        break;
    default:
        return false;
    }
    if (bits <= 0 || bits > UINT16_MAX) {
        ERR_clear_error();
        return false;
    }
    cert_copy(cert->key_type, sizeof cert->key_type, (const unsigned char *)type, strlen(type));
    cert->key_bits = (uint16_t)bits;
    return true;
}

/* Parse one DER certificate into a zeroed entry: its fields, the anomalies the parse raised, and
 * whether libcrypto accepted it (nothing filled when not). First through the light library
 * context, where d2i does not decode the public key (~10x cheaper in OpenSSL 3.0); when that
 * context is missing, refuses the DER or the key is not one cert_key_light reads, the DER is
 * parsed again the ordinary way, so acceptance and every field are decided as before. */
static void cert_parse(struct ta__cert_cache *cc, struct ta__cert_entry *e, const uint8_t *der,
                       size_t len)
{
    const unsigned char *p = der;
    OSSL_LIB_CTX *light = ta__tls_cert_light_ctx(cc);
    X509 *x = light ? (X509 *)ASN1_item_d2i_ex(NULL, &p, (long)len, ASN1_ITEM_rptr(X509), light,
                                               NULL) : NULL;
    bool key_done = x && cert_key_light(&e->cert, x);
    if (!key_done) {
        X509_free(x);
        ERR_clear_error();
        p = der;
        x = d2i_X509(NULL, &p, (long)len);
    }
    if (!x) {
        ERR_clear_error();
        return;
    }
    e->ok = true;
    cert_cn(&e->cert, x);
    cert_issuer(&e->cert, x);
    cert_sans(&e->cert, &e->anomalies, x);
    e->cert.not_before = cert_time(X509_get0_notBefore(x));
    e->cert.not_after = cert_time(X509_get0_notAfter(x));
    if (!key_done)
        cert_key(&e->cert, x);
    X509_free(x);
    ERR_clear_error();
}

/* Parse one DER certificate into hs->cert (all parsed fields, not present/chain_len), through
 * the cache cc (NULL: no cache). False (nothing filled) when OpenSSL rejects it; a rejection is
 * cached too. */
bool ta__tls_cert_der(struct ta__cert_cache *cc, struct ta_hs *hs, const uint8_t *der, size_t len)
{
    struct ta__cert_entry local, *e;
    bool hit;
    if (len == 0 || len > LONG_MAX)
        return false;
    e = ta__tls_cert_cache_lookup(cc, der, len, &hit);
    if (!e) {
        memset(&local, 0, sizeof local);
        e = &local;
    }
    if (!hit)
        cert_parse(cc, e, der, len);
    if (!e->ok)
        return false;
    memcpy(hs->cert.subject_cn, e->cert.subject_cn, sizeof hs->cert.subject_cn);
    memcpy(hs->cert.issuer, e->cert.issuer, sizeof hs->cert.issuer);
    memcpy(hs->cert.sans, e->cert.sans, sizeof hs->cert.sans);
    hs->cert.not_before = e->cert.not_before;
    hs->cert.not_after = e->cert.not_after;
    memcpy(hs->cert.key_type, e->cert.key_type, sizeof hs->cert.key_type);
    hs->cert.key_bits = e->cert.key_bits;
    hs->anomalies |= e->anomalies;
    return true;
}

/* Certificate (RFC 5246 7.4.2): certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>, the
 * server's own certificate first. Counts the chain and parses the leaf (through the cache cc). */
void ta__tls_certificate(struct ta__cert_cache *cc, struct ta_hs *hs, struct ta_cur body)
{
    struct ta_cur list, one;
    struct ta_slice s;
    unsigned n = 0;
    hs->cert.present = true;
    if (!ta_cur_vec24(&body, &list) || !ta_cur_empty(&body)) {
        hs->anomalies |= TA_AN_BAD_HANDSHAKE | TA_AN_CERT_UNPARSED;
        return;
    }
    while (!ta_cur_empty(&list)) {
        if (!ta_cur_vec24(&list, &one)) {
            hs->anomalies |= TA_AN_BAD_HANDSHAKE;
            break;
        }
        if (n == 0) {
            (void)ta_cur_slice(&one, ta_cur_left(&one), &s);
            if (!ta__tls_cert_der(cc, hs, s.ptr, s.len))
                hs->anomalies |= TA_AN_CERT_UNPARSED;
        }
        n++;
    }
    hs->cert.chain_len = n > UINT8_MAX ? UINT8_MAX : (uint8_t)n;
}
