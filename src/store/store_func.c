/* store_func.c - SQL functions registered on every tlsaudit connection, and the small text helpers
 * (CIDR, glob) they and the query tool share (ISO times: store_text.c).
 *
 * The database stores numbers (wire values); these functions derive labels from the one table in
 * src/record/names.c, so `sqlite3 tlsaudit.db "SELECT ta_version(version) ..."` only works through the
 * tlsaudit binary, while the plain numbers remain readable with any SQLite client. */
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "inv_int.h"
#include "store_int.h"
#include "tlsaudit/cidr.h"
#include "tlsaudit/names.h"

/* ta_version(v): 'TLS 1.0' ..., '' for NULL or 0. */
static void fn_version(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char buf[48];
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
        return;
    }
    int64_t v = sqlite3_value_int64(argv[0]);
    if (v <= 0 || v > 0xffff) {
        sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
        return;
    }
    ta_version_label((uint16_t)v, buf, sizeof buf);
    sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* ta_cipher(id): IANA name, '' for NULL, unknown or out-of-range ids. */
static void fn_cipher(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *name = NULL;
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
        int64_t id = sqlite3_value_int64(argv[0]);
        if (id >= 0 && id <= 0xffff)
            name = ta_cipher_name((uint16_t)id);
    }
    sqlite3_result_text(ctx, name ? name : "", -1, SQLITE_STATIC);
}

/* ta_cipher_weak(id [, version]): 1 for NULL/EXPORT/RC4/DES/3DES/anonymous suites, and with a
 * version also for CBC-SHA1 suites under SSL 3.0/TLS 1.0 (ta_cipher_weak_in), else 0 (NULL: 0). */
static void fn_cipher_weak(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int weak = 0;
    if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
        int64_t id = sqlite3_value_int64(argv[0]);
        int64_t v = argc > 1 ? sqlite3_value_int64(argv[1]) : 0;
        if (id >= 0 && id <= 0xffff && v >= 0 && v <= 0xffff)
            weak = ta_cipher_weak_in((uint16_t)id, (uint16_t)v) ? 1 : 0;
    }
    sqlite3_result_int(ctx, weak);
}

/* ta_alert(desc): alert description name, '' for NULL, the number as text when unknown. */
static void fn_alert(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char buf[16];
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
        return;
    }
    int64_t d = sqlite3_value_int64(argv[0]);
    const char *name = (d >= 0 && d <= 255) ? ta_alert_name((uint8_t)d) : NULL;
    if (!name) {
        snprintf(buf, sizeof buf, "%lld", (long long)d);
        sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
        return;
    }
    sqlite3_result_text(ctx, name, -1, SQLITE_STATIC);
}

/* True when the first prefix bits of a and b are equal. */
static bool prefix_equal(const uint8_t a[16], const uint8_t b[16], unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

/* ta_ip_in(ip_text, cidr_text): 1 when the address is inside the network, 0 when not or when
 * either side does not parse, NULL when either is NULL. IPv4 and IPv6 never match each other
 * (an IPv4-mapped IPv6 text address is treated as IPv6). */
static void fn_ip_in(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    uint8_t ip[16], net[16];
    unsigned ip_prefix, net_prefix;
    int ip_fam, net_fam;
    (void)argc;
    const char *ip_text = (const char *)sqlite3_value_text(argv[0]);
    const char *cidr_text = (const char *)sqlite3_value_text(argv[1]);
    if (!ip_text || !cidr_text) {
        sqlite3_result_null(ctx);
        return;
    }
    if (strchr(ip_text, '/') || !ta_cidr_parse(ip_text, ip, &ip_prefix, &ip_fam) ||
        !ta_cidr_parse(cidr_text, net, &net_prefix, &net_fam) || ip_fam != net_fam) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    sqlite3_result_int(ctx, prefix_equal(ip, net, net_prefix) ? 1 : 0);
}

/* Glob with '*' only, ASCII case-insensitive; iterative with one backtrack point, so hostile
 * patterns like "*a*a*a*b" stay linear-ish instead of exponential. */
bool ta__glob_ci(const char *s, const char *pat)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = ++pat;
            resume = s;
        } else if (*pat && tolower((unsigned char)*pat) == tolower((unsigned char)*s)) {
            pat++;
            s++;
        } else if (star) {
            pat = star;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* ta_sni_match(text, pattern): ta__glob_ci; 0 for a NULL text, NULL for a NULL pattern. */
static void fn_sni_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    const char *pat = (const char *)sqlite3_value_text(argv[1]);
    if (!pat) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_int(ctx, s && ta__glob_ci(s, pat) ? 1 : 0);
}

/* Register every function; deterministic and innocuous (no side effects), so they may be used in
 * indexes, views and triggers. */
int ta__store_register_functions(sqlite3 *db)
{
    static const struct {
        const char *name;
        int nargs;
        void (*fn)(sqlite3_context *, int, sqlite3_value **);
    } fns[] = {
        { "ta_version", 1, fn_version },
        { "ta_cipher", 1, fn_cipher },
        { "ta_cipher_weak", 1, fn_cipher_weak },
        { "ta_cipher_weak", 2, fn_cipher_weak },
        { "ta_alert", 1, fn_alert },
        { "ta_ip_in", 2, fn_ip_in },
        { "ta_sni_match", 2, fn_sni_match },
        { "ta_inv_key_hash", 16, ta__inv_fn_key_hash },
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        int rc = sqlite3_create_function(db, fns[i].name, fns[i].nargs,
                                         SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                         NULL, fns[i].fn, NULL, NULL);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}
