/* tls_cert_cache.c - set-associative LRU cache of parsed server certificates (RFC 5280 leaf DER).
 *
 * Why: the same server certificates come back on every connection, and OpenSSL 3.0's d2i_X509
 * costs tens of microseconds each (it decodes the public key eagerly through the provider
 * decoders, with lock and malloc churn). Looking a certificate up by the SHA-256 of its whole
 * DER costs a few microseconds. The key is a cryptographic hash on purpose: with a cheap hash a
 * hostile server could craft a certificate that collides with a popular one and make us report
 * that one's names for its own connections.
 *
 * Memory: one array of sets * ways entries, allocated at the first lookup (never per packet),
 * freed by ta__tls_cert_cache_free. A cache belongs to one engine (its dissector memory), and an
 * engine to one thread, so there is no locking and no sharing between capture threads. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "tls_cert_cache.h"

#define CACHE_MAX_ENTRIES (1u << 16)

/* The table, allocated at first use with the configured geometry. */
struct cert_cache {
    struct ta__cert_entry *entries;    /* sets * ways, set s at entries[s * ways] */
    unsigned sets, ways;
    uint64_t tick;
    EVP_MD *sha256;                    /* fetched once: an implicit fetch per call would lock */
    EVP_MD_CTX *md;                    /* reused: re-initialising keeps its provider context */
    struct ta__cert_cache_stats stats;
};

struct ta__cert_cache {
    struct cert_cache *cache;          /* NULL until the first lookup, or when disabled */
    unsigned cfg_sets, cfg_ways;
    bool cfg_off;
    OSSL_LIB_CTX *light_ctx;
    OSSL_PROVIDER *light_null;
    bool light_failed;
};

/* See tls_cert_cache.h. */
struct ta__cert_cache *ta__tls_cert_cache_new(void)
{
    struct ta__cert_cache *c = calloc(1, sizeof *c);
    if (c) {
        c->cfg_sets = TA_CERT_CACHE_SETS;
        c->cfg_ways = TA_CERT_CACHE_WAYS;
    }
    return c;
}

/* See tls_cert_cache.h. */
OSSL_LIB_CTX *ta__tls_cert_light_ctx(struct ta__cert_cache *c)
{
    if (!c || c->light_ctx || c->light_failed)
        return c ? c->light_ctx : NULL;
    c->light_ctx = OSSL_LIB_CTX_new();
    c->light_null = c->light_ctx ? OSSL_PROVIDER_load(c->light_ctx, "null") : NULL;
    if (!c->light_null) {
        OSSL_LIB_CTX_free(c->light_ctx);
        c->light_ctx = NULL;
        c->light_failed = true;
        ERR_clear_error();
    }
    return c->light_ctx;
}

/* Free the table (not the light context): the cache starts empty at the next lookup. */
static void table_free(struct ta__cert_cache *cc)
{
    struct cert_cache *cache = cc->cache;
    if (!cache)
        return;
    EVP_MD_CTX_free(cache->md);
    EVP_MD_free(cache->sha256);
    free(cache->entries);
    free(cache);
    cc->cache = NULL;
}

/* See tls_cert_cache.h. */
void ta__tls_cert_cache_free(struct ta__cert_cache *c)
{
    if (!c)
        return;
    if (c->light_ctx) {
        OSSL_PROVIDER_unload(c->light_null);
        OSSL_LIB_CTX_free(c->light_ctx);
    }
    table_free(c);
    free(c);
}

/* See tls_cert_cache.h. */
bool ta__tls_cert_cache_configure(struct ta__cert_cache *cc, unsigned sets, unsigned ways)
{
    if (sets > CACHE_MAX_ENTRIES || ways > CACHE_MAX_ENTRIES ||
        (uint64_t)sets * ways > CACHE_MAX_ENTRIES)
        return false;
    table_free(cc);
    cc->cfg_off = sets == 0 || ways == 0;
    cc->cfg_sets = sets;
    cc->cfg_ways = ways;
    return true;
}

/* Allocate the table with the configured geometry. NULL when disabled or out of memory (then
 * every lookup answers "no cache" and the caller parses as before). */
static struct cert_cache *cache_get(struct ta__cert_cache *cc)
{
    struct cert_cache *c;
    if (cc->cache || cc->cfg_off)
        return cc->cache;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sets = cc->cfg_sets;
    c->ways = cc->cfg_ways;
    c->entries = calloc((size_t)c->sets * c->ways, sizeof *c->entries);
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    c->md = EVP_MD_CTX_new();
    c->stats.capacity = c->sets * c->ways;
    cc->cache = c;
    if (!c->entries || !c->sha256 || !c->md) {
        table_free(cc);
        cc->cfg_off = true;   /* do not retry (and fail) on every certificate */
        ERR_clear_error();
    }
    return cc->cache;
}

/* SHA-256 of the DER into key. False when libcrypto fails (error queue left empty). */
static bool cache_key(struct cert_cache *c, const uint8_t *der, size_t len,
                      uint8_t key[TA_CERT_CACHE_KEY])
{
    unsigned int n = 0;
    if (EVP_DigestInit_ex2(c->md, c->sha256, NULL) == 1 && EVP_DigestUpdate(c->md, der, len) == 1 &&
        EVP_DigestFinal_ex(c->md, key, &n) == 1 && n == TA_CERT_CACHE_KEY)
        return true;
    ERR_clear_error();
    return false;
}

/* See tls_cert_cache.h. The set comes from the first key bytes (uniform for SHA-256); within it
 * a matching way is a hit, else the first unused way or the least recently used one is taken. */
struct ta__cert_entry *ta__tls_cert_cache_lookup(struct ta__cert_cache *cc, const uint8_t *der,
                                                 size_t len, bool *hit)
{
    struct cert_cache *c = cc ? cache_get(cc) : NULL;
    uint8_t key[TA_CERT_CACHE_KEY];
    struct ta__cert_entry *set, *victim;
    *hit = false;
    if (!c || !cache_key(c, der, len, key))
        return NULL;
    uint32_t h = (uint32_t)key[0] | (uint32_t)key[1] << 8 | (uint32_t)key[2] << 16 |
                 (uint32_t)key[3] << 24;
    set = c->entries + (size_t)(h % c->sets) * c->ways;
    victim = set;
    c->tick++;
    for (unsigned w = 0; w < c->ways; w++) {
        struct ta__cert_entry *e = set + w;
        if (e->used && memcmp(e->key, key, sizeof key) == 0) {
            e->last_use = c->tick;
            c->stats.hits++;
            *hit = true;
            return e;
        }
        if (victim->used && (!e->used || e->last_use < victim->last_use))
            victim = e;
    }
    c->stats.misses++;
    if (victim->used)
        c->stats.evictions++;
    memset(victim, 0, sizeof *victim);
    memcpy(victim->key, key, sizeof key);
    victim->used = true;
    victim->last_use = c->tick;
    return victim;
}

/* See tls_cert_cache.h. */
void ta__tls_cert_cache_stats(const struct ta__cert_cache *cc, struct ta__cert_cache_stats *out)
{
    if (cc && cc->cache) {
        *out = cc->cache->stats;
    } else {
        memset(out, 0, sizeof *out);
    }
}
