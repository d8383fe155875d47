/* fingerprint.c - JA3/JA3S (Salesforce, github.com/salesforce/ja3) and JA4 (FoxIO,
 * github.com/FoxIO-LLC/ja4 technical_details/JA4.md, the BSD-3-Clause part) from the parsed
 * hellos. Digests come from OpenSSL libcrypto (EVP_Digest); nothing here hashes by hand.
 *
 * Known differences with other tools, on purpose:
 *  - JA3 uses the lists as tlsaudit stored them; a hello with more than TA_MAX_CIPHERS suites or
 *    TA_MAX_EXTS extensions (flagged TA_AN_LIST_CAPPED) gets a JA3 of the kept prefix.
 *  - JA3 of an SSLv2-format ClientHello is computed from its version and cipher list like Zeek
 *    does; the Salesforce script and tshark compute none for SSLv2 records.
 *  - GREASE (RFC 8701) is dropped from every list, as the reference and tshark's
 *    tls.handshake.ja3 / ja3_full do; padding (21) and every other extension is kept. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tlsaudit/fingerprint.h"

/* Text being built in a caller-owned buffer; an overflow is remembered, never written past.
 * Items are appended whole or not at all, so after an overflow the text is a clean prefix.
 * Everything is formatted by hand: vsnprintf per list element was ~8% of a handshake-heavy
 * capture (bench/RESULTS.md). */
struct sbuf {
    char *p;
    size_t len, cap;
    bool overflow;
};

static const char hexd[] = "0123456789abcdef";

static void sb_init(struct sbuf *b, char *mem, size_t cap)
{
    b->p = mem;
    b->len = 0;
    b->cap = cap;
    b->overflow = false;
    if (cap)
        mem[0] = '\0';
}

/* Append n bytes as one item (keeping room for the NUL), or mark the overflow. */
static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->overflow || n >= b->cap - b->len) {
        b->overflow = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Append one item: the separator (none when sep is 0) then v in decimal ("%u"). */
static void sb_dec(struct sbuf *b, char sep, uint32_t v)
{
    char item[12];
    size_t n = 0;
    if (sep)
        item[n++] = sep;
    n += ta_put_u32(item + n, v);
    sb_put(b, item, n);
}

/* Append one item: the separator (none when sep is 0) then v as 4 lower-case hex digits
 * ("%04x"). */
static void sb_hex4(struct sbuf *b, char sep, uint16_t v)
{
    char item[5];
    size_t n = 0;
    if (sep)
        item[n++] = sep;
    item[n++] = hexd[(v >> 12) & 0xF];
    item[n++] = hexd[(v >> 8) & 0xF];
    item[n++] = hexd[(v >> 4) & 0xF];
    item[n++] = hexd[v & 0xF];
    sb_put(b, item, n);
}

/* Append the non-GREASE values of a 16-bit list, decimal, joined by '-' (a JA3 field). */
static void sb_dec_list(struct sbuf *b, const uint16_t *v, size_t n)
{
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (ta_is_grease(v[i]))
            continue;
        sb_dec(b, first ? 0 : '-', v[i]);
        first = false;
    }
}

/* MD5 and SHA-256 fetched once: EVP_md5()/EVP_sha256() make OpenSSL 3.0 fetch the
 * implementation again on every EVP_Digest call (a locked provider lookup, ~1.6% of a
 * handshake-heavy capture). Falls back to the implicit fetch when the explicit one fails. */
static EVP_MD *md_md5, *md_sha256;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_fetch(void)
{
    md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *md_get(bool sha256)
{
    pthread_once(&md_once, md_fetch);
    if (sha256)
        return md_sha256 ? md_sha256 : EVP_sha256();
    return md_md5 ? md_md5 : EVP_md5();
}

/* Lower-case hex of the digest of data into out (at least 2 * EVP_MAX_MD_SIZE + 1 bytes).
 * Returns the digest length in bytes, 0 on a libcrypto failure (out becomes ""). */
static unsigned hex_digest(const EVP_MD *md, const char *data, size_t len, char *out)
{
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    out[0] = '\0';
    if (EVP_Digest(data, len, dig, &dlen, md, NULL) != 1)
        return 0;
    for (unsigned int i = 0; i < dlen; i++) {
        out[2 * i] = hexd[dig[i] >> 4];
        out[2 * i + 1] = hexd[dig[i] & 0x0F];
    }
    out[2 * dlen] = '\0';
    return dlen;
}

/* md5 hex of text into out[TA_JA3_HEX]; text also copied to str when asked (truncated to fit,
 * always NUL-terminated). Returns 0, -1 when the digest failed. */
static int ja3_finish(const struct sbuf *b, char out[TA_JA3_HEX], char *str, size_t strlen_)
{
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (str != NULL && strlen_ > 0) {
        size_t n = b->len < strlen_ - 1 ? b->len : strlen_ - 1;
        memcpy(str, b->p, n);
        str[n] = '\0';
    }
    if (hex_digest(md_get(false), b->p, b->len, hex) != 16) {
        out[0] = '\0';
        return -1;
    }
    memcpy(out, hex, TA_JA3_HEX - 1);
    out[TA_JA3_HEX - 1] = '\0';
    return 0;
}

/* Longest JA3 text: 5 + 256 ciphers * 6 + 2 * 64 * 6 + 8 * 4 + separators, well under 4 KiB. */
#define JA3_TEXT_MAX 4096

/* JA3 of a ClientHello: "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats"
 * with SSLVersion the legacy_version (client_version), GREASE removed from every list. Empty
 * fields stay empty ("771,47-53,,,"). Returns 0, or -1 without a ClientHello (out = ""). */
int ta_ja3(const struct ta_client_hello *ch, char out[TA_JA3_HEX], char *str, size_t strlen_)
{
    char text[JA3_TEXT_MAX];
    struct sbuf b;
    out[0] = '\0';
    if (str != NULL && strlen_ > 0)
        str[0] = '\0';
    if (ch == NULL || !ch->present)
        return -1;
    sb_init(&b, text, sizeof(text));
    sb_dec(&b, 0, ch->legacy_version);
    sb_put(&b, ",", 1);
    sb_dec_list(&b, ch->ciphers, ch->nciphers < TA_MAX_CIPHERS ? ch->nciphers : TA_MAX_CIPHERS);
    sb_put(&b, ",", 1);
    sb_dec_list(&b, ch->exts, ch->nexts < TA_MAX_EXTS ? ch->nexts : TA_MAX_EXTS);
    sb_put(&b, ",", 1);
    sb_dec_list(&b, ch->groups, ch->ngroups < TA_MAX_GROUPS ? ch->ngroups : TA_MAX_GROUPS);
    sb_put(&b, ",", 1);
    size_t npf = ch->npoint_formats < TA_MAX_POINTFMTS ? ch->npoint_formats : TA_MAX_POINTFMTS;
    for (size_t i = 0; i < npf; i++)
        sb_dec(&b, i ? '-' : 0, ch->point_formats[i]);
    return ja3_finish(&b, out, str, strlen_);
}

/* JA3S of a ServerHello: "SSLVersion,Cipher,Extensions" (legacy_version, chosen suite, extension
 * types without GREASE). For an SSLv2 SERVER-HELLO the cipher is the 24-bit spec. Returns 0, or
 * -1 without a ServerHello. */
int ta_ja3s(const struct ta_server_hello *sh, char out[TA_JA3_HEX], char *str, size_t strlen_)
{
    char text[1024];
    struct sbuf b;
    out[0] = '\0';
    if (str != NULL && strlen_ > 0)
        str[0] = '\0';
    if (sh == NULL || !(sh->present || sh->sslv2))
        return -1;
    sb_init(&b, text, sizeof(text));
    if (sh->sslv2) {
        sb_dec(&b, 0, sh->legacy_version ? sh->legacy_version : 0x0002);
        sb_dec(&b, ',', sh->cipher_v2);
    } else {
        sb_dec(&b, 0, sh->legacy_version);
        sb_dec(&b, ',', sh->cipher);
    }
    sb_put(&b, ",", 1);
    sb_dec_list(&b, sh->exts, sh->nexts < TA_MAX_EXTS ? sh->nexts : TA_MAX_EXTS);
    return ja3_finish(&b, out, str, strlen_);
}

static int u16_cmp(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

/* The two JA4 version characters: the highest non-GREASE supported_versions value when the
 * extension was sent (numeric maximum, as FoxIO's implementations take it, so a TLS 1.3 draft
 * 0x7F1C outranks 0x0304 and gives "00"), else legacy_version. */
static const char *ja4_version(const struct ta_client_hello *ch)
{
    uint16_t v = ch->legacy_version;
    if (ch->has_supported_versions) {
        uint16_t best = 0;
        uint8_t n = ch->nversions < TA_MAX_VERSIONS ? ch->nversions : TA_MAX_VERSIONS;
        for (uint8_t i = 0; i < n; i++) {
            if (!ta_is_grease(ch->versions[i]) && ch->versions[i] > best)
                best = ch->versions[i];
        }
        if (best != 0)
            v = best;
    }
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xFEFF: return "d1";
    case 0xFEFD: return "d2";
    case 0xFEFC: return "d3";
    default: return "00";
    }
}

static bool is_alnum_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The two ALPN characters of JA4_a from the first offered protocol (ch->alpn up to its first
 * ','): its first and last bytes when both are ASCII alphanumerics ("h2", "http/1.1" -> "h1", a
 * one-byte value used twice), otherwise the first and last characters of its hex form, i.e. the
 * high nibble of the first byte and the low nibble of the last (0xAB 0xCD -> "ad"); "00" when
 * there is no ALPN. This is the rule of JA4.md; FoxIO's own tools print "99" for non-ASCII. */
static void ja4_alpn(const char *alpn, char out[2])
{
    size_t n = strcspn(alpn, ",");
    out[0] = out[1] = '0';
    if (n == 0)
        return;
    unsigned char first = (unsigned char)alpn[0], last = (unsigned char)alpn[n - 1];
    if (is_alnum_byte(first) && is_alnum_byte(last)) {
        out[0] = (char)first;
        out[1] = (char)last;
    } else {
        out[0] = hexd[first >> 4];
        out[1] = hexd[last & 0x0F];
    }
}

/* First 12 hex digits of sha256(text), or "000000000000" for an empty text (JA4's marker for
 * "no values", used instead of the hash of nothing). */
static void ja4_hash12(const struct sbuf *b, char out[13])
{
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (b->len == 0 || hex_digest(md_get(true), b->p, b->len, hex) != 32)
        memcpy(hex, "000000000000", 13);
    memcpy(out, hex, 12);
    out[12] = '\0';
}

/* Two decimal digits of n capped at 99 ("%02u" of min(n, 99)). */
static void put2(char *out, size_t n)
{
    if (n > 99)
        n = 99;
    out[0] = (char)('0' + n / 10);
    out[1] = (char)('0' + n % 10);
}

/* Write "<t><vv><d|i><cc><ee><aa>_<hb>_<hc>" (36 bytes + NUL, within TA_JA4_LEN). */
static void ja4_assemble(char out[TA_JA4_LEN], char transport, const char *ver, bool sni,
                         size_t nc, size_t ne, const char alpn[2], const char hb[13],
                         const char hc[13])
{
    _Static_assert(TA_JA4_LEN >= 37, "JA4 text is 36 characters");
    out[0] = transport;
    out[1] = ver[0];
    out[2] = ver[1];
    out[3] = sni ? 'd' : 'i';
    put2(out + 4, nc);
    put2(out + 6, ne);
    out[8] = alpn[0];
    out[9] = alpn[1];
    out[10] = '_';
    memcpy(out + 11, hb, 12);
    out[23] = '_';
    memcpy(out + 24, hc, 12);
    out[36] = '\0';
}

/* JA4 of a ClientHello: a_b_c, where a = transport, version, 'd'/'i' (SNI extension present),
 * cipher count and extension count without GREASE (two digits, capped at 99; SNI and ALPN
 * counted) and the ALPN characters; b = sha256/12 of the sorted 4-hex cipher list; c =
 * sha256/12 of the sorted extension list without SNI (0000) and ALPN (0010), then "_" and the
 * signature algorithms in wire order (no "_" when there are none). GREASE is ignored in every
 * list. Returns 0, or -1 without a ClientHello (out = ""). */
int ta_ja4(const struct ta_client_hello *ch, char transport, char out[TA_JA4_LEN])
{
    uint16_t sorted[TA_MAX_CIPHERS > TA_MAX_EXTS ? TA_MAX_CIPHERS : TA_MAX_EXTS];
    char text[2048], hb[13], hc[13], alpn[2];
    struct sbuf b;
    size_t nc = 0, ne = 0, next_all = 0;
    bool sni = false;

    out[0] = '\0';
    if (ch == NULL || !ch->present)
        return -1;
    size_t ncin = ch->nciphers < TA_MAX_CIPHERS ? ch->nciphers : TA_MAX_CIPHERS;
    for (size_t i = 0; i < ncin; i++) {
        if (!ta_is_grease(ch->ciphers[i]))
            sorted[nc++] = ch->ciphers[i];
    }
    if (nc > 1)
        qsort(sorted, nc, sizeof(sorted[0]), u16_cmp);
    sb_init(&b, text, sizeof(text));
    for (size_t i = 0; i < nc; i++)
        sb_hex4(&b, i ? ',' : 0, sorted[i]);
    ja4_hash12(&b, hb);

    size_t nein = ch->nexts < TA_MAX_EXTS ? ch->nexts : TA_MAX_EXTS;
    for (size_t i = 0; i < nein; i++) {
        uint16_t e = ch->exts[i];
        if (ta_is_grease(e))
            continue;
        next_all++;
        if (e == 0x0000)
            sni = true;
        if (e != 0x0000 && e != 0x0010)
            sorted[ne++] = e;
    }
    if (ne > 1)
        qsort(sorted, ne, sizeof(sorted[0]), u16_cmp);
    sb_init(&b, text, sizeof(text));
    for (size_t i = 0; i < ne; i++)
        sb_hex4(&b, i ? ',' : 0, sorted[i]);
    if (ne > 0) {
        bool first = true;
        size_t ns = ch->nsigalgs < TA_MAX_SIGALGS ? ch->nsigalgs : TA_MAX_SIGALGS;
        for (size_t i = 0; i < ns; i++) {
            if (ta_is_grease(ch->sigalgs[i]))
                continue;
            sb_hex4(&b, first ? '_' : ',', ch->sigalgs[i]);
            first = false;
        }
    }
    ja4_hash12(&b, hc);

    ja4_alpn(ch->alpn, alpn);
    ja4_assemble(out, transport, ja4_version(ch), sni, nc, next_all, alpn, hb, hc);
    return 0;
}

_Static_assert(sizeof(((struct ta_hs *)0)->fp.ja3) == TA_JA3_HEX, "fp.ja3 is TA_JA3_HEX");
_Static_assert(sizeof(((struct ta_hs *)0)->fp.ja3s) == TA_JA3_HEX, "fp.ja3s is TA_JA3_HEX");
_Static_assert(sizeof(((struct ta_hs *)0)->fp.ja4) == TA_JA4_LEN, "fp.ja4 is TA_JA4_LEN");

/* See fingerprint.h. */
void ta_hs_fingerprints(const struct ta_hs *hs, char ja3[TA_JA3_HEX], char ja3s[TA_JA3_HEX],
                        char ja4[TA_JA4_LEN])
{
    if (hs->fp.ready) {
        memcpy(ja3, hs->fp.ja3, TA_JA3_HEX);
        memcpy(ja3s, hs->fp.ja3s, TA_JA3_HEX);
        memcpy(ja4, hs->fp.ja4, TA_JA4_LEN);
        return;
    }
    ja3[0] = ja3s[0] = ja4[0] = '\0';
    if (hs->ch.present) {
        if (ta_ja3(&hs->ch, ja3, NULL, 0) != 0)
            ja3[0] = '\0';
        if (ta_ja4(&hs->ch, hs->transport == 17 ? 'q' : 't', ja4) != 0)
            ja4[0] = '\0';
    }
    if (hs->sh.present && ta_ja3s(&hs->sh, ja3s, NULL, 0) != 0)
        ja3s[0] = '\0';
}

/* See fingerprint.h. The hashes cost the writer 7% of its time when it computed them (bench
 * month, session 6); here they run on the engine threads, in parallel with it. */
void ta_hs_fingerprint(struct ta_hs *hs)
{
    hs->fp.ready = false;
    ta_hs_fingerprints(hs, hs->fp.ja3, hs->fp.ja3s, hs->fp.ja4);
    hs->fp.ready = true;
}
