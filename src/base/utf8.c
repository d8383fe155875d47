/* utf8.c - strict UTF-8 decoding and terminal controls (utf8.h). A byte that does not start a
 * valid sequence is handled alone, so what is printed never depends on what follows it. */
#include "tlsaudit/utf8.h"

/* See utf8.h. */
size_t ta_utf8_seq(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) { n = 2; v = c & 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; v = c & 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* See utf8.h. */
bool ta_utf8_term_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* See utf8.h. */
size_t ta_utf8_plain(const unsigned char *p)
{
    size_t off = 0, n;
    uint32_t cp;
    while (p[off] && (n = ta_utf8_seq(p + off, &cp)) != 0 && !ta_utf8_term_control(cp))
        off += n;
    return off;
}
