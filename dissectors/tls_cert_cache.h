/* tls_cert_cache.h - bounded cache of parsed leaf certificates, keyed by the SHA-256 of the DER.
 * Private to the dissectors and their tests; names are ta__tls_cert_cache_*. One cache belongs to
 * one engine (through its dissector memory, dis_mem.h), so capture threads share nothing. */
#ifndef TLSAUDIT_TLS_CERT_CACHE_H
#define TLSAUDIT_TLS_CERT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tlsaudit/handshake.h"

/* Default geometry: 256 sets of 4 ways = 1024 certificates (~1.7 MB, allocated at first use,
 * pages touched only as entries fill). */
#define TA_CERT_CACHE_SETS 256u
#define TA_CERT_CACHE_WAYS 4u
#define TA_CERT_CACHE_KEY 32u          /* SHA-256 */

/* One parsed certificate: what ta__tls_cert_der would write into the record. */
struct ta__cert_entry {
    uint8_t key[TA_CERT_CACHE_KEY];    /* SHA-256 of the whole DER */
    bool used;
    bool ok;                           /* libcrypto accepted the DER */
    uint32_t anomalies;                /* TA_AN_* bits the parse raised (TA_AN_LIST_CAPPED) */
    uint64_t last_use;                 /* LRU tick within the set */
    struct ta_cert cert;               /* parsed fields; present and chain_len are not used */
};

struct ta__cert_cache_stats {
    uint64_t hits, misses, evictions;
    unsigned capacity;                 /* sets * ways, 0 when disabled or not allocated */
};

struct ta__cert_cache;

/* A cache with the default geometry; its table is allocated at the first lookup. NULL when out
 * of memory (the caller then parses without a cache). */
struct ta__cert_cache *ta__tls_cert_cache_new(void);

/* Set the geometry (sets x ways, each >= 1; 0 disables the cache). Frees the current table and
 * clears the counters; the next lookup allocates the new one. For tests and tuning; the defaults
 * need no call. Returns false for absurd sizes (more than 1 << 16). */
bool ta__tls_cert_cache_configure(struct ta__cert_cache *c, unsigned sets, unsigned ways);

/* Look the DER up. On a hit *hit is true and the filled entry is returned. On a miss *hit is
 * false and a slot is returned, already keyed and marked used (the least recently used way of
 * its set, evicted if needed): the caller must fill ok, anomalies and cert before the next
 * lookup. NULL when there is no cache (disabled, out of memory, or hashing failed): the caller
 * then parses without it. The entry stays valid until the next lookup or configure/free. */
struct ta__cert_entry *ta__tls_cert_cache_lookup(struct ta__cert_cache *c, const uint8_t *der,
                                                 size_t len, bool *hit);

/* Counters and capacity of the cache. */
void ta__tls_cert_cache_stats(const struct ta__cert_cache *c, struct ta__cert_cache_stats *out);

/* Free the cache, its table, its digest context and its light library context. NULL is accepted. */
void ta__tls_cert_cache_free(struct ta__cert_cache *c);

/* The cache's libcrypto library context with only the "null" provider loaded: d2i_X509 through
 * it skips OpenSSL 3.0's eager public-key decoding (the key stays undecoded, every other field is
 * parsed as usual). Created at first use; NULL when it cannot be (or c is NULL). */
struct ossl_lib_ctx_st *ta__tls_cert_light_ctx(struct ta__cert_cache *c);

#endif
