/* quic_crypto.c - Initial packet protection of QUIC (RFC 9001 5.2-5.4, RFC 9369 3.3) with
 * libcrypto: HKDF-SHA256 through EVP_KDF, AEAD_AES_128_GCM, and AES-128-ECB header protection.
 *
 * Every libcrypto object is made once, with the crypto object (one per engine); a packet is
 * copied into its scratch buffer and opened there in place. Keys are derived once per flow and
 * version (the caller caches them), so libcrypto's own bookkeeping during a derivation is not on
 * the per-packet path. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "quic_int.h"

struct ta_quic_crypto {
    EVP_KDF_CTX *kdf;
    EVP_CIPHER *gcm, *ecb;
    EVP_CIPHER_CTX *aead, *hp;
    uint8_t scratch[QUIC_PKT_MAX];
};

struct ta_quic_crypto *ta_quic_crypto_new(void)
{
    struct ta_quic_crypto *qc = calloc(1, sizeof(*qc));
    EVP_KDF *kdf;
    if (!qc)
        return NULL;
    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    qc->kdf = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    qc->gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    qc->ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
    qc->aead = EVP_CIPHER_CTX_new();
    qc->hp = EVP_CIPHER_CTX_new();
    if (!qc->kdf || !qc->gcm || !qc->ecb || !qc->aead || !qc->hp) {
        ta_quic_crypto_free(qc);
        return NULL;
    }
    return qc;
}

void ta_quic_crypto_free(struct ta_quic_crypto *qc)
{
    if (!qc)
        return;
    EVP_KDF_CTX_free(qc->kdf);
    EVP_CIPHER_free(qc->gcm);
    EVP_CIPHER_free(qc->ecb);
    EVP_CIPHER_CTX_free(qc->aead);
    EVP_CIPHER_CTX_free(qc->hp);
    free(qc);
}

/* One HKDF step (RFC 5869) in mode "EXTRACT_ONLY" (key = IKM, salt) or "EXPAND_ONLY" (key = PRK,
 * info). Returns true on success. */
static bool hkdf(struct ta_quic_crypto *qc, const char *mode, const uint8_t *key, size_t keylen,
                 const uint8_t *salt_or_info, size_t silen, uint8_t *out, size_t outlen)
{
    OSSL_PARAM p[5];
    bool extract = strcmp(mode, "EXTRACT_ONLY") == 0;
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)mode, 0);
    p[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, keylen);
    p[3] = OSSL_PARAM_construct_octet_string(extract ? OSSL_KDF_PARAM_SALT : OSSL_KDF_PARAM_INFO,
                                             (void *)salt_or_info, silen);
    p[4] = OSSL_PARAM_construct_end();
    EVP_KDF_CTX_reset(qc->kdf);
    return EVP_KDF_derive(qc->kdf, out, outlen, p) == 1;
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context: info = length (2 bytes), the label
 * "tls13 " + label as a 1-byte-length vector, then an empty context vector. */
static bool expand_label(struct ta_quic_crypto *qc, const uint8_t *secret, const char *label,
                         uint8_t *out, size_t outlen)
{
    uint8_t info[2 + 1 + 6 + 32 + 1];
    size_t ll = strlen(label), n = 0;
    if (ll > 32)
        return false;
    info[n++] = (uint8_t)(outlen >> 8);
    info[n++] = (uint8_t)outlen;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = 0;
    return hkdf(qc, "EXPAND_ONLY", secret, 32, info, n, out, outlen);
}

/* See quic_int.h. RFC 9001 5.2: initial_secret = HKDF-Extract(salt, dcid); the direction's
 * secret = Expand-Label(initial_secret, "client in" | "server in", 32); key, iv and hp keys by
 * "quic key", "quic iv", "quic hp" (v2: "quicv2 key", "quicv2 iv", "quicv2 hp", RFC 9369 3.3.2). */
int ta__quic_keys_derive(struct ta_quic_crypto *qc, const struct ta__quic_ver *ver,
                         const uint8_t *dcid, size_t dcid_len, enum ta_dir dir,
                         struct ta__quic_keys *out)
{
    uint8_t initial[32], secret[32];
    bool ok;
    memset(out, 0, sizeof(*out));
    ok = hkdf(qc, "EXTRACT_ONLY", dcid, dcid_len, ver->salt, 20, initial, sizeof initial) &&
         expand_label(qc, initial, dir == TA_DIR_C2S ? "client in" : "server in", secret, 32) &&
         expand_label(qc, secret, ver->v2 ? "quicv2 key" : "quic key", out->key, 16) &&
         expand_label(qc, secret, ver->v2 ? "quicv2 iv" : "quic iv", out->iv, 12) &&
         expand_label(qc, secret, ver->v2 ? "quicv2 hp" : "quic hp", out->hp, 16);
    if (!ok)
        return TA_ERR_IO;
    out->valid = true;
    out->version = ver->version;
    return TA_OK;
}

/* Header protection mask (RFC 9001 5.4.3): AES-ECB of the 16-byte sample under the hp key. */
static bool hp_mask(struct ta_quic_crypto *qc, const uint8_t *hpkey, const uint8_t *sample,
                    uint8_t mask[16])
{
    int n = 0;
    return EVP_EncryptInit_ex2(qc->hp, qc->ecb, hpkey, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_set_padding(qc->hp, 0) == 1 &&
           EVP_EncryptUpdate(qc->hp, mask, &n, sample, QUIC_HP_SAMPLE) == 1 && n == 16;
}

/* Full packet number from its truncated form (RFC 9000 A.3), expected = largest seen + 1. */
static uint64_t pn_decode(uint64_t expected, uint64_t truncated, unsigned nbits)
{
    uint64_t win = (uint64_t)1 << nbits, hwin = win / 2, mask = win - 1;
    uint64_t cand = (expected & ~mask) | truncated;
    if (cand + hwin <= expected && cand < ((uint64_t)1 << 62) - win)
        return cand + win;
    if (cand > expected + hwin && cand >= win)
        return cand - win;
    return cand;
}

/* The per-packet nonce (RFC 9001 5.3): the iv with the packet number XORed into its end. */
static void make_nonce(const uint8_t iv[12], uint64_t pn, uint8_t nonce[12])
{
    memcpy(nonce, iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
}

/* AES-128-GCM over in[0..n) with the aad; encrypt writes the tag after the output, decrypt
 * checks the tag that follows the input. In place (out == in) is allowed. */
static bool aead(struct ta_quic_crypto *qc, bool encrypt, const uint8_t key[16],
                 const uint8_t nonce[12], const uint8_t *aad, size_t aadlen, const uint8_t *in,
                 size_t n, uint8_t *out)
{
    int l = 0, f = 0;
    uint8_t *tag = encrypt ? out + n : (uint8_t *)(uintptr_t)(in + n);
    if (n > INT32_MAX || aadlen > INT32_MAX)
        return false;
    if (EVP_CipherInit_ex2(qc->aead, qc->gcm, key, nonce, encrypt ? 1 : 0, NULL) != 1 ||
        EVP_CipherUpdate(qc->aead, NULL, &l, aad, (int)aadlen) != 1 ||
        EVP_CipherUpdate(qc->aead, out, &l, in, (int)n) != 1)
        return false;
    if (!encrypt && EVP_CIPHER_CTX_ctrl(qc->aead, EVP_CTRL_AEAD_SET_TAG, QUIC_AEAD_TAG, tag) != 1)
        return false;
    if (EVP_CipherFinal_ex(qc->aead, out + l, &f) != 1)
        return false;
    return !encrypt || EVP_CIPHER_CTX_ctrl(qc->aead, EVP_CTRL_AEAD_GET_TAG, QUIC_AEAD_TAG, tag) == 1;
}

/* See quic_int.h. The sample starts 4 bytes after the packet number's start whatever its
 * length (RFC 9001 5.4.2), so a packet needs pn_off + 4 + 16 bytes. */
int ta__quic_open(struct ta_quic_crypto *qc, const struct ta__quic_keys *k,
                  const struct ta__quic_hdr *h, uint64_t next_pn, uint64_t *pn,
                  const uint8_t **plain, size_t *plain_len)
{
    uint8_t *b = qc->scratch, mask[16], nonce[12];
    size_t pnlen, hdrlen;
    uint64_t tpn = 0;
    if (!k->valid || h->cut || h->size > sizeof qc->scratch ||
        h->size < h->pn_off + 4 + QUIC_HP_SAMPLE)
        return TA_MALFORMED;
    memcpy(b, h->pkt, h->size);
    if (!hp_mask(qc, k->hp, b + h->pn_off + 4, mask))
        return TA_MALFORMED;
    b[0] ^= mask[0] & 0x0f;
    pnlen = (size_t)(b[0] & 3) + 1;
    for (size_t i = 0; i < pnlen; i++) {
        b[h->pn_off + i] ^= mask[1 + i];
        tpn = (tpn << 8) | b[h->pn_off + i];
    }
    hdrlen = h->pn_off + pnlen;
    if (h->size < hdrlen + QUIC_AEAD_TAG)
        return TA_MALFORMED;
    *pn = pn_decode(next_pn, tpn, (unsigned)(8 * pnlen));
    make_nonce(k->iv, *pn, nonce);
    if (!aead(qc, false, k->key, nonce, b, hdrlen, b + hdrlen, h->size - hdrlen - QUIC_AEAD_TAG,
              b + hdrlen))
        return TA_MALFORMED;
    *plain = b + hdrlen;
    *plain_len = h->size - hdrlen - QUIC_AEAD_TAG;
    return TA_OK;
}

/* Append a varint of 2 bytes (values below 16384) at out. */
static void put_varint2(uint8_t *out, size_t v)
{
    out[0] = (uint8_t)(0x40 | (v >> 8));
    out[1] = (uint8_t)v;
}

/* See quic_int.h. Header: first byte (type Initial, 4-byte packet number), version, DCID,
 * SCID, an empty token, a 2-byte Length, the packet number; then the sealed frames and the tag;
 * then header protection over the first byte and the packet number. */
size_t ta__quic_seal_initial(struct ta_quic_crypto *qc, const struct ta__quic_keys *k,
                             const struct ta__quic_ver *ver, const uint8_t *dcid, size_t dcid_len,
                             const uint8_t *scid, size_t scid_len, uint32_t pn,
                             const uint8_t *frames, size_t frames_len, uint8_t *out,
                             size_t out_cap)
{
    size_t n = 0, pn_off, body = 4 + frames_len + QUIC_AEAD_TAG;
    uint8_t mask[16], nonce[12];
    if (dcid_len > QUIC_CID_MAX || scid_len > QUIC_CID_MAX || frames_len < 4 ||
        body >= 16384 || 1 + 4 + 2 + dcid_len + scid_len + 1 + 2 + body > out_cap)
        return 0;
    out[n++] = (uint8_t)(0xC0 | ((ver->v2 ? 1u : 0u) << 4) | 0x03);
    for (int i = 3; i >= 0; i--)
        out[n++] = (uint8_t)(ver->version >> (8 * i));
    out[n++] = (uint8_t)dcid_len;
    memcpy(out + n, dcid, dcid_len);
    n += dcid_len;
    out[n++] = (uint8_t)scid_len;
    memcpy(out + n, scid, scid_len);
    n += scid_len;
    out[n++] = 0;   /* token length */
    put_varint2(out + n, body);
    n += 2;
    pn_off = n;
    for (int i = 3; i >= 0; i--)
        out[n++] = (uint8_t)(pn >> (8 * i));
    make_nonce(k->iv, pn, nonce);
    if (!aead(qc, true, k->key, nonce, out, n, frames, frames_len, out + n))
        return 0;
    n += frames_len + QUIC_AEAD_TAG;
    if (!hp_mask(qc, k->hp, out + pn_off + 4, mask))
        return 0;
    out[0] ^= mask[0] & 0x0f;
    for (int i = 0; i < 4; i++)
        out[pn_off + i] ^= mask[1 + i];
    return n;
}
