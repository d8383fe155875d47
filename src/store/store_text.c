/* store_text.c - the text forms the store writes on every row (ISO-8601 UTC times, address text,
 * JSON integer lists), formatted by hand.
 *
 * Why not snprintf/inet_ntop/gmtime_r: at a handshake-heavy capture's rate (~36k rows, each with
 * two addresses, a time and seven lists) the printf family was ~8% of the CPU (bench/RESULTS.md);
 * glibc's inet_ntop itself calls sprintf per IPv6 group and per IPv4 byte. The output is
 * byte-identical to what those functions give: tests/test_store.c compares every formatter here
 * with them (inet_ntop, gmtime_r + snprintf) over edge cases and random values. Values outside
 * the fast paths (years after 9999) go through the libc functions. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

static const char hexd[] = "0123456789abcdef";

/* v as exactly two decimal digits (v < 100). */
static void put2(char *out, unsigned v)
{
    out[0] = (char)('0' + v / 10);
    out[1] = (char)('0' + v % 10);
}

/* Civil date of a day count since 1970-01-01 (proleptic Gregorian, days >= 0): the year is
 * split into 400-year eras of 146097 days, and months are counted from March so that the leap
 * day falls at the end of the counting year. */
static void civil_from_days(uint64_t days, unsigned *y, unsigned *m, unsigned *d)
{
    uint64_t z = days + 719468;                  /* days since 0000-03-01 */
    uint64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097); /* day of era, 0..146096 */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;           /* month from March, 0..11 */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (unsigned)(yoe + era * 400) + (*m <= 2);
}

/* "YYYY-MM-DDTHH:MM:SS" of Unix seconds into out (19 bytes, no NUL). Returns false when the year
 * is after 9999 (the caller then uses gmtime_r, which prints more digits). */
static bool put_datetime(char *out, uint64_t secs)
{
    unsigned y, m, d, sod = (unsigned)(secs % 86400);
    civil_from_days(secs / 86400, &y, &m, &d);
    if (y > 9999)
        return false;
    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = 'T';
    put2(out + 11, sod / 3600);
    out[13] = ':';
    put2(out + 14, sod / 60 % 60);
    out[16] = ':';
    put2(out + 17, sod % 60);
    return true;
}

/* See store_int.h. ISO-8601 UTC with microseconds, as gmtime_r + "%04d-...%06uZ" print it. */
void ta__iso_time_us(uint64_t ts_us, char *buf, size_t buflen)
{
    char tmp[32];
    uint64_t secs = ts_us / 1000000u;
    uint32_t frac = (uint32_t)(ts_us % 1000000u);
    if (buflen == 0)
        return;
    if (put_datetime(tmp, secs)) {
        tmp[19] = '.';
        for (int i = 25; i >= 20; i--) {
            tmp[i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        tmp[26] = 'Z';
        size_t n = buflen - 1 < 27 ? buflen - 1 : 27;
        memcpy(buf, tmp, n);
        buf[n] = '\0';
        return;
    }
    struct tm tm;
    time_t t = (time_t)secs;
    if (!gmtime_r(&t, &tm)) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ts_us % 1000000u));
}

/* See store_int.h. */
bool ta__iso_date(int64_t secs, char buf[TA__ISO_DATE_LEN])
{
    struct tm tm;
    time_t t = (time_t)secs;
    if (secs >= 0 && put_datetime(buf, (uint64_t)secs)) {
        buf[19] = 'Z';
        buf[20] = '\0';
        return true;
    }
    if (!gmtime_r(&t, &tm))
        return false;
    snprintf(buf, TA__ISO_DATE_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return true;
}

/* Dotted quad of 4 bytes at out; returns the length. */
static size_t put_ipv4(char *out, const uint8_t *b)
{
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (i)
            out[n++] = '.';
        n += ta_put_u32(out + n, b[i]);
    }
    return n;
}

/* One IPv6 group in lower-case hex without leading zeros ("%x"); returns the length. */
static size_t put_hex16(char *out, uint16_t v)
{
    size_t n = 0;
    for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned nib = (v >> shift) & 0xF;
        if (nib || n || shift == 0)
            out[n++] = hexd[nib];
    }
    return n;
}

/* The longest run of at least two zero groups (the first of equal runs), as inet_ntop chooses
 * the one to write as "::" (RFC 5952 4.2). *base = -1 when there is none. */
static void zero_run(const uint16_t w[8], int *base, int *len)
{
    int cur = -1, curlen = 0;
    *base = -1;
    *len = 0;
    for (int i = 0; i <= 8; i++) {
        if (i < 8 && w[i] == 0) {
            if (cur < 0)
                cur = i;
            curlen++;
            continue;
        }
        if (cur >= 0 && curlen > *len) {
            *base = cur;
            *len = curlen;
        }
        cur = -1;
        curlen = 0;
    }
    if (*len < 2)
        *base = -1;
}

/* IPv6 text as glibc's inet_ntop writes it: groups in hex, the zero run as "::", and the last
 * 32 bits as a dotted quad for ::a.b.c.d and ::ffff:a.b.c.d. Returns the length. */
static size_t put_ipv6(char *out, const uint8_t *b)
{
    uint16_t w[8];
    int base, len;
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        w[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
    zero_run(w, &base, &len);
    for (int i = 0; i < 8; i++) {
        if (base >= 0 && i >= base && i < base + len) {
            if (i == base)
                out[n++] = ':';
            continue;
        }
        if (i)
            out[n++] = ':';
        if (i == 6 && base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff)))
            return n + put_ipv4(out + n, b + 12);
        n += put_hex16(out + n, w[i]);
    }
    if (base >= 0 && base + len == 8)
        out[n++] = ':';
    return n;
}

/* See store_int.h. */
size_t ta__store_addr_text(const struct ta_addr *a, uint8_t ipver, char buf[TA__ADDR_TEXT_LEN])
{
    size_t n = ipver == 4 ? put_ipv4(buf, a->b + 12) : put_ipv6(buf, a->b);
    buf[n] = '\0';
    return n;
}

/* See store_int.h. */
size_t ta__store_json_list(char *buf, size_t cap, const void *vals, size_t n, int w)
{
    size_t off = 1;
    if (cap < 3)
        return 0;
    buf[0] = '[';
    for (size_t k = 0; k < n && off + 14 < cap; k++) {
        uint32_t v = w == 1 ? ((const uint8_t *)vals)[k]
                   : w == 2 ? ((const uint16_t *)vals)[k] : ((const uint32_t *)vals)[k];
        if (k)
            buf[off++] = ',';
        off += ta_put_u32(buf + off, v);
    }
    buf[off++] = ']';
    return off;
}
