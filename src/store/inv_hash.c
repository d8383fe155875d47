/* inv_hash.c - the inventory's key hash (schema/009_inventory_hash.sql): one 64-bit value per
 * inventory key, indexed, so the writer finds a key's row with a seek in a narrow index (schema
 * 012 dropped the 16-column unique index `inventory_key`: every writer finds keys so, and
 * inv_merge.c does it for SQL). The same value comes from C (the writer,
 * inventory.c) and from SQL (ta_inv_key_hash(), for the migration, retention and the rebuild),
 * computed over the key columns exactly as stored.
 *
 * A hash is not the key: two keys may share one (the index is not unique), so every lookup by
 * hash compares the key columns on the row. TA_TEST_INV_HASH_BITS=N (undocumented, for tests
 * only) keeps the low N bits, so collisions happen on purpose and that path is exercised. */
#include <stdlib.h>

#include "inv_int.h"
#include "store_int.h"

#define FNV_OFF 14695981039346656037ULL
#define FNV_MUL 1099511628211ULL

/* FNV-1a over a string, its NUL included ("ab","c" and "a","bc" differ); NULL = "". */
static uint64_t mix_str(uint64_t h, const char *s)
{
    for (s = s ? s : "";; s++) {
        h ^= (uint8_t)*s;
        h *= FNV_MUL;
        if (!*s)
            return h;
    }
}

/* FNV-1a over the 8 bytes of v, low byte first. */
static uint64_t mix_int(uint64_t h, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++, u >>= 8) {
        h ^= (uint8_t)u;
        h *= FNV_MUL;
    }
    return h;
}

/* See inv_int.h. The final step spreads FNV's weak low bits (the test mask keeps those). */
uint64_t ta__inv_key_hash(const struct ta__inv_key *k, uint64_t mask)
{
    uint64_t h = FNV_OFF;
    h = mix_str(h, k->sensor), h = mix_str(h, k->client), h = mix_str(h, k->server);
    h = mix_int(h, k->port), h = mix_str(h, k->transport), h = mix_str(h, k->app);
    h = mix_str(h, k->sni), h = mix_int(h, k->version), h = mix_int(h, k->cipher_id);
    h = mix_int(h, k->cipher_v2), h = mix_int(h, k->cmax), h = mix_str(h, k->ja3);
    h = mix_str(h, k->ja4), h = mix_int(h, k->o365), h = mix_str(h, k->service);
    h = mix_str(h, k->reason);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h & mask;
}

/* See inv_int.h. */
uint64_t ta__inv_hash_mask(void)
{
    const char *bits = getenv("TA_TEST_INV_HASH_BITS");
    int n = bits ? atoi(bits) : 0;
    return n >= 1 && n <= 63 ? (1ULL << n) - 1 : ~0ULL;
}

/* Text of an argument; NULL = "". */
static const char *arg_text(sqlite3_value *v)
{
    const unsigned char *s = sqlite3_value_text(v);
    return s ? (const char *)s : "";
}

/* ta_inv_key_hash(sensor, client_ip, server_ip, server_port, transport, app, sni, version,
 * cipher_id, cipher_v2, client_max_version, ja3, ja4, o365, o365_service, o365_reason): the key
 * hash of those inventory key values, as a signed 64-bit integer (TA__INV_KEY_COLS order). */
void ta__inv_fn_key_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const struct ta__inv_key k = {
        .sensor = arg_text(argv[0]), .client = arg_text(argv[1]), .server = arg_text(argv[2]),
        .port = sqlite3_value_int64(argv[3]), .transport = arg_text(argv[4]),
        .app = arg_text(argv[5]), .sni = arg_text(argv[6]), .version = sqlite3_value_int64(argv[7]),
        .cipher_id = sqlite3_value_int64(argv[8]), .cipher_v2 = sqlite3_value_int64(argv[9]),
        .cmax = sqlite3_value_int64(argv[10]), .ja3 = arg_text(argv[11]),
        .ja4 = arg_text(argv[12]), .o365 = sqlite3_value_int64(argv[13]),
        .service = arg_text(argv[14]), .reason = arg_text(argv[15]),
    };
    sqlite3_result_int64(ctx, (int64_t)ta__inv_key_hash(&k, ta__inv_hash_mask()));
}
